//! Validation errors that name the offending key, the way Vector does: each component has its
//! own config struct and checks itself, reporting `path` like `cameras.pets.zones.square.polygon`.
//! A section checks every key and returns all its mistakes ([`ConfigErrors`]), so an operator
//! fixes a file in one pass rather than one reload per mistake.

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

/// Every error found while checking a section, in the order the keys were checked.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct ConfigErrors(Vec<ConfigError>);

impl ConfigErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, e: ConfigError) {
        self.0.push(e);
    }

    /// Records the error of a check, if any, and hands back its value otherwise.
    pub fn check<T>(&mut self, r: Result<T, ConfigError>) -> Option<T> {
        r.map_err(|e| self.0.push(e)).ok()
    }

    /// Records every error of a nested section's check.
    pub fn absorb(&mut self, r: Result<(), ConfigErrors>) {
        if let Err(e) = r {
            self.0.extend(e.0);
        }
    }

    /// `Ok` when nothing was recorded.
    pub fn into_result(self) -> Result<(), ConfigErrors> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }

    pub fn into_vec(self) -> Vec<ConfigError> {
        self.0
    }

    /// Prefixes every key with the path of the enclosing section.
    pub fn within(self, parent: &str) -> Self {
        Self(self.0.into_iter().map(|e| e.within(parent)).collect())
    }
}

impl std::ops::Deref for ConfigErrors {
    type Target = [ConfigError];

    fn deref(&self) -> &[ConfigError] {
        &self.0
    }
}

impl IntoIterator for ConfigErrors {
    type Item = ConfigError;
    type IntoIter = std::vec::IntoIter<ConfigError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl From<ConfigError> for ConfigErrors {
    fn from(e: ConfigError) -> Self {
        Self(vec![e])
    }
}

impl From<Vec<ConfigError>> for ConfigErrors {
    fn from(v: Vec<ConfigError>) -> Self {
        Self(v)
    }
}

impl std::error::Error for ConfigErrors {}

/// One error per line, each `key: message`.
impl std::fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_collected_in_order_and_shown_one_per_line() {
        let mut errs = ConfigErrors::new();
        assert_eq!(errs.check(Ok::<_, ConfigError>(3)), Some(3));
        assert!(errs.clone().into_result().is_ok());
        assert_eq!(errs.check::<()>(Err(ConfigError::new("a", "bad"))), None);
        errs.absorb(Err(ConfigErrors::from(vec![ConfigError::new("b", "worse"), ConfigError::new("c", "worst")])));
        let errs = errs.within("cam");
        assert_eq!(errs.len(), 3);
        assert_eq!(errs.to_string(), "cam.a: bad\ncam.b: worse\ncam.c: worst");
        assert_eq!(errs.into_result().unwrap_err().into_vec()[2].key, "cam.c");
    }
}
