//! The demo: huyện Ba Vì with Chợ Mơ (56 stalls, all equipped) and Chợ Quảng Oai (328 stalls, 321
//! equipped). Seeding is idempotent: markets are created once, stalls go through the ordinary
//! import (so a second run changes nothing), and posters are marked placed where missing.

use crate::domain::credit::BankCredit;
use crate::domain::day::Day;
use crate::domain::market::MarketFields;
use crate::domain::money::Vnd;
use crate::store::ledger::{self, CreditInput};
use crate::store::{Store, now_ms};
use crate::store::{markets, stalls};

use super::ServiceError;
use super::catalog;
use super::demo_data::{DemoMarket, demo_markets};
use super::demo_history;
use super::import;

/// What seeding found and did, per market.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeededMarket {
    /// Market slug.
    pub slug: String,
    /// Stalls in the market.
    pub stalls: usize,
    /// Stalls with a linked account.
    pub linked: usize,
    /// The id of the market's first stall, for a vendor link.
    pub first_stall_id: Option<i64>,
}

/// Seeds the demo markets; safe to run on every start.
pub async fn seed(store: &Store) -> Result<Vec<SeededMarket>, ServiceError> {
    let mut seeded = Vec::new();
    for demo in demo_markets() {
        let market = match markets::by_slug(store, demo.slug).await? {
            Some(market) => market,
            None => {
                let households = i64::try_from(demo.stalls.len()).ok();
                let fields = MarketFields::parse(
                    demo.name,
                    demo.commune,
                    demo.district,
                    demo.district_slug,
                    demo.province,
                    households,
                )
                .map_err(|e| ServiceError::Invalid(format!("demo market {}: {e}", demo.slug)))?;
                catalog::create_market(store, demo.slug, &fields).await?
            }
        };
        let report =
            import::import_stalls(store, &market, demo_csv(&demo)?.as_bytes(), false).await?;
        if let Some(error) = report.errors.first() {
            return Err(ServiceError::Invalid(format!(
                "demo stall on line {}: {}",
                error.line, error.message
            )));
        }
        stalls::mark_posters_placed(store, market.id, now_ms()).await?;
        let all = stalls::all_in_market(store, market.id).await?;
        seeded.push(SeededMarket {
            slug: market.slug.clone(),
            stalls: all.len(),
            linked: all.iter().filter(|s| s.payee_bin.is_some()).count(),
            first_stall_id: all.first().map(|s| s.id),
        });
    }
    Ok(seeded)
}

/// Days of payment history the demo keeps filled.
pub const HISTORY_DAYS: i64 = 30;

/// Records the demo markets' payments of the last [`HISTORY_DAYS`] days up to `now_ms` through
/// the ledger, on each market's demo channel; payments already recorded are recognized as
/// repeats. Returns how many were new.
pub async fn seed_history(store: &Store, now_ms: i64) -> Result<usize, ServiceError> {
    const BATCH: usize = 500;
    const BODY: &[u8] = b"{\"demo\":\"history\"}";
    let today = Day::of_ms(now_ms);
    let mut new = 0;
    for demo in demo_markets() {
        let market = super::catalog::market(store, demo.slug).await?;
        let (channel_id, _) = payment_channel(store, demo.slug).await?;
        let payments = demo_history::payments(&demo, today, now_ms, HISTORY_DAYS);
        let credits: Vec<BankCredit> = payments
            .iter()
            .map(|p| {
                Ok(BankCredit {
                    provider_txn_id: p.txn_id.clone(),
                    amount: Vnd::from_dong(p.amount_dong)
                        .map_err(|e| ServiceError::Invalid(format!("demo amount: {e}")))?,
                    account: Some(p.account.clone()),
                    bin: Some(p.bin.clone()),
                    virtual_account: None,
                    description: "Thanh toan tien hang".to_owned(),
                    counterparty_name: None,
                    counterparty_account: None,
                    counterparty_bank: None,
                    booked_at_ms: Some(p.at_ms),
                    payment_code: None,
                })
            })
            .collect::<Result<_, ServiceError>>()?;
        let mut writer = ledger::Writer::new(store.clone());
        for (credits, payments) in credits.chunks(BATCH).zip(payments.chunks(BATCH)) {
            let items: Vec<CreditInput<'_>> = credits
                .iter()
                .zip(payments)
                .map(|(credit, payment)| CreditInput {
                    channel_id,
                    market_id: market.id,
                    credit,
                    raw_body: BODY,
                    received_at_ms: payment.at_ms,
                })
                .collect();
            let recorded = writer.record(&items, now_ms).await?;
            new += recorded
                .iter()
                .filter(|r| matches!(r, crate::store::credits::Recorded::New { .. }))
                .count();
        }
        writer.release().await;
    }
    Ok(new)
}

/// The demo market as the CSV a board would import.
fn demo_csv(demo: &DemoMarket) -> Result<String, ServiceError> {
    let optional = |v: &Option<String>| v.clone().unwrap_or_default();
    import::write_csv(demo.stalls.iter().map(|stall| {
        [
            stall.code.clone(),
            stall.vendor_name.clone(),
            stall.goods.clone(),
            optional(&stall.phone),
            optional(&stall.bank_bin),
            optional(&stall.account),
            optional(&stall.holder),
        ]
    }))
}

/// The demo market's `chopay` channel (made on first use, labelled `demo`) and its secret, for
/// the simulated shoppers. The demo prints this secret; a real channel's is shown only once.
pub async fn payment_channel(store: &Store, slug: &str) -> Result<(i64, String), ServiceError> {
    let market = super::catalog::market(store, slug).await?;
    let existing = crate::store::channels::in_market(store, market.id)
        .await?
        .into_iter()
        .find(|c| c.label == "demo" && c.provider == "chopay");
    match existing {
        Some(channel) => Ok((channel.id, channel.secret)),
        None => {
            let made = super::channels::create(store, &market, "chopay", None, "demo").await?;
            Ok((made.channel.id, made.secret))
        }
    }
}
