//! Object detection: a YOLOX model (ONNX) run by ONNX Runtime.
//!
//! Pre- and post-processing follow the model's reference exactly (see `assets/MANIFEST.md`):
//! BGR 0–255, top-left letterbox padded with 114, grid decode over strides 8/16/32,
//! score = objectness × class, class-aware NMS. The model path, input size and class map come
//! from [`DetectorConfig`], so another YOLOX export can be dropped in; its SHA-256 is recorded
//! and carried by everything downstream.

pub mod postprocess;
pub mod preprocess;
pub mod runtime;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use vigie_core::{ClassMap, ConfigError, Detection, Frame};

#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error("{0}")]
    Runtime(String),
    #[error("model {path}: {reason}")]
    Model { path: String, reason: String },
    #[error("class list {path}: {reason}")]
    Labels { path: String, reason: String },
    #[error("inference failed: {0}")]
    Inference(String),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectorConfig {
    /// ONNX file of a YOLOX model (`[1,3,H,W]` BGR input, `[1,N,5+C]` output).
    pub model: PathBuf,
    /// Class names, one a line, in model order.
    pub labels: PathBuf,
    /// Minimum score kept (the tracker's low threshold uses everything above it).
    pub score_threshold: f32,
    pub nms_iou: f32,
    /// Only these classes are reported; empty = all.
    pub classes: Vec<String>,
    /// ONNX Runtime intra-op threads per session.
    pub threads: usize,
    /// Output strides of the model's detection heads.
    pub strides: Vec<usize>,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self {
            model: PathBuf::from("assets/models/yolox_nano_416_coco.onnx"),
            labels: PathBuf::from("assets/models/coco80_labels.txt"),
            score_threshold: 0.1,
            nms_iou: 0.45,
            classes: Vec::new(),
            threads: 1,
            strides: vec![8, 16, 32],
        }
    }
}

impl DetectorConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(0.0..1.0).contains(&self.score_threshold) {
            return Err(ConfigError::new("score_threshold", "must be in [0, 1)"));
        }
        if !(self.nms_iou > 0.0 && self.nms_iou <= 1.0) {
            return Err(ConfigError::new("nms_iou", "must be in (0, 1]"));
        }
        if self.threads == 0 || self.threads > 64 {
            return Err(ConfigError::new("threads", "must be between 1 and 64"));
        }
        if self.strides.is_empty() || self.strides.contains(&0) {
            return Err(ConfigError::new("strides", "must be a non-empty list of positive strides"));
        }
        Ok(())
    }

    /// Resolves relative paths against `base` (the directory of the config file).
    pub fn resolve_paths(&mut self, base: &Path) {
        for p in [&mut self.model, &mut self.labels] {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
    }
}

/// Time spent in each step of the last call, for the benchmark.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timings {
    pub pre: Duration,
    pub infer: Duration,
    pub post: Duration,
}

/// Model metadata shared by all sessions of one model.
#[derive(Debug, Clone)]
pub struct ModelInfo {
    pub path: PathBuf,
    pub sha256: String,
    pub input_w: usize,
    pub input_h: usize,
    pub num_classes: usize,
    pub classes: ClassMap,
}

pub struct Detector {
    session: ort::session::Session,
    info: ModelInfo,
    input_name: String,
    cfg: DetectorConfig,
    keep: Vec<bool>,
    grid: Vec<(f32, f32, f32)>,
    letterbox: Option<preprocess::Letterbox>,
    input: Vec<f32>,
    scratch: Vec<Detection>,
    pub last: Timings,
}

