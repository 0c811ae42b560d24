//! Public daily-price providers. All HTTP in the product lives under this module.
//!
//! Invariants:
//! - Wire types stay in each provider's file; what leaves this module is [`FetchedSeries`]
//!   (domain [`Bar`]s: exchange-local dates, volume in shares, raw close plus the provider's
//!   own back-adjusted or `adjclose` series, never forward-adjusted `qfq`).
//! - Base URLs come from config; each client appends the real API path.
//! - Errors are classified ([`ProviderErrorKind`]) so sync can fall back, defer or open a
//!   provider's circuit breaker.
//! - Every series leaving [`Providers::fetch`] holds only bars within the request's range,
//!   oldest first, dates unique; `close` and `adj_close` come from the same provider, joined
//!   by date on the dates both series have (a date missing from either is dropped and
//!   logged at debug level: near today one request can see a bar the other did not yet).
//! - A provider that cannot serve a market answers `Unsupported` without any HTTP.
//!
//! Codemap: `http.rs` (the shared client, rate limits, retries), `tencent.rs`,
//! `eastmoney.rs`, `yahoo.rs` (symbol mapping, URLs, wire types and pure parsers each).

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::NaiveDate;

use crate::config::{ProviderConfig, ProvidersConfig};
use crate::prices::{AdjBasis, Bar};
use crate::symbol::{Market, Symbol};
use crate::text::excerpt;

mod eastmoney;
mod http;
pub mod instruments;
pub mod ratings;
mod tencent;
pub mod us;
mod yahoo;

use http::HttpError;

pub use crate::ids::ProviderName;
pub use http::{FAILURE_CLASSES, TransportFailure, parse_retry_after};
pub use yahoo::{from_yahoo_symbol, yahoo_symbol};

impl ProviderName {
    /// The `Referer` each provider's own web pages send, which its API expects to see.
    pub fn referer(self) -> Option<&'static str> {
        match self {
            ProviderName::Tencent => Some(tencent::REFERER),
            ProviderName::Eastmoney => Some(eastmoney::REFERER),
            ProviderName::Yahoo => None,
        }
    }
}

/// Daily bars of one security over an inclusive date range.
#[derive(Clone, Debug, PartialEq)]
pub struct FetchRequest {
    pub symbol: Symbol,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// What a provider returned for one request, already in domain form.
#[derive(Clone, Debug, PartialEq)]
pub struct FetchedSeries {
    pub provider: ProviderName,
    /// The basis of every bar's `adj_close` in `bars` (`None` for indices and FX).
    pub basis: AdjBasis,
    /// Oldest first, dates unique, within the requested range, completed sessions only.
    pub bars: Vec<Bar>,
    /// The security's first trading date, when the provider tells it.
    pub first_trade_date: Option<NaiveDate>,
}

/// How a provider failed, which decides what sync does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProviderErrorKind {
    /// The provider does not know this symbol (Eastmoney `rc≠0`/`data:null`, Yahoo 404,
    /// Tencent empty `data`): try the next provider, the symbol may still exist elsewhere.
    NotFound,
    /// This provider cannot serve this market or symbol form at all.
    Unsupported,
    /// Ban signals: 429 after retries, HTML instead of JSON, empty body, connection dropped
    /// without a response. They count towards the provider's circuit breaker in sync.
    Blocked,
    /// The host cannot be reached at all after the retries (connection refused, DNS failure,
    /// no network). Counts towards the circuit breaker like a ban.
    Unreachable,
    /// Timeouts and 5xx that outlived the retries.
    Transient,
    /// A response that does not parse or fails validation (truncated JSON, bad numbers).
    Malformed,
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{symbol} via {provider}: {message}")]
pub struct ProviderError {
    pub provider: ProviderName,
    pub symbol: Symbol,
    pub kind: ProviderErrorKind,
    pub message: String,
}

/// Why the providers cannot be built from config.
#[derive(Debug, thiserror::Error)]
pub enum ProvidersConfigError {
    /// A setting out of range, naming the config key ([`ProviderConfig::validate`]).
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("cannot set up the HTTP client (TLS): {0}")]
    Client(String),
}

