//! Verdict and weekly summary on small hand-made series. Every expected number is worked
//! out in the comment next to it. Dates are in 2023; the report date T0 is Tuesday
//! 2023-02-14, the horizon six months, so T1 = 2023-08-14; the rule is the seed's
//! (≥ +10 pp 看好, ≤ −10 pp 看淡, rating 看好).

use chrono::NaiveDate;

use super::model::{CurrencyMode, Status};
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

/// Two members in one sector, one quoted in HKD whose rate moves.
fn two_members() -> (ReportDef, Closes) {
    let report = report(&[("芯片", &["600001.SH", "0700.HK"])]);
    let closes = closes(&[
        ("000300.SH", &[("02-14", 4000.0), ("05-15", 3800.0), ("08-14", 4200.0), ("09-01", 5000.0)]),
        ("600001.SH", &[("02-14", 10.0), ("05-15", 9.0), ("08-14", 12.0), ("09-01", 20.0)]),
        ("0700.HK", &[("02-14", 100.0), ("05-15", 100.0), ("08-14", 110.0), ("09-01", 200.0)]),
        ("HKDCNY.FX", &[("02-14", 0.80), ("05-15", 0.84), ("08-14", 0.88), ("09-01", 0.90)]),
    ]);
    (report, closes)
}

#[test]
fn two_members_one_in_hkd_with_an_fx_move() {
    let (report, closes) = two_members();
    let verdict = compute_verdict(&report, &closes, d("12-31"), &cny()).unwrap();
    // The end date is T1 (08-14), not the as-of date: the 09-01 closes are ignored.
    assert_eq!((verdict.end_date, verdict.status, verdict.days_left), (d("08-14"), Status::Held, 0));
    // Benchmark 4000 → 4200: +5 %.
    assert_eq!((verdict.benchmark.base_date, verdict.benchmark.base_close, verdict.benchmark.end_close), (d("02-14"), 4000.0, 4200.0));
    assert_close!(verdict.benchmark.total_return, 0.05);
    let sector = &verdict.sectors[0];
    let [cn, hk] = &sector.members[..] else { panic!("two members: {:?}", sector.members) };
    // 600001.SH: 10 → 12 = +20 %, no conversion.
    assert_close!(cn.total_return, 0.20);
    assert_eq!((cn.fx_base, cn.fx_end), (None, None));
    // 0700.HK: 100 HKD × 0.80 = 80 CNY → 110 HKD × 0.88 = 96.8 CNY: 96.8 / 80 − 1 = +21 %
    // (+10 % in HKD).
    assert_close!(hk.total_return, 0.21);
    assert_close!(hk.local_return, 0.10);
    assert_eq!((hk.fx_base, hk.fx_end, hk.base_close, hk.end_close), (Some(0.80), Some(0.88), 100.0, 110.0));
    // Basket (20 % + 21 %) / 2 = 20.5 %; excess 20.5 − 5 = 15.5 pp ≥ 10 pp: 看好, held.
    assert_close!(sector.total_return, 0.205);
    assert_close!(sector.excess, 0.155);
    assert_eq!((sector.implied_rating.as_str(), sector.held, sector.status), ("看好", true, Status::Held));
    // The basket holds the same two companies, so the same numbers.
    assert_close!(verdict.basket.excess, 0.155);
    assert!(verdict.warnings.is_empty(), "{:?}", verdict.warnings);
    assert_eq!(
        verdict.method,
        "Equal-weight buy-and-hold baskets of adjusted closes, in CNY (HKD converted at same-day rates), \
         vs 沪深300 (000300.SH) as published; base 2023-02-14 (T0), end 2023-08-14."
    );
}

