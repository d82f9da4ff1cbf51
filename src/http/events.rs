//! `GET /api/v1/stalls/{id}/events`: server-sent events for the vendor screen, one `credit` event
//! per payment recorded for the stall, sent right after its commit.
//!
//! Browsers' `EventSource` cannot send headers, so besides `Authorization: Bearer` the token may
//! come as `?access_token=`; request logs carry the path only, never the query.

use std::convert::Infallible;

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiPath, bearer_token, session};
use super::orders::{TodayOut, amount_parts, today_out};
use super::{AppState, KEEP_ALIVE, visible_stall};
use crate::service::ledger::CreditEvent;
use crate::service::orders;
use crate::service::tokens::Session;
use crate::store::now_ms;

/// A caller authenticated by bearer header or by `?access_token=`, with its session so the stream
/// can end when the token is revoked.
#[derive(Debug, Clone)]
pub struct StreamCaller(pub Session);

#[derive(Deserialize)]
struct TokenQuery {
    access_token: Option<String>,
}

impl FromRequestParts<AppState> for StreamCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = if parts
            .headers
            .contains_key(axum::http::header::AUTHORIZATION)
        {
            bearer_token(parts)?.to_owned()
        } else {
            query_token(&parts.uri)
                .ok_or_else(|| ApiError::unauthorized("send a bearer token or ?access_token="))?
        };
        Ok(Self(session(state, &token).await?))
    }
}

/// The `access_token` of the query string, if one of a sane length is there.
fn query_token(uri: &axum::http::Uri) -> Option<String> {
    let axum::extract::Query(query) = axum::extract::Query::<TokenQuery>::try_from_uri(uri).ok()?;
    query.access_token.filter(|t| t.len() <= 512)
}

/// A payment just recorded for the stall (the `data` of a `credit` event).
#[derive(Debug, Serialize, ToSchema)]
pub struct CreditNotice {
    /// Ledger id.
    pub credit_id: i64,
    /// The stall.
    pub stall_id: i64,
    /// The order it paid, if any.
    pub order_id: Option<i64>,
    /// That order's reference.
    pub reference: Option<String>,
    /// Whole đồng, as a string.
    pub amount: String,
    /// `50.000đ`.
    pub amount_text: String,
    /// `Năm mươi nghìn đồng`.
    pub amount_words: String,
    /// The ledger outcome.
    pub outcome: String,
    /// The order's status after this credit.
    pub order_status: Option<String>,
    /// What the screen says: `Đã nhận 50.000đ`.
    pub announcement: String,
    /// The stall's figures for today after this credit.
    pub today: Option<TodayOut>,
}

/// The notice for a recorded credit, if it went to a stall.
pub fn notice(event: &CreditEvent) -> Option<CreditNotice> {
    let credit = &event.credit;
    let stall_id = credit.stall_id?;
    let (amount, text, amount_words) = amount_parts(credit.amount_dong);
    Some(CreditNotice {
        credit_id: credit.id,
        stall_id,
        order_id: credit.order_id,
        reference: event.order.as_ref().map(|o| o.reference.clone()),
        amount,
        amount_words,
        announcement: format!("Đã nhận {text}"),
        amount_text: text,
        outcome: credit.outcome.clone(),
        order_status: event
            .order
            .as_ref()
            .map(|o| orders::status_at(o, now_ms()).as_str().to_owned()),
        today: event.today.map(today_out),
    })
}

/// Payments to the stall as they land: `event: credit` with a JSON [`CreditNotice`].
#[utoipa::path(get, path = "/api/v1/stalls/{id}/events", tag = "payments",
    params(("id" = i64, Path, description = "Stall id"), ("access_token" = Option<String>, Query, description = "The token, for clients that cannot send headers")),
    security(("bearer" = [])),
    responses((status = 200, description = "text/event-stream of `credit` events", content_type = "text/event-stream"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn stall_events(
    State(state): State<AppState>,
    StreamCaller(session): StreamCaller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    visible_stall(&state, &session.principal, id).await?;
    let receiver = state.ledger.subscribe();
    let stopping = state.stopping.subscribe();
    let stream = futures_util::stream::unfold(
        (receiver, stopping),
        move |(mut receiver, mut stopping)| async move {
            loop {
                if *stopping.borrow() {
                    return None;
                }
                let received = tokio::select! {
                    received = receiver.recv() => received,
                    _ = stopping.changed() => return None,
                };
                match received {
                    Ok(event) => {
                        if event.credit.stall_id != Some(id) {
                            continue;
                        }
                        let Some(event) = notice(&event)
                            .and_then(|n| Event::default().event("credit").json_data(n).ok())
                        else {
                            continue;
                        };
                        return Some((Ok(event), (receiver, stopping)));
                    }
                    // A listener too slow to keep up skips what it missed; the screen refreshes its totals.
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return None,
                }
            }
        },
    );
    let stream = state.until_revoked(session, stream);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}
