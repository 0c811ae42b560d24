//! The provider wire formats, routing, failure injection and HTTP serving of the local
//! provider server: one implementation shared by the `provider_server` example (which serves
//! CSV files) and the integration tests (`tests/it/exchange.rs`, which serve a synthetic price
//! model through the same [`Source`] trait). See `main.rs` for the formats in detail.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use anyhow::Context;
use chrono::{NaiveDate, NaiveTime, Offset, TimeZone};
use chrono_tz::Tz;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use tokio::net::TcpListener;

use ratingwatch::csv_import::parse_prices;
use ratingwatch::prices::Bar;
use ratingwatch::providers::{ProviderName, from_yahoo_symbol};
use ratingwatch::symbol::{GLOBAL_INDICES, Market, Symbol};

// ---------------------------------------------------------------------------------------
// Data

/// One security's prices, oldest first, in the three forms the providers serve.
#[derive(Clone, Debug)]
pub(crate) struct Security {
    pub(crate) symbol: Symbol,
    /// As in the CSV: raw OHLC, volume in shares, `adj_close` on the file's own basis.
    pub(crate) raw: Vec<Bar>,
    /// Back-adjusted: equal to raw on the first row, with the returns of `adj_close`.
    pub(crate) hfq: Vec<Bar>,
    /// Forward-adjusted: equal to raw on the last row, with the returns of `adj_close`.
    pub(crate) qfq: Vec<Bar>,
}

/// Which series a request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Adjust {
    Raw,
    Hfq,
    Qfq,
}

impl Security {
    pub(crate) fn new(symbol: Symbol, raw: Vec<Bar>) -> Security {
        let scaled = |anchor: Option<&Bar>| -> Vec<Bar> {
            let Some(anchor) = anchor else { return Vec::new() };
            let base = anchor.close / anchor.adj_close;
            raw.iter()
                .map(|bar| {
                    let close = bar.adj_close * base;
                    let factor = close / bar.close;
                    Bar {
                        date: bar.date,
                        open: bar.open.map(|price| price * factor),
                        high: bar.high.map(|price| price * factor),
                        low: bar.low.map(|price| price * factor),
                        close,
                        volume: bar.volume,
                        adj_close: bar.adj_close,
                    }
                })
                .collect()
        };
        let (hfq, qfq) = (scaled(raw.first()), scaled(raw.last()));
        Security { symbol, raw, hfq, qfq }
    }

    /// Indices and FX have one series: providers answer it whatever adjustment is asked for.
    pub(crate) fn is_adjustable(&self) -> bool {
        !(self.symbol.is_fx() || self.symbol.is_index())
    }

    pub(crate) fn series(&self, adjust: Adjust) -> &[Bar] {
        match adjust {
            _ if !self.is_adjustable() => &self.raw,
            Adjust::Raw => &self.raw,
            Adjust::Hfq => &self.hfq,
            Adjust::Qfq => &self.qfq,
        }
    }
}

/// Every security served, by symbol.
pub(crate) type Library = BTreeMap<Symbol, Security>;

/// Where the server's prices come from: CSV files (the example's [`Library`]) or a synthetic
/// model (the integration tests' exchange). `None` answers as the provider's "unknown symbol".
pub(crate) trait Source: Send + Sync {
    fn security(&self, symbol: &Symbol) -> Option<Cow<'_, Security>>;
}

impl Source for Library {
    fn security(&self, symbol: &Symbol) -> Option<Cow<'_, Security>> {
        self.get(symbol).map(Cow::Borrowed)
    }
}

/// Knows no symbol: what [`FailMode::Unknown`] serves.
struct NoSymbols;

impl Source for NoSymbols {
    fn security(&self, _: &Symbol) -> Option<Cow<'_, Security>> {
        None
    }
}

/// Knows every symbol but has no bars for it: what [`FailMode::EmptySeries`] serves.
struct NoBars;

impl Source for NoBars {
    fn security(&self, symbol: &Symbol) -> Option<Cow<'_, Security>> {
        Some(Cow::Owned(Security { symbol: symbol.clone(), raw: Vec::new(), hfq: Vec::new(), qfq: Vec::new() }))
    }
}

/// Far enough ahead that no row of a data file counts as "in the future".
pub(crate) fn far_future() -> NaiveDate {
    NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(NaiveDate::MAX)
}

/// Reads every `*.csv` in `dir`. A CSV whose name is not a canonical symbol is an error, so
/// a typo does not silently serve nothing.
pub(crate) fn load_library(dir: &Path) -> anyhow::Result<Library> {
    let entries = std::fs::read_dir(dir).with_context(|| format!("cannot read the --data folder {}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|extension| extension.eq_ignore_ascii_case("csv")))
        .collect();
    paths.sort();
    let mut library = Library::new();
    for path in paths {
        let stem = path.file_stem().and_then(|stem| stem.to_str()).unwrap_or_default();
        let symbol = Symbol::parse(stem)
            .ok()
            .filter(|symbol| symbol.to_string() == stem)
            .with_context(|| format!("{}: the file name must be a canonical symbol such as 600941.SH.csv", path.display()))?;
        let file = std::fs::File::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
        let parsed = parse_prices(&path, std::io::BufReader::new(file), far_future())?;
        let mut bars = parsed.bars;
        bars.sort_by_key(|bar| bar.date);
        library.insert(symbol.clone(), Security::new(symbol, bars));
    }
    anyhow::ensure!(!library.is_empty(), "no <SYMBOL>.csv files in {}; copy some price files there", dir.display());
    Ok(library)
}

/// The bars dated within `[from, to]` (either end open).
pub(crate) fn window(bars: &[Bar], from: Option<NaiveDate>, to: Option<NaiveDate>) -> std::ops::Range<usize> {
    let start = from.map_or(0, |from| bars.partition_point(|bar| bar.date < from));
    let end = to.map_or(bars.len(), |to| bars.partition_point(|bar| bar.date <= to));
    start..end.max(start)
}

/// The US venue a ticker is served under (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UsVenue {
    Nasdaq,
    Nyse,
    Other,
}

impl UsVenue {
    pub(crate) fn of(ticker: &str) -> UsVenue {
        match ticker {
            "MSFT" | "GOOGL" | "META" | "BIDU" | "NTES" => UsVenue::Nasdaq,
            "BABA" => UsVenue::Nyse,
            _ => match ticker.bytes().map(u32::from).sum::<u32>() % 3 {
                0 => UsVenue::Nasdaq,
                1 => UsVenue::Nyse,
                _ => UsVenue::Other,
            },
        }
    }

    pub(crate) fn tencent_suffix(self) -> &'static str {
        match self {
            UsVenue::Nasdaq => "OQ",
            UsVenue::Nyse => "N",
            UsVenue::Other => "AM",
        }
    }

    pub(crate) fn eastmoney_prefix(self) -> &'static str {
        match self {
            UsVenue::Nasdaq => "105",
            UsVenue::Nyse => "106",
            UsVenue::Other => "107",
        }
    }

    /// Yahoo's `exchangeName` and `fullExchangeName`.
    pub(crate) fn yahoo_exchange(self) -> (&'static str, &'static str) {
        match self {
            UsVenue::Nasdaq => ("NMS", "NasdaqGS"),
            UsVenue::Nyse => ("NYQ", "NYSE"),
            UsVenue::Other => ("PCX", "NYSEArca"),
        }
    }
}

