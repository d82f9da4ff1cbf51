//! Orders and ledger outcomes: the states a sale goes through and what a credit did to it.

use serde::Serialize;

/// Where an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Issued, nothing received yet.
    Pending,
    /// Received exactly the amount.
    Paid,
    /// Received less than the amount so far.
    Underpaid,
    /// Received more than the amount.
    Overpaid,
    /// Expired with nothing received.
    Expired,
    /// Cancelled by the vendor before payment.
    Cancelled,
}

impl OrderStatus {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Paid => "paid",
            Self::Underpaid => "underpaid",
            Self::Overpaid => "overpaid",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
        }
    }

    /// Reads a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Paid,
            Self::Underpaid,
            Self::Overpaid,
            Self::Expired,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// What a credit was to the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// It completed an order to the đồng.
    OrderPaid,
    /// It went to an order that is still short.
    OrderUnderpaid,
    /// It took an order past its amount.
    OrderOverpaid,
    /// It carried an order's reference but arrived after the order expired or was cancelled.
    OrderLate,
    /// It paid a stall's static poster: the stall's account, no order reference.
    StaticPayment,
    /// Nothing matched: it waits in the review list.
    Unmatched,
}

impl Outcome {
    /// Every outcome.
    pub const ALL: [Self; 6] = [
        Self::OrderPaid,
        Self::OrderUnderpaid,
        Self::OrderOverpaid,
        Self::OrderLate,
        Self::StaticPayment,
        Self::Unmatched,
    ];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OrderPaid => "order_paid",
            Self::OrderUnderpaid => "order_underpaid",
            Self::OrderOverpaid => "order_overpaid",
            Self::OrderLate => "order_late",
            Self::StaticPayment => "static_payment",
            Self::Unmatched => "unmatched",
        }
    }

    /// Reads a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == text)
    }
}
