//! The security master's sources: Eastmoney's list endpoint (every listing of a market),
//! Eastmoney's symbol search and Tencent's smartbox (one name at a time, the fallback).
//!
//! **List** (`[instruments] list_base_url`, default `https://push2.eastmoney.com`):
//! `/api/qt/clist/get?pn=<page>&pz=<≤100>&po=1&np=1&fltt=2&invt=2&fid=f12&fs=<segment>&fields=f2,f12,f13,f14&ut=…`.
//! Segments: A-shares `m:0 t:6,m:0 t:80,m:1 t:2,m:1 t:23` (SZ main, ChiNext, SH main, STAR;
//! Beijing is left out: the product has no BJ market), HK `m:128 t:3,m:128 t:4,m:128 t:1,m:128 t:2`,
//! US `m:105,m:106,m:107`. Body `{"rc":0,"data":{"total":N,"diff":[{"f2":10.47,"f12":"000001",
//! "f13":0,"f14":"平安银行"},…]}}`; `diff` is an array (`np=1`) or an object keyed by index;
//! `f2` is `"-"` for a suspended listing; names may hold full-width characters (`万  科Ａ`).
//! Pages = ceil(total / rows of page 1); a list is accepted only when (nearly) all `total`
//! rows arrived, so a truncated list never marks listings delisted.
//!
//! **Search** (`search_base_url`, default `https://search-codetable.eastmoney.com`):
//! `/codetable/search/web?client=web&clientType=webSuggest&clientVersion=lastest&keyword=<kw>&pageIndex=1&pageSize=20`,
//! sent with `Accept: */*` (with `application/json` it answers a business-level 404). Body
//! `{"code":"0","result":[{"code":"688041","shortName":"海光信息","market":1,"securityTypeName":"科创板"},…]}`,
//! possibly JSONP. `securityTypeName` decides: 沪A/科创板 → SH, 深A/创业板 → SZ, 港股 → HK,
//! 美股 → US, 指数 and 基金 by `market` (1 SH, 0 SZ); boards, bonds, B shares, other markets
//! are dropped.
//!
//! **Smartbox** (`smartbox_base_url`, default `https://smartbox.gtimg.cn`):
//! `/s3/?v=2&q=<kw>&t=all`, body `v_hint="sh~600519~贵州茅台~gzmt~GP-A^hk~00700~\u817e\u8baf\u63a7\u80a1~txkg~GP";`
//! in GBK, names sometimes as literal `\uXXXX` escapes; `v_hint="N";` is no hit. Rows
//! `market~code~name~pinyin~type`; US codes carry a venue suffix (`msft.oq`, `brk.b.n`)
//! that is dropped; OTC funds (`jj`) have no exchange symbol and are dropped.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::Value;

use super::http::Endpoint;
use super::{Failure, ProviderErrorKind, ProviderName, ProvidersConfigError, check_body, describe_body, json_error};
use crate::config::{Config, ProviderConfig};
use crate::names::{Instrument, Kind, Status};
use crate::symbol::{Market, Symbol};

pub const LIST_PATH: &str = "/api/qt/clist/get";
pub const SEARCH_PATH: &str = "/codetable/search/web";
pub const SMARTBOX_PATH: &str = "/s3/";

/// The token Eastmoney's own list pages send.
const LIST_UT: &str = "bd1d9ddb04089700cf9c27f6f7426281";

/// Never request more pages than this for one segment (10× today's US list).
const MAX_PAGES: usize = 2000;

/// A list accepted with fewer rows than `total` may miss at most this share of them (the list
/// moves while it is paged): below it, the list counts as truncated and nothing is written.
const MISSING_TOLERANCE: f64 = 0.01;

/// One of the lists `instruments sync` fetches: `A`, `HK` or `US` (any case, `CN` is `A`).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantNames,
    strum::EnumIter
)]
#[strum(serialize_all = "UPPERCASE", ascii_case_insensitive)]
pub enum ListSegment {
    /// Shanghai and Shenzhen A-shares (main boards, ChiNext, STAR).
    #[strum(to_string = "A", serialize = "CN")]
    A,
    Hk,
    Us,
}

impl ListSegment {
    pub const ALL: [ListSegment; 3] = [ListSegment::A, ListSegment::Hk, ListSegment::Us];

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The segment named by `text` (surrounding spaces ignored), or `None`.
    pub fn parse(text: &str) -> Option<ListSegment> {
        text.trim().parse().ok()
    }

