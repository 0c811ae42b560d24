//! Hong Kong and US indices (`^HSI.HK`, `^GSPC.US`, `^IXIC.US`, `^DJI.US`): each provider's
//! request and answer (the real clients against wiremock, bodies from `tests/fixtures/<provider>/`),
//! a Hang Seng benchmark synced through the fake provider server with its fallbacks, and a
//! verdict against an HKD benchmark with a CNY member (prices in `tests/fixtures/indices/`).

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use tokio_util::sync::CancellationToken;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use ratingwatch::analysis::model::Status;
use ratingwatch::catalog;
use ratingwatch::config::{Config, ProviderConfig, ProvidersConfig};
use ratingwatch::pipeline::{self, AnalysisOptions};
use ratingwatch::prices::{AdjBasis, Bar};
use ratingwatch::providers::{FetchRequest, FetchedSeries, ProviderName, Providers};
use ratingwatch::store::Store;
use ratingwatch::symbol::Symbol;
use ratingwatch::sync::{Selection, SyncOptions, run_sync};

use crate::exchange::{Exchange, Fault, start};
use crate::support;
use crate::sync::{config, evening};

macro_rules! fixture {
    ($path:literal) => {
        include_str!(concat!("../fixtures/", $path))
    };
}

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn providers(base_url: &str) -> Providers {
    let settings = || ProviderConfig { base_url: base_url.to_string(), timeout_secs: 1, requests_per_second: 0.0, max_retries: 0 };
    let config = ProvidersConfig { tencent: settings(), eastmoney: settings(), yahoo: settings(), chains: Default::default() };
    Providers::from_config(&config).unwrap()
}

async fn serve(server: &MockServer, api_path: &str, query: &[(&str, &str)], body: &str) {
    let mut mock = Mock::given(method("GET")).and(path(api_path));
    for (key, value) in query {
        mock = mock.and(query_param(*key, *value));
    }
    mock.respond_with(ResponseTemplate::new(200).set_body_string(body)).expect(1).mount(server).await;
}

/// The week of the recorded-format fixtures, 2023-02-13 … 02-17.
async fn fetch_week(server: &MockServer, provider: ProviderName, symbol: &str) -> FetchedSeries {
    let request = FetchRequest { symbol: Symbol::parse(symbol).unwrap(), from: date("2023-02-13"), to: date("2023-02-17") };
    providers(&server.uri()).fetch(provider, &request).await.unwrap()
}

/// An index series: five sessions, unadjusted (`adj_close` = close), no volume.
#[track_caller]
fn assert_index_series(series: &FetchedSeries, closes: [f64; 5]) {
    assert_eq!(series.basis, AdjBasis::None);
    let dates: Vec<NaiveDate> = series.bars.iter().map(|bar| bar.date).collect();
    assert_eq!(dates, ["2023-02-13", "2023-02-14", "2023-02-15", "2023-02-16", "2023-02-17"].map(date));
    assert_eq!(series.bars.iter().map(|bar| bar.close).collect::<Vec<_>>(), closes);
    assert!(series.bars.iter().all(|bar| bar.adj_close == bar.close && bar.volume.is_none()), "{:?}", series.bars);
}

/// The Hang Seng levels of the three HSI fixtures (synthetic; see the fixture READMEs).
const HSI_CLOSES: [f64; 5] = [21164.42, 21113.76, 20812.17, 20987.67, 20719.81];

#[tokio::test]
async fn tencent_hang_seng_is_hkhsi_on_the_hong_kong_endpoint_once_unadjusted() {
    let server = MockServer::start().await;
    // One request, prices as traded (empty fq): an index has no hfq series.
    serve(&server, "/appstock/app/hkfqkline/get", &[("param", "hkHSI,day,2023-02-13,2023-02-17,640,")], fixture!("tencent/hkHSI-day.json"))
        .await;

    let series = fetch_week(&server, ProviderName::Tencent, "^HSI.HK").await;

    // The sixth column (83154036224 on 02-13) is the turnover in HKD, not a volume: dropped.
    assert_index_series(&series, HSI_CLOSES);
    assert_eq!((series.bars[0].open, series.bars[0].high, series.bars[0].low), (Some(21190.42), Some(21286.37), Some(20990.39)));
}

