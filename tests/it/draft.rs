//! `reports draft` and `reports add` through the real binary: a report's text, the instruments
//! fixture in the database (no network), a drafted file, then the report loaded and judged.

use std::path::{Path, PathBuf};

use predicates::prelude::*;
use ratingwatch::catalog::{self, ReportDef};
use ratingwatch::store::Store;
use serde_json::Value;

use crate::support::{self, ratingwatch, seed_report};

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(path)
}

/// Fills the database in `dir` with `tests/fixtures/instruments/instruments.csv`
/// (`symbol,name,name_en,kind`), as `instruments import` would.
fn import_instruments(dir: &Path) {
    let file = fixture("instruments/instruments.csv");
    let rows = ratingwatch::names::import::parse_instruments(&file, std::fs::File::open(&file).unwrap()).unwrap();
    let mut store = Store::open(&dir.join("test.db")).unwrap();
    store.upsert_instruments(&rows, "import", chrono::Utc::now()).unwrap();
}

/// A temporary folder holding the database and an empty `reports/` folder the binary writes to.
struct Workspace {
    dir: tempfile::TempDir,
    reports: PathBuf,
}

impl Workspace {
    fn new() -> Workspace {
        let dir = tempfile::tempdir().unwrap();
        let reports = dir.path().join("reports");
        std::fs::create_dir(&reports).unwrap();
        Workspace { dir, reports }
    }

    /// The binary on this folder's database, with `reports.dir` set to its `reports/`.
    fn run(&self) -> assert_cmd::Command {
        let mut command = ratingwatch(self.dir.path());
        command.env("RATINGWATCH__REPORTS__DIR", &self.reports);
        command
    }

    /// The seed report's text, a copy of it at `first.toml` in this folder to add, and the
    /// file `reports add` files it as.
    fn seed_to_add(&self) -> (String, PathBuf, PathBuf) {
        let seed = std::fs::read_to_string(crate::support::seed_report_path()).unwrap();
        let first = self.dir.path().join("first.toml");
        std::fs::write(&first, &seed).unwrap();
        (seed, first, self.reports.join("zheshang-2023-02-14-chatgpt.toml"))
    }
}

#[path = "../common/report_structure.rs"]
mod report_structure;
use report_structure::structure;

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
    let workspace = Workspace::new();
    let (dir, reports) = (&workspace.dir, &workspace.reports);
    import_instruments(dir.path());
    let run = || workspace.run();
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
    // Prices: three series of the analysis and report tests' fixture set (`tests/fixtures/small-report/`).
    for symbol in ["000300.SH", "600941.SH", "300308.SZ"] {
        run().args(["import", "prices", "--symbol", symbol]).arg(support::small_report_series_path(symbol)).assert().success();
    }
    let verdict_as_of = |as_of: &str| -> Value {
        let output = run().args(["verdict", "csc-2023-02-14", "--as-of", as_of, "--format", "json"]).output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let sector = |verdict: &Value, name: &str| verdict["sectors"].as_array().unwrap().iter().find(|s| s["name"] == name).unwrap().clone();
    // As of 2023-08-11, pending (沪深300 4000 → 4160: +4 %): 中国移动 adjusted 40 → 46.5 (its
    // 06-01 close) = +16.25 %, excess +12.25 pp: 增持 (+5 … +15). 中际旭创 50 → 53.9 (05-19) =
    // +7.8 %, excess +3.8 pp: 中性 (−5 … +5). The basket (16.25 + 7.8) / 2 = 12.025 %, excess
    // +8.025 pp: 增持.
    let pending = verdict_as_of("2023-08-11");
    assert_eq!(pending["status"], "pending");
    assert_eq!(sector(&pending, "运营商")["implied_rating"], "增持");
    assert!((sector(&pending, "运营商")["excess"].as_f64().unwrap() - 0.1225).abs() < 1e-9);
    assert_eq!(sector(&pending, "光模块")["implied_rating"], "中性");
    assert_eq!(pending["basket"]["implied_rating"], "增持");
    // At the horizon end (沪深300 +5 %): 中国移动 40 → 50 = +25 %, excess +20 pp: 买入, not the
    // report's 增持. The basket (25 − 10) / 2 = 7.5 %, excess +2.5 pp: 中性, so the rating did
    // not hold.
    let verdict = verdict_as_of("2023-12-31");
    assert_eq!(
        (sector(&verdict, "运营商")["implied_rating"].as_str(), sector(&verdict, "运营商")["held"].as_bool()),
        (Some("买入"), Some(false))
    );
    assert!((sector(&verdict, "运营商")["excess"].as_f64().unwrap() - 0.20).abs() < 1e-9);
    assert_eq!(verdict["basket"]["implied_rating"], "中性");
    assert_eq!(verdict["status"], "not_held");
    assert_eq!(verdict["rating"], "增持");
}

