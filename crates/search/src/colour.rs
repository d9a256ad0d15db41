//! Named main colour of a vehicle or object, from a few sampled pixels of its box.
//!
//! Pixels are classified in HSV into ten names people use for vehicles. A box also shows
//! windows, tyres, shadow and road, so chromatic names win when they hold a fair share of the
//! (centre-weighted) votes, and black/white/grey only otherwise. Never computed for people.

use serde::{Deserialize, Serialize};
use vigie_core::{BBox, Frame};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NamedColor {
    Black,
    White,
    Grey,
    Red,
    Orange,
    Yellow,
    Green,
    Blue,
    Purple,
    Brown,
}

impl NamedColor {
    pub const ALL: [NamedColor; 10] = [
        NamedColor::Black,
        NamedColor::White,
        NamedColor::Grey,
        NamedColor::Red,
        NamedColor::Orange,
        NamedColor::Yellow,
        NamedColor::Green,
        NamedColor::Blue,
        NamedColor::Purple,
        NamedColor::Brown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NamedColor::Black => "black",
            NamedColor::White => "white",
            NamedColor::Grey => "grey",
            NamedColor::Red => "red",
            NamedColor::Orange => "orange",
            NamedColor::Yellow => "yellow",
            NamedColor::Green => "green",
            NamedColor::Blue => "blue",
            NamedColor::Purple => "purple",
            NamedColor::Brown => "brown",
        }
    }

    /// Stable id stored in the index (0 means "no colour").
    pub fn id(self) -> u8 {
        self as u8 + 1
    }

    pub fn from_id(id: u8) -> Option<Self> {
        Self::ALL.get((id as usize).checked_sub(1)?).copied()
    }

    pub fn is_chromatic(self) -> bool {
        !matches!(self, NamedColor::Black | NamedColor::White | NamedColor::Grey)
    }

    /// English or French colour word (lower case, accents stripped or not), with plurals
    /// and feminine forms: `red`, `rouges`, `blanche`, `gris`, `argenté`...
    pub fn parse(word: &str) -> Option<Self> {
        let w = crate::text::fold(word);
        let w = w.as_str();
        let base = w.strip_suffix('s').filter(|b| b.len() > 2 && !matches!(w, "gris")).unwrap_or(w);
        Some(match base {
            "black" | "noir" | "noire" => NamedColor::Black,
            "white" | "blanc" | "blanche" => NamedColor::White,
            "grey" | "gray" | "gris" | "grise" | "silver" | "argent" | "argente" | "argentee" => NamedColor::Grey,
            "red" | "rouge" => NamedColor::Red,
            "orange" => NamedColor::Orange,
            "yellow" | "jaune" => NamedColor::Yellow,
            "green" | "vert" | "verte" => NamedColor::Green,
            "blue" | "bleu" | "bleue" | "bleux" => NamedColor::Blue,
            "purple" | "violet" | "violette" | "mauve" => NamedColor::Purple,
            "brown" | "marron" | "brun" | "brune" | "beige" => NamedColor::Brown,
            _ => return None,
        })
    }
}

impl std::fmt::Display for NamedColor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Colour name of one RGB pixel.
pub fn classify_rgb(p: [u8; 3]) -> NamedColor {
    let (r, g, b) = (p[0] as f32 / 255.0, p[1] as f32 / 255.0, p[2] as f32 / 255.0);
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    let v = max;
    let s = if max > 0.0 { (max - min) / max } else { 0.0 };
    if v < 0.2 {
        return NamedColor::Black;
    }
    if s < 0.2 || (v < 0.4 && s < 0.35) {
        return if v > 0.78 {
            NamedColor::White
        } else if v < 0.3 {
            NamedColor::Black
        } else {
            NamedColor::Grey
        };
    }
    let d = max - min;
    let mut h = if max == r {
        60.0 * ((g - b) / d)
    } else if max == g {
        60.0 * ((b - r) / d + 2.0)
    } else {
        60.0 * ((r - g) / d + 4.0)
    };
    if h < 0.0 {
        h += 360.0;
    }
    match h {
        h if !(12.0..330.0).contains(&h) => NamedColor::Red,
        h if h < 45.0 => {
            if v < 0.6 {
                NamedColor::Brown
            } else {
                NamedColor::Orange
            }
        }
        h if h < 70.0 => {
            if v < 0.45 {
                NamedColor::Brown
            } else {
                NamedColor::Yellow
            }
        }
        h if h < 165.0 => NamedColor::Green,
        h if h < 255.0 => NamedColor::Blue,
        _ => NamedColor::Purple,
    }
}

/// Weighted colour votes accumulated over a few frames of one track.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColorVotes {
    votes: [f32; 10],
    pub frames: u32,
}

