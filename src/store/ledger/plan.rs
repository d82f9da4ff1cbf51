//! The in-memory half of recording a batch: what to look up, what each delivery becomes, what
//! the writes must change, and the answers once they are written. No I/O.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::domain::credit::BankCredit;
use crate::domain::day::Day;
use crate::domain::matching::{self, Decision, MatchInput, OrderFacts};
use crate::domain::money::Vnd;
use crate::domain::order::{OrderStatus, Outcome};
use crate::domain::reference::{self, Reference};

use super::CreditInput;
use crate::store::StoreError;
use crate::store::credits::{CreditRow, DayTotal, Recorded};
use crate::store::orders::OrderRow;

/// A batch of deliveries with the references each may carry and the fixed order in which they
/// are decided and written: by first reference, channel and transaction id.
#[derive(Debug)]
pub(super) struct Batch<'a> {
    pub items: &'a [CreditInput<'a>],
    candidates: Vec<Vec<Reference>>,
    pub sequence: Vec<usize>,
}

/// What the reads found.
#[derive(Debug, Default)]
pub(super) struct Lookups {
    /// Credits recorded before, by (channel, transaction id).
    pub existing: HashMap<(i64, String), CreditRow>,
    /// Orders, by reference.
    pub orders: HashMap<String, OrderRow>,
    /// Per market, the stalls `(id, bin, account)` behind the batch's receiving accounts.
    pub stalls: HashMap<i64, Vec<(i64, String, String)>>,
}

/// What one delivery becomes.
#[derive(Debug, Clone)]
pub(super) enum Step {
    /// Recorded before this batch.
    Existing(Box<CreditRow>),
    /// The same transaction as an earlier delivery of this batch (by index).
    SameAs(usize),
    /// A new ledger row.
    New { decision: Decision, day: Day },
}

/// An order the batch pays: as read, and its paid total and status after the batch.
#[derive(Debug)]
pub(super) struct OrderChange {
    pub before: OrderRow,
    pub paid_dong: i64,
    pub status: OrderStatus,
}

impl OrderChange {
    /// The order as the update leaves it.
    pub fn after(&self, now_ms: i64) -> OrderRow {
        OrderRow {
            paid_dong: self.paid_dong,
            status: self.status.as_str().to_owned(),
            updated_at_ms: now_ms,
            ..self.before.clone()
        }
    }
}

/// What a batch adds to one rollup row.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct RollupDelta {
    pub credits: i64,
    pub amount_dong: i64,
    /// (credits, amount) for dynamic, static and unmatched credits.
    pub by_kind: [(i64, i64); 3],
}

/// Every decision of a batch and the writes they call for.
#[derive(Debug)]
pub(super) struct Planned {
    pub steps: Vec<Option<Step>>,
    /// The deliveries that become new ledger rows, in the fixed order.
    pub new: Vec<usize>,
    /// The orders paid, by id.
    pub orders: Vec<OrderChange>,
    /// Per (market, stall or 0, day), in key order.
    pub rollups: BTreeMap<(i64, i64, i64), RollupDelta>,
}

impl Planned {
    /// Per (market, day), what the batch adds to the market's day (`market_days`): the sum of
    /// its stalls' rollup deltas, in key order.
    pub fn market_days(&self) -> BTreeMap<(i64, i64), RollupDelta> {
        let mut days: BTreeMap<(i64, i64), RollupDelta> = BTreeMap::new();
        for (&(market_id, _, day), delta) in &self.rollups {
            *days.entry((market_id, day)).or_default() += *delta;
        }
        days
    }
}

impl RollupDelta {
    /// Its sums in the rollup tables' column order: credits, amount, then (credits, amount) of
    /// dynamic, static and unmatched credits.
    pub fn sums(&self) -> [i64; 8] {
        let [dynamic, fixed, unmatched] = self.by_kind;
        [
            self.credits,
            self.amount_dong,
            dynamic.0,
            dynamic.1,
            fixed.0,
            fixed.1,
            unmatched.0,
            unmatched.1,
        ]
    }
}

impl std::ops::AddAssign for RollupDelta {
    fn add_assign(&mut self, other: Self) {
        self.credits += other.credits;
        self.amount_dong += other.amount_dong;
        for (mine, theirs) in self.by_kind.iter_mut().zip(other.by_kind) {
            mine.0 += theirs.0;
            mine.1 += theirs.1;
        }
    }
}

/// What the writes returned.
#[derive(Debug, Default)]
pub(super) struct Written {
    /// New credit ids by (channel, transaction id).
    pub ids: HashMap<(i64, String), i64>,
    /// Per (stall, day), the stall's figures after the batch.
    pub totals: HashMap<(i64, i64), DayTotal>,
}

