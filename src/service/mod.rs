//! Use cases: what a board, a vendor or an operator asks chopay to do, in terms of the domain and
//! the store. HTTP handlers and CLI commands call these and stay thin.

pub mod catalog;
pub mod channels;
pub mod demo;
pub mod demo_data;
pub mod demo_history;
pub mod import;
pub mod ledger;
mod ledger_thread;
pub mod orders;
pub mod posters;
pub mod stats;
pub mod tokens;

use crate::store::StoreError;

/// Why a use case failed, in terms a caller can map to a response.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The named thing does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// It clashes with something that exists.
    #[error("{0}")]
    Conflict(String),
    /// The input is invalid; the message names the field.
    #[error("{0}")]
    Invalid(String),
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
    /// Nothing was recorded and the caller should retry later (the database is failing).
    #[error("{0}")]
    Unavailable(String),
}

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Duplicate(what) => Self::Conflict(format!("{what} already exists")),
            // A full disk or a database that is gone: nothing written, try again later (503).
            other if other.is_unavailable() => {
                tracing::warn!(error = %other, "the database is unavailable");
                Self::Unavailable("the database is unavailable right now; retry shortly".into())
            }
            other => Self::Store(other),
        }
    }
}
