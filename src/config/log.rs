//! `[log]`: how and how much is logged on stderr.

use serde::{Deserialize, Serialize};

use super::ConfigError;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `text` (human-readable) or `json`.
    pub format: LogFormat,
    /// A tracing filter such as `info` or `ratingwatch=debug`; `RUST_LOG` wins when set.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig { format: LogFormat::Text, level: "info".to_string() }
    }
}

/// How log lines on stderr are written (`log.format`, `--log-format`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[derive(strum::Display, strum::EnumString, strum::VariantNames)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

impl LogConfig {
    /// `format` is checked by its type; `level` by the tracing filter when logging starts.
    pub fn validate(&self) -> Result<(), ConfigError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_text;

    #[test]
    fn log_format_is_a_word_of_the_enum_with_its_key_named() {
        assert_eq!(load_text("[log]\nformat = \"json\"\n", &[]).unwrap().log.format, LogFormat::Json);
        let error = load_text("[log]\nformat = \"xml\"\n", &[]).unwrap_err().to_string();
        assert!(error.contains("format") && error.contains("xml") && error.contains("`text`") && error.contains("`json`"), "{error}");
    }
}
