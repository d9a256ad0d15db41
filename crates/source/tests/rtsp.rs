//! RtspSource and CameraFeed against a real RTSP server: scripts/fake-camera.py (GStreamer's RTSP
//! server) serving the bundled clips. Needs python3-gi and the GStreamer packages named in the
//! script; without them these tests fail with the install command rather than being skipped.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use vigie_core::{Clock, SimClock, SystemClock};
use vigie_decode::H264Decoder;
use vigie_source::{
    Backoff, CameraFeed, CameraState, Health, Mp4FileSource, Mp4Options, RtspCredentials, RtspOptions, RtspSource,
    SourceError, SourceFactory, VideoSource,
};

const INSTALL: &str = "apt-get install python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base \
                       gstreamer1.0-plugins-good gstreamer1.0-plugins-bad";
const PYTHON: &str = "/usr/bin/python3";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn pets() -> String {
    repo().join("assets/video/pets09-s2l1.mp4").display().to_string()
}

/// A running fake-camera.py, killed on drop.
struct FakeCamera {
    child: Child,
    port: u16,
}

impl FakeCamera {
    /// Starts the server on `port` (0: any free port) and waits for its READY line.
    fn start(port: u16, args: &[&str]) -> Self {
        let script = repo().join("scripts/fake-camera.py");
        let mut child = Command::new(PYTHON)
            .arg(&script)
            .args(["--port", &port.to_string()])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {PYTHON} for the fake RTSP camera ({e}); install: {INSTALL}"));
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(line) => {
                    if let Some(p) = line.strip_prefix("READY ") {
                        return Self { port: p.trim().parse().expect("READY <port>"), child };
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    if let Ok(Some(status)) = child.try_wait() {
                        let mut err = String::new();
                        child.stderr.take().unwrap().read_to_string(&mut err).ok();
                        panic!(
                            "fake camera exited with {status} before listening:\n{err}\n\
                             (the RTSP tests need GStreamer's RTSP server; install: {INSTALL})"
                        );
                    }
                    if Instant::now() > deadline {
                        let _ = child.kill();
                        panic!("fake camera did not print READY within 20 s");
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    let status = child.wait().unwrap();
                    let mut err = String::new();
                    child.stderr.take().unwrap().read_to_string(&mut err).ok();
                    panic!("fake camera exited with {status}:\n{err}\n(install: {INSTALL})");
                }
            }
        }
    }