#[test]
fn path_best_and_worst_excess_with_dates() {
    let (report, closes) = two_members();
    let verdict = compute_verdict(&report, &closes, d("12-31"), &cny()).unwrap();
    let sector = &verdict.sectors[0];
    // Path dates: benchmark days after T0 up to the end date: 05-15 and 08-14 (not 02-14).
    // 05-15: 600001.SH 9/10 − 1 = −10 %; 0700.HK 100 × 0.84 / 80 − 1 = +5 %; basket −2.5 %;
    // benchmark 3800/4000 − 1 = −5 %: excess +2.5 pp. 08-14: +15.5 pp as above.
    let path: Vec<(NaiveDate, f64)> = sector.path.iter().map(|p| (p.date, p.excess)).collect();
    assert_eq!(path.len(), 2);
    assert_eq!((path[0].0, path[1].0), (d("05-15"), d("08-14")));
    assert_close!(path[0].1, 0.025);
    assert_close!(path[1].1, 0.155);
    assert_eq!((sector.best_excess_date, sector.worst_excess_date), (Some(d("08-14")), Some(d("05-15"))));
    assert_close!(sector.best_excess.unwrap(), 0.155);
    assert_close!(sector.worst_excess.unwrap(), 0.025);
}

#[test]
fn path_extremes_pick_the_max_and_min_days() {
    // A flat benchmark (100) so the excess is the member's return: 105, 95, 110, 102 on
    // four days after T0 → +5, −5, +10, +2 pp: best +10 pp on 02-17, worst −5 pp on 02-16.
    let report = report(&[("S", &["600001.SH"])]);
    let closes = closes(&[
        ("000300.SH", &[("02-14", 100.0), ("02-15", 100.0), ("02-16", 100.0), ("02-17", 100.0), ("02-20", 100.0)]),
        ("600001.SH", &[("02-14", 100.0), ("02-15", 105.0), ("02-16", 95.0), ("02-17", 110.0), ("02-20", 102.0)]),
    ]);
    let verdict = compute_verdict(&report, &closes, d("02-20"), &cny()).unwrap();
    let basket = &verdict.basket;
    assert_eq!(basket.path.len(), 4, "T0 itself is not on the path");
    assert_eq!((basket.best_excess_date, basket.worst_excess_date), (Some(d("02-17")), Some(d("02-16"))));
    assert_close!(basket.best_excess.unwrap(), 0.10);
    assert_close!(basket.worst_excess.unwrap(), -0.05);
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
    let report = report(&[("S", &["600001.SH", "688999.SH"])]);
    let closes = closes(&[
        ("000300.SH", &[("02-14", 100.0), ("03-01", 100.0), ("08-14", 100.0)]),
        ("600001.SH", &[("02-14", 10.0), ("08-14", 11.0)]),
        ("688999.SH", &[("03-01", 50.0), ("08-14", 100.0)]),
    ]);
    let verdict = compute_verdict(&report, &closes, d("08-14"), &cny()).unwrap();
    // Only 600001.SH counts: +10 %; the later listing's +100 % is not in the basket.
    assert_close!(verdict.basket.total_return, 0.10);
    assert_eq!(verdict.basket.members.len(), 1);
    let excluded = &verdict.sectors[0].excluded;
    assert_eq!(excluded.len(), 1);
    assert_eq!(excluded[0].symbol, sym("688999.SH"));
    assert!(excluded[0].reason.contains("first close 2023-03-01"), "{}", excluded[0].reason);
    assert_eq!(verdict.basket.excluded, *excluded);
    assert_eq!(verdict.warnings.len(), 1, "{:?}", verdict.warnings);
    assert!(verdict.warnings[0].contains("688999.SH") && verdict.warnings[0].contains("excluded"), "{:?}", verdict.warnings);
}

