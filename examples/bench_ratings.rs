//! The ratings feed's benchmarks (issue 17, "Tests and figures").
//!
//! ```text
//! cargo run --release --example bench_ratings -- ingest [RECORDS] [COMPANIES]      # default 100000 5000
//! cargo run --release --example gen_bench_db -- /tmp/bench.db
//! cargo run --release --example bench_ratings -- track-record /tmp/bench.db [RECORDS] [AS_OF] [--each]   # default 100000 2025-12-31
//! target/release/ratingwatch --db /tmp/bench.db ratings track-record --as-of 2025-12-31 --format json > /dev/null
//! ```
//!
//! **ingest**: RECORDS synthetic ratings on COMPANIES Shanghai and Shenzhen companies (the
//! same number each), written as the report list's answer — one JSON page per company, newest
//! first, each record with the complete field list of the list's record (the recorded
//! record's fields and values' shapes: `publishDate` at midnight, numbers as strings,
//! `ratingChange` 3 or `""`, `indvAimPriceT` a 10-place string or `""`; the EPS, PE, industry
//! and attachment fields filled with plausible values). The brokers are those of
//! `data/brokers.toml` (their own words, from their stock rules) and three without a stock
//! rule there (中信证券, 浙商证券, 诚通证券), so some calls are unscored. Each page is parsed by
//! the real parser (`providers::ratings::parse_list_page`, what `ratings sync` runs on every
//! page) and stored as `ratings sync` stores a company: the stored codes of its window read
//! (`Store::rating_codes_between`), then `Store::upsert_ratings`, one IMMEDIATE transaction
//! per company, into a fresh SQLite file. Then the same pages again (expect 0 new, all
//! unchanged). Pages are generated one at a time outside the timed parts; peak memory is the
//! process's `VmHWM` at the end (everything: generation, parsing, SQLite's cache).
//!
//! **track-record**: RECORDS ratings on the A-share companies of `gen_bench_db`'s database
//! (its report `bench-5000`'s Shanghai and Shenzhen members, 4,000 of 5,000), published on
//! weekdays from 2006-03 to 2025-12, by the eight brokers with numeric stock rules, inserted
//! as above (a second run finds them stored: 0 new). Then, timed one by one, what
//! `ratings track-record` does: read the ratings (`Store::ratings`), score every call
//! (`pipeline::score_ratings`), group them (`analysis::ratings::track_record` by broker). It
//! prints the calls per status and a SHA-256 of every call's score (`{:?}`: floats in their
//! shortest exact form), so two builds can be checked to score identically. With `--each`, it
//! also scores every call the way `score_ratings` did before it read closes once per company
//! (each call through `pipeline::verdict` alone: two reads a call), times that, and checks
//! that both give the same scores.
//!
//! Deterministic: the same records every run. The example allocates with mimalloc, as the
//! binary does.

#![recursion_limit = "256"]

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{Datelike, Days, NaiveDate, Utc, Weekday};
use mimalloc::MiMalloc;
use ratingwatch::analysis::AnalysisOptions;
use ratingwatch::analysis::ratings::{self, CallScore, CallStatus, GroupBy, ScoredCall, UnscoredKind, track_record};
use ratingwatch::pipeline::{self, PipelineError};
use ratingwatch::providers::ratings::parse_list_page;
use ratingwatch::ratings::BrokerBook;
use ratingwatch::store::{RatingsFilter, RatingsWrite, Store};
use ratingwatch::symbol::{Market, Symbol};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

type Error = Box<dyn std::error::Error>;

/// xorshift64*: deterministic, fast (as `gen_bench_db`).
struct Noise(u64);

