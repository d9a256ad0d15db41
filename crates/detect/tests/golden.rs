//! The Rust detector reproduces onnxruntime + OpenCV's detections of the reference
//! (testdata/annotations/yolox_nano_golden_detections.json): same labels, score within 0.02,
//! every box coordinate within 2 px.

use std::path::{Path, PathBuf};
use vigie_core::Detection;
use vigie_detect::{DetectError, Detector, DetectorConfig};
use vigie_source::{Mp4FileSource, Mp4Options, VideoSource};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn config(threshold: f32) -> DetectorConfig {
    let mut c = DetectorConfig { score_threshold: threshold, ..Default::default() };
    c.resolve_paths(&root());
    c
}

#[derive(Debug)]
struct Golden {
    label: String,
    score: f32,
    xyxy: [f32; 4],
}

fn check(name: &str, det: &Detector, got: &[Detection], want: &[Golden]) {
    let names = det.classes();
    let mut used = vec![false; got.len()];
    for g in want {
        let hit = got.iter().enumerate().position(|(i, d)| {
            !used[i]
                && names.name(d.class_id) == g.label
                && (d.score - g.score).abs() <= 0.02
                && [d.bbox.x1, d.bbox.y1, d.bbox.x2, d.bbox.y2].iter().zip(g.xyxy).all(|(a, b)| (a - b).abs() <= 2.0)
        });
        match hit {
            Some(i) => used[i] = true,
            // A reference detection right at the threshold may fall just under it here.
            None if g.score < 0.32 => {}
            None => panic!(
                "{name}: reference {g:?} not reproduced; got {:?}",
                got.iter().map(|d| (names.name(d.class_id), d.score, d.bbox)).collect::<Vec<_>>()
            ),
        }
    }
    for (d, u) in got.iter().zip(&used) {
        assert!(*u || d.score < 0.32, "{name}: extra detection {} {} {:?}", names.name(d.class_id), d.score, d.bbox);
    }
}

fn load_golden() -> serde_json::Value {
    let text = std::fs::read_to_string(root().join("testdata/annotations/yolox_nano_golden_detections.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn golden_list(v: &serde_json::Value) -> Vec<Golden> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let b: Vec<f32> = d["xyxy"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect();
            Golden {
                label: d["label"].as_str().unwrap().to_string(),
                score: d["score"].as_f64().unwrap() as f32,
                xyxy: [b[0], b[1], b[2], b[3]],
            }
        })
        .collect()
}

#[test]
fn reproduces_golden_detections_on_still_and_video_frames() {
    let golden = load_golden();
    let thr = golden["score_thr"].as_f64().unwrap() as f32;
    let mut det = Detector::new(&config(thr)).expect("detector");
    assert_eq!(det.model_sha256(), "695e750a5d5754bb5a8d5325643b59282191a7e7a564e435a415fd3c578eab14");
    let results = golden["results"].as_object().unwrap();
    let mut checked = 0;

    let dog =
        vigie_imaging::RgbImage::decode_jpeg(&std::fs::read(root().join("testdata/images/dog.jpg")).unwrap()).unwrap();
    let got = det.detect_rgb(dog.width, dog.height, &dog.data).unwrap();
    check("dog.jpg", &det, &got, &golden_list(&results["images/dog.jpg"]));
    checked += 1;

    let wanted: Vec<(u64, Vec<Golden>)> = results
        .iter()
        .filter_map(|(k, v)| {
            let n = k.strip_prefix("video/pets09-s2l1.mp4#frame=")?.parse().ok()?;
            Some((n, golden_list(v)))
        })
        .collect();
    assert!(wanted.len() >= 4);
    let mut src = Mp4FileSource::open(root().join("assets/video/pets09-s2l1.mp4"), Mp4Options::default()).unwrap();
    let mut dec = vigie_decode::H264Decoder::new("pets").unwrap();
    while let Some(p) = src.next_packet().unwrap() {
        let Some(frame) = dec.decode(&p).unwrap() else { continue };
        if let Some((_, want)) = wanted.iter().find(|(n, _)| *n == frame.seq) {
            let got = det.detect(&frame).unwrap();
            check(&format!("pets frame {}", frame.seq), &det, &got, want);
            checked += 1;
        }
    }
    assert_eq!(checked, 1 + wanted.len());
}

#[test]
fn class_filter_keeps_only_requested_classes() {
    let mut cfg = config(0.3);
    cfg.classes = vec!["person".into()];
    let mut det = Detector::new(&cfg).unwrap();
    let dog =
        vigie_imaging::RgbImage::decode_jpeg(&std::fs::read(root().join("testdata/images/dog.jpg")).unwrap()).unwrap();
    assert!(det.detect_rgb(dog.width, dog.height, &dog.data).unwrap().is_empty(), "no person in dog.jpg");
    cfg.classes = vec!["dog".into()];
    let mut det = Detector::new(&cfg).unwrap();
    let got = det.detect_rgb(dog.width, dog.height, &dog.data).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(det.classes().name(got[0].class_id), "dog");
}

#[test]
fn bad_models_and_labels_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let not_onnx = dir.path().join("weights.onnx");
    std::fs::write(&not_onnx, b"definitely not protobuf").unwrap();
    let cfg = DetectorConfig { model: not_onnx.clone(), ..config(0.3) };
    let e = Detector::new(&cfg).err().unwrap();
    assert!(matches!(e, DetectError::Model { .. }), "{e}");
    assert!(e.to_string().contains("weights.onnx") && e.to_string().contains("not a loadable ONNX model"), "{e}");

    let missing = DetectorConfig { model: dir.path().join("nope.onnx"), ..config(0.3) };
    let e = Detector::new(&missing).err().unwrap().to_string();
    assert!(e.contains("nope.onnx") && e.contains("cannot read"), "{e}");

    let labels = dir.path().join("labels.txt");
    std::fs::write(&labels, "person\ncar\n").unwrap();
    let e = Detector::new(&DetectorConfig { labels, ..config(0.3) }).err().unwrap().to_string();
    assert!(e.contains("labels.txt") && e.contains("2 classes") && e.contains("80"), "{e}");

    let e =
        Detector::new(&DetectorConfig { classes: vec!["unicorn".into()], ..config(0.3) }).err().unwrap().to_string();
    assert!(e.contains("unicorn"), "{e}");
}
