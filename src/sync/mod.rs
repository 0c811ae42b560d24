//! Sync orchestration: decide what to fetch, fetch through the provider chains, apply to the
//! store. The CLI `sync` command and the service's sync jobs call [`run_sync`].
//!
//! Fetch → decide → apply:
//! - [`plan`] decides each security's request windows from its stored state (pure).
//! - The chain of its market's providers is tried in config order; a provider that answers
//!   with a ban signal ([`ProviderErrorKind::Blocked`]) is tripped for the rest of the run.
//! - [`decide`] chooses how an answer is applied (pure): a full history replaces the stored
//!   series, an incremental one is upserted unless the overlap shows a re-based adjusted history.
//! - The store writes each security in one transaction.
//!
//! Invariants:
//! - One adjusted series per security: an answer from a provider other than the stored
//!   series' source is always a full history and replaces the series whole.
//! - Nothing fails validation and still reaches the store; a failed provider never touches
//!   stored bars; a full answer that ends before the stored series is refused.
//! - The SQLite connection is only used inside `spawn_blocking`, never across an `.await`.
//! - The clock is read once, by the caller (`now`); the run's finish time is `now` plus the
//!   monotonic time elapsed.

mod decide;
pub mod instruments;
mod plan;
mod progress;

use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use chrono::{DateTime, NaiveDate, Utc};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio_util::sync::CancellationToken;

use crate::config::{ChainsConfig, Config};
use crate::prices::validate_series;
use crate::providers::{FetchRequest, FetchedSeries, ProviderError, ProviderErrorKind, ProviderName, Providers};
use crate::store::{Store, StoreError, WriteStats};
use crate::symbol::{Market, Symbol};

pub use decide::{Apply, PRICE_TOLERANCE, RefetchReason, adjusted_history_rebased, decide};
pub use plan::{FetchKind, FetchPlan, IncrementalWindow, Plan, PlanSettings, SecurityPlan, Window, default_history_start, plan_security};
pub use progress::{LogProgress, SyncProgress, TerminalProgress};

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
    /// The last provider tried (the last of the chain when every one was tripped).
    pub provider: Option<ProviderName>,
    /// What went wrong with each provider tried, in chain order.
    pub reason: String,
}

