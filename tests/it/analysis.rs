//! Integration tests for analysis: prices imported with the real binary into a real
//! database, then `pipeline::{verdict, verdict_all, weekly}` read them back.
//!
//! Fixture: the small report (`tests/fixtures/small-report/`, loaded through `support`),
//! dated 2023-02-14 (看好, horizon to 2023-08-14). Every expected number is worked out by hand
//! in that folder's README; the ones used here:
//! - 沪深300 (as published): 4000 on 02-14 → 4200 on 08-14: +5 %.
//! - 600941.SH has a 10送10 bonus-share ex-date on 06-01: its raw close halves (91.8 → 46.5)
//!   but the adjusted close is continuous, 40 → 50: +25 % (raw 80 → 50 would say −37.5 %).
//! - 300308.SZ: 50 → 45: −10 %. 301165.SZ: base 50 on 02-13 (no close on 02-14), last close
//!   38.75 on 05-11: −22.5 %, stale. 603881.SH: first close 05-12, excluded.
//! - 0700.HK: 400 HKD × 0.87 = 348 CNY → 440 HKD × 0.9135 = 401.94 CNY: +15.5 %.
//! - 通信 {600941, 300308, 301165}: (25 − 10 − 22.5) / 3 = −2.5 %; excess −7.5 pp: 中性, not held.
//! - 应用 {0700, 600941}: (15.5 + 25) / 2 = 20.25 %; excess 15.25 pp: 看好, held.
//! - Basket: (25 − 10 − 22.5 + 15.5) / 4 = 2 %; excess −3 pp: 中性, not held.

use std::path::Path;

use chrono::NaiveDate;
use ratingwatch::analysis::AnalysisError;
use ratingwatch::analysis::model::Status;
use ratingwatch::pipeline::{self, AnalysisOptions, PipelineError, WeekSelection};
use ratingwatch::ratings::BrokerBook;
use ratingwatch::store::Store;

use crate::support::{self, SMALL_REPORT};

fn d(month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2023, month, day).unwrap()
}

fn close_to(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() < 1e-12
}

/// The seed report and the small report in a fresh database, with the fixture prices
/// imported through `ratingwatch import prices`.
fn imported(dir: &Path) -> Store {
    let mut store = support::seeded_store(dir);
    store.load_report(&support::small_report(), chrono::Utc::now()).unwrap();
    support::import_small_report_prices(|| support::ratingwatch(dir));
    store
}

