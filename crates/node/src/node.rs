//! `vigie run`: cameras, analysis, archive and console together on one node.
//!
//! ```text
//! camera ─▶ packets ─▶ Recorder (archive)
//!                  └─▶ decoder ─▶ motion gate ─▶ shared detector ─▶ tracker ─▶ NodeHooks:
//!                          rules ─▶ AlertHub (store, SSE, webhook/MQTT) ─▶ console
//!                          TrackSummarizer ─▶ TrackIndex (search)
//!                          Wall (camera wall, rolling clip buffer)
//! ```

use crate::config::{CameraConfig, VigieConfig};
use crate::live::{unix_ms, Clips, Wall};
use anyhow::{anyhow, Context};
use parking_lot::Mutex;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use vigie_archive::{Archive, ExportRequest, Recorder, RetentionTask, SummarizerConfig, TrackIndex, TrackSummarizer};
use vigie_core::{
    AuditSink, BBox, ClassMap, Clock, Detection, Event, EventPhase, Frame, Packet, Polygon, StreamInfo, SystemClock,
    TrackedObject,
};
use vigie_pipeline::{CameraHooks, CameraSpec, LiveOptions, LivePipeline};
use vigie_rules::{CameraRules, EventsConfig};
use vigie_server::hub::{AlertHub, PublishExtras};
use vigie_server::providers::{ClipError, SearchFailure, SearchParams, SearchProvider, ZoneInfo};
use vigie_server::{Notifier, Server, ServerDeps};
use vigie_source::{RtspCredentials, RtspOptions};
use vigie_store::Store;

#[derive(clap::Args)]
pub struct RunArgs {
    /// Node configuration (cameras, zones, rules, console...).
    #[arg(long)]
    pub config: PathBuf,
    /// Data directory: catalogue, audit trail, footage, snapshots, track index.
    #[arg(long, default_value = "data")]
    pub data: PathBuf,
    /// Listen on this address instead of the config's `server.listen`.
    #[arg(long)]
    pub listen: Option<String>,
    /// Log lines as plain text (colours only on a terminal) or as JSON objects, one per line,
    /// for a log collector.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

fn init_logging(format: LogFormat) {
    use std::io::IsTerminal;
    let filter = || tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,ort=warn".into());
    let base = tracing_subscriber::fmt().with_writer(std::io::stderr);
    // Colour codes are for people at a terminal; in a file or a journal they are noise.
    let _ = match format {
        LogFormat::Text => base.with_ansi(std::io::stderr().is_terminal()).with_env_filter(filter()).try_init(),
        LogFormat::Json => base.json().with_ansi(false).with_env_filter(filter()).try_init(),
    };
}

/// A camera's rules as configured, and the engine built from them. The camera thread rebuilds
/// the engine when `version` moves (config reload), keeping open events of unchanged rules.
pub(crate) struct RulesSlot {
    pub camera: CameraConfig,
    pub events: EventsConfig,
    pub version: u64,
}

impl RulesSlot {
    /// Takes new zones, rules, calibration and city-wide switches; bumps the version (so the
    /// camera thread rebuilds its engine) only when something the rules depend on changed.
    pub fn set_scene(
        &mut self,
        zones: &[vigie_rules::ZoneConfig],
        rules: &[vigie_rules::RuleConfig],
        calibration: Option<&vigie_rules::Calibration>,
        events: &EventsConfig,
    ) -> bool {
        let c = &self.camera;
        if c.zones == zones && c.rules == rules && c.calibration.as_ref() == calibration && &self.events == events {
            return false;
        }
        self.camera.zones = zones.to_vec();
        self.camera.rules = rules.to_vec();
        self.camera.calibration = calibration.cloned();
        self.events = events.clone();
        self.version += 1;
        true
    }
}

struct NodeHooks {
    id: String,
    wall: Arc<Wall>,
    hub: Arc<AlertHub>,
    archive: Arc<Archive>,
    record: bool,
    recorder: Option<Recorder>,
    slot: Arc<Mutex<RulesSlot>>,
    engine: Option<(u64, CameraRules)>,
    summarizer: TrackSummarizer,
    index: Arc<TrackIndex>,
    zones_px: Vec<(String, Polygon)>,
    /// People seen by the last detector run, tracked or not: pictures blur them all.
    people: Vec<BBox>,
    classes: ClassMap,
    model_sha256: String,
    /// Capture time of the last frame: when the node stops, open events end there.
    last_frame_at: Option<std::time::SystemTime>,
}

/// Detections of people at or above this score are blurred even before they become tracks;
/// blurring a few false positives costs nothing, leaving a real person clear does.
const PEOPLE_BLUR_SCORE: f32 = 0.25;

impl NodeHooks {
    /// Operators see every person pixelated, the subject included; the rules engine's evidence
    /// (bystanders pixelated, subject clear) is what a supervisor's unmask reveals.
    fn blurred_snapshot(&self, frame: &Frame, tracks: &[TrackedObject], ev: &Event) -> Vec<u8> {
        let mut img = vigie_imaging::RgbImage::from_frame(frame);
        for t in tracks.iter().filter(|t| self.classes.name(t.class_id) == "person") {
            img.anonymise(&t.bbox);
        }
        for b in &self.people {
            img.anonymise(b);
        }
        if let Some(r) = ev.region {
            let subject_is_person =
                tracks.iter().any(|t| ev.track_ids.contains(&t.track_id) && self.classes.name(t.class_id) == "person");
            if subject_is_person {
                img.anonymise(&r);
            }
            img.draw_rect(&r, [255, 40, 40], 3);
        }
        img.encode_jpeg(85)
    }

