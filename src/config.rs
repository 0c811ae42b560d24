//! Configuration: built-in defaults → file → environment → command-line flags.
//!
//! Invariants: every key has a default (in its table's file under `config/`) and a documented line in
//! `config/ratingwatch.toml`; unknown keys are errors that name the key; nothing outside this
//! module reads `RATINGWATCH__…` variables. The effective config is a plain value passed down.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

// One file per table of the config file, each with its structs, defaults and `validate`.
// A new area is a new file here, a `mod` and `pub use` line, a field of `Config` and a line
// of `Config::validate`.
mod analysis;
mod database;
mod http;
mod instruments;
mod log;
mod notify;
mod output;
mod providers;
mod ratings;
mod reports;
mod schedule;
mod service;
mod sync;

pub use analysis::AnalysisConfig;
pub use database::DatabaseConfig;
pub use http::HttpConfig;
pub use instruments::InstrumentsConfig;
pub use log::{LogConfig, LogFormat};
pub use notify::{ChannelConfig, ChannelKind, EventKind, NotifyConfig};
pub use output::OutputConfig;
pub use providers::{ChainsConfig, ProviderConfig, ProvidersConfig};
pub use ratings::{MAX_RATINGS_OVERLAP_DAYS, RatingsConfig};
pub use reports::ReportsConfig;
pub use schedule::{JobsConfig, ScheduleConfig};
pub use service::ServiceConfig;
pub use sync::SyncConfig;

/// Environment variables of the form `RATINGWATCH__SECTION__KEY=value` override file keys
/// (`RATINGWATCH__SYNC__CONCURRENCY=8`, `RATINGWATCH__PROVIDERS__YAHOO__BASE_URL=…`).
pub const ENV_PREFIX: &str = "RATINGWATCH__";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    // `error`, not `source`: the message already says it, so an error chain must not repeat it.
    #[error("cannot read config file {path}: {error}")]
    Read { path: PathBuf, error: std::io::Error },
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
    pub http: HttpConfig,
    pub log: LogConfig,
    pub notify: NotifyConfig,
    pub ratings: RatingsConfig,
}

impl Config {
    /// Loads the effective configuration: defaults, then `file` (if any), then the
    /// `RATINGWATCH__…` variables in `env`. Flags are applied by the caller afterwards.
    ///
    /// [`Config::default`] is the one source of defaults: the file and the variables are laid
    /// over it key by key, so a partial table keeps the defaults of the keys it leaves out.
    pub fn load(file: Option<&Path>, env: impl IntoIterator<Item = (String, String)>) -> Result<Config, ConfigError> {
        let file_label = || file.map(Path::to_path_buf).unwrap_or_default();
        let mut table = toml::Table::try_from(Config::default())
            .map_err(|e| ConfigError::Parse { path: file_label(), message: format!("cannot lay out the defaults: {e}") })?;
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read { path: path.to_path_buf(), error })?;
            // Deserialize the file on its own first so errors carry its line and key.
            toml::from_str::<Config>(&text).map_err(|e| ConfigError::Parse { path: path.to_path_buf(), message: file_error(&e) })?;
            let overlay =
                text.parse::<toml::Table>().map_err(|e| ConfigError::Parse { path: path.to_path_buf(), message: file_error(&e) })?;
            merge(&mut table, overlay);
        }
        let mut env_vars: Vec<(String, String)> = env.into_iter().filter(|(k, _)| k.starts_with(ENV_PREFIX)).collect();
        env_vars.sort();
        for (var, value) in &env_vars {
            let path: Vec<String> = var[ENV_PREFIX.len()..].split("__").map(|s| s.to_ascii_lowercase()).collect();
            set_path(&mut table, &path, parse_env_value(value)).map_err(|message| ConfigError::Env { var: var.clone(), message })?;
            // Check each variable alone so an error names the variable that caused it.
            Config::deserialize(toml::Value::Table(table.clone())).map_err(|e| ConfigError::Env {
                var: var.clone(),
                message: with_suggestion(excerpt(&one_line(&e.to_string())), &e.to_string()),
            })?;
        }
        let config = Config::deserialize(toml::Value::Table(table))
            .map_err(|e| ConfigError::Parse { path: file_label(), message: excerpt(&one_line(&e.to_string())) })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks values serde cannot: ranges, URLs and non-empty lists, one area at a time
    /// (each area's `validate`, in its own file). Time zones and provider names are checked by
    /// their types ([`crate::ids::Tz`], [`crate::ids::ProviderName`]) as the config is read.
    /// The one validation: [`Config::load`] calls it, and the provider clients call
    /// [`ProviderConfig::validate`] on what they are given.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let Config { database, reports, schedule, output, sync, providers, analysis, instruments, service, http, log, notify, ratings } =
            self;
        database.validate()?;
        reports.validate()?;
        schedule.validate()?;
        output.validate()?;
        providers.validate()?;
        sync.validate()?;
        analysis.validate()?;
        instruments.validate()?;
        service.validate()?;
        http.validate()?;
        log.validate()?;
        ratings.validate()?;
        notify.validate()
    }

    /// The time zone of `schedule.timezone`: the zone "today" is read in.
    pub fn timezone(&self) -> chrono_tz::Tz {
        self.schedule.timezone.zone()
    }

    /// The effective configuration as TOML, for `config show`.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot render config: {e}"))
    }
}

