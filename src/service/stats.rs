//! Board figures of a market or a district: adoption (registered → account → poster → active),
//! cashless volume by kind over a range, its daily series, today / 7 / 30 days, and the stalls to
//! visit. Reads one database snapshot and hands it to the pure `domain::adoption` and
//! `domain::stats`.

use crate::domain::adoption::{self, Adoption, StallFacts, Tally};
use crate::domain::day::Day;
use crate::domain::poster::PosterStatus;
use crate::domain::stats::{self, RECENT_DAYS, Recent, Totals};
use crate::store::markets::{self, MarketRow};
use crate::store::stats::{MarketSnapshot, Reading, StallLine, StallTally, Stalls, snapshot};
use crate::store::{Store, credits::DailyRow};

use super::ServiceError;

/// The default window of "active": a credit within the last 30 days.
pub const DEFAULT_ACTIVE_DAYS: i64 = 30;

/// Longest range of days one request may ask for.
pub const MAX_DAYS: i64 = 366;

/// What the figures are asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ask {
    /// First day of the range.
    pub from: Day,
    /// Last day of the range; the active window ends with it.
    pub to: Day,
    /// Today, for the recent windows.
    pub today: Day,
    /// A stall is active with a credit in this many days up to `to`.
    pub active_days: i64,
}

impl Ask {
    /// The usual ask: the 30 days up to today, active within 30 days.
    pub fn last_30_days(today: Day) -> Self {
        Self {
            from: today.plus_days(1 - RECENT_DAYS),
            to: today,
            today,
            active_days: DEFAULT_ACTIVE_DAYS,
        }
    }

    fn reading(self, list_stalls: bool) -> Reading {
        Reading {
            stalls: (self.to.plus_days(1 - self.active_days), self.to),
            list_stalls,
            range: (self.from, self.to),
            recent: (self.today.plus_days(1 - RECENT_DAYS), self.today),
        }
    }
}

/// A stall as a board shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StallFigures {
    /// What was read: account, poster times, sums over the active window, latest credit day.
    pub line: StallLine,
    /// Its poster.
    pub poster: PosterStatus,
    /// Whether it had a credit within the active window.
    pub active: bool,
}

/// A market's figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketFigures {
    /// The market.
    pub market: MarketRow,
    /// Its adoption: accounts and posters as they are now, activity in the window ending
    /// `ask.to` (closed stalls left out).
    pub adoption: Adoption,
    /// Credits over the range.
    pub totals: Totals,
    /// Every day of the range.
    pub series: Vec<(Day, Totals)>,
    /// Today, 7 and 30 days.
    pub recent: Recent,
    /// Its open stalls in code order.
    pub stalls: Vec<StallFigures>,
}

impl MarketFigures {
    /// The open stall with this id.
    pub fn stall(&self, id: i64) -> Option<&StallFigures> {
        self.stalls.iter().find(|s| s.line.id == id)
    }
}

/// A market's figures without its stalls: what a district's board and the index show of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketSummary {
    /// The market.
    pub market: MarketRow,
    /// Its adoption, counted (no visit list: `to_visit` says how many).
    pub adoption: Adoption,
    /// Credits over the range.
    pub totals: Totals,
    /// Every day of the range.
    pub series: Vec<(Day, Totals)>,
    /// Today, 7 and 30 days.
    pub recent: Recent,
}

/// A district's figures: its markets' and their sum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistrictFigures {
    /// District slug.
    pub slug: String,
    /// District name, as its markets give it.
    pub name: String,
    /// The markets, in slug order.
    pub markets: Vec<MarketSummary>,
    /// All markets' adoption together.
    pub adoption: Adoption,
    /// All markets' credits over the range.
    pub totals: Totals,
    /// All markets' days.
    pub series: Vec<(Day, Totals)>,
    /// All markets' today, 7 and 30 days.
    pub recent: Recent,
}

/// Checks an ask: a range of at most [`MAX_DAYS`] days, `from` not after `to`, an active window
/// of 1 to [`MAX_DAYS`] days.
pub fn check(ask: Ask) -> Result<Ask, ServiceError> {
    check_range(ask.from, ask.to)?;
    if !(1..=MAX_DAYS).contains(&ask.active_days) {
        return Err(ServiceError::Invalid(format!(
            "active_days must be between 1 and {MAX_DAYS}"
        )));
    }
    Ok(ask)
}

/// Checks a range of days: `from` not after `to`, at most [`MAX_DAYS`] days.
pub fn check_range(from: Day, to: Day) -> Result<(), ServiceError> {
    if from > to {
        return Err(ServiceError::Invalid("from must not be after to".into()));
    }
    if from.days_until(to) >= MAX_DAYS {
        return Err(ServiceError::Invalid(format!(
            "at most {MAX_DAYS} days at a time"
        )));
    }
    Ok(())
}

/// The figures of these markets, read in one snapshot.
pub async fn of_markets(
    store: &Store,
    markets: Vec<MarketRow>,
    ask: Ask,
) -> Result<Vec<MarketFigures>, ServiceError> {
    let ask = check(ask)?;
    let ids: Vec<i64> = markets.iter().map(|m| m.id).collect();
    let read = snapshot(store, &ids, ask.reading(true)).await?;
    Ok(markets
        .into_iter()
        .zip(read)
        .map(|(market, read)| figures(market, read, ask))
        .collect())
}

