//! Eastmoney's research-report list (`GET {base_url}/report/list`): every stock report on one
//! Shanghai or Shenzhen company published in a date range, all pages.
//!
//! Request (as the public clients that work send it, every parameter even when empty):
//! `qType=0&code=600519&industryCode=*&industry=*&rating=*&ratingChange=*&beginTime=YYYY-MM-DD
//! &endTime=YYYY-MM-DD&pageNo=N&pageSize=S&fields=&orgCode=&rcode=`, with
//! `Referer: https://data.eastmoney.com/report/`.
//!
//! Answer: `{"hits":N,"size":n,"data":[…],"TotalPage":P,"pageNo":p}`, or the same wrapped as
//! JSONP (`NAME({...});`). Handled: `TotalPage` 0 with no data (no reports); `ratingChange` as a
//! number or `""` (it is read and ignored: the change is derived from the normalised values,
//! see [`Change::derive`]); `indvAimPriceT` as `""` (no target price). Named errors: an empty
//! page before the last (a silent hole, the list's common failure), fewer distinct records
//! than `hits`, a record without `infoCode` or with a bad date, a record of another company.
//! A fetch returns every record or fails: nothing partial leaves this module.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::Value;

use super::http::Endpoint;
use super::{Failure, ProviderErrorKind, ProvidersConfigError, check_body, describe_body};
use crate::config::RatingsConfig;
use crate::ids::ProviderName;
use crate::ratings::{Change, RatingRecord, pdf_url};
use crate::symbol::{Market, Symbol};

pub const LIST_PATH: &str = "/report/list";
pub const REFERER: &str = "https://data.eastmoney.com/report/";
/// Pages beyond this are refused (100,000 reports at the largest page size): a runaway
/// `TotalPage` is not followed forever.
const MAX_PAGES: usize = 2000;

/// A failed fetch of one company's reports.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{symbol}: report list: {message}")]
pub struct RatingsFetchError {
    pub symbol: Symbol,
    pub kind: ProviderErrorKind,
    pub message: String,
}

/// Every record of one company in a date range, and how many requests it took.
#[derive(Clone, Debug, PartialEq)]
pub struct RatingsFetch {
    pub records: Vec<RatingRecord>,
    pub requests: usize,
}

/// The report-list client over the shared HTTP client, with `[ratings]`'s pacing and retries.
pub struct RatingsSource {
    endpoint: Endpoint,
    page_size: u32,
}

impl RatingsSource {
    pub fn from_config(config: &RatingsConfig) -> Result<RatingsSource, ProvidersConfigError> {
        config.validate()?;
        let client = super::http::build_client().map_err(|e| ProvidersConfigError::Client(e.to_string()))?;
        let endpoint = Endpoint::new(
            ProviderName::Eastmoney,
            client,
            &config.base_url,
            Some(REFERER),
            Duration::from_secs(config.timeout_secs),
            config.max_retries,
            config.requests_per_second,
        );
        Ok(RatingsSource { endpoint, page_size: config.page_size })
    }

    /// Every stock report on `symbol` published from `from` to `to`, all pages.
    pub async fn fetch(&self, symbol: &Symbol, from: NaiveDate, to: NaiveDate) -> Result<RatingsFetch, RatingsFetchError> {
        let fail = |failure: Failure| RatingsFetchError { symbol: symbol.clone(), kind: failure.kind, message: failure.message };
        if !matches!(symbol.market(), Market::Sh | Market::Sz) || symbol.is_index() {
            return Err(fail(Failure::unsupported("the report list covers Shanghai and Shenzhen companies only")));
        }
        let mut records: Vec<RatingRecord> = Vec::new();
        let mut requests = 0;
        let mut page = 1;
        let (hits, pages) = loop {
            let query = list_query(symbol.code(), from, to, page, self.page_size);
            requests += 1;
            let response = self.endpoint.get(LIST_PATH, &query).await.map_err(|f| fail(f.into()))?;
            let parsed =
                parse_page(&response.body, symbol).map_err(|f| fail(Failure::new(f.kind, format!("page {page}: {}", f.message))))?;
            let pages = parsed.total_pages.min(MAX_PAGES);
            if parsed.records.is_empty() && page < pages {
                return Err(fail(Failure::malformed(format!(
                    "page {page} of {pages} is empty although {} reports are listed; nothing is stored",
                    parsed.hits
                ))));
            }
            records.extend(parsed.records);
            if page >= pages {
                break (parsed.hits, pages);
            }
            page += 1;
        };
        // Rows shift between pages while the list is paged: keep each report once.
        let mut seen = BTreeSet::new();
        records.retain(|r| seen.insert(r.info_code.clone()));
        if records.len() < hits {
            return Err(fail(Failure::malformed(format!(
                "incomplete: {} of {hits} reports arrived over {pages} page(s); nothing is stored",
                records.len()
            ))));
        }
        Ok(RatingsFetch { records, requests })
    }
}

