//! A local stand-in for Tencent, Eastmoney and Yahoo: serves daily prices from CSV files in each
//! provider's own wire format, for demos, manual checks and benchmarks without the internet.
//!
//! ```text
//! cargo run --release --example provider_server -- --data DIR [--port 8765] [--latency-ms 0] \
//!     [--fail [PROVIDER:]SYMBOL=MODE ...]
//! ```
//!
//! It listens on 127.0.0.1 only (`--port 0` picks a free port) and prints one line to stdout
//! with the environment variables that point ratingwatch at it, e.g.
//! `RATINGWATCH__PROVIDERS__TENCENT__BASE_URL=http://127.0.0.1:8765 RATINGWATCH__PROVIDERS__EASTMONEY__BASE_URL=… RATINGWATCH__PROVIDERS__YAHOO__BASE_URL=…`
//! so `env $(cargo run … | head -1) ratingwatch sync` works. Every request is logged to stderr
//! as `METHOD PATH?QUERY -> STATUS`. The built-in per-provider rate limits still apply on the
//! client side; for benchmarks add `RATINGWATCH__PROVIDERS__<NAME>__REQUESTS_PER_SECOND=0`.
//!
//! Data: `DIR/<CANONICAL SYMBOL>.csv` (`600941.SH.csv`, `0700.HK.csv`, `MSFT.US.csv`,
//! `000300.SH.csv`, `USDCNY.FX.csv`) in the import format `date,open,high,low,close,volume[,adj_close]`
//! (FX files may carry only `close`), read once at start with `csv_import::parse_prices`. Volume
//! is in shares. A missing `adj_close` column means `adj_close = close`. Other files are ignored.
//!
//! Endpoints (all on one port, the paths and query parameters the clients in
//! `ratingwatch::providers` send):
//! - Tencent `/appstock/app/fqkline/get` (sh, sz, hk), `/appstock/app/hkfqkline/get` (hk),
//!   `/appstock/app/usfqkline/get` (us) with `param=CODE,day,START,END,COUNT,FQ` and
//!   `/appstock/app/kline/kline` (any code, FX `whUSDCNY`, never adjusted) with
//!   `param=CODE,day,START,END,COUNT`; optional `_var=NAME` prefixes the body with `NAME=`.
//!   Rows `[date, open, close, high, low, volume]` as strings under `day`, `hfqday` or
//!   `qfqday` (indices and FX always `day`), volume in lots for Shanghai and Shenzhen, HK rows
//!   with the trailing `{"cqr":…}` object, at most 640 rows per answer (the latest ones).
//!   Unknown codes answer `{"code":0,"msg":"","data":{}}`.
//! - Eastmoney `/api/qt/stock/kline/get` with `secid`, `klt=101`, `fqt=0|1|2`, `beg`/`end`
//!   (`YYYYMMDD`; `0` or an out-of-range sentinel such as `20500101` means open), `lmt` (the
//!   latest N), `fields2` (column selection, default all of f51…f61) and `cb` (JSONP). Rows are
//!   CSV strings with close third and volume in lots for Shanghai and Shenzhen; unknown
//!   secids answer `rc=102, data=null`.
//! - Yahoo `/v8/finance/chart/{SYMBOL}` with `period1`/`period2` (Unix seconds, bars whose
//!   session OPEN falls in `[period1, period2)`) and `interval=1d`: parallel arrays with
//!   timestamps at 09:30 exchange time (00:00 Europe/London for FX), `meta.exchangeTimezoneName`,
//!   `adjclose`, index and FX volume 0. Unknown symbols answer HTTP 404 with `chart.error`.
//!
//! Symbol spellings: Tencent `sh600941`, `hk00700`, `usMSFT.OQ`, `whUSDCNY`; Eastmoney
//! `1.600941`, `0.300308`, `116.00700`, `105.MSFT`, `120.USDCNYC`, `133.USDCNH`; Yahoo
//! `600941.SS`, `0700.HK`, `MSFT`, `CNY=X`, `HKDCNY=X`. A US ticker is served under exactly one
//! venue, so clients have to probe as they do live: the seed report's listings where they trade
//! (MSFT, GOOGL, META, BIDU, NTES on NASDAQ, BABA on NYSE), any other ticker by the sum of its
//! bytes modulo 3 (0 NASDAQ `.OQ`/`105`, 1 NYSE `.N`/`106`, 2 other `.AM`/`107`).
//!
//! Series: raw prices are the CSV's. Back-adjusted (hfq) = `adj_close × close_first / adj_close_first`
//! (equal to the raw close on the file's first row, with the returns of `adj_close`);
//! forward-adjusted (qfq) = `adj_close × close_last / adj_close_last`; open, high and low are
//! scaled by the same daily factor. Yahoo `adjclose` = `adj_close`, `close` = raw (real Yahoo
//! closes are split-adjusted; a file with a split in it will differ there). Numbers keep every
//! digit of the CSV (so a fetch round-trips exactly) but are padded to the provider's usual
//! decimals; lots are not rounded. Eastmoney's amount is `shares × (open + close) / 2`,
//! turnover is `-`. Yahoo `firstTradeDate` is the file's first date.
//!
//! Failure injection, per symbol and optionally per provider (`*` for every symbol; the most
//! specific rule wins): `--fail 600941.SH=429`, `--fail tencent:0700.HK=drop`,
//! `--fail 'eastmoney:*=html'`. Modes: `429` (with `Retry-After: 1`, plain-text body), `500`,
//! `html` (200 with a block page), `empty` (200, no body), `truncated` (200, the real body cut
//! in half), `drop` (the connection is closed without an answer). `--latency-ms N` delays every
//! answer, failures included.
//!
//! The pure parts (request decoding and the `*_body` builders) are plain functions tested below
//! against the real clients: `cargo test --example provider_server`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{NaiveDate, NaiveTime, Offset, TimeZone};
use chrono_tz::Tz;
use clap::Parser;
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
use ratingwatch::providers::{ProviderName, is_index};
use ratingwatch::symbol::{Market, Symbol};

#[derive(Parser, Debug)]
#[command(about = "Serve CSV prices in Tencent, Eastmoney and Yahoo formats on 127.0.0.1")]
struct Args {
    /// Folder of `<CANONICAL SYMBOL>.csv` files (date,open,high,low,close,volume[,adj_close]).
    #[arg(long)]
    data: PathBuf,
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 8765)]
    port: u16,
    /// Delay before every answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Inject a failure: `[PROVIDER:]SYMBOL=MODE`, MODE one of 429, 500, html, empty, truncated, drop;
    /// SYMBOL may be `*`. Repeatable.
    #[arg(long = "fail", value_name = "[PROVIDER:]SYMBOL=MODE", value_parser = parse_fail_rule)]
    fail: Vec<FailRule>,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("provider_server: cannot start the async runtime: {error}");
            return std::process::ExitCode::from(2);
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("provider_server: {error:#}");
            std::process::ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    let library = load_library(&args.data)?;
    let listener = TcpListener::bind(("127.0.0.1", args.port))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{}; pick another --port (0 = any free port)", args.port))?;
    let base_url = format!("http://{}", listener.local_addr()?);
    eprintln!(
        "provider_server: {} securities from {} on {base_url}; latency {} ms; {} failure rule(s); Ctrl-C stops",
        library.len(),
        args.data.display(),
        args.latency_ms,
        args.fail.len()
    );
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", env_line(&base_url))?;
    stdout.flush()?;
    drop(stdout);
    let state = Arc::new(ServerState { library, rules: args.fail, latency: Duration::from_millis(args.latency_ms) });
    tokio::select! {
        () = serve(listener, state) => {}
        result = tokio::signal::ctrl_c() => result.context("cannot wait for Ctrl-C")?,
    }
    Ok(())
}

