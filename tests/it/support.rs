//! Shared test helpers: temp databases with the real migrations and the seed report,
//! and the real binary run against them.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use ratingwatch::catalog;
use ratingwatch::store::Store;

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
