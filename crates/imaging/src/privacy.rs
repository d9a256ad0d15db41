//! What a picture leaving the node hides: the one decision, used by every output (camera wall,
//! alert pictures and clips, archive exports, search thumbnails, `vigie analyze --privacy-out`).
//!
//! People are hidden twice over: the boxes the detector found, AND every moving region the
//! motion model found, grown by a margin, so a person the detector missed (merged with a
//! neighbour, partly hidden, not yet confirmed) is pixelated anyway. Moving regions that belong
//! to a detected vehicle stay clear, as does the static scene: operators still read the street.
//! Privacy masks (windows and entrances of homes) are filled opaque in every picture, the
//! unmasked ones included. When the inputs cannot be trusted (the detector failed, the motion
//! model has no background yet), the decision fails closed: the whole frame is pixelated.

use crate::RgbImage;
use vigie_core::classes::{PERSON, VEHICLE_CLASSES};
use vigie_core::frame::yuv_to_rgb;
use vigie_core::{BBox, ClassMap, Detection, Frame, Polygon, TrackedObject};

/// Colour of privacy masks (YUV): flat dark grey, plainly a mask and not a scene.
pub const MASK_YUV: [u8; 3] = [48, 128, 128];

/// A moving region mostly inside a detected vehicle (this share of its area) is the vehicle.
const VEHICLE_SHARE: f32 = 0.6;
/// Pixelation blocks of the whole frame when nothing can be decided: a sixteenth of its height.
const WHOLE_FRAME_BLOCKS: usize = 16;

/// Detections of people at or above this score are hidden even before they become tracks:
/// hiding a few false positives costs nothing, leaving a real person clear does.
pub const PEOPLE_SCORE: f32 = 0.25;
/// A vehicle detection must be surer than that before its motion is left clear.
pub const VEHICLE_SCORE: f32 = 0.4;

/// Which classes are people and which vehicles, for gathering a frame's boxes the same way in
/// every output.
#[derive(Debug, Clone, Default)]
pub struct PrivacyClasses {
    pub person: Option<u16>,
    pub vehicles: Vec<u16>,
}

impl PrivacyClasses {
    pub fn new(classes: &ClassMap) -> Self {
        Self { person: classes.id(PERSON), vehicles: VEHICLE_CLASSES.iter().filter_map(|c| classes.id(c)).collect() }
    }

    /// People and vehicles of one detector run.
    pub fn detections(&self, dets: &[Detection]) -> (Vec<BBox>, Vec<BBox>) {
        let people = dets.iter().filter(|d| Some(d.class_id) == self.person && d.score >= PEOPLE_SCORE);
        let vehicles = dets.iter().filter(|d| self.vehicles.contains(&d.class_id) && d.score >= VEHICLE_SCORE);
        (people.map(|d| d.bbox).collect(), vehicles.map(|d| d.bbox).collect())
    }

    /// People and vehicles among the tracks (held ones included: they have not gone far).
    pub fn tracks(&self, tracks: &[TrackedObject]) -> (Vec<BBox>, Vec<BBox>) {
        let people = tracks.iter().filter(|t| Some(t.class_id) == self.person);
        let vehicles = tracks.iter().filter(|t| self.vehicles.contains(&t.class_id));
        (people.map(|t| t.bbox).collect(), vehicles.map(|t| t.bbox).collect())
    }
}

/// What the decision is made from, for one frame in full-frame (main stream) pixels.
#[derive(Debug, Clone, Copy)]
pub struct PrivacyInputs<'a> {
    pub width: usize,
    pub height: usize,
    /// People boxes: detections (confirmed or not) and person tracks.
    pub people: &'a [BBox],
    /// Vehicle boxes (detections or tracks): their own motion is not a person's.
    pub vehicles: &'a [BBox],
    /// Moving regions of the motion model.
    pub motion: &'a [BBox],
    pub masks: &'a [Polygon],
    /// Why the other inputs cannot be trusted for this frame (detector error, no motion model
    /// yet), or `None` when they can.
    pub undecidable: Option<&'a str>,
}