    /// Eastmoney's `fs` filter for this segment.
    pub fn filter(self) -> &'static str {
        match self {
            ListSegment::A => "m:0 t:6,m:0 t:80,m:1 t:2,m:1 t:23",
            ListSegment::Hk => "m:128 t:3,m:128 t:4,m:128 t:1,m:128 t:2",
            ListSegment::Us => "m:105,m:106,m:107",
        }
    }

    /// The markets this segment's list covers (for delisting what it no longer holds).
    pub fn markets(self) -> &'static [Market] {
        match self {
            ListSegment::A => &[Market::Sh, Market::Sz],
            ListSegment::Hk => &[Market::Hk],
            ListSegment::Us => &[Market::Us],
        }
    }
}

/// The query of one list page.
pub fn list_query(segment: ListSegment, page: usize, page_size: u32) -> Vec<(&'static str, String)> {
    vec![
        ("pn", page.to_string()),
        ("pz", page_size.to_string()),
        ("po", "1".to_string()),
        ("np", "1".to_string()),
        ("ut", LIST_UT.to_string()),
        ("fltt", "2".to_string()),
        ("invt", "2".to_string()),
        ("fid", "f12".to_string()),
        ("fs", segment.filter().to_string()),
        ("fields", "f2,f12,f13,f14".to_string()),
    ]
}

/// One parsed list page.
#[derive(Clone, Debug, PartialEq)]
pub struct ListPage {
    /// The list's total row count as the provider states it.
    pub total: usize,
    /// Rows on this page, usable or not.
    pub row_count: usize,
    pub instruments: Vec<Instrument>,
    /// Rows that cannot be a symbol here (`code name: reason`).
    pub skipped: Vec<String>,
}

/// Removes a JSONP wrapper `cb({...});` if there is one (Eastmoney's own unwrapping).
fn strip_jsonp(body: &str) -> &str {
    super::eastmoney::jsonp_payload(body).unwrap_or_else(|| body.trim())
}

fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn int_of(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Parses one list page of `segment`.
pub(super) fn parse_list_page(body: &str, segment: ListSegment) -> Result<ListPage, Failure> {
    let json = strip_jsonp(check_body(body)?);
    let value: Value = serde_json::from_str(json).map_err(|e| json_error(&e, json))?;
    let rc = value.get("rc").and_then(int_of);
    if rc != Some(0) {
        return Err(Failure::malformed(format!(
            "list answered rc={} instead of 0: {}",
            rc.map_or("none".to_string(), |r| r.to_string()),
            describe_body(json)
        )));
    }
    let Some(data) = value.get("data").filter(|d| !d.is_null()) else {
        return Err(Failure::malformed("list answered `data: null` (no rows for this filter)"));
    };
    let total =
        data.get("total").and_then(int_of).filter(|t| *t >= 0).ok_or_else(|| Failure::malformed("list without `data.total`"))? as usize;
    let rows: Vec<&Value> = match data.get("diff") {
        Some(Value::Array(rows)) => rows.iter().collect(),
        Some(Value::Object(rows)) => {
            // np≠1: an object keyed "0", "1", …; keep the numeric order.
            let mut keyed: Vec<(usize, &Value)> = rows.iter().filter_map(|(k, v)| k.parse().ok().map(|k| (k, v))).collect();
            keyed.sort_by_key(|(k, _)| *k);
            keyed.into_iter().map(|(_, v)| v).collect()
        }
        Some(Value::Null) | None => Vec::new(),
        Some(other) => {
            return Err(Failure::malformed(format!(
                "list `data.diff` is neither an array nor an object: {}",
                describe_body(&other.to_string())
            )));
        }
    };
    let mut page = ListPage { total, row_count: rows.len(), instruments: Vec::new(), skipped: Vec::new() };
    for row in rows {
        let code = row.get("f12").and_then(text_of).unwrap_or_default();
        let name = row.get("f14").and_then(text_of).unwrap_or_default();
        match list_row(segment, &code, row.get("f13").and_then(int_of), &name) {
            Ok(symbol) => {
                let status = if row.get("f2").is_some_and(|p| p.as_str() == Some("-")) { Status::Suspended } else { Status::Listed };
                let kind = if segment == ListSegment::Us && name.to_ascii_uppercase().ends_with("ETF") { Kind::Etf } else { Kind::Stock };
                page.instruments.push(Instrument { symbol, name, name_en: None, kind, status });
            }
            Err(reason) => page.skipped.push(format!("{code} {name}: {reason}")),
        }
    }
    Ok(page)
}

fn list_row(segment: ListSegment, code: &str, market: Option<i64>, name: &str) -> Result<Symbol, String> {
    if code.is_empty() {
        return Err("no code (f12)".to_string());
    }
    if name.is_empty() {
        return Err("no name (f14)".to_string());
    }
    let symbol = match segment {
        ListSegment::A => {
            let market = match (market, code.as_bytes()[0]) {
                (Some(1), _) => Market::Sh,
                (Some(0), b'0' | b'2' | b'3') => Market::Sz,
                (Some(0), _) => return Err("a market-0 code outside Shenzhen's ranges (Beijing?)".to_string()),
                (None, b'6' | b'9') => Market::Sh,
                (None, b'0' | b'2' | b'3') => Market::Sz,
                _ => return Err(format!("unknown market {market:?}")),
            };
            Symbol::new(code, market)
        }
        ListSegment::Hk => Symbol::new(code, Market::Hk),
        ListSegment::Us => Symbol::new(&code.replace('_', "-"), Market::Us),
    };
    symbol.map_err(|e| e.reason)
}

#[derive(Deserialize)]
struct SearchBody {
    code: Value,
    #[serde(default)]
    result: Value,
    #[serde(default)]
    message: Option<String>,
}

/// Parses an Eastmoney search answer into instruments (see the module docs for the mapping).
pub(super) fn parse_search(body: &str) -> Result<Vec<Instrument>, Failure> {
    let json = strip_jsonp(check_body(body)?);
    let parsed: SearchBody = serde_json::from_str(json).map_err(|e| json_error(&e, json))?;
    if text_of(&parsed.code).as_deref() != Some("0") {
        return Err(Failure::malformed(format!(
            "search answered code {} ({}) instead of 0",
            text_of(&parsed.code).unwrap_or_default(),
            parsed.message.unwrap_or_default()
        )));
    }
    let items: &[Value] = match &parsed.result {
        Value::Array(items) => items,
        // The `/wap` variant nests the rows.
        Value::Object(o) => o.get("quoteList").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]),
        _ => &[],
    };
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for item in items {
        let code = item.get("code").and_then(text_of).unwrap_or_default();
        let name = item.get("shortName").and_then(text_of).unwrap_or_default();
        let market = item.get("market").and_then(int_of);
        let type_name = item.get("securityTypeName").and_then(text_of).unwrap_or_default();
        if code.is_empty() || name.is_empty() {
            continue;
        }
        let exchange = |m: Option<i64>| match m {
            Some(1) => Some(Market::Sh),
            Some(0) => Some(Market::Sz),
            _ => None,
        };
        let (market, kind) = match type_name.as_str() {
            "沪A" | "科创板" => (Some(Market::Sh), Kind::Stock),
            "深A" | "创业板" => (Some(Market::Sz), Kind::Stock),
            "港股" => (Some(Market::Hk), Kind::Stock),
            "美股" => (Some(Market::Us), Kind::Stock),
            "指数" => (exchange(market), Kind::Index),
            "基金" if name.to_ascii_uppercase().contains("ETF") => (exchange(market), Kind::Etf),
            "基金" => (exchange(market), Kind::Fund),
            _ => continue,
        };
        let Some(market) = market else { continue };
        let Ok(symbol) = Symbol::new(&code.replace('_', "-"), market) else { continue };
        if seen.insert(symbol.clone()) {
            out.push(Instrument { symbol, name, name_en: None, kind, status: Status::Listed });
        }
    }
    Ok(out)
}

/// Decodes a body that is UTF-8 or, failing that, GBK (GB18030).
pub fn decode_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => encoding_rs::GB18030.decode(bytes).0.into_owned(),
    }
}

