//! The node: opens the data folder, starts the cameras with their stages, the console and the
//! background tasks (retention, audit checkpoints, config watcher), and stops them in order.

use crate::config::{CameraConfig, VigieConfig};
use crate::evidence::EvidenceStage;
use crate::recording::RecordingSink;
use crate::rules_stage::RulesStage;
use crate::scene::{watch_config, RulesSlot};
use crate::track_index::TrackIndexSink;
use crate::wall::{Clips, Wall};
use crate::CameraStages;
use anyhow::{anyhow, Context};
use parking_lot::Mutex;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use vigie_core::{shutdown, AuditSink, ClassMap, Clock, Frame, SystemClock};
use vigie_footage::{Archive, ExportRequest, RetentionTask};
use vigie_pipeline::{CameraSpec, LiveOptions, LivePipeline};
use vigie_search::{SummarizerConfig, TrackIndex, TrackStore, TrackSummarizer};
use vigie_server::hub::AlertHub;
use vigie_server::providers::{ClipError, SearchFailure, SearchParams, SearchProvider};
use vigie_server::{Notifier, Server};
use vigie_source::{RtspCredentials, RtspOptions};
use vigie_store::Store;

/// A started node: cameras running, console not yet serving (see [`Node::run`]).
pub struct Node {
    rt: tokio::runtime::Runtime,
    server: Server,
    listen: String,
    cameras: usize,
    model_sha256: String,
    pipeline: LivePipeline,
    retention: RetentionTask,
    hub: Arc<AlertHub>,
    checkpoints: Checkpointer,
    /// Written to once more as the cameras stop (their last minutes).
    stats: vigie_stats::StatsWriter,
    /// Stops with the cameras (the pipeline's shutdown).
    watcher: Option<std::thread::JoinHandle<()>>,
    /// Held while the node runs: one node per data folder.
    _data_lock: std::fs::File,
}

impl Node {
    /// Starts a node of `cfg` (loaded from `config_path`, which is watched for changes) over the
    /// data folder `data`.
    pub fn start(cfg: VigieConfig, config_path: &Path, data: &Path) -> anyhow::Result<Node> {
        let fixed = vigie_store::secure_data_dir(data).with_context(|| format!("data directory {}", data.display()))?;
        for line in vigie_store::describe_fixed_permissions(data, &fixed) {
            tracing::warn!("{line}");
        }
        let data_lock = lock_data_dir(data)?;
        // Before anything starts: a token named but not set is a configuration error.
        cfg.server.metrics_token("server").map_err(|e| anyhow!("{}: {e}", config_path.display()))?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock::default());
        // Before anything opens files: the console's connection cap is set below this limit.
        let fds = vigie_server::serve::raise_fd_limit();
        tracing::debug!("open-file limit: {}", fds.map_or("unlimited".into(), |n| n.to_string()));
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
        let _guard = rt.enter();

        let store = Arc::new(Store::open(data, clock.clone()).map_err(|e| anyhow!("{e}"))?);
        if let Some(pw) = store.bootstrap_admin("admin").map_err(|e| anyhow!("{e}"))? {
            let file = data.join(vigie_store::INITIAL_PASSWORD_FILE);
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
            Archive::open(data, cfg.archive.clone(), clock.clone(), audit.clone()).map_err(|e| anyhow!("{e}"))?;
        match archive.reconcile(false) {
            Ok(rep) => tracing::info!("{}", rep.summary()),
            Err(e) => tracing::error!("archive check failed: {e}"),
        }
        // The index is created before the retention thread, which opens it too.
        // The index is created before the retention thread, which purges it too.
        let index = Arc::new(TrackIndex::open(archive.tracks_db_path()).map_err(|e| anyhow!("{e}"))?);
        archive.set_track_purge(index.clone());
        let index: Arc<dyn TrackStore> = index;
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
            data,
            notifier.clone(),
            Duration::from_secs(cfg.audit.checkpoint_interval_s),
        )?;

        let healths: Vec<_> = cfg
            .cameras
            .iter()
            .map(|c| (c.id.clone(), c.display_name().to_string(), vigie_source::Health::new(&c.id)))
            .collect();
        let wall = Wall::new(healths.clone(), classes.clone());

        // Its own database: kept for years, whatever becomes of the footage and the alerts.
        let stats_db = Arc::new(vigie_stats::SqliteStats::open(&data.join("stats.db")).map_err(|e| anyhow!("{e}"))?);
        let stats_writer = vigie_stats::StatsWriter::start(stats_db.clone(), cfg.stats.retention_days);