    fn publish(&mut self, frame: &Frame, tracks: &[TrackedObject], events: Vec<Event>) {
        for mut ev in events {
            let clear = if ev.phase == EventPhase::Opened {
                let evidence = ev.snapshot_jpeg.take();
                ev.snapshot_jpeg = Some(Arc::new(self.blurred_snapshot(frame, tracks, &ev)));
                evidence
            } else {
                None
            };
            let extras = PublishExtras {
                clear_jpeg: clear.as_deref().map(|v| v.as_slice()),
                fired_at_ms: Some(unix_ms(frame.captured_at)),
            };
            // A catalogue that cannot store the alert (disk full) still gets it on the live
            // feed and later in the catalogue; only an overflowing backlog loses it.
            if let Err(e) = self.hub.publish_with(&ev, extras) {
                tracing::error!(camera = %self.id, error = %e, "alert lost");
            }
            if ev.phase == EventPhase::Opened {
                self.summarizer.link_event(&ev);
            }
        }
    }

    fn rules_for(&mut self, frame: &Frame, tracks: &[TrackedObject]) -> Option<&mut CameraRules> {
        let slot = self.slot.lock();
        let stale = self.engine.as_ref().is_none_or(|(v, _)| *v != slot.version);
        if stale {
            let c = &slot.camera;
            match CameraRules::new(
                &c.id,
                &c.zones,
                &c.rules,
                c.calibration.as_ref(),
                &slot.events,
                (frame.width, frame.height),
                &self.model_sha256,
                &self.classes,
            ) {
                Ok(mut new) => {
                    self.zones_px = c
                        .zones
                        .iter()
                        .map(|z| (z.name.clone(), vigie_rules::config::zone_polygon(z, frame.width, frame.height)))
                        .collect();
                    self.wall.set_zones(
                        &self.id,
                        self.zones_px
                            .iter()
                            .map(|(n, p)| ZoneInfo { name: n.clone(), polygon: p.points.clone() })
                            .collect(),
                    );
                    let version = slot.version;
                    drop(slot);
                    let closed = match self.engine.take() {
                        Some((_, old)) => new.take_over(old, frame.captured_at),
                        None => Vec::new(),
                    };
                    self.engine = Some((version, new));
                    self.publish(frame, tracks, closed);
                }
                Err(e) => {
                    // Validated before it got here; a failure now (e.g. a zone outside a camera
                    // whose resolution changed) keeps the rules already running.
                    tracing::error!(camera = %self.id, error = %e, "rules not rebuilt; keeping the previous ones");
                    let version = slot.version;
                    drop(slot);
                    if let Some((v, _)) = self.engine.as_mut() {
                        *v = version;
                    }
                }
            }
        }
        self.engine.as_mut().map(|(_, e)| e)
    }
}

impl CameraHooks for NodeHooks {
    fn on_packet(&mut self, packet: &Packet, info: &StreamInfo) {
        if !self.record {
            return;
        }
        if self.recorder.is_none() {
            match Recorder::new(&self.id, info, self.archive.clone()) {
                Ok(r) => self.recorder = Some(r),
                Err(e) => {
                    tracing::error!(camera = %self.id, error = %e, "cannot record");
                    self.record = false;
                    return;
                }
            }
        }
        if let Some(r) = self.recorder.as_mut() {
            // Recording trouble (disk full...) is visible in the recorder's status and never
            // stops analysis.
            if let Err(e) = r.push(packet) {
                tracing::warn!(camera = %self.id, error = %e, "recording");
            }
        }
    }

