//! `reports draft` and `reports add` through the real binary: a report's text, the instruments
//! fixture in the database (no network), a drafted file, then the report loaded and judged.

use std::path::{Path, PathBuf};

use predicates::prelude::*;
use ratingwatch::catalog::{self, ReportDef};
use ratingwatch::names::{Instrument, Kind, Status};
use ratingwatch::store::Store;
use ratingwatch::symbol::Symbol;
use serde_json::Value;

use crate::support::{ratingwatch, seed_report};

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(path)
}

/// Fills the database in `dir` with `tests/fixtures/instruments/instruments.csv`
/// (`symbol,name,name_en,kind`), as `instruments import` would.
fn import_instruments(dir: &Path) {
    let text = std::fs::read_to_string(fixture("instruments/instruments.csv")).unwrap();
    let rows: Vec<Instrument> = text
        .lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            Instrument {
                symbol: Symbol::parse(fields[0]).unwrap(),
                name: fields[1].to_string(),
                name_en: Some(fields[2].to_string()).filter(|en| !en.is_empty()),
                kind: Kind::ALL.into_iter().find(|kind| kind.as_str() == fields[3]).unwrap(),
                status: Status::Listed,
            }
        })
        .collect();
    let mut store = Store::open(&dir.join("test.db")).unwrap();
    store.upsert_instruments(&rows, "import", chrono::Utc::now()).unwrap();
}

/// Everything but the sectors' English names (a report's text has none), tags sorted.
fn structure(report: &ReportDef) -> ReportDef {
    let mut report = report.clone();
    for sector in &mut report.sectors {
        sector.name_en.clear();
        for member in &mut sector.members {
            member.tags.sort();
        }
    }
    report
}

