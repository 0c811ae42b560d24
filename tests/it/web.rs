//! The web server: every route against a temp database filled from the small report's
//! fixtures (`tests/fixtures/small-report/`, numbers worked out in its README), run
//! in-process on 127.0.0.1 with a real client; the API's JSON and the downloads compared
//! byte for byte with the real binary's output for the same question.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ratingwatch::clock::SystemClock;
use ratingwatch::config::Config;
use ratingwatch::ratings::{Change, RatingRecord};
use ratingwatch::web::{self, Mode, WebServer, WebState};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::support::{self, own_reports_stdout as cli_stdout, ratingwatch_own_reports as cli};

const REPORT: &str = support::SMALL_REPORT;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A temp folder with `reports/` holding the given report files (under `tests/fixtures/`) and
/// every fixture series imported.
fn imported(reports: &[&str]) -> tempfile::TempDir {
    support::small_report_folder(&reports.iter().map(|report| fixtures().join(report)).collect::<Vec<_>>())
}

fn config(dir: &Path) -> Config {
    let mut config = Config::default();
    config.database.path = dir.join("test.db");
    config.reports.dir = dir.join("reports");
    config.output.dir = dir.join("out");
    config.http.listen = "127.0.0.1:0".parse().unwrap();
    config
}

/// A running server; stops when dropped.
struct Server {
    base: String,
    shutdown: CancellationToken,
    client: reqwest::Client,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn start(config: Config, mode: Mode, token: Option<&str>) -> Server {
    let state = WebState::new(config, Arc::new(SystemClock), mode, token.map(str::to_string));
    let server = WebServer::bind(state).await.unwrap();
    let base = format!("http://{}", server.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    tokio::spawn(server.run(shutdown.clone(), Duration::from_secs(1)));
    Server { base, shutdown, client: reqwest::Client::new() }
}

struct Answer {
    status: u16,
    content_type: String,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Server {
    async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        let mut request = self.client.get(format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let headers = response.headers().clone();
        let content_type = headers.get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        Answer { status: response.status().as_u16(), content_type, headers, body: response.text().await.unwrap() }
    }

    async fn get(&self, path: &str) -> Answer {
        self.get_with(path, &[]).await
    }
}

fn verdict_path() -> String {
    format!("/reports/{REPORT}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_with_its_status_and_content_type() {
    let dir = imported(&["small-report/small-report.toml"]);
    let server = start(config(dir.path()), Mode::Standalone, None).await;
    let html = "text/html; charset=utf-8";
    let json = "application/json";
    let cases: Vec<(String, u16, &str)> = vec![
        ("/".into(), 200, html),
        ("/?as_of=2023-08-31".into(), 200, html),
        ("/ledger.json?as_of=2023-08-31".into(), 200, json),
        ("/ledger.csv?as_of=2023-08-31".into(), 200, "text/csv; charset=utf-8"),
        ("/ledger.md?as_of=2023-08-31".into(), 200, "text/markdown; charset=utf-8"),
        ("/reports".into(), 200, html),
        ("/reports.json".into(), 200, json),
        (verdict_path(), 200, html),
        (format!("{}?as_of=2023-05-19&currency=local", verdict_path()), 200, html),
        (format!("{}.json?as_of=2023-05-19", verdict_path()), 200, json),
        (format!("{}.csv", verdict_path()), 200, "text/csv; charset=utf-8"),
        (format!("{}.md", verdict_path()), 200, "text/markdown; charset=utf-8"),
        (format!("{}/weeks", verdict_path()), 200, html),
        (format!("{}/weeks.json", verdict_path()), 200, json),
        (format!("{}/weeks/2023-W20", verdict_path()), 200, html),
        (format!("{}/weeks/2023-W20.json", verdict_path()), 200, json),
        (format!("{}/weeks/2023-W20.csv", verdict_path()), 200, "text/csv; charset=utf-8"),
        (format!("{}/weeks/2023-W20.md", verdict_path()), 200, "text/markdown; charset=utf-8"),
        ("/status".into(), 200, html),
        ("/status.json".into(), 200, json),
        ("/ratings".into(), 200, html),
        ("/ratings?broker=%E4%B8%AD%E4%BF%A1%E5%BB%BA%E6%8A%95&symbol=600941.SH&since=2023-01-01&as_of=2023-08-31".into(), 200, html),
        ("/brokers".into(), 200, html),
        ("/brokers?by=analyst&as_of=2023-08-31".into(), 200, html),
        // 中信建投, percent-encoded: a broker of the book (no call is stored here).
        ("/brokers/%E4%B8%AD%E4%BF%A1%E5%BB%BA%E6%8A%95".into(), 200, html),
        ("/api/v1/ratings?as_of=2023-08-31".into(), 200, json),
        ("/api/v1/brokers?by=rating&as_of=2023-08-31".into(), 200, json),
        ("/assets/style.css".into(), 200, "text/css; charset=utf-8"),
        ("/healthz".into(), 200, json),
        ("/metrics".into(), 200, "text/plain; version=0.0.4; charset=utf-8"),
        ("/api/v1/reports".into(), 200, json),
        ("/api/v1/ledger?as_of=2023-08-31".into(), 200, json),
        (format!("/api/v1/reports/{REPORT}/verdict?as_of=2023-08-31"), 200, json),
        (format!("/api/v1/reports/{REPORT}/weeks"), 200, json),
        (format!("/api/v1/reports/{REPORT}/weeks/2023-W20"), 200, json),
        ("/api/v1/status".into(), 200, json),
        ("/api/v1/watchlist".into(), 200, json),
        (format!("/api/v1/watchlist?report={REPORT}"), 200, json),
        ("/api/v1/securities/600941.SH/prices?from=2023-05-01&to=2023-06-30".into(), 200, json),
        ("/api".into(), 200, html),
        ("/api/v1".into(), 200, json),
        ("/favicon.ico".into(), 200, "image/svg+xml"),
        ("/favicon.svg".into(), 200, "image/svg+xml"),
        ("/api?x=1".into(), 400, html),
        // Errors: pages answer HTML, the API and downloads JSON.
        ("/reports/nope".into(), 404, html),
        ("/reports/nope.json".into(), 404, json),
        ("/nothing/here".into(), 404, html),
        (format!("{}/weeks/2023-W99", verdict_path()), 400, html),
        (format!("{}?as_of=2023-02-01", verdict_path()), 422, html),
        ("/api/v1/reports/nope/verdict".into(), 404, json),
        (format!("/api/v1/reports/{REPORT}/verdict?as_of=19-05-2023"), 400, json),
        (format!("/api/v1/reports/{REPORT}/verdict?as_of=2023-02-13"), 422, json),
        (format!("/api/v1/reports/{REPORT}/verdict?currency=usd"), 400, json),
        (format!("/api/v1/reports/{REPORT}/weeks/2023-20"), 400, json),
        (format!("/api/v1/reports/{REPORT}/weeks/2023-W05"), 404, json),
        ("/api/v1/watchlist?report=nope".into(), 404, json),
        ("/brokers/nobody".into(), 404, html),
        ("/ratings?as_of=2023-02-30".into(), 400, html),
        ("/api/v1/ratings?symbol=600941.XX".into(), 400, json),
        ("/api/v1/brokers?by=desk".into(), 400, json),
        ("/api/v1/securities/MSFT.US/prices".into(), 404, json),
        ("/api/v1/securities/600941.SH/prices?from=2023-13-01".into(), 400, json),
    ];
    for (path, status, content_type) in &cases {
        let answer = server.get(path).await;
        assert_eq!((answer.status, answer.content_type.as_str()), (*status, *content_type), "{path}: {}", answer.body);
        // Every answer carries the security headers.
        assert!(answer.headers["content-security-policy"].to_str().unwrap().contains("default-src 'none'"), "{path}");
        assert_eq!(answer.headers["x-content-type-options"], "nosniff", "{path}");
        if *content_type == json && *status >= 400 {
            let error: Value = serde_json::from_str(&answer.body).unwrap();
            assert_eq!(error["status"], *status, "{path}");
            assert!(!error["message"].as_str().unwrap().is_empty(), "{path}");
        }
    }
    // Only reads: anything but GET/HEAD is refused.
    let post = server.client.post(format!("{}/", server.base)).send().await.unwrap();
    assert_eq!(post.status().as_u16(), 405);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ledger_rows_link_to_their_report_and_week_pages_link_back_to_the_verdict() {
    let dir = imported(&["small-report/small-report.toml"]);
    let server = start(config(dir.path()), Mode::Standalone, None).await;
    // The report cell links to its page, carrying the ledger's explicit as-of date.
    let ledger = server.get("/?as_of=2023-05-19").await.body;
    assert!(
        ledger.contains(&format!(r#"<td data-label="report"><a href="/reports/{REPORT}?as_of=2023-05-19">{REPORT}</a></td>"#)),
        "{ledger}"
    );
    let ledger = server.get("/").await.body;
    assert!(ledger.contains(&format!(r#"<a href="/reports/{REPORT}">{REPORT}</a></td>"#)), "{ledger}");
    // The CLI's HTML file links nowhere (its reader has no dashboard).
    let store = ratingwatch::store::Store::open_read_only(&config(dir.path()).database.path).unwrap();
    let verdicts = ratingwatch::pipeline::verdict_all(&store, "2023-05-19".parse().unwrap(), &Default::default()).unwrap();
    let file = ratingwatch::report::render_ledger(&verdicts, ratingwatch::report::Format::Html);
    assert!(file.contains(&format!("<td data-label=\"report\">{REPORT}</td>")) && !file.contains("<a href"), "{file}");
    let week = server.get(&format!("/reports/{REPORT}/weeks/2023-W20")).await.body;
    assert!(week.contains(&format!(r#"<a href="/reports/{REPORT}">Verdict</a>"#)), "{week}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_security_page_shows_the_company_in_each_report_under_its_rule() {
    let dir = imported(&["small-report/small-report.toml"]);
    let server = start(config(dir.path()), Mode::Standalone, None).await;
    // 600941.SH in the small report (fixture README): adjusted 40 → 50 by the horizon end,
    // +25 %, against the benchmark's +5 %: +20.00 pp ≥ +10 pp, so 看好 held for it alone,
    // 10.00 pp clear; it sits in both sectors.
    let page = server.get("/securities/600941.SH?as_of=2023-12-31").await;
    assert_eq!((page.status, page.content_type.as_str()), (200, "text/html; charset=utf-8"));
    let body = page.body;
    assert!(body.contains("<h1>600941.SH 中国移动</h1>"), "{body}");
    assert!(body.contains("看好 (overweight) held: +20.00 pp vs ≥ +10 pp (+10.00 pp clear), final, prices of 2023-08-14"), "{body}");
    assert!(body.contains("Sectors: 通信 communications, 应用 applications"), "{body}");
    assert!(body.contains(r#"<td class="num" data-label="excess">+20.00 pp</td>"#) && body.contains("+25.00 %"), "{body}");
    assert!(body.contains(&format!(r#"<a href="/reports/{REPORT}">"#)) && body.contains("<svg"), "{body}");
    // The verdict page's member tables link here.
    let verdict = server.get(&verdict_path()).await.body;
    assert!(verdict.contains(r#"<td><a href="/securities/600941.SH">600941.SH</a></td>"#), "{verdict}");
    // A symbol no report holds, or no symbol at all: 404 naming it.
    let missing = server.get("/securities/601398.SH").await;
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("no loaded report holds `601398.SH`"), "{}", missing.body);
    assert_eq!(server.get("/securities/not-a-symbol").await.status, 404);
    assert_eq!(server.get("/securities/600941.SH?sort=x").await.status, 400);
}

/// `?sort=` orders each member table by a numeric column, highest first. In 应用 (fixture
/// README, final): 0700.HK +15.5 % (excess +10.50 pp, contribution +7.75 %) comes before
/// 600941.SH +25 % (+20.00 pp, +12.50 %) in the report's order; sorted by excess, 600941.SH leads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_tables_sort_by_a_numeric_column_on_request() {
    let dir = imported(&["small-report/small-report.toml"]);
    let server = start(config(dir.path()), Mode::Standalone, None).await;
    let apps = |body: &str| -> (usize, usize) {
        let table = body.split_once("Members: 应用").unwrap().1;
        (table.find("0700.HK").unwrap(), table.find("600941.SH").unwrap())
    };
    let plain = server.get(&format!("{}?as_of=2023-12-31", verdict_path())).await.body;
    let (tencent, mobile) = apps(&plain);
    assert!(tencent < mobile, "the report's order");
    assert!(plain.contains("<b>report order</b>") && plain.contains("sort=excess"), "{plain}");
    for key in ["excess", "return", "contribution"] {
        let sorted = server.get(&format!("{}?as_of=2023-12-31&sort={key}", verdict_path())).await.body;
        let (tencent, mobile) = apps(&sorted);
        assert!(mobile < tencent, "sorted by {key}");
        assert!(sorted.contains(&format!("<b>{key}</b>")), "{key} marked current");
    }
    let bad = server.get(&format!("{}?sort=name", verdict_path())).await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("sort: `name` is not one of return, excess, contribution"), "{}", bad.body);
}

/// A report's life ends with its verdict: the archive stops at the week holding the horizon
/// end (W33 for the small report's 2023-08-14) even when the benchmark has later closes, and
/// lists the later weeks only under `schedule.weekly_after_horizon`, as the service writes them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_archive_ends_at_the_horizon_unless_weeks_after_it_are_kept() {
    let dir = imported(&["small-report/small-report.toml"]);
    {
        let mut store = ratingwatch::store::Store::open(&dir.path().join("test.db")).unwrap();
        let symbol = ratingwatch::symbol::Symbol::parse("000300.SH").unwrap();
        let day = "2023-08-25".parse().unwrap(); // Friday of W34
        let bars = [ratingwatch::prices::Bar::close_only(day, 4250.0)];
        let now = chrono::Utc::now();
        let write = ratingwatch::store::SeriesWrite::new(&symbol, &bars, "csv", ratingwatch::prices::AdjBasis::None, day, now);
        store.upsert_bars(&write).unwrap();
    }
    let weeks = |config: Config| async move {
        let server = start(config, Mode::Standalone, None).await;
        let weeks: Value = serde_json::from_str(&server.get(&format!("/api/v1/reports/{REPORT}/weeks")).await.body).unwrap();
        weeks.as_array().unwrap().iter().map(|w| w["week"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    let ended = weeks(config(dir.path())).await;
    assert_eq!(ended.first().map(String::as_str), Some("2023-W33"), "{ended:?}");
    let mut keep = config(dir.path());
    keep.schedule.weekly_after_horizon = true;
    let kept = weeks(keep).await;
    assert_eq!(kept.first().map(String::as_str), Some("2023-W34"), "{kept:?}");
    assert_eq!(kept.len(), ended.len() + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_index_lists_every_endpoint_and_each_answers() {
    let dir = imported(&["small-report/small-report.toml"]);
    let server = start(config(dir.path()), Mode::Standalone, None).await;
    let index: Value = serde_json::from_str(&server.get("/api/v1").await.body).unwrap();
    let paths: Vec<&str> = index.as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
    assert_eq!(paths.len(), ratingwatch::web::API_ENDPOINTS.len());
    let readme = include_str!("../../README.md");
    let page = server.get("/api").await.body;
    for path in &paths {
        // Each pattern, filled in with the fixture's report, a week with prices and a member,
        // answers JSON; the README's API table and the /api page name it.
        let concrete =
            path.split('?').next().unwrap().replace("{id}", REPORT).replace("{YYYY-Www}", "2023-W20").replace("{symbol}", "600941.SH");
        let answer = server.get(&concrete).await;
        assert_eq!((answer.status, answer.content_type.as_str()), (200, "application/json"), "{concrete}: {}", answer.body);
        let stem = path
            .trim_start_matches("/api/v1/")
            .split('?')
            .next()
            .unwrap()
            .replace("{id}", "<id>")
            .replace("{YYYY-Www}", "<YYYY-Www>")
            .replace("{symbol}", "<symbol>");
        assert!(readme.contains(&format!("| `{stem}")), "README's API table lacks {stem}");
        assert!(page.contains(&maud::html! { (path) }.into_string()), "/api lacks {path}");
    }
    // Every page names the icon, so no browser asks for a missing /favicon.ico.
    assert!(page.contains(r#"<link rel="icon" type="image/svg+xml" href="/favicon.svg">"#));
    assert!(server.get("/favicon.svg").await.body.starts_with("<svg"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_messages_name_what_was_asked_and_show_the_expected_form() {
    let dir = imported(&["small-report/small-report.toml"]);
    let server = start(config(dir.path()), Mode::Standalone, None).await;
    let message = |answer: Answer| serde_json::from_str::<Value>(&answer.body).unwrap()["message"].as_str().unwrap().to_string();
    let unknown = message(server.get("/api/v1/reports/no-such-report/verdict").await);
    assert!(unknown.contains("no-such-report") && unknown.contains(REPORT), "{unknown}");
    let bad_date = message(server.get(&format!("/api/v1/reports/{REPORT}/verdict?as_of=2023-5-1x")).await);
    assert!(bad_date.contains("2023-5-1x") && bad_date.contains("2023-05-19"), "{bad_date}");
    let bad_week = message(server.get(&format!("/api/v1/reports/{REPORT}/weeks/2023-W77")).await);
    assert!(bad_week.contains("2023-W77") && bad_week.contains("2023-W20"), "{bad_week}");
    let early = message(server.get(&format!("/api/v1/reports/{REPORT}/verdict?as_of=2023-01-31")).await);
    assert!(early.contains("2023-01-31") && early.contains("2023-02-14"), "{early}");
    // A week before the report names the first week: Tuesday 2023-02-14's Friday is in W07.
    let before = message(server.get(&format!("/api/v1/reports/{REPORT}/weeks/2023-W06")).await);
    assert!(before.contains("2023-W06") && before.contains("2023-W07"), "{before}");
    // A week without a benchmark close (the fixtures end on 2023-08-18) is no data, not a
    // flat 0.00 % week: a 404 as `report --week` exits 2, on the page and in the API.
    let empty = server.get(&format!("/api/v1/reports/{REPORT}/weeks/2023-W40")).await;
    assert_eq!(empty.status, 404, "{}", empty.body);
    let empty = message(empty);
    assert!(empty.contains("no prices in week 2023-W40 (2023-10-02 to 2023-10-06)") && empty.contains("2023-08-18"), "{empty}");
    assert_eq!(server.get(&format!("/reports/{REPORT}/weeks/2023-W40")).await.status, 404);
    let symbol = message(server.get("/api/v1/securities/ZZZZ.US/prices").await);
    assert!(symbol.contains("ZZZZ.US"), "{symbol}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_query_parameter_is_a_400_naming_it_and_the_known_ones() {
    let dir = imported(&["small-report/small-report.toml"]);
    let server = start(config(dir.path()), Mode::Standalone, None).await;
    let cases = [
        ("/api/v1/ledger?asof=2023-08-31".to_string(), "asof", "as_of"),
        (format!("/api/v1/reports/{REPORT}/verdict?as_of=2023-08-31&curency=local"), "curency", "as_of, currency"),
        (format!("/api/v1/reports/{REPORT}/weeks/2023-W20?as_of=2023-05-19"), "as_of", "currency"),
        (format!("/api/v1/reports/{REPORT}/weeks?currency=local"), "currency", "none"),
        ("/api/v1/status?verbose=1".to_string(), "verbose", "none"),
        ("/api/v1/reports?report=x".to_string(), "report", "none"),
        // A parameter another route takes is still unknown here.
        ("/api/v1/watchlist?as_of=2023-08-31".to_string(), "as_of", "report"),
        ("/api/v1/securities/600941.SH/prices?since=2023-05-01".to_string(), "since", "from, to"),
        ("/ledger.json?currency=local".to_string(), "currency", "as_of"),
        ("/status.json?x=1".to_string(), "x", "none"),
        (format!("/reports/{REPORT}/weeks.json?x=1"), "x", "none"),
    ];
    for (path, name, known) in &cases {
        let answer = server.get(path).await;
        assert_eq!((answer.status, answer.content_type.as_str()), (400, "application/json"), "{path}: {}", answer.body);
        let message = serde_json::from_str::<Value>(&answer.body).unwrap()["message"].as_str().unwrap().to_string();
        assert_eq!(message, format!("unknown query parameter `{name}`; this address takes: {known}"), "{path}");
    }
    // Pages answer the same as a page.
    for (path, name, known) in
        [("/status?x=1".to_string(), "x", "none"), (format!("{}?as_of=2023-08-31&page=2", verdict_path()), "page", "as_of, currency")]
    {
        let answer = server.get(&path).await;
        assert_eq!((answer.status, answer.content_type.as_str()), (400, "text/html; charset=utf-8"), "{path}: {}", answer.body);
        assert!(answer.body.contains(&format!("unknown query parameter `{name}`; this address takes: {known}")), "{path}: {}", answer.body);
    }
    // The known ones, as the pages' own forms and links send them, are still answered.
    for path in [
        "/?as_of=2023-08-31".to_string(),
        format!("{}?as_of=2023-08-31&currency=local", verdict_path()),
        format!("/api/v1/reports/{REPORT}/weeks/2023-W20?currency=local"),
        "/api/v1/securities/600941.SH/prices?from=2023-05-01&to=2023-06-30".to_string(),
    ] {
        assert_eq!(server.get(&path).await.status, 200, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_json_and_downloads_equal_the_command_line_output() {
    let dir = imported(&["small-report/small-report.toml"]);
    let d = dir.path();
    let server = start(config(d), Mode::Standalone, None).await;
    let pairs: Vec<(String, Vec<&str>)> = vec![
        (
            format!("/api/v1/reports/{REPORT}/verdict?as_of=2023-08-31"),
            vec!["verdict", REPORT, "--as-of", "2023-08-31", "--format", "json"],
        ),
        (
            format!("/api/v1/reports/{REPORT}/verdict?as_of=2023-05-19&currency=local"),
            vec!["verdict", REPORT, "--as-of", "2023-05-19", "--currency", "local", "--format", "json"],
        ),
        (format!("/reports/{REPORT}.json?as_of=2023-08-31"), vec!["verdict", REPORT, "--as-of", "2023-08-31", "--format", "json"]),
        (format!("/reports/{REPORT}.csv?as_of=2023-08-31"), vec!["verdict", REPORT, "--as-of", "2023-08-31", "--format", "csv"]),
        (format!("/reports/{REPORT}.md?as_of=2023-05-19"), vec!["verdict", REPORT, "--as-of", "2023-05-19", "--format", "markdown"]),
        (format!("/api/v1/reports/{REPORT}/weeks/2023-W20"), vec!["report", "--report", REPORT, "--week", "2023-W20", "--format", "json"]),
        (format!("/reports/{REPORT}/weeks/2023-W20.csv"), vec!["report", "--report", REPORT, "--week", "2023-W20", "--format", "csv"]),
        (format!("/reports/{REPORT}/weeks/2023-W20.md"), vec!["report", "--report", REPORT, "--week", "2023-W20", "--format", "markdown"]),
        ("/api/v1/ledger?as_of=2023-08-31".to_string(), vec!["verdict", "--all", "--as-of", "2023-08-31", "--format", "json"]),
        ("/ledger.md?as_of=2023-08-31".to_string(), vec!["verdict", "--all", "--as-of", "2023-08-31", "--format", "markdown"]),
        ("/api/v1/reports".to_string(), vec!["reports", "list", "--format", "json"]),
        ("/api/v1/watchlist".to_string(), vec!["watchlist", "list", "--format", "json"]),
        (format!("/api/v1/watchlist?report={REPORT}"), vec!["watchlist", "list", "--report", REPORT, "--format", "json"]),
    ];
    for (path, args) in &pairs {
        let answer = server.get(path).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
        assert_eq!(answer.body, cli_stdout(d, args), "{path} differs from `ratingwatch {}`", args.join(" "));
    }
    // Accept picks the download when the URL has no suffix.
    let negotiated = server.get_with(&format!("/reports/{REPORT}?as_of=2023-08-31"), &[("accept", "application/json")]).await;
    assert_eq!(negotiated.body, cli_stdout(d, &["verdict", REPORT, "--as-of", "2023-08-31", "--format", "json"]));
    let negotiated = server.get_with(&format!("/reports/{REPORT}/weeks/2023-W20"), &[("accept", "text/markdown")]).await;
    assert_eq!(negotiated.content_type, "text/markdown; charset=utf-8");

    // The status differs only in when it was generated.
    let mut web: Value = serde_json::from_str(&server.get("/api/v1/status").await.body).unwrap();
    let mut cli: Value = serde_json::from_str(&cli_stdout(d, &["status", "--format", "json"])).unwrap();
    web.as_object_mut().unwrap().remove("generated_at");
    cli.as_object_mut().unwrap().remove("generated_at");
    assert_eq!(web, cli);

    // Prices: the stored bars in the range. 600941.SH has 91.8 on 2023-05-19 and 46.5 on
    // 2023-06-01 (its CSV: raw closes, a 10送10 bonus share between them).
    let prices: Value =
        serde_json::from_str(&server.get("/api/v1/securities/600941.SH/prices?from=2023-05-13&to=2023-08-13").await.body).unwrap();
    let bars = prices.as_array().unwrap();
    assert_eq!(bars.len(), 2);
    assert_eq!((bars[0]["date"].as_str(), bars[0]["close"].as_f64()), (Some("2023-05-19"), Some(91.8)));
    assert_eq!((bars[1]["date"].as_str(), bars[1]["close"].as_f64()), (Some("2023-06-01"), Some(46.5)));
    // A forgiving symbol form names the same security: all six rows of its CSV.
    let all: Value = serde_json::from_str(&server.get("/api/v1/securities/sh600941/prices").await.body).unwrap();
    assert_eq!(all.as_array().unwrap().len(), 6);
}

/// The week page holds exactly the body of the HTML file the service writes for that week.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_week_page_is_the_weekly_file_in_the_dashboard_frame() {
    let dir = imported(&["small-report/small-report.toml"]);
    let d = dir.path();
    let server = start(config(d), Mode::Standalone, None).await;
    let file = d.join("w20.html");
    cli(d).args(["report", "--report", REPORT, "--week", "2023-W20", "--format", "html", "--output"]).arg(&file).assert().success();
    // The service's weekly files and `report --format html` are one renderer (report::files).
    let written = std::fs::read_to_string(&file).unwrap();
    let body = written.split_once("<main>\n").unwrap().1.split_once("</main>").unwrap().0;
    let page = server.get(&format!("/reports/{REPORT}/weeks/2023-W20")).await;
    assert!(page.body.contains(body), "the page lacks the weekly file's content");
    assert!(body.contains("<svg") && body.contains("2023-W20"), "the body has the chart and the week");
    // Neighbours are the archive's: W19 before; after, W22, since the fixture's benchmark has
    // no close in W21 (a week without one has no summary).
    assert!(page.body.contains(&format!("href=\"/reports/{REPORT}/weeks/2023-W19\"")));
    assert!(page.body.contains(&format!("href=\"/reports/{REPORT}/weeks/2023-W22\"")));
    assert!(!page.body.contains(&format!("href=\"/reports/{REPORT}/weeks/2023-W21\"")));

    // The verdict page holds the CLI's HTML verdict body, chart included.
    let verdict_file = d.join("verdict.html");
    cli(d).args(["verdict", REPORT, "--as-of", "2023-08-31", "--format", "html", "--output"]).arg(&verdict_file).assert().success();
    let written = std::fs::read_to_string(&verdict_file).unwrap();
    let body = written.split_once("<main>\n").unwrap().1.split_once("</main>").unwrap().0;
    let page = server.get(&format!("/reports/{REPORT}?as_of=2023-08-31")).await;
    // The page adds only the links from member symbols to their security pages.
    let unlinked = regex::Regex::new(r#"<a href="/securities/[^"]+">([^<]*)</a>"#).unwrap().replace_all(&page.body, "$1");
    assert!(unlinked.contains(body) && !page.body.contains(body));
    assert!(body.contains("<svg"));
    // Both pages lead with the headline badge, above any table: red for the final verdict's
    // −3.00 pp (13.00 pp short of ≥ +10 pp), red for W20's +1.73 pp (8.27 pp short).
    let week_page = server.get(&format!("/reports/{REPORT}/weeks/2023-W20")).await.body;
    for (page, badge) in [
        (
            &page.body,
            "<p class=\"headline fails\">看好 (overweight) not held: -3.00 pp vs ≥ +10 pp (13.00 pp short), final, prices of 2023-08-14</p>",
        ),
        (
            &week_page,
            "<p class=\"headline fails\">看好 (overweight) not held so far: +1.73 pp vs ≥ +10 pp (8.27 pp short), 87 days left, prices of 2023-05-19</p>",
        ),
    ] {
        let at = page.find(badge).unwrap_or_else(|| panic!("no badge {badge} in {page}"));
        assert!(at < page.find("<table>").unwrap() && at < page.find("<h1>").unwrap(), "the badge leads the page");
    }

    // The archive: the weeks from W07 (the first Friday after Tuesday 2023-02-14) in which the
    // fixture's benchmark has a close (02-13..17, 05-12, 05-15..19, 06-01, 08-11, 08-14..18),
    // newest first; the 21 weeks between without one have no summary.
    let weeks: Value = serde_json::from_str(&server.get(&format!("/api/v1/reports/{REPORT}/weeks")).await.body).unwrap();
    let labels: Vec<&str> = weeks.as_array().unwrap().iter().map(|w| w["week"].as_str().unwrap()).collect();
    assert_eq!(labels, ["2023-W33", "2023-W32", "2023-W22", "2023-W20", "2023-W19", "2023-W07"]);
    assert_eq!(weeks[0]["written_at"], Value::Null, "nothing written by a service here");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_supplied_text_renders_as_text_and_traversal_finds_nothing() {
    let dir = imported(&["web/script-title.toml"]);
    let server = start(config(dir.path()), Mode::Standalone, None).await;
    let id = "script-test-2023-02-14";
    for path in [
        "/?as_of=2023-08-31".to_string(),
        "/reports".to_string(),
        format!("/reports/{id}?as_of=2023-08-31"),
        format!("/reports/{id}/weeks"),
        format!("/reports/{id}/weeks/2023-W20"),
    ] {
        let page = server.get(&path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(!page.body.contains("<script"), "{path} has a live script tag");
        assert!(!page.body.contains("<img") && !page.body.contains("<b>Broker"), "{path} has live markup");
        assert!(page.body.contains("&lt;script&gt;") || page.body.contains("&lt;img src=x&gt;"), "{path} lost the text");
    }
    for path in [
        "/reports/..%2f..%2fetc%2fpasswd",
        "/reports/..%2f..%2fetc%2fpasswd/weeks",
        "/reports/%2e%2e/weeks/2023-W20",
        "/reports/..%2fCargo.toml",
        "/api/v1/reports/..%2f..%2fetc%2fpasswd/verdict",
        "/api/v1/securities/..%2f..%2fetc%2fpasswd/prices",
        "/assets/..%2f..%2fCargo.toml",
        "/assets/../Cargo.toml",
        "/../../etc/passwd",
    ] {
        let answer = server.get(path).await;
        assert_eq!(answer.status, 404, "{path}: {}", answer.body);
        assert!(!answer.body.contains("root:") && !answer.body.contains("[package]"), "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bearer_scheme_is_accepted_in_any_case() {
    let dir = imported(&["small-report/small-report.toml"]);
    let server = start(config(dir.path()), Mode::Standalone, Some("s3cret-token")).await;
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let value = format!("{scheme} s3cret-token");
        let response = server.get_with("/api/v1/reports", &[("authorization", value.as_str())]).await;
        assert_eq!(response.status, 200, "{scheme}");
    }
    // The token itself stays exact, and another scheme is still refused.
    assert_eq!(server.get_with("/api/v1/reports", &[("authorization", "bearer S3CRET-TOKEN")]).await.status, 401);
    assert_eq!(server.get_with("/api/v1/reports", &[("authorization", "Basic s3cret-token")]).await.status, 401);
    assert_eq!(server.get_with("/api/v1/reports", &[("authorization", "Bearers3cret-token")]).await.status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_token_is_required_and_non_loopback_needs_one() {
    let dir = imported(&["small-report/small-report.toml"]);
    let server = start(config(dir.path()), Mode::Standalone, Some("s3cret-token")).await;
    for path in ["/", "/api/v1/reports", "/healthz", "/metrics", "/nothing"] {
        let none = server.get(path).await;
        assert_eq!(none.status, 401, "{path}");
        assert_eq!(none.headers["www-authenticate"], "Bearer realm=\"ratingwatch\"");
        assert!(!none.body.contains("s3cret"));
        assert_eq!(server.get_with(path, &[("authorization", "Bearer wrong")]).await.status, 401, "{path}");
    }
    assert_eq!(server.get_with("/api/v1/reports", &[("authorization", "Bearer s3cret-token")]).await.status, 200);

    // Binding a non-loopback address without a token is refused, naming the key.
    let mut open = config(dir.path());
    open.http.listen = "0.0.0.0:0".parse().unwrap();
    let error = WebServer::bind(WebState::new(open.clone(), Arc::new(SystemClock), Mode::Standalone, None)).await.err().unwrap();
    assert!(error.to_string().contains("http.token_env"), "{error}");
    let error = web::resolve_token(&open, |_| None).unwrap_err();
    assert!(error.to_string().contains("http.token_env"), "{error}");

    // And so does the binary, before serving anything.
    for command in [vec!["web", "--listen", "0.0.0.0:0"], vec!["serve"]] {
        let output =
            cli(dir.path()).env("RATINGWATCH__HTTP__LISTEN", "0.0.0.0:0").args(&command).timeout(Duration::from_secs(30)).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{command:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("http.token_env") && stderr.contains("0.0.0.0:0"), "{command:?}: {stderr}");
    }
    // A token variable that is named but unset is refused too, without showing anything secret.
    let output = cli(dir.path())
        .env("RATINGWATCH__HTTP__TOKEN_ENV", "RW_TEST_UNSET_TOKEN")
        .env_remove("RW_TEST_UNSET_TOKEN")
        .args(["web"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("RW_TEST_UNSET_TOKEN"));
}

/// Parses the Prometheus text format strictly enough to catch a broken exposition: every
/// sample line is `name{label="value",…} number`, every name has a TYPE line before it.
fn parse_prometheus(text: &str) -> Vec<(String, String, f64)> {
    let mut typed = std::collections::HashSet::new();
    let mut samples = Vec::new();
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split_whitespace();
            let name = parts.next().unwrap();
            let kind = parts.next().unwrap();
            assert!(["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind), "{line}");
            typed.insert(name.to_string());
            continue;
        }
        if line.starts_with('#') {
            assert!(line.starts_with("# HELP "), "{line}");
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value: {line}"));
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("bad value: {line}"));
        let (name, labels) = match series.split_once('{') {
            Some((name, labels)) => (name, labels.strip_suffix('}').unwrap_or_else(|| panic!("unclosed labels: {line}"))),
            None => (series, ""),
        };
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'), "{line}");
        let base = ["_bucket", "_sum", "_count"].iter().find_map(|suffix| name.strip_suffix(suffix)).filter(|base| typed.contains(*base));
        assert!(typed.contains(name) || base.is_some(), "no TYPE for {name}");
        for label in labels.split(',').filter(|l| !l.is_empty()) {
            let (key, value) = label.split_once('=').unwrap_or_else(|| panic!("bad label: {line}"));
            assert!(key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "{line}");
            assert!(value.starts_with('"') && value.ends_with('"'), "{line}");
        }
        samples.push((name.to_string(), labels.to_string(), value));
    }
    samples
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_as_prometheus_text_and_count_what_happened() {
    let dir = imported(&["small-report/small-report.toml"]);
    // Two recorded runs of one job, for the per-job series.
    {
        use chrono::TimeZone;
        let mut store = ratingwatch::store::Store::open(&dir.path().join("test.db")).unwrap();
        let t = |m| chrono::Utc.with_ymd_and_hms(2026, 11, 27, 8, m, 0).unwrap();
        let ok = store.begin_job_run("sync_cn_hk", None, t(0)).unwrap();
        store.finish_job_run(ok, ratingwatch::store::JobRunOutcome::Ok, &serde_json::json!({}), None, t(2)).unwrap();
        let failed = store.begin_job_run("sync_cn_hk", None, t(10)).unwrap();
        store.finish_job_run(failed, ratingwatch::store::JobRunOutcome::Failed, &serde_json::json!({}), Some("x"), t(11)).unwrap();
        // Two messages queued for one channel, none sent yet.
        let message = |key: &str| ratingwatch::store::NewOutboxMessage {
            dedup_key: key.to_string(),
            channel: "team".to_string(),
            event: "weekly_summary".to_string(),
            report_id: None,
            title: "t".to_string(),
            payload: "{}".to_string(),
        };
        store.enqueue_messages(&[message("a"), message("b")], t(12)).unwrap();
    }
    let server = start(config(dir.path()), Mode::Standalone, None).await;
    assert_eq!(server.get(&verdict_path()).await.status, 200);
    let text = server.get("/metrics").await.body;
    let samples = parse_prometheus(&text);
    let find = |name: &str, label: &str| {
        samples
            .iter()
            // `label` is one or more `key="value"` fragments joined by `&`, all present.
            .find(|(n, labels, _)| n == name && label.split('&').all(|part| labels.contains(part)))
            .map(|(_, _, v)| *v)
            .unwrap_or_else(|| panic!("{name} {label}:\n{text}"))
    };
    // The fixture files' rows: 000300.SH 13, 600941.SH 6, 300308.SZ 4, 301165.SZ 2, 603881.SH 3,
    // 0700.HK 6 and 4 FX rates: 38.
    assert_eq!(find("ratingwatch_bars_stored", ""), 38.0);
    // 5 companies + the benchmark + the FX pair: SH 600941, 603881 and 000300; SZ 300308 and
    // 301165; HK 0700; FX HKDCNY.
    assert_eq!(find("ratingwatch_securities", "market=\"SH\""), 3.0);
    assert_eq!(find("ratingwatch_securities", "market=\"SZ\""), 2.0);
    assert_eq!(find("ratingwatch_securities", "market=\"HK\""), 1.0);
    assert_eq!(find("ratingwatch_job_runs_total", "job=\"sync_cn_hk\"&outcome=\"ok\""), 1.0);
    assert_eq!(find("ratingwatch_job_runs_total", "job=\"sync_cn_hk\"&outcome=\"failed\""), 1.0);
    // Last run started 2026-11-27 08:10 UTC (Unix 1795767000); last success 08:00
    // (1795766400); the last run took 60 s.
    assert_eq!(find("ratingwatch_job_last_run_timestamp_seconds", "job=\"sync_cn_hk\""), 1_795_767_000.0);
    assert_eq!(find("ratingwatch_job_last_success_timestamp_seconds", "job=\"sync_cn_hk\""), 1_795_766_400.0);
    assert_eq!(find("ratingwatch_job_last_duration_seconds", "job=\"sync_cn_hk\""), 60.0);
    assert!(find("ratingwatch_securities_stale", "") >= 0.0);
    // The outbox per channel and state, every state present.
    assert_eq!(find("ratingwatch_outbox_messages", "channel=\"team\"&state=\"pending\""), 2.0);
    assert_eq!(find("ratingwatch_outbox_messages", "channel=\"team\"&state=\"sent\""), 0.0);
    // Each market's latest close: SH's and HK's is 2023-08-18 (000300.SH and 0700.HK's last
    // rows), 00:00 UTC = 19,587 days × 86,400 s = 1,692,316,800.
    assert_eq!(find("ratingwatch_latest_close_timestamp_seconds", "market=\"SH\""), 1_692_316_800.0);
    assert_eq!(find("ratingwatch_latest_close_timestamp_seconds", "market=\"HK\""), 1_692_316_800.0);
    // Counters exist at 0 before their first event, so `rate()` sees the first one. (Other
    // tests in this process may have counted Yahoo's requests already: only presence here.)
    assert!(find("ratingwatch_provider_failures_total", "class=\"too_large\"") >= 0.0);
    assert!(find("ratingwatch_provider_trips_total", "provider=\"yahoo\"") >= 0.0);
    assert_eq!(find("ratingwatch_job_runs_total", "job=\"sync_cn_hk\"&outcome=\"cancelled\""), 0.0);
    assert_eq!(find("ratingwatch_job_runs_total", "job=\"weekly_summary\"&outcome=\"ok\""), 0.0);
    assert!(find("ratingwatch_http_requests_total", "route=\"/reports/{id}\"") >= 1.0);
    assert!(text.contains("ratingwatch_http_request_duration_seconds_bucket"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_reports_the_database_alone_in_web_mode() {
    let dir = imported(&["small-report/small-report.toml"]);
    let server = start(config(dir.path()), Mode::Standalone, None).await;
    let health: Value = serde_json::from_str(&server.get("/healthz").await.body).unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["database"], "ok (1 reports)");
    assert!(health.get("scheduler").is_none());

    // A server inside a service whose scheduler has not started answers 503 with the reason.
    let waiting = start(config(dir.path()), Mode::Service(ratingwatch::status::Liveness::new()), None).await;
    let answer = waiting.get("/healthz").await;
    assert_eq!(answer.status, 503);
    assert!(answer.body.contains("the scheduler has not started yet"), "{}", answer.body);

    // Without a database: 503 naming the database.
    let empty = tempfile::tempdir().unwrap();
    let missing = start(config(empty.path()), Mode::Standalone, None).await;
    let answer = missing.get("/healthz").await;
    assert_eq!(answer.status, 503);
    assert!(answer.body.contains("database"), "{}", answer.body);
    assert!(!empty.path().join("test.db").exists(), "the web server never creates the database");
}

/// `/status` shows the outbox per channel, as `ratingwatch status` does; the error text is
/// escaped like every other stored string.
#[tokio::test]
async fn the_status_page_shows_deliveries_per_channel() {
    let dir = imported(&["small-report/small-report.toml"]);
    let mut store = ratingwatch::store::Store::open(&dir.path().join("test.db")).unwrap();
    let message = ratingwatch::store::NewOutboxMessage {
        dedup_key: "weekly_summary:small-2023-02-14:2023-W20:team-hook".to_string(),
        channel: "team-hook".to_string(),
        event: "weekly_summary".to_string(),
        report_id: Some(REPORT.to_string()),
        title: "Week 2023-W20".to_string(),
        payload: "{}".to_string(),
    };
    assert_eq!(store.enqueue_messages(&[message], chrono::Utc::now()).unwrap(), 1);
    drop(store);
    let server = start(config(dir.path()), Mode::Standalone, None).await;
    let page = server.get("/status").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<h2>Notifications</h2>"), "{}", page.body);
    // One row: the channel, 1 pending, 0 sent, 0 failed, 0 given up.
    assert!(
        page.body.contains(r#"<td>team-hook</td><td class="num">1</td><td class="num">0</td><td class="num">0</td><td class="num">0</td>"#),
        "{}",
        page.body
    );
    let json: Value = serde_json::from_str(&server.get("/api/v1/status").await.body).unwrap();
    assert_eq!(json["deliveries"][0]["channel"], "team-hook");
    assert_eq!(json["deliveries"][0]["pending"], 1);
}

/// The real `serve`: the dashboard comes up beside the scheduler, /healthz sees both, and
/// SIGTERM stops both with exit code 0.
#[test]
fn serve_runs_the_dashboard_and_stops_it_on_sigterm() {
    use std::process::{Command, Stdio};
    let dir = imported(&["small-report/small-report.toml"]);
    let d = dir.path();
    // Every sync is up to date, so the start-up catch-up has nothing to fetch.
    {
        let mut store = ratingwatch::store::Store::open(&d.join("test.db")).unwrap();
        let now = chrono::Utc::now();
        for job in ["sync_cn_hk", "sync_us", "sync_fx"] {
            let run = store.begin_job_run(job, None, now).unwrap();
            store.finish_job_run(run, ratingwatch::store::JobRunOutcome::Ok, &serde_json::json!({}), None, now).unwrap();
        }
    }
    let mut command = support::serve_process(d, &d.join("reports"));
    // A catch-up sync must never reach the internet: every provider is a closed local port.
    for provider in ["TENCENT", "EASTMONEY", "YAHOO"] {
        command.env(format!("RATINGWATCH__PROVIDERS__{provider}__BASE_URL"), "http://127.0.0.1:9");
    }
    let stderr_path = d.join("serve.err");
    command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(std::fs::File::create(&stderr_path).unwrap());
    let mut child = command.spawn().unwrap();
    let stderr = || std::fs::read_to_string(&stderr_path).unwrap_or_default();
    let started = std::time::Instant::now();
    let address = loop {
        if let Some(rest) = stderr().split("web server listening on http://").nth(1) {
            break rest.split_whitespace().next().unwrap().to_string();
        }
        assert!(started.elapsed() < Duration::from_secs(30), "no web server: {}", stderr());
        std::thread::sleep(Duration::from_millis(50));
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let health = runtime.block_on(async {
        let client = reqwest::Client::new();
        loop {
            let response = client.get(format!("http://{address}/healthz")).send().await.unwrap();
            let status = response.status().as_u16();
            let body = response.text().await.unwrap();
            if status == 200 || started.elapsed() > Duration::from_secs(30) {
                break (status, body);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    assert_eq!(health.0, 200, "{}", health.1);
    let body: Value = serde_json::from_str(&health.1).unwrap();
    assert_eq!((body["database"].as_str(), body["scheduler"].as_str()), (Some("ok (1 reports)"), Some("ok")));

    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(code, Some(0), "{}", stderr());
    let refused = runtime.block_on(reqwest::Client::new().get(format!("http://{address}/healthz")).send());
    assert!(refused.is_err(), "the web server stopped with the service");
}

/// The answer cache: a repeated question is answered from it byte for byte; a write by
/// another connection (as the service's sync in this process, or another process, makes)
/// changes the next answer; `/metrics` counts the hits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_questions_come_from_the_cache_and_a_write_shows_at_once() {
    let dir = imported(&["small-report/small-report.toml"]);
    let state = WebState::new(config(dir.path()), Arc::new(SystemClock), Mode::Standalone, None);
    let server = WebServer::bind(state).await.unwrap();
    let counts = server.state();
    let base = format!("http://{}", server.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    tokio::spawn(server.run(shutdown.clone(), Duration::from_secs(1)));
    let server = Server { base, shutdown, client: reqwest::Client::new() };

    let api = format!("/api/v1/reports/{REPORT}/verdict?as_of=2023-05-19");
    let first = server.get(&api).await;
    assert_eq!((first.status, counts.cache_counts()), (200, (0, 1)));
    // The same question, spelled with its parameters in another order: one hit, same bytes.
    let second = server.get(&format!("/api/v1/reports/{REPORT}/verdict?currency=cny&as_of=2023-05-19")).await;
    assert_eq!(second.body, first.body);
    assert_eq!(second.content_type, first.content_type);
    assert_eq!(counts.cache_counts(), (1, 1));
    // The page is another question (its own entry); asked twice, the second is a hit.
    let page = server.get(&format!("/reports/{REPORT}?as_of=2023-05-19")).await;
    assert_eq!(page.status, 200);
    assert_eq!(server.get(&format!("/reports/{REPORT}?as_of=2023-05-19")).await.body, page.body);
    assert_eq!(counts.cache_counts(), (2, 2));
    // Errors are not kept: each is a miss.
    assert_eq!(server.get("/api/v1/reports/no-such-report/verdict").await.status, 404);
    assert_eq!(server.get("/api/v1/reports/no-such-report/verdict").await.status, 404);
    assert_eq!(counts.cache_counts(), (2, 4));

    // A revised benchmark close on 2023-05-19 (4059 → 4080), written through the store on a
    // connection of its own, as sync writes inside `serve`.
    assert!(first.body.contains("4059") && !first.body.contains("4080"), "{}", first.body);
    {
        let mut store = ratingwatch::store::Store::open(&dir.path().join("test.db")).unwrap();
        let bar = ratingwatch::prices::Bar {
            date: chrono::NaiveDate::from_ymd_opt(2023, 5, 19).unwrap(),
            open: Some(4095.0),
            high: Some(4100.0),
            low: Some(4050.0),
            close: 4080.0,
            volume: Some(120_000_000.0),
            adj_close: 4080.0,
        };
        let symbol = ratingwatch::symbol::Symbol::parse("000300.SH").unwrap();
        let now = chrono::Utc::now();
        store
            .upsert_bars(&ratingwatch::store::SeriesWrite::new(
                &symbol,
                &[bar],
                "csv",
                ratingwatch::prices::AdjBasis::None,
                now.date_naive(),
                now,
            ))
            .unwrap();
    }
    let after = server.get(&api).await;
    assert!(after.body.contains("4080") && !after.body.contains("4059"), "{}", after.body);
    assert_eq!(counts.cache_counts(), (2, 5));
    let page_after = server.get(&format!("/reports/{REPORT}?as_of=2023-05-19")).await;
    assert_ne!(page_after.body, page.body);
    assert_eq!(counts.cache_counts(), (2, 6));
    // And the new answer is cached in its turn.
    assert_eq!(server.get(&api).await.body, after.body);
    assert_eq!(counts.cache_counts(), (3, 6));

    // A write by another process (the real binary importing the benchmark file again, its
    // 05-19 close 4059): the next answer is the first one again.
    support::import_small_report_prices(|| cli(dir.path()));
    assert_eq!(server.get(&api).await.body, first.body);
    assert_eq!(counts.cache_counts(), (3, 7));

    let samples = parse_prometheus(&server.get("/metrics").await.body);
    let hits = samples.iter().find(|(name, _, _)| name == "ratingwatch_web_cache_hits_total").map(|(_, _, v)| *v);
    // Process-wide (other tests' servers count too): at least this server's 3 hits.
    assert!(hits.is_some_and(|hits| hits >= 3.0), "{hits:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ended_reports_weeks_page_and_the_ledger_lead_with_the_final_verdict() {
    let dir = imported(&["small-report/small-report.toml"]);
    // The system clock's today is years after the small report's horizon end (2023-08-14).
    let server = start(config(dir.path()), Mode::Standalone, None).await;
    // The final verdict (README of the fixture): basket −3.00 pp, 13.00 pp short of ≥ +10 pp.
    let text = "看好 (overweight) not held: -3.00 pp vs ≥ +10 pp (13.00 pp short), final, prices of 2023-08-14";
    let archive = server.get(&format!("/reports/{REPORT}/weeks")).await.body;
    let badge = format!("<p class=\"headline fails\">{text}</p>");
    let at = archive.find(&badge).unwrap_or_else(|| panic!("no final badge in {archive}"));
    assert!(at < archive.find("<table>").unwrap() && at < archive.find("<h1>").unwrap(), "the badge leads the weeks page");
    // The ledger: the same badge, led by a link to the report, above the ledger's table.
    let ledger = server.get("/").await.body;
    let badge = format!("<p class=\"headline fails\"><a href=\"/reports/{REPORT}\">小型测试报告</a>: {text}</p>");
    let at = ledger.find(&badge).unwrap_or_else(|| panic!("no final badge in {ledger}"));
    assert!(at < ledger.find("<table class=\"cards\">").unwrap(), "the badge leads the ledger");
}

// ---- the ratings feed ----

/// One stored rating on a small-report company, as `ratings sync` would store it.
fn rating(info: &str, symbol: &str, name: &str, broker: &str, date: &str, word: &str, previous: Option<&str>) -> RatingRecord {
    let change = if previous.is_some() { Change::Down } else { Change::FirstCoverage };
    crate::support::rating_record(info, symbol, name, broker, date.parse().unwrap(), word, change, previous, Some(60.0))
}

/// The small report's prices and four ratings:
/// - AP1 中信建投 买入 on 600941.SH, 2023-02-14: 6-month horizon to 2023-08-14; base close 40
///   (02-14, adjusted), end 50 (08-14): +25 %; benchmark 000300.SH 4000 → 4200: +5 %; excess
///   +20.00 pp, in 中信建投's 买入 band (≥ +15 pp): held.
/// - AP2 华泰证券 增持 on 300308.SZ, 2023-02-14: base 50, end 45: −10 %; excess −15.00 pp, in
///   华泰证券's 减持 band (> −20 pp and ≤ −5 pp): not held.
/// - AP3 中信证券 买入 on 600941.SH, 2023-03-01: no rule in the book: unscored. Its company name
///   carries markup, which every page shows as text.
/// - AP4 中信建投 增持 on 600941.SH, 2023-05-19 (down from 买入): horizon end 2023-11-19, after
///   the as-of date 2023-08-31: pending.
fn with_ratings() -> tempfile::TempDir {
    let dir = imported(&["small-report/small-report.toml"]);
    let mut store = ratingwatch::store::Store::open(&dir.path().join("test.db")).unwrap();
    let records = [
        rating("AP1", "600941.SH", "中国移动", "中信建投", "2023-02-14", "买入", None),
        rating("AP2", "300308.SZ", "中际旭创", "华泰证券", "2023-02-14", "增持", None),
        rating("AP3", "600941.SH", "中国移动<b>", "中信证券", "2023-03-01", "买入", None),
        rating("AP4", "600941.SH", "中国移动", "中信建投", "2023-05-19", "增持", Some("买入")),
    ];
    store.upsert_ratings(&records, chrono::Utc::now()).unwrap();
    dir
}

/// 中信建投 percent-encoded (UTF-8 E4 B8 AD, E4 BF A1, E5 BB BA, E6 8A 95).
const ZXJT: &str = "%E4%B8%AD%E4%BF%A1%E5%BB%BA%E6%8A%95";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ratings_api_equals_the_command_line_and_scores_the_calls() {
    let dir = with_ratings();
    let d = dir.path();
    let server = start(config(d), Mode::Standalone, None).await;
    let pairs: Vec<(String, Vec<&str>)> = vec![
        ("/api/v1/ratings?as_of=2023-08-31".into(), vec!["ratings", "list", "--as-of", "2023-08-31", "--format", "json"]),
        (
            format!("/api/v1/ratings?symbol=600941.SH&broker={ZXJT}&as_of=2023-08-31"),
            vec!["ratings", "list", "--symbol", "600941.SH", "--broker", "中信建投", "--as-of", "2023-08-31", "--format", "json"],
        ),
        (
            "/api/v1/ratings?since=2023-03-01&as_of=2023-06-30".into(),
            vec!["ratings", "list", "--since", "2023-03-01", "--as-of", "2023-06-30", "--format", "json"],
        ),
        ("/api/v1/brokers?as_of=2023-08-31".into(), vec!["ratings", "track-record", "--as-of", "2023-08-31", "--format", "json"]),
        (
            "/api/v1/brokers?by=rating&since=2023-02-01&as_of=2023-08-31".into(),
            vec!["ratings", "track-record", "--by", "rating", "--since", "2023-02-01", "--as-of", "2023-08-31", "--format", "json"],
        ),
        (
            "/api/v1/brokers?by=analyst&as_of=2023-08-31".into(),
            vec!["ratings", "track-record", "--by", "analyst", "--as-of", "2023-08-31", "--format", "json"],
        ),
    ];
    for (path, args) in &pairs {
        let answer = server.get(path).await;
        assert_eq!((answer.status, answer.content_type.as_str()), (200, "application/json"), "{path}: {}", answer.body);
        assert_eq!(answer.body, cli_stdout(d, args), "{path} differs from `ratingwatch {}`", args.join(" "));
    }

    let listed: Value = serde_json::from_str(&server.get("/api/v1/ratings?as_of=2023-08-31").await.body).unwrap();
    let listed = listed.as_array().unwrap();
    // Newest first: AP4 (05-19), AP3 (03-01), then AP1 and AP2 of 02-14 (the later info code first).
    let codes: Vec<&str> = listed.iter().map(|call| call["info_code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["AP4", "AP3", "AP2", "AP1"]);
    let held = &listed[3];
    assert_eq!((held["status"].as_str(), held["implied_rating"].as_str()), (Some("held"), Some("买入")));
    assert!((held["excess"].as_f64().unwrap() - 0.20).abs() < 1e-9, "{held}");
    assert_eq!(held["horizon_end"], "2023-08-14");
    assert_eq!((listed[2]["status"].as_str(), listed[2]["implied_rating"].as_str()), (Some("not_held"), Some("减持")));
    assert!((listed[2]["excess"].as_f64().unwrap() + 0.15).abs() < 1e-9, "{}", listed[2]);
    assert_eq!(listed[1]["status"], "unscored");
    assert_eq!(listed[0]["status"], "pending");
    // The filters: 中信建投 on 600941.SH is AP4 and AP1.
    let filtered: Value = serde_json::from_str(&server.get(&format!("/api/v1/ratings?broker={ZXJT}&as_of=2023-08-31")).await.body).unwrap();
    assert_eq!(filtered.as_array().unwrap().len(), 2);

    // As of today by default: the same question as the command line without --as-of.
    let today = server.get("/api/v1/ratings").await;
    assert_eq!(today.body, cli_stdout(d, &["ratings", "list", "--format", "json"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ratings_and_broker_pages_show_each_calls_verdict() {
    let dir = with_ratings();
    let server = start(config(dir.path()), Mode::Standalone, None).await;
    let html = "text/html; charset=utf-8";

    let page = server.get("/ratings?as_of=2023-08-31").await;
    assert_eq!((page.status, page.content_type.as_str()), (200, html), "{}", page.body);
    // AP1's row (worked in `with_ratings`): excess +20.00 pp, implied 买入, held; AP2's −15.00 pp, 减持, not held.
    for expected in [
        "+20.00 pp",
        "-15.00 pp",
        r#"<td data-label="verdict">held</td>"#,
        r#"<td data-label="verdict">not held</td>"#,
        r#"<td data-label="verdict">pending</td>"#,
        r#"<td data-label="verdict">unscored</td>"#,
    ] {
        assert!(page.body.contains(expected), "{expected}: {}", page.body);
    }
    assert!(page.body.contains("2023-08-14 (6 months)"), "the horizon end");
    // The unscored call says why; the broker links to its page, percent-encoded.
    assert!(page.body.contains("broker rule unknown"), "{}", page.body);
    assert!(page.body.contains(&format!("href=\"/brokers/{ZXJT}\"")), "{}", page.body);
    // The company name's markup is text.
    assert!(page.body.contains("中国移动&lt;b&gt;") && !page.body.contains("中国移动<b>"), "{}", page.body);
    // Both new pages are in the navigation.
    assert!(page.body.contains("href=\"/ratings\" aria-current=\"page\"") && page.body.contains("href=\"/brokers\""));
    // A filter narrows the list: 华泰证券 has AP2 only.
    let page = server.get("/ratings?broker=%E5%8D%8E%E6%B3%B0%E8%AF%81%E5%88%B8&as_of=2023-08-31").await;
    assert!(page.body.contains("Ratings as of 2023-08-31: 1") && page.body.contains("中际旭创"), "{}", page.body);

    let page = server.get("/brokers?as_of=2023-08-31").await;
    assert_eq!((page.status, page.content_type.as_str()), (200, html), "{}", page.body);
    assert!(page.body.contains("Track record by broker as of 2023-08-31"), "{}", page.body);
    assert!(page.body.contains(&format!("<a href=\"/brokers/{ZXJT}\">中信建投</a>")), "{}", page.body);

    // 中信建投: its stock rule from the book, its row and its two calls (AP1 held, AP4 pending).
    let page = server.get(&format!("/brokers/{ZXJT}?as_of=2023-08-31")).await;
    assert_eq!((page.status, page.content_type.as_str()), (200, html), "{}", page.body);
    for expected in [
        "<h1>中信建投</h1>",
        "买入 (buy)",
        "≥ +15 pp",
        "Horizon 6 months",
        "沪深300 (000300.SH)",
        "Calls: 2",
        r#"<td data-label="verdict">held</td>"#,
    ] {
        assert!(page.body.contains(expected), "{expected}: {}", page.body);
    }
    assert!(!page.body.contains("中际旭创"), "another broker's call is not listed");
    // AP4, pending, measured to the benchmark's last close by 2023-08-31 (08-18): 600941.SH
    // 45.9 → 50 (+8.93 %), 000300.SH 4059 → 4242 (+4.51 %): +4.42 pp so far, 中性.
    assert!(page.body.contains(r#"<td class="num" data-label="excess">+4.42 pp</td>"#), "{}", page.body);
    // Its track-record row: 2 calls, 1 scored and held, 1 pending; Wilson 1 of 1 is 21 %–100 %.
    assert!(page.body.contains("100 % (21 %–100 %)"), "{}", page.body);
    // A broker the feed lists but the book has no rules for still has a page.
    let page = server.get("/brokers/%E4%B8%AD%E4%BF%A1%E8%AF%81%E5%88%B8").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("has no entry for 中信证券"), "{}", page.body);

    // An unknown broker is a 404 naming it and listing the known ones (the book's and the feed's).
    let page = server.get("/brokers/%E6%97%A0%E5%90%8D").await;
    assert_eq!((page.status, page.content_type.as_str()), (404, html), "{}", page.body);
    for expected in ["no broker `无名`", "国泰君安", "中信建投", "中信证券"] {
        assert!(page.body.contains(expected), "{expected}: {}", page.body);
    }
}

/// The security page lists the company's broker ratings with their verdicts (as `ratings list
/// --symbol` does): on 2023-08-31, 600941.SH has AP1 held, AP3 unscored and AP4 pending, and
/// not AP2 (300308.SZ).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_security_page_lists_the_companys_ratings_with_their_verdicts() {
    let dir = with_ratings();
    let server = start(config(dir.path()), Mode::Standalone, None).await;
    let body = server.get("/securities/600941.SH?as_of=2023-08-31").await.body;
    let section = body.split_once("Broker ratings on 中国移动").map(|(_, rest)| rest).unwrap_or_else(|| panic!("{body}"));
    for expected in [
        r#"<td data-label="verdict">held</td>"#,
        r#"<td data-label="verdict">pending</td>"#,
        r#"<td data-label="verdict">unscored</td>"#,
        "+20.00 pp",
    ] {
        assert!(section.contains(expected), "{expected}: {section}");
    }
    assert!(!section.contains("300308.SZ") && !section.contains("not held"), "{section}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_ratings_parameter_is_a_400_naming_it() {
    let dir = with_ratings();
    let server = start(config(dir.path()), Mode::Standalone, None).await;
    let message = |answer: &Answer| serde_json::from_str::<Value>(&answer.body).unwrap()["message"].as_str().unwrap().to_string();
    let cases = [
        ("/api/v1/ratings?as_of=2023-13-01", "as_of: "),
        ("/api/v1/ratings?since=yesterday", "since: "),
        ("/api/v1/ratings?symbol=600941.XX", "symbol: `600941.XX` is not a symbol"),
        ("/api/v1/brokers?by=desk", "by: `desk` is not broker, analyst or rating"),
        ("/api/v1/ratings?by=broker", "unknown query parameter `by`; this address takes: symbol, broker, since, as_of"),
        ("/api/v1/brokers?broker=x", "unknown query parameter `broker`; this address takes: by, since, as_of"),
    ];
    for (path, expected) in cases {
        let answer = server.get(path).await;
        assert_eq!((answer.status, answer.content_type.as_str()), (400, "application/json"), "{path}: {}", answer.body);
        assert!(message(&answer).starts_with(expected), "{path}: {}", message(&answer));
    }
    let page = server.get(&format!("/brokers/{ZXJT}?since=2023-01-01")).await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(page.body.contains("unknown query parameter `since`; this address takes: as_of"), "{}", page.body);
}