/// The environment assignments that point all three providers at `base_url`.
fn env_line(base_url: &str) -> String {
    ProviderName::ALL
        .iter()
        .map(|provider| format!("RATINGWATCH__PROVIDERS__{}__BASE_URL={base_url}", provider.as_str().to_ascii_uppercase()))
        .collect::<Vec<_>>()
        .join(" ")
}

// ---------------------------------------------------------------------------------------
// Data

/// One security's prices, oldest first, in the three forms the providers serve.
#[derive(Clone, Debug)]
struct Security {
    symbol: Symbol,
    /// As in the CSV: raw OHLC, volume in shares, `adj_close` on the file's own basis.
    raw: Vec<Bar>,
    /// Back-adjusted: equal to raw on the first row, with the returns of `adj_close`.
    hfq: Vec<Bar>,
    /// Forward-adjusted: equal to raw on the last row, with the returns of `adj_close`.
    qfq: Vec<Bar>,
}

/// Which series a request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Adjust {
    Raw,
    Hfq,
    Qfq,
}

impl Security {
    fn new(symbol: Symbol, raw: Vec<Bar>) -> Security {
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
    fn is_adjustable(&self) -> bool {
        !(self.symbol.is_fx() || is_index(&self.symbol))
    }

    fn series(&self, adjust: Adjust) -> &[Bar] {
        match adjust {
            _ if !self.is_adjustable() => &self.raw,
            Adjust::Raw => &self.raw,
            Adjust::Hfq => &self.hfq,
            Adjust::Qfq => &self.qfq,
        }
    }
}

/// Every security served, by symbol.
type Library = BTreeMap<Symbol, Security>;

/// Far enough ahead that no row of a data file counts as "in the future".
fn far_future() -> NaiveDate {
    NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(NaiveDate::MAX)
}

/// Reads every `*.csv` in `dir`. A CSV whose name is not a canonical symbol is an error, so
/// a typo does not silently serve nothing.
fn load_library(dir: &Path) -> anyhow::Result<Library> {
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
fn window(bars: &[Bar], from: Option<NaiveDate>, to: Option<NaiveDate>) -> std::ops::Range<usize> {
    let start = from.map_or(0, |from| bars.partition_point(|bar| bar.date < from));
    let end = to.map_or(bars.len(), |to| bars.partition_point(|bar| bar.date <= to));
    start..end.max(start)
}

/// The US venue a ticker is served under (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum UsVenue {
    Nasdaq,
    Nyse,
    Other,
}

impl UsVenue {
    fn of(ticker: &str) -> UsVenue {
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

    fn tencent_suffix(self) -> &'static str {
        match self {
            UsVenue::Nasdaq => "OQ",
            UsVenue::Nyse => "N",
            UsVenue::Other => "AM",
        }
    }

    fn eastmoney_prefix(self) -> &'static str {
        match self {
            UsVenue::Nasdaq => "105",
            UsVenue::Nyse => "106",
            UsVenue::Other => "107",
        }
    }

    /// Yahoo's `exchangeName` and `fullExchangeName`.
    fn yahoo_exchange(self) -> (&'static str, &'static str) {
        match self {
            UsVenue::Nasdaq => ("NMS", "NasdaqGS"),
            UsVenue::Nyse => ("NYQ", "NYSE"),
            UsVenue::Other => ("PCX", "NYSEArca"),
        }
    }
}

/// `value` with every digit it has (it reads back as the same `f64`) and at least
/// `min_decimals` decimals, as Tencent and Eastmoney pad them (`97.500`).
fn decimal_text(value: f64, min_decimals: usize) -> String {
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
fn vendor_volume(market: Market, shares: f64) -> f64 {
    match market {
        Market::Sh | Market::Sz => shares / 100.0,
        Market::Hk | Market::Us | Market::Fx => shares,
    }
}

// ---------------------------------------------------------------------------------------
// Routing: a request's path and query to an answer, before any failure injection

/// What the server would answer, and for whom (failure rules match on provider and symbol).
#[derive(Clone, Debug, PartialEq)]
struct Answer {
    provider: Option<ProviderName>,
    symbol: Option<Symbol>,
    status: StatusCode,
    content_type: &'static str,
    body: String,
}

const JSON: &str = "application/json; charset=utf-8";
const JAVASCRIPT: &str = "application/javascript; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";
const HTML: &str = "text/html; charset=utf-8";

const TENCENT_PATHS: [(&str, TencentEndpoint); 4] = [
    ("/appstock/app/fqkline/get", TencentEndpoint::Fq),
    ("/appstock/app/hkfqkline/get", TencentEndpoint::HkFq),
    ("/appstock/app/usfqkline/get", TencentEndpoint::UsFq),
    ("/appstock/app/kline/kline", TencentEndpoint::Kline),
];
const EASTMONEY_PATH: &str = "/api/qt/stock/kline/get";
const YAHOO_PREFIX: &str = "/v8/finance/chart/";

fn answer(library: &Library, path: &str, query: &str) -> Answer {
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
            Ok(request) => request,
            Err(message) => return json(None, tencent_error_body(&message)),
        };
        let symbol = tencent_symbol(*endpoint, &request.code);
        let security = symbol.as_ref().and_then(|symbol| library.get(symbol));
        return json(symbol, tencent_body(&request, security));
    }
    if path == EASTMONEY_PATH {
        let request = eastmoney_request(get("secid").unwrap_or_default(), get("klt"), get("fqt"), get("beg"), get("end"), get("lmt"));
        let symbol = eastmoney_symbol(&request.secid);
        let security = symbol.as_ref().and_then(|symbol| library.get(symbol));
        let body = eastmoney_body(&request, security, get("fields2"));
        let (body, content_type) = match get("cb").filter(|name| is_identifier(name)) {
            Some(callback) => (format!("{callback}({body});"), JAVASCRIPT),
            None => (body, JSON),
        };
        return Answer { provider: Some(ProviderName::Eastmoney), symbol, status: StatusCode::OK, content_type, body };
    }
    if let Some(encoded) = path.strip_prefix(YAHOO_PREFIX) {
        let requested_name = percent_encoding::percent_decode_str(encoded).decode_utf8_lossy().into_owned();
        let symbol = yahoo_symbol(&requested_name);
        let number = |key: &str| get(key).and_then(|value| value.trim().parse::<i64>().ok());
        let interval = get("interval").unwrap_or("1d");
        let (status, body) = match symbol.as_ref().and_then(|symbol| library.get(symbol)) {
            _ if interval != "1d" => (StatusCode::BAD_REQUEST, yahoo_error_body("Bad Request", "this dev server serves interval=1d only")),
            Some(security) => (StatusCode::OK, yahoo_body(&requested_name, security, number("period1"), number("period2"))),
            None => (StatusCode::NOT_FOUND, yahoo_error_body("Not Found", "No data found, symbol may be delisted")),
        };
        return Answer { provider: Some(ProviderName::Yahoo), symbol, status, content_type: JSON, body };
    }
    Answer { provider: None, symbol: None, status: StatusCode::NOT_FOUND, content_type: TEXT, body: format!("no such path: {path}\n") }
}

/// A JSONP callback or `_var` name: letters, digits, `_`, `$` and `.`.
fn is_identifier(name: &str) -> bool {
    !name.is_empty() && name.len() <= 100 && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '.'))
}

// ---------------------------------------------------------------------------------------
// Tencent

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TencentEndpoint {
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
const TENCENT_PAGE_LIMIT: usize = 640;

/// A decoded `param=CODE,day,START,END,COUNT[,FQ]`.
#[derive(Clone, Debug, PartialEq)]
struct TencentRequest {
    code: String,
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
    /// Already capped at [`TENCENT_PAGE_LIMIT`].
    count: usize,
    adjust: Adjust,
    /// `_var=NAME` makes the body `NAME={…}`.
    var_name: Option<String>,
}

fn tencent_request(endpoint: TencentEndpoint, param: &str, var_name: Option<&str>) -> Result<TencentRequest, String> {
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
    })
}

