//! ByteTrack's (and DeepSORT's) constant-velocity Kalman filter on `(cx, cy, aspect, h)`.
//!
//! The reference keeps an 8×8 covariance, but its transition only couples each coordinate with its
//! own velocity and its noises (initial, process, measurement) are diagonal, so a covariance that
//! starts diagonal stays block-diagonal: four independent position/velocity filters sharing the
//! height-scaled noise. Running them as 2×2 blocks gives the same numbers for a fraction of the work.
//!
//! The noise stays per frame whatever the frame rate, as in ByteTrack: rescaling it to the frame
//! interval (continuous white-noise model, tuned at 30 fps) was tried at 7 fps and made identities
//! less stable on synthetic plazas (IDF1 −5) for no gain on PETS09 frames 1–40.

use vigie_core::BBox;

const STD_POSITION: f64 = 1.0 / 20.0;
const STD_VELOCITY: f64 = 1.0 / 160.0;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Kalman {
    /// `cx, cy, aspect (w/h), h`.
    pos: [f64; 4],
    /// Their change per frame interval.
    vel: [f64; 4],
    p00: [f64; 4],
    p01: [f64; 4],
    p11: [f64; 4],
}

fn measurement(b: &BBox) -> [f64; 4] {
    let (cx, cy) = b.center();
    let h = b.height() as f64;
    [cx as f64, cy as f64, b.width() as f64 / h, h]
}

impl Kalman {
    /// `b` must have a positive height.
    pub(crate) fn new(b: &BBox) -> Self {
        let z = measurement(b);
        let h = z[3];
        let sp = [2.0 * STD_POSITION * h, 2.0 * STD_POSITION * h, 1e-2, 2.0 * STD_POSITION * h];
        let sv = [10.0 * STD_VELOCITY * h, 10.0 * STD_VELOCITY * h, 1e-5, 10.0 * STD_VELOCITY * h];
        Self { pos: z, vel: [0.0; 4], p00: sp.map(|s| s * s), p01: [0.0; 4], p11: sv.map(|s| s * s) }
    }

    /// One frame interval ahead. Lost tracks stop changing size, as in ByteTrack.
    pub(crate) fn predict(&mut self, freeze_height: bool) {
        if freeze_height {
            self.vel[3] = 0.0;
        }
        let h = self.pos[3];
        let qp = [STD_POSITION * h, STD_POSITION * h, 1e-2, STD_POSITION * h];
        let qv = [STD_VELOCITY * h, STD_VELOCITY * h, 1e-5, STD_VELOCITY * h];
        for i in 0..4 {
            self.pos[i] += self.vel[i];
            self.p00[i] += 2.0 * self.p01[i] + self.p11[i] + qp[i] * qp[i];
            self.p01[i] += self.p11[i];
            self.p11[i] += qv[i] * qv[i];
        }
    }

    /// `b` must have a positive height.
    pub(crate) fn update(&mut self, b: &BBox) {
        let z = measurement(b);
        let h = self.pos[3];
        let r = [STD_POSITION * h, STD_POSITION * h, 1e-1, STD_POSITION * h];
        for i in 0..4 {
            let s = self.p00[i] + r[i] * r[i];
            let k0 = self.p00[i] / s;
            let k1 = self.p01[i] / s;
            let innovation = z[i] - self.pos[i];
            self.pos[i] += k0 * innovation;
            self.vel[i] += k1 * innovation;
            // P − K S Kᵀ with K = (p00, p01) / s.
            let (p00, p01) = (self.p00[i], self.p01[i]);
            self.p00[i] = p00 - k0 * p00;
            self.p01[i] = p01 - k0 * p01;
            self.p11[i] -= k1 * p01;
        }
    }

    pub(crate) fn bbox(&self) -> BBox {
        let [cx, cy, a, h] = self.pos;
        let w = a * h;
        BBox::new((cx - w / 2.0) as f32, (cy - h / 2.0) as f32, (cx + w / 2.0) as f32, (cy + h / 2.0) as f32)
    }

    /// Centre velocity, pixels per frame interval.
    pub(crate) fn center_velocity(&self) -> (f64, f64) {
        (self.vel[0], self.vel[1])
    }
}

#[cfg(test)]
// The reference filter is matrix algebra written as in the textbook, indices and all.
#[allow(clippy::needless_range_loop)]
mod tests {
    use super::*;

    /// The reference 8×8 filter, written out with full matrices, to check the 2×2 decomposition.
    struct Full {
        mean: [f64; 8],
        cov: [[f64; 8]; 8],
    }

    fn matmul<const A: usize, const B: usize, const C: usize>(x: &[[f64; B]; A], y: &[[f64; C]; B]) -> [[f64; C]; A] {
        let mut r = [[0.0; C]; A];
        for i in 0..A {
            for j in 0..C {
                r[i][j] = (0..B).map(|k| x[i][k] * y[k][j]).sum();
            }
        }
        r
    }

    fn transpose<const A: usize, const B: usize>(x: &[[f64; B]; A]) -> [[f64; A]; B] {
        let mut r = [[0.0; A]; B];
        for i in 0..A {
            for j in 0..B {
                r[j][i] = x[i][j];
            }
        }
        r
    }

