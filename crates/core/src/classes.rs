//! The detector's class names and the groups of them that rules and search both reason about.

use std::sync::Arc;

/// The class of people: never described by colour or appearance, always pixelated.
pub const PERSON: &str = "person";
/// Classes that make a vehicle (the vehicle rule adds bicycles on request; search's "vehicle").
pub const VEHICLE_CLASSES: [&str; 4] = ["car", "truck", "bus", "motorcycle"];
/// Classes carried and left by people (the abandoned-object rule; search's "bag").
pub const BAG_CLASSES: [&str; 3] = ["backpack", "handbag", "suitcase"];
/// Classes that move along lanes.
pub const MOVER_CLASSES: [&str; 6] = ["person", "bicycle", "car", "motorcycle", "bus", "truck"];

/// Whether `class` is a person, the class that gets no description beyond its path.
pub fn is_person(class: &str) -> bool {
    class == PERSON
}

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
