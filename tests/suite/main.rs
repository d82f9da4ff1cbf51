//! The integration suite: one binary, one module per area. Tests go through public interfaces
//! (the library's API, the real `chopay` binary) and assert what users see.
//!
//! Tests marked `#[ignore = "needs …"]` use programs outside Rust (zbarimg, …); `cargo test`
//! lists them as ignored, and `.ci/run` installs the programs and runs them with
//! `--include-ignored`. They fail loudly when the program is missing.

// A test fails by panicking: unwrap, expect and panic are how these files say "this must hold".
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api;
mod app;
mod backup;
mod browser;
mod cli;
mod contention;
mod crash;
mod demo_server;
mod durability;
mod edges;
mod exactly_once;
mod forgery;
mod golden;
mod helpers;
mod hostile;
mod pages;
mod payments_cli;
mod posters;
mod scan;
mod service_cli;
mod snapshot;
mod tenancy;
