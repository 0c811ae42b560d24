//! Unit tests of the orchestration: a scripted fake fetcher and real SQLite with the real
//! migrations and the seed report.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{Datelike, TimeZone, Weekday};

use super::*;
use crate::catalog::parse_report;
use crate::prices::{AdjBasis, Bar};

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn symbol(text: &str) -> Symbol {
    Symbol::parse(text).unwrap()
}

/// 18:00 in Shanghai on `day`: after the A-share and HK closes.
fn evening(day: &str) -> DateTime<Utc> {
    let d = date(day);
    Utc.with_ymd_and_hms(d.year(), d.month(), d.day(), 10, 0, 0).unwrap()
}

fn weekdays(from: &str, to: &str) -> Vec<NaiveDate> {
    date(from).iter_days().take_while(|d| *d <= date(to)).filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)).collect()
}

/// A series on weekdays: the raw close of day `i` is `base + i`, the adjusted close `factor` times it.
fn series(from: &str, to: &str, base: f64, factor: f64) -> Vec<Bar> {
    weekdays(from, to)
        .into_iter()
        .enumerate()
        .map(|(i, date)| {
            let close = base + i as f64;
            Bar {
                date,
                open: Some(close),
                high: Some(close + 0.5),
                low: Some(close - 0.5),
                close,
                volume: Some(1000.0),
                adj_close: close * factor,
            }
        })
        .collect()
}

/// What the fake answers for one provider and symbol.
#[derive(Clone)]
enum Answer {
    /// The provider's whole history; each request gets the part inside its window.
    History {
        basis: AdjBasis,
        bars: Vec<Bar>,
        first_trade_date: Option<NaiveDate>,
    },
    /// Exactly these bars, whatever the window (for malformed or truncated answers).
    Verbatim {
        basis: AdjBasis,
        bars: Vec<Bar>,
    },
    Fail(ProviderErrorKind),
    /// Cancels the run (a Ctrl-C arriving mid-request) and never answers.
    CancelAndHang(CancellationToken),
}

fn history(basis: AdjBasis, bars: Vec<Bar>) -> Answer {
    Answer::History { basis, bars, first_trade_date: None }
}

/// A scripted provider: answers from a table, logs every request, counts requests in flight.
#[derive(Default)]
struct FakeFetcher {
    answers: Mutex<HashMap<(ProviderName, Symbol), Answer>>,
    log: Mutex<Vec<(ProviderName, FetchRequest)>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl FakeFetcher {
    fn answer(&self, provider: ProviderName, symbol_text: &str, answer: Answer) {
        self.answers.lock().unwrap().insert((provider, symbol(symbol_text)), answer);
    }

    fn requests(&self) -> Vec<(ProviderName, FetchRequest)> {
        self.log.lock().unwrap().clone()
    }

    fn clear_log(&self) {
        self.log.lock().unwrap().clear();
    }

    async fn respond(&self, provider: ProviderName, request: &FetchRequest) -> Result<FetchedSeries, ProviderError> {
        self.log.lock().unwrap().push((provider, request.clone()));
        let now_in_flight = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now_in_flight, Ordering::SeqCst);
        // Let the other securities' requests start before this one answers.
        for _ in 0..5 {
            tokio::task::yield_now().await;
        }
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        let answer = self.answers.lock().unwrap().get(&(provider, request.symbol.clone())).cloned();
        let error = |kind| ProviderError { provider, symbol: request.symbol.clone(), kind, message: format!("scripted {kind:?}") };
        match answer {
            None => Err(error(ProviderErrorKind::NotFound)),
            Some(Answer::Fail(kind)) => Err(error(kind)),
            Some(Answer::History { basis, bars, first_trade_date }) => Ok(FetchedSeries {
                provider,
                basis,
                bars: bars.into_iter().filter(|b| b.date >= request.from && b.date <= request.to).collect(),
                first_trade_date,
            }),
            Some(Answer::Verbatim { basis, bars }) => Ok(FetchedSeries { provider, basis, bars, first_trade_date: None }),
            Some(Answer::CancelAndHang(token)) => {
                token.cancel();
                std::future::pending().await
            }
        }
    }
}

impl PriceFetcher for FakeFetcher {
    fn fetch<'a>(&'a self, provider: ProviderName, request: &'a FetchRequest) -> FetchFuture<'a> {
        Box::pin(self.respond(provider, request))
    }
}

fn seeded_store() -> SharedStore {
    let mut store = Store::open_in_memory().unwrap();
    let report =
        parse_report(std::path::Path::new("seed.toml"), include_str!("../../data/reports/zheshang-2023-02-14-chatgpt.toml")).unwrap();
    store.load_report(&report, evening("2023-02-14")).unwrap();
    Arc::new(Mutex::new(store))
}

fn options(symbols: &[&str]) -> SyncOptions {
    SyncOptions { selection: Selection::Symbols(symbols.iter().map(|s| symbol(s)).collect()), full: false, trigger: "test".to_string() }
}

async fn run(fetcher: &FakeFetcher, store: &SharedStore, options: &SyncOptions, day: &str) -> SyncSummary {
    run_with(fetcher, store, options, day, &Config::default(), &CancellationToken::new()).await
}

