//! CLI tests for the foundation commands (init, watchlist, reports, import, export, config),
//! run through the real binary against temp databases.

use std::path::Path;

use predicates::prelude::*;
use serde_json::Value;

use crate::support::{ratingwatch, seed_report_path};

fn watchlist_json(dir: &Path) -> Vec<Value> {
    let output = ratingwatch(dir).args(["watchlist", "list", "--format", "json"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

fn entry<'a>(list: &'a [Value], symbol: &str) -> &'a Value {
    list.iter().find(|e| e["symbol"] == symbol).unwrap_or_else(|| panic!("{symbol} not listed"))
}

fn strings(value: &Value) -> Vec<&str> {
    value.as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect()
}

#[test]
fn init_then_watchlist_lists_the_seed() {
    let dir = tempfile::tempdir().unwrap();
    ratingwatch(dir.path()).arg("init").assert().success().stdout(predicate::str::contains("zheshang-2023-02-14-chatgpt: added"));
    let list = watchlist_json(dir.path());
    assert_eq!(list.len(), 45);
    // 百度 is in the three sectors the report lists it under (see catalog tests).
    assert_eq!(strings(&entry(&list, "9888.HK")["sectors"]), ["深度学习框架", "深度学习大模型", "应用"]);
    for optical in ["300308.SZ", "300394.SZ"] {
        assert_eq!(strings(&entry(&list, optical)["sectors"]), ["芯片算力", "通信"], "{optical}");
    }
    for operator in ["600941.SH", "601728.SH", "600050.SH"] {
        let tags = strings(&entry(&list, operator)["tags"]);
        assert!(tags.contains(&"算力调度") && tags.contains(&"算力供给"), "{operator}: {tags:?}");
    }
    let tencent = entry(&list, "0700.HK");
    assert_eq!(
        (tencent["market"].as_str(), tencent["currency"].as_str(), tencent["name"].as_str()),
        (Some("HK"), Some("HKD"), Some("腾讯"))
    );
}

#[test]
fn init_is_idempotent_and_an_edited_report_updates_memberships() {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    std::fs::create_dir(&reports).unwrap();
    let seed = std::fs::read_to_string(seed_report_path()).unwrap();
    std::fs::write(reports.join("seed.toml"), &seed).unwrap();
    let run_init = || ratingwatch(dir.path()).env("RATINGWATCH__REPORTS__DIR", &reports).arg("init").assert().success();
    run_init();
    let first = watchlist_json(dir.path());
    run_init().stdout(predicate::str::contains("unchanged"));
    assert_eq!(watchlist_json(dir.path()), first);

    // Drop 高澜股份 from 通信 (and its tag): the company leaves the watchlist.
    let edited = seed.replacen("    \"300499.SZ\",  # 高澜股份\n", "", 1).replacen(
        "\"算力散热/配套\" = [\"002837.SZ\", \"300499.SZ\"]",
        "\"算力散热/配套\" = [\"002837.SZ\"]",
        1,
    );
    assert_ne!(edited, seed);
    std::fs::write(
        reports.join("seed.toml"),
        edited.replacen("[[companies]]\nsymbol = \"300499.SZ\"\nname = \"高澜股份\"\nname_en = \"Goaland\"\n", "", 1),
    )
    .unwrap();
    run_init().stdout(predicate::str::contains("updated"));
    let second = watchlist_json(dir.path());
    assert_eq!((first.len(), second.len()), (45, 44));
    assert!(second.iter().all(|e| e["symbol"] != "300499.SZ"));
}

#[test]
fn invalid_report_files_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    std::fs::create_dir(&reports).unwrap();
    let seed = std::fs::read_to_string(seed_report_path()).unwrap();
    std::fs::write(reports.join("a.toml"), &seed).unwrap();
    let init = || ratingwatch(dir.path()).env("RATINGWATCH__REPORTS__DIR", &reports).arg("init").assert();
    init().success();
    let reports_before = ratingwatch(dir.path()).args(["reports", "list", "--format", "json"]).output().unwrap().stdout;
    let watchlist_before = watchlist_json(dir.path());

    // Each edit also renames 腾讯, so a partial load would show in the watchlist.
    let renamed = seed.replacen("name = \"腾讯\"", "name = \"腾讯控股\"", 1);
    let cases: [(&str, String, &str); 6] = [
        ("bad symbol", renamed.replacen("symbol = \"688041.SH\"", "symbol = \"688041.XX\"", 1), "unknown market suffix `.XX`"),
        ("duplicate company", renamed.replacen("symbol = \"300474.SZ\"", "symbol = \"688041.SH\"", 1), "duplicate company 688041.SH"),
        ("unknown member", renamed.replacen("\"688041.SH\",", "\"600000.SH\",", 1), "600000.SH, which is not a primary listing"),
        ("thresholds", renamed.replacen("lower_pp = -10.0", "lower_pp = 20.0", 1), "thresholds out of order"),
        ("missing rating", renamed.replacen("rating = \"看好\"\n", "", 1), "missing field `rating`"),
        (
            "bad date",
            renamed.replacen("report_date = 2023-02-14", "report_date = \"2023-02-30\"", 1),
            "report_date must be a date like 2023-02-14",
        ),
    ];
    for (case, text, message) in cases {
        assert_ne!(text, renamed, "{case}: the edit must apply");
        std::fs::write(reports.join("a.toml"), text).unwrap();
        init().code(2).stderr(predicate::str::contains("a.toml:").and(predicate::str::contains(message)));
        let reports_after = ratingwatch(dir.path()).args(["reports", "list", "--format", "json"]).output().unwrap().stdout;
        assert_eq!(reports_after, reports_before, "{case}");
        assert_eq!(watchlist_json(dir.path()), watchlist_before, "{case}");
    }
}