/// Tencent's spelling of a symbol: `sh600941`, `hk00700`, `usBRK.B.N`, `whUSDCNY`.
fn tencent_code(symbol: &Symbol) -> String {
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
fn tencent_symbol(endpoint: TencentEndpoint, code: &str) -> Option<Symbol> {
    let (prefix, rest) = (code.get(..2)?, code.get(2..)?);
    let symbol = match prefix {
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
struct TencentEnvelope<'a> {
    code: i32,
    msg: &'a str,
    data: BTreeMap<String, TencentEntry>,
}

#[derive(Serialize)]
struct TencentEntry {
    /// One key: `day`, `hfqday` or `qfqday`.
    #[serde(flatten)]
    series: BTreeMap<&'static str, Vec<Vec<TencentCell>>>,
    qt: BTreeMap<String, Vec<String>>,
    prec: String,
    version: &'static str,
}

#[derive(Serialize)]
#[serde(untagged)]
enum TencentCell {
    Text(String),
    HongKongActions(HongKongActions),
}

/// The trailing object of Hong Kong rows (dividend and buy-back notes; empty here).
#[derive(Serialize)]
struct HongKongActions {
    cqr: String,
    #[serde(rename = "FHcontent")]
    dividend: &'static str,
    #[serde(rename = "HGcontent")]
    buy_back: &'static str,
}

fn tencent_error_body(message: &str) -> String {
    let envelope = TencentEnvelope { code: -1, msg: message, data: BTreeMap::new() };
    serde_json::to_string(&envelope).unwrap_or_default()
}

/// Tencent's answer: the latest `count` bars of the window, or `data: {}` for an unknown code.
fn tencent_body(request: &TencentRequest, security: Option<&Security>) -> String {
    let mut data = BTreeMap::new();
    if let Some(security) = security {
        let market = security.symbol.market();
        let series = security.series(request.adjust);
        let range = window(series, request.start, request.end);
        let start = range.end - range.len().min(request.count);
        let decimals = if market == Market::Fx { 4 } else { 3 };
        let rows = series[start..range.end]
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
struct EastmoneyRequest {
    secid: String,
    /// Only `101` (daily) is served; anything else answers like an unknown secid.
    daily: bool,
    adjust: Adjust,
    beg: Option<NaiveDate>,
    end: Option<NaiveDate>,
    /// The latest `limit` bars of the window.
    limit: usize,
}

fn eastmoney_request(
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
fn eastmoney_symbol(secid: &str) -> Option<Symbol> {
    let (prefix, code) = secid.split_once('.')?;
    let symbol = match prefix {
        "1" => Symbol::new(code, Market::Sh),
        "0" => Symbol::new(code, Market::Sz),
        "116" => Symbol::new(code, Market::Hk),
        "105" | "106" | "107" => Symbol::new(&code.replace('_', "-"), Market::Us),
        "120" => Symbol::new(code.strip_suffix('C')?, Market::Fx),
        "133" => Symbol::new(code, Market::Fx),
        _ => return None,
    }
    .ok()?;
    // Only the exact spelling answers (five-digit HK codes, the ticker's one venue prefix).
    let (expected_code, expected_market) = eastmoney_code(&symbol);
    (expected_code == code && expected_market.to_string() == prefix).then_some(symbol)
}

/// Eastmoney's code and market number for a symbol, as in `data.code` and `data.market`.
fn eastmoney_code(symbol: &Symbol) -> (String, u32) {
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
struct EastmoneyEnvelope {
    rc: i32,
    rt: i32,
    svr: u64,
    lt: i32,
    full: i32,
    dlmkts: &'static str,
    data: Option<EastmoneyData>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EastmoneyData {
    code: String,
    market: u32,
    name: String,
    decimal: usize,
    dktotal: usize,
    pre_k_price: f64,
    klines: Vec<String>,
}

/// The columns `fields2` can name, in Eastmoney's order.
const EASTMONEY_FIELDS: [&str; 11] = ["f51", "f52", "f53", "f54", "f55", "f56", "f57", "f58", "f59", "f60", "f61"];

/// Eastmoney's answer: `rc=102, data=null` for an unknown secid, else the window's klines
/// with the columns `fields2` names (all eleven when absent).
fn eastmoney_body(request: &EastmoneyRequest, security: Option<&Security>, fields2: Option<&str>) -> String {
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

/// Yahoo's spelling of a symbol: `600941.SS`, `0700.HK`, `BRK-B`, `CNY=X`, `HKDCNY=X`.
fn yahoo_name(symbol: &Symbol) -> String {
    let code = symbol.code();
    match symbol.market() {
        Market::Sh => format!("{code}.SS"),
        Market::Sz => format!("{code}.SZ"),
        Market::Hk => format!("{code}.HK"),
        Market::Us => code.to_string(),
        Market::Fx => format!("{}=X", code.strip_prefix("USD").unwrap_or(code)),
    }
}

/// The symbol behind a Yahoo name, if Yahoo spells it exactly so.
fn yahoo_symbol(name: &str) -> Option<Symbol> {
    let symbol = match name.rsplit_once('.') {
        _ if name.ends_with("=X") => Symbol::parse(name),
        Some((code, "SS")) => Symbol::new(code, Market::Sh),
        Some((code, "SZ")) => Symbol::new(code, Market::Sz),
        Some((code, "HK")) => Symbol::new(code, Market::Hk),
        Some(_) => return None,
        None => Symbol::new(name, Market::Us),
    }
    .ok()?;
    (yahoo_name(&symbol) == name).then_some(symbol)
}

/// The zone Yahoo stamps a market's bars in, and the session's opening and closing times.
fn yahoo_session(market: Market) -> (Tz, NaiveTime, NaiveTime) {
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
fn unix_seconds(zone: Tz, date: NaiveDate, time: NaiveTime) -> i64 {
    let local = date.and_time(time);
    zone.from_local_datetime(&local).earliest().map_or_else(|| local.and_utc().timestamp(), |instant| instant.timestamp())
}

#[derive(Serialize)]
struct YahooEnvelope<'a> {
    chart: YahooChart<'a>,
}

#[derive(Serialize)]
struct YahooChart<'a> {
    result: Option<Vec<YahooResult>>,
    error: Option<YahooError<'a>>,
}

#[derive(Serialize)]
struct YahooError<'a> {
    code: &'a str,
    description: &'a str,
}

#[derive(Serialize)]
struct YahooResult {
    meta: YahooMeta,
    #[serde(skip_serializing_if = "Option::is_none")]
    timestamp: Option<Vec<i64>>,
    indicators: YahooIndicators,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct YahooMeta {
    currency: &'static str,
    symbol: String,
    exchange_name: &'static str,
    full_exchange_name: &'static str,
    instrument_type: &'static str,
    first_trade_date: Option<i64>,
    regular_market_time: Option<i64>,
    has_pre_post_market_data: bool,
    gmtoffset: i32,
    timezone: String,
    exchange_timezone_name: &'static str,
    regular_market_price: Option<f64>,
    chart_previous_close: Option<f64>,
    price_hint: u32,
    current_trading_period: Option<YahooTradingPeriods>,
    data_granularity: &'static str,
    range: &'static str,
    valid_ranges: [&'static str; 11],
}

#[derive(Serialize)]
struct YahooTradingPeriods {
    regular: YahooSession,
}

#[derive(Serialize)]
struct YahooSession {
    timezone: String,
    start: i64,
    end: i64,
    gmtoffset: i32,
}

#[derive(Serialize)]
struct YahooIndicators {
    quote: [YahooQuote; 1],
    adjclose: [YahooAdjClose; 1],
}

#[derive(Serialize, Default)]
struct YahooQuote {
    #[serde(skip_serializing_if = "Option::is_none")]
    open: Option<Vec<Option<f64>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    high: Option<Vec<Option<f64>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    low: Option<Vec<Option<f64>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    close: Option<Vec<Option<f64>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    volume: Option<Vec<Option<serde_json::Number>>>,
}

#[derive(Serialize, Default)]
struct YahooAdjClose {
    #[serde(skip_serializing_if = "Option::is_none")]
    adjclose: Option<Vec<Option<f64>>>,
}

fn yahoo_error_body(code: &str, description: &str) -> String {
    serde_json::to_string(&YahooEnvelope { chart: YahooChart { result: None, error: Some(YahooError { code, description }) } })
        .unwrap_or_default()
}

/// Yahoo's chart for the bars whose session opens within `[period1, period2)` (either end open).
fn yahoo_body(yahoo_name: &str, security: &Security, period1: Option<i64>, period2: Option<i64>) -> String {
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
enum FailMode {
    TooManyRequests,
    ServerError,
    Html,
    Empty,
    Truncated,
    Drop,
}

/// `--fail [PROVIDER:]SYMBOL=MODE`; `None` means any provider or any symbol (`*`).
#[derive(Clone, Debug, PartialEq)]
struct FailRule {
    provider: Option<ProviderName>,
    symbol: Option<Symbol>,
    mode: FailMode,
}

fn parse_fail_rule(text: &str) -> Result<FailRule, String> {
    let usage = "expected [PROVIDER:]SYMBOL=MODE, e.g. tencent:600941.SH=429 or '*=drop'";
    let (target, mode) = text.split_once('=').ok_or_else(|| format!("`{text}`: {usage}"))?;
    let mode = match mode.trim().to_ascii_lowercase().as_str() {
        "429" => FailMode::TooManyRequests,
        "500" => FailMode::ServerError,
        "html" => FailMode::Html,
        "empty" => FailMode::Empty,
        "truncated" => FailMode::Truncated,
        "drop" => FailMode::Drop,
        other => return Err(format!("`{other}` is not a failure mode; use 429, 500, html, empty, truncated or drop")),
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
fn failure_for(rules: &[FailRule], provider: Option<ProviderName>, symbol: Option<&Symbol>) -> Option<FailMode> {
    let provider = provider?;
    rules
        .iter()
        .filter(|rule| rule.provider.is_none_or(|wanted| wanted == provider))
        .filter(|rule| rule.symbol.as_ref().is_none_or(|wanted| Some(wanted) == symbol))
        .min_by_key(|rule| (rule.symbol.is_none(), rule.provider.is_none()))
        .map(|rule| rule.mode)
}

/// What goes back on the wire.
#[derive(Debug, PartialEq)]
enum Outcome {
    Respond {
        status: StatusCode,
        content_type: &'static str,
        retry_after: Option<u32>,
        body: String,
    },
    /// Close the connection without a response.
    Drop,
}

fn apply_failure(answer: Answer, mode: Option<FailMode>) -> Outcome {
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
    }
}

// ---------------------------------------------------------------------------------------
// HTTP

struct ServerState {
    library: Library,
    rules: Vec<FailRule>,
    latency: Duration,
}

/// Returned by the service to make hyper close the connection without writing a response.
#[derive(Debug)]
struct DroppedConnection;

impl std::fmt::Display for DroppedConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by a --fail rule")
    }
}

impl std::error::Error for DroppedConnection {}

/// Accepts connections until the listener fails for good; each connection runs on its own task.
async fn serve(listener: TcpListener, state: Arc<ServerState>) {
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

async fn handle(state: Arc<ServerState>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, DroppedConnection> {
    let uri = request.uri();
    let shown = uri.path_and_query().map_or_else(|| uri.path().to_string(), |target| target.as_str().to_string());
    if !state.latency.is_zero() {
        tokio::time::sleep(state.latency).await;
    }
    let outcome = if request.method() == Method::GET {
        let answer = answer(&state.library, uri.path(), uri.query().unwrap_or_default());
        let mode = failure_for(&state.rules, answer.provider, answer.symbol.as_ref());
        apply_failure(answer, mode)
    } else {
        Outcome::Respond { status: StatusCode::METHOD_NOT_ALLOWED, content_type: TEXT, retry_after: None, body: "GET only\n".to_string() }
    };
    match outcome {
        Outcome::Drop => {
            eprintln!("{} {shown} -> dropped", request.method());
            Err(DroppedConnection)
        }
        Outcome::Respond { status, content_type, retry_after, body } => {
            eprintln!("{} {shown} -> {}", request.method(), status.as_u16());
            let mut response = Response::builder().status(status).header(hyper::header::CONTENT_TYPE, content_type);
            if let Some(seconds) = retry_after {
                response = response.header(hyper::header::RETRY_AFTER, seconds);
            }
            Ok(response.body(Full::new(Bytes::from(body))).unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))))
        }
    }
}

#[cfg(test)]
mod tests {
    //! The builders checked two ways: exact bodies for a few hand-made cases, and round trips
    //! through the real clients (`Providers::fetch` against this server on 127.0.0.1:0), whose
    //! bars must equal the CSV rows. The CSV rows are real 2023 prices unless marked synthetic.

    use super::*;
    use ratingwatch::config::{ProviderConfig, ProvidersConfig};
    use ratingwatch::prices::AdjBasis;
    use ratingwatch::providers::{FetchRequest, FetchedSeries, ProviderErrorKind, Providers};
    use rstest::rstest;
    use std::time::Instant;

    /// 600941.SH 2023-06-01 … 06-09; ex-dividend 2023-06-07 (adj_close / close steps from
    /// 0.95821 to 0.97791 there).
    const CHINA_MOBILE: &str = "date,open,high,low,close,volume,adj_close
2023-06-01,96.3,99.01,95.98,98.84,14426751,94.709937
2023-06-02,99,99.95,97.5,99.29,9885065,95.141134
2023-06-05,99.36,99.66,97.25,97.5,9006593,93.42593
2023-06-06,97.6,99.36,97.36,98.33,8566943,94.221248
2023-06-07,96.68,97.6,94.9,95.85,7834327,93.732295
2023-06-08,95.8,97.68,94.85,96.9,7954290,94.759096
2023-06-09,96.7,102.66,96.17,102.66,14658557,100.391835
";

    /// 000300.SH 2023-02-13 … 02-17, no adj_close column (an index).
    const CSI300: &str = "date,open,high,low,close,volume
2023-02-13,4098.88,4146.45,4092.273,4143.574,12889257700
2023-02-14,4151.247,4152.049,4125.258,4145.29,10249989000
2023-02-15,4146.855,4153.716,4115.967,4123.689,12166450800
2023-02-16,4125.409,4167.9,4068.859,4093.488,15931058500
2023-02-17,4086.224,4104.64,4032.929,4034.507,11614258900
";

    /// 0700.HK 2023-05-15 … 05-19; ex-dividend 2023-05-19.
    const TENCENT_HOLDINGS: &str = "date,open,high,low,close,volume,adj_close
2023-05-15,325,344.4,325,341,23740493,338.591524
2023-05-16,348,348,342.8,344.8,14121222,342.364685
2023-05-17,346,349.8,341.2,342.8,19562717,340.378811
2023-05-18,341.2,343,329.4,339.8,34412000,337.4
2023-05-19,333,335.8,329,333.2,22685856,333.2
";

    /// MSFT.US 2023-03-08 … 03-14, across the start of US daylight saving time (2023-03-12).
    const MICROSOFT: &str = "date,open,high,low,close,volume,adj_close
2023-03-08,254.04,254.5417,250.81,253.70,17340220,252.100098
2023-03-09,255.82,259.56,251.58,252.32,26653390,250.7288
2023-03-10,251.08,252.79,247.60,248.59,28333930,247.022323
2023-03-13,247.40,257.91,245.73,253.92,33339720,252.31871
2023-03-14,256.75,261.07,255.86,260.79,33620290,259.145386
";

    /// USD/CNY 2023-02-13 … 02-17, a rate in `close` only.
    const USDCNY: &str = "date,open,high,low,close,volume
2023-02-13,,,,6.8198,
2023-02-14,,,,6.8255,
2023-02-15,,,,6.851,
2023-02-16,,,,6.859,
2023-02-17,,,,6.8661,
";

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn security(symbol: &str, csv: &str) -> Security {
        let parsed = parse_prices(Path::new(&format!("{symbol}.csv")), csv.as_bytes(), far_future()).unwrap();
        Security::new(Symbol::parse(symbol).unwrap(), parsed.bars)
    }

    fn library(files: &[(&str, &str)]) -> Library {
        files.iter().map(|(symbol, csv)| (Symbol::parse(symbol).unwrap(), security(symbol, csv))).collect()
    }

    fn seed_library() -> Library {
        library(&[
            ("600941.SH", CHINA_MOBILE),
            ("000300.SH", CSI300),
            ("0700.HK", TENCENT_HOLDINGS),
            ("MSFT.US", MICROSOFT),
            ("USDCNY.FX", USDCNY),
            // Synthetic: Microsoft's rows under tickers served on NYSE and on the third venue.
            ("AAPL.US", MICROSOFT),
            ("TSLA.US", MICROSOFT),
        ])
    }

    /// Starts the server on a free port; it is accepting as soon as this returns (the
    /// listener is bound before the task starts).
    async fn start(library: Library, rules: Vec<FailRule>, latency: Duration) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(serve(listener, Arc::new(ServerState { library, rules, latency })));
        base_url
    }

    /// All three clients pointed at `base_url`: no rate limit, no retries, 5 s timeouts.
    fn providers(base_url: &str) -> Providers {
        let settings = ProviderConfig { base_url: base_url.to_string(), timeout_secs: 5, requests_per_second: 0.0, max_retries: 0 };
        let config =
            ProvidersConfig { tencent: settings.clone(), eastmoney: settings.clone(), yahoo: settings, chains: Default::default() };
        Providers::from_config(&config).unwrap()
    }

    fn request(symbol: &str, from: &str, to: &str) -> FetchRequest {
        FetchRequest { symbol: Symbol::parse(symbol).unwrap(), from: date(from), to: date(to) }
    }

    /// The fetched series must be the CSV rows of the range: same dates, the raw prices
    /// exactly, volume in shares, and an adjusted series with the returns of `adj_close`.
    fn assert_round_trip(library: &Library, request: &FetchRequest, fetched: &FetchedSeries) {
        let security = &library[&request.symbol];
        let expected: Vec<&Bar> = security.raw.iter().filter(|bar| bar.date >= request.from && bar.date <= request.to).collect();
        let context = format!("{} via {}", request.symbol, fetched.provider);
        assert!(!expected.is_empty(), "{context}: the test range has no rows");
        assert_eq!(fetched.bars.iter().map(|bar| bar.date).collect::<Vec<_>>(), expected.iter().map(|bar| bar.date).collect::<Vec<_>>());
        let (is_share, is_fx, yahoo) = (security.is_adjustable(), request.symbol.is_fx(), fetched.provider == ProviderName::Yahoo);
        let basis = match (is_share, yahoo) {
            (false, _) => AdjBasis::None,
            (true, true) => AdjBasis::YahooAdjclose,
            (true, false) => AdjBasis::Hfq,
        };
        assert_eq!(fetched.basis, basis, "{context}");
        for (got, want) in fetched.bars.iter().zip(&expected) {
            let context = format!("{context} on {}", want.date);
            assert_eq!(got.close, want.close, "{context}");
            if !is_fx {
                assert_eq!((got.open, got.high, got.low), (want.open, want.high, want.low), "{context}");
            }
            // Clients drop FX volume, and Yahoo's index volume (always 0).
            let expected_volume = if is_fx || (yahoo && !is_share) { None } else { want.volume };
            match (got.volume, expected_volume) {
                (Some(got), Some(want)) => assert!((got - want).abs() < 1e-6, "{context}: volume {got} vs {want}"),
                (got, want) => assert_eq!(got, want, "{context}: volume"),
            }
            if !is_share || yahoo {
                let expected_adjusted = if is_share { want.adj_close } else { want.close };
                assert_eq!(got.adj_close, expected_adjusted, "{context}: adjusted close");
            }
        }
        if is_share {
            for (got, want) in fetched.bars.windows(2).zip(expected.windows(2)) {
                let (got_return, want_return) = (got[1].adj_close / got[0].adj_close, want[1].adj_close / want[0].adj_close);
                assert!((got_return - want_return).abs() < 1e-9, "{context} on {}: return {got_return} vs {want_return}", want[1].date);
            }
        }
    }

    const SEED_REQUESTS: [(&str, &str, &str); 7] = [
        ("600941.SH", "2023-06-01", "2023-06-09"),
        ("600941.SH", "2023-06-05", "2023-06-08"),
        ("000300.SH", "2023-02-14", "2023-02-16"),
        ("0700.HK", "2023-05-15", "2023-05-19"),
        ("MSFT.US", "2023-03-09", "2023-03-14"),
        ("USDCNY.FX", "2023-02-13", "2023-02-17"),
        ("AAPL.US", "2023-03-08", "2023-03-13"),
    ];

    #[rstest]
    #[case(ProviderName::Tencent)]
    #[case(ProviderName::Eastmoney)]
    #[case(ProviderName::Yahoo)]
    #[tokio::test]
    async fn every_market_round_trips_through_the_real_client(#[case] provider: ProviderName) {
        let library = seed_library();
        let providers = providers(&start(library.clone(), Vec::new(), Duration::ZERO).await);
        for (symbol, from, to) in SEED_REQUESTS {
            let request = request(symbol, from, to);
            let fetched = providers.fetch(provider, &request).await.unwrap_or_else(|error| panic!("{error}"));
            assert_round_trip(&library, &request, &fetched);
        }
    }

    #[rstest]
    #[case(ProviderName::Tencent)]
    #[case(ProviderName::Eastmoney)]
    #[tokio::test]
    async fn back_adjusted_series_starts_at_the_raw_close_and_steps_over_the_dividend(#[case] provider: ProviderName) {
        let library = seed_library();
        let providers = providers(&start(library.clone(), Vec::new(), Duration::ZERO).await);
        let fetched = providers.fetch(provider, &request("600941.SH", "2023-06-01", "2023-06-09")).await.unwrap();
        let adjusted = |day: &str| fetched.bars.iter().find(|bar| bar.date == date(day)).unwrap().adj_close;
        // On the file's first row hfq equals the raw close, 98.84.
        assert!((adjusted("2023-06-01") - 98.84).abs() < 1e-9);
        // 2023-06-09: 100.391835 × 98.84 / 94.709937 = 104.769671332…
        assert!((adjusted("2023-06-09") - 104.769_671_332_375_6).abs() < 1e-9);
        // Ex-date 2023-06-07: raw −2.52 % (95.85 / 98.33 − 1), holder's return 93.732295 / 94.221248 − 1 = −0.518941 %.
        assert!((adjusted("2023-06-07") / adjusted("2023-06-06") - 1.0 - (-0.005_189_413_326_386_9)).abs() < 1e-12);
    }

    #[tokio::test]
    async fn yahoo_dates_survive_daylight_saving_and_first_trade_date_is_the_first_row() {
        let library = seed_library();
        let providers = providers(&start(library.clone(), Vec::new(), Duration::ZERO).await);
        let fetched = providers.fetch(ProviderName::Yahoo, &request("MSFT.US", "2023-03-10", "2023-03-13")).await.unwrap();
        // 2023-03-10 09:30 EST = 14:30 UTC and 2023-03-13 09:30 EDT = 13:30 UTC: both must land on their own date.
        assert_eq!(fetched.bars.iter().map(|bar| bar.date).collect::<Vec<_>>(), vec![date("2023-03-10"), date("2023-03-13")]);
        assert_eq!(fetched.first_trade_date, Some(date("2023-03-08")));
    }

    #[rstest]
    #[case(ProviderName::Tencent)]
    #[case(ProviderName::Eastmoney)]
    #[tokio::test]
    async fn tickers_off_the_clients_tables_are_found_by_probing(#[case] provider: ProviderName) {
        let library = seed_library();
        let providers = providers(&start(library.clone(), Vec::new(), Duration::ZERO).await);
        // AAPL: bytes 65+65+80+76 = 286 ≡ 1 (mod 3) → NYSE; TSLA: 84+83+76+65 = 308 ≡ 2 → the third venue.
        for symbol in ["AAPL.US", "TSLA.US"] {
            let request = request(symbol, "2023-03-08", "2023-03-14");
            let fetched = providers.fetch(provider, &request).await.unwrap_or_else(|error| panic!("{error}"));
            assert_round_trip(&library, &request, &fetched);
        }
    }

    #[tokio::test]
    async fn tencent_long_history_is_paged_past_the_640_bar_cap() {
        // Synthetic: a bar on every calendar day 2019-01-01 … 2022-12-31 (1461 rows), so a
        // two-year request window holds 730 or 731 bars and the server must cut it to 640.
        let mut csv = String::from("date,open,high,low,close,volume,adj_close\n");
        let first = date("2019-01-01");
        for day in 0..1461_u32 {
            let close = 10.0 + f64::from(day) * 0.01;
            let when = first + chrono::Days::new(u64::from(day));
            csv.push_str(&format!(
                "{when},{close},{close},{close},{close},{},{}\n",
                1000 + day * 100,
                close * (1.0 + f64::from(day) / 2000.0)
            ));
        }
        let library = library(&[("300308.SZ", &csv)]);
        let base_url = start(library.clone(), Vec::new(), Duration::ZERO).await;
        let request = request("300308.SZ", "2019-01-01", "2022-12-31");
        let fetched = providers(&base_url).fetch(ProviderName::Tencent, &request).await.unwrap();
        assert_eq!(fetched.bars.len(), 1461);
        assert_round_trip(&library, &request, &fetched);
    }

    #[rstest]
    #[case(ProviderName::Tencent, "601728.SH")]
    #[case(ProviderName::Eastmoney, "601728.SH")]
    #[case(ProviderName::Yahoo, "601728.SH")]
    #[case(ProviderName::Tencent, "NVDA.US")]
    #[case(ProviderName::Eastmoney, "NVDA.US")]
    #[case(ProviderName::Yahoo, "HKDCNY.FX")]
    #[tokio::test]
    async fn symbols_without_a_file_are_not_found(#[case] provider: ProviderName, #[case] symbol: &str) {
        let providers = providers(&start(seed_library(), Vec::new(), Duration::ZERO).await);
        let error = providers.fetch(provider, &request(symbol, "2023-02-13", "2023-06-09")).await.unwrap_err();
        assert_eq!(error.kind, ProviderErrorKind::NotFound, "{error}");
    }

    #[rstest]
    #[case(FailMode::TooManyRequests, ProviderErrorKind::Blocked)]
    #[case(FailMode::ServerError, ProviderErrorKind::Transient)]
    #[case(FailMode::Html, ProviderErrorKind::Blocked)]
    #[case(FailMode::Empty, ProviderErrorKind::Blocked)]
    #[case(FailMode::Truncated, ProviderErrorKind::Malformed)]
    #[case(FailMode::Drop, ProviderErrorKind::Blocked)]
    #[tokio::test]
    async fn failure_modes_reach_the_clients_as_their_error_kinds(#[case] mode: FailMode, #[case] kind: ProviderErrorKind) {
        let rules = vec![FailRule { provider: None, symbol: Symbol::parse("600941.SH").ok(), mode }];
        let providers = providers(&start(seed_library(), rules, Duration::ZERO).await);
        for provider in ProviderName::ALL {
            let error = providers.fetch(provider, &request("600941.SH", "2023-06-05", "2023-06-09")).await.unwrap_err();
            assert_eq!(error.kind, kind, "{mode:?} via {provider}: {error}");
            // Other symbols are untouched.
            assert!(providers.fetch(provider, &request("0700.HK", "2023-05-15", "2023-05-19")).await.is_ok(), "{mode:?} via {provider}");
        }
    }

    #[tokio::test]
    async fn a_scoped_rule_fails_one_provider_only() {
        let rules = vec![parse_fail_rule("tencent:600941.SH=500").unwrap(), parse_fail_rule("*=drop").unwrap()];
        let providers = providers(&start(seed_library(), rules, Duration::ZERO).await);
        let request = request("600941.SH", "2023-06-05", "2023-06-09");
        // The named rule beats `*` for Tencent; everyone else gets the wildcard.
        assert_eq!(providers.fetch(ProviderName::Tencent, &request).await.unwrap_err().kind, ProviderErrorKind::Transient);
        assert_eq!(providers.fetch(ProviderName::Eastmoney, &request).await.unwrap_err().kind, ProviderErrorKind::Blocked);
    }

    #[tokio::test]
    async fn latency_delays_every_answer() {
        let providers = providers(&start(seed_library(), Vec::new(), Duration::from_millis(300)).await);
        let started = Instant::now();
        // One Yahoo request.
        providers.fetch(ProviderName::Yahoo, &request("MSFT.US", "2023-03-09", "2023-03-10")).await.unwrap();
        assert!(started.elapsed() >= Duration::from_millis(300), "{:?}", started.elapsed());
    }

    #[test]
    fn tencent_body_has_the_wire_shape() {
        let library = seed_library();
        let param = "hk00700,day,2023-05-18,2023-05-19,640,";
        let request = tencent_request(TencentEndpoint::HkFq, param, Some("kline_day")).unwrap();
        let body = tencent_body(&request, library.get(&Symbol::parse("0700.HK").unwrap()));
        // Rows are [date, open, close, high, low, volume] padded to 3 decimals, HK volume in
        // shares, the trailing actions object; prec is the 2023-05-17 close.
        assert_eq!(
            body,
            r#"kline_day={"code":0,"msg":"","data":{"hk00700":{"day":[["2023-05-18","341.200","339.800","343.000","329.400","34412000.000",{"cqr":"2023-05-18","FHcontent":"","HGcontent":""}],["2023-05-19","333.000","333.200","335.800","329.000","22685856.000",{"cqr":"2023-05-19","FHcontent":"","HGcontent":""}]],"qt":{},"prec":"342.800","version":"16"}}}"#
        );
        let unknown = tencent_request(TencentEndpoint::Fq, "sh601728,day,2023-05-18,2023-05-19,640,", None).unwrap();
        assert_eq!(tencent_body(&unknown, None), r#"{"code":0,"msg":"","data":{}}"#);
    }

    #[test]
    fn tencent_answers_at_most_640_of_the_latest_bars_and_names_the_series() {
        let mut csv = String::from("date,close,adj_close\n");
        for day in 0..700_u64 {
            csv.push_str(&format!("{},{},{}\n", date("2020-01-01") + chrono::Days::new(day), 10 + day, 2 * (10 + day)));
        }
        let security = security("600941.SH", &csv);
        let request = tencent_request(TencentEndpoint::Fq, "sh600941,day,,,800,hfq", None).unwrap();
        let body: serde_json::Value = serde_json::from_str(&tencent_body(&request, Some(&security))).unwrap();
        let rows = body["data"]["sh600941"]["hfqday"].as_array().unwrap();
        assert_eq!(rows.len(), 640);
        // Day 60 is the first kept (700 − 640); hfq = 2 × 70 × (10 / 20) = 70.
        assert_eq!((rows[0][0].as_str(), rows[0][2].as_str()), (Some("2020-03-01"), Some("70.000")));
        // An index always answers `day`, whatever was asked.
        let index = self::security("000300.SH", CSI300);
        let request = tencent_request(TencentEndpoint::Fq, "sh000300,day,2023-02-13,2023-02-13,640,hfq", None).unwrap();
        let body: serde_json::Value = serde_json::from_str(&tencent_body(&request, Some(&index))).unwrap();
        // 12889257700 shares = 128892577 lots.
        assert_eq!(body["data"]["sh000300"]["day"][0][5].as_str(), Some("128892577.000"));
    }

    #[test]
    fn eastmoney_body_has_the_wire_shape() {
        let library = seed_library();
        let security = library.get(&Symbol::parse("600941.SH").unwrap());
        let request = eastmoney_request("1.600941", Some("101"), Some("0"), Some("20230606"), Some("20500101"), Some("2"));
        let body = eastmoney_body(&request, security, None);
        // lmt=2 keeps the latest two of 06-06 … 06-09. 2023-06-08: open 95.80, close 96.90, high 97.68,
        // low 94.85, 7954290 shares = 79542.9 lots, amount 7954290 × (95.8 + 96.9) / 2 = 766395841.50,
        // amplitude (97.68 − 94.85) / 95.85 = 2.95 %, change 96.9 / 95.85 − 1 = 1.10 %, +1.05.
        // 2023-06-09: amount 14658557 × (96.7 + 102.66) / 2 = 1461164961.76, amplitude
        // (102.66 − 96.17) / 96.9 = 6.70 %, change 102.66 / 96.9 − 1 = 5.94 %, +5.76.
        assert_eq!(
            body,
            r#"{"rc":0,"rt":17,"svr":181669437,"lt":1,"full":0,"dlmkts":"","data":{"code":"600941","market":1,"name":"600941","decimal":2,"dktotal":7,"preKPrice":95.85,"klines":["2023-06-08,95.80,96.90,97.68,94.85,79542.9,766395841.50,2.95,1.10,1.05,-","2023-06-09,96.70,102.66,102.66,96.17,146585.57,1461164961.76,6.70,5.94,5.76,-"]}}"#
        );
        let columns = eastmoney_body(&request, security, Some("f51,f53,f56"));
        assert!(columns.contains(r#""klines":["2023-06-08,96.90,79542.9","2023-06-09,102.66,146585.57"]"#), "{columns}");
        let unknown = eastmoney_request("105.AAPL", None, None, None, None, None);
        assert_eq!(eastmoney_body(&unknown, None, None), r#"{"rc":102,"rt":17,"svr":181669437,"lt":1,"full":1,"dlmkts":"","data":null}"#);
    }

    #[test]
    fn yahoo_body_stamps_session_opens_in_the_exchange_zone() {
        let library = seed_library();
        let security = &library[&Symbol::parse("MSFT.US").unwrap()];
        // period1 = 2023-03-10 00:00 UTC (1678406400), period2 = 2023-03-14 00:00 UTC (1678752000).
        let body: serde_json::Value =
            serde_json::from_str(&yahoo_body("MSFT", security, Some(1_678_406_400), Some(1_678_752_000))).unwrap();
        let result = &body["chart"]["result"][0];
        // 2023-03-10 09:30 EST = 14:30 UTC = 1678458600; 2023-03-13 09:30 EDT = 13:30 UTC = 1678714200.
        assert_eq!(result["timestamp"], serde_json::json!([1_678_458_600_i64, 1_678_714_200_i64]));
        assert_eq!(result["meta"]["exchangeTimezoneName"], "America/New_York");
        assert_eq!(result["indicators"]["adjclose"][0]["adjclose"], serde_json::json!([247.022323, 252.31871]));
        assert_eq!(result["indicators"]["quote"][0]["volume"], serde_json::json!([28_333_930, 33_339_720]));
        // The last session of the file, 2023-03-14, ended at 16:00 EDT = 20:00 UTC = 1678824000.
        assert_eq!(result["meta"]["regularMarketTime"], 1_678_824_000);
        assert_eq!(
            yahoo_error_body("Not Found", "No data found, symbol may be delisted"),
            r#"{"chart":{"result":null,"error":{"code":"Not Found","description":"No data found, symbol may be delisted"}}}"#
        );
    }

    #[rstest]
    #[case("sh600941", TencentEndpoint::Fq, Some("600941.SH"))]
    #[case("sh000300", TencentEndpoint::Fq, Some("000300.SH"))]
    #[case("hk00700", TencentEndpoint::HkFq, Some("0700.HK"))]
    #[case("hk00700", TencentEndpoint::Fq, Some("0700.HK"))]
    #[case("hk0700", TencentEndpoint::HkFq, None)]
    #[case("sh600941", TencentEndpoint::UsFq, None)]
    #[case("usMSFT.OQ", TencentEndpoint::UsFq, Some("MSFT.US"))]
    #[case("usMSFT.N", TencentEndpoint::UsFq, None)]
    #[case("usAAPL.OQ", TencentEndpoint::UsFq, None)]
    #[case("usAAPL.N", TencentEndpoint::UsFq, Some("AAPL.US"))]
    #[case("whUSDCNY", TencentEndpoint::Kline, Some("USDCNY.FX"))]
    #[case("whusdcny", TencentEndpoint::Kline, None)]
    fn tencent_serves_only_exact_spellings(#[case] code: &str, #[case] endpoint: TencentEndpoint, #[case] expected: Option<&str>) {
        assert_eq!(tencent_symbol(endpoint, code), expected.map(|symbol| Symbol::parse(symbol).unwrap()));
    }

    #[rstest]
    #[case("1.600941", Some("600941.SH"))]
    #[case("1.000300", Some("000300.SH"))]
    #[case("0.300308", Some("300308.SZ"))]
    #[case("2.000859", None)]
    #[case("116.00700", Some("0700.HK"))]
    #[case("116.0700", None)]
    #[case("105.MSFT", Some("MSFT.US"))]
    #[case("106.MSFT", None)]
    #[case("106.BABA", Some("BABA.US"))]
    #[case("107.TSLA", Some("TSLA.US"))]
    #[case("120.USDCNYC", Some("USDCNY.FX"))]
    #[case("120.USDCNY", None)]
    #[case("133.USDCNH", Some("USDCNH.FX"))]
    fn eastmoney_serves_only_exact_spellings(#[case] secid: &str, #[case] expected: Option<&str>) {
        assert_eq!(eastmoney_symbol(secid), expected.map(|symbol| Symbol::parse(symbol).unwrap()));
    }

    #[rstest]
    #[case("600941.SS", Some("600941.SH"))]
    #[case("300308.SZ", Some("300308.SZ"))]
    #[case("0700.HK", Some("0700.HK"))]
    #[case("00700.HK", None)]
    #[case("MSFT", Some("MSFT.US"))]
    #[case("msft", None)]
    #[case("BRK-B", Some("BRK-B.US"))]
    #[case("CNY=X", Some("USDCNY.FX"))]
    #[case("USDCNY=X", None)]
    #[case("HKDCNY=X", Some("HKDCNY.FX"))]
    #[case("600941.SH", None)]
    fn yahoo_serves_only_exact_spellings(#[case] name: &str, #[case] expected: Option<&str>) {
        assert_eq!(yahoo_symbol(name), expected.map(|symbol| Symbol::parse(symbol).unwrap()));
    }

    #[test]
    fn parses_requests() {
        let request = tencent_request(TencentEndpoint::Kline, "whUSDCNY,day,2023-01-01,2023-12-31,9999", None).unwrap();
        assert_eq!(
            (request.start, request.end, request.count, request.adjust),
            (Some(date("2023-01-01")), Some(date("2023-12-31")), 640, Adjust::Raw)
        );
        assert!(tencent_request(TencentEndpoint::Fq, "sh600941,week,,,320,", None).is_err());
        assert!(tencent_request(TencentEndpoint::Fq, "sh600941,day,2023-13-01,,320,", None).is_err());
        assert_eq!(tencent_request(TencentEndpoint::Fq, "sh600941,day,,,320,qfq", Some("bad name!")).unwrap().var_name, None);
        let request = eastmoney_request("1.600941", Some("101"), Some("2"), Some("0"), Some("20500000"), Some("1000000"));
        assert_eq!((request.adjust, request.beg, request.end, request.limit), (Adjust::Hfq, None, None, 1_000_000));
        assert!(!eastmoney_request("1.600941", Some("102"), None, None, None, None).daily);
    }

    #[rstest]
    #[case(97.5, 3, "97.500")]
    #[case(6.8198, 4, "6.8198")]
    #[case(6.851, 4, "6.8510")]
    #[case(90065.93, 3, "90065.930")]
    #[case(104.769_671_332_375_6, 3, "104.7696713323756")]
    #[case(128_892_577.0, 0, "128892577")]
    #[case(79542.9, 0, "79542.9")]
    fn decimals_keep_every_digit_and_pad(#[case] value: f64, #[case] min_decimals: usize, #[case] expected: &str) {
        assert_eq!(decimal_text(value, min_decimals), expected);
        assert_eq!(expected.parse::<f64>().unwrap(), value);
    }

    #[rstest]
    #[case("600941.SH=429", FailRule { provider: None, symbol: Symbol::parse("600941.SH").ok(), mode: FailMode::TooManyRequests })]
    #[case("tencent:0700.HK=drop", FailRule { provider: Some(ProviderName::Tencent), symbol: Symbol::parse("0700.HK").ok(), mode: FailMode::Drop })]
    #[case("Eastmoney:*=HTML", FailRule { provider: Some(ProviderName::Eastmoney), symbol: None, mode: FailMode::Html })]
    #[case("yahoo:msft=truncated", FailRule { provider: Some(ProviderName::Yahoo), symbol: Symbol::parse("MSFT.US").ok(), mode: FailMode::Truncated })]
    fn parses_fail_rules(#[case] text: &str, #[case] expected: FailRule) {
        assert_eq!(parse_fail_rule(text), Ok(expected));
    }

    #[rstest]
    #[case("600941.SH", "expected [PROVIDER:]SYMBOL=MODE")]
    #[case("600941.SH=404", "`404` is not a failure mode")]
    #[case("sina:600941.SH=500", "`sina` is not a provider")]
    #[case("60094.SH=500", "`60094.SH` is not a symbol")]
    fn rejects_bad_fail_rules(#[case] text: &str, #[case] says: &str) {
        let message = parse_fail_rule(text).unwrap_err();
        assert!(message.contains(says), "{message}");
    }

    #[test]
    fn the_most_specific_rule_wins() {
        let rules: Vec<FailRule> = ["*=500", "600941.SH=html", "yahoo:*=empty", "yahoo:600941.SH=drop"]
            .iter()
            .map(|text| parse_fail_rule(text).unwrap())
            .collect();
        let china_mobile = Symbol::parse("600941.SH").unwrap();
        let tencent_holdings = Symbol::parse("0700.HK").unwrap();
        assert_eq!(failure_for(&rules, Some(ProviderName::Yahoo), Some(&china_mobile)), Some(FailMode::Drop));
        assert_eq!(failure_for(&rules, Some(ProviderName::Tencent), Some(&china_mobile)), Some(FailMode::Html));
        assert_eq!(failure_for(&rules, Some(ProviderName::Yahoo), Some(&tencent_holdings)), Some(FailMode::Empty));
        assert_eq!(failure_for(&rules, Some(ProviderName::Tencent), Some(&tencent_holdings)), Some(FailMode::ServerError));
        // Requests outside the three providers (unknown paths) never fail on purpose.
        assert_eq!(failure_for(&rules, None, None), None);
        assert_eq!(failure_for(&[], Some(ProviderName::Yahoo), Some(&china_mobile)), None);
    }

    #[test]
    fn truncation_cuts_on_a_character_boundary() {
        let answer = Answer { provider: None, symbol: None, status: StatusCode::OK, content_type: JSON, body: "{\"名\":1}".to_string() };
        // The body is 9 bytes; half is byte 4, inside 名 (bytes 2, 3 and 4), so the cut moves back to byte 2.
        let Outcome::Respond { body, status, .. } = apply_failure(answer, Some(FailMode::Truncated)) else { panic!("not a response") };
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, "{\"");
        let Outcome::Respond { status, retry_after, .. } = apply_failure(
            Answer { provider: None, symbol: None, status: StatusCode::OK, content_type: JSON, body: String::new() },
            Some(FailMode::TooManyRequests),
        ) else {
            panic!("not a response")
        };
        assert_eq!((status, retry_after), (StatusCode::TOO_MANY_REQUESTS, Some(1)));
    }

    #[test]
    fn loads_canonical_files_and_names_a_bad_one() {
        let folder = tempfile::tempdir().unwrap();
        std::fs::write(folder.path().join("600941.SH.csv"), CHINA_MOBILE).unwrap();
        std::fs::write(folder.path().join("USDCNY.FX.csv"), USDCNY).unwrap();
        std::fs::write(folder.path().join("notes.md"), "not prices").unwrap();
        let library = load_library(folder.path()).unwrap();
        assert_eq!(library.keys().map(Symbol::to_string).collect::<Vec<_>>(), vec!["600941.SH", "USDCNY.FX"]);
        assert_eq!(library[&Symbol::parse("USDCNY.FX").unwrap()].raw.len(), 5);
        std::fs::write(folder.path().join("sh600941.csv"), CHINA_MOBILE).unwrap();
        let message = format!("{:#}", load_library(folder.path()).unwrap_err());
        assert!(message.contains("sh600941.csv") && message.contains("canonical symbol"), "{message}");
    }

    #[test]
    fn routes_paths_and_wraps_jsonp() {
        let library = seed_library();
        let jsonp = answer(&library, EASTMONEY_PATH, "secid=1.600941&fqt=0&beg=20230609&end=20230609&cb=jQuery35_17");
        assert_eq!((jsonp.provider, jsonp.content_type), (Some(ProviderName::Eastmoney), JAVASCRIPT));
        assert!(jsonp.body.starts_with(r#"jQuery35_17({"rc":0,"#) && jsonp.body.ends_with("]}});"), "{}", jsonp.body);
        // A callback that is not an identifier is ignored rather than echoed.
        assert!(answer(&library, EASTMONEY_PATH, "secid=1.600941&cb=alert(1)").body.starts_with('{'));
        let named = answer(&library, "/appstock/app/fqkline/get", "param=sh600941%2Cday%2C2023-06-09%2C2023-06-09%2C640%2C&_var=kline_day");
        assert_eq!(named.symbol, Symbol::parse("600941.SH").ok());
        assert!(named.body.starts_with(r#"kline_day={"code":0"#), "{}", named.body);
        let missing = answer(&library, "/v8/finance/chart/NVDA", "period1=0&period2=1");
        assert_eq!((missing.status, missing.symbol), (StatusCode::NOT_FOUND, Symbol::parse("NVDA.US").ok()));
        let weekly = answer(&library, "/v8/finance/chart/MSFT", "interval=1wk");
        assert_eq!(weekly.status, StatusCode::BAD_REQUEST);
        let elsewhere = answer(&library, "/robots.txt", "");
        assert_eq!((elsewhere.status, elsewhere.provider), (StatusCode::NOT_FOUND, None));
    }

    #[test]
    fn env_line_points_every_provider_at_the_server() {
        assert_eq!(
            env_line("http://127.0.0.1:8765"),
            "RATINGWATCH__PROVIDERS__TENCENT__BASE_URL=http://127.0.0.1:8765 RATINGWATCH__PROVIDERS__EASTMONEY__BASE_URL=http://127.0.0.1:8765 RATINGWATCH__PROVIDERS__YAHOO__BASE_URL=http://127.0.0.1:8765"
        );
    }
}
