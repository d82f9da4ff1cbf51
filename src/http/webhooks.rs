//! `POST /webhooks/{provider}/{channel}`: bank and gateway notifications. Verify first (401 and
//! nothing stored when that fails), then record through the ledger and answer in the provider's
//! shape: a 2xx only once the credit is durable.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::extract::ApiPath;
use crate::service::ServiceError;
use crate::store::channels::{self, ChannelRow};
use crate::store::credits::{self, Recorded};
use crate::store::{Store, StoreError, now_ms};
use crate::webhooks::{
    self as verify, Clock, Delivery, Forgery, Provider, Reply, Secret, Verified, WebhookError,
};

/// Largest notification body accepted; larger ones get 413 before they are read whole: the
/// route's `DefaultBodyLimit` makes the body extractor stop reading at this many bytes (a
/// `Content-Length` over it is refused unread, a chunked body as soon as it passes it).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// How long a channel (or its absence) is remembered.
const CACHE_TTL: Duration = Duration::from_secs(10);
/// How often delivery counts are written to the channels.
const FLUSH_EVERY: Duration = Duration::from_secs(5);

/// A cached look-up: when it was made, and the channel if there was one.
type Cached = (Instant, Option<Arc<ChannelRow>>);

/// Channels by id, cached for the hot path, and delivery counts waiting to be written (batched,
/// so neither a flood of forgeries nor a busy market costs a write per request).
#[derive(Debug)]
pub struct ChannelCache {
    store: Store,
    entries: RwLock<HashMap<i64, Cached>>,
    counts: Mutex<HashMap<i64, Counts>>,
}

/// Deliveries counted on a channel since the last flush.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    accepted: i64,
    rejected: i64,
    last_used_at_ms: Option<i64>,
}

impl ChannelCache {
    /// A cache over `store`, with its flusher running on the current runtime.
    pub fn start(store: Store) -> Arc<Self> {
        let cache = Arc::new(Self {
            store,
            entries: RwLock::new(HashMap::new()),
            counts: Mutex::new(HashMap::new()),
        });
        tokio::spawn(flush_loop(Arc::downgrade(&cache)));
        cache
    }

    /// The channel with this id.
    pub async fn get(&self, id: i64) -> Result<Option<Arc<ChannelRow>>, StoreError> {
        if let Ok(entries) = self.entries.read()
            && let Some((at, row)) = entries.get(&id)
            && at.elapsed() < CACHE_TTL
        {
            return Ok(row.clone());
        }
        let row = channels::by_id(&self.store, id).await?.map(Arc::new);
        if let Ok(mut entries) = self.entries.write() {
            // Bounded: forget everything rather than grow without limit under a scan of ids.
            if entries.len() > 10_000 {
                entries.clear();
            }
            entries.insert(id, (Instant::now(), row.clone()));
        }
        Ok(row)
    }

    fn count(&self, id: i64, update: impl FnOnce(&mut Counts)) {
        if let Ok(mut counts) = self.counts.lock() {
            update(counts.entry(id).or_default());
        }
    }

    /// Counts an authentic delivery on a channel.
    pub fn accept(&self, id: i64) {
        let now = now_ms();
        self.count(id, |c| {
            c.accepted += 1;
            c.last_used_at_ms = Some(now);
        });
    }

    /// Counts a refused delivery on a channel.
    pub fn reject(&self, id: i64) {
        self.count(id, |c| c.rejected += 1);
    }

    /// Writes the waiting delivery counts.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let counts: Vec<(i64, Counts)> = match self.counts.lock() {
            Ok(mut counts) => counts.drain().collect(),
            Err(_) => Vec::new(),
        };
        for (id, c) in counts {
            channels::add_counts(&self.store, id, c.accepted, c.rejected, c.last_used_at_ms)
                .await?;
        }
        Ok(())
    }
}

async fn flush_loop(cache: Weak<ChannelCache>) {
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    loop {
        tick.tick().await;
        let Some(cache) = cache.upgrade() else { return };
        if let Err(e) = cache.flush().await {
            tracing::warn!(error = %e, "could not write channel delivery counts");
        }
    }
}

fn answer(provider: Provider, reply: Reply<'_>) -> Response {
    let (status, body) = verify::reply(provider, reply);
    (status, axum::Json(body)).into_response()
}

