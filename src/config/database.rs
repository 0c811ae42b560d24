//! `[database]`: where the SQLite file lives.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::ConfigError;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    pub path: PathBuf,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig { path: PathBuf::from("data/ratingwatch.db") }
    }
}

impl DatabaseConfig {
    /// Nothing to check beyond the type.
    pub fn validate(&self) -> Result<(), ConfigError> {
        Ok(())
    }
}
