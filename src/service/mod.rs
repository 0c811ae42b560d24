//! The background service behind `ratingwatch serve`: scheduled syncs and weekly summaries,
//! catch-up from recorded state, one run at a time, clean shutdown.
//!
//! The service adds scheduling and nothing else: job bodies are library functions (see
//! [`jobs::LibraryJobs`]), the same ones the one-shot commands run.
//!
//! Invariants:
//! - Every run is a row in `job_runs` (job, scheduled-for, started, finished, outcome,
//!   counts, error), including skipped ones; that table is the service's whole memory, so
//!   a restart or a wake-up catches up from it. A cron tick and a catch-up take the same
//!   path, `run_due(now)`, and one pure function decides what runs ([`schedule::plan_due`]).
//! - Jobs run one at a time (a FIFO lane): a sync and a summary never interleave, so a
//!   summary always sees whole sync runs, and every sync shares one set of rate limits. A
//!   job that fires while the same job is still running or queued is skipped and recorded
//!   `skipped`; a different job waits its turn.
//! - tokio-cron-scheduler only fires ticks; in-flight work is tracked here with a
//!   `TaskTracker`, because its `shutdown()` returns while jobs still run. It also never
//!   replays missed ticks and fixes each job's UTC offset at creation, hence the catch-up
//!   and the re-creation of jobs when the zone's offset changes (DST).
//! - On shutdown no new run starts; a running job gets `service.grace_period_secs` to
//!   finish, then its cancellation token fires (sync stops between securities, each of
//!   which is one transaction), and after [`ServiceOptions::cancel_wait`] more it is
//!   abandoned and recorded `cancelled`.
//! - One `serve` per database ([`lock::InstanceLock`]); CLI commands work beside it.
//! - The wall clock is read only through [`Clock`].

pub mod jobs;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::OwnedMutexGuard;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_cron_scheduler::{Job, JobScheduler, JobSchedulerError};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, error, info, warn};

use crate::catalog::{self, CatalogError};
use crate::clock::Clock;
use crate::config::Config;
use crate::lock::{self, InstanceLock, LockError};
use crate::notify::{Notifier, Sender, SenderOptions};
use crate::schedule::{self, JobKind, ScheduleError, Schedules};
use crate::status::{self, Liveness};
use crate::store::{JobRunOutcome, Store, StoreError};
pub use jobs::{JobError, JobOutcome, JobRequest, JobRunner, JobStatus, LibraryJobs, Output, load_broker_book};

/// Knobs that are not user configuration.
#[derive(Clone, Debug)]
pub struct ServiceOptions {
    /// How often the wall clock is compared with the monotonic clock to notice a wake-up
    /// from suspend (and a DST change).
    pub watch_interval: Duration,
    /// How long a job may take to stop after its cancellation token fires before it is
    /// abandoned. systemd's `TimeoutStopSec` must exceed the grace period plus this.
    pub cancel_wait: Duration,
}

