//! The statistics API against the real router and a real `stats.db`: JSON and CSV series, the
//! zones list, bad input, and the analyst who sees statistics and nothing else.

mod common;

use common::*;
use vigie_core::UnixMs;
use vigie_server::{Access, ROUTES};
use vigie_stats::{ClassCounts, CountKind, MinuteCounts, StatsStore};

/// Two hours before the harness clock, on a minute.
const M0: i64 = T0_MS - T0_MS % 60_000 - 7_200_000;

fn row(zone: &str, kind: CountKind, class: &str, i: u32, o: u32, e: u32, occ: f64) -> ClassCounts {
    ClassCounts {
        zone: zone.into(),
        kind,
        class: class.into(),
        crossings_in: i,
        crossings_out: o,
        entries: e,
        occupancy_ms: occ,
    }
}

/// Two hours of minutes: each minute a person crosses `north` in, every other minute one
/// crosses out; in the first hour two cars cross in each minute. One person enters `fountain`
/// each minute and half a person is inside on average. The camera was watched throughout,
/// except the last 10 minutes.
fn seed(h: &H) {
    let minutes: Vec<MinuteCounts> = (0..120)
        .map(|k| {
            let mut counts = vec![
                row("north", CountKind::Line, "person", 1, (k % 2) as u32, 0, 0.0),
                row("fountain", CountKind::Area, "person", 0, 0, 1, if k < 110 { 30_000.0 } else { 0.0 }),
            ];
            if k < 60 {
                counts.push(row("north", CountKind::Line, "car", 2, 0, 0, 0.0));
            }
            MinuteCounts {
                camera: "cam1".into(),
                minute: UnixMs(M0 + k * 60_000),
                observed_ms: if k < 110 { 60_000 } else { 0 },
                counts,
            }
        })
        .collect();
    h.stats.write(&minutes).unwrap();
}

fn url(q: &str) -> String {
    format!("/api/stats?{q}")
}

#[tokio::test]
async fn line_and_area_series_in_json() {
    let h = harness();
    seed(&h);
    let sup = h.session("sup");
    let (from, to) = (M0, M0 + 7_200_000);
    let r =
        h.call("GET", &url(&format!("camera=cam1&zone=north&from={from}&to={to}&step=3600")), Some(&sup), None).await;
    assert_eq!(r.status, 200, "{}", r.error());
    let j = r.json();
    assert_eq!(
        j,
        serde_json::json!({
            "camera": "cam1", "zone": "north", "kind": "line", "class": null,
            "from": from, "to": to, "step_s": 3600,
            "points": [
                {"t": from, "in": 180, "out": 30, "observed_s": 3600.0},
                {"t": from + 3_600_000, "in": 60, "out": 30, "observed_s": 3000.0},
            ]
        })
    );
    // One class; the zone name alone is enough when it is unique.
    let j = h
        .call("GET", &url(&format!("zone=north&class=car&from={from}&to={to}&step=3600")), Some(&sup), None)
        .await
        .json();
    assert_eq!(j["class"], "car");
    assert_eq!(j["points"][0]["in"], 120);
    assert_eq!(j["points"][1]["in"], 0);
    // Minute steps; a period that does not end on a step gets a shorter last one.
    let j = h
        .call("GET", &url(&format!("zone=north&from={from}&to={}&step=60", from + 150_000)), Some(&sup), None)
        .await
        .json();
    let ins: Vec<i64> = j["points"].as_array().unwrap().iter().map(|p| p["in"].as_i64().unwrap()).collect();
    assert_eq!(ins, [3, 3, 3]);
    // Areas: entries and mean occupancy over the watched time.
    let j = h.call("GET", &url(&format!("zone=fountain&from={from}&to={to}&step=7200")), Some(&sup), None).await.json();
    assert_eq!(j["kind"], "area");
    assert_eq!(j["points"], serde_json::json!([{"t": from, "entries": 120, "occupancy": 0.5, "observed_s": 6600.0}]));
    // Before anything was counted: zeros, and nothing watched.
    let j = h
        .call("GET", &url(&format!("zone=north&from={}&to={from}&step=3600", from - 7_200_000)), Some(&sup), None)
        .await
        .json();
    assert_eq!(j["points"][1], serde_json::json!({"t": from - 3_600_000, "in": 0, "out": 0, "observed_s": 0.0}));
    // Viewing is not audited (nobody is in it).
    assert!(h.audit_actions(5).iter().all(|a| !a.1.starts_with("stats")), "{:?}", h.audit_actions(5));
}

#[tokio::test]
async fn csv_export_has_a_header_and_is_audited() {
    let h = harness();
    seed(&h);
    let ana = h.session("ana");
    let r = h
        .call(
            "GET",
            &url(&format!("zone=north&from={M0}&to={}&step=3600&format=csv", M0 + 7_200_000)),
            Some(&ana),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["content-type"], "text/csv; charset=utf-8");
    assert!(r.headers["content-disposition"].to_str().unwrap().contains("vigie-stats-cam1-north.csv"));
    let text = String::from_utf8(r.body.to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "t,time_utc,in,out,observed_s");
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[1].starts_with(&format!("{M0},{},180,30,3600", UnixMs(M0).rfc3339())), "{text}");
    let last = &h.audit_actions(1)[0];
    assert_eq!((last.0.as_str(), last.1.as_str(), last.2.as_str()), ("ana", "stats.export", "cam1/north"));
    let r = h
        .call(
            "GET",
            &url(&format!("zone=fountain&from={M0}&to={}&step=7200&format=csv", M0 + 7_200_000)),
            Some(&ana),
            None,
        )
        .await;
    let text = String::from_utf8(r.body.to_vec()).unwrap();
    assert!(text.starts_with("t,time_utc,entries,occupancy,observed_s\n"), "{text}");
    assert!(text.trim_end().ends_with(",120,0.5,6600"), "{text}");
}

