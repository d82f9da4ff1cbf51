//! Bank and gateway callbacks: one verifier per provider, each turning an authentic delivery into one normalized bank credit.
//!
//! The formats are those of `shared/design/WEBHOOKS.md`; each provider module cites its section.
//! Everything here is pure: no I/O and no clock (the caller passes a [`Clock`]), so the HTTP
//! route, the `chopay webhook verify` command and the tests run exactly the same code.
//!
//! Every verifier answers three questions before it reads anything else of the body: which
//! algorithm, which signature, which exact bytes were signed (payOS and Casso sign a canonical
//! form rebuilt from the parsed body, so a body that is not JSON cannot carry a valid signature
//! and is [`WebhookError::Forged`]). Signatures are compared in constant time; timestamps that
//! are signed must lie within [`Clock::tolerance_s`] of now; every header and signature list is
//! bounded ([`MAX_HEADER_BYTES`], [`MAX_SIGNATURES`], [`MAX_BODY_BYTES`]).
//!
//! # Normalization (the same for every provider)
//! - The amount is whole đồng through [`Vnd`](crate::domain::money::Vnd): a JSON integer or a
//!   string of digits; a JSON float (`50000.0`, `5e4`), zero, a fraction or more than
//!   `Vnd::MAX_DONG` is [`WebhookError::Unusable`]. Money never passes through `f64`.
//! - The provider transaction id is required, at most [`MAX_TXN_ID_CHARS`] characters (a JSON
//!   integer id becomes its decimal text); otherwise the delivery is unusable.
//! - The description is kept as received, truncated at a character boundary to
//!   [`MAX_DESCRIPTION_CHARS`]; gateways that send none give an empty description (the credit can
//!   still be attributed by account), while chopay's own format requires the field.
//! - Optional text fields (accounts, names, banks, payment code): a missing field, `null` or an
//!   empty string is `None`; a JSON number is kept as its written text; text is kept as received
//!   and truncated to [`MAX_FIELD_CHARS`]; an object, array or boolean there is unusable.
//! - Gateway bank times are Vietnam time (UTC+7) unless they carry an offset; accepted forms are
//!   `YYYY-MM-DD HH:MM:SS` and ISO 8601 (`T`, optional fraction, optional `Z`/`±HH:MM`). A gateway
//!   time that cannot be read leaves `booked_at_ms` empty (the money has still arrived); chopay's
//!   `booked_at` must be RFC 3339 when present.

mod answer;
mod canonical;
mod casso;
mod chopay;
mod fields;
mod payos;
mod sepay;
mod sig;
#[cfg(test)]
mod tests;

use std::fmt;

use axum::http::HeaderMap;

pub use crate::domain::credit::{BankCredit, MAX_DESCRIPTION_CHARS, MAX_TXN_ID_CHARS};
pub use answer::{Reply, reply};

/// Largest body any verifier looks at; a larger one is refused as forged without being read.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Largest value of a header a verifier reads (signature, timestamp, id, authorization).
pub const MAX_HEADER_BYTES: usize = 4 * 1024;
/// Most signatures accepted in one delivery (several are sent while a secret rotates).
pub const MAX_SIGNATURES: usize = 16;
/// Longest optional text field kept (accounts, names, banks); longer ones are truncated.
pub const MAX_FIELD_CHARS: usize = 256;

/// A source of bank callbacks, named as in the URL `/webhooks/{provider}/{channel}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    /// payOS (by Casso): signs a canonical query string of `data` with the checksum key.
    PayOs,
    /// Casso webhook v2: `X-Casso-Signature` over the timestamp and the key-sorted body.
    Casso,
    /// SePay: `Authorization: Apikey …`, or the HMAC mode with `X-SePay-Signature`.
    Sepay,
    /// chopay's own format (Standard Webhooks), for banks integrating directly and the simulator.
    Chopay,
}

impl Provider {
    /// Every provider, in a stable order.
    pub const ALL: [Provider; 4] = [Self::PayOs, Self::Casso, Self::Sepay, Self::Chopay];

    /// The provider's name in URLs, the database and the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PayOs => "payos",
            Self::Casso => "casso",
            Self::Sepay => "sepay",
            Self::Chopay => "chopay",
        }
    }

    /// The provider with this name (ASCII case-insensitive: `payOS` is `payos`).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|provider| provider.as_str().eq_ignore_ascii_case(name.trim()))
    }
}

