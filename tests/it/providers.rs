//! Integration tests for providers: the real client against wiremock on 127.0.0.1, serving
//! each provider's recorded answers from `tests/fixtures/<provider>/` (see the READMEs there for
//! where the numbers come from), plus every failure mode; long histories are served by the
//! provider server example (`provider_server::spawn`), the fake provider server `sync` tests use.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use rstest::rstest;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use ratingwatch::config::{ProviderConfig, ProvidersConfig};
use ratingwatch::prices::{AdjBasis, Bar};
use ratingwatch::providers::{FetchRequest, FetchedSeries, ProviderError, ProviderErrorKind, ProviderName, Providers};
use ratingwatch::symbol::Symbol;

use crate::provider_server::{FailMode, FailRule, RequestLog, Security, ServerState, Source, spawn};

macro_rules! fixture {
    ($path:literal) => {
        include_str!(concat!("../fixtures/", $path))
    };
}

const TENCENT_STOCK: &str = "/appstock/app/fqkline/get";
const TENCENT_HK: &str = "/appstock/app/hkfqkline/get";
const TENCENT_US: &str = "/appstock/app/usfqkline/get";
const TENCENT_FX: &str = "/appstock/app/kline/kline";
const EASTMONEY: &str = "/api/qt/stock/kline/get";

fn settings(base_url: &str, max_retries: u32) -> ProviderConfig {
    ProviderConfig { base_url: base_url.to_string(), timeout_secs: 1, requests_per_second: 0.0, max_retries }
}

/// All three providers pointed at `base_url`, 1 s timeouts, no rate limit, one retry.
fn providers(base_url: &str) -> Providers {
    providers_with(base_url, |_| {})
}

fn providers_with(base_url: &str, adjust: impl Fn(&mut ProviderConfig)) -> Providers {
    let mut config = ProvidersConfig {
        tencent: settings(base_url, 1),
        eastmoney: settings(base_url, 1),
        yahoo: settings(base_url, 1),
        chains: Default::default(),
    };
    for provider in [&mut config.tencent, &mut config.eastmoney, &mut config.yahoo] {
        adjust(provider);
    }
    Providers::from_config(&config).expect("test config is valid")
}

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn request(symbol: &str, from: &str, to: &str) -> FetchRequest {
    FetchRequest { symbol: Symbol::parse(symbol).unwrap(), from: date(from), to: date(to) }
}

fn dates(series: &FetchedSeries) -> Vec<NaiveDate> {
    series.bars.iter().map(|bar| bar.date).collect()
}

fn close_by(bars: &[Bar], day: &str) -> (f64, f64) {
    let bar = bars.iter().find(|bar| bar.date == date(day)).unwrap_or_else(|| panic!("no bar on {day}"));
    (bar.close, bar.adj_close)
}

fn assert_close(actual: f64, expected: f64, tolerance: f64) {
    assert!((actual - expected).abs() <= tolerance, "{actual} is not within {tolerance} of {expected}");
}

async fn serve(server: &MockServer, api_path: &str, query: &[(&str, &str)], body: &str) {
    let mut mock = Mock::given(method("GET")).and(path(api_path));
    for (key, value) in query {
        mock = mock.and(query_param(*key, *value));
    }
    mock.respond_with(ResponseTemplate::new(200).set_body_string(body)).mount(server).await;
}

