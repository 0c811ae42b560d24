//! `verdict` and `report` end to end: the small report (`tests/fixtures/small-report/`, loaded
//! through `support`) imported with `ratingwatch import prices`, then the real binary. Every
//! expected number is worked out by hand in that folder's README.
//!
//! Adjusted closes (CNY for 0700.HK at each date's HKDCNY rate; `–` = no close that day):
//!
//! | date       | 000300.SH | 600941.SH | 300308.SZ | 301165.SZ | 0700.HK (HKD × FX) |
//! |------------|-----------|-----------|-----------|-----------|--------------------|
//! | 2023-02-13 | 3980      | 39.8      | –         | 50 (base) | –                  |
//! | 2023-02-14 | 4000      | 40        | 50        | –         | 400 × 0.87         |
//! | 2023-02-17 | 4040      | –         | –         | –         | 404 × 0.87         |
//! | 2023-05-11 | –         | –         | –         | 38.75     | –                  |
//! | 2023-05-12 | 4100      | 45        | 55        | –         | 420 × 0.89         |
//! | 2023-05-19 | 4059      | 45.9      | 53.9      | –         | 441 × 0.89         |
//! | 2023-08-14 | 4200      | 50        | 45        | –         | 440 × 0.9135       |
//!
//! Sectors: 通信 = 600941.SH + 300308.SZ + 301165.SZ (+ 603881.SH, listed 05-12: excluded);
//! 应用 = 0700.HK + 600941.SH; the basket = the four priced companies.

use serde_json::Value;

use crate::support::{self, own_reports_stdout as stdout, ratingwatch_own_reports as command};

/// A temp folder whose database holds only the small report, with every series imported.
fn imported() -> tempfile::TempDir {
    support::small_report_folder(&[support::small_report_path()])
}

fn close_to(actual: &Value, expected: f64) -> bool {
    (actual.as_f64().unwrap() - expected).abs() < 1e-9
}

fn member<'a>(group: &'a Value, symbol: &str) -> &'a Value {
    group["members"].as_array().unwrap().iter().find(|member| member["symbol"] == symbol).unwrap()
}

#[test]
fn verdict_json_after_the_horizon_matches_a_hand_calculation() {
    let dir = imported();
    let json: Value = serde_json::from_str(&stdout(dir.path(), &["verdict", "--as-of", "2023-08-31", "--format", "json"])).unwrap();

    // Benchmark 4000 → 4200 = +5.00 %, from 2023-02-14 to the horizon end 2023-08-14.
    assert_eq!(json["report_id"], "small-2023-02-14");
    assert_eq!(json["horizon_end"], "2023-08-14");
    assert_eq!(json["benchmark"]["base_date"], "2023-02-14");
    assert_eq!(json["benchmark"]["end_date"], "2023-08-14");
    assert!(close_to(&json["benchmark"]["return"], 0.05));

    // 600941.SH 40 → 50 = +25 % (adjusted); 300308.SZ 50 → 45 = −10 %; 301165.SZ 50 → 38.75 =
    // −22.5 % (stale); 0700.HK 400 → 440 = +10 % in HKD, FX 0.87 → 0.9135 = +5 %:
    // 1.10 × 1.05 − 1 = +15.5 % in CNY.
    // 通信 (25 − 10 − 22.5) / 3 = −2.5 %, excess −7.5 pp → 中性, not held.
    // 应用 (15.5 + 25) / 2 = +20.25 %, excess +15.25 pp → 看好, held.
    // Basket (25 − 10 − 22.5 + 15.5) / 4 = +2 %, excess −3 pp → 中性: the rating did not hold.
    let sectors = json["sectors"].as_array().unwrap();
    assert_eq!(sectors[0]["name"], "通信");
    assert!(close_to(&sectors[0]["return"], -0.025) && close_to(&sectors[0]["excess"], -0.075));
    assert_eq!(sectors[0]["implied_rating"], "中性");
    assert_eq!(sectors[0]["held"], false);
    let mobile = member(&sectors[0], "600941.SH");
    assert_eq!((&mobile["base_close"], &mobile["end_close"]), (&Value::from(40.0), &Value::from(50.0)));
    let ruijie = member(&sectors[0], "301165.SZ");
    assert_eq!(
        (&ruijie["base_date"], &ruijie["end_date"], &ruijie["stale"]),
        (&Value::from("2023-02-13"), &Value::from("2023-05-11"), &Value::from(true))
    );
    assert_eq!(sectors[1]["name"], "应用");
    assert!(close_to(&sectors[1]["return"], 0.2025) && close_to(&sectors[1]["excess"], 0.1525));
    assert_eq!(sectors[1]["implied_rating"], "看好");
    assert_eq!(sectors[1]["held"], true);
    let tencent = member(&sectors[1], "0700.HK");
    assert_eq!(tencent["currency"], "HKD");
    assert!(close_to(&tencent["return"], 0.155));
    assert!(close_to(&json["basket"]["return"], 0.02));
    assert!(close_to(&json["basket"]["excess"], -0.03));
    assert_eq!(json["basket"]["implied_rating"], "中性");
    assert_eq!(json["status"], "not_held");

    // The path runs over the benchmark's trading days after T0: 02-17, 05-12, 05-15 … 05-19,
    // 06-01, 08-11, 08-14. 应用 on 02-17: 0700.HK 404 × 0.87 / 348 − 1 = +1 %, 600941.SH at
    // its base; benchmark 4040 / 4000 − 1 = +1 %: excess 0.5 − 1 = −0.5 pp, the worst. On 06-01: 0700.HK still at 05-19's 441 × 0.89 / 348 − 1
    // = +12.78448 %, 600941.SH 46.5 / 40 − 1 = +16.25 %; mean +14.51724 %; benchmark 3960 /
    // 4000 − 1 = −1 %: excess +15.51724 pp, the best (08-14 is +15.25 pp).
    let best = (441.0 * 0.89 / 348.0 - 1.0 + 0.1625) / 2.0 + 0.01;
    assert!(close_to(&sectors[1]["best_excess"], best), "{}", sectors[1]["best_excess"]);
    assert_eq!(sectors[1]["best_excess_date"], "2023-06-01");
    assert!(close_to(&sectors[1]["worst_excess"], -0.005), "{}", sectors[1]["worst_excess"]);
    assert_eq!(sectors[1]["worst_excess_date"], "2023-02-17");
}

