//! Scenarios: a clip, a camera's zones and rules, and the events that should come out of it.
//! [`score`] compares what the engine raised with what was expected and prints, per event
//! type, true and false positives, missed events, precision, recall and alert delay, and the
//! false alarms per camera-hour on clips where nothing should fire.
//!
//! `scenarios/<name>/scenario.toml`:
//! ```toml
//! description = "Cyclist on the hard shoulder"
//! clip = "assets/video/highway-cctv.mp4"   # relative to the scenario folder or the repository
//! start = "2024-07-01T12:00:00"            # local time of the first frame (schedules read it)
//! [events]                                 # optional, as in vigie.toml
//! timezone = "Europe/Paris"
//! [camera]
//! id = "highway"
//! [[camera.zones]]
//! name = "hard-shoulder"
//! kind = "forbidden"
//! polygon = [[0.86, 0.2], [0.93, 0.2], [1.0, 1.0], [0.9, 1.0]]
//! [[camera.rules]]
//! id = "shoulder"
//! type = "intrusion"
//! zone = "hard-shoulder"
//! legal_basis = "Code de la route, art. R412-7"
//! [[expected]]                              # none: a negative scenario
//! type = "intrusion"
//! zone = "hard-shoulder"
//! start_s = 4.0
//! end_s = 20.0
//! ```

use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;
use vigie_core::{ClassMap, ConfigErrors, Event, EventPhase, EventType};
use vigie_rules::{validate_camera, Calibration, CameraRules, EventsConfig, RuleConfig, ZoneConfig};

/// An alert may come this early before the annotated start (annotation is to the second).
pub const EARLY_TOLERANCE_S: f64 = 1.0;
/// An alert still counts this long after the annotated end of the window.
pub const LATE_TOLERANCE_S: f64 = 5.0;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioCamera {
    pub id: String,
    #[serde(default)]
    pub zones: Vec<ZoneConfig>,
    #[serde(default)]
    pub rules: Vec<RuleConfig>,
    #[serde(default)]
    pub calibration: Option<Calibration>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub zone: String,
    /// Media time (seconds from the clip's first frame) when the situation starts.
    pub start_s: f64,
    pub end_s: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    #[serde(default)]
    description: String,
    clip: PathBuf,
    #[serde(default)]
    start: Option<String>,
    #[serde(default)]
    events: EventsConfig,
    camera: ScenarioCamera,
    #[serde(default)]
    expected: Vec<Expected>,
}

#[derive(Debug, Clone)]
pub struct Scenario {
    /// Folder name.
    pub name: String,
    pub dir: PathBuf,
    pub description: String,
    /// The clip, resolved to an existing file.
    pub clip: PathBuf,
    pub events: EventsConfig,
    pub camera: ScenarioCamera,
    pub expected: Vec<Expected>,
    /// Wall-clock time of the first frame.
    pub start: SystemTime,
    pub duration_s: f64,
    pub fps: f64,
    pub frame_size: (usize, usize),
}

#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ScenarioError {
    pub path: String,
    pub message: String,
}

fn serr(path: &Path, message: impl Into<String>) -> ScenarioError {
    ScenarioError { path: path.display().to_string(), message: message.into() }
}

/// Finds `rel` next to the scenario or in one of its ancestors (the repository root).
pub(crate) fn resolve(dir: &Path, rel: &Path) -> Option<PathBuf> {
    if rel.is_absolute() {
        return rel.exists().then(|| rel.to_path_buf());
    }
    let mut d = Some(dir);
    while let Some(p) = d {
        let c = p.join(rel);
        if c.exists() {
            return Some(c);
        }
        d = p.parent();
    }
    None
}

