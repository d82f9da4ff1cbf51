//! EMVCo TLV reading: `TT LL value`, two decimal digits of tag, two of length.
//!
//! Reading is lenient where payloads in the wild differ: a length may count characters (as the
//! specification means) or UTF-8 bytes (as some encoders do with non-ASCII text), chosen by
//! [`LengthUnit`]. Problems are reported with the field's path (`38.01`), never by panicking.

/// What a TLV length counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LengthUnit {
    /// Unicode scalar values, as EMVCo intends.
    Chars,
    /// UTF-8 bytes, as some encoders count non-ASCII text.
    Bytes,
}

/// One field as read: its tag, and its value as a slice of the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawField<'a> {
    /// The two-digit tag, e.g. `"38"`.
    pub tag: &'a str,
    /// The value, exactly as it stands in the payload.
    pub value: &'a str,
}

/// A TLV sequence that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {problem}")]
pub struct TlvError {
    /// Where it went wrong: the path of the field being read (`38.01`), or of its parent.
    pub path: String,
    /// What is wrong, in words.
    pub problem: String,
}

/// Joins a parent path and a tag: `("38", "01")` → `"38.01"`; the root has an empty path.
pub fn child_path(parent: &str, tag: &str) -> String {
    if parent.is_empty() {
        tag.to_owned()
    } else {
        format!("{parent}.{tag}")
    }
}

/// Reads `text` as a sequence of TLV fields that must fill it exactly.
pub fn read_fields<'a>(
    text: &'a str,
    unit: LengthUnit,
    parent: &str,
) -> Result<Vec<RawField<'a>>, TlvError> {
    let mut fields = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let error = |path: String, problem: String| TlvError { path, problem };
        let header = rest
            .get(..4)
            .filter(|h| h.bytes().all(|b| b.is_ascii_digit()));
        let Some(header) = header else {
            let shown: String = rest.chars().take(4).collect();
            let place = if parent.is_empty() {
                "payload".to_owned()
            } else {
                parent.to_owned()
            };
            return Err(error(
                place,
                format!("expected a two-digit tag and a two-digit length, found '{shown}'"),
            ));
        };
        let (tag, length) = header.split_at(2);
        let path = child_path(parent, tag);
        let length: usize = length.parse().unwrap_or(0);
        let body = &rest[4..];
        let end = match unit {
            LengthUnit::Chars => body.char_indices().nth(length).map_or(
                (body.chars().count() == length).then_some(body.len()),
                |(index, _)| Some(index),
            ),
            LengthUnit::Bytes => {
                (body.len() >= length && body.is_char_boundary(length)).then_some(length)
            }
        };
        let Some(end) = end else {
            let available = match unit {
                LengthUnit::Chars => body.chars().count(),
                LengthUnit::Bytes => body.len(),
            };
            let unit_name = match unit {
                LengthUnit::Chars => "characters",
                LengthUnit::Bytes => "bytes",
            };
            return Err(error(
                path,
                format!("declared length {length} but only {available} {unit_name} remain"),
            ));
        };
        if length == 0 {
            return Err(error(
                path,
                "declared length 0; an EMVCo field is never empty".to_owned(),
            ));
        }
        fields.push(RawField {
            tag,
            value: &body[..end],
        });
        rest = &body[end..];
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_fields_read_in_order() {
        let fields = read_fields("0010A0000007270208QRIBFTTA", LengthUnit::Chars, "38").unwrap();
        assert_eq!(
            fields,
            vec![
                RawField {
                    tag: "00",
                    value: "A000000727"
                },
                RawField {
                    tag: "02",
                    value: "QRIBFTTA"
                }
            ]
        );
    }

    #[test]
    fn a_length_past_the_end_is_reported_with_the_path() {
        let error = read_fields("0010A00000072701300006", LengthUnit::Chars, "38").unwrap_err();
        assert_eq!(
            error.to_string(),
            "38.01: declared length 30 but only 4 characters remain"
        );
    }

    #[test]
    fn garbage_where_a_tag_should_be_is_reported() {
        let error = read_fields("01AB", LengthUnit::Chars, "").unwrap_err();
        assert_eq!(
            error.to_string(),
            "payload: expected a two-digit tag and a two-digit length, found '01AB'"
        );
    }

    #[test]
    fn lengths_may_count_characters_or_bytes() {
        let chars = read_fields("5903Hà55902VN", LengthUnit::Chars, "").unwrap();
        assert_eq!(chars[0].value, "Hà5");
        let bytes = read_fields("5903Hà5802VN", LengthUnit::Bytes, "").unwrap();
        assert_eq!(bytes[0].value, "Hà");
        assert_eq!(bytes[1].value, "VN");
        assert!(read_fields("5902Hà", LengthUnit::Bytes, "").is_err());
    }
}
