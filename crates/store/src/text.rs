//! Free text that operators type (unmask reasons, dismissal texts, dispatch units, resolution
//! notes): one type, so every such field is checked the same way before it reaches the catalogue,
//! the audit trail or a screen.

use crate::{Result, StoreError};

/// Longest free text accepted, in characters.
pub const MAX_FREE_TEXT_CHARS: usize = 500;

/// Trimmed, non-empty, at most [`MAX_FREE_TEXT_CHARS`] characters, without control characters
/// (line breaks and tabs excepted) or bidirectional-formatting characters. The latter are refused
/// because they reorder what a reviewer sees: "case 42 \u{202E}kcatta" reads differently in the
/// audit trail than what was typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FreeText(String);

/// Embedding, override and isolate controls (U+202A–U+202E, U+2066–U+2069) and the implicit marks
/// (U+200E, U+200F, U+061C) that change the displayed order of text.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

impl FreeText {
    /// `label` says what the text is ("unmask reason"), `field` where it was sent (`reason`):
    /// every refusal names both.
    pub fn parse(label: &str, field: &str, s: &str) -> Result<FreeText> {
        let t = s.trim();
        if t.is_empty() {
            // Kept as it always read; the label alone says which text is missing.
            return Err(StoreError::Invalid(format!("{label} is empty")));
        }
        let n = t.chars().count();
        if n > MAX_FREE_TEXT_CHARS {
            return Err(StoreError::Invalid(format!(
                "{label} is too long (field '{field}'): {n} characters, at most {MAX_FREE_TEXT_CHARS}"
            )));
        }
        if let Some((i, c)) = t.chars().enumerate().find(|(_, c)| is_bidi_control(*c)) {
            return Err(StoreError::Invalid(format!(
                "{label} contains a bidirectional-formatting character U+{:04X} at character {} (field '{field}'): \
                 type the text without it",
                c as u32,
                i + 1
            )));
        }
        if let Some((i, c)) = t.chars().enumerate().find(|(_, c)| c.is_control() && !matches!(c, '\n' | '\t')) {
            return Err(StoreError::Invalid(format!(
                "{label} contains a control character U+{:04X} at character {} (field '{field}')",
                c as u32,
                i + 1
            )));
        }
        Ok(FreeText(t.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Display for FreeText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_the_field_and_the_character() {
        assert_eq!(
            FreeText::parse("note", "note", "  dispersed \n at 18:00 ").unwrap().as_str(),
            "dispersed \n at 18:00"
        );
        let e = |s: &str| FreeText::parse("unmask reason", "reason", s).unwrap_err().to_string();
        assert_eq!(e(" "), "unmask reason is empty");
        assert!(e(&"é".repeat(501)).starts_with("unmask reason is too long (field 'reason'): 501 characters"));
        assert!(FreeText::parse("r", "r", &"é".repeat(500)).is_ok(), "the limit counts characters, not bytes");
        for c in ['\u{202A}', '\u{202E}', '\u{2066}', '\u{2069}', '\u{200F}'] {
            let msg = e(&format!("case 42 {c}kcatta"));
            assert!(msg.contains(&format!("U+{:04X} at character 9 (field 'reason')", c as u32)), "{msg}");
        }
        for c in ['\u{0}', '\u{7}', '\r', '\u{1b}', '\u{85}'] {
            assert!(e(&format!("a{c}b")).contains("control character"), "{c:?}");
        }
    }
}
