//! Sync orchestration: decide what to fetch, fetch through the provider chains, apply to the
//! store. The CLI `sync` command and the service's sync jobs call [`run_sync`].
//!
//! Fetch → decide → apply:
//! - [`plan`] decides each security's request windows from its stored state and the market's
//!   latest completed session ([`calendar`]); a security holding that session needs nothing (pure).
//! - Sticky providers: a security with a stored series asks only the provider that series came
//!   from. When that provider fails it, the security is deferred to the next run (recorded and
//!   named); it switches to the rest of its chain only when the provider does not know the
//!   symbol, or after `sync.switch_after_runs` consecutive failing runs. A security without a
//!   stored series walks its market's chain in config order; when a later provider answers,
//!   why the earlier ones failed is recorded (`fell_back`).
//! - A circuit breaker per provider ([`breaker`]): `sync.breaker_threshold` consecutive
//!   failures across securities open it, a probe after `sync.breaker_cooldown_secs` closes it.
//! - An incremental answer with no bars at all, for a window holding stored sessions, is a
//!   failure of that provider (a throttled empty answer), never "0 added".
//! - [`decide`] chooses how an incremental answer is applied (pure): upserted, unless the
//!   overlap shows a re-based adjusted history; a full history always replaces the series.
//! - The store writes each security in one transaction.
//!
//! Invariants:
//! - One adjusted series per security: an answer from a provider other than the stored
//!   series' source is always a full history and replaces the series whole.
//! - Nothing fails validation and still reaches the store; a failed provider never touches
//!   stored bars; a full answer that ends before the stored series is refused.
//! - The SQLite connection is only used inside `spawn_blocking`, never across an `.await`.
//! - The clock is read once, by the caller (`now`); the run's finish time is `now` plus the
//!   monotonic time elapsed, and breaker cool-downs use the monotonic clock.

mod breaker;
pub mod calendar;
mod decide;
pub mod instruments;
mod plan;
mod progress;
pub mod ratings;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio_util::sync::CancellationToken;

use crate::config::{ChainsConfig, Config};
use crate::prices::validate_series;
use crate::providers::{FetchRequest, FetchedSeries, ProviderError, ProviderErrorKind, ProviderName, Providers};
use crate::store::{SeriesWrite, Store, StoreError, WriteStats};
use crate::symbol::{Market, Symbol};

pub use breaker::CircuitReport;
use breaker::{Breakers, Permit};
pub use decide::{Apply, PRICE_TOLERANCE, RefetchReason, adjusted_history_rebased, decide};
pub use plan::{
    FetchKind, FetchPlan, IncrementalWindow, MarketSessions, Plan, PlanSettings, SecurityPlan, Window, default_history_start, is_current,
    plan_security,
};
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

/// A security the run did not sync, or a provider it passed over, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct SyncFailure {
    pub symbol: Symbol,
    /// The provider that failed (for a failure, the last one tried; for a fallback, the one
    /// that answered in the end).
    pub provider: Option<ProviderName>,
    /// What went wrong with each provider tried, in the order tried.
    pub reason: String,
    /// Every provider tried could not be reached at all (or was skipped as unreachable):
    /// reported once for the run rather than per security.
    pub unreachable: bool,
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
    /// Securities not synced after every provider allowed was tried.
    pub failures: Vec<SyncFailure>,
    /// Securities whose own provider failed them this run: left for the next run, provider
    /// kept (see `sync.switch_after_runs`).
    pub deferred: Vec<SyncFailure>,
    /// Securities stored from a later provider of the chain; `reason` says why the earlier
    /// ones failed, `provider` is the one that answered.
    pub fell_back: Vec<SyncFailure>,
    /// The run stopped early because `cancel` fired; finished securities are stored.
    pub cancelled: bool,
    /// Securities that synced, whether or not anything changed.
    pub securities_synced: usize,
    /// Securities that needed no request (they hold their market's latest completed session).
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
    /// Providers whose circuit breaker opened during the run.
    pub circuits: Vec<CircuitReport>,
    /// Securities not finished because the run was cancelled.
    pub not_finished: usize,
}

