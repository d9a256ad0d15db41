//! MOTChallenge text files: `frame,id,x,y,w,h,conf[,...]`, one box per line.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use vigie_core::TrackedObject;

/// One line of a MOTChallenge 2D file. `x`, `y` are the top-left corner in pixels, frames are 1-based.
///
/// In ground truth, `conf == 0` marks a box to ignore (MOTChallenge's "zero-marked" rows).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MotRow {
    pub frame: u32,
    pub id: i64,
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    pub conf: f64,
}

impl MotRow {
    /// The row a tracker output file gets for `track` in `frame` (1-based).
    pub fn from_tracked(frame: u32, track: &TrackedObject) -> Self {
        let b = &track.bbox;
        Self {
            frame,
            // Track ids are per-process counters, nowhere near 2^63.
            id: track.track_id as i64,
            x: f64::from(b.x1),
            y: f64::from(b.y1),
            w: f64::from(b.width()),
            h: f64::from(b.height()),
            conf: f64::from(track.score),
        }
    }

    /// The MOTChallenge line for this row (no trailing newline); the 3-D world columns are `-1`.
    pub fn to_mot_line(&self) -> String {
        format!("{},{},{},{},{},{},{},-1,-1,-1", self.frame, self.id, self.x, self.y, self.w, self.h, self.conf)
    }
}

/// Formats rows as a MOTChallenge file, one line each.
pub fn format_mot(rows: &[MotRow]) -> String {
    let mut out = String::new();
    for r in rows {
        let _ = writeln!(out, "{}", r.to_mot_line());
    }
    out
}

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// `source` is the file name (or whatever name the caller gave), `line` is 1-based.
    #[error("{source_name}:{line}: {message}")]
    Parse { source_name: String, line: usize, message: String },
    #[error("no ground truth in directory {}: expected {}/gt/gt.txt or {}/gt.txt", dir.display(), dir.display(), dir.display())]
    NoGroundTruth { dir: PathBuf },
}

/// Reads a MOTChallenge file; errors name the file and line.
pub fn read_mot(path: impl AsRef<Path>) -> Result<Vec<MotRow>, EvalError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|source| EvalError::Io { path: path.to_path_buf(), source })?;
    parse_mot(&text, &path.display().to_string())
}

/// Parses MOTChallenge text. `source_name` is used in error messages (`name:line: what`).
///
/// Accepted: comma-separated fields (or whitespace-separated when a line has no comma), spaces around
/// fields, blank lines, CRLF endings, extra columns after `conf` (ignored), integral floats for frame
/// and id (`3.0`, as some tools write them).
/// Rejected: fewer than 7 columns, non-numeric or non-finite fields, frame < 1, fractional ids,
/// negative width or height, and a second row with the same (frame, id).
/// Width or height 0 is accepted: degenerate boxes occur in real tracker output and, as in TrackEval,
/// have IoU 0 with everything, so they only ever count as misses or false positives.
pub fn parse_mot(text: &str, source_name: &str) -> Result<Vec<MotRow>, EvalError> {
    let mut rows = Vec::new();
    let mut first_line_of: HashMap<(u32, i64), usize> = HashMap::new();
    for (idx, raw) in text.lines().enumerate() {
        let line_no = idx + 1;
        let err = |message: String| EvalError::Parse { source_name: source_name.to_string(), line: line_no, message };
        let line = if idx == 0 { raw.trim_start_matches('\u{feff}') } else { raw }.trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = if line.contains(',') {
            line.split(',').map(str::trim).collect()
        } else {
            line.split_whitespace().collect()
        };
        if fields.len() < 7 {
            return Err(err(format!(
                "expected at least 7 comma-separated columns (frame,id,x,y,w,h,conf), found {}",
                fields.len()
            )));
        }
        const NAMES: [&str; 7] = ["frame", "id", "x", "y", "w", "h", "conf"];
        let mut vals = [0.0f64; 7];
        for (i, name) in NAMES.iter().enumerate() {
            let f = fields[i];
            let v: f64 = f.parse().map_err(|_| err(format!("column {} ({name}): `{f}` is not a number", i + 1)))?;
            if !v.is_finite() {
                return Err(err(format!("column {} ({name}): `{f}` is not a finite number", i + 1)));
            }
            vals[i] = v;
        }
        let [frame, id, x, y, w, h, conf] = vals;
        if frame.fract() != 0.0 || frame < 1.0 || frame > f64::from(u32::MAX) {
            return Err(err(format!("column 1 (frame): `{}` must be an integer >= 1 (frames are 1-based)", fields[0])));
        }
        // Beyond 2^53 an f64 no longer holds every integer, so the id would be silently altered.
        if id.fract() != 0.0 || id.abs() > 9_007_199_254_740_992.0 {
            return Err(err(format!("column 2 (id): `{}` is not an integer", fields[1])));
        }
        if w < 0.0 || h < 0.0 {
            return Err(err(format!(
                "box size {}×{} is negative (columns 5, 6 are width and height)",
                fields[4], fields[5]
            )));
        }
        let row = MotRow { frame: frame as u32, id: id as i64, x, y, w, h, conf };
        if let Some(first) = first_line_of.insert((row.frame, row.id), line_no) {
            return Err(err(format!("duplicate row for frame {}, id {} (first at line {first})", row.frame, row.id)));
        }
        rows.push(row);
    }
    Ok(rows)
}