#[test]
fn one_invalid_file_stops_every_file_from_loading() {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    std::fs::create_dir(&reports).unwrap();
    let seed = std::fs::read_to_string(seed_report_path()).unwrap();
    std::fs::write(reports.join("a.toml"), &seed).unwrap();
    let bad =
        seed.replacen("id = \"zheshang-2023-02-14-chatgpt\"", "id = \"second\"", 1).replacen("lower_pp = -10.0", "lower_pp = 20.0", 1);
    std::fs::write(reports.join("b.toml"), bad).unwrap();
    ratingwatch(dir.path())
        .env("RATINGWATCH__REPORTS__DIR", &reports)
        .arg("init")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("b.toml:").and(predicate::str::contains("thresholds out of order")));
    // Every file is validated before any is loaded, and before the database is created:
    // the valid a.toml did not land either, and no empty database was left behind.
    assert!(!dir.path().join("test.db").exists());
}

const CSV: &str = "date,open,high,low,close,volume,adj_close\n\
2023-02-13,10,11,9,10.5,1000,5.25\n\
2023-02-14,10.5,11.5,10,11,2000,5.5\n";

#[test]
fn import_then_export_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("p.csv");
    std::fs::write(&file, CSV).unwrap();
    ratingwatch(dir.path())
        .args(["import", "prices", "--symbol", "sh600941"])
        .arg(&file)
        .assert()
        .success()
        .stdout(predicate::str::contains("600941.SH: 2 rows").and(predicate::str::contains("2 added, 0 replaced")));
    ratingwatch(dir.path())
        .args(["export", "prices", "--symbol", "600941.SH"])
        .assert()
        .success()
        .stdout("date,open,high,low,close,volume,adj_close\n2023-02-13,10,11,9,10.5,1000,5.25\n2023-02-14,10.5,11.5,10,11,2000,5.5\n");
    ratingwatch::store::Store::open_existing(&dir.path().join("test.db")).unwrap().verify_close_chunks().unwrap();
}

