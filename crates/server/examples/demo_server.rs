//! A console with a fake-but-realistic alert stream, for the browser tests and for trying the
//! console without cameras: synthetic cameras with a moving (blurred) person, alerts of every
//! type published through the real `AlertHub` every few seconds.
//!
//!     demo_server --data /tmp/vigie-demo [--listen 127.0.0.1:8080] [--alert-every-s 5] [--cameras 4]
//!     printf '%s\n' 'a long password' | vigie user add --data /tmp/vigie-demo --role operator olive

use parking_lot::Mutex;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use vigie_core::{BBox, Event, EventPhase, EventType, PeakMeasure, SystemClock, UnixMs};
use vigie_imaging::RgbImage;
use vigie_server::*;
use vigie_store::Store;

struct Cli {
    data: PathBuf,
    listen: String,
    alert_every_s: f64,
    cameras: usize,
}

impl Cli {
    /// `--name value` pairs; users are managed with `vigie user` on the same data directory.
    fn parse() -> anyhow::Result<Cli> {
        let mut cli =
            Cli { data: "/tmp/vigie-demo".into(), listen: "127.0.0.1:8080".into(), alert_every_s: 5.0, cameras: 4 };
        let mut args = std::env::args().skip(1);
        while let Some(flag) = args.next() {
            let value = args.next().ok_or_else(|| anyhow::anyhow!("{flag} needs a value"))?;
            match flag.as_str() {
                "--data" => cli.data = value.into(),
                "--listen" => cli.listen = value,
                "--alert-every-s" => cli.alert_every_s = value.parse()?,
                "--cameras" => cli.cameras = value.parse()?,
                _ => anyhow::bail!("unknown argument {flag} (--data, --listen, --alert-every-s, --cameras)"),
            }
        }
        Ok(cli)
    }
}

const W: usize = 320;
const H: usize = 240;

fn zone(cam: usize) -> Vec<(f32, f32)> {
    let o = (cam * 10) as f32;
    vec![(40.0 + o, 140.0), (280.0 - o, 140.0), (300.0, 230.0), (20.0, 230.0)]
}

/// A street-like picture: sky, road, a walking person at `t`, blurred unless `clear`.
fn render(cam: usize, t_ms: i64, clear: bool, overlays: bool) -> Vec<u8> {
    let mut img = RgbImage::new(W, H);
    for y in 0..H {
        for x in 0..W {
            let c = if y < 120 {
                [90 + (y / 4) as u8, 120 + (cam * 20 % 60) as u8, 170]
            } else {
                let stripe = ((x / 20 + y / 20) % 2) as u8 * 12;
                [70 + stripe, 72 + stripe, 76 + stripe]
            };
            img.put(x, y, c);
        }
    }
    let phase = ((t_ms / 40 + cam as i64 * 700) % 2400) as f32 / 2400.0;
    let px = 20.0 + phase * 260.0;
    let person = BBox::new(px, 110.0, px + 26.0, 190.0);
    for y in person.y1 as usize..person.y2 as usize {
        for x in person.x1 as usize..person.x2 as usize {
            let head = y < person.y1 as usize + 18;
            img.put(x, y, if head { [230, 190, 160] } else { [180, 40, 40 + ((x * 7 + y * 3) % 60) as u8] });
        }
    }
    if !clear {
        img.anonymise(&person);
    }
    if overlays {
        img.draw_polygon(&zone(cam), [255, 210, 0], 2);
        img.draw_rect(&person, [0, 255, 120], 2);
    }
    img.encode_jpeg(80)
}

struct DemoLive {
    n: usize,
    started: SystemTime,
}

impl LiveView for DemoLive {
    fn cameras(&self) -> Vec<CameraStatus> {
        (0..self.n)
            .map(|i| CameraStatus {
                id: format!("cam{}", i + 1),
                name: [
                    "Market square",
                    "Station forecourt",
                    "Park gate",
                    "Harbour quay",
                    "Town hall",
                    "Bridge",
                    "School street",
                    "Car park",
                ][i % 8]
                    .into(),
                width: W as u32,
                height: H as u32,
                health: CameraHealth {
                    connected: i != 3,
                    fps: if i == 3 { 0.0 } else { 7.0 },
                    last_error: (i == 3).then(|| "RTSP timeout after 10 s (retrying)".to_string()),
                    details: [(
                        "uptime_s".to_string(),
                        self.started.elapsed().map(|d| d.as_secs()).unwrap_or(0).into(),
                    )]
                    .into_iter()
                    .collect(),
                },
                zones: vec![ZoneInfo { name: "square".into(), polygon: zone(i) }],
            })
            .collect()
    }

    fn jpeg(&self, camera: &str) -> Option<Vec<u8>> {
        let i: usize = camera.strip_prefix("cam")?.parse().ok()?;
        (1..=self.n).contains(&i).then(|| render(i - 1, UnixMs::now().0, false, true))
    }
}

/// A pre-event buffer: one picture a second around the requested window.
struct DemoClips;

