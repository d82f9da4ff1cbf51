//! HTTP: the axum router, its middleware, and the handlers of the JSON API.
//!
//! [`router`] builds the whole application from an [`AppState`], so tests call it in-process and
//! `chopay serve` binds it to a port. Every route is documented in `/openapi.json` (utoipa), and
//! every handler checks object-level access through the `require_*` helpers below.

pub mod channels;
pub mod credits;
pub mod error;
pub mod events;
pub mod extract;
pub mod markets;
pub mod metrics;
pub mod orders;
pub mod poster_audit;
pub mod posters;
pub mod serve;
pub mod stalls;
pub mod stats;
pub mod tokens;
pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use axum::error_handling::HandleErrorLayer;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{Request, StatusCode};
use axum::response::IntoResponse;
use axum::{BoxError, Json, Router};
use serde::Serialize;
use tower::ServiceBuilder;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use self::error::{ApiError, ErrorBody};
use self::metrics::Metrics;
use crate::domain::access::{MarketPlace, Principal};
use crate::service::ledger::Ledger;
use crate::store::markets::MarketRow;
use crate::store::stalls::StallRow;
use crate::store::{Backend, Store};

/// What every handler can reach: one shared allocation, so that the clone axum makes for every
/// extractor and middleware of every request is one reference count.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

/// The service's shared parts, reached through [`AppState`].
#[derive(Debug)]
pub struct Shared {
    /// The database.
    pub store: Store,
    /// Request metrics.
    pub metrics: Arc<Metrics>,
    /// The way into the ledger, and its event hub.
    pub ledger: Ledger,
    /// Webhook channels, cached for the hot path.
    pub channels: Arc<webhooks::ChannelCache>,
    /// Tunable behaviour.
    pub settings: Settings,
    /// Set when the server begins to shut down: long-lived streams end so connections drain.
    pub stopping: Arc<tokio::sync::watch::Sender<bool>>,
    /// Bumped when this process revokes a token: open event streams check theirs at once.
    pub revocations: Arc<tokio::sync::watch::Sender<u64>>,
}

impl AppState {
    /// The state of a running service: starts the ledger writers and the channel bookkeeping on
    /// the current Tokio runtime.
    pub fn new(store: Store, settings: Settings) -> Self {
        let ledger = Ledger::start(store.clone());
        let channels = webhooks::ChannelCache::start(store.clone());
        Self(Arc::new(Shared {
            store,
            metrics: Metrics::new(),
            ledger,
            channels,
            settings,
            stopping: Arc::new(tokio::sync::watch::Sender::new(false)),
            revocations: Arc::new(tokio::sync::watch::Sender::new(0)),
        }))
    }

    /// An event stream of `session` that ends as soon as its token is revoked (at the latest at
    /// the stream's next keep-alive tick).
    pub fn until_revoked<S: futures_util::Stream>(
        &self,
        session: crate::service::tokens::Session,
        stream: S,
    ) -> impl futures_util::Stream<Item = S::Item> + use<S> {
        use futures_util::StreamExt;
        let revoked = session.revoked(self.store.clone(), KEEP_ALIVE, self.revocations.subscribe());
        stream.take_until(Box::pin(revoked))
    }

    /// Ends the event streams, so a graceful shutdown does not wait for screens to disconnect.
    pub fn begin_shutdown(&self) {
        self.stopping.send_replace(true);
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// How often an event stream sends a keep-alive comment, and checks that its token still works.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Behaviour operators may tune.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// How long a dynamic code stays valid.
    pub order_expiry: Duration,
    /// How far a signed webhook timestamp may be from now, in seconds.
    pub webhook_tolerance_s: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            order_expiry: crate::service::orders::DEFAULT_EXPIRY,
            webhook_tolerance_s: 300,
        }
    }
}

/// Limits the server enforces on every request.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest request body, in bytes.
    pub body_bytes: usize,
    /// Longest time to answer one request.
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            body_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "chopay", description = "Cashless Vietnamese markets: stalls, VietQR codes, payments and boards."),
    modifiers(&BearerAuth),
    components(schemas(ErrorBody))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// Every route answers a malformed path or query with 400, and a route that takes JSON a body of
