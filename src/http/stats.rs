//! Board figures over HTTP (*contract*): `GET /api/v1/markets/{slug}/stats`,
//! `GET /api/v1/districts/{slug}/stats` and the monthly report
//! `GET /api/v1/markets/{slug}/report.csv?month=YYYY-MM`.
//!
//! Counts are integers, amounts whole đồng as strings, percentages strings with one decimal
//! rounded half up (`"97.9"`). Boards see stalls and vendors, never who paid.

use axum::body::Body;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::credits::DayOut;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiPath, ApiQuery, Caller};
use super::{AppState, hide_missing, out_of_reach, visible_market};
use crate::domain::access::{Principal, Role, Scope};
use crate::domain::adoption::{Adoption, Share};
use crate::domain::day::Day;
use crate::domain::stats::{Recent, Tally, Totals};
use crate::service::stats::{self as figures, Ask, DistrictFigures, MarketFigures};
use crate::store::credits::DailyRow;
use crate::store::now_ms;
use crate::store::stats::{Snapshot, StallLine};

/// The range and window of the figures.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StatsQuery {
    /// First day, `YYYY-MM-DD` (Vietnam time); default 29 days before `to`.
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD`; default today. The active window ends with it.
    pub to: Option<String>,
    /// A stall is active with a credit in this many days up to `to` (1–366, default 30).
    pub active_days: Option<i64>,
}

/// Reads `from` and `to` (`YYYY-MM-DD`, Vietnam days): `to` defaults to `today`, `from` to 29
/// days before `to`.
pub fn day_range(from: Option<&str>, to: Option<&str>, today: Day) -> Result<(Day, Day), ApiError> {
    let parse = |name: &str, text: &str| {
        Day::parse(text)
            .ok_or_else(|| ApiError::invalid(format!("{name} must be a date YYYY-MM-DD")))
    };
    let to = to.map_or(Ok(today), |text| parse("to", text))?;
    let from = from.map_or(Ok(to.plus_days(-29)), |text| parse("from", text))?;
    Ok((from, to))
}

impl StatsQuery {
    fn ask(&self) -> Result<Ask, ApiError> {
        let today = Day::of_ms(now_ms());
        let (from, to) = day_range(self.from.as_deref(), self.to.as_deref(), today)?;
        let ask = Ask {
            from,
            to,
            today,
            active_days: self.active_days.unwrap_or(figures::DEFAULT_ACTIVE_DAYS),
        };
        Ok(figures::check(ask)?)
    }
}

/// A part of a whole.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShareOut {
    /// The part.
    pub count: u64,
    /// The whole.
    pub of: u64,
    /// One decimal, rounded half up: `"97.9"` (`"0.0"` of nothing).
    pub percent: String,
}

impl From<Share> for ShareOut {
    fn from(share: Share) -> Self {
        Self {
            count: share.count,
            of: share.of,
            percent: share.percent(),
        }
    }
}

/// Adoption: accounts and posters as they are now, activity in the window ending with `to`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdoptionOut {
    /// Open stalls.
    pub registered: u64,
    /// With a linked bank account.
    pub linked: ShareOut,
    /// With an account and a poster printed for it (not stale).
    pub equipped: ShareOut,
    /// With a credit within the active window.
    pub active: ShareOut,
    /// The active window, in days.
    pub active_window_days: i64,
}

fn adoption_out(adoption: &Adoption, active_days: i64) -> AdoptionOut {
    AdoptionOut {
        registered: adoption.registered,
        linked: adoption.linked.into(),
        equipped: adoption.equipped.into(),
        active: adoption.active.into(),
        active_window_days: active_days,
    }
}

/// A count of credits and their sum.
#[derive(Debug, Serialize, ToSchema)]
pub struct TallyOut {
    /// Credits.
    pub count: i64,
    /// Their sum, whole đồng as a string.
    pub amount: String,
}

impl From<Tally> for TallyOut {
    fn from(tally: Tally) -> Self {
        Self {
            count: tally.count,
            amount: tally.amount_dong.to_string(),
        }
    }
}

/// Credits of a range by kind; `all` = `matched` + `unmatched`, and `matched` = `dynamic` +
/// `static` + `assigned`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreditsOut {
    /// Every credit.
    pub all: TallyOut,
    /// Credits that reached a stall.
    pub matched: TallyOut,
    /// Credits waiting in suspense for review.
    pub unmatched: TallyOut,
    /// Paid with a dynamic code (an order's reference).
    pub dynamic: TallyOut,
    /// Paid to a stall's static poster.
    #[serde(rename = "static")]
    pub fixed: TallyOut,
    /// Given to a stall after review.
    pub assigned: TallyOut,
}

impl From<Totals> for CreditsOut {
    fn from(totals: Totals) -> Self {
        Self {
            all: totals.all().into(),
            matched: totals.matched().into(),
            unmatched: totals.unmatched.into(),
            dynamic: totals.dynamic.into(),
            fixed: totals.fixed.into(),
            assigned: totals.assigned.into(),
        }
    }
}

/// Cashless payments of the days just gone (every credit).
#[derive(Debug, Serialize, ToSchema)]
pub struct RecentOut {
    /// Today (Vietnam time).
    pub today: TallyOut,
    /// Today and the 6 days before.
    pub last_7_days: TallyOut,
    /// Today and the 29 days before.
    pub last_30_days: TallyOut,
}

impl From<Recent> for RecentOut {
    fn from(recent: Recent) -> Self {
        Self {
            today: recent.today.all().into(),
            last_7_days: recent.week.all().into(),
            last_30_days: recent.month.all().into(),
        }
    }
}

/// A stall the field team should visit.
#[derive(Debug, Serialize, ToSchema)]
pub struct VisitOut {
    /// Stall id.
    pub stall_id: i64,
    /// Stall code.
    pub code: String,
    /// Vendor.
    pub vendor_name: String,
    /// `no_account`, `no_poster`, `stale_poster` or `inactive`.
    pub reason: String,
    /// What to do, in Vietnamese.
    pub advice: String,
}

fn visits_out(figures: &MarketFigures) -> Vec<VisitOut> {
    figures
        .adoption
        .visits
        .iter()
        .map(|(id, code, reason)| VisitOut {
            stall_id: *id,
            code: code.clone(),
            vendor_name: figures
                .stall(*id)
                .map(|s| s.line.vendor_name.clone())
                .unwrap_or_default(),
            reason: reason.as_str().to_owned(),
            advice: reason.advice().to_owned(),
        })
        .collect()
}

/// Which market.
#[derive(Debug, Serialize, ToSchema)]
pub struct MarketRef {
    /// Slug.
    pub slug: String,
    /// Name.
    pub name: String,
    /// Commune or town.
    pub commune: String,
    /// District.
    pub district: String,
    /// District slug.
    pub district_slug: String,
}

/// What market and district figures have in common.
#[derive(Debug, Serialize, ToSchema)]
pub struct Figures {
    /// Today, `YYYY-MM-DD` (Vietnam time).
    pub today: String,
    /// First day of the range.
    pub from: String,
    /// Last day of the range.
    pub to: String,
    /// Adoption: accounts and posters now, activity up to `to`.
    pub stalls: AdoptionOut,
    /// Credits over the range.
    pub credits: CreditsOut,
    /// Today, 7 and 30 days.
    pub recent: RecentOut,
    /// Every day of the range, oldest first, days without credits as zeros.
    pub daily: Vec<DayOut>,
}

fn figures_out(
    adoption: &Adoption,
    totals: Totals,
    recent: Recent,
    series: &[(Day, Totals)],
    ask: Ask,
) -> Figures {
    Figures {
        today: ask.today.to_string(),
        from: ask.from.to_string(),
        to: ask.to.to_string(),
        stalls: adoption_out(adoption, ask.active_days),
        credits: totals.into(),
        recent: recent.into(),
        daily: series
            .iter()
            .map(|(day, totals)| DayOut::of(*day, *totals))
            .collect(),
    }
}

/// A market's figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct MarketStats {
    /// The market.
    pub market: MarketRef,
    /// Its figures.
    #[serde(flatten)]
    pub figures: Figures,
    /// Stalls to visit, most urgent first: no account, no poster, stale poster, inactive.
    pub visits: Vec<VisitOut>,
}

/// The JSON of a market's figures.
pub fn market_stats(figures: &MarketFigures, ask: Ask) -> MarketStats {
    let market = &figures.market;
    MarketStats {
        market: MarketRef {
            slug: market.slug.clone(),
            name: market.name.clone(),
            commune: market.commune.clone(),
            district: market.district.clone(),
            district_slug: market.district_slug.clone(),
        },
        figures: figures_out(
            &figures.adoption,
            figures.totals,
            figures.recent,
            &figures.series,
            ask,
        ),
        visits: visits_out(figures),
    }
}

/// A market within a district's figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct DistrictMarketOut {
    /// The market.
    pub slug: String,
    /// Its name.
    pub name: String,
    /// Commune or town.
    pub commune: String,
    /// Its adoption.
    pub stalls: AdoptionOut,
    /// Its credits over the range.
    pub credits: CreditsOut,
    /// Its today, 7 and 30 days.
    pub recent: RecentOut,
    /// How many of its stalls need a visit.
    pub visits: u64,
}

/// A district's figures: the sum of its markets, and each market.
#[derive(Debug, Serialize, ToSchema)]
pub struct DistrictStats {
    /// District slug.
    pub slug: String,
    /// District name.
    pub name: String,
    /// All markets together.
    #[serde(flatten)]
    pub figures: Figures,
    /// Each market, in slug order.
    pub markets: Vec<DistrictMarketOut>,
}

/// The JSON of a district's figures.
pub fn district_stats(figures: &DistrictFigures, ask: Ask) -> DistrictStats {
    DistrictStats {
        slug: figures.slug.clone(),
        name: figures.name.clone(),
        figures: figures_out(
            &figures.adoption,
            figures.totals,
            figures.recent,
            &figures.series,
            ask,
        ),
        markets: figures
            .markets
            .iter()
            .map(|m| DistrictMarketOut {
                slug: m.market.slug.clone(),
                name: m.market.name.clone(),
                commune: m.market.commune.clone(),
                stalls: adoption_out(&m.adoption, ask.active_days),
                credits: m.totals.into(),
                recent: m.recent.into(),
                visits: m.adoption.to_visit,
            })
            .collect(),
    }
}

/// Whether the caller may read the district's figures: an admin, or the district's board.
pub fn can_read_district(caller: &Principal, slug: &str) -> bool {
    match (&caller.role, &caller.scope) {
        (Role::Admin, _) => true,
        (Role::Board, Scope::District(own)) => own == slug,
        _ => false,
    }
}

/// A market's adoption, credits, daily series and visit list (admin, the market's or its
/// district's board).
#[utoipa::path(get, path = "/api/v1/markets/{slug}/stats", tag = "boards",
    params(("slug" = String, Path, description = "Market slug"), StatsQuery), security(("bearer" = [])),
    responses((status = 200, body = MarketStats), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn market(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(slug): ApiPath<String>,
    ApiQuery(query): ApiQuery<StatsQuery>,
) -> Result<axum::Json<MarketStats>, ApiError> {
    let ask = query.ask()?;
    let market = visible_market(&state, &caller, &slug).await?;
    let figures = figures::of_market(&state.store, market, ask).await?;
    Ok(axum::Json(market_stats(&figures, ask)))
}

/// A district's figures, all its markets together and each one (admin or the district's board).
#[utoipa::path(get, path = "/api/v1/districts/{slug}/stats", tag = "boards",
    params(("slug" = String, Path, description = "District slug"), StatsQuery), security(("bearer" = [])),
    responses((status = 200, body = DistrictStats), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn district(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(slug): ApiPath<String>,
    ApiQuery(query): ApiQuery<StatsQuery>,
) -> Result<axum::Json<DistrictStats>, ApiError> {
    let ask = query.ask()?;
    if !can_read_district(&caller, &slug) {
        return Err(out_of_reach());
    }
    let figures = figures::of_district(&state.store, &slug, ask)
        .await
        .map_err(|e| hide_missing(&caller, e))?;
    Ok(axum::Json(district_stats(&figures, ask)))
}

/// The month of a report.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// `YYYY-MM` (Vietnam time); default this month.
    pub month: Option<String>,
}

/// The first and last day of `YYYY-MM`.
fn month_days(text: &str) -> Option<(Day, Day)> {
    let (year, month) = text.split_once('-')?;
    if year.len() != 4 || month.len() != 2 {
        return None;
    }
    let first = Day::parse(&format!("{year}-{month}-01"))?;
    let next = Day::parse(&format!("{year}{month}28"))?.plus_days(4);
    let next_first = Day::from_number(next.number() / 100 * 100 + 1)?;
    Some((first, next_first.plus_days(-1)))
}

/// Stall rows per database read while a report streams.
const REPORT_BATCH: i64 = 500;

const REPORT_COLUMNS: [&str; 17] = [
    "market",
    "month",
    "code",
    "vendor_name",
    "goods",
    "account_linked",
    "poster",
    "active",
    "credits",
    "amount",
    "dynamic_credits",
    "dynamic_amount",
    "static_credits",
    "static_amount",
    "assigned_credits",
    "assigned_amount",
    "last_credit_date",
];

fn report_row(slug: &str, month: &str, line: &StallLine) -> [String; 17] {
    let poster = crate::domain::poster::PosterStatus::of(
        line.linked,
        line.account_linked_at_ms,
        line.poster_printed_at_ms,
    );
    let yes = |b: bool| if b { "yes" } else { "no" }.to_owned();
    [
        slug.to_owned(),
        month.to_owned(),
        line.code.clone(),
        line.vendor_name.clone(),
        line.goods.clone(),
        yes(line.linked),
        poster.as_str().to_owned(),
        yes(line.credits > 0),
        line.credits.to_string(),
        line.amount_dong.to_string(),
        line.dynamic_credits.to_string(),
        line.dynamic_amount_dong.to_string(),
        line.static_credits.to_string(),
        line.static_amount_dong.to_string(),
        line.assigned_credits.to_string(),
        line.assigned_amount_dong.to_string(),
        line.last_day
            .and_then(Day::from_number)
            .map(|d| d.to_string())
            .unwrap_or_default(),
    ]
}

/// The closing rows: credits no stall has yet (code `(unmatched)`), then the market's total
/// (code `(total)`), so stall rows plus unmatched add up to the total.
fn closing_rows(slug: &str, month: &str, totals: Totals) -> [[String; 17]; 2] {
    let row = |code: &str, all: Tally, totals: Totals| {
        [
            slug.to_owned(),
            month.to_owned(),
            code.to_owned(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            all.count.to_string(),
            all.amount_dong.to_string(),
            totals.dynamic.count.to_string(),
            totals.dynamic.amount_dong.to_string(),
            totals.fixed.count.to_string(),
            totals.fixed.amount_dong.to_string(),
            totals.assigned.count.to_string(),
            totals.assigned.amount_dong.to_string(),
            String::new(),
        ]
    };
    [
        row("(unmatched)", totals.unmatched, Totals::default()),
        row("(total)", totals.all(), totals),
    ]
}

fn csv_bytes<'a>(
    rows: impl IntoIterator<Item = &'a [String; 17]>,
    header: bool,
) -> std::io::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    if header {
        writer.write_record(REPORT_COLUMNS)?;
    }
    for row in rows {
        writer.write_record(row)?;
    }
    writer
        .into_inner()
        .map_err(|e| std::io::Error::other(e.to_string()))
}

/// A market's monthly report as CSV: one row per stall (open or closed) with its account, poster
/// and credits of the month, then the unmatched credits and the market's total. Streams a few
/// hundred stalls per database read, all from one snapshot taken when the request arrives, so
/// the rows add up to the total even while payments land.
#[utoipa::path(get, path = "/api/v1/markets/{slug}/report.csv", tag = "boards",
    params(("slug" = String, Path, description = "Market slug"), ReportQuery), security(("bearer" = [])),
    responses((status = 200, description = "CSV, stalls in id order, then `(unmatched)` and `(total)`", content_type = "text/csv"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn report_csv(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(slug): ApiPath<String>,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> Result<Response, ApiError> {
    let month = match query.month {
        Some(text) => text,
        None => Day::of_ms(now_ms()).to_string()[..7].to_owned(),
    };
    let days = month_days(&month).ok_or_else(|| ApiError::invalid("month must be YYYY-MM"))?;
    let market = visible_market(&state, &caller, &slug).await?;
    let filename = format!("{}-{month}.csv", market.slug);
    let snapshot = Snapshot::begin(&state.store)
        .await
        .map_err(|e| ApiError::internal(&e))?;

    enum Next {
        Stalls { after: i64, header: bool },
        Closing,
        Done,
    }
    let (slug, market_id) = (market.slug, market.id);
    let stream = futures_util::stream::unfold(
        (
            snapshot,
            Next::Stalls {
                after: 0,
                header: true,
            },
        ),
        move |(mut snapshot, next)| {
            let (slug, month) = (slug.clone(), month.clone());
            async move {
                let failed = |e: &dyn std::fmt::Display| {
                    tracing::error!(error = %e, "monthly report failed midway");
                    Err(std::io::Error::other("report failed"))
                };
                let (bytes, next) = match next {
                    Next::Done => return None,
                    Next::Closing => match snapshot.daily(market_id, days).await {
                        Ok(rows) => {
                            let totals: Totals = rows
                                .iter()
                                .filter_map(DailyRow::totals)
                                .map(|(_, t)| t)
                                .sum();
                            let closing = closing_rows(&slug, &month, totals);
                            (csv_bytes(&closing, false), Next::Done)
                        }
                        Err(e) => (failed(&e), Next::Done),
                    },
                    Next::Stalls { after, header } => {
                        match snapshot
                            .lines_after(market_id, days, after, REPORT_BATCH)
                            .await
                        {
                            Ok(lines) => {
                                let rows: Vec<[String; 17]> =
                                    lines.iter().map(|l| report_row(&slug, &month, l)).collect();
                                let full = i64::try_from(lines.len()).unwrap_or(0) == REPORT_BATCH;
                                let next = match lines.last() {
                                    Some(last) if full => Next::Stalls {
                                        after: last.id,
                                        header: false,
                                    },
                                    _ => Next::Closing,
                                };
                                (csv_bytes(&rows, header), next)
                            }
                            Err(e) => (failed(&e), Next::Done),
                        }
                    }
                };
                Some((bytes, (snapshot, next)))
            }
        },
    );
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
            (CACHE_CONTROL, "no-store".to_owned()),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_runs_from_its_first_to_its_last_day() {
        let shown = |text: &str| month_days(text).map(|(a, b)| (a.to_string(), b.to_string()));
        assert_eq!(
            shown("2026-11"),
            Some(("2026-11-01".into(), "2026-11-30".into()))
        );
        assert_eq!(
            shown("2026-12"),
            Some(("2026-12-01".into(), "2026-12-31".into()))
        );
        assert_eq!(
            shown("2028-02"),
            Some(("2028-02-01".into(), "2028-02-29".into()))
        );
        assert_eq!(shown("2026-13"), None);
        assert_eq!(shown("2026-1"), None);
        assert_eq!(shown("202611"), None);
        assert_eq!(shown("junk"), None);
    }
}