impl Scenario {
    pub fn load(dir: impl AsRef<Path>) -> Result<Scenario, ScenarioError> {
        let dir = dir.as_ref();
        let dir =
            &std::fs::canonicalize(dir).map_err(|e| serr(dir, format!("cannot open the scenario folder: {e}")))?;
        let file = dir.join("scenario.toml");
        let text = std::fs::read_to_string(&file).map_err(|e| serr(&file, format!("cannot read: {e}")))?;
        let f: ScenarioFile = toml::from_str(&text).map_err(|e| serr(&file, e.to_string()))?;
        let c = &f.camera;
        validate_camera(&c.id, &c.zones, &c.rules, c.calibration.as_ref(), &f.events)
            .map_err(|e| serr(&file, e.to_string()))?;
        let clip = resolve(dir, &f.clip).ok_or_else(|| {
            serr(&file, format!("clip: {} not found next to the scenario or in the repository", f.clip.display()))
        })?;
        let tz = f.events.time_zone().map_err(|e| serr(&file, e.to_string()))?;
        let start_text = f.start.as_deref().unwrap_or("2024-07-01T12:00:00");
        let start = start_text
            .parse::<jiff::civil::DateTime>()
            .ok()
            .and_then(|dt| dt.to_zoned(tz).ok())
            .map(|z| SystemTime::from(z.timestamp()))
            .ok_or_else(|| {
                serr(&file, format!("start: \"{start_text}\" is not a local date-time like 2024-07-01T12:00:00"))
            })?;
        use vigie_source::VideoSource;
        let src = vigie_source::Mp4FileSource::open(&clip, Default::default())
            .map_err(|e| serr(&file, format!("clip: {e}")))?;
        let info = src.info();
        let fps = info.fps.unwrap_or(25.0);
        let duration_s = info.frame_count.unwrap_or(0) as f64 / fps;
        let frame_size = (info.width as usize, info.height as usize);
        for (i, e) in f.expected.iter().enumerate() {
            let k = format!("expected[{i}]");
            if !c.rules.iter().any(|r| r.event_type() == e.event_type && r.zone == e.zone && r.enabled) {
                return Err(serr(
                    &file,
                    format!("{k}: no enabled {} rule on zone \"{}\" to produce it", e.event_type, e.zone),
                ));
            }
            if !(e.start_s >= 0.0 && e.end_s >= e.start_s && e.start_s <= duration_s + 1.0) {
                return Err(serr(
                    &file,
                    format!("{k}: window {}–{} s is not within the {duration_s:.1} s clip", e.start_s, e.end_s),
                ));
            }
        }
        Ok(Scenario {
            name: dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            dir: dir.to_path_buf(),
            description: f.description,
            clip,
            events: f.events,
            camera: f.camera,
            expected: f.expected,
            start,
            duration_s,
            fps,
            frame_size,
        })
    }

    /// Every scenario under the given paths: a folder with a `scenario.toml` (or that file
    /// itself), or a folder of such folders (sorted by name). Other files are skipped, so
    /// `scenarios/*` may match the set's README.
    pub fn load_all(paths: &[PathBuf]) -> Result<Vec<Scenario>, ScenarioError> {
        let mut out = Vec::new();
        for p in paths {
            if p.is_file() {
                if p.file_name().is_some_and(|n| n == "scenario.toml") {
                    out.push(Scenario::load(p.parent().unwrap_or(Path::new(".")))?);
                }
                continue;
            }
            if p.join("scenario.toml").exists() {
                out.push(Scenario::load(p)?);
                continue;
            }
            let rd = std::fs::read_dir(p).map_err(|e| serr(p, format!("not a scenario folder: {e}")))?;
            let entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
            let mut dirs: Vec<PathBuf> = entries.iter().filter(|d| d.join("scenario.toml").exists()).cloned().collect();
            // A folder of counting scenarios (`*.toml` files, `vigie eval counts`) is not an event
            // scenario: skipped so that `scenarios/*` keeps meaning the event set.
            if dirs.is_empty() && entries.iter().any(|f| f.is_file() && f.extension().is_some_and(|e| e == "toml")) {
                continue;
            }
            if dirs.is_empty() {
                return Err(serr(p, "no scenario.toml here or in its sub-folders"));
            }
            dirs.sort();
            for d in dirs {
                out.push(Scenario::load(&d)?);
            }
        }
        if out.is_empty() {
            let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            return Err(ScenarioError {
                path: names.join(" "),
                message: "no scenario folder among these paths".into(),
            });
        }
        Ok(out)
    }