        let mut specs = Vec::new();
        let mut slots = Vec::new();
        for (c, (_, _, health)) in cfg.cameras.iter().zip(&healths) {
            index
                .register_camera(&c.id, &c.zones.iter().map(|z| z.name.clone()).collect::<Vec<_>>())
                .map_err(|e| anyhow!("{e}"))?;
            let slot = Arc::new(Mutex::new(RulesSlot::new(c.clone(), cfg.events.clone())));
            slots.push((c.id.clone(), slot.clone()));
            // One handle per camera, changed through its slot: every stage follows an edit.
            let masks = slot.lock().masks.clone();
            let stages = CameraStages::new(
                &c.id,
                RecordingSink::new(&c.id, archive.clone(), c.record),
                RulesStage::new(&c.id, slot.clone(), &model_sha256, classes.clone()),
                EvidenceStage::new(&classes),
                hub.clone(),
                TrackIndexSink::new(
                    &c.id,
                    TrackSummarizer::new(&c.id, classes.clone(), SummarizerConfig::default()),
                    index.clone(),
                ),
                wall.clone(),
                classes.id("person"),
            )
            .with_stats(crate::stats_stage::StatsStage::new(&c.id, slot.clone(), classes.clone(), stats_writer.clone()))
            .with_privacy(&c.privacy_masks, &classes)
            .with_live_masks(masks.clone());
            archive.share_privacy_masks(&c.id, masks.clone());
            wall.share_privacy_masks(&c.id, masks.clone());
            specs.push(CameraSpec {
                id: c.id.clone(),
                url: c.url.clone(),
                looping: c.looping,
                realtime: c.realtime,
                rtsp: rtsp_options(c)?,
                hooks: Box::new(stages),
                health: health.clone(),
                privacy_masks: masks,
                detect_fps: c.detect_fps(&cfg.pipeline),
            });
        }
        let opts = LiveOptions {
            detector: cfg.detector.clone(),
            tracker: cfg.tracker.clone(),
            motion: cfg.motion.clone(),
            detector_workers: cfg.pipeline.detector_workers,
            ..Default::default()
        };
        let pipeline = LivePipeline::start(&opts, specs, rt.handle().clone(), clock.clone())?;
        for cam in &pipeline.cameras {
            wall.set_status_fn(&cam.id, camera_status(cam.id.clone(), cam.counters.clone(), archive.clone()));
        }
        let config_admin = Arc::new(crate::config_admin::FileConfigAdmin {
            path: config_path.to_path_buf(),
            slots: slots.clone(),
            lock: Mutex::new(()),
            masks: store.clone(),
        });
        let node_stats = Arc::new(crate::stats_stage::NodeStats::new(stats_db, slots.clone(), &classes));
        config_admin.record_running_masks(vigie_store::MaskSource::Start);
        let on_reload = config_admin.clone();
        let watcher = watch_config(
            config_path.to_path_buf(),
            slots,
            audit.clone(),
            pipeline.shutdown_receiver(),
            Box::new(move || on_reload.record_running_masks(vigie_store::MaskSource::ConfigFile)),
        )
        .context("spawn config watcher")?;

