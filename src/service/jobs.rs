//! What the jobs do, behind [`JobRunner`], so scheduling, overlap, catch-up and shutdown
//! can be tested with fake jobs. [`LibraryJobs`] is the real thing: it calls the same
//! library functions as the one-shot commands (`sync`, `report`, `verdict`) and adds
//! nothing of its own but printing and recording.

use std::future::Future;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::analysis::AnalysisError;
use crate::analysis::model::CurrencyMode;
use crate::config::Config;
use crate::ids::Week;
use crate::notify::Notifier;
use crate::pipeline::{self, AnalysisOptions, PipelineError, WeekSelection};
use crate::providers::Providers;
use crate::providers::instruments::{InstrumentSources, ListSegment};
use crate::ratings::BrokerBook;
use crate::report::{self, Format};
use crate::schedule::JobKind;
use crate::store::{Store, StoreError};
use crate::sync::{self, Selection, SyncError, SyncOptions};

/// One run of one job.
#[derive(Clone, Debug, PartialEq)]
pub struct JobRequest {
    pub job: JobKind,
    /// The scheduled time the run is for; `None` for an initial sync.
    pub scheduled_for: Option<DateTime<Utc>>,
    /// The run's clock reading.
    pub now: DateTime<Utc>,
    /// For the weekly summary: the ISO week to summarise.
    pub week: Option<Week>,
}

/// How a run ended, with job-specific counts recorded as JSON.
#[derive(Clone, Debug, PartialEq)]
pub struct JobOutcome {
    pub counts: serde_json::Value,
    pub status: JobStatus,
}

#[derive(Clone, Debug, PartialEq)]
pub enum JobStatus {
    Done,
    /// Done, but some parts failed (some symbols did not sync). Counts as a success for
    /// catch-up: one dead symbol must not make every start re-run the whole job.
    Partial {
        problems: String,
    },
    /// Nothing useful was done (every symbol failed).
    Failed {
        problems: String,
    },
    /// Stopped early by shutdown; what finished is stored.
    Cancelled,
    /// Nothing to do, for the reason given (a week without prices): recorded `skipped`,
    /// which data_health neither counts as a failure nor as a recovery.
    Skipped {
        reason: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Sync(#[from] SyncError),
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write the weekly files under {dir}: {source}")]
    Output { dir: PathBuf, source: std::io::Error },
    #[error("providers: {0}")]
    Providers(String),
    #[error("{0}")]
    Failed(String),
}

/// The bodies of the jobs. Implementations must stop soon after `cancel` fires, leaving
/// the database consistent (store writes are transactions, so stopping between them is).
pub trait JobRunner: Send + Sync + 'static {
    fn run(&self, request: JobRequest, cancel: CancellationToken) -> impl Future<Output = Result<JobOutcome, JobError>> + Send;

    /// After the first start's initial sync and summary: print every report's verdict, so
    /// a new user sees the product work.
    fn show_verdicts(&self, now: DateTime<Utc>) -> impl Future<Output = Result<(), JobError>> + Send;

    /// Queues the verdicts and rating changes not yet announced (at start-up; the sync jobs
    /// do it after each run). Returns how many messages were queued.
    fn announce(&self, _now: DateTime<Utc>) -> impl Future<Output = Result<usize, JobError>> + Send {
        async { Ok(0) }
    }
}

/// Where summaries and verdicts are printed: stdout in production, a buffer in tests.
#[derive(Clone)]
pub struct Output(Arc<Mutex<Box<dyn Write + Send>>>);

impl Output {
    pub fn stdout() -> Output {
        Output::new(std::io::stdout())
    }

    pub fn new(writer: impl Write + Send + 'static) -> Output {
        Output(Arc::new(Mutex::new(Box::new(writer))))
    }

