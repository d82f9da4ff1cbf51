//! A bank credit: one incoming transfer as a provider reported it, normalized to the same shape
//! whatever the provider (payOS, Casso, SePay or chopay's own format).

use crate::domain::money::Vnd;

/// Longest provider transaction id chopay keeps.
pub const MAX_TXN_ID_CHARS: usize = 128;
/// Longest transfer description chopay keeps (banks send at most a few hundred characters).
pub const MAX_DESCRIPTION_CHARS: usize = 1000;

/// One incoming transfer, as its provider reported it: what the ledger records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankCredit {
    /// The provider's id of the transaction: unique per channel, the key of exactly-once.
    pub provider_txn_id: String,
    /// The amount received.
    pub amount: Vnd,
    /// The receiving account number, when the provider says.
    pub account: Option<String>,
    /// The receiving bank's NAPAS BIN, when the provider says.
    pub bin: Option<String>,
    /// The virtual account the money was sent to, when there is one.
    pub virtual_account: Option<String>,
    /// The transfer description exactly as received.
    pub description: String,
    /// The payer's name.
    pub counterparty_name: Option<String>,
    /// The payer's account number.
    pub counterparty_account: Option<String>,
    /// The payer's bank (name or BIN, as sent).
    pub counterparty_bank: Option<String>,
    /// When the bank booked it, UTC milliseconds since the epoch.
    pub booked_at_ms: Option<i64>,
    /// A payment code the provider already extracted from the description (SePay's `code`).
    pub payment_code: Option<String>,
}
