//! `sync` end to end: the real provider clients (and the real binary) against the fake exchange
//! of [`crate::exchange`].

use std::collections::HashSet;
use std::sync::mpsc;
use std::time::Duration;

use chrono::{DateTime, Datelike, TimeZone, Utc};
use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;
use tokio_util::sync::CancellationToken;

use ratingwatch::config::Config;
use ratingwatch::prices::{AdjBasis, Bar};
use ratingwatch::providers::{ProviderName, Providers};
use ratingwatch::store::Store;
use ratingwatch::symbol::{Market, Symbol};
use ratingwatch::sync::{RefetchReason, Selection, SyncOptions, SyncSummary, run_sync};

use crate::exchange::{Exchange, Fault, Servers, date, start, start_with, symbol};
use crate::support::{ratingwatch, seeded_store};

/// Config pointing at the servers: no retries, no rate limit, short timeouts.
pub(crate) fn config(dir: &std::path::Path, servers: &Servers) -> Config {
    let mut config = Config::default();
    config.database.path = dir.join("test.db");
    for (provider, server) in [
        (&mut config.providers.tencent, &servers.tencent),
        (&mut config.providers.eastmoney, &servers.eastmoney),
        (&mut config.providers.yahoo, &servers.yahoo),
    ] {
        provider.base_url = server.uri();
        provider.max_retries = 0;
        provider.requests_per_second = 0.0;
        provider.timeout_secs = 5;
    }
    config
}

/// 18:00 in Shanghai (10:00 UTC) on `day`: after the A-share and HK closes, before New York opens.
pub(crate) fn evening(day: &str) -> DateTime<Utc> {
    let d = date(day);
    Utc.with_ymd_and_hms(d.year(), d.month(), d.day(), 10, 0, 0).unwrap()
}

async fn sync(config: &Config, selection: Selection, now: DateTime<Utc>) -> SyncSummary {
    let providers = Providers::from_config(&config.providers).unwrap();
    let options = SyncOptions { selection, full: false, trigger: "test".to_string() };
    run_sync(config, &providers, &options, now, &CancellationToken::new()).await.unwrap()
}

fn stored(config: &Config, symbol_text: &str) -> Vec<Bar> {
    Store::open(&config.database.path).unwrap().all_bars(&symbol(symbol_text)).unwrap()
}

/// Compares two series and reports only the first difference (full series are long).
#[track_caller]
fn assert_series(actual: &[Bar], expected: &[Bar], what: &str) {
    let first_difference = actual.iter().zip(expected).position(|(a, e)| a != e);
    if let Some(index) = first_difference {
        panic!("{what}: bar {index} differs:\n stored   {:?}\n expected {:?}", actual[index], expected[index]);
    }
    assert_eq!(
        (actual.len(), actual.last().map(|b| b.date)),
        (expected.len(), expected.last().map(|b| b.date)),
        "{what}: stored vs expected (count, last date)"
    );
}

fn source(config: &Config, symbol_text: &str) -> (Option<AdjBasis>, Option<String>) {
    let state = Store::open(&config.database.path).unwrap().security_state(&symbol(symbol_text)).unwrap();
    (state.adj_basis, state.adj_source)
}