async fn run_with(
    fetcher: &FakeFetcher,
    store: &SharedStore,
    options: &SyncOptions,
    day: &str,
    config: &Config,
    cancel: &CancellationToken,
) -> SyncSummary {
    run_sync_with(config, fetcher, Arc::clone(store), options, evening(day), cancel, &LogProgress).await.unwrap()
}

fn stored(store: &SharedStore, symbol_text: &str) -> Vec<Bar> {
    store.lock().unwrap().all_bars(&symbol(symbol_text)).unwrap()
}

fn state(store: &SharedStore, symbol_text: &str) -> crate::store::SecurityState {
    store.lock().unwrap().security_state(&symbol(symbol_text)).unwrap()
}

fn windows(requests: &[(ProviderName, FetchRequest)]) -> Vec<(ProviderName, String, NaiveDate, NaiveDate)> {
    requests.iter().map(|(p, r)| (*p, r.symbol.to_string(), r.from, r.to)).collect()
}

#[tokio::test]
async fn first_sync_fetches_full_history_then_same_day_sends_nothing_and_next_day_one_small_request() {
    let fetcher = FakeFetcher::default();
    let store = seeded_store();
    fetcher.answer(ProviderName::Tencent, "600941.SH", history(AdjBasis::Hfq, series("2022-01-03", "2023-03-02", 60.0, 1.5)));

    let first = run(&fetcher, &store, &options(&["600941.SH"]), "2023-03-01").await;
    // The default history start is one year before the seed report date (2023-02-14).
    assert_eq!(windows(&fetcher.requests()), vec![(ProviderName::Tencent, "600941.SH".into(), date("2022-02-14"), date("2023-03-01"))]);
    let expected =
        series("2022-01-03", "2023-03-02", 60.0, 1.5).into_iter().filter(|b| b.date >= date("2022-02-14") && b.date <= date("2023-03-01"));
    let expected: Vec<Bar> = expected.collect();
    assert_eq!(stored(&store, "600941.SH"), expected);
    assert_eq!((first.securities_synced, first.securities_updated, first.bars_added, first.full_histories), (1, 1, expected.len(), 1));
    assert_eq!(first.outcome(), "ok");
    let state = state(&store, "600941.SH");
    assert_eq!((state.adj_basis, state.adj_source.as_deref()), (Some(AdjBasis::Hfq), Some("tencent")));

    // Same evening again: today's bar is stored, nothing is requested.
    fetcher.clear_log();
    let second = run(&fetcher, &store, &options(&["600941.SH"]), "2023-03-01").await;
    assert_eq!(fetcher.requests(), vec![]);
    assert_eq!((second.up_to_date, second.bars_written, second.requests), (1, 0, 0));

    // The next evening: one request from 2023-03-01 − 10 days = 2023-02-19; the overlap
    // (02-20 … 03-01, 8 bars) is rewritten unchanged and 03-02 is added.
    fetcher.clear_log();
    let third = run(&fetcher, &store, &options(&["600941.SH"]), "2023-03-02").await;
    assert_eq!(windows(&fetcher.requests()), vec![(ProviderName::Tencent, "600941.SH".into(), date("2023-02-19"), date("2023-03-02"))]);
    assert_eq!((third.bars_added, third.bars_written, third.full_histories), (1, 9, 0));
    assert_eq!(stored(&store, "600941.SH").last().unwrap().date, date("2023-03-02"));

    let runs = store.lock().unwrap().sync_runs(10).unwrap();
    assert_eq!(runs.iter().map(|r| (r.trigger.as_str(), r.outcome.as_str())).collect::<Vec<_>>(), vec![("test", "ok"); 3]);
    assert_eq!(runs[2].bars_written, expected.len());
}

#[tokio::test]
async fn falls_back_in_chain_order_and_names_every_provider_when_all_fail() {
    let fetcher = FakeFetcher::default();
    let store = seeded_store();
    // 0700.HK: tencent does not know it, eastmoney times out, yahoo answers.
    fetcher.answer(ProviderName::Tencent, "0700.HK", Answer::Fail(ProviderErrorKind::NotFound));
    fetcher.answer(ProviderName::Eastmoney, "0700.HK", Answer::Fail(ProviderErrorKind::Transient));
    fetcher.answer(ProviderName::Yahoo, "0700.HK", history(AdjBasis::YahooAdjclose, series("2022-02-14", "2023-03-01", 300.0, 0.97)));
    // 0020.HK: every provider fails.
    fetcher.answer(ProviderName::Tencent, "0020.HK", Answer::Fail(ProviderErrorKind::Malformed));
    fetcher.answer(ProviderName::Eastmoney, "0020.HK", Answer::Fail(ProviderErrorKind::Unsupported));

    let summary = run(&fetcher, &store, &options(&["0700.HK", "0020.HK"]), "2023-03-01").await;
    let order: Vec<ProviderName> = fetcher.requests().into_iter().filter(|(_, r)| r.symbol == symbol("0700.HK")).map(|(p, _)| p).collect();
    assert_eq!(order, vec![ProviderName::Tencent, ProviderName::Eastmoney, ProviderName::Yahoo]);
    assert_eq!(state(&store, "0700.HK").adj_source.as_deref(), Some("yahoo"));
    assert_eq!(stored(&store, "0700.HK").len(), weekdays("2022-02-14", "2023-03-01").len());
    // The fallback keeps why the first two providers failed.
    let fell_back: Vec<(String, Option<ProviderName>, String)> =
        summary.fell_back.iter().map(|f| (f.symbol.to_string(), f.provider, f.reason.clone())).collect();
    assert_eq!(
        fell_back,
        vec![(
            "0700.HK".to_string(),
            Some(ProviderName::Yahoo),
            "tencent: not found: scripted NotFound; eastmoney: unavailable: scripted Transient".to_string()
        )]
    );

    assert_eq!(summary.failures.len(), 1);
    let failure = &summary.failures[0];
    assert_eq!((failure.symbol.to_string().as_str(), failure.provider), ("0020.HK", Some(ProviderName::Yahoo)));
    assert_eq!(
        failure.reason,
        "tencent: malformed response: scripted Malformed; eastmoney: unsupported: scripted Unsupported; yahoo: not found: scripted NotFound"
    );
    assert_eq!(stored(&store, "0020.HK"), vec![]);
    assert_eq!(summary.outcome(), "partial");
    let recorded = store.lock().unwrap().sync_failures(summary.run_id).unwrap();
    assert_eq!(recorded.len(), 1);
    assert_eq!((recorded[0].symbol.as_str(), recorded[0].provider.as_deref()), ("0020.HK", Some("yahoo")));
    assert_eq!(store.lock().unwrap().sync_runs(1).unwrap()[0].outcome, "partial");
}

