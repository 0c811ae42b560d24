//! Glue between the store and the pure analysis: load only the bars a question needs, then
//! compute. The CLI (`verdict`, `report`) and the service's weekly job call these same
//! functions.
//!
//! What is loaded: the report as it stands in the database, and for each company its
//! closes from the base close (its latest on or before the report date) to the end date;
//! the benchmark and FX pairs from the oldest of those base closes. Companies and the
//! benchmark come from `close_chunks` (each security's adjusted closes packed one row per
//! year, written in the same transaction as its bars): each security is one seek for its
//! base year plus one range of the `(symbol, year)` key, so a 6-month verdict reads one or
//! two rows per company however long the stored history is, and all companies are read by
//! one statement ([`Store::close_columns_from_as_of`]), not one each, straight into the
//! analysis's columns. Nothing is cached between calls: every verdict reads the database as
//! it stands.

use std::collections::HashSet;

use chrono::{Days, NaiveDate};

use crate::analysis::model::{SecurityInReport, Verdict, WeeklySummary};
use crate::analysis::ratings::{self, CallScore, ScoredCall, UnscoredKind};
use crate::analysis::{self, AnalysisError, Closes, CurrencyMode, Series, WeekSpec};
use crate::catalog::ReportDef;
use crate::config::RatingsConfig;
use crate::ids::Week;
use crate::ratings::{BrokerBook, BrokersError, RatingRecord};
use crate::store::{RatingsFilter, Store, StoreError};
use crate::symbol::Symbol;

pub use crate::analysis::AnalysisOptions;

/// Which week a weekly summary covers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WeekSelection {
    /// An ISO week, measured to its Friday.
    Week(Week),
    /// The ISO week containing this date, as of this date.
    AsOf(NaiveDate),
    /// The latest complete ISO week on `today` (see [`Week::latest_complete`]).
    Latest { today: NaiveDate },
}

impl WeekSelection {
    /// The calendar week and cutoff date this selection stands for.
    pub fn resolve(&self) -> WeekSpec {
        match *self {
            WeekSelection::Week(week) => WeekSpec::of(week),
            WeekSelection::AsOf(date) => WeekSpec::containing(date),
            WeekSelection::Latest { today } => WeekSpec::latest_complete(today),
        }
    }
}