    /// Prints one block of text whole, so concurrent writers never interleave lines.
    pub fn print(&self, text: &str) {
        let mut writer = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // A closed stdout (piped into `head`) must not stop the service.
        let _ = writer.write_all(text.as_bytes()).and_then(|_| writer.write_all(b"\n")).and_then(|_| writer.flush());
    }
}

/// The real jobs: `sync::run_sync` per market group, `pipeline::weekly` + `report` for the
/// summary, `pipeline::verdict` for the first start.
pub struct LibraryJobs {
    config: Arc<Config>,
    providers: Arc<Providers>,
    instrument_sources: Arc<InstrumentSources>,
    output: Output,
    /// Set when `[[notify.channels]]` are configured: jobs then queue their messages.
    notifier: Option<Arc<Notifier>>,
}

impl LibraryJobs {
    /// The real jobs. Notification secrets are read from the environment here (start-up):
    /// a missing variable is an error naming its config key.
    pub fn new(config: Config, output: Output) -> Result<LibraryJobs, JobError> {
        let providers = Providers::from_config(&config.providers).map_err(|e| JobError::Providers(e.to_string()))?;
        let instrument_sources = InstrumentSources::from_config(&config).map_err(|e| JobError::Providers(e.to_string()))?;
        let notifier = Notifier::from_config(&config.notify, |name| std::env::var(name).ok())
            .map_err(|e| JobError::Failed(e.to_string()))?
            .map(|notifier| notifier.with_public_url(&config.http.public_url));
        Ok(LibraryJobs {
            config: Arc::new(config),
            providers: Arc::new(providers),
            instrument_sources: Arc::new(instrument_sources),
            output,
            notifier: notifier.map(Arc::new),
        })
    }

    /// Queues, for every report, its final verdict or its rating changes when not yet
    /// announced; each announcement and its messages are one transaction.
    pub fn announce_reports(store: &mut Store, notifier: &Notifier, config: &Config, now: DateTime<Utc>) -> Result<usize, JobError> {
        let today = now.with_timezone(&config.timezone()).date_naive();
        let options = LibraryJobs::analysis_options(config);
        let mut queued = 0;
        for id in store.report_ids()? {
            let report = store.report(&id)?;
            if report.report_date > today {
                continue;
            }
            let verdict = match pipeline::verdict(store, &report, today, &options) {
                Ok(verdict) => verdict,
                Err(error) => {
                    tracing::warn!(report = %id, %error, "no verdict to announce yet");
                    continue;
                }
            };
            let render = report::RenderOptions::from_rule(&report.rule);
            let announcements =
                notifier.report_announcements(&verdict, &report.rule, &render, |key| store.announcement(key).ok().flatten(), now);
            for announcement in announcements {
                queued += store.announce(&announcement.key, &announcement.value, &announcement.rows, now)?;
                tracing::info!(report = %id, key = %announcement.key, value = %announcement.value, "announcement queued");
            }
        }
        Ok(queued)
    }

    /// The weekly security-master refresh: exactly what `instruments sync` runs.
    async fn sync_instruments(&self, request: &JobRequest, cancel: &CancellationToken) -> Result<JobOutcome, JobError> {
        let mut store = Store::open(&self.config.database.path)?;
        let summary = crate::sync::instruments::sync_instruments(
            &self.instrument_sources,
            &mut store,
            &ListSegment::ALL,
            request.now,
            cancel,
            &mut |_, _, _| {},
        )
        .await?;
        let totals = summary.totals();
        let failures = summary.failures();
        let counts = json!({
            "added": totals.added,
            "updated": totals.updated,
            "delisted": totals.delisted,
            "failed_markets": failures.len(),
        });
        let status = if summary.cancelled() {
            JobStatus::Cancelled
        } else if failures.is_empty() {
            JobStatus::Done
        } else if failures.len() == summary.segments.len() {
            JobStatus::Failed { problems: failures.join("; ") }
        } else {
            JobStatus::Partial { problems: failures.join("; ") }
        };
        Ok(JobOutcome { counts, status })
    }

