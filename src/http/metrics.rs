//! Prometheus metrics: requests by route, method and status, latency histograms by route,
//! webhook deliveries by provider and result, refused deliveries by provider and reason, and
//! recorded credits by provider and outcome.
//!
//! Routes are labelled by their pattern (`/api/v1/stalls/{id}`), never by the concrete path, so
//! the number of series stays bounded and no id or secret reaches a label.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::fmt::Write as _;

use axum::http::Method;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::AppState;
use super::error::ApiError;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: MethodLabel,
    route: RouteLabel,
    status: u16,
}

/// A request's method as a label, without copying its name.
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
struct MethodLabel(Method);

impl EncodeLabelValue for MethodLabel {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        encoder.write_str(self.0.as_str())
    }
}

/// The route a request matched (its pattern, shared with the router), or `unmatched`.
#[derive(Debug, Clone)]
struct RouteLabel(Option<MatchedPath>);

impl RouteLabel {
    fn as_str(&self) -> &str {
        self.0.as_ref().map_or("unmatched", MatchedPath::as_str)
    }
}

impl PartialEq for RouteLabel {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for RouteLabel {}

impl std::hash::Hash for RouteLabel {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl EncodeLabelValue for RouteLabel {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        encoder.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WebhookLabels {
    provider: &'static str,
    result: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RejectedLabels {
    provider: &'static str,
    reason: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    provider: &'static str,
    outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: MethodLabel,
    route: RouteLabel,
}

/// Latency buckets from 0.1 ms to about 3 s.
#[derive(Debug, Clone)]
struct LatencyBuckets;

impl MetricConstructor<Histogram> for LatencyBuckets {
    fn new_metric(&self) -> Histogram {
        Histogram::new(exponential_buckets(0.0001, 2.0, 16))
    }
}

/// The service's metrics registry.
#[derive(Debug)]
pub struct Metrics {
    registry: Mutex<Registry>,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, LatencyBuckets>,
    webhooks: Family<WebhookLabels, Counter>,
    rejected: Family<RejectedLabels, Counter>,
    outcomes: Family<OutcomeLabels, Counter>,
}

impl Metrics {
    /// A registry with the HTTP metrics registered.
    pub fn new() -> Arc<Self> {
        let mut registry = Registry::with_prefix("chopay");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency =
            Family::<RouteLabels, Histogram, LatencyBuckets>::new_with_constructor(LatencyBuckets);
        registry.register(
            "http_requests",
            "HTTP requests answered, by route, method and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer, by route and method",
            latency.clone(),
        );
        let webhooks = Family::<WebhookLabels, Counter>::default();
        registry.register(
            "webhook_deliveries",
            "Bank notifications by provider and result: accepted, duplicate, ignored, forged, unusable, conflict, unavailable, unknown_channel",
            webhooks.clone(),
        );
        let rejected = Family::<RejectedLabels, Counter>::default();
        registry.register(
            "webhook_rejected",
            "Bank notifications refused before anything was stored (401 forged, 413 oversized), by provider and reason: missing_header, repeated_header, malformed_header, oversized, missing_signature, malformed_signature, bad_signature, malformed_timestamp, stale_timestamp, future_timestamp, malformed_body, no_secret",
            rejected.clone(),
        );
        let outcomes = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "webhook_credits",
            "Credits recorded from bank notifications, by provider and outcome (order_paid, order_underpaid, order_overpaid, order_late, static_payment, unmatched)",
            outcomes.clone(),
        );
        Arc::new(Self {
            registry: Mutex::new(registry),
            requests,
            latency,
            webhooks,
            rejected,
            outcomes,
        })
    }

    /// Counts one webhook delivery.
    pub fn webhook(&self, provider: &'static str, result: &'static str) {
        self.webhooks
            .get_or_create(&WebhookLabels { provider, result })
            .inc();
    }

    /// Counts one refused webhook delivery; `reason` is one of a fixed set (never request data).
    pub fn webhook_rejected(&self, provider: &'static str, reason: &'static str) {
        self.rejected
            .get_or_create(&RejectedLabels { provider, reason })
            .inc();
    }

    /// Counts one credit recorded from a webhook, by its ledger outcome.
    pub fn webhook_credit(&self, provider: &'static str, outcome: &str) {
        self.outcomes
            .get_or_create(&OutcomeLabels {
                provider,
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// The registry in Prometheus text format.
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        let registry = self.registry.lock().map_err(|_| std::fmt::Error)?;
        prometheus_client::encoding::text::encode(&mut text, &registry)?;
        Ok(text)
    }
}

/// Middleware: counts and times every request.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = MethodLabel(request.method().clone());
    let route = RouteLabel(request.extensions().get::<MatchedPath>().cloned());
    let response = next.run(request).await;
    let status = response.status().as_u16();
    state
        .metrics
        .requests
        .get_or_create(&RequestLabels {
            method: method.clone(),
            route: route.clone(),
            status,
        })
        .inc();
    state
        .metrics
        .latency
        .get_or_create(&RouteLabels { method, route })
        .observe(started.elapsed().as_secs_f64());
    response
}

/// `GET /metrics`: Prometheus text.
#[utoipa::path(get, path = "/metrics", tag = "system", responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let text = state.metrics.render().map_err(|e| ApiError::internal(&e))?;
    Ok((
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        text,
    )
        .into_response())
}