    fn inv4(m: &[[f64; 4]; 4]) -> [[f64; 4]; 4] {
        // Gauss–Jordan; the projected covariance is symmetric positive definite.
        let mut a = *m;
        let mut inv = [[0.0; 4]; 4];
        for (i, row) in inv.iter_mut().enumerate() {
            row[i] = 1.0;
        }
        for c in 0..4 {
            let piv = a[c][c];
            for j in 0..4 {
                a[c][j] /= piv;
                inv[c][j] /= piv;
            }
            for r in 0..4 {
                if r != c {
                    let f = a[r][c];
                    for j in 0..4 {
                        a[r][j] -= f * a[c][j];
                        inv[r][j] -= f * inv[c][j];
                    }
                }
            }
        }
        inv
    }

    impl Full {
        fn new(z: [f64; 4]) -> Self {
            let h = z[3];
            let std = [
                2.0 * STD_POSITION * h,
                2.0 * STD_POSITION * h,
                1e-2,
                2.0 * STD_POSITION * h,
                10.0 * STD_VELOCITY * h,
                10.0 * STD_VELOCITY * h,
                1e-5,
                10.0 * STD_VELOCITY * h,
            ];
            let mut cov = [[0.0; 8]; 8];
            for i in 0..8 {
                cov[i][i] = std[i] * std[i];
            }
            let mut mean = [0.0; 8];
            mean[..4].copy_from_slice(&z);
            Self { mean, cov }
        }
        fn predict(&mut self) {
            let h = self.mean[3];
            let std = [
                STD_POSITION * h,
                STD_POSITION * h,
                1e-2,
                STD_POSITION * h,
                STD_VELOCITY * h,
                STD_VELOCITY * h,
                1e-5,
                STD_VELOCITY * h,
            ];
            let mut f = [[0.0; 8]; 8];
            for i in 0..8 {
                f[i][i] = 1.0;
            }
            for i in 0..4 {
                f[i][i + 4] = 1.0;
            }
            let mut mean = [0.0; 8];
            for i in 0..8 {
                mean[i] = (0..8).map(|k| f[i][k] * self.mean[k]).sum();
            }
            self.mean = mean;
            self.cov = matmul(&matmul(&f, &self.cov), &transpose(&f));
            for i in 0..8 {
                self.cov[i][i] += std[i] * std[i];
            }
        }
        fn update(&mut self, z: [f64; 4]) {
            let h = self.mean[3];
            let r = [STD_POSITION * h, STD_POSITION * h, 1e-1, STD_POSITION * h];
            let mut hm = [[0.0; 8]; 4];
            for i in 0..4 {
                hm[i][i] = 1.0;
            }
            let mut s = matmul(&matmul(&hm, &self.cov), &transpose(&hm));
            for i in 0..4 {
                s[i][i] += r[i] * r[i];
            }
            let k = matmul(&matmul(&self.cov, &transpose(&hm)), &inv4(&s));
            let innov: [f64; 4] = std::array::from_fn(|i| z[i] - self.mean[i]);
            for i in 0..8 {
                self.mean[i] += (0..4).map(|j| k[i][j] * innov[j]).sum::<f64>();
            }
            let ksk = matmul(&matmul(&k, &s), &transpose(&k));
            for i in 0..8 {
                for j in 0..8 {
                    self.cov[i][j] -= ksk[i][j];
                }
            }
        }
    }

    #[test]
    fn block_filter_equals_the_full_reference_filter() {
        let boxes = [
            BBox::new(100.0, 50.0, 130.0, 130.0),
            BBox::new(104.0, 52.0, 135.0, 133.0),
            BBox::new(109.0, 51.0, 139.0, 135.0),
            BBox::new(113.0, 55.0, 142.0, 136.0),
        ];
        let mut k = Kalman::new(&boxes[0]);
        let mut f = Full::new(measurement(&boxes[0]));
        for (n, b) in boxes[1..].iter().enumerate() {
            k.predict(false);
            f.predict();
            if n != 1 {
                k.update(b);
                f.update(measurement(b));
            }
            for i in 0..4 {
                assert!((k.pos[i] - f.mean[i]).abs() < 1e-9, "pos {i}: {} vs {}", k.pos[i], f.mean[i]);
                assert!((k.vel[i] - f.mean[i + 4]).abs() < 1e-9, "vel {i}");
                assert!((k.p00[i] - f.cov[i][i]).abs() < 1e-9 * f.cov[i][i].max(1.0), "p00 {i}");
                assert!((k.p01[i] - f.cov[i][i + 4]).abs() < 1e-9 * f.cov[i][i].max(1.0), "p01 {i}");
                assert!((k.p11[i] - f.cov[i + 4][i + 4]).abs() < 1e-9 * f.cov[i][i].max(1.0), "p11 {i}");
            }
            for i in 0..8 {
                for j in 0..8 {
                    if j != i && j != (i + 4) % 8 {
                        assert!(f.cov[i][j].abs() < 1e-12, "coupling ({i},{j}) = {}", f.cov[i][j]);
                    }
                }
            }
        }
    }

    #[test]
    fn learns_constant_velocity() {
        let mut k = Kalman::new(&BBox::new(0.0, 0.0, 20.0, 60.0));
        for t in 1..30 {
            k.predict(false);
            let x = 3.0 * t as f32;
            k.update(&BBox::new(x, 0.0, x + 20.0, 60.0));
        }
        let (vx, vy) = k.center_velocity();
        assert!((vx - 3.0).abs() < 0.05 && vy.abs() < 0.05, "{vx} {vy}");
        k.predict(true);
        let b = k.bbox();
        assert!((b.x1 - 90.0).abs() < 0.5 && (b.height() - 60.0).abs() < 0.1, "{b:?}");
    }
}
