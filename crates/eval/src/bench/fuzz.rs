//! `vigie bench fuzz`: every parser that takes outside input, run for a bounded time on random
//! and mutated inputs. A finding is a panic, a hang, or a broken property (an error that names
//! nothing, a password in a printed URL); each is printed and its input saved for a regression
//! test. The generator is the project's SplitMix64, so a run is reproducible from its seed.
//!
//! Targets here: the search text parser, the MP4
//! demuxer (truncated and mutated bundled clips), and the RTSP input path: the camera URL parser
//! (the project's own code; RTP depacketisation and SDP are retina's) and the H.264 access units
//! it delivers, mutated NAL by NAL, through the decoder. The config parser's target is the
//! binary's, where the config type lives; it uses this module's [`Target`] and runner.
//!
//! The test suite runs the same `check` functions under proptest for a few seconds each.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use vigie_core::rng::Rng;
use vigie_core::Packet;
use vigie_source::{Mp4FileSource, Mp4Options, VideoSource};

/// What `vigie bench fuzz` runs.
#[derive(Debug, Clone)]
pub struct FuzzOptions {
    /// Seconds per target.
    pub seconds: u64,
    /// Seed of the input generator (same seed, same inputs).
    pub seed: u64,
    /// Only these targets, by name; all when empty.
    pub only: Vec<String>,
    /// Where inputs that gave a finding are written.
    pub findings: PathBuf,
}

/// An input taking longer than this counts as a hang.
pub const HANG: Duration = Duration::from_secs(5);

/// One parser under test. `check` returns `Err` when a property does not hold; panics are caught
/// around it.
pub trait Target: Send + Sync {
    fn name(&self) -> &'static str;
    /// One input: random, or a mutation of a valid one.
    fn generate(&self, rng: &mut Rng) -> Vec<u8>;
    fn check(&self, input: &[u8]) -> Result<(), String>;
}

// ---------------------------------------------------------------------------------------------
// Mutation helpers shared by the targets.

/// Values that break parsers: boundaries, signs, huge and non-finite numbers.
const INTERESTING_U32: [u32; 10] = [0, 1, 2, 0x7f, 0xff, 0xffff, 0x7fff_ffff, 0x8000_0000, 0xffff_fffe, 0xffff_ffff];

/// Applies 1–`max_ops` byte-level mutations to `data`, mostly within `focus` (a byte range that
/// holds the structure, e.g. an MP4's `moov`).
pub fn mutate_bytes(rng: &mut Rng, data: &mut Vec<u8>, focus: std::ops::Range<usize>, max_ops: u64) {
    let ops = 1 + rng.below(max_ops);
    for _ in 0..ops {
        if data.is_empty() {
            data.push(rng.next_u64() as u8);
            continue;
        }
        let span = if !focus.is_empty() && focus.end <= data.len() && rng.below(4) != 0 {
            focus.clone()
        } else {
            0..data.len()
        };
        let at = span.start + rng.below((span.end - span.start) as u64) as usize;
        match rng.below(8) {
            0 => data[at] ^= 1 << rng.below(8),
            1 => data[at] = rng.next_u64() as u8,
            2 | 3 => {
                let v = INTERESTING_U32[rng.below(INTERESTING_U32.len() as u64) as usize].to_be_bytes();
                let end = (at + 4).min(data.len());
                data[at..end].copy_from_slice(&v[..end - at]);
            }
            4 => {
                let n = (1 + rng.below(16) as usize).min(data.len() - at);
                data.drain(at..at + n);
            }
            5 => {
                let n = 1 + rng.below(16) as usize;
                let bytes: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
                data.splice(at..at, bytes);
            }
            6 => {
                // Copy a chunk from elsewhere (duplicated structure).
                let from = rng.below(data.len() as u64) as usize;
                let n = (1 + rng.below(64) as usize).min(data.len() - from);
                let chunk = data[from..from + n].to_vec();
                data.splice(at..at, chunk);
            }
            _ => data.truncate(at),
        }
    }
}

/// One element of `v`, uniformly.
pub fn pick<'a, T>(rng: &mut Rng, v: &'a [T]) -> &'a T {
    &v[rng.below(v.len() as u64) as usize]
}

// ---------------------------------------------------------------------------------------------
// Search text: any Unicode through `parse_text_query`.