impl Default for ServiceOptions {
    fn default() -> Self {
        ServiceOptions { watch_interval: Duration::from_secs(30), cancel_wait: Duration::from_secs(10) }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error("scheduler: {0}")]
    Scheduler(String),
    #[error("a database task failed: {0}")]
    Task(String),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Notify(#[from] crate::notify::NotifyError),
}

impl From<JobSchedulerError> for ServiceError {
    fn from(error: JobSchedulerError) -> Self {
        ServiceError::Scheduler(format!("{error:?}"))
    }
}

/// Runs the service until `shutdown` is cancelled, then stops cleanly and returns `Ok`.
pub async fn run<R: JobRunner>(
    config: &Config,
    runner: Arc<R>,
    options: ServiceOptions,
    shutdown: CancellationToken,
    clock: Arc<dyn Clock>,
) -> Result<(), ServiceError> {
    run_observed(config, runner, options, shutdown, clock, Liveness::new()).await
}

/// [`run`], reporting the scheduler's liveness to `liveness` (for `/healthz`).
///
/// Start-up: check the schedules (errors name the config key), take the single-instance
/// lock, open and migrate the database, load the reports folder into an empty database,
/// mark runs left `running` by a killed process as cancelled, start the scheduler, then
/// catch up: on a database without prices, sync everything once (`service.initial_sync`),
/// summarise, and print the verdicts.
pub async fn run_observed<R: JobRunner>(
    config: &Config,
    runner: Arc<R>,
    options: ServiceOptions,
    shutdown: CancellationToken,
    clock: Arc<dyn Clock>,
    liveness: Liveness,
) -> Result<(), ServiceError> {
    let schedules = Schedules::from_config(&config.schedule)?;
    let lock = InstanceLock::acquire(&config.database.path)?;
    let started = clock.now();
    let store = {
        let (database, reports_dir) = (config.database.path.clone(), config.reports.dir.clone());
        tokio::task::spawn_blocking(move || open_and_seed(&database, &reports_dir, started))
            .await
            .map_err(|e| ServiceError::Task(e.to_string()))??
    };
    info!(database = %config.database.path.display(), lock = %lock.path().display(), timezone = %schedules.timezone, "service starting");

    // Notifications: secrets are read now, so a missing variable stops the start-up.
    let notifier = Notifier::from_config(&config.notify, |name| std::env::var(name).ok())?
        .map(|n| Arc::new(n.with_public_url(&config.http.public_url)));
    let sender = match &notifier {
        Some(notifier) => {
            let clock_fn = clock.clone();
            let sender = Sender::new(
                notifier.channels.clone(),
                SenderOptions::from_config(&config.notify),
                &config.database.path,
                Arc::new(move || clock_fn.now()),
            )?;
            Some(Arc::new(sender))
        }
        None => None,
    };

    let engine = Arc::new(Engine {
        runner,
        schedules,
        db: Arc::new(Mutex::new(store)),
        clock: clock.clone(),
        initial_sync: config.service.initial_sync,
        guards: JobKind::ALL.into_iter().map(|job| (job, Arc::new(tokio::sync::Mutex::new(())))).collect(),
        lane: Arc::new(tokio::sync::Mutex::new(())),
        tracker: TaskTracker::new(),
        shutdown: shutdown.clone(),
        cancel_jobs: CancellationToken::new(),
        cancel_wait: options.cancel_wait,
        notifier,
        sender: sender.clone(),
    });
    // The sender delivers what the jobs queue, and what an earlier process left pending.
    if let Some(sender) = sender {
        engine.tracker.spawn(sender.run(shutdown.clone()));
    }

    let mut scheduler = engine.start_scheduler().await?;
    let mut jobs_created_at = clock.now();
    liveness.started(options.watch_interval);
    engine.tracker.spawn(engine.clone().catch_up(true));

    let mut watch = tokio::time::interval_at(Instant::now() + options.watch_interval, options.watch_interval);
    watch.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let (mut last_wall, mut last_monotonic) = (clock.now(), Instant::now());
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = watch.tick() => {
                liveness.beat();
                let (wall, monotonic) = (clock.now(), Instant::now());
                if schedule::clock_jumped(wall - last_wall, monotonic - last_monotonic) {
                    warn!(wall_elapsed_secs = (wall - last_wall).num_seconds(), monotonic_elapsed_secs = (monotonic - last_monotonic).as_secs(),
                        "the wall clock jumped (the machine slept or the clock was set); catching up missed jobs");
                    engine.tracker.spawn(engine.clone().catch_up(false));
                }
                if schedule::utc_offset_changed(engine.schedules.timezone, jobs_created_at, wall) {
                    info!(timezone = %engine.schedules.timezone, "the UTC offset changed (DST); re-creating the scheduled jobs");
                    let _ = scheduler.shutdown().await;
                    scheduler = engine.start_scheduler().await?;
                    jobs_created_at = wall;
                    engine.tracker.spawn(engine.clone().catch_up(false));
                }
                (last_wall, last_monotonic) = (wall, monotonic);
            }
        }
    }

    liveness.stopping();
    let grace = Duration::from_secs(config.service.grace_period_secs);
    info!(grace_period_secs = grace.as_secs(), "stopping: no new runs; waiting for a running job to finish");
    if let Err(error) = scheduler.shutdown().await {
        warn!(?error, "the scheduler did not stop cleanly");
    }
    engine.tracker.close();
    if tokio::time::timeout(grace, engine.tracker.wait()).await.is_err() {
        warn!(grace_period_secs = grace.as_secs(), "a job is still running after the grace period; cancelling it");
        engine.cancel_jobs.cancel();
        engine.tracker.wait().await;
    }
    info!("service stopped");
    drop(lock);
    Ok(())
}

