//! Limits on what one client can make the node do: time windows parsed into a sane range with
//! checked arithmetic, clip exports bounded in number and time and stopped when the client
//! leaves, and connections with header/body timeouts and a cap — over a real TCP socket.

mod common;

use common::*;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use vigie_core::{SimClock, Stopped, UnixMs};
use vigie_server::*;
use vigie_store::{Role, Store};

/// The shared harness, but serving `clips`; also returns the server itself, to serve over TCP.
fn harness_serving(cfg: ServerConfig, clips: Arc<dyn ClipProvider>) -> (H, Server) {
    let dir = tempfile::tempdir().unwrap();
    let clock = SimClock::new(UnixMs(T0_MS).into());
    let store = Arc::new(Store::open(dir.path(), Arc::new(clock.clone())).unwrap());
    let users = [(Role::Operator, "op"), (Role::Supervisor, "sup"), (Role::Auditor, "aud")]
        .map(|(role, name)| (role, store.add_user(name, &password(name), role).unwrap()))
        .to_vec();
    let hub = AlertHub::new(store.clone(), None);
    let config = Arc::new(TestConfig { value: Mutex::new(serde_json::json!({"cameras": [{"id": "cam1"}]})) });
    let server = Server::new(ServerDeps {
        alerts: store.clone(),
        audit: store.clone(),
        accounts: store.clone(),
        hub: hub.clone(),
        live: Arc::new(TestLive),
        clips,
        search: Some(Arc::new(TestSearch)),
        config_admin: Some(config.clone()),
        notify_status: None,
        config: cfg,
    });
    let router = server.router();
    let stats = Arc::new(vigie_stats::SqliteStats::open(&dir.path().join("stats.db")).unwrap());
    let h = H { dir, clock, store, hub, clips: Arc::new(TestClips::default()), config, router, users, stats };
    (h, server)
}

#[tokio::test]
async fn extreme_times_and_long_windows_are_refused_at_once() {
    let h = harness();
    h.publish("a1");
    let (op, sup) = (h.session("op"), h.session("sup"));
    let min = i64::MIN;
    let max = i64::MAX;
    for q in [
        format!("from={min}&to=1750000060000"),
        format!("from=1750000000000&to={max}"),
        "from=0&to=60000".to_string(),
        "from=1750000000000&to=1750000660000".to_string(),
        "from=2025-06-15T15:00:00Z&to=2025-06-15T14:59:00Z".to_string(),
    ] {
        let t = Instant::now();
        let r = h.call("GET", &format!("/api/cameras/cam1/clip?{q}"), Some(&op), None).await;
        assert_eq!(r.status, 400, "{q}: {}", String::from_utf8_lossy(&r.body));
        assert!(t.elapsed() < Duration::from_secs(1), "{q}: refused at once");
        assert!(r.error().contains("'from'") || r.error().contains("'to'"), "{q}: {}", r.error());
    }
    let r = h.call("GET", &format!("/api/cameras/cam1/clip?from={min}&to=1750000060000"), Some(&op), None).await;
    assert!(r.error().contains("2000 to 2200"), "the error says the range: {}", r.error());
    assert!(h.clips.calls.lock().is_empty(), "no footage was asked for");

    // The transparency report: the default period before an extreme 'to', and the widest span.
    for q in [format!("to={min}"), format!("from={min}&to={max}"), format!("from={max}")] {
        let r = h.call("GET", &format!("/api/reports/transparency?{q}"), Some(&sup), None).await;
        assert_eq!(r.status, 400, "{q}: {}", String::from_utf8_lossy(&r.body));
    }
    // Alerts and search take the same times.
    for path in [format!("/api/alerts?from={min}"), format!("/api/search?to={max}")] {
        let r = h.call("GET", &path, Some(&op), None).await;
        assert_eq!(r.status, 400, "{path}: {}", String::from_utf8_lossy(&r.body));
        assert!(r.error().contains("2000 to 2200"), "{path}: {}", r.error());
    }
    // What is in range still works.
    let ok = "/api/cameras/cam1/clip?from=2025-06-15T15:00:00Z&to=2025-06-15T15:10:00Z";
    assert_eq!(h.call("GET", ok, Some(&op), None).await.status, 200);
    assert_eq!(h.call("GET", "/api/reports/transparency?to=2025-07-01", Some(&sup), None).await.status, 200);
}

/// Works until stopped, and says how it was stopped.
#[derive(Default)]
struct EndlessClips {
    started: AtomicBool,
    stops: Mutex<Vec<Stopped>>,
}

