use serde::{Deserialize, Serialize};

/// Axis-aligned box in pixel coordinates, corners `(x1, y1)` top-left and `(x2, y2)` bottom-right.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct BBox {
    pub x1: f32,
    pub y1: f32,
    pub x2: f32,
    pub y2: f32,
}

impl BBox {
    pub const fn new(x1: f32, y1: f32, x2: f32, y2: f32) -> Self {
        Self { x1, y1, x2, y2 }
    }

    pub fn from_xywh(x: f32, y: f32, w: f32, h: f32) -> Self {
        Self::new(x, y, x + w, y + h)
    }

    pub fn width(&self) -> f32 {
        (self.x2 - self.x1).max(0.0)
    }

    pub fn height(&self) -> f32 {
        (self.y2 - self.y1).max(0.0)
    }

    pub fn area(&self) -> f32 {
        self.width() * self.height()
    }

    pub fn center(&self) -> (f32, f32) {
        ((self.x1 + self.x2) * 0.5, (self.y1 + self.y2) * 0.5)
    }

    /// Bottom centre: where a standing person or a vehicle touches the ground.
    pub fn foot(&self) -> (f32, f32) {
        ((self.x1 + self.x2) * 0.5, self.y2)
    }

    pub fn intersection(&self, o: &BBox) -> f32 {
        let w = (self.x2.min(o.x2) - self.x1.max(o.x1)).max(0.0);
        let h = (self.y2.min(o.y2) - self.y1.max(o.y1)).max(0.0);
        w * h
    }

    pub fn iou(&self, o: &BBox) -> f32 {
        let inter = self.intersection(o);
        let union = self.area() + o.area() - inter;
        if union <= 0.0 {
            0.0
        } else {
            inter / union
        }
    }

    pub fn clamp(&self, width: f32, height: f32) -> BBox {
        BBox::new(
            self.x1.clamp(0.0, width),
            self.y1.clamp(0.0, height),
            self.x2.clamp(0.0, width),
            self.y2.clamp(0.0, height),
        )
    }

    pub fn scale(&self, f: f32) -> BBox {
        BBox::new(self.x1 * f, self.y1 * f, self.x2 * f, self.y2 * f)
    }

    pub fn union(&self, o: &BBox) -> BBox {
        BBox::new(self.x1.min(o.x1), self.y1.min(o.y1), self.x2.max(o.x2), self.y2.max(o.y2))
    }

    pub fn contains_point(&self, x: f32, y: f32) -> bool {
        x >= self.x1 && x <= self.x2 && y >= self.y1 && y <= self.y2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iou_of_half_overlap() {
        let a = BBox::new(0.0, 0.0, 10.0, 10.0);
        let b = BBox::new(5.0, 0.0, 15.0, 10.0);
        assert!((a.iou(&b) - 50.0 / 150.0).abs() < 1e-6);
        assert_eq!(a.iou(&BBox::new(20.0, 20.0, 30.0, 30.0)), 0.0);
        assert_eq!(a.iou(&a), 1.0);
    }

    #[test]
    fn degenerate_boxes_have_zero_iou() {
        let z = BBox::new(3.0, 3.0, 3.0, 3.0);
        assert_eq!(z.iou(&z), 0.0);
    }
}

/// A simple polygon in pixel coordinates (zones, regions). Vertices in order, implicitly closed.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Polygon {
    pub points: Vec<(f32, f32)>,
}

impl Polygon {
    pub fn new(points: Vec<(f32, f32)>) -> Self {
        Self { points }
    }

    /// Even-odd rule; points on an edge may fall either way.
    pub fn contains(&self, x: f32, y: f32) -> bool {
        let p = &self.points;
        let mut inside = false;
        let mut j = p.len().wrapping_sub(1);
        for i in 0..p.len() {
            let (xi, yi) = p[i];
            let (xj, yj) = p[j];
            if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
                inside = !inside;
            }
            j = i;
        }
        inside
    }

    /// Shoelace area (absolute), in square pixels.
    pub fn area(&self) -> f32 {
        let p = &self.points;
        let mut s = 0.0;
        for i in 0..p.len() {
            let (x1, y1) = p[i];
            let (x2, y2) = p[(i + 1) % p.len()];
            s += x1 * y2 - x2 * y1;
        }
        (s * 0.5).abs()
    }

    pub fn bbox(&self) -> BBox {
        let mut b = BBox::new(f32::MAX, f32::MAX, f32::MIN, f32::MIN);
        for &(x, y) in &self.points {
            b = BBox::new(b.x1.min(x), b.y1.min(y), b.x2.max(x), b.y2.max(y));
        }
        b
    }

    /// True when no two non-adjacent edges cross (a zone drawn as a bow-tie is a config mistake).
    pub fn is_simple(&self) -> bool {
        let p = &self.points;
        let n = p.len();
        if n < 3 {
            return false;
        }
        fn cross(o: (f32, f32), a: (f32, f32), b: (f32, f32)) -> f32 {
            (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
        }
        for i in 0..n {
            for j in i + 1..n {
                if j == i + 1 || (i == 0 && j == n - 1) {
                    continue;
                }
                let (a, b, c, d) = (p[i], p[(i + 1) % n], p[j], p[(j + 1) % n]);
                let d1 = cross(c, d, a);
                let d2 = cross(c, d, b);
                let d3 = cross(a, b, c);
                let d4 = cross(a, b, d);
                if ((d1 > 0.0 && d2 < 0.0) || (d1 < 0.0 && d2 > 0.0))
                    && ((d3 > 0.0 && d4 < 0.0) || (d3 < 0.0 && d4 > 0.0))
                {
                    return false;
                }
            }
        }
        true
    }
}

#[cfg(test)]
mod polygon_tests {
    use super::*;

    #[test]
    fn contains_area_and_simplicity() {
        let sq = Polygon::new(vec![(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)]);
        assert!(sq.contains(5.0, 5.0));
        assert!(!sq.contains(15.0, 5.0));
        assert_eq!(sq.area(), 100.0);
        assert!(sq.is_simple());
        let bow = Polygon::new(vec![(0.0, 0.0), (10.0, 10.0), (10.0, 0.0), (0.0, 10.0)]);
        assert!(!bow.is_simple());
        assert!(!Polygon::new(vec![(0.0, 0.0), (1.0, 1.0)]).is_simple());
    }
}