/// Receives a notification: verified with the channel's secret, matched, recorded exactly once.
#[utoipa::path(post, path = "/webhooks/{provider}/{channel}", tag = "payments",
    params(("provider" = String, Path, description = "payos, casso, sepay or chopay"), ("channel" = i64, Path, description = "Channel id")),
    request_body(content = String, description = "The provider's notification, signed as WEBHOOKS.md describes", content_type = "application/json"),
    responses((status = 200, description = "Recorded (or a duplicate, with the original outcome)"),
        (status = 400, description = "Authentic but unusable: kept for review"), (status = 401, description = "Verification failed: nothing stored"),
        (status = 404, body = ErrorBody), (status = 409, description = "Same transaction, different amount: kept for review"),
        (status = 413, body = ErrorBody), (status = 503, description = "Not recorded: retry")))]
pub async fn receive(
    State(state): State<AppState>,
    ApiPath((provider_name, channel_id)): ApiPath<(String, i64)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let Some(provider) = Provider::parse(&provider_name) else {
        return Err(ApiError::not_found(
            "no such provider: use payos, casso, sepay or chopay",
        ));
    };
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            state
                .metrics
                .webhook_rejected(provider.as_str(), Forgery::Oversized.as_str());
        }
        ApiError::from(rejection)
    })?;
    let channel = state
        .channels
        .get(channel_id)
        .await
        .map_err(|e| ServiceError::Unavailable(format!("cannot read channels: {e}")))?
        .filter(|c| c.provider == provider.as_str());
    let Some(channel) = channel else {
        state.metrics.webhook(provider.as_str(), "unknown_channel");
        return Err(ApiError::not_found(format!(
            "no {} channel {channel_id}",
            provider.as_str()
        )));
    };
    let secrets = [Secret::new(channel.secret.clone())];
    let clock = Clock {
        now_unix_s: now_ms() / 1000,
        tolerance_s: state.settings.webhook_tolerance_s,
    };
    let delivery = Delivery {
        body: &body,
        headers: &headers,
    };
    let credit = match verify::verify(provider, &secrets, &delivery, clock) {
        Ok(Verified::Credit(credit)) => credit,
        Ok(Verified::Ignored(reason)) => {
            state.metrics.webhook(provider.as_str(), "ignored");
            state.channels.accept(channel.id);
            return Ok(answer(provider, Reply::Ignored(&reason)));
        }
        Err(WebhookError::Forged(kind, reason)) => {
            state.metrics.webhook(provider.as_str(), "forged");
            state
                .metrics
                .webhook_rejected(provider.as_str(), kind.as_str());
            state.channels.reject(channel.id);
            tracing::info!(provider = provider.as_str(), channel = channel.id, kind = kind.as_str(), %reason, "refused a webhook delivery");
            return Ok(answer(provider, Reply::Forged));
        }
        Err(WebhookError::Unusable(reason)) => {
            state.metrics.webhook(provider.as_str(), "unusable");
            state.channels.reject(channel.id);
            credits::keep_unusable(
                &state.store,
                channel.id,
                channel.market_id,
                &reason,
                &body,
                now_ms(),
            )
            .await
            .map_err(|e| {
                ServiceError::Unavailable(format!("cannot keep the delivery for review: {e}"))
            })?;
            return Ok(answer(provider, Reply::Unusable(&reason)));
        }
    };
    match state
        .ledger
        .record(channel.id, channel.market_id, credit, body)
        .await
    {
        Ok(Recorded::New { credit, .. }) => {
            state.metrics.webhook(provider.as_str(), "accepted");
            state
                .metrics
                .webhook_credit(provider.as_str(), &credit.outcome);
            state.channels.accept(channel.id);
            Ok(answer(
                provider,
                Reply::Accepted {
                    outcome: &credit.outcome,
                    credit_id: Some(credit.id),
                    duplicate: false,
                },
            ))
        }
        Ok(Recorded::Duplicate(original)) => {
            state.metrics.webhook(provider.as_str(), "duplicate");
            state.channels.accept(channel.id);
            Ok(answer(
                provider,
                Reply::Accepted {
                    outcome: &original.outcome,
                    credit_id: Some(original.id),
                    duplicate: true,
                },
            ))
        }
        Ok(Recorded::Conflict(original)) => {
            state.metrics.webhook(provider.as_str(), "conflict");
            state.channels.reject(channel.id);
            let message = format!(
                "transaction {} was recorded before with another amount ({}đ); kept for review",
                original.provider_txn_id, original.amount_dong
            );
            Ok(answer(provider, Reply::Conflict(&message)))
        }
        Err(error) => {
            state.metrics.webhook(provider.as_str(), "unavailable");
            tracing::warn!(error = %error, "a webhook delivery was not recorded");
            Ok(answer(provider, Reply::Unavailable))
        }
    }
}