#[test]
fn bad_csv_names_line_and_column_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.csv");
    std::fs::write(&good, CSV).unwrap();
    ratingwatch(dir.path()).args(["import", "prices", "--symbol", "600941.SH"]).arg(&good).assert().success();
    let bad = dir.path().join("bad.csv");
    // Row 3 revises the 14th (would be written), row 4 is bad: nothing may land.
    std::fs::write(&bad, "date,open,high,low,close,volume,adj_close\n2023-02-14,99,99,99,99,1,99\n2023-02-15,1,1,1,abc,1,1\n").unwrap();
    ratingwatch(dir.path())
        .args(["import", "prices", "--symbol", "600941.SH"])
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.csv:3: column close: `abc` is not a number"));
    ratingwatch(dir.path())
        .args(["export", "prices", "--symbol", "600941.SH"])
        .assert()
        .success()
        .stdout(predicate::str::contains("2023-02-14,10.5,11.5,10,11,2000,5.5"));
    // The packed closes the verdict reads hold what the import left, nothing of the refused file.
    ratingwatch::store::Store::open_existing(&dir.path().join("test.db")).unwrap().verify_close_chunks().unwrap();
}

#[test]
fn missing_reports_folder_falls_back_to_the_embedded_seed() {
    let dir = tempfile::tempdir().unwrap();
    ratingwatch(dir.path())
        .env("RATINGWATCH__REPORTS__DIR", dir.path().join("nowhere"))
        .arg("init")
        .assert()
        .success()
        .stdout(predicate::str::contains("zheshang-2023-02-14-chatgpt: added"));
    assert_eq!(watchlist_json(dir.path()).len(), 45);
}

