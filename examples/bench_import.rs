//! CSV import throughput: ratingwatch's parser + one-transaction prepared-statement insert,
//! against `sqlite3`'s own `.import` of the same file.
//!
//! ```text
//! cargo run --release --example bench_import -- [ROWS]      # default 1000000
//! ```
//!
//! Writes a deterministic CSV of ROWS daily bars (one row per calendar day from 0001-01-01,
//! `today` is set far ahead so no row counts as future) to a temp folder, then times:
//! 1. `csv_import::parse_prices` + `Store::upsert_bars` into a fresh on-disk database
//!    (validation, one IMMEDIATE transaction, prepared statements);
//! 2. `sqlite3 DB ".mode csv" ".import FILE raw_bars"` into a fresh database (no validation,
//!    no constraints), when the `sqlite3` command is on PATH.

use std::io::Write;
use std::time::Instant;

use chrono::{Days, NaiveDate, Utc};
use ratingwatch::csv_import::parse_prices;
use ratingwatch::prices::AdjBasis;
use ratingwatch::store::{SeriesWrite, Store};
use ratingwatch::symbol::Symbol;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rows: u64 = std::env::args().nth(1).map(|s| s.parse()).transpose()?.unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let csv_path = dir.path().join("bars.csv");
    let first = NaiveDate::from_ymd_opt(1, 1, 1).ok_or("date")?;
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&csv_path)?);
        writeln!(out, "date,open,high,low,close,volume,adj_close")?;
        for i in 0..rows {
            let date = first.checked_add_days(Days::new(i)).ok_or("date overflow")?;
            // A smooth positive price path; values only need to be valid.
            let close = 50.0 + 10.0 * ((i as f64) / 97.0).sin();
            writeln!(
                out,
                "{date},{:.2},{:.2},{:.2},{close:.2},{},{:.4}",
                close - 0.5,
                close + 1.0,
                close - 1.0,
                1000 + i % 5000,
                close * 1.25
            )?;
        }
    }
    let size = std::fs::metadata(&csv_path)?.len();
    println!("{rows} rows, {:.1} MB CSV", size as f64 / 1e6);
    let today = NaiveDate::from_ymd_opt(9999, 12, 31).ok_or("date")?;
    let symbol = Symbol::parse("600941.SH")?;

    let started = Instant::now();
    let parsed = parse_prices(&csv_path, std::io::BufReader::new(std::fs::File::open(&csv_path)?), today)?;
    let parse_secs = started.elapsed().as_secs_f64();
    let mut store = Store::open(&dir.path().join("ratingwatch.db"))?;
    store.ensure_security(&symbol)?;
    let stats = store.upsert_bars(&SeriesWrite::new(&symbol, &parsed.bars, "csv", AdjBasis::Imported, today, Utc::now()))?;
    let total_secs = started.elapsed().as_secs_f64();
    assert_eq!(stats.added as u64, rows);
    println!(
        "ratingwatch import: {total_secs:.2} s ({:.0} rows/s; parse {parse_secs:.2} s, store {:.2} s)",
        rows as f64 / total_secs,
        total_secs - parse_secs
    );

    let sqlite_db = dir.path().join("sqlite3.db");
    let started = Instant::now();
    let status = std::process::Command::new("sqlite3")
        .arg(&sqlite_db)
        .arg(".mode csv")
        .arg(format!(".import {} raw_bars", csv_path.display()))
        .status();
    match status {
        Ok(status) if status.success() => {
            let secs = started.elapsed().as_secs_f64();
            println!("sqlite3 .import:    {secs:.2} s ({:.0} rows/s; no validation, no keys)", rows as f64 / secs);
        }
        Ok(status) => println!("sqlite3 .import failed: {status}"),
        Err(e) => println!("sqlite3 not run: {e}"),
    }
    Ok(())
}
