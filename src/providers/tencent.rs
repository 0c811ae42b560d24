//! Tencent (腾讯证券) daily K-lines, the `appstock/app/*kline` family.
//!
//! Endpoints, under `[providers.tencent] base_url` (default `https://web.ifzq.gtimg.cn`;
//! `https://proxy.finance.qq.com/ifzqgtimg` serves the same paths):
//! - `/appstock/app/fqkline/get?param=sh600941,day,START,END,640,FQ` — Shanghai and Shenzhen
//!   shares (`sh…`, `sz…`) and SSE/SZSE indices (`sh000300`);
//! - `/appstock/app/hkfqkline/get?param=hk00700,…` — Hong Kong, five-digit codes;
//! - `/appstock/app/usfqkline/get?param=usMSFT.OQ,…` — US, with the exchange suffix `.OQ`
//!   (NASDAQ), `.N` (NYSE) or `.AM` (NYSE American/Arca): a small table knows the seed's
//!   names, others are probed in that order and the answer is remembered for the process;
//! - indices of Hong Kong and the US on the same two endpoints under Tencent's index codes:
//!   `hkfqkline/get?param=hkHSI,…` answers `data.hkHSI.day` (public clients use it for the
//!   Hang Seng's daily history), `usfqkline/get?param=usINX,…` (S&P 500), `usIXIC` (NASDAQ
//!   Composite), `usDJI` (Dow Jones), answering `data.usINX.day`. Index rows have no share
//!   volume (the `hkHSI` column holds the turnover in HKD), so it is dropped;
//! - `/appstock/app/kline/kline?param=whUSDCNY,day,START,END,640` — FX (no adjustment field).
//!   Public clients call it with empty dates (`whUSDCNY,day,,,320`, the latest bars); dates are
//!   sent here as for the other endpoints so long ranges page the same way. Whether the FX
//!   endpoint honours them is unverified: if it ignores them, each window still keeps only its
//!   own dates, so the result is right whenever the range fits in the latest 640 bars.
//!
//! `FQ` is empty for prices as traded and `hfq` for the back-adjusted series; the
//! forward-adjusted `qfq` is never requested (it rewrites history and can go negative).
//! Indices and FX are fetched once, unadjusted.
//!
//! Response: `{"code":0,"msg":"","data":{"sh600941":{"day":[[…],…],"qt":…,"prec":…}}}`,
//! sometimes behind a `name=` prefix (stripped up to the first `=`). The series key is
//! `day`, `hfqday` or `qfqday` depending on the endpoint and instrument, so all three are
//! probed and a key that does not match the request is refused rather than mislabelled.
//! Rows are `[date, open, close, high, low, volume, …]` as strings — close comes second,
//! not fourth — and Hong Kong rows may carry a trailing dividend/buy-back object, ignored.
//! Volume is in lots (手) for Shanghai and Shenzhen shares and indices (×100 here) and in
//! shares for Hong Kong and US. `data: {}` means an unknown symbol; an empty body is the
//! soft throttle.
//!
//! Paging: one request returns at most 640 bars, so a range is fetched in two-year windows
//! (≤ 522 weekdays each). A window that still comes back full is split around the dates it
//! covered and the remainder is fetched again, whichever end Tencent chose to keep.

use std::collections::VecDeque;

use chrono::{Months, NaiveDate};
use serde::Deserialize;
use serde_json::Value;

use super::http::Endpoint;
use super::us::{self, ProbedExchanges, UsExchange};
use super::{Adjustment, Failure, FetchRequest, Fetched, VolumeUnit, check_body, json_error, parse_date, parse_number, raw_then_adjusted};
use crate::prices::Bar;
use crate::symbol::{Market, Symbol};

pub const REFERER: &str = "https://gu.qq.com/";

/// The most bars Tencent returns for one request.
pub const PAGE_LIMIT: usize = 640;

/// The span of one request window, in months: two years of weekdays stay under [`PAGE_LIMIT`].
const WINDOW_MONTHS: u32 = 24;

/// A guard against a server that keeps answering full pages: no real range needs this many.
const MAX_PAGES: usize = 200;

