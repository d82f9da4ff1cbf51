//! `chopay posters` (*contract*): a stall's poster (PDF or PNG) or a whole market's posters in
//! one PDF, one page per stall in stall-code order; stalls without a linked account are listed,
//! not printed. Each printed poster is recorded on its stall with its serial.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::CliError;
use super::database::{DatabaseArgs, block_on};
use crate::posters::PosterSize;
use crate::service::posters::{self, Format};
use crate::service::{ServiceError, catalog};
use crate::store::{Store, stalls};

/// `chopay posters`.
#[derive(Debug, Args)]
pub struct PostersArgs {
    /// The market's slug.
    #[arg(long)]
    market: String,
    /// Only this stall (its code); required for a PNG.
    #[arg(long)]
    stall: Option<String>,
    /// a4, a5 or sticker.
    #[arg(long, default_value = "a4")]
    size: String,
    /// Where to write: FILE.pdf or FILE.png.
    #[arg(short = 'o', long = "output")]
    output: PathBuf,
    #[command(flatten)]
    database: DatabaseArgs,
}

fn format_of(path: &std::path::Path) -> Result<Format, CliError> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("pdf") => Ok(Format::Pdf),
        Some("png") => Ok(Format::Png),
        _ => Err(CliError::Input(format!(
            "{}: the output must end in .pdf or .png",
            path.display()
        ))),
    }
}

/// Runs `chopay posters`.
pub fn run(args: &PostersArgs) -> Result<(), CliError> {
    let size: PosterSize = args
        .size
        .parse()
        .map_err(|e: crate::posters::PosterError| CliError::Input(e.to_string()))?;
    let format = format_of(&args.output)?;
    if format == Format::Png && args.stall.is_none() {
        return Err(CliError::Input(
            "a PNG holds one poster: name the stall with --stall CODE, or write a .pdf".into(),
        ));
    }
    let bar = std::io::stderr().is_terminal().then(|| {
        ProgressBar::new(0).with_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} áp phích {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        )
    });
    block_on(async {
        let store = args.database.open().await?;
        let done = print(&store, args, size, format, bar.as_ref()).await;
        store.close().await;
        if let Some(bar) = &bar {
            bar.finish_and_clear();
        }
        done
    })
}

async fn print(
    store: &Store,
    args: &PostersArgs,
    size: PosterSize,
    format: Format,
    bar: Option<&ProgressBar>,
) -> Result<(), CliError> {
    let market = catalog::market(store, &args.market).await?;
    let made = match (format, args.stall.as_deref()) {
        (Format::Png, Some(code)) => {
            let code = code.trim().to_ascii_uppercase();
            let stall = stalls::by_code(store, market.id, &code)
                .await
                .map_err(ServiceError::from)?
                .ok_or_else(|| {
                    ServiceError::NotFound(format!("stall {code} in market {}", market.slug))
                })?;
            posters::stall_poster(store, &stall, size, Format::Png).await?
        }
        (_, only) => {
            let bar = bar.cloned();
            posters::market_posters(store, &market, only, size, move |done, total| {
                if let Some(bar) = &bar {
                    bar.set_length(u64::try_from(total).unwrap_or(0));
                    bar.set_position(u64::try_from(done).unwrap_or(0));
                }
            })
            .await?
        }
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    for (code, vendor) in &made.skipped {
        eprintln!("not printed: stall {code} ({vendor}) has no linked bank account");
    }
    if made.printed.is_empty() {
        return Err(CliError::Input(format!(
            "market '{}': no stall with a linked bank account to print",
            args.market
        )));
    }
    std::fs::write(&args.output, &made.bytes)
        .map_err(|e| CliError::Io(format!("cannot write {}: {e}", args.output.display())))?;
    // Only a poster that reached its file counts as printed.
    made.record(store).await?;
    eprintln!(
        "{}: {} poster(s), {} KB; {} stall(s) without an account not printed",
        args.output.display(),
        made.printed.len(),
        made.bytes.len() / 1024,
        made.skipped.len()
    );
    Ok(())
}
