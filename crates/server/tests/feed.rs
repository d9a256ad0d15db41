//! Issue 14, point 1: a live feed that resumes without loss after a cut, and a console server
//! that stops in seconds with feeds and picture streams open.

mod common;

use axum::body::Body;
use axum::http::Request;
use common::*;
use http_body_util::BodyExt;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;
use vigie_server::*;

/// Opens the feed (with extra headers, such as `Last-Event-ID`) and returns everything up to its
/// `ready` event, and the body to read on.
async fn open(h: &H, sess: &Sess, path: &str, headers: &[(&str, &str)]) -> (String, Body) {
    let mut b = Request::builder().uri(path).header("cookie", &sess.cookie);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let resp = h.router.clone().oneshot(b.body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(resp.status(), 200, "{path}");
    let mut body = resp.into_body();
    let got = read_until(&mut body, "event: ready").await;
    // The ready event is whole once its blank line has come.
    (got, body)
}

async fn read_until(body: &mut Body, what: &str) -> String {
    let mut got = String::new();
    while !(got.contains(what) && got.ends_with("\n\n")) {
        let f = tokio::time::timeout(Duration::from_secs(5), body.frame())
            .await
            .unwrap_or_else(|_| panic!("'{what}' never came; got {got}"))
            .expect("the feed ended")
            .unwrap();
        if let Some(d) = f.data_ref() {
            got.push_str(&String::from_utf8_lossy(d));
        }
    }
    got
}

/// (event name, id, data) of each event of an SSE text.
fn events(text: &str) -> Vec<(String, Option<String>, String)> {
    text.split("\n\n")
        .filter(|b| !b.trim().is_empty())
        .map(|block| {
            let field = |name: &str| block.lines().find_map(|l| l.strip_prefix(name)).map(|v| v.trim().to_string());
            (field("event:").unwrap_or_default(), field("id:"), field("data:").unwrap_or_default())
        })
        .collect()
}

fn alert_ids(evs: &[(String, Option<String>, String)]) -> Vec<String> {
    evs.iter()
        .filter(|e| e.0 == "alert" || e.0 == "update" || e.0 == "calibration")
        .map(|e| serde_json::from_str::<serde_json::Value>(&e.2).unwrap()["id"].as_str().unwrap().to_string())
        .collect()
}

/// Before, a console cut off for 45 s came back "live" without 3 of the 4 alerts raised
/// meanwhile: the feed had no ids and nothing was replayed.
#[tokio::test]
async fn a_reconnecting_console_gets_what_it_missed_once_and_in_order() {
    let h = harness();
    let op = h.session("op");
    let (first, body) = open(&h, &op, "/api/alerts/stream", &[]).await;
    let ready = events(&first).pop().unwrap();
    assert_eq!(ready.0, "ready");
    assert!(first.contains("retry: 1000"), "the browser is asked to retry after 1 s: {first}");
    let seen = ready.1.expect("ready carries the feed's position");
    drop(body);

    // Raised while the console is away, one of them a calibration alert operators never get.
    h.publish("missed-1");
    h.publish_calibration("calibrating");
    h.publish("missed-2");
    let op2 = h.session("op");
    assert_eq!(h.call("POST", "/api/alerts/missed-1/confirm", Some(&op2), None).await.status, 200);

    // The browser's own reconnection (header) and a page reopening the feed (query) alike.
    let by_header = open(&h, &op, "/api/alerts/stream", &[("last-event-id", &seen)]).await;
    let by_query = open(&h, &op, &format!("/api/alerts/stream?last_event_id={seen}"), &[]).await;
    for (text, mut body) in [by_header, by_query] {
        let evs = events(&text);
        assert_eq!(alert_ids(&evs), ["missed-1", "missed-2", "missed-1"], "{text}");
        let kinds: Vec<&str> = evs.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(kinds, ["alert", "alert", "update", "ready"], "{text}");
        // Every replayed message has its id, increasing, and ready says where the feed stands
        // (the calibration alert, #2, was skipped for this operator).
        let seqs: Vec<u64> =
            evs.iter().map(|e| e.1.as_deref().unwrap().rsplit_once('-').unwrap().1.parse().unwrap()).collect();
        assert_eq!(seqs, [1, 3, 4, 4]);
        let ready: serde_json::Value = serde_json::from_str(&evs[3].2).unwrap();
        assert_eq!((ready["replayed"].as_u64(), ready["resync"].as_bool()), (Some(3), Some(false)));
        // Then live, without a gap or a duplicate.
        h.publish("after");
        let live = read_until(&mut body, "after").await;
        assert_eq!(alert_ids(&events(&live)), ["after"], "{live}");
    }

    // The last position resumes with nothing more to replay.
    let (text, _body) = open(&h, &op, "/api/alerts/stream", &[("last-event-id", &seen)]).await;
    let last = events(&text).iter().rev().find_map(|e| e.1.clone()).unwrap();
    let (text, _body) = open(&h, &op, "/api/alerts/stream", &[("last-event-id", &last)]).await;
    assert_eq!(events(&text).iter().map(|e| e.0.as_str()).collect::<Vec<_>>(), ["ready"], "{text}");

    // A position from before a restart of the node: the console must reload its list.
    let (text, _body) = open(&h, &op, "/api/alerts/stream", &[("last-event-id", "0123456789ab-2")]).await;
    let evs = events(&text);
    assert_eq!(evs.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(), ["resync", "ready"], "{text}");
    assert!(evs[0].2.contains("restarted"), "{text}");

    // What is not a position of this feed is refused, naming where it came from.
    let r = h.call("GET", "/api/alerts/stream?last_event_id=yesterday", Some(&op), None).await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("last_event_id 'yesterday'"), "{}", r.error());
    let r = h.call_with("GET", "/api/alerts/stream", Some(&op), None, &[("last-event-id", "x")]).await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("Last-Event-ID header 'x'"), "{}", r.error());
    assert_eq!(h.call("GET", "/api/alerts/stream?since=1", Some(&op), None).await.status, 400);

    // Each connection is audited with where it resumed.
    let entries = h.store.audit_entries(&vigie_store::AuditQuery { limit: 50, ..Default::default() }).unwrap();
    let resumed = entries
        .iter()
        .filter(|e| e.action == "alerts.stream")
        .filter(|e| serde_json::from_str::<serde_json::Value>(&e.details).unwrap()["replayed"] == 3)
        .count();
    assert_eq!(resumed, 2);
}

