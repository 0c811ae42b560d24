//! Eastmoney (东方财富) daily K-lines from `push2his`.
//!
//! Endpoint, under `[providers.eastmoney] base_url` (default `https://push2his.eastmoney.com`):
//! `/api/qt/stock/kline/get?secid=1.600941&fields1=f1,…,f6&fields2=f51,…,f61&klt=101&fqt=0|2
//! &beg=YYYYMMDD&end=YYYYMMDD&lmt=1000000&ut=…`, with `Referer: https://quote.eastmoney.com/`.
//! `fqt=0` gives prices as traded, `fqt=2` the back-adjusted (hfq) series; `fqt=1` (qfq) is
//! never requested. Indices and FX are fetched once with `fqt=0`. One request covers any range.
//!
//! `secid` is `<market>.<code>`: `1.` Shanghai (shares and SSE indices such as `1.000300`),
//! `0.` Shenzhen, `116.` Hong Kong (five digits), and for US `105.` NASDAQ, `106.` NYSE,
//! `107.` other US venues — no rule derives it from a ticker, so the seed's names are in a
//! table and any other ticker is probed 105 → 106 → 107 until `data` is not null (remembered
//! for the process). Class shares use an underscore (`106.BRK_B`).
//!
//! Hong Kong and US indices are under `100.` (global indices): `100.HSI` (Hang Seng),
//! `100.SPX` (S&P 500), `100.NDX` (NASDAQ Composite — Eastmoney's NASDAQ-100 is `100.NDX100`),
//! `100.DJIA` (Dow Jones); their volume column is not a share count and is dropped.
//!
//! FX: `USDCNY` and `HKDCNY` map to `120.USDCNYC` / `120.HKDCNYC`, the PBOC central-parity
//! fixing (中间价) — a different rate type from Yahoo's market close (`CNY=X`), chosen because
//! it is the official onshore CNY rate; `…CNH` pairs map to the offshore `133.` quotes. Other
//! pairs are unsupported.
//!
//! Response: `{"rc":0,…,"data":{"code":…,"market":…,"klines":["date,open,close,high,low,
//! volume,amount,amplitude,change%,change,turnover%",…]}}` — close is the THIRD column.
//! Volume (f56) is in lots (手) for Shanghai and Shenzhen shares and indices (×100 here) and
//! in shares for Hong Kong and US. A cell of `-` is a missing value; a row without a close is
//! dropped. A JSONP wrapper `jQuery…({…});` is stripped. `rc≠0` or `data:null` means an
//! unknown secid; `klines: []` is an empty range (or, under throttling, an empty answer —
//! indistinguishable here, so it is returned as an empty series; sync, which knows the stored
//! sessions, treats an empty answer for a window holding sessions as a failure).

use chrono::NaiveDate;
use serde::Deserialize;

use super::http::Endpoint;
use super::us::{self, ProbedExchanges, UsExchange};
use super::{
    Adjustment, Failure, FetchRequest, Fetched, ProviderErrorKind, VolumeUnit, check_body, describe_body, excerpt, json_error, parse_date,
    parse_number, raw_then_adjusted,
};
use crate::prices::Bar;
use crate::symbol::{Market, Symbol};

pub const REFERER: &str = "https://quote.eastmoney.com/";

const PATH: &str = "/api/qt/stock/kline/get";

/// The static token Eastmoney's own quote pages send; results do not depend on it.
const UT: &str = "fa5fd1943c7b386f172d6893dbfba10b";

/// Eastmoney's secid of a US ticker on `exchange`: the market prefix, then the ticker with
/// `_` for a class share's dash.
fn us_secid(ticker: &str, exchange: UsExchange) -> String {
    let prefix = match exchange {
        UsExchange::Nasdaq => "105",
        UsExchange::Nyse => "106",
        UsExchange::NyseAmerican => "107",
    };
    format!("{prefix}.{}", ticker.replace('-', "_"))
}

