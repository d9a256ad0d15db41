//! A camera's privacy masks as they are while the node runs. An administrator's edit or a
//! reloaded config file replaces them at once; every stage that hides them (camera wall,
//! evidence, exports, thumbnails) or leaves them out of the analysis (motion, detection) reads
//! the current set from the one handle it was given, at each frame or picture.

use crate::Polygon;
use parking_lot::RwLock;
use std::sync::Arc;

#[derive(Debug, Clone, Default)]
pub struct LiveMasks(Arc<RwLock<Arc<Vec<Polygon>>>>);

impl LiveMasks {
    pub fn new(masks: Vec<Polygon>) -> Self {
        LiveMasks(Arc::new(RwLock::new(Arc::new(masks))))
    }

    /// The set in force (cheap: shared, not copied).
    pub fn get(&self) -> Arc<Vec<Polygon>> {
        self.0.read().clone()
    }

    pub fn set(&self, masks: Vec<Polygon>) {
        *self.0.write() = Arc::new(masks);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_holder_sees_a_change_at_once() {
        let a = LiveMasks::new(Vec::new());
        let b = a.clone();
        let before = b.get();
        a.set(vec![Polygon::new(vec![(0.0, 0.0), (10.0, 0.0), (10.0, 10.0)])]);
        assert_eq!(b.get().len(), 1);
        assert!(before.is_empty(), "a set already taken stays as it was");
    }
}
