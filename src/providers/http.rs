//! The one HTTP client every provider shares, and the politeness around each request:
//! a browser User-Agent, a per-provider Referer, a per-request timeout, a cap on body size,
//! a per-provider rate limit (governor) and retries with jittered exponential backoff (backon).
//!
//! Retry policy ([`should_retry`]): timeouts, connect errors, 5xx and 429 are retried, with
//! `Retry-After` (seconds form) honoured up to [`RETRY_AFTER_CAP`]; every other 4xx is final.
//! A connection the server closes without answering is not retried either: Eastmoney bans
//! show up exactly that way, and hammering a banning host only lengthens the ban.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use chrono::{DateTime, Utc};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, ACCEPT_LANGUAGE, HeaderMap, HeaderValue, REFERER, RETRY_AFTER};

use super::ProviderName;

/// A desktop Chrome User-Agent: Yahoo answers 429 to clients without a browser-like one.
pub const USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36";

/// The largest body accepted. A full Yahoo history of an old US stock is about 2 MB; anything
/// far larger is not a price series.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// The longest `Retry-After` we wait for. A server asking for more is banning us: retrying
/// sooner than it asked would be rude, so the request fails at once instead.
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(60);

/// The first backoff delay; later ones double (with jitter) up to [`RETRY_MAX_DELAY`].
const RETRY_MIN_DELAY: Duration = Duration::from_millis(300);
const RETRY_MAX_DELAY: Duration = Duration::from_secs(30);

/// Builds the one client all providers share (connection pool, TLS and gzip set up once).
pub fn build_client() -> Result<reqwest::Client, reqwest::Error> {
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static("application/json, text/javascript, */*; q=0.01"));
    headers.insert(ACCEPT_LANGUAGE, HeaderValue::from_static("zh-CN,zh;q=0.9,en;q=0.8"));
    reqwest::Client::builder().user_agent(USER_AGENT).default_headers(headers).gzip(true).build()
}

/// What went wrong with one HTTP exchange.
#[derive(Clone, Debug, PartialEq)]
pub enum HttpError {
    /// The server answered with a non-2xx status. `body` is what it sent (capped).
    Status { status: StatusCode, retry_after: Option<Duration>, body: String },
    /// No complete answer within the configured timeout.
    Timeout { after: Duration },
    /// The TCP/TLS connection could not be set up.
    Connect(String),
    /// The connection was closed (or reset) before a complete response arrived.
    Closed(String),
    /// The body exceeded [`MAX_BODY_BYTES`].
    TooLarge { limit: usize },
}

impl HttpError {
    fn retry_after(&self) -> Option<Duration> {
        match self {
            HttpError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpError::Status { status, body, .. } => write!(f, "HTTP {status}, body: {}", super::describe_body(body)),
            HttpError::Timeout { after } => write!(f, "timed out: no complete answer within {} s", after.as_secs_f64()),
            HttpError::Connect(detail) => write!(f, "cannot connect: {detail}"),
            HttpError::Closed(detail) => {
                write!(f, "connection closed without a complete response ({detail}); hosts that ban an IP answer this way")
            }
            HttpError::TooLarge { limit } => write!(f, "response body larger than {limit} bytes"),
        }
    }
}

/// The final failure of a request, after any retries.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpFailure {
    pub provider: ProviderName,
    pub error: HttpError,
    /// How many requests were sent, retries included.
    pub attempts: u32,
}

impl std::fmt::Display for HttpFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.attempts > 1 { write!(f, "{} (after {} attempts)", self.error, self.attempts) } else { write!(f, "{}", self.error) }
    }
}

/// Whether a failed attempt may be repeated: timeouts, connect errors, 5xx and 429.
/// Other 4xx are answers about the request itself and repeating them cannot help; a dropped
/// connection is a ban signal (see the module docs).
pub fn should_retry(error: &HttpError) -> bool {
    match error {
        HttpError::Timeout { .. } | HttpError::Connect(_) => true,
        HttpError::Status { status, .. } => *status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error(),
        HttpError::Closed(_) | HttpError::TooLarge { .. } => false,
    }
}

