//! Sync orchestration: decide what to fetch, fetch through the provider chains, apply to the
//! store. The CLI `sync` command and the service's sync jobs call [`run_sync`].
//! (Placeholder body: the sync work replaces it; the signatures are the contract.)

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::providers::{ProviderName, Providers};
use crate::symbol::{Market, Symbol};

/// Which securities a run covers.
#[derive(Clone, Debug, PartialEq)]
pub enum Selection {
    /// Every tracked security, benchmark and FX pair.
    All,
    /// Every tracked security on these markets (the service's per-market jobs).
    Markets(Vec<Market>),
    /// Just these.
    Symbols(Vec<Symbol>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct SyncOptions {
    pub selection: Selection,
    /// Re-fetch full history instead of the incremental window.
    pub full: bool,
    /// Who started the run (`cli` or `service`), recorded with it.
    pub trigger: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SyncFailure {
    pub symbol: Symbol,
    pub provider: Option<ProviderName>,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct SyncSummary {
    pub run_id: i64,
    pub requested: usize,
    pub securities_updated: usize,
    pub bars_written: usize,
    pub failures: Vec<SyncFailure>,
    /// The run stopped early because `cancel` fired; finished securities are stored.
    pub cancelled: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("{0}")]
    Other(String),
}

/// Syncs the selected securities into the database at `config.database.path`.
/// `now` is the run's clock reading (today = its date in the configured time zone).
pub async fn run_sync(
    config: &Config,
    providers: &Providers,
    options: &SyncOptions,
    now: DateTime<Utc>,
    cancel: &CancellationToken,
) -> Result<SyncSummary, SyncError> {
    let _ = (config, providers, options, now, cancel);
    Err(SyncError::Other("sync is not implemented yet".to_string()))
}