impl fmt::Display for SyncFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.provider {
            Some(provider) => write!(f, "{} via {provider}: {}", self.symbol, self.reason),
            None => write!(f, "{}: {}", self.symbol, self.reason),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct SyncSummary {
    pub run_id: i64,
    /// Securities selected.
    pub requested: usize,
    /// Securities whose stored series gained or changed at least one bar.
    pub securities_updated: usize,
    /// Bars written (added plus overwritten).
    pub bars_written: usize,
    pub failures: Vec<SyncFailure>,
    /// The run stopped early because `cancel` fired; finished securities are stored.
    pub cancelled: bool,
    /// Securities that synced, whether or not anything changed.
    pub securities_synced: usize,
    /// Securities that needed no request (today's bar already stored).
    pub up_to_date: usize,
    /// Bars for dates not stored before.
    pub bars_added: usize,
    /// Fetches asked of providers, every attempt counted (one fetch may be several HTTP
    /// requests: Tencent and Eastmoney fetch prices as traded and back-adjusted separately).
    pub requests: usize,
    /// Securities whose whole history was fetched and replaced (first sync, `--full`, a
    /// provider switch, a changed basis or a re-based adjusted series).
    pub full_histories: usize,
    /// Securities re-fetched in full because their incremental answer could not be merged.
    pub refetched: Vec<(Symbol, RefetchReason)>,
    /// Providers tripped by ban signals during the run.
    pub tripped: Vec<ProviderName>,
    /// Securities not finished because the run was cancelled.
    pub not_finished: usize,
}

impl SyncSummary {
    /// `ok`, `partial`, `failed` or `interrupted`, as recorded with the run.
    pub fn outcome(&self) -> &'static str {
        if self.cancelled {
            "interrupted"
        } else if self.failures.is_empty() {
            "ok"
        } else if self.securities_synced == 0 && self.up_to_date == 0 {
            "failed"
        } else {
            "partial"
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("{0}")]
    Other(String),
    /// Symbols asked for that no report tracks.
    #[error("{} not on the watchlist; add with `ratingwatch watchlist add SYMBOL --sector SECTOR`", list(.symbols))]
    NotTracked { symbols: Vec<Symbol> },
    #[error("config key `{key}`: {message}")]
    Config { key: String, message: String },
    /// A database task panicked or was cancelled by the runtime.
    #[error("database task failed: {0}")]
    Task(String),
}

fn list(symbols: &[Symbol]) -> String {
    let names: Vec<String> = symbols.iter().map(Symbol::to_string).collect();
    match names.len() {
        1 => format!("{} is", names[0]),
        _ => format!("{} are", names.join(", ")),
    }
}

/// A boxed fetch future, so [`PriceFetcher`] stays object-safe.
pub type FetchFuture<'a> = Pin<Box<dyn Future<Output = Result<FetchedSeries, ProviderError>> + Send + 'a>>;

/// The seam between sync and the provider clients: [`Providers`] in the product, a scripted
/// fake in unit tests.
pub trait PriceFetcher: Send + Sync {
    fn fetch<'a>(&'a self, provider: ProviderName, request: &'a FetchRequest) -> FetchFuture<'a>;
}

impl PriceFetcher for Providers {
    fn fetch<'a>(&'a self, provider: ProviderName, request: &'a FetchRequest) -> FetchFuture<'a> {
        Box::pin(Providers::fetch(self, provider, request))
    }
}

/// The run's one database connection. The lock is only taken inside `spawn_blocking`.
pub type SharedStore = Arc<Mutex<Store>>;

/// Syncs the selected securities into the database at `config.database.path`.
/// `now` is the run's clock reading (today = its date in the configured time zone).
pub async fn run_sync(
    config: &Config,
    providers: &Providers,
    options: &SyncOptions,
    now: DateTime<Utc>,
    cancel: &CancellationToken,
) -> Result<SyncSummary, SyncError> {
    let path = config.database.path.clone();
    let store = tokio::task::spawn_blocking(move || Store::open(&path)).await.map_err(|e| SyncError::Task(e.to_string()))??;
    run_sync_with(config, providers, Arc::new(Mutex::new(store)), options, now, cancel, &LogProgress).await
}

/// [`run_sync`] with the fetcher, the database and the progress sink supplied by the caller.
pub async fn run_sync_with(
    config: &Config,
    fetcher: &dyn PriceFetcher,
    store: SharedStore,
    options: &SyncOptions,
    now: DateTime<Utc>,
    cancel: &CancellationToken,
    progress: &dyn SyncProgress,
) -> Result<SyncSummary, SyncError> {
    let started = Instant::now();
    let today = now.with_timezone(&config.timezone()).date_naive();
    let chains = config.providers.chains.clone();
    let prepared = {
        let (options, sync_config) = (options.clone(), config.sync.clone());
        with_store(&store, move |store| prepare(store, &options, &sync_config, today, now)).await?
    };
    progress.started(prepared.plans.len());

    let run = Run { fetcher, store: Arc::clone(&store), chains, tripped: Mutex::new(Vec::new()), today, now, cancel };
    let mut summary = SyncSummary { run_id: prepared.run_id, requested: prepared.plans.len(), ..SyncSummary::default() };
    let mut pending = prepared.plans.into_iter();
    let mut in_flight = FuturesUnordered::new();
    let concurrency = config.sync.concurrency.max(1);
    loop {
        // Start securities up to the concurrency limit; once cancelled, start none.
        while in_flight.len() < concurrency && !cancel.is_cancelled() {
            match pending.next() {
                Some(plan) => in_flight.push(run.sync_security(plan)),
                None => break,
            }
        }
        let Some(result) = in_flight.next().await else { break };
        if let SecurityOutcome::Failed(failure) = &result.outcome {
            let (run_id, failure) = (summary.run_id, failure.clone());
            let recorded = with_store(&store, move |store| {
                Ok(store.record_sync_failure(run_id, &failure.symbol.to_string(), failure.provider.map(|p| p.as_str()), &failure.reason)?)
            })
            .await;
            // The other securities still deserve their sync; the summary carries the failure.
            if let Err(error) = recorded {
                tracing::error!(%error, "cannot record a sync failure");
            }
        }
        summary.count(&result);
        progress.security_done(&result);
    }
    summary.not_finished += pending.len();
    summary.cancelled = summary.not_finished > 0;
    summary.tripped = run.tripped.lock().unwrap_or_else(PoisonError::into_inner).clone();

    let finished_at = now + chrono::Duration::from_std(started.elapsed()).unwrap_or_default();
    let recorded = summary.clone();
    with_store(&store, move |store| {
        Ok(store.finish_sync_run(
            recorded.run_id,
            recorded.outcome(),
            recorded.securities_updated,
            recorded.bars_written,
            recorded.failures.len(),
            finished_at,
        )?)
    })
    .await?;
    progress.finished(&summary);
    Ok(summary)
}

/// What happened to one security.
#[derive(Clone, Debug, PartialEq)]
pub struct SecurityResult {
    pub symbol: Symbol,
    pub outcome: SecurityOutcome,
    /// Requests sent for it, including failed attempts.
    pub requests: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SecurityOutcome {
    Synced(Synced),
    /// Nothing to request.
    UpToDate,
    Failed(SyncFailure),
    /// The run was cancelled while this security was being fetched; nothing was written.
    Cancelled,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Synced {
    pub provider: ProviderName,
    pub stats: WriteStats,
    /// The whole stored series was replaced by a full history.
    pub full_history: bool,
    /// Why an incremental answer was thrown away for a full history, if it was.
    pub refetch: Option<RefetchReason>,
}

impl SyncSummary {
    fn count(&mut self, result: &SecurityResult) {
        self.requests += result.requests;
        match &result.outcome {
            SecurityOutcome::Synced(synced) => {
                self.securities_synced += 1;
                let written = synced.stats.added + synced.stats.replaced;
                if written > 0 {
                    self.securities_updated += 1;
                }
                self.bars_written += written;
                self.bars_added += synced.stats.added;
                if synced.full_history {
                    self.full_histories += 1;
                }
                if let Some(reason) = synced.refetch {
                    self.refetched.push((result.symbol.clone(), reason));
                }
            }
            SecurityOutcome::UpToDate => self.up_to_date += 1,
            SecurityOutcome::Failed(failure) => self.failures.push(failure.clone()),
            SecurityOutcome::Cancelled => self.not_finished += 1,
        }
    }
}

/// Runs `f` with the store on the blocking pool.
async fn with_store<T: Send + 'static>(
    store: &SharedStore,
    f: impl FnOnce(&mut Store) -> Result<T, SyncError> + Send + 'static,
) -> Result<T, SyncError> {
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || {
        // A panic inside an earlier task rolled its transaction back; the connection is sound.
        let mut store = store.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut store)
    })
    .await
    .map_err(|e| SyncError::Task(e.to_string()))?
}

