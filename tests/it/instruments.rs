//! The security master end to end: `instruments import` and `find` on the fixture CSV, every
//! seed company resolved from it, and the list/search clients against wiremock on 127.0.0.1
//! in Eastmoney's and Tencent's formats, failure modes included.

use std::path::Path;

use chrono::Utc;
use serde_json::json;
use tokio_util::sync::CancellationToken;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use ratingwatch::config::Config;
use ratingwatch::names::{Aliases, Kind, ListingPreference, Resolution, Resolver, Status, import::parse_instruments};
use ratingwatch::providers::ProviderErrorKind;
use ratingwatch::providers::instruments::{InstrumentSources, LIST_PATH, ListSegment, SEARCH_PATH, SMARTBOX_PATH};
use ratingwatch::store::Store;
use ratingwatch::sync::instruments::{SegmentOutcome, sync_instruments};

use crate::support::{ratingwatch, seed_report};

fn fixture_csv() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/instruments/instruments.csv")
}

fn fixture_resolver() -> Resolver {
    let file = fixture_csv();
    let rows = parse_instruments(&file, std::fs::File::open(&file).unwrap()).unwrap();
    Resolver::new(rows, Aliases::shipped().unwrap(), &ListingPreference::default())
}

#[test]
fn every_seed_company_resolves_from_the_fixture_to_its_seed_listings() {
    let resolver = fixture_resolver();
    let report = seed_report();
    assert_eq!(report.companies.len(), 45);
    for company in &report.companies {
        match resolver.resolve(&company.name) {
            Resolution::Resolved(found) => {
                assert_eq!(found.primary, company.symbol, "{}", company.name);
                assert_eq!(found.alternates, company.alternates, "{}", company.name);
            }
            other => panic!("{}: {other:?}", company.name),
        }
    }
    // The report's sub-group name for the three carriers.
    let Resolution::Many { companies } = resolver.resolve("运营商") else { panic!() };
    let primaries: Vec<String> = companies.iter().map(|c| c.primary.to_string()).collect();
    assert_eq!(primaries, ["600941.SH", "601728.SH", "600050.SH"]);
}

#[test]
fn import_then_find_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = ratingwatch(dir.path()).args(["instruments", "import"]).arg(fixture_csv()).assert().success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(stdout.contains("69 instruments: 69 added, 0 updated"), "{stdout}");

    let out = ratingwatch(dir.path()).args(["instruments", "find", "商汤"]).assert().success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(stdout.starts_with("商汤 → 0020.HK 商汤-W (SenseTime) (by name without suffix or legal form)"), "{stdout}");

    let out = ratingwatch(dir.path()).args(["instruments", "find", "联想"]).assert().code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(stdout.contains("联想: ambiguous") && stdout.contains("0992.HK") && stdout.contains("3396.HK"), "{stdout}");

    let out = ratingwatch(dir.path()).args(["instruments", "find", "阿里巴巴", "--format", "json"]).assert().success();
    let value: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(value["resolution"]["outcome"], "resolved");
    assert_eq!(value["resolution"]["primary"], "9988.HK");
    assert_eq!(value["resolution"]["alternates"], json!(["BABA.US"]));
    assert_eq!(value["step"], "exact");
}

#[test]
fn find_prints_control_characters_in_names_as_escapes() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("evil.csv");
    std::fs::write(&file, "symbol,name,name_en\n0700.HK,\u{1b}]0;pwned\u{7}腾讯控股,Ten\u{1b}[31mcent\n").unwrap();
    ratingwatch(dir.path()).args(["instruments", "import"]).arg(&file).assert().success();
    // The name no longer matches a plain query, so `find` lists it as a candidate (exit 1).
    let out = ratingwatch(dir.path()).args(["instruments", "find", "腾讯"]).assert().code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(!stdout.contains('\u{1b}') && !stdout.contains('\u{7}'), "{stdout:?}");
    let row = stdout.lines().find(|line| line.contains("0700.HK")).unwrap_or_else(|| panic!("{stdout}"));
    assert!(row.contains("\\u{1b}]0;pwned\\u{7}腾讯控股") && row.contains("Ten\\u{1b}[31mcent"), "{row}");
}

