//! `vigie eval counts`: the product's line counter on real footage against counts made by hand,
//! and the scenario file's mistakes reported by key.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use vigie_eval::counts::{CountReport, Direction, LineResult};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn vigie(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigie")).args(args).current_dir(root()).output().expect("run vigie")
}

/// The row of one line and direction: (expected, counted, PASS/FAIL).
fn row<'a>(stdout: &'a str, line: &str, dir: &str) -> (u32, u32, &'a str) {
    let l = stdout
        .lines()
        .find(|l| l.starts_with(&format!("line {line} {dir} ")))
        .unwrap_or_else(|| panic!("no row for {line} {dir} in:\n{stdout}"));
    let field = |k: &str| -> u32 {
        let v = l.split_whitespace().find_map(|w| w.strip_prefix(&format!("{k}="))).unwrap();
        v.parse().unwrap_or_else(|_| panic!("{k} in {l}"))
    };
    let verdict = if l.contains(" PASS") { "PASS" } else { "FAIL" };
    (field("expected"), field("counted"), verdict)
}

/// Both carriageways of the highway clip, 43 vehicles counted by hand: with the counting
/// settings the counter is within ±5 % or ±1 on each line and direction, nothing counted the
/// wrong way.
#[test]
fn highway_counts_are_within_target_of_the_hand_count() {
    let out = vigie(&[
        "eval",
        "counts",
        "scenarios/counts/highway-carriageways.toml",
        "--config",
        "config/counting.toml",
        "--threads",
        "1",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    for (line, dir, truth) in [
        ("highway-carriageways/outbound", "in", 22),
        ("highway-carriageways/outbound", "out", 0),
        ("highway-carriageways/inbound", "in", 21),
        ("highway-carriageways/inbound", "out", 0),
    ] {
        let (expected, counted, verdict) = row(&stdout, line, dir);
        assert_eq!(expected, truth, "the scenario's hand count");
        assert!(counted.abs_diff(truth) <= 1, "{line} {dir}: counted {counted}, true {truth}\n{stdout}");
        assert_eq!(verdict, "PASS");
    }
    let last = stdout.lines().last().unwrap();
    assert!(last.starts_with("counts lines=4 pass=4 fail=0 expected=43 "), "{last}");
}

/// A failure is one line on stderr naming the file and the key, and a non-zero exit.
fn assert_refused(out: &Output, must_contain: &[&str]) {
    assert!(!out.status.success(), "expected failure, got: {}", String::from_utf8_lossy(&out.stdout));
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one error line expected, got: {err}");
    for m in must_contain {
        assert!(lines[0].contains(m), "{m:?} missing from: {}", lines[0]);
    }
}

#[test]
fn bad_scenario_files_are_refused_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let clip = root().join("assets/video/highway-cctv.mp4");
    let scenario = |zones: &str, expected: &str, extra: &str| {
        format!("clip = \"{}\"\n{extra}\n[camera]\nid = \"highway\"\n{zones}\n{expected}\n", clip.display())
    };
    let line = "[[camera.zones]]\nname = \"out\"\nkind = \"line\"\npoints = [[260, 140], [132, 140]]\n";
    let area = "[[camera.zones]]\nname = \"lanes\"\nkind = \"square\"\npolygon = [[0, 0], [100, 0], [100, 100]]\n";
    let exp =
        |zone: &str, classes: &str| format!("[[expected]]\nzone = \"{zone}\"\nclasses = {classes}\nin = 3\nout = 0\n");
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "typo",
            scenario(line, "[[expected]]\nzone = \"out\"\nclasses = [\"car\"]\ninn = 3\nout = 0\n", ""),
            vec!["typo.toml", "expected[0]", "inn"],
        ),
        (
            "missing",
            scenario(line, "[[expected]]\nzone = \"out\"\nclasses = [\"car\"]\nout = 0\n", ""),
            vec!["missing.toml", "expected[0]", "`in`"],
        ),
        (
            "not-a-line",
            scenario(&format!("{line}{area}"), &exp("lanes", "[\"car\"]"), ""),
            vec!["expected[0].zone", "lanes"],
        ),
        ("class", scenario(line, &exp("out", "[\"car\", \"unicorn\"]"), ""), vec!["expected[0].classes", "unicorn"]),
        ("no-class", scenario(line, &exp("out", "[]"), ""), vec!["expected[0].classes"]),
        (
            "one-point",
            scenario(
                "[[camera.zones]]\nname = \"out\"\nkind = \"line\"\npoints = [[260, 140]]\n",
                &exp("out", "[\"car\"]"),
                "",
            ),
            vec!["zones", "out", "points"],
        ),
        ("window", scenario(line, &exp("out", "[\"car\"]"), "last_frame = 900"), vec!["last_frame", "900", "748"]),
        ("nothing", scenario(line, "", ""), vec!["expected"]),
        ("negative", scenario(line, &exp("out", "[\"car\"]"), "first_frame = -4"), vec!["first_frame"]),
    ];
    for (name, text, must) in cases {
        let file = dir.path().join(format!("{name}.toml"));
        std::fs::write(&file, text).unwrap();
        let out = vigie(&["eval", "counts", file.to_str().unwrap()]);
        assert_refused(&out, &must);
    }
    // No scenario among the paths (a README alone) is an error too, not an empty report.
    let readme = dir.path().join("README.md");
    std::fs::write(&readme, "notes").unwrap();
    assert_refused(&vigie(&["eval", "counts", readme.to_str().unwrap()]), &["no counting scenario"]);
}

#[test]
fn the_target_is_five_percent_or_one_crossing() {
    let l = |expected: u32, counted: u32| LineResult {
        scenario: "s".into(),
        zone: "z".into(),
        classes: vec!["person".into()],
        direction: Direction::In,
        expected,
        counted,
        by_class: vec![("person".into(), counted)],
    };
    assert!(l(0, 1).passes() && !l(0, 2).passes());
    assert!(l(10, 11).passes() && l(10, 9).passes() && !l(10, 12).passes());
    assert!(l(40, 42).passes() && l(40, 38).passes() && !l(40, 43).passes());
    assert_eq!(l(22, 21).relative_error(), Some(-1.0 / 22.0));
    let report = CountReport { lines: vec![l(22, 21), l(10, 13)] };
    assert_eq!(report.failures(), 1);
    let text = report.to_string();
    let rows: Vec<&str> = text.lines().collect();
    assert!(
        rows[0].starts_with("line s/z in expected=22 counted=21 error=-1 rel_error=-4.5% target=±1.10 PASS"),
        "{}",
        rows[0]
    );
    assert!(rows[1].contains("error=+3") && rows[1].contains(" FAIL"), "{}", rows[1]);
    assert_eq!(rows[2], "counts lines=2 pass=1 fail=1 expected=32 counted=34 abs_error=4 max_abs_error=3");
}