    fn on_frame(&mut self, frame: &Arc<Frame>, tracks: &[TrackedObject], detections: Option<&[Detection]>) {
        if let Some(d) = detections {
            // Held frames keep the last detector run's people: they have not moved far.
            self.people = d
                .iter()
                .filter(|d| d.score >= PEOPLE_BLUR_SCORE && self.classes.name(d.class_id) == "person")
                .map(|d| d.bbox)
                .collect();
        }
        let now = frame.captured_at;
        self.last_frame_at = Some(now);
        let events = match self.rules_for(frame, tracks) {
            Some(engine) => engine.process(frame, tracks, now),
            None => Vec::new(),
        };
        self.publish(frame, tracks, events);
        let records = self.summarizer.observe(frame, tracks, &self.zones_px, now);
        if !records.is_empty() {
            if let Err(e) = self.index.insert_batch(&records) {
                tracing::warn!(camera = %self.id, error = %e, "track index");
            }
        }
        self.wall.update(&self.id, frame, tracks, &self.people);
    }
}

impl Drop for NodeHooks {
    /// The camera has stopped (node shutdown, or the end of a file): its open events end at the
    /// last frame seen, or their alerts would stay ongoing forever.
    fn drop(&mut self) {
        if let (Some((_, engine)), Some(at)) = (self.engine.as_mut(), self.last_frame_at) {
            for ev in engine.close_all(at) {
                if let Err(e) = self.hub.publish_with(&ev, PublishExtras::default()) {
                    tracing::error!(camera = %self.id, alert = %ev.id, error = %e, "cannot close alert");
                }
            }
        }
        if let Some(r) = self.recorder.take() {
            if let Err(e) = r.finish() {
                tracing::warn!(camera = %self.id, error = %e, "closing the last segment");
            }
        }
        let records = self.summarizer.finish();
        if !records.is_empty() {
            let _ = self.index.insert_batch(&records);
        }
    }
}

/// `GET /api/search` over the track index. The server audits each search itself.
struct Search {
    index: Arc<TrackIndex>,
    tz: jiff::tz::TimeZone,
    clock: Arc<dyn Clock>,
}

struct NoAudit;
impl AuditSink for NoAudit {
    fn record(&self, _: &str, _: &str, _: &str, _: &str) -> Result<(), String> {
        Ok(())
    }
}

impl SearchProvider for Search {
    fn search(&self, actor: &str, p: &SearchParams) -> Result<serde_json::Value, SearchFailure> {
        let split = |s: &Option<String>| -> Vec<String> {
            s.as_deref()
                .map(|v| v.split(',').map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect())
                .unwrap_or_default()
        };
        let params = vigie_archive::SearchParams {
            from: p.from.clone(),
            to: p.to.clone(),
            camera: split(&p.camera),
            zone: split(&p.zone),
            class: split(&p.class),
            color: split(&p.color),
            direction: p.direction.clone(),
            min_dwell_s: p.min_dwell_s,
            event_linked: p.event_linked,
            q: p.q.clone(),
            limit: p.limit.map(|v| v as usize),
            offset: p.offset.map(|v| v as usize),
        };
        match self.index.search_params(&params, actor, self.clock.now(), &self.tz, &NoAudit) {
            Ok(r) => serde_json::to_value(&r).map_err(|e| SearchFailure::Failed(e.to_string())),
            Err(e) if e.is_client_error() => Err(SearchFailure::BadQuery(e.to_string())),
            Err(e) => Err(SearchFailure::Failed(e.to_string())),
        }
    }