struct Prepared {
    run_id: i64,
    plans: Vec<SecurityPlan>,
}

/// Reads what the plans need, plans every selected security and opens the run record.
fn prepare(
    store: &mut Store,
    options: &SyncOptions,
    sync_config: &crate::config::SyncConfig,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Prepared, SyncError> {
    let symbols = select(&store.tracked_symbols()?, &options.selection)?;
    let history_start = match sync_config.history_start {
        Some(date) => date,
        None => default_history_start(store.earliest_report_date()?, today),
    };
    let settings = PlanSettings { today, history_start, overlap_days: sync_config.overlap_days, full: options.full };
    let mut plans = Vec::with_capacity(symbols.len());
    for symbol in symbols {
        let state = store.security_state(&symbol)?;
        let mut plan = plan_security(&state, &settings);
        if let Plan::Fetch(FetchPlan { incremental: Some(incremental), .. }) = &mut plan {
            incremental.stored_overlap = store.bars(&symbol, incremental.window.from, incremental.window.to)?;
        }
        plans.push(SecurityPlan { symbol, plan });
    }
    let run_id = store.begin_sync_run(&options.trigger, plans.len(), now)?;
    Ok(Prepared { run_id, plans })
}

/// The selected symbols, in tracked (alphabetical) order for `All`/`Markets` and in the order
/// given for `Symbols`, without repeats.
fn select(tracked: &[Symbol], selection: &Selection) -> Result<Vec<Symbol>, SyncError> {
    match selection {
        Selection::All => Ok(tracked.to_vec()),
        Selection::Markets(markets) => Ok(tracked.iter().filter(|s| markets.contains(&s.market())).cloned().collect()),
        Selection::Symbols(symbols) => {
            let untracked: Vec<Symbol> = symbols.iter().filter(|s| !tracked.contains(s)).cloned().collect();
            if !untracked.is_empty() {
                return Err(SyncError::NotTracked { symbols: untracked });
            }
            let mut seen = HashSet::new();
            Ok(symbols.iter().filter(|s| seen.insert(*s)).cloned().collect())
        }
    }
}

/// Why one provider could not serve one security.
enum AttemptError {
    /// The run was cancelled during a request.
    Cancelled,
    Provider(ProviderError),
    /// The answer arrived but must not be stored.
    Refused(String),
    /// The database failed; other providers would not help.
    Store(String),
}

fn kind_text(kind: ProviderErrorKind) -> &'static str {
    match kind {
        ProviderErrorKind::NotFound => "not found",
        ProviderErrorKind::Unsupported => "unsupported",
        ProviderErrorKind::Blocked => "blocked",
        ProviderErrorKind::Transient => "unavailable",
        ProviderErrorKind::Malformed => "malformed response",
    }
}