#[test]
fn verdict_end_to_end_through_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = imported(dir.path());
    let verdict = pipeline::verdict(&store, &store.report(SMALL_REPORT).unwrap(), d(12, 31), &AnalysisOptions::default()).unwrap();

    assert_eq!((verdict.status, verdict.end_date, verdict.days_left), (Status::NotHeld, d(8, 14), 0));
    assert_eq!((verdict.benchmark.base_close, verdict.benchmark.end_close), (4000.0, 4200.0));
    assert!(close_to(verdict.benchmark.total_return, 0.05));

    let telecom = &verdict.sectors[0];
    let [mobile, innolight, ruijie] = &telecom.members[..] else { panic!("three priced members: {:?}", telecom.members) };
    // The bonus share: base and end are adjusted closes, so the return is +25 %.
    assert_eq!((mobile.base_close, mobile.end_close), (40.0, 50.0));
    assert!(close_to(mobile.total_return, 0.25), "{}", mobile.total_return);
    assert!(close_to(innolight.total_return, -0.10), "{}", innolight.total_return);
    // The suspended member: base on its own last day before T0, counted at its last close.
    assert_eq!((ruijie.base_date, ruijie.end_date, ruijie.stale), (d(2, 13), d(5, 11), true));
    assert!(close_to(ruijie.total_return, -0.225), "{}", ruijie.total_return);
    assert!(close_to(telecom.total_return, -0.025) && close_to(telecom.excess, -0.075), "{telecom:?}");
    assert_eq!((telecom.implied_rating.as_str(), telecom.status), ("中性", Status::NotHeld));
    assert_eq!(telecom.excluded.iter().map(|e| e.symbol.to_string()).collect::<Vec<_>>(), ["603881.SH"]);
    // Path: 10 benchmark days after T0; best 06-01 (600941 +16.25 %, 300308 +7.8 %, 301165
    // −22.5 %: mean 0.51667 %, index −1 %) → +1.51667 pp; worst 08-14 → −7.5 pp.
    let path_dates: Vec<NaiveDate> = telecom.path.iter().map(|p| p.date).collect();
    let benchmark_days = [d(2, 17), d(5, 12), d(5, 15), d(5, 16), d(5, 17), d(5, 18), d(5, 19), d(6, 1), d(8, 11), d(8, 14)];
    assert_eq!(path_dates, benchmark_days);
    assert_eq!((telecom.best_excess_date, telecom.worst_excess_date), (Some(d(6, 1)), Some(d(8, 14))));
    assert!(close_to(telecom.worst_excess.unwrap(), telecom.excess));
    assert!(close_to(telecom.best_excess.unwrap(), (0.1625 + 0.078 - 0.225) / 3.0 + 0.01));

    let apps = &verdict.sectors[1];
    let tencent = &apps.members[0];
    assert_eq!((tencent.fx_base, tencent.fx_end), (Some(0.87), Some(0.9135)));
    assert!(close_to(tencent.total_return, 401.94 / 348.0 - 1.0), "{}", tencent.total_return);
    assert!(close_to(apps.excess, (401.94 / 348.0 - 1.0 + 0.25) / 2.0 - 0.05));
    assert_eq!((apps.implied_rating.as_str(), apps.held, apps.status), ("看好", true, Status::Held));

    let basket_return = (0.25 - 0.10 - 0.225 + (401.94 / 348.0 - 1.0)) / 4.0;
    assert!(close_to(verdict.basket.total_return, basket_return), "{}", verdict.basket.total_return);
    assert!(close_to(verdict.basket.excess, basket_return - 0.05));
    assert!(!verdict.basket.held);
    // Two warnings: the later listing is excluded, the suspended member is stale.
    assert_eq!(verdict.warnings.len(), 2, "{:?}", verdict.warnings);
    assert!(verdict.warnings.iter().any(|w| w.starts_with("603881.SH 数据港 is excluded")), "{:?}", verdict.warnings);
    // 9 benchmark days follow the 05-11 close up to 08-14: 05-12, 05-15 … 05-19, 06-01, 08-11, 08-14.
    assert!(
        verdict.warnings.iter().any(|w| w.starts_with("301165.SZ 锐捷网络: latest close 2023-05-11 is 9 trading days")),
        "{:?}",
        verdict.warnings
    );
}

#[test]
fn a_week_without_a_benchmark_close_has_no_weekly_summary() {
    // W21 is Mon 05-22 … Fri 05-26; the fixture's 沪深300 closes on 05-19 and next on 06-01,
    // so the week would read 0.00 % measured from 05-19 to 05-19. `pipeline::weekly` refuses
    // it for every caller (`report`, `notify send`, the week page, the weekly job).
    let dir = tempfile::tempdir().unwrap();
    let store = imported(dir.path());
    let week = WeekSelection::Week("2023-W21".parse().unwrap());
    let err = pipeline::weekly(
        &store,
        &store.report(SMALL_REPORT).unwrap(),
        &week,
        &AnalysisOptions::default(),
        &BrokerBook::load(None).unwrap(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, PipelineError::Analysis(AnalysisError::NoPricesInWeek { week_start, week_end, latest_close, .. })
            if (*week_start, *week_end, *latest_close) == (d(5, 22), d(5, 26), d(5, 19))),
        "{err:?}"
    );
    // The fixture's benchmark has a later close (06-01), so the week is named a market
    // holiday, not "run sync".
    assert_eq!(
        err.to_string(),
        "week 2023-W21 (2023-05-22 to 2023-05-26) was a market holiday: 沪深300 has no close in it (the last before is from 2023-05-19, \
         the next from 2023-06-01); there is no summary for it"
    );
}

