//! `[notify]` and `[[notify.channels]]`: where messages go and when data health is announced.

use serde::{Deserialize, Serialize};

use super::{ConfigError, checked_url, excerpt, is_env_var_name, is_http_url};

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
    /// A broker's upgrade, downgrade or first coverage of a watchlist company, from the
    /// `sync_ratings` job. Default off: only a channel that lists it receives it.
    BrokerRating,
}

impl EventKind {
    pub const SUBSCRIBABLE: [EventKind; 5] =
        [EventKind::WeeklySummary, EventKind::Verdict, EventKind::RatingChange, EventKind::DataHealth, EventKind::BrokerRating];

    /// Whether a channel with an empty `events` list receives this event. `broker_rating` is
    /// off by default (dozens of calls a week on a large watchlist): a channel lists it to get it.
    pub fn on_by_default(self) -> bool {
        self != EventKind::BrokerRating
    }

    /// Whether a channel subscribed to `events` receives this event: `test` always, an
    /// empty list every event on by default, else the events listed.
    pub fn wanted_by(self, events: &[EventKind]) -> bool {
        self == EventKind::Test || (events.is_empty() && self.on_by_default()) || events.contains(&self)
    }

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
    /// Events this channel receives; empty or left out: all of them but `broker_rating`,
    /// which is off by default and received only when listed.
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
    /// Whether this channel receives `event` (`test` goes to every channel; an empty list is
    /// every event on by default, so not `broker_rating`).
    pub fn wants(&self, event: EventKind) -> bool {
        event.wanted_by(&self.events)
    }
}

impl NotifyConfig {
    /// Checks what serde cannot; errors name the key as `notify.channels[i].key`.
    pub fn validate(&self) -> Result<(), ConfigError> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let events = ["weekly_summary", "verdict", "rating_change", "data_health", "test", "broker_rating"];
        assert_eq!(EventKind::VARIANTS, events);
        for (event, text) in EventKind::iter().zip(events) {
            assert_eq!((event.as_str(), event.to_string()), (text, text.to_string()));
            assert_eq!(EventKind::parse(text), Some(event));
            assert_eq!(serde_json::to_string(&event).unwrap(), format!("\"{text}\""));
        }
        assert_eq!(EventKind::parse("Verdict"), None);
    }
}