    /// The daily ratings feed sync: exactly what `ratings sync` runs, over every watchlist
    /// company; skipped (recorded `skipped`) when `[ratings] enabled = false`. Stopping
    /// between companies is safe: each company is one transaction.
    async fn sync_ratings(&self, request: &JobRequest, cancel: &CancellationToken) -> Result<JobOutcome, JobError> {
        if !self.config.ratings.enabled {
            return Ok(JobOutcome {
                counts: json!({}),
                status: JobStatus::Skipped { reason: "ratings.enabled is false: nothing fetched".to_string() },
            });
        }
        let mut store = Store::open(&self.config.database.path)?;
        let today = self.config.schedule.timezone.date_of(request.now);
        let mut progress = |_: usize, _: usize, _: &crate::symbol::Symbol| {};
        // `broker_rating`: each newly stored rating's messages, queued in its company's
        // transaction. The broker book (for the rule of the word) is read only when a channel
        // lists the event.
        let notifier = self.notifier.as_deref().filter(|n| n.channels.for_event(crate::config::EventKind::BrokerRating).next().is_some());
        let book = match notifier {
            Some(_) => Self::broker_book(&self.config)?,
            None => crate::ratings::BrokerBook::default(),
        };
        let window = (today, self.config.ratings.announce_within_days);
        let announce = |record: &crate::ratings::RatingRecord| match notifier {
            Some(notifier) => notifier.broker_rating_rows(record, &book, window, request.now),
            None => Vec::new(),
        };
        let run = crate::sync::ratings::sync_ratings(&mut store, &self.config, None, (today, request.now), &announce, &mut progress);
        let report = tokio::select! {
            report = run => report.map_err(|e| JobError::Failed(e.to_string()))?,
            _ = cancel.cancelled() => return Ok(JobOutcome { counts: json!({}), status: JobStatus::Cancelled }),
        };
        let counts = json!({
            "companies": report.companies,
            "requests": report.requests,
            "new": report.inserted,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "skipped": report.skipped.len(),
            "failed_companies": report.failures.len(),
            "queued": report.queued,
        });
        let problems = || {
            let mut listed: Vec<String> = report.failures.iter().take(5).map(|(symbol, reason)| format!("{symbol}: {reason}")).collect();
            if report.failures.len() > listed.len() {
                listed.push(format!("and {} more", report.failures.len() - listed.len()));
            }
            format!("{} of {} companies not synced: {}", report.failures.len(), report.companies, listed.join("; "))
        };
        let status = if report.failures.is_empty() {
            JobStatus::Done
        } else if report.failures.len() >= report.companies {
            JobStatus::Failed { problems: problems() }
        } else {
            JobStatus::Partial { problems: problems() }
        };
        Ok(JobOutcome { counts, status })
    }

    /// The broker rules (`pipeline::broker_book`), for the weekly summary's new ratings.
    fn broker_book(config: &Config) -> Result<BrokerBook, JobError> {
        crate::pipeline::broker_book(&config.ratings).map_err(|error| JobError::Failed(error.to_string()))
    }

    fn analysis_options(config: &Config) -> AnalysisOptions {
        AnalysisOptions { currency: CurrencyMode::Cny, stale_after_trading_days: config.analysis.stale_after_trading_days }
    }

    async fn sync(&self, request: &JobRequest, cancel: &CancellationToken) -> Result<JobOutcome, JobError> {
        let options =
            SyncOptions { selection: Selection::Markets(request.job.markets().to_vec()), full: false, trigger: "service".to_string() };
        let summary = sync::run_sync(&self.config, &self.providers, &options, request.now, cancel).await?;
        let counts = json!({
            "sync_run_id": summary.run_id,
            "requested": summary.requested,
            "securities_updated": summary.securities_updated,
            "bars_written": summary.bars_written,
            "failures": summary.failures.len(),
            "deferred": summary.deferred.len(),
            "fell_back": summary.fell_back.len(),
        });
        let problems = || {
            if let Some(line) = summary.all_unreachable() {
                return line;
            }
            let not_synced: Vec<&sync::SyncFailure> = summary.failures.iter().chain(&summary.deferred).collect();
            let mut listed: Vec<String> = not_synced.iter().take(5).map(|f| format!("{}: {}", f.symbol, f.reason)).collect();
            if not_synced.len() > listed.len() {
                listed.push(format!("and {} more (see `ratingwatch status`)", not_synced.len() - listed.len()));
            }
            format!("{} of {} securities not synced: {}", not_synced.len(), summary.requested, listed.join("; "))
        };
        let status = if summary.cancelled {
            JobStatus::Cancelled
        } else if summary.not_synced() == 0 {
            JobStatus::Done
        } else if summary.not_synced() >= summary.requested {
            JobStatus::Failed { problems: problems() }
        } else {
            JobStatus::Partial { problems: problems() }
        };
        Ok(JobOutcome { counts, status })
    }