/// another media type with 415, both in the `{code, message}` shape; a route behind a token
/// answers an object out of its reach with the same 404 as a missing one. Documented here once
/// for all routes rather than on each.
fn document_common_errors(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let error = |description: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build(),
        )
    };
    for item in openapi.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
            let responses = &mut operation.responses.responses;
            if secured && responses.contains_key("404") {
                responses.insert(
                    "404".into(),
                    error("No such object, or one out of this token's reach: the same answer for both"),
                );
            }
            responses
                .entry("400".into())
                .or_insert_with(|| error("The path or the query string is malformed"));
            let takes_json = matches!(&operation.request_body,
                Some(RefOr::T(body)) if body.content.contains_key("application/json"));
            if takes_json {
                responses
                    .entry("415".into())
                    .or_insert_with(|| error("The body is not `application/json`"));
            }
        }
    }
}

/// The whole application: API, health, metrics and OpenAPI document.
pub fn router(state: AppState, limits: Limits) -> Router {
    let (api, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health))
        .routes(routes!(metrics::metrics))
        .routes(routes!(markets::list_markets, markets::create_market))
        .routes(routes!(markets::get_market, markets::update_market))
        .routes(routes!(stalls::list_stalls, stalls::create_stall))
        .routes(routes!(stalls::get_stall, stalls::update_stall))
        .routes(routes!(stalls::stall_qr_svg))
        .routes(routes!(stalls::stall_qr_png))
        .routes(routes!(posters::stall_poster_pdf))
        .routes(routes!(posters::stall_poster_png))
        .routes(routes!(posters::market_posters_pdf))
        .routes(routes!(stalls::import_stalls))
        .routes(routes!(stalls::export_stalls))
        .routes(routes!(poster_audit::audit_poster))
        .routes(routes!(orders::me))
        .routes(routes!(orders::create_order))
        .routes(routes!(orders::get_order))
        .routes(routes!(orders::cancel_order))
        .routes(routes!(orders::stall_today))
        .routes(routes!(channels::list_channels, channels::create_channel))
        .routes(routes!(credits::market_credits))
        .routes(routes!(credits::stall_credits))
        .routes(routes!(credits::market_credits_csv))
        .routes(routes!(credits::stall_credits_csv))
        .routes(routes!(credits::market_daily))
        .routes(routes!(credits::stall_daily))
        .routes(routes!(credits::market_reviews))
        .routes(routes!(credits::assign_credit))
        .routes(routes!(events::stall_events))
        .routes(routes!(stats::market))
        .routes(routes!(stats::district))
        .routes(routes!(stats::report_csv))
        .routes(routes!(tokens::list_tokens))
        .routes(routes!(tokens::revoke_token))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(webhooks::receive))
                .layer(DefaultBodyLimit::max(webhooks::MAX_BODY_BYTES)),
        )
        .split_for_parts();
    let mut openapi = openapi;
    document_common_errors(&mut openapi);
    let openapi = Arc::new(openapi);
    let pages = {
        use crate::board::pages;
        use axum::routing::{get, post};
        Router::new()
            .route("/", get(pages::index))
            .route("/login", get(pages::login_form).post(pages::login))
            .route("/logout", post(pages::logout))
            .route("/boards/{slug}", get(pages::market_board))
            .route("/boards/{slug}/events", get(pages::market_events))
            .route("/districts/{slug}", get(pages::district_board))
            .route("/districts/{slug}/events", get(pages::district_events))
            .route("/vendor", get(crate::board::vendor_page))
    };
    api.merge(pages)
        .route("/openapi.json", axum::routing::get(move || async move { Json(openapi.as_ref().clone()) }))
        .fallback(|| async { ApiError::not_found("no such endpoint") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this endpoint does not take that method")
        })
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .layer(DefaultBodyLimit::max(limits.body_bytes))
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(|error: BoxError| async move {
                    if error.is::<tower::timeout::error::Elapsed>() {
                        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "timeout", "the request took too long; try again")
                    } else {
                        ApiError::internal(&error)
                    }
                }))
                .timeout(limits.request_timeout),
        )
        // Log method and path only: a query string may carry a vendor's login token.
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path())
        }))
        .with_state(state)
}