async fn request_count(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

async fn fetch_err(providers: &Providers, provider: ProviderName, request: &FetchRequest) -> ProviderError {
    providers.fetch(provider, request).await.expect_err("the fetch should fail")
}

// ---------------------------------------------------------------------------------------
// Tencent

#[tokio::test]
async fn tencent_a_share_joins_raw_and_hfq_and_converts_lots() {
    let server = MockServer::start().await;
    serve(&server, TENCENT_STOCK, &[("param", "sh600941,day,2023-06-05,2023-06-09,640,")], fixture!("tencent/sh600941-day.json")).await;
    serve(&server, TENCENT_STOCK, &[("param", "sh600941,day,2023-06-05,2023-06-09,640,hfq")], fixture!("tencent/sh600941-hfqday.json"))
        .await;

    let series = providers(&server.uri()).fetch(ProviderName::Tencent, &request("600941.SH", "2023-06-05", "2023-06-09")).await.unwrap();

    assert_eq!((series.provider, series.basis), (ProviderName::Tencent, AdjBasis::Hfq));
    assert_eq!(dates(&series), vec![date("2023-06-05"), date("2023-06-06"), date("2023-06-07"), date("2023-06-08"), date("2023-06-09")]);
    // Row ["2023-06-05","99.360","97.500","99.660","97.250","90066.000"]: close is the third
    // field; 90066 lots × 100 = 9006600 shares; hfq close 97.5 × 1.02 = 99.45.
    assert_eq!(
        series.bars[0],
        Bar {
            date: date("2023-06-05"),
            open: Some(99.36),
            high: Some(99.66),
            low: Some(97.25),
            close: 97.5,
            volume: Some(9_006_600.0),
            adj_close: 99.45
        }
    );
    // Across the 2023-06-07 ex-dividend date the raw close falls 95.85 / 98.33 − 1 = −2.52 %,
    // but the holder's return is 95.85 / 96.35 − 1 = −0.519 % (96.35 = 98.33 less the dividend).
    let (before_raw, before_adj) = close_by(&series.bars, "2023-06-06");
    let (after_raw, after_adj) = close_by(&series.bars, "2023-06-07");
    assert_close(after_raw / before_raw - 1.0, -0.025221, 1e-6);
    assert_close(after_adj / before_adj - 1.0, 95.85 / 96.35 - 1.0, 2e-5);
    assert_eq!(series.first_trade_date, None);
    assert_eq!(request_count(&server).await, 2);
}

#[tokio::test]
async fn tencent_index_is_fetched_once_unadjusted_behind_a_name_prefix() {
    let server = MockServer::start().await;
    // The body starts `kline_day={…}`.
    serve(&server, TENCENT_STOCK, &[("param", "sh000300,day,2023-02-13,2023-02-17,640,")], fixture!("tencent/sh000300-day.json")).await;

    let series = providers(&server.uri()).fetch(ProviderName::Tencent, &request("000300.SH", "2023-02-13", "2023-02-17")).await.unwrap();

    assert_eq!(series.basis, AdjBasis::None);
    assert_eq!(series.bars.len(), 5);
    let bar = &series.bars[1];
    // 2023-02-14: close 4145.29; 102499890 lots × 100 = 10249989000 shares.
    assert_eq!((bar.date, bar.close, bar.adj_close, bar.volume), (date("2023-02-14"), 4145.29, 4145.29, Some(10_249_989_000.0)));
    assert_eq!(request_count(&server).await, 1, "an index needs no hfq request");
}

#[tokio::test]
async fn tencent_hong_kong_rows_with_trailing_objects() {
    let server = MockServer::start().await;
    serve(&server, TENCENT_HK, &[("param", "hk00700,day,2023-05-15,2023-05-19,640,")], fixture!("tencent/hk00700-day.json")).await;
    serve(&server, TENCENT_HK, &[("param", "hk00700,day,2023-05-15,2023-05-19,640,hfq")], fixture!("tencent/hk00700-hfqday.json")).await;

    let series = providers(&server.uri()).fetch(ProviderName::Tencent, &request("0700.HK", "2023-05-15", "2023-05-19")).await.unwrap();

    assert_eq!(series.bars.len(), 5);
    // HK volume is already in shares; hfq before the ex-date is 341 × 1.5 = 511.5.
    let first = &series.bars[0];
    assert_eq!((first.close, first.adj_close, first.volume), (341.0, 511.5, Some(23_740_493.0)));
    // Ex-date 2023-05-19 (HKD 2.40): holder's return 333.2 / 337.4 − 1 = −1.245 %.
    let (before_raw, before_adj) = close_by(&series.bars, "2023-05-18");
    let (after_raw, after_adj) = close_by(&series.bars, "2023-05-19");
    assert_close(after_raw / before_raw - 1.0, 333.2 / 339.8 - 1.0, 1e-12);
    assert_close(after_adj / before_adj - 1.0, 333.2 / 337.4 - 1.0, 2e-5);
}

#[tokio::test]
async fn tencent_us_listing_uses_the_exchange_suffix() {
    let server = MockServer::start().await;
    serve(&server, TENCENT_US, &[("param", "usMSFT.OQ,day,2023-05-15,2023-05-19,640,")], fixture!("tencent/usMSFT.OQ-day.json")).await;
    serve(&server, TENCENT_US, &[("param", "usMSFT.OQ,day,2023-05-15,2023-05-19,640,hfq")], fixture!("tencent/usMSFT.OQ-hfqday.json"))
        .await;

    let series = providers(&server.uri()).fetch(ProviderName::Tencent, &request("MSFT.US", "2023-05-15", "2023-05-19")).await.unwrap();

    // 2023-05-16: close 311.74, hfq 311.74 × 1.1 = 342.914; volume in shares.
    let bar = &series.bars[1];
    assert_eq!((bar.date, bar.close, bar.adj_close, bar.volume), (date("2023-05-16"), 311.74, 342.914, Some(26_730_350.0)));
    assert_eq!(series.basis, AdjBasis::Hfq);
}

#[tokio::test]
async fn tencent_fx_uses_the_generic_kline_without_adjustment() {
    let server = MockServer::start().await;
    serve(&server, TENCENT_FX, &[("param", "whUSDCNY,day,2023-02-13,2023-02-17,640")], fixture!("tencent/whUSDCNY-day.json")).await;

    let series = providers(&server.uri()).fetch(ProviderName::Tencent, &request("USDCNY.FX", "2023-02-13", "2023-02-17")).await.unwrap();

    assert_eq!(series.basis, AdjBasis::None);
    assert_eq!(close_by(&series.bars, "2023-02-14"), (6.8255, 6.8255));
    assert!(series.bars.iter().all(|bar| bar.volume.is_none()), "FX volume means nothing and is dropped");
    assert_eq!(request_count(&server).await, 1);
}

#[tokio::test]
async fn bars_outside_the_requested_range_are_cut() {
    let server = MockServer::start().await;
    // The server answers with all five days although three were asked for.
    serve(&server, TENCENT_STOCK, &[("param", "sh600941,day,2023-06-06,2023-06-08,640,")], fixture!("tencent/sh600941-day.json")).await;
    serve(&server, TENCENT_STOCK, &[("param", "sh600941,day,2023-06-06,2023-06-08,640,hfq")], fixture!("tencent/sh600941-hfqday.json"))
        .await;

    let series = providers(&server.uri()).fetch(ProviderName::Tencent, &request("600941.SH", "2023-06-06", "2023-06-08")).await.unwrap();

    assert_eq!(dates(&series), vec![date("2023-06-06"), date("2023-06-07"), date("2023-06-08")]);
}

/// One daily series behind the provider server (the same server `provider_server` and the
/// sync tests run): raw close 10.00 + 0.01 × the day's index in `days`, the back-adjusted (hfq)
/// close twice that. Returns the base URL and the server's request log.
fn serve_series(symbol_text: &str, days: Vec<NaiveDate>, fault: Option<FailMode>) -> (String, RequestLog) {
    struct OneSeries(Security);
    impl Source for OneSeries {
        fn security(&self, symbol: &Symbol) -> Option<Cow<'_, Security>> {
            (*symbol == self.0.symbol).then_some(Cow::Borrowed(&self.0))
        }
    }
    let bar = |day: NaiveDate, close: f64| Bar {
        date: day,
        open: Some(close),
        high: Some(close),
        low: Some(close),
        close,
        volume: Some(100_000.0),
        adj_close: close,
    };
    let raw = days.iter().enumerate().map(|(index, day)| bar(*day, 10.0 + index as f64 * 0.01)).collect::<Vec<_>>();
    let hfq = raw.iter().map(|b| bar(b.date, 2.0 * b.close)).collect();
    let symbol = Symbol::parse(symbol_text).unwrap();
    let rules = fault.map(|mode| FailRule { provider: None, symbol: None, mode }).into_iter().collect();
    let state = ServerState::new(Arc::new(OneSeries(Security { symbol, raw, hfq, qfq: Vec::new() })), rules, Duration::ZERO);
    let log = state.log.clone();
    (spawn(state), log)
}

