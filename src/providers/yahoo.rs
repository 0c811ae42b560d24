//! Yahoo Finance v8 chart.
//!
//! Endpoint, under `[providers.yahoo] base_url` (default `https://query1.finance.yahoo.com`):
//! `/v8/finance/chart/{SYMBOL}?period1=…&period2=…&interval=1d&events=div|split&includePrePost=false`,
//! no crumb or cookie (the chart endpoint does not need them). Symbols: `600941.SS`,
//! `300308.SZ`, `000300.SS` (CSI 300), `0700.HK`, `MSFT`, `BRK-B`, FX `CNY=X` (USD/CNY) and
//! `HKDCNY=X`, indices `^HSI`, `^GSPC`, `^IXIC`, `^DJI` (the caret sent as `%5E`). The period is widened by a day on each side and the bars are then cut to the
//! request by their exchange-local date, so no time zone can push a session out of range.
//!
//! Response: `chart.result[0]` holds `timestamp[]` (Unix seconds of each session OPEN),
//! `indicators.quote[0].{open,high,low,close,volume}[]` and `indicators.adjclose[0].adjclose[]`
//! as parallel arrays in which any element may be `null`. A row whose close (or, for shares,
//! adjclose) is null is dropped. Dates are the timestamps in `meta.exchangeTimezoneName`
//! (chrono-tz), else `meta.gmtoffset`, else the market's own zone. Shares take `adjclose`
//! (basis `YahooAdjclose`, re-based by Yahoo after each dividend); indices and FX take
//! `close` for both. Yahoo reports index volume as 0 and FX volume as 0: both are dropped.
//! `meta.firstTradeDate` becomes `first_trade_date`.
//!
//! The in-progress bar: Yahoo appends a live bar for the current session. The LAST bar is
//! dropped when either
//! 1. its timestamp equals `meta.regularMarketTime` — a completed session is stamped with its
//!    open, the live bar with the time of the latest trade; or
//! 2. `meta.currentTradingPeriod.regular` contains `regularMarketTime` (the session was open
//!    at the latest trade) and the bar's timestamp is within that session.
//!
//! A bar dropped this way is fetched again, complete, by the next sync's overlap.
//!
//! Errors: unknown symbols are HTTP 404 with `{"chart":{"result":null,"error":{"code":
//! "Not Found","description":"No data found, symbol may be delisted"}}}` → `NotFound` with
//! that description; rate limiting is HTTP 429 with a plain-text `Too Many Requests` body,
//! retried and then `Blocked`.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};
use chrono_tz::Tz;
use serde::Deserialize;

use super::http::{Endpoint, HttpError};
use super::{Failure, FetchRequest, Fetched, check_body, json_error};
use crate::prices::Bar;
use crate::symbol::{Market, Symbol};

const PATH_PREFIX: &str = "/v8/finance/chart/";

/// Yahoo's spelling of a symbol: `600941.SS`, `0700.HK`, `BRK-B`, `CNY=X`, `^HSI`.
pub fn yahoo_symbol(symbol: &Symbol) -> String {
    let code = symbol.code();
    if symbol.global_index().is_some() {
        // The canonical code is Yahoo's own: `^HSI`, `^GSPC`, `^IXIC`, `^DJI`.
        return code.to_string();
    }
    match symbol.market() {
        Market::Sh => format!("{code}.SS"),
        Market::Sz => format!("{code}.SZ"),
        Market::Hk => format!("{code}.HK"),
        Market::Us => code.to_string(),
        // Yahoo writes USD-based pairs by the quote currency alone.
        Market::Fx => match code.strip_prefix("USD") {
            Some(quote) => format!("{quote}=X"),
            None => format!("{code}=X"),
        },
    }
}

/// The symbol Yahoo spells exactly `name` (the inverse of [`yahoo_symbol`]), if any.
pub fn from_yahoo_symbol(name: &str) -> Option<Symbol> {
    let symbol = match name.rsplit_once('.') {
        _ if name.ends_with("=X") || name.starts_with('^') => Symbol::parse(name),
        Some((code, "SS")) => Symbol::new(code, Market::Sh),
        Some((code, "SZ")) => Symbol::new(code, Market::Sz),
        Some((code, "HK")) => Symbol::new(code, Market::Hk),
        Some(_) => return None,
        None => Symbol::new(name, Market::Us),
    }
    .ok()?;
    (yahoo_symbol(&symbol) == name).then_some(symbol)
}

