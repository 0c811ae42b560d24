//! Configuration: built-in defaults → file → environment → command-line flags.
//!
//! Invariants: every key has a default here and a documented line in
//! `config/ratingwatch.toml`; unknown keys are errors that name the key; nothing outside this
//! module reads `RATINGWATCH__…` variables. The effective config is a plain value passed down.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Environment variables of the form `RATINGWATCH__SECTION__KEY=value` override file keys
/// (`RATINGWATCH__SYNC__CONCURRENCY=8`, `RATINGWATCH__PROVIDERS__YAHOO__BASE_URL=…`).
pub const ENV_PREFIX: &str = "RATINGWATCH__";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("environment variable {var}: {message}")]
    Env { var: String, message: String },
    #[error("config key `{key}`: {message}")]
    Invalid { key: String, message: String },
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub database: DatabaseConfig,
    pub reports: ReportsConfig,
    pub schedule: ScheduleConfig,
    pub output: OutputConfig,
    pub sync: SyncConfig,
    pub providers: ProvidersConfig,
    pub analysis: AnalysisConfig,
    pub instruments: InstrumentsConfig,
    pub service: ServiceConfig,
    pub log: LogConfig,
}

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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScheduleConfig {
    /// IANA time zone the cron expressions are read in.
    pub timezone: String,
    pub jobs: JobsConfig,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        ScheduleConfig { timezone: "Asia/Shanghai".to_string(), jobs: JobsConfig::default() }
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
}

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig {
            sync_cn_hk: "0 30 16 * * Mon-Fri".to_string(),
            sync_us: "0 30 6 * * Tue-Sat".to_string(),
            sync_fx: "0 45 16 * * Mon-Fri".to_string(),
            weekly_summary: "0 0 18 * * Fri".to_string(),
        }
    }
}

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
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig { history_start: None, overlap_days: 10, concurrency: 4 }
    }
}

/// One provider's connection settings. Keys left out of the file keep that provider's
/// defaults (see [`ProvidersConfig::default`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// Scheme and host (and optional path prefix); the client appends the real API path.
    #[serde(default)]
    pub base_url: String,
    /// Whole-request timeout in seconds.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// Sustained requests per second to this host; 0 turns the limit off.
    #[serde(default = "unset_rate")]
    pub requests_per_second: f64,
    /// Retries after the first attempt, for timeouts, 5xx and 429 only.
    #[serde(default = "default_max_retries")]
    pub max_retries: u32,
}

/// Marks a rate left out of the file; replaced by the provider's default after loading.
fn unset_rate() -> f64 {
    -1.0
}

fn default_timeout_secs() -> u64 {
    15
}

fn default_max_retries() -> u32 {
    2
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
    fn default() -> Self {
        ProvidersConfig {
            tencent: ProviderConfig {
                base_url: "https://web.ifzq.gtimg.cn".to_string(),
                timeout_secs: default_timeout_secs(),
                requests_per_second: 5.0,
                max_retries: default_max_retries(),
            },
            // Eastmoney bans IPs that call often; one request every 3 s is the conservative default.
            eastmoney: ProviderConfig {
                base_url: "https://push2his.eastmoney.com".to_string(),
                timeout_secs: default_timeout_secs(),
                requests_per_second: 0.33,
                max_retries: 1,
            },
            yahoo: ProviderConfig {
                base_url: "https://query1.finance.yahoo.com".to_string(),
                timeout_secs: default_timeout_secs(),
                requests_per_second: 2.0,
                max_retries: default_max_retries(),
            },
            chains: ChainsConfig::default(),
        }
    }
}

impl ProvidersConfig {
    /// Gives keys left out of a provider's table that provider's default.
    fn fill_defaults(&mut self) {
        let defaults = ProvidersConfig::default();
        for (config, default) in
            [(&mut self.tencent, &defaults.tencent), (&mut self.eastmoney, &defaults.eastmoney), (&mut self.yahoo, &defaults.yahoo)]
        {
            if config.base_url.is_empty() {
                config.base_url = default.base_url.clone();
            }
            if config.requests_per_second == unset_rate() {
                config.requests_per_second = default.requests_per_second;
            }
        }
    }
}

pub const PROVIDER_NAMES: [&str; 3] = ["tencent", "eastmoney", "yahoo"];

/// The order providers are tried in, per market. Names from [`PROVIDER_NAMES`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChainsConfig {
    /// Shanghai and Shenzhen shares and the CSI 300.
    pub cn: Vec<String>,
    pub hk: Vec<String>,
    pub us: Vec<String>,
    pub fx: Vec<String>,
}

impl Default for ChainsConfig {
    fn default() -> Self {
        let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect();
        ChainsConfig {
            cn: names(&["tencent", "eastmoney", "yahoo"]),
            hk: names(&["tencent", "eastmoney", "yahoo"]),
            us: names(&["yahoo", "tencent", "eastmoney"]),
            fx: names(&["yahoo", "eastmoney"]),
        }
    }
}

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