impl Written {
    /// Notes a rollup row as the upsert left it.
    pub fn total(&mut self, stall_id: i64, day: i64, credits: i64, amount_dong: i64) {
        if let (true, Some(day)) = (stall_id != 0, Day::from_number(day)) {
            self.totals.insert(
                (stall_id, day.number()),
                DayTotal {
                    day,
                    credits,
                    amount_dong,
                },
            );
        }
    }
}

impl<'a> Batch<'a> {
    pub fn new(items: &'a [CreditInput<'a>]) -> Self {
        let candidates: Vec<Vec<Reference>> = items
            .iter()
            .map(|i| candidate_references(i.credit))
            .collect();
        let mut sequence: Vec<usize> = (0..items.len()).collect();
        sequence.sort_by(|&a, &b| {
            let key = |i: usize| {
                let reference = candidates
                    .get(i)
                    .and_then(|c| c.first())
                    .map_or("~", Reference::as_str);
                let item = items.get(i);
                (
                    reference,
                    item.map(|i| i.channel_id),
                    item.map(|i| i.credit.provider_txn_id.as_str()),
                )
            };
            key(a).cmp(&key(b))
        });
        Self {
            items,
            candidates,
            sequence,
        }
    }

    /// The transaction ids, per channel.
    pub fn txn_ids(&self) -> BTreeMap<i64, BTreeSet<&'a str>> {
        let mut by_channel: BTreeMap<i64, BTreeSet<&str>> = BTreeMap::new();
        for item in self.items {
            by_channel
                .entry(item.channel_id)
                .or_default()
                .insert(&item.credit.provider_txn_id);
        }
        by_channel
    }

    /// Every reference the batch may carry, in order (the order locks are taken in).
    pub fn references(&self) -> BTreeSet<&str> {
        self.candidates
            .iter()
            .flatten()
            .map(Reference::as_str)
            .collect()
    }

    /// Per market, the receiving accounts to look a stall up by. Every delivery's, even of those
    /// that turn out to name an order: a superset costs a few index look-ups and needs no
    /// order read first.
    pub fn accounts(&self) -> BTreeMap<i64, BTreeSet<String>> {
        let mut accounts: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();
        for item in self.items {
            let credit = item.credit;
            for account in [credit.account.as_deref(), credit.virtual_account.as_deref()] {
                if let Some(account) = account.and_then(matching::account_lookup_key) {
                    accounts.entry(item.market_id).or_default().insert(account);
                }
            }
        }
        accounts
    }

    fn order_of<'o>(
        &self,
        index: usize,
        orders: &'o HashMap<String, OrderRow>,
    ) -> Option<&'o OrderRow> {
        let market_id = self.items.get(index)?.market_id;
        self.candidates
            .get(index)?
            .iter()
            .find_map(|r| orders.get(r.as_str()).filter(|o| o.market_id == market_id))
    }

    /// Decides every delivery in the fixed order, each order's state carried from credit to
    /// credit.
    pub fn plan(&self, lookups: &Lookups) -> Planned {
        let mut state: HashMap<i64, (OrderFacts, &OrderRow)> = HashMap::new();
        let mut first_index: HashMap<(i64, &str), usize> = HashMap::new();
        let mut steps: Vec<Option<Step>> = vec![None; self.items.len()];
        let mut new = Vec::new();
        for &index in &self.sequence {
            let (Some(item), Some(slot)) = (self.items.get(index), steps.get_mut(index)) else {
                continue;
            };
            let credit = item.credit;
            let key = (item.channel_id, credit.provider_txn_id.as_str());
            if let Some(row) = lookups
                .existing
                .get(&(item.channel_id, credit.provider_txn_id.clone()))
            {
                *slot = Some(Step::Existing(Box::new(row.clone())));
                continue;
            }
            if let Some(&first) = first_index.get(&key) {
                *slot = Some(Step::SameAs(first));
                continue;
            }
            first_index.insert(key, index);
            let order = self.order_of(index, &lookups.orders);
            let facts = order.and_then(|row| {
                state
                    .get(&row.id)
                    .map(|(facts, _)| facts.clone())
                    .or_else(|| order_facts(row))
            });
            let account_stall = match &facts {
                Some(_) => None,
                None => lookups
                    .stalls
                    .get(&item.market_id)
                    .and_then(|s| account_stall(credit, s)),
            };
            let decision = matching::decide(&MatchInput {
                credit,
                order: facts.as_ref(),
                account_stall,
                received_at_ms: item.received_at_ms,
            });
            if let (Some(mut facts), Some(row), Some(status), Some(paid)) = (
                facts,
                order,
                decision.order_status,
                decision.order_paid_dong,
            ) {
                facts.status = status;
                facts.paid_dong = paid;
                state.insert(facts.order_id, (facts, row));
            }
            *slot = Some(Step::New {
                decision,
                day: Day::of_ms(item.received_at_ms),
            });
            new.push(index);
        }

        let mut orders: Vec<OrderChange> = state
            .into_values()
            .map(|(facts, row)| OrderChange {
                before: row.clone(),
                paid_dong: facts.paid_dong,
                status: facts.status,
            })
            .collect();
        orders.sort_by_key(|change| change.before.id);

        let mut rollups: BTreeMap<(i64, i64, i64), RollupDelta> = BTreeMap::new();
        for &index in &new {
            if let (Some(item), Some(Some(Step::New { decision, day }))) =
                (self.items.get(index), steps.get(index))
            {
                let amount = item.credit.amount.to_dong();
                let delta = rollups
                    .entry((item.market_id, decision.stall_id.unwrap_or(0), day.number()))
                    .or_default();
                delta.credits += 1;
                delta.amount_dong += amount;
                if let Some(kind) = delta.by_kind.get_mut(rollup_kind(decision.outcome)) {
                    kind.0 += 1;
                    kind.1 += amount;
                }
            }
        }
        Planned {
            steps,
            new,
            orders,
            rollups,
        }
    }

    /// The new deliveries with their decisions, in the fixed order.
    pub fn new_credits<'p>(
        &'p self,
        planned: &'p Planned,
    ) -> impl Iterator<Item = (&'p CreditInput<'a>, &'p Decision, Day)> {
        planned.new.iter().filter_map(|&index| {
            match (self.items.get(index), planned.steps.get(index)) {
                (Some(item), Some(Some(Step::New { decision, day }))) => {
                    Some((item, decision, *day))
                }
                _ => None,
            }
        })
    }

    /// Each delivery's answer, in the order given.
    pub fn answers(
        &self,
        planned: &Planned,
        written: &Written,
        now_ms: i64,
    ) -> Result<Vec<Recorded>, StoreError> {
        let orders: HashMap<i64, OrderRow> = planned
            .orders
            .iter()
            .map(|change| (change.before.id, change.after(now_ms)))
            .collect();
        let mut rows: HashMap<usize, CreditRow> = HashMap::new();
        for (index, item) in self.items.iter().enumerate() {
            if let Some(Some(Step::New { decision, day })) = planned.steps.get(index) {
                let id = written
                    .ids
                    .get(&(item.channel_id, item.credit.provider_txn_id.clone()))
                    .copied()
                    .ok_or(StoreError::Race("a new credit lost its row"))?;
                rows.insert(index, new_row(id, item, decision, *day));
            }
        }
        let mut results: Vec<Recorded> = Vec::with_capacity(self.items.len());
        for (index, item) in self.items.iter().enumerate() {
            let original = |first: usize| match planned.steps.get(first) {
                Some(Some(Step::Existing(row))) => Some((**row).clone()),
                _ => rows.get(&first).cloned(),
            };
            let result = match planned.steps.get(index).cloned().flatten() {
                Some(Step::Existing(row)) => duplicate_or_conflict(*row, item.credit),
                Some(Step::SameAs(first)) => match original(first) {
                    Some(row) => duplicate_or_conflict(row, item.credit),
                    None => return Err(StoreError::Race("a repeated delivery lost its original")),
                },
                Some(Step::New { decision, day }) => {
                    let row = rows
                        .get(&index)
                        .cloned()
                        .ok_or(StoreError::Race("a new credit lost its row"))?;
                    let order = decision.order_id.and_then(|id| orders.get(&id).cloned());
                    let today = decision
                        .stall_id
                        .and_then(|stall| written.totals.get(&(stall, day.number())).copied());
                    Recorded::New {
                        credit: Box::new(row),
                        order,
                        today,
                    }
                }
                None => return Err(StoreError::Race("a delivery was not planned")),
            };
            results.push(result);
        }
        Ok(results)
    }
}