/// Replaces literal `\uXXXX` escapes (as Tencent writes some names) by their characters,
/// including surrogate pairs; anything malformed is kept as written.
pub fn unescape_u(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let hex_at = |i: usize| -> Option<u32> {
        if chars.get(i) != Some(&'\\') || chars.get(i + 1) != Some(&'u') {
            return None;
        }
        let digits: String = chars.get(i + 2..i + 6)?.iter().collect();
        u32::from_str_radix(&digits, 16).ok()
    };
    let mut i = 0;
    while i < chars.len() {
        if let Some(unit) = hex_at(i) {
            if (0xD800..0xDC00).contains(&unit)
                && let Some(low) = hex_at(i + 6).filter(|l| (0xDC00..0xE000).contains(l))
                && let Some(c) = char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
            {
                out.push(c);
                i += 12;
                continue;
            }
            if let Some(c) = char::from_u32(unit) {
                out.push(c);
                i += 6;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// Parses a smartbox answer (raw bytes: GBK or UTF-8).
pub(super) fn parse_smartbox(bytes: &[u8]) -> Result<Vec<Instrument>, Failure> {
    let text = decode_text(bytes);
    let body = check_body(&text)?;
    let Some(start) = body.find("v_hint=\"") else {
        return Err(Failure::malformed(format!("smartbox answer without `v_hint=\"…\"`: {}", describe_body(body))));
    };
    let rest = &body[start + "v_hint=\"".len()..];
    let Some(end) = rest.rfind('"') else {
        return Err(Failure::malformed(format!("smartbox answer cut short (no closing quote): {}", describe_body(body))));
    };
    let hint = &rest[..end];
    if hint == "N" || hint.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for row in hint.split('^') {
        let fields: Vec<&str> = row.split('~').collect();
        let [market, code, name, _pinyin, kind, ..] = fields.as_slice() else { continue };
        let name = unescape_u(name).trim().to_string();
        if name.is_empty() {
            continue;
        }
        let kind_upper = kind.to_ascii_uppercase();
        let kind = match kind_upper.as_str() {
            k if k.starts_with("GP") => Kind::Stock,
            "ZS" => Kind::Index,
            k if k.contains("ETF") => Kind::Etf,
            "LOF" | "FJ" | "KJ" | "JJ" | "QDII" | "REIT" => Kind::Fund,
            _ => continue,
        };
        let symbol = match market.to_ascii_lowercase().as_str() {
            "sh" => Symbol::new(code, Market::Sh),
            "sz" => Symbol::new(code, Market::Sz),
            "hk" => Symbol::new(code, Market::Hk),
            // `msft.oq`, `aapl.n`, `brk.b.n`: the last part is a venue suffix.
            "us" => Symbol::new(code.rsplit_once('.').map_or(*code, |(ticker, _)| ticker), Market::Us),
            _ => continue,
        };
        let Ok(symbol) = symbol else { continue };
        let name_en = (symbol.market() == Market::Us && name.is_ascii()).then(|| name.clone());
        if seen.insert(symbol.clone()) {
            out.push(Instrument { symbol, name, name_en, kind, status: Status::Listed });
        }
    }
    Ok(out)
}

/// A failed list fetch or lookup, naming the provider and what was asked.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{what} via {provider}: {message}")]
pub struct LookupError {
    pub provider: ProviderName,
    pub what: String,
    pub kind: ProviderErrorKind,
    pub message: String,
}

/// A complete list of one segment.
#[derive(Clone, Debug, PartialEq)]
pub struct ListFetch {
    pub segment: ListSegment,
    pub instruments: Vec<Instrument>,
    pub skipped: Vec<String>,
    pub pages: usize,
    pub total: usize,
}

/// What a per-name lookup found, and where.
#[derive(Clone, Debug, PartialEq)]
pub struct Lookup {
    pub provider: ProviderName,
    pub instruments: Vec<Instrument>,
    /// Why the first source gave nothing, when the fallback answered.
    pub fallback_reason: Option<String>,
}

/// The list, search and smartbox clients, over the shared HTTP client with the providers'
/// rate limits and retries.
pub struct InstrumentSources {
    list: Endpoint,
    search: Endpoint,
    smartbox: Endpoint,
    page_size: u32,
}

impl InstrumentSources {
    pub fn from_config(config: &Config) -> Result<InstrumentSources, ProvidersConfigError> {
        let client = super::http::build_client().map_err(|e| ProvidersConfigError::Client(e.to_string()))?;
        let endpoint =
            |provider: ProviderName, base_url: &str, settings: &ProviderConfig| super::endpoint(&client, provider, base_url, settings);
        let eastmoney = &config.providers.eastmoney;
        let instruments = &config.instruments;
        Ok(InstrumentSources {
            list: endpoint(ProviderName::Eastmoney, &instruments.list_base_url, eastmoney)?,
            search: endpoint(ProviderName::Eastmoney, &instruments.search_base_url, eastmoney)?.with_accept("*/*"),
            smartbox: endpoint(ProviderName::Tencent, &instruments.smartbox_base_url, &config.providers.tencent)?,
            page_size: instruments.list_page_size.clamp(1, 100),
        })
    }

    /// Fetches every page of a segment's list. `on_page(done, pages)` reports progress.
    /// Any failed page fails the whole list: a partial list is never returned.
    pub async fn fetch_list(&self, segment: ListSegment, on_page: &mut (dyn FnMut(usize, usize) + Send)) -> Result<ListFetch, LookupError> {
        let fail = |page: usize, failure: Failure| LookupError {
            provider: ProviderName::Eastmoney,
            what: format!("{} list page {page}", segment.as_str()),
            kind: failure.kind,
            message: failure.message,
        };
        let get = |page: usize| async move {
            let response = self.list.get(LIST_PATH, &list_query(segment, page, self.page_size)).await.map_err(|f| fail(page, f.into()))?;
            parse_list_page(&response.body, segment).map_err(|f| fail(page, f))
        };
        let first = get(1).await?;
        let per_page = first.row_count.max(1);
        let pages = first.total.div_ceil(per_page).clamp(1, MAX_PAGES);
        on_page(1, pages);
        let (total, mut rows_seen) = (first.total, first.row_count);
        let mut skipped = first.skipped;
        let mut instruments = first.instruments;
        for page in 2..=pages {
            let next = get(page).await?;
            if next.row_count == 0 {
                break;
            }
            rows_seen += next.row_count;
            skipped.extend(next.skipped);
            instruments.extend(next.instruments);
            on_page(page, pages);
        }
        let missing = total.saturating_sub(rows_seen);
        if missing as f64 > total as f64 * MISSING_TOLERANCE {
            return Err(LookupError {
                provider: ProviderName::Eastmoney,
                what: format!("{} list", segment.as_str()),
                kind: ProviderErrorKind::Malformed,
                message: format!("incomplete: {rows_seen} of {total} rows arrived; nothing is stored"),
            });
        }
        // Rows shift between pages while the list is paged: keep each symbol once.
        let mut seen = BTreeSet::new();
        instruments.retain(|i| seen.insert(i.symbol.clone()));
        Ok(ListFetch { segment, instruments, skipped, pages, total })
    }

    /// Looks one name up: Eastmoney's search first, Tencent's smartbox when the search fails
    /// or finds nothing.
    pub async fn lookup(&self, name: &str) -> Result<Lookup, LookupError> {
        let search = self.search_eastmoney(name).await;
        let fallback_reason = match search {
            Ok(found) if !found.is_empty() => {
                return Ok(Lookup { provider: ProviderName::Eastmoney, instruments: found, fallback_reason: None });
            }
            Ok(_) => "Eastmoney's search found nothing".to_string(),
            Err(error) => error.to_string(),
        };
        let found = self.search_smartbox(name).await?;
        Ok(Lookup { provider: ProviderName::Tencent, instruments: found, fallback_reason: Some(fallback_reason) })
    }

    pub async fn search_eastmoney(&self, name: &str) -> Result<Vec<Instrument>, LookupError> {
        let fail = |failure: Failure| LookupError {
            provider: ProviderName::Eastmoney,
            what: format!("search `{name}`"),
            kind: failure.kind,
            message: failure.message,
        };
        let query = [
            ("client", "web".to_string()),
            ("clientType", "webSuggest".to_string()),
            ("clientVersion", "lastest".to_string()),
            ("keyword", name.to_string()),
            ("pageIndex", "1".to_string()),
            ("pageSize", "20".to_string()),
        ];
        let response = self.search.get(SEARCH_PATH, &query).await.map_err(|f| fail(f.into()))?;
        parse_search(&response.body).map_err(fail)
    }

    pub async fn search_smartbox(&self, name: &str) -> Result<Vec<Instrument>, LookupError> {
        let fail = |failure: Failure| LookupError {
            provider: ProviderName::Tencent,
            what: format!("smartbox `{name}`"),
            kind: failure.kind,
            message: failure.message,
        };
        let query = [("v", "2".to_string()), ("q", name.to_string()), ("t", "all".to_string())];
        let response = self.smartbox.get(SMARTBOX_PATH, &query).await.map_err(|f| fail(f.into()))?;
        parse_smartbox(&response.bytes).map_err(fail)
    }
}

#[cfg(test)]
mod tests;