#[test]
fn a_hang_seng_report_is_drafted_with_no_todo_added_and_judged_against_the_index() {
    let workspace = Workspace::new();
    let dir = &workspace.dir;
    import_instruments(dir.path());
    let run = || workspace.run();
    let drafted = dir.path().join("hk.toml");
    run()
        .args(["reports", "draft"])
        .arg(fixture("draft/csci-style-hang-seng.txt"))
        .arg("--out")
        .arg(&drafted)
        .assert()
        .success()
        .stdout(predicate::str::contains("report csc-2023-02-14-ai with 2 companies in 2 sectors"));
    let text = std::fs::read_to_string(&drafted).unwrap();
    assert!(!text.contains("# TODO:"), "{text}");
    let report = catalog::load_report(&drafted).unwrap();
    assert_eq!((report.rule.benchmark.to_string().as_str(), report.rule.benchmark_name.as_str()), ("^HSI.HK", "恒生指数"));
    assert_eq!(report.fx.iter().map(ToString::to_string).collect::<Vec<_>>(), ["HKDCNY.FX"]);

    run().args(["reports", "add"]).arg(&drafted).assert().success();
    for symbol in ["^HSI.HK", "600941.SH", "0700.HK", "HKDCNY.FX"] {
        run().args(["import", "prices", "--symbol", symbol]).arg(fixture(&format!("indices/{symbol}.csv"))).assert().success();
    }
    let output = run().args(["verdict", "csc-2023-02-14-ai", "--as-of", "2023-12-31", "--format", "json"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let verdict: Value = serde_json::from_slice(&output.stdout).unwrap();
    // 恒生指数 20000 → 19000: −5 %. 中国移动 (CNY) 30 → 33 is valued in HKD at HKDCNY 0.88 → 0.92:
    // 1.1 × 0.88 / 0.92 − 1 = +5.2173913 %, excess +10.2173913 pp: 强于大市 (≥ +10), held.
    // 腾讯控股 (HKD) 380 → 330: −13.1578947 %, excess −8.1578947 pp: 中性. Basket
    // (5.2173913 − 13.1578947) / 2 = −3.9702517 %, excess +1.0297483 pp: 中性, so not held.
    assert_eq!(verdict["benchmark"]["symbol"], "^HSI.HK");
    assert!((verdict["benchmark"]["return"].as_f64().unwrap() + 0.05).abs() < 1e-12);
    let sector = |name: &str| verdict["sectors"].as_array().unwrap().iter().find(|s| s["name"] == name).unwrap().clone();
    assert!((sector("通信")["excess"].as_f64().unwrap() - (1.1 * 0.88 / 0.92 - 1.0 + 0.05)).abs() < 1e-12);
    assert_eq!((sector("通信")["implied_rating"].as_str(), sector("通信")["held"].as_bool()), (Some("强于大市"), Some(true)));
    assert_eq!(sector("互联网")["implied_rating"], "中性");
    assert!(
        (verdict["basket"]["excess"].as_f64().unwrap() - ((1.1 * 0.88 / 0.92 - 1.0) + (330.0 / 380.0 - 1.0)) / 2.0 - 0.05).abs() < 1e-12
    );
    assert_eq!((verdict["basket"]["implied_rating"].as_str(), verdict["status"].as_str()), (Some("中性"), Some("not_held")));
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
    assert_eq!(std::fs::read_dir(reports).unwrap().count(), 0, "nothing copied");
}

#[test]
fn a_failed_load_leaves_the_reports_folder_as_it_was() {
    let workspace = Workspace::new();
    let (dir, reports) = (&workspace.dir, &workspace.reports);
    let run = || workspace.run();
    let (seed, first, target) = workspace.seed_to_add();
    run().args(["init"]).assert().success();
    // A trigger planted in the database makes every load fail after the file validated.
    let db = rusqlite::Connection::open(dir.path().join("test.db")).unwrap();
    let plant = "CREATE TRIGGER planted BEFORE INSERT ON reports BEGIN SELECT RAISE(ABORT, 'planted failure'); END;";
    db.execute_batch(plant).unwrap();

    run().args(["reports", "add"]).arg(&first).assert().failure().stderr(predicate::str::contains("planted failure"));
    assert!(!target.exists(), "a report that did not load has no file");
    assert_eq!(std::fs::read_dir(reports).unwrap().count(), 0, "no staged file is left either");

    // Loaded once the database accepts it; then a replacing version whose load fails keeps the old file.
    db.execute_batch("DROP TRIGGER planted;").unwrap();
    run().args(["reports", "add"]).arg(&first).assert().success();
    assert_eq!(std::fs::read_to_string(&target).unwrap(), seed);
    db.execute_batch(plant).unwrap();
    let other = dir.path().join("other.toml");
    std::fs::write(&other, seed.replacen("ChatGPT研究框架（AIGC算力时代系列报告）", "ChatGPT研究框架（修订版）", 1)).unwrap();
    run().args(["reports", "add", "--replace"]).arg(&other).assert().failure().stderr(predicate::str::contains("planted failure"));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), seed, "the old version stays");
    assert_eq!(std::fs::read_dir(reports).unwrap().count(), 1);
}