/// The `param` of each logged request, decoded.
fn params(log: &RequestLog) -> Vec<String> {
    let log = log.lock().unwrap();
    let decoded = |shown: &str| {
        url::Url::parse(&format!("http://server{shown}")).unwrap().query_pairs().find(|(key, _)| key == "param").unwrap().1.into_owned()
    };
    log.iter().map(|(_, shown)| decoded(shown)).collect()
}

fn days_between(from: &str, to: &str, weekdays_only: bool) -> Vec<NaiveDate> {
    use chrono::Datelike;
    date(from)
        .iter_days()
        .take_while(|day| *day <= date(to))
        .filter(|day| !weekdays_only || day.weekday().number_from_monday() <= 5)
        .collect()
}

#[tokio::test]
async fn tencent_pages_long_histories_by_date_window() {
    let (base_url, log) = serve_series("600941.SH", days_between("2020-01-01", "2023-12-31", true), None);

    let series = providers(&base_url).fetch(ProviderName::Tencent, &request("600941.SH", "2020-01-01", "2023-12-31")).await.unwrap();

    // Weekdays: 262 (2020) + 261 (2021) + 260 (2022) + 260 (2023) = 1043, more than one 640-bar page.
    assert_eq!(series.bars.len(), 1043);
    assert_eq!((series.bars[0].date, series.bars[1042].date), (date("2020-01-01"), date("2023-12-29")));
    assert!(series.bars.windows(2).all(|pair| pair[0].date < pair[1].date), "oldest first, unique");
    assert!(series.bars.iter().all(|bar| (bar.adj_close - 2.0 * bar.close).abs() < 1e-9), "raw and hfq joined by date");
    // Two two-year windows (523 and 520 weekdays), each fetched raw and hfq.
    let params = params(&log);
    assert_eq!(params.len(), 4, "{params:?}");
    assert!(params[0].contains("2020-01-01,2021-12-31") && params[1].contains("2022-01-01,2023-12-31"), "{params:?}");
}

