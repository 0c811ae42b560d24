//! Verdict and weekly summary, computed from the small report of
//! `tests/fixtures/small-report/` (the one fixture set of the analysis and report tests, read
//! here with `include_str!`; every number is worked out by hand in its README and again in the
//! comment next to each assertion), plus small tables of their own for the cases that need
//! data contradicting it. Dates are in 2023; the report date T0 is Tuesday 2023-02-14, the
//! horizon six months, so T1 = 2023-08-14; the rule is the seed's (≥ +10 pp 看好, ≤ −10 pp
//! 看淡, rating 看好).

use std::path::Path;

use chrono::NaiveDate;

use super::model::{CurrencyMode, GroupVerdict, MemberReturn, Status, Verdict};
use super::*;
use crate::catalog::{Company, Label, Member, Rating, RatingRule, ReportDef, Sector};

fn d(month_day: &str) -> NaiveDate {
    NaiveDate::parse_from_str(&format!("2023-{month_day}"), "%Y-%m-%d").unwrap()
}

fn sym(text: &str) -> Symbol {
    Symbol::parse(text).unwrap()
}

fn label(zh: &str, en: &str) -> Label {
    Label { zh: zh.to_string(), en: en.to_string() }
}

macro_rules! fixture {
    ($file:literal) => {
        ($file, include_str!(concat!("../../tests/fixtures/small-report/", $file)))
    };
}

/// The small report's price files, by file name.
const SMALL_REPORT_SERIES: [(&str, &str); 7] = [
    fixture!("000300.SH.csv"),
    fixture!("600941.SH.csv"),
    fixture!("300308.SZ.csv"),
    fixture!("301165.SZ.csv"),
    fixture!("603881.SH.csv"),
    fixture!("0700.HK.csv"),
    fixture!("HKDCNY.FX.csv"),
];

/// The small report and its closes as the pipeline hands them over: each file's adjusted
/// close (`adj_close` where the file has one, else `close`).
fn small_report() -> (ReportDef, Closes) {
    let (file, text) = fixture!("small-report.toml");
    let report = crate::catalog::parse_report(Path::new(file), text).unwrap();
    let closes = SMALL_REPORT_SERIES
        .iter()
        .map(|(file, text)| {
            let parsed = crate::csv_import::parse_prices(Path::new(file), text.as_bytes(), d("12-31")).unwrap();
            let symbol = sym(file.strip_suffix(".csv").unwrap());
            (symbol, Series::new(parsed.bars.iter().map(|bar| (bar.date, bar.adj_close)).collect()))
        })
        .collect();
    (report, closes)
}

/// A member of the whole basket by symbol.
fn member<'a>(verdict: &'a Verdict, symbol: &str) -> &'a MemberReturn {
    verdict.basket.members.iter().find(|m| m.symbol == sym(symbol)).unwrap_or_else(|| panic!("{symbol} in {:?}", verdict.basket.members))
}

/// 0700.HK's return in CNY for a close and the rate as of its date: its base is 400 HKD × 0.87
/// = 348 CNY.
fn tencent(close: f64, rate: f64) -> f64 {
    close * rate / 348.0 - 1.0
}

/// A report dated 2023-02-14 rated 看好 with the given sectors; companies are the sectors'
/// symbols in order of first appearance, named `name-<symbol>`.
fn report(sectors: &[(&str, &[&str])]) -> ReportDef {
    let mut companies: Vec<Company> = Vec::new();
    for (_, members) in sectors {
        for member in *members {
            if !companies.iter().any(|c| c.symbol == sym(member)) {
                companies.push(Company {
                    symbol: sym(member),
                    name: format!("name-{member}"),
                    name_en: member.to_string(),
                    alternates: vec![],
                });
            }
        }
    }
    ReportDef {
        id: "test-report".to_string(),
        title: "Test report".to_string(),
        broker: "Test broker".to_string(),
        report_date: d("02-14"),
        rating: Rating(0),
        rule: RatingRule::three_tier(
            sym("000300.SH"),
            "沪深300",
            6,
            1000,
            -1000,
            [label("看好", "overweight"), label("中性", "neutral"), label("看淡", "underweight")],
        ),
        companies,
        sectors: sectors
            .iter()
            .map(|(name, members)| Sector {
                name: name.to_string(),
                name_en: format!("{name} (en)"),
                members: members.iter().map(|m| Member { symbol: sym(m), tags: vec![] }).collect(),
            })
            .collect(),
        fx: vec![sym("USDCNY.FX"), sym("HKDCNY.FX")],
    }
}

