//! `[output]`: where the weekly files are written.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::ConfigError;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutputConfig {
    /// Weekly files go to `<dir>/<report-id>/<YYYY>-W<ww>.{md,json,html}`.
    pub dir: PathBuf,
}

impl Default for OutputConfig {
    fn default() -> Self {
        OutputConfig { dir: PathBuf::from("data/out") }
    }
}

impl OutputConfig {
    /// Nothing to check beyond the type.
    pub fn validate(&self) -> Result<(), ConfigError> {
        Ok(())
    }
}