impl SyncSummary {
    /// `ok`, `partial`, `failed` or `interrupted`, as recorded with the run.
    pub fn outcome(&self) -> &'static str {
        if self.cancelled {
            "interrupted"
        } else if self.failures.is_empty() && self.deferred.is_empty() {
            "ok"
        } else if self.securities_synced == 0 && self.up_to_date == 0 {
            "failed"
        } else {
            "partial"
        }
    }

    /// Securities not synced: failed or deferred.
    pub fn not_synced(&self) -> usize {
        self.failures.len() + self.deferred.len()
    }

    /// When nothing synced because no provider could be reached at all, one line saying so
    /// (instead of one line per security).
    pub fn all_unreachable(&self) -> Option<String> {
        let problems: Vec<&SyncFailure> = self.failures.iter().chain(&self.deferred).collect();
        if problems.is_empty() || self.securities_synced > 0 || !problems.iter().all(|f| f.unreachable) {
            return None;
        }
        let providers: Vec<&CircuitReport> = self.circuits.iter().filter(|c| c.unreachable).collect();
        let names: Vec<&str> = providers.iter().map(|c| c.provider.as_str()).collect();
        let cause = providers.first().map(|c| format!(" ({})", c.last_failure)).unwrap_or_default();
        Some(format!(
            "every provider is unreachable: {}{cause}; {} securities not synced. Check the network, or providers.<name>.base_url",
            if names.is_empty() { "none answered".to_string() } else { names.join(", ") },
            problems.len(),
        ))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
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

    let run = Run {
        fetcher,
        store: Arc::clone(&store),
        chains,
        breakers: Breakers::new(config.sync.breaker_threshold, Duration::from_secs(config.sync.breaker_cooldown_secs)),
        streaks: prepared.streaks,
        switch_after_runs: config.sync.switch_after_runs.max(1),
        today,
        now,
        cancel,
    };
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
        let (run_id, recorded) = (summary.run_id, result.clone());
        // The other securities still deserve their sync; the summary carries the outcome.
        if let Err(error) = with_store(&store, move |store| record_outcome(store, run_id, &recorded)).await {
            tracing::error!(%error, "cannot record a security's sync outcome");
        }
        summary.count(&result);
        progress.security_done(&result);
    }
    summary.not_finished += pending.len();
    summary.cancelled = summary.not_finished > 0;
    summary.circuits = run.breakers.report();

    let finished_at = now + chrono::Duration::from_std(started.elapsed()).unwrap_or_default();
    let recorded = summary.clone();
    with_store(&store, move |store| {
        Ok(store.finish_sync_run(
            recorded.run_id,
            recorded.outcome(),
            recorded.securities_updated,
            recorded.bars_written,
            recorded.not_synced(),
            finished_at,
        )?)
    })
    .await?;
    progress.finished(&summary);
    Ok(summary)
}

/// Writes what one security's sync needs remembered: failures and deferrals, why earlier
/// providers were passed over, and the count of failing runs of its own provider.
fn record_outcome(store: &mut Store, run_id: i64, result: &SecurityResult) -> Result<(), SyncError> {
    let symbol = result.symbol.to_string();
    if let Some((provider, reason)) = &result.own_provider_failed {
        store.record_provider_failure(&symbol, provider.as_str(), run_id, reason)?;
    }
    match &result.outcome {
        SecurityOutcome::Synced(synced) => {
            for (provider, reason) in &synced.fell_back_from {
                store.record_sync_failure(run_id, &symbol, Some(provider.as_str()), reason, "fell_back")?;
            }
            store.clear_provider_streaks(&symbol)?;
        }
        SecurityOutcome::Deferred(failure) => {
            store.record_sync_failure(run_id, &symbol, failure.provider.map(ProviderName::as_str), &failure.reason, "deferred")?;
        }
        SecurityOutcome::Failed(failure) => {
            store.record_sync_failure(run_id, &symbol, failure.provider.map(ProviderName::as_str), &failure.reason, "failed")?;
        }
        SecurityOutcome::UpToDate | SecurityOutcome::Cancelled => {}
    }
    Ok(())
}

/// What happened to one security.
#[derive(Clone, Debug, PartialEq)]
pub struct SecurityResult {
    pub symbol: Symbol,
    pub outcome: SecurityOutcome,
    /// Requests sent for it, including failed attempts.
    pub requests: usize,
    /// The provider of its stored series failed it this run, and why (counted towards
    /// `sync.switch_after_runs`).
    pub own_provider_failed: Option<(ProviderName, String)>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SecurityOutcome {
    Synced(Synced),
    /// Nothing to request.
    UpToDate,
    /// Its own provider failed it; left for the next run with the provider kept.
    Deferred(SyncFailure),
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
    /// Providers tried before `provider` in this run, and why each failed.
    pub fell_back_from: Vec<(ProviderName, String)>,
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
                if !synced.fell_back_from.is_empty() {
                    let reasons: Vec<String> = synced.fell_back_from.iter().map(|(_, reason)| reason.clone()).collect();
                    self.fell_back.push(SyncFailure {
                        symbol: result.symbol.clone(),
                        provider: Some(synced.provider),
                        reason: reasons.join("; "),
                        unreachable: false,
                    });
                }
            }
            SecurityOutcome::UpToDate => self.up_to_date += 1,
            SecurityOutcome::Deferred(failure) => self.deferred.push(failure.clone()),
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
    /// Consecutive failing runs per security and provider.
    streaks: HashMap<(Symbol, ProviderName), u32>,
}

