//! Reading an authentic body: text fields, whole-đồng amounts and bank times, with the
//! normalization rules of the module documentation. Errors are plain reasons; the caller makes
//! them [`WebhookError::Unusable`](super::WebhookError::Unusable).

use std::collections::BTreeMap;

use time::{Date, Month, PrimitiveDateTime, Time, UtcOffset};

use super::canonical::Node;
use super::{MAX_DESCRIPTION_CHARS, MAX_FIELD_CHARS, MAX_TXN_ID_CHARS};
use crate::domain::credit::BankCredit;
use crate::domain::money::Vnd;

/// A JSON object of a parsed body.
pub(super) type Object = BTreeMap<String, Node>;

/// Vietnam time, UTC+7, in seconds: the gateways' bank times carry no offset.
pub(super) const VIETNAM_OFFSET_S: i32 = 7 * 3600;

/// `text` cut to at most `max` characters, at a character boundary.
pub(super) fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => text.get(..end).unwrap_or(text).to_owned(),
        None => text.to_owned(),
    }
}

/// The text of a field: a string as is, a number as written, `None` for missing or `null`;
/// anything else is an error.
fn raw_text(object: &Object, key: &str) -> Result<Option<String>, String> {
    match object.get(key) {
        None | Some(Node::Null) => Ok(None),
        Some(Node::Text(text)) => Ok(Some(text.clone())),
        Some(Node::Number(written)) => Ok(Some(written.clone())),
        Some(Node::Bool(_) | Node::Array(_) | Node::Object(_)) => {
            Err(format!("{key} must be text or a number"))
        }
    }
}

/// An optional text field: `None` when missing, `null` or empty; truncated to
/// [`MAX_FIELD_CHARS`].
pub(super) fn optional_text(object: &Object, key: &str) -> Result<Option<String>, String> {
    Ok(raw_text(object, key)?
        .filter(|text| !text.is_empty())
        .map(|text| truncate_chars(&text, MAX_FIELD_CHARS)))
}

/// The first of `keys` that holds non-empty text.
pub(super) fn first_text(object: &Object, keys: &[&str]) -> Result<Option<String>, String> {
    for key in keys {
        if let Some(text) = optional_text(object, key)? {
            return Ok(Some(text));
        }
    }
    Ok(None)
}

/// A description, truncated to [`MAX_DESCRIPTION_CHARS`]: the first of `keys` that is present
/// and not `null` (an empty string counts as present), `None` when none is.
pub(super) fn description(object: &Object, keys: &[&str]) -> Result<Option<String>, String> {
    for key in keys {
        if let Some(text) = raw_text(object, key)? {
            return Ok(Some(truncate_chars(&text, MAX_DESCRIPTION_CHARS)));
        }
    }
    Ok(None)
}

/// A required transaction id: text or a JSON integer, not blank, at most [`MAX_TXN_ID_CHARS`].
pub(super) fn txn_id(object: &Object, key: &str) -> Result<String, String> {
    if let Some(Node::Number(written)) = object.get(key)
        && !is_integer(written)
    {
        return Err(format!("{key} {written} is not an integer"));
    }
    let id = raw_text(object, key)?.unwrap_or_default();
    txn_id_text(key, id)
}

/// Checks a transaction id made by the caller.
pub(super) fn txn_id_text(key: &str, id: String) -> Result<String, String> {
    if id.trim().is_empty() {
        return Err(format!("no transaction id ({key})"));
    }
    let length = id.chars().count();
    if length > MAX_TXN_ID_CHARS {
        return Err(format!(
            "{key} is {length} characters; at most {MAX_TXN_ID_CHARS} are kept"
        ));
    }
    Ok(id)
}

