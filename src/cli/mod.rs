//! The command line (*contract*: scripts and acceptance checks use these names).
//!
//! `main.rs` parses [`Cli`] and calls [`run`]; every failure comes back as a [`CliError`] with a
//! one-line message and an exit code: 2 for input the user can fix, 1 for the machine's trouble.

mod admin;
mod backup;
mod database;
mod posters;
mod qr;
mod serve;
mod simulate;
mod webhook;

use clap::{Parser, Subcommand};

/// chopay: cashless Vietnamese markets.
#[derive(Debug, Parser)]
#[command(name = "chopay", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Make and read VietQR codes.
    #[command(subcommand)]
    Qr(qr::QrCommand),
    /// Run the HTTP service.
    Serve(serve::ServeArgs),
    /// Bring the database schema up to date.
    Migrate(admin::MigrateArgs),
    /// Import data from spreadsheets.
    #[command(subcommand)]
    Import(admin::ImportCommand),
    /// Manage bearer tokens.
    #[command(subcommand)]
    Token(admin::TokenCommand),
    /// Manage webhook channels (where banks and gateways notify payments).
    #[command(subcommand)]
    Channel(admin::ChannelCommand),
    /// Send a crowd of simulated shoppers' payments to a running server (loopback only).
    Simulate(simulate::SimulateArgs),
    /// Check bank callbacks offline.
    #[command(subcommand)]
    Webhook(webhook::WebhookCommand),
    /// Print stall posters (PDF or PNG) with each stall's static VietQR.
    Posters(posters::PostersArgs),
    /// Copy a SQLite database while the server runs (an online, consistent backup).
    Backup(backup::BackupArgs),
}

/// A failed command: what to tell the user, and the exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The input is wrong; the message says how (exit code 2).
    #[error("{0}")]
    Input(String),
    /// Reading or writing failed (exit code 1).
    #[error("{0}")]
    Io(String),
}

impl CliError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Input(_) => 2,
            Self::Io(_) => 1,
        }
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Qr(command) => qr::run(command),
        Command::Serve(args) => serve::serve(&args),
        Command::Migrate(args) => admin::migrate(&args),
        Command::Import(command) => admin::import(&command),
        Command::Token(command) => admin::token(&command),
        Command::Channel(command) => admin::channel(&command),
        Command::Simulate(args) => simulate::run(&args),
        Command::Webhook(command) => webhook::run(command),
        Command::Posters(args) => posters::run(&args),
        Command::Backup(args) => backup::run(&args),
    }
}
