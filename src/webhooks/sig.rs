//! Shared verification parts: bounded header reads, HMACs, constant-time matching, timestamps.
//!
//! Every comparison of a secret or a MAC goes through [`any_match`] or [`same_secret`], which use
//! `subtle`'s constant-time equality; nothing here compares secret material with `==`.

use axum::http::HeaderMap;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256, Sha512};
use subtle::{Choice, ConstantTimeEq};

use super::{Clock, Forgery, MAX_HEADER_BYTES, MAX_SIGNATURES, WebhookError, forged};

/// Reads one header: `None` when absent; forged when repeated, over [`MAX_HEADER_BYTES`] or not
/// visible ASCII. The value comes back trimmed.
pub(super) fn header<'h>(
    headers: &'h HeaderMap,
    name: &str,
) -> Result<Option<&'h str>, WebhookError> {
    let mut values = headers.get_all(name).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(forged(
            Forgery::RepeatedHeader,
            format!("the {name} header is sent more than once"),
        ));
    }
    if value.len() > MAX_HEADER_BYTES {
        return Err(forged(
            Forgery::Oversized,
            format!("the {name} header is over {} KiB", MAX_HEADER_BYTES / 1024),
        ));
    }
    let text = value.to_str().map_err(|_| {
        forged(
            Forgery::MalformedHeader,
            format!("the {name} header is not visible ASCII"),
        )
    })?;
    Ok(Some(text.trim()))
}

/// Like [`header`], but a missing header is forged.
pub(super) fn required_header<'h>(
    headers: &'h HeaderMap,
    name: &str,
) -> Result<&'h str, WebhookError> {
    header(headers, name)?
        .ok_or_else(|| forged(Forgery::MissingHeader, format!("no {name} header")))
}

/// Refuses more than [`MAX_SIGNATURES`] signatures in one delivery.
pub(super) fn check_signature_count(count: usize) -> Result<(), WebhookError> {
    if count > MAX_SIGNATURES {
        return Err(forged(
            Forgery::Oversized,
            format!("{count} signatures; at most {MAX_SIGNATURES} are accepted"),
        ));
    }
    Ok(())
}

/// HMAC-SHA256 of the concatenated `parts` under `key`.
pub(super) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Option<Vec<u8>> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).ok()?;
    for part in parts {
        mac.update(part);
    }
    Some(mac.finalize().into_bytes().to_vec())
}

/// HMAC-SHA512 of the concatenated `parts` under `key`.
pub(super) fn hmac_sha512(key: &[u8], parts: &[&[u8]]) -> Option<Vec<u8>> {
    let mut mac = <Hmac<Sha512> as KeyInit>::new_from_slice(key).ok()?;
    for part in parts {
        mac.update(part);
    }
    Some(mac.finalize().into_bytes().to_vec())
}

/// Whether any candidate signature equals any expected MAC, compared in constant time (every
/// pair is compared; only the lengths, which are public, shortcut a comparison).
pub(super) fn any_match(expected: &[Vec<u8>], candidates: &[Vec<u8>]) -> bool {
    let mut found = Choice::from(0);
    for mac in expected {
        for candidate in candidates {
            found |= mac.as_slice().ct_eq(candidate.as_slice());
        }
    }
    found.into()
}

/// Whether a presented API key equals the configured one, in constant time and without leaking
/// the length: both sides are hashed first.
pub(super) fn same_secret(presented: &str, configured: &str) -> bool {
    let presented = Sha256::digest(presented.as_bytes());
    let configured = Sha256::digest(configured.as_bytes());
    presented.as_slice().ct_eq(configured.as_slice()).into()
}

/// Hex (either case) to bytes; `None` when it is not hex.
pub(super) fn decode_hex(text: &str) -> Option<Vec<u8>> {
    hex::decode(text).ok()
}

/// A Unix time written as plain decimal digits (no sign, at most 18 digits); `None` otherwise.
pub(super) fn parse_unix(text: &str) -> Option<i64> {
    if text.is_empty() || text.len() > 18 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Checks a signed timestamp in Unix seconds against the clock.
pub(super) fn check_age_s(sent_s: i64, clock: Clock) -> Result<(), WebhookError> {
    check_age_ms(sent_s.saturating_mul(1000), clock)
}

/// Checks a signed timestamp in Unix milliseconds against the clock: forged when it is more
/// than the tolerance in the past or in the future.
pub(super) fn check_age_ms(sent_ms: i64, clock: Clock) -> Result<(), WebhookError> {
    let tolerance_s = clock.tolerance_s.max(0);
    let tolerance_ms = tolerance_s.saturating_mul(1000);
    let age_ms = clock
        .now_unix_s
        .saturating_mul(1000)
        .saturating_sub(sent_ms);
    if age_ms > tolerance_ms {
        return Err(forged(
            Forgery::StaleTimestamp,
            format!(
                "the signed timestamp is {} s old; the tolerance is {tolerance_s} s",
                age_ms / 1000
            ),
        ));
    }
    if age_ms < tolerance_ms.saturating_neg() {
        return Err(forged(
            Forgery::FutureTimestamp,
            format!(
                "the signed timestamp is {} s in the future; the tolerance is {tolerance_s} s",
                age_ms.saturating_neg() / 1000
            ),
        ));
    }
    Ok(())
}
