//! A JSON tree that keeps numbers as written, and the canonical JSON some providers sign.
//!
//! serde_json (without `arbitrary_precision`) turns numbers into `f64`/`i64` and forgets how
//! they were written; signatures and money need the written text. [`parse`] therefore walks the
//! body through `RawValue`s and keeps each number's text. Object keys are sorted (a `BTreeMap`,
//! byte order = code point order, as Python's `sort_keys`); a repeated key keeps its last value,
//! as JavaScript and Python do. Nesting is bounded by [`MAX_DEPTH`].
//!
//! [`write_json`] writes what Python's
//! `json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)` writes for the
//! parsed body: Casso (webhook v2) signs that form, and payOS signs nested values that way.

use std::collections::BTreeMap;

use serde_json::value::RawValue;

/// Deepest nesting of arrays and objects accepted in a body.
pub(super) const MAX_DEPTH: usize = 16;

/// A parsed JSON value; numbers keep their written text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Node {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number exactly as written in the body (JSON grammar, already validated).
    Number(String),
    /// A string, unescaped.
    Text(String),
    /// An array.
    Array(Vec<Node>),
    /// An object, keys sorted.
    Object(BTreeMap<String, Node>),
}

/// Parses JSON text into a [`Node`]; the error says why it is not JSON.
pub(super) fn parse(text: &str) -> Result<Node, String> {
    let raw: &RawValue = serde_json::from_str(text).map_err(|e| e.to_string())?;
    node(raw, 0)
}

fn node(raw: &RawValue, depth: usize) -> Result<Node, String> {
    let text = raw.get();
    let too_deep = || format!("JSON nested deeper than {MAX_DEPTH} levels");
    match text.as_bytes().first() {
        Some(b'{') => {
            if depth >= MAX_DEPTH {
                return Err(too_deep());
            }
            let members: BTreeMap<String, &RawValue> =
                serde_json::from_str(text).map_err(|e| e.to_string())?;
            members
                .into_iter()
                .map(|(key, value)| Ok((key, node(value, depth + 1)?)))
                .collect::<Result<_, String>>()
                .map(Node::Object)
        }
        Some(b'[') => {
            if depth >= MAX_DEPTH {
                return Err(too_deep());
            }
            let items: Vec<&RawValue> = serde_json::from_str(text).map_err(|e| e.to_string())?;
            items
                .into_iter()
                .map(|item| node(item, depth + 1))
                .collect::<Result<_, String>>()
                .map(Node::Array)
        }
        Some(b'"') => serde_json::from_str::<String>(text)
            .map(Node::Text)
            .map_err(|e| e.to_string()),
        Some(b'n') => Ok(Node::Null),
        Some(b't') => Ok(Node::Bool(true)),
        Some(b'f') => Ok(Node::Bool(false)),
        _ => Ok(Node::Number(text.to_owned())),
    }
}

/// Appends the canonical JSON of `node` (see the module comment) to `out`.
pub(super) fn write_json(node: &Node, out: &mut String) {
    match node {
        Node::Null => out.push_str("null"),
        Node::Bool(true) => out.push_str("true"),
        Node::Bool(false) => out.push_str("false"),
        Node::Number(written) => write_number(written, out),
        Node::Text(text) => write_string(text, out),
        Node::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Node::Object(members) => {
            out.push('{');
            for (index, (key, value)) in members.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write_json(value, out);
            }
            out.push('}');
        }
    }
}