/// The delay before the next attempt: the server's `Retry-After` when it sent one (never
/// shorter than the backoff's own delay), or `None` to stop retrying. `backoff_delay` is
/// `None` once the retry budget is spent.
pub fn next_delay(error: &HttpError, backoff_delay: Option<Duration>) -> Option<Duration> {
    let backoff_delay = backoff_delay?;
    match error.retry_after() {
        Some(asked) if asked > RETRY_AFTER_CAP => None,
        Some(asked) => Some(asked.max(backoff_delay)),
        None => Some(backoff_delay),
    }
}

/// Reads `Retry-After` (RFC 9110 §10.2.3): delay seconds, or an HTTP date counted from
/// `now`. The one parser, for the price clients and the notification sender alike; each
/// caps the delay its own way. The price clients pass the answer's own `Date` header as
/// `now` (the server's clock, and no wall-clock read here); without one a date is ignored
/// and the backoff delay applies.
pub fn parse_retry_after(headers: &HeaderMap, now: Option<DateTime<Utc>>) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at: DateTime<Utc> = httpdate::parse_http_date(text).ok()?.into();
    Some(Duration::from_secs((at - now?).num_seconds().max(0) as u64))
}

/// The answer's `Date` header, the server's "now" for a `Retry-After` date.
pub fn response_date(headers: &HeaderMap) -> Option<DateTime<Utc>> {
    let text = headers.get(reqwest::header::DATE)?.to_str().ok()?;
    Some(httpdate::parse_http_date(text.trim()).ok()?.into())
}

/// A successful (2xx) response.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpResponse {
    /// The body as UTF-8 (invalid sequences replaced).
    pub body: String,
    /// The body's bytes as received, for providers that answer in GBK.
    pub bytes: Vec<u8>,
}

/// One provider's connection settings over the shared client.
pub struct Endpoint {
    pub provider: ProviderName,
    client: reqwest::Client,
    /// Without a trailing slash; API paths start with one.
    base_url: String,
    referer: Option<&'static str>,
    timeout: Duration,
    max_retries: u32,
    limiter: Option<Arc<DefaultDirectRateLimiter>>,
    max_body_bytes: usize,
    /// Replaces the client's default `Accept` header (Eastmoney's symbol search routes by it).
    accept: Option<&'static str>,
}