/// The rollup columns a credit adds to, by outcome.
fn rollup_kind(outcome: Outcome) -> usize {
    match outcome {
        Outcome::OrderPaid
        | Outcome::OrderUnderpaid
        | Outcome::OrderOverpaid
        | Outcome::OrderLate => 0,
        Outcome::StaticPayment => 1,
        Outcome::Unmatched => 2,
    }
}

/// The references a credit may carry: the provider's extracted code first, then the description's.
fn candidate_references(credit: &BankCredit) -> Vec<Reference> {
    let mut found: Vec<Reference> = credit
        .payment_code
        .as_deref()
        .map(reference::extract)
        .unwrap_or_default();
    for candidate in reference::extract(&credit.description) {
        if !found.contains(&candidate) {
            found.push(candidate);
        }
    }
    found
}

fn order_facts(row: &OrderRow) -> Option<OrderFacts> {
    Some(OrderFacts {
        order_id: row.id,
        stall_id: row.stall_id,
        amount: Vnd::from_dong(row.amount_dong).ok()?,
        paid_dong: row.paid_dong,
        status: OrderStatus::parse(&row.status)?,
        expires_at_ms: row.expires_at_ms,
        payee_bin: row.payee_bin.clone(),
        payee_account: row.payee_account.clone(),
    })
}