impl ClipProvider for DemoClips {
    fn clip(&self, req: &ClipRequest<'_>) -> Result<Clip, ClipError> {
        let (camera, from_ms, to_ms, blurred) = (req.camera, req.from_ms.0, req.to_ms.0, req.blurred);
        let i: usize = camera
            .strip_prefix("cam")
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| ClipError::NotAvailable(format!("no footage of {camera}")))?;
        let n = ((to_ms - from_ms) / 1000).clamp(1, 30);
        let jpegs = (0..n).map(|k| render(i - 1, from_ms + k * 1000, !blurred, false)).collect();
        Ok(Clip::Frames { fps: 4.0, jpegs })
    }
}

struct DemoConfig(Mutex<serde_json::Value>);

impl ConfigAdmin for DemoConfig {
    fn current(&self) -> serde_json::Value {
        self.0.lock().clone()
    }
    fn apply(&self, _actor: &str, new: serde_json::Value) -> Result<serde_json::Value, Vec<vigie_core::ConfigError>> {
        if !new.get("cameras").is_some_and(|c| c.is_array()) {
            return Err(vec![vigie_core::ConfigError::new("cameras", "missing: a list of cameras is required")]);
        }
        *self.0.lock() = new.clone();
        Ok(new)
    }
}

fn publish(hub: &AlertHub, n: u64, cams: usize, phase: EventPhase) {
    let t = EventType::ALL[(n as usize) % EventType::ALL.len()];
    let cam = (n as usize) % cams;
    let now = UnixMs::now();
    let ev = Event {
        id: format!("demo-{n}"),
        event_type: t,
        phase,
        camera: format!("cam{}", cam + 1),
        zone: "square".into(),
        rule: format!("square-{t}"),
        rule_version: 1,
        mode: vigie_core::RuleMode::Live,
        legal_basis: "Arrêté municipal n° 2025-17 (vidéoprotection de la place du marché), art. 3".into(),
        started_at_ms: now,
        ended_at_ms: (phase == EventPhase::Closed).then_some(now),
        frame_seq: 1000 + n,
        track_ids: vec![n],
        peak: PeakMeasure {
            kind: if t == EventType::Crowd { "count".into() } else { "dwell_s".into() },
            value: 5.0 + n as f64 % 7.0 + if phase == EventPhase::Opened { 0.0 } else { 3.0 },
        },
        region: Some(BBox::new(40.0, 110.0, 80.0, 190.0)),
        model_sha256: "9f3c6e0d1b2a4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d".into(),
        snapshot_jpeg: (phase == EventPhase::Opened).then(|| Arc::new(render(cam, now.0, false, true))),
    };
    let clear = (phase == EventPhase::Opened).then(|| render(cam, now.0, true, true));
    if let Err(e) = hub.publish_with(&ev, PublishExtras { clear_jpeg: clear.as_deref(), fired_at_ms: Some(now) }) {
        eprintln!("publish failed: {e}");
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let cli = Cli::parse()?;
    let store = Arc::new(Store::open(&cli.data, Arc::new(SystemClock::default()))?);
    if let Some(pw) = store.bootstrap_admin("admin")? {
        eprintln!("first start: created user 'admin' with password {pw} (shown once)");
    }
    let hub = AlertHub::new(store.clone(), None);
    let config = ServerConfig { listen: cli.listen.clone(), ..Default::default() };
    let server = Server::new(ServerDeps {
        alerts: store.clone(),
        audit: store.clone(),
        accounts: store.clone(),
        hub: hub.clone(),
        live: Arc::new(DemoLive { n: cli.cameras.max(1), started: SystemTime::now() }),
        clips: Arc::new(DemoClips),
        search: None,
        config_admin: Some(Arc::new(DemoConfig(Mutex::new(serde_json::json!({
            "cameras": (1..=cli.cameras).map(|i| serde_json::json!({"id": format!("cam{i}"), "zones": ["square"]})).collect::<Vec<_>>()
        }))))),
        notify_status: None,
        config,
    });
    let listener = tokio::net::TcpListener::bind(&cli.listen).await?;
    eprintln!("demo console on http://{}", listener.local_addr()?);
    let counter = Arc::new(AtomicU64::new(0));
    let cams = cli.cameras.max(1);
    let every = Duration::from_secs_f64(cli.alert_every_s.max(0.2));
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            let n = counter.fetch_add(1, Ordering::Relaxed);
            let (h1, hub2) = (hub.clone(), hub.clone());
            tokio::task::spawn_blocking(move || publish(&h1, n, cams, EventPhase::Opened));
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(3)).await;
                let h = hub2.clone();
                tokio::task::spawn_blocking(move || publish(&h, n, cams, EventPhase::Updated));
                tokio::time::sleep(Duration::from_secs(5)).await;
                tokio::task::spawn_blocking(move || publish(&hub2, n, cams, EventPhase::Closed));
            });
        }
    });
    server
        .serve_with_shutdown(listener, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