#[test]
fn reports_add_never_silently_replaces_another_version_of_a_report() {
    let workspace = Workspace::new();
    let (dir, reports) = (&workspace.dir, &workspace.reports);
    let run = || workspace.run();
    let id = "zheshang-2023-02-14-chatgpt";
    let (seed, first, target) = workspace.seed_to_add();
    // A planted link at the old writer's predictable temporary name must not be written through.
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "keep me").unwrap();
    std::os::unix::fs::symlink(&victim, reports.join(format!("{id}.toml.tmp"))).unwrap();
    run().args(["reports", "add"]).arg(&first).assert().success().stdout(predicate::str::contains(format!(
        "report {id}: added (45 companies in 5 sectors, rating 看好), file {} written",
        target.display()
    )));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), seed);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");

    // The same bytes again, from another path: nothing to write, nothing to load.
    let again = dir.path().join("again.toml");
    std::fs::write(&again, &seed).unwrap();
    run()
        .args(["reports", "add"])
        .arg(&again)
        .assert()
        .code(0)
        .stdout(predicate::str::contains(format!("report {id}: unchanged (45 companies")))
        .stdout(predicate::str::contains(format!("file {} unchanged", target.display())));

    // Another version under the same id (a new title): refused, naming the id and both paths.
    let other = dir.path().join("other.toml");
    let other_text = seed.replacen("ChatGPT研究框架（AIGC算力时代系列报告）", "ChatGPT研究框架（修订版）", 1);
    assert_ne!(other_text, seed);
    std::fs::write(&other, &other_text).unwrap();
    run()
        .args(["reports", "add"])
        .arg(&other)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("report id `{id}`")))
        .stderr(predicate::str::contains(target.display().to_string()))
        .stderr(predicate::str::contains(other.display().to_string()))
        .stderr(predicate::str::contains("--replace"));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), seed, "the folder's file is untouched");
    let listed = || String::from_utf8(run().args(["reports", "list", "--format", "json"]).output().unwrap().stdout).unwrap();
    assert!(listed().contains("AIGC算力时代系列报告") && !listed().contains("修订版"), "{}", listed());

    // With --replace: the file is replaced and the database reloaded.
    run()
        .args(["reports", "add", "--replace"])
        .arg(&other)
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("report {id}: updated (45 companies")))
        .stdout(predicate::str::contains(format!("file {} replaced", target.display())));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), other_text);
    assert!(listed().contains("修订版"), "{}", listed());
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    // No temporary file is left beside it (only the planted link, which is not ours).
    assert_eq!(std::fs::read_dir(reports).unwrap().count(), 2);
}

