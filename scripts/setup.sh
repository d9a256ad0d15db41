#!/usr/bin/env bash
# One-time (idempotent) set-up of everything Vigie needs beyond the Rust toolchain:
#   - Debian packages: build tools for bundled C code, GStreamer RTSP server (fake cameras in
#     tests and benchmarks), Chromium (console tests), mosquitto (MQTT notification tests),
#     prometheus (only for `promtool check metrics` in the /metrics tests);
#   - ONNX Runtime, unpacked from the official PyPI wheel into third_party/onnxruntime/lib
#     (the binary finds it there; ORT_DYLIB_PATH overrides).
# Re-running it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

ORT_VERSION=1.32.0
ORT_WHEEL=onnxruntime-${ORT_VERSION}-cp311-cp311-manylinux_2_28_x86_64.whl
ORT_WHEEL_SHA256=5a34fc4dfeb5a7b4a74c95dcba1e773d722abda720b474edf1b0c419dc6d163d

APT_PACKAGES=(
  build-essential pkg-config cmake nasm curl ca-certificates python3 python3-pip python3-venv unzip
  gstreamer1.0-tools gstreamer1.0-rtsp gir1.2-gst-rtsp-server-1.0 python3-gi
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  chromium chromium-driver mosquitto nodejs npm
  prometheus
)

log() { echo "[setup] $*" >&2; }

install_packages() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # nodejs/npm may come from elsewhere (nodesource, nvm); only install them if absent.
  if command -v node >/dev/null && command -v npm >/dev/null; then
    local filtered=()
    for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p"); done
    missing=("${filtered[@]}")
  fi
  if ((${#missing[@]})); then
    log "installing Debian packages: ${missing[*]}"
    local SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # Debian ships promtool only with the Prometheus server, whose package starts it: the tests
    # need the tool, not a server on port 9090. A Prometheus installed before is left alone.
    if [[ " ${missing[*]} " == *" prometheus "* ]] && command -v systemctl >/dev/null; then
      $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
    fi
  fi
}

install_onnxruntime() {
  local dest="$ROOT/third_party/onnxruntime/lib"
  if [ -f "$dest/libonnxruntime.so.$ORT_VERSION" ] && [ -L "$dest/libonnxruntime.so" ]; then
    return
  fi
  log "fetching ONNX Runtime $ORT_VERSION (PyPI wheel)"
  local tmp
  tmp=$(mktemp -d)
  # The wheel is the same native library whatever the local Python; pin the tag we verified.
  python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --python-version 3.11 --implementation cp --abi cp311 --platform manylinux_2_28_x86_64 \
    -d "$tmp" "onnxruntime==$ORT_VERSION"
  echo "$ORT_WHEEL_SHA256  $tmp/$ORT_WHEEL" | sha256sum -c --quiet - || { log "wheel checksum mismatch"; exit 1; }
  (cd "$tmp" && python3 -m zipfile -e "$ORT_WHEEL" x >/dev/null)
  mkdir -p "$dest"
  cp "$tmp"/x/onnxruntime/capi/libonnxruntime.so.$ORT_VERSION "$tmp"/x/onnxruntime/capi/libonnxruntime_providers_shared.so "$dest/"
  ln -sf "libonnxruntime.so.$ORT_VERSION" "$dest/libonnxruntime.so"
  cp "$tmp/x/onnxruntime-$ORT_VERSION.dist-info/LICENSE"* "$dest/../LICENSE" 2>/dev/null || true
  rm -rf "$tmp"
  log "ONNX Runtime in $dest"
}

install_packages
install_onnxruntime

# VLC's RTSP server: the second RTSP implementation the rtsp_transport tests run against (it sends
# RTP over UDP only and refuses interleaving, as some encoders do). VLC will not run as root, so
# the tests run it as this unprivileged system user.
VLC_PACKAGES=(vlc-bin vlc-plugin-base)
VLC_USER=vigie-vlc

install_vlc() {
  local missing=() SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  for p in "${VLC_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    log "installing Debian packages: ${missing[*]}"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  if ! id -u "$VLC_USER" >/dev/null 2>&1; then
    log "creating system user $VLC_USER (runs VLC in the RTSP tests)"
    $SUDO useradd --system --no-create-home --shell /usr/sbin/nologin "$VLC_USER"
  fi
}

install_vlc
