//! Job schedules and the pure decisions built on them.
//!
//! Invariants: nothing here reads the clock or the database; every function takes `now`
//! and the recorded state as arguments. Cron expressions are parsed exactly as
//! tokio-cron-scheduler parses them (croner 3, seconds required, day-of-month AND
//! day-of-week), so the times computed here are the times the scheduler fires.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Offset, TimeDelta, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds};
use serde::Serialize;

use crate::config::{JobsConfig, ScheduleConfig};
use crate::ids::Week;
use crate::store::JobRun;
use crate::symbol::Market;

/// The service's jobs, named as their keys under `[schedule.jobs]` (also `job_runs.job`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[derive(strum::Display, strum::IntoStaticStr, strum::EnumString, strum::VariantNames, strum::EnumIter)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum JobKind {
    SyncCnHk,
    SyncUs,
    SyncFx,
    WeeklySummary,
    /// The weekly refresh of the security master (`instruments sync`).
    SyncInstruments,
    /// The daily ratings feed sync (`ratings sync`), run after the A-share price sync.
    SyncRatings,
}

impl JobKind {
    /// In the order a catch-up runs them: prices first, then the summary built on them.
    pub const ALL: [JobKind; 6] =
        [JobKind::SyncCnHk, JobKind::SyncUs, JobKind::SyncFx, JobKind::WeeklySummary, JobKind::SyncInstruments, JobKind::SyncRatings];

    pub fn name(self) -> &'static str {
        self.into()
    }

    pub fn parse(name: &str) -> Option<JobKind> {
        name.parse().ok()
    }

    /// The config key of the job's cron expression, for error messages.
    pub fn config_key(self) -> String {
        format!("schedule.jobs.{}", self.name())
    }

    /// The markets a sync job covers (the CSI 300 is an SH index); empty for the summary.
    pub fn markets(self) -> &'static [Market] {
        match self {
            JobKind::SyncCnHk => &[Market::Sh, Market::Sz, Market::Hk],
            JobKind::SyncUs => &[Market::Us],
            JobKind::SyncFx => &[Market::Fx],
            JobKind::WeeklySummary | JobKind::SyncInstruments | JobKind::SyncRatings => &[],
        }
    }

    pub fn is_sync(self) -> bool {
        !self.markets().is_empty()
    }

    fn expression(self, jobs: &JobsConfig) -> &str {
        match self {
            JobKind::SyncCnHk => &jobs.sync_cn_hk,
            JobKind::SyncUs => &jobs.sync_us,
            JobKind::SyncFx => &jobs.sync_fx,
            JobKind::WeeklySummary => &jobs.weekly_summary,
            JobKind::SyncInstruments => &jobs.sync_instruments,
            JobKind::SyncRatings => &jobs.sync_ratings,
        }
    }

    /// A valid expression for this job (its default), shown in error messages.
    fn example(self) -> String {
        self.expression(&JobsConfig::default()).to_string()
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ScheduleError {
    #[error(
        "config key `{key}`: `{expression}` has {fields} field(s); ratingwatch needs 6, seconds first \
         (sec min hour day-of-month month day-of-week){hint}. Example: \"{example}\""
    )]
    FieldCount { key: String, expression: String, fields: usize, hint: &'static str, example: String },
    #[error("config key `{key}`: `{expression}` is not a valid cron expression ({reason}). Example: \"{example}\"")]
    Invalid { key: String, expression: String, reason: String, example: String },
    #[error("config key `{key}`: `{expression}` never fires. Example: \"{example}\"")]
    NeverFires { key: String, expression: String, example: String },
}

/// One job's cron expression, read in the configured time zone.
#[derive(Clone, Debug)]
pub struct Schedule {
    pub job: JobKind,
    pub expression: String,
    pub timezone: Tz,
    cron: Cron,
}

/// The parser tokio-cron-scheduler 0.15 builds for every job.
fn parser() -> CronParser {
    CronParser::builder().seconds(Seconds::Required).dom_and_dow(true).build()
}