#[test]
fn reports_draft_out_does_not_write_through_a_planted_link() {
    let dir = tempfile::tempdir().unwrap();
    import_instruments(dir.path());
    let out = dir.path().join("drafted.toml");
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "keep me").unwrap();
    // The old writer wrote to `<out>.tmp` through any link there, then renamed the link.
    std::os::unix::fs::symlink(&victim, dir.path().join("drafted.toml.tmp")).unwrap();
    ratingwatch(dir.path())
        .args(["reports", "draft"])
        .arg(fixture("draft/zheshang-2023-02-14-chatgpt.txt"))
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    assert!(!std::fs::symlink_metadata(&out).unwrap().file_type().is_symlink());
    assert_eq!(catalog::load_report(&out).unwrap().companies.len(), 45);
}

#[test]
fn reports_draft_refuses_an_id_that_is_not_a_report_id_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    import_instruments(dir.path());
    // Run two folders down, so `../../evil.toml` would land in `dir` itself.
    let cwd = dir.path().join("a/b");
    std::fs::create_dir_all(&cwd).unwrap();
    let absolute = dir.path().join("abs-evil");
    for id in ["../../evil", absolute.to_str().unwrap(), "Upper"] {
        ratingwatch(dir.path())
            .current_dir(&cwd)
            .args(["reports", "draft"])
            .arg(fixture("draft/zheshang-2023-02-14-chatgpt.txt"))
            .args(["--id", id, "--allow-unresolved"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!("report id `{id}` must be 1 to 80 lowercase letters")));
    }
    assert!(!dir.path().join("evil.toml").exists());
    assert!(!dir.path().join("abs-evil.toml").exists());
    assert_eq!(std::fs::read_dir(&cwd).unwrap().count(), 0);
}