#[tokio::test]
async fn first_sync_fills_everything_with_what_the_servers_sent_and_a_second_run_is_incremental() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded_store(dir.path());
    let tracked = store.tracked_symbols().unwrap();
    drop(store);
    // 2023-03-01 is a Wednesday; at 10:00 UTC Shanghai and Hong Kong have closed, New York and
    // London have not, so US and FX bars end on 02-28.
    let now = evening("2023-03-01");
    let exchange = Exchange::new(now);
    let servers = start(&exchange).await;
    let config = config(dir.path(), &servers);

    let summary = sync(&config, Selection::All, now).await;

    // 45 companies + the CSI 300 + USD/CNY + HKD/CNY.
    assert_eq!(tracked.len(), 48);
    assert_eq!((summary.requested, summary.securities_synced, summary.failures), (48, 48, vec![]));
    // Default chains: Shanghai/Shenzhen (CSI 300 included) and Hong Kong from tencent, US and FX
    // from yahoo; history from one year before the report date (2022-02-14).
    for symbol in &tracked {
        let provider = match symbol.market() {
            Market::Sh | Market::Sz | Market::Hk => ProviderName::Tencent,
            Market::Us | Market::Fx => ProviderName::Yahoo,
        };
        let name = symbol.to_string();
        assert_series(
            &stored(&config, &name),
            &exchange.expected(provider, &name, "2022-02-14", "2023-03-01"),
            &format!("{name} via {provider}"),
        );
        let basis = if symbol.is_fx() || name == "000300.SH" {
            AdjBasis::None
        } else if provider == ProviderName::Yahoo {
            AdjBasis::YahooAdjclose
        } else {
            AdjBasis::Hfq
        };
        assert_eq!(source(&config, &name), (Some(basis), Some(provider.as_str().to_string())), "{name}");
    }
    // A spot check of the formula by hand: the bytes of "600941.SH" sum to 509, so base =
    // 0.030 × (100 + 509 × 7 mod 20000) = 0.030 × 3663 = 109.890; 2023-03-01 is day 738580
    // since 0001-01-01, 738580 mod 41 = 6: close = 109.890 + 6 × 0.030 = 110.070, hfq
    // 330.210; 1000 + 738580 mod 7 = 1003 lots = 100300 shares.
    let last = stored(&config, "600941.SH").pop().unwrap();
    assert_eq!((last.date, last.close, last.adj_close, last.volume), (date("2023-03-01"), 110.07, 330.21, Some(100_300.0)));
    assert_eq!(stored(&config, "MSFT.US").last().unwrap().date, date("2023-02-28"));
    assert_eq!(stored(&config, "USDCNY.FX").last().unwrap().date, date("2023-02-28"));
    let requests = exchange.take_log();
    assert!(requests.iter().all(|(provider, _)| *provider != ProviderName::Eastmoney), "nothing fell back");
    Store::open(&config.database.path).unwrap().verify_close_chunks().unwrap();

    // The same evening again, a no-op: Shanghai, Shenzhen and Hong Kong hold today's bar; the
    // US shares and FX pairs hold 02-28, their latest closed session (New York closes at 21:00
    // UTC, a London FX day at 23:00). Not one request reaches the servers.
    let second = sync(&config, Selection::All, now).await;
    let requests = exchange.take_log();
    assert_eq!(requests, vec![], "a no-op re-sync sends nothing");
    assert_eq!((second.up_to_date, second.securities_synced, second.requests), (48, 0, 0));

    // The next evening: every security gets one incremental request (two for Tencent shares:
    // prices as traded and hfq), and each series gains exactly the new session.
    let next = evening("2023-03-02");
    exchange.set_now(next);
    let third = sync(&config, Selection::All, next).await;
    let requests = exchange.take_log();
    let tencent_shares =
        tracked.iter().filter(|s| matches!(s.market(), Market::Sh | Market::Sz | Market::Hk) && s.to_string() != "000300.SH");
    assert_eq!(requests.len(), 2 * tencent_shares.count() + 1 + 5);
    assert!(requests.iter().all(|(_, url)| !url.contains("2022-02-14")), "no full-history request");
    // CN/HK add 03-02; US and FX add 03-01 (New York and London had not closed 03-02 yet).
    assert_eq!((third.securities_updated, third.bars_added, third.full_histories), (48, 48, 0));
    for symbol in &tracked {
        let name = symbol.to_string();
        let provider = if matches!(symbol.market(), Market::Us | Market::Fx) { ProviderName::Yahoo } else { ProviderName::Tencent };
        assert_series(&stored(&config, &name), &exchange.expected(provider, &name, "2022-02-14", "2023-03-02"), &name);
    }
    // The packed closes the verdict reads followed every write (store/chunks.rs).
    Store::open(&config.database.path).unwrap().verify_close_chunks().unwrap();
}

