//! `/api/v1/markets/{slug}/channels` (admin, *contract*): where a market's bank notifications come
//! in. A channel's secret is in the answer that creates it, and never again.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, Caller};
use super::{AppState, require_admin, rfc3339, visible_market};
use crate::service::channels;
use crate::store::channels::ChannelRow;

/// A new channel.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewChannel {
    /// `payos`, `casso`, `sepay` or `chopay`.
    pub provider: String,
    /// The provider's secret: required for payOS (checksum key) and Casso (webhook secret);
    /// generated when absent for SePay (API key) and chopay (`whsec_…`).
    pub secret: Option<String>,
    /// What it is for.
    pub label: Option<String>,
}

/// A channel just made: the only answer that carries its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedChannel {
    /// Id (the `{channel}` of the webhook path).
    pub id: i64,
    /// Provider.
    pub provider: String,
    /// The secret, shown this once.
    pub secret: String,
    /// Where the provider must send notifications: `/webhooks/{provider}/{id}`.
    pub webhook_path: String,
}

/// A channel as listed: never its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelOut {
    /// Id.
    pub id: i64,
    /// Provider.
    pub provider: String,
    /// Label.
    pub label: String,
    /// Webhook path.
    pub webhook_path: String,
    /// RFC 3339.
    pub created_at: String,
    /// Last authentic delivery, RFC 3339: a silent integration shows here.
    pub last_used_at: Option<String>,
    /// Authentic deliveries.
    pub accepted_count: i64,
    /// Refused deliveries (forged, stale, unusable).
    pub rejected_count: i64,
}

fn webhook_path(row: &ChannelRow) -> String {
    format!("/webhooks/{}/{}", row.provider, row.id)
}

/// Binds a provider and its secret to the market (admin).
#[utoipa::path(post, path = "/api/v1/markets/{slug}/channels", tag = "payments",
    params(("slug" = String, Path, description = "Market slug")), request_body = NewChannel, security(("bearer" = [])),
    responses((status = 201, body = CreatedChannel), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_channel(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(slug): ApiPath<String>,
    ApiJson(body): ApiJson<NewChannel>,
) -> Result<(StatusCode, axum::Json<CreatedChannel>), ApiError> {
    let market = visible_market(&state, &caller, &slug).await?;
    require_admin(&caller)?;
    let made = channels::create(
        &state.store,
        &market,
        &body.provider,
        body.secret.as_deref(),
        body.label.as_deref().unwrap_or(""),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedChannel {
            id: made.channel.id,
            webhook_path: webhook_path(&made.channel),
            provider: made.channel.provider,
            secret: made.secret,
        }),
    ))
}

/// The market's channels with their delivery counts, without secrets (admin).
#[utoipa::path(get, path = "/api/v1/markets/{slug}/channels", tag = "payments",
    params(("slug" = String, Path, description = "Market slug")), security(("bearer" = [])),
    responses((status = 200, body = Vec<ChannelOut>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn list_channels(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(slug): ApiPath<String>,
) -> Result<axum::Json<Vec<ChannelOut>>, ApiError> {
    let market = visible_market(&state, &caller, &slug).await?;
    require_admin(&caller)?;
    // Counts are written in the background every few seconds; write what is waiting first so
    // the listing is current.
    if let Err(e) = state.channels.flush().await {
        tracing::warn!(error = %e, "could not write channel delivery counts");
    }
    let rows = crate::store::channels::in_market(&state.store, market.id)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(axum::Json(
        rows.into_iter()
            .map(|row| ChannelOut {
                id: row.id,
                webhook_path: webhook_path(&row),
                provider: row.provider,
                label: row.label,
                created_at: rfc3339(row.created_at_ms),
                last_used_at: row.last_used_at_ms.map(rfc3339),
                accepted_count: row.accepted_count,
                rejected_count: row.rejected_count,
            })
            .collect(),
    ))
}