/// Whether `text` is an absolute http(s) URL with a host (the URL itself is never echoed in
/// errors: for Slack and WeCom it is the secret).
pub fn is_http_url(text: &str) -> bool {
    checked_url(text, &["http", "https"], false).is_ok()
}

/// The one URL check: `text` parsed, with one of `schemes` and a host; a `base` URL (one the
/// client appends paths and queries to) also has no query or fragment. The error says why.
pub fn checked_url(text: &str, schemes: &[&str], base: bool) -> Result<url::Url, String> {
    let url = url::Url::parse(text).map_err(|error| error.to_string())?;
    if !schemes.contains(&url.scheme()) {
        return Err(format!("the scheme must be {}", schemes.join(" or ")));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("it has no host".to_string());
    }
    if base && (url.query().is_some() || url.fragment().is_some()) {
        return Err("a base URL takes no query or fragment; the client adds them".to_string());
    }
    Ok(url)
}

/// The one check of an environment variable's name (`secret_env`, `token_env`, …): letters,
/// digits and `_`, not empty. The value itself never goes in a config file.
pub fn is_env_var_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Lays `overlay` over `base`: tables merge key by key, any other value replaces.
fn merge(base: &mut toml::Table, overlay: toml::Table) {
    for (key, value) in overlay {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(base_table)), toml::Value::Table(overlay_table)) => merge(base_table, overlay_table),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// User text quoted in an error, cut so a huge value cannot flood the terminal or the log.
fn excerpt(text: &str) -> String {
    crate::text::quote(text)
}

/// A config file's error as toml writes it, whole: the line number, the line itself with a
/// caret under the fault, and the message (control characters escaped, at most
/// [`MAX_FILE_ERROR_CHARS`]), then "did you mean …?" for a misspelt key.
fn file_error(error: &toml::de::Error) -> String {
    let text = error.to_string();
    let lines: Vec<String> = text.trim_end().lines().map(|line| crate::text::excerpt(line, MAX_FILE_ERROR_LINE_CHARS)).collect();
    with_suggestion(crate::text::excerpt(&lines.join("\n"), MAX_FILE_ERROR_CHARS).replace("\\n", "\n"), &text)
}

/// How much of a config file's error is shown: the whole of any real one (a line, a caret
/// and the list of accepted keys), not a flood from a huge line: each line of it up to 300
/// characters, 2,000 in all.
const MAX_FILE_ERROR_LINE_CHARS: usize = 300;
const MAX_FILE_ERROR_CHARS: usize = 2000;

