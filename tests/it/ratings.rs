//! The ratings feed end to end: `ratings sync` against a local report-list server (wiremock on
//! 127.0.0.1) in Eastmoney's format, over the seed report's watchlist, then `ratings list`.

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use ratingwatch::store::Store;

use crate::support::{ratingwatch, seeded_store};

/// One record in the list's shape (field names as the recorded body in
/// tests/fixtures/eastmoney-reports/one-page.json).
fn record(code: &str, info: &str, date: &str, broker: &str, word: &str, previous: &str) -> Value {
    json!({"title": "点评", "stockName": "中国移动", "stockCode": code, "orgName": format!("{broker}股份有限公司"), "orgSName": broker,
           "publishDate": format!("{date} 00:00:00.000"), "infoCode": info, "emRatingValue": "3", "emRatingName": "买入",
           "lastEmRatingValue": if previous.is_empty() { "" } else { "3" }, "lastEmRatingName": previous, "ratingChange": "",
           "indvAimPriceT": "", "researcher": "甲,乙", "market": "SHANGHAI", "sRatingName": word})
}

fn page(records: Vec<Value>, total_pages: usize, hits: usize) -> String {
    json!({"hits": hits, "size": records.len(), "data": records, "TotalPage": total_pages, "pageNo": 1, "currentYear": 2023}).to_string()
}

const EMPTY: &str = include_str!("../fixtures/eastmoney-reports/empty.json");

/// Mounts a responder: 600941 answers `mobile`, every other code the empty answer.
async fn serve(server: &MockServer, mobile: String) {
    server.reset().await;
    Mock::given(method("GET"))
        .and(path("/report/list"))
        .respond_with(move |request: &Request| {
            let code = request.url.query_pairs().find(|(k, _)| k == "code").map(|(_, v)| v.to_string()).unwrap_or_default();
            let body = if code == "600941" { mobile.clone() } else { EMPTY.to_string() };
            ResponseTemplate::new(200).set_body_string(body)
        })
        .mount(server)
        .await;
}