/// The URL path of a symbol's chart: the caret of an index is percent-encoded (`%5EHSI`),
/// as Yahoo's own pages send it; every other character Yahoo uses is safe in a path.
pub fn chart_path(symbol: &Symbol) -> String {
    format!("{PATH_PREFIX}{}", yahoo_symbol(symbol).replace('^', "%5E"))
}

/// The request window in Unix seconds: midnight UTC a day before `from` to midnight UTC two
/// days after `to`, wide enough for any exchange's session to fall inside.
pub fn period(from: NaiveDate, to: NaiveDate) -> (i64, i64) {
    let midnight = |date: NaiveDate| date.and_hms_opt(0, 0, 0).map(|time| time.and_utc().timestamp()).unwrap_or_default();
    let start = from.pred_opt().unwrap_or(from);
    let end = to.succ_opt().and_then(|day| day.succ_opt()).unwrap_or(to);
    (midnight(start), midnight(end))
}

#[derive(Deserialize)]
struct Envelope {
    chart: Chart,
}

#[derive(Deserialize)]
struct Chart {
    #[serde(default)]
    result: Option<Vec<ChartResult>>,
    #[serde(default)]
    error: Option<ChartError>,
}

#[derive(Deserialize)]
struct ChartError {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize)]
struct ChartResult {
    #[serde(default)]
    meta: Meta,
    #[serde(default)]
    timestamp: Option<Vec<i64>>,
    #[serde(default)]
    indicators: Option<Indicators>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Meta {
    #[serde(default)]
    exchange_timezone_name: Option<String>,
    #[serde(default)]
    gmtoffset: Option<i64>,
    #[serde(default)]
    regular_market_time: Option<i64>,
    #[serde(default)]
    first_trade_date: Option<i64>,
    #[serde(default)]
    current_trading_period: Option<TradingPeriods>,
}

#[derive(Deserialize)]
struct TradingPeriods {
    #[serde(default)]
    regular: Option<Session>,
}

#[derive(Deserialize)]
struct Session {
    start: i64,
    end: i64,
}

#[derive(Deserialize)]
struct Indicators {
    #[serde(default)]
    quote: Vec<Quote>,
    #[serde(default)]
    adjclose: Vec<AdjClose>,
}

type Column = Option<Vec<Option<f64>>>;

#[derive(Deserialize)]
struct Quote {
    #[serde(default)]
    open: Column,
    #[serde(default)]
    high: Column,
    #[serde(default)]
    low: Column,
    #[serde(default)]
    close: Column,
    #[serde(default)]
    volume: Column,
}

#[derive(Deserialize)]
struct AdjClose {
    #[serde(default)]
    adjclose: Column,
}

/// A parsed chart: bars oldest first as Yahoo sent them (not yet cut to a range).
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedChart {
    pub bars: Vec<Bar>,
    pub first_trade_date: Option<NaiveDate>,
}

/// How exchange timestamps become local dates.
#[derive(Clone, Copy)]
enum Zone {
    Named(Tz),
    Fixed(FixedOffset),
}

impl Zone {
    fn local_date(self, timestamp: i64) -> Option<NaiveDate> {
        let instant = DateTime::from_timestamp(timestamp, 0)?;
        Some(match self {
            Zone::Named(tz) => tz.from_utc_datetime(&instant.naive_utc()).date_naive(),
            Zone::Fixed(offset) => offset.from_utc_datetime(&instant.naive_utc()).date_naive(),
        })
    }
}

/// Parses a chart response. `is_share` selects `adjclose` as the adjusted close (indices and
/// FX use `close` and drop volume); `fallback_zone` is used when `meta` names no zone.
pub fn parse_chart(body: &str, is_share: bool, fallback_zone: Tz) -> Result<ParsedChart, Failure> {
    let text = check_body(body)?;
    let envelope: Envelope = serde_json::from_str(text).map_err(|e| json_error(&e, text))?;
    let result = envelope.chart.result.and_then(|results| results.into_iter().next());
    let Some(result) = result else {
        return Err(match envelope.chart.error {
            Some(error) => Failure::not_found(format!(
                "Yahoo chart error {}: {}",
                error.code.as_deref().unwrap_or("(no code)"),
                error.description.as_deref().unwrap_or("(no description)")
            )),
            None => Failure::not_found("Yahoo chart has no result"),
        });
    };
    let meta = result.meta;
    let zone = meta
        .exchange_timezone_name
        .as_deref()
        .and_then(|name| name.parse::<Tz>().ok())
        .map(Zone::Named)
        .or_else(|| meta.gmtoffset.and_then(|seconds| i32::try_from(seconds).ok()).and_then(FixedOffset::east_opt).map(Zone::Fixed))
        .unwrap_or(Zone::Named(fallback_zone));
    let first_trade_date = meta.first_trade_date.and_then(|timestamp| zone.local_date(timestamp));
    let timestamps = result.timestamp.unwrap_or_default();
    if timestamps.is_empty() {
        return Ok(ParsedChart { bars: Vec::new(), first_trade_date });
    }
    let indicators = result.indicators.ok_or_else(|| Failure::malformed("timestamps without `indicators`"))?;
    let quote = indicators.quote.into_iter().next().ok_or_else(|| Failure::malformed("`indicators.quote` is empty"))?;
    let length = timestamps.len();
    let column = |name: &str, values: Column| -> Result<Vec<Option<f64>>, Failure> {
        match values {
            None => Ok(vec![None; length]),
            Some(values) if values.len() == length => Ok(values),
            Some(values) => Err(Failure::malformed(format!("`{name}` has {} values for {length} timestamps", values.len()))),
        }
    };
    let closes = column("close", quote.close)?;
    let (opens, highs, lows, volumes) =
        (column("open", quote.open)?, column("high", quote.high)?, column("low", quote.low)?, column("volume", quote.volume)?);
    let adjusted_closes = if is_share {
        let adjclose = indicators.adjclose.into_iter().next().and_then(|series| series.adjclose);
        if adjclose.is_none() {
            return Err(Failure::malformed("no `adjclose` series for a share; cannot build the adjusted series"));
        }
        column("adjclose", adjclose)?
    } else {
        closes.clone()
    };
    let last_in_progress = last_bar_in_progress(&timestamps, &meta);
    let mut bars = Vec::with_capacity(length);
    let mut dropped_for_adjclose = 0;
    for (index, &timestamp) in timestamps.iter().enumerate() {
        if last_in_progress && index + 1 == length {
            break;
        }
        let Some(close) = closes[index].filter(|value| value.is_finite()) else { continue };
        let Some(adj_close) = adjusted_closes[index].filter(|value| value.is_finite()) else {
            dropped_for_adjclose += 1;
            continue;
        };
        let date = zone.local_date(timestamp).ok_or_else(|| Failure::malformed(format!("timestamp {timestamp} is out of range")))?;
        let finite = |value: Option<f64>| value.filter(|value| value.is_finite());
        bars.push(Bar {
            date,
            open: finite(opens[index]),
            high: finite(highs[index]),
            low: finite(lows[index]),
            close,
            volume: if is_share { finite(volumes[index]) } else { None },
            adj_close,
        });
    }
    if dropped_for_adjclose > 0 {
        tracing::debug!(dropped = dropped_for_adjclose, "Yahoo rows with a close but no adjclose were dropped");
    }
    Ok(ParsedChart { bars, first_trade_date })
}

/// The rule in the module docs: is the last bar a live, unfinished session?
fn last_bar_in_progress(timestamps: &[i64], meta: &Meta) -> bool {
    let (Some(&last), Some(market_time)) = (timestamps.last(), meta.regular_market_time) else {
        return false;
    };
    if last == market_time {
        return true;
    }
    match meta.current_trading_period.as_ref().and_then(|periods| periods.regular.as_ref()) {
        Some(session) => session.start <= market_time && market_time < session.end && session.start <= last && last < session.end,
        None => false,
    }
}

pub struct Yahoo {
    endpoint: Endpoint,
}

impl Yahoo {
    pub fn new(endpoint: Endpoint) -> Yahoo {
        Yahoo { endpoint }
    }