#[tokio::test]
async fn one_failing_symbol_is_named_while_the_others_sync_and_fallbacks_take_over() {
    let dir = tempfile::tempdir().unwrap();
    drop(seeded_store(dir.path()));
    let now = evening("2023-03-01");
    let exchange = Exchange::new(now);
    // 688041.SH is unknown everywhere; 0700.HK fails at tencent with a 500 and falls back
    // to eastmoney; 9988.HK is unknown to tencent and eastmoney and falls back to yahoo.
    for provider in ProviderName::ALL {
        exchange.fault(provider, "688041.SH", Fault::Unknown);
    }
    exchange.fault(ProviderName::Tencent, "0700.HK", Fault::Status(500));
    exchange.fault(ProviderName::Tencent, "9988.HK", Fault::Unknown);
    exchange.fault(ProviderName::Eastmoney, "9988.HK", Fault::Unknown);
    let servers = start(&exchange).await;
    let config = config(dir.path(), &servers);
    let selection = Selection::Symbols(["688041.SH", "0700.HK", "9988.HK", "600941.SH"].map(symbol).to_vec());

    let summary = sync(&config, selection, now).await;

    assert_eq!(summary.failures.len(), 1);
    let failure = &summary.failures[0];
    assert_eq!((failure.symbol.to_string(), failure.provider), ("688041.SH".to_string(), Some(ProviderName::Yahoo)));
    for name in ["tencent: not found", "eastmoney: not found", "yahoo: not found"] {
        assert!(failure.reason.contains(name), "{}", failure.reason);
    }
    assert_eq!(stored(&config, "688041.SH"), vec![]);
    assert_series(
        &stored(&config, "0700.HK"),
        &exchange.expected(ProviderName::Eastmoney, "0700.HK", "2022-02-14", "2023-03-01"),
        "0700.HK",
    );
    assert_eq!(source(&config, "0700.HK").1.as_deref(), Some("eastmoney"));
    assert_series(&stored(&config, "9988.HK"), &exchange.expected(ProviderName::Yahoo, "9988.HK", "2022-02-14", "2023-03-01"), "9988.HK");
    assert_eq!(source(&config, "9988.HK"), (Some(AdjBasis::YahooAdjclose), Some("yahoo".to_string())));
    assert_series(
        &stored(&config, "600941.SH"),
        &exchange.expected(ProviderName::Tencent, "600941.SH", "2022-02-14", "2023-03-01"),
        "600941.SH",
    );
    assert_eq!(summary.securities_synced, 3);

    let store = Store::open(&config.database.path).unwrap();
    let run = &store.sync_runs(1).unwrap()[0];
    assert_eq!((run.outcome.as_str(), run.failures, run.securities_updated), ("partial", 1, 3));
    assert_eq!(store.sync_failures(run.id).unwrap()[0].provider.as_deref(), Some("yahoo"));

    // Why tencent was passed over for 0700.HK is kept with the run.
    let fallbacks = store.sync_fallbacks(run.id).unwrap();
    // One row per provider passed over: tencent for 0700.HK; tencent and eastmoney for 9988.HK.
    assert_eq!(fallbacks.len(), 3, "{fallbacks:?}");
    let tencent_0700 = fallbacks.iter().find(|f| f.symbol == "0700.HK").unwrap();
    assert_eq!(tencent_0700.provider.as_deref(), Some("tencent"));
    assert!(tencent_0700.reason.starts_with("tencent: unavailable: HTTP 500"), "{}", tencent_0700.reason);
    assert_eq!(summary.fell_back.len(), 2);

    // Tencent recovers for 0700.HK the next day, but the security sticks with eastmoney, the
    // source of its stored series: one small request, no history re-downloaded.
    exchange.clear_faults();
    exchange.take_log();
    let next = evening("2023-03-02");
    exchange.set_now(next);
    let summary = sync(&config, Selection::Symbols(vec![symbol("0700.HK")]), next).await;
    assert_eq!((summary.full_histories, summary.bars_added), (0, 1));
    let requests = exchange.take_log();
    assert_eq!(requests.len(), 2, "eastmoney, as traded and back-adjusted: {requests:#?}");
    assert!(requests.iter().all(|(provider, _)| *provider == ProviderName::Eastmoney));
    assert_series(
        &stored(&config, "0700.HK"),
        &exchange.expected(ProviderName::Eastmoney, "0700.HK", "2022-02-14", "2023-03-02"),
        "0700.HK",
    );
}

#[tokio::test]
async fn three_block_pages_in_a_row_open_tencents_circuit_for_the_rest_of_the_run() {
    let dir = tempfile::tempdir().unwrap();
    drop(seeded_store(dir.path()));
    let now = evening("2023-03-01");
    let exchange = Exchange::new(now);
    let names = ["000063.SZ", "000066.SZ", "000681.SZ", "0700.HK", "600941.SH"];
    for name in names {
        exchange.fault(ProviderName::Tencent, name, Fault::Html);
    }
    let servers = start(&exchange).await;
    let mut config = config(dir.path(), &servers);
    config.sync.concurrency = 1;

    let summary = sync(&config, Selection::Symbols(names.map(symbol).to_vec()), now).await;

    let circuits: Vec<(ProviderName, bool)> = summary.circuits.iter().map(|c| (c.provider, c.open_at_end)).collect();
    assert_eq!(circuits, vec![(ProviderName::Tencent, true)]);
    assert_eq!(summary.failures, vec![]);
    let tencent_requests = exchange.take_log().into_iter().filter(|(p, _)| *p == ProviderName::Tencent).count();
    assert_eq!(tencent_requests, 3, "the first three securities asked tencent, the circuit then opened");
    assert_eq!(summary.fell_back.len(), 5);
    for name in names {
        assert_series(&stored(&config, name), &exchange.expected(ProviderName::Eastmoney, name, "2022-02-14", "2023-03-01"), name);
    }
}