impl Schedule {
    /// Parses a six-field expression. Five fields (classic cron, no seconds) and seven
    /// (with a year, which croner accepts but the scheduler then never fires) are refused
    /// by name, so a copied crontab line fails loudly at start-up instead of silently.
    pub fn parse(job: JobKind, expression: &str, timezone: Tz) -> Result<Schedule, ScheduleError> {
        let fields = expression.split_whitespace().count();
        if fields != 6 {
            let hint = match fields {
                5 => " (add the seconds field first, e.g. `0 ` before a classic crontab line)",
                7 => " (a year field is not supported)",
                _ => "",
            };
            return Err(ScheduleError::FieldCount {
                key: job.config_key(),
                expression: expression.to_string(),
                fields,
                hint,
                example: job.example(),
            });
        }
        let cron = parser().parse(expression).map_err(|e| ScheduleError::Invalid {
            key: job.config_key(),
            expression: expression.to_string(),
            reason: e.to_string(),
            example: job.example(),
        })?;
        let schedule = Schedule { job, expression: expression.to_string(), timezone, cron };
        // A valid but impossible expression (`0 0 0 30 2 *`) would make a job that never runs.
        let reference = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).single().unwrap_or_default();
        if schedule.next_after(reference).is_none() {
            return Err(ScheduleError::NeverFires { key: job.config_key(), expression: expression.to_string(), example: job.example() });
        }
        Ok(schedule)
    }

    /// The latest time the job was due at or before `now` (a fire time equal to `now` counts).
    pub fn latest_at_or_before(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = whole_seconds(now).with_timezone(&self.timezone);
        self.cron.find_previous_occurrence(&local, true).ok().map(|t| whole_seconds(t.with_timezone(&Utc)))
    }

    /// The next time the job is due strictly after `now`.
    pub fn next_after(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = whole_seconds(now).with_timezone(&self.timezone);
        self.cron.find_next_occurrence(&local, false).ok().map(|t| whole_seconds(t.with_timezone(&Utc)))
    }
}

/// Cron has a resolution of one second and croner keeps the sub-second part of the time it
/// starts from; without this a slot would lie a fraction after the run recorded for it (runs
/// are stored to the second) and look missed.
fn whole_seconds(time: DateTime<Utc>) -> DateTime<Utc> {
    time.with_nanosecond(0).unwrap_or(time)
}

/// Every job's schedule, parsed and checked from `[schedule]`.
#[derive(Clone, Debug)]
pub struct Schedules {
    pub timezone: Tz,
    by_job: BTreeMap<JobKind, Schedule>,
}

impl Schedules {
    pub fn from_config(config: &ScheduleConfig) -> Result<Schedules, ScheduleError> {
        let timezone = config.timezone.zone();
        let mut by_job = BTreeMap::new();
        for job in JobKind::ALL {
            by_job.insert(job, Schedule::parse(job, job.expression(&config.jobs), timezone)?);
        }
        Ok(Schedules { timezone, by_job })
    }

    pub fn get(&self, job: JobKind) -> &Schedule {
        // Every job is inserted by `from_config`, the only constructor.
        &self.by_job[&job]
    }

    pub fn iter(&self) -> impl Iterator<Item = &Schedule> {
        self.by_job.values()
    }
}

/// What a recorded successful run covers: the slot it was run for, or when it started,
/// whichever is later (a run that starts after a slot fetched data at least that fresh).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RunMark {
    pub scheduled_for: Option<DateTime<Utc>>,
    pub started_at: DateTime<Utc>,
}

impl RunMark {
    pub fn covers_until(&self) -> DateTime<Utc> {
        self.scheduled_for.map_or(self.started_at, |slot| slot.max(self.started_at))
    }
}

impl From<&JobRun> for RunMark {
    fn from(run: &JobRun) -> RunMark {
        RunMark { scheduled_for: run.scheduled_for, started_at: run.started_at }
    }
}

