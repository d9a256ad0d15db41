//! Image ↔ ground-plane geometry: zone polygons in pixels, and the homography that turns pixels
//! into metres when a camera is calibrated.

use vigie_core::Polygon;

/// Maps image points (pixels) to ground-plane points (metres) through a 3×3 homography.
#[derive(Debug, Clone, PartialEq)]
pub struct Homography {
    /// Row-major, `h[8] == 1`.
    pub h: [f64; 9],
}

impl Homography {
    /// The homography taking each `src[i]` to `dst[i]`. `None` when the points are degenerate
    /// (three of them on a line on either side, or coincident points).
    pub fn from_points(src: &[(f64, f64); 4], dst: &[(f64, f64); 4]) -> Option<Homography> {
        if has_collinear_triple(src) || has_collinear_triple(dst) {
            return None;
        }
        // Eight equations in h0..h7 (h8 = 1): for each pair,
        //   x' = (h0 x + h1 y + h2) / (h6 x + h7 y + 1)
        //   y' = (h3 x + h4 y + h5) / (h6 x + h7 y + 1)
        let mut a = [[0.0f64; 9]; 8];
        for i in 0..4 {
            let (x, y) = src[i];
            let (u, v) = dst[i];
            a[2 * i] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
            a[2 * i + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
        }
        let sol = solve8(a)?;
        let h = [sol[0], sol[1], sol[2], sol[3], sol[4], sol[5], sol[6], sol[7], 1.0];
        h.iter().all(|v| v.is_finite()).then_some(Homography { h })
    }

    /// Projective denominator at a point: its sign tells which side of the horizon the point is.
    pub fn w(&self, x: f64, y: f64) -> f64 {
        self.h[6] * x + self.h[7] * y + self.h[8]
    }

    pub fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        let h = &self.h;
        let w = self.w(x, y);
        ((h[0] * x + h[1] * y + h[2]) / w, (h[3] * x + h[4] * y + h[5]) / w)
    }

    /// Ground distance covered by one image pixel horizontally at `(x, y)`, in metres: the local
    /// scale used to turn a box size into metres.
    pub fn metres_per_px(&self, x: f64, y: f64) -> f64 {
        let a = self.apply(x - 0.5, y);
        let b = self.apply(x + 0.5, y);
        ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt()
    }
}

fn has_collinear_triple(p: &[(f64, f64); 4]) -> bool {
    // Scale-aware tolerance: twice the triangle area against the squared extent of the points.
    let ext = p.iter().flat_map(|q| [q.0.abs(), q.1.abs()]).fold(1e-9, f64::max);
    let tol = 1e-6 * ext * ext;
    for (i, j, k) in [(0, 1, 2), (0, 1, 3), (0, 2, 3), (1, 2, 3)] {
        let cross = (p[j].0 - p[i].0) * (p[k].1 - p[i].1) - (p[j].1 - p[i].1) * (p[k].0 - p[i].0);
        if cross.abs() <= tol {
            return true;
        }
    }
    false
}

/// Gaussian elimination with partial pivoting on an augmented 8×9 system.
fn solve8(mut a: [[f64; 9]; 8]) -> Option<[f64; 8]> {
    for col in 0..8 {
        let piv = (col..8).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[piv][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, piv);
        let pivot = a[col];
        for (r, row) in a.iter_mut().enumerate() {
            if r != col {
                let f = row[col] / pivot[col];
                if f != 0.0 {
                    for (v, p) in row.iter_mut().zip(pivot.iter()).skip(col) {
                        *v -= f * p;
                    }
                }
            }
        }
    }
    let mut x = [0.0; 8];
    for (i, (xi, row)) in x.iter_mut().zip(a.iter()).enumerate() {
        *xi = row[8] / row[i];
    }
    Some(x)
}

/// Config points are normalised when every coordinate lies in [0, 1]; otherwise they are pixels.
pub fn is_normalised(points: &[[f64; 2]]) -> bool {
    points.iter().all(|p| (0.0..=1.0).contains(&p[0]) && (0.0..=1.0).contains(&p[1]))
}

/// Config points as pixels of a `w`×`h` frame.
pub fn to_pixels(points: &[[f64; 2]], w: usize, h: usize) -> Vec<(f64, f64)> {
    if is_normalised(points) {
        points.iter().map(|p| (p[0] * w as f64, p[1] * h as f64)).collect()
    } else {
        points.iter().map(|p| (p[0], p[1])).collect()
    }
}