/// Series by symbol from `("MM-DD", value)` points.
fn closes(series: &[(&str, &[(&str, f64)])]) -> Closes {
    series
        .iter()
        .map(|(symbol, points)| (sym(symbol), Series::new(points.iter().map(|&(date, value)| (d(date), value)).collect())))
        .collect()
}

fn cny() -> AnalysisOptions {
    AnalysisOptions { currency: CurrencyMode::Cny, stale_after_trading_days: 5 }
}

fn close_to(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() < 1e-12
}

macro_rules! assert_close {
    ($actual:expr, $expected:expr) => {
        assert!(close_to($actual, $expected), "{} = {} (expected {})", stringify!($actual), $actual, $expected)
    };
}

#[test]
fn the_small_reports_final_verdict() {
    let (report, closes) = small_report();
    let verdict = compute_verdict(&report, &closes, d("12-31"), &cny()).unwrap();
    // The end date is T1 (08-14), not the as-of date: the 08-18 closes (the index at 4242,
    // 0700.HK at 450) are ignored.
    assert_eq!((verdict.end_date, verdict.status, verdict.days_left), (d("08-14"), Status::NotHeld, 0));
    // Benchmark 4000 → 4200: +5 %.
    assert_eq!((verdict.benchmark.base_date, verdict.benchmark.base_close, verdict.benchmark.end_close), (d("02-14"), 4000.0, 4200.0));
    assert_close!(verdict.benchmark.total_return, 0.05);
    // 600941.SH: adjusted 40 → 50 = +25 %, no conversion (raw 80 → 50 is the 10送10 bonus
    // share on 06-01, not a loss).
    let mobile = member(&verdict, "600941.SH");
    assert_eq!((mobile.base_close, mobile.end_close, mobile.fx_base, mobile.fx_end), (40.0, 50.0, None, None));
    assert_close!(mobile.total_return, 0.25);
    // 300308.SZ: 50 → 45 = −10 %.
    assert_close!(member(&verdict, "300308.SZ").total_return, -0.10);
    // 301165.SZ: no close on T0, so its base is its own last close before it (02-13, 50); it is
    // counted at its last close, 38.75 on 05-11: −22.5 %.
    let ruijie = member(&verdict, "301165.SZ");
    assert_eq!((ruijie.base_date, ruijie.end_date, ruijie.end_close), (d("02-13"), d("05-11"), 38.75));
    assert_close!(ruijie.total_return, -0.225);
    // 0700.HK: 400 HKD × 0.87 = 348 CNY → 440 HKD × 0.9135 = 401.94 CNY: +15.5 % (+10 % in HKD).
    let hk = member(&verdict, "0700.HK");
    assert_close!(hk.total_return, tencent(440.0, 0.9135));
    assert_close!(hk.total_return, 0.155);
    assert_close!(hk.local_return, 0.10);
    assert_eq!((hk.fx_base, hk.fx_end, hk.base_close, hk.end_close), (Some(0.87), Some(0.9135), 400.0, 440.0));
    // 通信 {600941, 300308, 301165}: (25 − 10 − 22.5) / 3 = −2.5 %; excess −7.5 pp: 中性, not held.
    let telecom = &verdict.sectors[0];
    assert_close!(telecom.total_return, -0.025);
    assert_close!(telecom.excess, -0.075);
    assert_eq!((telecom.implied_rating.as_str(), telecom.held, telecom.status), ("中性", false, Status::NotHeld));
    // 应用 {0700, 600941}: (15.5 + 25) / 2 = 20.25 %; excess 15.25 pp ≥ 10 pp: 看好, held.
    let apps = &verdict.sectors[1];
    assert_close!(apps.total_return, 0.2025);
    assert_close!(apps.excess, 0.1525);
    assert_eq!((apps.implied_rating.as_str(), apps.held, apps.status), ("看好", true, Status::Held));
    // Each member's excess is its return less the benchmark's +5 %, and its contribution its
    // return over its group's priced members: 600941.SH +20 pp; 25 / 3 = +8.33 % of 通信's −2.5 %
    // but 25 / 2 = +12.5 % of 应用's 20.25 %; a group's contributions add up to its return.
    let in_group = |group: &GroupVerdict, symbol: &str| group.members.iter().find(|m| m.symbol == sym(symbol)).unwrap().clone();
    assert_close!(in_group(telecom, "600941.SH").excess, 0.20);
    assert_close!(in_group(telecom, "300308.SZ").excess, -0.15);
    assert_close!(in_group(telecom, "600941.SH").contribution, 0.25 / 3.0);
    assert_close!(in_group(apps, "600941.SH").contribution, 0.125);
    assert_close!(in_group(apps, "0700.HK").contribution, 0.0775);
    for group in verdict.sectors.iter().chain([&verdict.basket]) {
        assert_close!(group.members.iter().map(|m| m.contribution).sum::<f64>(), group.total_return);
    }
    // The basket holds each company once: (25 − 10 − 22.5 + 15.5) / 4 = 2 %; excess −3 pp: 中性.
    assert_eq!(verdict.basket.members.len(), 4);
    assert_close!(verdict.basket.total_return, 0.02);
    assert_close!(verdict.basket.excess, -0.03);
    assert_eq!((verdict.basket.implied_rating.as_str(), verdict.basket.held), ("中性", false));
    // Exactly two warnings, the suspended member (9 benchmark days after 05-11: 05-12, 05-15 …
    // 05-19, 06-01, 08-11, 08-14) and the later listing; the FX pair is up to date.
    assert_eq!(
        verdict.warnings,
        [
            "301165.SZ 锐捷网络: latest close 2023-05-11 is 9 trading days before 2023-08-14 (stale); counted at that close",
            "603881.SH 数据港 is excluded from the baskets: no close on or before the report date 2023-02-14 \
             (first close 2023-05-12: listed or priced only later)",
        ]
    );
    assert_eq!(
        verdict.method,
        "Equal-weight buy-and-hold baskets of adjusted closes, in CNY (HKD converted at same-day rates), \
         vs 沪深300 (000300.SH) as published; base 2023-02-14 (T0), end 2023-08-14."
    );
}

