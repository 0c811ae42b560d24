//! `[reports]`: the folder of report definition files.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::ConfigError;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReportsConfig {
    /// Folder of report definition files (`*.toml`), loaded by `init` and on first use.
    pub dir: PathBuf,
}

impl Default for ReportsConfig {
    fn default() -> Self {
        ReportsConfig { dir: PathBuf::from("data/reports") }
    }
}

impl ReportsConfig {
    /// Nothing to check beyond the type.
    pub fn validate(&self) -> Result<(), ConfigError> {
        Ok(())
    }
}