/// The security master and name resolution (`ratingwatch instruments …`, `names`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InstrumentsConfig {
    /// The user's own alias file, read on top of the shipped `data/aliases.toml` (its entries
    /// win). Unset: only the shipped aliases.
    pub aliases: Option<PathBuf>,
    /// Which listing of a multi-listed company is primary: venues `A`, `HK`, `US`, best first.
    pub prefer: Vec<String>,
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
            prefer: vec!["A".to_string(), "HK".to_string(), "US".to_string()],
            list_base_url: "https://push2.eastmoney.com".to_string(),
            list_page_size: 100,
            search_base_url: "https://search-codetable.eastmoney.com".to_string(),
            smartbox_base_url: "https://smartbox.gtimg.cn".to_string(),
        }
    }
}

impl InstrumentsConfig {
    /// `prefer` as a listing preference; valid after [`Config::validate`].
    pub fn preference(&self) -> crate::names::ListingPreference {
        crate::names::ListingPreference::parse(&self.prefer).unwrap_or_default()
    }
}

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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `text` (human-readable) or `json`.
    pub format: String,
    /// A tracing filter such as `info` or `ratingwatch=debug`; `RUST_LOG` wins when set.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig { format: "text".to_string(), level: "info".to_string() }
    }
}

impl Config {
    /// Loads the effective configuration: defaults, then `file` (if any), then the
    /// `RATINGWATCH__…` variables in `env`. Flags are applied by the caller afterwards.
    pub fn load(file: Option<&Path>, env: impl IntoIterator<Item = (String, String)>) -> Result<Config, ConfigError> {
        let mut table = toml::Table::new();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
            // Deserialize the file on its own first so errors carry its line and key.
            toml::from_str::<Config>(&text)
                .map_err(|e| ConfigError::Parse { path: path.to_path_buf(), message: one_line(&e.to_string()) })?;
            table = text
                .parse::<toml::Table>()
                .map_err(|e| ConfigError::Parse { path: path.to_path_buf(), message: one_line(&e.to_string()) })?;
        }
        let mut env_vars: Vec<(String, String)> = env.into_iter().filter(|(k, _)| k.starts_with(ENV_PREFIX)).collect();
        env_vars.sort();
        for (var, value) in &env_vars {
            let path: Vec<String> = var[ENV_PREFIX.len()..].split("__").map(|s| s.to_ascii_lowercase()).collect();
            set_path(&mut table, &path, parse_env_value(value)).map_err(|message| ConfigError::Env { var: var.clone(), message })?;
            // Check each variable alone so an error names the variable that caused it.
            Config::deserialize(toml::Value::Table(table.clone()))
                .map_err(|e| ConfigError::Env { var: var.clone(), message: one_line(&e.to_string()) })?;
        }
        let mut config = Config::deserialize(toml::Value::Table(table))
            .map_err(|e| ConfigError::Parse { path: file.map(Path::to_path_buf).unwrap_or_default(), message: one_line(&e.to_string()) })?;
        config.providers.fill_defaults();
        config.validate()?;
        Ok(config)
    }

    /// Checks values serde cannot: time zone names, provider names, ranges.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: String| Err(ConfigError::Invalid { key: key.to_string(), message });
        if self.schedule.timezone.parse::<chrono_tz::Tz>().is_err() {
            return invalid(
                "schedule.timezone",
                format!("`{}` is not an IANA time zone (example: \"Asia/Shanghai\")", self.schedule.timezone),
            );
        }
        for (key, chain) in [
            ("providers.chains.cn", &self.providers.chains.cn),
            ("providers.chains.hk", &self.providers.chains.hk),
            ("providers.chains.us", &self.providers.chains.us),
            ("providers.chains.fx", &self.providers.chains.fx),
        ] {
            if chain.is_empty() {
                return invalid(key, "needs at least one provider (example: [\"tencent\", \"eastmoney\"])".to_string());
            }
            if let Some(unknown) = chain.iter().find(|name| !PROVIDER_NAMES.contains(&name.as_str())) {
                return invalid(key, format!("unknown provider `{unknown}` (known: {})", PROVIDER_NAMES.join(", ")));
            }
        }
        for (key, provider) in [
            ("providers.tencent", &self.providers.tencent),
            ("providers.eastmoney", &self.providers.eastmoney),
            ("providers.yahoo", &self.providers.yahoo),
        ] {
            if !(provider.base_url.starts_with("http://") || provider.base_url.starts_with("https://")) {
                return invalid(&format!("{key}.base_url"), format!("`{}` must start with http:// or https://", provider.base_url));
            }
            if !(provider.requests_per_second.is_finite() && provider.requests_per_second >= 0.0) {
                return invalid(&format!("{key}.requests_per_second"), "must be 0 (no limit) or a positive number".to_string());
            }
            if provider.timeout_secs == 0 {
                return invalid(&format!("{key}.timeout_secs"), "must be at least 1".to_string());
            }
        }
        if self.sync.concurrency == 0 {
            return invalid("sync.concurrency", "must be at least 1".to_string());
        }
        if let Err(message) = crate::names::ListingPreference::parse(&self.instruments.prefer) {
            return invalid("instruments.prefer", message);
        }
        if !(1..=100).contains(&self.instruments.list_page_size) {
            return invalid("instruments.list_page_size", "must be 1 to 100 (Eastmoney serves at most 100 rows a page)".to_string());
        }
        for (key, url) in [
            ("instruments.list_base_url", &self.instruments.list_base_url),
            ("instruments.search_base_url", &self.instruments.search_base_url),
            ("instruments.smartbox_base_url", &self.instruments.smartbox_base_url),
        ] {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return invalid(key, format!("`{url}` must start with http:// or https://"));
            }
        }
        if !matches!(self.log.format.as_str(), "text" | "json") {
            return invalid("log.format", format!("`{}` is neither \"text\" nor \"json\"", self.log.format));
        }
        Ok(())
    }

    /// The time zone of `schedule.timezone`; valid after [`Config::validate`].
    pub fn timezone(&self) -> chrono_tz::Tz {
        self.schedule.timezone.parse().unwrap_or(chrono_tz::Asia::Shanghai)
    }

    /// The effective configuration as TOML, for `config show`.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot render config: {e}"))
    }
}