impl Noise {
    fn new(seed: u64) -> Noise {
        Noise(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() >> 33) as usize % n
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A broker as the list names it, with the words its reports use, top first.
struct BrokerSpec {
    short: String,
    full: String,
    org_code: String,
    words: Vec<String>,
}

/// The brokers of `data/brokers.toml` with numeric stock rules; with `unruled`, also three
/// brokers without a stock rule there.
fn brokers(unruled: bool) -> Result<Vec<BrokerSpec>, Error> {
    let book = BrokerBook::load(None)?;
    let mut specs: Vec<BrokerSpec> = book
        .brokers()
        .filter_map(|broker| {
            let rule = broker.stock.as_ref()?;
            matches!(rule.scale, ratingwatch::ratings::Scale::Bands(_)).then(|| (broker, rule.labels()))
        })
        .enumerate()
        .map(|(i, (broker, words))| BrokerSpec {
            short: broker.name.clone(),
            full: broker.aliases.first().cloned().unwrap_or_else(|| format!("{}股份有限公司", broker.name)),
            org_code: format!("{}", 80_000_000 + 31 * (i + 1)),
            words,
        })
        .collect();
    if specs.len() != 8 {
        return Err(format!("expected the eight brokers with numeric stock rules in data/brokers.toml, found {}", specs.len()).into());
    }
    if unruled {
        for (i, (short, words)) in
            [("中信证券", ["买入", "增持"]), ("浙商证券", ["买入", "增持"]), ("诚通证券", ["买入", "增持"])].into_iter().enumerate()
        {
            specs.push(BrokerSpec {
                short: short.to_string(),
                full: format!("{short}股份有限公司"),
                org_code: format!("{}", 80_045_894 + i),
                words: words.iter().map(|w| w.to_string()).collect(),
            });
        }
    }
    Ok(specs)
}

const SCALE: [&str; 5] = ["买入", "增持", "中性", "减持", "卖出"];
const SURNAMES: [&str; 12] = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙"];
const GIVEN: [&str; 10] = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "艳", "杰"];
const TITLES: [&str; 8] = [
    "年报点评：业绩稳健增长",
    "季报点评：盈利能力持续提升",
    "首次覆盖：行业龙头地位稳固",
    "深度报告：新业务打开成长空间",
    "事件点评：订单超预期",
    "公司点评：经营拐点已现",
    "半年报点评：收入结构持续优化",
    "跟踪报告：估值具备吸引力",
];

/// One company's records, newest first as the list serves them, as JSON values.
fn company_records(symbol: &Symbol, company: usize, count: usize, specs: &[BrokerSpec], span: (NaiveDate, NaiveDate)) -> Vec<Value> {
    let mut noise = Noise::new(7 + company as u64);
    let days = (span.1 - span.0).num_days().max(1) as u64;
    let name = format!("公司{company}");
    // The last normalised word per broker on this company, for `lastEm…` and the change.
    let mut last: HashMap<usize, usize> = HashMap::new();
    let mut records = Vec::with_capacity(count);
    for k in 0..count {
        // Spread over the span: one slot each, a random weekday inside it.
        let slot = days * k as u64 / count as u64;
        let width = (days / count as u64).max(1);
        let mut date = span.0 + Days::new(slot + noise.next_u64() % width);
        while matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
            date = date - Days::new(1);
        }
        let date = date.max(span.0);
        let broker = noise.below(specs.len());
        let spec = &specs[broker];
        // Mostly the top two words, as real lists are.
        let draw = noise.unit();
        let tier = if draw < 0.5 {
            0
        } else if draw < 0.85 {
            1
        } else if draw < 0.95 {
            2.min(spec.words.len() - 1)
        } else {
            spec.words.len() - 1
        };
        // The broker's tier on Eastmoney's five-step scale: a four-word rule's bottom is 减持.
        let place = if spec.words.len() == 5 || tier < 3 { tier } else { 3 };
        let value = 3 - place as i64;
        let previous = last.insert(broker, place);
        let (last_name, last_value, last_code, rating_change) = match previous {
            Some(p) => (SCALE[p].to_string(), (3 - p as i64).to_string(), format!("{:03}", 7 + p), json!(3)),
            None => (String::new(), String::new(), String::new(), json!("")),
        };
        let target = if noise.unit() < 0.3 { format!("{:.10}", 5.0 + 200.0 * noise.unit()) } else { String::new() };
        let analysts = (0..1 + noise.below(3))
            .map(|_| format!("{}{}", SURNAMES[noise.below(SURNAMES.len())], GIVEN[noise.below(GIVEN.len())]))
            .collect::<Vec<_>>()
            .join(",");
        let eps = 0.2 + 3.0 * noise.unit();
        let serial = company * count + k;
        let year = date.year();
        records.push(json!({
            "title": format!("{name}{year}年{}", TITLES[noise.below(TITLES.len())]),
            "stockName": name,
            "stockCode": symbol.code(),
            "orgCode": spec.org_code,
            "orgName": spec.full,
            "orgSName": spec.short,
            "publishDate": format!("{date} 00:00:00.000"),
            "infoCode": format!("AP{}{:010}", date.format("%Y%m%d"), serial),
            "column": "",
            "predictNextTwoYearEps": format!("{:.2}", eps * 1.4),
            "predictNextTwoYearPe": format!("{:.2}", 12.0 / 1.4),
            "predictNextYearEps": format!("{:.2}", eps * 1.2),
            "predictNextYearPe": format!("{:.2}", 12.0 / 1.2),
            "predictThisYearEps": format!("{eps:.2}"),
            "predictThisYearPe": "12.00",
            "predictLastYearEps": format!("{:.2}", eps * 0.9),
            "predictLastYearPe": "",
            "actualLastTwoYearEps": format!("{:.2}", eps * 0.8),
            "actualLastYearEps": format!("{:.2}", eps * 0.9),
            "industryCode": format!("{}", 400 + company % 90),
            "industryName": "通信设备",
            "emIndustryCode": format!("{}", 1000 + company % 90),
            "indvInduCode": format!("{}", 400 + company % 90),
            "indvInduName": "通信设备",
            "emRatingCode": format!("{:03}", 7 + place),
            "emRatingValue": value.to_string(),
            "emRatingName": SCALE[place],
            "lastEmRatingCode": last_code,
            "lastEmRatingValue": last_value,
            "lastEmRatingName": last_name,
            "ratingChange": rating_change,
            "reportType": 1,
            "author": [format!("11000{}.{}", serial % 997, analysts.split(',').next().unwrap_or(""))],
            "indvIsNew": "0",
            "researcher": analysts,
            "newListingDate": null,
            "newPurchaseDate": null,
            "newIssuePrice": null,
            "newPeIssueA": null,
            "indvAimPriceT": target,
            "indvAimPriceL": target,
            "attachType": "0",
            "attachSize": 600 + noise.below(2000),
            "attachPages": 3 + noise.below(30),
            "encodeUrl": "",
            "sRatingName": spec.words[tier],
            "sRatingCode": format!("{:03}", 7 + place),
            "market": if symbol.market() == Market::Sh { "SHANGHAI" } else { "SHENZHEN" },
            "authorID": [],
            "count": 0,
            "orgType": "1",
        }));
    }
    records.reverse();
    records
}

