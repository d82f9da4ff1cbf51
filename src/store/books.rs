//! The books: whether the ledger, its assignments and the daily rollups agree, to the đồng. Every
//! credit is either allocated to a stall (matched, or assigned after review) or waiting in
//! suspense; the rollups must say the same, stall by stall, and each market's own rollup the same
//! as its stalls', day by day; and every credit must name a stall, order, channel and market that
//! exist (PostgreSQL's ledger writes them without foreign-key checks, migrations 0003 and 0011).
//! Read in one snapshot, so the answer holds while payments keep landing.

use std::collections::BTreeMap;

use crate::domain::stats::Tally;
use crate::read_snapshot;

use super::{Store, StoreError};

/// What the books say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Books {
    /// Every credit in the ledger.
    pub credits: Tally,
    /// Credits that belong to a stall: matched to it, or assigned to it after review.
    pub allocated: Tally,
    /// Credits no stall has yet.
    pub suspense: Tally,
    /// Every credit as the rollups count them.
    pub rollups: Tally,
    /// The suspense as the rollups count it (the stall-0 rows).
    pub rollup_suspense: Tally,
    /// Stalls whose rollups disagree with their ledger: (stall, ledger, rollups).
    pub disagreeing: Vec<(i64, Tally, Tally)>,
    /// Days whose market rollup (`market_days`) disagrees, in any sum, with the rollups of the
    /// market's stalls: (market, day).
    pub disagreeing_days: Vec<(i64, i64)>,
    /// Credits that name a stall, order, channel or market that does not exist (the first
    /// [`ORPHANS_LISTED`], by id).
    pub orphans: Vec<i64>,
}

impl Books {
    /// Whether everything adds up.
    pub fn balanced(&self) -> bool {
        self.allocated + self.suspense == self.credits
            && self.rollups == self.credits
            && self.rollup_suspense == self.suspense
            && self.disagreeing.is_empty()
            && self.disagreeing_days.is_empty()
            && self.orphans.is_empty()
    }
}

/// Every credit, counted straight from the ledger.
const LEDGER_TOTAL: &str = "SELECT COUNT(*), CAST(COALESCE(SUM(amount_dong), 0) AS BIGINT) \
     FROM credits WHERE ($1 = 0 OR market_id = $1)";
/// Per stall: (stall id, count, sum). Stall 0 is the suspense.
const LEDGER_BY_STALL: &str = "SELECT COALESCE(c.stall_id, a.stall_id, 0) AS stall, COUNT(*), \
     CAST(COALESCE(SUM(c.amount_dong), 0) AS BIGINT) \
     FROM credits c LEFT JOIN credit_assignments a ON a.credit_id = c.id \
     WHERE ($1 = 0 OR c.market_id = $1) GROUP BY COALESCE(c.stall_id, a.stall_id, 0)";
const ROLLUPS_BY_STALL: &str = "SELECT stall_id, CAST(COALESCE(SUM(credits), 0) AS BIGINT), \
     CAST(COALESCE(SUM(amount_dong), 0) AS BIGINT) \
     FROM credit_days WHERE ($1 = 0 OR market_id = $1) GROUP BY stall_id";

/// Per market and day, the stalls' rollups minus the market's, every sum: the (market, day)
/// where any is not zero.
const DAYS_DISAGREEING: &str = "SELECT market_id, day FROM (\
     SELECT market_id, day, credits, amount_dong, dynamic_credits, dynamic_amount_dong, static_credits, \
       static_amount_dong, unmatched_credits, unmatched_amount_dong, assigned_credits, assigned_amount_dong \
     FROM credit_days WHERE ($1 = 0 OR market_id = $1) \
     UNION ALL \
     SELECT market_id, day, -credits, -amount_dong, -dynamic_credits, -dynamic_amount_dong, -static_credits, \
       -static_amount_dong, -unmatched_credits, -unmatched_amount_dong, -assigned_credits, -assigned_amount_dong \
     FROM market_days WHERE ($1 = 0 OR market_id = $1)) AS difference \
     GROUP BY market_id, day \
     HAVING SUM(credits) <> 0 OR SUM(amount_dong) <> 0 OR SUM(dynamic_credits) <> 0 \
       OR SUM(dynamic_amount_dong) <> 0 OR SUM(static_credits) <> 0 OR SUM(static_amount_dong) <> 0 \
       OR SUM(unmatched_credits) <> 0 OR SUM(unmatched_amount_dong) <> 0 OR SUM(assigned_credits) <> 0 \
       OR SUM(assigned_amount_dong) <> 0 \
     ORDER BY market_id, day";