#[test]
fn drafting_the_seed_text_gives_the_shipped_seed_report() {
    let dir = tempfile::tempdir().unwrap();
    import_instruments(dir.path());
    let out = dir.path().join("drafted.toml");
    ratingwatch(dir.path())
        .args(["reports", "draft"])
        .arg(fixture("draft/zheshang-2023-02-14-chatgpt.txt"))
        .args(["--id", "zheshang-2023-02-14-chatgpt", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("with 45 companies in 5 sectors"));
    let drafted = catalog::load_report(&out).unwrap();
    assert_eq!(structure(&drafted), structure(&seed_report()));
    // Written once: a second draft to the same path refuses to overwrite it.
    ratingwatch(dir.path())
        .args(["reports", "draft"])
        .arg(fixture("draft/zheshang-2023-02-14-chatgpt.txt"))
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already exists"));
}

#[test]
fn a_five_tier_report_is_drafted_added_and_judged_by_its_own_bands() {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    std::fs::create_dir(&reports).unwrap();
    import_instruments(dir.path());
    let run = || {
        let mut command = ratingwatch(dir.path());
        command.env("RATINGWATCH__REPORTS__DIR", &reports);
        command
    };
    run()
        .args(["reports", "draft"])
        .arg(fixture("draft/csc-style-five-tier.txt"))
        .assert()
        .success()
        .stdout(predicate::str::contains("csc-2023-02-14.toml: report csc-2023-02-14 with 2 companies in 2 sectors"));
    let drafted = dir.path().join("csc-2023-02-14.toml");
    let report = catalog::load_report(&drafted).unwrap();
    let labels: Vec<&str> = report.rule.bands.iter().map(|band| band.label.zh.as_str()).collect();
    assert_eq!(labels, ["买入", "增持", "中性", "减持", "卖出"]);
    assert_eq!(report.rating_label().zh, "增持");

    run()
        .args(["reports", "add"])
        .arg(&drafted)
        .assert()
        .success()
        .stdout(predicate::str::contains("report csc-2023-02-14: added (2 companies in 2 sectors, rating 增持)"));
    assert!(reports.join("csc-2023-02-14.toml").is_file());
    for symbol in ["000300.SH", "600941.SH", "300308.SZ"] {
        run().args(["import", "prices", "--symbol", symbol]).arg(fixture(&format!("analysis/{symbol}.csv"))).assert().success();
    }
    let output = run().args(["verdict", "csc-2023-02-14", "--as-of", "2023-12-31", "--format", "json"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let verdict: Value = serde_json::from_slice(&output.stdout).unwrap();
    // 沪深300 4000 → 3900: −2.5 %. 中国移动 adjusted 30 → 33: +10 %, excess +12.5 pp: 增持
    // (+5 … +15), held. 中际旭创 30 → 60: +100 %, excess +102.5 pp: 买入, not the report's 增持.
    // The basket (10 % + 100 %) / 2 = 55 %, excess +57.5 pp: 买入, so the rating did not hold.
    let sector = |name: &str| verdict["sectors"].as_array().unwrap().iter().find(|s| s["name"] == name).unwrap().clone();
    assert_eq!((sector("运营商")["implied_rating"].as_str(), sector("运营商")["held"].as_bool()), (Some("增持"), Some(true)));
    assert_eq!((sector("光模块")["implied_rating"].as_str(), sector("光模块")["held"].as_bool()), (Some("买入"), Some(false)));
    assert!((sector("运营商")["excess"].as_f64().unwrap() - 0.125).abs() < 1e-9);
    assert_eq!(verdict["basket"]["implied_rating"], "买入");
    assert_eq!(verdict["status"], "not_held");
    assert_eq!(verdict["rating"], "增持");
}

#[test]
fn unresolved_names_are_listed_with_candidates_and_written_only_when_allowed() {
    let dir = tempfile::tempdir().unwrap();
    import_instruments(dir.path());
    let text = dir.path().join("note.txt");
    std::fs::write(
        &text,
        "服务器周报\n浙商证券\n2023年3月1日\n行业评级：看好\n【服务器】\n重点推荐：联想、浪潮信息、无名科技。\n\
         以报告日后的6个月内，行业指数相对于沪深300指数的涨跌幅为标准\n看好：+10%以上；\n中性：-10%~+10%；\n看淡：-10%以下。\n",
    )
    .unwrap();
    let out = dir.path().join("note.toml");
    ratingwatch(dir.path())
        .args(["reports", "draft"])
        .arg(&text)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("联想 (服务器): ambiguous, candidates: 0992.HK 联想集团, 3396.HK 联想控股"))
        .stderr(predicate::str::contains("无名科技 (服务器): not found"))
        .stderr(predicate::str::contains("nothing written"));
    assert!(!out.exists());
    ratingwatch(dir.path()).args(["reports", "draft"]).arg(&text).arg("--out").arg(&out).arg("--allow-unresolved").assert().code(1);
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(written.contains("# TODO: 联想: ambiguous, candidates: 0992.HK 联想集团, 3396.HK 联想控股"), "{written}");
    // The TODOs are comments: the file is valid and holds the one resolved company.
    let report = catalog::load_report(&out).unwrap();
    assert_eq!(report.companies.iter().map(|c| c.symbol.to_string()).collect::<Vec<_>>(), ["000977.SZ"]);
}

#[test]
fn reports_add_refuses_an_invalid_file_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    std::fs::create_dir(&reports).unwrap();
    let seed = std::fs::read_to_string(crate::support::seed_report_path()).unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, seed.replacen("lower_pp = -10.0", "lower_pp = nan", 1)).unwrap();
    let line = seed.lines().position(|l| l.contains("lower_pp")).unwrap() + 1;
    ratingwatch(dir.path())
        .env("RATINGWATCH__REPORTS__DIR", &reports)
        .args(["reports", "add"])
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("bad.toml:{line}: lower_pp = NaN must be a finite number")));
    assert_eq!(std::fs::read_dir(&reports).unwrap().count(), 0, "nothing copied");
}