/// The list's answer holding one company's records on one page.
fn page_body(records: Vec<Value>) -> String {
    let hits = records.len();
    json!({"hits": hits, "size": hits, "data": records, "TotalPage": 1, "pageNo": 1, "currentYear": 2025}).to_string()
}

/// CPU time of this (single-threaded) process so far, in seconds (`/proc/self/schedstat`'s
/// time on a CPU): wall times on a shared machine include waiting for one.
fn cpu_secs() -> f64 {
    let text = std::fs::read_to_string("/proc/self/schedstat").unwrap_or_default();
    text.split_whitespace().next().and_then(|ns| ns.parse::<f64>().ok()).map_or(f64::NAN, |ns| ns / 1e9)
}

/// `VmHWM` (peak resident memory) of this process, in MB.
fn peak_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

struct IngestTimes {
    write: RatingsWrite,
    generate: f64,
    parse: f64,
    store: f64,
    bytes: usize,
}

/// Generates, parses and stores every company's page, as `ratings sync` stores a company.
fn ingest(
    store: &mut Store,
    companies: &[Symbol],
    per_company: usize,
    specs: &[BrokerSpec],
    span: (NaiveDate, NaiveDate),
) -> Result<IngestTimes, Error> {
    let now = Utc::now();
    let mut times = IngestTimes { write: RatingsWrite::default(), generate: 0.0, parse: 0.0, store: 0.0, bytes: 0 };
    for (company, symbol) in companies.iter().enumerate() {
        let started = Instant::now();
        let body = page_body(company_records(symbol, company, per_company, specs, span));
        times.bytes += body.len();
        let parsed_at = Instant::now();
        let page = parse_list_page(&body, symbol)?;
        drop(body);
        let stored_at = Instant::now();
        // `ratings sync` reads the stored codes of the window first (an answer lacking one fails).
        let (from, to) = (page.records.iter().map(|r| r.date).min(), page.records.iter().map(|r| r.date).max());
        if let (Some(from), Some(to)) = (from, to) {
            let stored = store.rating_codes_between(symbol, from, to)?;
            if stored.iter().any(|code| !page.records.iter().any(|r| &r.info_code == code)) {
                return Err(format!("{symbol}: a stored report is missing from its page").into());
            }
        }
        let write = store.upsert_ratings(&page.records, now)?;
        let done = Instant::now();
        times.generate += (parsed_at - started).as_secs_f64();
        times.parse += (stored_at - parsed_at).as_secs_f64();
        times.store += (done - stored_at).as_secs_f64();
        times.write.inserted += write.inserted;
        times.write.updated += write.updated;
        times.write.unchanged += write.unchanged;
    }
    Ok(times)
}

