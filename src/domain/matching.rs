//! Matching: which order or stall a bank credit belongs to, and what it did to the order.
//!
//! [`decide`] is pure: the caller looks up the order whose reference the credit carries (with
//! [`crate::domain::reference::extract`] and the database) and the stall whose payee account
//! received it, and passes them in with the time of delivery. The rules, in order:
//!
//! 1. With an order:
//!    - money that went to another account than the order's payee never credits the order
//!      (a copied reference or fraud): [`Outcome::Unmatched`], with no stall, for review;
//!    - a credit for a cancelled or expired order, or a pending order past its expiry, is
//!      [`Outcome::OrderLate`] (an underpaid order is not late: its rest completes a payment
//!      the shopper already started);
//!    - otherwise the paid total decides: underpaid, paid or overpaid.
//! 2. Without an order, a credit to a known stall account is a [`Outcome::StaticPayment`].
//! 3. Anything else is [`Outcome::Unmatched`] and waits in the review list.
//!
//! Every credit that reaches an order adds its amount to the order's paid total, late ones
//! included, so the total always equals the sum of the credits the ledger attributed to it.

use std::cmp::Ordering;

use crate::domain::credit::BankCredit;
use crate::domain::money::Vnd;
use crate::domain::order::{OrderStatus, Outcome};

/// Note: the credit carried the reference of an order whose payee is another account.
pub const NOTE_OTHER_ACCOUNT: &str = "reference of an order of another account";
/// Note: neither an order reference nor a known receiving account.
pub const NOTE_NO_MATCH: &str = "no order reference and no known account";
/// Note: the order had been cancelled.
pub const NOTE_CANCELLED: &str = "order was cancelled";
/// Note: the order had expired (or the credit was booked after its expiry).
pub const NOTE_EXPIRED: &str = "order had expired";
/// Note: the order is still short of its amount.
pub const NOTE_UNDERPAID: &str = "less than the order amount so far";
/// Note: the order received more than its amount.
pub const NOTE_OVERPAID: &str = "more than the order amount";
/// Note: the paid total does not fit in 64 bits (kept at the largest value).
pub const NOTE_OVERFLOW: &str = "paid total out of range";

/// An order as the ledger sees it when a credit arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderFacts {
    /// The order's id.
    pub order_id: i64,
    /// The stall that issued it.
    pub stall_id: i64,
    /// What the shopper was asked to pay.
    pub amount: Vnd,
    /// The sum of earlier credits attributed to the order, in đồng (≥ 0).
    pub paid_dong: i64,
    /// Where the order stands before this credit.
    pub status: OrderStatus,
    /// When a pending order stops accepting payment, UTC milliseconds since the epoch.
    pub expires_at_ms: i64,
    /// The NAPAS BIN of the account the order's QR pays.
    pub payee_bin: String,
    /// The account number the order's QR pays.
    pub payee_account: String,
}

/// Everything [`decide`] needs about one credit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatchInput<'a> {
    /// The credit as the provider reported it.
    pub credit: &'a BankCredit,
    /// The order whose reference the credit carries, if any (found by the caller via `extract` + database).
    pub order: Option<&'a OrderFacts>,
    /// The stall whose payee account (BIN + account, or virtual account) received the credit, if any.
    pub account_stall: Option<i64>,
    /// When chopay received the delivery (UTC ms).
    pub received_at_ms: i64,
}

/// What a credit did: the ledger row's outcome and attribution, and the order's new state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// What the credit was to the ledger.
    pub outcome: Outcome,
    /// The stall credited, if any.
    pub stall_id: Option<i64>,
    /// The order credited, if any.
    pub order_id: Option<i64>,
    /// The order's status after this credit (None when no order).
    pub order_status: Option<OrderStatus>,
    /// The order's paid total after this credit, in đồng (None when no order).
    pub order_paid_dong: Option<i64>,
    /// Why, for the review list, when unmatched or odd (late, short, over).
    pub note: Option<&'static str>,
}