/// One provider's endpoint at `base_url` with that provider's timeout, retries and rate limit,
/// checked first (an error names the `providers.<name>.…` key). The price clients and the
/// instrument sources (other base URLs, the same provider settings) are built by it.
fn endpoint(
    client: &reqwest::Client,
    provider: ProviderName,
    base_url: &str,
    settings: &ProviderConfig,
) -> Result<http::Endpoint, ProvidersConfigError> {
    settings.validate(&format!("providers.{provider}"))?;
    Ok(http::Endpoint::new(
        provider,
        client.clone(),
        base_url,
        provider.referer(),
        Duration::from_secs(settings.timeout_secs),
        settings.max_retries,
        settings.requests_per_second,
    ))
}

/// The three provider clients behind one shared HTTP client, built from config.
/// Cheap to share across tasks by reference; all state inside is synchronised.
pub struct Providers {
    tencent: tencent::Tencent,
    eastmoney: eastmoney::Eastmoney,
    yahoo: yahoo::Yahoo,
}

impl Providers {
    /// Builds every client from config: base URLs, timeouts, per-host rate limits, retries.
    pub fn from_config(config: &ProvidersConfig) -> Result<Providers, ProvidersConfigError> {
        let client = http::build_client().map_err(|e| ProvidersConfigError::Client(e.to_string()))?;
        let endpoint = |provider: ProviderName, settings: &ProviderConfig| endpoint(&client, provider, &settings.base_url, settings);
        Ok(Providers {
            tencent: tencent::Tencent::new(endpoint(ProviderName::Tencent, &config.tencent)?),
            eastmoney: eastmoney::Eastmoney::new(endpoint(ProviderName::Eastmoney, &config.eastmoney)?),
            yahoo: yahoo::Yahoo::new(endpoint(ProviderName::Yahoo, &config.yahoo)?),
        })
    }

    /// Fetches raw and adjusted daily bars of `request.symbol` from one provider.
    /// An empty range (`from` after `to`) answers an empty series without any request.
    pub async fn fetch(&self, provider: ProviderName, request: &FetchRequest) -> Result<FetchedSeries, ProviderError> {
        let basis = series_basis(provider, &request.symbol);
        if request.from > request.to {
            return Ok(FetchedSeries { provider, basis, bars: Vec::new(), first_trade_date: None });
        }
        let fetched = match provider {
            ProviderName::Tencent => self.tencent.fetch(request).await,
            ProviderName::Eastmoney => self.eastmoney.fetch(request).await,
            ProviderName::Yahoo => self.yahoo.fetch(request).await,
        };
        match fetched {
            Ok(fetched) => Ok(FetchedSeries {
                provider,
                basis,
                bars: finish_series(fetched.bars, request.from, request.to),
                first_trade_date: fetched.first_trade_date,
            }),
            Err(failure) => Err(ProviderError { provider, symbol: request.symbol.clone(), kind: failure.kind, message: failure.message }),
        }
    }
}

/// The basis of the adjusted series a provider gives for a symbol.
fn series_basis(provider: ProviderName, symbol: &Symbol) -> AdjBasis {
    if symbol.is_fx() || symbol.is_index() {
        AdjBasis::None
    } else if provider == ProviderName::Yahoo {
        AdjBasis::YahooAdjclose
    } else {
        AdjBasis::Hfq
    }
}

/// What a provider module hands back before the common clean-up in [`Providers::fetch`].
#[derive(Debug, Default)]
struct Fetched {
    bars: Vec<Bar>,
    first_trade_date: Option<NaiveDate>,
}

/// A provider failure before the symbol and provider name are attached.
#[derive(Clone, Debug, PartialEq)]
struct Failure {
    kind: ProviderErrorKind,
    message: String,
}

impl Failure {
    fn new(kind: ProviderErrorKind, message: impl Into<String>) -> Failure {
        Failure { kind, message: message.into() }
    }

    fn not_found(message: impl Into<String>) -> Failure {
        Failure::new(ProviderErrorKind::NotFound, message)
    }

    fn malformed(message: impl Into<String>) -> Failure {
        Failure::new(ProviderErrorKind::Malformed, message)
    }

    fn unsupported(message: impl Into<String>) -> Failure {
        Failure::new(ProviderErrorKind::Unsupported, message)
    }

