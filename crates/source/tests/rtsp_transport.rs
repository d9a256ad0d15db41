//! `rtsp_transport` against two RTSP implementations: VLC's RTSP server, which only sends RTP
//! over UDP (it answers 461 Unsupported Transport to interleaving), and GStreamer's
//! (scripts/fake-camera.py), which does both. A missing peer fails the test with what to install.

use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vigie_core::{Clock, SystemClock};
use vigie_decode::H264Decoder;
use vigie_source::{
    Backoff, CameraFeed, CameraState, Health, LinkTransport, RtspOptions, RtspSource, RtspTransport, SourceError,
    SourceFactory, VideoSource,
};

const VLC_INSTALL: &str = "apt-get install vlc-bin vlc-plugin-base (scripts/setup.sh installs them and creates \
                           the vigie-vlc user VLC runs as)";
const VLC_USER: &str = "vigie-vlc";
const GST_INSTALL: &str = "apt-get install python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base \
                           gstreamer1.0-plugins-good gstreamer1.0-plugins-bad";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn clip(name: &str) -> PathBuf {
    repo().join("assets/video").join(name)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap()
}

fn clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock::default())
}

fn opts(name: &str, transport: RtspTransport) -> RtspOptions {
    RtspOptions {
        name: Some(name.into()),
        transport,
        connect_timeout: Duration::from_secs(5),
        read_timeout: Duration::from_secs(5),
        ..Default::default()
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A server process, killed on drop.
struct Peer {
    child: Child,
    port: u16,
    _dir: Option<tempfile::TempDir>,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Peer {
    fn url(&self, path: &str) -> String {
        format!("rtsp://127.0.0.1:{}{path}", self.port)
    }

    fn stderr(&mut self) -> String {
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            e.read_to_string(&mut err).ok();
        }
        err
    }

    /// VLC streaming `clip` in a loop at rtsp://127.0.0.1:PORT/live. VLC refuses to run as root,
    /// so as root it runs as the unprivileged vigie-vlc user, reading a copy of the clip that
    /// user can read wherever the checkout lives.
    fn vlc(clip: &Path) -> Self {
        let cvlc = ["/usr/bin/cvlc", "/bin/cvlc"].into_iter().find(|p| Path::new(p).exists());
        let Some(cvlc) = cvlc else { panic!("VLC is not installed (no cvlc); install: {VLC_INSTALL}") };
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("clip.mp4");
        std::fs::copy(clip, &copy).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o644)).unwrap();
        let port = free_port();
        let sout = format!("#rtp{{sdp=rtsp://127.0.0.1:{port}/live}}");
        let vlc_args = ["-q", "--no-audio", "--loop", copy.to_str().unwrap(), "--sout", sout.as_str()];
        let mut cmd = if is_root() {
            let known = Command::new("id").arg("-u").arg(VLC_USER).output().is_ok_and(|o| o.status.success());
            assert!(known, "user {VLC_USER} is missing (VLC will not run as root); create it: useradd --system {VLC_USER} (scripts/setup.sh does)");
            let mut c = Command::new("runuser");
            c.args(["-u", VLC_USER, "--", cvlc]);
            c
        } else {
            Command::new(cvlc)
        };
        let child = cmd
            .args(vlc_args)
            .env("HOME", dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {cvlc} ({e}); install: {VLC_INSTALL}"));
        let mut peer = Peer { child, port, _dir: Some(dir) };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = peer.child.try_wait() {
                panic!("VLC exited with {status} before listening:\n{}\n(install: {VLC_INSTALL})", peer.stderr());
            }
            assert!(Instant::now() < deadline, "VLC did not listen on port {port} within 10 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        peer
    }

    /// scripts/fake-camera.py (GStreamer's RTSP server) serving `clip` at /cam, 4× real time.
    fn gstreamer(clip: &Path) -> Self {
        let script = repo().join("scripts/fake-camera.py");
        let mount = format!("/cam={}", clip.display());
        let mut child = Command::new("/usr/bin/python3")
            .arg(&script)
            .args(["--port", "0", "--speed", "4", "--mount", &mount])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run /usr/bin/python3 for the fake camera ({e}); install: {GST_INSTALL}")
            });
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut peer = Peer { child, port: 0, _dir: None };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(line) => {
                    if let Some(p) = line.strip_prefix("READY ") {
                        peer.port = p.trim().parse().expect("READY <port>");
                        return peer;
                    }
                }
                Err(_) => {
                    if let Ok(Some(status)) = peer.child.try_wait() {
                        panic!("fake camera exited with {status}:\n{}\n(install: {GST_INSTALL})", peer.stderr());
                    }
                    assert!(Instant::now() < deadline, "fake camera did not print READY within 20 s");
                }
            }
        }
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(2) == Some("0")))
        .unwrap_or(false)
}

/// Opens, retrying while the server is still setting the stream up (VLC listens before its
/// stream can be described, and answers 500 until then).
fn open_when_ready(url: &str, o: &RtspOptions, rt: &tokio::runtime::Runtime) -> Result<RtspSource, SourceError> {
    let deadline = Instant::now() + Duration::from_secs(8);
    loop {
        match RtspSource::open(url, o.clone(), rt.handle().clone(), clock()) {
            Err(SourceError::Open { .. }) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(200))
            }
            r => return r,
        }
    }
}