/// The query of one page, every parameter sent as the working clients send it.
pub fn list_query(code: &str, from: NaiveDate, to: NaiveDate, page: usize, page_size: u32) -> Vec<(&'static str, String)> {
    vec![
        ("industryCode", "*".to_string()),
        ("pageSize", page_size.to_string()),
        ("industry", "*".to_string()),
        ("rating", "*".to_string()),
        ("ratingChange", "*".to_string()),
        ("beginTime", from.to_string()),
        ("endTime", to.to_string()),
        ("pageNo", page.to_string()),
        ("fields", String::new()),
        ("qType", "0".to_string()),
        ("orgCode", String::new()),
        ("code", code.to_string()),
        ("rcode", String::new()),
    ]
}

#[derive(Deserialize)]
struct WirePage {
    #[serde(default)]
    hits: Option<Value>,
    #[serde(rename = "TotalPage", default)]
    total_page: Option<Value>,
    data: Option<Vec<serde_json::Map<String, Value>>>,
}

/// One parsed page.
#[derive(Clone, Debug, PartialEq)]
pub struct ListPage {
    pub hits: usize,
    pub total_pages: usize,
    pub records: Vec<RatingRecord>,
}

/// One page's body (JSON or JSONP) parsed into records of `symbol`: the parser
/// [`RatingsSource::fetch`] runs on every page, for callers that hold bodies already
/// (`examples/bench_ratings.rs`). A bad body is the fetch's error, naming the company.
pub fn parse_list_page(body: &str, symbol: &Symbol) -> Result<ListPage, RatingsFetchError> {
    parse_page(body, symbol).map_err(|f| RatingsFetchError { symbol: symbol.clone(), kind: f.kind, message: f.message })
}

/// Parses one page's body (JSON or JSONP) into records of `symbol`.
pub(super) fn parse_page(body: &str, symbol: &Symbol) -> Result<ListPage, Failure> {
    let trimmed = check_body(body)?;
    let json = super::eastmoney::jsonp_payload(trimmed)
        .ok_or_else(|| Failure::malformed(format!("neither JSON nor JSONP; body starts {}", describe_body(trimmed))))?;
    let page: WirePage = serde_json::from_str(json).map_err(|e| super::json_error(&e, json))?;
    let count = |value: &Option<Value>, name: &str| -> Result<usize, Failure> {
        match value {
            None | Some(Value::Null) => Ok(0),
            Some(Value::Number(n)) => n.as_u64().map(|n| n as usize).ok_or_else(|| Failure::malformed(format!("`{name}` is {n}"))),
            Some(Value::String(s)) if s.trim().parse::<usize>().is_ok() => Ok(s.trim().parse().unwrap_or(0)),
            Some(other) => Err(Failure::malformed(format!("`{name}` is {other}, not a count"))),
        }
    };
    let hits = count(&page.hits, "hits")?;
    let total_pages = count(&page.total_page, "TotalPage")?;
    let Some(rows) = page.data else {
        return Err(Failure::malformed(format!("no `data` array; body starts {}", describe_body(json))));
    };
    let records = rows.iter().enumerate().map(|(index, row)| parse_record(row, symbol, index)).collect::<Result<Vec<_>, _>>()?;
    // `TotalPage` 0 with records would drop them if trusted: one page is what arrived.
    let total_pages = if records.is_empty() { total_pages } else { total_pages.max(1) };
    Ok(ListPage { hits, total_pages, records })
}