#[test]
fn path_best_and_worst_excess_with_dates() {
    let (report, closes) = small_report();
    let verdict = compute_verdict(&report, &closes, d("12-31"), &cny()).unwrap();
    let apps = &verdict.sectors[1];
    // Path dates: the benchmark's days after T0 up to the end date (not 02-13, not T0 itself,
    // not 08-18).
    let dates: Vec<NaiveDate> = apps.path.iter().map(|p| p.date).collect();
    assert_eq!(dates, ["02-17", "05-12", "05-15", "05-16", "05-17", "05-18", "05-19", "06-01", "08-11", "08-14"].map(d));
    // 02-17: 0700.HK 404 × 0.87 / 348 − 1 = +1 %, 600941.SH at its base; benchmark +1 %:
    // 0.5 − 1 = −0.5 pp, the worst.
    assert_close!(apps.path[0].excess, -0.005);
    // 05-12: 0700.HK 420 × 0.89 / 348 − 1 = +7.41379 %, 600941.SH 45 / 40 − 1 = +12.5 %,
    // benchmark 4100 / 4000 − 1 = +2.5 %.
    assert_close!(apps.path[1].excess, (tencent(420.0, 0.89) + 0.125) / 2.0 - 0.025);
    // 06-01: 0700.HK still at 05-19's 441 at 05-19's rate 0.89 (+12.78448 %), 600941.SH 46.5 /
    // 40 − 1 = +16.25 %; benchmark 3960 / 4000 − 1 = −1 %: +15.517 pp, the best (above 08-14's
    // +15.25 pp). 08-11: the same closes, benchmark +4 %.
    assert_close!(apps.path[7].excess, (tencent(441.0, 0.89) + 0.1625) / 2.0 + 0.01);
    assert_close!(apps.path[8].excess, (tencent(441.0, 0.89) + 0.1625) / 2.0 - 0.04);
    assert_close!(apps.path[9].excess, apps.excess);
    assert_eq!((apps.best_excess_date, apps.worst_excess_date), (Some(d("06-01")), Some(d("02-17"))));
    assert_close!(apps.best_excess.unwrap(), apps.path[7].excess);
    assert_close!(apps.worst_excess.unwrap(), -0.005);
}