fn duplicate_or_conflict(row: CreditRow, credit: &BankCredit) -> Recorded {
    if row.amount_dong == credit.amount.to_dong() {
        Recorded::Duplicate(row)
    } else {
        Recorded::Conflict(row)
    }
}

/// The new ledger row, as the insert wrote it.
fn new_row(id: i64, item: &CreditInput<'_>, decision: &Decision, day: Day) -> CreditRow {
    let credit = item.credit;
    CreditRow {
        id,
        channel_id: item.channel_id,
        market_id: item.market_id,
        provider_txn_id: credit.provider_txn_id.clone(),
        amount_dong: credit.amount.to_dong(),
        account: credit.account.clone(),
        bin: credit.bin.clone(),
        virtual_account: credit.virtual_account.clone(),
        description: credit.description.clone(),
        counterparty_name: credit.counterparty_name.clone(),
        counterparty_account: credit.counterparty_account.clone(),
        counterparty_bank: credit.counterparty_bank.clone(),
        booked_at_ms: credit.booked_at_ms,
        received_at_ms: item.received_at_ms,
        day: day.number(),
        stall_id: decision.stall_id,
        order_id: decision.order_id,
        outcome: decision.outcome.as_str().to_owned(),
        note: decision.note.map(str::to_owned),
        assigned_stall_id: None,
    }
}

/// The stall whose payee is this credit's receiving account (among `stalls` of its market).
fn account_stall(credit: &BankCredit, stalls: &[(i64, String, String)]) -> Option<i64> {
    let mut paid = stalls
        .iter()
        .filter(|(_, bin, account)| matching::pays_account(credit, bin, account) == Some(true))
        .map(|(id, ..)| *id);
    // Two stalls on one account cannot be told apart: leave it for review.
    match (paid.next(), paid.next()) {
        (Some(only), None) => Some(only),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::{Planned, RollupDelta, account_stall};
    use crate::store::ledger::testing::credit;

    fn delta() -> impl Strategy<Value = RollupDelta> {
        (
            0..50_i64,
            0..1_000_000_000_i64,
            proptest::array::uniform3((0..50_i64, 0..1_000_000_000_i64)),
        )
            .prop_map(|(credits, amount_dong, by_kind)| RollupDelta {
                credits,
                amount_dong,
                by_kind,
            })
    }

    proptest! {
        /// What a batch adds to a market's day is what it adds to that market's stalls that day,
        /// sum by sum (the ledger's SQLite connection writes `market_days` from it, in place of
        /// migration 0009's triggers).
        #[test]
        fn a_market_day_gets_the_sum_of_its_stalls_deltas(
            rollups in proptest::collection::btree_map((1..4_i64, 0..6_i64, 20_000..20_003_i64), delta(), 0..30)
        ) {
            let planned = Planned { steps: Vec::new(), new: Vec::new(), orders: Vec::new(), rollups: rollups.clone() };
            let days = planned.market_days();
            let mut expected: BTreeMap<(i64, i64), [i64; 8]> = BTreeMap::new();
            for (&(market, _, day), d) in &rollups {
                let sums = expected.entry((market, day)).or_default();
                for (sum, value) in sums.iter_mut().zip(d.sums()) {
                    *sum += value;
                }
            }
            let got: BTreeMap<(i64, i64), [i64; 8]> =
                days.iter().map(|(&key, d)| (key, d.sums())).collect();
            prop_assert_eq!(got, expected);
        }
    }

    #[test]
    fn a_credit_goes_to_the_one_stall_paid_into_that_account_and_to_none_if_two_share_it() {
        let credit = credit("FT-1", 50_000); // into 970436 / 0000000000
        let stall = |id: i64, account: &str| (id, "970436".to_owned(), account.to_owned());
        assert_eq!(
            account_stall(&credit, &[stall(1, "0011"), stall(2, "0000 0000 00")]),
            Some(2)
        );
        assert_eq!(account_stall(&credit, &[stall(1, "0011")]), None);
        assert_eq!(
            account_stall(&credit, &[stall(1, "0000000000"), stall(2, "0000-000-000")]),
            None,
            "two stalls on one account cannot be told apart"
        );
    }
}
