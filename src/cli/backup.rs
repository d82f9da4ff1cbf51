//! `chopay backup --to PATH`: an online copy of a SQLite database, safe while the server runs
//! (`VACUUM INTO` of one snapshot); PostgreSQL is pointed to `pg_basebackup`.

use std::path::PathBuf;

use clap::Args;

use super::CliError;
use super::database::{DatabaseArgs, block_on};
use crate::store::backup::{self, BackupError};
use crate::store::{DatabaseUrl, Store};

/// `chopay backup`.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The file to write (must not exist).
    #[arg(long)]
    to: PathBuf,
    #[command(flatten)]
    database: DatabaseArgs,
}

pub fn run(args: &BackupArgs) -> Result<(), CliError> {
    block_on(async {
        let url = DatabaseUrl::new(args.database.url.clone());
        // Never create the database being backed up: connecting would make an empty one.
        if let Some(file) = backup::sqlite_file(&url)
            && !file.exists()
        {
            return Err(CliError::Input(format!(
                "{} does not exist: nothing to back up",
                file.display()
            )));
        }
        let store = Store::connect(&url)
            .await
            .map_err(|e| CliError::Io(format!("cannot open {url}: {e}")))?;
        let made = backup::sqlite_copy(&store, &args.to).await;
        store.close().await;
        let made = made.map_err(|error| match error {
            BackupError::Exists(_) | BackupError::Postgres => CliError::Input(error.to_string()),
            BackupError::Store(_) | BackupError::Io { .. } => CliError::Io(error.to_string()),
        })?;
        println!(
            "backup of {} written to {}: {} bytes in {} ms",
            args.database.url_redacted(),
            args.to.display(),
            made.bytes,
            made.took.as_millis()
        );
        Ok(())
    })
}