#[test]
fn path_extremes_take_the_first_of_equal_days_and_t0_is_not_on_the_path() {
    let (report, closes) = small_report();
    // As of 05-19, 通信's path: 02-17 0 − 1 = −1 pp; 05-12 … 05-18 (no member close, the index
    // flat at 4100) (1.125 + 1.1 + 0.775) / 3 − 1 = 0, so −2.5 pp on five days; 05-19
    // (1.1475 + 1.078 + 0.775) / 3 − 1 − 0.01475 = −1.4583 pp. Best −1 pp on 02-17, worst
    // −2.5 pp on the first of the five, 05-12.
    let pending = compute_verdict(&report, &closes, d("05-19"), &cny()).unwrap();
    let telecom = &pending.sectors[0];
    assert_eq!(telecom.path.len(), 7, "T0 itself is not on the path");
    assert_eq!((telecom.best_excess_date, telecom.worst_excess_date), (Some(d("02-17")), Some(d("05-12"))));
    assert_close!(telecom.best_excess.unwrap(), -0.01);
    assert_close!(telecom.worst_excess.unwrap(), -0.025);
    assert_close!(telecom.path[6].excess, 3.0005 / 3.0 - 1.0 - 0.01475);
    // As of T0 itself the path is empty and there are no extremes.
    let at_t0 = compute_verdict(&report, &closes, d("02-14"), &cny()).unwrap();
    assert!(at_t0.basket.path.is_empty());
    assert_eq!((at_t0.basket.best_excess, at_t0.basket.worst_excess_date), (None, None));
    assert_close!(at_t0.basket.excess, 0.0);
}

#[test]
fn a_holiday_on_one_market_only_uses_as_of_closes() {
    // CN is closed on 02-15, HK on 02-14 and 02-16. FX is fixed on CN days.
    let report = report(&[("S", &["0700.HK"])]);
    let closes = closes(&[
        ("000300.SH", &[("02-13", 4000.0), ("02-14", 4000.0), ("02-16", 4040.0), ("02-17", 4100.0)]),
        ("0700.HK", &[("02-13", 100.0), ("02-15", 105.0), ("02-17", 108.0)]),
        ("HKDCNY.FX", &[("02-13", 0.85), ("02-14", 0.86), ("02-16", 0.87), ("02-17", 0.88)]),
    ]);
    let verdict = compute_verdict(&report, &closes, d("02-16"), &cny()).unwrap();
    // End date: the benchmark's last day on or before 02-16 is 02-16 itself.
    assert_eq!(verdict.end_date, d("02-16"));
    let member = &verdict.basket.members[0];
    // Base: HK's last close on or before T0 is 02-13's (100, rate of 02-13: 0.85 → 85 CNY).
    // End: HK's last close on or before 02-16 is 02-15's (105), at the rate as of 02-15,
    // which is 02-14's 0.86 → 90.3 CNY. Return 90.3 / 85 − 1 = 0.0623529411764706.
    assert_eq!((member.base_date, member.base_close, member.fx_base), (d("02-13"), 100.0, Some(0.85)));
    assert_eq!((member.end_date, member.end_close, member.fx_end), (d("02-15"), 105.0, Some(0.86)));
    assert_close!(member.total_return, 90.3 / 85.0 - 1.0);
    // Benchmark 4000 → 4040 = +1 %; excess 6.235 − 1 = 5.235 pp: 中性, pending.
    assert_close!(verdict.basket.excess, 90.3 / 85.0 - 1.0 - 0.01);
    assert_eq!((verdict.basket.implied_rating.as_str(), verdict.basket.held), ("中性", false));
    // The path has benchmark days only: 02-16 (02-15 is a HK-only day).
    assert_eq!(verdict.basket.path.iter().map(|p| p.date).collect::<Vec<_>>(), vec![d("02-16")]);
    // Pending: 02-16 → 08-14 is 179 days (Feb 16 → Aug 16 = 28+31+30+31+30+31 = 181, less 2).
    assert_eq!((verdict.status, verdict.days_left), (Status::Pending, 179));
}

#[test]
fn a_member_listed_after_t0_is_excluded_and_named() {
    let (report, closes) = small_report();
    let verdict = compute_verdict(&report, &closes, d("08-14"), &cny()).unwrap();
    // 603881.SH's first close is 05-12: its 20 → 30 (+50 %) is in no basket; 通信 counts the
    // other three, the basket four.
    let telecom = &verdict.sectors[0];
    let symbols: Vec<String> = telecom.members.iter().map(|m| m.symbol.to_string()).collect();
    assert_eq!(symbols, ["600941.SH", "300308.SZ", "301165.SZ"]);
    assert_eq!(verdict.basket.members.len(), 4);
    let excluded = &telecom.excluded;
    assert_eq!(excluded.len(), 1);
    assert_eq!(excluded[0].symbol, sym("603881.SH"));
    assert!(excluded[0].reason.contains("first close 2023-05-12"), "{}", excluded[0].reason);
    assert_eq!(verdict.basket.excluded, *excluded);
    assert!(verdict.sectors[1].excluded.is_empty(), "应用 does not hold it");
    let named: Vec<&String> = verdict.warnings.iter().filter(|w| w.contains("excluded")).collect();
    assert_eq!(named.len(), 1, "{:?}", verdict.warnings);
    assert!(named[0].starts_with("603881.SH 数据港 is excluded"), "{:?}", verdict.warnings);
}