impl Decision {
    /// A decision that credits no order.
    fn without_order(outcome: Outcome, stall_id: Option<i64>, note: Option<&'static str>) -> Self {
        Self {
            outcome,
            stall_id,
            order_id: None,
            order_status: None,
            order_paid_dong: None,
            note,
        }
    }
}

/// Decides what a credit did; see the module documentation for the rules.
pub fn decide(input: &MatchInput<'_>) -> Decision {
    let Some(order) = input.order else {
        return match input.account_stall {
            Some(stall) => Decision::without_order(Outcome::StaticPayment, Some(stall), None),
            None => Decision::without_order(Outcome::Unmatched, None, Some(NOTE_NO_MATCH)),
        };
    };
    let credit = input.credit;
    if pays_account(credit, &order.payee_bin, &order.payee_account) == Some(false) {
        // Quarantined: no stall either, so it counts once, in the market's suspense, until a
        // reviewer gives it to a stall.
        return Decision::without_order(Outcome::Unmatched, None, Some(NOTE_OTHER_ACCOUNT));
    }

    let when_ms = credit.booked_at_ms.unwrap_or(input.received_at_ms);
    let (paid_dong, overflowed) = match order.paid_dong.checked_add(credit.amount.to_dong()) {
        Some(paid) => (paid, false),
        None => (i64::MAX, true),
    };
    let late = match order.status {
        OrderStatus::Cancelled => Some((OrderStatus::Cancelled, NOTE_CANCELLED)),
        OrderStatus::Expired => Some((OrderStatus::Expired, NOTE_EXPIRED)),
        OrderStatus::Pending if when_ms > order.expires_at_ms => {
            Some((OrderStatus::Expired, NOTE_EXPIRED))
        }
        OrderStatus::Pending
        | OrderStatus::Paid
        | OrderStatus::Underpaid
        | OrderStatus::Overpaid => None,
    };
    let (outcome, status, note) = if let Some((status, note)) = late {
        (Outcome::OrderLate, status, note)
    } else if overflowed {
        (Outcome::OrderOverpaid, OrderStatus::Overpaid, NOTE_OVERFLOW)
    } else {
        match paid_dong.cmp(&order.amount.to_dong()) {
            Ordering::Less => (
                Outcome::OrderUnderpaid,
                OrderStatus::Underpaid,
                NOTE_UNDERPAID,
            ),
            Ordering::Equal => {
                return credited(
                    order,
                    Outcome::OrderPaid,
                    OrderStatus::Paid,
                    paid_dong,
                    None,
                );
            }
            Ordering::Greater => (Outcome::OrderOverpaid, OrderStatus::Overpaid, NOTE_OVERPAID),
        }
    };
    credited(order, outcome, status, paid_dong, Some(note))
}

/// A decision that credits `order`.
fn credited(
    order: &OrderFacts,
    outcome: Outcome,
    status: OrderStatus,
    paid_dong: i64,
    note: Option<&'static str>,
) -> Decision {
    Decision {
        outcome,
        stall_id: Some(order.stall_id),
        order_id: Some(order.order_id),
        order_status: Some(status),
        order_paid_dong: Some(paid_dong),
        note,
    }
}

/// An account number or BIN as compared: without white space, dots and dashes, upper case.
fn account_key(text: &str) -> impl Iterator<Item = char> + '_ {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '.' && *c != '-')
        .flat_map(char::to_uppercase)
}

/// Whether two account numbers (or BINs) are the same, ignoring spaces, dots, dashes and case;
/// an empty one matches nothing. The one comparison of accounts: the ledger's matching and the
/// poster audit ([`crate::domain::poster`]) both use it.
pub fn same_key(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        // What bank callbacks carry: the same comparison, byte by byte, without decoding.
        return ascii_key(a).next().is_some() && ascii_key(a).eq(ascii_key(b));
    }
    account_key(a).next().is_some() && account_key(a).eq(account_key(b))
}