const TEXT_WORDS: &[&str] = &[
    "red",
    "car",
    "cars",
    "person",
    "people",
    "bicycle",
    "in",
    "the",
    "square",
    "after",
    "before",
    "between",
    "and",
    "18:00",
    "8pm",
    "12am",
    "24h",
    "24:00",
    "25:99",
    "14.30",
    "99999999999999999999h",
    "1e308s",
    ".5min",
    "yesterday",
    "today",
    "hier",
    "aujourd'hui",
    "jusqu'à",
    "l'entrée",
    "l'",
    "d’",
    "last",
    "week",
    "3",
    "days",
    "since",
    "monday",
    "31",
    "february",
    "2025-02-31",
    "0000-01-01",
    "9999-12-31",
    "northbound",
    "nord-est",
    "stayed",
    "more",
    "than",
    "5",
    "minutes",
    "on",
    "camera",
    "plaza",
    "\"market square\"",
    "«",
    "»",
    "“",
    "”",
    "\"",
    "-",
    "from",
    "to",
    "at",
    "noon",
    "midnight",
];

/// Characters that break byte/char assumptions: case mappings that change length, combining
/// marks, bidi controls, zero-width, astral planes.
const TEXT_CHARS: &[char] = &[
    'İ',
    'ı',
    'ß',
    'ẞ',
    'ﬁ',
    'ŉ',
    'ǰ',
    '\u{301}',
    '\u{308}',
    '\u{202e}',
    '\u{200b}',
    '\u{feff}',
    '\u{0}',
    '’',
    '\'',
    ':',
    '.',
    'h',
    '0',
    '9',
    '😀',
    '𝟘',
    '٣',
    '४',
    'Ⅻ',
    '\u{10ffff}',
    '\t',
    '\n',
    ' ',
    ',',
    ';',
    '?',
    '(',
    ')',
];

pub struct TextTarget {
    vocab: vigie_search::Vocabulary,
    tz: jiff::tz::TimeZone,
}

impl Default for TextTarget {
    fn default() -> Self {
        Self::new()
    }
}

impl TextTarget {
    pub fn new() -> Self {
        let vocab = vigie_search::Vocabulary {
            cameras: vec!["plaza".into(), "Place de la Gare".into(), "İstanbul ß".into()],
            zones: vec!["market square".into(), "lamp".into(), "l'entrée".into()],
            ..Default::default()
        };
        Self { vocab, tz: jiff::tz::TimeZone::get("Europe/Paris").unwrap_or(jiff::tz::TimeZone::UTC) }
    }
}

impl Target for TextTarget {
    fn name(&self) -> &'static str {
        "search-text"
    }

    fn generate(&self, rng: &mut Rng) -> Vec<u8> {
        let mut s = String::new();
        for _ in 0..rng.below(16) {
            match rng.below(4) {
                0 | 1 => s.push_str(pick::<&str>(rng, TEXT_WORDS)),
                2 => s.push(*pick(rng, TEXT_CHARS)),
                _ => {
                    let c = char::from_u32(rng.below(0x11_0000) as u32).unwrap_or('\u{fffd}');
                    s.push(c);
                }
            }
            if rng.below(3) != 0 {
                s.push(' ');
            }
        }
        s.into_bytes()
    }

    fn check(&self, input: &[u8]) -> Result<(), String> {
        let q = String::from_utf8_lossy(input);
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_750_000_000);
        let parsed = vigie_search::parse_text_query(&q, now, &self.tz, &self.vocab);
        // What the API returns must serialise (NaN or infinite numbers would not).
        serde_json::to_string(&parsed).map_err(|e| format!("parsed query does not serialise: {e}"))?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// MP4 demuxer: truncated and mutated bundled clips.

/// Byte range of the `moov` box (where the demuxer's structure is), by walking top-level boxes.
fn moov_range(data: &[u8]) -> std::ops::Range<usize> {
    let mut pos = 0usize;
    while pos + 8 <= data.len() {
        let size = u32::from_be_bytes(data[pos..pos + 4].try_into().unwrap()) as usize;
        if &data[pos + 4..pos + 8] == b"moov" {
            return pos..(pos + size).min(data.len());
        }
        if size < 8 {
            break;
        }
        pos += size;
    }
    0..0
}

pub struct Mp4Target {
    clips: Vec<(Vec<u8>, std::ops::Range<usize>, u64)>,
    dir: tempfile::TempDir,
}