/// Health of the service and its database.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` when the database answers.
    pub status: &'static str,
    /// `sqlite` or `postgres`.
    pub database: &'static str,
}

/// Liveness and database reachability.
#[utoipa::path(get, path = "/healthz", tag = "system", responses((status = 200, body = Health), (status = 503, body = ErrorBody)))]
async fn health(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    state.store.ping().await.map_err(|e| {
        tracing::warn!(error = %e, "health check: database unreachable");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the database does not answer",
        )
    })?;
    let database = match state.store.backend() {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    Ok(Json(Health {
        status: "ok",
        database,
    }))
}

/// The one answer for an object the caller may not see, whether it exists or not: the same
/// status and body for "not yours" and "does not exist", so ids and slugs cannot be probed.
pub fn out_of_reach() -> ApiError {
    ApiError::not_found("not found, or out of this token's reach")
}

/// A failed look-up as the caller may see it: only an admin learns which object does not exist;
/// any other token gets [`out_of_reach`], the answer for an object it may not see.
pub fn hide_missing(caller: &Principal, error: crate::service::ServiceError) -> ApiError {
    match error {
        crate::service::ServiceError::NotFound(_) if !caller.is_admin() => out_of_reach(),
        other => other.into(),
    }
}

/// 403 unless the caller is an admin: for writes (and admin-only reads) on an object the caller
/// may see, or on no object at all, so the refusal tells nothing about what exists.
pub fn require_admin(caller: &Principal) -> Result<(), ApiError> {
    if caller.is_admin() {
        Ok(())
    } else {
        Err(ApiError::forbidden("only an admin token may do this"))
    }
}

/// Where a market sits, for the access checks of [`Principal`].
pub fn place(market: &MarketRow) -> MarketPlace<'_> {
    MarketPlace {
        market_id: market.id,
        district_slug: &market.district_slug,
    }
}

/// [`out_of_reach`] unless the caller may read the whole market.
pub fn require_market(caller: &Principal, market: &MarketRow) -> Result<(), ApiError> {
    if caller.can_read_market(place(market)) {
        Ok(())
    } else {
        Err(out_of_reach())
    }
}

/// [`out_of_reach`] unless the caller may read this stall.
pub fn require_stall(
    caller: &Principal,
    stall: &StallRow,
    market: &MarketRow,
) -> Result<(), ApiError> {
    if caller.can_read_stall(stall.id, place(market)) {
        Ok(())
    } else {
        Err(out_of_reach())
    }
}

/// The market by slug, if the caller may read it; [`out_of_reach`] otherwise.
pub async fn visible_market(
    state: &AppState,
    caller: &Principal,
    slug: &str,
) -> Result<MarketRow, ApiError> {
    let market = crate::service::catalog::market(&state.store, slug)
        .await
        .map_err(|e| hide_missing(caller, e))?;
    require_market(caller, &market)?;
    Ok(market)
}

/// The stall by id and its market, if the caller may read the stall; [`out_of_reach`]
/// otherwise.
pub async fn visible_stall(
    state: &AppState,
    caller: &Principal,
    id: i64,
) -> Result<(StallRow, MarketRow), ApiError> {
    let (stall, market) = crate::service::catalog::stall(&state.store, id)
        .await
        .map_err(|e| hide_missing(caller, e))?;
    require_stall(caller, &stall, &market)?;
    Ok((stall, market))
}

/// Milliseconds since the epoch as RFC 3339 UTC (`2026-11-23T10:28:03.123Z`).
pub fn rfc3339(ms: i64) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

impl IntoResponse for Health {
    fn into_response(self) -> axum::response::Response {
        Json(self).into_response()
    }
}
