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