    pub fn is_negative(&self) -> bool {
        self.expected.is_empty()
    }

    /// Wall-clock time of a media time, for [`CameraRules::process`].
    pub fn wall_clock(&self, media_s: f64) -> SystemTime {
        self.start + std::time::Duration::from_secs_f64(media_s.max(0.0))
    }

    /// The camera's engine for this scenario.
    pub fn engine(&self, model_sha256: &str, classes: &ClassMap) -> Result<CameraRules, ConfigErrors> {
        let c = &self.camera;
        CameraRules::new(
            &c.id,
            &c.zones,
            &c.rules,
            c.calibration.as_ref(),
            &self.events,
            self.frame_size,
            model_sha256,
            classes,
        )
    }

    /// The rule that produces events of this type on this zone.
    pub fn rule_for(&self, t: EventType, zone: &str) -> Option<&RuleConfig> {
        self.camera.rules.iter().find(|r| r.event_type() == t && r.zone == zone && r.enabled)
    }
}

#[derive(Debug, Clone, Default)]
pub struct TypeStats {
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
    /// Alert time minus the start of the expected window, per true positive.
    pub delays_s: Vec<f64>,
    /// The same, minus the rule's own minimum duration.
    pub delays_after_min_s: Vec<f64>,
}

impl TypeStats {
    pub fn precision(&self) -> Option<f64> {
        (self.tp + self.fp > 0).then(|| self.tp as f64 / (self.tp + self.fp) as f64)
    }
    pub fn recall(&self) -> Option<f64> {
        (self.tp + self.fn_ > 0).then(|| self.tp as f64 / (self.tp + self.fn_) as f64)
    }
}

#[derive(Debug, Clone)]
pub struct ScenarioOutcome {
    pub name: String,
    pub negative: bool,
    pub expected: usize,
    pub alerts: usize,
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
    /// Human-readable notes: misses, false alarms, duplicates.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct EventReport {
    pub per_type: BTreeMap<EventType, TypeStats>,
    pub scenarios: Vec<ScenarioOutcome>,
    /// Alerts on negative scenarios and their total duration.
    pub negative_alerts: usize,
    pub negative_hours: f64,
}

pub fn median(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    Some(if n % 2 == 1 { s[n / 2] } else { 0.5 * (s[n / 2 - 1] + s[n / 2]) })
}