/// Reads what the plans need, plans every selected security and opens the run record.
fn prepare(
    store: &mut Store,
    options: &SyncOptions,
    sync_config: &crate::config::SyncConfig,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Prepared, SyncError> {
    let tracked = store.tracked_symbols()?;
    let symbols = select(&tracked, &options.selection)?;
    let history_start = match sync_config.history_start {
        Some(date) => date,
        None => default_history_start(store.earliest_report_date()?, today),
    };
    let settings = PlanSettings { today, now, history_start, overlap_days: sync_config.overlap_days, full: options.full };
    // Every tracked security's state: the latest stored session of each market's calendar
    // (the benchmark's and every other security's) tells a holiday from a missing bar.
    let mut states = HashMap::with_capacity(tracked.len());
    for symbol in &tracked {
        states.insert(symbol.clone(), store.security_state(symbol)?);
    }
    let sessions = |market: Market| {
        let same: Vec<&crate::store::SecurityState> =
            states.values().filter(|s| calendar::same_calendar(s.symbol.market(), market)).collect();
        let latest = same.iter().filter_map(|s| s.bars.map(|b| b.last)).max();
        let latest_seen_at = same
            .iter()
            .filter(|s| s.bars.map(|b| b.last) == latest)
            .filter_map(|s| s.last_fetch.as_ref().filter(|(source, _)| ProviderName::parse(source).is_some()).map(|(_, at)| *at))
            .max();
        MarketSessions { latest, latest_seen_at }
    };
    let by_market: HashMap<Market, MarketSessions> =
        [Market::Sh, Market::Sz, Market::Hk, Market::Us, Market::Fx].into_iter().map(|m| (m, sessions(m))).collect();
    let mut plans = Vec::with_capacity(symbols.len());
    for symbol in symbols {
        let state = match states.get(&symbol) {
            Some(state) => state.clone(),
            None => store.security_state(&symbol)?,
        };
        let mut plan = plan_security(&state, &settings, &by_market.get(&symbol.market()).copied().unwrap_or_default());
        if let Plan::Fetch(FetchPlan { incremental: Some(incremental), .. }) = &mut plan {
            incremental.stored_overlap = store.bars(&symbol, incremental.window.from, incremental.window.to)?;
        }
        plans.push(SecurityPlan { symbol, plan });
    }
    let streaks = store
        .provider_streaks()?
        .into_iter()
        .filter_map(|streak| Some(((Symbol::parse(&streak.symbol).ok()?, ProviderName::parse(&streak.provider)?), streak.failed_runs)))
        .collect();
    let run_id = store.begin_sync_run(&options.trigger, plans.len(), now)?;
    Ok(Prepared { run_id, plans, streaks })
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
    /// An incremental answer without a single bar for a window holding stored sessions.
    Empty(String),
    /// The provider's circuit is open; no request was sent.
    CircuitOpen {
        reason: String,
        unreachable: bool,
    },
    /// The database failed; other providers would not help.
    Store(String),
}

impl AttemptError {
    /// The text recorded for this provider.
    fn describe(&self) -> String {
        match self {
            AttemptError::Cancelled => "cancelled".to_string(),
            AttemptError::Provider(error) => format!("{}: {}", kind_text(error.kind), error.message),
            AttemptError::Refused(reason) | AttemptError::Empty(reason) | AttemptError::Store(reason) => reason.clone(),
            AttemptError::CircuitOpen { reason, .. } => reason.clone(),
        }
    }

    /// The provider does not serve this symbol: waiting for the next run would not help.
    fn leaves_at_once(&self) -> bool {
        matches!(self, AttemptError::Provider(error) if matches!(error.kind, ProviderErrorKind::NotFound | ProviderErrorKind::Unsupported))
    }

    fn unreachable(&self) -> bool {
        match self {
            AttemptError::Provider(error) => error.kind == ProviderErrorKind::Unreachable,
            AttemptError::CircuitOpen { unreachable, .. } => *unreachable,
            _ => false,
        }
    }

    /// How the breaker counts it.
    fn breaker_outcome(&self) -> breaker::Outcome {
        match self {
            AttemptError::Cancelled => breaker::Outcome::Abandoned,
            AttemptError::Store(_) | AttemptError::CircuitOpen { .. } => breaker::Outcome::Neutral,
            _ if self.leaves_at_once() => breaker::Outcome::Neutral,
            _ => breaker::Outcome::Failure { reason: self.describe(), unreachable: self.unreachable() },
        }
    }
}

fn kind_text(kind: ProviderErrorKind) -> &'static str {
    match kind {
        ProviderErrorKind::NotFound => "not found",
        ProviderErrorKind::Unsupported => "unsupported",
        ProviderErrorKind::Blocked => "blocked",
        ProviderErrorKind::Unreachable => "unreachable",
        ProviderErrorKind::Transient => "unavailable",
        ProviderErrorKind::Malformed => "malformed response",
    }
}