impl Endpoint {
    /// `requests_per_second` of 0 turns the rate limit off; it must otherwise be positive
    /// and finite (config validation guarantees it).
    pub fn new(
        provider: ProviderName,
        client: reqwest::Client,
        base_url: &str,
        referer: Option<&'static str>,
        timeout: Duration,
        max_retries: u32,
        requests_per_second: f64,
    ) -> Endpoint {
        let limiter = (requests_per_second > 0.0).then(|| {
            // One request per period with a burst of one: requests are spaced, never bunched.
            // Config validation bounds the rate; a period that still does not fit is clamped
            // to one request a day rather than panicking.
            const SLOWEST: Duration = Duration::from_secs(86_400);
            let period = Duration::try_from_secs_f64(1.0 / requests_per_second).unwrap_or(SLOWEST).clamp(Duration::from_nanos(1), SLOWEST);
            let quota = Quota::with_period(period).unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN));
            Arc::new(RateLimiter::direct(quota))
        });
        Endpoint {
            provider,
            client,
            base_url: base_url.trim_end_matches('/').to_string(),
            referer,
            timeout,
            max_retries,
            limiter,
            max_body_bytes: MAX_BODY_BYTES,
            accept: None,
        }
    }

    /// Sends `accept` as the `Accept` header instead of the client's default.
    pub fn with_accept(mut self, accept: &'static str) -> Endpoint {
        self.accept = Some(accept);
        self
    }

    #[cfg(test)]
    fn with_max_body_bytes(mut self, limit: usize) -> Endpoint {
        self.max_body_bytes = limit;
        self
    }

    /// GETs `base_url + path` with `query`, retrying per [`should_retry`]. Returns the body of
    /// a 2xx answer; any other outcome is an [`HttpFailure`] that still carries the body.
    pub async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<HttpResponse, HttpFailure> {
        let url = format!("{}{}", self.base_url, path);
        let attempts = AtomicU32::new(0);
        let backoff = ExponentialBuilder::new()
            .with_min_delay(RETRY_MIN_DELAY)
            .with_max_delay(RETRY_MAX_DELAY)
            .with_factor(2.0)
            .with_max_times(self.max_retries as usize)
            .with_jitter();
        let result = (|| async {
            attempts.fetch_add(1, Ordering::Relaxed);
            let result = self.attempt(&url, query).await;
            record_attempt(self.provider, result.as_ref().err());
            result
        })
        .retry(backoff)
        .when(should_retry)
        .adjust(next_delay)
        .notify(|error, delay| {
            tracing::debug!(provider = %self.provider, url = %url, "retrying in {delay:?} after: {error}");
        })
        .await;
        result.map_err(|error| HttpFailure { provider: self.provider, error, attempts: attempts.load(Ordering::Relaxed) })
    }

    async fn attempt(&self, url: &str, query: &[(&str, String)]) -> Result<HttpResponse, HttpError> {
        if let Some(limiter) = &self.limiter {
            limiter.until_ready().await;
        }
        let mut request = self.client.get(url).query(query).timeout(self.timeout);
        if let Some(referer) = self.referer {
            request = request.header(REFERER, referer);
        }
        if let Some(accept) = self.accept {
            request = request.header(ACCEPT, accept);
        }
        let classify = |error| classify_reqwest_error(error, self.timeout);
        let mut response = request.send().await.map_err(classify)?;
        let status = response.status();
        let retry_after = parse_retry_after(response.headers(), response_date(response.headers()));
        if response.content_length().is_some_and(|length| length > self.max_body_bytes as u64) {
            return Err(HttpError::TooLarge { limit: self.max_body_bytes });
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if bytes.len() + chunk.len() > self.max_body_bytes {
                return Err(HttpError::TooLarge { limit: self.max_body_bytes });
            }
            bytes.extend_from_slice(&chunk);
        }
        // Providers answer in UTF-8; a stray invalid byte should not hide the rest of the body.
        let body = String::from_utf8_lossy(&bytes).into_owned();
        if status.is_success() { Ok(HttpResponse { body, bytes }) } else { Err(HttpError::Status { status, retry_after, body }) }
    }
}

/// The `class` label of `ratingwatch_provider_failures_total`, every value it takes (so
/// `/metrics` can show each at 0 before the first failure).
pub const FAILURE_CLASSES: [&str; 7] = ["status_429", "status_5xx", "status_4xx", "timeout", "connect", "closed", "too_large"];

/// Counts one request to a provider, and its failure by class, for `/metrics` (a no-op
/// unless the web server installed the recorder).
fn record_attempt(provider: ProviderName, error: Option<&HttpError>) {
    let provider: &'static str = provider.into();
    metrics::counter!("ratingwatch_provider_requests_total", "provider" => provider).increment(1);
    if let Some(error) = error {
        // Each class is one of [`FAILURE_CLASSES`].
        let class = match error {
            HttpError::Status { status, .. } if *status == StatusCode::TOO_MANY_REQUESTS => "status_429",
            HttpError::Status { status, .. } if status.is_server_error() => "status_5xx",
            HttpError::Status { .. } => "status_4xx",
            HttpError::Timeout { .. } => "timeout",
            HttpError::Connect(_) => "connect",
            HttpError::Closed(_) => "closed",
            HttpError::TooLarge { .. } => "too_large",
        };
        metrics::counter!("ratingwatch_provider_failures_total", "provider" => provider, "class" => class).increment(1);
    }
}

/// How a request that got no answer failed: the one classifier of transport errors, for the
/// price clients and the notification sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportFailure {
    /// The whole-request timeout passed.
    Timeout,
    /// No connection could be made (refused, unreachable, DNS, TLS handshake).
    Connect,
    /// The connection broke or the request failed otherwise.
    Other,
}