/// Tencent's suffix for a US exchange.
fn us_suffix(exchange: UsExchange) -> &'static str {
    match exchange {
        UsExchange::Nasdaq => ".OQ",
        UsExchange::Nyse => ".N",
        UsExchange::NyseAmerican => ".AM",
    }
}

/// Tencent's code of a US ticker on `exchange`; class shares are written with a dot
/// (`BRK.B`), unverified against the live API.
fn us_code(ticker: &str, exchange: UsExchange) -> String {
    format!("us{}{}", ticker.replace('-', "."), us_suffix(exchange))
}

pub struct Tencent {
    endpoint: Endpoint,
    /// US exchanges found by probing.
    us_exchanges: ProbedExchanges,
}

/// Which series a response carried, by its key in Tencent's JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
pub enum SeriesKey {
    #[strum(serialize = "day")]
    Day,
    #[strum(serialize = "hfqday")]
    Hfq,
    #[strum(serialize = "qfqday")]
    Qfq,
}

impl SeriesKey {
    const ALL: [SeriesKey; 3] = [SeriesKey::Hfq, SeriesKey::Day, SeriesKey::Qfq];

    fn as_str(self) -> &'static str {
        self.into()
    }

    fn wanted(adjustment: Adjustment) -> SeriesKey {
        match adjustment {
            Adjustment::Raw => SeriesKey::Day,
            Adjustment::Hfq => SeriesKey::Hfq,
        }
    }
}

/// One parsed response.
#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    pub key: SeriesKey,
    /// Bars with a close, volume in shares, `adj_close` equal to `close`.
    pub bars: Vec<Bar>,
    /// Rows in the response, including any dropped for a missing close.
    pub rows: usize,
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    code: Value,
    #[serde(default)]
    msg: Value,
    #[serde(default)]
    data: Value,
}

/// Parses a K-line response for `code` (`sh600941`). Prefers the `wanted` series and
/// otherwise returns whichever of `hfqday`, `day`, `qfqday` is there, for the caller to
/// judge. `data: {}`, a non-zero `code` or no series at all is `NotFound`.
pub fn parse_kline(body: &str, code: &str, wanted: SeriesKey, unit: VolumeUnit) -> Result<Page, Failure> {
    let text = check_body(body)?;
    let json = if text.starts_with('{') {
        text
    } else {
        // `kline_dayhfq={…}` when a `_var` name was asked for.
        match text.split_once('=') {
            Some((_, rest)) => rest.trim().trim_end_matches(';').trim_end(),
            None => return Err(Failure::malformed(format!("neither JSON nor `name=JSON`; body starts {}", super::describe_body(text)))),
        }
    };
    let envelope: Envelope = serde_json::from_str(json).map_err(|e| json_error(&e, text))?;
    let status = match &envelope.code {
        Value::Null => 0,
        Value::Number(number) => number.as_i64().unwrap_or(-1),
        Value::String(text) => text.trim().parse().unwrap_or(-1),
        _ => -1,
    };
    if status != 0 {
        return Err(Failure::not_found(format!("Tencent answered code {} ({})", envelope.code, envelope.msg)));
    }
    let entry = match &envelope.data {
        Value::Object(map) if map.is_empty() => return Err(Failure::not_found(format!("no data for `{code}` (`data` is empty)"))),
        Value::Object(map) => match map.get(code) {
            Some(entry) => entry,
            // Tencent sometimes spells the key differently from the request (case, suffix).
            None if map.len() == 1 => map.values().next().unwrap_or(&Value::Null),
            None => return Err(Failure::not_found(format!("no data for `{code}` in the response"))),
        },
        Value::Null | Value::Array(_) => return Err(Failure::not_found(format!("no data for `{code}` (`data` is {})", envelope.data))),
        other => return Err(Failure::malformed(format!("`data` is {}, expected an object", super::excerpt(&other.to_string(), 40)))),
    };
    let Value::Object(entry) = entry else {
        return Err(Failure::not_found(format!("no data for `{code}` (entry is {})", super::excerpt(&entry.to_string(), 40))));
    };
    let key = std::iter::once(wanted).chain(SeriesKey::ALL).find(|key| entry.contains_key(key.as_str()));
    let Some(key) = key else {
        return Err(Failure::not_found(format!("no `day`, `hfqday` or `qfqday` series for `{code}`")));
    };
    let rows = match &entry[key.as_str()] {
        Value::Array(rows) => rows.as_slice(),
        Value::Null => &[],
        other => {
            return Err(Failure::malformed(format!("`{}` is {}, expected an array", key.as_str(), super::excerpt(&other.to_string(), 40))));
        }
    };
    let mut bars = Vec::with_capacity(rows.len());
    for (index, row) in rows.iter().enumerate() {
        if let Some(bar) =
            parse_row(row, unit).map_err(|reason| Failure::malformed(format!("`{}` row {}: {reason}", key.as_str(), index + 1)))?
        {
            bars.push(bar);
        }
    }
    Ok(Page { key, bars, rows: rows.len() })
}