/// Opens (creating and migrating) the database, loads the reports folder (or the embedded
/// seed) into a database without reports, and closes runs a killed process left `running`.
fn open_and_seed(database: &Path, reports_dir: &Path, now: DateTime<Utc>) -> Result<Store, ServiceError> {
    let mut store = Store::open(database)?;
    if store.report_ids()?.is_empty() {
        // Same rule as the CLI: a missing folder falls back to the seed compiled into the binary.
        let reports = if reports_dir.exists() { catalog::load_dir(reports_dir)? } else { catalog::embedded_reports()? };
        for report in reports {
            store.load_report(&report, now)?;
            info!(report = %report.id, "report loaded");
        }
    }
    // This service holds the lock, so no other service's run can still be going; a CLI
    // sync's run is stale only when its process has ended.
    let closed = store.close_stale_runs(now, false, &lock::process_alive)?;
    if closed > 0 {
        warn!(closed, "runs left unfinished by an earlier process are now marked cancelled/interrupted");
    }
    Ok(store)
}

/// What the database says about the jobs, for a catch-up at `now`: prices present, each
/// job's last success, and the reports without the summary of the week the summary job
/// covers at `now`. A week the market was closed for ([`jobs::market_closed_week`]) has no
/// summary to miss; a week without prices that may still come is missing until they do.
pub fn recorded_state(store: &Store, schedules: &Schedules, now: DateTime<Utc>) -> Result<schedule::RecordedState, StoreError> {
    let week = schedule::summary_week_at(schedules.get(JobKind::WeeklySummary), now);
    let mut state = schedule::RecordedState { has_prices: store.has_prices()?, ..Default::default() };
    for job in JobKind::ALL {
        if let Some(run) = store.last_successful_job_run(job.name())? {
            state.last_success.insert(job, (&run).into());
        }
    }
    for id in store.report_ids()? {
        if !store.has_weekly_summary(&id, &week.to_string())?
            && jobs::market_closed_week(store, &store.report(&id)?.rule.benchmark, week)?.is_none()
        {
            state.reports_missing_summary.push(id);
        }
    }
    Ok(state)
}

/// How a run came to be asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Trigger {
    Tick,
    CatchUp,
}

struct Engine<R> {
    runner: Arc<R>,
    schedules: Schedules,
    /// The service's own connection, for bookkeeping; used from blocking tasks only.
    db: Arc<Mutex<Store>>,
    clock: Arc<dyn Clock>,
    initial_sync: bool,
    /// Held by a run from the moment it is asked for until it ends: the overlap guard.
    guards: BTreeMap<JobKind, Arc<tokio::sync::Mutex<()>>>,
    /// Held while a job executes: one job at a time, in arrival order (tokio's mutex is fair).
    lane: Arc<tokio::sync::Mutex<()>>,
    tracker: TaskTracker,
    shutdown: CancellationToken,
    cancel_jobs: CancellationToken,
    cancel_wait: Duration,
    /// The notification rules and channels (`None`: no channel configured).
    notifier: Option<Arc<Notifier>>,
    sender: Option<Arc<Sender>>,
}