        let clips =
            Arc::new(Clips { wall: wall.clone(), archive: Some(archive_export(archive.clone(), &cfg, &classes)) });
        let search = Arc::new(Search { index: index.clone(), tz: cfg.events.time_zone()?, clock: clock.clone() });
        let sectors = cfg.sector_map();
        // A sector dropped from the file leaves its users seeing none of its cameras (never all
        // of them): say so, so that an administrator reassigns them.
        for u in store.users().map_err(|e| anyhow!("{e}"))? {
            if let Err(m) = sectors.check_known(&u.sectors) {
                tracing::warn!(user = %u.username, "{m}: this user sees no camera of it; `vigie user set` to reassign");
            }
        }
        let server = Server::new(vigie_server::ServerDeps {
            alerts: store.clone(),
            audit: store.clone(),
            accounts: store.clone(),
            hub: hub.clone(),
            live: wall.clone(),
            clips,
            search: Some(search),
            config_admin: Some(config_admin),
            notify_status: notifier.as_ref().map(|n| n.status().clone()),
            config: cfg.server.clone(),
        })
        .with_sectors(sectors)
        .with_stats(node_stats)
        .with_holds(archive.clone())
        .with_operations(
            Arc::new(crate::ops::NodeMetrics::new(
                pipeline
                    .cameras
                    .iter()
                    .map(|c| crate::ops::CameraProbe {
                        id: c.id.clone(),
                        health: c.health.clone(),
                        counters: c.counters.clone(),
                    })
                    .collect(),
                pipeline.detector_stats(),
                archive.clone(),
            )),
            vigie_store::DbProbe::new(data, vigie_server::metrics::PROBE_LOCK_TIMEOUT),
        );
        drop(_guard);
        Ok(Node {
            rt,
            server,
            listen: cfg.server.listen.clone(),
            cameras: cfg.cameras.len(),
            model_sha256,
            pipeline,
            retention,
            hub,
            checkpoints,
            stats: stats_writer,
            watcher: Some(watcher),
            _data_lock: data_lock,
        })
    }

    /// Serves the console until `stop` resolves (see [`termination_signal`]), then stops the
    /// cameras (closing their open segments and alerts), the background tasks, and signs a
    /// last audit checkpoint.
    ///
    /// The console goes first and entirely: its open feeds and picture streams end, and no
    /// connection is left (see [`vigie_server::serve::serve`]), so no console shows "live" while
    /// the node stops. The data folder's lock goes last, once everything is written.
    pub fn run(self, stop: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let Node {
            rt,
            server,
            listen,
            cameras,
            model_sha256,
            pipeline,
            retention,
            hub,
            checkpoints,
            stats,
            mut watcher,
            _data_lock,
        } = self;
        let served: anyhow::Result<()> = rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind(&listen)
                .await
                .with_context(|| format!("server.listen: cannot listen on {listen}"))?;
            println!("console on http://{listen} ({cameras} camera(s), model sha256 {model_sha256})");
            server.serve_with_shutdown(listener, stop).await.context("console server")
        });
        let began = std::time::Instant::now();
        tracing::info!("stopping: console closed, stopping the cameras");
        pipeline.shutdown();
        if !stats.sync(Duration::from_secs(10)) {
            tracing::error!("the last minutes of statistics could not be written before stopping");
        }
        if let Some(w) = watcher.take() {
            let _ = w.join();
        }
        retention.stop();
        hub.retry_pending();
        if hub.pending() > 0 {
            tracing::error!(waiting = hub.pending(), "alerts shown live could not be stored before stopping");
        }
        // After the cameras, so that the last checkpoint covers the alerts they closed.
        checkpoints.stop();
        // Tasks still on the runtime (a notification being retried) are dropped; blocking work
        // has its own stop tokens, and is not waited for beyond this.
        rt.shutdown_timeout(Duration::from_secs(2));
        tracing::info!(after_ms = began.elapsed().as_millis() as u64, "stopped");
        drop(_data_lock);
        served
    }
}

/// Ctrl-C in a terminal, SIGTERM from systemd or a container runtime: both stop the node cleanly.
pub async fn termination_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
    }
}

/// A camera's status on the wall besides its health: detector counters and recording.
fn camera_status(
    id: String,
    counters: Arc<vigie_pipeline::CameraCounters>,
    archive: Arc<Archive>,
) -> crate::wall::StatusFn {
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
            "rate_skipped": counters.rate_skipped.load(Relaxed),
            // The analysis rate asked for and achieved lately (window: RATE_WINDOW): under
            // overload every camera falls short by about the same share.
            "detect_fps_target": counters.detect_fps_target(),
            "detect_fps": (counters.detection_rate() * 100.0).round() / 100.0,
            "detector_errors": counters.detector_errors.load(Relaxed),
            "recording": rec.as_ref().map(|r| r.recording),
            "recording_error": rec.and_then(|r| r.last_error),
        })
    })
}