pub fn to_polygon(points: &[(f64, f64)]) -> Polygon {
    Polygon::new(points.iter().map(|&(x, y)| (x as f32, y as f32)).collect())
}

/// Shoelace area of a polygon given as f64 points.
pub fn polygon_area(p: &[(f64, f64)]) -> f64 {
    let mut s = 0.0;
    for i in 0..p.len() {
        let (x1, y1) = p[i];
        let (x2, y2) = p[(i + 1) % p.len()];
        s += x1 * y2 - x2 * y1;
    }
    (s * 0.5).abs()
}

/// Rasterises a polygon onto a grid of `gw`×`gh` cells, each `cell` pixels wide, testing cell
/// centres. Used for the scene models' downscaled zone masks.
pub fn rasterise(poly: &Polygon, gw: usize, gh: usize, cell: f32) -> Vec<bool> {
    let mut m = vec![false; gw * gh];
    let bb = poly.bbox();
    for gy in 0..gh {
        let cy = (gy as f32 + 0.5) * cell;
        if cy < bb.y1 || cy > bb.y2 {
            continue;
        }
        for gx in 0..gw {
            let cx = (gx as f32 + 0.5) * cell;
            if cx >= bb.x1 && cx <= bb.x2 && poly.contains(cx, cy) {
                m[gy * gw + gx] = true;
            }
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn homography_maps_calibration_points_and_is_projective() {
        // A 10 m × 20 m rectangle seen in perspective: far edge shorter in the image.
        let img = [(300.0, 200.0), (500.0, 200.0), (700.0, 500.0), (100.0, 500.0)];
        let ground = [(0.0, 20.0), (10.0, 20.0), (10.0, 0.0), (0.0, 0.0)];
        let h = Homography::from_points(&img, &ground).unwrap();
        for (p, q) in img.iter().zip(ground.iter()) {
            let r = h.apply(p.0, p.1);
            assert!((r.0 - q.0).abs() < 1e-6 && (r.1 - q.1).abs() < 1e-6, "{p:?} -> {r:?}, want {q:?}");
        }
        // Image midpoint of the near edge is ground midpoint (lines map to lines, near edge is parallel).
        let m = h.apply(400.0, 500.0);
        assert!((m.0 - 5.0).abs() < 1e-6 && m.1.abs() < 1e-6, "{m:?}");
        // The image midpoint of the trapezoid is NOT the ground midpoint: perspective puts the
        // ground centre line (y = 10 m) higher in the image, nearer the far edge.
        let c = h.apply(400.0, 350.0);
        assert!(c.1 < 10.0, "centre of the image trapezoid is nearer than the ground centre: {c:?}");
        // Scale: near edge is 600 px for 10 m, far edge 200 px for 10 m.
        assert!((h.metres_per_px(400.0, 500.0) - 10.0 / 600.0).abs() < 1e-6);
        assert!((h.metres_per_px(400.0, 200.0) - 10.0 / 200.0).abs() < 1e-6);
    }

    #[test]
    fn degenerate_points_are_refused() {
        let collinear = [(0.0, 0.0), (1.0, 1.0), (2.0, 2.0), (0.0, 5.0)];
        let ground = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)];
        assert!(Homography::from_points(&collinear, &ground).is_none());
        assert!(Homography::from_points(&ground, &collinear).is_none());
        let repeated = [(0.0, 0.0), (0.0, 0.0), (1.0, 1.0), (0.0, 1.0)];
        assert!(Homography::from_points(&repeated, &ground).is_none());
    }

    #[test]
    fn normalised_points_scale_to_the_frame() {
        let p = to_pixels(&[[0.5, 1.0], [0.0, 0.25]], 768, 576);
        assert_eq!(p, vec![(384.0, 576.0), (0.0, 144.0)]);
        let px = to_pixels(&[[10.0, 1.0], [0.0, 0.25]], 768, 576);
        assert_eq!(px, vec![(10.0, 1.0), (0.0, 0.25)]);
    }

    #[test]
    fn rasterised_square_has_its_area() {
        let sq = to_polygon(&[(8.0, 8.0), (24.0, 8.0), (24.0, 24.0), (8.0, 24.0)]);
        let m = rasterise(&sq, 10, 10, 4.0);
        assert_eq!(m.iter().filter(|&&b| b).count(), 16);
        assert!(m[2 * 10 + 2] && !m[0] && !m[6 * 10 + 6]);
    }
}