#[tokio::test]
async fn three_consecutive_failures_open_a_providers_circuit_and_each_fallback_says_why() {
    let fetcher = FakeFetcher::default();
    let store = seeded_store();
    let mut config = Config::default();
    config.sync.concurrency = 1;
    // Tencent bans every request; none of these securities has a stored series yet, so each
    // walks the chain. The default threshold is 3: from the fourth security on, tencent's
    // circuit is open and it is not asked (the cool-down, 60 s, outlasts the run).
    let names = ["000063.SZ", "000066.SZ", "000681.SZ", "000938.SZ", "002230.SZ"];
    for name in names {
        fetcher.answer(ProviderName::Tencent, name, Answer::Fail(ProviderErrorKind::Blocked));
        fetcher.answer(ProviderName::Eastmoney, name, history(AdjBasis::Hfq, series("2022-02-14", "2023-03-01", 10.0, 2.0)));
    }
    let summary = run_with(&fetcher, &store, &options(&names), "2023-03-01", &config, &CancellationToken::new()).await;
    let providers: Vec<(ProviderName, String)> = fetcher.requests().into_iter().map(|(p, r)| (p, r.symbol.to_string())).collect();
    let mut expected = Vec::new();
    for name in &names[..3] {
        expected.push((ProviderName::Tencent, name.to_string()));
        expected.push((ProviderName::Eastmoney, name.to_string()));
    }
    for name in &names[3..] {
        expected.push((ProviderName::Eastmoney, name.to_string()));
    }
    assert_eq!(providers, expected);
    assert_eq!(
        summary.circuits,
        vec![CircuitReport {
            provider: ProviderName::Tencent,
            opened: 1,
            open_at_end: true,
            last_failure: "blocked: scripted Blocked".to_string(),
            unreachable: false
        }]
    );
    assert_eq!((summary.securities_synced, summary.failures.len(), summary.fell_back.len()), (5, 0, 5));
    // Why tencent was passed over is kept for every security: the ban for the first three,
    // the open circuit for the others.
    let fallbacks = store.lock().unwrap().sync_fallbacks(summary.run_id).unwrap();
    let reasons: Vec<(&str, Option<&str>, &str)> =
        fallbacks.iter().map(|f| (f.symbol.as_str(), f.provider.as_deref(), f.reason.as_str())).collect();
    assert_eq!(reasons[0], ("000063.SZ", Some("tencent"), "tencent: blocked: scripted Blocked"));
    assert_eq!(
        reasons[4],
        ("002230.SZ", Some("tencent"), "tencent: skipped: circuit open after 3 consecutive failures (last: blocked: scripted Blocked)")
    );
    assert_eq!(fallbacks.len(), 5);
    assert!(fallbacks.iter().all(|f| f.kind == "fell_back"));
    assert_eq!(store.lock().unwrap().sync_failures(summary.run_id).unwrap(), vec![], "a fallback is not a failure");
    assert_eq!(summary.outcome(), "ok");
}

