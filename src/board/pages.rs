//! The board pages' handlers: `/` (the markets a token reaches), `/boards/{slug}` (a market),
//! `/districts/{slug}` (a district), their live event streams, and the login form.
//!
//! A page needs a board or admin token (cookie, bearer, or a `?access_token=` link); without one
//! it answers the login form. A token that does not reach the market or district gets the same
//! page whether or not it exists.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

use super::render::{self, DistrictGroup, STALL_FILTERS};
use super::session::{self, LoginForm};
use crate::domain::access::{Principal, Role, Scope};
use crate::domain::day::Day;
use crate::http::stats::can_read_district;
use crate::http::{AppState, KEEP_ALIVE, require_market};
use crate::service::stats::{self, Ask, DEFAULT_ACTIVE_DAYS};
use crate::service::tokens::Session;
use crate::service::{ServiceError, catalog};
use crate::store::markets::{self, MarketFilter, MarketRow};
use crate::store::{Page, now_ms};

/// A page handler's answer: the page, or what to show instead (the login form, a refusal).
type Answer = Result<Response, Response>;

/// An HTML answer with the pages' security headers.
fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CACHE_CONTROL, "no-store"),
            (REFERRER_POLICY, "no-referrer"),
            (
                CONTENT_SECURITY_POLICY,
                "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:; \
                 connect-src 'self'; form-action 'self'; frame-ancestors 'none'",
            ),
        ],
        body,
    )
        .into_response()
}

/// The page for a market or district the token does not reach, the same whether it exists or
/// not.
fn refused() -> Response {
    html(
        StatusCode::NOT_FOUND,
        render::message_page(
            "Không xem được trang này",
            "Mã truy cập này không dùng được cho chợ hoặc huyện này.",
        ),
    )
}

fn unavailable(error: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %error, "board page: figures unavailable");
    html(
        StatusCode::SERVICE_UNAVAILABLE,
        render::message_page("Tạm thời chưa đọc được số liệu", "Xin thử lại sau ít phút."),
    )
}

fn from_service(error: ServiceError) -> Response {
    match error {
        ServiceError::NotFound(_) => refused(),
        other => unavailable(&other),
    }
}

/// The visitor of a page: a board or admin, or the answer to send instead (a redirect that keeps a
/// linked token, the login form, or a refusal for a vendor's token).
async fn enter(state: &AppState, uri: &Uri, headers: &HeaderMap) -> Result<Principal, Response> {
    visit(state, uri, headers).await.map(|s| s.principal)
}

/// [`enter`], with the visitor's session (for a stream, which ends when its token is revoked).
async fn visit(state: &AppState, uri: &Uri, headers: &HeaderMap) -> Result<Session, Response> {
    if let Some(redirect) = session::from_link(state, uri).await {
        return Err(redirect);
    }
    match session::visitor(state, headers).await {
        Some(caller) if caller.principal.role == Role::Vendor => Err(html(
            StatusCode::FORBIDDEN,
            render::message_page(
                "Đây là mã của gian hàng",
                "Mã này dùng cho màn hình bán hàng (/vendor), không dùng cho bảng theo dõi chợ.",
            ),
        )),
        Some(caller) => Ok(caller),
        None => Err(html(
            StatusCode::UNAUTHORIZED,
            render::login_page(uri.path(), false),
        )),
    }
}

fn today_ask() -> Ask {
    Ask::last_30_days(Day::of_ms(now_ms()))
}

/// The market of a page, if the caller may read it.
async fn readable_market(
    state: &AppState,
    caller: &Principal,
    slug: &str,
) -> Result<MarketRow, Response> {
    let market = catalog::market(&state.store, slug)
        .await
        .map_err(from_service)?;
    require_market(caller, &market).map_err(|_| refused())?;
    Ok(market)
}

/// The stall table's filter in the address (`?status=`), for browsers without script.
#[derive(Debug, Deserialize)]
pub struct BoardQuery {
    status: Option<String>,
}

