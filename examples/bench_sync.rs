//! Sync throughput benchmark (issue 3, item 9).
//!
//! ```text
//! cargo run --release --example bench_sync -- [--securities 1000] [--delay-ms 50] [--concurrency 4,8,16,32] [--days 365]
//! ```
//!
//! The provider server example (`examples/provider_server/server.rs`, the same fake provider
//! server the integration tests use) on 127.0.0.1 speaks Tencent's `fqkline` format for any
//! Shanghai code and answers every request after `--delay-ms`. `--securities` synthetic Shanghai
//! securities are put on a watchlist in a fresh SQLite file (one per concurrency level), and
//! `sync::run_sync` — the real provider clients, rate limit and retries off, chain `cn =
//! ["tencent"]` — fetches `--days` calendar days of history for each. Printed per level: wall
//! time, the ideal `securities × delay / concurrency` (one request per security) and the ideal
//! for the requests actually sent (`requests × delay / concurrency`; Tencent needs one request
//! for prices as traded and one for the back-adjusted series), and bars stored per second.

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate, TimeZone, Utc, Weekday};
use ratingwatch::catalog::{Company, Member, ReportDef, Sector};
use ratingwatch::config::Config;
use ratingwatch::prices::Bar;
use ratingwatch::providers::Providers;
use ratingwatch::store::Store;
use ratingwatch::symbol::{Market, Symbol};
use ratingwatch::sync::{Selection, SyncOptions, run_sync};
use tokio_util::sync::CancellationToken;

// The provider server example's formats, routing and serving (the fake provider server the
// integration tests use too), here behind a synthetic `Source`.
#[allow(dead_code)]
#[path = "provider_server/server.rs"]
mod provider_server;
use provider_server::{Security, ServerState, Source, spawn};

struct Args {
    securities: usize,
    delay: Duration,
    concurrency: Vec<usize>,
    days: u64,
}

fn parse_args() -> Args {
    let mut args = Args { securities: 1000, delay: Duration::from_millis(50), concurrency: vec![4, 8, 16, 32], days: 365 };
    let mut iter = std::env::args().skip(1);
    while let Some(flag) = iter.next() {
        let value = iter.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--securities" => args.securities = value.parse().expect("--securities: a number"),
            "--delay-ms" => args.delay = Duration::from_millis(value.parse().expect("--delay-ms: a number")),
            "--concurrency" => args.concurrency = value.split(',').map(|c| c.parse().expect("--concurrency: numbers")).collect(),
            "--days" => args.days = value.parse().expect("--days: a number"),
            other => panic!("unknown flag {other} (known: --securities, --delay-ms, --concurrency, --days)"),
        }
    }
    assert!(args.securities <= 4000, "codes 600000..603999 hold at most 4000 securities");
    args
}

/// Any Shanghai code has one row per weekday in `[from, to]`: close `10 + 0.1 × (ordinal mod 50)`,
/// open/high/low 0.05/0.10/0.10 around it, 12,345 lots; the back-adjusted (hfq) prices are three
/// times those. Served by the provider server example's own module, in Tencent's format.
struct Synthetic {
    from: NaiveDate,
    to: NaiveDate,
}

impl Source for Synthetic {
    fn security(&self, symbol: &Symbol) -> Option<Cow<'_, Security>> {
        if symbol.market() != Market::Sh {
            return None;
        }
        let bar = |date: NaiveDate, factor: f64| {
            let close = (10.0 + f64::from(date.ordinal() % 50) * 0.1) * factor;
            Bar {
                date,
                open: Some(close - 0.05 * factor),
                high: Some(close + 0.1 * factor),
                low: Some(close - 0.1 * factor),
                close,
                volume: Some(1_234_500.0),
                adj_close: close,
            }
        };
        let days: Vec<NaiveDate> =
            self.from.iter_days().take_while(|d| *d <= self.to).filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)).collect();
        let raw = days.iter().map(|d| Bar { adj_close: 3.0 * bar(*d, 1.0).close, ..bar(*d, 1.0) }).collect();
        let hfq = days.iter().map(|d| bar(*d, 3.0)).collect();
        Some(Cow::Owned(Security { symbol: symbol.clone(), raw, hfq, qfq: Vec::new() }))
    }
}

/// A watchlist of `count` synthetic Shanghai securities (600000, 600001, …) in one report.
fn synthetic_report(count: usize) -> ReportDef {
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/reports/zheshang-2023-02-14-chatgpt.toml");
    let mut report = ratingwatch::catalog::load_report(&seed).expect("the seed report parses");
    let symbols: Vec<Symbol> = (0..count).map(|i| Symbol::new(&format!("{}", 600_000 + i), Market::Sh).expect("valid code")).collect();
    report.id = "bench".to_string();
    report.companies = symbols
        .iter()
        .map(|symbol| Company { symbol: symbol.clone(), name: symbol.to_string(), name_en: symbol.to_string(), alternates: Vec::new() })
        .collect();
    report.sectors = vec![Sector {
        name: "bench".to_string(),
        name_en: "bench".to_string(),
        members: symbols.iter().map(|symbol| Member { symbol: symbol.clone(), tags: Vec::new() }).collect(),
    }];
    report
}

#[tokio::main]
async fn main() {
    let args = parse_args();
    let report = synthetic_report(args.securities);
    let symbols: Vec<Symbol> = report.companies.iter().map(|c| c.symbol.clone()).collect();
    let now = Utc.with_ymd_and_hms(2026, 11, 27, 10, 0, 0).unwrap();
    let today = now.date_naive();

    println!("{} securities, {} days of history, server delay {} ms, rate limit off", args.securities, args.days, args.delay.as_millis());
    println!("concurrency | wall s | ideal 1 req/security s | requests | ideal for requests sent s | efficiency | bars | bars/s");
    for &concurrency in &args.concurrency {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::default();
        config.database.path = dir.path().join("bench.db");
        config.sync.concurrency = concurrency;
        config.sync.history_start = Some(today - chrono::Days::new(args.days));
        let source = Synthetic { from: today - chrono::Days::new(args.days), to: today };
        let server = ServerState { quiet: true, ..ServerState::new(Arc::new(source), Vec::new(), args.delay) };
        let log = server.log.clone();
        config.providers.tencent.base_url = spawn(server);
        config.providers.tencent.requests_per_second = 0.0;
        config.providers.tencent.max_retries = 0;
        config.providers.chains.cn = vec![ratingwatch::ids::ProviderName::Tencent];
        Store::open(&config.database.path).and_then(|mut store| store.load_report(&report, now)).expect("bench database");
        let providers = Providers::from_config(&config.providers).expect("providers");
        let options = SyncOptions { selection: Selection::Symbols(symbols.clone()), full: false, trigger: "bench".to_string() };

        let started = Instant::now();
        let summary = run_sync(&config, &providers, &options, now, &CancellationToken::new()).await.expect("sync runs");
        let wall = started.elapsed().as_secs_f64();
        let requests = log.lock().unwrap().len();
        if let Some(failure) = summary.failures.first() {
            eprintln!("{} failures, first: {failure}", summary.failures.len());
        }
        let delay = args.delay.as_secs_f64();
        let ideal = args.securities as f64 * delay / concurrency as f64;
        let ideal_sent = requests as f64 * delay / concurrency as f64;
        println!(
            "{concurrency:>11} | {wall:>6.2} | {ideal:>22.2} | {requests:>8} | {ideal_sent:>25.2} | {:>9.0}% | {:>6} | {:>6.0}",
            100.0 * ideal_sent / wall,
            summary.bars_written,
            summary.bars_written as f64 / wall
        );
    }
}