#[test]
fn a_stale_member_is_flagged_and_still_counted() {
    let (report, closes) = small_report();
    // 301165.SZ's last close is 05-11. As of 05-18 five benchmark days follow it (05-12,
    // 05-15 … 05-18): at the limit, not stale.
    let at_limit = compute_verdict(&report, &closes, d("05-18"), &cny()).unwrap();
    assert!(!member(&at_limit, "301165.SZ").stale);
    assert!(!at_limit.warnings.iter().any(|w| w.contains("stale")), "{:?}", at_limit.warnings);
    // As of 05-19 six: stale, and still counted at 38.75 (−22.5 %).
    let verdict = compute_verdict(&report, &closes, d("05-19"), &cny()).unwrap();
    let ruijie = member(&verdict, "301165.SZ");
    assert_eq!((ruijie.stale, ruijie.end_date), (true, d("05-11")));
    assert_close!(ruijie.total_return, -0.225);
    // The basket at 05-19: (14.75 + 7.8 − 22.5 + 12.78448) / 4 %, 0700.HK at 441 × 0.89.
    assert_close!(verdict.basket.total_return, (0.1475 + 0.078 - 0.225 + tencent(441.0, 0.89)) / 4.0);
    let stale: Vec<&String> = verdict.warnings.iter().filter(|w| w.contains("stale")).collect();
    assert_eq!(stale.len(), 1, "{:?}", verdict.warnings);
    assert!(stale[0].starts_with("301165.SZ") && stale[0].contains("6 trading days"), "{:?}", verdict.warnings);
}

#[test]
fn excess_of_exactly_ten_points_is_overweight_and_minus_ten_underweight() {
    let one_member = report(&[("S", &["600001.SH"])]);
    let check = |member_end: f64, benchmark_end: f64| {
        let closes =
            closes(&[("000300.SH", &[("02-14", 10.0), ("08-14", benchmark_end)]), ("600001.SH", &[("02-14", 1.0), ("08-14", member_end)])]);
        compute_verdict(&one_member, &closes, d("08-14"), &cny()).unwrap().basket
    };
    // 1.0 → 1.2 is +20 % and 10 → 11 is +10 %; in floating point 0.19999999999999996 −
    // 0.10000000000000009 = 0.09999999999999987, a hair below 10 pp. Rounded to basis
    // points it is 1000 bp: 看好, held.
    let up = check(1.2, 11.0);
    assert!(up.excess < 0.1 && close_to(up.excess, 0.1), "{}", up.excess);
    assert_eq!((up.implied_rating.as_str(), up.implied_rating_en.as_str(), up.held), ("看好", "overweight", true));
    // 1.0 → 1.1 is +10 % and 10 → 12 is +20 %: −0.09999999999999987, a hair above
    // −10 pp; rounded, −1000 bp: 看淡, not held.
    let down = check(1.1, 12.0);
    assert!(down.excess > -0.1 && close_to(down.excess, -0.1), "{}", down.excess);
    assert_eq!((down.implied_rating.as_str(), down.held, down.status), ("看淡", false, Status::NotHeld));
    // 1.0 → 1.1999 is +19.99 %: excess 9.99 pp, 中性.
    assert_eq!(check(1.1999, 11.0).implied_rating, "中性");
}

