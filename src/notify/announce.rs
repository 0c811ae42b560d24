//! What to announce, decided from model values and what was announced before. Pure: the
//! caller reads the previous announcements and writes the result (one transaction each).
//!
//! - `verdict`: once per report, when its status is final (held / not held). A report that
//!   was already final when the service first saw it is announced then.
//! - `rating_change`: while the horizon is pending, per sector and for the basket, the
//!   latest band change under the anti-flap rule ([`super::rating`]) confirmed within
//!   `notify.rating_lookback_days` of the latest close, unless it was announced already.
//! - `data_health`: a job whose last `notify.failing_runs` finished runs all failed, or the
//!   benchmark more than `notify.benchmark_stale_weekdays` weekdays behind; once when the
//!   problem starts and once when it clears.

use chrono::{DateTime, NaiveDate, Utc};

use super::channel::Channels;
use super::{events, rating};
use crate::analysis::model::{Status, Verdict, WeeklySummary};
use crate::catalog::RatingRule;
use crate::config::{ConfigError, NotifyConfig};
use crate::report::RenderOptions;
use crate::store::{JobRunOutcome, NewOutboxMessage};

/// A fact to record (`key` → `value` in the announcements table) with its messages.
#[derive(Clone, Debug, PartialEq)]
pub struct Announcement {
    pub key: String,
    pub value: String,
    pub rows: Vec<NewOutboxMessage>,
}

/// The configured channels and the rules of `[notify]`.
#[derive(Clone, Debug)]
pub struct Notifier {
    pub channels: Channels,
    pub config: NotifyConfig,
    /// `http.public_url`: where chat messages link to; empty for no link.
    pub public_url: String,
}

impl Notifier {
    /// `None` when no channel is configured. Secrets are read through `env`.
    pub fn from_config(config: &NotifyConfig, env: impl Fn(&str) -> Option<String>) -> Result<Option<Notifier>, ConfigError> {
        if config.channels.is_empty() {
            return Ok(None);
        }
        Ok(Some(Notifier { channels: Channels::from_config(config, env)?, config: config.clone(), public_url: String::new() }))
    }

    /// The notifier with chat messages linking to the dashboard at `public_url`.
    pub fn with_public_url(mut self, public_url: &str) -> Notifier {
        self.public_url = public_url.to_string();
        self
    }