impl fmt::Display for Provider {
    /// The name as in [`Provider::as_str`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A channel secret (checksum key, API key or signing secret); `Debug` prints `Secret(***)`,
/// and there is deliberately no `Display` (nor `PartialEq`: secrets are only compared in
/// constant time, inside the verifiers).
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret as configured for a channel (check it first with [`check_secret`]).
    pub fn new(secret: String) -> Self {
        Self(secret)
    }

    /// The secret text, for the verifier and for storage; never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// One delivery as received: the exact body bytes and the request headers. `Debug` shows the
/// body's length and the header names only (an `Authorization` header holds SePay's API key).
#[derive(Clone, Copy)]
pub struct Delivery<'a> {
    /// The raw request body, byte for byte.
    pub body: &'a [u8],
    /// The request headers.
    pub headers: &'a HeaderMap,
}

impl fmt::Debug for Delivery<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delivery")
            .field("body_bytes", &self.body.len())
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The time of verification, passed in so that verification stays pure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    /// Now, in Unix seconds.
    pub now_unix_s: i64,
    /// How far a signed timestamp may be from now, either way, in seconds.
    pub tolerance_s: i64,
}

impl Clock {
    /// The tolerance WEBHOOKS.md asks for: five minutes either way.
    pub const DEFAULT_TOLERANCE_S: i64 = 300;

    /// A clock at `now_unix_s` with the default tolerance of 300 s.
    pub fn at(now_unix_s: i64) -> Self {
        Self {
            now_unix_s,
            tolerance_s: Self::DEFAULT_TOLERANCE_S,
        }
    }
}

/// What an authentic delivery carries.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(
    clippy::large_enum_variant,
    reason = "one short-lived value per delivery; the credit is the common case"
)]
pub enum Verified {
    /// One incoming transfer to record.
    Credit(BankCredit),
    /// Authentic, but not an incoming credit (an outgoing transfer, a test or failure notice):
    /// answered 200 and nothing is recorded. The text says why.
    Ignored(String),
}

/// What failed when a delivery did not verify: a small fixed set, so it can label a metric
/// (`chopay_webhook_rejected_total{reason}`) without ever carrying a value from the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Forgery {
    /// A header the scheme needs (id, timestamp, signature, `Authorization`) is absent.
    MissingHeader,
    /// A header the verifier reads is sent more than once.
    RepeatedHeader,
    /// A header is not visible ASCII, or not of the scheme's form.
    MalformedHeader,
    /// A limit is exceeded: body, header length or number of signatures.
    Oversized,
    /// The signature header or field holds no signature of a known version.
    MissingSignature,
    /// A signature that cannot be decoded (not hex, wrong length).
    MalformedSignature,
    /// Well-formed, but no signature (or API key) matches the channel's secret.
    BadSignature,
    /// The signed timestamp is not a plain number.
    MalformedTimestamp,
    /// The signed timestamp is older than the tolerance.
    StaleTimestamp,
    /// The signed timestamp is further in the future than the tolerance.
    FutureTimestamp,
    /// payOS and Casso sign a form rebuilt from the JSON: a body that is not JSON cannot be signed.
    MalformedBody,
    /// The channel has no secret this scheme can verify with (a configuration mistake).
    NoSecret,
}

impl Forgery {
    /// Every kind, in a stable order.
    pub const ALL: [Forgery; 12] = [
        Self::MissingHeader,
        Self::RepeatedHeader,
        Self::MalformedHeader,
        Self::Oversized,
        Self::MissingSignature,
        Self::MalformedSignature,
        Self::BadSignature,
        Self::MalformedTimestamp,
        Self::StaleTimestamp,
        Self::FutureTimestamp,
        Self::MalformedBody,
        Self::NoSecret,
    ];

    /// The kind's name, as a metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MissingHeader => "missing_header",
            Self::RepeatedHeader => "repeated_header",
            Self::MalformedHeader => "malformed_header",
            Self::Oversized => "oversized",
            Self::MissingSignature => "missing_signature",
            Self::MalformedSignature => "malformed_signature",
            Self::BadSignature => "bad_signature",
            Self::MalformedTimestamp => "malformed_timestamp",
            Self::StaleTimestamp => "stale_timestamp",
            Self::FutureTimestamp => "future_timestamp",
            Self::MalformedBody => "malformed_body",
            Self::NoSecret => "no_secret",
        }
    }
}

/// Why a delivery was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// Verification failed: missing, garbled or wrong signature or API key, a timestamp outside
    /// the tolerance, a limit exceeded. Answered 401; nothing is kept. The kind says what failed.
    #[error("forged: {1}")]
    Forged(Forgery, String),
    /// Authentic, but the body cannot become a credit (no or bad amount, no transaction id, bad
    /// JSON after a valid raw-body signature). Answered 400 and kept for review.
    #[error("unusable: {0}")]
    Unusable(String),
}