pub struct Eastmoney {
    endpoint: Endpoint,
    /// US exchanges found by probing.
    us_exchanges: ProbedExchanges,
}

/// Eastmoney's `secid`s for a symbol, in the order to try them, or `Unsupported`.
pub fn secids(symbol: &Symbol) -> Result<Vec<String>, Failure> {
    // Hong Kong and US indices are all under the global-index market `100`.
    if let Some(index) = symbol.global_index() {
        return Ok(vec![format!("100.{}", index.eastmoney)]);
    }
    let code = symbol.code();
    Ok(match symbol.market() {
        Market::Sh => vec![format!("1.{code}")],
        Market::Sz => vec![format!("0.{code}")],
        Market::Hk => vec![format!("116.{code:0>5}")],
        Market::Us => us::candidates(code).into_iter().map(|exchange| us_secid(code, exchange)).collect(),
        Market::Fx if code.ends_with("CNY") => vec![format!("120.{code}C")],
        Market::Fx if code.ends_with("CNH") => vec![format!("133.{code}")],
        Market::Fx => {
            return Err(Failure::unsupported(format!("Eastmoney has no daily history for {code}; it serves pairs into CNY or CNH")));
        }
    })
}

/// The query for one secid over `[from, to]`.
pub fn query(secid: &str, adjustment: Adjustment, from: NaiveDate, to: NaiveDate) -> Vec<(&'static str, String)> {
    let fqt = match adjustment {
        Adjustment::Raw => "0",
        Adjustment::Hfq => "2",
    };
    vec![
        ("secid", secid.to_string()),
        ("fields1", "f1,f2,f3,f4,f5,f6".to_string()),
        ("fields2", "f51,f52,f53,f54,f55,f56,f57,f58,f59,f60,f61".to_string()),
        ("klt", "101".to_string()),
        ("fqt", fqt.to_string()),
        ("beg", from.format("%Y%m%d").to_string()),
        ("end", to.format("%Y%m%d").to_string()),
        ("lmt", "1000000".to_string()),
        ("ut", UT.to_string()),
    ]
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    rc: Option<i64>,
    #[serde(default)]
    data: Option<Data>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(default)]
    klines: Option<Vec<String>>,
}

/// Parses a K-line response into bars (volume converted with `unit`, `adj_close` equal to
/// `close`). `rc≠0` or `data: null` is `NotFound`; `klines: []` is an empty series.
pub fn parse_klines(body: &str, unit: VolumeUnit) -> Result<Vec<Bar>, Failure> {
    let text = check_body(body)?;
    let json = strip_jsonp(text)?;
    let envelope: Envelope = serde_json::from_str(json).map_err(|e| json_error(&e, text))?;
    let rc = envelope.rc.unwrap_or(0);
    if rc != 0 {
        return Err(Failure::not_found(format!("unknown secid (rc={rc})")));
    }
    let Some(data) = envelope.data else {
        return Err(Failure::not_found("unknown secid (`data` is null)"));
    };
    let rows = data.klines.unwrap_or_default();
    let mut bars = Vec::with_capacity(rows.len());
    for (index, row) in rows.iter().enumerate() {
        if let Some(bar) = parse_row(row, unit).map_err(|reason| Failure::malformed(format!("kline {}: {reason}", index + 1)))? {
            bars.push(bar);
        }
    }
    Ok(bars)
}

/// `jQuery123_456({…});` → `{…}`; plain JSON passes through.
fn strip_jsonp(text: &str) -> Result<&str, Failure> {
    jsonp_payload(text).ok_or_else(|| Failure::malformed(format!("neither JSON nor JSONP; body starts {}", describe_body(text))))
}

/// The JSON inside an Eastmoney answer: the body itself when it is JSON (`{…}` or `[…]`),
/// the text between the outer parentheses of a JSONP `cb({…});`, `None` when neither.
pub(super) fn jsonp_payload(text: &str) -> Option<&str> {
    let trimmed = text.trim().trim_end_matches(';').trim_end();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return Some(trimmed);
    }
    match (trimmed.find('('), trimmed.rfind(')')) {
        (Some(open), Some(close)) if open < close => Some(trimmed[open + 1..close].trim()),
        _ => None,
    }
}

