//! `[providers.<name>]` (each provider's connection settings) and `[providers.chains]`.

use serde::{Deserialize, Serialize};

use super::{ConfigError, checked_url, excerpt};
use crate::ids::ProviderName;
use crate::symbol::Market;

/// One provider's connection settings. Keys left out of the file keep that provider's
/// defaults from [`ProvidersConfig::default`], because [`Config::load`](super::Config::load) lays the file over
/// the defaults. The `serde(default)`s below only let a partial table pass the first,
/// line-numbered check of the file on its own; their values are never used.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// Scheme and host (and optional path prefix); the client appends the real API path.
    #[serde(default)]
    pub base_url: String,
    /// Whole-request timeout in seconds.
    #[serde(default)]
    pub timeout_secs: u64,
    /// Sustained requests per second to this host; 0 turns the limit off.
    #[serde(default)]
    pub requests_per_second: f64,
    /// Retries after the first attempt, for timeouts, 5xx and 429 only.
    #[serde(default)]
    pub max_retries: u32,
}

/// The slowest rate limit accepted (one request every 1,000 s); below it the spacing
/// between requests would not fit in a timer.
pub const MIN_REQUESTS_PER_SECOND: f64 = 0.001;
/// The fastest rate limit accepted; to turn the limit off, use 0.
pub const MAX_REQUESTS_PER_SECOND: f64 = 1000.0;
pub const MAX_TIMEOUT_SECS: u64 = 3600;
pub const MAX_RETRIES: u32 = 10;

impl ProviderConfig {
    /// Checks one provider's table; `key` is its config key (`providers.yahoo`).
    /// The one place these rules live: [`ProvidersConfig::validate`] and the provider clients call it.
    pub fn validate(&self, key: &str) -> Result<(), ConfigError> {
        let invalid = |field: &str, message: String| Err(ConfigError::Invalid { key: format!("{key}.{field}"), message });
        if let Err(reason) = checked_url(&self.base_url, &["http", "https"], true) {
            return invalid(
                "base_url",
                format!("`{}` is not a usable base URL ({reason}); example: \"https://web.ifzq.gtimg.cn\"", excerpt(&self.base_url)),
            );
        }
        let rate = self.requests_per_second;
        if !(rate == 0.0 || (MIN_REQUESTS_PER_SECOND..=MAX_REQUESTS_PER_SECOND).contains(&rate)) {
            return invalid(
                "requests_per_second",
                format!("{rate:?} must be 0 (no limit) or between {MIN_REQUESTS_PER_SECOND} and {MAX_REQUESTS_PER_SECOND}"),
            );
        }
        if !(1..=MAX_TIMEOUT_SECS).contains(&self.timeout_secs) {
            return invalid("timeout_secs", format!("{} must be between 1 and {MAX_TIMEOUT_SECS}", self.timeout_secs));
        }
        if self.max_retries > MAX_RETRIES {
            return invalid("max_retries", format!("{} must be at most {MAX_RETRIES}", self.max_retries));
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProvidersConfig {
    pub tencent: ProviderConfig,
    pub eastmoney: ProviderConfig,
    pub yahoo: ProviderConfig,
    pub chains: ChainsConfig,
}

impl Default for ProvidersConfig {
    /// The one source of provider defaults (documented in `config/ratingwatch.toml`).
    fn default() -> Self {
        ProvidersConfig {
            tencent: ProviderConfig {
                base_url: "https://web.ifzq.gtimg.cn".to_string(),
                timeout_secs: 15,
                requests_per_second: 5.0,
                max_retries: 2,
            },
            // Eastmoney bans IPs that call often; one request every 3 s is the conservative default.
            eastmoney: ProviderConfig {
                base_url: "https://push2his.eastmoney.com".to_string(),
                timeout_secs: 15,
                requests_per_second: 0.33,
                max_retries: 1,
            },
            yahoo: ProviderConfig {
                base_url: "https://query1.finance.yahoo.com".to_string(),
                timeout_secs: 15,
                requests_per_second: 2.0,
                max_retries: 2,
            },
            chains: ChainsConfig::default(),
        }
    }
}

impl ProvidersConfig {
    /// Each provider's table with its config key, for validation.
    pub fn each(&self) -> [(&'static str, &ProviderConfig); 3] {
        [("providers.tencent", &self.tencent), ("providers.eastmoney", &self.eastmoney), ("providers.yahoo", &self.yahoo)]
    }
}

/// The order providers are tried in, per market; an unknown name is refused when the config
/// is read (see [`ProviderName`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChainsConfig {
    /// Shanghai and Shenzhen shares and the CSI 300.
    pub cn: Vec<ProviderName>,
    pub hk: Vec<ProviderName>,
    pub us: Vec<ProviderName>,
    pub fx: Vec<ProviderName>,
}

impl ChainsConfig {
    /// The providers to try for a market, in order.
    pub fn for_market(&self, market: Market) -> &[ProviderName] {
        match market {
            Market::Sh | Market::Sz => &self.cn,
            Market::Hk => &self.hk,
            Market::Us => &self.us,
            Market::Fx => &self.fx,
        }
    }
}

impl Default for ChainsConfig {
    fn default() -> Self {
        use ProviderName::{Eastmoney, Tencent, Yahoo};
        ChainsConfig {
            cn: vec![Tencent, Eastmoney, Yahoo],
            hk: vec![Tencent, Eastmoney, Yahoo],
            us: vec![Yahoo, Tencent, Eastmoney],
            fx: vec![Yahoo, Eastmoney],
        }
    }
}

impl ProvidersConfig {
    /// Every chain names a provider and every provider's table is usable.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (key, chain) in [
            ("providers.chains.cn", &self.chains.cn),
            ("providers.chains.hk", &self.chains.hk),
            ("providers.chains.us", &self.chains.us),
            ("providers.chains.fx", &self.chains.fx),
        ] {
            if chain.is_empty() {
                return Err(ConfigError::Invalid {
                    key: key.to_string(),
                    message: "needs at least one provider (example: [\"tencent\", \"eastmoney\"])".to_string(),
                });
            }
        }
        for (key, provider) in self.each() {
            provider.validate(key)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_text;

    #[test]
    fn a_partial_provider_table_keeps_that_providers_documented_defaults() {
        // Eastmoney's documented default is 1 retry (the generic serde default used to give 2).
        let config = load_text("[providers.eastmoney]\ntimeout_secs = 3\n", &[]).unwrap();
        assert_eq!(config.providers.eastmoney.timeout_secs, 3);
        assert_eq!(config.providers.eastmoney.max_retries, 1);
        assert_eq!(config.providers.eastmoney.requests_per_second, 0.33);
        assert_eq!(config.providers.tencent, ProvidersConfig::default().tencent);
        let config = load_text("", &[("RATINGWATCH__PROVIDERS__EASTMONEY__TIMEOUT_SECS", "4")]).unwrap();
        assert_eq!(config.providers.eastmoney.max_retries, 1);
    }
}