impl Mp4Target {
    /// The two smaller bundled clips (their `moov` comes first), cut 64 KiB into the media data:
    /// the demuxer stops at the first sample past the cut, so each input costs a few samples
    /// rather than the whole clip, and the index (what the mutations aim at) is whole.
    pub fn new(root: &Path) -> anyhow::Result<Self> {
        let mut clips = Vec::new();
        for name in ["parking-lot-top-down.mp4", "highway-cctv.mp4"] {
            let path = root.join("assets/video").join(name);
            let data = std::fs::read(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            let samples = Mp4FileSource::open(&path, Mp4Options::default())
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .info()
                .frame_count
                .unwrap_or(0);
            let moov = moov_range(&data);
            let mut data = data;
            data.truncate(moov.end + 64 * 1024);
            clips.push((data, moov, samples));
        }
        Ok(Self { clips, dir: tempfile::tempdir()? })
    }

    /// Opens `bytes` as a file and reads every packet, up to `limit`.
    pub fn demux(path: &Path, bytes: &[u8], limit: u64) -> Result<u64, String> {
        std::fs::write(path, bytes).map_err(|e| format!("cannot write the input: {e}"))?;
        let mut src = match Mp4FileSource::open(path, Mp4Options::default()) {
            Ok(s) => s,
            Err(_) => return Ok(0),
        };
        let mut n = 0u64;
        let mut errors = 0u64;
        loop {
            match src.next_packet() {
                Ok(Some(_)) => n += 1,
                Ok(None) => return Ok(n),
                Err(_) => errors += 1,
            }
            if n + errors > limit {
                return Err(format!("more than {limit} packets or errors from a file of {} bytes", bytes.len()));
            }
        }
    }
}

thread_local! {
    static SCRATCH: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

impl Target for Mp4Target {
    fn name(&self) -> &'static str {
        "mp4"
    }

    fn generate(&self, rng: &mut Rng) -> Vec<u8> {
        let (data, moov, _) = pick(rng, &self.clips);
        let mut b = data.clone();
        if rng.below(4) == 0 {
            // Truncation anywhere, often inside the index.
            let cut = if rng.below(2) == 0 && !moov.is_empty() {
                moov.start + rng.below(moov.len() as u64) as usize
            } else {
                rng.below(b.len() as u64) as usize
            };
            b.truncate(cut);
        } else {
            mutate_bytes(rng, &mut b, moov.clone(), 6);
        }
        b
    }

    fn check(&self, input: &[u8]) -> Result<(), String> {
        // Every sample of a clip, twice over, plus slack: a damaged index must not make the
        // demuxer yield packets (or errors) without end.
        let limit = self.clips.iter().map(|c| c.2).max().unwrap_or(0) * 2 + 1000;
        let id = SCRATCH.with(|c| {
            c.set(c.get() + 1);
            c.get()
        });
        let path =
            self.dir.path().join(format!("input-{:?}-{id}.mp4", std::thread::current().id()).replace(['(', ')'], ""));
        let res = Self::demux(&path, input, limit);
        let _ = std::fs::remove_file(&path);
        res.map(|_| ())
    }
}

// ---------------------------------------------------------------------------------------------
// RTSP input: camera URLs (the project's parser) and the access units retina delivers.

/// A password that must never appear in what is printed about a URL.
const URL_SECRET: &str = "Zq7SECRETpw";

pub struct UrlTarget;

impl Target for UrlTarget {
    fn name(&self) -> &'static str {
        "rtsp-url"
    }

    fn generate(&self, rng: &mut Rng) -> Vec<u8> {
        const PARTS: &[&str] =
            &["", "%", "%40", "%3A", ":", "é", "[", "]", "::1", "😀", " ", "\u{0}", "..", "%zz", "\\", "\u{202e}"];
        let scheme = *pick(rng, &["rtsp", "rtsps", "RTSP", "http", "rtsp:", ""]);
        let user = format!("{}{}", pick(rng, &["admin", "", "a b", "ü"]), pick(rng, PARTS));
        // The secret stays in the userinfo: no '/', '?', '#' or '@' after it.
        let pass = format!("{URL_SECRET}{}", pick(rng, &["", "%40", "%3A", ":", "é", "%", " ", "[x]"]));
        let host = *pick(rng, &["10.1.2.3", "[::1]", "cam.lan", "", "[::1", "256.1.1.1", "xn--e1a", "ex ample"]);
        let port = *pick(rng, &["", ":554", ":0", ":65535", ":65536", ":-1", ":99999999999999999999", ":"]);
        let path = format!("/{}{}", pick(rng, &["", "Streaming/101", "a/../b", "%2F"]), pick(rng, PARTS));
        let query = *pick(rng, &["", "?channel=1&pwd=zz", "?", "#frag"]);
        let mut s = format!("{scheme}://{user}:{pass}@{host}{port}{path}{query}").into_bytes();
        if rng.below(3) == 0 {
            // Damage anything but the secret itself.
            let start = s.windows(URL_SECRET.len()).position(|w| w == URL_SECRET.as_bytes()).unwrap_or(0);
            let mut head = s[..start].to_vec();
            mutate_bytes(rng, &mut head, 0..0, 3);
            head.retain(|b| !matches!(b, b'@'));
            head.extend_from_slice(&s[start..]);
            s = head;
        }
        s
    }

