//! The HTTP API, in-process, on a fresh database per test (SQLite, or PostgreSQL in `.ci/run`'s
//! second pass).

mod access;
mod boards;
mod import;
mod markets;
pub mod payments;
mod poster_audit;
mod stalls;
mod system;
mod webhooks;