#[rstest]
#[case::server_keeps_the_latest_rows(true, "sh000300,day,2022-01-01,2022-03-31,640,")]
#[case::server_keeps_the_earliest_rows(false, "sh000300,day,2023-10-03,2023-12-31,640,")]
#[tokio::test]
async fn tencent_refetches_what_a_full_page_left_out(#[case] keep_latest: bool, #[case] second_param: &str) {
    // Every calendar day for two years: 730 rows in one window, more than a page holds.
    let days = days_between("2022-01-01", "2023-12-31", false);
    let (base_url, log) = serve_series("000300.SH", days, (!keep_latest).then_some(FailMode::EarliestRows));

    let series = providers(&base_url).fetch(ProviderName::Tencent, &request("000300.SH", "2022-01-01", "2023-12-31")).await.unwrap();

    assert_eq!(series.bars.len(), 730);
    // The first page held 640 days (latest: from 2022-04-01; earliest: up to 2023-10-02), so
    // the other 90 are asked for in a second request.
    let params = params(&log);
    assert_eq!(params.len(), 2, "{params:?}");
    assert_eq!(params[1], second_param);
}

#[tokio::test]
async fn tencent_probes_us_suffixes_and_remembers_the_answer() {
    let server = MockServer::start().await;
    serve(&server, TENCENT_US, &[("param", "usORCL.OQ,day,2023-05-15,2023-05-19,640,")], r#"{"code":0,"msg":"","data":{}}"#).await;
    let body = |key: &str, close: &str| {
        format!(r#"{{"code":0,"data":{{"usORCL.N":{{"{key}":[["2023-05-16","98.000","{close}","99.000","97.000","100"]]}}}}}}"#)
    };
    serve(&server, TENCENT_US, &[("param", "usORCL.N,day,2023-05-15,2023-05-19,640,")], &body("day", "98.500")).await;
    serve(&server, TENCENT_US, &[("param", "usORCL.N,day,2023-05-15,2023-05-19,640,hfq")], &body("hfqday", "197.000")).await;
    let providers = providers(&server.uri());
    let orcl = request("ORCL.US", "2023-05-15", "2023-05-19");

    let series = providers.fetch(ProviderName::Tencent, &orcl).await.unwrap();
    assert_eq!(close_by(&series.bars, "2023-05-16"), (98.5, 197.0));
    assert_eq!(request_count(&server).await, 3, ".OQ (unknown), .N raw, .N hfq");

    providers.fetch(ProviderName::Tencent, &orcl).await.unwrap();
    assert_eq!(request_count(&server).await, 5, "the second fetch goes straight to .N");
}

#[tokio::test]
async fn tencent_refuses_a_series_of_the_wrong_kind() {
    let server = MockServer::start().await;
    serve(&server, TENCENT_STOCK, &[("param", "sh600941,day,2023-06-05,2023-06-09,640,")], fixture!("tencent/sh600941-day.json")).await;
    // Asked for hfq, answered with the unadjusted `day` series.
    serve(&server, TENCENT_STOCK, &[("param", "sh600941,day,2023-06-05,2023-06-09,640,hfq")], fixture!("tencent/sh600941-day.json")).await;

    let error = fetch_err(&providers(&server.uri()), ProviderName::Tencent, &request("600941.SH", "2023-06-05", "2023-06-09")).await;

    assert_eq!(error.kind, ProviderErrorKind::Malformed);
    assert!(error.message.contains("asked for `hfqday`") && error.message.contains("got `day`"), "{error}");
}

// ---------------------------------------------------------------------------------------
// Eastmoney

#[tokio::test]
async fn eastmoney_a_share_raw_and_hfq_with_referer() {
    let server = MockServer::start().await;
    let common = [("secid", "1.600941"), ("klt", "101"), ("beg", "20230605"), ("end", "20230609"), ("lmt", "1000000")];
    Mock::given(path(EASTMONEY))
        .and(query_param("fqt", "0"))
        .and(header("referer", ProviderName::Eastmoney.referer().unwrap()))
        .and(query_param(common[0].0, common[0].1))
        .and(query_param(common[1].0, common[1].1))
        .and(query_param(common[2].0, common[2].1))
        .and(query_param(common[3].0, common[3].1))
        .and(query_param(common[4].0, common[4].1))
        .respond_with(ResponseTemplate::new(200).set_body_string(fixture!("eastmoney/1.600941-fqt0.json")))
        .mount(&server)
        .await;
    serve(&server, EASTMONEY, &[("secid", "1.600941"), ("fqt", "2")], fixture!("eastmoney/1.600941-fqt2.json")).await;

    let series = providers(&server.uri()).fetch(ProviderName::Eastmoney, &request("600941.SH", "2023-06-05", "2023-06-09")).await.unwrap();

    assert_eq!((series.provider, series.basis, series.bars.len()), (ProviderName::Eastmoney, AdjBasis::Hfq, 5));
    // "2023-06-09,96.70,102.66,102.66,96.17,146586,…": close is the third column (102.66),
    // 146586 lots = 14658600 shares; hfq 102.66 × 1.02 × 98.33 / 96.35 = 106.865 (rounded to 2 dp: 106.87).
    let last = &series.bars[4];
    assert_eq!(
        (last.open, last.close, last.high, last.low, last.volume),
        (Some(96.7), 102.66, Some(102.66), Some(96.17), Some(14_658_600.0))
    );
    assert_eq!(last.adj_close, 106.87);
    assert_eq!(request_count(&server).await, 2);
}

/// The verbatim CSI 300 capture from the research notes (8 fields, 2026-09-28 … 30).
const EASTMONEY_CSI300: &str = r#"{"rc":0,"rt":17,"svr":183642696,"lt":1,"full":0,"dlmkts":"","dsc":"0","data":{"code":"000300","market":1,"name":"沪深300","decimal":2,"dktotal":5282,"preKPrice":4439.14,"klines":["2026-09-28,4423.82,4340.76,4423.82,4323.57,171277373,428620471197.90,2.26","2026-09-29,4335.81,4345.21,4359.30,4324.53,148129466,334950785525.60,0.80","2026-09-30,4356.80,4357.62,4368.61,4341.88,162949626,356491548621.40,0.62"]}}"#;

#[tokio::test]
async fn eastmoney_index_volume_is_in_lots() {
    let server = MockServer::start().await;
    serve(&server, EASTMONEY, &[("secid", "1.000300"), ("fqt", "0")], EASTMONEY_CSI300).await;

    let series = providers(&server.uri()).fetch(ProviderName::Eastmoney, &request("000300.SH", "2026-09-28", "2026-09-30")).await.unwrap();

    assert_eq!(series.basis, AdjBasis::None);
    // 171277373 lots × 100 = 17127737300 shares; close 4340.76 (third column) is also adj_close.
    let first = &series.bars[0];
    assert_eq!((first.close, first.adj_close, first.high, first.volume), (4340.76, 4340.76, Some(4423.82), Some(17_127_737_300.0)));
    assert_eq!(request_count(&server).await, 1);
}

#[tokio::test]
async fn eastmoney_hong_kong_jsonp_with_missing_values() {
    let server = MockServer::start().await;
    serve(&server, EASTMONEY, &[("secid", "116.00700"), ("fqt", "0")], fixture!("eastmoney/116.00700-fqt0.jsonp")).await;
    serve(&server, EASTMONEY, &[("secid", "116.00700"), ("fqt", "2")], fixture!("eastmoney/116.00700-fqt2.jsonp")).await;

    let series = providers(&server.uri()).fetch(ProviderName::Eastmoney, &request("0700.HK", "2023-05-15", "2023-05-19")).await.unwrap();

    // "2023-05-17,-" has no close and is dropped; 05-16 keeps its bar with the `-` open missing.
    assert_eq!(dates(&series), vec![date("2023-05-15"), date("2023-05-16"), date("2023-05-18"), date("2023-05-19")]);
    let bar = &series.bars[1];
    assert_eq!((bar.open, bar.close, bar.adj_close, bar.volume), (None, 344.8, 517.2, Some(14_121_222.0)));
}

#[tokio::test]
async fn eastmoney_us_listing_from_the_table() {
    let server = MockServer::start().await;
    serve(&server, EASTMONEY, &[("secid", "105.MSFT"), ("fqt", "0")], fixture!("eastmoney/105.MSFT-fqt0.json")).await;
    serve(&server, EASTMONEY, &[("secid", "105.MSFT"), ("fqt", "2")], fixture!("eastmoney/105.MSFT-fqt2.json")).await;

    let series = providers(&server.uri()).fetch(ProviderName::Eastmoney, &request("MSFT.US", "2023-05-15", "2023-05-19")).await.unwrap();

    // 2023-05-19: close 318.34, hfq 318.34 × 1.1 × 311.74 / 311.06 = 350.9395 (350.940 at 3 dp);
    // volume in shares.
    let last = &series.bars[4];
    assert_eq!((last.close, last.adj_close, last.volume), (318.34, 350.94, Some(27_546_700.0)));
}

#[tokio::test]
async fn eastmoney_probes_us_prefixes_105_then_106_and_remembers() {
    let server = MockServer::start().await;
    serve(&server, EASTMONEY, &[("secid", "105.ORCL")], fixture!("eastmoney/unknown-secid.json")).await;
    let body = |close: &str| {
        format!(r#"{{"rc":0,"data":{{"code":"ORCL","market":106,"klines":["2023-05-16,98.000,{close},99.000,97.000,100"]}}}}"#)
    };
    serve(&server, EASTMONEY, &[("secid", "106.ORCL"), ("fqt", "0")], &body("98.500")).await;
    serve(&server, EASTMONEY, &[("secid", "106.ORCL"), ("fqt", "2")], &body("197.000")).await;
    let providers = providers(&server.uri());
    let orcl = request("ORCL.US", "2023-05-15", "2023-05-19");

    let series = providers.fetch(ProviderName::Eastmoney, &orcl).await.unwrap();
    assert_eq!(close_by(&series.bars, "2023-05-16"), (98.5, 197.0));
    let secids: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.query_pairs().find(|(k, _)| k == "secid").unwrap().1.into_owned())
        .collect();
    assert_eq!(secids, vec!["105.ORCL", "106.ORCL", "106.ORCL"]);

    providers.fetch(ProviderName::Eastmoney, &orcl).await.unwrap();
    assert_eq!(request_count(&server).await, 5, "the second fetch goes straight to 106");
}

#[tokio::test]
async fn eastmoney_fx_is_the_central_parity_fixing() {
    let server = MockServer::start().await;
    serve(&server, EASTMONEY, &[("secid", "120.USDCNYC"), ("fqt", "0")], fixture!("eastmoney/120.USDCNYC.json")).await;

    let series = providers(&server.uri()).fetch(ProviderName::Eastmoney, &request("USDCNY.FX", "2023-02-13", "2023-02-17")).await.unwrap();

    assert_eq!((series.basis, series.bars.len()), (AdjBasis::None, 5));
    assert_eq!(close_by(&series.bars, "2023-02-15"), (6.851, 6.851));
    assert_eq!(series.bars[0].volume, None);
}

#[tokio::test]
async fn eastmoney_empty_klines_are_an_empty_series_without_a_second_request() {
    let server = MockServer::start().await;
    serve(&server, EASTMONEY, &[("secid", "1.600941")], r#"{"rc":0,"data":{"code":"600941","market":1,"klines":[]}}"#).await;

    let series = providers(&server.uri()).fetch(ProviderName::Eastmoney, &request("600941.SH", "2023-06-10", "2023-06-11")).await.unwrap();

    assert!(series.bars.is_empty());
    assert_eq!(request_count(&server).await, 1);
}

#[tokio::test]
async fn unsupported_market_answers_without_http() {
    let server = MockServer::start().await;

    let error = fetch_err(&providers(&server.uri()), ProviderName::Eastmoney, &request("USDHKD.FX", "2023-02-13", "2023-02-17")).await;

    assert_eq!(error.kind, ProviderErrorKind::Unsupported);
    assert!(error.to_string().starts_with("USDHKD.FX via eastmoney:"), "{error}");
    assert_eq!(request_count(&server).await, 0);
}

// ---------------------------------------------------------------------------------------
// Yahoo

#[tokio::test]
async fn yahoo_a_share_with_adjclose_and_a_null_gap() {
    let server = MockServer::start().await;
    // period1 = 2023-06-04 00:00 UTC = 1685836800; period2 = 2023-06-11 00:00 UTC = 1686441600.
    serve(
        &server,
        "/v8/finance/chart/600941.SS",
        &[("period1", "1685836800"), ("period2", "1686441600"), ("interval", "1d"), ("events", "div|split"), ("includePrePost", "false")],
        fixture!("yahoo/600941.SS.json"),
    )
    .await;

    let series = providers(&server.uri()).fetch(ProviderName::Yahoo, &request("600941.SH", "2023-06-05", "2023-06-09")).await.unwrap();

    assert_eq!(series.basis, AdjBasis::YahooAdjclose);
    // Timestamps are 09:30 in Shanghai (01:30 UTC); the 2023-06-08 row is all null.
    assert_eq!(dates(&series), vec![date("2023-06-05"), date("2023-06-06"), date("2023-06-07"), date("2023-06-09")]);
    let bar = &series.bars[2];
    assert_eq!((bar.close, bar.adj_close, bar.volume), (95.85, 93.732295, Some(7_834_327.0)));
    // firstTradeDate 1641346200 = 2022-01-05 01:30 UTC = 09:30 in Shanghai.
    assert_eq!(series.first_trade_date, Some(date("2022-01-05")));
}

#[tokio::test]
async fn yahoo_drops_the_live_bar() {
    let server = MockServer::start().await;
    serve(&server, "/v8/finance/chart/MSFT", &[], fixture!("yahoo/MSFT.json")).await;

    let series = providers(&server.uri()).fetch(ProviderName::Yahoo, &request("MSFT.US", "2023-08-14", "2023-08-18")).await.unwrap();

    // Bars at 09:30 EDT (13:30 UTC) 08-14 … 08-17; the fifth, stamped 11:03:27 EDT on 08-18 =
    // regularMarketTime, is the session in progress.
    assert_eq!(dates(&series), vec![date("2023-08-14"), date("2023-08-15"), date("2023-08-16"), date("2023-08-17")]);
    assert_eq!(close_by(&series.bars, "2023-08-16"), (320.4, 319.751014));
    // firstTradeDate 511108200 = 1986-03-13 14:30 UTC = 09:30 EST.
    assert_eq!(series.first_trade_date, Some(date("1986-03-13")));
}

#[tokio::test]
async fn yahoo_fx_uses_close_and_drops_volume() {
    let server = MockServer::start().await;
    serve(&server, "/v8/finance/chart/CNY=X", &[], fixture!("yahoo/CNY=X.json")).await;

    let series = providers(&server.uri()).fetch(ProviderName::Yahoo, &request("USDCNY.FX", "2023-02-13", "2023-02-17")).await.unwrap();

    assert_eq!((series.basis, series.bars.len()), (AdjBasis::None, 5));
    assert_eq!(close_by(&series.bars, "2023-02-13"), (6.8198, 6.8198));
    assert!(series.bars.iter().all(|bar| bar.volume.is_none()));
}

#[tokio::test]
async fn yahoo_unknown_symbol_is_not_found_with_yahoos_words_and_not_retried() {
    let server = MockServer::start().await;
    Mock::given(path("/v8/finance/chart/NOSUCH"))
        .respond_with(ResponseTemplate::new(404).set_body_string(fixture!("yahoo/not-found.json")))
        .mount(&server)
        .await;

    let error = fetch_err(&providers(&server.uri()), ProviderName::Yahoo, &request("NOSUCH.US", "2023-08-14", "2023-08-18")).await;

    assert_eq!(error.kind, ProviderErrorKind::NotFound);
    assert!(error.message.contains("No data found, symbol may be delisted"), "{error}");
    assert!(error.to_string().starts_with("NOSUCH.US via yahoo:"), "{error}");
    assert_eq!(request_count(&server).await, 1, "4xx other than 429 is never retried");
}

// ---------------------------------------------------------------------------------------
// Failure modes, through the shared HTTP layer

const MSFT_PATH: &str = "/v8/finance/chart/MSFT";

fn msft() -> FetchRequest {
    request("MSFT.US", "2023-08-14", "2023-08-18")
}

#[tokio::test]
async fn waits_for_retry_after_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(path(MSFT_PATH))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1").set_body_string("Too Many Requests"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    serve(&server, MSFT_PATH, &[], fixture!("yahoo/MSFT.json")).await;

    let started = Instant::now();
    let series = providers(&server.uri()).fetch(ProviderName::Yahoo, &msft()).await.unwrap();

    assert_eq!(series.bars.len(), 4);
    assert!(started.elapsed() >= Duration::from_secs(1), "waited only {:?}", started.elapsed());
    assert_eq!(request_count(&server).await, 2);
}

#[tokio::test]
async fn persistent_429_is_blocked_after_the_retries() {
    let server = MockServer::start().await;
    Mock::given(path(MSFT_PATH))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1").set_body_string("Too Many Requests"))
        .mount(&server)
        .await;

    let error = fetch_err(&providers(&server.uri()), ProviderName::Yahoo, &msft()).await;

    assert_eq!(error.kind, ProviderErrorKind::Blocked);
    assert!(error.message.contains("429") && error.message.contains("Too Many Requests"), "{error}");
    assert!(error.message.contains("after 2 attempts"), "{error}");
    assert_eq!(request_count(&server).await, 2, "one try and max_retries = 1 retry");
}

#[tokio::test]
async fn server_error_is_retried() {
    let server = MockServer::start().await;
    Mock::given(path(EASTMONEY)).respond_with(ResponseTemplate::new(500)).up_to_n_times(1).mount(&server).await;
    serve(&server, EASTMONEY, &[("secid", "1.000300")], EASTMONEY_CSI300).await;

    let series = providers(&server.uri()).fetch(ProviderName::Eastmoney, &request("000300.SH", "2026-09-28", "2026-09-30")).await.unwrap();

    assert_eq!(series.bars.len(), 3);
    assert_eq!(request_count(&server).await, 2);
}

#[tokio::test]
async fn persistent_server_error_is_transient() {
    let server = MockServer::start().await;
    Mock::given(path(TENCENT_STOCK))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html><head><title>502 Bad Gateway</title></head></html>"))
        .mount(&server)
        .await;

    let error = fetch_err(&providers(&server.uri()), ProviderName::Tencent, &request("000300.SH", "2023-02-13", "2023-02-17")).await;

    assert_eq!(error.kind, ProviderErrorKind::Transient);
    assert!(error.message.contains("502") && error.message.contains("<title>502 Bad Gateway</title>"), "{error}");
    assert_eq!(request_count(&server).await, 2);
}

#[tokio::test]
async fn timeout_is_retried_then_transient() {
    let server = MockServer::start().await;
    Mock::given(path(MSFT_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_string(fixture!("yahoo/MSFT.json")).set_delay(Duration::from_millis(1500)))
        .mount(&server)
        .await;

    let error = fetch_err(&providers(&server.uri()), ProviderName::Yahoo, &msft()).await;

    assert_eq!(error.kind, ProviderErrorKind::Transient);
    assert!(error.message.contains("timed out") && error.message.contains("providers.yahoo.timeout_secs"), "{error}");
    assert_eq!(request_count(&server).await, 2);
}

#[tokio::test]
async fn dropped_connection_is_blocked_and_not_retried() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    let server = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });

    let error =
        fetch_err(&providers(&format!("http://{address}")), ProviderName::Eastmoney, &request("600941.SH", "2023-06-05", "2023-06-09"))
            .await;
    server.abort();

    assert_eq!(error.kind, ProviderErrorKind::Blocked, "{error}");
    assert!(error.message.contains("connection closed"), "{error}");
    assert_eq!(accepted.load(Ordering::SeqCst), 1, "a dropped connection is a ban signal and is not retried");
}

