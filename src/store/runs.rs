//! Sync runs, job runs and written weekly summaries: the service's memory across restarts.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;

use super::{Result, Store, time_text};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SyncRunRow {
    pub id: i64,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub trigger: String,
    pub symbols_requested: usize,
    pub securities_updated: usize,
    pub bars_written: usize,
    pub failures: usize,
    pub outcome: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SyncFailureRow {
    pub symbol: String,
    pub provider: Option<String>,
    pub reason: String,
    /// `failed` (not synced), `deferred` (left for the next run, provider kept) or `fell_back`
    /// (this provider failed, a later one of the chain answered).
    pub kind: String,
}

/// The consecutive runs in which a security's own provider failed it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProviderStreak {
    pub symbol: String,
    pub provider: String,
    pub failed_runs: u32,
    pub last_reason: String,
}

/// How a job run ended; the text is what `job_runs.outcome` stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, strum::IntoStaticStr, strum::EnumString, strum::VariantNames, strum::EnumIter)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum JobRunOutcome {
    Running,
    Ok,
    Failed,
    Skipped,
    Cancelled,
}

impl JobRunOutcome {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The stored text; anything unknown reads as still running.
    fn parse(text: &str) -> JobRunOutcome {
        text.parse().unwrap_or(JobRunOutcome::Running)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JobRun {
    pub id: i64,
    pub job: String,
    pub scheduled_for: Option<DateTime<Utc>>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub outcome: JobRunOutcome,
    pub counts: serde_json::Value,
    pub error: Option<String>,
}

fn read_job_run(r: &rusqlite::Row<'_>) -> rusqlite::Result<JobRun> {
    Ok(JobRun {
        id: r.get(0)?,
        job: r.get(1)?,
        scheduled_for: r.get(2)?,
        started_at: r.get(3)?,
        finished_at: r.get(4)?,
        outcome: JobRunOutcome::parse(&r.get::<_, String>(5)?),
        counts: serde_json::from_str(&r.get::<_, String>(6)?).unwrap_or(serde_json::Value::Null),
        error: r.get(7)?,
    })
}

const JOB_COLUMNS: &str = "id, job, scheduled_for, started_at, finished_at, outcome, counts, error";

fn read_sync_run(r: &rusqlite::Row<'_>) -> rusqlite::Result<SyncRunRow> {
    Ok(SyncRunRow {
        id: r.get(0)?,
        started_at: r.get(1)?,
        finished_at: r.get(2)?,
        trigger: r.get(3)?,
        symbols_requested: r.get::<_, i64>(4)? as usize,
        securities_updated: r.get::<_, i64>(5)? as usize,
        bars_written: r.get::<_, i64>(6)? as usize,
        failures: r.get::<_, i64>(7)? as usize,
        outcome: r.get(8)?,
    })
}

/// Records a run's end inside an open transaction (see `Store::finish_job_run_and_announce`).
pub(crate) fn finish_job_run_in(
    tx: &rusqlite::Transaction<'_>,
    run_id: i64,
    outcome: JobRunOutcome,
    counts: &serde_json::Value,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    tx.execute(
        "UPDATE job_runs SET finished_at = ?2, outcome = ?3, counts = ?4, error = ?5 WHERE id = ?1",
        params![run_id, time_text(now), outcome.as_str(), counts.to_string(), error],
    )?;
    Ok(())
}

/// Records a written weekly summary inside `tx` (the caller's transaction, so that
/// `outbox` can queue its messages in the same one).
pub(crate) fn record_weekly_summary_in(
    tx: &Transaction<'_>,
    report_id: &str,
    week: &str,
    as_of: NaiveDate,
    files: &[String],
    now: DateTime<Utc>,
) -> Result<()> {
    let files = serde_json::to_string(files).unwrap_or_else(|_| "[]".into());
    tx.execute(
        "INSERT INTO weekly_summaries (report_id, week, as_of, written_at, files) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (report_id, week) DO UPDATE SET as_of = excluded.as_of, written_at = excluded.written_at, files = excluded.files",
        params![report_id, week, as_of, time_text(now), files],
    )?;
    Ok(())
}

impl Store {
    pub fn begin_sync_run(&mut self, trigger: &str, symbols_requested: usize, now: DateTime<Utc>) -> Result<i64> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO sync_runs (started_at, trigger, symbols_requested, pid) VALUES (?1, ?2, ?3, ?4)",
                params![time_text(now), trigger, symbols_requested as i64, std::process::id()],
            )?;
            Ok(tx.last_insert_rowid())
        })
    }

    /// Records why a security was not synced (`kind` `failed` or `deferred`) or why a provider
    /// was passed over for a later one (`fell_back`).
    pub fn record_sync_failure(&mut self, run_id: i64, symbol: &str, provider: Option<&str>, reason: &str, kind: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO sync_failures (run_id, symbol, provider, reason, kind) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![run_id, symbol, provider, reason, kind],
            )?;
            Ok(())
        })
    }

    /// Every security whose own provider failed it in the latest runs, with the count.
    pub fn provider_streaks(&self) -> Result<Vec<ProviderStreak>> {
        let mut stmt =
            self.conn.prepare("SELECT symbol, provider, failed_runs, last_reason FROM provider_streaks ORDER BY symbol, provider")?;
        let rows = stmt.query_map([], |r| {
            Ok(ProviderStreak { symbol: r.get(0)?, provider: r.get(1)?, failed_runs: r.get::<_, i64>(2)? as u32, last_reason: r.get(3)? })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Counts one more failing run of `provider` for `symbol` (a second call in the same run
    /// counts once) and returns the consecutive failing runs.
    pub fn record_provider_failure(&mut self, symbol: &str, provider: &str, run_id: i64, reason: &str) -> Result<u32> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO provider_streaks (symbol, provider, failed_runs, last_run_id, last_reason) VALUES (?1, ?2, 1, ?3, ?4)
                 ON CONFLICT (symbol, provider) DO UPDATE SET
                   failed_runs = failed_runs + (last_run_id != excluded.last_run_id),
                   last_run_id = excluded.last_run_id, last_reason = excluded.last_reason",
                params![symbol, provider, run_id, reason],
            )?;
            let runs: i64 = tx.query_row(
                "SELECT failed_runs FROM provider_streaks WHERE symbol = ?1 AND provider = ?2",
                params![symbol, provider],
                |r| r.get(0),
            )?;
            Ok(runs as u32)
        })
    }

    /// Forgets a security's failing runs: it synced.
    pub fn clear_provider_streaks(&mut self, symbol: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute("DELETE FROM provider_streaks WHERE symbol = ?1", [symbol])?;
            Ok(())
        })
    }

    /// Closes a sync run; `outcome` is `ok`, `partial`, `failed` or `interrupted`.
    pub fn finish_sync_run(
        &mut self,
        run_id: i64,
        outcome: &str,
        securities_updated: usize,
        bars_written: usize,
        failures: usize,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE sync_runs SET finished_at = ?2, outcome = ?3, securities_updated = ?4, bars_written = ?5, failures = ?6 WHERE id = ?1",
                params![run_id, time_text(now), outcome, securities_updated as i64, bars_written as i64, failures as i64],
            )?;
            Ok(())
        })
    }

    pub fn sync_runs(&self, limit: usize) -> Result<Vec<SyncRunRow>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, started_at, finished_at, trigger, symbols_requested, securities_updated, bars_written, failures, outcome
             FROM sync_runs ORDER BY id DESC LIMIT ?1",
        )?;
        Ok(stmt.query_map([limit as i64], read_sync_run)?.collect::<rusqlite::Result<_>>()?)
    }

    /// The securities a run did not sync (failed or deferred), in the order recorded.
    pub fn sync_failures(&self, run_id: i64) -> Result<Vec<SyncFailureRow>> {
        self.sync_failure_rows(run_id, "kind != 'fell_back'")
    }

    /// The providers a run passed over for a later one of the chain, and why.
    pub fn sync_fallbacks(&self, run_id: i64) -> Result<Vec<SyncFailureRow>> {
        self.sync_failure_rows(run_id, "kind = 'fell_back'")
    }

    fn sync_failure_rows(&self, run_id: i64, filter: &str) -> Result<Vec<SyncFailureRow>> {
        let sql = format!("SELECT symbol, provider, reason, kind FROM sync_failures WHERE run_id = ?1 AND {filter} ORDER BY rowid");
        let mut stmt = self.conn.prepare(&sql)?;
        Ok(stmt
            .query_map([run_id], |r| Ok(SyncFailureRow { symbol: r.get(0)?, provider: r.get(1)?, reason: r.get(2)?, kind: r.get(3)? }))?
            .collect::<rusqlite::Result<_>>()?)
    }

    pub fn begin_job_run(&mut self, job: &str, scheduled_for: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Result<i64> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO job_runs (job, scheduled_for, started_at, pid) VALUES (?1, ?2, ?3, ?4)",
                params![job, scheduled_for.map(time_text), time_text(now), std::process::id()],
            )?;
            Ok(tx.last_insert_rowid())
        })
    }

    pub fn finish_job_run(
        &mut self,
        run_id: i64,
        outcome: JobRunOutcome,
        counts: &serde_json::Value,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.write(|tx| finish_job_run_in(tx, run_id, outcome, counts, error, now))
    }

    /// Marks runs left `running` by a process that is gone as cancelled (job runs) or
    /// interrupted (sync runs), so `status` stays truthful after a kill. A run is stale when
    /// the process that started it is no longer `alive`, or, for the service's own runs
    /// (job runs and `service` sync runs), when `service_running` is false (the
    /// single-instance lock is free, which also catches a recycled pid). Runs recorded
    /// without a pid, by an older version, are stale when no service is running.
    pub fn close_stale_runs(&mut self, now: DateTime<Utc>, service_running: bool, alive: &dyn Fn(u32) -> bool) -> Result<usize> {
        let stale = |pid: Option<i64>, by_service: bool| match pid.and_then(|pid| u32::try_from(pid).ok()) {
            Some(pid) => !alive(pid) || (by_service && !service_running),
            None => !service_running,
        };
        self.write(|tx| {
            let mut closed = 0;
            let jobs: Vec<(i64, Option<i64>)> = tx
                .prepare("SELECT id, pid FROM job_runs WHERE outcome = 'running'")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            for (id, pid) in jobs {
                if stale(pid, true) {
                    closed += tx.execute(
                        "UPDATE job_runs SET outcome = 'cancelled', finished_at = ?2, error = 'process ended before the run finished' WHERE id = ?1",
                        params![id, time_text(now)],
                    )?;
                }
            }
            let syncs: Vec<(i64, Option<i64>, String)> = tx
                .prepare("SELECT id, pid, trigger FROM sync_runs WHERE outcome = 'running'")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<_>>()?;
            for (id, pid, trigger) in syncs {
                if stale(pid, trigger == "service") {
                    closed += tx.execute(
                        "UPDATE sync_runs SET outcome = 'interrupted', finished_at = ?2 WHERE id = ?1",
                        params![id, time_text(now)],
                    )?;
                }
            }
            Ok(closed)
        })
    }

    /// The latest run of `job`, whatever its outcome.
    pub fn last_job_run(&self, job: &str) -> Result<Option<JobRun>> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM job_runs WHERE job = ?1 ORDER BY started_at DESC, id DESC LIMIT 1");
        Ok(self.conn.query_row(&sql, [job], read_job_run).optional()?)
    }

    /// The latest successful run of `job`.
    pub fn last_successful_job_run(&self, job: &str) -> Result<Option<JobRun>> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM job_runs WHERE job = ?1 AND outcome = 'ok' ORDER BY started_at DESC, id DESC LIMIT 1");
        Ok(self.conn.query_row(&sql, [job], read_job_run).optional()?)
    }

    pub fn job_runs(&self, job: &str, limit: usize) -> Result<Vec<JobRun>> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM job_runs WHERE job = ?1 ORDER BY started_at DESC, id DESC LIMIT ?2");
        let mut stmt = self.conn.prepare(&sql)?;
        Ok(stmt.query_map(params![job, limit as i64], read_job_run)?.collect::<rusqlite::Result<_>>()?)
    }

    /// Records that the weekly summary of `week` (`2023-W20`) for a report was written.
    pub fn record_weekly_summary(
        &mut self,
        report_id: &str,
        week: &str,
        as_of: NaiveDate,
        files: &[String],
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.write(|tx| record_weekly_summary_in(tx, report_id, week, as_of, files, now))
    }

    pub fn has_weekly_summary(&self, report_id: &str, week: &str) -> Result<bool> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM weekly_summaries WHERE report_id = ?1 AND week = ?2)",
            params![report_id, week],
            |r| r.get(0),
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn every_job_outcome_keeps_its_stored_text() {
        use strum::{IntoEnumIterator, VariantNames};
        // The text in existing databases and in `status --json`: it must never change.
        let stored = ["running", "ok", "failed", "skipped", "cancelled"];
        assert_eq!(JobRunOutcome::VARIANTS, stored);
        for (outcome, text) in JobRunOutcome::iter().zip(stored) {
            assert_eq!(outcome.as_str(), text);
            assert_eq!(JobRunOutcome::parse(text), outcome);
            assert_eq!(serde_json::to_string(&outcome).unwrap(), format!("\"{text}\""));
        }
        assert_eq!(JobRunOutcome::parse("OK"), JobRunOutcome::Running);
    }

    #[test]
    fn job_runs_remember_the_last_success_and_abandoned_runs_are_closed() {
        let mut store = Store::open_in_memory().unwrap();
        let t = |h| Utc.with_ymd_and_hms(2026, 11, 27, h, 0, 0).unwrap();
        let ok = store.begin_job_run("sync_cn_hk", Some(t(8)), t(8)).unwrap();
        store.finish_job_run(ok, JobRunOutcome::Ok, &serde_json::json!({"bars": 3}), None, t(9)).unwrap();
        let failed = store.begin_job_run("sync_cn_hk", Some(t(10)), t(10)).unwrap();
        store.finish_job_run(failed, JobRunOutcome::Failed, &serde_json::json!({}), Some("boom"), t(11)).unwrap();
        store.begin_job_run("sync_cn_hk", None, t(12)).unwrap();
        assert_eq!(store.last_successful_job_run("sync_cn_hk").unwrap().unwrap().id, ok);
        assert_eq!(store.last_job_run("sync_cn_hk").unwrap().unwrap().outcome, JobRunOutcome::Running);
        // This process is alive and the service (by assumption) running: nothing is stale.
        assert_eq!(store.close_stale_runs(t(13), true, &|_| true).unwrap(), 0);
        // The service's lock is free: its job run is stale even though the pid is alive
        // (a recycled pid).
        assert_eq!(store.close_stale_runs(t(13), false, &|_| true).unwrap(), 1);
        assert_eq!(store.last_job_run("sync_cn_hk").unwrap().unwrap().outcome, JobRunOutcome::Cancelled);
        assert_eq!(store.last_job_run("weekly_summary").unwrap(), None);
    }

    #[test]
    fn a_cli_sync_run_is_stale_only_when_its_process_is_gone() {
        let mut store = Store::open_in_memory().unwrap();
        let t = |h| Utc.with_ymd_and_hms(2026, 11, 27, h, 0, 0).unwrap();
        let cli = store.begin_sync_run("cli", 3, t(8)).unwrap();
        let me = std::process::id();
        // No service is running, but the CLI process that started the run is alive.
        assert_eq!(store.close_stale_runs(t(9), false, &|pid| pid == me).unwrap(), 0);
        assert_eq!(store.sync_runs(1).unwrap()[0].outcome, "running");
        // Its process is gone.
        assert_eq!(store.close_stale_runs(t(9), true, &|pid| pid != me).unwrap(), 1);
        let run = &store.sync_runs(1).unwrap()[0];
        assert_eq!((run.id, run.outcome.as_str(), run.finished_at), (cli, "interrupted", Some(t(9))));
    }

    #[test]
    fn provider_streaks_count_runs_not_calls_and_clear_on_success() {
        let mut store = Store::open_in_memory().unwrap();
        assert_eq!(store.record_provider_failure("0700.HK", "tencent", 1, "timed out").unwrap(), 1);
        // A second failure in run 1 (say a probe) is the same failing run.
        assert_eq!(store.record_provider_failure("0700.HK", "tencent", 1, "dropped").unwrap(), 1);
        assert_eq!(store.record_provider_failure("0700.HK", "tencent", 2, "dropped").unwrap(), 2);
        assert_eq!(store.record_provider_failure("9988.HK", "tencent", 2, "500").unwrap(), 1);
        let streaks = store.provider_streaks().unwrap();
        assert_eq!(
            streaks.iter().map(|s| (s.symbol.as_str(), s.failed_runs, s.last_reason.as_str())).collect::<Vec<_>>(),
            vec![("0700.HK", 2, "dropped"), ("9988.HK", 1, "500")]
        );
        store.clear_provider_streaks("0700.HK").unwrap();
        assert_eq!(store.provider_streaks().unwrap().len(), 1);
    }
}
