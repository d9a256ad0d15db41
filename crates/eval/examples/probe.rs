//! Latency and load probes against a running console, as a connected operator would see it.
//!
//!   VIGIE_PASSWORD=... probe latency --url http://127.0.0.1:8080 --user op --count 50
//!       follows the live feed and reports frame→console latency (received − fired_at_ms) p50/p99
//!   VIGIE_PASSWORD=... probe load --url http://127.0.0.1:8080 --user op --n 2000 --concurrency 4
//!       GETs an API path and reports p50/p99
//!   probe selfbench [--alerts 500] [--rate 50]
//!       in-process server: alerts published from a pipeline-like thread while the API is loaded;
//!       reports publish→console and API latency on this machine.

use std::sync::Arc;
use std::time::Duration;
use vigie_core::UnixMs;
use vigie_core::{EventType, SystemClock};
use vigie_eval::probe::{api_load, summarize, watch_alerts, ApiClient};
use vigie_server::*;
use vigie_store::{Role, Store};

enum Cmd {
    Latency { url: String, user: String, count: usize, timeout_s: u64 },
    Load { url: String, user: String, path: String, n: usize, concurrency: usize },
    Selfbench { alerts: usize, rate: f64 },
}

/// `COMMAND [--name value]...`, with the defaults above.
fn parse_args() -> anyhow::Result<Cmd> {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_default();
    let mut flags = std::collections::HashMap::new();
    while let Some(flag) = args.next() {
        let name = flag.strip_prefix("--").ok_or_else(|| anyhow::anyhow!("unexpected argument {flag}"))?;
        let value = args.next().ok_or_else(|| anyhow::anyhow!("{flag} needs a value"))?;
        flags.insert(name.to_string(), value);
    }
    let mut take = |name: &str, default: &str| flags.remove(name).unwrap_or_else(|| default.to_string());
    let cmd = match command.as_str() {
        "latency" => Cmd::Latency {
            url: take("url", "http://127.0.0.1:8080"),
            user: take("user", "op"),
            count: take("count", "50").parse()?,
            timeout_s: take("timeout-s", "300").parse()?,
        },
        "load" => Cmd::Load {
            url: take("url", "http://127.0.0.1:8080"),
            user: take("user", "op"),
            path: take("path", "/api/alerts?limit=50"),
            n: take("n", "2000").parse()?,
            concurrency: take("concurrency", "4").parse()?,
        },
        "selfbench" => Cmd::Selfbench { alerts: take("alerts", "500").parse()?, rate: take("rate", "50").parse()? },
        _ => anyhow::bail!("usage: probe latency|load|selfbench [--flag value]..."),
    };
    if let Some(unknown) = flags.keys().next() {
        anyhow::bail!("unknown flag --{unknown} for {command}");
    }
    Ok(cmd)
}

fn password() -> anyhow::Result<String> {
    std::env::var("VIGIE_PASSWORD").map_err(|_| anyhow::anyhow!("set VIGIE_PASSWORD to the user's password"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match parse_args()? {
        Cmd::Latency { url, user, count, timeout_s } => {
            let c = ApiClient::login(&url, &user, &password()?).await.map_err(anyhow::Error::msg)?;
            let samples = watch_alerts(&c, count, Duration::from_secs(timeout_s), || eprintln!("subscribed"))
                .await
                .map_err(anyhow::Error::msg)?;
            let mut lat: Vec<f64> = samples.iter().filter_map(|s| s.latency_ms()).map(|l| l as f64).collect();
            let s = summarize(&mut lat);
            println!(
                "{}",
                serde_json::json!({"alerts": samples.len(), "with_fired_at": s.n, "frame_to_console_ms": s})
            );
        }
        Cmd::Load { url, user, path, n, concurrency } => {
            let c = ApiClient::login(&url, &user, &password()?).await.map_err(anyhow::Error::msg)?;
            let r = api_load(&c, &path, n, concurrency).await.map_err(anyhow::Error::msg)?;
            println!("{}", serde_json::to_string(&r)?);
        }
        Cmd::Selfbench { alerts, rate } => selfbench(alerts, rate).await?,
    }
    Ok(())
}

async fn selfbench(alerts: usize, rate: f64) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = Arc::new(Store::open(dir.path(), Arc::new(SystemClock::default()))?);
    store.add_user("op", "bench password", Role::Operator)?;
    let hub = AlertHub::new(store.clone(), None);
    let server = Server::new(ServerDeps {
        alerts: store.clone(),
        audit: store.clone(),
        accounts: store.clone(),
        hub: hub.clone(),
        live: Arc::new(NoLive),
        clips: Arc::new(NoClips),
        search: None,
        config_admin: None,
        notify_status: None,
        config: ServerConfig::default(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(server.serve(listener));
    let client = ApiClient::login(&base, "op", "bench password").await.map_err(anyhow::Error::msg)?;
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let snapshot = Arc::new([0xffu8, 0xd8, 0xff, 0xd9].repeat(4000));
    let producer = std::thread::spawn(move || {
        rx.recv().unwrap();
        let period = Duration::from_secs_f64(1.0 / rate);
        for i in 0..alerts {
            let t = EventType::ALL[i % 7];
            let mut ev = vigie_core::Event {
                id: format!("bench-{i}"),
                event_type: t,
                phase: vigie_core::EventPhase::Opened,
                camera: format!("cam{}", i % 8 + 1),
                zone: "zone".into(),
                rule: "rule".into(),
                rule_version: 1,
                mode: vigie_core::RuleMode::Live,
                legal_basis: "bench".into(),
                started_at_ms: UnixMs::now(),
                ended_at_ms: None,
                frame_seq: i as u64,
                track_ids: vec![i as u64],
                peak: vigie_core::PeakMeasure { kind: "count".into(), value: 3.0 },
                region: None,
                model_sha256: "bench".into(),
                snapshot_jpeg: Some(snapshot.clone()),
            };
            ev.started_at_ms = UnixMs::now();
            hub.publish_with(&ev, PublishExtras { clear_jpeg: None, fired_at_ms: Some(ev.started_at_ms) }).unwrap();
            std::thread::sleep(period);
        }
    });
    let loader = {
        let c = client.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            api_load(&c, "/api/alerts?limit=50", (alerts * 4).max(400), 2).await
        })
    };
    let samples = watch_alerts(&client, alerts, Duration::from_secs(600), move || {
        let _ = tx.send(());
    })
    .await
    .map_err(anyhow::Error::msg)?;
    producer.join().unwrap();
    let load = loader.await?.map_err(anyhow::Error::msg)?;
    let mut lat: Vec<f64> = samples.iter().filter_map(|s| s.latency_ms()).map(|l| l as f64).collect();
    println!(
        "{}",
        serde_json::json!({"alerts": samples.len(), "rate_per_s": rate, "publish_to_console_ms": summarize(&mut lat), "api_under_load": load})
    );
    Ok(())
}
