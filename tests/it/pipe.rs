//! Issue 8, "no input may panic": output piped into a reader that stops early (`… | head -1`)
//! ends quietly. Each command runs the real binary with stdout on a pipe whose read end is
//! already closed, so its first write fails with `BrokenPipe` (Rust ignores SIGPIPE), the
//! case that made `print!` panic with exit 101.

use std::path::Path;
use std::process::Stdio;

use crate::support::{ratingwatch, ratingwatch_process, seeded_store};

/// Runs `args` with a closed stdout; returns the exit code and stderr.
fn run_into_closed_pipe(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = ratingwatch_process(dir).args(args).stdin(Stdio::null()).stdout(writer).stderr(Stdio::piped()).output().unwrap();
    (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[rstest::rstest]
#[case::watchlist_list(&["watchlist", "list"])]
#[case::watchlist_list_json(&["watchlist", "list", "--format", "json"])]
#[case::reports_list(&["reports", "list"])]
#[case::config_show(&["config", "show"])]
#[case::status(&["status"])]
#[case::export_prices(&["export", "prices", "--symbol", "600941.SH"])]
fn a_closed_stdout_ends_quietly_with_exit_0(#[case] args: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    seeded_store(dir.path());
    if args[0] == "export" {
        // Two made-up bars, so export has rows to print.
        let csv = dir.path().join("p.csv");
        std::fs::write(&csv, "date,open,high,low,close,volume\n2023-02-13,10,11,9,10.5,1000\n2023-02-14,10.5,11.5,10,11,2000\n").unwrap();
        ratingwatch(dir.path()).args(["import", "prices", "--symbol", "600941.SH"]).arg(&csv).assert().success();
    }
    // The same command with a live stdout prints something, so the closed pipe is really hit.
    let live = ratingwatch(dir.path()).args(args).assert().success();
    assert!(!live.get_output().stdout.is_empty(), "{args:?} printed nothing with a live stdout");

    let (code, stderr) = run_into_closed_pipe(dir.path(), args);
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    assert!(!stderr.contains("Broken pipe"), "{args:?} reported the closed pipe: {stderr}");
    assert_eq!(code, Some(0), "{args:?} exit code; stderr: {stderr}");
}

/// Runs `args` with a closed stderr (`… 2>&1 | head` after `head` left); returns the exit code
/// and stdout.
fn run_with_closed_stderr(dir: &Path, args: &[&str], log: &str) -> (Option<i32>, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = ratingwatch_process(dir)
        .env("RUST_LOG", log)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(writer)
        .output()
        .unwrap();
    (output.status.code(), String::from_utf8_lossy(&output.stdout).into_owned())
}

#[test]
fn a_closed_stderr_drops_log_and_note_lines_and_the_command_completes() {
    // Log lines: `init` at debug level logs (migrations, the report load) before it finishes.
    // tracing-subscriber used to report the failed write with `eprintln!`, which panicked
    // (exit 101) at the first log line: a sync piped into `head` stopped mid-run.
    let dir = tempfile::tempdir().unwrap();
    let live = ratingwatch(dir.path()).env("RUST_LOG", "debug").args(["init"]).assert().success();
    assert!(!live.get_output().stderr.is_empty(), "init logs nothing at debug level, so the closed stderr is not hit");
    let other = tempfile::tempdir().unwrap();
    let (code, stdout) = run_with_closed_stderr(other.path(), &["init"], "debug");
    assert_eq!(code, Some(0), "stdout: {stdout}");
    assert!(stdout.contains("report zheshang-2023-02-14-chatgpt: added"), "{stdout}");
    ratingwatch(other.path()).args(["reports", "list"]).assert().success().stdout(predicates::str::contains("zheshang-2023-02-14-chatgpt"));

    // A note line (`export prices --output` says on stderr what it wrote).
    let csv = dir.path().join("p.csv");
    std::fs::write(&csv, "date,open,high,low,close,volume\n2023-02-13,10,11,9,10.5,1000\n").unwrap();
    ratingwatch(dir.path()).args(["import", "prices", "--symbol", "600941.SH"]).arg(&csv).assert().success();
    let out = dir.path().join("out.csv");
    // With a live stderr the note is there, so the closed stderr below is really written to.
    let live = ratingwatch(dir.path()).args(["export", "prices", "--symbol", "600941.SH", "--output"]).arg(&out).assert().success();
    assert!(String::from_utf8_lossy(&live.get_output().stderr).contains("1 bars written to"), "no note on stderr");
    std::fs::remove_file(&out).unwrap();
    let (code, _) =
        run_with_closed_stderr(dir.path(), &["export", "prices", "--symbol", "600941.SH", "--output", out.to_str().unwrap()], "warn");
    assert_eq!(code, Some(0));
    assert!(std::fs::read_to_string(&out).unwrap().contains("2023-02-13"), "the file was written");
}
