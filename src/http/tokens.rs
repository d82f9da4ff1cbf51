//! `/api/v1/tokens` (admin): who holds a token, and revoking one. A token's text is shown once,
//! when it is made (`chopay token create`); these answers never carry it or its digest.

use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiPath, Caller, CallerSession};
use super::{AppState, require_admin, rfc3339};
use crate::service::tokens;
use crate::store::tokens::TokenRow;

/// A token as listed: what it reaches, never its text or digest.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenOut {
    /// Id, as `chopay token create` printed it.
    pub id: i64,
    /// `admin`, `board` or `vendor`.
    pub role: String,
    /// Its reach: `all`, `market:<id>`, `district:<slug>` or `stall:<id>`.
    pub scope: String,
    /// What it was made for.
    pub label: String,
    /// RFC 3339.
    pub created_at: String,
    /// When it was revoked, RFC 3339; `null` while it works.
    pub revoked_at: Option<String>,
}

impl From<TokenRow> for TokenOut {
    fn from(row: TokenRow) -> Self {
        let scope = match (row.market_id, &row.district_slug, row.stall_id) {
            (Some(id), _, _) => format!("market:{id}"),
            (None, Some(slug), _) => format!("district:{slug}"),
            (None, None, Some(id)) => format!("stall:{id}"),
            (None, None, None) => "all".to_owned(),
        };
        Self {
            id: row.id,
            role: row.role,
            scope,
            label: row.label,
            created_at: rfc3339(row.created_at_ms),
            revoked_at: row.revoked_at_ms.map(rfc3339),
        }
    }
}

/// Every token ever made, revoked ones included, in id order (admin).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens", security(("bearer" = [])),
    responses((status = 200, body = Vec<TokenOut>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> Result<axum::Json<Vec<TokenOut>>, ApiError> {
    require_admin(&caller)?;
    let rows = tokens::list(&state.store).await?;
    Ok(axum::Json(rows.into_iter().map(TokenOut::from).collect()))
}

/// Revokes a token (admin): its very next request is a 401, and an event stream it opened ends
/// within its next keep-alive tick. Revoking it again changes nothing. The token making the request
/// cannot revoke itself (409).
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens", params(("id" = i64, Path, description = "Token id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The token, revoked", body = TokenOut), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    CallerSession(caller): CallerSession,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::Json<TokenOut>, ApiError> {
    require_admin(&caller.principal)?;
    let row = tokens::revoke_for(&state.store, id, &caller).await?;
    state.revocations.send_modify(|count| *count += 1);
    Ok(axum::Json(row.into()))
}