/// `[date, open, close, high, low, volume, …]`; `None` when the close is missing.
fn parse_row(row: &Value, unit: VolumeUnit) -> Result<Option<Bar>, String> {
    let Value::Array(cells) = row else {
        return Err(format!("expected an array, got {}", super::excerpt(&row.to_string(), 40)));
    };
    if cells.len() < 5 {
        return Err(format!("{} fields, expected date, open, close, high, low[, volume]", cells.len()));
    }
    let date = match &cells[0] {
        Value::String(text) => parse_date(text)?,
        other => return Err(format!("date is {other}")),
    };
    let number = |index: usize| -> Result<Option<f64>, String> {
        match cells.get(index) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => parse_number(text),
            Some(Value::Number(number)) => Ok(number.as_f64().filter(|value| value.is_finite())),
            Some(other) => Err(format!("field {} is {}", index + 1, super::excerpt(&other.to_string(), 40))),
        }
    };
    let (open, close, high, low, volume) = (number(1)?, number(2)?, number(3)?, number(4)?, number(5)?);
    Ok(close.map(|close| Bar { date, open, high, low, close, volume: unit.to_shares(volume), adj_close: close }))
}

/// The API path serving a market.
pub fn api_path(market: Market) -> &'static str {
    match market {
        Market::Sh | Market::Sz => "/appstock/app/fqkline/get",
        Market::Hk => "/appstock/app/hkfqkline/get",
        Market::Us => "/appstock/app/usfqkline/get",
        Market::Fx => "/appstock/app/kline/kline",
    }
}

/// Tencent's spellings of a symbol, in the order to try them: one, except for US tickers
/// not in the table, which get one per exchange suffix. Hong Kong and US indices are
/// Tencent's own index codes (`hkHSI`, `usINX`, `usIXIC`, `usDJI`), kept in
/// [`crate::symbol::GLOBAL_INDICES`].
pub fn tencent_codes(symbol: &Symbol) -> Vec<String> {
    if let Some(index) = symbol.global_index() {
        return vec![index.tencent.to_string()];
    }
    let code = symbol.code();
    match symbol.market() {
        Market::Sh => vec![format!("sh{code}")],
        Market::Sz => vec![format!("sz{code}")],
        Market::Hk => vec![format!("hk{code:0>5}")],
        Market::Fx => vec![format!("wh{code}")],
        Market::Us => us::candidates(code).into_iter().map(|exchange| us_code(code, exchange)).collect(),
    }
}

/// The `param` query value: `code,day,START,END,640,FQ` (no `FQ` field for FX).
pub fn param(code: &str, market: Market, start: NaiveDate, end: NaiveDate, adjustment: Adjustment) -> String {
    let base = format!("{code},day,{start},{end},{PAGE_LIMIT}");
    match (market, adjustment) {
        (Market::Fx, _) => base,
        (_, Adjustment::Raw) => format!("{base},"),
        (_, Adjustment::Hfq) => format!("{base},hfq"),
    }
}

/// Splits `[from, to]` into consecutive windows of [`WINDOW_MONTHS`], oldest first.
pub fn windows(from: NaiveDate, to: NaiveDate) -> Vec<(NaiveDate, NaiveDate)> {
    let mut windows = Vec::new();
    let mut start = from;
    while start <= to {
        let next = start.checked_add_months(Months::new(WINDOW_MONTHS)).unwrap_or(NaiveDate::MAX);
        let end = next.pred_opt().unwrap_or(next).min(to);
        windows.push((start, end));
        match end.succ_opt() {
            Some(following) => start = following,
            None => break,
        }
    }
    windows
}

