//! `verdict` and `report` end to end: a small report and a few CSV series imported with
//! `ratingwatch import prices`, then the real binary. The prices are in
//! `tests/fixtures/report/`; every expected number is worked out here by hand.
//!
//! Closes (open = high = low = close in the files):
//!
//! | date       | 000300.SH | 600941.SH | 300308.SZ | 0700.HK | HKDCNY.FX |
//! |------------|-----------|-----------|-----------|---------|-----------|
//! | 2023-02-14 | 4000      | 80        | 50        | 400     | 0.8700    |
//! | 2023-05-12 | 4100      | 90        | 55        | 420     | 0.8900    |
//! | 2023-05-19 | 4059      | 92.7      | 53.35     | 441     | 0.8900    |
//! | 2023-08-14 | 4200      | 100       | 45        | 440     | 0.9135    |
//!
//! Sectors: 算力 = 600941.SH + 300308.SZ; 应用 = 0700.HK + 600941.SH; basket = all three.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::ratingwatch;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report")
}

/// A temp folder whose database holds only the small report, with every series imported.
fn imported() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    std::fs::create_dir(&reports).unwrap();
    std::fs::copy(fixtures().join("small-report.toml"), reports.join("small-report.toml")).unwrap();
    for symbol in ["000300.SH", "600941.SH", "300308.SZ", "0700.HK", "HKDCNY.FX"] {
        command(dir.path()).args(["import", "prices", "--symbol", symbol]).arg(fixtures().join(format!("{symbol}.csv"))).assert().success();
    }
    dir
}

fn command(dir: &Path) -> assert_cmd::Command {
    let mut command = ratingwatch(dir);
    command.env("RATINGWATCH__REPORTS__DIR", dir.join("reports"));
    command
}