#[test]
fn a_bad_import_names_line_and_column_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "symbol,name,name_en,kind\n0700.HK,腾讯控股,Tencent,stock\n9988.HK,阿里巴巴-SW,Alibaba,bond\n").unwrap();
    let out = ratingwatch(dir.path()).args(["instruments", "import"]).arg(&bad).assert().code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("bad.csv:3: column kind: unknown kind `bond`"), "{stderr}");
    let store = Store::open(&dir.path().join("test.db")).unwrap();
    assert!(store.instruments().unwrap().is_empty(), "the good first row was not written either");
}

// ---------------------------------------------------------------------------------------
// The list, search and smartbox clients against wiremock

fn config(base_url: &str) -> Config {
    let mut config = Config::default();
    for provider in [&mut config.providers.eastmoney, &mut config.providers.tencent] {
        provider.requests_per_second = 0.0;
        provider.timeout_secs = 2;
        provider.max_retries = 2;
    }
    config.instruments.list_base_url = base_url.to_string();
    config.instruments.search_base_url = base_url.to_string();
    config.instruments.smartbox_base_url = base_url.to_string();
    config
}

/// Page `page` of an HK list of `total` rows, codes 00001…, `per_page` rows a page.
fn hk_page(page: usize, per_page: usize, total: usize) -> String {
    let first = (page - 1) * per_page + 1;
    let rows: Vec<serde_json::Value> = (first..=(first + per_page - 1).min(total))
        .map(|n| json!({"f2": 1.5, "f12": format!("{n:05}"), "f13": 116, "f14": format!("港股{n}")}))
        .collect();
    json!({"rc": 0, "rt": 6, "data": {"total": total, "diff": rows}}).to_string()
}

async fn mount_hk_pages(server: &MockServer, total: usize) {
    for page in 1..=total.div_ceil(100) {
        Mock::given(method("GET"))
            .and(path(LIST_PATH))
            .and(query_param("pn", page.to_string()))
            .and(query_param("pz", "100"))
            .and(query_param("fs", ListSegment::Hk.filter()))
            .respond_with(ResponseTemplate::new(200).set_body_string(hk_page(page, 100, total)))
            .mount(server)
            .await;
    }
}

async fn run_sync(base_url: &str, store: &mut Store) -> SegmentOutcome {
    let sources = InstrumentSources::from_config(&config(base_url)).unwrap();
    let summary =
        sync_instruments(&sources, store, &[ListSegment::Hk], Utc::now(), &CancellationToken::new(), &mut |_, _, _| {}).await.unwrap();
    summary.segments[0].1.clone()
}

#[tokio::test]
async fn the_list_is_paged_at_100_rows_and_stored_whole() {
    let server = MockServer::start().await;
    mount_hk_pages(&server, 250).await;
    let mut store = Store::open_in_memory().unwrap();
    let outcome = run_sync(&server.uri(), &mut store).await;
    let SegmentOutcome::Stored { pages, total, write, skipped } = outcome else { panic!("{outcome:?}") };
    // 250 rows at 100 a page: pages 1, 2 and 3 (50 rows), one request each.
    assert_eq!((pages, total, write.added, write.delisted, skipped), (3, 250, 250, 0, 0));
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
    let stored = store.instruments().unwrap();
    assert_eq!(stored.len(), 250);
    assert_eq!((stored[0].symbol.to_string(), stored[0].name.as_str()), ("0001.HK".to_string(), "港股1"));
    assert!(stored.iter().all(|i| i.kind == Kind::Stock && i.status == Status::Listed));
}

#[tokio::test]
async fn a_shorter_list_next_week_marks_the_missing_listings_delisted() {
    let first = MockServer::start().await;
    mount_hk_pages(&first, 150).await;
    let mut store = Store::open_in_memory().unwrap();
    run_sync(&first.uri(), &mut store).await;
    let second = MockServer::start().await;
    mount_hk_pages(&second, 120).await;
    let SegmentOutcome::Stored { write, .. } = run_sync(&second.uri(), &mut store).await else { panic!() };
    assert_eq!((write.added, write.updated, write.delisted), (0, 120, 30));
    let delisted: Vec<String> =
        store.instruments().unwrap().into_iter().filter(|i| i.status == Status::Delisted).map(|i| i.symbol.to_string()).collect();
    assert_eq!(delisted.len(), 30);
    assert_eq!(delisted[0], "0121.HK");
}