/// `date,open,close,high,low,volume,…`; `None` when the close is missing.
fn parse_row(row: &str, unit: VolumeUnit) -> Result<Option<Bar>, String> {
    let cells: Vec<&str> = row.split(',').collect();
    let date = parse_date(cells[0]).map_err(|reason| format!("{reason} in `{}`", excerpt(row, 60)))?;
    let number = |index: usize| cells.get(index).map_or(Ok(None), |cell| parse_number(cell));
    let (open, close, high, low, volume) = (number(1)?, number(2)?, number(3)?, number(4)?, number(5)?);
    Ok(close.map(|close| Bar { date, open, high, low, close, volume: unit.to_shares(volume), adj_close: close }))
}

impl Eastmoney {
    pub fn new(endpoint: Endpoint) -> Eastmoney {
        Eastmoney { endpoint, us_exchanges: ProbedExchanges::default() }
    }

    pub async fn fetch(&self, request: &FetchRequest) -> Result<Fetched, Failure> {
        let unit = VolumeUnit::chinese_vendor(&request.symbol);
        raw_then_adjusted(request, self.endpoint.provider, self.fetch_raw(request, unit), |secid| async move {
            let response = self.endpoint.get(PATH, &query(&secid, Adjustment::Hfq, request.from, request.to)).await?;
            parse_klines(&response.body, unit)
        })
        .await
    }