/// Why a verdict or summary cannot be made. Unknown reports are the store's error, dates
/// and missing prices the analysis's: each rule is checked in one place.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The week asked for ends before the report date; `instead` is the argument to use.
    #[error("week {week} measured to {cutoff} is before the report date {report_date} of `{report_id}`; choose {instead}")]
    WeekBeforeReport { report_id: String, week: Week, cutoff: NaiveDate, report_date: NaiveDate, instead: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Analysis(#[from] AnalysisError),
}

/// The verdict of one report as of a date.
pub fn verdict(store: &Store, report: &ReportDef, as_of: NaiveDate, options: &AnalysisOptions) -> Result<Verdict, PipelineError> {
    let closes = load_closes(store, report, as_of.min(report.horizon_end()).max(report.report_date))?;
    Ok(analysis::compute_verdict(report, &closes, as_of, options)?)
}

/// The verdict of every report in the database as of a date (the ledger), oldest report
/// first. A report dated after `as_of` has no verdict yet and is left out.
pub fn verdict_all(store: &Store, as_of: NaiveDate, options: &AnalysisOptions) -> Result<Vec<Verdict>, PipelineError> {
    let mut verdicts = Vec::new();
    for id in store.report_ids()? {
        let report = store.report(&id)?;
        if report.report_date <= as_of {
            verdicts.push(verdict(store, &report, as_of, options)?);
        }
    }
    Ok(verdicts)
}

/// The weekly summary of one report, with the week's new ratings on its watchlist scored
/// with `book` (see [`new_ratings`]).
pub fn weekly(
    store: &Store,
    report: &ReportDef,
    selection: &WeekSelection,
    options: &AnalysisOptions,
    book: &BrokerBook,
) -> Result<WeeklySummary, PipelineError> {
    let week = selection.resolve();
    let closes = load_closes(store, report, week.cutoff.max(report.report_date))?;
    let summary = analysis::compute_weekly(report, &closes, &week, options).map_err(|error| match error {
        // Say which week to ask for instead, in the form the week was asked in.
        AnalysisError::AsOfBeforeReport { report_id, as_of, report_date } => {
            let instead = match selection {
                WeekSelection::AsOf(_) => format!("--as-of {report_date} or later"),
                _ => format!("--week {} or later", Week::first_friday_on_or_after(report_date)),
            };
            PipelineError::WeekBeforeReport { report_id, week: week.week, cutoff: as_of, report_date, instead }
        }
        other => PipelineError::from(other),
    })?;
    // One rule for every weekly question (`report`, `notify send`, the week page, the weekly
    // job): a week without a benchmark close would read 0.00 %, so it has no summary.
    analysis::check_week_has_prices(&summary).map_err(|error| match error {
        // A later close shows the market was closed that week: say so instead of "run sync".
        AnalysisError::NoPricesInWeek { week, week_start, week_end, benchmark_name, latest_close, next_close: None } => {
            match market_closed_week(store, &report.rule.benchmark, week) {
                Ok(next_close) => PipelineError::from(AnalysisError::NoPricesInWeek {
                    week,
                    week_start,
                    week_end,
                    benchmark_name,
                    latest_close,
                    next_close,
                }),
                Err(error) => PipelineError::from(error),
            }
        }
        other => PipelineError::from(other),
    })?;
    // The ratings published in the week: Monday to Sunday, or to the day a summary is asked
    // as of (a later rating is news the summary could not have had).
    let sunday = week.monday() + Days::new(6);
    let last = match selection {
        WeekSelection::AsOf(date) => (*date).min(sunday),
        _ => sunday,
    };
    let mut summary = summary;
    summary.new_ratings = new_ratings(store, report, week.monday(), last, book, options)?;
    Ok(summary)
}

/// Every stored rating on a company of `report`'s watchlist (a primary listing or an
/// alternate) published from `first` to `last`, scored as of `last` with its broker's rule
/// ([`score_ratings`]), in the weekly summary's order ([`ratings::week_order`]).
pub fn new_ratings(
    store: &Store,
    report: &ReportDef,
    first: NaiveDate,
    last: NaiveDate,
    book: &BrokerBook,
    options: &AnalysisOptions,
) -> Result<Vec<ScoredCall>, PipelineError> {
    let watchlist: HashSet<&Symbol> =
        report.companies.iter().flat_map(|company| std::iter::once(&company.symbol).chain(&company.alternates)).collect();
    let records: Vec<RatingRecord> = store
        .ratings(&RatingsFilter { since: Some(first), until: Some(last), ..Default::default() })?
        .into_iter()
        .filter(|record| watchlist.contains(&record.symbol))
        .collect();
    if records.is_empty() {
        return Ok(Vec::new());
    }
    // A call is scored in CNY like `ratings list`: a summary asked in local currency says so
    // for its sectors, not for the broker's rule.
    let options = AnalysisOptions { currency: CurrencyMode::Cny, ..options.clone() };
    let mut calls = score_ratings(store, records, book, last, &options)?;
    ratings::week_order(&mut calls);
    Ok(calls)
}

/// `symbol` in every loaded report that holds it, in the store's report order: each report narrowed
/// to the company and asked for its verdict as of `as_of` (the same loading and analysis as a
/// report's). A report whose verdict cannot be computed for it (no close on or before the
/// report date, an as-of date before the report) carries the reason instead.
pub fn security(
    store: &Store,
    symbol: &Symbol,
    as_of: NaiveDate,
    options: &AnalysisOptions,
) -> Result<Vec<SecurityInReport>, PipelineError> {
    let mut found = Vec::new();
    for row in store.reports()? {
        let report = store.report(&row.id)?;
        let Some(narrowed) = report.narrowed_to(symbol) else { continue };
        let verdict = match verdict(store, &narrowed, as_of, options) {
            Ok(verdict) => Ok(verdict),
            Err(PipelineError::Analysis(error)) => Err(error.to_string()),
            Err(other) => return Err(other),
        };
        found.push(SecurityInReport {
            report_id: report.id.clone(),
            title: report.title.clone(),
            broker: report.broker.clone(),
            name: narrowed.companies[0].name.clone(),
            sectors: report.sectors_of(symbol).iter().map(|sector| (sector.name.clone(), sector.name_en.clone())).collect(),
            verdict,
        });
    }
    Ok(found)
}

/// Whether the market was closed for `week`: the benchmark has no close in it (Monday
/// to Sunday) but has one after it, so no close will ever come. Returns that next close.
/// A week with no close and none after it may just not be synced yet: `None`.
pub fn market_closed_week(store: &Store, benchmark: &Symbol, week: Week) -> Result<Option<NaiveDate>, StoreError> {
    let (monday, sunday) = (week.monday(), week.monday() + Days::new(6));
    // The first close from the week's Monday on; a month covers any holiday.
    Ok(match store.bars(benchmark, monday, sunday + Days::new(31))?.first().map(|bar| bar.date) {
        Some(first) if first <= sunday => None,
        Some(next) => Some(next),
        // No close within a month after the week: the latest one, if it is after the week.
        None => store.bar_stats(benchmark)?.map(|stats| stats.last).filter(|&last| last > sunday),
    })
}

/// Why the broker book cannot be built: the user's file cannot be read, or a file's rules are
/// not usable (the file and broker named).
#[derive(Debug, thiserror::Error)]
pub enum BrokerBookError {
    #[error("cannot read ratings.brokers_file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error(transparent)]
    Rules(#[from] BrokersError),
}

/// The built-in broker rules (`data/brokers.toml`) with the user's `ratings.brokers_file` laid
/// over them: the one book `ratings list`, `ratings track-record` and the web pages score with.
pub fn broker_book(config: &RatingsConfig) -> Result<BrokerBook, BrokerBookError> {
    let user = match &config.brokers_file {
        Some(path) => Some((
            path.display().to_string(),
            std::fs::read_to_string(path).map_err(|source| BrokerBookError::Read { path: path.display().to_string(), source })?,
        )),
        None => None,
    };
    Ok(BrokerBook::load(user.as_ref().map(|(file, text)| (file.as_str(), text.as_str())))?)
}

/// The stored ratings `filter` selects, published on or before `as_of` (a later `until` is cut
/// to it), each scored as of `as_of` ([`score_ratings`]), oldest first: the question behind
/// `ratings list`, `ratings track-record` and the web's ratings and broker pages.
pub fn rating_calls(
    store: &Store,
    book: &BrokerBook,
    filter: &RatingsFilter,
    as_of: NaiveDate,
    options: &AnalysisOptions,
) -> Result<Vec<ScoredCall>, PipelineError> {
    let filter = RatingsFilter { until: Some(filter.until.map_or(as_of, |until| until.min(as_of))), ..filter.clone() };
    let records = store.ratings(&filter)?;
    score_ratings(store, records, book, as_of, options)
}

/// Every rating scored as of `as_of` (see [`crate::analysis::ratings`]): each call's
/// one-company report goes through [`verdict`], the same loading and analysis as a report's.
/// A call without prices is unscored, saying so; a store failure is an error.
pub fn score_ratings(
    store: &Store,
    records: Vec<RatingRecord>,
    book: &BrokerBook,
    as_of: NaiveDate,
    options: &AnalysisOptions,
) -> Result<Vec<ScoredCall>, PipelineError> {
    let mut calls = Vec::with_capacity(records.len());
    for record in records {
        let score = match ratings::prepare(&record, book) {
            Err(unscored) => *unscored,
            Ok((report, horizon)) => match verdict(store, &report, as_of.max(record.date), options) {
                Ok(verdict) => ratings::score_from_verdict(&report, &horizon, &verdict),
                Err(PipelineError::Analysis(error)) => CallScore::unscored(UnscoredKind::NoPrices, format!("no prices: {error}")),
                Err(other) => return Err(other),
            },
        };
        calls.push(ScoredCall { record, score });
    }
    Ok(calls)
}

/// The closes a verdict or summary to `end` needs, and no others, in three statements
/// whatever the report's size: the companies, then the benchmark, then the FX pairs.
fn load_closes(store: &Store, report: &ReportDef, end: NaiveDate) -> Result<Closes, PipelineError> {
    let report_date = report.report_date;
    let mut closes = Closes::with_capacity_and_hasher(report.companies.len() + 3, Default::default());
    let mut earliest = report_date;
    let companies: Vec<Symbol> = report.companies.iter().map(|company| company.symbol.clone()).collect();
    for (symbol, columns) in store.close_columns_from_as_of(&companies, report_date, end)? {
        if let Some(&first) = columns.dates.first() {
            earliest = earliest.min(first);
        }
        closes.insert(symbol, Series::from_columns(columns.dates, columns.values));
    }
    // The benchmark and the FX pairs reach back to the oldest base close (a company
    // suspended over the report date has an old one), so its age can be counted in
    // benchmark trading days and its base converted at the rate of its own date.
    // A benchmark without prices is the analysis's error to report.
    let mut others: Vec<Symbol> = vec![report.rule.benchmark.clone()];
    let currencies = report.companies.iter().map(|c| c.symbol.currency()).chain([report.rule.benchmark.currency()]);
    for pair in report.fx.iter().cloned().chain(currencies.filter_map(|currency| currency.cny_pair())) {
        if !closes.contains_key(&pair) && !others.contains(&pair) {
            others.push(pair);
        }
    }
    for (symbol, columns) in store.close_columns_from_as_of(&others, earliest, end)? {
        closes.insert(symbol, Series::from_columns(columns.dates, columns.values));
    }
    Ok(closes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SeriesWrite;

    #[test]
    fn selections_resolve_to_weeks() {
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let week = WeekSelection::Week(Week::new(2023, 20).unwrap()).resolve();
        assert_eq!((week.label(), week.cutoff), ("2023-W20".to_string(), date(2023, 5, 19)));
        let as_of = WeekSelection::AsOf(date(2023, 5, 17)).resolve();
        assert_eq!((as_of.label(), as_of.cutoff), ("2023-W20".to_string(), date(2023, 5, 17)));
        let latest = WeekSelection::Latest { today: date(2023, 5, 22) }.resolve();
        assert_eq!((latest.label(), latest.cutoff), ("2023-W20".to_string(), date(2023, 5, 19)));
    }

    #[test]
    fn ratings_are_scored_as_one_company_reports() {
        use chrono::Utc;

        use crate::analysis::ratings::{CallStatus, GroupBy, track_record};
        use crate::prices::{AdjBasis, Bar};
        use crate::ratings::Change;

        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let bar = |day: NaiveDate, close: f64| Bar { date: day, open: None, high: None, low: None, close, volume: None, adj_close: close };
        let mut store = Store::open_in_memory().unwrap();
        let (csi, moutai) = (Symbol::parse("000300.SH").unwrap(), Symbol::parse("600519.SH").unwrap());
        let today = date(2024, 1, 31);
        for (symbol, closes) in [(&csi, [100.0, 102.0, 110.0]), (&moutai, [10.0, 10.5, 12.5])] {
            store.ensure_security(symbol).unwrap();
            let bars: Vec<Bar> =
                [date(2023, 1, 3), date(2023, 1, 10), date(2023, 7, 3)].into_iter().zip(closes).map(|(d, c)| bar(d, c)).collect();
            store.replace_bars(&SeriesWrite::new(symbol, &bars, "csv", AdjBasis::Imported, today, Utc::now())).unwrap();
        }
        let call = |code: &str, broker: &str, word: &str| RatingRecord {
            info_code: code.to_string(),
            symbol: moutai.clone(),
            name: "贵州茅台".into(),
            broker: broker.into(),
            broker_full: String::new(),
            analysts: "甲,乙".into(),
            date: date(2023, 1, 3),
            rating: word.into(),
            normalized: None,
            normalized_value: None,
            previous: None,
            previous_value: None,
            change: Change::FirstCoverage,
            target_price: None,
            title: String::new(),
            pdf_url: String::new(),
        };
        let records = vec![
            call("A", "华泰证券", "增持"),
            call("B", "国泰君安", "增持"),
            call("C", "招商证券", "强烈推荐"),
            call("D", "国泰君安", "买入"),
            call("E", "诚通证券", "买入"),
            call("F", "中信建投", "卖出"),
        ];
        let book = BrokerBook::load(None).unwrap();
        let calls = score_ratings(&store, records, &book, date(2023, 12, 31), &AnalysisOptions::default()).unwrap();
        let status: Vec<CallStatus> = calls.iter().map(|c| c.score.status).collect();
        // Base 2023-01-03 (stock 10, benchmark 100). 6-month rules end 2023-07-03: stock
        // 12.5/10 − 1 = +25 %, benchmark 110/100 − 1 = +10 %, excess +15 pp.
        // A 华泰 增持 (5 ≤ 15 < 20 → 增持): held. B 国泰君安 (12 months, ends 2024-01-03 after
        // the as-of 2023-12-31): pending. C 招商 强烈推荐 (6–12 scored at 6; 15 < 20 → 增持):
        // not held. D 国泰君安 has no 买入: unscored. E 诚通证券: no rule. F 中信建投 卖出 (15 ≥ 15 → 买入): not held.
        use CallStatus::*;
        assert_eq!(status, [Held, Pending, NotHeld, Unscored, Unscored, NotHeld]);
        let a = &calls[0].score;
        assert!((a.excess.unwrap() - 0.15).abs() < 1e-12);
        assert_eq!(
            (a.implied_rating.as_deref(), a.horizon_end, a.end_date),
            (Some("增持"), Some(date(2023, 7, 3)), Some(date(2023, 7, 3)))
        );
        assert_eq!(calls[2].score.horizon.as_deref(), Some("6–12 months, scored at 6"));
        // Direction: C's 增持 is on 强烈推荐's side of 中性; F's 买入 is not on 卖出's.
        assert_eq!((calls[2].score.direction_right, calls[5].score.direction_right), (Some(true), Some(false)));
        // B, pending, runs to the latest close: +15 pp, at 国泰君安's 增持 bound (15 %以上, included).
        assert_eq!(calls[1].score.implied_rating.as_deref(), Some("增持"));
        assert_eq!(calls[3].score.unscored, Some(UnscoredKind::WordNotInRule));
        assert_eq!(calls[4].score.unscored, Some(UnscoredKind::BrokerRuleUnknown));
        let rows = track_record(&calls, GroupBy::Broker, 1);
        let gtja = rows.iter().find(|r| r.key == "国泰君安").unwrap();
        assert_eq!((gtja.calls, gtja.scored, gtja.pending, gtja.unscored, gtja.rank), (2, 0, 1, 1, None));
        let huatai = rows.iter().find(|r| r.key == "华泰证券").unwrap();
        // Wilson for 1 of 1 at z = 1.959964: centre (1 + z²/2)/(1 + z²) = 2.92073/4.84146 = 0.60327,
        // half z·sqrt(z²/4)/(1 + z²) = 1.959964 · 0.979982/4.84146 = 0.39672 → [0.20655, 1].
        assert_eq!((huatai.scored, huatai.held, huatai.rank), (1, 1, Some(1)));
        assert!((huatai.hit_rate_low.unwrap() - 0.20655).abs() < 1e-4, "{:?}", huatai.hit_rate_low);
    }
}