#[test]
fn reports_draft_date_that_does_not_exist_is_named_with_the_expected_form() {
    let dir = tempfile::tempdir().unwrap();
    ratingwatch(dir.path())
        .args(["reports", "draft"])
        .arg(fixture("draft/zheshang-2023-02-14-chatgpt.txt"))
        .args(["--date", "2023-02-30"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`2023-02-30` is not a date; expected the form 2023-05-19"));
}

#[path = "../common/minimal_pdf.rs"]
mod minimal_pdf;

/// The report texts of `tests/fixtures/draft/` that have a PDF twin there.
const PDF_TWINS: [&str; 2] = ["zheshang-2023-02-14-chatgpt", "csc-style-five-tier"];

/// Each `tests/fixtures/draft/NAME.pdf` is `minimal_pdf::cjk` of `NAME.txt` (a Type0
/// Identity-H font with a ToUnicode map, tabs as gaps on the page): regenerated with
/// `RATINGWATCH_WRITE_FIXTURES=1 cargo test --test it pdf_fixtures`.
#[test]
fn the_pdf_fixtures_are_their_texts_written_as_pdf() {
    for name in PDF_TWINS {
        let text = std::fs::read_to_string(fixture(&format!("draft/{name}.txt"))).unwrap();
        let pdf = minimal_pdf::cjk(&text);
        let path = fixture(&format!("draft/{name}.pdf"));
        if std::env::var_os("RATINGWATCH_WRITE_FIXTURES").is_some() {
            std::fs::write(&path, &pdf).unwrap();
        }
        assert!(std::fs::read(&path).unwrap() == pdf, "{} differs from its text; regenerate it (see this test's comment)", path.display());
    }
}

/// A drafted file without its `# Drafted by … from FILE.` line, which names the input.
fn without_source_line(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap().lines().filter(|line| !line.starts_with("# Drafted by")).collect::<Vec<_>>().join("\n")
}

#[test]
fn a_pdf_drafts_the_same_report_as_its_text() {
    let dir = tempfile::tempdir().unwrap();
    import_instruments(dir.path());
    let draft = |input: PathBuf, out: &Path, companies: &str| {
        ratingwatch(dir.path())
            .args(["reports", "draft"])
            .arg(input)
            .arg("--out")
            .arg(out)
            .assert()
            .success()
            .stdout(predicate::str::contains(companies));
    };
    // The seed: 45 companies in 5 sectors (the table's tag 算力散热/配套 included); the
    // five-tier report: 2 companies in 2 sectors.
    for (name, companies) in PDF_TWINS.iter().zip(["with 45 companies in 5 sectors", "with 2 companies in 2 sectors"]) {
        let (from_text, from_pdf) = (dir.path().join(format!("{name}.text.toml")), dir.path().join(format!("{name}.pdf.toml")));
        draft(fixture(&format!("draft/{name}.txt")), &from_text, companies);
        draft(fixture(&format!("draft/{name}.pdf")), &from_pdf, companies);
        assert_eq!(without_source_line(&from_pdf), without_source_line(&from_text), "{name}");
        let source = std::fs::read_to_string(&from_pdf).unwrap();
        assert!(source.contains(&format!("# Drafted by `ratingwatch reports draft` from {name}.pdf.")), "{source}");
    }
    let seed = catalog::load_report(&dir.path().join("zheshang-2023-02-14-chatgpt.pdf.toml")).unwrap();
    assert_eq!(structure(&seed), structure(&seed_report()));
    // A PDF is told by its header, not its name: the seed PDF under a .txt name drafts the same.
    let renamed = dir.path().join("seed-as.txt");
    std::fs::copy(fixture("draft/zheshang-2023-02-14-chatgpt.pdf"), &renamed).unwrap();
    let from_renamed = dir.path().join("renamed.toml");
    draft(renamed, &from_renamed, "with 45 companies in 5 sectors");
    assert_eq!(without_source_line(&from_renamed), without_source_line(&dir.path().join("zheshang-2023-02-14-chatgpt.text.toml")));
}

#[test]
fn a_pdf_that_cannot_be_read_is_an_error_naming_the_file_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    import_instruments(dir.path());
    let whole = std::fs::read(fixture("draft/csc-style-five-tier.pdf")).unwrap();
    let text = std::fs::read_to_string(fixture("draft/csc-style-five-tier.txt")).unwrap();
    let cases: [(&str, Vec<u8>, &str); 5] = [
        // Cut in the middle of its objects: no cross-reference table, no trailer.
        ("truncated.pdf", whole[..whole.len() / 2].to_vec(), "cannot be read as a PDF"),
        ("garbage.pdf", b"%PDF-1.7\n\x00\xff\xfe not a PDF body\n%%EOF\n".to_vec(), "cannot be read as a PDF"),
        // Named .pdf without the header: refused, not read as text.
        ("renamed.pdf", "相关标的：中国移动。".as_bytes().to_vec(), "is named .pdf but does not start with a PDF header (`%PDF-`)"),
        // A font whose codes map to nothing: no text, refused rather than drafted empty.
        ("no-unicode-map.pdf", minimal_pdf::cjk_without_unicode_map(&text), "holds no extractable text"),
        // A font the extractor cannot handle (a Type0 font without its CID font): its panic
        // becomes the error, and prints nothing.
        (
            "bad-font.pdf",
            replace_bytes(&whole, b"/DescendantFonts [4 0 R]", b"/DescendantFonts [     ]"),
            "made the PDF text extractor fail",
        ),
    ];
    for (name, bytes, message) in cases {
        let input = dir.path().join(name);
        std::fs::write(&input, &bytes).unwrap();
        let out = dir.path().join("drafts").join(format!("{name}.toml"));
        let output = ratingwatch(dir.path()).args(["reports", "draft"]).arg(&input).arg("--out").arg(&out).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(&format!("{} {message}", input.display())), "{name}: {stderr}");
        assert!(!stderr.contains("panicked"), "{name}: the extractor's panic is not printed: {stderr}");
        assert!(output.stdout.is_empty(), "{name}: {}", String::from_utf8_lossy(&output.stdout));
        assert!(!dir.path().join("drafts").exists(), "{name}: nothing is written");
    }
}

/// `bytes` with the one occurrence of `from` replaced by `to`, of the same length (so the
/// cross-reference table's offsets stay right).
fn replace_bytes(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let at = bytes.windows(from.len()).position(|window| window == from).expect("the bytes to replace");
    let mut out = bytes.to_vec();
    out[at..at + from.len()].copy_from_slice(to);
    out
}
