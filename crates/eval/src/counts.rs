//! Counting scenarios: a real clip, one camera's counting lines, and the crossings per line and
//! direction that a person counted by hand, frame by frame. [`run_scenario`] puts the clip through
//! the live pipeline (decode → motion gate → detector → tracker) and the product's counter
//! (`vigie-stats`, the one the node runs); [`CountReport`] compares, per line and direction, the
//! expected and counted crossings and says whether the error is within the target.
//!
//! `scenarios/counts/<name>.toml`:
//! ```toml
//! description = "Both carriageways of the highway"
//! clip = "assets/video/highway-cctv.mp4"   # relative to the file's folder or the repository
//! first_frame = 1                          # 1-based, inclusive; default: the whole clip
//! last_frame = 735
//! [camera]
//! id = "highway"
//! [[camera.zones]]                         # same keys as cameras.<id>.zones in vigie.toml
//! name = "outbound"
//! kind = "line"
//! points = [[260, 140], [132, 140]]
//! [[expected]]
//! zone = "outbound"
//! classes = ["car", "truck", "bus", "motorcycle"]   # counted together
//! in = 22                                  # left to right looking along the line
//! out = 0
//! ```
//! The hand count's evidence (the frame of each crossing) is written in the file as comments.

use crate::scenario::resolve;
use serde::Deserialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use vigie_core::{ClassMap, UnixMs};
use vigie_pipeline::{ClipOptions, FrameResult};
use vigie_rules::{ZoneConfig, ZoneKind};
use vigie_source::{Mp4FileSource, Mp4Options, VideoSource};
use vigie_stats::{Counter, Totals};

/// The target: a count is right when within this fraction of the true count...
pub const TARGET_RELATIVE: f64 = 0.05;
/// ...or within this many crossings of it, whichever is larger (on a line that ten people
/// cross, 5 % is half a person).
pub const TARGET_ABSOLUTE: f64 = 1.0;

/// Media time 0 of every clip, as capture time for the counter: its minutes do not matter here,
/// only the totals.
const EPOCH_MS: i64 = 1_719_835_200_000;

/// A counting scenario file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountFile {
    #[serde(default)]
    pub description: String,
    pub clip: PathBuf,
    /// First frame counted, 1-based (decode order, as in MOTChallenge files).
    #[serde(default)]
    pub first_frame: Option<u64>,
    /// Last frame counted, inclusive.
    #[serde(default)]
    pub last_frame: Option<u64>,
    pub camera: CountCamera,
    #[serde(default)]
    pub expected: Vec<ExpectedCount>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountCamera {
    pub id: String,
    #[serde(default)]
    pub zones: Vec<ZoneConfig>,
}

/// The true count of one line: crossings per direction of the given classes together.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedCount {
    pub zone: String,
    pub classes: Vec<String>,
    /// From the line's left to its right, looking along it (first point to last).
    #[serde(rename = "in")]
    pub crossings_in: u32,
    #[serde(rename = "out")]
    pub crossings_out: u32,
}

/// A validated counting scenario.
#[derive(Debug, Clone)]
pub struct CountScenario {
    /// File name without `.toml`.
    pub name: String,
    pub file: PathBuf,
    pub description: String,
    pub clip: PathBuf,
    pub camera: CountCamera,
    pub expected: Vec<ExpectedCount>,
    pub first_frame: u64,
    pub last_frame: u64,
    pub frame_count: u64,
    pub fps: f64,
    pub frame_size: (usize, usize),
}

#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct CountScenarioError {
    pub path: String,
    pub message: String,
}

fn cerr(path: &Path, message: impl Into<String>) -> CountScenarioError {
    CountScenarioError { path: path.display().to_string(), message: message.into() }
}

/// The scenario files among `paths`: `*.toml` files as given, and those in given folders
/// (sorted by name). Other files are skipped, so `scenarios/counts/*` may match a README.
pub fn scenario_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CountScenarioError> {
    let is_toml = |p: &Path| p.is_file() && p.extension().is_some_and(|e| e == "toml");
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let rd = std::fs::read_dir(p).map_err(|e| cerr(p, format!("cannot list: {e}")))?;
            let mut files: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|f| is_toml(f)).collect();
            files.sort();
            out.extend(files);
        } else if is_toml(p) {
            out.push(p.clone());
        } else if !p.exists() {
            return Err(cerr(p, "no such file or folder"));
        }
    }
    if out.is_empty() {
        let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(CountScenarioError {
            path: names.join(" "),
            message: "no counting scenario (*.toml) among these paths".into(),
        });
    }
    Ok(out)
}

