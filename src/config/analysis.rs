//! `[analysis]`: when a close is stale.

use serde::{Deserialize, Serialize};

use super::ConfigError;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnalysisConfig {
    /// A close older than this many benchmark trading days at the as-of date is stale.
    pub stale_after_trading_days: u32,
}

impl Default for AnalysisConfig {
    fn default() -> Self {
        AnalysisConfig { stale_after_trading_days: 5 }
    }
}

impl AnalysisConfig {
    /// Nothing to check beyond the type.
    pub fn validate(&self) -> Result<(), ConfigError> {
        Ok(())
    }
}