/// `value` with every digit it has (it reads back as the same `f64`) and at least
/// `min_decimals` decimals, as Tencent and Eastmoney pad them (`97.500`).
pub(crate) fn decimal_text(value: f64, min_decimals: usize) -> String {
    let mut text = value.to_string();
    let decimals = match text.find('.') {
        Some(dot) => text.len() - dot - 1,
        None if min_decimals > 0 => {
            text.push('.');
            0
        }
        None => return text,
    };
    text.extend(std::iter::repeat_n('0', min_decimals.saturating_sub(decimals)));
    text
}

/// Volume as Tencent and Eastmoney send it: lots of 100 shares for Shanghai and Shenzhen
/// (indices included), shares elsewhere. Lots are not rounded, so the client's `× 100` gives
/// back the file's share count.
pub(crate) fn vendor_volume(market: Market, shares: f64) -> f64 {
    match market {
        Market::Sh | Market::Sz => shares / 100.0,
        Market::Hk | Market::Us | Market::Fx => shares,
    }
}

// ---------------------------------------------------------------------------------------
// Routing: a request's path and query to an answer, before any failure injection

/// What the server would answer, and for whom (failure rules match on provider and symbol).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Answer {
    pub(crate) provider: Option<ProviderName>,
    pub(crate) symbol: Option<Symbol>,
    pub(crate) status: StatusCode,
    pub(crate) content_type: &'static str,
    pub(crate) body: String,
}

pub(crate) const JSON: &str = "application/json; charset=utf-8";
pub(crate) const JAVASCRIPT: &str = "application/javascript; charset=utf-8";
pub(crate) const TEXT: &str = "text/plain; charset=utf-8";
pub(crate) const HTML: &str = "text/html; charset=utf-8";

pub(crate) const TENCENT_PATHS: [(&str, TencentEndpoint); 4] = [
    ("/appstock/app/fqkline/get", TencentEndpoint::Fq),
    ("/appstock/app/hkfqkline/get", TencentEndpoint::HkFq),
    ("/appstock/app/usfqkline/get", TencentEndpoint::UsFq),
    ("/appstock/app/kline/kline", TencentEndpoint::Kline),
];
pub(crate) const EASTMONEY_PATH: &str = "/api/qt/stock/kline/get";
pub(crate) const YAHOO_PREFIX: &str = "/v8/finance/chart/";

pub(crate) fn answer(source: &dyn Source, path: &str, query: &str) -> Answer {
    route(source, path, query, Page::Latest)
}

/// Which rows Tencent keeps of a window holding more than a page: the real API keeps the
/// latest; [`FailMode::EarliestRows`] keeps the earliest (what the client must re-ask for).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Page {
    Latest,
    Earliest,
}

fn route(source: &dyn Source, path: &str, query: &str, page: Page) -> Answer {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let get = |key: &str| pairs.iter().find(|(name, _)| name == key).map(|(_, value)| value.as_str());
    if let Some((_, endpoint)) = TENCENT_PATHS.iter().find(|(known, _)| *known == path) {
        let json = |symbol: Option<Symbol>, body: String| Answer {
            provider: Some(ProviderName::Tencent),
            symbol,
            status: StatusCode::OK,
            content_type: JSON,
            body,
        };
        let request = match tencent_request(*endpoint, get("param").unwrap_or_default(), get("_var")) {
            Ok(request) => TencentRequest { page, ..request },
            Err(message) => return json(None, tencent_error_body(&message)),
        };
        let symbol = tencent_symbol(*endpoint, &request.code);
        let security = symbol.as_ref().and_then(|symbol| source.security(symbol));
        return json(symbol, tencent_body(&request, security.as_deref()));
    }
    if path == EASTMONEY_PATH {
        let request = eastmoney_request(get("secid").unwrap_or_default(), get("klt"), get("fqt"), get("beg"), get("end"), get("lmt"));
        let symbol = eastmoney_symbol(&request.secid);
        let security = symbol.as_ref().and_then(|symbol| source.security(symbol));
        let body = eastmoney_body(&request, security.as_deref(), get("fields2"));
        let (body, content_type) = match get("cb").filter(|name| is_identifier(name)) {
            Some(callback) => (format!("{callback}({body});"), JAVASCRIPT),
            None => (body, JSON),
        };
        return Answer { provider: Some(ProviderName::Eastmoney), symbol, status: StatusCode::OK, content_type, body };
    }
    if let Some(encoded) = path.strip_prefix(YAHOO_PREFIX) {
        let requested_name = percent_encoding::percent_decode_str(encoded).decode_utf8_lossy().into_owned();
        let symbol = from_yahoo_symbol(&requested_name);
        let number = |key: &str| get(key).and_then(|value| value.trim().parse::<i64>().ok());
        let interval = get("interval").unwrap_or("1d");
        let (status, body) = match symbol.as_ref().and_then(|symbol| source.security(symbol)).as_deref() {
            _ if interval != "1d" => (StatusCode::BAD_REQUEST, yahoo_error_body("Bad Request", "this dev server serves interval=1d only")),
            Some(security) => (StatusCode::OK, yahoo_body(&requested_name, security, number("period1"), number("period2"))),
            None => (StatusCode::NOT_FOUND, yahoo_error_body("Not Found", "No data found, symbol may be delisted")),
        };
        return Answer { provider: Some(ProviderName::Yahoo), symbol, status, content_type: JSON, body };
    }
    Answer { provider: None, symbol: None, status: StatusCode::NOT_FOUND, content_type: TEXT, body: format!("no such path: {path}\n") }
}

