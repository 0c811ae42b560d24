//! `[ratings]`: the ratings feed from Eastmoney's report list (`ratingwatch ratings …`).

use std::path::PathBuf;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{ConfigError, ProviderConfig};

/// The longest overlap re-fetched before the last stored publish date (one year).
pub const MAX_RATINGS_OVERLAP_DAYS: u32 = 366;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RatingsConfig {
    /// Whether `ratings sync` and the `sync_ratings` job fetch anything.
    pub enabled: bool,
    /// Scheme and host; the client appends `/report/list`.
    pub base_url: String,
    /// Requests per second to the report list; 0 turns the limit off.
    pub requests_per_second: f64,
    pub timeout_secs: u64,
    /// Retries after the first attempt, for timeouts, 5xx and 429 only.
    pub max_retries: u32,
    /// First publish date asked for on a company's first sync. Unset: `sync.history_start`,
    /// or one year before the earliest report date when that is unset too.
    pub history_start: Option<NaiveDate>,
    /// Days re-asked before a company's last stored publish date, so late listings arrive.
    pub overlap_days: u32,
    /// Rows asked per page (Eastmoney accepts up to 5000; clients use 50 to 5000).
    pub page_size: u32,
    /// A file of broker rules laid over the built-in `data/brokers.toml` (same format).
    pub brokers_file: Option<PathBuf>,
    /// Groups of the track record with fewer scored calls are listed but not ranked.
    pub min_sample: usize,
    /// `broker_rating` event: a newly stored rating is announced only when published at most
    /// this many days before the sync's date (the first sync back-fills history, which is not
    /// news). 0: only ratings published on the sync's date.
    pub announce_within_days: u32,
}

impl Default for RatingsConfig {
    fn default() -> Self {
        RatingsConfig {
            enabled: true,
            base_url: "https://reportapi.eastmoney.com".to_string(),
            requests_per_second: 1.0,
            timeout_secs: 30,
            max_retries: 3,
            history_start: None,
            overlap_days: 30,
            page_size: 100,
            brokers_file: None,
            min_sample: 5,
            announce_within_days: 7,
        }
    }
}

impl RatingsConfig {
    /// The connection settings, checked by the one provider-table rule.
    pub fn provider(&self) -> ProviderConfig {
        ProviderConfig {
            base_url: self.base_url.clone(),
            timeout_secs: self.timeout_secs,
            requests_per_second: self.requests_per_second,
            max_retries: self.max_retries,
        }
    }

    /// Checks `[ratings]`, naming keys `ratings.…`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.provider().validate("ratings")?;
        let invalid = |key: &str, message: String| Err(ConfigError::Invalid { key: format!("ratings.{key}"), message });
        if self.overlap_days > MAX_RATINGS_OVERLAP_DAYS {
            return invalid("overlap_days", format!("{} must be at most {MAX_RATINGS_OVERLAP_DAYS}", self.overlap_days));
        }
        if !(1..=5000).contains(&self.page_size) {
            return invalid("page_size", format!("{} must be between 1 and 5000", self.page_size));
        }
        if self.announce_within_days > MAX_RATINGS_OVERLAP_DAYS {
            return invalid("announce_within_days", format!("{} must be at most {MAX_RATINGS_OVERLAP_DAYS}", self.announce_within_days));
        }
        if self.min_sample == 0 {
            return invalid("min_sample", "must be at least 1".to_string());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_values_name_their_ratings_key() {
        assert!(RatingsConfig::default().validate().is_ok());
        let cases = [
            (RatingsConfig { base_url: "ftp://x".into(), ..Default::default() }, "ratings.base_url"),
            (RatingsConfig { requests_per_second: -1.0, ..Default::default() }, "ratings.requests_per_second"),
            (RatingsConfig { timeout_secs: 0, ..Default::default() }, "ratings.timeout_secs"),
            (RatingsConfig { max_retries: 11, ..Default::default() }, "ratings.max_retries"),
            (RatingsConfig { overlap_days: 367, ..Default::default() }, "ratings.overlap_days"),
            (RatingsConfig { page_size: 0, ..Default::default() }, "ratings.page_size"),
            (RatingsConfig { min_sample: 0, ..Default::default() }, "ratings.min_sample"),
            (RatingsConfig { announce_within_days: 367, ..Default::default() }, "ratings.announce_within_days"),
        ];
        for (config, key) in cases {
            match config.validate() {
                Err(ConfigError::Invalid { key: named, .. }) => assert_eq!(named, key),
                other => panic!("{key}: {other:?}"),
            }
        }
    }
}
