//! Validation errors that name the offending key, the way Vector does: each component has its
//! own config struct and checks itself, reporting `path` like `cameras.pets.zones.square.polygon`.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigError {
    /// Dotted path of the key at fault, from the root of the file.
    pub key: String,
    pub message: String,
}

impl std::error::Error for ConfigError {}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

impl ConfigError {
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self { key: key.into(), message: message.into() }
    }

    /// Prefixes the key with the path of the enclosing section.
    pub fn within(mut self, parent: &str) -> Self {
        if !parent.is_empty() {
            self.key = if self.key.is_empty() { parent.to_string() } else { format!("{parent}.{}", self.key) };
        }
        self
    }
}

/// Joins a parent path and a child key.
pub fn key(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_string()
    } else {
        format!("{parent}.{child}")
    }
}