    fn blocked(message: impl Into<String>) -> Failure {
        Failure::new(ProviderErrorKind::Blocked, message)
    }
}

impl From<http::HttpFailure> for Failure {
    /// 429 (after retries), 401/403/451 and dropped connections are ban signals; 5xx and
    /// timeouts that outlived the retries are transient; other 4xx mean the provider does not
    /// serve what was asked, so the next provider may.
    fn from(failure: http::HttpFailure) -> Failure {
        let kind = match &failure.error {
            HttpError::Status { status, .. } => match status.as_u16() {
                401 | 403 | 429 | 451 => ProviderErrorKind::Blocked,
                500..=599 => ProviderErrorKind::Transient,
                _ => ProviderErrorKind::NotFound,
            },
            HttpError::Timeout { .. } => ProviderErrorKind::Transient,
            // A host that cannot be reached even after the retries (refused, DNS failure, no
            // network) will not answer the next symbol either.
            HttpError::Connect(_) => ProviderErrorKind::Unreachable,
            HttpError::Closed(_) => ProviderErrorKind::Blocked,
            HttpError::TooLarge { .. } => ProviderErrorKind::Malformed,
        };
        let provider = failure.provider;
        let hint = match &failure.error {
            HttpError::Timeout { .. } => format!("; raise providers.{provider}.timeout_secs if the host is just slow"),
            HttpError::Status { status, .. } if status.as_u16() == 429 => format!("; lower providers.{provider}.requests_per_second"),
            HttpError::Connect(_) => format!("; check the network and providers.{provider}.base_url"),
            _ => String::new(),
        };
        Failure::new(kind, format!("{failure}{hint}"))
    }
}

/// Rejects bodies that are ban signals rather than data: an empty body (Tencent's soft
/// throttle) or an HTML page (block pages, outage pages, captive portals). Returns the body
/// without surrounding whitespace or a UTF-8 byte-order mark.
fn check_body(body: &str) -> Result<&str, Failure> {
    let trimmed = body.trim_start_matches('\u{feff}').trim();
    if trimmed.is_empty() {
        return Err(Failure::blocked("empty body instead of JSON (a throttling sign)"));
    }
    if trimmed.starts_with('<') {
        return Err(Failure::blocked(format!("HTML page instead of JSON: {}", describe_body(trimmed))));
    }
    // Yahoo's edge answers rate limiting in plain text (normally with status 429).
    if !trimmed.starts_with('{') && trimmed.get(..40).unwrap_or(trimmed).to_ascii_lowercase().contains("too many requests") {
        return Err(Failure::blocked(format!("rate limited: {}", describe_body(trimmed))));
    }
    Ok(trimmed)
}

/// A short description of a body for error messages: an HTML page's title, or the first
/// bytes of anything else.
fn describe_body(body: &str) -> String {
    let trimmed = body.trim();
    if trimmed.is_empty() {
        return "(empty)".to_string();
    }
    if let Some(title) = html_title(trimmed) {
        return format!("<title>{title}</title>");
    }
    format!("`{}`", excerpt(trimmed, 80))
}

fn html_title(body: &str) -> Option<String> {
    let lower = body.to_ascii_lowercase();
    let open = lower.find("<title")?;
    let start = open + lower[open..].find('>')? + 1;
    let end = start + lower[start..].find("</title")?;
    let title = body.get(start..end)?.split_whitespace().collect::<Vec<_>>().join(" ");
    Some(excerpt(&title, 80))
}

/// A JSON parse error with where it happened and what the body starts with.
fn json_error(error: &serde_json::Error, body: &str) -> Failure {
    Failure::malformed(format!("unparseable JSON ({error}); body starts {}", describe_body(body)))
}

/// Parses one numeric cell. Empty and `-` are missing values (Eastmoney writes `-` for a
/// field it does not have); anything else must be a finite number.
fn parse_number(text: &str) -> Result<Option<f64>, String> {
    let text = text.trim();
    if text.is_empty() || text == "-" {
        return Ok(None);
    }
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(Some(value)),
        _ => Err(format!("`{}` is not a number", excerpt(text, 40))),
    }
}

/// Parses an exchange-local `YYYY-MM-DD` date (a time after a space is ignored).
fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let day = text.trim().split(' ').next().unwrap_or_default();
    NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|_| format!("`{}` is not a YYYY-MM-DD date", excerpt(text, 40)))
}