fn print_ingest(label: &str, times: &IngestTimes) {
    println!(
        "{label}: parse + store {:.2} s (parse {:.2} s, store {:.2} s; generating the pages {:.2} s, not counted): {} new, {} updated, {} unchanged; {:.0} MB of JSON",
        times.parse + times.store,
        times.parse,
        times.store,
        times.generate,
        times.write.inserted,
        times.write.updated,
        times.write.unchanged,
        times.bytes as f64 / 1e6
    );
}

fn date(y: i32, m: u32, d: u32) -> Result<NaiveDate, Error> {
    NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| format!("bad date {y}-{m}-{d}").into())
}

fn run_ingest(records: usize, companies: usize, path: Option<PathBuf>) -> Result<(), Error> {
    let dir = tempfile::tempdir()?;
    let path = path.unwrap_or_else(|| dir.path().join("ratings.db"));
    if path.exists() {
        return Err(format!("{} exists; give a new path", path.display()).into());
    }
    let symbols: Vec<Symbol> = (0..companies)
        .map(|i| {
            if i % 2 == 0 {
                Symbol::new(&format!("{:06}", 600_000 + i / 2), Market::Sh)
            } else {
                Symbol::new(&format!("{:06}", 1 + i / 2), Market::Sz)
            }
        })
        .collect::<Result<_, _>>()?;
    let per_company = records / companies;
    let specs = brokers(true)?;
    let span = (date(2006, 1, 2)?, date(2025, 12, 31)?);
    let started = Instant::now();
    let mut store = Store::open(&path)?;
    println!(
        "{} records: {companies} companies × {per_company}, {} brokers, one page per company, into {}",
        per_company * companies,
        specs.len(),
        path.display()
    );
    let first = ingest(&mut store, &symbols, per_company, &specs, span)?;
    print_ingest("first ingest ", &first);
    let second = ingest(&mut store, &symbols, per_company, &specs, span)?;
    print_ingest("second ingest", &second);
    let stored = store.rating_counts()?.values().sum::<u64>();
    drop(store);
    let size = std::fs::metadata(&path)?.len();
    println!(
        "stored {stored} ratings, {:.0} MB on disk; {:.2} s wall in all; peak memory (VmHWM) {:.1} MB",
        size as f64 / 1e6,
        started.elapsed().as_secs_f64(),
        peak_mb().unwrap_or(f64::NAN)
    );
    Ok(())
}