    /// Summarises every report for `week`, prints each summary, writes its files and
    /// records it. One report's failure does not stop the others.
    async fn weekly(&self, request: &JobRequest) -> Result<JobOutcome, JobError> {
        let week = request.week.ok_or_else(|| JobError::Failed("the weekly summary needs a week".to_string()))?;
        let config = self.config.clone();
        let output = self.output.clone();
        let notifier = self.notifier.clone();
        let now = request.now;
        let task = tokio::task::spawn_blocking(move || -> Result<JobOutcome, JobError> {
            let mut store = Store::open(&config.database.path)?;
            let selection = WeekSelection::Week(week);
            let options = LibraryJobs::analysis_options(&config);
            // Read at each run, so an edited `ratings.brokers_file` counts from the next summary.
            let book = LibraryJobs::broker_book(&config)?;
            let mut written = 0usize;
            let mut problems = Vec::new();
            let mut no_prices = Vec::new();
            let mut finished = Vec::new();
            let report_ids = store.report_ids()?;
            for id in &report_ids {
                let result = (|| -> Result<Result<Option<usize>, String>, JobError> {
                    let report = store.report(id)?;
                    // A report's life ends with its verdict: a week starting after its horizon
                    // end (the week containing it still counts) gets no summary, unless
                    // `schedule.weekly_after_horizon`. Nothing is written, recorded or queued.
                    if !config.schedule.weekly_after_horizon && week_after_horizon(week, report.horizon_end()) {
                        tracing::info!(
                            report = %id,
                            week = %week,
                            horizon_end = %report.horizon_end(),
                            "weekly summary not written: the report's horizon has ended (its final verdict is announced once; schedule.weekly_after_horizon = true keeps the summaries)"
                        );
                        return Ok(Ok(None));
                    }
                    // A week without a benchmark close has no summary (`pipeline::weekly`'s
                    // rule): nothing is written, recorded or queued for it.
                    let summary = match pipeline::weekly(&store, &report, &selection, &options, &book) {
                        Err(PipelineError::Analysis(AnalysisError::NoPricesInWeek {
                            week_start,
                            week_end,
                            benchmark_name,
                            latest_close,
                            ..
                        })) => {
                            let reason = match market_closed_week(&store, &report.rule.benchmark, week)? {
                                Some(next_close) => format!(
                                    "no prices in week {week} for report {id}: market closed ({benchmark_name} has no close from {week_start} to {week_end}; its next close is {next_close}); no summary for this week"
                                ),
                                None => format!(
                                    "no prices in week {week} for report {id}: market closed or prices not synced (the latest close of {benchmark_name} is {latest_close}); retried once prices arrive"
                                ),
                            };
                            tracing::info!(report = %id, week = %week, "weekly summary skipped: {reason}");
                            return Ok(Err(reason));
                        }
                        other => other?,
                    };
                    // The chart's bands and labels come from this report's own rule.
                    let render = report::RenderOptions::from_rule(&report.rule);
                    output.print(&report::render_weekly_with(&summary, Format::Table, &render));
                    let files = report::write_weekly_files_with(&config.output.dir, &summary, &render)
                        .map_err(|source| JobError::Output { dir: config.output.dir.clone(), source })?;
                    let names: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
                    // The summary's messages are queued in the transaction that records it.
                    let rows = notifier.as_ref().map(|n| n.weekly_rows(&summary, &render, None, now)).unwrap_or_default();
                    store.record_weekly_summary_and_notify(id, &summary.week.to_string(), summary.as_of, &names, &rows, now)?;
                    tracing::info!(report = %id, week = %summary.week, files = ?names, "weekly summary written");
                    Ok(Ok(Some(files.len())))
                })();
                match result {
                    Ok(Ok(Some(files))) => written += files,
                    Ok(Ok(None)) => finished.push(id.clone()),
                    Ok(Err(reason)) => no_prices.push(reason),
                    Err(error) => problems.push(format!("{id}: {error}")),
                }
            }
            let mut counts = json!({ "reports": report_ids.len(), "failed_reports": problems.len(), "files": written });
            if !no_prices.is_empty() {
                counts["no_prices_reports"] = json!(no_prices.len());
            }
            if !finished.is_empty() {
                counts["finished"] = json!(finished);
            }
            // A finished report counts as done, not skipped: a week of only finished reports
            // is a successful run, not retried after each sync.
            let summarised = report_ids.len() - problems.len() - no_prices.len();
            let status = match (problems.len(), no_prices.len()) {
                (0, 0) => JobStatus::Done,
                // Every report skipped for want of prices: nothing failed, nothing was done.
                (0, _) if summarised == 0 => JobStatus::Skipped { reason: no_prices.join("; ") },
                _ if summarised == 0 => {
                    JobStatus::Failed { problems: problems.into_iter().chain(no_prices).collect::<Vec<_>>().join("; ") }
                }
                _ => JobStatus::Partial { problems: problems.into_iter().chain(no_prices).collect::<Vec<_>>().join("; ") },
            };
            Ok(JobOutcome { counts, status })
        });
        task.await.map_err(|e| JobError::Failed(format!("the weekly summary task failed: {e}")))?
    }
}

/// Whether `week` starts after the horizon end (the pipeline's rule, so the archive agrees).
pub use crate::pipeline::week_after_horizon;

/// Whether `week` is one the market was closed for (the summary is retried, at catch-up,
/// until a later close shows which it was): the pipeline's rule, so the CLI says the same.
pub use crate::pipeline::market_closed_week;

impl JobRunner for LibraryJobs {
    async fn run(&self, request: JobRequest, cancel: CancellationToken) -> Result<JobOutcome, JobError> {
        let outcome = match request.job {
            JobKind::SyncInstruments => return self.sync_instruments(&request, &cancel).await,
            JobKind::SyncRatings => return self.sync_ratings(&request, &cancel).await,
            job if job.is_sync() => self.sync(&request, &cancel).await?,
            _ => return self.weekly(&request).await,
        };
        if outcome.status != JobStatus::Cancelled
            && let Err(error) = self.announce(request.now).await
        {
            tracing::warn!(%error, "cannot queue the verdict and rating-change announcements");
        }
        Ok(outcome)
    }