#[test]
fn verdict_table_and_ledger_read_like_the_json() {
    let dir = imported();
    let table = stdout(dir.path(), &["verdict", "--as-of", "2023-08-31"]);
    assert!(table.contains("应用 applications") && table.contains("+15.25 pp"), "{table}");
    assert!(table.contains("Method:"), "{table}");

    // Before the horizon end the verdict is pending: 2023-05-19 to 2023-08-14 is 87 days.
    let pending: Value = serde_json::from_str(&stdout(dir.path(), &["verdict", "--as-of", "2023-05-19", "--format", "json"])).unwrap();
    assert_eq!(pending["status"], "pending");
    assert_eq!(pending["days_left"], 87);

    let ledger = stdout(dir.path(), &["verdict", "--all", "--as-of", "2023-08-31"]);
    assert!(ledger.contains("small-2023-02-14") && ledger.contains("0 of 1 rating held (0 %)."), "{ledger}");
}

#[test]
fn weekly_report_markdown_for_an_iso_week() {
    let dir = imported();
    let markdown = stdout(dir.path(), &["report", "--week", "2023-W20", "--format", "markdown"]);
    // Week 2023-W20 is measured from Friday 2023-05-12 to Friday 2023-05-19. Benchmark
    // 4100 → 4059 = −1.00 %; since the report 4059 / 4000 − 1 = +1.475 %, just above 147.5 bp
    // in floating point: +1.48 %. A buy-and-hold basket's week return is the change of its
    // value, the mean of its members' growth since the base close:
    // 通信 on 05-12 (45/40 + 55/50 + 38.75/50) / 3 = (1.125 + 1.1 + 0.775) / 3 = 1; on 05-19
    //   (45.9/40 + 53.9/50 + 0.775) / 3 = (1.1475 + 1.078 + 0.775) / 3 = 1.0001667; week and
    //   since +0.0167 % → +0.02 %, week excess +1.02 pp, excess since −1.46 pp → 中性.
    // 应用 on 05-12 (420 × 0.89 / (400 × 0.87) + 1.125) / 2 = (373.8 + 391.5) / 696; on 05-19
    //   (441 × 0.89 / 348 + 1.1475) / 2 = (392.49 + 399.33) / 696; week 791.82 / 765.3 − 1
    //   = +3.465 % → +3.47 %, week excess +4.47 pp; since 791.82 / 696 − 1 = +13.77 %,
    //   excess 13.767 − 1.475 = +12.29 pp → 看好.
    // The basket's excess since the report, +1.73 pp, is 1000 − 173 = 827 bp short of 看好's line.
    assert!(
        markdown.starts_with(
            "**看好 (overweight) not held so far: +1.73 pp vs ≥ +10 pp (8.27 pp short), 87 days left, prices of 2023-05-19**\n\n\
             # Weekly summary 2023-W20: 小型测试报告\n"
        ),
        "{markdown}"
    );
    assert!(markdown.contains("| 通信 communications | +0.02 % | +1.02 pp | +0.02 % | -1.46 pp | 中性 | not held so far |"), "{markdown}");
    assert!(markdown.contains("| 应用 applications | +3.47 % | +4.47 pp | +13.77 % | +12.29 pp | 看好 | held so far |"), "{markdown}");
    assert!(markdown.contains("| 沪深300 (benchmark) | -1.00 % |  | +1.48 % |  |  |  |"), "{markdown}");
    assert!(markdown.contains("Method:"), "{markdown}");
}

#[test]
fn output_writes_the_file_and_prints_its_path() {
    let dir = imported();
    let path = dir.path().join("out/w20.html");
    let printed = stdout(dir.path(), &["report", "--week", "2023-W20", "--format", "html", "--output", path.to_str().unwrap()]);
    assert_eq!(printed.trim(), path.display().to_string());
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(html.contains("<svg") && html.contains("小型测试报告"));

    let csv = stdout(dir.path(), &["report", "--week", "2023-W20", "--format", "csv"]);
    assert_eq!(csv.lines().count(), 4, "a header, two sectors and the basket: {csv}");
}

#[test]
fn a_week_before_the_report_names_the_first_week_that_works() {
    let dir = imported();
    // 2023-W05 ends on Friday 2023-02-03, before the report date; 2023-02-14 is in 2023-W07.
    let output = command(dir.path()).args(["report", "--week", "2023-W05"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--week 2023-W07 or later"), "{stderr}");
}

#[test]
fn local_currency_leaves_the_fx_move_out() {
    let dir = imported();
    let args = ["verdict", "--as-of", "2023-08-31", "--currency", "local", "--format", "json"];
    let json: Value = serde_json::from_str(&stdout(dir.path(), &args)).unwrap();
    // 0700.HK 400 → 440 = +10 % in HKD; 应用 (10 + 25) / 2 = +17.5 %, excess +12.5 pp.
    let applications = &json["sectors"][1];
    assert!(close_to(&member(applications, "0700.HK")["return"], 0.10));
    assert!(close_to(&applications["return"], 0.175) && close_to(&applications["excess"], 0.125));
}