/// The slot a job missed, if its last successful run is older than its latest scheduled
/// time. However many slots were missed, the answer is one slot (the latest): a catch-up
/// runs the job once. Failed, skipped and cancelled runs do not count as coverage.
pub fn missed_slot(schedule: &Schedule, last_success: Option<&RunMark>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let latest = schedule.latest_at_or_before(now)?;
    match last_success {
        Some(mark) if mark.covers_until() >= latest => None,
        _ => Some(latest),
    }
}

/// The week the weekly summary job covers when run for `at` (its slot, or now for a
/// catch-up): the latest complete week ([`Week::latest_complete`]) on the date of the latest
/// scheduled time at or before `at`, in the job's zone. The default schedule (Friday 18:00)
/// covers its own week; a schedule on Monday to Thursday covers the week before.
pub fn summary_week_at(schedule: &Schedule, at: DateTime<Utc>) -> Week {
    let reference = schedule.latest_at_or_before(at).unwrap_or(at);
    Week::latest_complete(reference.with_timezone(&schedule.timezone).date_naive())
}

/// Why a job runs: its cron tick, or a catch-up at start-up or after a wake-up.
#[derive(Clone, Debug, PartialEq)]
pub enum CatchUpReason {
    /// The job's own cron tick fired for this slot.
    Scheduled { slot: DateTime<Utc> },
    /// The database has no prices yet and `service.initial_sync` is on.
    InitialSync,
    /// The latest scheduled time passed without a successful run.
    Missed { slot: DateTime<Utc> },
    /// A report has no weekly summary for the latest complete week.
    SummaryMissing { week: Week },
}

#[derive(Clone, Debug, PartialEq)]
pub struct PlannedRun {
    pub job: JobKind,
    pub scheduled_for: Option<DateTime<Utc>>,
    pub reason: CatchUpReason,
}

/// What the database says about the jobs, gathered before planning a catch-up.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RecordedState {
    pub has_prices: bool,
    pub last_success: BTreeMap<JobKind, RunMark>,
    /// Reports that lack the weekly summary of the latest complete week.
    pub reports_missing_summary: Vec<String>,
}

/// The one decision of what runs at `now`, for a cron tick and a catch-up alike.
///
/// A tick (`fired` is the job whose cron expression fired) runs that job for its latest
/// slot, whatever the recorded state: the schedule asked for it. A catch-up (`fired` is
/// `None`) runs, in order (syncs before the summary): on a database without prices the syncs
/// when `initial_sync` is on (off: the user imports prices offline), else each sync whose
/// latest slot is not covered by a successful run; then the summary when some report lacks
/// the latest complete week's summary.
pub fn plan_due(
    schedules: &Schedules,
    state: &RecordedState,
    initial_sync: bool,
    now: DateTime<Utc>,
    fired: Option<JobKind>,
) -> Vec<PlannedRun> {
    if let Some(job) = fired {
        let slot = schedules.get(job).latest_at_or_before(now);
        return vec![PlannedRun { job, scheduled_for: slot, reason: CatchUpReason::Scheduled { slot: slot.unwrap_or(now) } }];
    }
    let mut plan = Vec::new();
    for job in JobKind::ALL.into_iter().filter(|job| job.is_sync()) {
        let schedule = schedules.get(job);
        if !state.has_prices {
            if initial_sync {
                plan.push(PlannedRun { job, scheduled_for: None, reason: CatchUpReason::InitialSync });
            }
        } else if let Some(slot) = missed_slot(schedule, state.last_success.get(&job), now) {
            plan.push(PlannedRun { job, scheduled_for: Some(slot), reason: CatchUpReason::Missed { slot } });
        }
    }
    // The security master is refreshed by hand first (`instruments sync` or `import`); once
    // the job has succeeded, a missed weekly slot is caught up like a missed price sync.
    let instruments = schedules.get(JobKind::SyncInstruments);
    if let Some(mark) = state.last_success.get(&JobKind::SyncInstruments)
        && let Some(slot) = missed_slot(instruments, Some(mark), now)
    {
        plan.push(PlannedRun { job: JobKind::SyncInstruments, scheduled_for: Some(slot), reason: CatchUpReason::Missed { slot } });
    }
    if !state.reports_missing_summary.is_empty() {
        let schedule = schedules.get(JobKind::WeeklySummary);
        plan.push(PlannedRun {
            job: JobKind::WeeklySummary,
            scheduled_for: schedule.latest_at_or_before(now),
            reason: CatchUpReason::SummaryMissing { week: summary_week_at(schedule, now) },
        });
    }
    // The ratings feed is scored against prices: on a database with prices, a missed daily
    // slot is caught up last, after the price syncs it is scored on.
    if state.has_prices
        && let Some(slot) = missed_slot(schedules.get(JobKind::SyncRatings), state.last_success.get(&JobKind::SyncRatings), now)
    {
        plan.push(PlannedRun { job: JobKind::SyncRatings, scheduled_for: Some(slot), reason: CatchUpReason::Missed { slot } });
    }
    plan
}