#[tokio::test]
async fn a_bonus_share_ex_date_leaves_the_adjusted_series_continuous() {
    let dir = tempfile::tempdir().unwrap();
    drop(seeded_store(dir.path()));
    let exchange = Exchange::new(evening("2023-02-28"));
    // 中际旭创 10送5 with ex-date Wednesday 2023-03-01; the first sync runs the evening before.
    exchange.state.lock().unwrap().bonus.insert(symbol("300308.SZ"), date("2023-03-01"));
    let servers = start(&exchange).await;
    let config = config(dir.path(), &servers);
    let only = || Selection::Symbols(vec![symbol("300308.SZ")]);
    sync(&config, only(), evening("2023-02-28")).await;
    exchange.set_now(evening("2023-03-01"));
    let summary = sync(&config, only(), evening("2023-03-01")).await;
    assert_eq!((summary.bars_added, summary.refetched.clone()), (1, Vec::<(Symbol, RefetchReason)>::new()));

    let bars = stored(&config, "300308.SZ");
    assert_series(&bars, &exchange.expected(ProviderName::Tencent, "300308.SZ", "2022-02-14", "2023-03-01"), "300308.SZ");
    let (before, after) = (&bars[bars.len() - 2], &bars[bars.len() - 1]);
    assert_eq!((before.date, after.date), (date("2023-02-28"), date("2023-03-01")));
    // "300308.SZ" sums to 521: base = 0.030 × (100 + 3647) = 112.410. 02-28 is day 738579
    // (mod 41 = 5): close 112.560, hfq 337.680. 03-01 (mod 41 = 6): formula 112.590, traded at
    // two thirds = 75.060, hfq 337.770. Raw: 75.06 / 112.56 − 1 = −33.316 %; adjusted:
    // 337.77 / 337.68 − 1 = +0.0267 %, the day's real move.
    assert_eq!((before.close, before.adj_close, after.close, after.adj_close), (112.56, 337.68, 75.06, 337.77));
    assert!((after.close / before.close - 1.0 - (-0.333_155)).abs() < 1e-6);
    assert!((after.adj_close / before.adj_close - 1.0 - 0.000_266_52).abs() < 1e-7);
}

#[tokio::test]
async fn a_yahoo_dividend_rebase_refetches_the_whole_adjusted_history() {
    let dir = tempfile::tempdir().unwrap();
    drop(seeded_store(dir.path()));
    let exchange = Exchange::new(evening("2023-03-01"));
    let servers = start(&exchange).await;
    let config = config(dir.path(), &servers);
    let only = || Selection::Symbols(vec![symbol("MSFT.US")]);
    sync(&config, only(), evening("2023-03-01")).await;
    exchange.take_log();

    // A dividend: Yahoo now reports every adjclose at 0.96 of the close instead of 0.97.
    exchange.state.lock().unwrap().yahoo_factor.insert(symbol("MSFT.US"), 0.96);
    exchange.set_now(evening("2023-03-02"));
    let summary = sync(&config, only(), evening("2023-03-02")).await;

    assert_eq!(summary.refetched, vec![(symbol("MSFT.US"), RefetchReason::Rebased)]);
    let urls: Vec<String> = exchange.take_log().into_iter().map(|(_, url)| url).collect();
    // The incremental request (period1 = 2023-02-17T00:00Z), then the full history from
    // 2022-02-13T00:00Z = 1644710400.
    assert_eq!(urls.len(), 2);
    assert!(urls[0].contains("period1=1676592000") && urls[1].contains("period1=1644710400"), "{urls:#?}");
    assert_series(&stored(&config, "MSFT.US"), &exchange.expected(ProviderName::Yahoo, "MSFT.US", "2022-02-14", "2023-03-01"), "MSFT.US");
    Store::open(&config.database.path).unwrap().verify_close_chunks().unwrap();
}