/// Appends "did you mean `concurrency`?" when serde's message names an unknown field and one
/// of the accepted ones is close to it (Jaro-Winkler similarity 0.8 or more).
fn with_suggestion(message: String, error: &str) -> String {
    let Some(rest) = error.split("unknown field `").nth(1) else { return message };
    let Some((unknown, accepted)) = rest.split_once('`') else { return message };
    let best = accepted
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|candidate| (strsim::jaro_winkler(unknown, candidate), candidate))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((score, candidate)) if score >= 0.8 => format!("{message}\ndid you mean `{candidate}`?"),
        _ => message,
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

/// A config file holding `text`, loaded with `env`: the tests of every area use it.
#[cfg(test)]
fn load_text(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(&path, text).unwrap();
    Config::load(Some(&path), env.iter().map(|(k, v)| (k.to_string(), v.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn one_url_check_serves_base_urls_webhooks_and_smtp() {
        let http = ["http", "https"];
        assert!(checked_url("https://web.ifzq.gtimg.cn", &http, true).is_ok());
        assert!(checked_url("https://x.example/hook?key=1", &http, false).is_ok());
        assert_eq!(
            checked_url("https://x.example/?a=1", &http, true).unwrap_err(),
            "a base URL takes no query or fragment; the client adds them"
        );
        assert_eq!(checked_url("ftp://x.example", &http, false).unwrap_err(), "the scheme must be http or https");
        assert_eq!(checked_url("smtp://127.0.0.1:2525", &http, false).unwrap_err(), "the scheme must be http or https");
        assert!(checked_url("smtp://127.0.0.1:2525", &["smtp", "smtps"], false).is_ok());
        assert_eq!(checked_url("smtp:relay", &["smtp", "smtps"], false).unwrap_err(), "it has no host");
        assert!(checked_url("not a url", &http, false).is_err());
        assert!(is_env_var_name("RW_TOKEN_2") && !is_env_var_name("") && !is_env_var_name("RW-TOKEN") && !is_env_var_name("s3cret value"));
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
        // Whole, as toml writes it: the line, a caret under the key, every accepted key (the
        // one-line excerpt used to stop at `breaker_cooldow…`), and the near miss.
        assert!(err.contains("2 | concurency = 3\n  | ^^^^^^^^^^"), "{err}");
        assert!(err.contains("`switch_after_runs`"), "{err}");
        assert!(err.ends_with("\ndid you mean `concurrency`?"), "{err}");
        // A key close to nothing gets no guess; a variable's misspelling gets one too.
        let err = load_text("[sync]\nzzz = 3\n", &[]).unwrap_err().to_string();
        assert!(!err.contains("did you mean"), "{err}");
        let err = load_text("", &[("RATINGWATCH__SYNC__CONCURENCY", "3")]).unwrap_err().to_string();
        assert!(err.contains("RATINGWATCH__SYNC__CONCURENCY") && err.ends_with("did you mean `concurrency`?"), "{err}");
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
        // The file's error names the line and shows it, key included.
        assert!(err.contains("line 2") && err.contains("timezone = \"Mars/Olympus\"") && err.contains("Asia/Shanghai"), "{err}");
        let err = load_text("[providers.chains]\nus = [\"stooq\"]\n", &[]).unwrap_err().to_string();
        assert!(err.contains("line 2") && err.contains("us = [") && err.contains("unknown provider `stooq`"), "{err}");
        let err = load_text("", &[("RATINGWATCH__PROVIDERS__CHAINS__FX", "[\"yahoo\", \"stooq\"]")]).unwrap_err().to_string();
        assert!(err.contains("RATINGWATCH__PROVIDERS__CHAINS__FX") && err.contains("known: tencent, eastmoney, yahoo"), "{err}");
    }

    #[test]
    fn out_of_range_numbers_are_refused_naming_the_key() {
        for (text, key) in [
            // -1 used to be a hidden "unset" marker that silently meant the default.
            ("[providers.yahoo]\nrequests_per_second = -1.0\n", "providers.yahoo.requests_per_second"),
            ("[providers.yahoo]\nrequests_per_second = -2.0\n", "providers.yahoo.requests_per_second"),
            // 1 / 1e-30 seconds does not fit a Duration: this overflowed at sync.
            ("[providers.tencent]\nrequests_per_second = 1e-30\n", "providers.tencent.requests_per_second"),
            ("[providers.tencent]\nrequests_per_second = nan\n", "providers.tencent.requests_per_second"),
            ("[providers.tencent]\nrequests_per_second = inf\n", "providers.tencent.requests_per_second"),
            ("[providers.eastmoney]\ntimeout_secs = 0\n", "providers.eastmoney.timeout_secs"),
            ("[providers.eastmoney]\ntimeout_secs = 9223372036854775807\n", "providers.eastmoney.timeout_secs"),
            ("[providers.eastmoney]\nmax_retries = 4000000000\n", "providers.eastmoney.max_retries"),
            ("[providers.eastmoney]\nbase_url = \"ftp://x\"\n", "providers.eastmoney.base_url"),
            ("[sync]\nconcurrency = 0\n", "sync.concurrency"),
            ("[sync]\noverlap_days = 4000000000\n", "sync.overlap_days"),
            ("[service]\ngrace_period_secs = 9223372036854775807\n", "service.grace_period_secs"),
        ] {
            let err = load_text(text, &[]).unwrap_err().to_string();
            assert!(err.contains(key), "{text}: {err}");
        }
        let err = load_text("", &[("RATINGWATCH__PROVIDERS__YAHOO__REQUESTS_PER_SECOND", "-1")]).unwrap_err().to_string();
        assert!(err.contains("providers.yahoo.requests_per_second"), "{err}");
        // 0 turns the limit off and the bounds themselves are accepted.
        for rate in ["0", "0.001", "1000"] {
            load_text(&format!("[providers.yahoo]\nrequests_per_second = {rate}\n"), &[]).unwrap();
        }
    }

    #[test]
    fn a_huge_value_is_quoted_in_part() {
        let zone = "A".repeat(100_000);
        let err = load_text(&format!("[schedule]\ntimezone = \"{zone}\"\n"), &[]).unwrap_err().to_string();
        // The file's error names the line and shows the start of it, key first.
        // Each line of toml's report is cut at 300 characters (the line, the caret, the message).
        assert!(err.contains("line 2") && err.contains("timezone = \"AAA") && err.len() < 1500, "{} bytes", err.len());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Any number in any numeric key loads or is refused cleanly; a config that loads
        /// builds the provider clients without panicking.
        #[test]
        fn numbers_in_config_never_panic(
            key in proptest::sample::select(vec![
                "providers.tencent.requests_per_second",
                "providers.eastmoney.timeout_secs",
                "providers.yahoo.max_retries",
                "sync.concurrency",
                "sync.overlap_days",
                "service.grace_period_secs",
                "analysis.stale_after_trading_days",
            ]),
            value in prop_oneof![
                // Debug prints NaN as `NaN`; TOML spells it `nan`.
                proptest::num::f64::ANY.prop_map(|v| format!("{v:?}").replace("NaN", "nan")),
                proptest::num::i64::ANY.prop_map(|v| v.to_string()),
                Just("1e-30".to_string()),
                Just("1e300".to_string()),
            ],
        ) {
            let (table, field) = key.rsplit_once('.').unwrap();
            if let Ok(config) = load_text(&format!("[{table}]\n{field} = {value}\n"), &[]) {
                prop_assert!(crate::providers::Providers::from_config(&config.providers).is_ok());
            }
        }
    }
}