/// The summaries of these markets, read in one snapshot: their stalls counted, not listed, so a
/// district of fifty markets costs a few statements and no row per stall.
pub async fn summaries(
    store: &Store,
    markets: Vec<MarketRow>,
    ask: Ask,
) -> Result<Vec<MarketSummary>, ServiceError> {
    let ask = check(ask)?;
    let ids: Vec<i64> = markets.iter().map(|m| m.id).collect();
    let read = snapshot(store, &ids, ask.reading(false)).await?;
    Ok(markets
        .into_iter()
        .zip(read)
        .map(|(market, read)| summary(market, read, ask))
        .collect())
}

/// The figures of one market.
pub async fn of_market(
    store: &Store,
    market: MarketRow,
    ask: Ask,
) -> Result<MarketFigures, ServiceError> {
    of_markets(store, vec![market], ask)
        .await?
        .pop()
        .ok_or_else(|| ServiceError::NotFound("market".into()))
}

/// The figures of a district and of each of its markets.
pub async fn of_district(
    store: &Store,
    slug: &str,
    ask: Ask,
) -> Result<DistrictFigures, ServiceError> {
    let markets = markets::in_district(store, slug).await?;
    let name = markets
        .first()
        .map(|m| m.district.clone())
        .ok_or_else(|| ServiceError::NotFound(format!("district '{slug}'")))?;
    let markets = summaries(store, markets, ask).await?;
    let adoption = adoption::combined(
        &markets
            .iter()
            .map(|m| m.adoption.clone())
            .collect::<Vec<_>>(),
    );
    let totals = markets.iter().map(|m| m.totals).sum();
    let all_days: Vec<(Day, Totals)> = markets.iter().flat_map(|m| m.series.clone()).collect();
    let series = stats::series(ask.from, ask.to, &all_days);
    let recent = markets.iter().fold(Recent::default(), |sum, m| Recent {
        today: sum.today + m.recent.today,
        week: sum.week + m.recent.week,
        month: sum.month + m.recent.month,
    });
    Ok(DistrictFigures {
        slug: slug.to_owned(),
        name,
        markets,
        adoption,
        totals,
        series,
        recent,
    })
}

fn days(rows: &[DailyRow]) -> Vec<(Day, Totals)> {
    rows.iter().filter_map(DailyRow::totals).collect()
}

/// The range's series and totals and the recent windows, from a snapshot's days.
fn volume(read: &MarketSnapshot, ask: Ask) -> (Totals, Vec<(Day, Totals)>, Recent) {
    let series = stats::series(ask.from, ask.to, &days(&read.range));
    let recent_days = stats::series(
        ask.today.plus_days(1 - RECENT_DAYS),
        ask.today,
        &days(&read.recent),
    );
    (
        series.iter().map(|(_, t)| *t).sum(),
        series,
        stats::recent(&recent_days, ask.today),
    )
}

fn summary(market: MarketRow, read: MarketSnapshot, ask: Ask) -> MarketSummary {
    let (totals, series, recent) = volume(&read, ask);
    let tallies: Vec<Tally> = match &read.stalls {
        Stalls::Counted(tallies) => tallies.iter().map(tally).collect(),
        Stalls::Listed(lines) => lines
            .iter()
            .filter(|l| l.status == "active")
            .map(|l| Tally {
                poster: PosterStatus::of(l.linked, l.account_linked_at_ms, l.poster_printed_at_ms),
                active: l.credits > 0,
                stalls: 1,
            })
            .collect(),
    };
    MarketSummary {
        adoption: adoption::counted(&tallies),
        totals,
        series,
        recent,
        market,
    }
}

fn tally(t: &StallTally) -> Tally {
    Tally {
        poster: PosterStatus::classify(t.linked, t.printed, t.relinked),
        active: t.active,
        stalls: u64::try_from(t.stalls).unwrap_or(0),
    }
}

fn figures(market: MarketRow, read: MarketSnapshot, ask: Ask) -> MarketFigures {
    let (totals, series, recent) = volume(&read, ask);
    let lines = match read.stalls {
        Stalls::Listed(lines) => lines,
        Stalls::Counted(_) => Vec::new(),
    };
    let mut stalls: Vec<StallFigures> = lines
        .into_iter()
        .filter(|line| line.status == "active")
        .map(|line| StallFigures {
            poster: PosterStatus::of(
                line.linked,
                line.account_linked_at_ms,
                line.poster_printed_at_ms,
            ),
            // The lines' sums cover exactly the active window.
            active: line.credits > 0,
            line,
        })
        .collect();
    stalls.sort_by(|a, b| crate::domain::stall::code_order(&a.line.code, &b.line.code));
    let facts: Vec<StallFacts> = stalls
        .iter()
        .map(|s| StallFacts {
            id: s.line.id,
            code: s.line.code.clone(),
            poster: s.poster,
            last_credit_day: s.line.last_day.and_then(Day::from_number),
        })
        .collect();
    MarketFigures {
        adoption: adoption::adoption(&facts, ask.to, ask.active_days),
        totals,
        recent,
        series,
        stalls,
        market,
    }
}