    /// The rows of one weekly summary, keyed `weekly_summary:<report>:<week>[:again:<time>]:<channel>`.
    pub fn weekly_rows(
        &self,
        summary: &WeeklySummary,
        render: &RenderOptions,
        again: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Vec<NewOutboxMessage> {
        let pointer = events::pointer(&self.config, &summary.report_id, Some(&summary.week.to_string()));
        let message = events::weekly_summary(summary, render, &self.public_url, pointer, now);
        let mut key = format!("weekly_summary:{}:{}", summary.report_id, summary.week);
        if let Some(at) = again {
            key.push_str(&format!(":again:{}", at.timestamp_millis()));
        }
        events::for_channels(&message, &self.channels, &key)
    }

    /// The verdict or rating changes of one report. `announced` reads a previous value.
    pub fn report_announcements(
        &self,
        verdict: &Verdict,
        rule: &RatingRule,
        render: &RenderOptions,
        announced: impl Fn(&str) -> Option<String>,
        now: DateTime<Utc>,
    ) -> Vec<Announcement> {
        let mut out = Vec::new();
        if verdict.status != Status::Pending {
            let key = format!("verdict:{}", verdict.report_id);
            let value = match verdict.status {
                Status::Held => "held",
                _ => "not_held",
            };
            if announced(&key).as_deref() != Some(value) {
                let message =
                    events::verdict(verdict, render, &self.public_url, events::pointer(&self.config, &verdict.report_id, None), now);
                out.push(Announcement { rows: events::for_channels(&message, &self.channels, &key), key, value: value.to_string() });
            }
            return out;
        }
        let oldest_news = verdict.end_date - chrono::Duration::days(self.config.rating_lookback_days as i64);
        for group in verdict.sectors.iter().chain(std::iter::once(&verdict.basket)) {
            let changes = rating::band_changes(&group.path, rule, self.config.rating_confirm_closes as usize);
            let Some(change) = changes.last() else { continue };
            if change.confirmed < oldest_news {
                continue;
            }
            let key = format!("rating:{}:{}", verdict.report_id, group.name);
            let value = format!("{}@{}", rule.label(change.to).en, change.since);
            if announced(&key).as_deref() == Some(value.as_str()) {
                continue;
            }
            let pointer = events::pointer(&self.config, &verdict.report_id, None);
            let message =
                events::rating_change(verdict, group, change, rule, self.config.rating_confirm_closes, &self.public_url, pointer, now);
            let dedup = format!("rating_change:{}:{}:{}:{}", verdict.report_id, group.name, change.since, rule.label(change.to).en);
            out.push(Announcement { rows: events::for_channels(&message, &self.channels, &dedup), key, value });
        }
        out
    }

    /// A job's health after a run: `outcomes` are its finished runs, newest first (this one
    /// included). Skipped and cancelled runs neither count nor clear.
    pub fn job_health(&self, job: &str, outcomes: &[JobRunOutcome], announced: Option<&str>, now: DateTime<Utc>) -> Option<Announcement> {
        let decisive: Vec<JobRunOutcome> =
            outcomes.iter().copied().filter(|o| matches!(o, JobRunOutcome::Ok | JobRunOutcome::Failed)).collect();
        let failing = decisive.iter().take_while(|o| **o == JobRunOutcome::Failed).count();
        let key = format!("health:job:{job}");
        let condition = format!("job {job}");
        if failing >= self.config.failing_runs as usize && announced != Some("problem") {
            let detail =
                format!("The {job} job failed its last {failing} runs (threshold: notify.failing_runs = {}).", self.config.failing_runs);
            return Some(self.health(key, "problem", &condition, false, &detail, now));
        }
        if decisive.first() == Some(&JobRunOutcome::Ok) && announced == Some("problem") {
            return Some(self.health(key, "ok", &condition, true, &format!("The {job} job succeeded again."), now));
        }
        None
    }

    /// The benchmark's freshness: `weekdays_behind` weekdays after its latest close `latest`.
    pub fn benchmark_health(
        &self,
        latest: Option<NaiveDate>,
        weekdays_behind: Option<usize>,
        announced: Option<&str>,
        now: DateTime<Utc>,
    ) -> Option<Announcement> {
        let key = "health:benchmark".to_string();
        let stale = weekdays_behind.is_some_and(|behind| behind > self.config.benchmark_stale_weekdays as usize);
        let latest = latest.map_or("none".to_string(), |date| date.to_string());
        if stale && announced != Some("problem") {
            let detail = format!(
                "The benchmark's latest close is {latest}, {} weekdays ago (threshold: notify.benchmark_stale_weekdays = {}). Summaries and verdicts stop at that date.",
                weekdays_behind.unwrap_or_default(),
                self.config.benchmark_stale_weekdays
            );
            return Some(self.health(key, "problem", "benchmark stale", false, &detail, now));
        }
        if !stale && weekdays_behind.is_some() && announced == Some("problem") {
            let detail = format!("The benchmark is up to date again (latest close {latest}).");
            return Some(self.health(key, "ok", "benchmark stale", true, &detail, now));
        }
        None
    }

    fn health(&self, key: String, value: &str, condition: &str, cleared: bool, detail: &str, now: DateTime<Utc>) -> Announcement {
        let message = events::data_health(condition, cleared, detail, now);
        // Each start and each clearing is its own event: the time makes the key unique.
        let dedup = format!("data_health:{key}:{value}:{}", now.timestamp());
        Announcement { rows: events::for_channels(&message, &self.channels, &dedup), key, value: value.to_string() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notifier() -> Notifier {
        let config: crate::config::Config =
            toml::from_str("[[notify.channels]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9/\"\n").unwrap();
        Notifier::from_config(&config.notify, |_| None).unwrap().unwrap()
    }

    #[test]
    fn a_failing_job_is_announced_once_when_it_starts_and_once_when_it_clears() {
        let notifier = notifier();
        let now = Utc::now();
        use JobRunOutcome::{Cancelled, Failed, Ok, Skipped};
        assert_eq!(notifier.job_health("sync_cn_hk", &[Failed, Failed, Ok], None, now), None, "2 failures < 3");
        let start = notifier.job_health("sync_cn_hk", &[Failed, Skipped, Failed, Cancelled, Failed, Ok], None, now).unwrap();
        assert_eq!((start.key.as_str(), start.value.as_str(), start.rows.len()), ("health:job:sync_cn_hk", "problem", 1));
        assert_eq!(notifier.job_health("sync_cn_hk", &[Failed, Failed, Failed, Failed], Some("problem"), now), None, "once");
        let clear = notifier.job_health("sync_cn_hk", &[Ok, Failed, Failed, Failed], Some("problem"), now).unwrap();
        assert_eq!(clear.value, "ok");
        assert!(clear.rows[0].title.contains("cleared"));
        assert_eq!(notifier.job_health("sync_cn_hk", &[Ok], Some("ok"), now), None);
    }

    #[test]
    fn a_stale_benchmark_is_announced_once_and_cleared() {
        let notifier = notifier();
        let now = Utc::now();
        let day = NaiveDate::from_ymd_opt(2023, 5, 12);
        assert_eq!(notifier.benchmark_health(day, Some(3), None, now), None, "3 weekdays is within the default 3");
        assert_eq!(notifier.benchmark_health(day, Some(4), None, now).unwrap().value, "problem");
        assert_eq!(notifier.benchmark_health(day, Some(9), Some("problem"), now), None);
        assert_eq!(notifier.benchmark_health(day, Some(0), Some("problem"), now).unwrap().value, "ok");
    }
}