impl Tencent {
    pub fn new(endpoint: Endpoint) -> Tencent {
        Tencent { endpoint, us_exchanges: ProbedExchanges::default() }
    }

    pub async fn fetch(&self, request: &FetchRequest) -> Result<Fetched, Failure> {
        let market = request.symbol.market();
        let unit = VolumeUnit::chinese_vendor(&request.symbol);
        raw_then_adjusted(request, self.endpoint.provider, self.fetch_raw(request, unit), |code| async move {
            self.fetch_series(&code, market, Adjustment::Hfq, request.from, request.to, unit).await
        })
        .await
    }

    /// Fetches the unadjusted series, probing US suffixes when the ticker is not known yet.
    /// Returns the code that answered.
    async fn fetch_raw(&self, request: &FetchRequest, unit: VolumeUnit) -> Result<(String, Vec<Bar>), Failure> {
        let symbol = &request.symbol;
        // Each code with the US exchange it stands for, when it stands for one.
        let candidates = self.us_exchanges.codes_to_try(symbol, us_code, || Ok::<_, Failure>(tencent_codes(symbol)))?;
        let probed = candidates.len() > 1;
        let mut empty_answer = None;
        let mut not_found = Vec::new();
        for (code, exchange) in &candidates {
            match self.fetch_series(code, symbol.market(), Adjustment::Raw, request.from, request.to, unit).await {
                Ok(bars) if !bars.is_empty() => {
                    if let Some(exchange) = exchange {
                        self.us_exchanges.remember(symbol.code(), *exchange, probed);
                    }
                    return Ok((code.clone(), bars));
                }
                // A known code with no bars in the range (a weekend, a holiday).
                Ok(_) => {
                    empty_answer.get_or_insert_with(|| code.clone());
                }
                Err(failure) if failure.kind == super::ProviderErrorKind::NotFound => not_found.push(failure.message),
                Err(failure) => return Err(failure),
            }
        }
        match empty_answer {
            Some(code) => Ok((code, Vec::new())),
            None => Err(Failure::not_found(not_found.join("; "))),
        }
    }

