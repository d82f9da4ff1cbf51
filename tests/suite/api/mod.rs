//! The HTTP API, in-process, on a fresh database per test (SQLite, or PostgreSQL in `.ci/run`'s
//! second pass).

mod access;
mod import;
mod markets;
mod payments;
mod poster_audit;
mod stalls;
mod system;
mod webhooks;
