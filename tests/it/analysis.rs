//! Integration tests for analysis: prices imported with the real binary into a real
//! database, then `pipeline::{verdict, verdict_all, weekly}` read them back.
//!
//! Fixture (`tests/fixtures/analysis/`): a three-company report dated 2023-02-14 (看好,
//! horizon to 2023-08-14) and small price files. Expected numbers, worked by hand:
//! - 沪深300 (as published): 4000 on 02-14 → 3900 on 08-14: −2.5 %.
//! - 600941.SH has a 10送10 bonus-share ex-date on 06-01: its raw close halves (60 → 31)
//!   but the adjusted close is continuous, 30 → 31 → 33: +10 % (raw would say −45 %).
//! - 300308.SZ: 30 → 60: +100 %.
//! - 0700.HK: 380 HKD × 0.88 = 334.4 CNY → 330 HKD × 0.92 = 303.6 CNY:
//!   303.6 / 334.4 − 1 = −9.2105263 %.
//! - 通信 {600941, 300308}: (10 + 100) / 2 = 55 %; excess 57.5 pp: 看好, held.
//! - 应用 {0700}: −9.2105263 + 2.5 = −6.7105263 pp: 中性, not held.
//! - Basket: (10 + 100 − 9.2105263) / 3 = 33.5964912 %; excess 36.0964912 pp: held.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use ratingwatch::analysis::AnalysisError;
use ratingwatch::analysis::model::Status;
use ratingwatch::catalog;
use ratingwatch::pipeline::{self, AnalysisOptions, PipelineError, WeekSelection};
use ratingwatch::store::Store;

use crate::support;

const SMALL_REPORT: &str = "small-2023-02-14";

fn d(month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2023, month, day).unwrap()
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/analysis")
}

fn close_to(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() < 1e-12
}

/// The seed report and the small report in a fresh database, with the fixture prices
/// imported through `ratingwatch import prices`.
fn imported(dir: &Path) -> Store {
    let mut store = support::seeded_store(dir);
    let small = catalog::load_report(&fixtures().join("small-report.toml")).unwrap();
    store.load_report(&small, chrono::Utc::now()).unwrap();
    for symbol in ["000300.SH", "600941.SH", "300308.SZ", "0700.HK", "HKDCNY.FX"] {
        let file = fixtures().join(format!("{symbol}.csv"));
        support::ratingwatch(dir).args(["import", "prices", "--symbol", symbol]).arg(&file).assert().success();
    }
    store
}

#[test]
fn verdict_end_to_end_through_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = imported(dir.path());
    let verdict = pipeline::verdict(&store, &store.report(SMALL_REPORT).unwrap(), d(12, 31), &AnalysisOptions::default()).unwrap();

    assert_eq!((verdict.status, verdict.end_date, verdict.days_left), (Status::Held, d(8, 14), 0));
    assert_eq!((verdict.benchmark.base_close, verdict.benchmark.end_close), (4000.0, 3900.0));
    assert!(close_to(verdict.benchmark.total_return, -0.025));

    let telecom = &verdict.sectors[0];
    let mobile = &telecom.members[0];
    // The bonus share: base and end are adjusted closes, so the return is +10 %.
    assert_eq!((mobile.base_close, mobile.end_close), (30.0, 33.0));
    assert!(close_to(mobile.total_return, 0.10), "{}", mobile.total_return);
    assert!(close_to(telecom.total_return, 0.55) && close_to(telecom.excess, 0.575), "{telecom:?}");
    assert_eq!((telecom.implied_rating.as_str(), telecom.status), ("看好", Status::Held));
    // Path: 06-01 (600941 +3.333 %, 300308 0 %, index −2 %) → 3.6667 pp, the worst;
    // 08-11 → 1.6667 + 2.5 = 4.1667 pp; 08-14 → 57.5 pp, the best.
    assert_eq!(telecom.path.iter().map(|p| p.date).collect::<Vec<_>>(), vec![d(6, 1), d(8, 11), d(8, 14)]);
    assert_eq!((telecom.worst_excess_date, telecom.best_excess_date), (Some(d(6, 1)), Some(d(8, 14))));
    assert!(close_to(telecom.worst_excess.unwrap(), (31.0 / 30.0 - 1.0) / 2.0 + 0.02));

    let apps = &verdict.sectors[1];
    let tencent = &apps.members[0];
    assert_eq!((tencent.fx_base, tencent.fx_end), (Some(0.88), Some(0.92)));
    assert!(close_to(tencent.total_return, 303.6 / 334.4 - 1.0), "{}", tencent.total_return);
    assert!(close_to(apps.excess, 303.6 / 334.4 - 1.0 + 0.025));
    assert_eq!((apps.implied_rating.as_str(), apps.held, apps.status), ("中性", false, Status::NotHeld));

    let basket_return = (0.10 + 1.0 + (303.6 / 334.4 - 1.0)) / 3.0;
    assert!(close_to(verdict.basket.total_return, basket_return), "{}", verdict.basket.total_return);
    assert!(close_to(verdict.basket.excess, basket_return + 0.025));
    assert!(verdict.basket.held && verdict.warnings.is_empty(), "{:?}", verdict.warnings);
}

