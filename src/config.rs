//! Configuration: built-in defaults → file → environment → command-line flags.
//!
//! Invariants: every key has a default here and a documented line in
//! `config/ratingwatch.toml`; unknown keys are errors that name the key; nothing outside this
//! module reads `RATINGWATCH__…` variables. The effective config is a plain value passed down.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::ids::{ProviderName, Tz};
use crate::symbol::Market;

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
    pub timezone: Tz,
    pub jobs: JobsConfig,
    /// Keep writing and pushing weekly summaries for a report whose horizon has ended (the
    /// weeks starting after its horizon end). Default false: its final verdict is its last word.
    pub weekly_after_horizon: bool,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        ScheduleConfig { timezone: Tz::SHANGHAI, jobs: JobsConfig::default(), weekly_after_horizon: false }
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
    /// The weekly refresh of the security master from Eastmoney's lists.
    pub sync_instruments: String,
}

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig {
            sync_cn_hk: "0 30 16 * * Mon-Fri".to_string(),
            sync_us: "0 30 6 * * Tue-Sat".to_string(),
            sync_fx: "0 45 16 * * Mon-Fri".to_string(),
            weekly_summary: "0 0 18 * * Fri".to_string(),
            sync_instruments: "0 0 5 * * Sun".to_string(),
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
    /// Consecutive failures of one provider, across securities, that open its circuit: later
    /// securities skip it until a probe succeeds.
    pub breaker_threshold: u32,
    /// Seconds an open circuit waits before letting one probe request through.
    pub breaker_cooldown_secs: u64,
    /// Consecutive runs in which a security's own provider must fail it before the security
    /// switches to the next provider of the chain (and re-fetches its whole history there).
    /// A provider that does not know the symbol is left at once.
    pub switch_after_runs: u32,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            history_start: None,
            overlap_days: 10,
            concurrency: 4,
            breaker_threshold: 3,
            breaker_cooldown_secs: 60,
            switch_after_runs: 3,
        }
    }
}

/// One provider's connection settings. Keys left out of the file keep that provider's
/// defaults from [`ProvidersConfig::default`], because [`Config::load`] lays the file over
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
    /// The one place these rules live: [`Config::validate`] and the provider clients call it.
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

/// `instruments.prefer`: venues best first, with the key named in the message.
fn listing_preference<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<crate::names::ListingPreference, D::Error> {
    let items = Vec::<String>::deserialize(deserializer)?;
    crate::names::ListingPreference::parse(&items)
        .map_err(|message| serde::de::Error::custom(format!("config key `instruments.prefer`: {message}")))
}

/// `http.listen`: an address and port, with the message the key has always had.
fn socket_address<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<std::net::SocketAddr, D::Error> {
    let text = String::deserialize(deserializer)?;
    text.parse().map_err(|_| {
        serde::de::Error::custom(format!(
            "config key `http.listen`: `{}` is not an address and port (example: \"127.0.0.1:8321\")",
            excerpt(&text)
        ))
    })
}

/// The read-only web dashboard, JSON API, `/healthz` and `/metrics` that `serve` (and
/// `ratingwatch web`) runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Run the web server inside `serve`.
    pub enabled: bool,
    /// Address and port to listen on. Anything but a loopback address needs `token_env`.
    /// Parsed when the file is read, so nothing downstream parses it again.
    #[serde(deserialize_with = "socket_address")]
    pub listen: std::net::SocketAddr,
    /// Name of the environment variable holding the bearer token every request must carry.
    /// Unset: no token (allowed on loopback addresses only).
    pub token_env: Option<String>,
    /// A request taking longer than this many seconds is answered 408.
    pub request_timeout_secs: u64,
    /// Requests handled at once (1 to [`MAX_CONCURRENT_REQUESTS`]); more wait their turn.
    pub max_concurrent_requests: usize,
    /// The dashboard's address as readers reach it (`https://rw.example.com`): chat messages
    /// link `<public_url>/reports/<id>`. Empty: messages carry no link.
    pub public_url: String,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            enabled: true,
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], 8321)),
            token_env: None,
            request_timeout_secs: 10,
            max_concurrent_requests: 32,
            public_url: String::new(),
        }
    }
}

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