#[tokio::test]
async fn zones_are_listed_with_camera_names_and_classes() {
    let h = harness();
    let j = h.call("GET", "/api/stats/zones", Some(&h.session("ana")), None).await.json();
    assert_eq!(j.as_array().unwrap().len(), 2);
    assert_eq!(
        j[0],
        serde_json::json!({"camera": "cam1", "camera_name": "Market square", "zone": "north", "kind": "line",
                           "classes": COUNTED})
    );
    assert_eq!(j[1]["kind"], "area");
}

#[tokio::test]
async fn bad_queries_are_refused_and_named() {
    let h = harness();
    let s = h.session("sup");
    let (from, to) = (M0, M0 + 3_600_000);
    let cases: Vec<(String, u16, &str)> = vec![
        (url(&format!("zone=nowhere&from={from}&to={to}")), 404, "no counting zone 'nowhere' (counting zones: north, fountain)"),
        (url(&format!("camera=cam9&zone=north&from={from}&to={to}")), 404, "no camera 'cam9' with counting zones"),
        (url(&format!("zone=north&class=dog&from={from}&to={to}")), 400, "unknown class 'dog': 'north' counts person, bicycle, car, motorcycle, bus, truck"),
        (url(&format!("zone=north&from={to}&to={from}")), 400, "must be after 'from'"),
        (url(&format!("zone=north&from={from}&to={from}")), 400, "must be after 'from'"),
        (url(&format!("zone=north&from={from}&to={to}&step=90")), 400, "invalid 'step': '90' is not a whole number of minutes"),
        (url(&format!("zone=north&from={from}&to={to}&step=0")), 400, "invalid 'step'"),
        (url(&format!("zone=north&from={from}&to={to}&step=-60")), 400, "invalid 'step'"),
        (url(&format!("zone=north&from={from}&to={to}&format=xls")), 400, "unknown format 'xls'"),
        (url(&format!("from={from}&to={to}")), 400, "missing 'zone'"),
        (url(&format!("zone=north&from=yesterday&to={to}")), 400, "invalid 'from'"),
        (url(&format!("zone=north&from={from}&to={to}&colour=red")), 400, "bad query string"),
        // Two years at one-minute steps: refused, and told which step fits.
        (
            url("zone=north&from=2024-01-01&to=2026-01-01&step=60"),
            400,
            "too many points: 731 days at step=60 is 1052640 points, more than 527040 (a year of minutes); use step=300 or coarser",
        ),
    ];
    for (path, status, msg) in cases {
        let r = h.call("GET", &path, Some(&s), None).await;
        assert_eq!(r.status.as_u16(), status, "{path}: {}", r.error());
        assert!(r.error().contains(msg), "{path}: {}", r.error());
    }
    // A year and a day at one-minute steps is refused; a year at hourly steps is fine.
    let r = h.call("GET", &url("zone=north&from=2024-01-01&to=2025-01-02&step=60"), Some(&s), None).await;
    assert_eq!(r.status, 400, "{}", r.error());
    let r = h.call("GET", &url("zone=north&from=2024-01-01&to=2025-01-02&step=3600"), Some(&s), None).await;
    assert_eq!(r.status, 200, "{}", r.error());
    assert_eq!(r.json()["points"].as_array().unwrap().len(), 367 * 24);
}

#[tokio::test]
async fn the_analyst_sees_statistics_and_nothing_else() {
    let h = harness();
    h.publish("a1");
    let ana = h.session("ana");
    let me = h.call("GET", "/api/me", Some(&ana), None).await.json();
    assert_eq!(me["role"], "analyst");
    assert_eq!(me["permissions"], serde_json::json!(["stats"]));
    let mut refused = 0;
    for route in ROUTES {
        let allowed = match route.access {
            Access::Public | Access::Session => continue,
            Access::Perm(p) => p == vigie_server::Perm::Stats,
        };
        let path =
            route.path.replace("{id}", "a1").replace("{name}", "op").replace("/api/stats", "/api/stats?zone=north");
        let path = if route.path == "/api/stats/zones" { route.path.to_string() } else { path };
        let r = h.call(route.method, &path, Some(&ana), if route.method == "GET" { None } else { Some("{}") }).await;
        if allowed {
            assert_eq!(r.status, 200, "{} {path}: {}", route.method, r.error());
        } else {
            assert_eq!(r.status, 403, "{} {path}", route.method);
            assert_eq!(r.error(), format!("role analyst may not {}", route.summary));
            refused += 1;
        }
    }
    assert!(refused >= 25, "{refused}");
}