#[tokio::test]
async fn an_open_circuit_lets_one_probe_through_after_the_cooldown_and_its_success_closes_it() {
    let fetcher = FakeFetcher::default();
    let store = seeded_store();
    let mut config = Config::default();
    config.sync.concurrency = 1;
    config.sync.breaker_threshold = 2;
    // No cool-down: the next security after the circuit opens is the probe.
    config.sync.breaker_cooldown_secs = 0;
    let names = ["000063.SZ", "000066.SZ", "000681.SZ", "000938.SZ"];
    for name in &names[..3] {
        fetcher.answer(ProviderName::Tencent, name, Answer::Fail(ProviderErrorKind::Transient));
    }
    // Tencent recovers for the last one.
    fetcher.answer(ProviderName::Tencent, names[3], history(AdjBasis::Hfq, series("2022-02-14", "2023-03-01", 10.0, 2.0)));
    for name in names {
        fetcher.answer(ProviderName::Eastmoney, name, history(AdjBasis::Hfq, series("2022-02-14", "2023-03-01", 10.0, 2.0)));
    }
    let summary = run_with(&fetcher, &store, &options(&names), "2023-03-01", &config, &CancellationToken::new()).await;
    let asked_tencent: Vec<String> =
        fetcher.requests().into_iter().filter(|(p, _)| *p == ProviderName::Tencent).map(|(_, r)| r.symbol.to_string()).collect();
    // Two failures open it; the third security is a probe (it fails: open again); the fourth
    // is the next probe, succeeds and closes it.
    assert_eq!(asked_tencent, names.map(String::from).to_vec());
    assert_eq!(state(&store, names[3]).adj_source.as_deref(), Some("tencent"));
    let circuit = &summary.circuits[0];
    assert_eq!((circuit.provider, circuit.opened, circuit.open_at_end), (ProviderName::Tencent, 2, false));
}

#[tokio::test]
async fn every_provider_open_fails_the_symbol_naming_the_chain() {
    let fetcher = FakeFetcher::default();
    let store = seeded_store();
    let mut config = Config::default();
    config.sync.concurrency = 1;
    config.sync.breaker_threshold = 1;
    config.providers.chains.fx = vec![crate::ids::ProviderName::Yahoo];
    fetcher.answer(ProviderName::Yahoo, "HKDCNY.FX", Answer::Fail(ProviderErrorKind::Blocked));
    let summary = run_with(&fetcher, &store, &options(&["HKDCNY.FX", "USDCNY.FX"]), "2023-03-01", &config, &CancellationToken::new()).await;
    assert_eq!(fetcher.requests().len(), 1, "the open circuit keeps yahoo from being asked for USDCNY.FX");
    let reasons: Vec<(String, Option<ProviderName>, String)> =
        summary.failures.iter().map(|f| (f.symbol.to_string(), f.provider, f.reason.clone())).collect();
    assert_eq!(
        reasons,
        vec![
            ("HKDCNY.FX".to_string(), Some(ProviderName::Yahoo), "yahoo: blocked: scripted Blocked".to_string()),
            (
                "USDCNY.FX".to_string(),
                Some(ProviderName::Yahoo),
                "yahoo: skipped: circuit open after 1 consecutive failures (last: blocked: scripted Blocked)".to_string()
            ),
        ]
    );
    assert_eq!(summary.outcome(), "failed");
    assert_eq!(summary.all_unreachable(), None, "blocked is not unreachable");
}

#[tokio::test]
async fn offline_every_security_fails_as_unreachable_and_the_run_says_so_once() {
    let fetcher = FakeFetcher::default();
    let store = seeded_store();
    for provider in ProviderName::ALL {
        for symbol in store.lock().unwrap().tracked_symbols().unwrap() {
            fetcher.answer(provider, &symbol.to_string(), Answer::Fail(ProviderErrorKind::Unreachable));
        }
    }
    let mut config = Config::default();
    config.sync.concurrency = 1;
    let all = SyncOptions { selection: Selection::All, full: false, trigger: "test".into() };
    let summary = run_with(&fetcher, &store, &all, "2023-03-01", &config, &CancellationToken::new()).await;
    // Three failures open each circuit: tencent and eastmoney by the first three CN/HK
    // securities (…), yahoo likewise; after that no request goes out.
    assert_eq!(summary.failures.len(), 48);
    assert!(summary.failures.iter().all(|f| f.unreachable), "{:?}", summary.failures);
    assert_eq!(fetcher.requests().len(), 9, "three requests per provider open the three circuits");
    let line = summary.all_unreachable().unwrap();
    assert_eq!(
        line,
        "every provider is unreachable: tencent, eastmoney, yahoo (unreachable: scripted Unreachable); 48 securities not synced. \
         Check the network, or providers.<name>.base_url"
    );
}

