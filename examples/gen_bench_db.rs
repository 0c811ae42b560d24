//! Generates the benchmark database of issue 4: 5,000 securities × 20 years of daily bars
//! (~26 M rows) and one report whose five sectors hold all 5,000.
//!
//! ```text
//! cargo run --release --example gen_bench_db -- PATH [SECURITIES]      # default 5000
//! cargo build --release --bin ratingwatch --example analysis_json
//! /usr/bin/time -v target/release/ratingwatch --db PATH verdict bench-5000 --as-of 2023-12-31 --format json > /dev/null
//! /usr/bin/time -v target/release/ratingwatch --db PATH report --report bench-5000 --week 2023-W20 --format json > /dev/null
//! # the same without rendering, straight from `pipeline`:
//! /usr/bin/time -v target/release/examples/analysis_json PATH verdict bench-5000 2023-12-31 > /dev/null
//! /usr/bin/time -v target/release/examples/analysis_json PATH weekly bench-5000 2023-W20 > /dev/null
//! ```
//!
//! What is generated (deterministic: the same PATH content every run):
//! - Securities: 80 % A-shares (half `6xxxxx.SH`, half `0xxxxx.SZ`), 12 % Hong Kong, 8 % US;
//!   every weekday from 2006-01-02 to 2025-12-31, except that HK skips one weekday in 17 and
//!   the US one in 23, so the as-of lookups cross different calendars. Prices are random
//!   walks; `adj_close` is the close.
//! - The benchmark `000300.SH` and `USDCNY.FX`, `HKDCNY.FX` on every weekday.
//! - Report `bench-5000`, dated 2023-02-14 (T1 2023-08-14), rated 看好: company i is in
//!   sector i mod 5, and every tenth company also in the next sector.
//!
//! Writes go through the store's public API (`load_report`, `upsert_bars`): one IMMEDIATE
//! transaction of prepared-statement inserts per security, which also packs the security's
//! `close_chunks` (the verdict's read). One transaction for all 26 M rows
//! would not be faster in WAL mode (commits do not sync) but would grow the WAL file to the
//! size of the whole database before its checkpoint.
//! PATH must not exist. Expect a few minutes and ~3 GB on disk.

use std::path::PathBuf;
use std::time::Instant;

use chrono::{Datelike, Days, NaiveDate, Utc, Weekday};
use ratingwatch::catalog::{Company, Label, Member, Rating, RatingRule, ReportDef, Sector};
use ratingwatch::prices::{AdjBasis, Bar};
use ratingwatch::store::{SeriesWrite, Store};
use ratingwatch::symbol::{Market, Symbol};

const REPORT_ID: &str = "bench-5000";
const SECTORS: usize = 5;

/// xorshift64*: deterministic, fast, good enough for price noise.
struct Noise(u64);

impl Noise {
    /// Uniform in [-1, 1).
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let bits = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
        bits as f64 / (1u64 << 52) as f64 - 1.0
    }
}

fn symbol_for(index: usize, count: usize) -> Result<Symbol, Box<dyn std::error::Error>> {
    let a_shares = count * 8 / 10;
    let hong_kong = count * 12 / 100;
    Ok(if index < a_shares / 2 {
        Symbol::new(&format!("{:06}", 600_000 + index), Market::Sh)?
    } else if index < a_shares {
        Symbol::new(&format!("{:06}", 1 + index - a_shares / 2), Market::Sz)?
    } else if index < a_shares + hong_kong {
        Symbol::new(&format!("{}", 1 + index - a_shares), Market::Hk)?
    } else {
        // Four-letter tickers from a base-26 count: BAAA, BAAB, …
        let mut n = index - a_shares - hong_kong;
        let mut ticker = String::from("B");
        for _ in 0..3 {
            ticker.insert(1, char::from(b'A' + (n % 26) as u8));
            n /= 26;
        }
        Symbol::new(&ticker, Market::Us)?
    })
}

fn label(zh: &str, en: &str) -> Label {
    Label { zh: zh.to_string(), en: en.to_string() }
}