/// A JSONP callback or `_var` name: letters, digits, `_`, `$` and `.`.
pub(crate) fn is_identifier(name: &str) -> bool {
    !name.is_empty() && name.len() <= 100 && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '.'))
}

// ---------------------------------------------------------------------------------------
// Tencent

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TencentEndpoint {
    /// `fqkline/get`: Shanghai, Shenzhen (shares and indices) and Hong Kong.
    Fq,
    /// `hkfqkline/get`: Hong Kong.
    HkFq,
    /// `usfqkline/get`: US.
    UsFq,
    /// `kline/kline`: any code, FX included, never adjusted.
    Kline,
}

/// The most rows Tencent returns for one request.
pub(crate) const TENCENT_PAGE_LIMIT: usize = 640;

/// A decoded `param=CODE,day,START,END,COUNT[,FQ]`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TencentRequest {
    pub(crate) code: String,
    pub(crate) start: Option<NaiveDate>,
    pub(crate) end: Option<NaiveDate>,
    /// Already capped at [`TENCENT_PAGE_LIMIT`].
    pub(crate) count: usize,
    pub(crate) adjust: Adjust,
    /// `_var=NAME` makes the body `NAME={…}`.
    pub(crate) var_name: Option<String>,
    /// Which rows a window fuller than `count` keeps.
    pub(crate) page: Page,
}

pub(crate) fn tencent_request(endpoint: TencentEndpoint, param: &str, var_name: Option<&str>) -> Result<TencentRequest, String> {
    let fields: Vec<&str> = param.split(',').map(str::trim).collect();
    let [code, period, rest @ ..] = fields.as_slice() else {
        return Err("param error".to_string());
    };
    if code.is_empty() {
        return Err("param error".to_string());
    }
    if *period != "day" {
        return Err(format!("period `{period}`: this dev server serves day bars only"));
    }
    let date = |index: usize| -> Result<Option<NaiveDate>, String> {
        match rest.get(index).copied().unwrap_or_default() {
            "" => Ok(None),
            text => NaiveDate::parse_from_str(text, "%Y-%m-%d").map(Some).map_err(|_| format!("bad date `{text}`")),
        }
    };
    let (start, end) = (date(0)?, date(1)?);
    let count = match rest.get(2).copied().unwrap_or_default() {
        "" => 320,
        text => text.parse::<usize>().map_err(|_| format!("bad count `{text}`"))?,
    };
    let adjust = match (endpoint, rest.get(3).copied().unwrap_or_default()) {
        (TencentEndpoint::Kline, _) | (_, "") => Adjust::Raw,
        (_, "hfq") => Adjust::Hfq,
        (_, "qfq") => Adjust::Qfq,
        (_, other) => return Err(format!("bad fq `{other}`")),
    };
    Ok(TencentRequest {
        code: code.to_string(),
        start,
        end,
        count: count.min(TENCENT_PAGE_LIMIT),
        adjust,
        var_name: var_name.filter(|name| is_identifier(name)).map(str::to_string),
        page: Page::Latest,
    })
}

/// Tencent's spelling of a symbol: `sh600941`, `hk00700`, `usBRK.B.N`, `whUSDCNY`, and the
/// library's index codes (`hkHSI`, `usINX`).
pub(crate) fn tencent_code(symbol: &Symbol) -> String {
    if let Some(index) = symbol.global_index() {
        return index.tencent.to_string();
    }
    let code = symbol.code();
    match symbol.market() {
        Market::Sh => format!("sh{code}"),
        Market::Sz => format!("sz{code}"),
        Market::Hk => format!("hk{code:0>5}"),
        Market::Us => format!("us{}.{}", code.replace('-', "."), UsVenue::of(code).tencent_suffix()),
        Market::Fx => format!("wh{code}"),
    }
}

/// The symbol behind a Tencent code, if this endpoint serves it under exactly that spelling.
pub(crate) fn tencent_symbol(endpoint: TencentEndpoint, code: &str) -> Option<Symbol> {
    let (prefix, rest) = (code.get(..2)?, code.get(2..)?);
    let index = GLOBAL_INDICES.iter().find(|index| index.tencent == code).map(|index| Ok(index.symbol()));
    let symbol = match prefix {
        _ if index.is_some() => index?,
        "sh" => Symbol::new(rest, Market::Sh),
        "sz" => Symbol::new(rest, Market::Sz),
        "hk" => Symbol::new(rest, Market::Hk),
        "us" => Symbol::new(rest.rsplit_once('.')?.0, Market::Us),
        "wh" => Symbol::new(rest, Market::Fx),
        _ => return None,
    }
    .ok()?;
    let served = match endpoint {
        TencentEndpoint::Fq => matches!(symbol.market(), Market::Sh | Market::Sz | Market::Hk),
        TencentEndpoint::HkFq => symbol.market() == Market::Hk,
        TencentEndpoint::UsFq => symbol.market() == Market::Us,
        TencentEndpoint::Kline => true,
    };
    // Only the exact spelling answers (five-digit HK codes, the ticker's one venue suffix).
    (served && tencent_code(&symbol) == code).then_some(symbol)
}

#[derive(Serialize)]
pub(crate) struct TencentEnvelope<'a> {
    pub(crate) code: i32,
    pub(crate) msg: &'a str,
    pub(crate) data: BTreeMap<String, TencentEntry>,
}

#[derive(Serialize)]
pub(crate) struct TencentEntry {
    /// One key: `day`, `hfqday` or `qfqday`.
    #[serde(flatten)]
    pub(crate) series: BTreeMap<&'static str, Vec<Vec<TencentCell>>>,
    pub(crate) qt: BTreeMap<String, Vec<String>>,
    pub(crate) prec: String,
    pub(crate) version: &'static str,
}