/// [`account_key`] of ASCII text, as bytes.
fn ascii_key(text: &str) -> impl Iterator<Item = u8> + '_ {
    text.bytes()
        .filter(|b| !char::from(*b).is_whitespace() && *b != b'.' && *b != b'-')
        .map(|b| b.to_ascii_uppercase())
}

/// An account number as the ledger looks it up: [`account_key`] as text; `None` when nothing is
/// left of it.
pub fn account_lookup_key(text: &str) -> Option<String> {
    let key: String = account_key(text).collect();
    (!key.is_empty()).then_some(key)
}

/// Whether the account named is really an account (not empty once spaces and dots are gone).
fn names_something(text: &&str) -> bool {
    text.chars()
        .any(|c| !c.is_whitespace() && c != '.' && c != '-')
}

/// Whether the credit's receiving account is this payee: `None` when the credit names no
/// account; compares account numbers ignoring spaces, dots and dashes and case, also accepting
/// `virtual_account`; if the credit names a BIN it must equal `bin`.
pub fn pays_account(credit: &BankCredit, bin: &str, account: &str) -> Option<bool> {
    let mut named = [credit.account.as_deref(), credit.virtual_account.as_deref()]
        .into_iter()
        .flatten()
        .filter(names_something)
        .peekable();
    named.peek()?;
    if let Some(credit_bin) = credit.bin.as_deref().filter(names_something)
        && !same_key(credit_bin, bin)
    {
        return Some(false);
    }
    Some(named.any(|named| same_key(named, account)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const BIN: &str = "970436";
    const ACCOUNT: &str = "0011004123456";
    const EXPIRES_MS: i64 = 1_700_000_600_000;

    fn vnd(dong: i64) -> Vnd {
        Vnd::from_dong(dong).unwrap()
    }

    fn credit(amount: i64) -> BankCredit {
        BankCredit {
            provider_txn_id: "txn-1".into(),
            amount: vnd(amount),
            account: Some(ACCOUNT.into()),
            bin: Some(BIN.into()),
            virtual_account: None,
            description: "CP0000000000 thanh toan".into(),
            counterparty_name: Some("NGUYEN VAN A".into()),
            counterparty_account: Some("0123456789".into()),
            counterparty_bank: Some("970422".into()),
            booked_at_ms: Some(EXPIRES_MS - 60_000),
            payment_code: None,
        }
    }

    fn order(amount: i64, paid: i64, status: OrderStatus) -> OrderFacts {
        OrderFacts {
            order_id: 42,
            stall_id: 7,
            amount: vnd(amount),
            paid_dong: paid,
            status,
            expires_at_ms: EXPIRES_MS,
            payee_bin: BIN.into(),
            payee_account: ACCOUNT.into(),
        }
    }

    fn decide_for(credit: &BankCredit, order: Option<&OrderFacts>, stall: Option<i64>) -> Decision {
        decide(&MatchInput {
            credit,
            order,
            account_stall: stall,
            received_at_ms: EXPIRES_MS - 30_000,
        })
    }

    #[test]
    fn the_exact_amount_pays_a_pending_order() {
        let decision = decide_for(
            &credit(50_000),
            Some(&order(50_000, 0, OrderStatus::Pending)),
            Some(7),
        );
        assert_eq!(
            decision,
            Decision {
                outcome: Outcome::OrderPaid,
                stall_id: Some(7),
                order_id: Some(42),
                order_status: Some(OrderStatus::Paid),
                order_paid_dong: Some(50_000),
                note: None,
            }
        );
    }

    #[test]
    fn less_leaves_the_order_underpaid_and_the_rest_completes_it() {
        let first = decide_for(
            &credit(20_000),
            Some(&order(50_000, 0, OrderStatus::Pending)),
            None,
        );
        assert_eq!(first.outcome, Outcome::OrderUnderpaid);
        assert_eq!(first.order_status, Some(OrderStatus::Underpaid));
        assert_eq!(first.order_paid_dong, Some(20_000));
        assert_eq!(first.note, Some(NOTE_UNDERPAID));
        let second = decide_for(
            &credit(30_000),
            Some(&order(50_000, 20_000, OrderStatus::Underpaid)),
            None,
        );
        assert_eq!(second.outcome, Outcome::OrderPaid);
        assert_eq!(second.order_status, Some(OrderStatus::Paid));
        assert_eq!(second.order_paid_dong, Some(50_000));
    }

    #[test]
    fn more_than_the_amount_or_a_second_payment_overpays() {
        let more = decide_for(
            &credit(60_000),
            Some(&order(50_000, 0, OrderStatus::Pending)),
            None,
        );
        assert_eq!(more.outcome, Outcome::OrderOverpaid);
        assert_eq!(more.order_status, Some(OrderStatus::Overpaid));
        assert_eq!(more.order_paid_dong, Some(60_000));
        assert_eq!(more.note, Some(NOTE_OVERPAID));
        for status in [OrderStatus::Paid, OrderStatus::Overpaid] {
            let again = decide_for(&credit(50_000), Some(&order(50_000, 50_000, status)), None);
            assert_eq!(again.outcome, Outcome::OrderOverpaid, "{status:?}");
            assert_eq!(again.order_status, Some(OrderStatus::Overpaid));
            assert_eq!(again.order_paid_dong, Some(100_000));
            assert_eq!(again.order_id, Some(42));
        }
    }

    #[test]
    fn a_paid_total_that_overflows_is_overpaid_with_a_note() {
        let decision = decide_for(
            &credit(1),
            Some(&order(50_000, i64::MAX, OrderStatus::Overpaid)),
            None,
        );
        assert_eq!(decision.outcome, Outcome::OrderOverpaid);
        assert_eq!(decision.order_status, Some(OrderStatus::Overpaid));
        assert_eq!(decision.order_paid_dong, Some(i64::MAX));
        assert_eq!(decision.note, Some(NOTE_OVERFLOW));
    }

    #[test]
    fn a_credit_booked_after_expiry_is_late_and_expires_a_pending_order() {
        let mut late = credit(50_000);
        late.booked_at_ms = Some(EXPIRES_MS + 1);
        let decision = decide_for(
            &late,
            Some(&order(50_000, 0, OrderStatus::Pending)),
            Some(7),
        );
        assert_eq!(
            decision,
            Decision {
                outcome: Outcome::OrderLate,
                stall_id: Some(7),
                order_id: Some(42),
                order_status: Some(OrderStatus::Expired),
                order_paid_dong: Some(50_000),
                note: Some(NOTE_EXPIRED),
            }
        );
        // Exactly at expiry is still on time.
        late.booked_at_ms = Some(EXPIRES_MS);
        let on_time = decide_for(
            &late,
            Some(&order(50_000, 0, OrderStatus::Pending)),
            Some(7),
        );
        assert_eq!(on_time.outcome, Outcome::OrderPaid);
    }

    #[test]
    fn without_a_bank_time_the_delivery_time_decides_lateness() {
        let mut unbooked = credit(50_000);
        unbooked.booked_at_ms = None;
        let facts = order(50_000, 0, OrderStatus::Pending);
        let at = |received_at_ms| {
            decide(&MatchInput {
                credit: &unbooked,
                order: Some(&facts),
                account_stall: None,
                received_at_ms,
            })
            .outcome
        };
        assert_eq!(at(EXPIRES_MS), Outcome::OrderPaid);
        assert_eq!(at(EXPIRES_MS + 1), Outcome::OrderLate);
    }

    #[test]
    fn cancelled_and_expired_orders_take_late_credits_and_keep_their_status() {
        let cancelled = decide_for(
            &credit(50_000),
            Some(&order(50_000, 0, OrderStatus::Cancelled)),
            None,
        );
        assert_eq!(cancelled.outcome, Outcome::OrderLate);
        assert_eq!(cancelled.order_status, Some(OrderStatus::Cancelled));
        assert_eq!(cancelled.order_paid_dong, Some(50_000));
        assert_eq!(cancelled.note, Some(NOTE_CANCELLED));
        let expired = decide_for(
            &credit(50_000),
            Some(&order(50_000, 0, OrderStatus::Expired)),
            None,
        );
        assert_eq!(expired.outcome, Outcome::OrderLate);
        assert_eq!(expired.order_status, Some(OrderStatus::Expired));
        assert_eq!(expired.stall_id, Some(7));
        assert_eq!(expired.order_id, Some(42));
    }

    #[test]
    fn the_rest_of_an_underpaid_order_after_expiry_is_not_late() {
        let mut rest = credit(30_000);
        rest.booked_at_ms = Some(EXPIRES_MS + 3_600_000);
        let decision = decide_for(
            &rest,
            Some(&order(50_000, 20_000, OrderStatus::Underpaid)),
            None,
        );
        assert_eq!(decision.outcome, Outcome::OrderPaid);
        assert_eq!(decision.order_status, Some(OrderStatus::Paid));
    }

    #[test]
    fn a_reference_paid_to_another_account_never_credits_the_order() {
        let mut elsewhere = credit(50_000);
        elsewhere.account = Some("999888777".into());
        let decision = decide_for(
            &elsewhere,
            Some(&order(50_000, 0, OrderStatus::Pending)),
            Some(9),
        );
        assert_eq!(
            decision,
            Decision {
                outcome: Outcome::Unmatched,
                stall_id: None,
                order_id: None,
                order_status: None,
                order_paid_dong: None,
                note: Some(NOTE_OTHER_ACCOUNT),
            }
        );
        let mut other_bank = credit(50_000);
        other_bank.bin = Some("970422".into());
        let decision = decide_for(
            &other_bank,
            Some(&order(50_000, 0, OrderStatus::Pending)),
            None,
        );
        assert_eq!(decision.outcome, Outcome::Unmatched);
        assert_eq!(decision.stall_id, None);
        assert_eq!(decision.order_id, None);
    }

    #[test]
    fn a_credit_naming_no_account_is_matched_by_its_reference() {
        let mut anonymous = credit(50_000);
        anonymous.account = None;
        anonymous.bin = None;
        let decision = decide_for(
            &anonymous,
            Some(&order(50_000, 0, OrderStatus::Pending)),
            None,
        );
        assert_eq!(decision.outcome, Outcome::OrderPaid);
        assert_eq!(decision.stall_id, Some(7));
    }

    #[test]
    fn a_known_account_without_an_order_is_a_static_payment() {
        let decision = decide_for(&credit(15_000), None, Some(7));
        assert_eq!(
            decision,
            Decision {
                outcome: Outcome::StaticPayment,
                stall_id: Some(7),
                order_id: None,
                order_status: None,
                order_paid_dong: None,
                note: None,
            }
        );
    }

    #[test]
    fn neither_order_nor_account_is_unmatched() {
        let decision = decide_for(&credit(15_000), None, None);
        assert_eq!(decision.outcome, Outcome::Unmatched);
        assert_eq!(decision.stall_id, None);
        assert_eq!(decision.note, Some(NOTE_NO_MATCH));
    }

    #[test]
    fn accounts_compare_without_spaces_dots_dashes_or_case() {
        let mut c = credit(1);
        c.account = Some(" 0011-004.123 456 ".into());
        assert_eq!(pays_account(&c, BIN, ACCOUNT), Some(true));
        c.account = Some("vqrabc123".into());
        assert_eq!(pays_account(&c, BIN, "VQR-ABC-123"), Some(true));
        assert_eq!(pays_account(&c, BIN, "VQR-ABC-124"), Some(false));
        // The BIN, when named, must agree.
        c.account = Some(ACCOUNT.into());
        assert_eq!(pays_account(&c, "970422", ACCOUNT), Some(false));
        c.bin = None;
        assert_eq!(pays_account(&c, "970422", ACCOUNT), Some(true));
        c.bin = Some("  ".into());
        assert_eq!(pays_account(&c, "970422", ACCOUNT), Some(true));
    }

    #[test]
    fn a_virtual_account_also_identifies_the_payee() {
        let mut c = credit(1);
        c.account = Some("0011000000001".into());
        c.virtual_account = Some("VA7K2Q".into());
        assert_eq!(pays_account(&c, BIN, "va7k2q"), Some(true));
        assert_eq!(pays_account(&c, BIN, "0011000000001"), Some(true));
        assert_eq!(pays_account(&c, BIN, ACCOUNT), Some(false));
        c.account = None;
        assert_eq!(pays_account(&c, BIN, "VA7K2Q"), Some(true));
    }

    #[test]
    fn no_account_named_is_no_answer() {
        let mut c = credit(1);
        c.account = None;
        assert_eq!(pays_account(&c, BIN, ACCOUNT), None);
        c.account = Some(" .- ".into());
        c.virtual_account = Some(String::new());
        assert_eq!(pays_account(&c, BIN, ACCOUNT), None);
        // An empty payee account matches nothing.
        c.account = Some(ACCOUNT.into());
        assert_eq!(pays_account(&c, BIN, ""), Some(false));
    }

    fn any_status() -> impl Strategy<Value = OrderStatus> {
        prop::sample::select(vec![
            OrderStatus::Pending,
            OrderStatus::Paid,
            OrderStatus::Underpaid,
            OrderStatus::Overpaid,
            OrderStatus::Expired,
            OrderStatus::Cancelled,
        ])
    }

    /// Applies credits (amount, booked offset from expiry) to a fresh pending order, threading
    /// the paid total and status from each decision into the next.
    fn apply_all(amount: i64, credits: &[(i64, i64)]) -> (OrderFacts, Vec<Decision>) {
        let mut facts = order(amount, 0, OrderStatus::Pending);
        let mut decisions = Vec::new();
        for (credit_dong, offset_ms) in credits {
            let mut c = credit(*credit_dong);
            c.booked_at_ms = Some(EXPIRES_MS + offset_ms);
            let decision = decide_for(&c, Some(&facts), Some(facts.stall_id));
            facts.paid_dong = decision.order_paid_dong.unwrap();
            facts.status = decision.order_status.unwrap();
            decisions.push(decision);
        }
        (facts, decisions)
    }

    /// An order amount and credits that sometimes split it exactly.
    fn amount_and_parts() -> impl Strategy<Value = (i64, Vec<i64>)> {
        (
            1..=10_000_000_i64,
            prop::collection::vec(1..=10_000_000_i64, 1..6),
            any::<bool>(),
        )
            .prop_map(|(amount, mut cuts, exact)| {
                if !exact {
                    return (amount, cuts);
                }
                // Cut the amount at sorted points: the parts sum to it exactly.
                for cut in &mut cuts {
                    *cut = 1 + *cut % amount;
                }
                cuts.push(amount);
                cuts.sort_unstable();
                cuts.dedup();
                let mut previous = 0;
                let parts = cuts
                    .into_iter()
                    .map(|cut| {
                        let part = cut - previous;
                        previous = cut;
                        part
                    })
                    .collect();
                (amount, parts)
            })
    }

    proptest! {
        #[test]
        fn accounts_compare_the_same_whether_ascii_or_not(
            a in "[0-9a-zA-Z .\\-\t\u{b}\u{a0}ß]{0,8}",
            b in "[0-9a-zA-Z .\\-\t\u{b}\u{a0}ß]{0,8}",
        ) {
            let by_chars =
                |x: &str, y: &str| account_key(x).next().is_some() && account_key(x).eq(account_key(y));
            prop_assert_eq!(same_key(&a, &b), by_chars(&a, &b));
            // A near copy, which mostly matches.
            let spaced = format!(" {}-", a.to_ascii_lowercase());
            prop_assert_eq!(same_key(&a, &spaced), by_chars(&a, &spaced));
        }

        #[test]
        fn the_paid_total_is_the_sum_of_the_credits(
            (amount, parts) in amount_and_parts(),
            offsets in prop::collection::vec(-100_000..100_000_i64, 6),
        ) {
            let credits: Vec<(i64, i64)> = parts.iter().copied().zip(offsets).collect();
            let (facts, decisions) = apply_all(amount, &credits);
            let sum: i64 = credits.iter().map(|(dong, _)| dong).sum();
            prop_assert_eq!(facts.paid_dong, sum);
            prop_assert!(decisions.iter().all(|d| d.order_id == Some(42)));
        }

        #[test]
        fn the_order_is_paid_iff_on_time_credits_sum_to_its_amount(
            (amount, parts) in amount_and_parts(),
            offsets in prop::collection::vec(-100_000..=0_i64, 6),
        ) {
            let credits: Vec<(i64, i64)> = parts.iter().copied().zip(offsets).collect();
            let (facts, decisions) = apply_all(amount, &credits);
            let sum: i64 = parts.iter().sum();
            prop_assert_eq!(facts.status == OrderStatus::Paid, sum == amount);
            prop_assert!(decisions.iter().all(|d| d.outcome != Outcome::OrderLate));
            let expected = match sum.cmp(&amount) {
                Ordering::Less => OrderStatus::Underpaid,
                Ordering::Equal => OrderStatus::Paid,
                Ordering::Greater => OrderStatus::Overpaid,
            };
            prop_assert_eq!(facts.status, expected);
        }

        #[test]
        fn decide_never_panics_and_never_credits_another_accounts_order(
            amount in 1..=Vnd::MAX_DONG,
            order_amount in 1..=Vnd::MAX_DONG,
            paid in any::<i64>(),
            status in any_status(),
            expires in any::<i64>(),
            booked in any::<Option<i64>>(),
            received in any::<i64>(),
            credit_account in proptest::option::of("[0-9 .Aab-]{0,4}"),
            credit_virtual in proptest::option::of("[0-9 .Aab-]{0,4}"),
            credit_bin in proptest::option::of("97042[2-3]"),
            payee_account in "[0-9Aab]{0,3}",
            payee_bin in "97042[2-3]",
            with_order in any::<bool>(),
            account_stall in any::<Option<i64>>(),
        ) {
            let c = BankCredit {
                account: credit_account,
                virtual_account: credit_virtual,
                bin: credit_bin,
                booked_at_ms: booked,
                ..credit(amount)
            };
            let facts = OrderFacts {
                paid_dong: paid,
                status,
                expires_at_ms: expires,
                payee_bin,
                payee_account,
                ..order(order_amount, 0, status)
            };
            let decision = decide(&MatchInput {
                credit: &c,
                order: with_order.then_some(&facts),
                account_stall,
                received_at_ms: received,
            });
            if with_order && pays_account(&c, &facts.payee_bin, &facts.payee_account) == Some(false) {
                prop_assert_eq!(decision.outcome, Outcome::Unmatched);
                prop_assert_eq!(decision.order_id, None);
                prop_assert_eq!(decision.order_paid_dong, None);
                prop_assert_eq!(decision.stall_id, None);
            }
            if decision.outcome == Outcome::Unmatched {
                prop_assert_eq!(decision.stall_id, None);
            }
            prop_assert_eq!(decision.order_id.is_some(), decision.order_status.is_some());
            prop_assert_eq!(decision.order_id.is_some(), decision.order_paid_dong.is_some());
        }
    }
}