#[tokio::test]
async fn a_transient_failure_keeps_the_provider_and_defers_until_the_third_failing_run_switches() {
    let fetcher = FakeFetcher::default();
    let store = seeded_store();
    fetcher.answer(ProviderName::Tencent, "600050.SH", history(AdjBasis::Hfq, series("2022-02-14", "2023-03-01", 4.0, 3.0)));
    run(&fetcher, &store, &options(&["600050.SH"]), "2023-03-01").await;
    let stored_before = stored(&store, "600050.SH");

    // From the next day tencent is down for it; eastmoney's own back-adjusted series uses
    // another base (factor 2.5).
    fetcher.answer(ProviderName::Tencent, "600050.SH", Answer::Fail(ProviderErrorKind::Transient));
    let eastmoney = series("2022-02-14", "2023-03-06", 4.0, 2.5);
    fetcher.answer(ProviderName::Eastmoney, "600050.SH", history(AdjBasis::Hfq, eastmoney.clone()));
    // Runs 1 and 2 of the failing streak: deferred, only tencent asked, nothing stored changes.
    for (day, failed_runs) in [("2023-03-02", 1), ("2023-03-03", 2)] {
        fetcher.clear_log();
        let summary = run(&fetcher, &store, &options(&["600050.SH"]), day).await;
        let asked: Vec<ProviderName> = fetcher.requests().into_iter().map(|(p, _)| p).collect();
        assert_eq!(asked, vec![ProviderName::Tencent], "{day}");
        assert_eq!(summary.deferred.len(), 1, "{day}");
        assert_eq!(
            summary.deferred[0].reason,
            format!(
                "tencent: unavailable: scripted Transient; kept for the next run (tencent failed it {failed_runs} run{} in a row; it moves to another provider after 3)",
                if failed_runs == 1 { "" } else { "s" }
            )
        );
        assert_eq!((summary.failures.len(), summary.outcome()), (0, "failed"));
        assert_eq!(stored(&store, "600050.SH"), stored_before);
        let recorded = store.lock().unwrap().sync_failures(summary.run_id).unwrap();
        assert_eq!((recorded[0].kind.as_str(), recorded[0].provider.as_deref()), ("deferred", Some("tencent")));
    }
    // Run 3 (Monday 03-06): the third failing run switches to eastmoney's whole history.
    fetcher.clear_log();
    let summary = run(&fetcher, &store, &options(&["600050.SH"]), "2023-03-06").await;
    assert_eq!(
        windows(&fetcher.requests()),
        vec![
            (ProviderName::Tencent, "600050.SH".into(), date("2023-02-19"), date("2023-03-06")),
            (ProviderName::Eastmoney, "600050.SH".into(), date("2022-02-14"), date("2023-03-06")),
        ]
    );
    assert_eq!(stored(&store, "600050.SH"), eastmoney);
    assert_eq!(state(&store, "600050.SH").adj_source.as_deref(), Some("eastmoney"));
    // Three new dates (03-02, 03-03, 03-06); every other stored date was replaced.
    assert_eq!((summary.bars_added, summary.bars_written, summary.full_histories), (3, eastmoney.len(), 1));
    assert_eq!(summary.fell_back.len(), 1);
    assert_eq!(store.lock().unwrap().provider_streaks().unwrap(), vec![], "a sync clears the streak");
}

#[tokio::test]
async fn a_provider_that_does_not_know_the_symbol_is_left_at_once() {
    let fetcher = FakeFetcher::default();
    let store = seeded_store();
    fetcher.answer(ProviderName::Tencent, "600050.SH", history(AdjBasis::Hfq, series("2022-02-14", "2023-03-01", 4.0, 3.0)));
    run(&fetcher, &store, &options(&["600050.SH"]), "2023-03-01").await;
    fetcher.answer(ProviderName::Tencent, "600050.SH", Answer::Fail(ProviderErrorKind::NotFound));
    fetcher.answer(ProviderName::Eastmoney, "600050.SH", history(AdjBasis::Hfq, series("2022-02-14", "2023-03-02", 4.0, 2.5)));
    let summary = run(&fetcher, &store, &options(&["600050.SH"]), "2023-03-02").await;
    assert_eq!((summary.deferred.len(), summary.full_histories), (0, 1));
    assert_eq!(state(&store, "600050.SH").adj_source.as_deref(), Some("eastmoney"));
    assert_eq!(summary.fell_back[0].reason, "tencent: not found: scripted NotFound");
}

#[tokio::test]
async fn an_empty_incremental_answer_is_a_failure_of_that_provider_not_zero_added() {
    let fetcher = FakeFetcher::default();
    let store = seeded_store();
    let mut config = Config::default();
    config.sync.switch_after_runs = 2;
    fetcher.answer(ProviderName::Eastmoney, "0700.HK", history(AdjBasis::Hfq, series("2022-02-14", "2023-03-01", 300.0, 1.1)));
    config.providers.chains.hk = vec![ProviderName::Eastmoney, ProviderName::Yahoo];
    run_with(&fetcher, &store, &options(&["0700.HK"]), "2023-03-01", &config, &CancellationToken::new()).await;

    // Throttled: eastmoney answers `klines: []` for any window.
    fetcher.answer(ProviderName::Eastmoney, "0700.HK", Answer::Verbatim { basis: AdjBasis::Hfq, bars: vec![] });
    let yahoo = series("2022-02-14", "2023-03-03", 300.0, 0.97);
    fetcher.answer(ProviderName::Yahoo, "0700.HK", history(AdjBasis::YahooAdjclose, yahoo.clone()));
    let summary = run_with(&fetcher, &store, &options(&["0700.HK"]), "2023-03-02", &config, &CancellationToken::new()).await;
    // The window 2023-02-19 … 03-02 holds 8 stored weekdays (02-20 … 03-01).
    assert_eq!(summary.deferred.len(), 1);
    assert!(
        summary.deferred[0].reason.starts_with("eastmoney: empty answer for 2023-02-19 to 2023-03-02, a range holding 8 stored sessions"),
        "{}",
        summary.deferred[0].reason
    );
    assert_eq!((summary.securities_synced, summary.outcome()), (0, "failed"));

    // The second empty run reaches switch_after_runs = 2: the fallback answers.
    let summary = run_with(&fetcher, &store, &options(&["0700.HK"]), "2023-03-03", &config, &CancellationToken::new()).await;
    assert_eq!((summary.securities_synced, summary.fell_back.len(), summary.deferred.len()), (1, 1, 0));
    assert_eq!(stored(&store, "0700.HK"), yahoo);
    assert_eq!(state(&store, "0700.HK").adj_source.as_deref(), Some("yahoo"));
}