#[test]
fn unknown_symbol_form_shows_an_example() {
    let dir = tempfile::tempdir().unwrap();
    ratingwatch(dir.path())
        .args(["watchlist", "add", "60094x", "--sector", "通信"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`60094x` is not a symbol").and(predicate::str::contains("600941.SH")));
}

#[test]
fn watchlist_add_and_remove() {
    let dir = tempfile::tempdir().unwrap();
    ratingwatch(dir.path()).arg("init").assert().success();
    ratingwatch(dir.path())
        .args(["watchlist", "add", "0941.hk", "--sector", "通信", "--name", "中国移动H", "--tag", "算力调度"])
        .assert()
        .success()
        // The seed came from data/reports/: the database now differs from that file, and
        // `init` would undo the change.
        .stdout(predicate::str::contains("note: report zheshang-2023-02-14-chatgpt's basket now differs from its file in"))
        .stdout(predicate::str::contains("(sector 通信: 0941.HK join); `ratingwatch init` loads the file again"));
    let list = watchlist_json(dir.path());
    assert_eq!(list.len(), 46);
    assert_eq!(strings(&entry(&list, "0941.HK")["tags"]), ["算力调度"]);
    ratingwatch(dir.path())
        .args(["watchlist", "add", "0941.HK", "--sector", "通信"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already in sector"));
    ratingwatch(dir.path())
        .args(["watchlist", "add", "MSFT", "--sector", "不存在"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no sector `不存在`"));
    ratingwatch(dir.path()).args(["watchlist", "remove", "9888.HK", "--sector", "应用"]).assert().success();
    let baidu = watchlist_json(dir.path());
    assert_eq!(strings(&entry(&baidu, "9888.HK")["sectors"]), ["深度学习框架", "深度学习大模型"]);
    ratingwatch(dir.path())
        .args(["watchlist", "remove", "0941.HK"])
        .assert()
        .success()
        .stdout(predicate::str::contains("(sector 应用: 9888.HK leave)"));
    assert_eq!(watchlist_json(dir.path()).len(), 45);
    // Back as the file has it: no note.
    ratingwatch(dir.path())
        .args(["watchlist", "add", "9888.HK", "--sector", "应用"])
        .assert()
        .success()
        .stdout(predicate::str::contains("note:").not());
}

#[test]
fn config_show_and_unknown_key() {
    let dir = tempfile::tempdir().unwrap();
    ratingwatch(dir.path())
        .args(["config", "show"])
        .env("RATINGWATCH__SYNC__CONCURRENCY", "7")
        .assert()
        .success()
        .stdout(predicate::str::contains("concurrency = 7").and(predicate::str::contains("timezone = \"Asia/Shanghai\"")));
    let config = dir.path().join("c.toml");
    std::fs::write(&config, "[output]\ndir = \"x\"\ndirectory = \"y\"\n").unwrap();
    ratingwatch(dir.path())
        .arg("--config")
        .arg(&config)
        .args(["config", "show"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("c.toml").and(predicate::str::contains("directory")).and(predicate::str::contains("line 3")));
}

#[test]
fn read_commands_on_a_missing_database_exit_2_naming_it_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("no").join("such").join("dir").join("db.db");
    for args in [
        &["status"][..],
        &["verdict"],
        &["report"],
        &["reports", "list"],
        &["watchlist", "list"],
        &["watchlist", "add", "MSFT", "--sector", "应用"],
        &["export", "prices", "--symbol", "600941.SH"],
        &["notify", "outbox"],
    ] {
        let assert = ratingwatch(dir.path()).env("RATINGWATCH_DB", &database).args(args).assert().code(2);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        assert!(stderr.contains(&database.display().to_string()) && stderr.contains("does not exist"), "{args:?}: {stderr}");
        assert!(!dir.path().join("no").exists(), "{args:?} created a folder");
    }
}

#[test]
fn non_ascii_symbols_are_clean_errors_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    ratingwatch(dir.path()).arg("init").assert().success();
    std::fs::write(dir.path().join("p.csv"), CSV).unwrap();
    // `ééé` is six bytes: it once reached a byte slice at 3, inside a character (exit 101).
    for args in [
        &["sync", "--symbol", "ééé"][..],
        &["watchlist", "add", "ééé", "--sector", "通信"],
        &["import", "prices", "--symbol", "ééé", "p.csv"],
        &["export", "prices", "--symbol", "ééé.FX"],
    ] {
        ratingwatch(dir.path()).args(args).assert().code(2).stderr(predicate::str::contains("is not a symbol"));
    }
}

/// A bad symbol is a usage error of clap's (its `invalid value '…' for '…'` line, then the
/// symbol's own message), exit 2 as README's "Exit codes" says, before any file is opened or
/// written: the folder holds only the CSV file afterwards (no database, no export file).
#[rstest::rstest]
#[case::sync(&["sync", "--symbol", "600941.XX"], "'--symbol <SYMBOL>'")]
#[case::import_prices(&["import", "prices", "--symbol", "600941.XX", "p.csv"], "'--symbol <SYMBOL>'")]
#[case::export_prices(&["export", "prices", "--symbol", "600941.XX", "--output", "out.csv"], "'--symbol <SYMBOL>'")]
#[case::watchlist_add(&["watchlist", "add", "600941.XX", "--sector", "通信"], "'<SYMBOL>'")]
#[case::watchlist_remove(&["watchlist", "remove", "600941.XX"], "'<SYMBOL>'")]
fn a_bad_symbol_is_refused_by_clap_before_anything_is_opened(#[case] args: &[&str], #[case] argument: &str) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.csv"), CSV).unwrap();
    ratingwatch(dir.path())
        .args(args)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("invalid value '600941.XX' for {argument}")))
        .stderr(predicate::str::contains("is not a symbol"));
    let mut left: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    left.sort();
    assert_eq!(left, ["p.csv"], "{args:?}");
}

#[test]
fn importing_a_symbol_on_no_watchlist_needs_add() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.csv"), CSV).unwrap();
    ratingwatch(dir.path())
        .args(["import", "prices", "--symbol", "AAPL", "p.csv"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("AAPL.US is on no watchlist").and(predicate::str::contains("--add")));
    ratingwatch(dir.path())
        .args(["import", "prices", "--symbol", "AAPL", "--add", "p.csv"])
        .assert()
        .success()
        .stdout(predicate::str::contains("2 added"));
    // A watchlist member needs no flag.
    ratingwatch(dir.path()).args(["import", "prices", "--symbol", "600941.SH", "p.csv"]).assert().success();
}

#[test]
fn a_killed_cli_sync_is_not_shown_running_forever() {
    use std::net::TcpListener;
    let dir = tempfile::tempdir().unwrap();
    ratingwatch(dir.path()).arg("init").assert().success();
    // A host that accepts connections and never answers: the sync waits on its first request.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    let mut sync = std::process::Command::new(assert_cmd::cargo::cargo_bin("ratingwatch"));
    sync.current_dir(dir.path())
        .env_remove("RATINGWATCH_CONFIG")
        .env("RATINGWATCH_DB", dir.path().join("test.db"))
        .env("RATINGWATCH__REPORTS__DIR", std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/reports"))
        .args(["sync", "--symbol", "600941.SH"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    for provider in ["TENCENT", "EASTMONEY", "YAHOO"] {
        sync.env(format!("RATINGWATCH__PROVIDERS__{provider}__BASE_URL"), &url);
    }
    let mut child = sync.spawn().unwrap();
    let database = dir.path().join("test.db");
    let running =
        || ratingwatch::store::Store::open_existing(&database).unwrap().sync_runs(1).unwrap().first().map(|run| run.outcome.clone());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while running().as_deref() != Some("running") {
        assert!(std::time::Instant::now() < deadline, "the sync never started");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(running().as_deref(), Some("running"), "nothing has looked yet");
    // Any command that opens the store notices the run's process is gone.
    let output = ratingwatch(dir.path()).args(["status", "--format", "json"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(running().as_deref(), Some("interrupted"));
}

#[test]
fn a_week_without_prices_exits_2_saying_so() {
    let dir = tempfile::tempdir().unwrap();
    ratingwatch(dir.path()).arg("init").assert().success();
    // Made-up closes for one week (Mon 2023-02-13 to Fri 2023-02-17); only the dates matter.
    let week = "date,open,high,low,close,volume\n\
        2023-02-13,10,11,9,10,100\n2023-02-14,10,11,9,10.2,100\n2023-02-15,10,11,9,10.4,100\n\
        2023-02-16,10,11,9,10.6,100\n2023-02-17,10,11,9,10.8,100\n";
    std::fs::write(dir.path().join("week.csv"), week).unwrap();
    for symbol in ["000300.SH", "600941.SH"] {
        ratingwatch(dir.path()).args(["import", "prices", "--symbol", symbol, "week.csv"]).assert().success();
    }
    ratingwatch(dir.path()).args(["report", "--week", "2023-W07", "--format", "json"]).assert().success();
    // The next week has no session stored: it used to print 0.00 % everywhere and exit 0.
    ratingwatch(dir.path()).args(["report", "--week", "2023-W08"]).assert().code(2).stderr(
        predicate::str::contains("no prices in week 2023-W08 (2023-02-20 to 2023-02-24)").and(predicate::str::contains("2023-02-17")),
    );
}

#[test]
fn every_command_a_message_points_to_is_one_the_cli_accepts() {
    use clap::Parser;
    // Without `notify.report_url` a message points to the command that prints the whole
    // report; the rating-change message used to say `verdict --report ID`, which clap refused.
    let config = ratingwatch::config::NotifyConfig::default();
    for week in [Some("2023-W20"), None] {
        let pointer = ratingwatch::notify::events::pointer(&config, "small-2023-02-14", week);
        let words: Vec<&str> = pointer.split_whitespace().collect();
        assert_eq!(words[0], "ratingwatch", "{pointer}");
        if let Err(error) = ratingwatch::cli::Cli::try_parse_from(&words) {
            panic!("`{pointer}` is refused: {error}");
        }
    }
}

#[test]
fn verdict_takes_the_report_as_report_flag_like_every_other_command() {
    let dir = crate::support::small_report_folder(&[crate::support::small_report_path()]);
    let positional = crate::support::own_reports_stdout(dir.path(), &["verdict", "small-2023-02-14", "--as-of", "2023-08-31"]);
    let flagged = crate::support::own_reports_stdout(dir.path(), &["verdict", "--report", "small-2023-02-14", "--as-of", "2023-08-31"]);
    assert_eq!(flagged, positional);
    assert!(positional.contains("small-2023-02-14") || positional.contains("小型测试报告"), "{positional}");
    // Both at once is a usage error, not a silent choice of one.
    crate::support::ratingwatch_own_reports(dir.path())
        .args(["verdict", "small-2023-02-14", "--report", "small-2023-02-14"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot be used with"));
}

#[test]
fn output_files_honour_the_umask_so_a_web_server_can_serve_them() {
    use std::os::unix::fs::PermissionsExt;
    let dir = crate::support::small_report_folder(&[crate::support::small_report_path()]);
    for (umask, expected) in [("022", 0o644), ("077", 0o600)] {
        let out = dir.path().join(format!("verdict-{umask}.md"));
        // The umask is set for the child only (a shell that then execs the binary).
        let mut command = std::process::Command::new("sh");
        command.arg("-c").arg(format!("umask {umask} && exec \"$0\" \"$@\"")).arg(assert_cmd::cargo::cargo_bin("ratingwatch"));
        let mut command = assert_cmd::Command::from_std(command);
        command
            .current_dir(dir.path())
            .env("RATINGWATCH_DB", dir.path().join("test.db"))
            .env("RATINGWATCH__REPORTS__DIR", dir.path().join("reports"))
            .args(["verdict", "--report", "small-2023-02-14", "--as-of", "2023-08-31", "--format", "markdown", "--output"])
            .arg(&out)
            .assert()
            .success();
        let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, expected, "umask {umask}: mode {mode:o}");
    }
}

#[test]
fn reports_add_over_a_loaded_report_refuses_without_replace_and_then_says_what_changes() {
    let dir = tempfile::tempdir().unwrap();
    // No reports folder: init loads the built-in seed.
    let run = || {
        let mut command = ratingwatch(dir.path());
        command.env("RATINGWATCH__REPORTS__DIR", dir.path().join("reports"));
        command
    };
    run().arg("init").assert().success();
    let seed = std::fs::read_to_string(seed_report_path()).unwrap();
    // The same report, two sectors without their (now optional) English names.
    let edited: String = seed
        .lines()
        .filter(|line| !(line.starts_with("name_en = \"chips & compute\"") || line.starts_with("name_en = \"deep-learning frameworks\"")))
        .map(|line| format!("{line}\n"))
        .collect();
    assert_eq!(edited.lines().count() + 2, seed.lines().count());
    let file = dir.path().join("edited.toml");
    std::fs::write(&file, &edited).unwrap();
    // Before: `updated`, and the English names silently gone from every table.
    run()
        .args(["reports", "add"])
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("report `zheshang-2023-02-14-chatgpt` is already loaded"))
        .stderr(predicate::str::contains("sector 芯片算力: English name `chips & compute` → ``"))
        .stderr(predicate::str::contains("sector 深度学习框架: English name `deep-learning frameworks` → ``"))
        .stderr(predicate::str::contains("--replace"));
    assert!(!dir.path().join("reports").exists(), "nothing written");
    // The unchanged seed is no change at all: accepted without --replace.
    let same = dir.path().join("same.toml");
    std::fs::write(&same, &seed).unwrap();
    run().args(["reports", "add"]).arg(&same).assert().success().stdout(predicate::str::contains("unchanged"));
    // With --replace it loads, and lists the two changes under its summary line.
    run().args(["reports", "add", "--replace"]).arg(&file).assert().success().stdout(
        predicate::str::contains("updated").and(predicate::str::contains("  sector 芯片算力: English name `chips & compute` → ``")),
    );
}

#[test]
fn every_command_and_argument_has_a_help_line() {
    use clap::CommandFactory;
    fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for arg in command.get_arguments() {
            let id = arg.get_id().as_str();
            if id != "help" && id != "version" && arg.get_help().is_none() && arg.get_long_help().is_none() {
                missing.push(format!("{path} {id}"));
            }
        }
        for sub in command.get_subcommands() {
            let sub_path = format!("{path} {}", sub.get_name());
            if sub.get_name() != "help" && sub.get_about().is_none() {
                missing.push(sub_path.clone());
            }
            walk(sub, &sub_path, missing);
        }
    }
    let mut missing = Vec::new();
    walk(&ratingwatch::cli::Cli::command(), "ratingwatch", &mut missing);
    assert!(missing.is_empty(), "no help line: {missing:#?}");
    // `reports --help` names what it does, not only listing.
    let about = ratingwatch::cli::Cli::command().find_subcommand("reports").unwrap().get_about().unwrap().to_string();
    assert!(about.contains("list") && about.contains("draft") && about.contains("add"), "{about}");
}

#[test]
fn import_prices_takes_files_and_folders_naming_each_symbol_after_its_file() {
    let dir = crate::support::small_report_folder(&[crate::support::small_report_path()]);
    let run = || crate::support::ratingwatch_own_reports(dir.path());
    // A folder of the small report's seven series (SMALL_REPORT_SERIES), each named SYMBOL.csv;
    // the report file beside them is not a .csv and is left alone.
    let copy = dir.path().join("prices");
    std::fs::create_dir(&copy).unwrap();
    for symbol in crate::support::SMALL_REPORT_SERIES {
        std::fs::copy(crate::support::small_report_series_path(symbol), copy.join(format!("{symbol}.csv"))).unwrap();
    }
    std::fs::write(copy.join("notes.txt"), "not prices").unwrap();
    // small_report_folder imported them once already: the same rows again replace nothing.
    let output = run().args(["import", "prices"]).arg(&copy).output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(stdout.lines().count(), 7, "one line per file: {stdout}");
    // Name order: 000300.SH first; 13 rows in its fixture file.
    assert!(stdout.lines().next().unwrap().starts_with("000300.SH: 13 rows from "), "{stdout}");
    assert!(stdout.contains("HKDCNY.FX: 4 rows"), "{stdout}");

    // A bad file among good ones: the good ones land, the bad one is named, exit 1.
    let mixed = dir.path().join("mixed");
    std::fs::create_dir(&mixed).unwrap();
    // 600941.SH's stored series has adjusted closes: the new row carries one too.
    std::fs::write(mixed.join("600941.SH.csv"), "date,open,high,low,close,volume,adj_close\n2023-08-15,50,51,49,50.5,100,50.5\n").unwrap();
    std::fs::write(mixed.join("300308.SZ.csv"), "date,open,high,low,close,volume\n2023-08-15,50,51,49,not-a-number,100\n").unwrap();
    let output = run().args(["import", "prices"]).arg(mixed.join("600941.SH.csv")).arg(mixed.join("300308.SZ.csv")).output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert_eq!(output.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("600941.SH: 1 rows") && stdout.contains("1 added"), "{stdout}");
    assert!(stderr.contains("300308.SZ.csv:2: column close") && stderr.contains("1 of 2 files not imported"), "{stderr}");
    let store = ratingwatch::store::Store::open_existing(&dir.path().join("test.db")).unwrap();
    let last = |symbol: &str| store.bar_stats(&symbol.parse().unwrap()).unwrap().unwrap().last.to_string();
    assert_eq!((last("600941.SH"), last("300308.SZ")), ("2023-08-15".to_string(), "2023-08-14".to_string()));
    store.verify_close_chunks().unwrap();

    // --symbol names one file only; a file whose name is not a symbol is refused before any write.
    run()
        .args(["import", "prices", "--symbol", "600941.SH"])
        .arg(&copy)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--symbol names the symbol of one file"));
    let odd = dir.path().join("prices-2023.csv");
    std::fs::copy(crate::support::small_report_series_path("600941.SH"), &odd).unwrap();
    run().args(["import", "prices"]).arg(&odd).assert().code(2).stderr(predicate::str::contains("the file name is not a symbol"));
}

#[test]
fn notify_send_event_and_instruments_market_are_parsed_by_clap() {
    let dir = tempfile::tempdir().unwrap();
    // Both are refused before any database is opened or created.
    ratingwatch(dir.path())
        .args(["notify", "send", "--event", "data_health"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`data_health` is not an event `notify send` queues"));
    ratingwatch(dir.path())
        .args(["instruments", "sync", "--market", "JP"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`JP` is not a market; use A, HK or US"));
    assert!(!dir.path().join("test.db").exists());
    // Any case is still a market.
    use clap::Parser;
    ratingwatch::cli::Cli::try_parse_from(["ratingwatch", "instruments", "sync", "--market", "hk"]).unwrap();
}