impl TransportFailure {
    pub fn of(error: &reqwest::Error) -> TransportFailure {
        if error.is_timeout() {
            TransportFailure::Timeout
        } else if error.is_connect() {
            TransportFailure::Connect
        } else {
            TransportFailure::Other
        }
    }
}

fn classify_reqwest_error(error: reqwest::Error, timeout: Duration) -> HttpError {
    // The URL is long (every query parameter) and the caller's message already names the
    // symbol and provider.
    let error = error.without_url();
    match TransportFailure::of(&error) {
        TransportFailure::Timeout => HttpError::Timeout { after: timeout },
        TransportFailure::Connect => HttpError::Connect(error_chain(&error)),
        TransportFailure::Other => HttpError::Closed(error_chain(&error)),
    }
}

/// The error and its causes on one line: reqwest's own message rarely says what happened.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_are_counted_by_provider_and_failures_by_class() {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            record_attempt(ProviderName::Yahoo, None);
            record_attempt(ProviderName::Yahoo, Some(&status(429)));
            record_attempt(ProviderName::Eastmoney, Some(&HttpError::Closed("reset".to_string())));
            record_attempt(ProviderName::Eastmoney, Some(&status(502)));
        });
        let text = handle.render();
        assert!(text.contains("ratingwatch_provider_requests_total{provider=\"yahoo\"} 2"), "{text}");
        assert!(text.contains("ratingwatch_provider_requests_total{provider=\"eastmoney\"} 2"), "{text}");
        assert!(text.contains("ratingwatch_provider_failures_total{provider=\"yahoo\",class=\"status_429\"} 1"), "{text}");
        assert!(text.contains("ratingwatch_provider_failures_total{provider=\"eastmoney\",class=\"closed\"} 1"), "{text}");
        assert!(text.contains("ratingwatch_provider_failures_total{provider=\"eastmoney\",class=\"status_5xx\"} 1"), "{text}");
    }
    use rstest::rstest;

    fn status(code: u16) -> HttpError {
        HttpError::Status { status: StatusCode::from_u16(code).unwrap(), retry_after: None, body: String::new() }
    }

    #[rstest]
    #[case(status(429), true)]
    #[case(status(500), true)]
    #[case(status(502), true)]
    #[case(status(503), true)]
    #[case(status(501), true)]
    #[case(status(400), false)]
    #[case(status(401), false)]
    #[case(status(403), false)]
    #[case(status(404), false)]
    #[case(status(408), false)]
    #[case(HttpError::Timeout { after: Duration::from_secs(1) }, true)]
    #[case(HttpError::Connect("refused".into()), true)]
    #[case(HttpError::Closed("connection closed before message completed".into()), false)]
    #[case(HttpError::TooLarge { limit: 10 }, false)]
    fn retries_only_timeouts_connects_5xx_and_429(#[case] error: HttpError, #[case] expected: bool) {
        assert_eq!(should_retry(&error), expected, "{error}");
    }

    #[rstest]
    #[case(Some("1"), Some(Duration::from_secs(1)))]
    #[case(Some(" 30 "), Some(Duration::from_secs(30)))]
    // A date without the answer's `Date` to count from is ignored (the backoff applies).
    #[case(Some("Wed, 21 Oct 2026 07:28:00 GMT"), None)]
    #[case(Some("-5"), None)]
    #[case(None, None)]
    fn reads_retry_after_seconds(#[case] header: Option<&str>, #[case] expected: Option<Duration>) {
        let mut headers = HeaderMap::new();
        if let Some(value) = header {
            headers.insert(RETRY_AFTER, HeaderValue::from_str(value).unwrap());
        }
        assert_eq!(parse_retry_after(&headers, response_date(&headers)), expected);
    }

    #[test]
    fn a_retry_after_date_counts_from_the_answers_own_date() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("Fri, 19 May 2023 10:02:00 GMT"));
        headers.insert(reqwest::header::DATE, HeaderValue::from_static("Fri, 19 May 2023 10:00:30 GMT"));
        // 10:02:00 - 10:00:30 = 90 s.
        assert_eq!(parse_retry_after(&headers, response_date(&headers)), Some(Duration::from_secs(90)));
        // A date already past asks for no wait.
        headers.insert(reqwest::header::DATE, HeaderValue::from_static("Fri, 19 May 2023 10:05:00 GMT"));
        assert_eq!(parse_retry_after(&headers, response_date(&headers)), Some(Duration::ZERO));
    }

    #[test]
    fn next_delay_honours_retry_after_within_the_cap() {
        let too_many = |after: Option<u64>| HttpError::Status {
            status: StatusCode::TOO_MANY_REQUESTS,
            retry_after: after.map(Duration::from_secs),
            body: String::new(),
        };
        let backoff = Some(Duration::from_millis(300));
        // The server's wish wins over a shorter backoff delay.
        assert_eq!(next_delay(&too_many(Some(2)), backoff), Some(Duration::from_secs(2)));
        // A longer backoff delay is kept: Retry-After is a minimum.
        assert_eq!(next_delay(&too_many(Some(0)), backoff), backoff);
        assert_eq!(next_delay(&too_many(None), backoff), backoff);
        // Asking for more than the cap ends the retries instead of waiting a minute or more.
        assert_eq!(next_delay(&too_many(Some(61)), backoff), None);
        assert_eq!(next_delay(&too_many(Some(60)), backoff), Some(Duration::from_secs(60)));
        // An exhausted budget stays exhausted whatever the server says.
        assert_eq!(next_delay(&too_many(Some(1)), None), None);
    }

    #[derive(Debug, thiserror::Error)]
    #[error("error sending request")]
    struct Outer(#[source] Middle);

    #[derive(Debug, thiserror::Error)]
    #[error("connection closed before message completed")]
    struct Middle(#[source] std::io::Error);

    #[test]
    fn error_chain_names_every_cause() {
        let error = Outer(Middle(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer")));
        assert_eq!(error_chain(&error), "error sending request: connection closed before message completed: reset by peer");
    }

    #[tokio::test]
    async fn caps_the_body_size() {
        use wiremock::matchers::method;
        use wiremock::{Mock, MockServer, ResponseTemplate};
        let server = MockServer::start().await;
        Mock::given(method("GET")).respond_with(ResponseTemplate::new(200).set_body_string("x".repeat(2048))).mount(&server).await;
        let endpoint = Endpoint::new(ProviderName::Yahoo, build_client().unwrap(), &server.uri(), None, Duration::from_secs(2), 0, 0.0)
            .with_max_body_bytes(1024);
        let failure = endpoint.get("/big", &[]).await.unwrap_err();
        assert_eq!(failure.error, HttpError::TooLarge { limit: 1024 });
        let small = Endpoint::new(ProviderName::Yahoo, build_client().unwrap(), &server.uri(), None, Duration::from_secs(2), 0, 0.0);
        assert_eq!(small.get("/big", &[]).await.unwrap().body.len(), 2048);
    }

    #[tokio::test]
    async fn sends_user_agent_referer_and_joins_base_url_with_a_path_prefix() {
        use wiremock::matchers::{header, method, path, query_param};
        use wiremock::{Mock, MockServer, ResponseTemplate};
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/prefix/api/thing"))
            .and(query_param("a", "1,2"))
            .and(header("referer", "https://quote.example/"))
            .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
            .mount(&server)
            .await;
        let base = format!("{}/prefix/", server.uri());
        let endpoint = Endpoint::new(
            ProviderName::Eastmoney,
            build_client().unwrap(),
            &base,
            Some("https://quote.example/"),
            Duration::from_secs(2),
            0,
            0.0,
        );
        assert_eq!(endpoint.get("/api/thing", &[("a", "1,2".to_string())]).await.unwrap().body, "ok");
        // wiremock's header matcher splits on commas, which the User-Agent contains: compare whole.
        let requests = server.received_requests().await.unwrap();
        assert_eq!(requests[0].headers.get("user-agent").unwrap().to_str().unwrap(), USER_AGENT);
    }
}