/// One rectangle to pixelate, `[x0, x1) × [y0, y1)` in pixels, with its block size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hide {
    pub x0: usize,
    pub y0: usize,
    pub x1: usize,
    pub y1: usize,
    pub block: usize,
}

/// What to hide in one picture of `width` × `height`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HidePlan {
    pub width: usize,
    pub height: usize,
    pub pixelate: Vec<Hide>,
    /// Filled opaque, after pixelation.
    pub masks: Vec<Polygon>,
    /// Set when nothing could be decided: the whole frame is pixelated, and this says why.
    pub whole_frame: Option<String>,
}

/// Grows a person box the way every person has always been pixelated here (a little wider than
/// tall, so edges of arms and hair do not escape), blocks about a sixth of its height.
fn person_hide(b: &BBox, w: usize, h: usize) -> Option<Hide> {
    let (px, py) = (b.width() * 0.08, b.height() * 0.05);
    let block = ((b.height() / 6.0).round() as usize).max(6);
    hide_rect(b.x1 - px, b.y1 - py, b.x2 + px, b.y2 + py, block, w, h)
}

/// A moving region, grown to the whole person whose moving parts it may only be: legs moving
/// under a still torso, an arm. People stand above the motion they make, so the growth is
/// mostly upwards.
fn motion_hide(b: &BBox, w: usize, h: usize) -> Option<Hide> {
    let px = (b.width() * 0.2).max(8.0);
    let up = (b.height() * 0.6).max(16.0);
    let down = (b.height() * 0.1).max(8.0);
    let block = ((b.height() / 6.0).round() as usize).clamp(8, 16);
    hide_rect(b.x1 - px, b.y1 - up, b.x2 + px, b.y2 + down, block, w, h)
}

/// Clips to the picture on even coordinates (so the halved chroma planes line up) with an even
/// block.
fn hide_rect(x0: f32, y0: f32, x1: f32, y1: f32, block: usize, w: usize, h: usize) -> Option<Hide> {
    let even_down = |v: f32| (v.floor().max(0.0) as usize) & !1;
    let even_up = |v: f32, max: usize| ((v.ceil().max(0.0) as usize + 1) & !1).min(max);
    let hide =
        Hide { x0: even_down(x0), y0: even_down(y0), x1: even_up(x1, w), y1: even_up(y1, h), block: (block + 1) & !1 };
    (hide.x1 > hide.x0 && hide.y1 > hide.y0).then_some(hide)
}

/// THE decision: what a picture of this frame hides. Pure and cheap (boxes only).
pub fn decide(i: &PrivacyInputs<'_>) -> HidePlan {
    let (w, h) = (i.width, i.height);
    let mut plan = HidePlan { width: w, height: h, masks: i.masks.to_vec(), ..Default::default() };
    if let Some(why) = i.undecidable {
        plan.whole_frame = Some(why.to_string());
        plan.pixelate.push(Hide { x0: 0, y0: 0, x1: w, y1: h, block: ((h / WHOLE_FRAME_BLOCKS).max(8) + 1) & !1 });
        return plan;
    }
    plan.pixelate.extend(i.people.iter().filter_map(|b| person_hide(b, w, h)));
    let is_vehicle = |m: &BBox| -> bool {
        let area = m.area();
        area > 0.0 && i.vehicles.iter().any(|v| v.intersection(m) >= VEHICLE_SHARE * area)
    };
    plan.pixelate.extend(i.motion.iter().filter(|&m| !is_vehicle(m)).filter_map(|m| motion_hide(m, w, h)));
    plan
}

impl HidePlan {
    /// Only the masks: what a clear (unmasked) picture still hides.
    pub fn masks_only(width: usize, height: usize, masks: &[Polygon]) -> HidePlan {
        HidePlan { width, height, masks: masks.to_vec(), ..Default::default() }
    }

