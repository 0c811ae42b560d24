//! Shared test helpers: temp databases with the real migrations and the seed report, the
//! real binary run against them, and the one fixture set of the analysis and report tests
//! (`tests/fixtures/small-report/`, every number in its README).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use ratingwatch::analysis::model::{Verdict, WeeklySummary};
use ratingwatch::analysis::{AnalysisOptions, Closes, Series, WeekSpec, compute_verdict, compute_weekly};
use ratingwatch::catalog::{self, ReportDef};
use ratingwatch::csv_import::{self, ParsedCsv};
use ratingwatch::prices::AdjBasis;
use ratingwatch::store::{SeriesWrite, Store};
use ratingwatch::symbol::Symbol;

/// The seed report file shipped in `data/reports/`.
pub fn seed_report_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/reports/zheshang-2023-02-14-chatgpt.toml")
}

pub fn seed_report() -> catalog::ReportDef {
    catalog::load_report(&seed_report_path()).expect("the shipped seed report is valid")
}

/// A fresh on-disk database in `dir` with the seed report loaded.
pub fn seeded_store(dir: &Path) -> Store {
    let mut store = Store::open(&dir.join("test.db")).unwrap();
    store.load_report(&seed_report(), chrono::Utc::now()).unwrap();
    store
}

/// The real binary, run in `dir` with only the given database and no config file, so a
/// developer's environment never leaks in.
pub fn ratingwatch(dir: &Path) -> assert_cmd::Command {
    assert_cmd::Command::from_std(ratingwatch_process(dir))
}

/// [`ratingwatch`] as a plain `std::process::Command`, for tests that wire its pipes themselves.
pub fn ratingwatch_process(dir: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("ratingwatch"));
    cmd.current_dir(dir).env_remove("RATINGWATCH_CONFIG").env_remove("RUST_LOG").env("RATINGWATCH_DB", dir.join("test.db"));
    for (key, _) in std::env::vars() {
        if key.starts_with("RATINGWATCH__") {
            cmd.env_remove(key);
        }
    }
    cmd.env("RATINGWATCH__REPORTS__DIR", Path::new(env!("CARGO_MANIFEST_DIR")).join("data/reports"));
    // A `serve` in a test must not take (or find taken) the real dashboard port.
    cmd.env("RATINGWATCH__HTTP__LISTEN", "127.0.0.1:0");
    cmd
}

/// `ratingwatch serve` in `dir` as a plain process, isolated like [`ratingwatch_process`], with
/// its reports from `reports`, weekly files under `dir/out`, no initial sync, and every job
/// scheduled at midnight on 1 January (never while a test runs); the caller adds its own
/// settings, wires the pipes and spawns it.
pub fn serve_process(dir: &Path, reports: &Path) -> std::process::Command {
    let mut command = ratingwatch_process(dir);
    command
        .env("RATINGWATCH__REPORTS__DIR", reports)
        .env("RATINGWATCH__OUTPUT__DIR", dir.join("out"))
        .env("RATINGWATCH__SERVICE__INITIAL_SYNC", "false")
        // A catch-up of `sync_ratings` on a database with prices would ask Eastmoney.
        .env("RATINGWATCH__RATINGS__ENABLED", "false");
    for job in ratingwatch::schedule::JobKind::ALL {
        command.env(format!("RATINGWATCH__SCHEDULE__JOBS__{}", job.name().to_uppercase()), "0 0 0 1 1 *");
    }
    command.arg("serve");
    command
}

// ---------------------------------------------------------------------------------------------
// The small report: the one fixture set of the analysis, report, web and service tests.

/// The id of `tests/fixtures/small-report/small-report.toml`.
pub const SMALL_REPORT: &str = "small-2023-02-14";

/// Every price file of the small report's fixture set: the benchmark, the five companies and
/// the FX pair, one `<symbol>.csv` each.
pub const SMALL_REPORT_SERIES: [&str; 7] = ["000300.SH", "600941.SH", "300308.SZ", "301165.SZ", "603881.SH", "0700.HK", "HKDCNY.FX"];

pub fn small_report_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small-report")
}

pub fn small_report_path() -> PathBuf {
    small_report_dir().join("small-report.toml")
}

/// The price file of one of [`SMALL_REPORT_SERIES`].
pub fn small_report_series_path(symbol: &str) -> PathBuf {
    small_report_dir().join(format!("{symbol}.csv"))
}

pub fn small_report() -> ReportDef {
    catalog::load_report(&small_report_path()).expect("the small report fixture is valid")
}

fn parse_small_report_series(symbol: &str) -> ParsedCsv {
    let file = small_report_series_path(symbol);
    // Every fixture date is in 2023: a "today" at the end of that year accepts them all.
    let today = NaiveDate::from_ymd_opt(2023, 12, 31).unwrap();
    csv_import::parse_prices(&file, std::fs::File::open(&file).unwrap(), today).expect("the fixture series parse")
}