#[tokio::test]
async fn tencent_sp500_is_usinx_on_the_us_endpoint() {
    let server = MockServer::start().await;
    serve(&server, "/appstock/app/usfqkline/get", &[("param", "usINX,day,2023-02-13,2023-02-17,640,")], fixture!("tencent/usINX-day.json"))
        .await;

    let series = fetch_week(&server, ProviderName::Tencent, "^GSPC.US").await;

    assert_index_series(&series, [4137.29, 4136.13, 4147.6, 4090.41, 4079.09]);
}

#[tokio::test]
async fn eastmoney_indices_are_global_index_secids_fetched_once() {
    let server = MockServer::start().await;
    serve(&server, "/api/qt/stock/kline/get", &[("secid", "100.HSI"), ("fqt", "0")], fixture!("eastmoney/100.HSI-fqt0.json")).await;
    // The NASDAQ Composite is Eastmoney's `NDX` (its NASDAQ-100 is `NDX100`).
    serve(&server, "/api/qt/stock/kline/get", &[("secid", "100.NDX"), ("fqt", "0")], fixture!("eastmoney/100.NDX-fqt0.json")).await;

    assert_index_series(&fetch_week(&server, ProviderName::Eastmoney, "^HSI.HK").await, HSI_CLOSES);
    assert_index_series(
        &fetch_week(&server, ProviderName::Eastmoney, "^IXIC.US").await,
        [11891.79, 11960.15, 12070.59, 11855.83, 11787.27],
    );
}

#[tokio::test]
async fn yahoo_indices_are_caret_symbols_sent_percent_encoded() {
    let server = MockServer::start().await;
    // wiremock matches the path as sent: the caret must arrive as `%5E`.
    serve(&server, "/v8/finance/chart/%5EHSI", &[("interval", "1d")], fixture!("yahoo/^HSI.json")).await;
    serve(&server, "/v8/finance/chart/%5EGSPC", &[("interval", "1d")], fixture!("yahoo/^GSPC.json")).await;

    // Session opens 01:30 UTC (09:30 Hong Kong) and 14:30 UTC (09:30 New York) give these dates.
    assert_index_series(&fetch_week(&server, ProviderName::Yahoo, "^HSI.HK").await, HSI_CLOSES);
    assert_index_series(&fetch_week(&server, ProviderName::Yahoo, "^GSPC.US").await, [4137.29, 4136.13, 4147.6, 4090.41, 4079.09]);
}

// ---------------------------------------------------------------------------------------
// A Hang Seng benchmark synced through the fake provider server

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/indices")
}

fn hsi_report() -> catalog::ReportDef {
    catalog::load_report(&fixtures().join("hsi-report.toml")).unwrap()
}

async fn sync_hsi(config: &Config, now: DateTime<Utc>) {
    let providers = Providers::from_config(&config.providers).unwrap();
    let options = SyncOptions { selection: Selection::All, full: false, trigger: "test".to_string() };
    let summary = run_sync(config, &providers, &options, now, &CancellationToken::new()).await.unwrap();
    assert_eq!(summary.failures, vec![], "{summary:?}");
}

fn stored(config: &Config) -> (Vec<Bar>, Option<AdjBasis>, Option<String>) {
    let store = Store::open(&config.database.path).unwrap();
    let symbol = Symbol::parse("^HSI.HK").unwrap();
    let state = store.security_state(&symbol).unwrap();
    (store.all_bars(&symbol).unwrap(), state.adj_basis, state.adj_source)
}

#[rstest::rstest]
#[case::tencent_first(&[], ProviderName::Tencent)]
#[case::eastmoney_when_tencent_does_not_know_it(&[ProviderName::Tencent], ProviderName::Eastmoney)]
#[case::yahoo_last(&[ProviderName::Tencent, ProviderName::Eastmoney], ProviderName::Yahoo)]
#[tokio::test]
async fn a_hang_seng_benchmark_syncs_through_the_fake_server_down_the_fallback_chain(
    #[case] unknown_at: &[ProviderName],
    #[case] expected_provider: ProviderName,
) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("test.db")).unwrap();
    store.load_report(&hsi_report(), Utc::now()).unwrap();
    drop(store);
    let now = evening("2023-03-01");
    let exchange = Exchange::new(now);
    for provider in unknown_at {
        exchange.fault(*provider, "^HSI.HK", Fault::Unknown);
    }
    let servers = start(&exchange).await;
    let config = config(dir.path(), &servers);

    sync_hsi(&config, now).await;

    // The report's history starts a year before its date; the index is stored as sent, close
    // as its own adjusted close, no volume, on no adjustment basis.
    let (bars, basis, source) = stored(&config);
    let expected = exchange.expected(expected_provider, "^HSI.HK", "2022-02-14", "2023-03-01");
    assert_eq!(
        (bars.len(), bars.first().map(|b| b.date), bars.last().map(|b| b.date)),
        (expected.len(), Some(date("2022-02-14")), Some(date("2023-03-01")))
    );
    assert_eq!(bars, expected);
    assert!(bars.iter().all(|bar| bar.adj_close == bar.close && bar.volume.is_none()));
    assert_eq!((basis, source.as_deref()), (Some(AdjBasis::None), Some(expected_provider.as_str())));
    // The provider's own spelling reached the server.
    let log = exchange.take_log();
    let spelling = match expected_provider {
        ProviderName::Tencent => "param=hkHSI%2Cday",
        ProviderName::Eastmoney => "secid=100.HSI",
        ProviderName::Yahoo => "/v8/finance/chart/%5EHSI",
    };
    assert!(log.iter().any(|(provider, url)| *provider == expected_provider && url.contains(spelling)), "{log:?}");
}

