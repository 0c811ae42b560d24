//! Channels resolved for sending: config plus the secrets read from the environment at
//! start-up. A missing variable is a start-up error naming the config key.

use std::fmt;

use crate::config::{ChannelKind, ConfigError, EventKind, NotifyConfig, is_http_url};

/// A secret read from the environment. Its `Debug` never shows the value, so a channel can
/// be logged or put in an error without leaking it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// Where a channel's messages go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// The URL is a secret for Slack and WeCom (it carries the key), so it is a [`Secret`] too.
    Http {
        url: Secret,
        secret: Option<Secret>,
    },
    Email {
        smtp_url: String,
        password: Option<Secret>,
        from: String,
        to: Vec<String>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Channel {
    pub name: String,
    pub kind: ChannelKind,
    pub target: Target,
    /// Subscribed events; empty: every event on by default (not `broker_rating`).
    events: Vec<EventKind>,
}

impl Channel {
    pub fn wants(&self, event: EventKind) -> bool {
        event.wanted_by(&self.events)
    }

    /// A description safe for logs: the kind and the host, never a key or token.
    pub fn describe(&self) -> String {
        let host = match &self.target {
            Target::Http { url, .. } => url::Url::parse(url.expose()).ok().and_then(|u| u.host_str().map(str::to_string)),
            Target::Email { smtp_url, .. } => url::Url::parse(smtp_url).ok().and_then(|u| u.host_str().map(str::to_string)),
        };
        format!("{} ({} {})", self.name, self.kind.as_str(), host.unwrap_or_default())
    }
}

/// Every configured channel, in config order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Channels(Vec<Channel>);

impl Channels {
    /// Resolves `config.channels`, reading secrets through `env` (`std::env::var` in the
    /// program, a map in tests). Errors name the key and the variable, never its value.
    pub fn from_config(config: &NotifyConfig, env: impl Fn(&str) -> Option<String>) -> Result<Channels, ConfigError> {
        let mut channels = Vec::new();
        for (index, channel) in config.channels.iter().enumerate() {
            let read = |field: &str, name: &Option<String>| -> Result<Option<Secret>, ConfigError> {
                let Some(name) = name else { return Ok(None) };
                match env(name) {
                    Some(value) if !value.is_empty() => Ok(Some(Secret(value))),
                    _ => Err(ConfigError::Invalid {
                        key: format!("notify.channels[{index}].{field}"),
                        message: format!("environment variable {name} (channel `{}`) is not set or empty", channel.name),
                    }),
                }
            };
            let target = if channel.kind == ChannelKind::Email {
                Target::Email {
                    smtp_url: channel.smtp_url.clone().unwrap_or_default(),
                    password: read("password_env", &channel.password_env)?,
                    from: channel.from.clone().unwrap_or_default(),
                    to: channel.to.clone(),
                }
            } else {
                let url = match read("url_env", &channel.url_env)? {
                    Some(url) => {
                        if !is_http_url(url.expose()) {
                            return Err(ConfigError::Invalid {
                                key: format!("notify.channels[{index}].url_env"),
                                message: format!(
                                    "the value of {} is not an http:// or https:// URL",
                                    channel.url_env.as_deref().unwrap_or("")
                                ),
                            });
                        }
                        url
                    }
                    None => Secret(channel.url.clone().unwrap_or_default()),
                };
                Target::Http { url, secret: read("secret_env", &channel.secret_env)? }
            };
            channels.push(Channel { name: channel.name.clone(), kind: channel.kind, target, events: channel.events.clone() });
        }
        Ok(Channels(channels))
    }

    pub fn new(channels: Vec<Channel>) -> Channels {
        Channels(channels)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Channel> {
        self.0.iter()
    }

    pub fn get(&self, name: &str) -> Option<&Channel> {
        self.0.iter().find(|channel| channel.name == name)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The channels that receive `event`.
    pub fn for_event(&self, event: EventKind) -> impl Iterator<Item = &Channel> {
        self.0.iter().filter(move |channel| channel.wants(event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn load(text: &str) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, text).unwrap();
        Config::load(Some(&path), [])
    }

    #[test]
    fn secrets_come_from_the_environment_and_never_show_in_debug() {
        let config = load(
            "[[notify.channels]]\nname = \"ding\"\nkind = \"dingtalk\"\nurl = \"https://oapi.dingtalk.com/robot/send?access_token=t\"\nsecret_env = \"DING_SECRET\"\n",
        )
        .unwrap();
        let channels = Channels::from_config(&config.notify, |name| (name == "DING_SECRET").then(|| "SECabc123".to_string())).unwrap();
        let channel = channels.get("ding").unwrap();
        assert!(matches!(&channel.target, Target::Http { secret: Some(secret), .. } if secret.expose() == "SECabc123"));
        let shown = format!("{channels:?} {}", channel.describe());
        assert!(!shown.contains("SECabc123") && !shown.contains("access_token=t"), "{shown}");
        assert_eq!(channel.describe(), "ding (dingtalk oapi.dingtalk.com)");

        let err = Channels::from_config(&config.notify, |_| None).unwrap_err().to_string();
        assert!(err.contains("notify.channels[0].secret_env") && err.contains("DING_SECRET"), "{err}");
    }

    /// An email channel's config with these addresses.
    fn email_channel(from: &str, to: &[&str]) -> String {
        format!("[[notify.channels]]\nname = \"mail\"\nkind = \"email\"\nsmtp_url = \"smtp://h\"\nfrom = {from:?}\nto = {to:?}\n")
    }

    #[test]
    fn an_email_from_that_does_not_parse_is_refused_at_load_naming_the_key() {
        let email = |from: &str| email_channel(from, &["c@d.example"]);
        for from in ["not an address", "bot@", "ratingwatch <bot@example.com"] {
            let err = load(&email(from)).unwrap_err().to_string();
            assert!(err.contains("notify.channels[0].from") && err.contains(&format!("`{from}` is not an email address")), "{from}: {err}");
        }
        // What `email::build` accepts loads and resolves.
        for from in ["bot@example.com", "ratingwatch <bot@example.com>"] {
            let config = load(&email(from)).unwrap();
            let channels = Channels::from_config(&config.notify, |_| None).unwrap();
            assert!(matches!(&channels.get("mail").unwrap().target, Target::Email { from: got, .. } if got == from));
            assert!(
                crate::notify::email::build(&crate::notify::events::test("mail", chrono::Utc::now()), from, &["c@d.example".to_string()])
                    .is_ok(),
                "{from}"
            );
        }
    }

    #[test]
    fn an_email_to_address_that_does_not_parse_is_refused_at_load_naming_the_key() {
        let email = |to: &str| email_channel("bot@example.com", &["a@b.example", to]);
        // The second address is index 1.
        for to in ["not an address", "team@", "<team@example.com"] {
            let err = load(&email(to)).unwrap_err().to_string();
            assert!(err.contains("notify.channels[0].to[1]") && err.contains(&format!("`{to}` is not an email address")), "{to}: {err}");
        }
        assert!(load(&email("Team <team@example.com>")).is_ok());
    }

    #[test]
    fn config_errors_name_the_key() {
        let cases = [
            ("[[notify.channels]]\nname = \"a\"\nkind = \"telegram\"\nurl = \"https://x\"\n", "telegram"),
            ("[[notify.channels]]\nname = \"a\"\nkind = \"slack\"\nurl = \"https://x\"\ncolour = 1\n", "colour"),
            ("[[notify.channels]]\nname = \"a\"\nkind = \"slack\"\nurl = \"hooks.slack.com/x\"\n", "notify.channels[0].url"),
            ("[[notify.channels]]\nname = \"a\"\nkind = \"slack\"\n", "notify.channels[0].url"),
            (
                "[[notify.channels]]\nname = \"a\"\nkind = \"email\"\nsmtp_url = \"smtp://u:pw@h\"\nfrom = \"a@b\"\nto = [\"c@d\"]\n",
                "must not hold a password",
            ),
            (
                "[[notify.channels]]\nname = \"a\"\nkind = \"email\"\nsmtp_url = \"http://h\"\nfrom = \"a@b\"\nto = [\"c@d\"]\n",
                "notify.channels[0].smtp_url",
            ),
            ("[[notify.channels]]\nname = \"a\"\nkind = \"email\"\nsmtp_url = \"smtp://h\"\nfrom = \"a@b\"\n", "notify.channels[0].to"),
            (
                "[[notify.channels]]\nname = \"a\"\nkind = \"feishu\"\nurl = \"https://x\"\nsecret_env = \"sk-live-123\"\n",
                "notify.channels[0].secret_env",
            ),
            ("[[notify.channels]]\nname = \"a\"\nkind = \"wecom\"\nurl = \"https://x\"\nevents = [\"weekly\"]\n", "weekly"),
            (
                "[[notify.channels]]\nname = \"a\"\nkind = \"wecom\"\nurl = \"https://x\"\n[[notify.channels]]\nname = \"a\"\nkind = \"slack\"\nurl = \"https://y\"\n",
                "notify.channels[1].name",
            ),
        ];
        for (text, expected) in cases {
            let err = load(text).unwrap_err().to_string();
            assert!(err.contains(expected), "{text}\n→ {err}");
        }
    }
}
