//! Live cameras over RTSP, received with `retina`: RTP interleaved in the RTSP TCP connection,
//! or RTP over UDP for cameras that refuse interleaving (VLC's RTSP server, some encoders).
//!
//! retina is async; [`VideoSource`] is blocking. [`RtspSource::open`] spawns one task on the
//! caller's tokio runtime that connects, then depacketizes frames into a small bounded queue that
//! `next_packet` blocks on. Credentials never leave this module in printable form: the URL's
//! userinfo is moved into retina's credentials before anything is logged, and every name and
//! error uses the URL without it.

use crate::{LinkStats, LinkTransport, SourceError, VideoSource};
use bytes::Bytes;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TrySendError};
use futures::StreamExt;
use parking_lot::Mutex;
use retina::client::{Credentials, PlayOptions, Session, SessionOptions, SetupOptions, Transport};
use retina::codec::{CodecItem, FrameFormat, ParametersRef};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;
use url::Url;
use vigie_core::{Clock, Packet, StreamInfo, VideoCodec};

/// A user name and password for RTSP Digest authentication. `Debug` hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct RtspCredentials {
    pub username: String,
    pub password: String,
}

impl fmt::Debug for RtspCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RtspCredentials").field("username", &self.username).field("password", &"***").finish()
    }
}

/// How RTP reaches Vigie: `rtsp_transport` in a camera's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RtspTransport {
    /// Interleaved in the RTSP connection; when the camera refuses that (461 Unsupported
    /// Transport), UDP. Whichever worked is tried first on the next connections.
    #[default]
    Auto,
    Tcp,
    Udp,
}

/// The transport that worked last for a camera in `auto`, shared by every clone of its
/// [`RtspOptions`] so reconnections go straight to it instead of being refused again first.
/// 0 until a connection succeeds.
#[derive(Debug, Clone, Default)]
pub struct TransportMemory(Arc<AtomicU8>);

impl TransportMemory {
    const TCP: u8 = 1;
    const UDP: u8 = 2;

    pub fn get(&self) -> Option<LinkTransport> {
        match self.0.load(Ordering::Relaxed) {
            Self::TCP => Some(LinkTransport::Tcp),
            Self::UDP => Some(LinkTransport::Udp),
            _ => None,
        }
    }

    /// Set by each successful connection in `auto`; a caller may also seed it with a transport
    /// known to work for the camera.
    pub fn set(&self, t: LinkTransport) {
        let v = match t {
            LinkTransport::Tcp => Self::TCP,
            LinkTransport::Udp => Self::UDP,
        };
        self.0.store(v, Ordering::Relaxed);
    }
}

#[derive(Debug, Clone)]
pub struct RtspOptions {
    /// Name used in errors and health (the camera id); defaults to the URL without credentials.
    pub name: Option<String>,
    /// Takes precedence over credentials written in the URL (`rtsp://user:pass@host/...`).
    pub credentials: Option<RtspCredentials>,
    /// Limit for connecting, DESCRIBE, SETUP and PLAY together.
    pub connect_timeout: Duration,
    /// The connection counts as lost when no video frame arrives for this long.
    pub read_timeout: Duration,
    pub user_agent: String,
    /// Frames held for a slow consumer. When full, frames are dropped up to the next key frame,
    /// so the decoder always gets a decodable stream and the camera connection never stalls.
    pub queue_frames: usize,
    /// Which RTP transport to ask for (`rtsp_transport`).
    pub transport: RtspTransport,
    /// What `auto` learned; clones share it (one per camera, kept across reconnections).
    pub learned: TransportMemory,
}

impl Default for RtspOptions {
    fn default() -> Self {
        Self {
            name: None,
            credentials: None,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(10),
            user_agent: concat!("vigie/", env!("CARGO_PKG_VERSION")).to_string(),
            queue_frames: 64,
            transport: RtspTransport::Auto,
            learned: TransportMemory::default(),
        }
    }
}

/// An RTSP URL split into what may be shown and what must not.
struct CameraUrl {
    /// Without userinfo; what retina is given.
    url: Url,
    /// `rtsp://host:port/path`, with any query elided (some cameras take credentials there).
    display: String,
    host_port: String,
    credentials: Option<RtspCredentials>,
}