/// Points every provider of the real binary at the servers, retries and rate limits off.
fn point_binary_at(cmd: &mut assert_cmd::Command, servers: &Servers) {
    for (name, server) in [("TENCENT", &servers.tencent), ("EASTMONEY", &servers.eastmoney), ("YAHOO", &servers.yahoo)] {
        cmd.env(format!("RATINGWATCH__PROVIDERS__{name}__BASE_URL"), server.uri())
            .env(format!("RATINGWATCH__PROVIDERS__{name}__MAX_RETRIES"), "0")
            .env(format!("RATINGWATCH__PROVIDERS__{name}__REQUESTS_PER_SECOND"), "0");
    }
}

#[tokio::test]
async fn the_command_syncs_everything_and_exits_0_then_exits_1_naming_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    // The binary reads the real clock; the exchange follows it.
    let exchange = Exchange::new(Utc::now());
    let servers = start(&exchange).await;
    let history_start = (Utc::now() - chrono::Days::new(30)).date_naive().to_string();
    let mut cmd = ratingwatch(dir.path());
    point_binary_at(&mut cmd, &servers);
    cmd.env("RATINGWATCH__SYNC__HISTORY_START", &history_start).arg("sync");
    let assert = tokio::task::spawn_blocking(move || cmd.assert()).await.unwrap();
    assert.code(0).stdout(contains("synced 48 of 48 securities: 48 updated"));
    let store = Store::open(&dir.path().join("test.db")).unwrap();
    let empty: HashSet<String> =
        store.tracked_symbols().unwrap().iter().filter(|s| store.bar_stats(s).unwrap().is_none()).map(|s| s.to_string()).collect();
    assert_eq!(empty, HashSet::new(), "every tracked security has bars");
    assert_eq!(store.sync_runs(1).unwrap()[0].outcome, "ok");

    for provider in ProviderName::ALL {
        exchange.fault(provider, "0020.HK", Fault::Status(404));
    }
    let mut cmd = ratingwatch(dir.path());
    point_binary_at(&mut cmd, &servers);
    cmd.env("RATINGWATCH__SYNC__HISTORY_START", &history_start).args(["sync", "--symbol", "0020.HK", "--symbol", "0700.hk", "--full"]);
    let assert = tokio::task::spawn_blocking(move || cmd.assert()).await.unwrap();
    assert.code(1).stderr(contains("failed: 0020.HK via yahoo: tencent: not found")).stdout(contains("synced 1 of 2 securities"));
}

#[tokio::test]
async fn ctrl_c_stops_the_command_cleanly_and_records_an_interrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let exchange = Exchange::new(Utc::now());
    // Every answer takes 10 s, far longer than the test waits: the first Ctrl-C must abandon
    // the requests in flight rather than wait for them.
    let (arrivals, arrived) = mpsc::channel();
    let servers = start_with(&exchange, Duration::from_secs(10), Some(arrivals)).await;
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("ratingwatch"));
    cmd.current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("RATINGWATCH_DB", dir.path().join("test.db"))
        .env("RATINGWATCH__REPORTS__DIR", crate::support::seed_report_path().parent().unwrap())
        .env("RATINGWATCH__SYNC__HISTORY_START", (Utc::now() - chrono::Days::new(30)).date_naive().to_string())
        .arg("sync")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (name, server) in [("TENCENT", &servers.tencent), ("EASTMONEY", &servers.eastmoney), ("YAHOO", &servers.yahoo)] {
        cmd.env(format!("RATINGWATCH__PROVIDERS__{name}__BASE_URL"), server.uri())
            .env(format!("RATINGWATCH__PROVIDERS__{name}__REQUESTS_PER_SECOND"), "0")
            .env(format!("RATINGWATCH__PROVIDERS__{name}__TIMEOUT_SECS"), "60");
    }
    let child = cmd.spawn().unwrap();

    // Once a request has reached a server the run is under way: interrupt it.
    tokio::task::spawn_blocking(move || arrived.recv_timeout(Duration::from_secs(60)).expect("a request arrives")).await.unwrap();
    let interrupted = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(interrupted.success());
    let output = tokio::time::timeout(Duration::from_secs(30), tokio::task::spawn_blocking(move || child.wait_with_output()))
        .await
        .expect("the command ends well before the 10 s answers")
        .unwrap()
        .unwrap();

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("interrupted: finishing the securities in flight"), "{stderr}");
    assert!(stderr.contains("securities not synced; run `ratingwatch sync` again to complete"), "{stderr}");
    let store = Store::open(&dir.path().join("test.db")).unwrap();
    assert_eq!(store.sync_runs(1).unwrap()[0].outcome, "interrupted");
    assert!(store.integrity_ok().unwrap());
}