fn parse_record(row: &serde_json::Map<String, Value>, symbol: &Symbol, index: usize) -> Result<RatingRecord, Failure> {
    let text = |key: &str| -> String {
        match row.get(key) {
            Some(Value::String(s)) => s.trim().to_string(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        }
    };
    let info_code = text("infoCode");
    if info_code.is_empty() {
        return Err(Failure::malformed(format!("record {} has no `infoCode`", index + 1)));
    }
    let bad = |key: &str, message: String| Failure::malformed(format!("record {info_code}: `{key}` {message}"));
    let code = text("stockCode");
    if code != symbol.code() {
        return Err(bad("stockCode", format!("is `{}`, not {}", crate::text::excerpt(&code, 20), symbol.code())));
    }
    let date_text = text("publishDate");
    let date = date_text
        .get(..10)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .ok_or_else(|| bad("publishDate", format!("`{}` is not a date", crate::text::excerpt(&date_text, 30))))?;
    let optional_number = |key: &str| -> Result<Option<f64>, Failure> {
        match row.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => match s.trim().parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(Some(v)),
                _ => Err(bad(key, format!("`{}` is not a number", crate::text::excerpt(s, 30)))),
            },
            Some(Value::Number(n)) => Ok(n.as_f64()),
            Some(other) => Err(bad(key, format!("is {other}, not a number or \"\""))),
        }
    };
    // Read only to refuse a shape nobody has seen; its codes are not trusted (module docs).
    optional_number("ratingChange")?;
    let value = |key: &str| optional_number(key).map(|v| v.map(|v| v.round() as i64));
    let non_empty = |key: &str| Some(text(key)).filter(|s| !s.is_empty());
    let normalized = non_empty("emRatingName");
    let normalized_value = value("emRatingValue")?;
    let previous = non_empty("lastEmRatingName");
    let previous_value = value("lastEmRatingValue")?;
    let change = Change::derive((normalized.as_deref(), normalized_value), (previous.as_deref(), previous_value));
    Ok(RatingRecord {
        symbol: symbol.clone(),
        name: text("stockName"),
        broker: text("orgSName"),
        broker_full: text("orgName"),
        analysts: text("researcher"),
        date,
        rating: text("sRatingName"),
        normalized,
        normalized_value,
        previous,
        previous_value,
        change,
        target_price: optional_number("indvAimPriceT")?.filter(|p| *p > 0.0),
        title: text("title"),
        pdf_url: pdf_url(&info_code),
        info_code,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE_PAGE: &str = include_str!("../../tests/fixtures/eastmoney-reports/one-page.json");
    const JSONP: &str = include_str!("../../tests/fixtures/eastmoney-reports/jsonp.txt");
    const EMPTY: &str = include_str!("../../tests/fixtures/eastmoney-reports/empty.json");

    fn moutai() -> Symbol {
        Symbol::parse("600519.SH").unwrap()
    }

    #[test]
    fn the_recorded_page_parses_with_its_quirks() {
        let page = parse_page(ONE_PAGE, &moutai()).unwrap();
        assert_eq!((page.hits, page.total_pages, page.records.len()), (2, 1, 2));
        let first = &page.records[0];
        assert_eq!(first.info_code, "AP202605251822844635");
        assert_eq!((first.broker.as_str(), first.broker_full.as_str()), ("诚通证券", "诚通证券股份有限公司"));
        assert_eq!(first.date, NaiveDate::from_ymd_opt(2026, 5, 25).unwrap());
        assert_eq!(first.target_price, Some(512.0));
        // 3 → 3: maintained (its ratingChange 3 agrees, but is not what decides).
        assert_eq!(first.change, Change::Maintained);
        assert_eq!(first.pdf_url, "https://pdf.dfcfw.com/pdf/H3_AP202605251822844635_1.pdf");
        let second = &page.records[1];
        // ratingChange "", indvAimPriceT "", no previous rating.
        assert_eq!((second.target_price, second.change, second.previous.as_deref()), (None, Change::FirstCoverage, None));
        assert_eq!((second.rating.as_str(), second.normalized.as_deref()), ("增持", Some("买入")));
        assert_eq!(parse_page(JSONP, &moutai()).unwrap(), page);
    }

    #[test]
    fn no_reports_and_bad_answers() {
        assert_eq!(parse_page(EMPTY, &moutai()).unwrap(), ListPage { hits: 0, total_pages: 0, records: vec![] });
        let other = parse_page(ONE_PAGE, &Symbol::parse("000858.SZ").unwrap()).unwrap_err();
        assert_eq!(other.message, "record AP202605251822844635: `stockCode` is `600519`, not 000858");
        let no_code = ONE_PAGE.replace("\"infoCode\":\"AP202605251822844635\",", "");
        assert_eq!(parse_page(&no_code, &moutai()).unwrap_err().message, "record 1 has no `infoCode`");
        let bad_change = ONE_PAGE.replace("\"ratingChange\":3", "\"ratingChange\":[1]");
        assert!(parse_page(&bad_change, &moutai()).unwrap_err().message.contains("`ratingChange` is [1]"));
        let html = parse_page("<html><title>blocked</title></html>", &moutai()).unwrap_err();
        assert_eq!(html.kind, ProviderErrorKind::Blocked);
    }
}
