//! Keeps one camera's packets coming: opens the source, reopens it with capped exponential
//! backoff when the network fails, and keeps the camera's [`Health`] up to date.

use crate::{Backoff, CameraState, Health, LinkStats, SourceError, VideoSource};
use std::sync::Arc;
use std::time::Duration;
use vigie_core::shutdown;
use vigie_core::{Clock, Packet, StreamInfo};

/// Opens (or reopens) a camera's source.
pub type SourceFactory = Box<dyn FnMut() -> Result<Box<dyn VideoSource>, SourceError> + Send>;

/// Shutdown is checked at least this often while waiting to reconnect. The wait goes through the
/// camera's [`Clock`] (so that simulated time drives backoff in tests), hence slices rather than
/// one blocking wait on the shutdown receiver.
const SLEEP_SLICE: Duration = Duration::from_millis(100);

/// A camera as an endless packet stream: connection failures are retried behind the caller's
/// back and only show in [`Health`].
pub struct CameraFeed {
    factory: SourceFactory,
    source: Option<Box<dyn VideoSource>>,
    backoff: Backoff,
    health: Health,
    clock: Arc<dyn Clock>,
    shutdown: shutdown::Receiver,
    finished: bool,
    /// No packet yet from the current source: the backoff is reset only once one arrives, so a
    /// camera that accepts connections and drops them at once is not hammered.
    fresh: bool,
    sessions: u64,
    /// The current source's link as last put in the health, so the health is only locked when
    /// it changes.
    link: Option<LinkStats>,
    /// Packets lost by the sources before the current one.
    lost_before: u64,
}

impl CameraFeed {
    pub fn new(
        factory: SourceFactory,
        backoff: Backoff,
        health: Health,
        clock: Arc<dyn Clock>,
        shutdown: shutdown::Receiver,
    ) -> Self {
        Self {
            factory,
            source: None,
            backoff,
            health,
            clock,
            shutdown,
            finished: false,
            fresh: true,
            sessions: 0,
            link: None,
            lost_before: 0,
        }
    }

    pub fn health(&self) -> &Health {
        &self.health
    }

    /// Parameters of the currently open source, if any.
    pub fn info(&self) -> Option<&StreamInfo> {
        self.source.as_ref().map(|s| s.info())
    }

    /// Where the current source reads from (never containing credentials).
    pub fn describe(&self) -> Option<String> {
        self.source.as_ref().map(|s| s.describe())
    }

    /// Number of successful opens so far. When it changes between two packets the stream
    /// restarted: sequence numbers and timestamps start over, and the packet is a key frame.
    pub fn sessions(&self) -> u64 {
        self.sessions
    }

    /// The next packet, reconnecting as needed. `None` once the feed is over: stop requested,
    /// a file ended, or a non-retryable error (returned once, just before). `Some(Err)` is also
    /// used for corrupt packets, after which the feed continues.
    pub fn next_packet(&mut self) -> Option<Result<Packet, SourceError>> {
        loop {
            if self.finished || self.shutdown.check().is_err() {
                return None;
            }
            let Some(source) = self.source.as_mut() else {
                match (self.factory)() {
                    Ok(s) => {
                        self.source = Some(s);
                        self.fresh = true;
                        self.sessions += 1;
                        self.lost_before += self.link.take().map_or(0, |l| l.packets_lost);
                        self.note_link();
                        self.health.set_state(CameraState::Connected);
                    }
                    Err(e) => {
                        if let Some(fatal) = self.fail(e) {
                            return Some(Err(fatal));
                        }
                    }
                }
                continue;
            };
            match source.next_packet() {
                Ok(Some(p)) => {
                    if self.fresh {
                        self.fresh = false;
                        self.backoff.reset();
                    }
                    self.note_link();
                    return Some(Ok(p));
                }
                Ok(None) => {
                    self.source = None;
                    self.finished = true;
                    self.health.set_state(CameraState::Ended);
                    return None;
                }
                Err(e @ SourceError::Corrupt { .. }) => {
                    self.health.error(e.to_string(), self.clock.now());
                    return Some(Err(e));
                }
                Err(e) => {
                    self.source = None;
                    if let Some(fatal) = self.fail(e) {
                        return Some(Err(fatal));
                    }
                }
            }
        }
    }