/// Where the ground truth of a MOTChallenge sequence directory lives: `<dir>/gt/gt.txt`, else
/// `<dir>/gt.txt`. A file path is returned unchanged.
pub fn resolve_gt_path(path: &Path) -> Result<PathBuf, EvalError> {
    if !path.is_dir() {
        return Ok(path.to_path_buf());
    }
    [path.join("gt").join("gt.txt"), path.join("gt.txt")]
        .into_iter()
        .find(|p| p.is_file())
        .ok_or_else(|| EvalError::NoGroundTruth { dir: path.to_path_buf() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_extra_columns_whitespace_and_float_ids() {
        let text = "\u{feff}1, 3 ,10,20,30,40,1,-1,-1,-1\r\n\n2.0,4.0,1.5,2.5,3,4,0.5\n3 5 1 2 3 4 1\n";
        let rows = parse_mot(text, "t.txt").unwrap();
        assert_eq!(
            rows,
            vec![
                MotRow { frame: 1, id: 3, x: 10.0, y: 20.0, w: 30.0, h: 40.0, conf: 1.0 },
                MotRow { frame: 2, id: 4, x: 1.5, y: 2.5, w: 3.0, h: 4.0, conf: 0.5 },
                MotRow { frame: 3, id: 5, x: 1.0, y: 2.0, w: 3.0, h: 4.0, conf: 1.0 },
            ]
        );
    }

    fn parse_err(text: &str) -> String {
        parse_mot(text, "res.txt").unwrap_err().to_string()
    }

    #[test]
    fn errors_name_file_line_and_problem() {
        assert_eq!(
            parse_err("1,1,0,0,1,1,1\n1,2,0,0,1\n"),
            "res.txt:2: expected at least 7 comma-separated columns (frame,id,x,y,w,h,conf), found 5"
        );
        assert_eq!(parse_err("\n\n1,1,abc,0,1,1,1\n"), "res.txt:3: column 3 (x): `abc` is not a number");
        assert_eq!(parse_err("1,1,0,0,1,nan,1\n"), "res.txt:1: column 6 (h): `nan` is not a finite number");
        assert_eq!(
            parse_err("0,1,0,0,1,1,1\n"),
            "res.txt:1: column 1 (frame): `0` must be an integer >= 1 (frames are 1-based)"
        );
        assert_eq!(
            parse_err("-2,1,0,0,1,1,1\n"),
            "res.txt:1: column 1 (frame): `-2` must be an integer >= 1 (frames are 1-based)"
        );
        assert_eq!(
            parse_err("1.5,1,0,0,1,1,1\n"),
            "res.txt:1: column 1 (frame): `1.5` must be an integer >= 1 (frames are 1-based)"
        );
        assert_eq!(parse_err("1,2.5,0,0,1,1,1\n"), "res.txt:1: column 2 (id): `2.5` is not an integer");
        assert_eq!(
            parse_err("1,1,0,0,-1,1,1\n"),
            "res.txt:1: box size -1×1 is negative (columns 5, 6 are width and height)"
        );
        assert_eq!(
            parse_err("1,1,0,0,1,1,1\n2,1,0,0,1,1,1\n1,1,5,5,1,1,1\n"),
            "res.txt:3: duplicate row for frame 1, id 1 (first at line 1)"
        );
    }

    #[test]
    fn zero_size_boxes_and_empty_text_are_accepted() {
        assert_eq!(parse_mot("1,1,0,0,0,0,1\n", "x").unwrap().len(), 1);
        assert!(parse_mot("", "x").unwrap().is_empty());
        assert!(parse_mot("\n  \n", "x").unwrap().is_empty());
    }

    #[test]
    fn missing_file_names_the_path() {
        let msg = read_mot("/nonexistent/dir/gt.txt").unwrap_err().to_string();
        assert!(msg.starts_with("cannot read /nonexistent/dir/gt.txt: "), "{msg}");
    }

    #[test]
    fn mot_line_round_trips() {
        let rows = vec![
            MotRow { frame: 7, id: -2, x: 1.25, y: 2.0, w: 3.5, h: 4.0, conf: 0.75 },
            MotRow { frame: 8, id: 11, x: 0.0, y: 0.0, w: 10.0, h: 20.0, conf: 1.0 },
        ];
        assert_eq!(parse_mot(&format_mot(&rows), "round").unwrap(), rows);
    }

    #[test]
    fn from_tracked_uses_top_left_width_height() {
        let t = TrackedObject {
            track_id: 42,
            bbox: vigie_core::BBox::new(10.0, 20.0, 40.0, 80.0),
            score: 0.5,
            class_id: 0,
            age: 3,
            frames_since_update: 0,
            velocity: (0.0, 0.0),
        };
        assert_eq!(
            MotRow::from_tracked(5, &t),
            MotRow { frame: 5, id: 42, x: 10.0, y: 20.0, w: 30.0, h: 60.0, conf: 0.5 }
        );
    }
}
