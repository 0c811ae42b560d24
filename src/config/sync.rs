//! `[sync]`: history, overlap, concurrency, circuit breakers and provider switching.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::ConfigError;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyncConfig {
    /// First date of history on a security's first sync. Unset: one year before the
    /// earliest report date in the database.
    pub history_start: Option<NaiveDate>,
    /// Calendar days re-fetched before the last stored bar, so revisions overwrite.
    pub overlap_days: u32,
    /// Securities fetched at once.
    pub concurrency: usize,
    /// Consecutive failures of one provider, across securities, that open its circuit: later
    /// securities skip it until a probe succeeds.
    pub breaker_threshold: u32,
    /// Seconds an open circuit waits before letting one probe request through.
    pub breaker_cooldown_secs: u64,
    /// Consecutive runs in which a security's own provider must fail it before the security
    /// switches to the next provider of the chain (and re-fetches its whole history there).
    /// A provider that does not know the symbol is left at once.
    pub switch_after_runs: u32,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            history_start: None,
            overlap_days: 10,
            concurrency: 4,
            breaker_threshold: 3,
            breaker_cooldown_secs: 60,
            switch_after_runs: 3,
        }
    }
}

pub const MAX_CONCURRENCY: usize = 256;
pub const MAX_OVERLAP_DAYS: u32 = 3660;
pub const MAX_BREAKER_THRESHOLD: u32 = 1000;
pub const MAX_SWITCH_AFTER_RUNS: u32 = 1000;
pub const MAX_BREAKER_COOLDOWN_SECS: u64 = 86_400;

impl SyncConfig {
    /// Checks the ranges; errors name the key (`sync.concurrency`).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: String| Err(ConfigError::Invalid { key: key.to_string(), message });
        if !(1..=MAX_CONCURRENCY).contains(&self.concurrency) {
            return invalid("sync.concurrency", format!("{} must be between 1 and {MAX_CONCURRENCY}", self.concurrency));
        }
        if self.overlap_days > MAX_OVERLAP_DAYS {
            return invalid("sync.overlap_days", format!("{} must be at most {MAX_OVERLAP_DAYS}", self.overlap_days));
        }
        for (key, value, max) in [
            ("sync.breaker_threshold", self.breaker_threshold, MAX_BREAKER_THRESHOLD),
            ("sync.switch_after_runs", self.switch_after_runs, MAX_SWITCH_AFTER_RUNS),
        ] {
            if !(1..=max).contains(&value) {
                return invalid(key, format!("{value} must be between 1 and {max}"));
            }
        }
        if self.breaker_cooldown_secs > MAX_BREAKER_COOLDOWN_SECS {
            return invalid(
                "sync.breaker_cooldown_secs",
                format!("{} must be at most {MAX_BREAKER_COOLDOWN_SECS} (one day)", self.breaker_cooldown_secs),
            );
        }
        Ok(())
    }
}
