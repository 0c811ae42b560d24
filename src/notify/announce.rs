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
//! - `broker_rating` (off by default): a rating the `sync_ratings` job stores for the first
//!   time, when it is an upgrade, a downgrade or a first coverage ([`is_rating_news`]) published
//!   within `ratings.announce_within_days` of the sync's date; keyed by its info code, so a
//!   re-run or a restart never queues it twice.

use chrono::{DateTime, NaiveDate, Utc};

use super::channel::Channels;
use super::{events, rating};
use crate::analysis::model::{Status, Verdict, WeeklySummary};
use crate::catalog::RatingRule;
use crate::config::{ConfigError, EventKind, NotifyConfig};
use crate::ratings::{BrokerBook, Change, RatingRecord};
use crate::report::RenderOptions;
use crate::store::{JobRunOutcome, NewOutboxMessage};

/// Whether a newly stored rating is news: an upgrade, a downgrade or a first coverage (not a
/// maintained rating) published no more than `within_days` days before `today` (the first
/// sync back-fills years of history, which is not news).
pub fn is_rating_news(record: &RatingRecord, today: NaiveDate, within_days: u32) -> bool {
    let oldest = today - chrono::Days::new(within_days.into());
    record.change != Change::Maintained && record.date >= oldest
}

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

    /// The `broker_rating` rows of a rating newly stored on `today` (`sync_ratings` job), keyed
    /// `broker_rating:<info_code>:<channel>`; none when it is not news ([`is_rating_news`]) or
    /// no channel lists the event.
    pub fn broker_rating_rows(
        &self,
        record: &RatingRecord,
        book: &BrokerBook,
        (today, within_days): (NaiveDate, u32),
        now: DateTime<Utc>,
    ) -> Vec<NewOutboxMessage> {
        if !is_rating_news(record, today, within_days) || self.channels.for_event(EventKind::BrokerRating).next().is_none() {
            return Vec::new();
        }
        let pointer = format!("ratingwatch ratings list --symbol {}", record.symbol);
        let message = events::broker_rating(&crate::report::RatingNews::new(record, book, pointer), now);
        events::for_channels(&message, &self.channels, &format!("broker_rating:{}", record.info_code))
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

    fn rating(code: &str, date: NaiveDate, change: Change) -> RatingRecord {
        RatingRecord {
            info_code: code.to_string(),
            symbol: crate::symbol::Symbol::parse("600941.SH").unwrap(),
            name: "中国移动".into(),
            broker: "国泰君安".into(),
            broker_full: "国泰君安证券股份有限公司".into(),
            analysts: "甲,乙".into(),
            date,
            rating: "增持".into(),
            normalized: Some("买入".into()),
            normalized_value: Some(3),
            previous: (change != Change::FirstCoverage).then(|| "中性".to_string()),
            previous_value: (change != Change::FirstCoverage).then_some(2),
            change,
            target_price: None,
            title: "点评".into(),
            pdf_url: crate::ratings::pdf_url(code),
        }
    }

    #[test]
    fn rating_news_is_a_change_or_first_coverage_inside_the_window() {
        let day = |d| NaiveDate::from_ymd_opt(2023, 6, d).unwrap();
        let today = day(15);
        // Window of 7 days before 06-15: 06-08 (15 − 7) is the oldest date announced.
        for change in [Change::FirstCoverage, Change::Up, Change::Down] {
            assert!(is_rating_news(&rating("A", day(15), change), today, 7), "{change:?} on the sync's date");
            assert!(is_rating_news(&rating("A", day(8), change), today, 7), "{change:?} 7 days before");
            assert!(!is_rating_news(&rating("A", day(7), change), today, 7), "{change:?} 8 days before: history");
        }
        assert!(!is_rating_news(&rating("A", day(15), Change::Maintained), today, 7), "a maintained rating is not news");
        // 0 days: only the sync's date.
        assert!(is_rating_news(&rating("A", day(15), Change::Up), today, 0));
        assert!(!is_rating_news(&rating("A", day(14), Change::Up), today, 0));
    }

    #[test]
    fn broker_rating_goes_only_to_channels_that_list_it_keyed_by_info_code() {
        let text = "[[notify.channels]]\nname = \"all\"\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9/\"\n\
                    [[notify.channels]]\nname = \"ratings\"\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9/\"\nevents = [\"broker_rating\"]\n";
        let config: crate::config::Config = toml::from_str(text).unwrap();
        let notifier = Notifier::from_config(&config.notify, |_| None).unwrap().unwrap();
        let book = BrokerBook::load(None).unwrap();
        let today = NaiveDate::from_ymd_opt(2023, 6, 15).unwrap();
        let now = Utc::now();
        let rows = notifier.broker_rating_rows(&rating("AP1", today, Change::Up), &book, (today, 7), now);
        assert_eq!(rows.len(), 1, "the channel with an empty events list does not get broker_rating");
        assert_eq!(
            (rows[0].dedup_key.as_str(), rows[0].channel.as_str(), rows[0].event.as_str()),
            ("broker_rating:AP1:ratings", "ratings", "broker_rating")
        );
        assert_eq!(rows[0].title, "国泰君安 upgrades 中国移动 (600941.SH) to 增持 (was 中性)");
        let message: crate::notify::Message = serde_json::from_str(&rows[0].payload).unwrap();
        assert_eq!(message.id, "broker_rating:AP1:ratings");
        assert!(message.html.is_some() && message.plain.is_some() && message.digest.is_none());
        assert_eq!(message.pointer, "ratingwatch ratings list --symbol 600941.SH");
        assert!(notifier.broker_rating_rows(&rating("AP2", today, Change::Maintained), &book, (today, 7), now).is_empty());
        // No channel lists it: nothing, whatever the rating.
        let only_all = Notifier::from_config(
            &toml::from_str::<crate::config::Config>(text.split("[[notify.channels]]\nname = \"ratings\"").next().unwrap()).unwrap().notify,
            |_| None,
        )
        .unwrap()
        .unwrap();
        assert!(only_all.broker_rating_rows(&rating("AP1", today, Change::Up), &book, (today, 7), now).is_empty());
        // The other events still reach the channel with an empty list.
        assert_eq!(only_all.channels.for_event(EventKind::WeeklySummary).count(), 1);
    }
}