impl ColorVotes {
    /// Samples a grid of at most 14×14 pixels over the central part of `b`, weighting the
    /// centre more (the body of a vehicle, not the road around it). Reads the YUV planes
    /// directly: no frame conversion.
    pub fn sample(&mut self, frame: &Frame, b: &BBox) {
        let b = b.clamp(frame.width as f32, frame.height as f32);
        let (w, h) = (b.width(), b.height());
        if w < 2.0 || h < 2.0 {
            return;
        }
        const N: usize = 14;
        let (cx, cy) = b.center();
        for j in 0..N {
            let fy = (j as f32 + 0.5) / N as f32 - 0.5; // -0.5..0.5
            let y = (cy + fy * h * 0.7).clamp(0.0, frame.height as f32 - 1.0) as usize;
            for i in 0..N {
                let fx = (i as f32 + 0.5) / N as f32 - 0.5;
                let x = (cx + fx * w * 0.7).clamp(0.0, frame.width as f32 - 1.0) as usize;
                let weight = 1.0 - 1.6 * (fx * fx + fy * fy);
                let c = classify_rgb(frame.rgb_at(x, y));
                self.votes[c as usize] += weight.max(0.05);
            }
        }
        self.frames += 1;
    }

    /// The main colour, or `None` without samples.
    pub fn main(&self) -> Option<NamedColor> {
        let total: f32 = self.votes.iter().sum();
        if total <= 0.0 {
            return None;
        }
        let best = |chromatic: bool| {
            NamedColor::ALL
                .iter()
                .copied()
                .filter(|c| c.is_chromatic() == chromatic)
                .max_by(|a, b| self.votes[*a as usize].total_cmp(&self.votes[*b as usize]))
                .expect("non-empty")
        };
        let c = best(true);
        // Windows, tyres and shadows are dark or grey on any car: a colour with a quarter of
        // the votes is the body colour.
        if self.votes[c as usize] >= 0.25 * total {
            Some(c)
        } else {
            Some(best(false))
        }
    }

    /// Share of votes per colour (in [`NamedColor::ALL`] order), scaled to 0..=255.
    pub fn histogram(&self) -> [u8; 10] {
        let total: f32 = self.votes.iter().sum();
        let mut out = [0u8; 10];
        if total > 0.0 {
            for (o, v) in out.iter_mut().zip(self.votes) {
                *o = (v / total * 255.0).round() as u8;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pure_colours_get_their_names() {
        for (rgb, name) in [
            ([200, 30, 30], NamedColor::Red),
            ([130, 20, 25], NamedColor::Red),
            ([30, 60, 200], NamedColor::Blue),
            ([20, 40, 90], NamedColor::Blue),
            ([245, 245, 240], NamedColor::White),
            ([15, 15, 18], NamedColor::Black),
            ([128, 128, 130], NamedColor::Grey),
            ([180, 182, 185], NamedColor::Grey),
            ([235, 130, 20], NamedColor::Orange),
            ([230, 210, 40], NamedColor::Yellow),
            ([40, 160, 60], NamedColor::Green),
            ([120, 50, 160], NamedColor::Purple),
            ([110, 70, 30], NamedColor::Brown),
        ] {
            assert_eq!(classify_rgb(rgb), name, "{rgb:?}");
        }
    }

    fn car(body: [u8; 3]) -> Frame {
        // 80×50 "car" on grey road: dark windows across the top third, black tyres at the bottom.
        let (w, h) = (120, 90);
        let mut rgb = vec![0u8; w * h * 3];
        for y in 0..h {
            for x in 0..w {
                let inside = (20..100).contains(&x) && (20..70).contains(&y);
                let c = if !inside {
                    [110, 110, 112]
                } else if y < 37 && (28..92).contains(&x) {
                    [35, 40, 45]
                } else if y >= 62 && ((26..40).contains(&x) || (80..94).contains(&x)) {
                    [10, 10, 10]
                } else {
                    body
                };
                rgb[(y * w + x) * 3..][..3].copy_from_slice(&c);
            }
        }
        Frame::from_rgb(w, h, &rgb)
    }

    #[test]
    fn a_car_is_named_by_its_body_not_its_windows_or_the_road() {
        let b = BBox::new(20.0, 20.0, 100.0, 70.0);
        for (body, name) in [
            ([190, 25, 30], NamedColor::Red),
            ([25, 60, 170], NamedColor::Blue),
            ([240, 240, 238], NamedColor::White),
            ([22, 22, 25], NamedColor::Black),
            ([150, 152, 155], NamedColor::Grey),
        ] {
            let mut v = ColorVotes::default();
            v.sample(&car(body), &b);
            assert_eq!(v.main(), Some(name), "{body:?}: {:?}", v.histogram());
        }
        assert_eq!(ColorVotes::default().main(), None);
    }

    #[test]
    fn colour_words_in_english_and_french() {
        assert_eq!(NamedColor::parse("Rouge"), Some(NamedColor::Red));
        assert_eq!(NamedColor::parse("blanches"), Some(NamedColor::White));
        assert_eq!(NamedColor::parse("gris"), Some(NamedColor::Grey));
        assert_eq!(NamedColor::parse("argentée"), Some(NamedColor::Grey));
        assert_eq!(NamedColor::parse("bleus"), Some(NamedColor::Blue));
        assert_eq!(NamedColor::parse("car"), None);
        for c in NamedColor::ALL {
            assert_eq!(NamedColor::from_id(c.id()), Some(c));
            assert_eq!(NamedColor::parse(c.as_str()), Some(c));
        }
        assert_eq!(NamedColor::from_id(0), None);
    }
}