/// Scores alerts against expectations. Only `Opened` events are alerts; each is matched to the
/// first unmatched expected event of the same type and zone whose window
/// `[start_s − EARLY_TOLERANCE_S, end_s + LATE_TOLERANCE_S]` contains it. A second alert for an
/// already-matched situation is a false positive (a duplicate); so is any alert on a negative
/// scenario.
pub fn score(results: &[(Scenario, Vec<(f64, Event)>)]) -> EventReport {
    let mut rep = EventReport::default();
    for t in EventType::ALL {
        rep.per_type.insert(t, TypeStats::default());
    }
    for (sc, events) in results {
        let mut alerts: Vec<(f64, &Event)> =
            events.iter().filter(|(_, e)| e.phase == EventPhase::Opened).map(|(t, e)| (*t, e)).collect();
        alerts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut matched = vec![false; sc.expected.len()];
        let mut out = ScenarioOutcome {
            name: sc.name.clone(),
            negative: sc.is_negative(),
            expected: sc.expected.len(),
            alerts: alerts.len(),
            tp: 0,
            fp: 0,
            fn_: 0,
            notes: Vec::new(),
        };
        for (t, e) in &alerts {
            let window = |x: &Expected| {
                x.event_type == e.event_type
                    && x.zone == e.zone
                    && *t >= x.start_s - EARLY_TOLERANCE_S
                    && *t <= x.end_s + LATE_TOLERANCE_S
            };
            let stats = rep.per_type.get_mut(&e.event_type).expect("all types");
            if let Some(i) = (0..sc.expected.len()).find(|&i| !matched[i] && window(&sc.expected[i])) {
                matched[i] = true;
                let x = &sc.expected[i];
                let floor = sc.rule_for(x.event_type, &x.zone).map_or(0.0, |r| r.alert_floor_s());
                stats.tp += 1;
                stats.delays_s.push(t - x.start_s);
                stats.delays_after_min_s.push(t - x.start_s - floor);
                out.tp += 1;
            } else {
                stats.fp += 1;
                out.fp += 1;
                let dup = sc.expected.iter().any(window);
                out.notes.push(format!(
                    "{} {}/{} at {:.1} s",
                    if dup { "duplicate alert" } else { "false alarm" },
                    e.event_type,
                    e.zone,
                    t
                ));
            }
        }
        for (i, x) in sc.expected.iter().enumerate() {
            if !matched[i] {
                rep.per_type.get_mut(&x.event_type).expect("all types").fn_ += 1;
                out.fn_ += 1;
                out.notes.push(format!("missed {}/{} {:.1}–{:.1} s", x.event_type, x.zone, x.start_s, x.end_s));
            }
        }
        if sc.is_negative() {
            rep.negative_alerts += alerts.len();
            rep.negative_hours += sc.duration_s / 3600.0;
        }
        rep.scenarios.push(out);
    }
    rep
}

fn num(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "n/a".to_string(), |x| format!("{x:.decimals$}"))
}

impl EventReport {
    pub fn overall_precision(&self) -> Option<f64> {
        let (tp, fp) = self.per_type.values().fold((0, 0), |a, s| (a.0 + s.tp, a.1 + s.fp));
        (tp + fp > 0).then(|| tp as f64 / (tp + fp) as f64)
    }

    pub fn overall_recall(&self) -> Option<f64> {
        let (tp, fn_) = self.per_type.values().fold((0, 0), |a, s| (a.0 + s.tp, a.1 + s.fn_));
        (tp + fn_ > 0).then(|| tp as f64 / (tp + fn_) as f64)
    }

    pub fn false_alarms_per_camera_hour(&self) -> Option<f64> {
        (self.negative_hours > 0.0).then(|| self.negative_alerts as f64 / self.negative_hours)
    }
}

impl std::fmt::Display for EventReport {
    /// One line per scenario (with notes), the delays after each rule's minimum duration, then
    /// the machine-readable closing lines: one per event type and `overall`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for s in &self.scenarios {
            let mut line = format!(
                "scenario {}: expected={} alerts={} tp={} fp={} fn={}",
                s.name, s.expected, s.alerts, s.tp, s.fp, s.fn_
            );
            if s.negative {
                line.push_str(" (negative)");
            }
            writeln!(f, "{line}")?;
            for n in &s.notes {
                writeln!(f, "  {n}")?;
            }
        }
        let mut after = String::from("delay_after_min_duration_p50_s");
        for (t, s) in &self.per_type {
            let _ = write!(after, " {t}={}", num(median(&s.delays_after_min_s), 2));
        }
        writeln!(f, "{after}")?;
        for (t, s) in &self.per_type {
            writeln!(
                f,
                "{t} tp={} fp={} fn={} precision={} recall={} delay_p50_s={}",
                s.tp,
                s.fp,
                s.fn_,
                num(s.precision(), 3),
                num(s.recall(), 3),
                num(median(&s.delays_s), 2)
            )?;
        }
        writeln!(
            f,
            "overall precision={} recall={} false_alarms_per_camera_hour={}",
            num(self.overall_precision(), 3),
            num(self.overall_recall(), 3),
            num(self.false_alarms_per_camera_hour(), 2)
        )
    }
}
