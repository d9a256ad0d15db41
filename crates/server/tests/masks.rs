//! Privacy masks edited from the console, with the node's real parts behind the API: the
//! config file written back, the running camera's slot, the camera wall and the catalogue.
//! Only administrators edit; every bad input is refused naming its key and changes nothing;
//! each change is a new version with its audit entry; the wall hides the new masks at once;
//! the transparency report lists them.

mod common;

use common::*;
use parking_lot::Mutex;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use vigie_core::{ClassMap, Frame, SimClock, UnixMs};
use vigie_imaging::RgbImage;
use vigie_node::config::VigieConfig;
use vigie_node::config_admin::FileConfigAdmin;
use vigie_node::scene::RulesSlot;
use vigie_node::wall::Wall;
use vigie_server::*;
use vigie_store::{Role, Store};

const CONFIG: &str = r#"# the city's pilot node: comments stay
[[cameras]]
id = "cam1"
name = "Market square" # as the wall shows it
url = "assets/video/pets09-s2l1.mp4"
"#;

const W: usize = 768;
const H_: usize = 576;

struct M {
    h: H,
    wall: Arc<Wall>,
    admin: Arc<FileConfigAdmin>,
    path: PathBuf,
}

fn harness() -> M {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vigie.toml");
    std::fs::write(&path, CONFIG).unwrap();
    let cfg = VigieConfig::load(&path).unwrap();
    let clock = SimClock::new(UnixMs(T0_MS).into());
    let store = Arc::new(Store::open(dir.path(), Arc::new(clock.clone())).unwrap());
    let mut users = Vec::new();
    for (role, name) in
        [(Role::Operator, "op"), (Role::Supervisor, "sup"), (Role::Admin, "adm"), (Role::Auditor, "aud")]
    {
        users.push((role, store.add_user(name, &password(name), role).unwrap()));
    }
    let slots: vigie_node::scene::Slots = cfg
        .cameras
        .iter()
        .map(|c| (c.id.clone(), Arc::new(Mutex::new(RulesSlot::new(c.clone(), cfg.events.clone())))))
        .collect();
    let wall = Wall::new(
        vec![("cam1".into(), "Market square".into(), vigie_source::Health::new("cam1"))],
        ClassMap::parse("person\ncar\n"),
    );
    // As the node wires it: the wall follows the camera's mask handle.
    wall.share_privacy_masks("cam1", slots[0].1.lock().masks.clone());
    let admin = Arc::new(FileConfigAdmin { path: path.clone(), slots, lock: Mutex::new(()), masks: store.clone() });
    let hub = AlertHub::new(store.clone(), None);
    let clips = Arc::new(TestClips::default());
    let server = Server::new(ServerDeps {
        alerts: store.clone(),
        audit: store.clone(),
        accounts: store.clone(),
        hub: hub.clone(),
        live: wall.clone(),
        clips: clips.clone(),
        search: None,
        config_admin: Some(admin.clone()),
        notify_status: None,
        config: ServerConfig::default(),
    });
    let router = server.router();
    let config = Arc::new(TestConfig { value: Mutex::new(serde_json::json!({})) });
    // Not served here: the harness's fields, for its fingerprint.
    let stats = Arc::new(vigie_stats::SqliteStats::open(&dir.path().join("stats.db")).unwrap());
    let archive =
        vigie_footage::Archive::open(dir.path(), Default::default(), Arc::new(clock.clone()), store.clone()).unwrap();
    M { h: H { dir, clock, store, hub, clips, config, router, users, stats, archive }, wall, admin, path }
}

/// A frame full of fine detail (a checkerboard of 4-pixel squares), so that anything filled
/// opaque shows as flat.
fn textured_frame(seq: u64) -> Arc<Frame> {
    let mut y = vec![0u8; W * H_];
    for r in 0..H_ {
        for c in 0..W {
            y[r * W + c] = if (r / 4 + c / 4) % 2 == 0 { 30 } else { 220 };
        }
    }
    Arc::new(Frame {
        seq,
        pts: Duration::from_millis(seq * 40),
        captured_at: SystemTime::UNIX_EPOCH + Duration::from_millis(T0_MS as u64 + seq * 40),
        width: W,
        height: H_,
        y,
        u: vec![128; W * H_ / 4],
        v: vec![128; W * H_ / 4],
    })
}

/// A frame reaches the wall as the camera's stages hand it over, with what they decided to
/// hide (no one in the picture here; the masks come from the camera's handle).
fn show(m: &M, seq: u64) {
    m.wall.update("cam1", &textured_frame(seq), &[], &vigie_imaging::privacy::HidePlan::masks_only(W, H_, &[]));
}

