//! The evidence stage: the pictures of an alert, rendered once, when it opens, from what the
//! rules engine says matters ([`Evidence`]). One anonymisation policy for both pictures:
//!
//! - the **pixelated** picture is what operators see: what the frame's [`HidePlan`] hides (every
//!   person, the subject included, every person the detector saw even before they became
//!   tracks, every unexplained motion; the whole frame when that cannot be decided);
//! - the **clear** picture is what a supervisor's audited unmask reveals: the subjects clear,
//!   bystanders still pixelated (all of them for a crowd, which has no single subject).
//!
//! Both fill the camera's privacy masks: an unmask never reveals a mask.

use vigie_core::{ClassMap, Frame, TrackedObject};
use vigie_imaging::privacy::HidePlan;
use vigie_imaging::RgbImage;
use vigie_rules::Evidence;

/// One quality for both pictures, so that unmasking shows the same detail, only unblurred.
pub const EVIDENCE_JPEG_QUALITY: u8 = 85;
const ZONE_COLOUR: [u8; 3] = [255, 200, 0];
const REGION_COLOUR: [u8; 3] = [255, 40, 40];

/// Both pictures of an event, JPEG.
pub struct Pictures {
    pub pixelated: Vec<u8>,
    pub clear: Vec<u8>,
}

pub struct EvidenceStage {
    person: Option<u16>,
}

impl EvidenceStage {
    pub fn new(classes: &ClassMap) -> Self {
        Self { person: classes.id("person") }
    }

    fn is_person(&self, t: &TrackedObject) -> bool {
        Some(t.class_id) == self.person
    }