/// Where messages go (`[notify]` and `[[notify.channels]]`); see the README, "Notifications".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyConfig {
    /// A message not delivered this many hours after it was queued is given up (`expired`).
    pub give_up_after_hours: u64,
    /// Whole-request timeout for one delivery attempt (HTTP or SMTP), in seconds.
    pub timeout_secs: u64,
    /// `data_health`: a job failing this many scheduled runs in a row is announced.
    pub failing_runs: u32,
    /// `data_health`: the benchmark more than this many weekdays behind today is announced.
    pub benchmark_stale_weekdays: u32,
    /// `rating_change`: a new implied rating is announced once it has held this many
    /// consecutive closes (the anti-flap rule; 1 announces every crossing).
    pub rating_confirm_closes: u32,
    /// `rating_change`: changes confirmed more than this many days before the as-of date are
    /// history, not news, and are not announced (a first start does not replay a horizon).
    pub rating_lookback_days: u32,
    /// Base URL where `data/out` is published; messages cut to fit a platform end with
    /// "full report: <report_url>/<report-id>/<week>.html". Empty: the `ratingwatch report`
    /// command that prints it.
    pub report_url: String,
    pub channels: Vec<ChannelConfig>,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            give_up_after_hours: 7 * 24,
            timeout_secs: 15,
            failing_runs: 3,
            benchmark_stale_weekdays: 3,
            rating_confirm_closes: 2,
            rating_lookback_days: 7,
            report_url: String::new(),
            channels: Vec::new(),
        }
    }
}

/// The kinds of channel a message can go to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr, strum::VariantNames, strum::EnumIter)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum ChannelKind {
    /// Any HTTP endpoint: JSON signed in the Standard Webhooks style.
    Webhook,
    Slack,
    Wecom,
    Dingtalk,
    Feishu,
    Email,
}

impl ChannelKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The events a channel can receive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[derive(strum::Display, strum::IntoStaticStr, strum::EnumString, strum::VariantNames, strum::EnumIter)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum EventKind {
    WeeklySummary,
    Verdict,
    RatingChange,
    DataHealth,
    /// `notify test`: sent on demand only, to every channel asked.
    Test,
}

impl EventKind {
    pub const SUBSCRIBABLE: [EventKind; 4] = [EventKind::WeeklySummary, EventKind::Verdict, EventKind::RatingChange, EventKind::DataHealth];

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(text: &str) -> Option<EventKind> {
        text.parse().ok()
    }
}

/// One `[[notify.channels]]` table. Secrets are never here: `secret_env` and `password_env`
/// name environment variables that hold them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelConfig {
    /// Unique; used in dedup keys, `--channel` and `status`.
    pub name: String,
    pub kind: ChannelKind,
    /// Events this channel receives; empty or left out: all of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<EventKind>,
    /// Webhook URL (every kind but email).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Instead of `url`: an environment variable holding it, for platforms whose URL is the
    /// secret (Slack, WeCom, the DingTalk access token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_env: Option<String>,
    /// Environment variable holding the DingTalk/Feishu signing secret or the webhook HMAC key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_env: Option<String>,
    /// Email: `smtp://host:port`, `smtp://user@host:587?tls=required` (STARTTLS) or `smtps://user@host`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp_url: Option<String>,
    /// Email: environment variable holding the SMTP password (the user name is in `smtp_url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<String>,
}

impl ChannelConfig {
    /// Whether this channel receives `event` (`test` goes to every channel).
    pub fn wants(&self, event: EventKind) -> bool {
        event == EventKind::Test || self.events.is_empty() || self.events.contains(&event)
    }
}