    fn url(&self, path: &str) -> String {
        format!("rtsp://127.0.0.1:{}{path}", self.port)
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for FakeCamera {
    fn drop(&mut self) {
        self.kill();
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap()
}

fn system_clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock::default())
}

fn quick(name: &str) -> RtspOptions {
    RtspOptions {
        name: Some(name.into()),
        connect_timeout: Duration::from_secs(5),
        read_timeout: Duration::from_secs(5),
        ..Default::default()
    }
}

/// NAL units of an Annex-B access unit, minus parameter sets and delimiters, which a server may
/// legitimately resend or add.
fn picture_nals(annexb: &[u8]) -> Vec<Vec<u8>> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= annexb.len() {
        if annexb[i..i + 3] == [0, 0, 1] {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut nals = Vec::new();
    for (k, &s) in starts.iter().enumerate() {
        let mut end = starts.get(k + 1).map(|&n| n - 3).unwrap_or(annexb.len());
        while end > s && annexb[end - 1] == 0 {
            end -= 1;
        }
        let nal = &annexb[s..end];
        if !matches!(nal.first().map(|b| b & 0x1f), Some(7) | Some(8) | Some(9)) {
            nals.push(nal.to_vec());
        }
    }
    nals
}

#[test]
fn receives_the_recorded_h264_over_rtsp_tcp_and_it_decodes() {
    let cam = FakeCamera::start(0, &["--speed", "4", "--mount", &format!("/cam1={}", pets())]);
    let rt = runtime();
    let sim = SimClock::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    let mut src =
        RtspSource::open(&cam.url("/cam1"), quick("cam1"), rt.handle().clone(), Arc::new(sim.clone())).unwrap();
    let info = src.info().clone();
    assert_eq!((info.width, info.height), (768, 576));
    assert_eq!(info.fps, Some(7.0));
    assert_eq!(src.describe(), cam.url("/cam1"));

    let mut file = Mp4FileSource::open(pets(), Mp4Options::default()).unwrap();
    let mut dec = H264Decoder::new("cam1").unwrap();
    let mut last_pts = None;
    for i in 1..=30u64 {
        let p = src.next_packet().unwrap().expect("a live stream does not end");
        assert_eq!(p.seq, i);
        assert_eq!(p.received_at, sim.now(), "received_at comes from the injected clock");
        assert!(p.position.starts_with("rtp ts ") && p.position.ends_with(&format!("(frame {i})")), "{}", p.position);
        if i == 1 {
            assert!(p.keyframe, "the first packet is a key frame");
            assert_eq!(p.pts, Duration::ZERO);
            let types: Vec<u8> = p.data.windows(5).filter(|w| w[..4] == [0, 0, 0, 1]).map(|w| w[4] & 0x1f).collect();
            assert_eq!(&types[..2], &[7, 8], "key frame starts with SPS, PPS: {types:?}");
        }
        if let Some(l) = last_pts {
            assert!(p.pts > l, "pts increases");
        }
        last_pts = Some(p.pts);
        // Served as recorded, not re-encoded: the slices are the file's, byte for byte.
        let f = file.next_packet().unwrap().unwrap();
        assert_eq!(p.keyframe, f.keyframe, "packet {i}");
        assert!(picture_nals(&p.data) == picture_nals(&f.data), "packet {i} differs from sample {i} of the file");
        let frame = dec.decode(&p).unwrap().expect("every packet is a picture");
        assert_eq!((frame.width, frame.height), (768, 576));
    }
    // 29 frame intervals at the clip's 7 fps (the server plays 4× faster, RTP time is the clip's).
    let pts = last_pts.unwrap().as_secs_f64();
    assert!((pts - 29.0 / 7.0 / 4.0).abs() < 0.01, "{pts}");
    assert_eq!(src.dropped_frames(), 0);
}

#[test]
fn digest_authentication_and_credentials_never_shown() {
    let password = "s3cret-Pa55";
    let cam = FakeCamera::start(
        0,
        &["--speed", "4", "--mount", &format!("/cam1={}", pets()), "--user", "admin", "--password", password],
    );
    let rt = runtime();
    let with_userinfo = format!("rtsp://admin:{password}@127.0.0.1:{}/cam1", cam.port);

    // Right credentials in the URL: packets flow; the URL shown has no userinfo.
    let opts = RtspOptions { name: None, ..quick("") };
    let mut src = RtspSource::open(&with_userinfo, opts.clone(), rt.handle().clone(), system_clock()).unwrap();
    assert!(src.next_packet().unwrap().unwrap().keyframe);
    assert_eq!(src.describe(), cam.url("/cam1"));
    assert!(!format!("{src:?}").contains(password));
    drop(src);

    // Right credentials given explicitly.
    let creds = RtspCredentials { username: "admin".into(), password: password.into() };
    let explicit = RtspOptions { credentials: Some(creds), ..opts.clone() };
    assert!(!format!("{explicit:?}").contains(password), "RtspOptions' Debug hides the password");
    let mut src = RtspSource::open(&cam.url("/cam1"), explicit, rt.handle().clone(), system_clock()).unwrap();
    assert!(src.next_packet().unwrap().is_some());
    drop(src);

    // Wrong password, and none at all.
    let wrong = format!("rtsp://admin:not-{password}@127.0.0.1:{}/cam1", cam.port);
    for url in [wrong, cam.url("/cam1")] {
        let e = RtspSource::open(&url, opts.clone(), rt.handle().clone(), system_clock()).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, SourceError::Open { .. }), "{e:?}");
        assert!(msg.contains("authentication failed (check credentials)"), "{msg}");
        assert!(msg.contains(&format!("rtsp://127.0.0.1:{}/cam1", cam.port)), "names the camera: {msg}");
        assert!(!msg.contains(password) && !format!("{e:?}").contains(password), "{msg}");
    }
}

#[test]
fn refused_connection_names_host_and_port() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let rt = runtime();
    let e =
        RtspSource::open(&format!("rtsp://127.0.0.1:{port}/cam"), quick("door"), rt.handle().clone(), system_clock())
            .unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, SourceError::Open { .. }) && e.is_retryable(), "{e:?}");
    assert!(msg.contains(&format!("127.0.0.1:{port}")) && msg.contains("refused"), "{msg}");
    assert!(msg.starts_with("door: cannot open"), "{msg}");
}

#[test]
fn silent_server_times_out_at_connect_timeout() {
    // Accepts TCP (the kernel completes the handshake) but never says a word of RTSP.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let rt = runtime();
    let opts = RtspOptions { connect_timeout: Duration::from_millis(700), ..quick("mute") };
    let started = Instant::now();
    let e = RtspSource::open(&format!("rtsp://127.0.0.1:{port}/cam"), opts, rt.handle().clone(), system_clock())
        .unwrap_err();
    // Hang guard only (a generous bound): without the timeout this would block forever.
    assert!(started.elapsed() < Duration::from_secs(5));
    let msg = e.to_string();
    assert!(matches!(e, SourceError::Open { .. }) && e.is_retryable(), "{e:?}");
    assert!(msg.contains(&format!("127.0.0.1:{port}")) && msg.contains("connect timeout"), "{msg}");
    drop(silent);
}

