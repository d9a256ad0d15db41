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
