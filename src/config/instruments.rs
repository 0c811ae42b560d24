//! `[instruments]`: the security master's sources, aliases and listing preference.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{ConfigError, excerpt, is_http_url};

/// The security master and name resolution (`ratingwatch instruments …`, `names`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InstrumentsConfig {
    /// The user's own alias file, read on top of the shipped `data/aliases.toml` (its entries
    /// win). Unset: only the shipped aliases.
    pub aliases: Option<PathBuf>,
    /// Which listing of a multi-listed company is primary: venues `A`, `HK`, `US`, best first.
    /// Parsed when the file is read (unknown or repeated venues are errors naming the key).
    #[serde(deserialize_with = "listing_preference")]
    pub prefer: crate::names::ListingPreference,
    /// Eastmoney's list endpoint host (`/api/qt/clist/get`); timeouts, retries and the rate
    /// limit are `[providers.eastmoney]`'s.
    pub list_base_url: String,
    /// Rows per list page; Eastmoney serves at most 100.
    pub list_page_size: u32,
    /// Eastmoney's symbol search host (`/codetable/search/web`), `[providers.eastmoney]` limits.
    pub search_base_url: String,
    /// Tencent's smartbox host (`/s3/`), the search fallback; `[providers.tencent]` limits.
    pub smartbox_base_url: String,
}

impl Default for InstrumentsConfig {
    fn default() -> Self {
        InstrumentsConfig {
            aliases: None,
            prefer: crate::names::ListingPreference::default(),
            list_base_url: "https://push2.eastmoney.com".to_string(),
            list_page_size: 100,
            search_base_url: "https://search-codetable.eastmoney.com".to_string(),
            smartbox_base_url: "https://smartbox.gtimg.cn".to_string(),
        }
    }
}

/// `instruments.prefer`: venues best first, with the key named in the message.
fn listing_preference<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<crate::names::ListingPreference, D::Error> {
    let items = Vec::<String>::deserialize(deserializer)?;
    crate::names::ListingPreference::parse(&items)
        .map_err(|message| serde::de::Error::custom(format!("config key `instruments.prefer`: {message}")))
}

impl InstrumentsConfig {
    /// The page size and the three hosts; `prefer` is checked as the file is read.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: String| Err(ConfigError::Invalid { key: key.to_string(), message });
        if !(1..=100).contains(&self.list_page_size) {
            return invalid("instruments.list_page_size", "must be 1 to 100 (Eastmoney serves at most 100 rows a page)".to_string());
        }
        for (key, url) in [
            ("instruments.list_base_url", &self.list_base_url),
            ("instruments.search_base_url", &self.search_base_url),
            ("instruments.smartbox_base_url", &self.smartbox_base_url),
        ] {
            if !is_http_url(url) {
                return invalid(key, format!("`{}` must start with http:// or https://", excerpt(url)));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::config::load_text;

    #[test]
    fn listing_preference_is_checked_and_partial_lists_fill_in() {
        let err = load_text("[instruments]\nprefer = [\"A\", \"JP\"]\n", &[]).unwrap_err().to_string();
        assert!(err.contains("instruments.prefer") && err.contains("JP"), "{err}");
        let config = load_text("[instruments]\nprefer = [\"US\"]\n", &[]).unwrap();
        use crate::names::Venue;
        assert_eq!(config.instruments.prefer.venues(), &[Venue::Us, Venue::A, Venue::Hk]);
    }
}