#[test]
fn an_unrecognised_symbol_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    ratingwatch(dir.path())
        .args(["sync", "--symbol", "600941.XX"])
        .assert()
        .code(2)
        .stderr(contains("`600941.XX` is not a symbol: unknown market suffix `.XX`"));
}

#[test]
fn a_symbol_off_the_watchlist_is_a_usage_error_that_says_how_to_add_it() {
    let dir = tempfile::tempdir().unwrap();
    ratingwatch(dir.path())
        .args(["sync", "--symbol", "aapl"])
        .assert()
        .code(2)
        .stderr(contains("AAPL.US is not on the watchlist; add with `ratingwatch watchlist add SYMBOL --sector SECTOR`"));
}

#[tokio::test]
async fn an_empty_answer_where_sessions_are_stored_is_that_providers_failure_and_the_fallback_says_so() {
    let dir = tempfile::tempdir().unwrap();
    drop(seeded_store(dir.path()));
    let exchange = Exchange::new(evening("2023-03-01"));
    let servers = start(&exchange).await;
    let mut config = config(dir.path(), &servers);
    // Leave a failing provider at its first failing run, so the fallback is visible at once.
    config.sync.switch_after_runs = 1;
    config.providers.chains.cn = vec![ProviderName::Tencent, ProviderName::Eastmoney];
    config.providers.chains.hk = vec![ProviderName::Eastmoney, ProviderName::Yahoo];
    config.providers.chains.us = vec![ProviderName::Yahoo, ProviderName::Tencent];
    let cases = [
        (ProviderName::Tencent, "600941.SH", ProviderName::Eastmoney),
        (ProviderName::Eastmoney, "0700.HK", ProviderName::Yahoo),
        (ProviderName::Yahoo, "MSFT.US", ProviderName::Tencent),
    ];
    let selection = || Selection::Symbols(cases.iter().map(|(_, name, _)| symbol(name)).collect());
    sync(&config, selection(), evening("2023-03-01")).await;
    for (provider, name, _) in cases {
        assert_eq!(source(&config, name).1.as_deref(), Some(provider.as_str()), "{name}");
        exchange.fault(provider, name, Fault::EmptySeries);
    }

    exchange.set_now(evening("2023-03-02"));
    let summary = sync(&config, selection(), evening("2023-03-02")).await;

    assert_eq!((summary.securities_synced, summary.full_histories, summary.failures.len()), (3, 3, 0));
    for (provider, name, fallback) in cases {
        assert_eq!(source(&config, name).1.as_deref(), Some(fallback.as_str()), "{name}");
        assert_series(&stored(&config, name), &exchange.expected(fallback, name, "2022-02-14", "2023-03-02"), name);
        let fell_back = summary.fell_back.iter().find(|f| f.symbol == symbol(name)).unwrap();
        assert!(fell_back.reason.starts_with(&format!("{provider}: empty answer for ")), "{}", fell_back.reason);
    }
    // 600941.SH: the window is 2023-02-19 … 03-02 and holds 8 stored sessions (02-20 … 03-01).
    let mobile = summary.fell_back.iter().find(|f| f.symbol == symbol("600941.SH")).unwrap();
    assert_eq!(mobile.reason, "tencent: empty answer for 2023-02-19 to 2023-03-02, a range holding 8 stored sessions");
    let store = Store::open(&config.database.path).unwrap();
    assert_eq!(store.sync_fallbacks(summary.run_id).unwrap().len(), 3);
}