#[tokio::test]
async fn a_no_op_rerun_on_a_weekend_or_a_holiday_sends_nothing_and_the_next_session_does() {
    let fetcher = FakeFetcher::default();
    let store = seeded_store();
    // Data up to Tuesday 2023-04-04; Wednesday 04-05 is 清明, a holiday with no session.
    fetcher.answer(ProviderName::Tencent, "600941.SH", history(AdjBasis::Hfq, series("2022-02-14", "2023-04-04", 60.0, 1.5)));
    fetcher.answer(ProviderName::Tencent, "000300.SH", history(AdjBasis::None, series("2022-02-14", "2023-04-04", 4000.0, 1.0)));
    let pair = options(&["600941.SH", "000300.SH"]);
    run(&fetcher, &store, &pair, "2023-04-05").await;
    assert_eq!(fetcher.requests().len(), 2);
    // The same holiday evening again: both were asked after the close and the market holds
    // nothing newer than 04-04.
    fetcher.clear_log();
    let rerun = run(&fetcher, &store, &pair, "2023-04-05").await;
    assert_eq!((fetcher.requests().len(), rerun.up_to_date), (0, 2));
    // Thursday's session happens: the next evening asks again (the histories skip the holiday).
    let without_holiday = |bars: Vec<Bar>| bars.into_iter().filter(|bar| bar.date != date("2023-04-05")).collect::<Vec<_>>();
    let mobile = without_holiday(series("2022-02-14", "2023-04-07", 60.0, 1.5));
    fetcher.answer(ProviderName::Tencent, "600941.SH", history(AdjBasis::Hfq, mobile));
    let csi300 = without_holiday(series("2022-02-14", "2023-04-07", 4000.0, 1.0));
    fetcher.answer(ProviderName::Tencent, "000300.SH", history(AdjBasis::None, csi300));
    let thursday = run(&fetcher, &store, &pair, "2023-04-06").await;
    assert_eq!((thursday.securities_synced, thursday.bars_added), (2, 2));
    // Friday 04-07 evening, then Saturday and Sunday: Friday's bar is the latest possible session.
    run(&fetcher, &store, &pair, "2023-04-07").await;
    fetcher.clear_log();
    for weekend in ["2023-04-08", "2023-04-09"] {
        let summary = run(&fetcher, &store, &pair, weekend).await;
        assert_eq!(summary.up_to_date, 2, "{weekend}");
    }
    assert_eq!(fetcher.requests(), vec![]);
}
#[tokio::test]
async fn a_rebased_adjclose_in_the_overlap_refetches_the_full_history() {
    let fetcher = FakeFetcher::default();
    let store = seeded_store();
    fetcher.answer(ProviderName::Yahoo, "MSFT.US", history(AdjBasis::YahooAdjclose, series("2022-02-14", "2023-03-01", 250.0, 0.98)));
    run(&fetcher, &store, &options(&["MSFT.US"]), "2023-03-01").await;

    // A dividend goes ex on 03-02: Yahoo multiplies every earlier adjclose by 0.99; raw closes stay.
    let mut rebased = series("2022-02-14", "2023-03-02", 250.0, 0.98 * 0.99);
    rebased.last_mut().unwrap().adj_close = rebased.last().unwrap().close * 0.98;
    fetcher.answer(ProviderName::Yahoo, "MSFT.US", history(AdjBasis::YahooAdjclose, rebased.clone()));
    fetcher.clear_log();
    // 18:00 in Shanghai on 03-03 is 05:00 in New York: the latest closed session is 03-02.
    let summary = run(&fetcher, &store, &options(&["MSFT.US"]), "2023-03-03").await;
    assert_eq!(
        windows(&fetcher.requests()),
        vec![
            (ProviderName::Yahoo, "MSFT.US".into(), date("2023-02-19"), date("2023-03-03")),
            (ProviderName::Yahoo, "MSFT.US".into(), date("2022-02-14"), date("2023-03-03")),
        ]
    );
    assert_eq!(stored(&store, "MSFT.US"), rebased, "every stored adjusted close is on the new base");
    assert_eq!(summary.refetched, vec![(symbol("MSFT.US"), RefetchReason::Rebased)]);
}

