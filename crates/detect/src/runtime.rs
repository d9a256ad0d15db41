//! Finding and loading ONNX Runtime. The library comes from the official PyPI wheel, unpacked by
//! `scripts/setup.sh` into `third_party/onnxruntime/lib`; `ORT_DYLIB_PATH` overrides.

use crate::DetectError;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

static RUNTIME: OnceLock<Result<(PathBuf, ort::environment::Environment), String>> = OnceLock::new();

/// Places looked at, in order: `ORT_DYLIB_PATH`, next to the executable (for an installed copy),
/// then the repository's `third_party` directory as seen at build time.
pub fn candidates() -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Ok(p) = std::env::var("ORT_DYLIB_PATH") {
        if !p.is_empty() {
            v.push(PathBuf::from(p));
            return v;
        }
    }
    if let Ok(exe) = std::env::current_exe() {
        if let Some(dir) = exe.parent() {
            v.push(dir.join("libonnxruntime.so"));
            v.push(dir.join("lib/libonnxruntime.so"));
        }
    }
    v.push(PathBuf::from(env!("VIGIE_ORT_DEFAULT")));
    v
}

/// Loads ONNX Runtime once per process; returns the environment sessions are built in and the
/// library's path.
pub fn init() -> Result<(&'static ort::environment::Environment, &'static Path), DetectError> {
    RUNTIME
        .get_or_init(|| {
            let cands = candidates();
            let Some(path) = cands.iter().find(|p| p.exists()) else {
                return Err(format!(
                    "ONNX Runtime library not found (looked at {}); run scripts/setup.sh or set ORT_DYLIB_PATH",
                    cands.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
                ));
            };
            load(path).map(|env| (path.clone(), env))
        })
        .as_ref()
        .map(|(p, env)| (env, p.as_path()))
        .map_err(|e| DetectError::Runtime(e.clone()))
}

fn load(path: &Path) -> Result<ort::environment::Environment, String> {
    let builder = ort::init_from(path).map_err(|e| format!("cannot load ONNX Runtime from {}: {e}", path.display()))?;
    builder
        .with_name("vigie")
        .with_telemetry(false)
        .build()
        .map_err(|e| format!("cannot start ONNX Runtime from {}: {e}", path.display()))
}