    /// The same plan for the picture scaled by `s` (the camera wall's smaller pictures).
    pub fn scaled(&self, s: f32) -> HidePlan {
        let (w, h) = ((self.width as f32 * s).round() as usize, (self.height as f32 * s).round() as usize);
        let sc = |v: usize, max: usize| ((v as f32 * s).round() as usize).min(max);
        HidePlan {
            width: w,
            height: h,
            pixelate: self
                .pixelate
                .iter()
                .map(|p| Hide {
                    x0: sc(p.x0, w),
                    y0: sc(p.y0, h),
                    x1: sc(p.x1, w),
                    y1: sc(p.y1, h),
                    block: ((p.block as f32 * s).round() as usize).max(3),
                })
                .collect(),
            masks: self
                .masks
                .iter()
                .map(|m| Polygon::new(m.points.iter().map(|&(x, y)| (x * s, y * s)).collect()))
                .collect(),
            whole_frame: self.whole_frame.clone(),
        }
    }

    /// The plan for the `width` × `height` crop whose top-left corner is `(x, y)` (thumbnails).
    pub fn cropped(&self, x: usize, y: usize, width: usize, height: usize) -> HidePlan {
        let pixelate = self
            .pixelate
            .iter()
            .filter(|p| p.x1 > x && p.y1 > y && p.x0 < x + width && p.y0 < y + height)
            .map(|p| Hide {
                x0: p.x0.saturating_sub(x),
                y0: p.y0.saturating_sub(y),
                x1: (p.x1 - x).min(width),
                y1: (p.y1 - y).min(height),
                block: p.block,
            })
            .collect();
        let (dx, dy) = (x as f32, y as f32);
        HidePlan {
            width,
            height,
            pixelate,
            masks: self
                .masks
                .iter()
                .map(|m| Polygon::new(m.points.iter().map(|&(px, py)| (px - dx, py - dy)).collect()))
                .collect(),
            whole_frame: self.whole_frame.clone(),
        }
    }

    /// Hides in an RGB picture of the plan's size.
    pub fn apply(&self, img: &mut RgbImage) {
        debug_assert_eq!((img.width, img.height), (self.width, self.height), "plan made for another size");
        let (w, h) = (img.width, img.height);
        for p in &self.pixelate {
            pixelate(&mut img.data, w, h, 3, p);
        }
        let rgb = yuv_to_rgb(MASK_YUV[0], MASK_YUV[1], MASK_YUV[2]);
        for m in &self.masks {
            fill_polygon(m, 1.0, w, h, |x, y| {
                let i = (y * w + x) * 3;
                img.data[i..i + 3].copy_from_slice(&rgb);
            });
        }
    }

    /// Hides in a decoded frame's planes directly (exports, `--privacy-out`): no RGB round trip.
    pub fn apply_frame(&self, f: &mut Frame) {
        debug_assert_eq!((f.width, f.height), (self.width, self.height), "plan made for another size");
        let (w, h, cw, ch) = (f.width, f.height, f.chroma_width(), f.chroma_height());
        for p in &self.pixelate {
            pixelate(&mut f.y, w, h, 1, p);
            let c = Hide {
                x0: p.x0 / 2,
                y0: p.y0 / 2,
                x1: p.x1.div_ceil(2),
                y1: p.y1.div_ceil(2),
                block: (p.block / 2).max(1),
            };
            pixelate(&mut f.u, cw, ch, 1, &c);
            pixelate(&mut f.v, cw, ch, 1, &c);
        }
        for m in &self.masks {
            fill_polygon(m, 1.0, w, h, |x, y| f.y[y * w + x] = MASK_YUV[0]);
            fill_polygon(m, 0.5, cw, ch, |x, y| {
                f.u[y * cw + x] = MASK_YUV[1];
                f.v[y * cw + x] = MASK_YUV[2];
            });
        }
    }
}