fn stdout(dir: &Path, args: &[&str]) -> String {
    let output = command(dir).args(args).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

fn close_to(actual: &Value, expected: f64) -> bool {
    (actual.as_f64().unwrap() - expected).abs() < 1e-9
}

#[test]
fn verdict_json_after_the_horizon_matches_a_hand_calculation() {
    let dir = imported();
    let json: Value = serde_json::from_str(&stdout(dir.path(), &["verdict", "--as-of", "2023-08-31", "--format", "json"])).unwrap();

    // Benchmark 4000 → 4200 = +5.00 %, from 2023-02-14 to the horizon end 2023-08-14.
    assert_eq!(json["report_id"], "render-test-2023-02-14");
    assert_eq!(json["horizon_end"], "2023-08-14");
    assert_eq!(json["benchmark"]["base_date"], "2023-02-14");
    assert_eq!(json["benchmark"]["end_date"], "2023-08-14");
    assert!(close_to(&json["benchmark"]["return"], 0.05));

    // 600941.SH 80 → 100 = +25 %; 300308.SZ 50 → 45 = −10 %;
    // 0700.HK 400 → 440 = +10 % in HKD, FX 0.87 → 0.9135 = +5 %: 1.10 × 1.05 − 1 = +15.5 % in CNY.
    // 算力 (25 − 10) / 2 = +7.5 %, excess +2.5 pp → 中性, not held.
    // 应用 (15.5 + 25) / 2 = +20.25 %, excess +15.25 pp → 看好, held.
    // Basket (25 − 10 + 15.5) / 3 = +10.1667 %, excess +5.1667 pp → 中性: the rating did not hold.
    let sectors = json["sectors"].as_array().unwrap();
    assert_eq!(sectors[0]["name"], "算力");
    assert!(close_to(&sectors[0]["return"], 0.075) && close_to(&sectors[0]["excess"], 0.025));
    assert_eq!(sectors[0]["implied_rating"], "中性");
    assert_eq!(sectors[0]["held"], false);
    assert_eq!(sectors[1]["name"], "应用");
    assert!(close_to(&sectors[1]["return"], 0.2025) && close_to(&sectors[1]["excess"], 0.1525));
    assert_eq!(sectors[1]["implied_rating"], "看好");
    assert_eq!(sectors[1]["held"], true);
    let tencent = sectors[1]["members"].as_array().unwrap().iter().find(|member| member["symbol"] == "0700.HK").unwrap();
    assert_eq!(tencent["currency"], "HKD");
    assert!(close_to(&tencent["return"], 0.155));
    assert!(close_to(&json["basket"]["return"], 0.305 / 3.0));
    assert!(close_to(&json["basket"]["excess"], 0.305 / 3.0 - 0.05));
    assert_eq!(json["basket"]["implied_rating"], "中性");
    assert_eq!(json["status"], "not_held");

    // The path runs over the benchmark's trading days after T0: 05-12, 05-19, 08-14.
    // 应用 on 05-12: 0700.HK 420 × 0.89 / (400 × 0.87) − 1 = 373.8 / 348 − 1 = +7.4138 %,
    // 600941.SH 90 / 80 − 1 = +12.5 %; mean +9.9569 %; benchmark 4100 / 4000 − 1 = +2.5 %;
    // excess +7.4569 pp. On 05-19: 441 × 0.89 / 348 − 1 = +12.7845 %, 92.7 / 80 − 1 = +15.875 %,
    // mean +14.3297 %, benchmark +1.475 %, excess +12.8547 pp. On 08-14: +15.25 pp, the best.
    assert!(close_to(&sectors[1]["best_excess"], 0.1525));
    assert_eq!(sectors[1]["best_excess_date"], "2023-08-14");
    let worst = (373.8 / 348.0 - 1.0 + 0.125) / 2.0 - 0.025;
    assert!(close_to(&sectors[1]["worst_excess"], worst), "{}", sectors[1]["worst_excess"]);
    assert_eq!(sectors[1]["worst_excess_date"], "2023-05-12");
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
    assert!(ledger.contains("render-test-2023-02-14") && ledger.contains("0 of 1 rating held (0 %)."), "{ledger}");
}

#[test]
fn weekly_report_markdown_for_an_iso_week() {
    let dir = imported();
    let markdown = stdout(dir.path(), &["report", "--week", "2023-W20", "--format", "markdown"]);
    // Week 2023-W20 is measured from Friday 2023-05-12 to Friday 2023-05-19. Benchmark
    // 4100 → 4059 = −1.00 %. A buy-and-hold basket's week return is the change of its value,
    // the mean of its members' growth since the base close:
    // 算力 on 05-12 (90/80 + 55/50) / 2 = (1.125 + 1.1) / 2 = 1.1125; on 05-19
    //   (92.7/80 + 53.35/50) / 2 = (1.15875 + 1.067) / 2 = 1.112875; week 1.112875 / 1.1125 − 1
    //   = +0.0337 % → +0.03 %, week excess +1.03 pp.
    // 应用 on 05-12 (420 × 0.89 / (400 × 0.87) + 1.125) / 2 = (1.074138 + 1.125) / 2 = 1.099569;
    //   on 05-19 (441 × 0.89 / 348 + 1.15875) / 2 = (1.127845 + 1.15875) / 2 = 1.143297;
    //   week +3.977 % → +3.98 %, week excess +4.98 pp.
    // Since the report: 算力 1.112875 − 1 = +11.29 % (1128.75 bp rounds to 1129),
    //   excess 11.2875 − 1.475 = +9.81 pp → 中性; 应用 +14.33 %, excess +12.85 pp → 看好.
    assert!(markdown.starts_with("# Weekly summary 2023-W20: 渲染测试报告\n"), "{markdown}");
    assert!(markdown.contains("| 算力 compute | +0.03 % | +1.03 pp | +11.29 % | +9.81 pp | 中性 |"), "{markdown}");
    assert!(markdown.contains("| 应用 applications | +3.98 % | +4.98 pp | +14.33 % | +12.85 pp | 看好 |"), "{markdown}");
    assert!(markdown.contains("| 沪深300 (benchmark) | -1.00 % |  | +1.48 % |  |  |"), "{markdown}");
    assert!(markdown.contains("Method:"), "{markdown}");
}

#[test]
fn output_writes_the_file_and_prints_its_path() {
    let dir = imported();
    let path = dir.path().join("out/w20.html");
    let printed = stdout(dir.path(), &["report", "--week", "2023-W20", "--format", "html", "--output", path.to_str().unwrap()]);
    assert_eq!(printed.trim(), path.display().to_string());
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(html.contains("<svg") && html.contains("渲染测试报告"));

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
    let tencent = applications["members"].as_array().unwrap().iter().find(|member| member["symbol"] == "0700.HK").unwrap();
    assert!(close_to(&tencent["return"], 0.10));
    assert!(close_to(&applications["return"], 0.175) && close_to(&applications["excess"], 0.125));
}