/// Clips the rolling buffer no longer covers, exported from the archive (people blurred unless
/// the request is an audited unmask).
fn archive_export(archive: Arc<Archive>, cfg: &VigieConfig, classes: &ClassMap) -> crate::wall::ArchiveExport {
    let mut wanted = vec![vigie_core::classes::PERSON.to_string()];
    wanted.extend(vigie_core::classes::VEHICLE_CLASSES.iter().map(|c| c.to_string()));
    let people_cfg = vigie_detect::DetectorConfig { classes: wanted, threads: 1, ..cfg.detector.clone() };
    // One people detector per export in progress (the server runs at most
    // `max_concurrent_exports`), kept for the next ones: exports never wait on each other.
    let people: Arc<Mutex<Vec<vigie_detect::Detector>>> = Arc::new(Mutex::new(Vec::new()));
    let split = vigie_imaging::privacy::PrivacyClasses::new(classes);
    Arc::new(move |c: &vigie_server::ClipRequest<'_>| -> Result<Vec<u8>, ClipError> {
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
            let mut boxes = |f: &Frame| -> Result<vigie_footage::Seen, String> {
                let d = det.as_mut().expect("blurred exports have a detector");
                let (people, vehicles) = split.detections(&d.detect(f).map_err(|e| e.to_string())?);
                Ok(vigie_footage::Seen { people, vehicles })
            };
            archive.export_to_memory(&req, if blurred { Some(&mut boxes) } else { None }, c.stop)
        };
        if let Some(d) = det {
            people.lock().push(d);
        }
        // Served from memory: a viewing leaves no copy behind in data/exports.
        let (_, mp4) = res.map_err(|e| match e {
            vigie_footage::ArchiveError::NotFound(m) => ClipError::NotAvailable(m),
            vigie_footage::ArchiveError::Stopped(s) => ClipError::Stopped(s),
            other => ClipError::Failed(other.to_string()),
        })?;
        Ok(mp4)
    })
}

/// `GET /api/search` over the track index. The server audits each search itself.
struct Search {
    index: Arc<dyn TrackStore>,
    tz: jiff::tz::TimeZone,
    clock: Arc<dyn Clock>,
}

impl SearchProvider for Search {
    fn search(&self, actor: &str, p: &SearchParams) -> Result<vigie_search::SearchResult, SearchFailure> {
        match self.index.search_params(p, actor, self.clock.now(), &self.tz, &vigie_core::NoAudit) {
            Ok(r) => Ok(r),
            Err(e) if e.is_client_error() => Err(SearchFailure::BadQuery(e.to_string())),
            Err(e) => Err(SearchFailure::Failed(e.to_string())),
        }
    }

    fn thumbnail(&self, id: &str) -> Option<Vec<u8>> {
        self.index.thumbnail(id.parse().ok()?).ok().flatten()
    }
}

fn rtsp_options(c: &CameraConfig) -> anyhow::Result<RtspOptions> {
    let mut o = RtspOptions { transport: c.rtsp_transport.unwrap_or_default(), ..RtspOptions::default() };
    if let Some(user) = &c.username {
        let password = match &c.password_env {
            Some(var) => std::env::var(var).map_err(|_| anyhow!("cameras.{}.password_env: {var} is not set", c.id))?,
            None => String::new(),
        };
        o.credentials = Some(RtspCredentials { username: user.clone(), password });
    }
    Ok(o)
}

/// One node per data folder: two would write the same segment files and race on the catalogue's
/// migrations. The lock is the kernel's (`flock`, through `File::try_lock`), so it goes with the
/// process however it ends, and a stale lock file never blocks a restart. Only `vigie run` takes
/// it: the maintenance commands (`retention run`, `user`, `audit`...) work beside a running node.
fn lock_data_dir(data: &std::path::Path) -> anyhow::Result<std::fs::File> {
    use std::io::{Read, Seek, Write};
    let path = data.join("vigie.lock");
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    match f.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = f.read_to_string(&mut holder);
            let holder = holder.trim();
            let who = if holder.is_empty() { String::new() } else { format!(" (pid {holder})") };
            anyhow::bail!(
                "data folder {} is in use by another vigie node{who}: one node per data folder; stop it or give this one another --data",
                data.display()
            );
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("cannot lock {}", path.display()));
        }
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
    stop: shutdown::Sender,
    thread: std::thread::JoinHandle<()>,
}

impl Checkpointer {
    fn start(
        store: Arc<dyn vigie_store::AuditTrail>,
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
        let (stop, stopping) = shutdown::channel();
        let thread = std::thread::Builder::new()
            .name("audit-checkpoint".into())
            .spawn(move || {
                publish();
                while stopping.wait_for(interval).is_ok() {
                    publish();
                }
                publish();
            })
            .context("spawn audit checkpoint thread")?;
        Ok(Checkpointer { stop, thread })
    }

    fn stop(self) {
        self.stop.signal();
        let _ = self.thread.join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