#[tokio::test]
async fn returns_across_a_bonus_share_ex_date_come_from_the_continuous_adjusted_series() {
    let fetcher = FakeFetcher::default();
    let store = seeded_store();
    // 10送5 on 2023-03-01: one share becomes 1.5, so the raw close falls from 30.00 to 20.20
    // (−32.7 %) while the hfq series carries on: 300.00 → 303.00 (+1 %).
    let days = weekdays("2023-02-27", "2023-03-02");
    let raw_and_hfq = [(29.70, 297.0), (30.00, 300.0), (20.20, 303.0), (20.40, 306.0)];
    let bars: Vec<Bar> = days
        .iter()
        .zip(raw_and_hfq)
        .map(|(date, (close, adj_close))| Bar {
            date: *date,
            open: Some(close),
            high: Some(close),
            low: Some(close),
            close,
            volume: Some(1.0),
            adj_close,
        })
        .collect();
    fetcher.answer(ProviderName::Tencent, "300308.SZ", history(AdjBasis::Hfq, bars[..2].to_vec()));
    run(&fetcher, &store, &options(&["300308.SZ"]), "2023-02-28").await;
    fetcher.answer(ProviderName::Tencent, "300308.SZ", history(AdjBasis::Hfq, bars.clone()));
    let summary = run(&fetcher, &store, &options(&["300308.SZ"]), "2023-03-02").await;
    assert_eq!(summary.refetched, vec![], "hfq history does not move on an ex-date");

    let stored = stored(&store, "300308.SZ");
    assert_eq!(stored, bars);
    let (before, after) = (&stored[1], &stored[2]);
    // Raw: 20.20 / 30.00 − 1 = −32.67 %; adjusted: 303 / 300 − 1 = +1.00 %.
    assert!((after.close / before.close - 1.0 - (-0.326_666)).abs() < 1e-5);
    assert!((after.adj_close / before.adj_close - 1.0 - 0.01).abs() < 1e-12);
}

#[tokio::test]
async fn an_answer_failing_validation_never_overwrites_stored_bars() {
    let fetcher = FakeFetcher::default();
    let store = seeded_store();
    // Leave a failing provider at the first failing run, so every provider is tried.
    let mut config = Config::default();
    config.sync.switch_after_runs = 1;
    let good = series("2022-02-14", "2023-03-01", 40.0, 1.0);
    fetcher.answer(ProviderName::Tencent, "002230.SZ", history(AdjBasis::Hfq, good.clone()));
    run(&fetcher, &store, &options(&["002230.SZ"]), "2023-03-01").await;

    // Next day: tencent's answer has a zero close, eastmoney's a bar dated tomorrow, and
    // yahoo's full history stops a week before the stored series ends.
    let mut zero_close = series("2023-02-20", "2023-03-02", 40.0, 1.0);
    zero_close[2].close = 0.0;
    fetcher.answer(ProviderName::Tencent, "002230.SZ", Answer::Verbatim { basis: AdjBasis::Hfq, bars: zero_close });
    fetcher.answer(
        ProviderName::Eastmoney,
        "002230.SZ",
        Answer::Verbatim { basis: AdjBasis::Hfq, bars: series("2023-03-02", "2023-03-03", 1.0, 1.0) },
    );
    fetcher.answer(ProviderName::Yahoo, "002230.SZ", history(AdjBasis::YahooAdjclose, series("2022-02-14", "2023-02-22", 40.0, 0.9)));
    let summary = run_with(&fetcher, &store, &options(&["002230.SZ"]), "2023-03-02", &config, &CancellationToken::new()).await;
    assert_eq!(stored(&store, "002230.SZ"), good);
    assert_eq!(state(&store, "002230.SZ").adj_source.as_deref(), Some("tencent"));
    let reason = &summary.failures[0].reason;
    assert!(reason.contains("tencent: response failed validation: 2023-02-22: close is 0"), "{reason}");
    assert!(reason.contains("eastmoney: response failed validation: 2023-03-03: date is after today (2023-03-02)"), "{reason}");
    assert!(reason.contains("yahoo: full history ends 2023-02-22, before the stored series (2023-03-01)"), "{reason}");
}

#[tokio::test]
async fn cancelling_stops_new_securities_keeps_finished_ones_and_the_next_run_completes() {
    let fetcher = FakeFetcher::default();
    let store = seeded_store();
    let mut config = Config::default();
    config.sync.concurrency = 1;
    let cancel = CancellationToken::new();
    let names = ["600941.SH", "601728.SH", "603444.SH"];
    fetcher.answer(ProviderName::Tencent, names[0], history(AdjBasis::Hfq, series("2022-02-14", "2023-03-01", 60.0, 1.0)));
    fetcher.answer(ProviderName::Tencent, names[1], Answer::CancelAndHang(cancel.clone()));
    fetcher.answer(ProviderName::Tencent, names[2], history(AdjBasis::Hfq, series("2022-02-14", "2023-03-01", 100.0, 1.0)));

    let summary = run_with(&fetcher, &store, &options(&names), "2023-03-01", &config, &cancel).await;
    assert!(summary.cancelled);
    assert_eq!((summary.securities_synced, summary.not_finished, summary.failures.len()), (1, 2, 0));
    assert_eq!(summary.outcome(), "interrupted");
    assert_eq!(fetcher.requests().len(), 2, "the third security was never started");
    assert_eq!(stored(&store, names[0]).len(), weekdays("2022-02-14", "2023-03-01").len());
    assert_eq!(stored(&store, names[1]), vec![]);
    assert_eq!(store.lock().unwrap().sync_runs(1).unwrap()[0].outcome, "interrupted");

    // The next run (no Ctrl-C this time) finishes the work.
    fetcher.answer(ProviderName::Tencent, names[1], history(AdjBasis::Hfq, series("2022-02-14", "2023-03-01", 5.0, 1.0)));
    let summary = run_with(&fetcher, &store, &options(&names), "2023-03-01", &config, &CancellationToken::new()).await;
    assert_eq!((summary.securities_synced, summary.up_to_date, summary.cancelled), (2, 1, false));
    for name in names {
        assert_eq!(stored(&store, name).last().unwrap().date, date("2023-03-01"));
    }
    assert!(store.lock().unwrap().integrity_ok().unwrap());
}