#[derive(Serialize)]
#[serde(untagged)]
pub(crate) enum TencentCell {
    Text(String),
    HongKongActions(HongKongActions),
}

/// The trailing object of Hong Kong rows (dividend and buy-back notes; empty here).
#[derive(Serialize)]
pub(crate) struct HongKongActions {
    pub(crate) cqr: String,
    #[serde(rename = "FHcontent")]
    pub(crate) dividend: &'static str,
    #[serde(rename = "HGcontent")]
    pub(crate) buy_back: &'static str,
}

pub(crate) fn tencent_error_body(message: &str) -> String {
    let envelope = TencentEnvelope { code: -1, msg: message, data: BTreeMap::new() };
    serde_json::to_string(&envelope).unwrap_or_default()
}

/// Tencent's answer: the latest `count` bars of the window, or `data: {}` for an unknown code.
pub(crate) fn tencent_body(request: &TencentRequest, security: Option<&Security>) -> String {
    let mut data = BTreeMap::new();
    if let Some(security) = security {
        let market = security.symbol.market();
        let series = security.series(request.adjust);
        let range = window(series, request.start, request.end);
        let kept = range.len().min(request.count);
        let (start, end) = match request.page {
            Page::Latest => (range.end - kept, range.end),
            Page::Earliest => (range.start, range.start + kept),
        };
        let decimals = if market == Market::Fx { 4 } else { 3 };
        let rows = series[start..end]
            .iter()
            .map(|bar| {
                // FX rows repeat the rate in every price column and carry volume 0.
                let price = |value: Option<f64>| match (value, market) {
                    (Some(value), _) => decimal_text(value, decimals),
                    (None, Market::Fx) => decimal_text(bar.close, decimals),
                    (None, _) => String::new(),
                };
                let volume = match (bar.volume, market) {
                    (_, Market::Fx) => "0".to_string(),
                    (Some(shares), _) => decimal_text(vendor_volume(market, shares), 3),
                    (None, _) => String::new(),
                };
                let mut row = vec![
                    TencentCell::Text(bar.date.to_string()),
                    TencentCell::Text(price(bar.open)),
                    TencentCell::Text(decimal_text(bar.close, decimals)),
                    TencentCell::Text(price(bar.high)),
                    TencentCell::Text(price(bar.low)),
                    TencentCell::Text(volume),
                ];
                if market == Market::Hk {
                    row.push(TencentCell::HongKongActions(HongKongActions { cqr: bar.date.to_string(), dividend: "", buy_back: "" }));
                }
                row
            })
            .collect();
        let key = match request.adjust {
            _ if !security.is_adjustable() => "day",
            Adjust::Raw => "day",
            Adjust::Hfq => "hfqday",
            Adjust::Qfq => "qfqday",
        };
        let previous_close = start.checked_sub(1).map_or(0.0, |previous| series[previous].close);
        data.insert(
            request.code.clone(),
            TencentEntry {
                series: BTreeMap::from([(key, rows)]),
                qt: BTreeMap::new(),
                prec: decimal_text(previous_close, decimals),
                version: "16",
            },
        );
    }
    let json = serde_json::to_string(&TencentEnvelope { code: 0, msg: "", data }).unwrap_or_default();
    match &request.var_name {
        Some(name) => format!("{name}={json}"),
        None => json,
    }
}

// ---------------------------------------------------------------------------------------
// Eastmoney

/// A decoded Eastmoney query.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct EastmoneyRequest {
    pub(crate) secid: String,
    /// Only `101` (daily) is served; anything else answers like an unknown secid.
    pub(crate) daily: bool,
    pub(crate) adjust: Adjust,
    pub(crate) beg: Option<NaiveDate>,
    pub(crate) end: Option<NaiveDate>,
    /// The latest `limit` bars of the window.
    pub(crate) limit: usize,
}

pub(crate) fn eastmoney_request(
    secid: &str,
    klt: Option<&str>,
    fqt: Option<&str>,
    beg: Option<&str>,
    end: Option<&str>,
    lmt: Option<&str>,
) -> EastmoneyRequest {
    // `0`, empty and sentinels that are no date (`20500000`) leave that end open.
    let date = |text: Option<&str>| text.and_then(|text| NaiveDate::parse_from_str(text.trim(), "%Y%m%d").ok());
    EastmoneyRequest {
        secid: secid.trim().to_string(),
        daily: klt.is_none_or(|klt| klt.trim() == "101"),
        adjust: match fqt.map(str::trim) {
            Some("1") => Adjust::Qfq,
            Some("2") => Adjust::Hfq,
            _ => Adjust::Raw,
        },
        beg: date(beg),
        end: date(end),
        limit: lmt.and_then(|text| text.trim().parse().ok()).unwrap_or(usize::MAX),
    }
}

/// The symbol behind a secid, if Eastmoney serves it under exactly that spelling.
pub(crate) fn eastmoney_symbol(secid: &str) -> Option<Symbol> {
    let (prefix, code) = secid.split_once('.')?;
    let symbol = match prefix {
        "1" => Symbol::new(code, Market::Sh),
        "0" => Symbol::new(code, Market::Sz),
        "116" => Symbol::new(code, Market::Hk),
        "105" | "106" | "107" => Symbol::new(&code.replace('_', "-"), Market::Us),
        "120" => Symbol::new(code.strip_suffix('C')?, Market::Fx),
        "133" => Symbol::new(code, Market::Fx),
        // Global indices (`100.HSI`): whichever index the library spells so.
        "100" => Ok(GLOBAL_INDICES.iter().map(|index| index.symbol()).find(|symbol| eastmoney_code(symbol).0 == code)?),
        _ => return None,
    }
    .ok()?;
    // Only the exact spelling answers (five-digit HK codes, the ticker's one venue prefix).
    let (expected_code, expected_market) = eastmoney_code(&symbol);
    (expected_code == code && expected_market.to_string() == prefix).then_some(symbol)
}