/// Best-effort redaction of a string that did not parse as a URL, for the error naming it.
fn redact_unparsed(raw: &str) -> String {
    let (scheme, rest) = match raw.split_once("://") {
        Some((s, r)) => (format!("{s}://"), r),
        None => (String::new(), raw),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let host = authority.rsplit_once('@').map(|(_, h)| h).unwrap_or(authority);
    let tail = tail.split_once('?').map(|(p, _)| format!("{p}?…")).unwrap_or_else(|| tail.to_string());
    format!("{scheme}{host}{tail}")
}

fn decode_userinfo(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

impl CameraUrl {
    fn parse(raw: &str) -> Result<Self, String> {
        let mut url = Url::parse(raw.trim()).map_err(|e| format!("invalid RTSP URL: {e}"))?;
        if url.scheme() != "rtsp" {
            return Err(format!("unsupported URL scheme '{}': expected rtsp://host[:port]/path", url.scheme()));
        }
        let host = match url.host_str() {
            Some(h) if !h.is_empty() => h.to_string(),
            _ => return Err("RTSP URL has no host".into()),
        };
        let host_port = format!("{host}:{}", url.port().unwrap_or(554));
        let credentials = match (url.username(), url.password()) {
            ("", None) => None,
            (user, pass) => Some(RtspCredentials {
                username: decode_userinfo(user),
                password: pass.map(decode_userinfo).unwrap_or_default(),
            }),
        };
        // Cannot fail for an rtsp:// URL with a host; checked anyway so credentials are never kept.
        if url.set_username("").is_err() || url.set_password(None).is_err() {
            return Err("cannot separate the credentials from the RTSP URL".into());
        }
        let query = if url.query().is_some() { "?…" } else { "" };
        let display = format!("rtsp://{host_port}{}{query}", url.path());
        Ok(Self { url, display, host_port, credentials })
    }
}

/// Checks a camera URL as [`RtspSource::open`] does, without connecting: the printable name
/// (credentials and query removed) or why it is refused. For `vigie bench fuzz` and config checks.
pub fn check_camera_url(raw: &str) -> Result<String, String> {
    CameraUrl::parse(raw).map(|u| u.display)
}

/// The first line of a retina error, without the connection/packet context it appends (local
/// ports, byte offsets), which is noise in a health panel.
fn retina_reason(e: &retina::Error) -> String {
    e.to_string().lines().next().unwrap_or_default().trim().to_string()
}

/// Whether a failed SETUP means "not this transport" rather than anything else: 461 Unsupported
/// Transport (RFC 2326 §11.4.1; VLC's answer to interleaving), or a success whose Transport
/// header is for the other kind (encoders that ignore what was asked).
fn refuses_transport(e: &retina::Error) -> bool {
    if e.status_code() == Some(461) {
        return true;
    }
    let reason = retina_reason(e).to_ascii_lowercase();
    reason.contains("unsupported transport")
        || reason.contains("missing interleaved parameter")
        || reason.contains("missing server_port parameter")
}

fn transport_name(t: LinkTransport) -> &'static str {
    match t {
        LinkTransport::Tcp => "RTP over TCP",
        LinkTransport::Udp => "RTP over UDP",
    }
}

fn other(t: LinkTransport) -> LinkTransport {
    match t {
        LinkTransport::Tcp => LinkTransport::Udp,
        LinkTransport::Udp => LinkTransport::Tcp,
    }
}

/// Everything the connection task needs; no borrowed state so it can move into the task.
struct Setup {
    url: Url,
    name: String,
    host_port: String,
    credentials: Option<RtspCredentials>,
    opts: RtspOptions,
}

impl Setup {
    fn open_err(&self, reason: impl Into<String>) -> SourceError {
        SourceError::Open { source_name: self.name.clone(), reason: reason.into() }
    }

    fn classify_open(&self, e: &retina::Error) -> SourceError {
        match e.status_code() {
            Some(401) => self.open_err(if self.credentials.is_some() {
                format!("{}: authentication failed (check credentials)", self.host_port)
            } else {
                format!(
                    "{}: authentication failed (check credentials): the camera requires a login and none was given",
                    self.host_port
                )
            }),
            Some(404) => self.open_err(format!("{}: no such stream (404): check the URL path", self.host_port)),
            Some(code) => {
                self.open_err(format!("{}: camera refused the request ({code}): {}", self.host_port, retina_reason(e)))
            }
            None => self.open_err(format!("{}: {}", self.host_port, retina_reason(e))),
        }
    }

    /// The camera refused every transport it was offered. Not retried: only a configuration
    /// change (or the camera's) can fix it, so the message says which.
    fn refused(&self, tried: &[(LinkTransport, String)]) -> SourceError {
        let what: Vec<String> = tried.iter().map(|(t, why)| format!("{} ({why})", transport_name(*t))).collect();
        let hint = match self.opts.transport {
            RtspTransport::Tcp => "; set rtsp_transport = \"udp\" (or \"auto\") for this camera",
            RtspTransport::Udp => "; set rtsp_transport = \"tcp\" (or \"auto\") for this camera",
            RtspTransport::Auto => "; check the camera's RTSP settings",
        };
        SourceError::Unsupported {
            source_name: self.name.clone(),
            reason: format!("{}: the camera refuses {}{hint}", self.host_port, what.join(" and ")),
        }
    }
}

/// Why the SETUP of one transport failed.
enum Attempt {
    /// The camera does not do this transport (the reason as the camera put it).
    Refused(String),
    Failed(SourceError),
}

/// What the task reports once PLAY succeeded.
struct Opened {
    info: StreamInfo,
    transport: LinkTransport,
}

/// Receiving end shared with the task: a terminal error is parked here rather than queued, so it
/// is delivered after the frames already received and even when the queue is full.
type Fate = Arc<Mutex<Option<SourceError>>>;

/// A live H.264 camera. Key frames carry SPS/PPS; the first packet is always a key frame.
pub struct RtspSource {
    name: String,
    display: String,
    info: StreamInfo,
    rx: Receiver<Packet>,
    fate: Fate,
    task: tokio::task::JoinHandle<()>,
    read_timeout: Duration,
    dropped: Arc<AtomicU64>,
    transport: LinkTransport,
    /// RTP packets lost, as sequence-number gaps seen by retina (which discards packets arriving
    /// out of order over UDP, so those count here too).
    lost: Arc<AtomicU64>,
}

impl fmt::Debug for RtspSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RtspSource").field("name", &self.name).field("url", &self.display).finish_non_exhaustive()
    }
}