/// SHA-256 of a model file, the identity every alert and track carries.
pub fn model_sha256(path: &Path) -> Result<String, DetectError> {
    let bytes = std::fs::read(path).map_err(|e| model_err(path, format!("cannot read: {e}")))?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

fn model_err(path: &Path, reason: impl Into<String>) -> DetectError {
    DetectError::Model { path: path.display().to_string(), reason: reason.into() }
}

fn dims(t: &ort::value::ValueType) -> Option<Vec<i64>> {
    match t {
        ort::value::ValueType::Tensor { ty: ort::value::TensorElementType::Float32, shape, .. } => Some(shape.to_vec()),
        _ => None,
    }
}

impl Detector {
    pub fn new(cfg: &DetectorConfig) -> Result<Self, DetectError> {
        cfg.validate()
            .map_err(|e| DetectError::Model { path: cfg.model.display().to_string(), reason: e.to_string() })?;
        let (env, _) = runtime::init()?;
        let bytes = std::fs::read(&cfg.model).map_err(|e| model_err(&cfg.model, format!("cannot read: {e}")))?;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let labels_text = std::fs::read_to_string(&cfg.labels).map_err(|e| DetectError::Labels {
            path: cfg.labels.display().to_string(),
            reason: format!("cannot read: {e}"),
        })?;
        let classes = ClassMap::parse(&labels_text);
        if classes.is_empty() {
            return Err(DetectError::Labels {
                path: cfg.labels.display().to_string(),
                reason: "no class names".into(),
            });
        }

        let cfg_err = |e: ort::Error<ort::session::builder::SessionBuilder>| {
            model_err(&cfg.model, format!("cannot configure ONNX Runtime: {e}"))
        };
        let mut builder = ort::session::Session::builder(env)
            .map_err(|e| model_err(&cfg.model, format!("cannot configure ONNX Runtime: {e}")))?
            .with_optimization_level(ort::session::builder::GraphOptimizationLevel::All)
            .map_err(cfg_err)?
            .with_intra_threads(cfg.threads)
            .map_err(cfg_err)?
            .with_inter_threads(1)
            .map_err(cfg_err)?
            // Spinning threads burn the cores the decoder and the other sessions need.
            .with_intra_op_spinning(false)
            .map_err(cfg_err)?;
        let session = builder
            .commit_from_memory(&bytes)
            .map_err(|e| model_err(&cfg.model, format!("not a loadable ONNX model: {e}")))?;

        let (input_name, in_dims) = match session.inputs() {
            [i] => (i.name().to_string(), dims(i.dtype())),
            other => return Err(model_err(&cfg.model, format!("expected one input, found {}", other.len()))),
        };
        let in_dims = in_dims.ok_or_else(|| model_err(&cfg.model, "input is not a float32 tensor"))?;
        let [1, 3, h, w] = in_dims[..] else {
            return Err(model_err(&cfg.model, format!("input shape {in_dims:?} is not [1,3,H,W] with fixed H and W")));
        };
        if h <= 0 || w <= 0 {
            return Err(model_err(
                &cfg.model,
                format!("input shape {in_dims:?} has a dynamic size; export with a fixed size"),
            ));
        }
        let (input_w, input_h) = (w as usize, h as usize);
        let grid = postprocess::grid(input_w, input_h, &cfg.strides);
        let out_dims = session
            .outputs()
            .first()
            .and_then(|o| dims(o.dtype()))
            .ok_or_else(|| model_err(&cfg.model, "output is not a float32 tensor"))?;
        let num_classes = match out_dims[..] {
            [1, n, c] if (n == -1 || n as usize == grid.len()) && c > 5 => c as usize - 5,
            _ => {
                return Err(model_err(
                    &cfg.model,
                    format!(
                        "output shape {out_dims:?} is not YOLOX [1,{},5+classes] for a {input_w}x{input_h} input",
                        grid.len()
                    ),
                ))
            }
        };
        if num_classes != classes.len() {
            return Err(DetectError::Labels {
                path: cfg.labels.display().to_string(),
                reason: format!("lists {} classes but the model outputs {num_classes}", classes.len()),
            });
        }
        let mut keep = vec![cfg.classes.is_empty(); num_classes];
        for name in &cfg.classes {
            let id = classes.id(name).ok_or_else(|| DetectError::Labels {
                path: cfg.labels.display().to_string(),
                reason: format!("class {name:?} asked for in detector.classes is not in the list"),
            })?;
            keep[id as usize] = true;
        }
        Ok(Self {
            session,
            info: ModelInfo { path: cfg.model.clone(), sha256, input_w, input_h, num_classes, classes },
            input_name,
            cfg: cfg.clone(),
            keep,
            grid,
            letterbox: None,
            input: vec![0.0; 3 * input_w * input_h],
            scratch: Vec::new(),
            last: Timings::default(),
        })
    }

    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    pub fn model_sha256(&self) -> &str {
        &self.info.sha256
    }

    pub fn classes(&self) -> &ClassMap {
        &self.info.classes
    }

    fn letterbox_for(&mut self, w: usize, h: usize) -> &mut preprocess::Letterbox {
        let stale = self.letterbox.as_ref().is_none_or(|l| (l.src_w, l.src_h) != (w, h));
        if stale {
            self.letterbox = Some(preprocess::Letterbox::new(self.info.input_w, self.info.input_h, w, h));
        }
        self.letterbox.as_mut().unwrap()
    }

    /// Detects objects in a decoded frame.
    pub fn detect(&mut self, frame: &Frame) -> Result<Vec<Detection>, DetectError> {
        let t0 = Instant::now();
        let mut input = std::mem::take(&mut self.input);
        let ratio = {
            let lb = self.letterbox_for(frame.width, frame.height);
            lb.fill_from_frame(frame, &mut input);
            lb.ratio
        };
        self.input = input;
        self.run(ratio, t0)
    }

    /// Detects objects in an interleaved RGB picture (stills, tests).
    pub fn detect_rgb(&mut self, width: usize, height: usize, rgb: &[u8]) -> Result<Vec<Detection>, DetectError> {
        let t0 = Instant::now();
        let mut input = std::mem::take(&mut self.input);
        let ratio = {
            let lb = self.letterbox_for(width, height);
            lb.fill_from_rgb(rgb, &mut input);
            lb.ratio
        };
        self.input = input;
        self.run(ratio, t0)
    }

    fn run(&mut self, ratio: f32, t0: Instant) -> Result<Vec<Detection>, DetectError> {
        let t1 = Instant::now();
        let shape = [1usize, 3, self.info.input_h, self.info.input_w];
        let tensor = ort::value::TensorRef::from_array_view((shape, &self.input[..]))
            .map_err(|e| DetectError::Inference(e.to_string()))?;
        let outputs = self
            .session
            .run(ort::inputs![self.input_name.as_str() => tensor])
            .map_err(|e| DetectError::Inference(e.to_string()))?;
        let (_, data) =
            outputs[0].try_extract_tensor::<f32>().map_err(|e| DetectError::Inference(format!("output: {e}")))?;
        let t2 = Instant::now();
        if data.len() != self.grid.len() * (5 + self.info.num_classes) {
            return Err(DetectError::Inference(format!(
                "output has {} values, expected {}",
                data.len(),
                self.grid.len() * (5 + self.info.num_classes)
            )));
        }
        let keep = &self.keep;
        postprocess::decode(
            data,
            &self.grid,
            self.info.num_classes,
            ratio,
            self.cfg.score_threshold,
            &|c| keep[c as usize],
            &mut self.scratch,
        );
        drop(outputs);
        postprocess::nms_per_class(&mut self.scratch, self.cfg.nms_iou);
        let dets = self.scratch.clone();
        let t3 = Instant::now();
        self.last = Timings { pre: t1 - t0, infer: t2 - t1, post: t3 - t2 };
        Ok(dets)
    }
}