    fn check(&self, input: &[u8]) -> Result<(), String> {
        let raw = String::from_utf8_lossy(input);
        let (Ok(shown) | Err(shown)) = vigie_source::check_camera_url(&raw);
        // Only when the secret is really in the userinfo (before the authority's last '@').
        let in_userinfo = raw.split_once("://").is_some_and(|(_, rest)| {
            let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
            authority.rsplit_once('@').is_some_and(|(ui, _)| ui.contains(URL_SECRET))
        });
        if in_userinfo && shown.contains(URL_SECRET) {
            return Err(format!("the password shows in '{shown}'"));
        }
        Ok(())
    }
}

/// Splits Annex B into NAL units (without start codes).
fn nal_units(au: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= au.len() {
        if au[i] == 0 && au[i + 1] == 0 && au[i + 2] == 1 {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut out = Vec::new();
    for (k, &s) in starts.iter().enumerate() {
        let mut e = starts.get(k + 1).map(|&n| n - 3).unwrap_or(au.len());
        while e > s && au[e - 1] == 0 {
            e -= 1;
        }
        out.push(&au[s..e]);
    }
    out
}

pub struct H264Target {
    /// First access units of a bundled clip, as the RTSP source delivers them (Annex B, SPS/PPS
    /// in front of key frames).
    aus: Vec<Vec<u8>>,
}

impl H264Target {
    pub fn new(root: &Path) -> anyhow::Result<Self> {
        let path = root.join("assets/video/parking-lot-top-down.mp4");
        let mut src = Mp4FileSource::open(&path, Mp4Options::default()).map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut aus = Vec::new();
        while aus.len() < 6 {
            match src.next_packet().map_err(|e| anyhow::anyhow!("{e}"))? {
                Some(p) => aus.push(p.data.to_vec()),
                None => break,
            }
        }
        Ok(Self { aus })
    }

    /// Input format: access units separated by a 4-byte big-endian length each.
    fn encode(aus: &[Vec<u8>]) -> Vec<u8> {
        let mut out = Vec::new();
        for au in aus {
            out.extend_from_slice(&(au.len() as u32).to_be_bytes());
            out.extend_from_slice(au);
        }
        out
    }

    fn decode_input(input: &[u8]) -> Vec<&[u8]> {
        let mut out = Vec::new();
        let mut i = 0;
        while i + 4 <= input.len() {
            let n = u32::from_be_bytes(input[i..i + 4].try_into().unwrap()) as usize;
            let end = (i + 4).saturating_add(n).min(input.len());
            out.push(&input[i + 4..end]);
            i = end;
        }
        out
    }
}

impl Target for H264Target {
    fn name(&self) -> &'static str {
        "rtsp-h264"
    }

    fn generate(&self, rng: &mut Rng) -> Vec<u8> {
        let mut aus = self.aus.clone();
        for _ in 0..1 + rng.below(3) {
            let k = rng.below(aus.len() as u64) as usize;
            let nals: Vec<Vec<u8>> = nal_units(&aus[k]).into_iter().map(<[u8]>::to_vec).collect();
            if nals.is_empty() {
                continue;
            }
            let mut nals = nals;
            let j = rng.below(nals.len() as u64) as usize;
            match rng.below(5) {
                // Parameter sets and slice headers sit in the first bytes.
                0 | 1 => {
                    let n = nals[j].len().min(24);
                    mutate_bytes(rng, &mut nals[j], 0..n, 4)
                }
                2 => mutate_bytes(rng, &mut nals[j], 0..0, 8),
                3 => {
                    let dup = nals[j].clone();
                    nals.insert(j, dup);
                }
                _ => {
                    nals.remove(j);
                }
            }
            let mut au = Vec::new();
            for n in nals {
                au.extend_from_slice(&[0, 0, 0, 1]);
                au.extend_from_slice(&n);
            }
            aus[k] = au;
        }
        Self::encode(&aus)
    }

    fn check(&self, input: &[u8]) -> Result<(), String> {
        let mut dec = vigie_decode::H264Decoder::new("fuzz").map_err(|e| e.to_string())?;
        for (i, au) in Self::decode_input(input).into_iter().enumerate() {
            let pkt = Packet {
                seq: i as u64 + 1,
                pts: Duration::from_millis(40 * i as u64),
                received_at: SystemTime::UNIX_EPOCH,
                // As retina marks them: an IDR slice makes a random access point.
                keyframe: nal_units(au).iter().any(|n| n.first().is_some_and(|b| b & 0x1f == 5)),
                data: bytes::Bytes::copy_from_slice(au),
                position: format!("fuzz au {i}"),
            };
            if let Ok(Some(f)) = dec.decode(&pkt) {
                let (cw, ch) = (f.width.div_ceil(2), f.height.div_ceil(2));
                if f.y.len() != f.width * f.height || f.u.len() != cw * ch || f.v.len() != cw * ch {
                    return Err(format!(
                        "frame {}x{} with planes of {}/{}/{}",
                        f.width,
                        f.height,
                        f.y.len(),
                        f.u.len(),
                        f.v.len()
                    ));
                }
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// The runner.

/// The targets on the library parsers, clips read from the repository at `root`. The config
/// target is the binary's (its config type lives there), added by `vigie bench fuzz` in front.
pub fn targets(root: &Path) -> anyhow::Result<Vec<Arc<dyn Target>>> {
    Ok(vec![
        Arc::new(TextTarget::new()),
        Arc::new(Mp4Target::new(root)?),
        Arc::new(UrlTarget),
        Arc::new(H264Target::new(root)?),
    ])
}

/// The message of the last panic, captured by the hook installed while fuzzing.
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

/// Runs `check` with panics caught and reported as findings. The panic hook must be quiet
/// (see [`quiet_panics`]) or every caught panic prints a backtrace.
pub fn check_caught(t: &dyn Target, input: &[u8]) -> Result<(), String> {
    match catch_unwind(AssertUnwindSafe(|| t.check(input))) {
        Ok(r) => r,
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "non-string panic".into());
            let at = LAST_PANIC.lock().map(|l| l.clone()).ok().flatten().unwrap_or_default();
            Err(format!("panic: {msg}{at}"))
        }
    }
}

/// Panics caught by the fuzzer are findings, printed once in the summary: keep the hook from
/// printing each one, but keep where it happened.
pub fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        if let Ok(mut l) = LAST_PANIC.lock() {
            *l = Some(at);
        }
    }));
}

