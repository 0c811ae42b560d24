//! The builders checked two ways: exact bodies for a few hand-made cases, and round trips
//! through the real clients (`Providers::fetch` against this server on 127.0.0.1:0), whose
//! bars must equal the CSV rows. The CSV rows are real 2023 prices unless marked synthetic.

use crate::env_line;
use crate::server::*;
use chrono::NaiveDate;
use hyper::StatusCode;
use ratingwatch::config::{ProviderConfig, ProvidersConfig};
use ratingwatch::csv_import::parse_prices;
use ratingwatch::prices::AdjBasis;
use ratingwatch::prices::Bar;
use ratingwatch::providers::{FetchRequest, FetchedSeries, ProviderErrorKind, Providers};
use ratingwatch::providers::{ProviderName, from_yahoo_symbol};
use ratingwatch::symbol::Symbol;
use rstest::rstest;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;
use tokio::net::TcpListener;

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
    tokio::spawn(serve(listener, Arc::new(ServerState::new(Arc::new(library), rules, latency))));
    base_url
}

/// All three clients pointed at `base_url`: no rate limit, no retries, 5 s timeouts.
fn providers(base_url: &str) -> Providers {
    let settings = ProviderConfig { base_url: base_url.to_string(), timeout_secs: 5, requests_per_second: 0.0, max_retries: 0 };
    let config = ProvidersConfig { tencent: settings.clone(), eastmoney: settings.clone(), yahoo: settings, chains: Default::default() };
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
        csv.push_str(&format!("{when},{close},{close},{close},{close},{},{}\n", 1000 + day * 100, close * (1.0 + f64::from(day) / 2000.0)));
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
    // `--fail …=earliest` keeps the first 640 instead: day 0 (hfq 20 × 10 / 20 = 10) to day 639.
    let earliest = TencentRequest { page: Page::Earliest, ..request.clone() };
    let body: serde_json::Value = serde_json::from_str(&tencent_body(&earliest, Some(&security))).unwrap();
    let rows = body["data"]["sh600941"]["hfqday"].as_array().unwrap();
    assert_eq!(rows.len(), 640);
    assert_eq!((rows[0][0].as_str(), rows[0][2].as_str()), (Some("2020-01-01"), Some("10.000")));
    // Day 639: 2020 has 366 days, and 273 more from 2021-01-01 is 2021-10-01.
    assert_eq!(rows[639][0].as_str(), Some("2021-10-01"));
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
    let body: serde_json::Value = serde_json::from_str(&yahoo_body("MSFT", security, Some(1_678_406_400), Some(1_678_752_000))).unwrap();
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
#[case("hkHSI", TencentEndpoint::HkFq, Some("^HSI.HK"))]
#[case("hkHSI", TencentEndpoint::UsFq, None)]
#[case("hkhsi", TencentEndpoint::HkFq, None)]
#[case("usINX", TencentEndpoint::UsFq, Some("^GSPC.US"))]
#[case("usIXIC", TencentEndpoint::UsFq, Some("^IXIC.US"))]
#[case("usDJI", TencentEndpoint::UsFq, Some("^DJI.US"))]
#[case("usSPX", TencentEndpoint::UsFq, None)]
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
#[case("100.HSI", Some("^HSI.HK"))]
#[case("100.SPX", Some("^GSPC.US"))]
#[case("100.NDX", Some("^IXIC.US"))]
#[case("100.DJIA", Some("^DJI.US"))]
#[case("100.IXIC", None)]
#[case("100.NDX100", None)]
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
#[case("^HSI", Some("^HSI.HK"))]
#[case("^IXIC", Some("^IXIC.US"))]
#[case("SPX", None)]
#[case("%5EHSI", None)]
fn yahoo_serves_only_exact_spellings(#[case] name: &str, #[case] expected: Option<&str>) {
    assert_eq!(from_yahoo_symbol(name), expected.map(|symbol| Symbol::parse(symbol).unwrap()));
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
#[case("600941.SH=502", FailRule { provider: None, symbol: Symbol::parse("600941.SH").ok(), mode: FailMode::Status(502) })]
#[case("yahoo:MSFT.US=unknown", FailRule { provider: Some(ProviderName::Yahoo), symbol: Symbol::parse("MSFT.US").ok(), mode: FailMode::Unknown })]
#[case("*=No-Bars", FailRule { provider: None, symbol: None, mode: FailMode::EmptySeries })]
#[case("tencent:*=earliest", FailRule { provider: Some(ProviderName::Tencent), symbol: None, mode: FailMode::EarliestRows })]
fn parses_fail_rules(#[case] text: &str, #[case] expected: FailRule) {
    assert_eq!(parse_fail_rule(text), Ok(expected));
}

#[rstest]
#[case("600941.SH", "expected [PROVIDER:]SYMBOL=MODE")]
#[case("600941.SH=302", "`302` is not a failure mode")]
#[case("600941.SH=600", "`600` is not a failure mode")]
#[case("sina:600941.SH=500", "`sina` is not a provider")]
#[case("60094.SH=500", "`60094.SH` is not a symbol")]
fn rejects_bad_fail_rules(#[case] text: &str, #[case] says: &str) {
    let message = parse_fail_rule(text).unwrap_err();
    assert!(message.contains(says), "{message}");
}

#[test]
fn the_most_specific_rule_wins() {
    let rules: Vec<FailRule> =
        ["*=500", "600941.SH=html", "yahoo:*=empty", "yahoo:600941.SH=drop"].iter().map(|text| parse_fail_rule(text).unwrap()).collect();
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