    fn thumbnail(&self, id: &str) -> Option<Vec<u8>> {
        self.index.thumbnail(id.parse().ok()?).ok().flatten()
    }
}

fn rtsp_options(c: &CameraConfig) -> anyhow::Result<RtspOptions> {
    let mut o = RtspOptions::default();
    if let Some(user) = &c.username {
        let password = match &c.password_env {
            Some(var) => std::env::var(var).map_err(|_| anyhow!("cameras.{}.password_env: {var} is not set", c.id))?,
            None => String::new(),
        };
        o.credentials = Some(RtspCredentials { username: user.clone(), password });
    }
    Ok(o)
}

pub(crate) type Slots = Vec<(String, Arc<Mutex<RulesSlot>>)>;

/// Re-reads the config file and hands each running camera its new zones and rules. A file that
/// does not load or validate changes nothing: the rules already running go on. Either way the
/// attempt is audited.
fn reload(path: &Path, slots: &Slots, audit: &dyn AuditSink) -> anyhow::Result<Vec<String>> {
    let target = path.display().to_string();
    let cfg = match VigieConfig::load(path) {
        Ok(c) => c,
        Err(e) => {
            let _ = audit.record(
                "system",
                "config.reload_failed",
                &target,
                &serde_json::json!({ "error": format!("{e:#}") }).to_string(),
            );
            return Err(e);
        }
    };
    let mut changed = Vec::new();
    for (id, slot) in slots {
        let Some(c) = cfg.cameras.iter().find(|c| &c.id == id) else {
            tracing::warn!(camera = %id, "camera removed from the config: restart to stop it");
            continue;
        };
        if slot.lock().set_scene(&c.zones, &c.rules, c.calibration.as_ref(), &cfg.events) {
            changed.push(id.clone());
        }
    }
    for c in cfg.cameras.iter().filter(|c| !slots.iter().any(|(id, _)| id == &c.id)) {
        tracing::warn!(camera = %c.id, "camera added to the config: restart to start it");
    }
    let _ = audit.record(
        "system",
        "config.reload",
        &target,
        &serde_json::json!({ "cameras_changed": changed }).to_string(),
    );
    Ok(changed)
}

fn watch_config(path: PathBuf, slots: Slots, audit: Arc<dyn AuditSink>, stop: Arc<std::sync::atomic::AtomicBool>) {
    let mtime = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let mut last = mtime(&path);
    std::thread::Builder::new()
        .name("config-watch".into())
        .spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                std::thread::sleep(Duration::from_secs(2));
                let now = mtime(&path);
                if now == last {
                    continue;
                }
                last = now;
                match reload(&path, &slots, audit.as_ref()) {
                    Ok(changed) => {
                        tracing::info!(file = %path.display(), ?changed, "configuration reloaded (zones and rules)")
                    }
                    Err(e) => tracing::error!("configuration not reloaded, the previous one keeps running: {e:#}"),
                }
            }
        })
        .expect("spawn config watcher");
}