/// Orphaned credits named at most.
pub const ORPHANS_LISTED: i64 = 100;

/// Credits whose stall, order, channel or market is not there, by id; `$2` of them at most.
const ORPHANS: &str = "SELECT c.id FROM credits c WHERE ($1 = 0 OR c.market_id = $1) AND (\
       (c.stall_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM stalls s WHERE s.id = c.stall_id)) \
       OR (c.order_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = c.order_id)) \
       OR NOT EXISTS (SELECT 1 FROM channels h WHERE h.id = c.channel_id) \
       OR NOT EXISTS (SELECT 1 FROM markets m WHERE m.id = c.market_id)) \
     ORDER BY c.id LIMIT $2";

/// The books of one market, or of every market (`None`).
pub async fn check(store: &Store, market_id: Option<i64>) -> Result<Books, StoreError> {
    let market = market_id.unwrap_or(0);
    type Rows = Vec<(i64, i64, i64)>;
    type Read = ((i64, i64), Rows, Rows, Vec<(i64, i64)>, Vec<i64>);
    let ((count, amount_dong), ledger, rollups, disagreeing_days, orphans): Read = read_snapshot!(store, tx => {
        let total = sqlx::query_as(LEDGER_TOTAL).bind(market).fetch_one(&mut *tx).await?;
        let ledger = sqlx::query_as(LEDGER_BY_STALL).bind(market).fetch_all(&mut *tx).await?;
        let rollups = sqlx::query_as(ROLLUPS_BY_STALL).bind(market).fetch_all(&mut *tx).await?;
        let days = sqlx::query_as(DAYS_DISAGREEING).bind(market).fetch_all(&mut *tx).await?;
        let orphans = sqlx::query_scalar(ORPHANS)
            .bind(market)
            .bind(ORPHANS_LISTED)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>((total, ledger, rollups, days, orphans))
    })?;
    let by_stall = |rows: Vec<(i64, i64, i64)>| -> BTreeMap<i64, Tally> {
        rows.into_iter()
            .map(|(stall, count, amount_dong)| (stall, Tally { count, amount_dong }))
            .collect()
    };
    let (ledger, rollups) = (by_stall(ledger), by_stall(rollups));
    let sum = |map: &BTreeMap<i64, Tally>, stalls: bool| {
        map.iter()
            .filter(|(stall, _)| (**stall != 0) == stalls)
            .fold(Tally::default(), |total, (_, t)| total + *t)
    };
    let stalls: std::collections::BTreeSet<i64> = ledger
        .keys()
        .chain(rollups.keys())
        .copied()
        .filter(|stall| *stall != 0)
        .collect();
    let disagreeing = stalls
        .into_iter()
        .filter_map(|stall| {
            let in_ledger = ledger.get(&stall).copied().unwrap_or_default();
            let in_rollups = rollups.get(&stall).copied().unwrap_or_default();
            (in_ledger != in_rollups).then_some((stall, in_ledger, in_rollups))
        })
        .collect();
    Ok(Books {
        credits: Tally { count, amount_dong },
        allocated: sum(&ledger, true),
        suspense: sum(&ledger, false),
        rollups: sum(&rollups, true) + sum(&rollups, false),
        rollup_suspense: sum(&rollups, false),
        disagreeing,
        disagreeing_days,
        orphans,
    })
}