impl ClipProvider for EndlessClips {
    fn clip(&self, req: &ClipRequest<'_>) -> Result<Clip, ClipError> {
        self.started.store(true, Ordering::SeqCst);
        loop {
            if let Err(s) = req.stop.check() {
                self.stops.lock().push(s);
                return Err(ClipError::Stopped(s));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

async fn until(what: &str, f: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn exports_are_bounded_in_number_and_time_and_stop_when_the_client_leaves() {
    let clips = Arc::new(EndlessClips::default());
    let cfg = ServerConfig { max_concurrent_exports: 1, export_budget_s: 1, ..Default::default() };
    let (h, _) = harness_serving(cfg, clips.clone());
    let h = Arc::new(h);
    let op = Arc::new(h.session("op"));
    let path = "/api/cameras/cam1/clip?from=1750000000000&to=1750000060000";

    let first = {
        let (h, op) = (h.clone(), op.clone());
        tokio::spawn(async move { h.call("GET", path, Some(&op), None).await })
    };
    until("the first export started", || clips.started.load(Ordering::SeqCst)).await;
    // The node is busy: a second export is refused at once, with when to retry.
    let t = Instant::now();
    let r = h.call("GET", path, Some(&op), None).await;
    assert_eq!(r.status, 503, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.headers["retry-after"], "5");
    assert!(t.elapsed() < Duration::from_millis(500));
    // The first client goes away: its export stops, and its slot is free again.
    first.abort();
    until("the abandoned export stopped", || !clips.stops.lock().is_empty()).await;
    assert_eq!(clips.stops.lock()[0], Stopped::Cancelled);

    // An export past its budget is stopped and answered 503 naming the budget.
    let t = Instant::now();
    let r = h.call("GET", path, Some(&op), None).await;
    let took = t.elapsed();
    assert_eq!(r.status, 503, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.error().contains("export_budget_s"), "{}", r.error());
    assert!(took >= Duration::from_secs(1) && took < Duration::from_secs(3), "{took:?}");
    assert_eq!(clips.stops.lock()[1], Stopped::OverBudget(Duration::from_secs(1)));
    assert!(h.audit_actions(5).iter().all(|a| a.1 != "footage.view"), "no view is recorded for a stopped export");
}

async fn read_all(s: &mut TcpStream, within: Duration) -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    match tokio::time::timeout(within, s.read_to_end(&mut buf)).await {
        Ok(Ok(_)) => Ok(buf),
        // Reset by the server: closed too.
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => Ok(buf),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("still open after {within:?} ({} bytes read)", buf.len())),
    }
}

#[tokio::test]
async fn slow_clients_are_cut_off_and_connections_are_capped() {
    let cfg = ServerConfig { max_connections: 6, header_timeout_s: 1, body_timeout_s: 1, ..Default::default() };
    let (_h, server) = harness_serving(cfg, Arc::new(TestClips::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(server.serve_with_shutdown(listener, async {
        let _ = stop_rx.await;
    }));

    // Every slot taken by a client that starts a request and never finishes its headers (one
    // sends nothing at all).
    let opened = Instant::now();
    let mut slow = Vec::new();
    for i in 0..6 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        if i > 0 {
            s.write_all(b"GET /api/openapi.yaml HTTP/1.1\r\nHost: vigie\r\nX-Slow: ").await.unwrap();
        }
        slow.push(s);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // One more is refused at once, not queued.
    let mut extra = TcpStream::connect(addr).await.unwrap();
    let busy = read_all(&mut extra, Duration::from_millis(500)).await.unwrap();
    assert!(busy.starts_with(b"HTTP/1.1 503"), "{}", String::from_utf8_lossy(&busy));
    assert!(String::from_utf8_lossy(&busy).contains("Retry-After: 5"));
    // The slow ones are closed after the header timeout.
    for (i, s) in slow.iter_mut().enumerate() {
        read_all(s, Duration::from_secs(4)).await.unwrap_or_else(|e| panic!("slow client {i}: {e}"));
    }
    let took = opened.elapsed();
    eprintln!("6 slow clients closed {took:?} after connecting (header timeout 1 s)");
    assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(3), "{took:?}");

    // Slots are free again: a normal request is served.
    let mut ok = TcpStream::connect(addr).await.unwrap();
    ok.write_all(b"GET /api/openapi.yaml HTTP/1.1\r\nHost: vigie\r\nConnection: close\r\n\r\n").await.unwrap();
    let resp = read_all(&mut ok, Duration::from_secs(2)).await.unwrap();
    assert!(resp.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&resp[..resp.len().min(200)]));

    // A body that never arrives in full is given up on after the body timeout.
    let mut trickle = TcpStream::connect(addr).await.unwrap();
    let t = Instant::now();
    trickle
        .write_all(b"POST /api/login HTTP/1.1\r\nHost: vigie\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"user")
        .await
        .unwrap();
    let resp = read_all(&mut trickle, Duration::from_secs(4)).await.unwrap();
    let text = String::from_utf8_lossy(&resp);
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    assert!(text.contains("body_timeout_s"), "the error names the limit: {text}");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());

    // Graceful stop with nothing open returns promptly.
    stop_tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(2), served).await.unwrap().unwrap().unwrap();
}