/// What every security of one run shares.
struct Run<'a> {
    fetcher: &'a dyn PriceFetcher,
    store: SharedStore,
    chains: ChainsConfig,
    breakers: Breakers,
    /// Consecutive failing runs per security and provider, before this run.
    streaks: HashMap<(Symbol, ProviderName), u32>,
    switch_after_runs: u32,
    today: NaiveDate,
    now: DateTime<Utc>,
    cancel: &'a CancellationToken,
}

impl Run<'_> {
    async fn sync_security(&self, planned: SecurityPlan) -> SecurityResult {
        let SecurityPlan { symbol, plan } = planned;
        let mut requests = 0;
        let (outcome, own_provider_failed) = match &plan {
            Plan::UpToDate => (SecurityOutcome::UpToDate, None),
            Plan::Fetch(fetch_plan) => self.through_chain(&symbol, fetch_plan, &mut requests).await,
        };
        SecurityResult { symbol, outcome, requests, own_provider_failed }
    }

    /// The provider a security sticks with: the one its stored series came from, when that
    /// provider is in the market's chain.
    fn sticky(&self, symbol: &Symbol, plan: &FetchPlan) -> Option<ProviderName> {
        let provider = ProviderName::parse(plan.source.as_deref()?)?;
        self.chains.for_market(symbol.market()).contains(&provider).then_some(provider)
    }

    /// Asks the security's own provider; then, when it has none or may leave it, the market's
    /// chain in order until one answer is stored.
    async fn through_chain(
        &self,
        symbol: &Symbol,
        plan: &FetchPlan,
        requests: &mut usize,
    ) -> (SecurityOutcome, Option<(ProviderName, String)>) {
        let chain = self.chains.for_market(symbol.market());
        let mut attempts: Vec<(ProviderName, AttemptError)> = Vec::new();
        let mut own_provider_failed = None;
        let sticky = self.sticky(symbol, plan);
        if let Some(provider) = sticky {
            match self.attempt(symbol, plan, provider, requests).await {
                Ok(synced) => return (SecurityOutcome::Synced(synced), None),
                Err(AttemptError::Cancelled) => return (SecurityOutcome::Cancelled, None),
                Err(AttemptError::Store(reason)) => return (self.failed(symbol, provider, reason, false), None),
                Err(error) => {
                    let reason = format!("{provider}: {}", error.describe());
                    own_provider_failed = Some((provider, reason.clone()));
                    let failed_runs = self.streaks.get(&(symbol.clone(), provider)).copied().unwrap_or(0) + 1;
                    if decide::after_own_provider_failed(failed_runs, self.switch_after_runs, !error.leaves_at_once())
                        == decide::OwnProviderFailed::Defer
                    {
                        let deferred = SyncFailure {
                            symbol: symbol.clone(),
                            provider: Some(provider),
                            reason: format!(
                                "{reason}; kept for the next run ({provider} failed it {failed_runs} run{} in a row; it moves to another provider after {})",
                                if failed_runs == 1 { "" } else { "s" },
                                self.switch_after_runs
                            ),
                            unreachable: error.unreachable(),
                        };
                        return (SecurityOutcome::Deferred(deferred), own_provider_failed);
                    }
                    tracing::info!(%symbol, %provider, failed_runs, reason = reason.as_str(), "switching provider");
                    attempts.push((provider, error));
                }
            }
        }
        for &provider in chain.iter().filter(|p| Some(**p) != sticky) {
            match self.attempt(symbol, plan, provider, requests).await {
                Ok(mut synced) => {
                    synced.fell_back_from = attempts.iter().map(|(p, error)| (*p, format!("{p}: {}", error.describe()))).collect();
                    if !synced.fell_back_from.is_empty() {
                        let reasons: Vec<&str> = synced.fell_back_from.iter().map(|(_, reason)| reason.as_str()).collect();
                        tracing::info!(%symbol, %provider, why = reasons.join("; ").as_str(), "fell back");
                    }
                    return (SecurityOutcome::Synced(synced), own_provider_failed);
                }
                Err(AttemptError::Cancelled) => return (SecurityOutcome::Cancelled, own_provider_failed),
                Err(AttemptError::Store(reason)) => return (self.failed(symbol, provider, reason, false), own_provider_failed),
                Err(error) => attempts.push((provider, error)),
            }
        }
        let mut reasons: Vec<String> = attempts.iter().map(|(p, error)| format!("{p}: {}", error.describe())).collect();
        if chain.is_empty() {
            reasons.push(format!("no provider configured for the {} market", symbol.market()));
        }
        let unreachable = !attempts.is_empty() && attempts.iter().all(|(_, error)| error.unreachable());
        let last = attempts.last().map(|(p, _)| *p).or_else(|| chain.last().copied());
        let failure = SyncFailure { symbol: symbol.clone(), provider: last, reason: reasons.join("; "), unreachable };
        (SecurityOutcome::Failed(failure), own_provider_failed)
    }

    fn failed(&self, symbol: &Symbol, provider: ProviderName, reason: String, unreachable: bool) -> SecurityOutcome {
        SecurityOutcome::Failed(SyncFailure { symbol: symbol.clone(), provider: Some(provider), reason, unreachable })
    }

    /// One provider for one security, through its circuit breaker: fetches, decides how to
    /// apply the answer and writes it.
    async fn attempt(
        &self,
        symbol: &Symbol,
        plan: &FetchPlan,
        provider: ProviderName,
        requests: &mut usize,
    ) -> Result<Synced, AttemptError> {
        let permit = self.breakers.permit(provider, Instant::now());
        if let Permit::Skip(reason) = permit {
            return Err(AttemptError::CircuitOpen { reason, unreachable: self.breakers.is_unreachable(provider) });
        }
        let result: Result<Synced, AttemptError> = async {
            let (window, kind) = plan.request_for(provider);
            let fetched = self.fetch(provider, symbol, window, requests).await?;
            let (fetched, kind, refetch) = match plan.incremental_for(provider) {
                Some(incremental) if kind == FetchKind::Incremental => {
                    check_incremental_answer(&fetched, incremental, plan.market_latest)?;
                    match decide(incremental.basis, fetched.basis, &incremental.stored_overlap, &fetched.bars) {
                        Apply::RefetchFull(reason) => {
                            tracing::info!(%symbol, %provider, %reason, "re-fetching the full history");
                            (self.fetch(provider, symbol, plan.full, requests).await?, FetchKind::Full, Some(reason))
                        }
                        Apply::Upsert => (fetched, kind, None),
                    }
                }
                _ => (fetched, kind, None),
            };
            if kind == FetchKind::Full {
                check_full_history(&fetched, plan.stored_last)?;
            }
            let stats = self.write(symbol, fetched, kind, plan.listed_on).await?;
            Ok(Synced { provider, stats, full_history: kind == FetchKind::Full, refetch, fell_back_from: Vec::new() })
        }
        .await;
        let outcome = match &result {
            Ok(_) => breaker::Outcome::Success,
            Err(error) => error.breaker_outcome(),
        };
        self.breakers.record(provider, &permit, outcome, Instant::now());
        result
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
            let series = SeriesWrite::new(&symbol, &fetched.bars, source, fetched.basis, today, now);
            let stats = match kind {
                FetchKind::Full => store.replace_bars(&series),
                FetchKind::Incremental => store.upsert_bars(&series),
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

/// An incremental window always reaches back over stored bars (the overlap), so a real answer
/// is never empty: no bars at all is a throttled or broken answer (Eastmoney `klines: []`, a
/// Yahoo chart without timestamps, an empty Tencent array), not "nothing new".
fn check_incremental_answer(
    fetched: &FetchedSeries,
    incremental: &IncrementalWindow,
    market_latest: Option<NaiveDate>,
) -> Result<(), AttemptError> {
    if !fetched.bars.is_empty() {
        return Ok(());
    }
    let Window { from, to } = incremental.window;
    let stored = incremental.stored_overlap.len();
    let market_traded = market_latest.filter(|latest| (from..=to).contains(latest));
    match (stored, market_traded) {
        (0, None) => Ok(()),
        (0, Some(latest)) => Err(AttemptError::Empty(format!(
            "empty answer for {from} to {to}, though the market traded on {latest} (stored for other securities)"
        ))),
        (stored, _) => Err(AttemptError::Empty(format!(
            "empty answer for {from} to {to}, a range holding {stored} stored session{}",
            if stored == 1 { "" } else { "s" }
        ))),
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
