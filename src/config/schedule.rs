//! `[schedule]` and `[schedule.jobs]`: the time zone and each job's cron expression.

use serde::{Deserialize, Serialize};

use super::ConfigError;
use crate::ids::Tz;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScheduleConfig {
    /// IANA time zone the cron expressions are read in.
    pub timezone: Tz,
    pub jobs: JobsConfig,
    /// Keep writing and pushing weekly summaries for a report whose horizon has ended (the
    /// weeks starting after its horizon end). Default false: its final verdict is its last word.
    pub weekly_after_horizon: bool,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        ScheduleConfig { timezone: Tz::SHANGHAI, jobs: JobsConfig::default(), weekly_after_horizon: false }
    }
}

/// Six-field cron expressions (seconds first), read in `schedule.timezone`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JobsConfig {
    pub sync_cn_hk: String,
    pub sync_us: String,
    pub sync_fx: String,
    pub weekly_summary: String,
    /// The weekly refresh of the security master from Eastmoney's lists.
    pub sync_instruments: String,
    /// The daily ratings feed sync (`ratings sync`), after the A-share price sync.
    pub sync_ratings: String,
}

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig {
            sync_cn_hk: "0 30 16 * * Mon-Fri".to_string(),
            sync_us: "0 30 6 * * Tue-Sat".to_string(),
            sync_fx: "0 45 16 * * Mon-Fri".to_string(),
            weekly_summary: "0 0 18 * * Fri".to_string(),
            sync_instruments: "0 0 5 * * Sun".to_string(),
            sync_ratings: "0 0 17 * * Mon-Fri".to_string(),
        }
    }
}

impl ScheduleConfig {
    /// The time zone is checked by its type ([`Tz`]) as the file is read; the cron
    /// expressions by `schedule` when the service builds its schedules.
    pub fn validate(&self) -> Result<(), ConfigError> {
        Ok(())
    }
}