/// `GET /boards/{slug}`: the market board.
pub async fn market_board(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Answer {
    let caller = enter(&state, &uri, &headers).await?;
    let market = readable_market(&state, &caller, &slug).await?;
    let filter = Query::<BoardQuery>::try_from_uri(&uri)
        .ok()
        .and_then(|Query(q)| q.status)
        .filter(|s| STALL_FILTERS.iter().any(|(value, _)| value == s))
        .unwrap_or_default();
    let district_link = can_read_district(&caller, &market.district_slug);
    let figures = stats::of_market(&state.store, market, today_ask())
        .await
        .map_err(from_service)?;
    Ok(html(
        StatusCode::OK,
        render::market_board(
            &figures,
            district_link,
            &filter,
            DEFAULT_ACTIVE_DAYS,
            now_ms(),
        ),
    ))
}

/// `GET /districts/{slug}`: a district's markets together and each.
pub async fn district_board(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Answer {
    let caller = enter(&state, &uri, &headers).await?;
    if !can_read_district(&caller, &slug) {
        return Err(refused());
    }
    let figures = stats::of_district(&state.store, &slug, today_ask())
        .await
        .map_err(from_service)?;
    Ok(html(
        StatusCode::OK,
        render::district_page(&figures, DEFAULT_ACTIVE_DAYS, now_ms()),
    ))
}

/// `GET /`: the markets the token reaches, by district.
pub async fn index(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Answer {
    let caller = enter(&state, &uri, &headers).await?;
    let filter = match &caller.scope {
        Scope::Market(id) => MarketFilter::Id(*id),
        Scope::District(slug) => MarketFilter::District(slug.clone()),
        Scope::All | Scope::Stall(_) => MarketFilter::All,
    };
    let first = Page::new(Some(1), Some(Page::MAX_SIZE));
    let (rows, _) = markets::list(&state.store, &filter, first)
        .await
        .map_err(|e| unavailable(&e))?;
    let figures = stats::summaries(&state.store, rows, today_ask())
        .await
        .map_err(from_service)?;
    let mut districts: Vec<(&str, &str)> = figures
        .iter()
        .map(|m| (m.market.district_slug.as_str(), m.market.district.as_str()))
        .collect();
    districts.sort_unstable();
    districts.dedup();
    let groups: Vec<DistrictGroup<'_>> = districts
        .into_iter()
        .map(|(slug, name)| DistrictGroup {
            link: can_read_district(&caller, slug).then_some((slug, name)),
            name,
            markets: figures
                .iter()
                .filter(|m| m.market.district_slug == slug)
                .collect(),
        })
        .collect();
    Ok(html(StatusCode::OK, render::index_page(&groups, now_ms())))
}

/// Where the login form returns to.
#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// `GET /login`: the form.
pub async fn login_form(Query(query): Query<NextQuery>) -> Response {
    let next = session::local_path(query.next.as_deref());
    html(StatusCode::OK, render::login_page(next, false))
}

/// `POST /login`: keeps a valid token in the cookie and goes on; a wrong one gets the form again.
pub async fn login(
    State(state): State<AppState>,
    axum::Form(form): axum::Form<LoginForm>,
) -> Response {
    match session::log_in(&state, &form).await {
        Some(redirect) => redirect,
        None => html(
            StatusCode::UNAUTHORIZED,
            render::login_page(session::local_path(form.next.as_deref()), true),
        ),
    }
}

/// `POST /logout`.
pub async fn logout() -> Response {
    session::log_out()
}

/// How long a stream waits after a credit for more before it sends new figures.
const SETTLE: Duration = Duration::from_millis(250);
/// How often a stream sends figures even when nothing was paid (the day turns, posters change).
const REFRESH: Duration = Duration::from_secs(60);

/// What a stream shows.
#[derive(Debug, Clone)]
enum Watched {
    Market(MarketRow),
    District(String, Vec<i64>),
}

impl Watched {
    fn covers(&self, market_id: i64) -> bool {
        match self {
            Self::Market(market) => market.id == market_id,
            Self::District(_, ids) => ids.contains(&market_id),
        }
    }

    /// The fragments the page replaces, as the `figures` event's JSON.
    async fn figures(&self, state: &AppState) -> Option<Event> {
        let ask = today_ask();
        let at = now_ms();
        let fragments = match self {
            Self::Market(market) => stats::of_market(&state.store, market.clone(), ask)
                .await
                .map(|f| render::market_fragments(&f, ask.active_days, at)),
            Self::District(slug, _) => stats::of_district(&state.store, slug, ask)
                .await
                .map(|f| render::district_fragments(&f, ask.active_days, at)),
        };
        match fragments {
            Ok(parts) => {
                let map: serde_json::Map<String, serde_json::Value> = parts
                    .into_iter()
                    .map(|(id, html)| (id.to_owned(), serde_json::Value::String(html)))
                    .collect();
                Event::default().event("figures").json_data(map).ok()
            }
            Err(e) => {
                tracing::warn!(error = %e, "board stream: figures unavailable");
                None
            }
        }
    }
}

/// The live figures of a page: a `figures` event shortly after credits land in what it shows,
/// and once a minute regardless.
fn stream(state: AppState, watched: Watched) -> impl Stream<Item = Result<Event, Infallible>> {
    let receiver = state.ledger.subscribe();
    let stopping = state.stopping.subscribe();
    futures_util::stream::unfold(
        (receiver, stopping, state, watched),
        |(mut receiver, mut stopping, state, watched)| async move {
            let mut refresh =
                tokio::time::interval_at(tokio::time::Instant::now() + REFRESH, REFRESH);
            loop {
                if *stopping.borrow() {
                    return None;
                }
                let changed = tokio::select! {
                    received = receiver.recv() => match received {
                        Ok(event) => watched.covers(event.credit.market_id),
                        Err(RecvError::Lagged(_)) => true,
                        Err(RecvError::Closed) => return None,
                    },
                    _ = refresh.tick() => true,
                    _ = stopping.changed() => return None,
                };
                if !changed {
                    continue;
                }
                // Let a burst of credits settle, then count them all at once.
                tokio::time::sleep(SETTLE).await;
                while let Ok(_) | Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) =
                    receiver.try_recv()
                {}
                if let Some(event) = watched.figures(&state).await {
                    return Some((Ok(event), (receiver, stopping, state, watched)));
                }
            }
        },
    )
}

fn sse(state: AppState, visitor: Session, watched: Watched) -> Response {
    let events = state.until_revoked(visitor, stream(state.clone(), watched));
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response()
}

/// `GET /boards/{slug}/events`: the market board's live figures.
pub async fn market_events(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Answer {
    let visitor = visit(&state, &uri, &headers).await?;
    let market = readable_market(&state, &visitor.principal, &slug).await?;
    Ok(sse(state, visitor, Watched::Market(market)))
}

/// `GET /districts/{slug}/events`: the district page's live figures.
pub async fn district_events(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Answer {
    let visitor = visit(&state, &uri, &headers).await?;
    if !can_read_district(&visitor.principal, &slug) {
        return Err(refused());
    }
    let rows = markets::in_district(&state.store, &slug)
        .await
        .map_err(|e| unavailable(&e))?;
    if rows.is_empty() {
        return Err(refused());
    }
    let ids = rows.iter().map(|m| m.id).collect();
    Ok(sse(state, visitor, Watched::District(slug, ids)))
}