pub fn run(a: &RunArgs) -> anyhow::Result<()> {
    init_logging(a.log_format);
    let mut cfg = VigieConfig::load(&a.config)?;
    if let Some(l) = &a.listen {
        cfg.server.listen = l.clone();
    }
    let fixed =
        vigie_store::secure_data_dir(&a.data).with_context(|| format!("data directory {}", a.data.display()))?;
    for line in vigie_store::describe_fixed_permissions(&a.data, &fixed) {
        tracing::warn!("{line}");
    }
    let _data_lock = lock_data_dir(&a.data)?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock::default());
    // Before anything opens files: the console's connection cap is set below this limit.
    let fds = vigie_server::serve::raise_fd_limit();
    tracing::debug!("open-file limit: {}", fds.map_or("unlimited".into(), |n| n.to_string()));
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let _guard = rt.enter();

    let store = Arc::new(Store::open(&a.data, clock.clone()).map_err(|e| anyhow!("{e}"))?);
    if let Some(pw) = store.bootstrap_admin("admin").map_err(|e| anyhow!("{e}"))? {
        let file = a.data.join(vigie_store::INITIAL_PASSWORD_FILE);
        // Owner-only by the process umask (set before anything is created); removed once the
        // password is changed, which the first login must do.
        let _ = std::fs::write(&file, format!("{pw}\n"));
        println!(
            "first administrator created: user \"admin\", password {pw} (also in {}); the first login must replace it",
            file.display()
        );
    }
    match store.close_interrupted_alerts() {
        Ok(ids) if !ids.is_empty() => {
            tracing::warn!(alerts = ?ids, "alerts left ongoing by a node that did not stop cleanly are now closed")
        }
        Ok(_) => {}
        Err(e) => tracing::error!("cannot close alerts left ongoing: {e}"),
    }
    let audit: Arc<dyn AuditSink> = store.clone();
    let archive =
        Archive::open(&a.data, cfg.archive.clone(), clock.clone(), audit.clone()).map_err(|e| anyhow!("{e}"))?;
    match archive.reconcile(false) {
        Ok(rep) => tracing::info!("{}", rep.summary()),
        Err(e) => tracing::error!("archive check failed: {e}"),
    }
    // The index is created before the retention thread, which opens it too.
    let index = Arc::new(TrackIndex::open(archive.tracks_db_path()).map_err(|e| anyhow!("{e}"))?);
    let retention = RetentionTask::spawn(archive.clone());
    let labels = std::fs::read_to_string(&cfg.detector.labels)
        .with_context(|| format!("cannot read class list {}", cfg.detector.labels.display()))?;
    let classes = ClassMap::parse(&labels);
    index.register_classes(&classes).map_err(|e| anyhow!("{e}"))?;
    let model_sha256 = vigie_detect::model_sha256(&cfg.detector.model)?;

    let notifier = Notifier::start(&cfg.notify, rt.handle());
    let hub = AlertHub::new(store.clone(), notifier.clone());
    let checkpoints = Checkpointer::start(
        store.clone(),
        &a.data,
        notifier.clone(),
        Duration::from_secs(cfg.audit.checkpoint_interval_s),
    )?;

    let healths: Vec<_> = cfg
        .cameras
        .iter()
        .map(|c| (c.id.clone(), c.display_name().to_string(), vigie_source::Health::new(&c.id)))
        .collect();
    let wall = Wall::new(healths.clone(), classes.clone());

    let mut specs = Vec::new();
    let mut slots = Vec::new();
    for (c, (_, _, health)) in cfg.cameras.iter().zip(&healths) {
        index
            .register_camera(&c.id, &c.zones.iter().map(|z| z.name.clone()).collect::<Vec<_>>())
            .map_err(|e| anyhow!("{e}"))?;
        let slot = Arc::new(Mutex::new(RulesSlot { camera: c.clone(), events: cfg.events.clone(), version: 0 }));
        slots.push((c.id.clone(), slot.clone()));
        let hooks = NodeHooks {
            id: c.id.clone(),
            wall: wall.clone(),
            hub: hub.clone(),
            archive: archive.clone(),
            record: c.record,
            recorder: None,
            slot,
            engine: None,
            summarizer: TrackSummarizer::new(&c.id, classes.clone(), SummarizerConfig::default()),
            index: index.clone(),
            zones_px: Vec::new(),
            people: Vec::new(),
            classes: classes.clone(),
            model_sha256: model_sha256.clone(),
            last_frame_at: None,
        };
        specs.push(CameraSpec {
            id: c.id.clone(),
            url: c.url.clone(),
            looping: c.looping,
            realtime: c.realtime,
            rtsp: rtsp_options(c)?,
            hooks: Box::new(hooks),
            health: health.clone(),
        });
    }
    let opts = LiveOptions {
        detector: cfg.detector.clone(),
        tracker: cfg.tracker.clone(),
        motion: cfg.motion.clone(),
        detector_workers: cfg.pipeline.detector_workers,
        queue_depth: cfg.pipeline.queue_depth,
        ..Default::default()
    };
    let pipeline = LivePipeline::start(&opts, specs, rt.handle().clone(), clock.clone())?;
    for cam in &pipeline.cameras {
        let counters = cam.counters.clone();
        let archive = archive.clone();
        let id = cam.id.clone();
        wall.set_status_fn(
            &cam.id,
            Box::new(move || {
                use std::sync::atomic::Ordering::Relaxed;
                let rec = archive.recorder_statuses().into_iter().find(|r| r.camera == id);
                // Storage trouble is shown on every camera it concerns: this camera's own lines,
                // and the node-wide ones (total limit evicting footage).
                let storage: Vec<String> = archive
                    .storage_status()
                    .map(|s| {
                        s.alerts
                            .into_iter()
                            .filter(|a| !a.starts_with("camera ") || a.starts_with(&format!("camera {id}:")))
                            .collect()
                    })
                    .unwrap_or_default();
                serde_json::json!({
                    "storage_alerts": storage,
                    "detector_runs": counters.detector_runs.load(Relaxed),
                    "motion_skipped": counters.motion_skipped.load(Relaxed),
                    "detector_busy_skipped": counters.detector_skipped_busy.load(Relaxed),
                    "detector_errors": counters.detector_errors.load(Relaxed),
                    "recording": rec.as_ref().map(|r| r.recording),
                    "recording_error": rec.and_then(|r| r.last_error),
                })
            }),
        );
    }
    let config_admin = Arc::new(crate::config_admin::FileConfigAdmin {
        path: a.config.clone(),
        slots: slots.clone(),
        lock: Mutex::new(()),
    });
    watch_config(a.config.clone(), slots, audit.clone(), pipeline.stop_flag());

    let export_archive = archive.clone();
    let people_cfg =
        vigie_detect::DetectorConfig { classes: vec!["person".into()], threads: 1, ..cfg.detector.clone() };
    // One people detector per export in progress (the server runs at most
    // `max_concurrent_exports`), kept for the next ones: exports never wait on each other.
    let people: Arc<Mutex<Vec<vigie_detect::Detector>>> = Arc::new(Mutex::new(Vec::new()));
    let export = move |c: &vigie_server::ClipRequest<'_>| -> Result<Vec<u8>, ClipError> {
        let blurred = c.blurred;
        let req = ExportRequest {
            camera: c.camera.to_string(),
            from_ms: c.from_ms,
            to_ms: c.to_ms,
            blur_people: blurred,
            unmask_reason: c.reason.map(String::from),
            actor: c.actor.to_string(),
        };
        let mut det = if blurred {
            let pooled = people.lock().pop();
            match pooled {
                Some(d) => Some(d),
                None => Some(vigie_detect::Detector::new(&people_cfg).map_err(|e| ClipError::Failed(e.to_string()))?),
            }
        } else {
            None
        };
        let res = {
            let mut boxes = |f: &Frame| {
                let d = det.as_mut().expect("blurred exports have a detector");
                d.detect(f).map(|d| d.into_iter().map(|d| d.bbox).collect()).unwrap_or_default()
            };
            export_archive.export_to_memory(&req, if blurred { Some(&mut boxes) } else { None }, c.stop)
        };
        if let Some(d) = det {
            people.lock().push(d);
        }
        // Served from memory: a viewing leaves no copy behind in data/exports.
        let (_, mp4) = res.map_err(|e| match e {
            vigie_archive::ArchiveError::NotFound(m) => ClipError::NotAvailable(m),
            vigie_archive::ArchiveError::Stopped(s) => ClipError::Stopped(s),
            other => ClipError::Failed(other.to_string()),
        })?;
        Ok(mp4)
    };
    let clips = Arc::new(Clips { wall: wall.clone(), archive: Some(Arc::new(export)) });
    let search = Arc::new(Search { index: index.clone(), tz: cfg.events.time_zone()?, clock: clock.clone() });
    let server = Server::new(ServerDeps {
        store: store.clone(),
        hub: hub.clone(),
        live: wall.clone(),
        clips,
        search: Some(search),
        config_admin: Some(config_admin),
        notify_status: notifier.as_ref().map(|n| n.status().clone()),
        config: cfg.server.clone(),
    });
    let listen = cfg.server.listen.clone();
    let served: anyhow::Result<()> = rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .with_context(|| format!("server.listen: cannot listen on {listen}"))?;
        println!("console on http://{listen} ({} camera(s), model sha256 {model_sha256})", cfg.cameras.len());
        server
            .serve_with_shutdown(listener, async {
                // Ctrl-C in a terminal, SIGTERM from systemd or a container runtime: both close
                // the open segments and stop cameras cleanly.
                let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
                }
            })
            .await
            .context("console server")
    });
    tracing::info!("stopping");
    pipeline.shutdown();
    retention.stop();
    hub.retry_pending();
    if hub.pending() > 0 {
        tracing::error!(waiting = hub.pending(), "alerts shown live could not be stored before stopping");
    }
    // After the cameras, so that the last checkpoint covers the alerts they closed.
    checkpoints.stop();
    served
}