/// Wall-clock time that passed beyond monotonic time, over which the machine is taken to
/// have slept (or the clock to have been set): then missed jobs are caught up.
pub const CLOCK_JUMP_TOLERANCE: Duration = Duration::from_secs(60);

/// Whether the wall clock moved differently from the monotonic clock by more than the
/// tolerance. Linux's monotonic clock stops while suspended, the wall clock does not; a
/// busy machine delays both alike, so load alone never looks like a wake-up.
pub fn clock_jumped(wall_elapsed: TimeDelta, monotonic_elapsed: Duration) -> bool {
    let monotonic = TimeDelta::from_std(monotonic_elapsed).unwrap_or(TimeDelta::MAX);
    let tolerance = TimeDelta::from_std(CLOCK_JUMP_TOLERANCE).unwrap_or(TimeDelta::MAX);
    (wall_elapsed - monotonic).abs() > tolerance
}

/// Whether the zone's UTC offset differs between two instants (a DST change). The
/// scheduler fixes each job's offset when the job is created, so jobs are re-created then.
pub fn utc_offset_changed(timezone: Tz, before: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    let offset = |t: DateTime<Utc>| timezone.offset_from_utc_datetime(&t.naive_utc()).fix();
    offset(before) != offset(now)
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[test]
    fn every_job_keeps_its_config_key_and_stored_name() {
        use strum::{IntoEnumIterator, VariantNames};
        // `[schedule.jobs]` keys and `job_runs.job` in existing databases: they must never change.
        let names = ["sync_cn_hk", "sync_us", "sync_fx", "weekly_summary", "sync_instruments", "sync_ratings"];
        assert_eq!(JobKind::VARIANTS, names);
        assert_eq!(JobKind::iter().collect::<Vec<_>>(), JobKind::ALL);
        for (job, name) in JobKind::iter().zip(names) {
            assert_eq!((job.name(), job.to_string()), (name, name.to_string()));
            assert_eq!(JobKind::parse(name), Some(job));
            assert_eq!(serde_json::to_string(&job).unwrap(), format!("\"{name}\""));
        }
        assert_eq!(JobKind::parse("Sync_US"), None);
    }

    fn shanghai(expression: &str, job: JobKind) -> Schedule {
        Schedule::parse(job, expression, chrono_tz::Asia::Shanghai).unwrap()
    }

    /// A UTC instant from Shanghai local time (UTC+8, no DST).
    fn sh(text: &str) -> DateTime<Utc> {
        let naive = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap();
        chrono_tz::Asia::Shanghai.from_local_datetime(&naive).single().unwrap().with_timezone(&Utc)
    }

    fn ran(scheduled_for: Option<&str>, started_at: &str) -> Option<RunMark> {
        Some(RunMark { scheduled_for: scheduled_for.map(sh), started_at: sh(started_at) })
    }

    #[test]
    fn defaults_parse_and_fire_at_their_local_times() {
        let schedules = Schedules::from_config(&ScheduleConfig::default()).unwrap();
        // 2026-11-27 is a Friday. The US sync is due at 06:30 Shanghai time Tuesday to Saturday.
        let us = schedules.get(JobKind::SyncUs);
        assert_eq!(us.next_after(sh("2026-11-27 12:00:00")), Some(sh("2026-11-28 06:30:00")));
        assert_eq!(us.next_after(sh("2026-11-28 06:30:00")), Some(sh("2026-12-01 06:30:00")), "Sunday and Monday are skipped");
        let weekly = schedules.get(JobKind::WeeklySummary);
        assert_eq!(weekly.latest_at_or_before(sh("2026-11-27 18:00:00")), Some(sh("2026-11-27 18:00:00")), "inclusive");
        assert_eq!(weekly.latest_at_or_before(sh("2026-11-27 17:59:59")), Some(sh("2026-11-20 18:00:00")));
        // 10:30 UTC is 18:30 in Shanghai: the crate's own check of its time zone handling.
        let friday = shanghai("0 30 18 * * Fri", JobKind::WeeklySummary);
        assert_eq!(friday.next_after(sh("2026-11-28 00:00:00")), Some(Utc.with_ymd_and_hms(2026, 12, 4, 10, 30, 0).unwrap()));
    }

    #[test]
    fn slots_are_whole_seconds_even_when_now_is_not() {
        let schedule = shanghai("0 30 16 * * Mon-Fri", JobKind::SyncCnHk);
        let now = sh("2026-11-24 16:30:00") + TimeDelta::milliseconds(764);
        assert_eq!(schedule.latest_at_or_before(now), Some(sh("2026-11-24 16:30:00")));
        assert_eq!(schedule.next_after(now), Some(sh("2026-11-25 16:30:00")));
        // A run recorded to the second for that slot covers it.
        let mark = RunMark { scheduled_for: None, started_at: sh("2026-11-24 16:30:00") };
        assert_eq!(missed_slot(&schedule, Some(&mark), now + TimeDelta::hours(1)), None);
    }

    #[test]
    fn day_of_month_and_day_of_week_both_have_to_match() {
        // The first 1st-of-month after 2026-11-28 that is a Monday is 2027-02-01.
        let schedule = shanghai("0 0 9 1 * Mon", JobKind::SyncFx);
        assert_eq!(schedule.next_after(sh("2026-11-28 00:00:00")), Some(sh("2027-02-01 09:00:00")));
    }

    #[rstest]
    #[case::five_fields("0 16 * * Mon-Fri", "has 5 field(s)", "add the seconds field first")]
    #[case::seven_fields("0 30 6 * * Tue-Sat 2025", "has 7 field(s)", "a year field is not supported")]
    #[case::empty("", "has 0 field(s)", "Example: \"0 30 6 * * Tue-Sat\"")]
    #[case::hour_out_of_range("0 30 25 * * Tue-Sat", "is not a valid cron expression", "Example: \"0 30 6 * * Tue-Sat\"")]
    #[case::never("0 0 0 30 2 *", "never fires", "Example")]
    fn bad_expressions_name_the_key_and_show_an_example(#[case] expression: &str, #[case] problem: &str, #[case] help: &str) {
        let message = Schedule::parse(JobKind::SyncUs, expression, chrono_tz::Asia::Shanghai).unwrap_err().to_string();
        assert!(message.starts_with("config key `schedule.jobs.sync_us`"), "{message}");
        assert!(message.contains(problem), "{message}");
        assert!(message.contains(help), "{message}");
    }

    // The CN/HK sync is due at 16:30 Monday to Friday; 2026-11-23 is a Monday.
    #[rstest]
    #[case::never_ran(None, "2026-11-25 10:00:00", Some("2026-11-24 16:30:00"))]
    #[case::ran_for_the_latest_slot(ran(Some("2026-11-24 16:30:00"), "2026-11-24 16:30:00"), "2026-11-25 10:00:00", None)]
    #[case::ran_by_hand_after_the_latest_slot(ran(None, "2026-11-24 20:00:00"), "2026-11-25 10:00:00", None)]
    #[case::missed_one_slot(ran(Some("2026-11-23 16:30:00"), "2026-11-23 16:30:01"), "2026-11-25 10:00:00", Some("2026-11-24 16:30:00"))]
    #[case::missed_many_slots_runs_once_for_the_latest(
        ran(Some("2026-11-16 16:30:00"), "2026-11-16 16:30:00"),
        "2026-11-25 10:00:00",
        Some("2026-11-24 16:30:00")
    )]
    #[case::a_weekend_has_no_slots(ran(Some("2026-11-20 16:30:00"), "2026-11-20 16:31:00"), "2026-11-23 09:00:00", None)]
    #[case::caught_up_late_for_an_old_slot(ran(Some("2026-11-20 16:30:00"), "2026-11-24 17:00:00"), "2026-11-25 10:00:00", None)]
    #[case::slot_is_exactly_now(
        ran(Some("2026-11-24 16:30:00"), "2026-11-24 16:30:00"),
        "2026-11-25 16:30:00",
        Some("2026-11-25 16:30:00")
    )]
    #[case::started_before_the_slot(ran(None, "2026-11-24 16:29:59"), "2026-11-24 16:45:00", Some("2026-11-24 16:30:00"))]
    fn missed_slot_cases(#[case] last_success: Option<RunMark>, #[case] now: &str, #[case] expected: Option<&str>) {
        let schedule = shanghai("0 30 16 * * Mon-Fri", JobKind::SyncCnHk);
        assert_eq!(missed_slot(&schedule, last_success.as_ref(), sh(now)), expected.map(sh));
    }

    fn state(has_prices: bool, successes: &[(JobKind, Option<RunMark>)], missing: &[&str]) -> RecordedState {
        RecordedState {
            has_prices,
            last_success: successes.iter().filter_map(|(job, mark)| mark.map(|m| (*job, m))).collect(),
            reports_missing_summary: missing.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn jobs(plan: &[PlannedRun]) -> Vec<&'static str> {
        plan.iter().map(|run| run.job.name()).collect()
    }

    // Default schedules; now is Wednesday 2026-11-25 10:00 Shanghai time, so the latest slots are
    // cn_hk Tue 16:30, us Wed 06:30, fx Tue 16:45, weekly Fri 2026-11-20 18:00 (week 47).
    #[rstest]
    #[case::fresh_database_syncs_everything_then_summarises(state(false, &[], &["seed"]), true, vec!["sync_cn_hk", "sync_us", "sync_fx", "weekly_summary"])]
    #[case::fresh_database_without_initial_sync_only_tries_the_summary(state(false, &[], &["seed"]), false, vec!["weekly_summary"])]
    #[case::all_up_to_date(
        state(true, &[
            (JobKind::SyncCnHk, ran(Some("2026-11-24 16:30:00"), "2026-11-24 16:30:00")),
            (JobKind::SyncUs, ran(Some("2026-11-25 06:30:00"), "2026-11-25 06:30:00")),
            (JobKind::SyncFx, ran(Some("2026-11-24 16:45:00"), "2026-11-24 16:45:00")),
            (JobKind::SyncRatings, ran(Some("2026-11-24 17:00:00"), "2026-11-24 17:00:00")),
        ], &[]),
        true,
        vec![]
    )]
    #[case::stopped_across_the_us_slot(
        state(true, &[
            (JobKind::SyncCnHk, ran(Some("2026-11-24 16:30:00"), "2026-11-24 16:30:00")),
            (JobKind::SyncUs, ran(Some("2026-11-24 06:30:00"), "2026-11-24 06:30:00")),
            (JobKind::SyncFx, ran(Some("2026-11-24 16:45:00"), "2026-11-24 16:45:00")),
            (JobKind::SyncRatings, ran(Some("2026-11-24 17:00:00"), "2026-11-24 17:00:00")),
        ], &[]),
        true,
        vec!["sync_us"]
    )]
    #[case::failed_last_time_runs_again(
        state(true, &[
            (JobKind::SyncCnHk, ran(Some("2026-11-23 16:30:00"), "2026-11-23 16:30:00")),
            (JobKind::SyncUs, ran(Some("2026-11-25 06:30:00"), "2026-11-25 06:30:00")),
            (JobKind::SyncFx, ran(Some("2026-11-24 16:45:00"), "2026-11-24 16:45:00")),
            (JobKind::SyncRatings, ran(Some("2026-11-24 17:00:00"), "2026-11-24 17:00:00")),
        ], &[]),
        true,
        vec!["sync_cn_hk"]
    )]
    #[case::summary_missing_for_a_new_report(
        state(true, &[
            (JobKind::SyncCnHk, ran(Some("2026-11-24 16:30:00"), "2026-11-24 16:30:00")),
            (JobKind::SyncUs, ran(Some("2026-11-25 06:30:00"), "2026-11-25 06:30:00")),
            (JobKind::SyncFx, ran(Some("2026-11-24 16:45:00"), "2026-11-24 16:45:00")),
            (JobKind::SyncRatings, ran(Some("2026-11-24 17:00:00"), "2026-11-24 17:00:00")),
        ], &["another-report"]),
        true,
        vec!["weekly_summary"]
    )]
    // The ratings sync's latest slot is Tue 17:00; its last success was Monday's.
    #[case::ratings_missed_after_the_prices(
        state(true, &[
            (JobKind::SyncCnHk, ran(Some("2026-11-24 16:30:00"), "2026-11-24 16:30:00")),
            (JobKind::SyncUs, ran(Some("2026-11-25 06:30:00"), "2026-11-25 06:30:00")),
            (JobKind::SyncFx, ran(Some("2026-11-24 16:45:00"), "2026-11-24 16:45:00")),
            (JobKind::SyncRatings, ran(Some("2026-11-23 17:00:00"), "2026-11-23 17:00:00")),
        ], &["another-report"]),
        true,
        vec!["weekly_summary", "sync_ratings"]
    )]
    // No prices yet: the ratings sync waits for them (nothing to score its calls on).
    #[case::no_ratings_before_prices(state(false, &[], &[]), true, vec!["sync_cn_hk", "sync_us", "sync_fx"])]
    fn catch_up_plans(#[case] state: RecordedState, #[case] initial_sync: bool, #[case] expected: Vec<&str>) {
        let schedules = Schedules::from_config(&ScheduleConfig::default()).unwrap();
        let plan = plan_due(&schedules, &state, initial_sync, sh("2026-11-25 10:00:00"), None);
        assert_eq!(jobs(&plan), expected);
    }

    #[rstest]
    // A tick runs the job that fired for its slot, whatever the recorded state says: even on
    // a database without prices and with `initial_sync` off, and even when already covered.
    #[case::no_prices_no_initial_sync(state(false, &[], &[]), false)]
    #[case::already_covered(state(true, &[(JobKind::SyncUs, ran(Some("2026-11-25 06:30:00"), "2026-11-25 06:30:00"))], &["seed"]), true)]
    fn a_tick_runs_exactly_the_job_that_fired(#[case] state: RecordedState, #[case] initial_sync: bool) {
        let schedules = Schedules::from_config(&ScheduleConfig::default()).unwrap();
        // Wednesday 06:30 Shanghai time: the US sync's slot.
        let now = sh("2026-11-25 06:30:00");
        let plan = plan_due(&schedules, &state, initial_sync, now, Some(JobKind::SyncUs));
        assert_eq!(
            plan,
            vec![PlannedRun { job: JobKind::SyncUs, scheduled_for: Some(now), reason: CatchUpReason::Scheduled { slot: now } }]
        );
    }

    #[test]
    fn the_instrument_sync_catches_up_only_after_a_first_success() {
        let schedules = Schedules::from_config(&ScheduleConfig::default()).unwrap();
        // Wednesday 2026-11-25; the latest Sunday 05:00 slot is 2026-11-22.
        let now = sh("2026-11-25 10:00:00");
        let instrument_runs = |last: Option<RunMark>| -> Vec<PlannedRun> {
            plan_due(&schedules, &state(true, &[(JobKind::SyncInstruments, last)], &[]), true, now, None)
                .into_iter()
                .filter(|run| run.job == JobKind::SyncInstruments)
                .collect()
        };
        assert!(instrument_runs(None).is_empty(), "never synced: left to the user");
        let missed = instrument_runs(ran(Some("2026-11-15 05:00:00"), "2026-11-15 05:00:00"));
        assert_eq!(missed.len(), 1);
        assert_eq!(missed[0].scheduled_for, Some(sh("2026-11-22 05:00:00")));
        assert!(instrument_runs(ran(Some("2026-11-22 05:00:00"), "2026-11-22 05:00:03")).is_empty());
    }

    #[test]
    fn catch_up_runs_carry_their_slot_and_the_week() {
        let schedules = Schedules::from_config(&ScheduleConfig::default()).unwrap();
        let plan = plan_due(&schedules, &state(true, &[], &["seed"]), true, sh("2026-11-25 10:00:00"), None);
        assert_eq!(
            plan[1],
            PlannedRun {
                job: JobKind::SyncUs,
                scheduled_for: Some(sh("2026-11-25 06:30:00")),
                reason: CatchUpReason::Missed { slot: sh("2026-11-25 06:30:00") }
            }
        );
        // 2026-11-20 is the Friday of ISO week 47.
        assert_eq!(plan[3].reason, CatchUpReason::SummaryMissing { week: Week::new(2026, 47).unwrap() });
        assert_eq!(plan[3].scheduled_for, Some(sh("2026-11-20 18:00:00")));
    }

    // The job's week is the latest complete week on its slot's local date: with a Thursday
    // schedule the week before, with the default Friday 18:00 its own week, and on Friday
    // before 18:00 (the latest slot is last Friday's) the week before.
    #[rstest]
    #[case::thursday_schedule("0 0 18 * * Thu", "2023-02-23 19:00:00", "2023-W07")]
    #[case::friday_evening("0 0 18 * * Fri", "2023-02-24 18:00:00", "2023-W08")]
    #[case::friday_morning("0 0 18 * * Fri", "2023-02-24 09:00:00", "2023-W07")]
    #[case::sunday("0 0 18 * * Fri", "2023-02-26 09:00:00", "2023-W08")]
    // 2021-01-01 is a Friday of 2020-W53.
    #[case::iso_year_edge("0 0 18 * * Fri", "2021-01-04 09:00:00", "2020-W53")]
    fn summary_weeks(#[case] expression: &str, #[case] at: &str, #[case] expected: &str) {
        let schedule = shanghai(expression, JobKind::WeeklySummary);
        assert_eq!(summary_week_at(&schedule, sh(at)).to_string(), expected);
    }

    #[rstest]
    #[case::regular_tick(30, 30, false)]
    #[case::a_slow_loaded_machine_delays_both_clocks(95, 95, false)]
    #[case::within_tolerance(89, 30, false)]
    #[case::woke_after_an_hour_asleep(3630, 30, true)]
    #[case::clock_set_back(-600, 30, true)]
    fn clock_jumps(#[case] wall_secs: i64, #[case] monotonic_secs: u64, #[case] expected: bool) {
        assert_eq!(clock_jumped(TimeDelta::seconds(wall_secs), Duration::from_secs(monotonic_secs)), expected);
    }

    #[test]
    fn dst_changes_are_noticed_only_in_zones_that_have_them() {
        // US daylight saving time began on 2026-03-08.
        let before = Utc.with_ymd_and_hms(2026, 3, 7, 12, 0, 0).unwrap();
        let after = Utc.with_ymd_and_hms(2026, 3, 9, 12, 0, 0).unwrap();
        assert!(utc_offset_changed(chrono_tz::America::New_York, before, after));
        assert!(!utc_offset_changed(chrono_tz::America::New_York, after, after + TimeDelta::days(30)));
        assert!(!utc_offset_changed(chrono_tz::Asia::Shanghai, before, after));
    }
}