/// A JSON string as Python writes it with `ensure_ascii=False`: `"` and `\` escaped, `\b \f \n
/// \r \t` short, other control characters as `\u00xx` (lower-case hex), everything else raw.
fn write_string(text: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let code = u32::from(c);
                out.push_str("\\u00");
                for nibble in [code >> 4, code & 0xF] {
                    let digit = usize::try_from(nibble)
                        .ok()
                        .and_then(|n| HEX.get(n))
                        .copied()
                        .unwrap_or(b'0');
                    out.push(char::from(digit));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A number as Python re-writes it after `json.loads`: integers exactly (`-0` becomes `0`),
/// other numbers as `repr(float(text))`.
fn write_number(written: &str, out: &mut String) {
    let is_integer = !written.contains(['.', 'e', 'E']);
    if is_integer {
        let digits = written.strip_prefix('-').unwrap_or(written);
        if digits.bytes().all(|b| b == b'0') {
            out.push('0');
        } else {
            out.push_str(written);
        }
        return;
    }
    match written.parse::<f64>() {
        Ok(value) => out.push_str(&python_float_repr(value)),
        // Unreachable for validated JSON numbers; keep the text rather than panic.
        Err(_) => out.push_str(written),
    }
}

/// Python's `repr(float)`: the shortest digits that round-trip, in fixed notation with at least
/// one decimal when the decimal point falls within 16 digits, otherwise `d.ddde±XX`.
pub(super) fn python_float_repr(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_owned();
    }
    if value.is_infinite() {
        return if value.is_sign_negative() {
            "-Infinity".to_owned()
        } else {
            "Infinity".to_owned()
        };
    }
    let sign = if value.is_sign_negative() { "-" } else { "" };
    if value == 0.0 {
        return format!("{sign}0.0");
    }
    // Rust's `{:e}` gives the shortest round-trip digits, like Python's repr.
    let scientific = format!("{:e}", value.abs());
    let Some((mantissa, exponent)) = scientific.split_once('e') else {
        return scientific;
    };
    let Ok(exponent) = exponent.parse::<i64>() else {
        return scientific;
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let count = i64::try_from(digits.len()).unwrap_or(i64::MAX);
    // The value is 0.DIGITS × 10^point.
    let point = exponent + 1;
    let zeros = |n: i64| "0".repeat(usize::try_from(n).unwrap_or(0));
    if point <= -4 || point > 16 {
        let (first, rest) = digits.split_at(digits.len().min(1));
        let fraction = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        return format!("{sign}{first}{fraction}e{exp_sign}{:02}", exponent.abs());
    }
    if point <= 0 {
        return format!("{sign}0.{}{digits}", zeros(-point));
    }
    if point >= count {
        return format!("{sign}{digits}{}.0", zeros(point - count));
    }
    let split = usize::try_from(point).unwrap_or(0).min(digits.len());
    let (whole, fraction) = digits.split_at(split);
    format!("{sign}{whole}.{fraction}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(text: &str) -> String {
        let mut out = String::new();
        write_json(&parse(text).unwrap(), &mut out);
        out
    }

    #[test]
    fn floats_are_written_as_python_writes_them() {
        for (value, python) in [
            (1.0, "1.0"),
            (100000.0, "100000.0"),
            (0.1, "0.1"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.5e300, "1.5e+300"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (-2.5, "-2.5"),
            (-0.0, "-0.0"),
            (123456.789, "123456.789"),
            (1234567890123456.7, "1234567890123456.8"),
        ] {
            assert_eq!(python_float_repr(value), python, "{value}");
        }
    }

    #[test]
    fn the_canonical_form_sorts_keys_compacts_and_keeps_non_ascii() {
        assert_eq!(
            canonical(
                r#"{ "b": [1, -0, 2.50, 1E3], "a": "Thành công \"x\"\\\n\u0001\u00e9", "c": null, "a2": {"z": true, "y": false} }"#
            ),
            "{\"a\":\"Thành công \\\"x\\\"\\\\\\n\\u0001é\",\"a2\":{\"y\":false,\"z\":true},\"b\":[1,0,2.5,1000.0],\"c\":null}"
        );
    }

    #[test]
    fn numbers_keep_their_written_text_in_the_tree() {
        assert_eq!(
            parse("[12345678901234567890123, 3000.0]").unwrap(),
            Node::Array(vec![
                Node::Number("12345678901234567890123".into()),
                Node::Number("3000.0".into())
            ])
        );
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = format!("{}{}", "[".repeat(40), "]".repeat(40));
        assert!(parse(&deep).is_err());
        let fine = format!("{}{}", "[".repeat(16), "]".repeat(16));
        assert!(parse(&fine).is_ok());
    }
}