/// Eastmoney's code and market number for a symbol, as in `data.code` and `data.market`.
pub(crate) fn eastmoney_code(symbol: &Symbol) -> (String, u32) {
    // Indices: the library's code under the global-index market (`100.HSI`), the one
    // spelling Eastmoney has for each.
    if let Some(index) = symbol.global_index() {
        return (index.eastmoney.to_string(), 100);
    }
    let code = symbol.code();
    match symbol.market() {
        Market::Sh => (code.to_string(), 1),
        Market::Sz => (code.to_string(), 0),
        Market::Hk => (format!("{code:0>5}"), 116),
        Market::Us => (code.replace('-', "_"), UsVenue::of(code).eastmoney_prefix().parse().unwrap_or(105)),
        Market::Fx if code.ends_with("CNH") => (code.to_string(), 133),
        Market::Fx => (format!("{code}C"), 120),
    }
}

#[derive(Serialize)]
pub(crate) struct EastmoneyEnvelope {
    pub(crate) rc: i32,
    pub(crate) rt: i32,
    pub(crate) svr: u64,
    pub(crate) lt: i32,
    pub(crate) full: i32,
    pub(crate) dlmkts: &'static str,
    pub(crate) data: Option<EastmoneyData>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EastmoneyData {
    pub(crate) code: String,
    pub(crate) market: u32,
    pub(crate) name: String,
    pub(crate) decimal: usize,
    pub(crate) dktotal: usize,
    pub(crate) pre_k_price: f64,
    pub(crate) klines: Vec<String>,
}

/// The columns `fields2` can name, in Eastmoney's order.
pub(crate) const EASTMONEY_FIELDS: [&str; 11] = ["f51", "f52", "f53", "f54", "f55", "f56", "f57", "f58", "f59", "f60", "f61"];

/// Eastmoney's answer: `rc=102, data=null` for an unknown secid, else the window's klines
/// with the columns `fields2` names (all eleven when absent).
pub(crate) fn eastmoney_body(request: &EastmoneyRequest, security: Option<&Security>, fields2: Option<&str>) -> String {
    let envelope = |rc: i32, data: Option<EastmoneyData>| {
        let full = i32::from(data.is_none());
        serde_json::to_string(&EastmoneyEnvelope { rc, rt: 17, svr: 181_669_437, lt: 1, full, dlmkts: "", data }).unwrap_or_default()
    };
    let Some(security) = security.filter(|_| request.daily) else {
        return envelope(102, None);
    };
    let columns: Vec<usize> = match fields2 {
        Some(list) => list.split(',').filter_map(|field| EASTMONEY_FIELDS.iter().position(|known| *known == field.trim())).collect(),
        None => (0..EASTMONEY_FIELDS.len()).collect(),
    };
    let market = security.symbol.market();
    let decimals = match market {
        Market::Sh | Market::Sz => 2,
        Market::Hk | Market::Us => 3,
        Market::Fx => 4,
    };
    let series = security.series(request.adjust);
    let range = window(series, request.beg, request.end);
    let start = range.end - range.len().min(request.limit);
    let klines = (start..range.end)
        .map(|index| {
            let (bar, raw) = (&series[index], &security.raw[index]);
            let previous = index.checked_sub(1).map(|previous| series[previous].close);
            let missing = "-".to_string();
            let price = |value: Option<f64>| match (value, market) {
                (Some(value), _) => decimal_text(value, decimals),
                (None, Market::Fx) => decimal_text(bar.close, decimals),
                (None, _) => missing.clone(),
            };
            let shares = if market == Market::Fx { Some(0.0) } else { raw.volume };
            // Amount is money traded, always at traded prices.
            let amount = shares.map(|shares| shares * (raw.open.unwrap_or(raw.close) + raw.close) / 2.0);
            let percent = |value: Option<f64>| value.map_or_else(|| missing.clone(), |value| format!("{value:.2}"));
            let cells = [
                bar.date.to_string(),
                price(bar.open),
                decimal_text(bar.close, decimals),
                price(bar.high),
                price(bar.low),
                shares.map_or_else(|| missing.clone(), |shares| decimal_text(vendor_volume(market, shares), 0)),
                percent(amount),
                percent(previous.zip(bar.high.zip(bar.low)).map(|(previous, (high, low))| (high - low) / previous * 100.0)),
                percent(previous.map(|previous| (bar.close / previous - 1.0) * 100.0)),
                previous.map_or_else(|| missing.clone(), |previous| format!("{:.*}", decimals, bar.close - previous)),
                missing.clone(),
            ];
            columns.iter().map(|&column| cells[column].as_str()).collect::<Vec<_>>().join(",")
        })
        .collect();
    let (code, market_number) = eastmoney_code(&security.symbol);
    let pre_k_price = start.checked_sub(1).map_or(0.0, |previous| series[previous].close);
    envelope(
        0,
        Some(EastmoneyData {
            name: code.clone(),
            code,
            market: market_number,
            decimal: decimals,
            dktotal: series.len(),
            pre_k_price,
            klines,
        }),
    )
}

// ---------------------------------------------------------------------------------------
// Yahoo

// Yahoo's spellings are the library's own: `ratingwatch::providers::yahoo_symbol` and its
// inverse `from_yahoo_symbol`, which answers only for the exact spelling Yahoo uses.

/// The zone Yahoo stamps a market's bars in, and the session's opening and closing times.
pub(crate) fn yahoo_session(market: Market) -> (Tz, NaiveTime, NaiveTime) {
    let time = |hour: u32, minute: u32| NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or_default();
    match market {
        Market::Sh | Market::Sz => (chrono_tz::Asia::Shanghai, time(9, 30), time(15, 0)),
        Market::Hk => (chrono_tz::Asia::Hong_Kong, time(9, 30), time(16, 0)),
        Market::Us => (chrono_tz::America::New_York, time(9, 30), time(16, 0)),
        // Yahoo's currency bars start at midnight London time and run 23 hours.
        Market::Fx => (chrono_tz::Europe::London, time(0, 0), time(23, 0)),
    }
}

/// A local date and time in `zone` as Unix seconds (the earlier instant when ambiguous).
pub(crate) fn unix_seconds(zone: Tz, date: NaiveDate, time: NaiveTime) -> i64 {
    let local = date.and_time(time);
    zone.from_local_datetime(&local).earliest().map_or_else(|| local.and_utc().timestamp(), |instant| instant.timestamp())
}

#[derive(Serialize)]
pub(crate) struct YahooEnvelope<'a> {
    pub(crate) chart: YahooChart<'a>,
}