/// Which of a provider's two series a request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Adjustment {
    /// Prices as traded.
    Raw,
    /// Back-adjusted (后复权): history stays fixed as new corporate actions happen.
    Hfq,
}

/// How a provider reports volume for a market.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum VolumeUnit {
    /// Lots of 100 shares (手): Shanghai and Shenzhen shares and indices on Tencent and Eastmoney.
    Lots,
    Shares,
    /// Not meaningful (FX): dropped.
    Ignored,
}

impl VolumeUnit {
    fn to_shares(self, volume: Option<f64>) -> Option<f64> {
        match self {
            VolumeUnit::Lots => volume.map(|lots| lots * 100.0),
            VolumeUnit::Shares => volume,
            VolumeUnit::Ignored => None,
        }
    }

    /// The unit Tencent and Eastmoney use for a security. Hong Kong and US indices have no
    /// share volume (Tencent's `hkHSI` rows carry the turnover in HKD there): dropped.
    fn chinese_vendor(symbol: &Symbol) -> VolumeUnit {
        match symbol.market() {
            Market::Hk | Market::Us if symbol.is_index() => VolumeUnit::Ignored,
            Market::Sh | Market::Sz => VolumeUnit::Lots,
            Market::Hk | Market::Us => VolumeUnit::Shares,
            Market::Fx => VolumeUnit::Ignored,
        }
    }
}

/// Keeps bars within `[from, to]`, oldest first, one per date (a later duplicate wins:
/// pages are merged oldest request first, so the newest answer for a date is kept).
fn finish_series(bars: Vec<Bar>, from: NaiveDate, to: NaiveDate) -> Vec<Bar> {
    let by_date: BTreeMap<NaiveDate, Bar> =
        bars.into_iter().filter(|bar| bar.date >= from && bar.date <= to).map(|bar| (bar.date, bar)).collect();
    by_date.into_values().collect()
}

/// The sequence Tencent and Eastmoney share: fetch prices as traded (the vendor's `raw`
/// future answers the code that served them, after any probing), then, for shares, the
/// back-adjusted series of that code (`adjusted`), and join the two by date. Indices and FX
/// have no corporate actions and stop after the first request; so does an empty raw answer
/// (nothing to adjust).
async fn raw_then_adjusted<Raw, Adjusted, AdjustedFuture>(
    request: &FetchRequest,
    provider: ProviderName,
    raw: Raw,
    adjusted: Adjusted,
) -> Result<Fetched, Failure>
where
    Raw: std::future::Future<Output = Result<(String, Vec<Bar>), Failure>>,
    Adjusted: FnOnce(String) -> AdjustedFuture,
    AdjustedFuture: std::future::Future<Output = Result<Vec<Bar>, Failure>>,
{
    let symbol = &request.symbol;
    let (code, raw) = raw.await?;
    if symbol.is_fx() || symbol.is_index() || raw.is_empty() {
        return Ok(Fetched { bars: raw, first_trade_date: None });
    }
    let adjusted_closes: BTreeMap<NaiveDate, f64> = adjusted(code).await?.iter().map(|bar| (bar.date, bar.close)).collect();
    Ok(Fetched { bars: join_adjusted(raw, &adjusted_closes, symbol, provider), first_trade_date: None })
}