#[test]
fn pending_before_the_horizon_end_and_final_from_it() {
    let (report, closes) = small_report();
    // 08-13 (a Sunday, a day before T1): pending, one day left, measured to the index's 08-11.
    // Then 600941.SH is at 06-01's 46.5 (+16.25 %), 300308.SZ at 05-19's 53.9 (+7.8 %),
    // 301165.SZ −22.5 %, 0700.HK at 05-19's 441 × 0.89; the index 4160 / 4000 − 1 = +4 %.
    let before = compute_verdict(&report, &closes, d("08-13"), &cny()).unwrap();
    assert_eq!((before.status, before.days_left, before.end_date), (Status::Pending, 1, d("08-11")));
    assert_close!(before.basket.excess, (0.1625 + 0.078 - 0.225 + tencent(441.0, 0.89)) / 4.0 - 0.04);
    assert_eq!((before.sectors[0].status, before.sectors[1].status), (Status::Pending, Status::Pending));
    // On T1 itself: final, measured to 08-14: −3 pp, 中性, not held (应用 held).
    let on = compute_verdict(&report, &closes, d("08-14"), &cny()).unwrap();
    assert_eq!((on.status, on.days_left, on.end_date), (Status::NotHeld, 0, d("08-14")));
    assert_eq!(on.sectors[1].status, Status::Held);
    assert_close!(on.basket.excess, -0.03);
    // Long after: still measured to T1, never to the 08-18 closes.
    let after = compute_verdict(&report, &closes, d("12-31"), &cny()).unwrap();
    assert_eq!((after.status, after.end_date, after.as_of), (Status::NotHeld, d("08-14"), d("12-31")));
    assert_eq!(after.benchmark.end_close, 4200.0);
    assert_close!(after.basket.excess, -0.03);
}

#[test]
fn local_currency_mode_skips_fx() {
    let (report, closes) = small_report();
    let options = AnalysisOptions { currency: CurrencyMode::Local, ..cny() };
    let verdict = compute_verdict(&report, &closes, d("12-31"), &options).unwrap();
    // 0700.HK 400 → 440 HKD: +10 %; 应用 (10 + 25) / 2 = 17.5 %; excess 12.5 pp: 看好.
    let hk = member(&verdict, "0700.HK");
    assert_close!(hk.total_return, 0.10);
    assert_eq!((hk.fx_base, hk.fx_end), (None, None));
    assert_close!(verdict.sectors[1].excess, 0.125);
    assert_eq!(verdict.sectors[1].implied_rating, "看好");
    // The basket (25 − 10 − 22.5 + 10) / 4 = 0.625 %.
    assert_close!(verdict.basket.total_return, 0.00625);
    assert!(verdict.method.contains("in each listing's own currency"), "{}", verdict.method);
}

#[test]
fn missing_fx_excludes_the_member_and_names_pair_and_date() {
    let (report, mut closes) = small_report();
    // Rates only from 03-01: none on or before the HK base date 02-14.
    closes.insert(sym("HKDCNY.FX"), Series::new(vec![(d("03-01"), 0.88), (d("08-14"), 0.9135)]));
    let verdict = compute_verdict(&report, &closes, d("12-31"), &cny()).unwrap();
    // 应用 keeps 600941.SH alone: +25 %.
    assert_eq!(verdict.sectors[1].members.len(), 1);
    assert_close!(verdict.sectors[1].total_return, 0.25);
    assert_eq!(verdict.basket.members.len(), 3);
    let reason = &verdict.sectors[1].excluded[0].reason;
    assert!(reason.contains("HKDCNY.FX") && reason.contains("2023-02-14"), "{reason}");
    assert!(verdict.warnings.iter().any(|w| w.contains("0700.HK") && w.contains("HKDCNY.FX")), "{:?}", verdict.warnings);
}

#[test]
fn a_sector_without_priced_members_has_no_return_and_is_named() {
    let report = report(&[("Priced", &["600001.SH"]), ("Unpriced", &["600002.SH"])]);
    let closes = closes(&[("000300.SH", &[("02-14", 100.0), ("08-14", 100.0)]), ("600001.SH", &[("02-14", 10.0), ("08-14", 11.0)])]);
    let verdict = compute_verdict(&report, &closes, d("08-14"), &cny()).unwrap();
    let unpriced = &verdict.sectors[1];
    assert!(unpriced.total_return.is_nan() && unpriced.members.is_empty());
    assert_eq!((unpriced.implied_rating.as_str(), unpriced.held, unpriced.status), ("—", false, Status::NotHeld));
    assert!(unpriced.path.iter().all(|p| p.excess.is_nan()) && unpriced.best_excess.is_none());
    assert!(verdict.warnings.iter().any(|w| w.contains("Unpriced")), "{:?}", verdict.warnings);
    // In JSON a missing return is null, never a made-up number.
    let json = serde_json::to_value(unpriced).unwrap();
    assert_eq!((&json["return"], &json["excess"]), (&serde_json::Value::Null, &serde_json::Value::Null));
    assert!(verdict.warnings.iter().any(|w| w.contains("600002.SH") && w.contains("no prices stored")), "{:?}", verdict.warnings);
    // The basket still has the priced company.
    assert_close!(verdict.basket.total_return, 0.10);
}