#[tokio::test]
async fn at_most_concurrency_securities_are_in_flight() {
    let fetcher = FakeFetcher::default();
    let store = seeded_store();
    let mut config = Config::default();
    config.sync.concurrency = 3;
    let summary = run_with(
        &fetcher,
        &store,
        &SyncOptions { selection: Selection::All, full: false, trigger: "test".into() },
        "2023-03-01",
        &config,
        &CancellationToken::new(),
    )
    .await;
    // Nothing is scripted: every provider answers "not found" for all 48 tracked securities
    // (45 companies, the CSI 300, two FX pairs).
    assert_eq!(summary.requested, 48);
    assert_eq!(fetcher.max_in_flight.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn selection_by_market_and_unknown_symbols() {
    let fetcher = FakeFetcher::default();
    let store = seeded_store();
    let fx = SyncOptions { selection: Selection::Markets(vec![Market::Fx]), full: false, trigger: "service".into() };
    fetcher.answer(ProviderName::Yahoo, "USDCNY.FX", history(AdjBasis::None, series("2022-02-14", "2023-03-01", 6.7, 1.0)));
    fetcher.answer(ProviderName::Yahoo, "HKDCNY.FX", history(AdjBasis::None, series("2022-02-14", "2023-03-01", 0.86, 1.0)));
    let summary = run(&fetcher, &store, &fx, "2023-03-01").await;
    assert_eq!((summary.requested, summary.securities_synced), (2, 2));
    assert_eq!(stored(&store, "USDCNY.FX")[0].close, 6.7);

    let error = run_sync_with(
        &Config::default(),
        &fetcher,
        Arc::clone(&store),
        &options(&["600941.SH", "AAPL.US", "1385.HK"]),
        evening("2023-03-01"),
        &CancellationToken::new(),
        &LogProgress,
    )
    .await
    .unwrap_err();
    assert_eq!(error.to_string(), "AAPL.US, 1385.HK are not on the watchlist; add with `ratingwatch watchlist add SYMBOL --sector SECTOR`");
    assert_eq!(store.lock().unwrap().sync_runs(10).unwrap().len(), 1, "a usage error opens no run");
}

#[tokio::test]
async fn full_flag_replaces_and_records_the_listing_date() {
    let fetcher = FakeFetcher::default();
    let store = seeded_store();
    fetcher.answer(ProviderName::Tencent, "301165.SZ", history(AdjBasis::Hfq, series("2022-02-14", "2023-03-01", 50.0, 1.0)));
    run(&fetcher, &store, &options(&["301165.SZ"]), "2023-03-01").await;
    // Ruijie listed on 2023-01-19 per the provider; the earlier bars were bogus.
    let listed = series("2023-01-19", "2023-03-01", 80.0, 1.0);
    fetcher.answer(
        ProviderName::Tencent,
        "301165.SZ",
        Answer::History { basis: AdjBasis::Hfq, bars: listed.clone(), first_trade_date: Some(date("2023-01-19")) },
    );
    fetcher.clear_log();
    let mut full = options(&["301165.SZ"]);
    full.full = true;
    run(&fetcher, &store, &full, "2023-03-01").await;
    assert_eq!(windows(&fetcher.requests()), vec![(ProviderName::Tencent, "301165.SZ".into(), date("2022-02-14"), date("2023-03-01"))]);
    assert_eq!(stored(&store, "301165.SZ"), listed);
    assert_eq!(state(&store, "301165.SZ").listed_on, Some(date("2023-01-19")));
}

#[tokio::test]
async fn one_dropped_connection_defers_one_security_and_nobody_switches_provider() {
    let fetcher = FakeFetcher::default();
    let store = seeded_store();
    let names: Vec<String> = store
        .lock()
        .unwrap()
        .tracked_symbols()
        .unwrap()
        .iter()
        .filter(|s| matches!(s.market(), Market::Sh | Market::Sz))
        .take(16)
        .map(Symbol::to_string)
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    for name in &names {
        fetcher.answer(ProviderName::Tencent, name, history(AdjBasis::Hfq, series("2022-02-14", "2023-03-02", 10.0, 2.0)));
        fetcher.answer(ProviderName::Eastmoney, name, history(AdjBasis::Hfq, series("2022-02-14", "2023-03-02", 10.0, 2.5)));
    }
    run(&fetcher, &store, &options(&names), "2023-03-01").await;
    // The next day one connection to tencent is dropped (a ban signal: `Blocked`).
    fetcher.answer(ProviderName::Tencent, names[7], Answer::Fail(ProviderErrorKind::Blocked));
    fetcher.clear_log();
    let summary = run(&fetcher, &store, &options(&names), "2023-03-02").await;
    assert!(fetcher.requests().iter().all(|(provider, _)| *provider == ProviderName::Tencent), "eastmoney is never asked");
    assert_eq!((summary.securities_synced, summary.deferred.len(), summary.full_histories), (15, 1, 0));
    assert_eq!(summary.deferred[0].symbol, symbol(names[7]));
    assert!(names.iter().all(|name| state(&store, name).adj_source.as_deref() == Some("tencent")));
}