#[derive(Serialize)]
pub(crate) struct YahooChart<'a> {
    pub(crate) result: Option<Vec<YahooResult>>,
    pub(crate) error: Option<YahooError<'a>>,
}

#[derive(Serialize)]
pub(crate) struct YahooError<'a> {
    pub(crate) code: &'a str,
    pub(crate) description: &'a str,
}

#[derive(Serialize)]
pub(crate) struct YahooResult {
    pub(crate) meta: YahooMeta,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) timestamp: Option<Vec<i64>>,
    pub(crate) indicators: YahooIndicators,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct YahooMeta {
    pub(crate) currency: &'static str,
    pub(crate) symbol: String,
    pub(crate) exchange_name: &'static str,
    pub(crate) full_exchange_name: &'static str,
    pub(crate) instrument_type: &'static str,
    pub(crate) first_trade_date: Option<i64>,
    pub(crate) regular_market_time: Option<i64>,
    pub(crate) has_pre_post_market_data: bool,
    pub(crate) gmtoffset: i32,
    pub(crate) timezone: String,
    pub(crate) exchange_timezone_name: &'static str,
    pub(crate) regular_market_price: Option<f64>,
    pub(crate) chart_previous_close: Option<f64>,
    pub(crate) price_hint: u32,
    pub(crate) current_trading_period: Option<YahooTradingPeriods>,
    pub(crate) data_granularity: &'static str,
    pub(crate) range: &'static str,
    pub(crate) valid_ranges: [&'static str; 11],
}

#[derive(Serialize)]
pub(crate) struct YahooTradingPeriods {
    pub(crate) regular: YahooSession,
}

#[derive(Serialize)]
pub(crate) struct YahooSession {
    pub(crate) timezone: String,
    pub(crate) start: i64,
    pub(crate) end: i64,
    pub(crate) gmtoffset: i32,
}

#[derive(Serialize)]
pub(crate) struct YahooIndicators {
    pub(crate) quote: [YahooQuote; 1],
    pub(crate) adjclose: [YahooAdjClose; 1],
}

#[derive(Serialize, Default)]
pub(crate) struct YahooQuote {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) open: Option<Vec<Option<f64>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) high: Option<Vec<Option<f64>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) low: Option<Vec<Option<f64>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) close: Option<Vec<Option<f64>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) volume: Option<Vec<Option<serde_json::Number>>>,
}

#[derive(Serialize, Default)]
pub(crate) struct YahooAdjClose {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) adjclose: Option<Vec<Option<f64>>>,
}

pub(crate) fn yahoo_error_body(code: &str, description: &str) -> String {
    serde_json::to_string(&YahooEnvelope { chart: YahooChart { result: None, error: Some(YahooError { code, description }) } })
        .unwrap_or_default()
}

/// Yahoo's chart for the bars whose session opens within `[period1, period2)` (either end open).
pub(crate) fn yahoo_body(yahoo_name: &str, security: &Security, period1: Option<i64>, period2: Option<i64>) -> String {
    let market = security.symbol.market();
    let (zone, open_time, close_time) = yahoo_session(market);
    let is_share = security.is_adjustable();
    let bars = &security.raw;
    let opens: Vec<i64> = bars.iter().map(|bar| unix_seconds(zone, bar.date, open_time)).collect();
    let start = period1.map_or(0, |period1| opens.partition_point(|&open| open < period1));
    let end = period2.map_or(opens.len(), |period2| opens.partition_point(|&open| open < period2)).max(start);
    let chosen = &bars[start..end];

    let last = bars.last();
    let last_session = last.map(|bar| (unix_seconds(zone, bar.date, open_time), unix_seconds(zone, bar.date, close_time)));
    let (gmtoffset, abbreviation) = zone
        .timestamp_opt(last_session.map_or(0, |(open, _)| open), 0)
        .earliest()
        .map_or((0, "UTC".to_string()), |instant| (instant.offset().fix().local_minus_utc(), instant.format("%Z").to_string()));
    let (exchange_name, full_exchange_name) = match market {
        Market::Sh => ("SHH", "Shanghai"),
        Market::Sz => ("SHZ", "Shenzhen"),
        Market::Hk => ("HKG", "HKSE"),
        Market::Us => UsVenue::of(security.symbol.code()).yahoo_exchange(),
        Market::Fx => ("CCY", "CCY"),
    };
    let meta = YahooMeta {
        currency: security.symbol.currency().as_str(),
        symbol: yahoo_name.to_string(),
        exchange_name,
        full_exchange_name,
        instrument_type: if security.symbol.is_fx() {
            "CURRENCY"
        } else if is_share {
            "EQUITY"
        } else {
            "INDEX"
        },
        first_trade_date: opens.first().copied(),
        regular_market_time: last_session.map(|(_, close)| close),
        has_pre_post_market_data: false,
        gmtoffset,
        timezone: abbreviation.clone(),
        exchange_timezone_name: zone.name(),
        regular_market_price: last.map(|bar| bar.close),
        chart_previous_close: start.checked_sub(1).map(|previous| bars[previous].close).or(chosen.first().map(|bar| bar.close)),
        price_hint: if market == Market::Fx { 4 } else { 2 },
        current_trading_period: last_session
            .map(|(start, end)| YahooTradingPeriods { regular: YahooSession { timezone: abbreviation, start, end, gmtoffset } }),
        data_granularity: "1d",
        range: "",
        valid_ranges: ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"],
    };
    let result = if chosen.is_empty() {
        // No bars: Yahoo leaves out the timestamps and sends empty indicator objects.
        YahooResult {
            meta,
            timestamp: None,
            indicators: YahooIndicators { quote: [YahooQuote::default()], adjclose: [YahooAdjClose::default()] },
        }
    } else {
        let column = |pick: fn(&Bar) -> Option<f64>| Some(chosen.iter().map(pick).collect::<Vec<_>>());
        // Currency bars carry the rate in every price column.
        let price = |pick: fn(&Bar) -> Option<f64>| {
            Some(chosen.iter().map(|bar| pick(bar).or(security.symbol.is_fx().then_some(bar.close))).collect::<Vec<_>>())
        };
        // Yahoo reports index and currency volume as 0; share volume is a whole count.
        let volume = chosen
            .iter()
            .map(|bar| match (is_share, bar.volume) {
                (false, _) => Some(serde_json::Number::from(0)),
                (true, Some(shares)) if shares.fract() == 0.0 && shares.abs() < 9e15 => Some(serde_json::Number::from(shares as i64)),
                (true, Some(shares)) => serde_json::Number::from_f64(shares),
                (true, None) => None,
            })
            .collect();
        YahooResult {
            meta,
            timestamp: Some(opens[start..end].to_vec()),
            indicators: YahooIndicators {
                quote: [YahooQuote {
                    open: price(|bar| bar.open),
                    high: price(|bar| bar.high),
                    low: price(|bar| bar.low),
                    close: column(|bar| Some(bar.close)),
                    volume: Some(volume),
                }],
                adjclose: [YahooAdjClose {
                    adjclose: if is_share { column(|bar| Some(bar.adj_close)) } else { column(|bar| Some(bar.close)) },
                }],
            },
        }
    };
    serde_json::to_string(&YahooEnvelope { chart: YahooChart { result: Some(vec![result]), error: None } }).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// Failure injection

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FailMode {
    TooManyRequests,
    ServerError,
    Html,
    Empty,
    Truncated,
    Drop,
    /// Another HTTP status, with a one-line plain-text body.
    Status(u16),
    /// The provider's own "unknown symbol" answer (what a delisted or mistyped symbol gets).
    Unknown,
    /// The provider's own answer with no bars (Tencent `day: []`, Eastmoney `klines: []`, a
    /// Yahoo chart without timestamps): what a throttled host sends with status 200.
    EmptySeries,
    /// Tencent answers a window holding more than a page with its earliest rows, not the latest.
    EarliestRows,
}

/// `--fail [PROVIDER:]SYMBOL=MODE`; `None` means any provider or any symbol (`*`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct FailRule {
    pub(crate) provider: Option<ProviderName>,
    pub(crate) symbol: Option<Symbol>,
    pub(crate) mode: FailMode,
}