#[tokio::test]
async fn a_429_then_a_503_on_a_page_are_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(LIST_PATH))
        .and(query_param("pn", "2"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(LIST_PATH))
        .and(query_param("pn", "2"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&server)
        .await;
    mount_hk_pages(&server, 200).await;
    let mut store = Store::open_in_memory().unwrap();
    let outcome = run_sync(&server.uri(), &mut store).await;
    assert!(matches!(outcome, SegmentOutcome::Stored { total: 200, .. }), "{outcome:?}");
    // Page 1, then page 2 three times (429, 503, 200).
    assert_eq!(server.received_requests().await.unwrap().len(), 4);
    assert_eq!(store.instruments().unwrap().len(), 200);
}

/// A list that fails on page 2 in each of these ways stores nothing and keeps what was stored.
#[rstest::rstest]
#[case::persistent_5xx(ResponseTemplate::new(502), "HTTP 502")]
#[case::html_block_page(ResponseTemplate::new(200).set_body_string("<html><head><title>访问过于频繁</title></head></html>"), "HTML page")]
#[case::truncated_body(ResponseTemplate::new(200).set_body_string(&hk_page(2, 100, 200)[..150]), "unparseable JSON")]
#[case::empty_page_before_the_end(ResponseTemplate::new(200).set_body_string(json!({"rc":0,"data":{"total":200,"diff":[]}}).to_string()), "incomplete: 100 of 200")]
#[tokio::test]
async fn a_failed_page_fails_the_whole_list_and_writes_nothing(#[case] failure: ResponseTemplate, #[case] expected: &str) {
    let server = MockServer::start().await;
    Mock::given(method("GET")).and(path(LIST_PATH)).and(query_param("pn", "2")).respond_with(failure).with_priority(1).mount(&server).await;
    mount_hk_pages(&server, 200).await;
    let mut store = Store::open_in_memory().unwrap();
    store
        .upsert_instruments(&[ratingwatch::names::Instrument::stock("0700.HK".parse().unwrap(), "腾讯控股", None)], "import", Utc::now())
        .unwrap();
    let outcome = run_sync(&server.uri(), &mut store).await;
    let SegmentOutcome::Failed { error } = outcome else { panic!("{outcome:?}") };
    assert!(error.contains("HK list") && error.contains("eastmoney") && error.contains(expected), "{error}");
    let stored = store.instruments().unwrap();
    assert_eq!(stored.len(), 1, "only the imported row");
}

#[tokio::test]
async fn lookup_uses_eastmoney_search_with_accept_any() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(SEARCH_PATH))
        .and(query_param("keyword", "海光信息"))
        .and(header("accept", "*/*"))
        .respond_with(ResponseTemplate::new(200).set_body_string(include_str!("../fixtures/instruments/eastmoney-search.json")))
        .mount(&server)
        .await;
    let sources = InstrumentSources::from_config(&config(&server.uri())).unwrap();
    let lookup = sources.lookup("海光信息").await.unwrap();
    assert_eq!(lookup.provider.as_str(), "eastmoney");
    assert_eq!(lookup.instruments[0].symbol.to_string(), "688041.SH");
    assert_eq!(lookup.fallback_reason, None);
}

#[tokio::test]
async fn lookup_falls_back_to_the_gbk_smartbox_when_the_search_fails() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(SEARCH_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_string(include_str!("../fixtures/instruments/eastmoney-search-404.json")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(SMARTBOX_PATH))
        .and(query_param("q", "腾讯"))
        .and(query_param("t", "all"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_bytes(include_bytes!("../fixtures/instruments/tencent-smartbox-escapes.gbk").to_vec())
                .insert_header("content-type", "application/x-javascript; charset=GBK"),
        )
        .mount(&server)
        .await;
    let sources = InstrumentSources::from_config(&config(&server.uri())).unwrap();
    let lookup = sources.lookup("腾讯").await.unwrap();
    assert_eq!(lookup.provider.as_str(), "tencent");
    assert!(lookup.fallback_reason.as_deref().unwrap_or_default().contains("Path mismatch"), "{:?}", lookup.fallback_reason);
    let names: Vec<(String, String)> = lookup.instruments.iter().map(|i| (i.symbol.to_string(), i.name.clone())).collect();
    assert_eq!(names[1], ("0700.HK".to_string(), "腾讯控股".to_string()));

    // Both down: the error names the fallback provider and the ban signal.
    let down = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(403)).mount(&down).await;
    let sources = InstrumentSources::from_config(&config(&down.uri())).unwrap();
    let error = sources.lookup("腾讯").await.unwrap_err();
    assert_eq!((error.provider.as_str(), error.kind), ("tencent", ProviderErrorKind::Blocked));
}