/// Spread (max - min of the luma) of the wall's picture over a box given in main-stream pixels.
fn spread(jpeg: &[u8], (x1, y1, x2, y2): (usize, usize, usize, usize)) -> u8 {
    let img = RgbImage::decode_jpeg(jpeg).unwrap();
    let s = img.width as f64 / W as f64;
    let (mut lo, mut hi) = (255u8, 0u8);
    for y in (y1 as f64 * s) as usize..(y2 as f64 * s) as usize {
        for x in (x1 as f64 * s) as usize..(x2 as f64 * s) as usize {
            let i = (y * img.width + x) * 3;
            let l = ((img.data[i] as u32 + img.data[i + 1] as u32 + img.data[i + 2] as u32) / 3) as u8;
            lo = lo.min(l);
            hi = hi.max(l);
        }
    }
    hi - lo
}

const WINDOW: &str = r#"{"name": "window of no. 12", "polygon": [[100, 100], [300, 100], [300, 250], [100, 250]]}"#;

fn put_body(masks: &[&str], version: Option<u64>) -> String {
    match version {
        Some(v) => format!(r#"{{"masks": [{}], "version": {v}}}"#, masks.join(",")),
        None => format!(r#"{{"masks": [{}]}}"#, masks.join(",")),
    }
}

const URL: &str = "/api/cameras/cam1/privacy_masks";

#[tokio::test]
async fn only_administrators_read_or_change_masks() {
    let m = harness();
    show(&m, 1);
    for name in ["op", "sup", "aud"] {
        let s = m.h.session(name);
        let r = m.h.call("GET", URL, Some(&s), None).await;
        assert_eq!(r.status, 403, "{name} GET");
        let r = m.h.call("PUT", URL, Some(&s), Some(&put_body(&[WINDOW], None))).await;
        assert_eq!(r.status, 403, "{name} PUT");
        assert!(r.error().contains("may not change privacy masks"), "{}", r.error());
        let (actor, action, _) = m.h.audit_actions(1).remove(0);
        assert_eq!((actor.as_str(), action.as_str()), (name, "access.denied"));
    }
    assert_eq!(m.h.call("GET", URL, None, None).await.status, 401);
    assert_eq!(std::fs::read_to_string(&m.path).unwrap(), CONFIG);
    assert_eq!(m.h.store.privacy_masks("cam1").unwrap().version, 0);
    let adm = m.h.session("adm");
    let r = m.h.call("GET", URL, Some(&adm), None).await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!((v["version"].as_u64(), v["masks"].as_array().map(Vec::len)), (Some(0), Some(0)));
    assert_eq!((v["picture"]["width"].as_u64(), v["picture"]["height"].as_u64()), (Some(768), Some(576)));
}

#[tokio::test]
async fn each_bad_input_is_named_and_changes_nothing() {
    let m = harness();
    let adm = m.h.session("adm");
    // Before the first frame the picture's size is unknown: nothing can be checked.
    let r = m.h.call("PUT", URL, Some(&adm), Some(&put_body(&[WINDOW], None))).await;
    assert_eq!(r.status, 409, "{}", r.error());
    assert!(r.error().contains("no picture yet"), "{}", r.error());
    show(&m, 1);

    let cases: &[(&str, &str)] = &[
        (r#"{"name": "door", "polygon": [[10, 10], [60, 10], [60, 40], [800, 40]]}"#, "privacy_masks[1].polygon[3]"),
        (r#"{"name": "door", "polygon": [[10, 10], [60, 10], [60, 600]]}"#, "privacy_masks[1].polygon[2]"),
        (r#"{"name": "bow", "polygon": [[0, 0], [50, 50], [50, 0], [0, 50]]}"#, "privacy_masks[1].polygon"),
        (r#"{"name": "two", "polygon": [[0, 0], [50, 50]]}"#, "privacy_masks[1].polygon"),
        (r#"{"name": "flat", "polygon": [[0, 0], [50, 50], [100, 100]]}"#, "privacy_masks[1].polygon"),
        (r#"{"name": "neg", "polygon": [[-5, 0], [50, 0], [50, 50]]}"#, "privacy_masks[1].polygon[0]"),
        (r#"{"name": " ", "polygon": [[0, 0], [50, 0], [50, 50]]}"#, "privacy_masks[1].name"),
        (r#"{"name": "window of no. 12", "polygon": [[0, 0], [50, 0], [50, 50]]}"#, "privacy_masks[1].name"),
    ];
    for (bad, key) in cases {
        let before = m.h.audit_actions(1);
        let r = m.h.call("PUT", URL, Some(&adm), Some(&put_body(&[WINDOW, bad], None))).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.error());
        let keys: Vec<String> =
            r.json()["errors"].as_array().unwrap().iter().map(|e| e["key"].as_str().unwrap().to_string()).collect();
        assert!(keys.iter().any(|k| k == key), "{bad}: {key} not in {keys:?}");
        assert!(r.error().contains(key), "{}", r.error());
        assert_eq!(std::fs::read_to_string(&m.path).unwrap(), CONFIG, "{bad}");
        assert_eq!(m.admin.slots[0].1.lock().version, 0, "{bad}");
        assert!(m.admin.slots[0].1.lock().camera.privacy_masks.is_empty());
        assert_eq!(m.h.store.privacy_masks("cam1").unwrap().version, 0);
        assert_eq!(m.h.audit_actions(1), before, "{bad}: nothing audited as a change");
    }
    // Malformed bodies: a point that is not two numbers, an unknown field.
    let r = m.h.call("PUT", URL, Some(&adm), Some(r#"{"masks": [{"name": "a", "polygon": [[1, 2, 3]]}]}"#)).await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("masks[0].polygon[0]"), "{}", r.error());
    let r = m.h.call("PUT", URL, Some(&adm), Some(r#"{"masks": [], "colour": "black"}"#)).await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("colour"), "{}", r.error());
    // Unknown camera.
    let r = m.h.call("PUT", "/api/cameras/nowhere/privacy_masks", Some(&adm), Some(&put_body(&[WINDOW], None))).await;
    assert_eq!(r.status, 404);
    assert!(r.error().contains("nowhere"), "{}", r.error());
    assert_eq!(m.h.call("GET", "/api/cameras/nowhere/privacy_masks", Some(&adm), None).await.status, 404);
    assert_eq!(std::fs::read_to_string(&m.path).unwrap(), CONFIG);
}

#[tokio::test]
async fn every_change_is_a_new_audited_version_written_back_and_applied_live() {
    let m = harness();
    let adm = m.h.session("adm");
    show(&m, 1);
    let inside = (120, 120, 280, 230);
    let live = m.h.call("GET", "/api/cameras/cam1/live", Some(&adm), None).await;
    assert!(spread(&live.body, inside) > 100, "the picture has detail there before any mask");

    let r = m.h.call("PUT", URL, Some(&adm), Some(&put_body(&[WINDOW], Some(0)))).await;
    assert_eq!(r.status, 200, "{}", r.error());
    let v = r.json();
    assert_eq!(v["version"], 1);
    assert_eq!(v["masks"][0]["name"], "window of no. 12");
    assert_eq!(v["changed_by"], "adm");

    // Applied live: the running camera has it, and the wall's picture is flat inside the mask,
    // for the frame already shown as for the next ones.
    assert_eq!(m.admin.slots[0].1.lock().camera.privacy_masks.len(), 1);
    assert_eq!(m.admin.slots[0].1.lock().masks.get().len(), 1, "the handle every stage reads");
    let live = m.h.call("GET", "/api/cameras/cam1/live", Some(&adm), None).await;
    assert!(spread(&live.body, inside) < 25, "opaque inside the new mask");
    show(&m, 2);
    let live = m.h.call("GET", "/api/cameras/cam1/live", Some(&adm), None).await;
    assert!(spread(&live.body, inside) < 25, "opaque inside the new mask");
    assert!(spread(&live.body, (400, 300, 560, 410)) > 100, "clear outside it");

    // Written back, comments kept.
    let text = std::fs::read_to_string(&m.path).unwrap();
    assert!(text.contains("# the city's pilot node: comments stay") && text.contains("# as the wall shows it"));
    let cfg = VigieConfig::load(&m.path).unwrap();
    assert_eq!(
        cfg.cameras[0].privacy_masks[0].polygon,
        vec![[100.0, 100.0], [300.0, 100.0], [300.0, 250.0], [100.0, 250.0]]
    );

    // Audited with camera, version, names and polygons.
    let e =
        m.h.store
            .audit_entries(&vigie_store::AuditQuery {
                action_prefix: Some("privacy_masks.".into()),
                limit: 10,
                ..Default::default()
            })
            .unwrap();
    assert_eq!(e.len(), 1);
    assert_eq!((e[0].actor.as_str(), e[0].target.as_str()), ("adm", "cam1"));
    let d: serde_json::Value = serde_json::from_str(&e[0].details).unwrap();
    assert_eq!(
        (d["camera"].as_str(), d["version"].as_u64(), d["source"].as_str()),
        (Some("cam1"), Some(1), Some("console"))
    );
    assert_eq!(d["names"], serde_json::json!(["window of no. 12"]));
    assert_eq!(d["masks"][0]["polygon"][2], serde_json::json!([300.0, 250.0]));

    // Each change increments; the same set again does not; a stale base version is refused.
    m.h.clock.advance(Duration::from_secs(60));
    let door = r#"{"name": "door", "polygon": [[500, 300], [560, 300], [560, 420], [500, 420]]}"#;
    let r = m.h.call("PUT", URL, Some(&adm), Some(&put_body(&[WINDOW, door], Some(1)))).await;
    assert_eq!(r.json()["version"], 2);
    let r = m.h.call("PUT", URL, Some(&adm), Some(&put_body(&[WINDOW, door], None))).await;
    assert_eq!(r.json()["version"], 2, "nothing changed, no new version");
    let r = m.h.call("PUT", URL, Some(&adm), Some(&put_body(&[WINDOW], Some(1)))).await;
    assert_eq!(r.status, 409);
    assert!(r.error().contains("changed since version 1"), "{}", r.error());
    let r = m.h.call("PUT", URL, Some(&adm), Some(&put_body(&[], Some(2)))).await;
    assert_eq!((r.json()["version"].as_u64(), r.json()["masks"].as_array().map(Vec::len)), (Some(3), Some(0)));
    let live = m.h.call("GET", "/api/cameras/cam1/live", Some(&adm), None).await;
    assert!(spread(&live.body, inside) > 100, "a removed mask shows the scene again");
    let n =
        m.h.store
            .audit_entries(&vigie_store::AuditQuery {
                action_prefix: Some("privacy_masks.change".into()),
                limit: 10,
                ..Default::default()
            })
            .unwrap();
    assert_eq!(n.len(), 3);
    assert!(m.h.store.verify_audit().unwrap().is_ok());
}

#[tokio::test]
async fn the_transparency_report_lists_each_cameras_masks() {
    let m = harness();
    let adm = m.h.session("adm");
    show(&m, 1);
    let tri = r#"{"name": "garden, no. 3", "polygon": [[0, 0], [768, 0], [0, 576]]}"#;
    let r = m.h.call("PUT", URL, Some(&adm), Some(&put_body(&[WINDOW, tri], None))).await;
    assert_eq!(r.status, 200, "{}", r.error());
    m.h.clock.advance(Duration::from_secs(3600));

    let aud = m.h.session("aud");
    let r = m.h.call("GET", "/api/reports/transparency", Some(&aud), None).await;
    assert_eq!(r.status, 200);
    let rep = r.json();
    let cam = &rep["privacy_masks"][0];
    assert_eq!((cam["camera"].as_str(), cam["version"].as_u64()), (Some("cam1"), Some(1)));
    assert_eq!(cam["changes_in_period"], 1);
    assert_eq!(cam["picture"], serde_json::json!({"width": 768, "height": 576}));
    // 200 × 150 of 768 × 576 is 6.78 %; half the picture is 50 %.
    assert_eq!(cam["masks"][0], serde_json::json!({"name": "window of no. 12", "points": 4, "area_percent": 6.78}));
    assert_eq!(cam["masks"][1]["area_percent"], 50.0);
    assert_eq!(cam["hidden_percent"], 56.78);
    assert!(cam["masks"][0].get("polygon").is_none(), "outlines stay in the audit trail");

    let csv = m.h.call("GET", "/api/reports/transparency?format=csv", Some(&aud), None).await;
    let text = String::from_utf8_lossy(&csv.body).to_string();
    let tail: Vec<&str> = text.split("\n\n").nth(1).expect("a second table").lines().collect();
    assert_eq!(tail[0], "camera,privacy_mask,mask_set_version,in_force_since,changes_in_period,points,area_percent");
    let since = UnixMs(T0_MS).rfc3339();
    assert_eq!(tail[1], format!("cam1,window of no. 12,1,{since},1,4,6.78"));
    assert_eq!(tail[2], format!("cam1,\"garden, no. 3\",1,{since},1,3,50.00"));

    // A period after the change: still in force, no change counted.
    let from = UnixMs(T0_MS + 1_800_000).rfc3339();
    let r = m.h.call("GET", &format!("/api/reports/transparency?from={from}"), Some(&aud), None).await;
    assert_eq!(r.json()["privacy_masks"][0]["changes_in_period"], 0);
    assert_eq!(r.json()["privacy_masks"][0]["version"], 1);
}