fn report(symbols: &[Symbol]) -> Result<ReportDef, Box<dyn std::error::Error>> {
    let companies: Vec<Company> = symbols
        .iter()
        .enumerate()
        .map(|(i, symbol)| Company {
            symbol: symbol.clone(),
            name: format!("公司{i}"),
            name_en: format!("Company {i}"),
            alternates: vec![],
        })
        .collect();
    let sectors = (0..SECTORS)
        .map(|s| Sector {
            name: format!("板块{}", s + 1),
            name_en: format!("Sector {}", s + 1),
            members: symbols
                .iter()
                .enumerate()
                .filter(|(i, _)| i % SECTORS == s || (i % 10 == 0 && (i + 1) % SECTORS == s))
                .map(|(_, symbol)| Member { symbol: symbol.clone(), tags: vec![] })
                .collect(),
        })
        .collect();
    Ok(ReportDef {
        id: REPORT_ID.to_string(),
        title: "Benchmark report, 5,000 companies".to_string(),
        broker: "ratingwatch".to_string(),
        report_date: NaiveDate::from_ymd_opt(2023, 2, 14).ok_or("date")?,
        rating: Rating(0),
        rule: RatingRule::three_tier(
            Symbol::parse("000300.SH")?,
            "沪深300",
            6,
            1000,
            -1000,
            [label("看好", "overweight"), label("中性", "neutral"), label("看淡", "underweight")],
        ),
        companies,
        sectors,
        fx: vec![Symbol::parse("USDCNY.FX")?, Symbol::parse("HKDCNY.FX")?],
    })
}

/// A random walk over `days`, skipping day k when `skip(k)`; `volatility` is the largest
/// daily move as a fraction.
fn walk(days: &[NaiveDate], seed: u64, start: f64, volatility: f64, skip: impl Fn(usize) -> bool) -> Vec<Bar> {
    let mut noise = Noise(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut close = start;
    let mut bars = Vec::with_capacity(days.len());
    for (k, &date) in days.iter().enumerate() {
        let open = close;
        close = (close * (1.0 + volatility * noise.next())).max(0.01);
        if skip(k) {
            continue;
        }
        let high = open.max(close) * (1.0 + 0.005 * (1.0 + noise.next()));
        let low = open.min(close) * (1.0 - 0.005 * (1.0 + noise.next()));
        let volume = (1.0e6 * (2.0 + noise.next())).round();
        bars.push(Bar { date, open: Some(open), high: Some(high), low: Some(low), close, volume: Some(volume), adj_close: close });
    }
    bars
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(args.next().ok_or("usage: gen_bench_db PATH [SECURITIES]")?);
    let count: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(5000);
    if path.exists() {
        return Err(format!("{} exists; give a new path", path.display()).into());
    }
    let first = NaiveDate::from_ymd_opt(2006, 1, 2).ok_or("date")?;
    let last = NaiveDate::from_ymd_opt(2025, 12, 31).ok_or("date")?;
    let days: Vec<NaiveDate> =
        first.iter_days().take_while(|d| *d <= last).filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)).collect();
    let today = last.checked_add_days(Days::new(1)).ok_or("date")?;
    let started = Instant::now();

    let symbols: Vec<Symbol> = (0..count).map(|i| symbol_for(i, count)).collect::<Result<_, _>>()?;
    let mut store = Store::open(&path)?;
    let report = report(&symbols)?;
    store.load_report(&report, Utc::now())?;

    let now = Utc::now();
    let benchmark = walk(&days, 300, 3000.0, 0.015, |_| false).into_iter().map(|b| Bar { open: None, ..b }).collect::<Vec<_>>();
    store.upsert_bars(&SeriesWrite::new(&report.rule.benchmark, &benchmark, "bench", AdjBasis::None, today, now))?;
    for (pair, seed, level) in [("USDCNY.FX", 1, 6.9), ("HKDCNY.FX", 2, 0.88)] {
        let rates: Vec<Bar> = walk(&days, seed, level, 0.002, |_| false).into_iter().map(|b| Bar::close_only(b.date, b.close)).collect();
        store.upsert_bars(&SeriesWrite::new(&Symbol::parse(pair)?, &rates, "bench", AdjBasis::None, today, now))?;
    }
    let mut rows = benchmark.len();
    for (i, symbol) in symbols.iter().enumerate() {
        let bars = match symbol.market() {
            Market::Hk => walk(&days, 1000 + i as u64, 50.0, 0.04, |k| k % 17 == 3),
            Market::Us => walk(&days, 1000 + i as u64, 80.0, 0.04, |k| k % 23 == 5),
            _ => walk(&days, 1000 + i as u64, 20.0, 0.04, |_| false),
        };
        rows += bars.len();
        store.upsert_bars(&SeriesWrite::new(symbol, &bars, "bench", AdjBasis::Imported, today, now))?;
        if (i + 1) % 500 == 0 {
            eprintln!("{} securities, {rows} bars, {:.0} s", i + 1, started.elapsed().as_secs_f64());
        }
    }
    let size = std::fs::metadata(&path)?.len();
    println!(
        "{}: {count} securities, {rows} bars ({} weekdays, {first} to {last}), report {REPORT_ID}; {:.1} GB in {:.0} s",
        path.display(),
        days.len(),
        size as f64 / 1e9,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