#[test]
fn errors_for_data_that_cannot_give_a_verdict() {
    let report = report(&[("S", &["600001.SH"])]);
    let only_member = closes(&[("600001.SH", &[("02-14", 10.0)])]);
    assert_eq!(
        compute_verdict(&report, &only_member, d("08-14"), &cny()).unwrap_err(),
        AnalysisError::NoBenchmarkPrices { symbol: sym("000300.SH"), name: "沪深300".to_string(), date: d("02-14") }
    );
    let only_benchmark = closes(&[("000300.SH", &[("02-14", 100.0)])]);
    let err = compute_verdict(&report, &only_benchmark, d("08-14"), &cny()).unwrap_err();
    assert!(matches!(&err, AnalysisError::NoMemberPrices { report_id, .. } if report_id == "test-report"), "{err}");
    assert!(err.to_string().contains("600001.SH"), "{err}");
    assert_eq!(
        compute_verdict(&report, &only_benchmark, d("02-13"), &cny()).unwrap_err(),
        AnalysisError::AsOfBeforeReport { report_id: "test-report".to_string(), as_of: d("02-13"), report_date: d("02-14") }
    );
}

#[test]
fn weekly_summary_of_a_small_week() {
    let (report, closes) = small_report();
    let summary = compute_weekly(&report, &closes, &WeekSpec::iso(2023, 20).unwrap(), &cny()).unwrap();
    assert_eq!(summary.week.to_string(), "2023-W20");
    assert_eq!(
        (summary.week_start, summary.week_end, summary.as_of, summary.previous_as_of),
        (d("05-15"), d("05-19"), d("05-19"), d("05-12"))
    );
    // Benchmark: week 4059 / 4100 − 1 = −1 %; since the report 4059 / 4000 − 1 = +1.475 %.
    assert_close!(summary.benchmark_week_return, -0.01);
    assert_close!(summary.benchmark_since_report_return, 0.01475);
    // Members' growth since the base (CNY) at 05-12 and 05-19:
    //   600941.SH 1.125 → 1.1475 (week +2 %); 300308.SZ 1.10 → 1.078 (−2 %); 301165.SZ 0.775
    //   on both (0 %, no close since 05-11); 0700.HK 373.8 / 348 → 392.49 / 348 (week 441 / 420
    //   − 1 = +5 %, the rate 0.89 on both days).
    // 通信 {600941, 300308, 301165}: at 05-12 (1.125 + 1.1 + 0.775) / 3 = 1; at 05-19 (1.1475
    //   + 1.078 + 0.775) / 3 = 3.0005 / 3: week = since = +0.0167 %; week excess +1.0167 pp;
    //   since excess 0.0167 − 1.475 = −1.4583 pp: 中性.
    let telecom = &summary.sectors[0];
    assert_close!(telecom.since_report_return, 0.0005 / 3.0);
    assert_close!(telecom.week_return, 0.0005 / 3.0);
    assert_close!(telecom.week_excess, 0.0005 / 3.0 + 0.01);
    assert_close!(telecom.since_report_excess, 0.0005 / 3.0 - 0.01475);
    assert_eq!(telecom.implied_rating, "中性");
    // 应用 {0700, 600941}, × 348: at 05-12 (373.8 + 391.5) / 2, at 05-19 (392.49 + 399.33) / 2:
    //   week 791.82 / 765.3 − 1 = +3.465 %; since 791.82 / 696 − 1 = +13.77 %, excess +12.29 pp: 看好.
    let apps = &summary.sectors[1];
    assert_close!(apps.week_return, 791.82 / 765.3 - 1.0);
    assert_close!(apps.since_report_return, 791.82 / 696.0 - 1.0);
    assert_eq!(apps.implied_rating, "看好");
    // Basket of all four, × 348: at 05-12 391.5 + 382.8 + 269.7 + 373.8 = 1417.8, at 05-19
    // 399.33 + 375.144 + 269.7 + 392.49 = 1436.664; the base 4 × 348 = 1392.
    assert_close!(summary.basket.since_report_return, 1436.664 / 1392.0 - 1.0);
    assert_close!(summary.basket.week_return, 1436.664 / 1417.8 - 1.0);
    // By week: 0700 (+5), 600941 (+2), 301165 (0), 300308 (−2). Four members: one list, best
    // to worst (two lists of three named 301165 and 600941 in both).
    let names = |moves: &[model::MemberMove]| moves.iter().map(|m| m.symbol.to_string()).collect::<Vec<_>>();
    assert_eq!(names(&summary.basket.best), ["0700.HK", "600941.SH", "301165.SZ", "300308.SZ"]);
    assert!(summary.basket.worst.is_empty());
    assert_close!(summary.basket.best[0].week_return, 0.05);
    // 05-19 → 08-14: 12 days in May, 30 in June, 31 in July, 14 in August: 87.
    assert_eq!(summary.days_left, 87);
    // Freshness: every market to 05-19.
    let freshness: Vec<(String, Option<NaiveDate>)> = summary.freshness.iter().map(|f| (f.market.clone(), f.latest_close)).collect();
    let markets = ["SH", "SZ", "HK", "FX"].map(|market| (market.to_string(), Some(d("05-19"))));
    assert_eq!(freshness, markets);
    // Stale: 301165.SZ, its 05-11 close six benchmark days old (05-12, 05-15 … 05-19). The
    // warnings name it and the later listing.
    let stale: Vec<(String, Option<NaiveDate>)> = summary.stale_members.iter().map(|s| (s.symbol.to_string(), s.last_close)).collect();
    assert_eq!(stale, vec![("301165.SZ".to_string(), Some(d("05-11")))]);
    assert_eq!(summary.warnings.len(), 2, "{:?}", summary.warnings);
    assert!(summary.warnings[0].starts_with("603881.SH 数据港 is excluded"), "{:?}", summary.warnings);
    assert_eq!(summary.warnings[1], "301165.SZ 锐捷网络: latest close 2023-05-11 is 6 trading days before 2023-05-19 (stale)");
    // Paths: 通信 at 02-17 0 − 1 = −1 pp, at 05-19 −1.4583 pp; the basket path comes last.
    assert_eq!(summary.paths.len(), 3);
    assert_eq!(summary.paths[2].name, "全部标的");
    let telecom_path = &summary.paths[0].points;
    assert_eq!(
        telecom_path.iter().map(|p| p.date).collect::<Vec<_>>(),
        ["02-17", "05-12", "05-15", "05-16", "05-17", "05-18", "05-19"].map(d)
    );
    assert_close!(telecom_path[0].excess, -0.01);
    assert_close!(telecom_path[6].excess, 0.0005 / 3.0 - 0.01475);
    assert!(summary.method.ends_with("week 2023-05-12 to 2023-05-19."), "{}", summary.method);
}