    fn note_link(&mut self) {
        let Some(l) = self.source.as_ref().and_then(|s| s.link()) else { return };
        if self.link != Some(l) {
            self.health.link(l.transport, self.lost_before + l.packets_lost);
            self.link = Some(l);
        }
    }

    /// Records a failure; waits out the backoff when it is worth retrying, otherwise marks the
    /// camera failed and hands the error back.
    fn fail(&mut self, e: SourceError) -> Option<SourceError> {
        self.health.error(e.to_string(), self.clock.now());
        if !e.is_retryable() {
            tracing::error!(error = %e, "camera failed; not retrying");
            self.finished = true;
            self.health.set_state(CameraState::Failed);
            return Some(e);
        }
        let delay = self.backoff.next_delay();
        let attempt = self.backoff.attempts();
        tracing::warn!(error = %e, retry = attempt, in_ms = delay.as_millis() as u64, "camera unavailable; retrying");
        self.health.set_state(CameraState::Retrying { attempt, retry_in_ms: delay.as_millis() as u64 });
        self.sleep(delay);
        if self.shutdown.check().is_ok() {
            self.health.set_state(CameraState::Connecting);
        }
        None
    }

    fn sleep(&self, total: Duration) {
        let mut left = total;
        while !left.is_zero() && self.shutdown.check().is_ok() {
            let step = left.min(SLEEP_SLICE);
            self.clock.sleep(step);
            left -= step;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Mp4FileSource, Mp4Options};
    use bytes::Bytes;
    use parking_lot::Mutex;
    use std::collections::VecDeque;
    use std::time::SystemTime;
    use vigie_core::{SimClock, VideoCodec};

    /// What the scripted camera does on each open.
    enum Open {
        Fail(SourceError),
        /// Yields this many packets, then this error (or the end of the stream).
        Stream(u64, Option<SourceError>),
    }

    struct Scripted {
        info: StreamInfo,
        left: u64,
        seq: u64,
        then: Option<SourceError>,
    }

    impl VideoSource for Scripted {
        fn info(&self) -> &StreamInfo {
            &self.info
        }
        fn next_packet(&mut self) -> Result<Option<Packet>, SourceError> {
            if self.left == 0 {
                return match self.then.take() {
                    Some(e) => Err(e),
                    None => Ok(None),
                };
            }
            self.left -= 1;
            self.seq += 1;
            Ok(Some(Packet {
                seq: self.seq,
                pts: Duration::ZERO,
                received_at: SystemTime::UNIX_EPOCH,
                keyframe: self.seq == 1,
                data: Bytes::from_static(&[0, 0, 0, 1, 0x65]),
                position: format!("packet {}", self.seq),
            }))
        }
        fn describe(&self) -> String {
            "scripted".into()
        }
    }

    fn refused() -> SourceError {
        SourceError::Open { source_name: "cam".into(), reason: "10.0.0.9:554: Connection refused".into() }
    }

    fn dropped() -> SourceError {
        SourceError::Disconnected { source_name: "cam".into(), reason: "the camera closed the stream".into() }
    }

    /// A feed over a script of opens; also returns each open's view of the health state and the
    /// clock time at which it happened.
    #[allow(clippy::type_complexity)]
    fn scripted_feed(
        script: Vec<Open>,
        backoff: Backoff,
    ) -> (CameraFeed, SimClock, Arc<Mutex<Vec<(CameraState, Duration)>>>) {
        let clock = SimClock::new(SystemTime::UNIX_EPOCH);
        let health = Health::new("cam");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut script: VecDeque<Open> = script.into();
        let (h, c, s) = (health.clone(), clock.clone(), seen.clone());
        let factory: SourceFactory = Box::new(move || {
            s.lock().push((h.snapshot().state, c.monotonic()));
            match script.pop_front().expect("feed opened more often than scripted") {
                Open::Fail(e) => Err(e),
                Open::Stream(n, then) => Ok(Box::new(Scripted {
                    info: StreamInfo { codec: VideoCodec::H264, width: 64, height: 48, fps: None, frame_count: None },
                    left: n,
                    seq: 0,
                    then,
                }) as Box<dyn VideoSource>),
            }
        });
        let feed = CameraFeed::new(factory, backoff, health, Arc::new(clock.clone()), shutdown::Receiver::never());
        (feed, clock, seen)
    }

    #[test]
    fn retries_with_capped_exponential_backoff_then_connects() {
        let script = vec![
            Open::Fail(refused()),
            Open::Fail(refused()),
            Open::Fail(refused()),
            Open::Fail(refused()),
            Open::Stream(3, None),
        ];
        let (mut feed, clock, seen) =
            scripted_feed(script, Backoff::new(Duration::from_millis(500), Duration::from_secs(2)));
        let p = feed.next_packet().unwrap().unwrap();
        assert_eq!(p.seq, 1);
        let seen = seen.lock().clone();
        let ms = |s: u64| Duration::from_millis(s);
        // Before each retry the health showed the retry number and the delay just waited.
        let states: Vec<_> = seen.iter().map(|(s, _)| s.clone()).collect();
        assert_eq!(
            states,
            vec![
                CameraState::Connecting,
                CameraState::Connecting,
                CameraState::Connecting,
                CameraState::Connecting,
                CameraState::Connecting,
            ]
        );
        let times: Vec<_> = seen.iter().map(|(_, t)| *t).collect();
        assert_eq!(times, vec![ms(0), ms(500), ms(1500), ms(3500), ms(5500)], "500, 1000, 2000, then capped at 2000");
        assert_eq!(clock.monotonic(), ms(5500), "waited on the injected clock only");
        let snap = feed.health().snapshot();
        assert_eq!(snap.state, CameraState::Connected);
        assert!(snap.last_error.unwrap().contains("Connection refused"));
        assert_eq!(snap.reconnects, 0, "never connected before, so not a reconnect");
        assert_eq!(feed.sessions(), 1);
        assert_eq!(feed.describe().as_deref(), Some("scripted"));
    }

    #[test]
    fn health_shows_the_retry_being_waited_for() {
        // A clock that records the health state whenever the feed sleeps on it.
        #[derive(Debug)]
        struct Watching {
            inner: SimClock,
            health: Health,
            log: Mutex<Vec<CameraState>>,
        }
        impl Clock for Watching {
            fn now(&self) -> SystemTime {
                self.inner.now()
            }
            fn monotonic(&self) -> Duration {
                self.inner.monotonic()
            }
            fn sleep(&self, d: Duration) {
                self.log.lock().push(self.health.snapshot().state);
                self.inner.sleep(d)
            }
        }
        let health = Health::new("cam");
        let clock = Arc::new(Watching {
            inner: SimClock::new(SystemTime::UNIX_EPOCH),
            health: health.clone(),
            log: Mutex::default(),
        });
        let mut fails = 2;
        let factory: SourceFactory = Box::new(move || {
            if fails > 0 {
                fails -= 1;
                return Err(refused());
            }
            Ok(Box::new(Scripted {
                info: StreamInfo { codec: VideoCodec::H264, width: 8, height: 8, fps: None, frame_count: None },
                left: 1,
                seq: 0,
                then: None,
            }))
        });
        let backoff = Backoff::new(Duration::from_millis(150), Duration::from_secs(10));
        let mut feed = CameraFeed::new(factory, backoff, health, clock.clone(), shutdown::Receiver::never());
        assert!(feed.next_packet().unwrap().is_ok());
        let log = clock.log.lock().clone();
        let r = |attempt, retry_in_ms| CameraState::Retrying { attempt, retry_in_ms };
        // Slept in slices of at most 100 ms: 150 ms = 100 + 50, 300 ms = 3 × 100.
        assert_eq!(log, vec![r(1, 150), r(1, 150), r(2, 300), r(2, 300), r(2, 300)]);
        assert_eq!(clock.monotonic(), Duration::from_millis(450));
    }

    #[test]
    fn reconnects_after_a_drop_and_resets_the_backoff_once_packets_flow() {
        let script = vec![
            Open::Stream(2, Some(dropped())),
            Open::Fail(refused()),
            Open::Stream(2, Some(dropped())),
            Open::Stream(1, None),
        ];
        let (mut feed, clock, seen) =
            scripted_feed(script, Backoff::new(Duration::from_millis(200), Duration::from_secs(5)));
        let mut seqs = Vec::new();
        while let Some(r) = feed.next_packet() {
            seqs.push(r.unwrap().seq);
        }
        assert_eq!(seqs, vec![1, 2, 1, 2, 1]);
        let times: Vec<_> = seen.lock().iter().map(|(_, t)| t.as_millis()).collect();
        // drop -> 200; refused -> 400; drop after packets flowed again -> back to 200.
        assert_eq!(times, vec![0, 200, 600, 800]);
        assert_eq!(clock.monotonic(), Duration::from_millis(800));
        let snap = feed.health().snapshot();
        assert_eq!(snap.reconnects, 2);
        assert_eq!(snap.state, CameraState::Ended);
        assert_eq!(feed.sessions(), 3);
        assert!(feed.next_packet().is_none(), "an ended feed stays ended");
    }

    #[test]
    fn health_shows_the_link_and_packets_lost_over_every_connection() {
        /// Loses two RTP packets before each of its packets, then drops after `left`.
        struct Lossy {
            info: StreamInfo,
            transport: crate::LinkTransport,
            left: u64,
            sent: u64,
        }
        impl VideoSource for Lossy {
            fn info(&self) -> &StreamInfo {
                &self.info
            }
            fn next_packet(&mut self) -> Result<Option<Packet>, SourceError> {
                if self.left == 0 {
                    return Err(dropped());
                }
                self.left -= 1;
                self.sent += 1;
                Ok(Some(Packet {
                    seq: self.sent,
                    pts: Duration::ZERO,
                    received_at: SystemTime::UNIX_EPOCH,
                    keyframe: self.sent == 1,
                    data: Bytes::from_static(&[0, 0, 0, 1, 0x65]),
                    position: String::new(),
                }))
            }
            fn describe(&self) -> String {
                "lossy".into()
            }
            fn link(&self) -> Option<LinkStats> {
                Some(LinkStats { transport: self.transport, packets_lost: 2 * self.sent })
            }
        }
        use crate::LinkTransport::{Tcp, Udp};
        let mut opens = vec![(Udp, 1), (Tcp, 3)];
        let factory: SourceFactory = Box::new(move || {
            let (transport, left) = opens.pop().expect("opened more often than scripted");
            Ok(Box::new(Lossy {
                info: StreamInfo { codec: VideoCodec::H264, width: 8, height: 8, fps: None, frame_count: None },
                transport,
                left,
                sent: 0,
            }))
        });
        let health = Health::new("cam");
        let clock = Arc::new(SimClock::new(SystemTime::UNIX_EPOCH));
        let backoff = Backoff::new(Duration::from_millis(10), Duration::from_millis(10));
        let mut feed = CameraFeed::new(factory, backoff, health.clone(), clock, shutdown::Receiver::never());
        for n in 1..=3 {
            feed.next_packet().unwrap().unwrap();
            let snap = health.snapshot();
            assert_eq!((snap.transport, snap.packets_lost), (Some(Tcp), Some(2 * n)));
        }
        feed.next_packet().unwrap().unwrap();
        let snap = health.snapshot();
        assert_eq!(snap.transport, Some(Udp), "the health follows the new connection's transport");
        assert_eq!(snap.packets_lost, Some(6 + 2), "losses add up across connections");
        let json = serde_json::to_value(&snap).unwrap();
        assert_eq!((json["transport"].as_str(), json["packets_lost"].as_u64()), (Some("udp"), Some(8)));
        let file = serde_json::to_value(Health::new("file").snapshot()).unwrap();
        assert!(file.get("transport").is_none() && file.get("packets_lost").is_none(), "{file}");
    }

    #[test]
    fn gives_up_on_errors_that_retrying_cannot_fix() {
        let unsupported = SourceError::Unsupported {
            source_name: "cam".into(),
            reason: "no H.264 video stream (found: video/h265)".into(),
        };
        let (mut feed, clock, seen) =
            scripted_feed(vec![Open::Fail(refused()), Open::Fail(unsupported)], Backoff::default());
        let e = feed.next_packet().unwrap().unwrap_err();
        assert!(matches!(e, SourceError::Unsupported { .. }), "{e:?}");
        assert!(feed.next_packet().is_none());
        assert_eq!(seen.lock().len(), 2, "no open after the fatal error");
        assert_eq!(clock.monotonic(), Duration::from_millis(500));
        let snap = feed.health().snapshot();
        assert_eq!(snap.state, CameraState::Failed);
        assert!(snap.last_error.unwrap().contains("video/h265"));
    }

    #[test]
    fn corrupt_packets_pass_through_without_reconnecting() {
        let corrupt =
            SourceError::Corrupt { source_name: "cam".into(), position: "sample 3".into(), reason: "bad NAL".into() };
        let (mut feed, _clock, seen) = scripted_feed(vec![Open::Stream(2, Some(corrupt))], Backoff::default());
        assert!(feed.next_packet().unwrap().is_ok());
        assert!(feed.next_packet().unwrap().is_ok());
        assert!(matches!(feed.next_packet(), Some(Err(SourceError::Corrupt { .. }))));
        assert!(feed.next_packet().is_none(), "the scripted source ends after the corrupt packet");
        assert_eq!(seen.lock().len(), 1);
        assert_eq!(feed.health().snapshot().state, CameraState::Ended);
    }

    #[test]
    fn shutdown_interrupts_the_backoff_wait() {
        let clock = SimClock::new(SystemTime::UNIX_EPOCH);
        let (tx, stop) = shutdown::channel();
        let tx = Mutex::new(Some(tx));
        let factory: SourceFactory = Box::new(move || {
            drop(tx.lock().take());
            Err(refused())
        });
        let backoff = Backoff::new(Duration::from_secs(30), Duration::from_secs(60));
        let mut feed = CameraFeed::new(factory, backoff, Health::new("cam"), Arc::new(clock.clone()), stop);
        assert!(feed.next_packet().is_none());
        assert_eq!(clock.monotonic(), Duration::ZERO, "did not wait out the 30 s backoff");
    }

    #[test]
    fn a_file_feed_reports_ended() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/video/parking-lot-top-down.mp4");
        let factory: SourceFactory =
            Box::new(move || Ok(Box::new(Mp4FileSource::open(&path, Mp4Options::default())?) as Box<dyn VideoSource>));
        let clock = Arc::new(SimClock::new(SystemTime::UNIX_EPOCH));
        let mut feed =
            CameraFeed::new(factory, Backoff::default(), Health::new("lot"), clock, shutdown::Receiver::never());
        let mut n = 0;
        while let Some(p) = feed.next_packet() {
            p.unwrap();
            n += 1;
        }
        assert_eq!(n, 377);
        assert_eq!(feed.health().snapshot().state, CameraState::Ended);
        assert!(feed.info().is_none(), "the finished source is closed");
    }
}
