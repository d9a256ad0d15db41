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
            // Loopback clients only by default, and this request comes from no address at all.
            Access::Public if r.path == "/metrics" => &[403],
            // The harness attaches no node: nothing says it is ready.
            Access::Public if r.path == "/readyz" => &[503],
            Access::Public => &[200],
            _ => &[401],
        };
        assert!(want.contains(&resp.status.as_u16()), "{} {path}: {}", r.method, resp.status);
    }
}

/// Operation object of a route in the document, `$ref`s left as they are.
fn operation<'a>(doc: &'a serde_yaml::Value, method: &str, path: &str) -> &'a serde_yaml::Value {
    &doc["paths"][path][method.to_lowercase().as_str()]
}

/// Follows a local `$ref` (`#/components/...`).
fn resolve<'a>(doc: &'a serde_yaml::Value, v: &'a serde_yaml::Value) -> &'a serde_yaml::Value {
    match v["$ref"].as_str() {
        Some(r) => r.trim_start_matches("#/").split('/').fold(doc, |node, k| &node[k]),
        None => v,
    }
}

fn parameters<'a>(doc: &'a serde_yaml::Value, op: &'a serde_yaml::Value) -> Vec<&'a serde_yaml::Value> {
    op["parameters"].as_sequence().map(|s| s.iter().map(|p| resolve(doc, p)).collect()).unwrap_or_default()
}

fn has_response(op: &serde_yaml::Value, code: &str) -> bool {
    op["responses"].as_mapping().is_some_and(|m| m.contains_key(code))
}

fn json_body(op: &serde_yaml::Value) -> Option<&serde_yaml::Value> {
    let b = &op["requestBody"]["content"]["application/json"];
    (!b.is_null()).then(|| &b["schema"])
}

/// Every string schema under `schema`, with where it is, for the length check.
fn strings<'a>(
    doc: &'a serde_yaml::Value,
    schema: &'a serde_yaml::Value,
    at: String,
    out: &mut Vec<(String, &'a serde_yaml::Value)>,
) {
    let s = resolve(doc, schema);
    if s["type"].as_str() == Some("string") {
        out.push((at.clone(), s));
    }
    if let Some(props) = s["properties"].as_mapping() {
        for (k, v) in props {
            strings(doc, v, format!("{at}.{}", k.as_str().unwrap()), out);
        }
    }
    if !s["items"].is_null() {
        strings(doc, &s["items"], format!("{at}[]"), out);
    }
}

/// What the server does decides what must be documented: a route that refuses an unknown query
/// parameter (400) reads a query; one that refuses a text/plain body (415) reads a JSON body. Each
/// such route must declare its parameters or body and those answers, so clients and schemathesis
/// know them.
#[tokio::test]
async fn routes_reading_a_query_or_body_document_400_and_415() {
    let h = common::harness();
    let doc = documented();
    let mut missing = Vec::new();
    for r in ROUTES {
        let path = r.path.replace("{id}", "x").replace("{name}", "nobody").replace("{file}", "app.js");
        let role = match r.access {
            Access::Public | Access::Session => Some(Role::Operator),
            Access::Perm(p) => Role::ALL.iter().copied().find(|x| p.allowed(*x)),
        };
        let name = h.users.iter().find(|(x, _)| Some(*x) == role).map(|(_, u)| u.username.clone()).unwrap();
        let sess = h.session(&name);
        let sess = (r.access != Access::Public).then_some(&sess);
        let op = operation(&doc, r.method, r.path);
        let query_doc = parameters(&doc, op).iter().any(|p| p["in"].as_str() == Some("query"));
        let route = format!("{} {}", r.method, r.path);
        let q = h.call(r.method, &format!("{path}?not_a_parameter=1"), sess, None).await;
        if q.status == 400 && !query_doc {
            missing.push(format!("{route}: reads a query string but documents no query parameter"));
        }
        if r.method != "GET" {
            let mut req =
                axum::http::Request::builder().method(r.method).uri(&path).header("content-type", "text/plain");
            if let Some(s) = sess {
                req = req.header("cookie", &s.cookie).header("x-csrf-token", &s.csrf);
            }
            let req = req.body(axum::body::Body::from("x")).unwrap();
            let b = tower::ServiceExt::oneshot(h.router.clone(), req).await.unwrap();
            if b.status() == 415 && json_body(op).is_none() {
                missing.push(format!("{route}: reads a JSON body but documents no application/json requestBody"));
            }
        }
        if json_body(op).is_some() && !has_response(op, "415") {
            missing.push(format!("{route}: JSON body without a 415 response"));
        }
        if (json_body(op).is_some() || query_doc) && !has_response(op, "400") {
            missing.push(format!("{route}: takes a body or query but documents no 400 response"));
        }
    }
    assert!(missing.is_empty(), "openapi.yaml is incomplete:\n{}", missing.join("\n"));
}

/// Every string a client sends is bounded in the document (`maxLength`, or an `enum`), with the
/// limits the server enforces.
#[test]
fn every_client_string_has_a_max_length() {
    let doc = documented();
    let mut unbounded = Vec::new();
    let mut limits = std::collections::BTreeMap::new();
    for r in ROUTES {
        let op = operation(&doc, r.method, r.path);
        let mut found = Vec::new();
        for p in parameters(&doc, op) {
            let at = format!("{} {} {} '{}'", r.method, r.path, p["in"].as_str().unwrap(), p["name"].as_str().unwrap());
            strings(&doc, &p["schema"], at, &mut found);
        }
        if let Some(b) = json_body(op) {
            strings(&doc, b, format!("{} {} body", r.method, r.path), &mut found);
        }
        for (at, s) in found {
            match (s["maxLength"].as_u64(), s["enum"].is_sequence()) {
                (Some(n), _) => {
                    limits.insert(at, n);
                }
                (None, true) => {}
                (None, false) => unbounded.push(at),
            }
        }
    }
    assert!(unbounded.is_empty(), "client strings without maxLength in openapi.yaml: {unbounded:#?}");
    for (at, want) in [
        ("POST /api/login body.username", 64),
        ("POST /api/login body.password", 1024),
        ("POST /api/users body.username", 64),
        ("POST /api/users body.password", 1024),
        ("POST /api/users/{name}/password body.password", 1024),
        ("POST /api/me/password body.old_password", 1024),
        ("POST /api/me/password body.new_password", 1024),
        ("POST /api/alerts/{id}/dismiss body.text", 500),
        ("POST /api/alerts/{id}/dispatch body.unit", 500),
        ("POST /api/alerts/{id}/resolve body.note", 500),
        ("POST /api/alerts/{id}/unmask body.reason", 500),
        ("GET /api/cameras/{id}/clip query 'unmask_reason'", 500),
        ("GET /api/cameras/{id}/clip query 'from'", 40),
        ("GET /api/cameras/{id}/clip query 'to'", 40),
        ("GET /api/search query 'q'", 500),
        ("GET /api/search query 'from'", 40),
        ("GET /api/alerts query 'to'", 40),
        ("GET /api/reports/transparency query 'from'", 40),
    ] {
        assert_eq!(limits.get(at), Some(&want), "{at}");
    }
}
