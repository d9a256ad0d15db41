//! Plane geometry the counter needs: sides of a polyline, segment crossings, distances to a
//! polygon's edges. Image coordinates (y down), in pixels.

pub type Pt = (f64, f64);

fn cross(o: Pt, a: Pt, b: Pt) -> f64 {
    (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
}

/// Distance from `p` to the segment `a`–`b`.
pub fn dist_to_segment(p: Pt, a: Pt, b: Pt) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 == 0.0 { 0.0 } else { (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / len2).clamp(0.0, 1.0) };
    let (qx, qy) = (a.0 + t * dx, a.1 + t * dy);
    (p.0 - qx).hypot(p.1 - qy)
}

/// Which side of the polyline `p` lies on, and how far from it: negative on its left, positive
/// on its right, looking along it from its first point to its last. In image coordinates (y
/// down) "left" is as seen on the screen: for a line drawn left to right, the upper side. The
/// nearest segment decides.
pub fn signed_distance(line: &[Pt], p: Pt) -> f64 {
    let mut best = (f64::INFINITY, 0.0);
    for w in line.windows(2) {
        let (a, b) = (w[0], w[1]);
        if a == b {
            continue;
        }
        let d = dist_to_segment(p, a, b);
        if d < best.0 {
            best = (d, cross(a, b, p));
        }
    }
    if best.1 < 0.0 {
        -best.0
    } else {
        best.0
    }
}

/// Whether the segments `p`–`q` and `a`–`b` touch or cross.
pub fn segments_meet(p: Pt, q: Pt, a: Pt, b: Pt) -> bool {
    let d1 = cross(a, b, p);
    let d2 = cross(a, b, q);
    let d3 = cross(p, q, a);
    let d4 = cross(p, q, b);
    if ((d1 > 0.0 && d2 < 0.0) || (d1 < 0.0 && d2 > 0.0)) && ((d3 > 0.0 && d4 < 0.0) || (d3 < 0.0 && d4 > 0.0)) {
        return true;
    }
    let on = |o: Pt, s: Pt, e: Pt, c: f64| {
        c == 0.0 && o.0.min(e.0) <= s.0 && s.0 <= o.0.max(e.0) && o.1.min(e.1) <= s.1 && s.1 <= o.1.max(e.1)
    };
    on(a, p, b, d1) || on(a, q, b, d2) || on(p, a, q, d3) || on(p, b, q, d4)
}

/// Whether the step `p`–`q` meets the polyline.
pub fn step_meets_line(line: &[Pt], p: Pt, q: Pt) -> bool {
    line.windows(2).any(|w| segments_meet(p, q, w[0], w[1]))
}

/// Whether `p` is inside the polygon (even-odd rule).
pub fn inside(poly: &[Pt], p: Pt) -> bool {
    let mut c = false;
    let n = poly.len();
    for i in 0..n {
        let (a, b) = (poly[i], poly[(i + n - 1) % n]);
        if (a.1 > p.1) != (b.1 > p.1) && p.0 < (b.0 - a.0) * (p.1 - a.1) / (b.1 - a.1) + a.0 {
            c = !c;
        }
    }
    c
}

/// Distance from `p` to the polygon's outline.
pub fn dist_to_outline(poly: &[Pt], p: Pt) -> f64 {
    let n = poly.len();
    (0..n).map(|i| dist_to_segment(p, poly[i], poly[(i + 1) % n])).fold(f64::INFINITY, f64::min)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn left_is_the_upper_side_of_a_line_drawn_left_to_right() {
        let l = [(0.0, 100.0), (200.0, 100.0)];
        assert_eq!(signed_distance(&l, (50.0, 90.0)), -10.0);
        assert_eq!(signed_distance(&l, (50.0, 130.0)), 30.0);
        // A bent polyline: the nearest segment decides.
        let bent = [(0.0, 100.0), (100.0, 100.0), (100.0, 0.0)];
        // Looking up the picture along the second segment, its left is the picture's left.
        assert!(signed_distance(&bent, (90.0, 20.0)) < 0.0, "left of the upward segment");
        assert!(signed_distance(&bent, (110.0, 20.0)) > 0.0);
    }

    #[test]
    fn crossings_and_outlines() {
        let l = [(0.0, 100.0), (200.0, 100.0)];
        assert!(step_meets_line(&l, (50.0, 90.0), (52.0, 110.0)));
        assert!(!step_meets_line(&l, (250.0, 90.0), (250.0, 110.0)), "beyond the end");
        assert!(step_meets_line(&l, (50.0, 90.0), (50.0, 100.0)), "touching");
        let sq = [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)];
        assert!(inside(&sq, (5.0, 5.0)) && !inside(&sq, (15.0, 5.0)));
        assert_eq!(dist_to_outline(&sq, (5.0, 3.0)), 3.0);
    }
}