    /// Fetches one series over `[from, to]` window by window. `NotFound` only when no window
    /// had any bars and at least one said the symbol is unknown.
    async fn fetch_series(
        &self,
        code: &str,
        market: Market,
        adjustment: Adjustment,
        from: NaiveDate,
        to: NaiveDate,
        unit: VolumeUnit,
    ) -> Result<Vec<Bar>, Failure> {
        let wanted = SeriesKey::wanted(adjustment);
        let mut queue: VecDeque<(NaiveDate, NaiveDate)> = windows(from, to).into();
        let mut bars = Vec::new();
        let mut not_found = None;
        let mut pages = 0;
        while let Some((start, end)) = queue.pop_front() {
            pages += 1;
            if pages > MAX_PAGES {
                return Err(Failure::malformed(format!(
                    "more than {MAX_PAGES} full pages for {from}..{to}; the server ignores the date window"
                )));
            }
            let response = self.endpoint.get(api_path(market), &[("param", param(code, market, start, end, adjustment))]).await?;
            let page = match parse_kline(&response.body, code, wanted, unit) {
                Ok(page) => page,
                Err(failure) if failure.kind == super::ProviderErrorKind::NotFound => {
                    not_found = Some(failure);
                    continue;
                }
                Err(failure) => return Err(failure),
            };
            if page.key != wanted && page.rows > 0 {
                return Err(Failure::malformed(format!(
                    "asked for `{}` ({}), got `{}`; refusing to label it otherwise",
                    wanted.as_str(),
                    match adjustment {
                        Adjustment::Raw => "prices as traded",
                        Adjustment::Hfq => "back-adjusted",
                    },
                    page.key.as_str()
                )));
            }
            let in_window: Vec<Bar> = page.bars.into_iter().filter(|bar| bar.date >= start && bar.date <= end).collect();
            if page.rows >= PAGE_LIMIT
                && let (Some(first), Some(last)) = (in_window.iter().map(|b| b.date).min(), in_window.iter().map(|b| b.date).max())
            {
                // A full page may have cut either end of the window: fetch what it did not cover.
                if first > start {
                    queue.push_back((start, first.pred_opt().unwrap_or(first)));
                }
                if last < end {
                    queue.push_back((last.succ_opt().unwrap_or(last), end));
                }
            }
            bars.extend(in_window);
        }
        match not_found {
            Some(failure) if bars.is_empty() => Err(failure),
            _ => Ok(bars),
        }
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
    #[case("600941.SH", &["sh600941"], "/appstock/app/fqkline/get")]
    #[case("000300.SH", &["sh000300"], "/appstock/app/fqkline/get")]
    #[case("300308.SZ", &["sz300308"], "/appstock/app/fqkline/get")]
    #[case("0700.HK", &["hk00700"], "/appstock/app/hkfqkline/get")]
    #[case("9988.HK", &["hk09988"], "/appstock/app/hkfqkline/get")]
    #[case("MSFT.US", &["usMSFT.OQ"], "/appstock/app/usfqkline/get")]
    #[case("BABA.US", &["usBABA.N"], "/appstock/app/usfqkline/get")]
    #[case("NTES.US", &["usNTES.OQ"], "/appstock/app/usfqkline/get")]
    #[case("AAPL.US", &["usAAPL.OQ", "usAAPL.N", "usAAPL.AM"], "/appstock/app/usfqkline/get")]
    #[case("BRK-B.US", &["usBRK.B.OQ", "usBRK.B.N", "usBRK.B.AM"], "/appstock/app/usfqkline/get")]
    #[case("USDCNY.FX", &["whUSDCNY"], "/appstock/app/kline/kline")]
    #[case("HKDCNY.FX", &["whHKDCNY"], "/appstock/app/kline/kline")]
    #[case("^HSI.HK", &["hkHSI"], "/appstock/app/hkfqkline/get")]
    #[case("^GSPC.US", &["usINX"], "/appstock/app/usfqkline/get")]
    #[case("^IXIC.US", &["usIXIC"], "/appstock/app/usfqkline/get")]
    #[case("^DJI.US", &["usDJI"], "/appstock/app/usfqkline/get")]
    fn maps_symbols(#[case] symbol: &str, #[case] codes: &[&str], #[case] path: &str) {
        let symbol = Symbol::parse(symbol).unwrap();
        assert_eq!(tencent_codes(&symbol), codes);
        assert_eq!(api_path(symbol.market()), path);
    }

    #[rstest]
    #[case("sh600941", Market::Sh, Adjustment::Raw, "sh600941,day,2023-01-01,2023-12-31,640,")]
    #[case("sh600941", Market::Sh, Adjustment::Hfq, "sh600941,day,2023-01-01,2023-12-31,640,hfq")]
    #[case("whUSDCNY", Market::Fx, Adjustment::Raw, "whUSDCNY,day,2023-01-01,2023-12-31,640")]
    fn builds_param(#[case] code: &str, #[case] market: Market, #[case] adjustment: Adjustment, #[case] expected: &str) {
        assert_eq!(param(code, market, date("2023-01-01"), date("2023-12-31"), adjustment), expected);
    }

    #[test]
    fn windows_cover_the_range_in_two_year_steps() {
        assert_eq!(
            windows(date("2019-03-15"), date("2023-06-30")),
            vec![
                (date("2019-03-15"), date("2021-03-14")),
                (date("2021-03-15"), date("2023-03-14")),
                (date("2023-03-15"), date("2023-06-30")),
            ]
        );
        assert_eq!(windows(date("2023-02-14"), date("2023-02-14")), vec![(date("2023-02-14"), date("2023-02-14"))]);
        assert_eq!(windows(date("2023-02-15"), date("2023-02-14")), vec![]);
    }

    const CSI300: &str = r#"{"code":0,"msg":"","data":{"sh000300":{"day":[["2026-09-28","4423.820","4340.760","4423.820","4323.570","171277373.000"],["2026-09-29","4335.810","4345.210","4359.300","4324.530","148129466.000"]],"qt":{"sh000300":["1"]},"prec":"4544.590","version":"16"}}}"#;

    #[test]
    fn parses_rows_in_date_open_close_high_low_order() {
        let page = parse_kline(CSI300, "sh000300", SeriesKey::Day, VolumeUnit::Lots).unwrap();
        assert_eq!(page.key, SeriesKey::Day);
        assert_eq!(page.rows, 2);
        // Close is the third field (4340.76), high the fourth; 171277373 lots = 17127737300 shares.
        assert_eq!(
            page.bars[0],
            Bar {
                date: date("2026-09-28"),
                open: Some(4423.82),
                high: Some(4423.82),
                low: Some(4323.57),
                close: 4340.76,
                volume: Some(17_127_737_300.0),
                adj_close: 4340.76,
            }
        );
    }

    #[test]
    fn strips_a_name_prefix() {
        let body = format!("kline_dayhfq={CSI300};");
        assert_eq!(parse_kline(&body, "sh000300", SeriesKey::Day, VolumeUnit::Lots).unwrap().bars.len(), 2);
    }

    #[test]
    fn ignores_trailing_objects_on_hong_kong_rows() {
        let body = r#"{"code":0,"msg":"","data":{"hk00700":{"hfqday":[["2026-09-10","430.000","425.600","430.800","425.000","22333165.000",{"cqr":"2026-09-10","FHcontent":"","HGcontent":"回购23.50万股"}]],"prec":"434.000"}}}"#;
        let page = parse_kline(body, "hk00700", SeriesKey::Hfq, VolumeUnit::Shares).unwrap();
        assert_eq!(page.key, SeriesKey::Hfq);
        assert_eq!((page.bars[0].close, page.bars[0].volume), (425.6, Some(22_333_165.0)));
    }

    #[test]
    fn reports_the_key_it_found() {
        let body = r#"{"code":0,"data":{"sz300750":{"qfqday":[["2026-09-09","332.480","336.840","337.660","327.100","390240.000"]]}}}"#;
        assert_eq!(parse_kline(body, "sz300750", SeriesKey::Hfq, VolumeUnit::Lots).unwrap().key, SeriesKey::Qfq);
    }

    #[rstest]
    #[case(r#"{"code":0,"msg":"","data":{}}"#, ProviderErrorKind::NotFound)]
    #[case(r#"{"code":0,"msg":"","data":[]}"#, ProviderErrorKind::NotFound)]
    #[case(r#"{"code":-1,"msg":"param error","data":{}}"#, ProviderErrorKind::NotFound)]
    #[case(r#"{"code":0,"data":{"sh600941":{"qt":{}}}}"#, ProviderErrorKind::NotFound)]
    #[case(r#"{"code":0,"data":{"sh600941":{"day":[["2026-09-28","1.0"]]}}}"#, ProviderErrorKind::Malformed)]
    #[case(r#"{"code":0,"data":{"sh600941":{"day":[["2026-09-28","1.0","x","1","1","1"]]}}}"#, ProviderErrorKind::Malformed)]
    #[case(r#"{"code":0,"data":{"sh600941":{"day":[["28/09/2026","1","1","1","1","1"]]}}}"#, ProviderErrorKind::Malformed)]
    #[case(r#"{"code":0,"data":{"sh600941":{"day":[["2026-09-28","1.0""#, ProviderErrorKind::Malformed)]
    #[case("", ProviderErrorKind::Blocked)]
    #[case("<html><title>Forbidden</title></html>", ProviderErrorKind::Blocked)]
    fn classifies_bad_bodies(#[case] body: &str, #[case] kind: ProviderErrorKind) {
        assert_eq!(parse_kline(body, "sh600941", SeriesKey::Day, VolumeUnit::Lots).unwrap_err().kind, kind);
    }

    #[test]
    fn drops_rows_without_a_close_and_keeps_empty_series() {
        let body = r#"{"code":0,"data":{"sh600941":{"day":[["2026-09-28","1.0","","1.2","0.9","10"],["2026-09-29","1.0","1.1","1.2","0.9","10"]]}}}"#;
        let page = parse_kline(body, "sh600941", SeriesKey::Day, VolumeUnit::Lots).unwrap();
        assert_eq!((page.rows, page.bars.len(), page.bars[0].date), (2, 1, date("2026-09-29")));
        let empty = r#"{"code":0,"data":{"sh600941":{"day":[]}}}"#;
        assert_eq!(parse_kline(empty, "sh600941", SeriesKey::Day, VolumeUnit::Lots).unwrap().bars, vec![]);
    }
}