fn is_integer(written: &str) -> bool {
    let digits = written.strip_prefix('-').unwrap_or(written);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// A signed whole amount of đồng from a JSON integer or a string of digits (optionally `-`).
/// A JSON float (`50000.0`, `5e4`) is refused: money is never a float.
pub(super) fn signed_amount(object: &Object, key: &str) -> Result<i128, String> {
    let written = match object.get(key) {
        None | Some(Node::Null) => return Err(format!("no amount ({key})")),
        Some(Node::Number(written)) => {
            if !is_integer(written) {
                return Err(format!(
                    "{key} {written} is not a whole number of đồng; send an integer or a string of digits"
                ));
            }
            written.as_str()
        }
        Some(Node::Text(text)) => {
            if !is_integer(text) {
                let shown = truncate_chars(text, 40);
                return Err(format!(
                    "{key} \"{shown}\" is not a whole number of đồng written in digits"
                ));
            }
            text.as_str()
        }
        Some(_) => return Err(format!("{key} must be an integer or a string of digits")),
    };
    let digits = written.strip_prefix('-').unwrap_or(written);
    if digits.trim_start_matches('0').len() > 30 {
        return Err(format!("{key} is too large"));
    }
    written
        .parse::<i128>()
        .map_err(|_| format!("{key} is too large"))
}

/// A positive amount within [`Vnd::MAX_DONG`].
pub(super) fn vnd(key: &str, dong: i128) -> Result<Vnd, String> {
    let dong = i64::try_from(dong).unwrap_or(if dong < 0 { i64::MIN } else { i64::MAX });
    Vnd::from_dong(dong).map_err(|e| format!("{key}: {e}"))
}

/// A date and time as UTC milliseconds: `YYYY-MM-DD[ T]HH:MM:SS[.fraction][Z|±HH:MM|±HHMM]`.
/// Without an offset, `default_offset_s` applies (`None`: an offset is required, RFC 3339).
/// `None` when the text is not such a time.
pub(super) fn datetime_ms(text: &str, default_offset_s: Option<i32>) -> Option<i64> {
    let bytes = text.trim().as_bytes();
    let number = |start: usize, len: usize| -> Option<u32> {
        let digits = bytes.get(start..start + len)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(digits).ok()?.parse().ok()
    };
    let at = |index: usize, allowed: &[u8]| bytes.get(index).is_some_and(|b| allowed.contains(b));
    let layout_ok = at(4, b"-") && at(7, b"-") && at(10, b" Tt") && at(13, b":") && at(16, b":");
    if !layout_ok {
        return None;
    }
    let year = i32::try_from(number(0, 4)?).ok()?;
    let month = Month::try_from(u8::try_from(number(5, 2)?).ok()?).ok()?;
    let day = u8::try_from(number(8, 2)?).ok()?;
    let hour = u8::try_from(number(11, 2)?).ok()?;
    let minute = u8::try_from(number(14, 2)?).ok()?;
    let second = u8::try_from(number(17, 2)?).ok()?;
    let mut rest = bytes.get(19..)?;
    let mut nanos = 0u32;
    if let Some(fraction) = rest.strip_prefix(b".") {
        let len = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
        if !(1..=9).contains(&len) {
            return None;
        }
        let digits = std::str::from_utf8(fraction.get(..len)?).ok()?;
        let scale = 10u32.checked_pow(u32::try_from(9 - len).ok()?)?;
        nanos = digits.parse::<u32>().ok()?.checked_mul(scale)?;
        rest = fraction.get(len..)?;
    }
    let offset_s = match rest {
        [] => default_offset_s?,
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] | [sign @ (b'+' | b'-'), h1, h2, m1, m2] => {
            let two = |a: u8, b: u8| -> Option<i32> {
                (a.is_ascii_digit() && b.is_ascii_digit())
                    .then(|| i32::from(a - b'0') * 10 + i32::from(b - b'0'))
            };
            let (hours, minutes) = (two(*h1, *h2)?, two(*m1, *m2)?);
            if hours > 23 || minutes > 59 {
                return None;
            }
            let magnitude = hours * 3600 + minutes * 60;
            if *sign == b'-' { -magnitude } else { magnitude }
        }
        _ => return None,
    };
    let date = Date::from_calendar_date(year, month, day).ok()?;
    let time = Time::from_hms_nano(hour, minute, second, nanos).ok()?;
    let offset = UtcOffset::from_whole_seconds(offset_s).ok()?;
    let instant = PrimitiveDateTime::new(date, time).assume_offset(offset);
    i64::try_from(instant.unix_timestamp_nanos().div_euclid(1_000_000)).ok()
}

/// The credit of a gateway that watches a bank account: payOS's `data` and Casso's name the
/// fields alike (receiving account, virtual account, description, counter-account, Vietnam-time
/// `transactionDateTime`).
pub(super) fn account_watch_credit(
    data: &Object,
    provider_txn_id: String,
    amount: Vnd,
) -> Result<BankCredit, String> {
    Ok(BankCredit {
        provider_txn_id,
        amount,
        account: optional_text(data, "accountNumber")?,
        bin: None,
        virtual_account: optional_text(data, "virtualAccountNumber")?,
        description: description(data, &["description"])?.unwrap_or_default(),
        counterparty_name: optional_text(data, "counterAccountName")?,
        counterparty_account: optional_text(data, "counterAccountNumber")?,
        counterparty_bank: first_text(data, &["counterAccountBankName", "counterAccountBankId"])?,
        booked_at_ms: optional_text(data, "transactionDateTime")?
            .and_then(|text| datetime_ms(&text, Some(VIETNAM_OFFSET_S))),
        payment_code: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnam_times_become_utc_milliseconds() {
        // 2024-08-15 10:20:30 in Hà Nội is 03:20:30 UTC.
        let expected = Some(1_723_692_030_000);
        let vn = Some(VIETNAM_OFFSET_S);
        assert_eq!(datetime_ms("2024-08-15 10:20:30", vn), expected);
        assert_eq!(datetime_ms("2024-08-15T10:20:30", vn), expected);
        assert_eq!(datetime_ms("2024-08-15T10:20:30+07:00", vn), expected);
        assert_eq!(datetime_ms("2024-08-15T03:20:30Z", vn), expected);
        assert_eq!(datetime_ms("2024-08-15T03:20:30.000Z", None), expected);
        assert_eq!(
            datetime_ms("2024-08-15T03:20:30.25Z", None),
            Some(1_723_692_030_250)
        );
        assert_eq!(datetime_ms("2024-08-15T10:20:30+0700", None), expected);
        assert_eq!(datetime_ms("2024-08-15 10:20:30", None), None);
        for bad in [
            "",
            "2024-02-30 10:00:00",
            "2024-08-15 24:00:00",
            "2024-08-15",
            "15/08/2024 10:20:30",
            "2024-08-15 10:20:30+7",
            "2024-08-15 10:20:30.",
            "２０２４-08-15 10:20:30",
        ] {
            assert_eq!(datetime_ms(bad, vn), None, "{bad:?}");
        }
    }

    #[test]
    fn descriptions_are_cut_at_a_character_boundary() {
        assert_eq!(truncate_chars("chợ Mơ", 4), "chợ ");
        assert_eq!(truncate_chars("ab", 5), "ab");
    }
}