#[test]
fn weekly_end_to_end_through_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = imported(dir.path());
    let week = WeekSelection::Week("2023-W33".parse().unwrap());
    let summary = pipeline::weekly(&store, &store.report(SMALL_REPORT).unwrap(), &week, &AnalysisOptions::default()).unwrap();
    // W33 is Mon 08-14 … Fri 08-18; the index closed at 3900 on both Fridays: week 0 %.
    assert_eq!((summary.previous_as_of, summary.as_of), (d(8, 11), d(8, 18)));
    assert!(close_to(summary.benchmark_week_return, 0.0));
    // 通信 since the report: 55 % at 08-18 (closes of 08-14), 1.6667 % at 08-11 (600941 at
    // 31/30, 300308 still at its base): week 1.55 / (61/60) − 1 = 93/61 − 1.
    let telecom = &summary.sectors[0];
    assert!(close_to(telecom.week_return, 93.0 / 61.0 - 1.0), "{}", telecom.week_return);
    assert_eq!(telecom.best[0].symbol.to_string(), "300308.SZ");
    let freshness: Vec<(&str, Option<NaiveDate>)> = summary.freshness.iter().map(|f| (f.market.as_str(), f.latest_close)).collect();
    assert_eq!(freshness, vec![("SH", Some(d(8, 18))), ("SZ", Some(d(8, 14))), ("HK", Some(d(8, 14))), ("FX", Some(d(8, 14)))]);
}

#[test]
fn the_ledger_has_every_report() {
    let dir = tempfile::tempdir().unwrap();
    let store = imported(dir.path());
    let ledger = pipeline::verdict_all(&store, d(12, 31), &AnalysisOptions::default()).unwrap();
    let ids: Vec<&str> = ledger.iter().map(|v| v.report_id.as_str()).collect();
    assert_eq!(ids, ["small-2023-02-14", "zheshang-2023-02-14-chatgpt"]);
    // The seed report holds the same three priced companies and 42 without prices, each
    // excluded by name rather than silently.
    let seed = &ledger[1];
    assert_eq!((seed.basket.members.len(), seed.basket.excluded.len()), (3, 42));
    assert!(close_to(seed.basket.total_return, ledger[0].basket.total_return));
    assert_eq!(seed.warnings.iter().filter(|w| w.contains("excluded")).count(), 42);
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
    let err = pipeline::weekly(&store, &report, &WeekSelection::Week(ratingwatch::ids::Week::new(2023, 5).unwrap()), &options).unwrap_err();
    assert!(matches!(err, PipelineError::WeekBeforeReport { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "week 2023-W05 measured to 2023-02-03 is before the report date 2023-02-14 of `zheshang-2023-02-14-chatgpt`; choose --week 2023-W07 or later"
    );
    let err = pipeline::weekly(&store, &report, &WeekSelection::AsOf(d(2, 10)), &options).unwrap_err();
    assert!(err.to_string().ends_with("choose --as-of 2023-02-14 or later"), "{err}");
}