    /// Fetches the unadjusted series, probing US prefixes when the ticker is not known yet.
    /// Returns the secid that answered.
    async fn fetch_raw(&self, request: &FetchRequest, unit: VolumeUnit) -> Result<(String, Vec<Bar>), Failure> {
        let symbol = &request.symbol;
        // Each secid with the US exchange it stands for, when it stands for one.
        let candidates = self.us_exchanges.codes_to_try(symbol, us_secid, || secids(symbol))?;
        let probed = candidates.len() > 1;
        let mut not_found = Vec::new();
        for (secid, exchange) in &candidates {
            let response = self.endpoint.get(PATH, &query(secid, Adjustment::Raw, request.from, request.to)).await?;
            match parse_klines(&response.body, unit) {
                Ok(bars) => {
                    if let Some(exchange) = exchange {
                        self.us_exchanges.remember(symbol.code(), *exchange, probed);
                    }
                    return Ok((secid.clone(), bars));
                }
                Err(failure) if failure.kind == ProviderErrorKind::NotFound => not_found.push(format!("`{secid}`: {}", failure.message)),
                Err(failure) => return Err(failure),
            }
        }
        Err(Failure::not_found(not_found.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[rstest]
    #[case("600941.SH", &["1.600941"])]
    #[case("688041.SH", &["1.688041"])]
    #[case("000300.SH", &["1.000300"])]
    #[case("300308.SZ", &["0.300308"])]
    #[case("000063.SZ", &["0.000063"])]
    #[case("0700.HK", &["116.00700"])]
    #[case("9988.HK", &["116.09988"])]
    #[case("MSFT.US", &["105.MSFT"])]
    #[case("^HSI.HK", &["100.HSI"])]
    #[case("^GSPC.US", &["100.SPX"])]
    // Eastmoney's NDX is the Composite; its NASDAQ-100 would be 100.NDX100.
    #[case("^IXIC.US", &["100.NDX"])]
    #[case("^DJI.US", &["100.DJIA"])]
    #[case("BABA.US", &["106.BABA"])]
    #[case("AAPL.US", &["105.AAPL", "106.AAPL", "107.AAPL"])]
    #[case("BRK-B.US", &["105.BRK_B", "106.BRK_B", "107.BRK_B"])]
    #[case("USDCNY.FX", &["120.USDCNYC"])]
    #[case("HKDCNY.FX", &["120.HKDCNYC"])]
    #[case("USDCNH.FX", &["133.USDCNH"])]
    fn maps_symbols_to_secids(#[case] symbol: &str, #[case] expected: &[&str]) {
        assert_eq!(secids(&Symbol::parse(symbol).unwrap()).unwrap(), expected);
    }

    #[test]
    fn pairs_outside_cny_are_unsupported() {
        let failure = secids(&Symbol::parse("USDHKD.FX").unwrap()).unwrap_err();
        assert_eq!(failure.kind, ProviderErrorKind::Unsupported);
    }

    #[test]
    fn query_carries_adjustment_and_compact_dates() {
        let query = query("1.600941", Adjustment::Hfq, date("2023-02-14"), date("2023-08-14"));
        let get = |key: &str| query.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_str());
        assert_eq!((get("fqt"), get("beg"), get("end"), get("klt")), (Some("2"), Some("20230214"), Some("20230814"), Some("101")));
    }

    #[test]
    #[allow(clippy::approx_constant, reason = "6.28 is the sample's high price, not τ")]
    fn parses_close_from_the_third_column_and_lots() {
        let body = r#"{"rc":0,"rt":17,"data":{"code":"601872","market":1,"decimal":2,"klines":["2024-12-18,6.11,6.18,6.28,6.10,842743,542829495.00,2.96,1.64,0.10,1.03"]}}"#;
        let bars = parse_klines(body, VolumeUnit::Lots).unwrap();
        // Amount / volume = 542829495 / 842743 = 644 ≈ 100 × close: the volume is in lots.
        assert_eq!(
            bars,
            vec![Bar {
                date: date("2024-12-18"),
                open: Some(6.11),
                high: Some(6.28),
                low: Some(6.10),
                close: 6.18,
                volume: Some(84_274_300.0),
                adj_close: 6.18
            }]
        );
    }

    #[test]
    fn strips_jsonp_and_treats_dashes_as_missing() {
        let body = r#"jQuery35105424247560587396_1758630789935({"rc":0,"data":{"klines":["2026-01-06,70.000,61.000,-,58.650,-","2026-01-07,-"]}});"#;
        let bars = parse_klines(body, VolumeUnit::Shares).unwrap();
        // The second row has no close and is dropped; the first keeps open, close and low.
        assert_eq!(bars.len(), 1);
        assert_eq!((bars[0].open, bars[0].close, bars[0].high, bars[0].low, bars[0].volume), (Some(70.0), 61.0, None, Some(58.65), None));
    }

    #[rstest]
    #[case(r#"{"rc":102,"rt":1,"svr":1,"lt":1,"full":1,"dlmkts":"","data":null}"#, ProviderErrorKind::NotFound)]
    #[case(r#"{"rc":0,"data":null}"#, ProviderErrorKind::NotFound)]
    #[case(r#"{"rc":0,"data":{"klines":["2024-12-18,6.11,abc"]}}"#, ProviderErrorKind::Malformed)]
    #[case(r#"{"rc":0,"data":{"klines":["18/12/2024,6.11,6.18"]}}"#, ProviderErrorKind::Malformed)]
    #[case(r#"{"rc":0,"data":{"klines":["2024-12-18,6.11,6.18"#, ProviderErrorKind::Malformed)]
    #[case("jQuery123(", ProviderErrorKind::Malformed)]
    #[case("", ProviderErrorKind::Blocked)]
    #[case("<html><head><title>502 Bad Gateway</title></head></html>", ProviderErrorKind::Blocked)]
    fn classifies_bad_bodies(#[case] body: &str, #[case] kind: ProviderErrorKind) {
        assert_eq!(parse_klines(body, VolumeUnit::Lots).unwrap_err().kind, kind);
    }

    #[test]
    fn empty_klines_are_an_empty_series() {
        assert_eq!(parse_klines(r#"{"rc":0,"data":{"code":"600941","klines":[]}}"#, VolumeUnit::Lots).unwrap(), vec![]);
    }
}
