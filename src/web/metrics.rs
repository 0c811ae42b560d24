//! `/metrics` in Prometheus text format (the `metrics` facade with
//! `metrics-exporter-prometheus`).
//!
//! Two kinds of series:
//! - counted as they happen, process-wide: HTTP requests by route and status (here),
//!   provider requests, failures by class and trips (in `providers::http` and `sync`);
//! - read from the database at scrape time, so they are right after a restart and in
//!   `ratingwatch web`: per job the last run, last success and duration and the runs by
//!   outcome, securities per market and each market's latest stored close, stale
//!   securities, outbox messages per channel and state, and stored bars (a full count,
//!   cached for [`BAR_COUNT_TTL`]).
//!
//! Every counter is present from the first scrape, at 0 for what has not happened yet
//! (each provider's requests, failures by class and trips; each job's runs by outcome), so
//! `rate()` and `increase()` alerts see the first event.

use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::status::StatusReport;

/// How long a stored-bar count is reused: counting reads every row.
pub const BAR_COUNT_TTL: Duration = Duration::from_secs(60);

/// The process-wide recorder, installed once (tests run many servers in one process).
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("ratingwatch_http_request_duration_seconds".to_string()),
                &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0],
            )
            .unwrap_or_else(|_| PrometheusBuilder::new())
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed; /metrics shows only the database series");
        }
        describe();
        register_counters_at_zero();
        handle
    })
}

fn describe() {
    describe_counter!("ratingwatch_http_requests_total", "HTTP requests answered, by route and status code.");
    describe_histogram!("ratingwatch_http_request_duration_seconds", metrics::Unit::Seconds, "Time to answer an HTTP request, by route.");
    describe_counter!("ratingwatch_provider_requests_total", "Requests sent to a price provider (retries included).");
    describe_counter!("ratingwatch_provider_failures_total", "Failed provider requests, by provider and class.");
    describe_counter!(
        "ratingwatch_provider_trips_total",
        "Times a provider was tripped (skipped for the rest of a sync) after a ban signal."
    );
    describe_gauge!("ratingwatch_job_last_run_timestamp_seconds", metrics::Unit::Seconds, "Start of the job's last run (Unix time).");
    describe_gauge!(
        "ratingwatch_job_last_success_timestamp_seconds",
        metrics::Unit::Seconds,
        "Start of the job's last successful run (Unix time)."
    );
    describe_gauge!("ratingwatch_job_last_duration_seconds", metrics::Unit::Seconds, "How long the job's last finished run took.");
    describe_counter!("ratingwatch_job_runs_total", "Recorded runs of each job, by outcome.");
    describe_gauge!("ratingwatch_bars_stored", "Daily bars and FX rates stored.");
    describe_gauge!("ratingwatch_securities", "Tracked securities, by market.");
    describe_gauge!("ratingwatch_securities_stale", "Tracked securities whose latest close is older than the staleness limit.");
    describe_gauge!(
        "ratingwatch_latest_close_timestamp_seconds",
        metrics::Unit::Seconds,
        "The market's latest stored close: its trading date at 00:00 UTC (Unix time)."
    );
    describe_gauge!(
        "ratingwatch_outbox_messages",
        "Notification messages in the outbox, by channel and state (pending, sent, failed, expired)."
    );
    describe_counter!("ratingwatch_web_cache_hits_total", "Answers served from the web answer cache.");
    describe_counter!("ratingwatch_web_cache_misses_total", "Cacheable questions answered by computing them.");
    describe_gauge!("ratingwatch_scheduler_up", "1 while the service's scheduler is alive (absent in `ratingwatch web`).");
}

/// Registers every provider counter at 0 (a series that appears only with its first
/// increment is invisible to `rate()`).
fn register_counters_at_zero() {
    use strum::IntoEnumIterator;
    counter!("ratingwatch_web_cache_hits_total").absolute(0);
    counter!("ratingwatch_web_cache_misses_total").absolute(0);
    for provider in crate::ids::ProviderName::iter() {
        let provider: &'static str = provider.into();
        counter!("ratingwatch_provider_requests_total", "provider" => provider).absolute(0);
        counter!("ratingwatch_provider_trips_total", "provider" => provider).absolute(0);
        for class in crate::providers::FAILURE_CLASSES {
            counter!("ratingwatch_provider_failures_total", "provider" => provider, "class" => class).absolute(0);
        }
    }
}

