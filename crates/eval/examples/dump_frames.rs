//! Writes every Nth frame of a clip as JPEG (for drawing zones): `dump_frames CLIP OUT_DIR EVERY`.
use vigie_decode::H264Decoder;
use vigie_imaging::RgbImage;
use vigie_source::{Mp4FileSource, Mp4Options, VideoSource};

fn main() -> anyhow::Result<()> {
    let a: Vec<String> = std::env::args().collect();
    let every: u64 = a[3].parse()?;
    std::fs::create_dir_all(&a[2])?;
    let mut src = Mp4FileSource::open(&a[1], Mp4Options::default())?;
    let mut dec = H264Decoder::new("dump")?;
    while let Some(p) = src.next_packet()? {
        if let Some(f) = dec.decode(&p)? {
            if (f.seq - 1) % every == 0 {
                let img = RgbImage::from_frame(&f);
                std::fs::write(format!("{}/f{:05}_{:.1}s.jpg", a[2], f.seq, f.pts.as_secs_f64()), img.encode_jpeg(80))?;
            }
        }
    }
    Ok(())
}
