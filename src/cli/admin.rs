//! Operator commands on the database: `migrate`, `import stalls`, `token create|list|revoke`,
//! `channel create`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::CliError;
use super::database::{DatabaseArgs, block_on};
use crate::service::tokens::{self, TokenRequest};
use crate::service::{catalog, import};

/// `chopay migrate`.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    database: DatabaseArgs,
}

/// `chopay import …`.
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import a market's stalls from a CSV spreadsheet: all rows or none.
    Stalls(ImportStallsArgs),
}

/// `chopay import stalls`.
#[derive(Debug, Args)]
pub struct ImportStallsArgs {
    /// The market's slug.
    #[arg(long)]
    market: String,
    /// UTF-8 CSV with a header: code, vendor_name, goods, phone, bank, account, holder.
    file: PathBuf,
    /// Check every row and report, without writing anything.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    database: DatabaseArgs,
}

/// `chopay token …`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make a bearer token; it is printed once and only its hash is stored.
    Create(TokenCreateArgs),
    /// List every token (id, role, scope, label, created, revoked), never a token's text.
    List(DatabaseOnlyArgs),
    /// Revoke a token by id: its very next request is refused.
    Revoke(TokenRevokeArgs),
}

/// A command that needs only the database.
#[derive(Debug, Args)]
pub struct DatabaseOnlyArgs {
    #[command(flatten)]
    database: DatabaseArgs,
}

/// `chopay token revoke`.
#[derive(Debug, Args)]
pub struct TokenRevokeArgs {
    /// The token's id, as `token create` or `token list` printed it.
    id: i64,
    #[command(flatten)]
    database: DatabaseArgs,
}

/// `chopay token create`.
#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    /// admin, board or vendor.
    #[arg(long)]
    role: String,
    /// A board token's market (or, with --stall CODE, the stall's market).
    #[arg(long)]
    market: Option<String>,
    /// A board token's district, by slug (e.g. ba-vi).
    #[arg(long)]
    district: Option<String>,
    /// A vendor token's stall: its id, or its code with --market.
    #[arg(long)]
    stall: Option<String>,
    /// What the token is for.
    #[arg(long, default_value = "")]
    label: String,
    #[command(flatten)]
    database: DatabaseArgs,
}

pub fn migrate(args: &MigrateArgs) -> Result<(), CliError> {
    block_on(async {
        let store = args.database.open().await?;
        store.close().await;
        println!("database is up to date");
        Ok(())
    })
}

pub fn import(command: &ImportCommand) -> Result<(), CliError> {
    let ImportCommand::Stalls(args) = command;
    let bytes = std::fs::read(&args.file)
        .map_err(|e| CliError::Input(format!("cannot read {}: {e}", args.file.display())))?;
    block_on(async {
        let store = args.database.open().await?;
        let market = catalog::market(&store, &args.market).await?;
        let report = import::import_stalls(&store, &market, &bytes, args.dry_run).await;
        store.close().await;
        let report = report?;
        if !report.errors.is_empty() {
            for error in &report.errors {
                let code = error
                    .code
                    .as_deref()
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default();
                eprintln!("line {}{code}: {}", error.line, error.message);
            }
            return Err(CliError::Input(format!(
                "{} of {} rows are invalid; nothing was written",
                report.errors.len(),
                report.rows
            )));
        }
        let verb = if args.dry_run { "would be" } else { "were" };
        println!(
            "{} rows checked: {} stalls {verb} created, {} {verb} updated, {} unchanged",
            report.rows, report.created, report.updated, report.unchanged
        );
        Ok(())
    })
}

pub fn token(command: &TokenCommand) -> Result<(), CliError> {
    match command {
        TokenCommand::Create(args) => token_create(args),
        TokenCommand::List(args) => token_list(args),
        TokenCommand::Revoke(args) => token_revoke(args),
    }
}

/// One line of `token list`: `ID ROLE SCOPE created … [revoked …] LABEL`.
fn token_line(row: crate::store::tokens::TokenRow) -> String {
    let out = crate::http::tokens::TokenOut::from(row);
    let revoked = out
        .revoked_at
        .map(|at| format!(" revoked {at}"))
        .unwrap_or_default();
    format!(
        "{}\t{}\t{}\tcreated {}{revoked}\t{}",
        out.id, out.role, out.scope, out.created_at, out.label
    )
}

fn token_list(args: &DatabaseOnlyArgs) -> Result<(), CliError> {
    block_on(async {
        let store = args.database.open().await?;
        let rows = tokens::list(&store).await;
        store.close().await;
        for row in rows? {
            println!("{}", token_line(row));
        }
        Ok(())
    })
}

fn token_revoke(args: &TokenRevokeArgs) -> Result<(), CliError> {
    block_on(async {
        let store = args.database.open().await?;
        let revoked = tokens::revoke(&store, args.id).await;
        store.close().await;
        println!("{}", token_line(revoked?));
        eprintln!("token {} is revoked: it no longer works", args.id);
        Ok(())
    })
}

fn token_create(args: &TokenCreateArgs) -> Result<(), CliError> {
    block_on(async {
        let store = args.database.open().await?;
        let request = TokenRequest {
            role: args.role.clone(),
            market: args.market.clone(),
            district: args.district.clone(),
            stall: args.stall.clone(),
            label: args.label.clone(),
        };
        let issued = tokens::create(&store, &request).await;
        store.close().await;
        let issued = issued?;
        eprintln!(
            "{} token {} for {:?}; it is shown once, keep it safe (revoke it with `chopay token revoke {}`):",
            issued.principal.role, issued.id, issued.principal.scope, issued.id
        );
        println!("{}", issued.token);
        Ok(())
    })
}

/// `chopay channel …`.
#[derive(Debug, Subcommand)]
pub enum ChannelCommand {
    /// Bind a provider and its secret to a market; prints the secret once.
    Create(ChannelCreateArgs),
}

/// `chopay channel create`.
#[derive(Debug, Args)]
pub struct ChannelCreateArgs {
    /// The market's slug.
    #[arg(long)]
    market: String,
    /// `payos`, `casso`, `sepay` or `chopay`.
    #[arg(long)]
    provider: String,
    /// The provider's secret (payOS checksum key, Casso webhook secret); generated for SePay
    /// and chopay when absent.
    #[arg(long, env = "CHOPAY_CHANNEL_SECRET", hide_env_values = true)]
    secret: Option<String>,
    /// What the channel is for.
    #[arg(long, default_value = "")]
    label: String,
    #[command(flatten)]
    database: DatabaseArgs,
}

pub fn channel(command: &ChannelCommand) -> Result<(), CliError> {
    let ChannelCommand::Create(args) = command;
    block_on(async {
        let store = args.database.open().await?;
        let made = async {
            let market = catalog::market(&store, &args.market).await?;
            crate::service::channels::create(
                &store,
                &market,
                &args.provider,
                args.secret.as_deref(),
                &args.label,
            )
            .await
        }
        .await;
        store.close().await;
        let made = made?;
        eprintln!(
            "{} channel {} for market '{}'; the secret is shown once, keep it safe",
            made.channel.provider, made.channel.id, args.market
        );
        let out = serde_json::json!({
            "id": made.channel.id,
            "provider": made.channel.provider,
            "secret": made.secret,
            "webhook_path": format!("/webhooks/{}/{}", made.channel.provider, made.channel.id),
        });
        println!("{out:#}");
        Ok(())
    })
}