/// Replaces each block of the rectangle by its mean, channel by channel.
fn pixelate(buf: &mut [u8], w: usize, h: usize, chans: usize, p: &Hide) {
    let (x1, y1) = (p.x1.min(w), p.y1.min(h));
    let block = p.block.max(1);
    let mut by = p.y0;
    while by < y1 {
        let ey = (by + block).min(y1);
        let mut bx = p.x0;
        while bx < x1 {
            let ex = (bx + block).min(x1);
            let mut sum = [0u32; 4];
            for y in by..ey {
                let row = &buf[(y * w + bx) * chans..(y * w + ex) * chans];
                for px in row.chunks_exact(chans) {
                    for (s, &v) in sum.iter_mut().zip(px) {
                        *s += v as u32;
                    }
                }
            }
            let n = ((ey - by) * (ex - bx)) as u32;
            let mut avg = [0u8; 4];
            for k in 0..chans {
                avg[k] = ((sum[k] + n / 2) / n) as u8;
            }
            for y in by..ey {
                let row = &mut buf[(y * w + bx) * chans..(y * w + ex) * chans];
                for px in row.chunks_exact_mut(chans) {
                    px.copy_from_slice(&avg[..chans]);
                }
            }
            bx = ex;
        }
        by = ey;
    }
}