pub(crate) fn parse_fail_rule(text: &str) -> Result<FailRule, String> {
    let usage = "expected [PROVIDER:]SYMBOL=MODE, e.g. tencent:600941.SH=429 or '*=drop'";
    let (target, mode) = text.split_once('=').ok_or_else(|| format!("`{text}`: {usage}"))?;
    let mode = match mode.trim().to_ascii_lowercase().as_str() {
        "429" => FailMode::TooManyRequests,
        "500" => FailMode::ServerError,
        "html" => FailMode::Html,
        "empty" => FailMode::Empty,
        "truncated" => FailMode::Truncated,
        "drop" => FailMode::Drop,
        "unknown" => FailMode::Unknown,
        "no-bars" => FailMode::EmptySeries,
        "earliest" => FailMode::EarliestRows,
        other => match other.parse::<u16>() {
            Ok(status @ 400..=599) => FailMode::Status(status),
            _ => {
                return Err(format!(
                    "`{other}` is not a failure mode; use 429, 500 (or another status from 400 to 599), html, empty, truncated, drop, unknown, no-bars or earliest"
                ));
            }
        },
    };
    let (provider, symbol) = match target.split_once(':') {
        Some((provider, symbol)) => {
            let name = provider.trim().to_ascii_lowercase();
            let provider =
                ProviderName::parse(&name).ok_or_else(|| format!("`{provider}` is not a provider; use tencent, eastmoney or yahoo"))?;
            (Some(provider), symbol.trim())
        }
        None => (None, target.trim()),
    };
    let symbol = match symbol {
        "*" => None,
        text => Some(Symbol::parse(text).map_err(|error| error.to_string())?),
    };
    Ok(FailRule { provider, symbol, mode })
}

/// The mode of the most specific rule matching a request: a named symbol beats `*`, a named
/// provider beats none, and among equals the first given wins.
#[cfg(test)]
pub(crate) fn failure_for(rules: &[FailRule], provider: Option<ProviderName>, symbol: Option<&Symbol>) -> Option<FailMode> {
    most_specific(rules.iter(), provider, symbol).map(|index| rules[index].mode)
}

/// The position of the most specific rule matching a request (a named symbol beats `*`, a named provider beats none, among equals the first).
fn most_specific<'a>(rules: impl Iterator<Item = &'a FailRule>, provider: Option<ProviderName>, symbol: Option<&Symbol>) -> Option<usize> {
    let provider = provider?;
    rules
        .enumerate()
        .filter(|(_, rule)| rule.provider.is_none_or(|wanted| wanted == provider))
        .filter(|(_, rule)| rule.symbol.as_ref().is_none_or(|wanted| Some(wanted) == symbol))
        .min_by_key(|(_, rule)| (rule.symbol.is_none(), rule.provider.is_none()))
        .map(|(index, _)| index)
}

/// What goes back on the wire.
#[derive(Debug, PartialEq)]
pub(crate) enum Outcome {
    Respond {
        status: StatusCode,
        content_type: &'static str,
        retry_after: Option<u32>,
        body: String,
    },
    /// Close the connection without a response.
    Drop,
}

pub(crate) fn apply_failure(answer: Answer, mode: Option<FailMode>) -> Outcome {
    let respond = |status: StatusCode, content_type: &'static str, body: String| Outcome::Respond {
        status,
        content_type,
        retry_after: (status == StatusCode::TOO_MANY_REQUESTS).then_some(1),
        body,
    };
    match mode {
        None => respond(answer.status, answer.content_type, answer.body),
        Some(FailMode::TooManyRequests) => respond(StatusCode::TOO_MANY_REQUESTS, TEXT, "Too Many Requests\r\n".to_string()),
        Some(FailMode::ServerError) => respond(
            StatusCode::INTERNAL_SERVER_ERROR,
            HTML,
            "<html>\r\n<head><title>500 Internal Server Error</title></head>\r\n<body>\r\n<center><h1>500 Internal Server Error</h1></center>\r\n</body>\r\n</html>\r\n".to_string(),
        ),
        Some(FailMode::Html) => respond(
            StatusCode::OK,
            HTML,
            "<!DOCTYPE html><html><head><title>Access Denied</title></head><body><p>Your request has been blocked.</p></body></html>"
                .to_string(),
        ),
        Some(FailMode::Empty) => respond(StatusCode::OK, answer.content_type, String::new()),
        Some(FailMode::Truncated) => {
            let mut cut = answer.body.len() / 2;
            while !answer.body.is_char_boundary(cut) {
                cut -= 1;
            }
            respond(StatusCode::OK, answer.content_type, answer.body[..cut].to_string())
        }
        Some(FailMode::Drop) => Outcome::Drop,
        Some(FailMode::Status(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            respond(status, TEXT, format!("{status}\r\n"))
        }
        // Answered from a source without the symbol or without bars (see `respond_to`).
        Some(FailMode::Unknown | FailMode::EmptySeries | FailMode::EarliestRows) => respond(answer.status, answer.content_type, answer.body),
    }
}