    pub async fn fetch(&self, request: &FetchRequest) -> Result<Fetched, Failure> {
        let symbol = &request.symbol;
        let is_share = !(symbol.is_fx() || symbol.is_index());
        let (period1, period2) = period(request.from, request.to);
        let query = [
            ("period1", period1.to_string()),
            ("period2", period2.to_string()),
            ("interval", "1d".to_string()),
            ("events", "div|split".to_string()),
            ("includePrePost", "false".to_string()),
        ];
        let path = chart_path(symbol);
        let body = match self.endpoint.get(&path, &query).await {
            Ok(response) => response.body,
            Err(failure) => {
                // A 404 carries Yahoo's own explanation in `chart.error`.
                if let HttpError::Status { status, body, .. } = &failure.error
                    && status.as_u16() == 404
                    && let Err(explained) = parse_chart(body, is_share, symbol.market().timezone())
                    && explained.kind == super::ProviderErrorKind::NotFound
                {
                    return Err(Failure::not_found(format!("{} (HTTP 404)", explained.message)));
                }
                return Err(failure.into());
            }
        };
        let chart = parse_chart(&body, is_share, symbol.market().timezone())?;
        Ok(Fetched { bars: chart.bars, first_trade_date: chart.first_trade_date })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::ProviderErrorKind;
    use rstest::rstest;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[rstest]
    #[case("600941.SH", "600941.SS")]
    #[case("000300.SH", "000300.SS")]
    #[case("300308.SZ", "300308.SZ")]
    #[case("0700.HK", "0700.HK")]
    #[case("9988.HK", "9988.HK")]
    #[case("MSFT.US", "MSFT")]
    #[case("BRK-B.US", "BRK-B")]
    #[case("USDCNY.FX", "CNY=X")]
    #[case("HKDCNY.FX", "HKDCNY=X")]
    #[case("^HSI.HK", "^HSI")]
    #[case("^GSPC.US", "^GSPC")]
    #[case("^IXIC.US", "^IXIC")]
    #[case("^DJI.US", "^DJI")]
    fn maps_symbols(#[case] symbol: &str, #[case] expected: &str) {
        let symbol = Symbol::parse(symbol).unwrap();
        assert_eq!(yahoo_symbol(&symbol), expected);
        assert_eq!(from_yahoo_symbol(expected), Some(symbol));
    }

    #[rstest]
    #[case("^HSI.HK", "/v8/finance/chart/%5EHSI")]
    #[case("^IXIC.US", "/v8/finance/chart/%5EIXIC")]
    #[case("USDCNY.FX", "/v8/finance/chart/CNY=X")]
    #[case("BRK-B.US", "/v8/finance/chart/BRK-B")]
    fn chart_paths_encode_the_caret(#[case] symbol: &str, #[case] expected: &str) {
        assert_eq!(chart_path(&Symbol::parse(symbol).unwrap()), expected);
    }

    #[rstest]
    #[case("0700.HK", Some("0700.HK"))]
    #[case("000300.SS", Some("000300.SH"))]
    // Spellings Yahoo does not use answer nothing, so the fake server does not serve them.
    #[case("00700.HK", None)]
    #[case("600941.SH", None)]
    #[case("SPX", None)]
    #[case("^SPX", None)]
    #[case("USDCNY=X", None)]
    #[case("^NDX", None)]
    fn reads_back_only_yahoos_own_spelling(#[case] name: &str, #[case] expected: Option<&str>) {
        assert_eq!(from_yahoo_symbol(name).map(|symbol| symbol.to_string()).as_deref(), expected);
    }

    #[test]
    fn period_widens_the_range_by_whole_days() {
        // 2023-02-13 00:00 UTC = 1676246400; 2023-02-16 00:00 UTC = 1676505600.
        assert_eq!(period(date("2023-02-14"), date("2023-02-14")), (1_676_246_400, 1_676_505_600));
    }

    /// The verbatim GS2C.DE sample from yfinance-rs, recorded 2025-10-29 with the live bar last.
    const GS2C: &str = r#"{"chart":{"result":[{"meta":{"currency":"EUR","symbol":"GS2C.DE","exchangeName":"GER","fullExchangeName":"XETRA","instrumentType":"EQUITY","firstTradeDate":1198742400,"regularMarketTime":1761755744,"hasPrePostMarketData":false,"gmtoffset":3600,"timezone":"CET","exchangeTimezoneName":"Europe/Berlin","regularMarketPrice":19.948,"fiftyTwoWeekHigh":32.895,"fiftyTwoWeekLow":18.6,"regularMarketDayHigh":20.15,"regularMarketDayLow":19.786,"regularMarketVolume":9179,"longName":"GameStop Corp.","shortName":"Gamestop Corp.                R","chartPreviousClose":19.412,"priceHint":2,"currentTradingPeriod":{"pre":{"timezone":"CET","start":1761804000,"end":1761811200,"gmtoffset":3600},"regular":{"timezone":"CET","start":1761811200,"end":1761841800,"gmtoffset":3600},"post":{"timezone":"CET","start":1761841800,"end":1761852600,"gmtoffset":3600}},"dataGranularity":"1d","range":"5d","validRanges":["1d","5d","1mo","3mo","6mo","1y","2y","5y","10y","ytd","max"]},"timestamp":[1761202800,1761289200,1761552000,1761638400,1761755744],"indicators":{"quote":[{"close":[19.738000869750977,20.170000076293945,20.399999618530273,20.079999923706055,19.947999954223633],"low":[19.299999237060547,20.0,20.170000076293945,19.93000030517578,19.785999298095703],"volume":[4549,11698,32659,28989,9179],"open":[19.579999923706055,20.389999389648438,21.639999389648438,20.1200008392334,20.1299991607666],"high":[19.799999237060547,20.524999618530273,21.684999465942383,20.2450008392334,20.149999618530273]}],"adjclose":[{"adjclose":[19.738000869750977,20.170000076293945,20.399999618530273,20.079999923706055,19.947999954223633]}]}}],"error":null}}"#;

    #[test]
    fn gs2c_sample_drops_the_live_bar_and_dates_in_berlin() {
        let chart = parse_chart(GS2C, true, chrono_tz::UTC).unwrap();
        let dates: Vec<NaiveDate> = chart.bars.iter().map(|bar| bar.date).collect();
        // 1761202800 = 2025-10-23 07:00 UTC = 09:00 CEST; 1761552000 = 2025-10-27 08:00 UTC = 09:00 CET
        // (after the 26 October change). The fifth stamp, 1761755744, equals regularMarketTime: live.
        assert_eq!(dates, vec![date("2025-10-23"), date("2025-10-24"), date("2025-10-27"), date("2025-10-28")]);
        assert_eq!(chart.bars[3].close, 20.079999923706055);
        assert_eq!(chart.bars[3].volume, Some(28989.0));
        // firstTradeDate 1198742400 = 2007-12-27 08:00 UTC = 09:00 in Berlin.
        assert_eq!(chart.first_trade_date, Some(date("2007-12-27")));
    }

    fn chart(meta: &str, timestamps: &str, closes: &str) -> String {
        format!(
            r#"{{"chart":{{"result":[{{"meta":{{{meta}}},"timestamp":[{timestamps}],"indicators":{{"quote":[{{"close":[{closes}]}}],"adjclose":[{{"adjclose":[{closes}]}}]}}}}],"error":null}}}}"#
        )
    }

    #[test]
    fn drops_the_last_bar_while_its_session_is_open() {
        // New York, 2023-02-14: session 09:30-16:00 EST = 14:30-21:00 UTC = 1676385000..1676408400.
        // The last trade at 11:00 EST (1676390400) is inside it, and the last bar is stamped
        // with the open, so rule 2 applies.
        let meta = r#""exchangeTimezoneName":"America/New_York","regularMarketTime":1676390400,"currentTradingPeriod":{"regular":{"start":1676385000,"end":1676408400}}"#;
        let open = chart(meta, "1676298600,1676385000", "271.32,272.17");
        assert_eq!(parse_chart(&open, true, chrono_tz::UTC).unwrap().bars.len(), 1);
        // After the close the latest trade is at 16:00 (the session end): the bar is complete.
        let closed_meta = meta.replace("1676390400", "1676408400");
        let closed = chart(&closed_meta, "1676298600,1676385000", "271.32,272.17");
        let bars = parse_chart(&closed, true, chrono_tz::UTC).unwrap().bars;
        assert_eq!(bars.iter().map(|bar| bar.date).collect::<Vec<_>>(), vec![date("2023-02-13"), date("2023-02-14")]);
    }

    #[rstest]
    // 09:30 in Shanghai on 2023-02-14 = 01:30 UTC = 1676338200; in New York it is still the 13th.
    #[case("\"exchangeTimezoneName\":\"Asia/Shanghai\"", 1_676_338_200, "2023-02-14")]
    // 09:30 in New York on 2023-02-14 (EST) = 14:30 UTC = 1676385000.
    #[case("\"exchangeTimezoneName\":\"America/New_York\"", 1_676_385_000, "2023-02-14")]
    // 10:00 in Sydney on 2023-02-14 (AEDT, +11) = 23:00 UTC on the 13th = 1676329200.
    #[case("\"exchangeTimezoneName\":\"Australia/Sydney\"", 1_676_329_200, "2023-02-14")]
    // No zone name: gmtoffset +11 h gives the same local date.
    #[case("\"gmtoffset\":39600", 1_676_329_200, "2023-02-14")]
    // No zone at all: the market's zone passed in (New York here) decides, 18:00 on the 13th.
    #[case("\"symbol\":\"X\"", 1_676_329_200, "2023-02-13")]
    fn converts_session_opens_to_local_dates(#[case] meta: &str, #[case] timestamp: i64, #[case] expected: &str) {
        let body = chart(meta, &timestamp.to_string(), "10.0");
        let bars = parse_chart(&body, true, chrono_tz::America::New_York).unwrap().bars;
        assert_eq!(bars.iter().map(|bar| bar.date).collect::<Vec<_>>(), vec![date(expected)]);
    }

    #[test]
    fn drops_null_rows_and_uses_close_for_indices() {
        let body = r#"{"chart":{"result":[{"meta":{"exchangeTimezoneName":"Asia/Shanghai"},"timestamp":[1510709400,1510795800],"indicators":{"quote":[{"low":[null,6.489999771118164],"volume":[null,34039227],"close":[null,6.510000228881836],"open":[null,6.5],"high":[null,6.6]}],"adjclose":[{"adjclose":[null,6.2]}]}}],"error":null}}"#;
        let share = parse_chart(body, true, chrono_tz::UTC).unwrap().bars;
        // 1510795800 = 2017-11-16 01:30 UTC = 09:30 in Shanghai.
        assert_eq!(share.len(), 1);
        assert_eq!(
            (share[0].date, share[0].close, share[0].adj_close, share[0].volume),
            (date("2017-11-16"), 6.510000228881836, 6.2, Some(34_039_227.0))
        );
        let index = parse_chart(body, false, chrono_tz::UTC).unwrap().bars;
        assert_eq!((index[0].adj_close, index[0].volume), (6.510000228881836, None));
    }

    #[rstest]
    #[case(
        r#"{"chart":{"result":null,"error":{"code":"Not Found","description":"No data found, symbol may be delisted"}}}"#,
        ProviderErrorKind::NotFound,
        "No data found, symbol may be delisted"
    )]
    #[case(r#"{"chart":{"result":[],"error":null}}"#, ProviderErrorKind::NotFound, "no result")]
    #[case(r#"{"chart":{"result":[{"meta":{},"timestamp":[1,2],"indicators":{"quote":[{"close":[1.0]}],"adjclose":[{"adjclose":[1.0,2.0]}]}}]}}"#, ProviderErrorKind::Malformed, "1 values for 2 timestamps")]
    #[case(
        r#"{"chart":{"result":[{"meta":{},"timestamp":[1],"indicators":{"quote":[{"close":[1.0]}]}}]}}"#,
        ProviderErrorKind::Malformed,
        "no `adjclose`"
    )]
    #[case(
        r#"{"chart":{"result":[{"meta":{},"timestamp":[1],"indicators":{"quote":[{"close":["x"]}]}}]}}"#,
        ProviderErrorKind::Malformed,
        "unparseable JSON"
    )]
    #[case(r#"{"chart":{"result":[{"meta":{},"timest"#, ProviderErrorKind::Malformed, "EOF")]
    #[case("Too Many Requests", ProviderErrorKind::Blocked, "`Too Many Requests`")]
    #[case("Not JSON at all", ProviderErrorKind::Malformed, "unparseable JSON")]
    #[case("", ProviderErrorKind::Blocked, "empty body")]
    fn classifies_bad_bodies(#[case] body: &str, #[case] kind: ProviderErrorKind, #[case] says: &str) {
        let failure = parse_chart(body, true, chrono_tz::UTC).unwrap_err();
        assert_eq!(failure.kind, kind);
        assert!(failure.message.contains(says), "{}", failure.message);
    }

    #[test]
    fn no_timestamps_is_an_empty_chart() {
        let body = r#"{"chart":{"result":[{"meta":{"exchangeTimezoneName":"America/New_York"},"indicators":{"quote":[{}],"adjclose":[{}]}}],"error":null}}"#;
        assert_eq!(parse_chart(body, true, chrono_tz::UTC).unwrap().bars, vec![]);
    }
}