#[derive(Debug, Default)]
pub struct TargetReport {
    pub name: &'static str,
    pub tried: u64,
    pub findings: Vec<String>,
    pub slowest: Duration,
}

/// Feeds `t` for `budget`; each input runs on a worker thread so that a hang is detected (after
/// `hang`, normally [`HANG`]) and the run goes on with a fresh worker.
pub fn fuzz_target(
    t: Arc<dyn Target>,
    budget: Duration,
    hang: Duration,
    seed: u64,
    findings_dir: &Path,
) -> TargetReport {
    let mut rep = TargetReport { name: t.name(), ..Default::default() };
    let mut rng = Rng::new(seed ^ fxhash(t.name()));
    let deadline = Instant::now() + budget;
    let spawn = |t: Arc<dyn Target>| {
        let (in_tx, in_rx) = mpsc::channel::<Vec<u8>>();
        let (out_tx, out_rx) = mpsc::channel::<Result<(), String>>();
        std::thread::spawn(move || {
            while let Ok(input) = in_rx.recv() {
                if out_tx.send(check_caught(&*t, &input)).is_err() {
                    break;
                }
            }
        });
        (in_tx, out_rx)
    };
    let (mut tx, mut rx) = spawn(t.clone());
    while Instant::now() < deadline {
        let input = t.generate(&mut rng);
        let started = Instant::now();
        if tx.send(input.clone()).is_err() {
            (tx, rx) = spawn(t.clone());
            continue;
        }
        let res = match rx.recv_timeout(hang) {
            Ok(r) => r,
            Err(_) => {
                // The stuck worker is left behind; a fresh one takes the next inputs.
                (tx, rx) = spawn(t.clone());
                Err(format!("hang: no answer within {:.1} s", hang.as_secs_f64()))
            }
        };
        rep.tried += 1;
        rep.slowest = rep.slowest.max(started.elapsed());
        if let Err(e) = res {
            let file = findings_dir.join(format!("{}-{}.bin", t.name(), rep.findings.len() + 1));
            let saved = std::fs::create_dir_all(findings_dir).and_then(|_| std::fs::write(&file, &input));
            let note = match saved {
                Ok(()) => format!("{e} (input: {})", file.display()),
                Err(w) => format!("{e} (input not saved: {w})"),
            };
            rep.findings.push(note);
        }
    }
    rep
}