#[test]
fn a_stale_member_is_flagged_and_still_counted() {
    // Benchmark days after 02-14: 02-15, 02-16, 02-17, 02-20, 02-21, 02-22 (end date).
    let report = report(&[("S", &["600001.SH", "600002.SH"])]);
    let closes = closes(&[
        (
            "000300.SH",
            &[("02-14", 100.0), ("02-15", 100.0), ("02-16", 100.0), ("02-17", 100.0), ("02-20", 100.0), ("02-21", 100.0), ("02-22", 100.0)],
        ),
        // Last close 02-15: 5 benchmark days (02-16 … 02-22) before the end — at the limit, not stale.
        ("600001.SH", &[("02-14", 10.0), ("02-15", 11.0)]),
        // Last close 02-14: 6 benchmark days old — stale; counted at 22 (return 0).
        ("600002.SH", &[("02-13", 20.0), ("02-14", 22.0)]),
    ]);
    let verdict = compute_verdict(&report, &closes, d("02-22"), &cny()).unwrap();
    let members = &verdict.basket.members;
    assert_eq!((members[0].stale, members[1].stale), (false, true));
    assert_eq!(members[1].end_date, d("02-14"));
    // Basket (10 % + 0 %) / 2 = 5 %.
    assert_close!(verdict.basket.total_return, 0.05);
    assert_eq!(verdict.warnings.len(), 1, "{:?}", verdict.warnings);
    assert!(verdict.warnings[0].starts_with("600002.SH") && verdict.warnings[0].contains("6 trading days"), "{:?}", verdict.warnings);
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
    let report = report(&[("S", &["600001.SH"])]);
    let closes = closes(&[
        ("000300.SH", &[("02-14", 100.0), ("08-11", 100.0), ("08-14", 100.0), ("08-15", 100.0)]),
        ("600001.SH", &[("02-14", 10.0), ("08-11", 10.5), ("08-14", 11.5), ("08-15", 30.0)]),
    ]);
    // 08-13 (a Sunday, a day before T1): pending, one day left, measured to 08-11 (+5 %).
    let before = compute_verdict(&report, &closes, d("08-13"), &cny()).unwrap();
    assert_eq!((before.status, before.days_left, before.end_date), (Status::Pending, 1, d("08-11")));
    assert_close!(before.basket.excess, 0.05);
    assert_eq!(before.sectors[0].status, Status::Pending);
    // On T1 itself: final, measured to 08-14 (+15 % ≥ 10 pp: held).
    let on = compute_verdict(&report, &closes, d("08-14"), &cny()).unwrap();
    assert_eq!((on.status, on.days_left, on.end_date), (Status::Held, 0, d("08-14")));
    assert_close!(on.basket.excess, 0.15);
    // Long after: still measured to T1, never to the later +200 %.
    let after = compute_verdict(&report, &closes, d("12-31"), &cny()).unwrap();
    assert_eq!((after.status, after.end_date, after.as_of), (Status::Held, d("08-14"), d("12-31")));
    assert_close!(after.basket.excess, 0.15);
}

#[test]
fn local_currency_mode_skips_fx() {
    let (report, closes) = two_members();
    let options = AnalysisOptions { currency: CurrencyMode::Local, ..cny() };
    let verdict = compute_verdict(&report, &closes, d("12-31"), &options).unwrap();
    // 0700.HK +10 % in HKD; basket (20 + 10) / 2 = 15 %; excess 10 pp: 看好.
    let hk = &verdict.basket.members[1];
    assert_close!(hk.total_return, 0.10);
    assert_eq!((hk.fx_base, hk.fx_end), (None, None));
    assert_close!(verdict.basket.excess, 0.10);
    assert_eq!(verdict.basket.implied_rating, "看好");
    assert!(verdict.method.contains("in each listing's own currency"), "{}", verdict.method);
}