impl NotifyConfig {
    /// Checks what serde cannot; errors name the key as `notify.channels[i].key`.
    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: String, message: String| Err(ConfigError::Invalid { key, message });
        for (key, value, max) in [
            ("notify.timeout_secs", self.timeout_secs, 600),
            ("notify.give_up_after_hours", self.give_up_after_hours, 24 * 90),
            ("notify.failing_runs", u64::from(self.failing_runs), 1000),
            ("notify.rating_confirm_closes", u64::from(self.rating_confirm_closes), 60),
        ] {
            if !(1..=max).contains(&value) {
                return invalid(key.to_string(), format!("{value} must be between 1 and {max}"));
            }
        }
        if !self.report_url.is_empty() && !is_http_url(&self.report_url) {
            return invalid(
                "notify.report_url".to_string(),
                format!("`{}` must start with http:// or https://", excerpt(&self.report_url)),
            );
        }
        let mut names = std::collections::BTreeSet::new();
        for (index, channel) in self.channels.iter().enumerate() {
            let key = |name: &str| format!("notify.channels[{index}].{name}");
            let valid_name =
                !channel.name.is_empty() && channel.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
            if !valid_name {
                return invalid(key("name"), format!("`{}` must be letters, digits, '-', '_' or '.'", excerpt(&channel.name)));
            }
            if !names.insert(channel.name.as_str()) {
                return invalid(key("name"), format!("`{}` is used by another channel", excerpt(&channel.name)));
            }
            if channel.events.contains(&EventKind::Test) {
                return invalid(key("events"), "`test` is not subscribable (`notify test` reaches every channel)".to_string());
            }
            let is_email = channel.kind == ChannelKind::Email;
            for (field, value) in
                [("secret_env", &channel.secret_env), ("password_env", &channel.password_env), ("url_env", &channel.url_env)]
            {
                if let Some(name) = value
                    && !is_env_var_name(name)
                {
                    return invalid(
                        key(field),
                        format!("`{}` is not an environment variable name (the secret itself never goes in this file)", excerpt(name)),
                    );
                }
            }
            if is_email {
                for (field, present) in
                    [("url", channel.url.is_some()), ("url_env", channel.url_env.is_some()), ("secret_env", channel.secret_env.is_some())]
                {
                    if present {
                        return invalid(key(field), "is not used by email channels (use smtp_url and password_env)".to_string());
                    }
                }
                let Some(smtp_url) = &channel.smtp_url else {
                    return invalid(key("smtp_url"), "is required for email (example: \"smtp://127.0.0.1:2525\")".to_string());
                };
                match checked_url(smtp_url, &["smtp", "smtps"], false) {
                    Ok(parsed) => {
                        if parsed.password().is_some() {
                            return invalid(
                                key("smtp_url"),
                                "must not hold a password; put it in the variable named by password_env".to_string(),
                            );
                        }
                    }
                    _ => return invalid(key("smtp_url"), format!("`{}` is not an smtp:// or smtps:// URL with a host", excerpt(smtp_url))),
                }
                if channel.from.as_deref().unwrap_or("").is_empty() {
                    return invalid(key("from"), "is required for email (example: \"ratingwatch <bot@example.com>\")".to_string());
                }
                // Every address parsed as `notify::email::build` parses it, so a message never
                // fails on one later.
                let from = channel.from.iter().map(|from| (key("from"), from, "ratingwatch <bot@example.com>"));
                let to = channel.to.iter().enumerate().map(|(index, to)| (format!("{}[{index}]", key("to")), to, "team@example.com"));
                for (field, address, example) in from.chain(to) {
                    if let Err(error) = address.parse::<lettre::message::Mailbox>() {
                        return invalid(field, format!("`{}` is not an email address ({error}; example: \"{example}\")", excerpt(address)));
                    }
                }
                if channel.to.is_empty() {
                    return invalid(key("to"), "needs at least one address".to_string());
                }
            } else {
                for (field, present) in [
                    ("smtp_url", channel.smtp_url.is_some()),
                    ("password_env", channel.password_env.is_some()),
                    ("from", channel.from.is_some()),
                    ("to", !channel.to.is_empty()),
                ] {
                    if present {
                        return invalid(key(field), format!("is only for email channels, not {}", channel.kind.as_str()));
                    }
                }
                match (&channel.url, &channel.url_env) {
                    (Some(url), None) => {
                        if !is_http_url(url) {
                            return invalid(key("url"), "is not an http:// or https:// URL".to_string());
                        }
                    }
                    (None, Some(_)) => {}
                    (Some(_), Some(_)) => return invalid(key("url_env"), "set either url or url_env, not both".to_string()),
                    (None, None) => {
                        return invalid(key("url"), format!("is required for a {} channel (or url_env)", channel.kind.as_str()));
                    }
                }
                if matches!(channel.kind, ChannelKind::Wecom | ChannelKind::Slack) && channel.secret_env.is_some() {
                    return invalid(
                        key("secret_env"),
                        format!("{} webhooks are not signed; the key is part of the URL", channel.kind.as_str()),
                    );
                }
            }
        }
        Ok(())
    }
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
            toml::from_str::<Config>(&text)
                .map_err(|e| ConfigError::Parse { path: path.to_path_buf(), message: excerpt(&one_line(&e.to_string())) })?;
            let overlay = text
                .parse::<toml::Table>()
                .map_err(|e| ConfigError::Parse { path: path.to_path_buf(), message: excerpt(&one_line(&e.to_string())) })?;
            merge(&mut table, overlay);
        }
        let mut env_vars: Vec<(String, String)> = env.into_iter().filter(|(k, _)| k.starts_with(ENV_PREFIX)).collect();
        env_vars.sort();
        for (var, value) in &env_vars {
            let path: Vec<String> = var[ENV_PREFIX.len()..].split("__").map(|s| s.to_ascii_lowercase()).collect();
            set_path(&mut table, &path, parse_env_value(value)).map_err(|message| ConfigError::Env { var: var.clone(), message })?;
            // Check each variable alone so an error names the variable that caused it.
            Config::deserialize(toml::Value::Table(table.clone()))
                .map_err(|e| ConfigError::Env { var: var.clone(), message: excerpt(&one_line(&e.to_string())) })?;
        }
        let config = Config::deserialize(toml::Value::Table(table))
            .map_err(|e| ConfigError::Parse { path: file_label(), message: excerpt(&one_line(&e.to_string())) })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks values serde cannot: ranges, URLs and non-empty lists. Time zones and provider
    /// names are checked by their types ([`Tz`], [`ProviderName`]) as the config is read.
    /// The one validation: [`Config::load`] calls it, and the provider clients call
    /// [`ProviderConfig::validate`] on what they are given.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: String| Err(ConfigError::Invalid { key: key.to_string(), message });
        for (key, chain) in [
            ("providers.chains.cn", &self.providers.chains.cn),
            ("providers.chains.hk", &self.providers.chains.hk),
            ("providers.chains.us", &self.providers.chains.us),
            ("providers.chains.fx", &self.providers.chains.fx),
        ] {
            if chain.is_empty() {
                return invalid(key, "needs at least one provider (example: [\"tencent\", \"eastmoney\"])".to_string());
            }
        }
        for (key, provider) in self.providers.each() {
            provider.validate(key)?;
        }
        if !(1..=MAX_CONCURRENCY).contains(&self.sync.concurrency) {
            return invalid("sync.concurrency", format!("{} must be between 1 and {MAX_CONCURRENCY}", self.sync.concurrency));
        }
        if self.sync.overlap_days > MAX_OVERLAP_DAYS {
            return invalid("sync.overlap_days", format!("{} must be at most {MAX_OVERLAP_DAYS}", self.sync.overlap_days));
        }
        if self.service.grace_period_secs > MAX_GRACE_PERIOD_SECS {
            return invalid(
                "service.grace_period_secs",
                format!("{} must be at most {MAX_GRACE_PERIOD_SECS} (one day)", self.service.grace_period_secs),
            );
        }
        for (key, value, max) in [
            ("sync.breaker_threshold", self.sync.breaker_threshold, MAX_BREAKER_THRESHOLD),
            ("sync.switch_after_runs", self.sync.switch_after_runs, MAX_SWITCH_AFTER_RUNS),
        ] {
            if !(1..=max).contains(&value) {
                return invalid(key, format!("{value} must be between 1 and {max}"));
            }
        }
        if self.sync.breaker_cooldown_secs > MAX_BREAKER_COOLDOWN_SECS {
            return invalid(
                "sync.breaker_cooldown_secs",
                format!("{} must be at most {MAX_BREAKER_COOLDOWN_SECS} (one day)", self.sync.breaker_cooldown_secs),
            );
        }
        if !(1..=100).contains(&self.instruments.list_page_size) {
            return invalid("instruments.list_page_size", "must be 1 to 100 (Eastmoney serves at most 100 rows a page)".to_string());
        }
        for (key, url) in [
            ("instruments.list_base_url", &self.instruments.list_base_url),
            ("instruments.search_base_url", &self.instruments.search_base_url),
            ("instruments.smartbox_base_url", &self.instruments.smartbox_base_url),
        ] {
            if !is_http_url(url) {
                return invalid(key, format!("`{}` must start with http:// or https://", excerpt(url)));
            }
        }
        if self.http.request_timeout_secs == 0 {
            return invalid("http.request_timeout_secs", "must be at least 1".to_string());
        }
        if self.http.max_concurrent_requests == 0 {
            return invalid("http.max_concurrent_requests", "must be at least 1".to_string());
        }
        if self.http.max_concurrent_requests > MAX_CONCURRENT_REQUESTS {
            return invalid(
                "http.max_concurrent_requests",
                format!("{} must be at most {MAX_CONCURRENT_REQUESTS}", self.http.max_concurrent_requests),
            );
        }
        if !self.http.public_url.is_empty()
            && let Err(why) = checked_url(&self.http.public_url, &["http", "https"], true)
        {
            return invalid("http.public_url", format!("`{}` is not a dashboard address: {why}", excerpt(&self.http.public_url)));
        }
        if let Some(name) = &self.http.token_env
            && !is_env_var_name(name)
        {
            return invalid(
                "http.token_env",
                format!("`{}` is not an environment variable name (example: \"RATINGWATCH_HTTP_TOKEN\")", excerpt(name)),
            );
        }
        self.notify.validate()
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

