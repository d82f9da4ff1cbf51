//! The database flag shared by every command that opens the store (*contract*: same default as
//! `serve`, and the `DATABASE_URL` environment variable).

use clap::Args;

use super::CliError;
use crate::service::ServiceError;
use crate::store::{DatabaseUrl, Store, StoreError};

/// `--database-url URL`.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// sqlite://PATH (created if missing) or postgres://USER@HOST/DB.
    #[arg(
        long = "database-url",
        env = "DATABASE_URL",
        default_value = "sqlite://chopay.db",
        hide_env_values = true
    )]
    pub url: String,
}

impl DatabaseArgs {
    /// The URL with any password hidden, for messages.
    pub fn url_redacted(&self) -> String {
        DatabaseUrl::new(self.url.clone()).redacted()
    }

    /// Connects and brings the schema up to date.
    pub async fn open(&self) -> Result<Store, CliError> {
        let url = DatabaseUrl::new(self.url.clone());
        Store::open(&url).await.map_err(|e| store_error(&url, &e))
    }
}

fn store_error(url: &DatabaseUrl, error: &StoreError) -> CliError {
    match error {
        StoreError::UnsupportedUrl(_) => CliError::Input(error.to_string()),
        _ => CliError::Io(format!("cannot open {url}: {error}")),
    }
}

impl From<ServiceError> for CliError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Store(error) => Self::Io(error.to_string()),
            ServiceError::Unavailable(message) => Self::Io(message),
            other => Self::Input(other.to_string()),
        }
    }
}

/// Runs an async command on a fresh runtime.
pub fn block_on<T>(future: impl Future<Output = Result<T, CliError>>) -> Result<T, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Io(format!("cannot start the runtime: {e}")))?
        .block_on(future)
}