/// Sets each raw bar's `adj_close` from the adjusted series of the same provider, keeping
/// only dates both series have (see the module invariants).
fn join_adjusted(raw: Vec<Bar>, adjusted: &BTreeMap<NaiveDate, f64>, symbol: &Symbol, provider: ProviderName) -> Vec<Bar> {
    let raw_count = raw.len();
    let joined: Vec<Bar> = raw
        .into_iter()
        .filter_map(|mut bar| {
            let adj_close = *adjusted.get(&bar.date)?;
            bar.adj_close = adj_close;
            Some(bar)
        })
        .collect();
    if joined.len() != raw_count || joined.len() != adjusted.len() {
        tracing::debug!(
            %symbol,
            %provider,
            raw = raw_count,
            adjusted = adjusted.len(),
            kept = joined.len(),
            "raw and adjusted series cover different dates; keeping the dates both have"
        );
    }
    joined
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[test]
    fn referers_are_the_providers_own_pages() {
        // What the providers' own quote pages send (recorded from their web pages); Yahoo needs none.
        assert_eq!(ProviderName::Eastmoney.referer(), Some("https://quote.eastmoney.com/"));
        assert_eq!(ProviderName::Tencent.referer(), Some("https://gu.qq.com/"));
        assert_eq!(ProviderName::Yahoo.referer(), None);
    }

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[rstest]
    #[case(ProviderName::Tencent, "600941.SH", AdjBasis::Hfq)]
    #[case(ProviderName::Eastmoney, "0700.HK", AdjBasis::Hfq)]
    #[case(ProviderName::Yahoo, "MSFT.US", AdjBasis::YahooAdjclose)]
    #[case(ProviderName::Yahoo, "000300.SH", AdjBasis::None)]
    #[case(ProviderName::Tencent, "000300.SH", AdjBasis::None)]
    #[case(ProviderName::Tencent, "^HSI.HK", AdjBasis::None)]
    #[case(ProviderName::Eastmoney, "^IXIC.US", AdjBasis::None)]
    #[case(ProviderName::Yahoo, "^GSPC.US", AdjBasis::None)]
    #[case(ProviderName::Eastmoney, "USDCNY.FX", AdjBasis::None)]
    fn basis_follows_provider_and_instrument(#[case] provider: ProviderName, #[case] symbol: &str, #[case] expected: AdjBasis) {
        assert_eq!(series_basis(provider, &Symbol::parse(symbol).unwrap()), expected);
    }

    #[rstest]
    #[case("", Ok(None))]
    #[case("-", Ok(None))]
    #[case(" 4423.820 ", Ok(Some(4423.82)))]
    #[case("171277373.000", Ok(Some(171_277_373.0)))]
    #[case("-1.5", Ok(Some(-1.5)))]
    #[case("NaN", Err(()))]
    #[case("inf", Err(()))]
    #[case("12,5", Err(()))]
    fn parses_number_cells(#[case] text: &str, #[case] expected: Result<Option<f64>, ()>) {
        assert_eq!(parse_number(text).map_err(|_| ()), expected);
    }

    #[test]
    fn finish_keeps_range_sorts_and_dedupes() {
        let bar = |d: &str, close: f64| Bar::close_only(date(d), close);
        let bars =
            vec![bar("2023-02-15", 2.0), bar("2023-02-13", 1.0), bar("2023-02-10", 9.0), bar("2023-02-15", 3.0), bar("2023-02-17", 9.0)];
        let finished = finish_series(bars, date("2023-02-13"), date("2023-02-16"));
        // 02-10 and 02-17 fall outside; the second 02-15 (close 3.0) replaces the first.
        assert_eq!(finished, vec![bar("2023-02-13", 1.0), bar("2023-02-15", 3.0)]);
    }

    #[test]
    fn join_keeps_dates_both_series_have() {
        let raw = vec![Bar::close_only(date("2023-02-13"), 10.0), Bar::close_only(date("2023-02-14"), 11.0)];
        let adjusted: BTreeMap<NaiveDate, f64> = [(date("2023-02-14"), 22.0), (date("2023-02-15"), 23.0)].into_iter().collect();
        let joined = join_adjusted(raw, &adjusted, &Symbol::parse("600941.SH").unwrap(), ProviderName::Tencent);
        assert_eq!(joined.len(), 1);
        assert_eq!((joined[0].date, joined[0].close, joined[0].adj_close), (date("2023-02-14"), 11.0, 22.0));
    }

    #[rstest]
    #[case("", ProviderErrorKind::Blocked, "empty body")]
    #[case("  \n", ProviderErrorKind::Blocked, "empty body")]
    #[case(
        "<!DOCTYPE html><html><head><title>502 Bad\n Gateway</title></head></html>",
        ProviderErrorKind::Blocked,
        "<title>502 Bad Gateway</title>"
    )]
    #[case("<html><body>blocked</body></html>", ProviderErrorKind::Blocked, "`<html><body>blocked</body></html>`")]
    #[case("Edge: Too Many Requests", ProviderErrorKind::Blocked, "rate limited: `Edge: Too Many Requests`")]
    fn ban_signal_bodies_are_blocked(#[case] body: &str, #[case] kind: ProviderErrorKind, #[case] says: &str) {
        let failure = check_body(body).unwrap_err();
        assert_eq!(failure.kind, kind);
        assert!(failure.message.contains(says), "{}", failure.message);
    }

    #[test]
    fn a_huge_body_is_quoted_in_part() {
        // A 10 MB HTML page and a 10 MB body that is almost JSON: messages stay short.
        for body in ["<html><title>".to_string() + &"x".repeat(10 << 20), "{\"data\": ".to_string() + &"9".repeat(10 << 20)] {
            let message = match check_body(&body) {
                Err(failure) => failure.message,
                Ok(text) => json_error(&serde_json::from_str::<serde_json::Value>(text).unwrap_err(), text).message,
            };
            assert!(message.len() < 600, "{} bytes", message.len());
        }
        assert!(describe_body(&"é".repeat(10 << 20)).len() < 600);
    }

    #[test]
    fn providers_and_their_futures_can_cross_threads() {
        fn assert_send_sync<T: Send + Sync>(_: &T) {}
        fn assert_send<T: Send>(_: T) {}
        let providers = Providers::from_config(&ProvidersConfig::default()).unwrap();
        assert_send_sync(&providers);
        let request = FetchRequest { symbol: Symbol::parse("MSFT.US").unwrap(), from: date("2023-02-14"), to: date("2023-02-14") };
        // Never polled: this only checks at compile time that sync may spawn the future.
        assert_send(providers.fetch(ProviderName::Yahoo, &request));
    }

    #[test]
    fn config_errors_name_the_key() {
        let mut config = ProvidersConfig::default();
        config.eastmoney.base_url = "ftp://example.org".to_string();
        let message = Providers::from_config(&config).err().unwrap().to_string();
        assert!(message.starts_with("config key `providers.eastmoney.base_url`: `ftp://example.org`"), "{message}");
        let mut config = ProvidersConfig::default();
        config.yahoo.requests_per_second = -1.0;
        let message = Providers::from_config(&config).err().unwrap().to_string();
        assert!(message.starts_with("config key `providers.yahoo.requests_per_second`"), "{message}");
        assert!(Providers::from_config(&ProvidersConfig::default()).is_ok());
    }

    #[test]
    fn an_endpoint_at_another_base_url_keeps_its_providers_checks() {
        // The instrument sources reach Tencent's smartbox at their own base URL; a bad Tencent
        // setting still stops them, named by the provider's key.
        let client = http::build_client().unwrap();
        let mut settings = ProvidersConfig::default().tencent;
        settings.timeout_secs = 0;
        let message = endpoint(&client, ProviderName::Tencent, "http://127.0.0.1:9/smartbox", &settings).err().unwrap().to_string();
        assert!(message.starts_with("config key `providers.tencent.timeout_secs`"), "{message}");
        settings.timeout_secs = 5;
        assert!(endpoint(&client, ProviderName::Tencent, "http://127.0.0.1:9/smartbox", &settings).is_ok());
    }

    mod never_panic {
        use super::super::{VolumeUnit, eastmoney, tencent, yahoo};
        use proptest::prelude::*;

        const TENCENT: &str = r#"kline_dayhfq={"code":0,"msg":"","data":{"hk00700":{"hfqday":[["2026-09-10","430.000","425.600","430.800","425.000","22333165.000",{"cqr":"2026-09-10","FHcontent":"","HGcontent":""}]],"prec":"434.000"}}}"#;
        const EASTMONEY: &str = r#"jQuery1_2({"rc":0,"data":{"code":"000300","market":1,"klines":["2026-09-28,4423.82,4340.76,4423.82,4323.57,171277373,428620471197.90,2.26","2026-01-07,-"]}});"#;
        const YAHOO: &str = r#"{"chart":{"result":[{"meta":{"exchangeTimezoneName":"Asia/Shanghai","gmtoffset":28800,"regularMarketTime":1510795800,"firstTradeDate":1198742400,"currentTradingPeriod":{"regular":{"start":1510795800,"end":1510815600}}},"timestamp":[1510709400,1510795800],"indicators":{"quote":[{"low":[null,6.48],"volume":[null,34039227],"close":[null,6.51],"open":[null,6.5],"high":[null,6.6]}],"adjclose":[{"adjclose":[null,6.2]}]}}],"error":null}}"#;

        fn run_all(body: &str) {
            let _ = tencent::parse_kline(body, "hk00700", tencent::SeriesKey::Hfq, VolumeUnit::Lots);
            let _ = eastmoney::parse_klines(body, VolumeUnit::Lots);
            let _ = yahoo::parse_chart(body, true, chrono_tz::Asia::Shanghai);
            let _ = yahoo::parse_chart(body, false, chrono_tz::Asia::Shanghai);
        }

        /// A valid sample, cut at a random character and with a random piece spliced in: this
        /// reaches the row and field parsers, which random text alone seldom does.
        fn mutated(sample: &'static str) -> impl Strategy<Value = String> {
            let length = sample.chars().count();
            (0..=length, 0..=length, "[-0-9a-z.,:\\[\\]{}\"=() ]{0,12}").prop_map(move |(cut, splice_at, piece)| {
                let mut text: String = sample.chars().take(cut.max(splice_at)).collect();
                let at = text.char_indices().nth(splice_at).map_or(text.len(), |(index, _)| index);
                text.insert_str(at, &piece);
                text
            })
        }

        /// Well-formed JSON with random values where numbers and dates belong.
        fn json_cell() -> impl Strategy<Value = String> {
            prop_oneof![
                Just("null".to_string()),
                any::<f64>().prop_map(|value| if value.is_finite() { value.to_string() } else { "1e999".to_string() }),
                any::<i64>().prop_map(|value| value.to_string()),
                "[-0-9a-zA-Z.:]{0,12}".prop_map(|text| format!("\"{text}\"")),
                Just("{}".to_string()),
                Just("[]".to_string()),
            ]
        }

        proptest! {
            #[test]
            fn on_arbitrary_text(body in ".{0,400}") {
                run_all(&body);
            }

            #[test]
            fn on_mutated_tencent(body in mutated(TENCENT)) {
                run_all(&body);
            }

            #[test]
            fn on_mutated_eastmoney(body in mutated(EASTMONEY)) {
                run_all(&body);
            }

            #[test]
            fn on_mutated_yahoo(body in mutated(YAHOO)) {
                run_all(&body);
            }

            #[test]
            fn on_random_tencent_rows(rows in prop::collection::vec(prop::collection::vec(json_cell(), 0..8), 0..6)) {
                let rows: Vec<String> = rows.iter().map(|cells| format!("[{}]", cells.join(","))).collect();
                let body = format!(r#"{{"code":0,"data":{{"hk00700":{{"hfqday":[{}]}}}}}}"#, rows.join(","));
                run_all(&body);
            }

            #[test]
            fn on_random_eastmoney_rows(rows in prop::collection::vec("[-0-9,.:a-z]{0,40}", 0..6)) {
                let rows: Vec<String> = rows.iter().map(|row| format!("\"{row}\"")).collect();
                let body = format!(r#"{{"rc":0,"data":{{"klines":[{}]}}}}"#, rows.join(","));
                run_all(&body);
            }

            #[test]
            fn on_random_yahoo_arrays(
                timestamps in prop::collection::vec(any::<i64>(), 0..5),
                closes in prop::collection::vec(json_cell(), 0..5),
                adjcloses in prop::collection::vec(json_cell(), 0..5),
                market_time in any::<i64>(),
                offset in any::<i64>(),
                zone in "[A-Za-z/_]{0,20}",
            ) {
                let timestamps: Vec<String> = timestamps.iter().map(i64::to_string).collect();
                let body = format!(
                    r#"{{"chart":{{"result":[{{"meta":{{"exchangeTimezoneName":"{zone}","gmtoffset":{offset},"regularMarketTime":{market_time},"firstTradeDate":{market_time},"currentTradingPeriod":{{"regular":{{"start":{offset},"end":{market_time}}}}}}},"timestamp":[{}],"indicators":{{"quote":[{{"close":[{}],"open":[{}]}}],"adjclose":[{{"adjclose":[{}]}}]}}}}]}}}}"#,
                    timestamps.join(","), closes.join(","), closes.join(","), adjcloses.join(",")
                );
                run_all(&body);
            }
        }
    }
}
