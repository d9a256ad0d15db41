//! `openapi.yaml` documents exactly the routes the server has, with the roles it enforces.

mod common;

use std::collections::BTreeSet;
use vigie_server::{Access, ROUTES};
use vigie_store::Role;

fn documented() -> serde_yaml::Value {
    serde_yaml::from_str(vigie_server::OPENAPI_YAML).expect("openapi.yaml parses")
}

#[test]
fn every_route_is_documented_and_every_documented_path_exists() {
    let doc = documented();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let mut in_doc = BTreeSet::new();
    for (path, item) in doc["paths"].as_mapping().unwrap() {
        for (method, _) in item.as_mapping().unwrap() {
            in_doc.insert((method.as_str().unwrap().to_uppercase(), path.as_str().unwrap().to_string()));
        }
    }
    let in_code: BTreeSet<(String, String)> =
        ROUTES.iter().map(|r| (r.method.to_string(), r.path.to_string())).collect();
    let undocumented: Vec<_> = in_code.difference(&in_doc).collect();
    let phantom: Vec<_> = in_doc.difference(&in_code).collect();
    assert!(undocumented.is_empty(), "routes missing from openapi.yaml: {undocumented:?}");
    assert!(phantom.is_empty(), "openapi.yaml documents routes the server lacks: {phantom:?}");
}

#[test]
fn documented_roles_match_the_enforced_ones() {
    let doc = documented();
    for r in ROUTES {
        let op = &doc["paths"][r.path][r.method.to_lowercase().as_str()];
        let documented: BTreeSet<String> = op["x-roles"]
            .as_sequence()
            .unwrap_or_else(|| panic!("{} {} has no x-roles", r.method, r.path))
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        let enforced: BTreeSet<String> = match r.access {
            Access::Public => ["public".to_string()].into(),
            Access::Session => Role::ALL.iter().map(|x| x.as_str().to_string()).collect(),
            Access::Perm(p) => Role::ALL.iter().filter(|x| p.allowed(**x)).map(|x| x.as_str().to_string()).collect(),
        };
        assert_eq!(documented, enforced, "{} {}", r.method, r.path);
    }
}

/// Each route in the table is really routed: without a session, protected ones answer 401 from
/// the access layer (a missing route would answer 404 or 405 from the fallbacks).
#[tokio::test]
async fn every_route_in_the_table_is_served() {
    let h = common::harness();
    for r in ROUTES {
        let path = r.path.replace("{id}", "x").replace("{name}", "x").replace("{file}", "app.js");
        let resp = h.call(r.method, &path, None, if r.method == "GET" { None } else { Some("{}") }).await;
        let want: &[u16] = match r.access {
            Access::Public if r.path == "/api/login" => &[400],
            Access::Public => &[200],
            _ => &[401],
        };
        assert!(want.contains(&resp.status.as_u16()), "{} {path}: {}", r.method, resp.status);
    }
}