#[test]
fn missing_fx_excludes_the_member_and_names_pair_and_date() {
    let (report, mut closes) = two_members();
    // Rates only from 03-01: none on or before the HK base date 02-14.
    closes.insert(sym("HKDCNY.FX"), Series::new(vec![(d("03-01"), 0.82), (d("08-14"), 0.88)]));
    let verdict = compute_verdict(&report, &closes, d("12-31"), &cny()).unwrap();
    assert_eq!(verdict.basket.members.len(), 1);
    assert_close!(verdict.basket.total_return, 0.20);
    let reason = &verdict.basket.excluded[0].reason;
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

/// Week 2023-W08 (Mon 02-20 … Fri 02-24), from the previous Friday 02-17.
fn week_data() -> (ReportDef, Closes) {
    let report = report(&[("S1", &["600001.SH", "600002.SH"]), ("S2", &["600001.SH", "0700.HK"])]);
    let closes = closes(&[
        ("000300.SH", &[("02-14", 4000.0), ("02-17", 4100.0), ("02-24", 4182.0)]),
        ("600001.SH", &[("02-14", 10.0), ("02-17", 11.0), ("02-24", 12.1)]),
        ("600002.SH", &[("02-14", 20.0), ("02-17", 19.0), ("02-24", 19.95)]),
        // HK has no close on Friday 02-24; its Thursday close counts.
        ("0700.HK", &[("02-14", 100.0), ("02-17", 100.0), ("02-23", 90.0)]),
        ("HKDCNY.FX", &[("02-14", 0.80), ("02-17", 0.80), ("02-23", 0.80)]),
    ]);
    (report, closes)
}

#[test]
fn weekly_summary_of_a_small_week() {
    let (report, closes) = week_data();
    let week = WeekSpec::iso(2023, 8).unwrap();
    let summary = compute_weekly(&report, &closes, &week, &cny()).unwrap();
    assert_eq!(summary.week.to_string(), "2023-W08");
    assert_eq!(
        (summary.week_start, summary.week_end, summary.as_of, summary.previous_as_of),
        (d("02-20"), d("02-24"), d("02-24"), d("02-17"))
    );
    // Benchmark: week 4182/4100 − 1 = +2 %; since the report 4182/4000 − 1 = +4.55 %.
    assert_close!(summary.benchmark_week_return, 0.02);
    assert_close!(summary.benchmark_since_report_return, 0.0455);
    // Members (CNY; the HKD rate is flat at 0.80):
    //   600001.SH since +21 % (12.1/10), at 02-17 +10 %, week 12.1/11 − 1 = +10 %;
    //   600002.SH since −0.25 % (19.95/20), at 02-17 −5 %, week 19.95/19 − 1 = +5 %;
    //   0700.HK   since −10 % (90/100), at 02-17 0 %, week −10 %.
    // S1 = {600001, 600002}: since (21 − 0.25)/2 = 10.375 %; at 02-17 (10 − 5)/2 = 2.5 %;
    //   week 1.10375/1.025 − 1 = 7.6829… %; week excess − 2 %; since excess 10.375 − 4.55 =
    //   5.825 pp: 中性.
    let s1 = &summary.sectors[0];
    assert_close!(s1.since_report_return, 0.10375);
    assert_close!(s1.week_return, 1.10375 / 1.025 - 1.0);
    assert_close!(s1.week_excess, 1.10375 / 1.025 - 1.0 - 0.02);
    assert_close!(s1.since_report_excess, 0.05825);
    assert_eq!(s1.implied_rating, "中性");
    // S2 = {600001, 0700}: since (21 − 10)/2 = 5.5 %; at 02-17 (10 + 0)/2 = 5 %; week 1.055/1.05 − 1.
    let s2 = &summary.sectors[1];
    assert_close!(s2.since_report_return, 0.055);
    assert_close!(s2.week_return, 1.055 / 1.05 - 1.0);
    // Basket of all three: since (21 − 0.25 − 10)/3 = 10.75/3 %; at 02-17 (10 − 5 + 0)/3 %;
    // week 3.1075/3.05 − 1 = +1.8852… %.
    assert_close!(summary.basket.since_report_return, 0.1075 / 3.0);
    assert_close!(summary.basket.week_return, 3.1075 / 3.05 - 1.0);
    // Best by week: 600001 (+10), 600002 (+5), 0700 (−10); worst the other way round.
    let names = |moves: &[model::MemberMove]| moves.iter().map(|m| m.symbol.to_string()).collect::<Vec<_>>();
    assert_eq!(names(&summary.basket.best), ["600001.SH", "600002.SH", "0700.HK"]);
    assert_eq!(names(&summary.basket.worst), ["0700.HK", "600002.SH", "600001.SH"]);
    assert_close!(summary.basket.best[0].week_return, 0.10);
    // 02-24 → 08-14: Feb 24 → Aug 24 is 181 days, less 10: 171.
    assert_eq!(summary.days_left, 171);
    // Freshness: SH (and the index) to 02-24, HK and FX to 02-23; nobody stale (1 day).
    let freshness: Vec<(String, Option<NaiveDate>)> = summary.freshness.iter().map(|f| (f.market.clone(), f.latest_close)).collect();
    assert_eq!(
        freshness,
        vec![("SH".to_string(), Some(d("02-24"))), ("HK".to_string(), Some(d("02-23"))), ("FX".to_string(), Some(d("02-23")))]
    );
    assert!(summary.stale_members.is_empty() && summary.warnings.is_empty(), "{:?}", summary.warnings);
    // Paths: S1 at 02-17 is 2.5 − 2.5 = 0 pp, at 02-24 5.825 pp; the basket path comes last.
    assert_eq!(summary.paths.len(), 3);
    assert_eq!(summary.paths[2].name, "全部标的");
    let s1_path = &summary.paths[0].points;
    assert_eq!(s1_path.iter().map(|p| p.date).collect::<Vec<_>>(), vec![d("02-17"), d("02-24")]);
    assert_close!(s1_path[0].excess, 0.0);
    assert_close!(s1_path[1].excess, 0.05825);
    assert!(summary.method.ends_with("week 2023-02-17 to 2023-02-24."), "{}", summary.method);
}

#[test]
fn the_reports_own_week_starts_at_the_base() {
    // W07 holds T0 (Tuesday 02-14); the previous Friday 02-10 is before the base, so the
    // week runs from the base and equals the since-report figures: S1 at 02-17 +2.5 %.
    let (report, closes) = week_data();
    let summary = compute_weekly(&report, &closes, &WeekSpec::iso(2023, 7).unwrap(), &cny()).unwrap();
    assert_eq!((summary.previous_as_of, summary.as_of), (d("02-14"), d("02-17")));
    assert_close!(summary.sectors[0].week_return, 0.025);
    assert_close!(summary.sectors[0].week_return, summary.sectors[0].since_report_return);
    assert_close!(summary.benchmark_week_return, 0.025);
    // A week that ends before the report date is an error.
    let err = compute_weekly(&report, &closes, &WeekSpec::iso(2023, 6).unwrap(), &cny()).unwrap_err();
    assert_eq!(err, AnalysisError::AsOfBeforeReport { report_id: "test-report".to_string(), as_of: d("02-10"), report_date: d("02-14") });
}

#[test]
fn weekly_stale_members_include_those_without_any_close() {
    let (mut report, mut closes) = week_data();
    report.sectors[0].members.push(Member { symbol: sym("600003.SH"), tags: vec![] });
    report.companies.push(Company { symbol: sym("600003.SH"), name: "late".into(), name_en: "late".into(), alternates: vec![] });
    // 0700.HK's only close is 02-14's: at 02-24 it is 2 benchmark days old (02-17, 02-24).
    closes.insert(sym("0700.HK"), Series::new(vec![(d("02-14"), 100.0)]));
    let summary =
        compute_weekly(&report, &closes, &WeekSpec::iso(2023, 8).unwrap(), &AnalysisOptions { stale_after_trading_days: 1, ..cny() })
            .unwrap();
    let stale: Vec<(String, Option<NaiveDate>)> = summary.stale_members.iter().map(|s| (s.symbol.to_string(), s.last_close)).collect();
    // With a limit of 1 trading day, 0700.HK (2 days old) is stale; 600003.SH has no close.
    assert_eq!(stale, vec![("0700.HK".to_string(), Some(d("02-14"))), ("600003.SH".to_string(), None)]);
}