pub const MAX_CONCURRENCY: usize = 256;
pub const MAX_CONCURRENT_REQUESTS: usize = 10_000;
pub const MAX_OVERLAP_DAYS: u32 = 3660;
pub const MAX_GRACE_PERIOD_SECS: u64 = 86_400;
pub const MAX_BREAKER_THRESHOLD: u32 = 1000;
pub const MAX_SWITCH_AFTER_RUNS: u32 = 1000;
pub const MAX_BREAKER_COOLDOWN_SECS: u64 = 86_400;

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
    use proptest::prelude::*;

    #[test]
    fn channel_and_event_kinds_print_as_the_config_spells_them() {
        use strum::{IntoEnumIterator, VariantNames};
        // The names in config files, dedup keys and `notify status`: they must never change.
        let channels = ["webhook", "slack", "wecom", "dingtalk", "feishu", "email"];
        assert_eq!(ChannelKind::VARIANTS, channels);
        for (kind, text) in ChannelKind::iter().zip(channels) {
            assert_eq!(kind.as_str(), text);
            assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{text}\""));
        }
        let events = ["weekly_summary", "verdict", "rating_change", "data_health", "test"];
        assert_eq!(EventKind::VARIANTS, events);
        for (event, text) in EventKind::iter().zip(events) {
            assert_eq!((event.as_str(), event.to_string()), (text, text.to_string()));
            assert_eq!(EventKind::parse(text), Some(event));
            assert_eq!(serde_json::to_string(&event).unwrap(), format!("\"{text}\""));
        }
        assert_eq!(EventKind::parse("Verdict"), None);
    }

    fn load_text(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, text).unwrap();
        Config::load(Some(&path), env.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn http_listen_is_an_address_parsed_once_with_its_key_named() {
        let config = load_text("[http]\nlisten = \"0.0.0.0:9000\"\n", &[]).unwrap();
        assert_eq!(config.http.listen, std::net::SocketAddr::from(([0, 0, 0, 0], 9000)));
        let error = load_text("[http]\nlisten = \"localhost\"\n", &[]).unwrap_err().to_string();
        assert!(error.contains("config key `http.listen`: `localhost` is not an address and port"), "{error}");
        let error = load_text("", &[("RATINGWATCH__HTTP__LISTEN", "localhost:x")]).unwrap_err().to_string();
        assert!(error.contains("RATINGWATCH__HTTP__LISTEN") && error.contains("`localhost:x` is not an address and port"), "{error}");
    }

    #[test]
    fn log_format_is_a_word_of_the_enum_with_its_key_named() {
        assert_eq!(load_text("[log]\nformat = \"json\"\n", &[]).unwrap().log.format, LogFormat::Json);
        let error = load_text("[log]\nformat = \"xml\"\n", &[]).unwrap_err().to_string();
        assert!(error.contains("format") && error.contains("xml") && error.contains("`text`") && error.contains("`json`"), "{error}");
    }

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
    fn http_public_url_must_be_an_http_base_url() {
        assert_eq!(load_text("[http]\npublic_url = \"https://rw.example.com\"\n", &[]).unwrap().http.public_url, "https://rw.example.com");
        assert_eq!(load_text("", &[]).unwrap().http.public_url, "");
        for (bad, why) in [("ftp://rw.example.com", "the scheme must be http or https"), ("https://rw.example.com/?a=1", "takes no query")]
        {
            let err = load_text(&format!("[http]\npublic_url = \"{bad}\"\n"), &[]).unwrap_err().to_string();
            assert!(err.contains("http.public_url") && err.contains(why), "{err}");
        }
    }

    #[test]
    fn http_max_concurrent_requests_is_bounded_naming_the_key() {
        let err = load_text("[http]\nmax_concurrent_requests = 100000000000\n", &[]).unwrap_err().to_string();
        assert!(err.contains("http.max_concurrent_requests") && err.contains("100000000000 must be at most 10000"), "{err}");
        let err = load_text("[http]\nmax_concurrent_requests = 10001\n", &[]).unwrap_err().to_string();
        assert!(err.contains("http.max_concurrent_requests") && err.contains("10001 must be at most 10000"), "{err}");
        assert_eq!(load_text("[http]\nmax_concurrent_requests = 10000\n", &[]).unwrap().http.max_concurrent_requests, 10_000);
    }

    #[test]
    fn a_huge_value_is_quoted_in_part() {
        let zone = "A".repeat(100_000);
        let err = load_text(&format!("[schedule]\ntimezone = \"{zone}\"\n"), &[]).unwrap_err().to_string();
        // The file's error names the line and shows the start of it, key first.
        assert!(err.contains("line 2") && err.contains("timezone = \"AAA") && err.len() < 600, "{} bytes", err.len());
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

    #[test]
    fn listing_preference_is_checked_and_partial_lists_fill_in() {
        let err = load_text("[instruments]\nprefer = [\"A\", \"JP\"]\n", &[]).unwrap_err().to_string();
        assert!(err.contains("instruments.prefer") && err.contains("JP"), "{err}");
        let config = load_text("[instruments]\nprefer = [\"US\"]\n", &[]).unwrap();
        use crate::names::Venue;
        assert_eq!(config.instruments.prefer.venues(), &[Venue::Us, Venue::A, Venue::Hk]);
    }
}
