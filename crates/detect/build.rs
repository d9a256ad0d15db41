// Bakes the location where `scripts/setup.sh` puts ONNX Runtime into the binary, so that
// `cargo build --release` gives a `vigie` that finds it with no environment variable.
fn main() {
    let manifest = std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest.join("../..").canonicalize().unwrap_or_else(|_| manifest.join("../.."));
    let lib = root.join("third_party/onnxruntime/lib/libonnxruntime.so");
    println!("cargo:rustc-env=VIGIE_ORT_DEFAULT={}", lib.display());
    println!("cargo:rerun-if-changed=build.rs");
}