/// Calls `put` for every pixel whose centre is inside the polygon scaled by `s` (even-odd rule,
/// scanlines), clipped to `w` × `h`.
fn fill_polygon(poly: &Polygon, s: f32, w: usize, h: usize, mut put: impl FnMut(usize, usize)) {
    let pts: Vec<(f32, f32)> = poly.points.iter().map(|&(x, y)| (x * s, y * s)).collect();
    if pts.len() < 3 {
        return;
    }
    let b = Polygon::new(pts.clone()).bbox();
    let y_from = (b.y1.floor().max(0.0) as usize).min(h);
    let y_to = (b.y2.ceil().max(0.0) as usize).min(h);
    let mut xs = Vec::new();
    for y in y_from..y_to {
        let cy = y as f32 + 0.5;
        xs.clear();
        for k in 0..pts.len() {
            let (a, c) = (pts[k], pts[(k + 1) % pts.len()]);
            if (a.1 > cy) != (c.1 > cy) {
                xs.push(a.0 + (cy - a.1) / (c.1 - a.1) * (c.0 - a.0));
            }
        }
        xs.sort_by(f32::total_cmp);
        for pair in xs.chunks_exact(2) {
            // Pixels whose centre x + 0.5 lies in [pair[0], pair[1]).
            let from = (pair[0] - 0.5).ceil().max(0.0) as usize;
            let to = ((pair[1] - 0.5).ceil().max(0.0) as usize).min(w);
            for x in from..to {
                put(x, y);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs<'a>(
        people: &'a [BBox],
        vehicles: &'a [BBox],
        motion: &'a [BBox],
        masks: &'a [Polygon],
    ) -> PrivacyInputs<'a> {
        PrivacyInputs { width: 320, height: 240, people, vehicles, motion, masks, undecidable: None }
    }

    fn checker(w: usize, h: usize) -> RgbImage {
        let mut img = RgbImage::new(w, h);
        for y in 0..h {
            for x in 0..w {
                let v = if (x + y) % 2 == 0 { 250 } else { 10 };
                img.put(x, y, [v, v, v]);
            }
        }
        img
    }

    /// Pixels of `r` that differ from their right neighbour: detail left.
    fn detail(img: &RgbImage, r: (usize, usize, usize, usize)) -> f32 {
        let (mut d, mut n) = (0, 0);
        for y in r.1..r.3 {
            for x in r.0..r.2 - 1 {
                n += 1;
                d += (img.pixel(x, y) != img.pixel(x + 1, y)) as usize;
            }
        }
        d as f32 / n as f32
    }

    #[test]
    fn people_and_unexplained_motion_are_hidden_vehicles_and_scene_stay_clear() {
        let person = BBox::new(40.0, 40.0, 70.0, 120.0);
        let car = BBox::new(180.0, 150.0, 300.0, 220.0);
        // Legs of a person the detector missed, and the car's own motion.
        let legs = BBox::new(110.0, 100.0, 130.0, 130.0);
        let car_motion = BBox::new(190.0, 160.0, 290.0, 215.0);
        let plan = decide(&inputs(&[person], &[car], &[legs, car_motion], &[]));
        assert!(plan.whole_frame.is_none());
        let mut img = checker(320, 240);
        plan.apply(&mut img);
        assert!(detail(&img, (42, 42, 68, 118)) < 0.2, "detected person pixelated");
        // The missed person stands above their legs: the margin covers the torso too.
        assert!(detail(&img, (108, 84, 132, 130)) < 0.2, "missed person hidden by motion");
        assert!(detail(&img, (200, 170, 280, 210)) > 0.9, "the car stays clear");
        assert!(detail(&img, (250, 10, 310, 60)) > 0.9, "the static scene stays clear");
    }

    #[test]
    fn undecidable_frames_are_pixelated_whole_and_masks_are_always_opaque() {
        let mask = Polygon::new(vec![(200.0, 20.0), (260.0, 20.0), (260.0, 80.0), (200.0, 80.0)]);
        let plan = decide(&PrivacyInputs {
            undecidable: Some("detector: model failed"),
            ..inputs(&[], &[], &[], &[mask.clone()])
        });
        assert_eq!(plan.whole_frame.as_deref(), Some("detector: model failed"));
        let mut img = checker(320, 240);
        plan.apply(&mut img);
        assert!(detail(&img, (0, 0, 320, 240)) < 0.2, "nothing left in clear: {}", detail(&img, (0, 0, 320, 240)));
        let grey = yuv_to_rgb(MASK_YUV[0], MASK_YUV[1], MASK_YUV[2]);
        assert_eq!(img.pixel(230, 50), grey);

        // A clear (unmasked) picture still hides the mask, and only the mask.
        let mut img = checker(320, 240);
        HidePlan::masks_only(320, 240, &[mask]).apply(&mut img);
        assert_eq!(img.pixel(200, 20), grey);
        assert_eq!(img.pixel(259, 79), grey);
        assert_ne!(img.pixel(199, 50), grey);
        assert_ne!(img.pixel(260, 50), grey);
        assert!(detail(&img, (0, 100, 320, 240)) > 0.99);
    }

    #[test]
    fn frames_and_scaled_pictures_hide_the_same_places() {
        let mut rgb = checker(320, 240);
        let mask = Polygon::new(vec![(10.0, 10.0), (60.0, 10.0), (10.0, 60.0)]);
        let plan = decide(&inputs(&[BBox::new(100.0, 100.0, 140.0, 200.0)], &[], &[], &[mask]));
        let mut frame = Frame::from_rgb(320, 240, &rgb.data);
        plan.apply_frame(&mut frame);
        plan.apply(&mut rgb);
        let from_frame = RgbImage::from_frame(&frame);
        // Same masked pixels, same flattened person (YUV vs RGB rounding apart).
        assert_eq!(from_frame.pixel(15, 15), rgb.pixel(15, 15));
        assert!(detail(&from_frame, (102, 102, 138, 198)) < 0.2);
        let half = plan.scaled(0.5);
        assert_eq!((half.width, half.height), (160, 120));
        let mut small = checker(160, 120);
        half.apply(&mut small);
        assert!(detail(&small, (51, 51, 69, 99)) < 0.3, "{}", detail(&small, (51, 51, 69, 99)));
        assert_eq!(small.pixel(8, 8), rgb.pixel(15, 15));
    }
}