impl CountScenario {
    /// Checks a parsed file against its clip and the detector's classes. Errors name the key.
    pub fn new(file: &Path, f: CountFile, classes: &ClassMap) -> Result<CountScenario, CountScenarioError> {
        let dir = file.parent().unwrap_or(Path::new("."));
        let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        let clip = resolve(&dir, &f.clip).ok_or_else(|| {
            cerr(file, format!("clip: {} not found next to the scenario or in the repository", f.clip.display()))
        })?;
        let src = Mp4FileSource::open(&clip, Default::default()).map_err(|e| cerr(file, format!("clip: {e}")))?;
        let info = src.info();
        let frame_size = (info.width as usize, info.height as usize);
        let frame_count = info.frame_count.unwrap_or(0);
        // The counter checks the zones as the node does (keys `cameras.<id>.zones.<name>...`).
        let counter =
            Counter::new(&f.camera.id, &f.camera.zones, frame_size, classes).map_err(|e| cerr(file, e.to_string()))?;
        let first = f.first_frame.unwrap_or(1);
        let last = f.last_frame.unwrap_or(frame_count);
        if first < 1 {
            return Err(cerr(file, "first_frame: frames are numbered from 1"));
        }
        if last > frame_count {
            return Err(cerr(file, format!("last_frame: {last} is past the clip's {frame_count} frames")));
        }
        if last < first {
            return Err(cerr(file, format!("last_frame: {last} is before first_frame {first}")));
        }
        if f.expected.is_empty() {
            return Err(cerr(file, "expected: no [[expected]] counts, nothing to measure"));
        }
        let lines: Vec<&str> =
            f.camera.zones.iter().filter(|z| z.kind == ZoneKind::Line).map(|z| z.name.as_str()).collect();
        for (i, e) in f.expected.iter().enumerate() {
            let k = format!("expected[{i}]");
            if !lines.contains(&e.zone.as_str()) {
                return Err(cerr(
                    file,
                    format!("{k}.zone: \"{}\" is not a line of camera.zones (lines: {})", e.zone, lines.join(", ")),
                ));
            }
            if f.expected[..i].iter().any(|o| o.zone == e.zone) {
                return Err(cerr(file, format!("{k}.zone: \"{}\" has expected counts already", e.zone)));
            }
            if e.classes.is_empty() {
                return Err(cerr(file, format!("{k}.classes: empty; name the classes counted on this line")));
            }
            if let Some(c) = e.classes.iter().find(|c| !counter.classes().contains(c)) {
                return Err(cerr(
                    file,
                    format!("{k}.classes: \"{c}\" is not a counted class ({})", counter.classes().join(", ")),
                ));
            }
        }
        Ok(CountScenario {
            name: file.file_stem().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            file: file.to_path_buf(),
            description: f.description,
            clip,
            camera: f.camera,
            expected: f.expected,
            first_frame: first,
            last_frame: last,
            frame_count,
            fps: info.fps.unwrap_or(25.0),
            frame_size,
        })
    }
}

/// Which way a line was crossed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    In,
    Out,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }
}

/// A change of the counter's totals, seen after a frame: a crossing counted (`delta` 1) or taken
/// back (−1, a step back over the line). For the verbose listing that is compared with the hand
/// count's frame numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct CountChange<'a> {
    pub frame: u64,
    pub zone: &'a str,
    pub class: &'a str,
    pub direction: Direction,
    pub delta: i64,
}

/// Runs the clip through the pipeline and the counter, counting the frames of the scenario's
/// window, and returns the counter's totals once every track is settled. `on_change` sees each
/// change of the totals with the frame it happened on.
pub fn run_scenario(
    sc: &CountScenario,
    opts: &ClipOptions,
    classes: &ClassMap,
    mut on_change: impl FnMut(&CountChange<'_>) + Send,
) -> anyhow::Result<Totals> {
    let mut counter = Counter::new(&sc.camera.id, &sc.camera.zones, sc.frame_size, classes)
        .map_err(|e| anyhow::anyhow!("{}: {e}", sc.file.display()))?;
    let source = Mp4FileSource::open(&sc.clip, Mp4Options { name: Some(sc.name.clone()), ..Default::default() })?;
    let mut before = counter.totals();
    vigie_pipeline::analyze(source, opts, |r: FrameResult<'_>| {
        let n = r.frame.seq;
        if n < sc.first_frame || n > sc.last_frame {
            return;
        }
        let t = UnixMs(EPOCH_MS + r.frame.pts.as_millis() as i64);
        counter.observe(t, r.tracks);
        let now = counter.totals();
        report_changes(n, &before, &now, &mut on_change);
        before = now;
    })?;
    counter.flush();
    let now = counter.totals();
    report_changes(sc.last_frame, &before, &now, &mut on_change);
    Ok(now)
}