/// One node per data folder: two would write the same segment files and race on the catalogue's
/// migrations. The lock is the kernel's (`flock`), so it goes with the process, however it ends,
/// and a stale lock file never blocks a restart.
fn lock_data_dir(data: &std::path::Path) -> anyhow::Result<std::fs::File> {
    use std::io::{Read, Seek, Write};
    use std::os::fd::AsRawFd;
    let path = data.join("vigie.lock");
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    // SAFETY: flock on a descriptor this function owns; no memory is shared with the kernel.
    if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        let mut holder = String::new();
        let _ = f.read_to_string(&mut holder);
        let holder = holder.trim();
        let who = if holder.is_empty() { String::new() } else { format!(" (pid {holder})") };
        anyhow::bail!(
            "data folder {} is already used by another vigie node{who}: one node per data folder; stop it or give this one another --data",
            data.display()
        );
    }
    f.set_len(0)?;
    f.rewind()?;
    write!(f, "{}", std::process::id())?;
    Ok(f)
}

/// Signs the audit trail's head at start, every `interval` and at stop: kept in
/// `DATA/checkpoints/` and sent as an `audit.checkpoint` notification, so that the head is known
/// outside the database and a later truncation shows (`vigie audit verify --checkpoint`).
struct Checkpointer {
    stop: std::sync::mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Checkpointer {
    fn start(
        store: Arc<Store>,
        data: &Path,
        notifier: Option<Notifier>,
        interval: Duration,
    ) -> anyhow::Result<Checkpointer> {
        let key = vigie_store::NodeKey::load_or_create(data).map_err(|e| anyhow!("audit signing key: {e}"))?;
        tracing::info!(public_key = %key.public_hex(), "audit checkpoints signed with this key");
        // The first checkpoint walks the whole trail; later ones only what was added since.
        let mut previous: Option<vigie_store::Checkpoint> = None;
        let mut publish = move || match store.write_checkpoint(&key, previous.as_ref()) {
            Ok(Ok((cp, path))) => {
                tracing::info!(seq = cp.seq, head_hash = %cp.head_hash, file = %path.display(), "audit checkpoint");
                if let Some(n) = &notifier {
                    n.audit_checkpoint(&cp);
                }
                previous = Some(cp);
            }
            Ok(Err(b)) => tracing::error!("no audit checkpoint signed, the trail does not verify: {b}"),
            Err(e) => tracing::error!("audit checkpoint: {e}"),
        };
        let (stop, rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("audit-checkpoint".into())
            .spawn(move || loop {
                publish();
                match rx.recv_timeout(interval) {
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => continue,
                    _ => {
                        publish();
                        return;
                    }
                }
            })
            .context("spawn audit checkpoint thread")?;
        Ok(Checkpointer { stop, thread })
    }

    fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Trail(Mutex<Vec<(String, String)>>);
    impl AuditSink for Trail {
        fn record(&self, _actor: &str, action: &str, _target: &str, details: &str) -> Result<(), String> {
            self.0.lock().push((action.to_string(), details.to_string()));
            Ok(())
        }
    }

    const GOOD: &str = r#"
[[cameras]]
id = "plaza"
url = "assets/video/pets09-s2l1.mp4"
[[cameras.zones]]
name = "lamp"
kind = "square"
polygon = [[330, 170], [560, 170], [560, 290], [330, 290]]
[[cameras.rules]]
id = "group"
type = "crowd"
zone = "lamp"
legal_basis = "Arrêté 2024-117"
min_count = 3
"#;

    #[test]
    fn the_checkpoint_interval_is_bounded_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vigie.toml");
        std::fs::write(&path, format!("[audit]\ncheckpoint_interval_s = 600\n{GOOD}")).unwrap();
        assert_eq!(VigieConfig::load(&path).unwrap().audit.checkpoint_interval_s, 600);
        std::fs::write(&path, GOOD).unwrap();
        assert_eq!(VigieConfig::load(&path).unwrap().audit.checkpoint_interval_s, 3600, "hourly by default");
        for bad in ["0", "5", "100000"] {
            std::fs::write(&path, format!("[audit]\ncheckpoint_interval_s = {bad}\n{GOOD}")).unwrap();
            let err = format!("{:#}", VigieConfig::load(&path).unwrap_err());
            assert!(err.contains("audit.checkpoint_interval_s") && err.contains("vigie.toml"), "{err}");
        }
    }

    #[test]
    fn a_bad_reload_keeps_the_running_rules_and_a_good_one_replaces_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vigie.toml");
        std::fs::write(&path, GOOD).unwrap();
        let cfg = VigieConfig::load(&path).unwrap();
        let slot =
            Arc::new(Mutex::new(RulesSlot { camera: cfg.cameras[0].clone(), events: cfg.events.clone(), version: 0 }));
        let slots: Slots = vec![("plaza".into(), slot.clone())];
        let trail = Trail::default();

        // A rule switched on without its legal basis: refused, nothing changes.
        std::fs::write(&path, GOOD.replace("legal_basis = \"Arrêté 2024-117\"\n", "")).unwrap();
        let err = reload(&path, &slots, &trail).unwrap_err().to_string();
        assert!(err.contains("cameras.plaza.rules.group.legal_basis"), "{err}");
        assert_eq!(slot.lock().version, 0);
        assert_eq!(slot.lock().camera.rules[0].legal_basis.as_deref(), Some("Arrêté 2024-117"));
        assert_eq!(trail.0.lock().last().unwrap().0, "config.reload_failed");

        // A malformed file: same.
        std::fs::write(&path, "[[cameras]\n").unwrap();
        assert!(reload(&path, &slots, &trail).is_err());
        assert_eq!(slot.lock().version, 0);

        // A valid change is handed to the camera.
        std::fs::write(&path, GOOD.replace("min_count = 3", "min_count = 5")).unwrap();
        assert_eq!(reload(&path, &slots, &trail).unwrap(), vec!["plaza".to_string()]);
        assert_eq!(slot.lock().version, 1);
        assert_eq!(slot.lock().camera.rules[0].min_count, Some(5));
        assert_eq!(trail.0.lock().last().unwrap().0, "config.reload");

        // Saving the same file again changes nothing.
        assert!(reload(&path, &slots, &trail).unwrap().is_empty());
        assert_eq!(slot.lock().version, 1);
    }
}