// ---------------------------------------------------------------------------------------
// A verdict against an HKD benchmark

/// Prices (tests/fixtures/indices/), worked out by hand:
/// - 恒生指数 20000 → 19000 HKD: −5 %.
/// - 600941.SH (CNY) 30 → 33, converted into the benchmark's HKD at HKDCNY 0.88 → 0.92:
///   30 / 0.88 = 34.0909 HKD → 33 / 0.92 = 35.8696 HKD; (33 / 0.92) / (30 / 0.88) − 1 =
///   1.1 × 0.88 / 0.92 − 1 = +5.2173913 % (+10 % in CNY).
/// - 0700.HK (HKD) 380 → 330: −13.1578947 %, no conversion (same currency as the benchmark).
/// - 通信 excess 5.2173913 + 5 = 10.2173913 pp: 看好 (above +10), held.
/// - 互联网 excess −13.1578947 + 5 = −8.1578947 pp: 中性, not held.
/// - Basket (5.2173913 − 13.1578947) / 2 = −3.9702517 %; excess +1.0297483 pp: 中性.
#[test]
fn a_verdict_against_the_hang_seng_converts_cny_members_into_hkd() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("test.db")).unwrap();
    store.load_report(&hsi_report(), Utc::now()).unwrap();
    for symbol in ["^HSI.HK", "600941.SH", "0700.HK", "HKDCNY.FX"] {
        let file = fixtures().join(format!("{symbol}.csv"));
        support::ratingwatch(dir.path()).args(["import", "prices", "--symbol", symbol]).arg(&file).assert().success();
    }
    let report = store.report("hsi-2023-02-14").unwrap();
    let as_of = date("2023-12-31");

    let verdict = pipeline::verdict(&store, &report, as_of, &AnalysisOptions::default()).unwrap();

    let close = |actual: f64, expected: f64| assert!((actual - expected).abs() < 1e-12, "{actual} vs {expected}");
    assert_eq!((verdict.benchmark.base_close, verdict.benchmark.end_close), (20000.0, 19000.0));
    close(verdict.benchmark.total_return, -0.05);
    let telecom = &verdict.sectors[0];
    let mobile = &telecom.members[0];
    close(mobile.total_return, 1.1 * 0.88 / 0.92 - 1.0);
    close(mobile.local_return, 0.1);
    // The factor from CNY into HKD: 1 / HKDCNY.
    assert_eq!((mobile.fx_base, mobile.fx_end), (Some(1.0 / 0.88), Some(1.0 / 0.92)));
    close(telecom.excess, 1.1 * 0.88 / 0.92 - 1.0 + 0.05);
    assert_eq!((telecom.implied_rating.as_str(), telecom.status), ("看好", Status::Held));
    let internet = &verdict.sectors[1];
    let tencent = &internet.members[0];
    close(tencent.total_return, 330.0 / 380.0 - 1.0);
    assert_eq!((tencent.fx_base, tencent.fx_end), (None, None), "an HKD member of an HKD benchmark is not converted");
    close(internet.excess, 330.0 / 380.0 - 1.0 + 0.05);
    assert_eq!(internet.implied_rating.as_str(), "中性");
    close(verdict.basket.excess, ((1.1 * 0.88 / 0.92 - 1.0) + (330.0 / 380.0 - 1.0)) / 2.0 + 0.05);
    assert!(verdict.method.contains("in HKD (CNY converted at same-day rates)"), "{}", verdict.method);
    assert!(verdict.method.contains("恒生指数 (^HSI.HK)"), "{}", verdict.method);
}