impl<R: JobRunner> Engine<R> {
    /// Runs `f` on the service's connection in a blocking task (SQLite must not block a
    /// runtime worker, and `Store` is not `Sync`).
    async fn db<T: Send + 'static>(&self, f: impl FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static) -> Result<T, ServiceError> {
        let db = self.db.clone();
        let task = tokio::task::spawn_blocking(move || {
            let mut store = db.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            f(&mut store)
        });
        Ok(task.await.map_err(|e| ServiceError::Task(e.to_string()))??)
    }

    async fn start_scheduler(self: &Arc<Self>) -> Result<JobScheduler, ServiceError> {
        let scheduler = JobScheduler::new().await?;
        for schedule in self.schedules.iter() {
            let engine = self.clone();
            let job_kind = schedule.job;
            let job = Job::new_async_tz(schedule.expression.as_str(), schedule.timezone, move |_id, _scheduler| {
                let engine = engine.clone();
                Box::pin(async move { engine.on_tick(job_kind) })
            })?;
            scheduler.add(job).await?;
            let next = schedule.next_after(self.clock.now()).map(|t| t.with_timezone(&schedule.timezone).to_rfc3339());
            info!(job = %job_kind, schedule = %schedule.expression, next = next.as_deref().unwrap_or("never"), "job scheduled");
        }
        scheduler.start().await?;
        Ok(scheduler)
    }

    /// A cron tick: the job that fired runs through [`Engine::run_due`], like a catch-up.
    fn on_tick(self: &Arc<Self>, job: JobKind) {
        if self.shutdown.is_cancelled() {
            return;
        }
        let now = self.clock.now();
        self.tracker.spawn(self.clone().run_due(now, Some(job)));
    }

    /// Starts a run of `job` unless one is already running or queued; a tick that finds
    /// one is recorded as skipped, a catch-up is not needed then (the run in flight covers it).
    fn start(self: &Arc<Self>, job: JobKind, scheduled_for: Option<DateTime<Utc>>, trigger: Trigger) -> Option<JoinHandle<()>> {
        match self.guards[&job].clone().try_lock_owned() {
            Ok(guard) => {
                let engine = self.clone();
                Some(self.tracker.spawn(async move { engine.execute(job, scheduled_for, guard).await }))
            }
            Err(_) if trigger == Trigger::Tick => {
                warn!(job = %job, "skipped: the previous run is still in progress");
                let engine = self.clone();
                self.tracker.spawn(async move { engine.record_skip(job, scheduled_for).await });
                None
            }
            Err(_) => {
                debug!(job = %job, "no catch-up needed: a run is in progress");
                None
            }
        }
    }

    async fn record_skip(&self, job: JobKind, scheduled_for: Option<DateTime<Utc>>) {
        let now = self.clock.now();
        let result = self
            .db(move |store| {
                let id = store.begin_job_run(job.name(), scheduled_for, now)?;
                store.finish_job_run(
                    id,
                    JobRunOutcome::Skipped,
                    &serde_json::json!({}),
                    Some("the previous run was still in progress"),
                    now,
                )
            })
            .await;
        if let Err(error) = result {
            error!(job = %job, %error, "cannot record a skipped run");
        }
    }

    async fn execute(self: Arc<Self>, job: JobKind, scheduled_for: Option<DateTime<Utc>>, _guard: OwnedMutexGuard<()>) {
        let _lane = tokio::select! {
            biased;
            _ = self.shutdown.cancelled() => {
                info!(job = %job, "not started: the service is stopping");
                return;
            }
            lane = self.lane.clone().lock_owned() => lane,
        };
        if self.shutdown.is_cancelled() {
            info!(job = %job, "not started: the service is stopping");
            return;
        }
        let now = self.clock.now();
        let week =
            (job == JobKind::WeeklySummary).then(|| schedule::summary_week_at(self.schedules.get(job), scheduled_for.unwrap_or(now)));
        let run_id = match self.db(move |store| store.begin_job_run(job.name(), scheduled_for, now)).await {
            Ok(id) => Some(id),
            Err(error) => {
                error!(job = %job, %error, "cannot record the run's start; running it anyway");
                None
            }
        };
        info!(job = %job, scheduled_for = ?scheduled_for, week = ?week.map(|week| week.to_string()), "job started");
        let timer = Instant::now();
        let request = JobRequest { job, scheduled_for, now, week };
        let cancel = self.cancel_jobs.clone();
        let result = tokio::select! {
            result = self.runner.run(request, cancel.child_token()) => Some(result),
            _ = async { cancel.cancelled().await; tokio::time::sleep(self.cancel_wait).await } => None,
        };
        let (outcome, counts, message) = match result {
            Some(Ok(JobOutcome { counts, status })) => match status {
                JobStatus::Done => (JobRunOutcome::Ok, counts, None),
                JobStatus::Partial { problems } => (JobRunOutcome::Ok, counts, Some(problems)),
                JobStatus::Failed { problems } => (JobRunOutcome::Failed, counts, Some(problems)),
                JobStatus::Cancelled => (JobRunOutcome::Cancelled, counts, Some("stopped by shutdown before it finished".to_string())),
                JobStatus::Skipped { reason } => (JobRunOutcome::Skipped, counts, Some(reason)),
            },
            Some(Err(error)) if cancel.is_cancelled() => (JobRunOutcome::Cancelled, serde_json::json!({}), Some(error.to_string())),
            Some(Err(error)) => (JobRunOutcome::Failed, serde_json::json!({}), Some(error.to_string())),
            None => (
                JobRunOutcome::Cancelled,
                serde_json::json!({}),
                Some(format!("did not stop within {} s of cancellation; abandoned", self.cancel_wait.as_secs())),
            ),
        };
        let seconds = timer.elapsed().as_secs_f64();
        match (outcome, &message) {
            (JobRunOutcome::Ok, None) => info!(job = %job, seconds, counts = %counts, "job finished"),
            (JobRunOutcome::Ok, Some(problems)) => warn!(job = %job, seconds, counts = %counts, problems, "job finished with failures"),
            (JobRunOutcome::Skipped, Some(reason)) => info!(job = %job, seconds, counts = %counts, reason, "job skipped"),
            (outcome, message) => {
                warn!(job = %job, seconds, outcome = outcome.as_str(), error = message.as_deref().unwrap_or(""), "job did not finish")
            }
        }
        if let Some(id) = run_id {
            let finished = self.clock.now();
            let notifier = self.notifier.clone();
            let recorded = self
                .db(move |store| {
                    // data_health: decided with this outcome and the earlier ones, recorded in
                    // the transaction that records the outcome.
                    let announcement = match &notifier {
                        Some(notifier) => {
                            let mut outcomes = vec![outcome];
                            let earlier = store.job_runs(job.name(), notifier.config.failing_runs as usize + 20)?;
                            outcomes.extend(earlier.into_iter().filter(|run| run.id != id).map(|run| run.outcome));
                            let key = format!("health:job:{}", job.name());
                            notifier.job_health(job.name(), &outcomes, store.announcement(&key)?.as_deref(), finished)
                        }
                        None => None,
                    };
                    let parts = announcement.as_ref().map(|a| (a.key.as_str(), a.value.as_str(), a.rows.as_slice()));
                    store.finish_job_run_and_announce(id, outcome, &counts, message.as_deref(), parts, finished)
                })
                .await;
            if let Err(error) = recorded {
                error!(job = %job, %error, "cannot record the run's end");
            }
        }
        if job.is_sync() {
            self.check_benchmark().await;
        }
        if let Some(sender) = &self.sender {
            sender.wake.notify_one();
        }
    }

    /// data_health: announces a benchmark that has fallen behind the calendar, and its recovery.
    async fn check_benchmark(&self) {
        let Some(notifier) = self.notifier.clone() else { return };
        let now = self.clock.now();
        let today = now.with_timezone(&self.schedules.timezone).date_naive();
        let result = self
            .db(move |store| {
                let latest = store.benchmark_dates(1)?.first().copied();
                let behind = latest.map(|latest| status::weekdays_after(latest, today));
                let key = "health:benchmark";
                if let Some(announcement) = notifier.benchmark_health(latest, behind, store.announcement(key)?.as_deref(), now) {
                    store.announce(&announcement.key, &announcement.value, &announcement.rows, now)?;
                }
                Ok(())
            })
            .await;
        if let Err(error) = result {
            warn!(%error, "cannot check the benchmark's freshness for data_health");
        }
    }

    /// The one path every run takes, a tick's (`fired`: the job whose cron expression fired)
    /// and a catch-up's (`None`): [`schedule::plan_due`] decides what is due at `now`, and
    /// the runs start one after the other. Returns the recorded state a catch-up read, or
    /// `None` when it could not be read or the service is stopping.
    async fn run_due(self: Arc<Self>, now: DateTime<Utc>, fired: Option<JobKind>) -> Option<schedule::RecordedState> {
        // A tick's decision does not depend on the recorded state (see `plan_due`).
        let state = match fired {
            Some(_) => schedule::RecordedState::default(),
            None => match self.recorded_state(now).await {
                Ok(state) => state,
                Err(error) => {
                    error!(%error, "cannot read the job history; no catch-up this time");
                    return None;
                }
            },
        };
        let plan = schedule::plan_due(&self.schedules, &state, self.initial_sync, now, fired);
        if plan.is_empty() {
            info!("every job is up to date");
        }
        for run in plan {
            if self.shutdown.is_cancelled() {
                return None;
            }
            // A tick that finds its job still running is recorded as skipped; a catch-up
            // that finds it running has nothing to do (the run in flight covers it).
            let trigger = match run.reason {
                schedule::CatchUpReason::Scheduled { .. } => Trigger::Tick,
                ref reason => {
                    info!(job = %run.job, ?reason, "catching up");
                    Trigger::CatchUp
                }
            };
            if let Some(handle) = self.start(run.job, run.scheduled_for, trigger) {
                let _ = handle.await;
            }
        }
        if fired.is_some_and(JobKind::is_sync) && !self.shutdown.is_cancelled() {
            self.retry_skipped_summary().await;
        }
        Some(state)
    }

    /// After a sync tick: a weekly summary whose latest run was skipped for its slot (a week
    /// without prices) and that is still missing ([`recorded_state`]) runs again, so prices
    /// synced late produce it without waiting for a restart. A market-closed week is not
    /// missing, so it is not retried.
    async fn retry_skipped_summary(self: &Arc<Self>) {
        let now = self.clock.now();
        let schedules = self.schedules.clone();
        let Some(slot) = schedules.get(JobKind::WeeklySummary).latest_at_or_before(now) else { return };
        let due = self
            .db(move |store| {
                let last = store.last_job_run(JobKind::WeeklySummary.name())?;
                if !last.is_some_and(|run| run.outcome == JobRunOutcome::Skipped && run.scheduled_for == Some(slot)) {
                    return Ok(false);
                }
                Ok(!recorded_state(store, &schedules, now)?.reports_missing_summary.is_empty())
            })
            .await;
        match due {
            Ok(true) => {
                info!(job = %JobKind::WeeklySummary, "retrying the summary skipped for want of prices after a sync");
                if let Some(handle) = self.start(JobKind::WeeklySummary, Some(slot), Trigger::CatchUp) {
                    let _ = handle.await;
                }
            }
            Ok(false) => {}
            Err(error) => warn!(%error, "cannot check whether a skipped weekly summary is due again"),
        }
    }

    /// What the database says about the jobs ([`recorded_state`]).
    async fn recorded_state(&self, now: DateTime<Utc>) -> Result<schedule::RecordedState, ServiceError> {
        let schedules = self.schedules.clone();
        self.db(move |store| recorded_state(store, &schedules, now)).await
    }

    /// Runs every job the recorded state says is due ([`Engine::run_due`]). At start-up on a
    /// database without prices this is the first start: verdicts are printed after.
    async fn catch_up(self: Arc<Self>, at_startup: bool) {
        let now = self.clock.now();
        let Some(state) = self.clone().run_due(now, None).await else {
            return;
        };
        if at_startup && !state.has_prices && self.initial_sync && !self.shutdown.is_cancelled() {
            let _lane = self.lane.lock().await;
            if let Err(error) = self.runner.show_verdicts(self.clock.now()).await {
                warn!(%error, "cannot show the verdicts yet");
            }
        }
        // Verdicts already final when the service starts, and rating changes it has not
        // announced yet, go out now rather than after the next sync.
        if at_startup && self.notifier.is_some() && !self.shutdown.is_cancelled() {
            let _lane = self.lane.lock().await;
            match self.runner.announce(self.clock.now()).await {
                Ok(queued) if queued > 0 => {
                    info!(queued, "announcements queued");
                    if let Some(sender) = &self.sender {
                        sender.wake.notify_one();
                    }
                }
                Ok(_) => {}
                Err(error) => warn!(%error, "cannot queue the announcements"),
            }
        }
        if !self.shutdown.is_cancelled() {
            info!("catch-up finished; waiting for the schedule");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped systemd unit must give a stopping job its grace period and cancel wait
    /// before systemd's SIGKILL, and keep the hardening the README promises.
    #[test]
    fn the_systemd_unit_waits_longer_than_the_service_takes_to_stop() {
        let unit = include_str!("../../config/ratingwatch.service");
        let value = |key: &str| {
            unit.lines().find_map(|line| line.strip_prefix(&format!("{key}="))).unwrap_or_else(|| panic!("{key} is missing from the unit"))
        };
        let timeout: u64 = value("TimeoutStopSec").parse().unwrap();
        let needed = crate::config::ServiceConfig::default().grace_period_secs + ServiceOptions::default().cancel_wait.as_secs();
        assert!(timeout > needed, "TimeoutStopSec={timeout} must exceed {needed}");
        assert_eq!(value("KillSignal"), "SIGTERM");
        assert_eq!(value("Restart"), "on-failure");
        for (key, expected) in [("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("ProtectHome", "yes"), ("PrivateTmp", "yes")] {
            assert_eq!(value(key), expected, "{key}");
        }
        assert_eq!(value("ReadWritePaths"), value("WorkingDirectory"), "the service writes only under its working directory");
        assert_eq!(value("User"), "ratingwatch");
    }
}