impl WebhookError {
    /// The stable machine code: `forged` or `unusable`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Forged(..) => "forged",
            Self::Unusable(_) => "unusable",
        }
    }

    /// The reason, for logs and for the person checking a delivery (never contains a secret).
    pub fn reason(&self) -> &str {
        match self {
            Self::Forged(_, reason) | Self::Unusable(reason) => reason,
        }
    }

    /// What failed, for a forged delivery.
    pub fn forgery(&self) -> Option<Forgery> {
        match self {
            Self::Forged(kind, _) => Some(*kind),
            Self::Unusable(_) => None,
        }
    }

    /// The HTTP status to answer with: 401 for forged, 400 for unusable.
    pub fn status(&self) -> axum::http::StatusCode {
        match self {
            Self::Forged(..) => axum::http::StatusCode::UNAUTHORIZED,
            Self::Unusable(_) => axum::http::StatusCode::BAD_REQUEST,
        }
    }
}

/// A [`WebhookError::Forged`] of this kind, with this reason.
fn forged(kind: Forgery, reason: impl Into<String>) -> WebhookError {
    WebhookError::Forged(kind, reason.into())
}

/// A [`WebhookError::Unusable`] with this reason.
fn unusable(reason: impl Into<String>) -> WebhookError {
    WebhookError::Unusable(reason.into())
}

/// Verifies a delivery with any of `secrets` (a channel may hold the old and the new secret
/// while it rotates), then parses it into a credit.
///
/// Verification comes first: nothing of the body is interpreted before the signature (or API
/// key) and any signed timestamp check out, except the JSON parsing payOS and Casso need to
/// rebuild the form they sign.
pub fn verify(
    provider: Provider,
    secrets: &[Secret],
    delivery: &Delivery<'_>,
    clock: Clock,
) -> Result<Verified, WebhookError> {
    if secrets.is_empty() {
        return Err(forged(
            Forgery::NoSecret,
            "the channel has no secret to verify with",
        ));
    }
    if delivery.body.len() > MAX_BODY_BYTES {
        return Err(forged(
            Forgery::Oversized,
            format!("body is over {} KiB; not verified", MAX_BODY_BYTES / 1024),
        ));
    }
    match provider {
        Provider::PayOs => payos::verify(secrets, delivery),
        Provider::Casso => casso::verify(secrets, delivery, clock),
        Provider::Sepay => sepay::verify(secrets, delivery, clock),
        Provider::Chopay => chopay::verify(secrets, delivery, clock),
    }
}

/// Checks a secret a user supplies for a provider; the error names the rule.
///
/// chopay: `whsec_` followed by standard base64 (with padding) of 24–64 bytes. Others: 16–256
/// printable ASCII characters without spaces.
pub fn check_secret(provider: Provider, secret: &str) -> Result<(), String> {
    match provider {
        Provider::Chopay => chopay::signing_key(secret).map(|_| ()),
        Provider::PayOs | Provider::Casso | Provider::Sepay => {
            let length = secret.chars().count();
            if !(16..=256).contains(&length) {
                return Err(format!(
                    "a {provider} secret must be 16 to 256 characters (got {length})"
                ));
            }
            if !secret.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(format!(
                    "a {provider} secret must be printable ASCII without spaces"
                ));
            }
            Ok(())
        }
    }
}

/// A fresh secret made from 32 random bytes, for providers where chopay issues the secret:
/// chopay gets `whsec_` + standard base64 of the bytes; SePay gets the 64 lower-case hex digits
/// of the bytes (to paste as the API key or HMAC secret in SePay's dashboard). payOS and Casso
/// issue their own secrets: `None`.
pub fn generate_secret(provider: Provider, random: &[u8; 32]) -> Option<String> {
    match provider {
        Provider::Chopay => Some(chopay::secret_from_bytes(random)),
        Provider::Sepay => Some(hex::encode(random)),
        Provider::PayOs | Provider::Casso => None,
    }
}

/// Signs a chopay-format delivery: the `webhook-signature` header value `v1,<base64>` for this
/// id, timestamp (Unix seconds) and exact body. Fails (as [`WebhookError::Forged`], since nothing
/// could verify it) when the secret is not a valid `whsec_` secret.
pub fn sign_chopay(
    secret: &Secret,
    webhook_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, WebhookError> {
    chopay::sign(secret, webhook_id, timestamp, body)
}