/// The fixture's closes as the analysis reads them from the store: each series' adjusted
/// close (`adj_close` where the file has one, else `close`; the benchmark and the FX rate
/// are used as published).
pub fn small_report_closes() -> Closes {
    SMALL_REPORT_SERIES
        .iter()
        .map(|symbol| {
            let points = parse_small_report_series(symbol).bars.iter().map(|bar| (bar.date, bar.adj_close)).collect();
            (Symbol::parse(symbol).unwrap(), Series::new(points))
        })
        .collect()
}

/// The small report's verdict as of `as_of` (`YYYY-MM-DD`), computed from the fixture files
/// with the default options (CNY, stale after 5 trading days).
pub fn small_verdict(as_of: &str) -> Verdict {
    compute_verdict(&small_report(), &small_report_closes(), as_of.parse().unwrap(), &AnalysisOptions::default()).unwrap()
}

/// The small report's summary of ISO `week` of 2023, computed from the fixture files.
pub fn small_weekly(week: u32) -> WeeklySummary {
    compute_weekly(&small_report(), &small_report_closes(), &WeekSpec::iso(2023, week).unwrap(), &AnalysisOptions::default()).unwrap()
}

/// Imports every fixture series with the real binary (`ratingwatch import prices`), each run
/// made by `command` (which says where the database and the reports are).
pub fn import_small_report_prices(command: impl Fn() -> assert_cmd::Command) {
    for symbol in SMALL_REPORT_SERIES {
        command().args(["import", "prices", "--symbol", symbol]).arg(small_report_series_path(symbol)).assert().success();
    }
}

/// The real binary in `dir` reading its reports from `dir/reports` only (not the shipped seed).
pub fn ratingwatch_own_reports(dir: &Path) -> assert_cmd::Command {
    let mut command = ratingwatch(dir);
    command.env("RATINGWATCH__REPORTS__DIR", dir.join("reports"));
    command
}

/// The standard output of [`ratingwatch_own_reports`] run with `args`, which must exit 0.
pub fn own_reports_stdout(dir: &Path, args: &[&str]) -> String {
    let output = ratingwatch_own_reports(dir).args(args).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// A temp folder whose `reports/` holds copies of the `reports` files and whose database holds
/// every series of the small report's fixture set, imported with the real binary; run commands
/// in it with [`ratingwatch_own_reports`].
pub fn small_report_folder(reports: &[PathBuf]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("reports")).unwrap();
    for report in reports {
        std::fs::copy(report, dir.path().join("reports").join(report.file_name().unwrap())).unwrap();
    }
    import_small_report_prices(|| ratingwatch_own_reports(dir.path()));
    dir
}

/// Loads `report` (the small report, maybe edited) and the fixture series into `store` the way
/// `import prices` does: the benchmark and FX as published, `adj_close` where the file has it.
pub fn load_small_report_into(store: &mut Store, report: &ReportDef) {
    let now = chrono::Utc::now();
    store.load_report(report, now).unwrap();
    let today = now.date_naive();
    for symbol in SMALL_REPORT_SERIES {
        let parsed = parse_small_report_series(symbol);
        let symbol = Symbol::parse(symbol).unwrap();
        let basis = if symbol.is_fx() || symbol == report.rule.benchmark {
            AdjBasis::None
        } else if parsed.has_adj_close {
            AdjBasis::Imported
        } else {
            AdjBasis::CloseAsAdjusted
        };
        store.upsert_bars(&SeriesWrite::new(&symbol, &parsed.bars, "csv", basis, today, now)).unwrap();
    }
}

/// A broker rating of `symbol` in the report list's shape (the fields the tests vary as
/// arguments; the broker's full name, analysts, title and PDF link derived).
#[allow(clippy::too_many_arguments)]
pub fn rating_record(
    code: &str,
    symbol: &str,
    name: &str,
    broker: &str,
    date: NaiveDate,
    word: &str,
    change: ratingwatch::ratings::Change,
    previous: Option<&str>,
    target: Option<f64>,
) -> ratingwatch::ratings::RatingRecord {
    ratingwatch::ratings::RatingRecord {
        info_code: code.to_string(),
        symbol: Symbol::parse(symbol).unwrap(),
        name: name.to_string(),
        broker: broker.to_string(),
        broker_full: format!("{broker}股份有限公司"),
        analysts: "甲,乙".to_string(),
        date,
        rating: word.to_string(),
        normalized: Some(word.to_string()),
        normalized_value: None,
        previous: previous.map(str::to_string),
        previous_value: None,
        change,
        target_price: target,
        title: format!("{name}点评"),
        pdf_url: ratingwatch::ratings::pdf_url(code),
    }
}