fn report_changes(frame: u64, before: &Totals, now: &Totals, on_change: &mut impl FnMut(&CountChange<'_>)) {
    for (a, b) in before.counts.iter().zip(&now.counts) {
        for (direction, x, y) in
            [(Direction::In, a.crossings_in, b.crossings_in), (Direction::Out, a.crossings_out, b.crossings_out)]
        {
            if x != y {
                on_change(&CountChange {
                    frame,
                    zone: &b.zone,
                    class: &b.class,
                    direction,
                    delta: y as i64 - x as i64,
                });
            }
        }
    }
}

/// One line and direction: the hand count against the counter's.
#[derive(Debug, Clone, PartialEq)]
pub struct LineResult {
    pub scenario: String,
    pub zone: String,
    pub classes: Vec<String>,
    pub direction: Direction,
    pub expected: u32,
    pub counted: u32,
    /// The counted crossings per class, for a reader looking for why a line missed.
    pub by_class: Vec<(String, u32)>,
}

impl LineResult {
    pub fn error(&self) -> i64 {
        self.counted as i64 - self.expected as i64
    }

    /// The largest error still on target.
    pub fn tolerance(&self) -> f64 {
        (TARGET_RELATIVE * self.expected as f64).max(TARGET_ABSOLUTE)
    }

    pub fn passes(&self) -> bool {
        self.error().unsigned_abs() as f64 <= self.tolerance()
    }

    /// Error relative to the true count; none when nothing should have been counted.
    pub fn relative_error(&self) -> Option<f64> {
        (self.expected > 0).then(|| self.error() as f64 / self.expected as f64)
    }
}

/// The lines of one scenario from the counter's totals.
pub fn compare(sc: &CountScenario, totals: &Totals) -> Vec<LineResult> {
    let mut out = Vec::new();
    for e in &sc.expected {
        for (direction, expected) in [(Direction::In, e.crossings_in), (Direction::Out, e.crossings_out)] {
            let by_class: Vec<(String, u32)> = e
                .classes
                .iter()
                .map(|c| {
                    let n = totals.get(&e.zone, c).map_or(0, |k| match direction {
                        Direction::In => k.crossings_in,
                        Direction::Out => k.crossings_out,
                    });
                    (c.clone(), n)
                })
                .collect();
            out.push(LineResult {
                scenario: sc.name.clone(),
                zone: e.zone.clone(),
                classes: e.classes.clone(),
                direction,
                expected,
                counted: by_class.iter().map(|(_, n)| n).sum(),
                by_class,
            });
        }
    }
    out
}

/// Every line of every scenario; printed as one row per line and direction, then the
/// machine-readable closing line `counts ...`.
#[derive(Debug, Clone, Default)]
pub struct CountReport {
    pub lines: Vec<LineResult>,
}

impl CountReport {
    pub fn failures(&self) -> usize {
        self.lines.iter().filter(|l| !l.passes()).count()
    }

    pub fn max_abs_error(&self) -> u64 {
        self.lines.iter().map(|l| l.error().unsigned_abs()).max().unwrap_or(0)
    }
}

impl std::fmt::Display for CountReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for l in &self.lines {
            let rel = l.relative_error().map_or_else(|| "n/a".to_string(), |r| format!("{:+.1}%", 100.0 * r));
            let mut classes = String::new();
            for (c, n) in l.by_class.iter().filter(|(_, n)| *n > 0) {
                let _ = write!(classes, " {c}={n}");
            }
            writeln!(
                f,
                "line {}/{} {} expected={} counted={} error={:+} rel_error={rel} target=±{} {}{}",
                l.scenario,
                l.zone,
                l.direction.as_str(),
                l.expected,
                l.counted,
                l.error(),
                fmt_tol(l.tolerance()),
                if l.passes() { "PASS" } else { "FAIL" },
                if classes.is_empty() { String::new() } else { format!(" ({})", classes.trim_start()) }
            )?;
        }
        let expected: u64 = self.lines.iter().map(|l| l.expected as u64).sum();
        let counted: u64 = self.lines.iter().map(|l| l.counted as u64).sum();
        let abs: u64 = self.lines.iter().map(|l| l.error().unsigned_abs()).sum();
        writeln!(
            f,
            "counts lines={} pass={} fail={} expected={expected} counted={counted} abs_error={abs} max_abs_error={}",
            self.lines.len(),
            self.lines.len() - self.failures(),
            self.failures(),
            self.max_abs_error()
        )
    }
}

fn fmt_tol(t: f64) -> String {
    if t.fract() == 0.0 {
        format!("{t:.0}")
    } else {
        format!("{t:.2}")
    }
}