#[tokio::test]
async fn unreachable_host_is_retried_then_unreachable() {
    // Bind a port, then free it: nothing listens there, so every connect is refused.
    let address = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let error =
        fetch_err(&providers(&format!("http://{address}")), ProviderName::Eastmoney, &request("600941.SH", "2023-06-05", "2023-06-09"))
            .await;
    assert_eq!(error.kind, ProviderErrorKind::Unreachable, "{error}");
    // settings(…, 1) allows one retry: two attempts in all.
    assert!(error.message.contains("cannot connect") && error.message.contains("after 2 attempts"), "{error}");
    assert!(error.message.contains("providers.eastmoney.base_url"), "{error}");
}

#[rstest]
#[case::html_page(
    "<!DOCTYPE html><html><head><title>Access Denied</title></head><body>…</body></html>",
    ProviderErrorKind::Blocked,
    "HTML page instead of JSON: <title>Access Denied</title>"
)]
#[case::empty_body("", ProviderErrorKind::Blocked, "empty body")]
#[case::truncated_json(
    r#"{"code":0,"msg":"","data":{"sh000300":{"day":[["2023-02-13","4098.880","41"#,
    ProviderErrorKind::Malformed,
    "unparseable JSON"
)]
#[case::bad_number(
    r#"{"code":0,"data":{"sh000300":{"day":[["2023-02-13","4098.880","abc","1","1","1"]]}}}"#,
    ProviderErrorKind::Malformed,
    "`abc` is not a number"
)]
#[case::unknown_symbol(r#"{"code":0,"msg":"","data":{}}"#, ProviderErrorKind::NotFound, "no data for `sh000300`")]
#[tokio::test]
async fn tencent_bodies_that_are_not_data(#[case] body: &str, #[case] kind: ProviderErrorKind, #[case] says: &str) {
    let server = MockServer::start().await;
    Mock::given(path(TENCENT_STOCK)).respond_with(ResponseTemplate::new(200).set_body_string(body)).mount(&server).await;

    let error = fetch_err(&providers(&server.uri()), ProviderName::Tencent, &request("000300.SH", "2023-02-13", "2023-02-17")).await;

    assert_eq!(error.kind, kind, "{error}");
    assert!(error.message.contains(says), "{error}");
    assert!(error.to_string().starts_with("000300.SH via tencent:"), "{error}");
    assert_eq!(request_count(&server).await, 1, "bodies are not retried");
}