#[test]
fn the_reports_own_week_starts_at_the_base() {
    // W07 holds T0 (Tuesday 02-14); the previous Friday 02-10 is before the base, so the
    // week runs from the base and equals the since-report figures. By Friday 02-17 only
    // 0700.HK has moved: 404 / 400 = +1 % (the rate stays 0.87); 应用 (1 + 0) / 2 = +0.5 %.
    let (report, closes) = small_report();
    let summary = compute_weekly(&report, &closes, &WeekSpec::iso(2023, 7).unwrap(), &cny()).unwrap();
    assert_eq!((summary.previous_as_of, summary.as_of), (d("02-14"), d("02-17")));
    assert_close!(summary.sectors[1].week_return, 0.005);
    assert_close!(summary.sectors[1].week_return, summary.sectors[1].since_report_return);
    assert_close!(summary.basket.week_return, 0.0025);
    // The index 4040 / 4000 = +1 % for the week and since the report.
    assert_close!(summary.benchmark_week_return, 0.01);
    assert_close!(summary.benchmark_since_report_return, 0.01);
    // A week that ends before the report date is an error.
    let err = compute_weekly(&report, &closes, &WeekSpec::iso(2023, 6).unwrap(), &cny()).unwrap_err();
    assert_eq!(
        err,
        AnalysisError::AsOfBeforeReport { report_id: "small-2023-02-14".to_string(), as_of: d("02-10"), report_date: d("02-14") }
    );
}

#[test]
fn weekly_stale_members_include_those_without_any_close() {
    let (report, closes) = small_report();
    let summary =
        compute_weekly(&report, &closes, &WeekSpec::iso(2023, 7).unwrap(), &AnalysisOptions { stale_after_trading_days: 1, ..cny() })
            .unwrap();
    let stale: Vec<(String, Option<NaiveDate>)> = summary.stale_members.iter().map(|s| (s.symbol.to_string(), s.last_close)).collect();
    // With a limit of 1 trading day at 02-17, 301165.SZ (last close 02-13: 02-14 and 02-17
    // follow it) is stale; 603881.SH has no close yet. The others closed on 02-14 or later.
    assert_eq!(stale, vec![("301165.SZ".to_string(), Some(d("02-13"))), ("603881.SH".to_string(), None)]);
}
