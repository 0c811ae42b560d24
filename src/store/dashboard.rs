//! Read-only queries for the web dashboard and `/metrics`: the weekly summaries the service
//! has written, how many runs of each job ended each way, and how many bars are stored.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::params;

use super::{Result, Store};

/// A weekly summary the service wrote (a row of `weekly_summaries`).
#[derive(Clone, Debug, PartialEq)]
pub struct WrittenSummary {
    pub week: String,
    pub as_of: NaiveDate,
    pub written_at: DateTime<Utc>,
}

impl Store {
    /// The weekly summaries written for a report, keyed by week label (`2023-W20`).
    pub fn written_summaries(&self, report_id: &str) -> Result<BTreeMap<String, WrittenSummary>> {
        let mut stmt = self.conn.prepare_cached("SELECT week, as_of, written_at FROM weekly_summaries WHERE report_id = ?1")?;
        let rows =
            stmt.query_map(params![report_id], |r| Ok(WrittenSummary { week: r.get(0)?, as_of: r.get(1)?, written_at: r.get(2)? }))?;
        let mut out = BTreeMap::new();
        for row in rows {
            let row = row?;
            out.insert(row.week.clone(), row);
        }
        Ok(out)
    }

    /// `(job, outcome, runs)` for every job and outcome recorded, sorted.
    pub fn job_outcome_counts(&self) -> Result<Vec<(String, String, u64)>> {
        let mut stmt =
            self.conn.prepare_cached("SELECT job, outcome, COUNT(*) FROM job_runs GROUP BY job, outcome ORDER BY job, outcome")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)? as u64)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Daily bars and FX rates stored. A full count: callers cache it (it reads every row).
    pub fn stored_bar_count(&self) -> Result<u64> {
        let count: i64 =
            self.conn.query_row("SELECT (SELECT COUNT(*) FROM daily_bars) + (SELECT COUNT(*) FROM fx_rates)", [], |r| r.get(0))?;
        Ok(count as u64)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::store::JobRunOutcome;

    #[test]
    fn outcome_counts_and_written_summaries_come_back_as_recorded() {
        let mut store = Store::open_in_memory().unwrap();
        let t = |h| Utc.with_ymd_and_hms(2026, 11, 27, h, 0, 0).unwrap();
        for (hour, outcome) in [(1, JobRunOutcome::Ok), (2, JobRunOutcome::Ok), (3, JobRunOutcome::Failed)] {
            let id = store.begin_job_run("sync_cn_hk", None, t(hour)).unwrap();
            store.finish_job_run(id, outcome, &serde_json::json!({}), None, t(hour)).unwrap();
        }
        store.begin_job_run("sync_us", None, t(4)).unwrap();
        assert_eq!(
            store.job_outcome_counts().unwrap(),
            vec![
                ("sync_cn_hk".to_string(), "failed".to_string(), 1),
                ("sync_cn_hk".to_string(), "ok".to_string(), 2),
                ("sync_us".to_string(), "running".to_string(), 1),
            ]
        );
        assert_eq!(store.stored_bar_count().unwrap(), 0);

        let report = crate::catalog::parse_report(
            std::path::Path::new("seed.toml"),
            include_str!("../../data/reports/zheshang-2023-02-14-chatgpt.toml"),
        )
        .unwrap();
        store.load_report(&report, t(0)).unwrap();
        let friday = NaiveDate::from_ymd_opt(2023, 5, 19).unwrap();
        store.record_weekly_summary(&report.id, "2023-W20", friday, &[], t(5)).unwrap();
        let written = store.written_summaries(&report.id).unwrap();
        assert_eq!(written.len(), 1);
        assert_eq!(written["2023-W20"], WrittenSummary { week: "2023-W20".to_string(), as_of: friday, written_at: t(5) });
        assert!(store.written_summaries("other").unwrap().is_empty());
    }
}