impl RtspSource {
    /// Connects and starts playing; returns once the stream's parameters are known.
    ///
    /// `runtime` must be a running multi-threaded runtime with IO and time enabled. This call
    /// blocks, so make it from a plain thread, not from inside an async task.
    pub fn open(
        url: &str,
        opts: RtspOptions,
        runtime: tokio::runtime::Handle,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, SourceError> {
        let parsed = CameraUrl::parse(url).map_err(|reason| SourceError::Open {
            source_name: opts.name.clone().unwrap_or_else(|| redact_unparsed(url)),
            reason,
        })?;
        let name = opts.name.clone().unwrap_or_else(|| parsed.display.clone());
        let setup = Setup {
            url: parsed.url,
            name: name.clone(),
            host_port: parsed.host_port,
            credentials: opts.credentials.clone().or(parsed.credentials),
            opts: opts.clone(),
        };
        let (tx, rx) = crossbeam_channel::bounded(opts.queue_frames.max(1));
        let (open_tx, open_rx) = crossbeam_channel::bounded(1);
        let fate: Fate = Arc::default();
        let dropped = Arc::new(AtomicU64::new(0));
        let lost = Arc::new(AtomicU64::new(0));
        let counters = Counters { dropped: dropped.clone(), lost: lost.clone() };
        let task = runtime.spawn(run(setup, open_tx, tx, fate.clone(), counters, clock));
        // The task enforces connect_timeout itself; this margin only guards against a runtime
        // that is not running the task at all.
        let opened = match open_rx.recv_timeout(opts.connect_timeout + Duration::from_secs(5)) {
            Ok(Ok(o)) => o,
            Ok(Err(e)) => return Err(e),
            Err(_) => {
                task.abort();
                return Err(SourceError::Open {
                    source_name: name,
                    reason: "the tokio runtime did not run the RTSP connection (is it running?)".into(),
                });
            }
        };
        Ok(Self {
            name,
            display: parsed.display,
            info: opened.info,
            rx,
            fate,
            task,
            read_timeout: opts.read_timeout,
            dropped,
            transport: opened.transport,
            lost,
        })
    }

    /// The transport this connection uses (in `auto`, the one the camera accepted).
    pub fn transport(&self) -> LinkTransport {
        self.transport
    }

    /// Frames dropped because the consumer fell behind (each drop skips to the next key frame).
    pub fn dropped_frames(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    fn lost(&self, reason: String) -> SourceError {
        SourceError::Disconnected { source_name: self.name.clone(), reason }
    }
}

impl Drop for RtspSource {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl VideoSource for RtspSource {
    fn info(&self) -> &StreamInfo {
        &self.info
    }

    fn describe(&self) -> String {
        self.display.clone()
    }

    fn link(&self) -> Option<LinkStats> {
        Some(LinkStats { transport: self.transport, packets_lost: self.lost.load(Ordering::Relaxed) })
    }

    fn next_packet(&mut self) -> Result<Option<Packet>, SourceError> {
        // The task times out reads itself; the extra second only covers a task that died silently.
        match self.rx.recv_timeout(self.read_timeout + Duration::from_secs(1)) {
            Ok(p) => Ok(Some(p)),
            Err(RecvTimeoutError::Timeout) => {
                self.task.abort();
                Err(self.lost(format!("no video for {:.1} s", self.read_timeout.as_secs_f64())))
            }
            Err(RecvTimeoutError::Disconnected) => match self.fate.lock().take() {
                Some(e) => Err(e),
                None => Err(self.lost("the connection task stopped".into())),
            },
        }
    }
}

fn stream_info(stream: &retina::client::Stream) -> Option<StreamInfo> {
    let Some(ParametersRef::Video(p)) = stream.parameters() else { return None };
    let (width, height) = p.pixel_dimensions();
    let sdp_fps = stream.framerate().map(f64::from);
    let sps_fps = p.frame_rate().filter(|&(num, den)| num > 0 && den > 0).map(|(num, den)| den as f64 / num as f64);
    let fps = sdp_fps.or(sps_fps).filter(|f| f.is_finite() && *f > 0.0);
    Some(StreamInfo { codec: VideoCodec::H264, width, height, fps, frame_count: None })
}

struct Connected {
    demuxed: retina::client::Demuxed,
    idx: usize,
    info: Option<StreamInfo>,
    transport: LinkTransport,
}

/// Connects with the configured transport; in `auto`, the one that worked last (TCP at first),
/// then the other when the camera refuses it.
async fn connect(s: &Setup) -> Result<Connected, SourceError> {
    let order = match s.opts.transport {
        RtspTransport::Tcp => vec![LinkTransport::Tcp],
        RtspTransport::Udp => vec![LinkTransport::Udp],
        RtspTransport::Auto => {
            let first = s.opts.learned.get().unwrap_or(LinkTransport::Tcp);
            vec![first, other(first)]
        }
    };
    let mut refused = Vec::new();
    for transport in order {
        match connect_with(s, transport).await {
            Ok(c) => {
                if s.opts.transport == RtspTransport::Auto {
                    s.opts.learned.set(transport);
                }
                if !refused.is_empty() {
                    let (refused, used) = (transport_name(other(transport)), transport_name(transport));
                    tracing::info!(camera = %s.name, %transport, "camera refused {refused}; using {used}");
                }
                return Ok(c);
            }
            Err(Attempt::Refused(why)) => refused.push((transport, why)),
            Err(Attempt::Failed(e)) => return Err(e),
        }
    }
    Err(s.refused(&refused))
}

/// One DESCRIBE, SETUP, PLAY with the given transport. A new session each time: retina marks a
/// session with the transport of its first SETUP, even a refused one.
async fn connect_with(s: &Setup, transport: LinkTransport) -> Result<Connected, Attempt> {
    let failed = |e: &retina::Error| Attempt::Failed(s.classify_open(e));
    let creds =
        s.credentials.as_ref().map(|c| Credentials { username: c.username.clone(), password: c.password.clone() });
    let options = SessionOptions::default().creds(creds).user_agent(s.opts.user_agent.clone());
    let mut session = Session::describe(s.url.clone(), options).await.map_err(|e| failed(&e))?;
    let video = session
        .streams()
        .iter()
        .position(|st| st.media() == "video" && st.encoding_name().eq_ignore_ascii_case("h264"));
    let Some(idx) = video else {
        let found: Vec<String> =
            session.streams().iter().map(|st| format!("{}/{}", st.media(), st.encoding_name())).collect();
        let found = if found.is_empty() { "no streams".to_string() } else { found.join(", ") };
        return Err(Attempt::Failed(SourceError::Unsupported {
            source_name: s.name.clone(),
            reason: format!("no H.264 video stream (found: {found}); Vigie decodes H.264 only"),
        }));
    };
    let retina_transport = match transport {
        LinkTransport::Tcp => Transport::Tcp(Default::default()),
        LinkTransport::Udp => Transport::Udp(Default::default()),
    };
    // FrameFormat::SIMPLE has retina emit Annex B with the current SPS/PPS in front of every key
    // frame (and strips in-band copies), which is exactly the Packet contract; converting AVCC
    // here with avcc_to_annexb would duplicate its parameter-set tracking.
    let setup = SetupOptions::default().transport(retina_transport).frame_format(FrameFormat::SIMPLE);
    if let Err(e) = session.setup(idx, setup).await {
        return Err(if refuses_transport(&e) {
            let why = match e.status_code() {
                Some(461) => "461 Unsupported Transport".to_string(),
                Some(code) => format!("{code}: {}", retina_reason(&e)),
                None => retina_reason(&e),
            };
            Attempt::Refused(why)
        } else {
            failed(&e)
        });
    }
    let info = stream_info(&session.streams()[idx]);
    let playing = session.play(PlayOptions::default()).await.map_err(|e| failed(&e))?;
    let demuxed = playing.demuxed().map_err(|e| failed(&e))?;
    Ok(Connected { demuxed, idx, info, transport })
}

/// Counters the task updates and the source reads.
struct Counters {
    dropped: Arc<AtomicU64>,
    lost: Arc<AtomicU64>,
}

async fn run(
    s: Setup,
    open_tx: Sender<Result<Opened, SourceError>>,
    tx: Sender<Packet>,
    fate: Fate,
    counters: Counters,
    clock: Arc<dyn Clock>,
) {
    let Counters { dropped, lost } = counters;
    let deadline = tokio::time::Instant::now() + s.opts.connect_timeout;
    let timed_out = || {
        s.open_err(format!(
            "{}: no RTSP answer within {:.1} s (connect timeout)",
            s.host_port,
            s.opts.connect_timeout.as_secs_f64()
        ))
    };
    let Connected { mut demuxed, idx, info, transport } = match tokio::time::timeout_at(deadline, connect(&s)).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            let _ = open_tx.send(Err(e));
            return;
        }
        Err(_) => {
            let _ = open_tx.send(Err(timed_out()));
            return;
        }
    };
    // Still Some while open() waits: the SDP had no parameter sets, so the first frames bring them.
    let mut open_tx = match info {
        Some(info) => {
            let _ = open_tx.send(Ok(Opened { info, transport }));
            None
        }
        None => Some(open_tx),
    };

    let mut seq = 0u64;
    let mut first_ts: Option<i64> = None;
    let mut skipping_to_key = false;
    let mut leading_skipped = 0u64;
    let end = loop {
        let read = match &open_tx {
            Some(_) => tokio::time::timeout_at(deadline, demuxed.next()).await,
            None => tokio::time::timeout(s.opts.read_timeout, demuxed.next()).await,
        };
        let frame = match read {
            Err(_) if open_tx.is_some() => break timed_out(),
            Err(_) => {
                break SourceError::Disconnected {
                    source_name: s.name.clone(),
                    reason: format!("no video for {:.1} s (read timeout)", s.opts.read_timeout.as_secs_f64()),
                }
            }
            Ok(None) => {
                break SourceError::Disconnected {
                    source_name: s.name.clone(),
                    reason: format!("{}: the camera closed the stream", s.host_port),
                }
            }
            Ok(Some(Err(e))) if open_tx.is_some() => break s.classify_open(&e),
            Ok(Some(Err(e))) => {
                break SourceError::Disconnected {
                    source_name: s.name.clone(),
                    reason: format!("{}: {}", s.host_port, retina_reason(&e)),
                }
            }
            Ok(Some(Ok(CodecItem::VideoFrame(f)))) if f.stream_id() == idx => f,
            Ok(Some(Ok(_))) => continue,
        };
        if frame.has_new_parameters() {
            if let Some(i) = stream_info(&demuxed.streams()[idx]) {
                match open_tx.take() {
                    Some(t) => {
                        let _ = t.send(Ok(Opened { info: i, transport }));
                    }
                    // StreamInfo is fixed at open; the decoder follows the in-band SPS anyway.
                    None => {
                        tracing::info!(camera = %s.name, width = i.width, height = i.height, "stream parameters changed")
                    }
                }
            }
        }
        if frame.loss() > 0 {
            lost.fetch_add(u64::from(frame.loss()), Ordering::Relaxed);
            tracing::debug!(camera = %s.name, lost = frame.loss(), "RTP packets lost before this frame");
        }
        let keyframe = frame.is_random_access_point();
        if seq == 0 {
            // Joining mid-GOP: frames before the first key frame cannot be decoded.
            if !keyframe {
                leading_skipped += 1;
                continue;
            }
            if leading_skipped > 0 {
                tracing::debug!(camera = %s.name, skipped = leading_skipped, "skipped frames before the first key frame");
            }
        }
        // seq counts every frame from the first key frame on, delivered or dropped, so drops
        // show as gaps.
        seq += 1;
        if skipping_to_key && !keyframe {
            dropped.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        skipping_to_key = false;
        let ts = frame.timestamp();
        let first = *first_ts.get_or_insert(ts.elapsed());
        let ticks = (ts.elapsed() - first).max(0) as u128;
        let pts = Duration::from_nanos((ticks * 1_000_000_000 / u128::from(ts.clock_rate().get())) as u64);
        let position = format!("rtp ts {} (frame {seq})", ts.timestamp());
        let packet =
            Packet { seq, pts, received_at: clock.now(), keyframe, data: Bytes::from(frame.into_data()), position };
        match tx.try_send(packet) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                if dropped.fetch_add(1, Ordering::Relaxed) == 0 {
                    tracing::warn!(camera = %s.name, "consumer too slow: dropping frames up to the next key frame");
                }
                skipping_to_key = true;
            }
            Err(TrySendError::Disconnected(_)) => return,
        }
    };
    match open_tx {
        Some(t) => {
            let _ = t.send(Err(end));
        }
        None => *fate.lock() = Some(end),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_credentials_are_split_off_and_decoded() {
        let u = CameraUrl::parse("rtsp://admin:p%40ss%3Aword@10.1.2.3/Streaming/101?channel=1&pwd=zz").unwrap();
        assert_eq!(u.url.as_str(), "rtsp://10.1.2.3/Streaming/101?channel=1&pwd=zz");
        assert_eq!(u.display, "rtsp://10.1.2.3:554/Streaming/101?…");
        assert_eq!(u.host_port, "10.1.2.3:554");
        let c = u.credentials.unwrap();
        assert_eq!((c.username.as_str(), c.password.as_str()), ("admin", "p@ss:word"));
        assert!(!format!("{c:?}").contains("p@ss"), "Debug must hide the password");

        let u = CameraUrl::parse("rtsp://[::1]:8554/cam").unwrap();
        assert_eq!((u.display.as_str(), u.credentials.is_none()), ("rtsp://[::1]:8554/cam", true));
    }

    #[test]
    fn bad_urls_are_named_without_their_password() {
        let clock: Arc<dyn Clock> = Arc::new(vigie_core::SystemClock::default());
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let cases = [
            ("http://cam.example/stream", "unsupported URL scheme 'http'"),
            ("rtsp://admin:hunter22@:99/x", "invalid RTSP URL"),
            ("not a url", "invalid RTSP URL"),
            ("rtsp:/path-only", "no host"),
        ];
        for (url, want) in cases {
            let e = RtspSource::open(url, RtspOptions::default(), rt.handle().clone(), clock.clone()).unwrap_err();
            let msg = e.to_string();
            assert!(matches!(e, SourceError::Open { .. }), "{url}: {e:?}");
            assert!(msg.contains(want), "{url}: {msg}");
            assert!(!msg.contains("hunter22"), "{msg}");
        }
        assert_eq!(redact_unparsed("rtsp://u:secret@:99/a?pw=1"), "rtsp://:99/a?…");
    }
}