// ---------------------------------------------------------------------------------------
// HTTP

/// Failure rules, each with how many more requests it applies to (`None`: every one).
pub(crate) type Rules = Arc<Mutex<Vec<(FailRule, Option<usize>)>>>;

/// Every request routed to a provider, in arrival order: the provider and `PATH?QUERY`.
pub(crate) type RequestLog = Arc<Mutex<Vec<(ProviderName, String)>>>;

pub(crate) struct ServerState {
    pub(crate) source: Arc<dyn Source>,
    /// Failure rules, each with how many more requests it applies to (`None`: every one).
    pub(crate) rules: Rules,
    pub(crate) latency: Duration,
    pub(crate) log: RequestLog,
    /// Told of each request as it arrives, before the latency.
    pub(crate) arrivals: Option<mpsc::Sender<()>>,
    /// No line per request on stderr (benchmarks).
    pub(crate) quiet: bool,
}

impl ServerState {
    pub(crate) fn new(source: Arc<dyn Source>, rules: Vec<FailRule>, latency: Duration) -> ServerState {
        let rules = rules.into_iter().map(|rule| (rule, None)).collect();
        ServerState { source, rules: Arc::new(Mutex::new(rules)), latency, log: Arc::default(), arrivals: None, quiet: false }
    }

    /// The mode of the most specific rule for this request, counting one use of it.
    fn take_failure(&self, provider: Option<ProviderName>, symbol: Option<&Symbol>) -> Option<FailMode> {
        let mut rules = self.rules.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let index = most_specific(rules.iter().map(|(rule, _)| rule), provider, symbol)?;
        let mode = rules[index].0.mode;
        match &mut rules[index].1 {
            Some(1) => {
                rules.remove(index);
            }
            Some(remaining) => *remaining -= 1,
            None => {}
        }
        Some(mode)
    }

    /// The answer to `GET path?query`: routed, logged, then failure rules applied.
    fn respond_to(&self, path: &str, query: &str, shown: &str) -> Outcome {
        let routed = answer(self.source.as_ref(), path, query);
        if let Some(provider) = routed.provider {
            self.log.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push((provider, shown.to_string()));
        }
        let mode = self.take_failure(routed.provider, routed.symbol.as_ref());
        let routed = match mode {
            Some(FailMode::Unknown) => answer(&NoSymbols, path, query),
            Some(FailMode::EmptySeries) => answer(&NoBars, path, query),
            Some(FailMode::EarliestRows) => route(self.source.as_ref(), path, query, Page::Earliest),
            _ => routed,
        };
        apply_failure(routed, mode)
    }
}

/// Returned by the service to make hyper close the connection without writing a response.
#[derive(Debug)]
pub(crate) struct DroppedConnection;

impl std::fmt::Display for DroppedConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by a --fail rule")
    }
}

impl std::error::Error for DroppedConnection {}

/// Accepts connections until the listener fails for good; each connection runs on its own task.
pub(crate) async fn serve(listener: TcpListener, state: Arc<ServerState>) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                // Out of file descriptors and the like: back off briefly rather than spin.
                eprintln!("accept failed: {error}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let state = state.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| handle(state.clone(), request));
            // The connection ends with an error when a rule drops it or the client hangs up;
            // both are expected and already logged per request.
            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

/// Serves `state` on a free port of 127.0.0.1 from a thread and runtime of its own (so a caller
/// that blocks its runtime, such as a test running the real binary, is still answered);
/// returns the base URL, `http://127.0.0.1:PORT`, for every provider.
#[allow(dead_code)] // bench_sync's and the integration tests' entry; main.rs binds its own port
pub(crate) fn spawn(state: ServerState) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port on 127.0.0.1");
    listener.set_nonblocking(true).expect("a non-blocking listener");
    let base_url = format!("http://{}", listener.local_addr().expect("a bound address"));
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime for the server");
        runtime.block_on(async move { serve(TcpListener::from_std(listener).expect("a tokio listener"), Arc::new(state)).await });
    });
    base_url
}

pub(crate) async fn handle(state: Arc<ServerState>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, DroppedConnection> {
    let uri = request.uri();
    let shown = uri.path_and_query().map_or_else(|| uri.path().to_string(), |target| target.as_str().to_string());
    if let Some(arrivals) = &state.arrivals {
        let _ = arrivals.send(());
    }
    if !state.latency.is_zero() {
        tokio::time::sleep(state.latency).await;
    }
    let outcome = if request.method() == Method::GET {
        state.respond_to(uri.path(), uri.query().unwrap_or_default(), &shown)
    } else {
        Outcome::Respond { status: StatusCode::METHOD_NOT_ALLOWED, content_type: TEXT, retry_after: None, body: "GET only\n".to_string() }
    };
    match outcome {
        Outcome::Drop => {
            if !state.quiet {
                eprintln!("{} {shown} -> dropped", request.method());
            }
            Err(DroppedConnection)
        }
        Outcome::Respond { status, content_type, retry_after, body } => {
            if !state.quiet {
                eprintln!("{} {shown} -> {}", request.method(), status.as_u16());
            }
            let mut response = Response::builder().status(status).header(hyper::header::CONTENT_TYPE, content_type);
            if let Some(seconds) = retry_after {
                response = response.header(hyper::header::RETRY_AFTER, seconds);
            }
            Ok(response.body(Full::new(Bytes::from(body))).unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))))
        }
    }
}
