use parking_lot::Mutex;
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum CameraState {
    Connecting,
    Connected,
    /// Waiting `retry_in` before attempt number `attempt`.
    Retrying {
        attempt: u32,
        retry_in_ms: u64,
    },
    /// A file source reached its end (not looping).
    Ended,
    /// Given up: the error cannot be fixed by retrying (bad file, unsupported codec).
    Failed,
}

/// How RTP packets reach Vigie from a camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkTransport {
    /// Interleaved in the RTSP TCP connection.
    Tcp,
    Udp,
}

impl std::fmt::Display for LinkTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LinkTransport::Tcp => "tcp",
            LinkTransport::Udp => "udp",
        })
    }
}

/// A network source's transport and what it lost, since it was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkStats {
    pub transport: LinkTransport,
    /// RTP packets missing from the sequence. Over UDP this includes packets that arrived out of
    /// order: the RTSP client has no reordering buffer and discards them.
    pub packets_lost: u64,
}

/// What an operator sees about a camera: is it up, how fast, what went wrong last.
#[derive(Debug, Clone, Serialize)]
pub struct HealthSnapshot {
    pub camera: String,
    #[serde(flatten)]
    pub state: CameraState,
    pub fps: f64,
    pub frames: u64,
    pub decode_errors: u64,
    pub reconnects: u64,
    /// Live cameras: the RTP transport of the current (or last) connection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport: Option<LinkTransport>,
    /// Live cameras: RTP packets lost since the node started, all connections together
    /// (out-of-order UDP packets included, see [`LinkStats::packets_lost`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packets_lost: Option<u64>,
    pub last_error: Option<String>,
    #[serde(rename = "last_error_at_ms", serialize_with = "unix_ms")]
    pub last_error_at: Option<SystemTime>,
    #[serde(rename = "last_frame_at_ms", serialize_with = "unix_ms")]
    pub last_frame_at: Option<SystemTime>,
}

fn unix_ms<S: serde::Serializer>(t: &Option<SystemTime>, s: S) -> Result<S::Ok, S::Error> {
    match t.and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok()) {
        Some(d) => s.serialize_some(&(d.as_millis() as u64)),
        None => s.serialize_none(),
    }
}

/// Shared, cheap-to-clone health record updated by a camera's runner and read by the console.
#[derive(Debug, Clone)]
pub struct Health {
    inner: Arc<Mutex<HealthInner>>,
}

#[derive(Debug)]
struct HealthInner {
    snap: HealthSnapshot,
    window_start: Option<Duration>,
    window_frames: u64,
}

impl Health {
    pub fn new(camera: &str) -> Self {
        Self {
            inner: Arc::new(Mutex::new(HealthInner {
                snap: HealthSnapshot {
                    camera: camera.to_string(),
                    state: CameraState::Connecting,
                    fps: 0.0,
                    frames: 0,
                    decode_errors: 0,
                    reconnects: 0,
                    transport: None,
                    packets_lost: None,
                    last_error: None,
                    last_error_at: None,
                    last_frame_at: None,
                },
                window_start: None,
                window_frames: 0,
            })),
        }
    }

    pub fn set_state(&self, s: CameraState) {
        let mut g = self.inner.lock();
        if matches!(s, CameraState::Retrying { .. }) && g.snap.state == CameraState::Connected {
            g.snap.reconnects += 1;
        }
        g.snap.state = s;
    }

    pub fn error(&self, msg: impl Into<String>, at: SystemTime) {
        let mut g = self.inner.lock();
        g.snap.last_error = Some(msg.into());
        g.snap.last_error_at = Some(at);
    }

    pub fn decode_error(&self, msg: impl Into<String>, at: SystemTime) {
        self.inner.lock().snap.decode_errors += 1;
        self.error(msg, at);
    }

    /// Records a decoded frame; `mono` is the runner clock's monotonic time, used for the fps
    /// estimate over windows of about two seconds.
    pub fn frame(&self, at: SystemTime, mono: Duration) {
        let mut g = self.inner.lock();
        g.snap.frames += 1;
        g.snap.last_frame_at = Some(at);
        if g.snap.state != CameraState::Connected {
            g.snap.state = CameraState::Connected;
        }
        let start = *g.window_start.get_or_insert(mono);
        g.window_frames += 1;
        let span = mono.saturating_sub(start);
        if span >= Duration::from_secs(2) {
            g.snap.fps = (g.window_frames - 1) as f64 / span.as_secs_f64();
            g.window_start = Some(mono);
            g.window_frames = 1;
        }
    }

    /// Records a network source's transport and its packets lost so far, `total_lost` counting
    /// every connection of this camera.
    pub fn link(&self, transport: LinkTransport, total_lost: u64) {
        let mut g = self.inner.lock();
        g.snap.transport = Some(transport);
        g.snap.packets_lost = Some(total_lost);
    }

    pub fn snapshot(&self) -> HealthSnapshot {
        self.inner.lock().snap.clone()
    }
}
