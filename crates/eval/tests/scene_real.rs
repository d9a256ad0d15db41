//! The scene model on real decoded footage (PETS 2009) with an object composited in.

use std::path::Path;
use vigie_eval::scenario_gen::{dumped_sprite, read_clip, relight, Dumped, Rng};
use vigie_rules::scene::{SceneModel, CELL, STATIC_MIN_S};

fn pets(from: f64, to: f64) -> (Vec<vigie_core::Frame>, f64) {
    read_clip(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/video/pets09-s2l1.mp4"), from, to).unwrap()
}

/// Cells of the grass below the plaza, where nobody walks in the first 20 s.
fn static_cells(m: &SceneModel, x0: usize, y0: usize, x1: usize, y1: usize) -> usize {
    let mut n = 0;
    for y in y0 / CELL..y1 / CELL {
        for x in x0 / CELL..x1 / CELL {
            n += (m.static_s[y * m.w + x] >= STATIC_MIN_S) as usize;
        }
    }
    n
}

#[test]
fn composited_object_becomes_static_then_clears_and_dimming_does_nothing() {
    let (frames, fps) = pets(0.0, 20.0);
    let bag = dumped_sprite(Dumped::RubbishBag, 48, 32, &mut Rng::new(5));
    let mut m = SceneModel::new(768, 576, true);
    let mut first_static = None;
    let mut cleared_at = None;
    for (i, f) in frames.iter().enumerate() {
        let t = i as f64 / fps;
        let mut f = f.clone();
        if (5.0..14.0).contains(&t) {
            bag.draw(&mut f, 120, 420, 1.0, &|_, _| true);
        }
        m.update(&f, (1.0 / fps) as f32);
        let n = static_cells(&m, 120, 420, 168, 452);
        if n >= 20 && first_static.is_none() {
            first_static = Some(t);
        }
        if t >= 14.0 && n == 0 && cleared_at.is_none() {
            cleared_at = Some(t);
        }
        // Nothing else on the grass turns static.
        assert_eq!(static_cells(&m, 200, 420, 400, 560), 0, "t={t}");
    }
    let s = first_static.expect("the bag became static foreground");
    assert!((5.5..=9.0).contains(&s), "static after {s} s");
    let c = cleared_at.expect("cleared once the bag is gone");
    assert!(c <= 14.5, "cleared at {c}");

    // The same stretch dimming to 60 %: no static region anywhere on the grass.
    let mut m = SceneModel::new(768, 576, true);
    for (i, f) in frames.iter().enumerate() {
        let g = 1.0 - 0.4 * ((i as f64 / fps - 4.0) / 10.0).clamp(0.0, 1.0) as f32;
        let mut f = f.clone();
        relight(&mut f, &|_, _| g);
        m.update(&f, (1.0 / fps) as f32);
        assert_eq!(static_cells(&m, 0, 400, 768, 576), 0, "frame {i}");
    }
    // Light scales luma above black (16), so the ratio of mid-grey pixels is a little above 0.6.
    assert!(m.gain > 0.6 && m.gain < 0.72, "gain follows the light: {}", m.gain);
}
