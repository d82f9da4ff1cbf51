//! Human text as chopay stores it: NFC-normalized, trimmed, bounded, and free of characters that
//! hide or reorder what a person sees (controls, bidi overrides, zero-width characters).
//!
//! Vietnamese can be typed precomposed (`ệ` as one code point) or decomposed (`e` + two marks);
//! normalizing to NFC makes the same name the same bytes, so it compares, sorts and prints alike.

use unicode_normalization::UnicodeNormalization;

/// Why a text field was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Nothing but white space.
    #[error("{field} must not be empty")]
    Empty {
        /// The field's name.
        field: &'static str,
    },
    /// Longer than the field allows.
    #[error("{field} must be at most {max} characters, got {got}")]
    TooLong {
        /// The field's name.
        field: &'static str,
        /// The limit.
        max: usize,
        /// The length given.
        got: usize,
    },
    /// A control, bidi-override or zero-width character.
    #[error("{field} contains an invisible or control character (U+{code:04X})")]
    Invisible {
        /// The field's name.
        field: &'static str,
        /// The offending code point.
        code: u32,
    },
}

/// Whether `c` would be invisible or reorder text: controls, bidi controls, zero-width marks,
/// fillers that draw nothing, tag characters.
fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200B}'..='\u{200F}' // zero-width space/joiners, LRM, RLM
            | '\u{202A}'..='\u{202E}' // bidi embeddings and overrides
            | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
            | '\u{2066}'..='\u{2069}' // bidi isolates
            | '\u{061C}' // Arabic letter mark (bidi)
            | '\u{180E}' // Mongolian vowel separator (zero width)
            | '\u{034F}' // combining grapheme joiner
            | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' // Hangul fillers
            | '\u{FFF9}'..='\u{FFFB}' // interlinear annotation marks
            | '\u{E0000}'..='\u{E007F}' // tag characters
            | '\u{FEFF}' // zero-width no-break space
            | '\u{00AD}' // soft hyphen
        )
}

/// Refuses text holding an invisible, bidi or control character (white space such as a tab is
/// allowed: [`clean`] collapses it). For fields that are folded rather than cleaned (holder
/// names), so that such a character is refused rather than silently dropped.
pub fn refuse_invisible(input: &str, field: &'static str) -> Result<(), TextError> {
    match input
        .chars()
        .find(|c| is_invisible(*c) && !c.is_whitespace())
    {
        Some(c) => Err(TextError::Invisible {
            field,
            code: u32::from(c),
        }),
        None => Ok(()),
    }
}

/// Normalizes `input` (NFC, trimmed, inner runs of white space collapsed to one space) and checks
/// it is non-empty, at most `max_chars` characters and free of invisible characters.
pub fn clean(input: &str, field: &'static str, max_chars: usize) -> Result<String, TextError> {
    refuse_invisible(input, field)?;
    let text: String = input
        .nfc()
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if text.is_empty() {
        return Err(TextError::Empty { field });
    }
    let length = text.chars().count();
    if length > max_chars {
        return Err(TextError::TooLong {
            field,
            max: max_chars,
            got: length,
        });
    }
    Ok(text)
}

/// Like [`clean`], but an empty input is `None` rather than an error.
pub fn clean_optional(
    input: Option<&str>,
    field: &'static str,
    max_chars: usize,
) -> Result<Option<String>, TextError> {
    match input {
        Some(text) if !text.trim().is_empty() => clean(text, field, max_chars).map(Some),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decomposed_vietnamese_becomes_precomposed() {
        let decomposed = "Nguye\u{302}\u{303}n Thi\u{323}";
        assert_eq!(clean(decomposed, "name", 50).unwrap(), "Nguyễn Thị");
        assert_eq!(clean("  Chợ   Mơ ", "name", 50).unwrap(), "Chợ Mơ");
    }

    #[test]
    fn invisible_characters_are_refused_by_name() {
        assert_eq!(
            clean("Lan\u{202E}anh", "vendor_name", 50),
            Err(TextError::Invisible {
                field: "vendor_name",
                code: 0x202E
            })
        );
        assert!(clean("Lan\u{200B}", "vendor_name", 50).is_err());
        assert!(clean("Lan\u{0007}", "vendor_name", 50).is_err());
        assert_eq!(clean("Lan\tAnh", "vendor_name", 50).unwrap(), "Lan Anh");
        for hidden in [
            '\u{061C}',
            '\u{180E}',
            '\u{3164}',
            '\u{E0041}',
            '\u{2067}',
            '\u{FEFF}',
        ] {
            assert_eq!(
                refuse_invisible(&format!("Lan{hidden}Anh"), "holder"),
                Err(TextError::Invisible {
                    field: "holder",
                    code: u32::from(hidden)
                }),
                "U+{:04X}",
                u32::from(hidden)
            );
        }
        assert_eq!(refuse_invisible("Lan Anh", "holder"), Ok(()));
    }

    #[test]
    fn limits_count_characters_not_bytes() {
        assert!(clean(&"ệ".repeat(10), "name", 10).is_ok());
        assert_eq!(
            clean(&"ệ".repeat(11), "name", 10),
            Err(TextError::TooLong {
                field: "name",
                max: 10,
                got: 11
            })
        );
        assert_eq!(
            clean("   ", "name", 10),
            Err(TextError::Empty { field: "name" })
        );
        assert_eq!(clean_optional(Some("  "), "phone", 10), Ok(None));
    }

    proptest! {
        #[test]
        fn cleaned_text_is_nfc_and_stable(text in "\\PC{1,40}") {
            if let Ok(cleaned) = clean(&text, "name", 100) {
                prop_assert_eq!(clean(&cleaned, "name", 100), Ok(cleaned.clone()));
                prop_assert!(unicode_normalization::is_nfc(&cleaned));
                prop_assert!(!cleaned.chars().any(is_invisible));
            }
        }
    }
}