fn sync(dir: &std::path::Path, server: &MockServer, args: &[&str]) -> (i32, String) {
    let output = ratingwatch(dir)
        .args(["ratings", "sync"])
        .args(args)
        .env("RATINGWATCH__RATINGS__BASE_URL", server.uri())
        .env("RATINGWATCH__RATINGS__REQUESTS_PER_SECOND", "0.0")
        .env("RATINGWATCH__RATINGS__MAX_RETRIES", "0")
        .env("RATINGWATCH__RATINGS__HISTORY_START", "2023-01-01")
        .output()
        .unwrap();
    (output.status.code().unwrap(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_sync_sends_one_request_per_company_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let watchlist = {
        let store = seeded_store(dir.path());
        store.watchlist(None).unwrap()
    };
    let asked = watchlist.iter().filter(|e| e.market == "SH" || e.market == "SZ").count();
    let skipped = watchlist.len() - asked;
    assert!(asked > 10 && skipped > 0, "the seed watchlist has A shares and others: {asked} {skipped}");
    let server = MockServer::start().await;
    let records = vec![
        record("600941", "AP2023030100000001", "2023-03-01", "国泰君安", "增持", ""),
        record("600941", "AP2023020100000002", "2023-02-01", "华泰证券", "买入", "买入"),
    ];
    serve(&server, page(records.clone(), 1, 2)).await;

    let (code, stderr) = sync(dir.path(), &server, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!("ratings: {asked} companies, {asked} requests: 2 new, 0 updated, 0 unchanged; {skipped} skipped")),
        "{stderr}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), asked, "HK and US companies are not asked for");

    let (code, stderr) = sync(dir.path(), &server, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains(&format!("{asked} requests: 0 new, 0 updated, 2 unchanged")), "{stderr}");
    // The second run asked from the last stored date minus the 30-day overlap: 2023-03-01 − 30 = 2023-01-30.
    let requests = server.received_requests().await.unwrap();
    let last = requests.iter().rev().find(|r| r.url.query().unwrap_or("").contains("code=600941")).unwrap();
    assert!(last.url.query().unwrap().contains("beginTime=2023-01-30"), "{}", last.url);

    // An answer lacking a stored report fails that company, deleting and writing nothing.
    serve(&server, page(records[..1].to_vec(), 1, 1)).await;
    let (code, stderr) = sync(dir.path(), &server, &["--symbol", "600941.SH"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("failed: 600941.SH: the answer for 2023-01-30 to"), "{stderr}");
    assert!(stderr.contains("lacks 1 stored report(s) (e.g. AP2023020100000002)"), "{stderr}");

    // An empty page in the middle is a named failure too.
    serve(&server, page(vec![], 3, 120)).await;
    let (code, stderr) = sync(dir.path(), &server, &["--symbol", "600941.SH"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("page 1 of 3 is empty although 120 reports are listed"), "{stderr}");

    let output = ratingwatch(dir.path()).args(["ratings", "list", "--as-of", "2023-12-31", "--format", "json"]).output().unwrap();
    let listed: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(listed.len(), 2, "still both");
    // Newest first; no prices are stored in this database, so both are unscored, saying why.
    assert_eq!(listed[0]["info_code"], "AP2023030100000001");
    assert_eq!(listed[0]["change"], "first_coverage");
    assert_eq!(listed[1]["change"], "maintained");
    assert_eq!(listed[0]["status"], "unscored");
    assert!(listed[0]["reason"].as_str().unwrap().starts_with("no prices:"), "{}", listed[0]);
    assert_eq!(listed[0]["excess"], Value::Null);
    for key in [
        "symbol",
        "name",
        "broker",
        "analysts",
        "date",
        "rating",
        "normalized",
        "previous",
        "target_price",
        "implied_rating",
        "horizon_end",
        "pdf_url",
    ] {
        assert!(listed[0].get(key).is_some(), "{key}");
    }
}

// ---- The `sync_ratings` job in `serve` ----

/// A service whose only job that fires is `sync_ratings`, every second, against `server`.
fn ratings_service_config(dir: &std::path::Path, server: &MockServer) -> ratingwatch::config::Config {
    let mut config = ratingwatch::config::Config::default();
    config.database.path = dir.join("test.db");
    config.reports.dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/reports");
    config.output.dir = dir.join("out");
    config.service.initial_sync = false;
    let jobs = &mut config.schedule.jobs;
    for expression in [&mut jobs.sync_cn_hk, &mut jobs.sync_us, &mut jobs.sync_fx, &mut jobs.weekly_summary, &mut jobs.sync_instruments] {
        *expression = "0 0 0 1 1 *".to_string();
    }
    jobs.sync_ratings = "* * * * * *".to_string();
    config.ratings.base_url = server.uri();
    config.ratings.requests_per_second = 0.0;
    config.ratings.max_retries = 0;
    config.ratings.history_start = Some(chrono::NaiveDate::from_ymd_opt(2023, 1, 1).unwrap());
    config
}

/// Runs the service until `runs` `sync_ratings` runs have finished; returns them, oldest first.
async fn serve_ratings_runs(config: &ratingwatch::config::Config, runs: usize) -> Vec<ratingwatch::store::JobRun> {
    use ratingwatch::schedule::JobKind;
    use ratingwatch::service;
    use std::sync::Arc;
    let jobs = Arc::new(service::LibraryJobs::new(config.clone(), service::Output::new(std::io::sink())).unwrap());
    let shutdown = tokio_util::sync::CancellationToken::new();
    let handle = {
        let (config, token) = (config.clone(), shutdown.clone());
        let options = service::ServiceOptions {
            watch_interval: std::time::Duration::from_millis(200),
            cancel_wait: std::time::Duration::from_millis(500),
        };
        tokio::spawn(async move { service::run(&config, jobs, options, token, Arc::new(ratingwatch::clock::SystemClock)).await })
    };
    let finished = |store: &Store| -> Vec<ratingwatch::store::JobRun> {
        let mut done: Vec<_> =
            store.job_runs(JobKind::SyncRatings.name(), 100).unwrap().into_iter().filter(|run| run.finished_at.is_some()).collect();
        done.reverse();
        done
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let store = Store::open(&config.database.path).unwrap();
    while finished(&store).len() < runs && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    shutdown.cancel();
    handle.await.unwrap().unwrap();
    finished(&store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sync_ratings_job_stores_the_records_and_a_second_run_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let asked = {
        let store = seeded_store(dir.path());
        store.watchlist(None).unwrap().iter().filter(|e| e.market == "SH" || e.market == "SZ").count()
    };
    let server = MockServer::start().await;
    let records = vec![
        record("600941", "AP2023030100000001", "2023-03-01", "国泰君安", "增持", ""),
        record("600941", "AP2023020100000002", "2023-02-01", "华泰证券", "买入", "买入"),
    ];
    serve(&server, page(records, 1, 2)).await;
    let config = ratings_service_config(dir.path(), &server);

    let runs = serve_ratings_runs(&config, 2).await;
    assert!(runs.len() >= 2, "two runs finished: {runs:?}");
    let counts = |new: usize, unchanged: usize| {
        json!({"companies": asked, "requests": asked, "new": new, "updated": 0, "unchanged": unchanged,
               "skipped": runs[0].counts["skipped"], "failed_companies": 0, "queued": 0})
    };
    assert_eq!(runs[0].outcome, ratingwatch::store::JobRunOutcome::Ok, "{:?}", runs[0]);
    // First run: both records of 600941 are new; every other company answers empty.
    assert_eq!(runs[0].counts, counts(2, 0));
    assert!(runs[0].counts["skipped"].as_u64().unwrap() > 0, "HK and US companies are skipped");
    // Second run: the same answer, nothing written.
    assert_eq!(runs[1].outcome, ratingwatch::store::JobRunOutcome::Ok, "{:?}", runs[1]);
    assert_eq!(runs[1].counts, counts(0, 2));
    let store = Store::open(&config.database.path).unwrap();
    assert_eq!(store.ratings(&Default::default()).unwrap().len(), 2, "the job stored both records");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sync_ratings_job_is_skipped_when_ratings_are_disabled() {
    let dir = tempfile::tempdir().unwrap();
    drop(seeded_store(dir.path()));
    let server = MockServer::start().await;
    serve(&server, EMPTY.to_string()).await;
    let mut config = ratings_service_config(dir.path(), &server);
    config.ratings.enabled = false;

    let runs = serve_ratings_runs(&config, 1).await;
    assert_eq!(runs[0].outcome, ratingwatch::store::JobRunOutcome::Skipped, "{:?}", runs[0]);
    assert_eq!(runs[0].error.as_deref(), Some("ratings.enabled is false: nothing fetched"));
    assert!(server.received_requests().await.unwrap().is_empty(), "nothing asked for");
}

// ---- The `broker_rating` event ----

/// Two webhook channels on `hook`: `all` (empty `events`: every event on by default) and
/// `ratings` (`events = ["broker_rating"]`).
fn with_two_channels(config: &mut ratingwatch::config::Config, hook: &MockServer) {
    let text = format!(
        "[[notify.channels]]\nname = \"all\"\nkind = \"webhook\"\nurl = \"{url}/all\"\n\
         [[notify.channels]]\nname = \"ratings\"\nkind = \"webhook\"\nurl = \"{url}/ratings\"\nevents = [\"broker_rating\"]\n",
        url = hook.uri()
    );
    config.notify.channels = toml::from_str::<ratingwatch::config::Config>(&text).unwrap().notify.channels;
}

fn broker_rating_keys(database: &std::path::Path) -> Vec<String> {
    let store = Store::open(database).unwrap();
    let mut keys: Vec<String> = store
        .outbox_messages(None, 1000)
        .unwrap()
        .into_iter()
        .filter(|row| row.event == "broker_rating")
        .map(|row| row.dedup_key)
        .collect();
    keys.sort();
    keys
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sync_ratings_job_announces_new_changes_once_to_the_channels_that_list_broker_rating() {
    let dir = tempfile::tempdir().unwrap();
    drop(seeded_store(dir.path()));
    let server = MockServer::start().await;
    let hook = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&hook).await;
    let mut config = ratings_service_config(dir.path(), &server);
    with_two_channels(&mut config, &hook);
    // The job's date is today in the schedule's time zone (the service runs on the real clock).
    let today = config.schedule.timezone.date_of(chrono::Utc::now());
    let days_ago = |n: u64| (today - chrono::Days::new(n)).format("%Y-%m-%d").to_string();
    let mut upgrade = record("600941", "AP_UP", &days_ago(1), "国泰君安", "增持", "中性");
    upgrade["lastEmRatingValue"] = json!("2"); // 3 > 2: up
    let mut downgrade = record("600941", "AP_DOWN", &days_ago(2), "国泰君安", "中性", "买入");
    downgrade["emRatingValue"] = json!("2");
    downgrade["emRatingName"] = json!("中性"); // 2 < 3: down
    let records = vec![
        upgrade,
        downgrade,
        record("600941", "AP_FIRST", &days_ago(3), "华泰证券", "买入", ""), // first coverage
        record("600941", "AP_SAME", &days_ago(1), "华泰证券", "买入", "买入"), // 3 = 3: maintained, not news
        record("600941", "AP_OLD", &days_ago(8), "中信建投", "买入", ""),   // 8 days > 7: history
    ];
    serve(&server, page(records, 1, 5)).await;

    let runs = serve_ratings_runs(&config, 2).await;
    assert!(runs.len() >= 2, "two runs finished: {runs:?}");
    assert_eq!((runs[0].counts["new"].as_u64(), runs[0].counts["queued"].as_u64()), (Some(5), Some(3)), "{:?}", runs[0]);
    assert_eq!((runs[1].counts["unchanged"].as_u64(), runs[1].counts["queued"].as_u64()), (Some(5), Some(0)), "{:?}", runs[1]);
    // Only the `ratings` channel: `all` has an empty list, and broker_rating is off by default.
    let expected = ["broker_rating:AP_DOWN:ratings", "broker_rating:AP_FIRST:ratings", "broker_rating:AP_UP:ratings"];
    assert_eq!(broker_rating_keys(&config.database.path), expected);
    let store = Store::open(&config.database.path).unwrap();
    let up = store.outbox_message_by_key("broker_rating:AP_UP:ratings").unwrap().unwrap();
    assert_eq!(up.title, "国泰君安 upgrades 中国移动 (600941.SH) to 增持 (was 中性)");
    let message: ratingwatch::notify::Message = serde_json::from_str(&up.payload).unwrap();
    assert!(
        message.markdown.contains("broker's rule: 增持 = excess over 沪深300 (000300.SH) ≥ +15 pp within 12 months"),
        "{}",
        message.markdown
    );
    drop(store);

    // A restart after the rating was lost from the table (so the next run inserts it again):
    // the outbox's dedup key (the info code) keeps it one message.
    rusqlite::Connection::open(&config.database.path).unwrap().execute("DELETE FROM ratings WHERE info_code = 'AP_UP'", []).unwrap();
    let runs = serve_ratings_runs(&config, runs.len() + 1).await;
    let last = runs.last().unwrap();
    assert_eq!((last.counts["new"].as_u64(), last.counts["queued"].as_u64()), (Some(1), Some(0)), "{last:?}");
    assert_eq!(broker_rating_keys(&config.database.path), expected, "nothing queued twice");
}
