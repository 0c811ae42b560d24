//! `[http]`: the web server's address, token, timeout and concurrency.

use serde::{Deserialize, Serialize};

use super::{ConfigError, checked_url, excerpt, is_env_var_name};

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

pub const MAX_CONCURRENT_REQUESTS: usize = 10_000;

impl HttpConfig {
    /// `listen` is parsed as the file is read; this checks the rest, naming the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: String| Err(ConfigError::Invalid { key: key.to_string(), message });
        if self.request_timeout_secs == 0 {
            return invalid("http.request_timeout_secs", "must be at least 1".to_string());
        }
        if self.max_concurrent_requests == 0 {
            return invalid("http.max_concurrent_requests", "must be at least 1".to_string());
        }
        if self.max_concurrent_requests > MAX_CONCURRENT_REQUESTS {
            return invalid(
                "http.max_concurrent_requests",
                format!("{} must be at most {MAX_CONCURRENT_REQUESTS}", self.max_concurrent_requests),
            );
        }
        if !self.public_url.is_empty()
            && let Err(why) = checked_url(&self.public_url, &["http", "https"], true)
        {
            return invalid("http.public_url", format!("`{}` is not a dashboard address: {why}", excerpt(&self.public_url)));
        }
        if let Some(name) = &self.token_env
            && !is_env_var_name(name)
        {
            return invalid(
                "http.token_env",
                format!("`{}` is not an environment variable name (example: \"RATINGWATCH_HTTP_TOKEN\")", excerpt(name)),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::config::load_text;

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
}