    /// `plan`: what the frame's pictures hide (`vigie_imaging::privacy::decide`).
    pub fn render(&self, frame: &Frame, tracks: &[TrackedObject], plan: &HidePlan, ev: &Evidence) -> Pictures {
        let base = RgbImage::from_frame(frame);
        let persons = || tracks.iter().filter(|t| self.is_person(t));
        let mut clear = base.clone();
        for t in persons().filter(|t| ev.blur_all || !ev.subjects.contains(&t.track_id)) {
            clear.anonymise(&t.bbox);
        }
        HidePlan::masks_only(plan.width, plan.height, &plan.masks).apply(&mut clear);
        let mut pixelated = base;
        plan.apply(&mut pixelated);
        let subject_is_person = persons().any(|t| ev.subjects.contains(&t.track_id));
        if let (Some(r), true) = (ev.region, subject_is_person) {
            pixelated.anonymise(&r);
        }
        for img in [&mut clear, &mut pixelated] {
            img.draw_polygon(&ev.zone.points, ZONE_COLOUR, 2);
            if let Some(r) = ev.region {
                img.draw_rect(&r, REGION_COLOUR, 3);
            }
        }
        Pictures {
            pixelated: pixelated.encode_jpeg(EVIDENCE_JPEG_QUALITY),
            clear: clear.encode_jpeg(EVIDENCE_JPEG_QUALITY),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::CameraConfig;
    use std::time::{Duration, UNIX_EPOCH};
    use vigie_core::{BBox, Polygon};
    use vigie_imaging::privacy::{decide, PrivacyInputs};
    use vigie_rules::{CameraRules, EventsConfig};

    fn coco() -> ClassMap {
        ClassMap::parse(include_str!("../../../assets/models/coco80_labels.txt"))
    }

    fn textured(w: usize, h: usize) -> Frame {
        let mut rgb = vec![0u8; w * h * 3];
        for y in 0..h {
            for x in 0..w {
                let v = if (x / 2 + y / 2) % 2 == 0 { 230 } else { 20 };
                rgb[(y * w + x) * 3..][..3].copy_from_slice(&[v, v, v]);
            }
        }
        Frame::from_rgb(w, h, &rgb)
    }

    fn detail(img: &RgbImage, b: &BBox) -> f64 {
        // Mean absolute difference between horizontal neighbours: high for a sharp pattern.
        let (x0, y0, x1, y1) = img.clip(b).unwrap();
        let mut s = 0.0;
        let mut n = 0.0;
        for y in y0 + 4..y1 - 4 {
            for x in x0 + 4..x1 - 5 {
                s += (img.pixel(x, y)[1] as f64 - img.pixel(x + 1, y)[1] as f64).abs();
                n += 1.0;
            }
        }
        s / n
    }

    /// A box of `w`×`h` standing on the ground point `(x, y)`.
    fn at(x: f32, y: f32, w: f32, h: f32) -> BBox {
        BBox::new(x - w / 2.0, y - h, x + w / 2.0, y)
    }

    fn person(id: u64, b: BBox) -> TrackedObject {
        TrackedObject {
            track_id: id,
            bbox: b,
            score: 0.9,
            class_id: coco().id("person").unwrap(),
            age: 10,
            frames_since_update: 0,
            velocity: (0.0, 0.0),
        }
    }

    const CAMERA: &str = r#"
id = "cam"
url = "clip.mp4"
[[zones]]
name = "voie"
kind = "forbidden"
polygon = [[0.5, 0.5], [1.0, 0.5], [1.0, 1.0], [0.5, 1.0]]
[[rules]]
id = "intrusion-voie"
type = "intrusion"
zone = "voie"
legal_basis = "Arrêté municipal n° 2024-117, art. 3"
min_duration_s = 1.0
"#;

    /// The rules engine on a sharp frame with a subject in the zone and a bystander outside:
    /// the evidence it asks for, rendered.
    fn intrusion_pictures(people: &[BBox]) -> (RgbImage, RgbImage, BBox, BBox) {
        intrusion_pictures_with(people, None, &[])
    }

    fn intrusion_pictures_with(
        people: &[BBox],
        undecidable: Option<&str>,
        masks: &[Polygon],
    ) -> (RgbImage, RgbImage, BBox, BBox) {
        let c: CameraConfig = toml::from_str(CAMERA).unwrap();
        let (w, h) = (640, 480);
        let mut rules =
            CameraRules::new(&c.id, &c.zones, &c.rules, None, &EventsConfig::default(), (w, h), "sha", &coco())
                .unwrap();
        let mut frame = textured(w, h);
        let subject = at(450.0, 400.0, 40.0, 100.0);
        let bystander = at(100.0, 300.0, 40.0, 100.0);
        let tracks = [person(1, subject), person(2, bystander)];
        let stage = EvidenceStage::new(&coco());
        for i in 0..20u64 {
            frame.seq = i;
            let now = UNIX_EPOCH + Duration::from_secs(1_719_828_000) + Duration::from_millis(100 * i);
            rules.process(&frame, &tracks, now);
            if let Some(ev) = rules.evidence().first() {
                let mut boxes: Vec<BBox> = tracks.iter().map(|t| t.bbox).collect();
                boxes.extend_from_slice(people);
                let plan = decide(&PrivacyInputs {
                    width: w,
                    height: h,
                    people: &boxes,
                    vehicles: &[],
                    motion: &[],
                    masks,
                    undecidable,
                });
                let p = stage.render(&frame, &tracks, &plan, ev);
                let img = |j: &[u8]| RgbImage::decode_jpeg(j).unwrap();
                return (img(&p.clear), img(&p.pixelated), subject, bystander);
            }
        }
        panic!("the intrusion did not open");
    }

    #[test]
    fn unmasked_the_subject_is_clear_and_the_bystander_pixelated() {
        let (clear, _, subject, bystander) = intrusion_pictures(&[]);
        let (ds, db) = (detail(&clear, &subject), detail(&clear, &bystander));
        assert!(ds > 40.0, "subject left sharp: {ds}");
        assert!(db < 15.0, "bystander pixelated: {db}");
    }

    #[test]
    fn operators_see_every_person_pixelated_the_subject_included() {
        let untracked = at(200.0, 200.0, 40.0, 100.0);
        let (clear, pixelated, subject, bystander) = intrusion_pictures(&[untracked]);
        for (what, b) in [("subject", subject), ("bystander", bystander), ("untracked person", untracked)] {
            let d = detail(&pixelated, &b);
            assert!(d < 15.0, "{what} pixelated: {d}");
        }
        assert!(detail(&clear, &untracked) > 40.0, "a detection alone does not blur the unmasked picture");
    }

    #[test]
    fn a_failed_detector_pixelates_the_whole_snapshot_and_masks_survive_the_unmask() {
        let mask = Polygon::new(vec![(500.0, 20.0), (620.0, 20.0), (620.0, 120.0), (500.0, 120.0)]);
        let (clear, pixelated, subject, _) =
            intrusion_pictures_with(&[], Some("detector: inference failed (injected)"), &[mask]);
        for b in [BBox::new(20.0, 20.0, 200.0, 150.0), BBox::new(300.0, 150.0, 600.0, 300.0), subject] {
            let d = detail(&pixelated, &b);
            assert!(d < 15.0, "left in clear although nothing could be decided: {b:?} {d}");
        }
        assert!(detail(&clear, &subject) > 40.0, "the audited unmask still shows the subject");
        let inside = BBox::new(510.0, 30.0, 610.0, 110.0);
        for (what, img) in [("unmasked", &clear), ("pixelated", &pixelated)] {
            assert!(detail(img, &inside) < 1.0, "{what} picture shows the privacy mask");
            let p = img.pixel(560, 70);
            assert!(p.iter().all(|&c| (c as i32 - 48).abs() < 12), "{what}: mask not opaque grey: {p:?}");
        }
    }
}