#[test]
fn non_h264_cameras_are_unsupported_and_not_retried() {
    let cam = FakeCamera::start(0, &["--mjpeg-mount", "/mjpeg", "--h265-mount", "/hevc"]);
    let rt = runtime();
    for (path, codec) in [("/mjpeg", "video/jpeg"), ("/hevc", "video/h265")] {
        let e = RtspSource::open(&cam.url(path), quick(path), rt.handle().clone(), system_clock()).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, SourceError::Unsupported { .. }) && !e.is_retryable(), "{e:?}");
        assert!(msg.contains(codec) && msg.contains("H.264"), "{msg}");
    }
    // Through the runner: the camera is marked failed instead of being retried forever.
    let (url, handle) = (cam.url("/hevc"), rt.handle().clone());
    let factory: SourceFactory = Box::new(move || {
        Ok(Box::new(RtspSource::open(&url, quick("hevc"), handle.clone(), system_clock())?) as Box<dyn VideoSource>)
    });
    let health = Health::new("hevc");
    let mut feed = CameraFeed::new(
        factory,
        Backoff::default(),
        health.clone(),
        system_clock(),
        vigie_core::shutdown::Receiver::never(),
    );
    assert!(matches!(feed.next_packet(), Some(Err(SourceError::Unsupported { .. }))));
    assert!(feed.next_packet().is_none());
    assert_eq!(health.snapshot().state, CameraState::Failed);
}

#[test]
fn camera_feed_reconnects_when_the_camera_comes_back() {
    let mount = format!("/cam1={}", pets());
    let args = ["--speed", "4", "--mount", mount.as_str()];
    let mut cam = FakeCamera::start(0, &args);
    let port = cam.port;
    let rt = runtime();
    let (url, handle) = (cam.url("/cam1"), rt.handle().clone());
    let factory: SourceFactory = Box::new(move || {
        Ok(Box::new(RtspSource::open(&url, quick("plaza"), handle.clone(), system_clock())?) as Box<dyn VideoSource>)
    });
    let health = Health::new("plaza");
    let backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(800));
    let mut feed =
        CameraFeed::new(factory, backoff, health.clone(), system_clock(), vigie_core::shutdown::Receiver::never());

    for _ in 0..10 {
        feed.next_packet().unwrap().unwrap();
    }
    assert_eq!((feed.sessions(), health.snapshot().state), (1, CameraState::Connected));

    cam.kill();
    // Back on the same port a little later, while the feed is retrying.
    let restart = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        let mount = format!("/cam1={}", pets());
        FakeCamera::start(port, &["--speed", "4", "--mount", mount.as_str()])
    });
    let mut after = 0;
    while after < 10 {
        let p = feed.next_packet().expect("the feed keeps going").expect("network errors are retried, not returned");
        if feed.sessions() == 2 {
            if after == 0 {
                assert!(p.keyframe && p.seq == 1, "a new session starts on a key frame");
            }
            after += 1;
        }
    }
    let _cam2 = restart.join().unwrap();
    let snap = health.snapshot();
    assert!(snap.reconnects >= 1, "{snap:?}");
    assert_eq!(snap.state, CameraState::Connected);
    let err = snap.last_error.expect("the outage is recorded");
    assert!(err.starts_with("plaza: ") && (err.contains("refused") || err.contains("closed the stream")), "{err}");
}

#[test]
fn slow_consumer_loses_whole_groups_of_pictures_not_decodability() {
    let cam = FakeCamera::start(0, &["--speed", "4", "--mount", &format!("/cam1={}", pets())]);
    let rt = runtime();
    let opts = RtspOptions { queue_frames: 4, ..quick("cam1") };
    let mut src = RtspSource::open(&cam.url("/cam1"), opts, rt.handle().clone(), system_clock()).unwrap();
    // 28 frames/s arrive while the consumer is away: the 4-frame queue overflows.
    std::thread::sleep(Duration::from_millis(1200));
    let mut dec = H264Decoder::new("cam1").unwrap();
    let mut last_seq = 0;
    for n in 1..=20u64 {
        let p = src.next_packet().unwrap().unwrap();
        assert!(p.seq > last_seq);
        if p.seq != last_seq + 1 {
            assert!(p.keyframe, "after dropped frames the stream resumes on a key frame (seq {})", p.seq);
        }
        last_seq = p.seq;
        assert!(dec.decode(&p).unwrap().is_some(), "packet {} decodes", p.seq);
        if n == 20 {
            assert!(src.dropped_frames() > 0);
            assert_eq!(src.dropped_frames(), p.seq - n, "every dropped frame leaves a gap in seq");
        }
    }
    assert_eq!(dec.skipped, 0);
}
