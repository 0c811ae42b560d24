//! `[service]`: shutdown grace and the first start's sync.

use serde::{Deserialize, Serialize};

use super::ConfigError;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServiceConfig {
    /// Seconds a running job may take to finish after SIGINT/SIGTERM before it is rolled back.
    pub grace_period_secs: u64,
    /// Sync on start when the database has no prices yet (first start on a fresh machine).
    pub initial_sync: bool,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig { grace_period_secs: 30, initial_sync: true }
    }
}

pub const MAX_GRACE_PERIOD_SECS: u64 = 86_400;

impl ServiceConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.grace_period_secs > MAX_GRACE_PERIOD_SECS {
            return Err(ConfigError::Invalid {
                key: "service.grace_period_secs".to_string(),
                message: format!("{} must be at most {MAX_GRACE_PERIOD_SECS} (one day)", self.grace_period_secs),
            });
        }
        Ok(())
    }
}
