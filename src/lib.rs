//! chopay: the system behind cashless Vietnamese markets.
//!
//! Each stall in a market has a vendor and a payee bank account; chopay prints the stall's static
//! VietQR poster, issues a dynamic VietQR for each sale, verifies the banks' payment callbacks,
//! records every đồng exactly once and shows market boards how far each market has gone cashless.
//!
//! # Layout
//! Dependencies point inward: the command line and the QR renderer use the pure domain; the
//! domain depends on nothing of ours.

/// Server-rendered pages: the vendor screen (and, later, the market boards).
pub mod board;
/// The command line: argument parsing and the subcommands behind `chopay …`.
pub mod cli;
/// Pure domain: money, ASCII folding, the VietQR codec and the NAPAS bank directory. No I/O.
pub mod domain;
pub mod http;
/// Stall posters: templates from `printables/`, text fitting, PNG and PDF rendering.
pub mod posters;
/// QR code images of any payload: the module matrix (with fast mask choice), SVG and PNG.
pub mod qr;
pub mod service;
pub mod store;
/// Bank and gateway callbacks: verification and parsing, one module per provider. No I/O.
pub mod webhooks;