#[rstest]
#[case::unknown_secid(fixture!("eastmoney/unknown-secid.json"), ProviderErrorKind::NotFound, "rc=102")]
#[case::html_page("<html><head><title>Just a moment...</title></head></html>", ProviderErrorKind::Blocked, "Just a moment")]
#[case::truncated_jsonp(
    "jQuery1_2({\"rc\":0,\"data\":{\"klines\":[\"2023-06-05,99.36",
    ProviderErrorKind::Malformed,
    "neither JSON nor JSONP"
)]
#[tokio::test]
async fn eastmoney_bodies_that_are_not_data(#[case] body: &str, #[case] kind: ProviderErrorKind, #[case] says: &str) {
    let server = MockServer::start().await;
    Mock::given(path(EASTMONEY)).respond_with(ResponseTemplate::new(200).set_body_string(body)).mount(&server).await;

    let error = fetch_err(&providers(&server.uri()), ProviderName::Eastmoney, &request("600941.SH", "2023-06-05", "2023-06-09")).await;

    assert_eq!(error.kind, kind, "{error}");
    assert!(error.message.contains(says), "{error}");
}

#[tokio::test]
async fn rate_limit_spaces_requests() {
    let server = MockServer::start().await;
    serve(&server, MSFT_PATH, &[], fixture!("yahoo/MSFT.json")).await;
    let providers = providers_with(&server.uri(), |settings| settings.requests_per_second = 5.0);

    let started = Instant::now();
    for _ in 0..3 {
        providers.fetch(ProviderName::Yahoo, &msft()).await.unwrap();
    }

    // 5 per second = one every 200 ms: the first goes at once, the next two wait 200 ms each.
    assert!(started.elapsed() >= Duration::from_millis(400), "took only {:?}", started.elapsed());
    assert_eq!(request_count(&server).await, 3);
}

#[tokio::test]
async fn empty_range_sends_nothing() {
    let server = MockServer::start().await;

    let series = providers(&server.uri()).fetch(ProviderName::Tencent, &request("600941.SH", "2023-06-09", "2023-06-05")).await.unwrap();

    assert!(series.bars.is_empty());
    assert_eq!(request_count(&server).await, 0);
}