#[test]
fn weekly_end_to_end_through_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = imported(dir.path());
    let week = WeekSelection::Week("2023-W33".parse().unwrap());
    let summary = pipeline::weekly(
        &store,
        &store.report(SMALL_REPORT).unwrap(),
        &week,
        &AnalysisOptions::default(),
        &BrokerBook::load(None).unwrap(),
    )
    .unwrap();
    // W33 is Mon 08-14 … Fri 08-18; the index 4160 on 08-11 → 4242 on 08-18: 82 / 4160.
    assert_eq!((summary.previous_as_of, summary.as_of), (d(8, 11), d(8, 18)));
    assert!(close_to(summary.benchmark_week_return, 82.0 / 4160.0));
    // 通信 since the report: −2.5 % at 08-18 (closes of 08-14), 0.51667 % at 08-11 (600941 at
    // 46.5/40, 300308 at 53.9/50, 301165 at 38.75/50): week 2.925 / 3.0155 − 1.
    let telecom = &summary.sectors[0];
    assert!(close_to(telecom.week_return, 2.925 / 3.0155 - 1.0), "{}", telecom.week_return);
    assert_eq!(telecom.best[0].symbol.to_string(), "600941.SH");
    let freshness: Vec<(&str, Option<NaiveDate>)> = summary.freshness.iter().map(|f| (f.market.as_str(), f.latest_close)).collect();
    assert_eq!(freshness, vec![("SH", Some(d(8, 18))), ("SZ", Some(d(8, 14))), ("HK", Some(d(8, 18))), ("FX", Some(d(8, 14)))]);
}

#[test]
fn the_ledger_has_every_report() {
    let dir = tempfile::tempdir().unwrap();
    let store = imported(dir.path());
    let ledger = pipeline::verdict_all(&store, d(12, 31), &AnalysisOptions::default()).unwrap();
    let ids: Vec<&str> = ledger.iter().map(|v| v.report_id.as_str()).collect();
    assert_eq!(ids, ["small-2023-02-14", "zheshang-2023-02-14-chatgpt"]);
    // The seed report holds the same four priced companies; its 41 others (603881.SH with
    // prices that start after the report date, 40 without prices) are each excluded by name
    // rather than silently.
    let seed = &ledger[1];
    assert_eq!((seed.basket.members.len(), seed.basket.excluded.len()), (4, 41));
    assert!(close_to(seed.basket.total_return, ledger[0].basket.total_return));
    assert_eq!(seed.warnings.iter().filter(|w| w.contains("excluded")).count(), 41);
    // A report dated after the as-of date has no verdict yet.
    assert!(pipeline::verdict_all(&store, d(2, 13), &AnalysisOptions::default()).unwrap().is_empty());
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = support::seeded_store(dir.path());
    let options = AnalysisOptions::default();

    // An unknown report is the store's error, and it lists the known ones.
    let err = store.report("nope").unwrap_err();
    assert!(err.to_string().contains("no report `nope`") && err.to_string().contains("zheshang-2023-02-14-chatgpt"), "{err}");

    let report = store.report("zheshang-2023-02-14-chatgpt").unwrap();
    let err = pipeline::verdict(&store, &report, d(12, 31), &options).unwrap_err();
    assert!(matches!(err, PipelineError::Analysis(AnalysisError::NoBenchmarkPrices { .. })), "{err:?}");
    assert!(err.to_string().starts_with("no prices for the benchmark 沪深300 (000300.SH) on or before 2023-02-14"), "{err}");
    assert!(err.to_string().contains("ratingwatch sync") && err.to_string().contains("import prices --symbol 000300.SH"), "{err}");

    let err = pipeline::verdict(&store, &report, d(1, 31), &options).unwrap_err();
    assert!(
        matches!(&err, PipelineError::Analysis(AnalysisError::AsOfBeforeReport { as_of, report_date, .. }) if *as_of == d(1, 31) && *report_date == d(2, 14)),
        "{err:?}"
    );
    assert!(err.to_string().ends_with("pass --as-of 2023-02-14 or later"), "{err}");
    // 2023-W05 ends on Friday 2023-02-03; the first week with a Friday on or after Tuesday
    // 2023-02-14 is 2023-W07 (Friday 2023-02-17).
    let err = pipeline::weekly(
        &store,
        &report,
        &WeekSelection::Week(ratingwatch::ids::Week::new(2023, 5).unwrap()),
        &options,
        &BrokerBook::load(None).unwrap(),
    )
    .unwrap_err();
    assert!(matches!(err, PipelineError::WeekBeforeReport { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "week 2023-W05 measured to 2023-02-03 is before the report date 2023-02-14 of `zheshang-2023-02-14-chatgpt`; choose --week 2023-W07 or later"
    );
    let err = pipeline::weekly(&store, &report, &WeekSelection::AsOf(d(2, 10)), &options, &BrokerBook::load(None).unwrap()).unwrap_err();
    assert!(err.to_string().ends_with("choose --as-of 2023-02-14 or later"), "{err}");
}