fn one_line(message: &str) -> String {
    message.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
}

/// Environment values are TOML where they parse as such (`8`, `true`, `["a","b"]`), else strings.
fn parse_env_value(value: &str) -> toml::Value {
    let wrapped = format!("v = {value}");
    match wrapped.parse::<toml::Table>() {
        Ok(mut table) => table.remove("v").unwrap_or_else(|| toml::Value::String(value.to_string())),
        Err(_) => toml::Value::String(value.to_string()),
    }
}

fn set_path(table: &mut toml::Table, path: &[String], value: toml::Value) -> Result<(), String> {
    let (last, parents) = path.split_last().ok_or("empty key")?;
    let mut current = table;
    for key in parents {
        let entry = current.entry(key.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
        current = entry.as_table_mut().ok_or_else(|| format!("`{key}` is not a table"))?;
    }
    current.insert(last.clone(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, text).unwrap();
        Config::load(Some(&path), env.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn shipped_config_parses_and_equals_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/ratingwatch.toml");
        let config = Config::load(Some(&path), []).unwrap();
        // The shipped file documents the defaults; it must not drift from them.
        assert_eq!(config, Config::default());
    }

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let err = load_text("[sync]\nconcurency = 3\n", &[]).unwrap_err().to_string();
        assert!(err.contains("concurency"), "{err}");
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn env_overrides_file_and_names_bad_variables() {
        let config = load_text("[sync]\nconcurrency = 3\n", &[("RATINGWATCH__SYNC__CONCURRENCY", "9")]).unwrap();
        assert_eq!(config.sync.concurrency, 9);
        let config = load_text("", &[("RATINGWATCH__PROVIDERS__YAHOO__BASE_URL", "http://127.0.0.1:9")]).unwrap();
        assert_eq!(config.providers.yahoo.base_url, "http://127.0.0.1:9");
        // The other keys of that table keep Yahoo's own defaults.
        assert_eq!(config.providers.yahoo.requests_per_second, ProvidersConfig::default().yahoo.requests_per_second);
        let config = load_text("[providers.eastmoney]\ntimeout_secs = 3\n", &[]).unwrap();
        assert_eq!(config.providers.eastmoney.base_url, ProvidersConfig::default().eastmoney.base_url);
        assert_eq!(config.providers.eastmoney.requests_per_second, 0.33);
        let err = load_text("", &[("RATINGWATCH__SYNC__NOPE", "1")]).unwrap_err().to_string();
        assert!(err.contains("RATINGWATCH__SYNC__NOPE") && err.contains("nope"), "{err}");
    }

    #[test]
    fn bad_timezone_and_chain_name_the_key() {
        let err = load_text("[schedule]\ntimezone = \"Mars/Olympus\"\n", &[]).unwrap_err().to_string();
        assert!(err.contains("schedule.timezone") && err.contains("Asia/Shanghai"), "{err}");
        let err = load_text("[providers.chains]\nus = [\"stooq\"]\n", &[]).unwrap_err().to_string();
        assert!(err.contains("providers.chains.us") && err.contains("stooq"), "{err}");
    }

    #[test]
    fn listing_preference_is_checked_and_partial_lists_fill_in() {
        let err = load_text("[instruments]\nprefer = [\"A\", \"JP\"]\n", &[]).unwrap_err().to_string();
        assert!(err.contains("instruments.prefer") && err.contains("JP"), "{err}");
        let config = load_text("[instruments]\nprefer = [\"US\"]\n", &[]).unwrap();
        use crate::names::Venue;
        assert_eq!(config.instruments.preference().venues(), &[Venue::Us, Venue::A, Venue::Hk]);
    }
}
