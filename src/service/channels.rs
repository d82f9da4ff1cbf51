//! Channels: a provider and its secret, bound to a market; the secret is shown once, when the
//! channel is made.

use crate::store::channels::{self, ChannelRow};
use crate::store::markets::MarketRow;
use crate::store::{Store, now_ms};
use crate::webhooks::{self, Provider};

use super::ServiceError;

/// A channel just made, with its secret (shown this once).
#[derive(Debug)]
pub struct NewChannel {
    /// The stored channel.
    pub channel: ChannelRow,
    /// Its secret.
    pub secret: String,
}

/// Longest channel label.
pub const MAX_LABEL_CHARS: usize = 100;

/// Makes a channel for a market. payOS and Casso issue their own secrets (`secret` required);
/// for SePay and chopay one is generated when not given.
pub async fn create(
    store: &Store,
    market: &MarketRow,
    provider: &str,
    secret: Option<&str>,
    label: &str,
) -> Result<NewChannel, ServiceError> {
    let provider = Provider::parse(provider).ok_or_else(|| {
        ServiceError::Invalid(format!(
            "provider must be one of payos, casso, sepay, chopay, not '{}'",
            provider.chars().take(40).collect::<String>()
        ))
    })?;
    let label = crate::domain::text::clean_optional(Some(label), "label", MAX_LABEL_CHARS)
        .map_err(|e| ServiceError::Invalid(e.to_string()))?
        .unwrap_or_default();
    let secret = match secret {
        Some(secret) => {
            webhooks::check_secret(provider, secret)
                .map_err(|e| ServiceError::Invalid(format!("secret: {e}")))?;
            secret.to_owned()
        }
        None => {
            let mut random = [0_u8; 32];
            getrandom::fill(&mut random)
                .map_err(|e| ServiceError::Unavailable(format!("no randomness: {e}")))?;
            webhooks::generate_secret(provider, &random).ok_or_else(|| {
                ServiceError::Invalid(format!(
                    "{} issues the secret: copy it from the {} dashboard into \"secret\"",
                    provider.as_str(),
                    provider.as_str()
                ))
            })?
        }
    };
    let channel = channels::insert(
        store,
        market.id,
        provider.as_str(),
        &secret,
        &label,
        now_ms(),
    )
    .await?;
    Ok(NewChannel { channel, secret })
}

/// The channel with this id.
pub async fn channel(store: &Store, id: i64) -> Result<ChannelRow, ServiceError> {
    channels::by_id(store, id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("channel {id}")))
}