/// Pulls `n` packets: the first is a key frame, sequence numbers follow, and each decodes to a
/// picture of the expected size.
fn pictures(src: &mut dyn VideoSource, n: u64, size: (usize, usize)) {
    let mut dec = H264Decoder::new("cam").unwrap();
    for i in 1..=n {
        let p = src.next_packet().unwrap().expect("a live stream does not end");
        assert_eq!(p.seq, i);
        if i == 1 {
            assert!(p.keyframe, "the first packet is a key frame");
        }
        let frame = dec.decode(&p).unwrap().expect("every packet is a picture");
        assert_eq!((frame.width, frame.height), size);
    }
}

#[test]
fn vlc_refuses_interleaving_so_auto_receives_over_udp_and_tcp_says_how_to_fix_it() {
    let started = Instant::now();
    let vlc = Peer::vlc(&clip("highway-cctv.mp4"));
    let rt = runtime();
    let url = vlc.url("/live");

    // auto, through the runner: TCP refused, then UDP; pictures arrive and the health says udp.
    let o = opts("highway", RtspTransport::Auto);
    let first = open_when_ready(&url, &o, &rt).unwrap();
    assert_eq!(first.transport(), LinkTransport::Udp);
    assert_eq!(o.learned.get(), Some(LinkTransport::Udp), "auto remembers UDP for the reconnections");
    let mut first = Some(first);
    let (o2, handle) = (o.clone(), rt.handle().clone());
    let factory: SourceFactory = Box::new(move || match first.take() {
        Some(s) => Ok(Box::new(s) as Box<dyn VideoSource>),
        None => Ok(Box::new(RtspSource::open(&url, o2.clone(), handle.clone(), clock())?)),
    });
    let health = Health::new("highway");
    let mut feed =
        CameraFeed::new(factory, Backoff::default(), health.clone(), clock(), vigie_core::shutdown::Receiver::never());
    let mut dec = H264Decoder::new("highway").unwrap();
    for i in 1..=30 {
        let p = feed.next_packet().unwrap().unwrap();
        assert_eq!(p.seq, i);
        let frame = dec.decode(&p).unwrap().expect("every packet is a picture");
        assert_eq!((frame.width, frame.height), (320, 240));
    }
    let snap = health.snapshot();
    assert_eq!((&snap.state, snap.transport), (&CameraState::Connected, Some(LinkTransport::Udp)));
    let lost = snap.packets_lost.expect("the health counts lost packets");
    let json = serde_json::to_value(&snap).unwrap();
    assert_eq!(json["transport"], "udp");
    println!("vlc auto: 30 frames over UDP, {lost} RTP packets lost, {:.1} s", started.elapsed().as_secs_f64());
    drop(feed);

    // tcp insisted on: refused with the camera, the 461 and the setting to change; not retried.
    let url = vlc.url("/live");
    let e = open_when_ready(&url, &opts("highway", RtspTransport::Tcp), &rt).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, SourceError::Unsupported { .. }) && !e.is_retryable(), "{e:?}");
    assert!(msg.starts_with("highway: "), "names the camera: {msg}");
    assert!(msg.contains("461 Unsupported Transport") && msg.contains("RTP over TCP"), "{msg}");
    assert!(msg.contains("set rtsp_transport = \"udp\""), "says how to fix it: {msg}");
    println!("vlc tcp: {msg}");

    // udp insisted on: straight to UDP.
    let mut src = open_when_ready(&url, &opts("highway", RtspTransport::Udp), &rt).unwrap();
    assert_eq!(src.transport(), LinkTransport::Udp);
    pictures(&mut src, 5, (320, 240));
    println!("vlc test: {:.1} s", started.elapsed().as_secs_f64());
}

#[test]
fn gstreamer_serves_udp_when_asked_and_auto_stays_on_tcp() {
    let started = Instant::now();
    let cam = Peer::gstreamer(&clip("pets09-s2l1.mp4"));
    let rt = runtime();
    let url = cam.url("/cam");

    let mut udp = open_when_ready(&url, &opts("plaza", RtspTransport::Udp), &rt).unwrap();
    assert_eq!(udp.transport(), LinkTransport::Udp);
    assert_eq!(udp.info().width, 768);
    pictures(&mut udp, 20, (768, 576));
    let link = udp.link().unwrap();
    assert_eq!(link.transport, LinkTransport::Udp);
    println!("gstreamer udp: 20 frames, {} RTP packets lost", link.packets_lost);
    drop(udp);

    // auto with a camera that does both: interleaved TCP, learned for the reconnections.
    let auto = opts("plaza", RtspTransport::Auto);
    let mut tcp = open_when_ready(&url, &auto, &rt).unwrap();
    assert_eq!(tcp.transport(), LinkTransport::Tcp);
    assert_eq!(auto.learned.get(), Some(LinkTransport::Tcp));
    pictures(&mut tcp, 5, (768, 576));
    drop(tcp);

    // auto tries first what worked last: a camera that once needed UDP stays on it.
    let learned_udp = opts("plaza", RtspTransport::Auto);
    learned_udp.learned.set(LinkTransport::Udp);
    let mut again = open_when_ready(&url, &learned_udp, &rt).unwrap();
    assert_eq!(again.transport(), LinkTransport::Udp);
    pictures(&mut again, 3, (768, 576));
    println!("gstreamer test: {:.1} s", started.elapsed().as_secs_f64());
}
