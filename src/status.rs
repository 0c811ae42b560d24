//! `ratingwatch status`: each job's last and next run, data freshness per market, stale
//! securities and the last sync's failures. Gathered from the database and the schedules;
//! the next run comes from the cron expressions, so it is right whether or not `serve` runs.
//!
//! Staleness: a security is stale when more than `analysis.stale_after_trading_days`
//! benchmark trading days (dates with a stored benchmark close) lie after its latest close,
//! counted up to the benchmark's latest stored date; a security without prices is stale.
//! How far the benchmark itself lags shows in the per-market dates.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;

use crate::config::Config;
use crate::ids::Tz;
use crate::schedule::{JobKind, ScheduleError, Schedules};
use crate::store::{ChannelDeliveries, JobRun, JobRunOutcome, PriceFreshness, Store, StoreError, SyncFailureRow};
use crate::symbol::{Market, Symbol};

#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StatusReport {
    pub generated_at: DateTime<Utc>,
    pub timezone: Tz,
    pub database: String,
    /// Whether a `serve` holds this database's single-instance lock.
    pub service_running: bool,
    pub jobs: Vec<JobStatus>,
    pub markets: Vec<MarketStatus>,
    pub stale_after_trading_days: u32,
    pub stale: Vec<StaleSecurity>,
    /// The benchmark's latest stored close and how many weekdays (Monday to Friday) of the
    /// configured zone have passed since, up to today: the calendar check that benchmark
    /// trading days cannot make when the benchmark itself has fallen behind.
    pub benchmark_latest_close: Option<NaiveDate>,
    pub benchmark_weekdays_behind: Option<usize>,
    pub last_sync: Option<LastSync>,
    /// Notification messages per channel and state (pending, sent, failed, expired).
    pub deliveries: Vec<ChannelDeliveries>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JobStatus {
    pub job: JobKind,
    pub schedule: String,
    pub last_run: Option<LastRun>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub next_run: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LastRun {
    pub outcome: JobRunOutcome,
    pub scheduled_for: Option<DateTime<Utc>>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_secs: Option<i64>,
    pub counts: serde_json::Value,
    pub error: Option<String>,
}

impl From<JobRun> for LastRun {
    fn from(run: JobRun) -> LastRun {
        LastRun {
            outcome: run.outcome,
            scheduled_for: run.scheduled_for,
            started_at: run.started_at,
            duration_secs: run.finished_at.map(|end| (end - run.started_at).num_seconds()),
            finished_at: run.finished_at,
            counts: run.counts,
            error: run.error,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MarketStatus {
    #[serde(serialize_with = "market_name")]
    pub market: Market,
    pub securities: usize,
    pub latest_price_date: Option<NaiveDate>,
    pub without_prices: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StaleSecurity {
    pub symbol: Symbol,
    pub name: String,
    pub latest_close: Option<NaiveDate>,
    /// Benchmark trading days after the latest close (`None` without prices).
    pub trading_days_behind: Option<usize>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LastSync {
    pub id: i64,
    pub trigger: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub outcome: String,
    pub securities_updated: usize,
    pub bars_written: usize,
    pub failures: Vec<SyncFailureRow>,
}

/// Gathers the status from the database. `service_running` comes from the lock probe.
pub fn collect(store: &Store, config: &Config, now: DateTime<Utc>, service_running: bool) -> Result<StatusReport, StatusError> {
    let schedules = Schedules::from_config(&config.schedule)?;
    let mut jobs = Vec::new();
    for schedule in schedules.iter() {
        let name = schedule.job.name();
        jobs.push(JobStatus {
            job: schedule.job,
            schedule: schedule.expression.clone(),
            last_run: store.last_job_run(name)?.map(LastRun::from),
            last_success_at: store.last_successful_job_run(name)?.map(|run| run.started_at),
            next_run: schedule.next_after(now),
        });
    }
    let freshness = store.price_freshness()?;
    // Every stored benchmark date: a few thousand at most, and it makes the count exact.
    let benchmark_dates = store.benchmark_dates(100_000)?;
    let threshold = config.analysis.stale_after_trading_days;
    let last_sync = match store.sync_runs(1)?.into_iter().next() {
        Some(run) => Some(LastSync {
            failures: store.sync_failures(run.id)?,
            id: run.id,
            trigger: run.trigger,
            started_at: run.started_at,
            finished_at: run.finished_at,
            outcome: run.outcome,
            securities_updated: run.securities_updated,
            bars_written: run.bars_written,
        }),
        None => None,
    };
    Ok(StatusReport {
        generated_at: now,
        timezone: config.schedule.timezone,
        database: config.database.path.display().to_string(),
        service_running,
        jobs,
        markets: market_status(&freshness),
        stale_after_trading_days: threshold,
        stale: stale_securities(&freshness, &benchmark_dates, threshold),
        benchmark_latest_close: benchmark_dates.first().copied(),
        benchmark_weekdays_behind: benchmark_dates
            .first()
            .map(|&latest| weekdays_after(latest, now.with_timezone(&schedules.timezone).date_naive())),
        last_sync,
        deliveries: store.channel_deliveries()?,
    })
}

/// Weekdays (Monday to Friday) after `latest` up to and including `today`.
pub fn weekdays_after(latest: NaiveDate, today: NaiveDate) -> usize {
    latest.iter_days().skip(1).take_while(|d| *d <= today).filter(|d| d.weekday().num_days_from_monday() < 5).count()
}

/// Per market: how many securities, the latest stored date, how many have no prices.
pub fn market_status(freshness: &[PriceFreshness]) -> Vec<MarketStatus> {
    Market::ALL
        .into_iter()
        .filter_map(|market| {
            let on_market: Vec<&PriceFreshness> = freshness.iter().filter(|f| f.market == market).collect();
            (!on_market.is_empty()).then(|| MarketStatus {
                market,
                securities: on_market.len(),
                latest_price_date: on_market.iter().filter_map(|f| f.latest_close).max(),
                without_prices: on_market.iter().filter(|f| f.latest_close.is_none()).count(),
            })
        })
        .collect()
}

/// Securities whose latest close has more than `threshold` benchmark trading days after
/// it (`benchmark_dates` newest first), and those with no prices at all.
pub fn stale_securities(freshness: &[PriceFreshness], benchmark_dates: &[NaiveDate], threshold: u32) -> Vec<StaleSecurity> {
    freshness
        .iter()
        .filter_map(|f| {
            let behind = f.latest_close.map(|last| benchmark_dates.iter().take_while(|&&date| date > last).count());
            let stale = behind.is_none_or(|days| days > threshold as usize);
            stale.then(|| StaleSecurity {
                symbol: f.symbol.clone(),
                name: f.name.clone(),
                latest_close: f.latest_close,
                trading_days_behind: behind,
            })
        })
        .collect()
}

fn market_name<S: serde::Serializer>(market: &Market, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(market.as_str())
}

/// What `/healthz` asks of a running service: has its loop started, and is it still turning.
/// The loop beats on every watch tick; a loop that stops beating is reported dead.
#[derive(Clone, Debug, Default)]
pub struct Liveness {
    state: Arc<Mutex<LivenessState>>,
}

#[derive(Debug, Default)]
struct LivenessState {
    /// When the scheduler started and the watch interval, once it has.
    started: Option<Duration>,
    last_beat: Option<std::time::Instant>,
    stopping: bool,
}

impl Liveness {
    pub fn new() -> Liveness {
        Liveness::default()
    }

    fn update(&self, f: impl FnOnce(&mut LivenessState)) {
        f(&mut self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    }

    pub(crate) fn started(&self, watch_interval: Duration) {
        self.update(|state| {
            state.started = Some(watch_interval);
            state.last_beat = Some(std::time::Instant::now());
        });
    }

    pub(crate) fn beat(&self) {
        self.update(|state| state.last_beat = Some(std::time::Instant::now()));
    }

    pub(crate) fn stopping(&self) {
        self.update(|state| state.stopping = true);
    }

    /// `Ok` while the scheduler runs and its loop beat within three watch intervals;
    /// otherwise the reason, for `/healthz`.
    pub fn check(&self) -> Result<(), String> {
        let state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match (state.started, state.last_beat) {
            _ if state.stopping => Err("the service is stopping".to_string()),
            (None, _) | (_, None) => Err("the scheduler has not started yet".to_string()),
            (Some(interval), Some(beat)) if beat.elapsed() > interval * 3 + Duration::from_secs(1) => {
                Err(format!("the scheduler loop last turned {} s ago", beat.elapsed().as_secs()))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use rstest::rstest;

    use super::*;

    fn fresh(symbol: &str, latest: Option<&str>) -> PriceFreshness {
        let symbol = Symbol::parse(symbol).unwrap();
        PriceFreshness { market: symbol.market(), name: symbol.to_string(), symbol, latest_close: latest.map(|d| d.parse().unwrap()) }
    }

    /// Benchmark trading days of two weeks of March 2023, newest first (the 11th and 12th
    /// are a weekend).
    #[rstest]
    // Friday 2023-02-10 to Monday the 13th: one weekday (the weekend does not count).
    #[case("2023-02-10", "2023-02-13", 1)]
    #[case("2023-02-10", "2023-02-10", 0)]
    // Two full weeks after a Friday: ten weekdays.
    #[case("2023-02-10", "2023-02-24", 10)]
    // Today before the latest close (a clock behind the data): nothing.
    #[case("2023-02-10", "2023-02-01", 0)]
    fn weekdays_after_counts_monday_to_friday(#[case] latest: &str, #[case] today: &str, #[case] expected: usize) {
        assert_eq!(weekdays_after(latest.parse().unwrap(), today.parse().unwrap()), expected);
    }

    fn benchmark_dates() -> Vec<NaiveDate> {
        ["2023-03-17", "2023-03-16", "2023-03-15", "2023-03-14", "2023-03-13", "2023-03-10", "2023-03-09", "2023-03-08"]
            .iter()
            .map(|d| d.parse().unwrap())
            .collect()
    }

    #[rstest]
    // Up to date: nothing after the 17th.
    #[case("2023-03-17", Some(0), false)]
    // The 10th is followed by 13..17, five trading days: not more than five, so not stale.
    #[case("2023-03-10", Some(5), false)]
    // A close on the weekend's Saturday counts the same five days.
    #[case("2023-03-11", Some(5), false)]
    // The 9th is followed by six trading days: stale.
    #[case("2023-03-09", Some(6), true)]
    fn staleness_counts_benchmark_trading_days(#[case] latest: &str, #[case] behind: Option<usize>, #[case] stale: bool) {
        let securities = [fresh("600941.SH", Some(latest))];
        let found = stale_securities(&securities, &benchmark_dates(), 5);
        assert_eq!(found.len(), usize::from(stale));
        if let Some(row) = found.first() {
            assert_eq!(row.trading_days_behind, behind);
        }
    }

    #[test]
    fn securities_without_prices_are_stale_and_markets_summarise_their_members() {
        let securities = [
            fresh("000300.SH", Some("2023-03-17")),
            fresh("600941.SH", Some("2023-03-16")),
            fresh("0700.HK", None),
            fresh("MSFT.US", Some("2023-03-16")),
        ];
        let stale = stale_securities(&securities, &benchmark_dates(), 5);
        assert_eq!(stale.iter().map(|s| s.symbol.to_string()).collect::<Vec<_>>(), vec!["0700.HK"]);
        assert_eq!(stale[0].trading_days_behind, None);

        let markets = market_status(&securities);
        let d = |s: &str| Some(s.parse::<NaiveDate>().unwrap());
        assert_eq!(
            markets,
            vec![
                MarketStatus { market: Market::Sh, securities: 2, latest_price_date: d("2023-03-17"), without_prices: 0 },
                MarketStatus { market: Market::Hk, securities: 1, latest_price_date: None, without_prices: 1 },
                MarketStatus { market: Market::Us, securities: 1, latest_price_date: d("2023-03-16"), without_prices: 0 },
            ]
        );
    }

    #[test]
    fn collect_reports_last_and_next_runs_in_the_configured_zone() {
        let mut store = Store::open_in_memory().unwrap();
        let t = |d, h, m| Utc.with_ymd_and_hms(2026, 11, d, h, m, 0).unwrap();
        // 08:30 UTC is 16:30 in Shanghai on Friday 2026-11-27.
        let run = store.begin_job_run("sync_cn_hk", Some(t(27, 8, 30)), t(27, 8, 30)).unwrap();
        store.finish_job_run(run, JobRunOutcome::Ok, &serde_json::json!({"bars_written": 7}), None, t(27, 8, 32)).unwrap();
        let config = Config::default();
        let report = collect(&store, &config, t(27, 9, 0), false).unwrap();

        let cn = report.jobs.iter().find(|j| j.job == JobKind::SyncCnHk).unwrap();
        let last = cn.last_run.as_ref().unwrap();
        assert_eq!((last.outcome, last.duration_secs), (JobRunOutcome::Ok, Some(120)));
        // The next 16:30 Monday-to-Friday after Friday 17:00 is Monday 2026-11-30 16:30 = 08:30 UTC.
        assert_eq!(cn.next_run, Some(t(30, 8, 30)));
        let weekly = report.jobs.iter().find(|j| j.job == JobKind::WeeklySummary).unwrap();
        assert_eq!((weekly.last_run.as_ref(), weekly.next_run), (None, Some(t(27, 10, 0))));

        let text = crate::report::render_status(&report, crate::report::Format::Table, None);
        assert!(text.contains("2026-11-27 16:30 CST"), "{text}");
        assert!(text.contains("120 s"), "{text}");
        assert!(text.contains("no sync has run yet"), "{text}");
    }
}