/// Stable per-target stream from one seed.
fn fxhash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
}

/// Fuzzes each chosen target for its time and prints one line per target; an error when
/// anything was found.
pub fn run(all: Vec<Arc<dyn Target>>, a: &FuzzOptions) -> anyhow::Result<()> {
    let chosen: Vec<_> =
        all.into_iter().filter(|t| a.only.is_empty() || a.only.iter().any(|o| o == t.name())).collect();
    if chosen.is_empty() {
        anyhow::bail!("--only: no such target (config, search-text, mp4, rtsp-url, rtsp-h264)");
    }
    quiet_panics();
    let mut total = 0;
    println!("{:<12} {:>10} {:>9} {:>12}", "target", "inputs", "findings", "slowest ms");
    for t in chosen {
        let rep = fuzz_target(t, Duration::from_secs(a.seconds), HANG, a.seed, &a.findings);
        println!(
            "{:<12} {:>10} {:>9} {:>12.1}",
            rep.name,
            rep.tried,
            rep.findings.len(),
            rep.slowest.as_secs_f64() * 1e3
        );
        for f in rep.findings.iter().take(5) {
            println!("    {f}");
        }
        total += rep.findings.len();
    }
    let _ = std::panic::take_hook();
    if total > 0 {
        anyhow::bail!("{total} finding(s); inputs in {}", a.findings.display());
    }
    println!("no findings (seed {}, {} s per target)", a.seed, a.seconds);
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Bounded proptest runs of each target (a few seconds each); `vigie bench fuzz` runs them
    //! longer. A failure prints the shrunk input.
    use super::*;
    use proptest::prelude::*;
    use proptest::sample::{select, Index};

    fn cfg(cases: u32) -> ProptestConfig {
        ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
    }

    fn repo() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    fn caught(t: &dyn Target, input: &[u8]) -> Result<(), TestCaseError> {
        check_caught(t, input).map_err(TestCaseError::fail)
    }

    static TEXT: std::sync::LazyLock<TextTarget> = std::sync::LazyLock::new(TextTarget::new);
    static MP4: std::sync::LazyLock<Mp4Target> = std::sync::LazyLock::new(|| Mp4Target::new(&repo()).unwrap());
    static H264: std::sync::LazyLock<H264Target> = std::sync::LazyLock::new(|| H264Target::new(&repo()).unwrap());

    proptest! {
        #![proptest_config(cfg(3000))]
        /// Any Unicode string: the search text parser never panics.
        #[test]
        fn search_text_parser_takes_any_unicode(q in any::<String>()) {
            caught(&*TEXT, q.as_bytes())?;
        }

        /// Query words mixed with the characters that change length when case-folded.
        #[test]
        fn search_text_parser_takes_words_and_odd_characters(
            parts in proptest::collection::vec(
                prop_oneof![select(TEXT_WORDS).prop_map(String::from), select(TEXT_CHARS).prop_map(String::from)],
                0..20,
            ),
            sep in select(&[" ", "", "\u{a0}", ","][..]),
        ) {
            caught(&*TEXT, parts.join(sep).as_bytes())?;
        }
    }

    proptest! {
        #![proptest_config(cfg(1500))]
        /// The password in a camera URL never shows in its printed name or error.
        #[test]
        fn camera_url_parser_never_panics_or_leaks_the_password(
            scheme in select(&["rtsp", "rtsps", "http", ""][..]),
            user in any::<String>(),
            pass in "[^/?#@]{0,8}".prop_map(|s| format!("{URL_SECRET}{s}")),
            host in any::<String>(),
            rest in any::<String>(),
        ) {
            let user: String = user.chars().filter(|c| !matches!(c, '/' | '?' | '#' | '@')).collect();
            let host: String = host.chars().filter(|c| !matches!(c, '/' | '?' | '#' | '@')).collect();
            let url = format!("{scheme}://{user}:{pass}@{host}/{rest}");
            caught(&UrlTarget, url.as_bytes())?;
        }
    }

    proptest! {
        #![proptest_config(cfg(60))]
        /// A bundled clip cut anywhere or with its index damaged: errors, never a panic, never
        /// an endless stream of packets.
        #[test]
        fn mp4_demuxer_survives_truncation_and_mutation(
            clip in 0..2usize,
            cut in proptest::option::of(any::<Index>()),
            edits in proptest::collection::vec((any::<Index>(), select(&INTERESTING_U32[..]), any::<bool>()), 0..6),
        ) {
            let (data, moov, _) = &MP4.clips[clip];
            let mut b = data.clone();
            for (at, v, word) in edits {
                let i = moov.start + at.index(moov.len().max(1));
                let v = v.to_be_bytes();
                let n = if word { 4 } else { 1 }.min(b.len() - i);
                b[i..i + n].copy_from_slice(&v[4 - n..]);
            }
            if let Some(c) = cut {
                b.truncate(c.index(b.len()));
            }
            caught(&*MP4, &b)?;
        }
    }

    proptest! {
        #![proptest_config(cfg(80))]
        /// Access units as retina delivers them, with NAL units damaged, dropped or repeated:
        /// the decoder reports errors, never panics, and every frame's planes fit its size.
        #[test]
        fn h264_decoder_survives_mutated_nal_units(
            edits in proptest::collection::vec((any::<Index>(), any::<Index>(), any::<Index>(), any::<u8>()), 1..6),
            drop in proptest::option::of((any::<Index>(), any::<Index>())),
        ) {
            let mut aus: Vec<Vec<Vec<u8>>> =
                H264.aus.iter().map(|au| nal_units(au).into_iter().map(<[u8]>::to_vec).collect()).collect();
            for (a, n, at, v) in edits {
                let au = &mut aus[a.index(H264.aus.len())];
                if au.is_empty() {
                    continue;
                }
                let k = n.index(au.len());
                let nal = &mut au[k];
                if !nal.is_empty() {
                    // Headers are where parsing happens: bias to the first bytes.
                    let i = at.index(nal.len().min(32));
                    nal[i] = v;
                }
            }
            if let Some((a, n)) = drop {
                let k = a.index(aus.len());
                let au = &mut aus[k];
                if !au.is_empty() {
                    au.remove(n.index(au.len()));
                }
            }
            let joined: Vec<Vec<u8>> = aus
                .into_iter()
                .map(|nals| nals.into_iter().flat_map(|n| [vec![0, 0, 0, 1], n].concat()).collect())
                .collect();
            caught(&*H264, &H264Target::encode(&joined))?;
        }
    }

    /// The runner itself: a panic and a hang are findings, saved, and the run goes on.
    #[test]
    fn runner_reports_panics_and_hangs_and_keeps_going() {
        struct Bad;
        impl Target for Bad {
            fn name(&self) -> &'static str {
                "bad"
            }
            fn generate(&self, rng: &mut vigie_core::rng::Rng) -> Vec<u8> {
                vec![rng.below(40) as u8]
            }
            fn check(&self, input: &[u8]) -> Result<(), String> {
                match input[0] {
                    0 => panic!("boom on zero"),
                    1 => {
                        std::thread::sleep(Duration::from_millis(400));
                        Ok(())
                    }
                    2 => Err("property broken".into()),
                    _ => Ok(()),
                }
            }
        }
        let dir = tempfile::tempdir().unwrap();
        quiet_panics();
        let rep = fuzz_target(Arc::new(Bad), Duration::from_millis(1500), Duration::from_millis(150), 3, dir.path());
        let _ = std::panic::take_hook();
        assert!(rep.tried > 20, "{rep:?}");
        let has = |s: &str| rep.findings.iter().any(|f| f.contains(s));
        assert!(has("panic: boom on zero"), "{rep:?}");
        assert!(has("hang: no answer within 0.1 s") || has("hang: no answer within 0.2 s"), "{rep:?}");
        assert!(has("property broken"), "{rep:?}");
        let saved = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(saved, rep.findings.len());
    }
}