fn run_track_record(path: &Path, records: usize, as_of: NaiveDate, each: bool) -> Result<(), Error> {
    let mut store = Store::open_existing(path)?;
    let report = store.report("bench-5000")?;
    let symbols: Vec<Symbol> =
        report.companies.iter().map(|c| c.symbol.clone()).filter(|s| matches!(s.market(), Market::Sh | Market::Sz)).collect();
    if symbols.is_empty() {
        return Err(format!("{}: report bench-5000 has no Shanghai or Shenzhen companies", path.display()).into());
    }
    let per_company = records.div_ceil(symbols.len());
    let specs = brokers(false)?;
    // From March 2006: the prices start on 2006-01-02, so every call has a base close.
    let span = (date(2006, 3, 1)?, date(2025, 12, 31)?);
    let started = Instant::now();
    let inserted = ingest(&mut store, &symbols, per_company, &specs, span)?;
    println!(
        "{} ratings on {} companies ({per_company} each, {} brokers with numeric rules): {} new, {} unchanged ({:.1} s)",
        per_company * symbols.len(),
        symbols.len(),
        specs.len(),
        inserted.write.inserted,
        inserted.write.unchanged,
        started.elapsed().as_secs_f64()
    );
    let book = BrokerBook::load(None)?;
    let options = AnalysisOptions::default();
    let (started, cpu) = (Instant::now(), cpu_secs());
    let calls = store.ratings(&RatingsFilter { until: Some(as_of), ..Default::default() })?;
    let read = started.elapsed().as_secs_f64();
    let count = calls.len();
    let calls = pipeline::score_ratings(&store, calls, &book, as_of, &options)?;
    let scored_at = started.elapsed().as_secs_f64();
    let rows = track_record(&calls, GroupBy::Broker, 5);
    let total = started.elapsed().as_secs_f64();
    println!(
        "track record as of {as_of}: {total:.2} s for {count} calls (read {read:.2} s, score {:.2} s, track record {:.3} s; CPU {:.2} s); {} brokers",
        scored_at - read,
        total - scored_at,
        cpu_secs() - cpu,
        rows.len()
    );
    let (by_status, hex) = summary(&calls);
    println!("calls: {by_status:?}; scores' SHA-256 {hex}…; peak memory (VmHWM) {:.1} MB", peak_mb().unwrap_or(f64::NAN));
    for row in rows.iter().take(8) {
        println!(
            "  {} {}: {} scored, {} held ({:.1} % [{:.1}, {:.1}]), mean excess {:+.2} pp",
            row.rank.map_or("-".to_string(), |r| r.to_string()),
            row.key,
            row.scored,
            row.held,
            100.0 * row.hit_rate.unwrap_or(f64::NAN),
            100.0 * row.hit_rate_low.unwrap_or(f64::NAN),
            100.0 * row.hit_rate_high.unwrap_or(f64::NAN),
            100.0 * row.mean_excess.unwrap_or(f64::NAN)
        );
    }
    if each {
        // The scoring before the batched reads: every call through `pipeline::verdict` alone.
        let (started, cpu) = (Instant::now(), cpu_secs());
        let records = store.ratings(&RatingsFilter { until: Some(as_of), ..Default::default() })?;
        let mut alone = Vec::with_capacity(records.len());
        for record in records {
            let score = match ratings::prepare(&record, &book) {
                Err(unscored) => *unscored,
                Ok((report, horizon)) => match pipeline::verdict(&store, &report, as_of.max(record.date), &options) {
                    Ok(verdict) => ratings::score_from_verdict(&report, &horizon, &verdict),
                    Err(PipelineError::Analysis(error)) => CallScore::unscored(UnscoredKind::NoPrices, format!("no prices: {error}")),
                    Err(other) => return Err(other.into()),
                },
            };
            alone.push(ScoredCall { record, score });
        }
        let (secs, cpu) = (started.elapsed().as_secs_f64(), cpu_secs() - cpu);
        let (_, alone_hex) = summary(&alone);
        println!(
            "each call alone (two reads a call): read + score {secs:.2} s (CPU {cpu:.2} s); scores' SHA-256 {alone_hex}… ({})",
            if alone == calls { "identical" } else { "DIFFERENT" }
        );
        if alone != calls {
            return Err("the batched scores differ from each call's alone".into());
        }
    }
    Ok(())
}

/// The calls per status and the first 8 bytes of a SHA-256 over every call's score.
fn summary(calls: &[ScoredCall]) -> (BTreeMap<&'static str, usize>, String) {
    let mut by_status: BTreeMap<&str, usize> = BTreeMap::new();
    let mut digest = Sha256::new();
    for call in calls {
        *by_status
            .entry(match call.score.status {
                CallStatus::Held => "held",
                CallStatus::NotHeld => "not held",
                CallStatus::Pending => "pending",
                CallStatus::Unscored => "unscored",
            })
            .or_default() += 1;
        digest.update(format!("{} {:?}\n", call.record.info_code, call.score).as_bytes());
    }
    let hex: String = digest.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect();
    (by_status, hex)
}

fn main() -> Result<(), Error> {
    let all: Vec<String> = std::env::args().skip(1).collect();
    let each = all.iter().any(|a| a == "--each");
    let args: Vec<&String> = all.iter().filter(|a| !a.starts_with("--")).collect();
    let number = |i: usize, default: usize| -> Result<usize, Error> { Ok(args.get(i).map(|s| s.parse()).transpose()?.unwrap_or(default)) };
    let usage = "usage: bench_ratings ingest [RECORDS] [COMPANIES] | track-record DB [RECORDS] [AS_OF] [--each]";
    match args.first().map(|s| s.as_str()) {
        Some("ingest") => run_ingest(number(1, 100_000)?, number(2, 5_000)?, std::env::var_os("BENCH_RATINGS_DB").map(PathBuf::from)),
        Some("track-record") => {
            let path = PathBuf::from(args.get(1).ok_or(usage)?);
            let as_of = args.get(3).map(|s| s.parse::<NaiveDate>()).transpose()?.unwrap_or(date(2025, 12, 31)?);
            run_track_record(&path, number(2, 100_000)?, as_of, each)
        }
        _ => Err(usage.into()),
    }
}