/// Footage played as MJPEG for ten minutes: a stream that would hold a stop for as long.
struct LongClips;

impl ClipProvider for LongClips {
    fn clip(&self, _req: &ClipRequest<'_>) -> Result<Clip, ClipError> {
        Ok(Clip::Frames { fps: 1.0, jpegs: vec![jpeg(10); 600] })
    }
}

async fn get(addr: std::net::SocketAddr, path: &str, token: &str, first: &str) -> tokio::net::TcpStream {
    let mut c = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nhost: x\r\ncookie: vigie_session={token}\r\n\r\n");
    c.write_all(req.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    while !String::from_utf8_lossy(&got).contains(first) {
        let mut buf = [0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(5), c.read(&mut buf)).await.unwrap().unwrap();
        assert!(n > 0, "{path} closed before '{first}': {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    c
}

/// Before, SIGTERM with a console open left the node alive for over 30 s, still pushing alerts
/// to a page that showed "live". Now the server ends feeds and picture streams when it stops
/// and returns with no connection left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_ends_feeds_and_picture_streams_in_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(vigie_store::Store::open(dir.path(), Arc::new(vigie_core::SystemClock::default())).unwrap());
    let sup = store.add_user("sup", "password-of-sup", vigie_store::Role::Supervisor).unwrap();
    let session = store.create_session(&sup, Duration::from_secs(3600)).unwrap();
    let server = Server::new(ServerDeps {
        alerts: store.clone(),
        audit: store.clone(),
        accounts: store.clone(),
        hub: AlertHub::new(store.clone(), None),
        live: Arc::new(TestLive),
        clips: Arc::new(LongClips),
        search: None,
        config_admin: None,
        notify_status: None,
        config: Default::default(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(server.serve_with_shutdown(listener, async {
        let _ = stopped.await;
    }));
    let mut feed = get(addr, "/api/alerts/stream", &session.token, "event: ready").await;
    let now = vigie_core::UnixMs::now().0;
    let clip = format!("/api/cameras/cam1/clip?from={}&to={}", now - 600_000, now - 1_000);
    let mut pictures = get(addr, &clip, &session.token, "--vigieframe").await;
    // An idle keep-alive connection, as browsers keep.
    let mut idle = tokio::net::TcpStream::connect(addr).await.unwrap();

    let began = Instant::now();
    stop.send(()).unwrap();
    for (what, conn) in
        [("the feed", &mut feed), ("the picture stream", &mut pictures), ("an idle connection", &mut idle)]
    {
        let mut rest = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), conn.read_to_end(&mut rest)).await;
        assert!(read.is_ok(), "{what} is still open 5 s after the stop began");
    }
    tokio::time::timeout(Duration::from_secs(5), served).await.expect("server stopped").unwrap().unwrap();
    let took = began.elapsed();
    println!("server stopped {} ms after the stop with a feed and a picture stream open", took.as_millis());
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "still accepting after the stop");
}