/// How often recorded histogram samples are folded into their buckets. The recorder keeps
/// every sample until then (`build_recorder` starts no upkeep of its own): without it each
/// answered request stayed in memory until the next scrape, 5–10 MB per 15 s burst.
pub const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Folds the samples recorded since the last upkeep into the histograms' buckets until
/// `shutdown` fires.
pub async fn upkeep(shutdown: tokio_util::sync::CancellationToken) {
    let mut interval = tokio::time::interval(UPKEEP_EVERY);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = interval.tick() => handle().run_upkeep(),
        }
    }
}

/// Counts one answered request.
pub fn record_request(route: &str, status: u16, elapsed: Duration) {
    counter!("ratingwatch_http_requests_total", "route" => route.to_string(), "status" => status.to_string()).increment(1);
    histogram!("ratingwatch_http_request_duration_seconds", "route" => route.to_string()).record(elapsed.as_secs_f64());
}

/// Counts one lookup in the web answer cache.
pub fn record_cache(hit: bool) {
    if hit {
        counter!("ratingwatch_web_cache_hits_total").increment(1);
    } else {
        counter!("ratingwatch_web_cache_misses_total").increment(1);
    }
}

/// What the database says at scrape time.
pub struct DatabaseFacts {
    pub status: StatusReport,
    pub job_outcomes: Vec<(String, String, u64)>,
    pub bars_stored: u64,
}

/// Sets the database series from `facts`.
pub fn record_database(facts: &DatabaseFacts) {
    for job in &facts.status.jobs {
        let name = job.job.name();
        if let Some(run) = &job.last_run {
            gauge!("ratingwatch_job_last_run_timestamp_seconds", "job" => name).set(run.started_at.timestamp() as f64);
            if let Some(seconds) = run.finished_at.map(|end| (end - run.started_at).num_milliseconds() as f64 / 1000.0) {
                gauge!("ratingwatch_job_last_duration_seconds", "job" => name).set(seconds);
            }
        }
        if let Some(success) = job.last_success_at {
            gauge!("ratingwatch_job_last_success_timestamp_seconds", "job" => name).set(success.timestamp() as f64);
        }
    }
    // Every job and outcome, 0 where the database has no such run yet.
    for job in &facts.status.jobs {
        for outcome in <crate::store::JobRunOutcome as strum::IntoEnumIterator>::iter() {
            let (job, outcome): (&'static str, &'static str) = (job.job.into(), outcome.into());
            let runs = facts.job_outcomes.iter().find(|(j, o, _)| j == job && o == outcome).map_or(0, |(_, _, runs)| *runs);
            counter!("ratingwatch_job_runs_total", "job" => job, "outcome" => outcome).absolute(runs);
        }
    }
    for market in &facts.status.markets {
        gauge!("ratingwatch_securities", "market" => market.market.as_str()).set(market.securities as f64);
        if let Some(date) = market.latest_price_date {
            let midnight = date.and_time(chrono::NaiveTime::MIN).and_utc();
            gauge!("ratingwatch_latest_close_timestamp_seconds", "market" => market.market.as_str()).set(midnight.timestamp() as f64);
        }
    }
    for channel in &facts.status.deliveries {
        for (state, messages) in
            [("pending", channel.pending), ("sent", channel.sent), ("failed", channel.failed), ("expired", channel.expired)]
        {
            gauge!("ratingwatch_outbox_messages", "channel" => channel.channel.clone(), "state" => state).set(messages as f64);
        }
    }
    gauge!("ratingwatch_securities_stale").set(facts.status.stale.len() as f64);
    gauge!("ratingwatch_bars_stored").set(facts.bars_stored as f64);
}

pub fn record_scheduler(alive: Option<bool>) {
    if let Some(alive) = alive {
        gauge!("ratingwatch_scheduler_up").set(if alive { 1.0 } else { 0.0 });
    }
}

/// The stored-bar count, recounted at most once per [`BAR_COUNT_TTL`].
#[derive(Default)]
pub struct BarCountCache {
    last: Mutex<Option<(Instant, u64)>>,
}

impl BarCountCache {
    pub fn get(&self, count: impl FnOnce() -> Result<u64, crate::store::StoreError>) -> Result<u64, crate::store::StoreError> {
        let mut last = self.last.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((at, value)) = *last
            && at.elapsed() < BAR_COUNT_TTL
        {
            return Ok(value);
        }
        let value = count()?;
        *last = Some((Instant::now(), value));
        Ok(value)
    }
}

pub fn render() -> String {
    handle().render()
}