#[tokio::test]
async fn one_bad_response_does_not_make_sixteen_securities_redownload_their_history_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded_store(dir.path());
    let names: Vec<String> = store
        .tracked_symbols()
        .unwrap()
        .iter()
        .filter(|s| matches!(s.market(), Market::Sh | Market::Sz))
        .take(16)
        .map(|s| s.to_string())
        .collect();
    drop(store);
    assert_eq!(names.len(), 16);
    let exchange = Exchange::new(evening("2023-03-01"));
    let servers = start(&exchange).await;
    let config = config(dir.path(), &servers);
    let selection = || Selection::Symbols(names.iter().map(|name| symbol(name)).collect());
    sync(&config, selection(), evening("2023-03-01")).await;
    exchange.take_log();

    // The next evening tencent answers one request with a 502 (retries are off in these tests).
    let unlucky = names[5].clone();
    exchange.fault_once(ProviderName::Tencent, &unlucky, Fault::Status(502));
    exchange.set_now(evening("2023-03-02"));
    let summary = sync(&config, selection(), evening("2023-03-02")).await;

    let requests = exchange.take_log();
    assert!(requests.iter().all(|(provider, _)| *provider == ProviderName::Tencent), "nobody asked another provider");
    assert!(requests.iter().all(|(_, url)| !url.contains("2022-02-14")), "no history was re-downloaded");
    assert_eq!((summary.securities_synced, summary.full_histories, summary.bars_added), (15, 0, 15));
    assert_eq!(summary.deferred.len(), 1);
    let deferred = &summary.deferred[0];
    assert_eq!((deferred.symbol.to_string(), deferred.provider), (unlucky.clone(), Some(ProviderName::Tencent)));
    assert!(deferred.reason.contains("HTTP 502") && deferred.reason.contains("kept for the next run"), "{}", deferred.reason);
    assert_eq!(summary.circuits, vec![], "one failure does not open a circuit");
    assert_eq!(source(&config, &unlucky).1.as_deref(), Some("tencent"));

    // The day after, the deferred security catches up from tencent like the others.
    exchange.set_now(evening("2023-03-03"));
    let summary = sync(&config, selection(), evening("2023-03-03")).await;
    assert_eq!((summary.securities_synced, summary.deferred.len(), summary.full_histories), (16, 0, 0));
    assert_series(&stored(&config, &unlucky), &exchange.expected(ProviderName::Tencent, &unlucky, "2022-02-14", "2023-03-03"), &unlucky);
    assert_eq!(Store::open(&config.database.path).unwrap().provider_streaks().unwrap(), vec![]);
}

#[tokio::test]
async fn the_command_exits_1_naming_a_security_deferred_after_an_empty_answer() {
    let dir = tempfile::tempdir().unwrap();
    // The first sync sees the exchange as it was three days ago, so the next one has sessions
    // to fetch whatever day the test runs.
    let exchange = Exchange::new(Utc::now() - chrono::Days::new(3));
    let servers = start(&exchange).await;
    let history_start = (Utc::now() - chrono::Days::new(30)).date_naive().to_string();
    let run = |args: &[&str]| {
        let mut cmd = ratingwatch(dir.path());
        point_binary_at(&mut cmd, &servers);
        cmd.env("RATINGWATCH__SYNC__HISTORY_START", &history_start).arg("sync").args(args);
        cmd
    };
    let mut first = run(&["--symbol", "600941.SH", "--symbol", "000300.SH"]);
    tokio::task::spawn_blocking(move || first.assert().code(0)).await.unwrap();

    // Today the benchmark gets the newer sessions; 600941.SH then lags the market, and tencent
    // answers it with an empty series. Fetch times are stored to the second: the benchmark's
    // must be later than 600941.SH's, or 600941.SH would count as asked alongside it.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    exchange.set_now(Utc::now());
    let mut benchmark = run(&["--symbol", "000300.SH", "--full"]);
    tokio::task::spawn_blocking(move || benchmark.assert().code(0)).await.unwrap();
    exchange.fault(ProviderName::Tencent, "600941.SH", Fault::EmptySeries);
    let mut second = run(&["--symbol", "600941.SH"]);
    let assert = tokio::task::spawn_blocking(move || second.assert()).await.unwrap();
    assert
        .code(1)
        .stderr(contains("deferred: 600941.SH via tencent: tencent: empty answer for "))
        .stderr(contains("kept for the next run (tencent failed it 1 run in a row; it moves to another provider after 3)"))
        .stdout(contains("synced 0 of 1 securities").and(contains("; 1 deferred")));
    let store = Store::open(&dir.path().join("test.db")).unwrap();
    let run = &store.sync_runs(1).unwrap()[0];
    assert_eq!((run.outcome.as_str(), run.failures), ("failed", 1));
    assert_eq!(store.sync_failures(run.id).unwrap()[0].kind, "deferred");
}