/// What every security of one run shares.
struct Run<'a> {
    fetcher: &'a dyn PriceFetcher,
    store: SharedStore,
    chains: ChainsConfig,
    /// Providers that sent a ban signal, in the order they were tripped.
    tripped: Mutex<Vec<ProviderName>>,
    today: NaiveDate,
    now: DateTime<Utc>,
    cancel: &'a CancellationToken,
}

impl Run<'_> {
    async fn sync_security(&self, planned: SecurityPlan) -> SecurityResult {
        let SecurityPlan { symbol, plan } = planned;
        let mut requests = 0;
        let outcome = match &plan {
            Plan::UpToDate => SecurityOutcome::UpToDate,
            Plan::Fetch(fetch_plan) => self.through_chain(&symbol, fetch_plan, &mut requests).await,
        };
        SecurityResult { symbol, outcome, requests }
    }

    fn is_tripped(&self, provider: ProviderName) -> bool {
        self.tripped.lock().unwrap_or_else(PoisonError::into_inner).contains(&provider)
    }

    fn trip(&self, provider: ProviderName, error: &ProviderError) {
        let mut tripped = self.tripped.lock().unwrap_or_else(PoisonError::into_inner);
        if !tripped.contains(&provider) {
            tripped.push(provider);
            tracing::warn!(%provider, symbol = %error.symbol, reason = error.message.as_str(), "provider tripped for the rest of this run");
        }
    }

    /// Tries the market's providers in order until one answer is stored.
    async fn through_chain(&self, symbol: &Symbol, plan: &FetchPlan, requests: &mut usize) -> SecurityOutcome {
        let chain = self.chains.for_market(symbol.market());
        let mut attempts = Vec::new();
        let mut last_tried = None;
        for &provider in chain {
            if self.is_tripped(provider) {
                attempts.push(format!("{provider}: skipped, blocked earlier in this run"));
                continue;
            }
            last_tried = Some(provider);
            match self.try_provider(symbol, plan, provider, requests).await {
                Ok(synced) => return SecurityOutcome::Synced(synced),
                Err(AttemptError::Cancelled) => return SecurityOutcome::Cancelled,
                Err(AttemptError::Provider(error)) => {
                    if error.kind == ProviderErrorKind::Blocked {
                        self.trip(provider, &error);
                    }
                    attempts.push(format!("{provider}: {}: {}", kind_text(error.kind), error.message));
                }
                Err(AttemptError::Refused(reason)) => attempts.push(format!("{provider}: {reason}")),
                Err(AttemptError::Store(reason)) => {
                    return SecurityOutcome::Failed(SyncFailure { symbol: symbol.clone(), provider: Some(provider), reason });
                }
            }
        }
        if chain.is_empty() {
            attempts.push(format!("no provider configured for the {} market", symbol.market()));
        }
        SecurityOutcome::Failed(SyncFailure {
            symbol: symbol.clone(),
            provider: last_tried.or_else(|| chain.last().copied()),
            reason: attempts.join("; "),
        })
    }

    /// Fetches from one provider, decides how to apply the answer and writes it.
    async fn try_provider(
        &self,
        symbol: &Symbol,
        plan: &FetchPlan,
        provider: ProviderName,
        requests: &mut usize,
    ) -> Result<Synced, AttemptError> {
        let (window, kind) = plan.request_for(provider);
        let fetched = self.fetch(provider, symbol, window, requests).await?;
        let (fetched, kind, refetch) = match plan.incremental_for(provider) {
            Some(incremental) if kind == FetchKind::Incremental => {
                match decide(kind, incremental.basis, fetched.basis, &incremental.stored_overlap, &fetched.bars) {
                    Apply::RefetchFull(reason) => {
                        tracing::info!(%symbol, %provider, %reason, "re-fetching the full history");
                        (self.fetch(provider, symbol, plan.full, requests).await?, FetchKind::Full, Some(reason))
                    }
                    Apply::Upsert | Apply::Replace => (fetched, kind, None),
                }
            }
            _ => (fetched, kind, None),
        };
        if kind == FetchKind::Full {
            check_full_history(&fetched, plan.stored_last)?;
        }
        let stats = self.write(symbol, fetched, kind, plan.listed_on).await?;
        Ok(Synced { provider, stats, full_history: kind == FetchKind::Full, refetch })
    }

    /// One request, abandoned when the run is cancelled, and validated before anything else
    /// looks at it.
    async fn fetch(
        &self,
        provider: ProviderName,
        symbol: &Symbol,
        window: Window,
        requests: &mut usize,
    ) -> Result<FetchedSeries, AttemptError> {
        let request = FetchRequest { symbol: symbol.clone(), from: window.from, to: window.to };
        *requests += 1;
        let fetched = tokio::select! {
            biased;
            () = self.cancel.cancelled() => return Err(AttemptError::Cancelled),
            result = self.fetcher.fetch(provider, &request) => result.map_err(AttemptError::Provider)?,
        };
        validate_series(&fetched.bars, self.today).map_err(|e| AttemptError::Refused(format!("response failed validation: {e}")))?;
        Ok(fetched)
    }

    /// Stores one security's answer in one transaction (replace for a full history, upsert
    /// otherwise), then its listing date when the provider told a new one.
    async fn write(
        &self,
        symbol: &Symbol,
        fetched: FetchedSeries,
        kind: FetchKind,
        stored_listed_on: Option<NaiveDate>,
    ) -> Result<WriteStats, AttemptError> {
        let (symbol, today, now) = (symbol.clone(), self.today, self.now);
        let store = Arc::clone(&self.store);
        let written = tokio::task::spawn_blocking(move || {
            let mut store = store.lock().unwrap_or_else(PoisonError::into_inner);
            let source = fetched.provider.as_str();
            let stats = match kind {
                FetchKind::Full => store.replace_bars(&symbol, &fetched.bars, source, fetched.basis, today, now),
                FetchKind::Incremental => store.upsert_bars(&symbol, &fetched.bars, source, fetched.basis, today, now),
            }?;
            if let Some(first_trade_date) = fetched.first_trade_date
                && stored_listed_on != Some(first_trade_date)
                && let Err(error) = store.set_listed_on(&symbol, first_trade_date)
            {
                // The bars are committed; the listing date only narrows a later full window.
                tracing::warn!(%symbol, %error, "cannot record the listing date");
            }
            Ok::<_, StoreError>(stats)
        })
        .await;
        match written {
            Ok(Ok(stats)) => Ok(stats),
            // The store's own gate refused the bars: the answer is at fault, not the database.
            Ok(Err(error @ (StoreError::InvalidBars { .. } | StoreError::Conflict(_)))) => {
                Err(AttemptError::Refused(format!("refused by the store: {error}")))
            }
            Ok(Err(error)) => Err(AttemptError::Store(format!("storing failed: {error}"))),
            Err(join_error) => Err(AttemptError::Store(format!("storing failed: {join_error}"))),
        }
    }
}

/// A full history replaces the stored series, so it must not be empty and must reach the last
/// stored date: a truncated answer would otherwise delete good bars.
fn check_full_history(fetched: &FetchedSeries, stored_last: Option<NaiveDate>) -> Result<(), AttemptError> {
    let fetched_last = fetched.bars.iter().map(|bar| bar.date).max();
    match (fetched_last, stored_last) {
        (None, _) => Err(AttemptError::Refused("returned no bars for the full history".to_string())),
        (Some(fetched_last), Some(stored_last)) if fetched_last < stored_last => Err(AttemptError::Refused(format!(
            "full history ends {fetched_last}, before the stored series ({stored_last}); keeping the stored series"
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
