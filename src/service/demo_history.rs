//! The demo's past month of payments (pure): most stalls are paid by QR every trading day, a few
//! never are (so the boards have someone to visit), and a few transfers each day reach no stall
//! (so the review list is not empty). Deterministic per market, stall and day: re-seeding the
//! same day adds nothing, and a restart on a later day adds only the new days.

use crate::domain::day::Day;

use super::demo_data::{DemoMarket, Rng};

/// One payment of the demo's history.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DemoPayment {
    /// Unique per market, stable across runs: `demo-cho-mo-A01-20261123-2`.
    pub txn_id: String,
    /// The receiving bank's BIN.
    pub bin: String,
    /// The receiving account: a stall's, or one no stall has.
    pub account: String,
    /// Whole đồng.
    pub amount_dong: i64,
    /// When it was paid, UTC milliseconds.
    pub at_ms: i64,
}

/// One in this many stalls with an account is never paid by QR.
const QUIET_ONE_IN: u64 = 25;

/// What shoppers pay at a market stall, and how often (relative).
#[rustfmt::skip]
const AMOUNTS: &[(i64, u64)] = &[
    (10_000, 8), (15_000, 7), (20_000, 10), (25_000, 6), (30_000, 9), (35_000, 4), (40_000, 6),
    (45_000, 3), (50_000, 9), (60_000, 5), (70_000, 4), (80_000, 4), (100_000, 6), (120_000, 3),
    (150_000, 3), (200_000, 3), (250_000, 2), (300_000, 2), (500_000, 1),
];

/// Markets open from 05:30 to 18:30, Vietnam time.
const OPEN_MS: i64 = 5 * 3_600_000 + 30 * 60_000;
const OPEN_FOR_MS: i64 = 13 * 3_600_000;

/// FNV-1a of the parts: a seed that depends on nothing but them.
fn seed(parts: &[&str]) -> u64 {
    parts.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, part| {
        part.bytes().chain([0xff]).fold(hash, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    })
}

fn amount(rng: &mut Rng) -> i64 {
    AMOUNTS[rng.weighted(AMOUNTS.iter().map(|&(_, w)| w))].0
}

fn at(rng: &mut Rng, day: Day) -> i64 {
    let offset = rng.next_u64() % u64::try_from(OPEN_FOR_MS).unwrap_or(1);
    day.start_ms() + OPEN_MS + i64::try_from(offset).unwrap_or(0)
}

/// The market's payments on the `days` days up to `today`, paid no later than `now_ms`, oldest
/// day first.
pub fn payments(market: &DemoMarket, today: Day, now_ms: i64, days: i64) -> Vec<DemoPayment> {
    let mut out = Vec::new();
    for back in (0..days).rev() {
        let day = today.plus_days(-back);
        let day_text = day.number().to_string();
        for stall in &market.stalls {
            let (Some(bin), Some(account)) = (&stall.bank_bin, &stall.account) else {
                continue;
            };
            let mut profile = Rng(seed(&[market.slug, &stall.code]));
            if profile.next_u64().is_multiple_of(QUIET_ONE_IN) {
                continue;
            }
            // Between 1 and 6 payments on an average trading day; 6 days in 7 are trading days.
            let rate = 1 + profile.below(6);
            let mut rng = Rng(seed(&[market.slug, &stall.code, &day_text]));
            if rng.below(7) == 0 {
                continue;
            }
            for n in 0..rng.below(2 * rate + 1) {
                out.push(DemoPayment {
                    txn_id: format!("demo-{}-{}-{day_text}-{n}", market.slug, stall.code),
                    bin: bin.clone(),
                    account: account.clone(),
                    amount_dong: amount(&mut rng),
                    at_ms: at(&mut rng, day),
                });
            }
        }
        // A couple of transfers a day to an account no stall has: they wait for review.
        let mut rng = Rng(seed(&[market.slug, "unmatched", &day_text]));
        for n in 0..rng.below(3) {
            out.push(DemoPayment {
                txn_id: format!("demo-{}-x-{day_text}-{n}", market.slug),
                bin: "970405".to_owned(),
                account: format!("19990{:08}", rng.next_u64() % 100_000_000),
                amount_dong: amount(&mut rng),
                at_ms: at(&mut rng, day),
            });
        }
    }
    out.retain(|p| p.at_ms <= now_ms);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::demo_data::demo_markets;
    use std::collections::HashSet;

    fn quang_oai() -> DemoMarket {
        demo_markets().into_iter().nth(1).unwrap()
    }

    #[test]
    fn a_month_of_history_is_plausible_and_leaves_some_stalls_to_visit() {
        let market = quang_oai();
        let today = Day::parse("2026-11-23").unwrap();
        let end_of_day = today.plus_days(1).start_ms();
        let all = payments(&market, today, end_of_day, 30);
        assert!(
            (20_000..60_000).contains(&all.len()),
            "{} payments",
            all.len()
        );
        let ids: HashSet<&str> = all.iter().map(|p| p.txn_id.as_str()).collect();
        assert_eq!(ids.len(), all.len(), "transaction ids are unique");
        let paid: HashSet<&str> = all.iter().map(|p| p.account.as_str()).collect();
        let linked = market.stalls.iter().filter(|s| s.account.is_some());
        let quiet = linked
            .filter(|s| !paid.contains(s.account.as_deref().unwrap_or_default()))
            .count();
        assert!((3..=30).contains(&quiet), "{quiet} quiet stalls");
        assert!(all.iter().all(|p| {
            Day::of_ms(p.at_ms) >= today.plus_days(-29) && Day::of_ms(p.at_ms) <= today
        }));
        assert!(
            all.iter()
                .all(|p| p.amount_dong >= 10_000 && p.amount_dong % 1_000 == 0)
        );
    }

    #[test]
    fn a_later_run_the_same_day_repeats_the_earlier_payments_and_adds_the_new_ones() {
        let market = quang_oai();
        let today = Day::parse("2026-11-23").unwrap();
        let noon = today.start_ms() + 12 * 3_600_000;
        let morning = payments(&market, today, noon, 30);
        let evening = payments(&market, today, noon + 6 * 3_600_000, 30);
        assert!(evening.len() > morning.len());
        let before: HashSet<&DemoPayment> = evening.iter().collect();
        assert!(morning.iter().all(|p| before.contains(p)));
        let tomorrow = payments(&market, today.plus_days(1), noon, 30);
        let before: HashSet<&str> = evening.iter().map(|p| p.txn_id.as_str()).collect();
        let same_days = tomorrow
            .iter()
            .filter(|p| Day::of_ms(p.at_ms) < today.plus_days(1))
            .filter(|p| !before.contains(p.txn_id.as_str()))
            .count();
        assert_eq!(same_days, 0, "yesterday's payments are the same ones");
    }
}
