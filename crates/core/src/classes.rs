use std::sync::Arc;

/// Names of the detector's classes, in model output order.
#[derive(Debug, Clone)]
pub struct ClassMap {
    names: Arc<[String]>,
}

impl ClassMap {
    pub fn new(names: Vec<String>) -> Self {
        Self { names: names.into() }
    }

    /// One name a line; blank lines are ignored.
    pub fn parse(text: &str) -> Self {
        Self::new(text.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect())
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn name(&self, id: u16) -> &str {
        self.names.get(id as usize).map(String::as_str).unwrap_or("unknown")
    }

    pub fn id(&self, name: &str) -> Option<u16> {
        self.names.iter().position(|n| n == name).map(|i| i as u16)
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }
}