    async fn announce(&self, now: DateTime<Utc>) -> Result<usize, JobError> {
        let Some(notifier) = self.notifier.clone() else { return Ok(0) };
        let config = self.config.clone();
        let task = tokio::task::spawn_blocking(move || -> Result<usize, JobError> {
            let mut store = Store::open(&config.database.path)?;
            LibraryJobs::announce_reports(&mut store, &notifier, &config, now)
        });
        task.await.map_err(|e| JobError::Failed(format!("the announcement task failed: {e}")))?
    }

    async fn show_verdicts(&self, now: DateTime<Utc>) -> Result<(), JobError> {
        let config = self.config.clone();
        let output = self.output.clone();
        let task = tokio::task::spawn_blocking(move || -> Result<(), JobError> {
            let store = Store::open(&config.database.path)?;
            let today = config.schedule.timezone.date_of(now);
            let options = LibraryJobs::analysis_options(&config);
            // One report without enough prices does not hide the others' verdicts.
            let mut problems = Vec::new();
            for id in store.report_ids()? {
                let verdict = store.report(&id).map_err(PipelineError::from).and_then(|report| {
                    Ok((pipeline::verdict(&store, &report, today, &options)?, report::RenderOptions::from_rule(&report.rule)))
                });
                match verdict {
                    Ok((verdict, render)) => output.print(&report::render_verdict_with(&verdict, Format::Table, &render)),
                    Err(error) => problems.push(format!("{id}: {error}")),
                }
            }
            if problems.is_empty() { Ok(()) } else { Err(JobError::Failed(problems.join("; "))) }
        });
        task.await.map_err(|e| JobError::Failed(format!("the verdict task failed: {e}")))?
    }
}
