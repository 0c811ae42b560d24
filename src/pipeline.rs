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

use std::collections::{HashMap, HashSet};

use chrono::{Days, NaiveDate};
use rustc_hash::FxBuildHasher;

use crate::analysis::model::{SecurityInReport, Verdict, WeeklySummary};
use crate::analysis::ratings::{self, CallScore, ScoredCall, UnscoredKind};
use crate::analysis::{self, AnalysisError, Closes, CurrencyMode, Series, WeekSpec};
use crate::catalog::ReportDef;
use crate::config::RatingsConfig;
use crate::ids::Week;
use crate::ratings::{BrokerBook, BrokersError, RatingRecord};
use crate::store::{CloseColumns, RatingsFilter, Store, StoreError};
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
    let closes = load_closes(store, report, verdict_end(report, as_of))?;
    Ok(analysis::compute_verdict(report, &closes, as_of, options)?)
}

/// The last date a verdict as of `as_of` reads closes to.
fn verdict_end(report: &ReportDef, as_of: NaiveDate) -> NaiveDate {
    as_of.min(report.horizon_end()).max(report.report_date)
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
            rule: report.rule.clone(),
            sectors: report.sectors_of(symbol).iter().map(|sector| (sector.name.clone(), sector.name_en.clone())).collect(),
            verdict,
        });
    }
    Ok(found)
}

/// Whether `week` starts after `horizon_end`: the first week entirely after the horizon. The
/// week containing the horizon end still gets its summary (the small report's horizon end,
/// Monday 2023-08-14, is in W33: W33 is summarised, W34 is not). Unless
/// `schedule.weekly_after_horizon`, the service writes no summary for such a week and the
/// dashboard's archive does not list it.
pub fn week_after_horizon(week: Week, horizon_end: NaiveDate) -> bool {
    week.monday() > horizon_end
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
/// one-company report goes through the same assembly of closes and the same analysis as
/// [`verdict`]. A call without prices is unscored, saying so; a store failure is an error.
///
/// The closes are read once per company, not once per call: the calls are taken company by
/// company, the company's closes read for the window of all its calls, and each call given
/// the points of its own window out of them ([`CloseColumns::as_of_window`], the same points
/// a read of that window answers); the benchmark and FX pairs are read once for the window
/// of every call. 100,000 calls on 4,000 companies are 4,000 reads, not 200,000. The scores
/// come back in the order of `records`.
pub fn score_ratings(
    store: &Store,
    records: Vec<RatingRecord>,
    book: &BrokerBook,
    as_of: NaiveDate,
    options: &AnalysisOptions,
) -> Result<Vec<ScoredCall>, PipelineError> {
    let prepared: Vec<_> = records.iter().map(|record| ratings::prepare(record, book)).collect();
    // Each scorable call's verdict date and the last date it reads; the calls per company.
    let mut windows: Vec<Option<(NaiveDate, NaiveDate)>> = vec![None; records.len()];
    let mut by_company: HashMap<&Symbol, Vec<usize>, FxBuildHasher> = HashMap::default();
    let mut all: Option<(NaiveDate, NaiveDate)> = None;
    for (index, prepared) in prepared.iter().enumerate() {
        if let Ok((report, _)) = prepared {
            let call_as_of = as_of.max(report.report_date);
            let end = verdict_end(report, call_as_of);
            windows[index] = Some((call_as_of, end));
            all = Some(widen(all, (report.report_date, end)));
            by_company.entry(&records[index].symbol).or_default().push(index);
        }
    }
    let mut scores: Vec<Option<CallScore>> = prepared.iter().map(|p| p.as_ref().err().map(|unscored| (**unscored).clone())).collect();
    if let Some(all) = all {
        // Companies in a fixed order (the first call's), so reads do not depend on hashing.
        let mut companies: Vec<(&Symbol, Vec<usize>)> = by_company.into_iter().collect();
        companies.sort_by_key(|(_, indices)| indices[0]);
        let mut cache = ColumnCache::default();
        for (company, indices) in companies {
            let window = indices.iter().filter_map(|&i| prepared[i].as_ref().ok()).map(|(report, _)| report.report_date);
            let start = window.min().unwrap_or(all.0);
            let end = indices.iter().filter_map(|&i| windows[i]).map(|(_, end)| end).max().unwrap_or(all.1);
            cache.fill(store, std::slice::from_ref(company), (start, end))?;
            for &index in &indices {
                let (Ok((report, horizon)), Some((call_as_of, end))) = (&prepared[index], windows[index]) else { continue };
                let closes = assemble_closes(report, end, |symbols, start, end| cache.read(store, symbols, (start, end), all))?;
                scores[index] = Some(match analysis::compute_verdict(report, &closes, call_as_of, options) {
                    Ok(verdict) => ratings::score_from_verdict(report, horizon, &verdict),
                    Err(error) => CallScore::unscored(UnscoredKind::NoPrices, format!("no prices: {error}")),
                });
            }
            // The company's closes are not needed again (one company's calls at a time).
            cache.forget(company);
        }
    }
    Ok(records
        .into_iter()
        .zip(scores)
        // Every call is unscored by `prepare` or scored in its company's pass above.
        .map(|(record, score)| ScoredCall { record, score: score.expect("every call is scored in its company's pass") })
        .collect())
}

/// The union of two windows.
fn widen(window: Option<(NaiveDate, NaiveDate)>, with: (NaiveDate, NaiveDate)) -> (NaiveDate, NaiveDate) {
    window.map_or(with, |(start, end)| (start.min(with.0), end.max(with.1)))
}

/// Closes read once for a window and answered for any window inside it: a read outside what
/// is held reads again, for the union of what is held, the window asked and `hint`.
#[derive(Default)]
struct ColumnCache {
    held: HashMap<Symbol, ((NaiveDate, NaiveDate), CloseColumns), FxBuildHasher>,
}

impl ColumnCache {
    /// Makes `symbols`' closes over `window` held (reading those not held for it).
    fn fill(&mut self, store: &Store, symbols: &[Symbol], window: (NaiveDate, NaiveDate)) -> Result<(), StoreError> {
        let covers = |held: &(NaiveDate, NaiveDate)| held.0 <= window.0 && window.1 <= held.1;
        let missing: Vec<Symbol> = symbols.iter().filter(|s| !self.held.get(*s).is_some_and(|(held, _)| covers(held))).cloned().collect();
        if missing.is_empty() {
            return Ok(());
        }
        let wide = missing.iter().fold(window, |wide, symbol| match self.held.get(symbol) {
            Some((held, _)) => widen(Some(*held), wide),
            None => wide,
        });
        for (symbol, columns) in store.close_columns_from_as_of(&missing, wide.0, wide.1)? {
            self.held.insert(symbol, (wide, columns));
        }
        Ok(())
    }

    /// What [`Store::close_columns_from_as_of`] answers for `symbols` over `window`.
    fn read(
        &mut self,
        store: &Store,
        symbols: &[Symbol],
        window: (NaiveDate, NaiveDate),
        hint: (NaiveDate, NaiveDate),
    ) -> Result<Vec<(Symbol, CloseColumns)>, StoreError> {
        let covered = symbols.iter().all(|s| self.held.get(s).is_some_and(|(held, _)| held.0 <= window.0 && window.1 <= held.1));
        if !covered {
            self.fill(store, symbols, widen(Some(window), hint))?;
        }
        Ok(symbols.iter().map(|symbol| (symbol.clone(), self.held[symbol].1.as_of_window(window.0, window.1))).collect())
    }

    fn forget(&mut self, symbol: &Symbol) {
        self.held.remove(symbol);
    }
}

/// The closes a verdict or summary to `end` needs, and no others, in three statements
/// whatever the report's size: the companies, then the benchmark, then the FX pairs.
fn load_closes(store: &Store, report: &ReportDef, end: NaiveDate) -> Result<Closes, PipelineError> {
    assemble_closes(report, end, |symbols, start, end| store.close_columns_from_as_of(symbols, start, end))
}

/// [`load_closes`] with the reads made by `read` (a [`Store::close_columns_from_as_of`] or
/// an answer from closes read before): which closes a verdict needs is decided here only.
fn assemble_closes(
    report: &ReportDef,
    end: NaiveDate,
    mut read: impl FnMut(&[Symbol], NaiveDate, NaiveDate) -> Result<Vec<(Symbol, CloseColumns)>, StoreError>,
) -> Result<Closes, PipelineError> {
    let report_date = report.report_date;
    let mut closes = Closes::with_capacity_and_hasher(report.companies.len() + 3, Default::default());
    let mut earliest = report_date;
    let companies: Vec<Symbol> = report.companies.iter().map(|company| company.symbol.clone()).collect();
    for (symbol, columns) in read(&companies, report_date, end)? {
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
    for (symbol, columns) in read(&others, earliest, end)? {
        closes.insert(symbol, Series::from_columns(columns.dates, columns.values));
    }
    Ok(closes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ratings::Change;
    use crate::store::SeriesWrite;

    /// A first-coverage rating of `symbol` by `broker` on `day`, the fields scoring ignores empty.
    fn record(code: &str, symbol: &Symbol, broker: &str, day: NaiveDate, word: &str) -> RatingRecord {
        RatingRecord {
            info_code: code.to_string(),
            symbol: symbol.clone(),
            name: String::new(),
            broker: broker.into(),
            broker_full: String::new(),
            analysts: "甲".into(),
            date: day,
            rating: word.into(),
            normalized: None,
            normalized_value: None,
            previous: None,
            previous_value: None,
            change: Change::FirstCoverage,
            target_price: None,
            title: String::new(),
            pdf_url: String::new(),
        }
    }

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
        let call = |code: &str, broker: &str, word: &str| record(code, &moutai, broker, date(2023, 1, 3), word);
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

    /// The scoring before the batched reads: each call through [`verdict`], two reads a call.
    fn score_each(store: &Store, records: Vec<RatingRecord>, book: &BrokerBook, as_of: NaiveDate) -> Vec<ScoredCall> {
        let options = AnalysisOptions::default();
        let mut calls = Vec::new();
        for record in records {
            let score = match ratings::prepare(&record, book) {
                Err(unscored) => *unscored,
                Ok((report, horizon)) => match verdict(store, &report, as_of.max(record.date), &options) {
                    Ok(verdict) => ratings::score_from_verdict(&report, &horizon, &verdict),
                    Err(PipelineError::Analysis(error)) => CallScore::unscored(UnscoredKind::NoPrices, format!("no prices: {error}")),
                    Err(other) => panic!("{other}"),
                },
            };
            calls.push(ScoredCall { record, score });
        }
        calls
    }

    #[test]
    fn scoring_company_by_company_equals_scoring_each_call_alone() {
        use chrono::{Datelike, Utc, Weekday};

        use crate::analysis::ratings::CallStatus;
        use crate::prices::{AdjBasis, Bar};

        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let sym = |s: &str| Symbol::parse(s).unwrap();
        let weekdays: Vec<NaiveDate> = date(2022, 1, 3)
            .iter_days()
            .take_while(|d| *d <= date(2023, 12, 29))
            .filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
            .collect();
        let mut store = Store::open_in_memory().unwrap();
        let today = date(2024, 1, 31);
        // Smooth paths with different phases and trends, so the calls land in different bands.
        let path = |k: usize, phase: f64, trend: f64| 100.0 * (1.0 + 0.25 * (k as f64 / 23.0 + phase).sin()) * (1.0 + trend * k as f64);
        let (csi, hsi, hkd) = (sym("000300.SH"), sym("^HSI.HK"), sym("HKDCNY.FX"));
        let (mobile, zte, tencent, haiguang) = (sym("600941.SH"), sym("000063.SZ"), sym("0700.HK"), sym("688041.SH"));
        // 000063.SZ is suspended from 2022-05-02 to 2022-09-30: a call on 2022-08-01 is based
        // on 2022-04-29's close, before every call's date (the benchmark read must reach back).
        let suspended = |d: NaiveDate| (date(2022, 5, 2)..=date(2022, 9, 30)).contains(&d);
        type Keep<'a> = &'a dyn Fn(usize, NaiveDate) -> bool;
        let series: [(&Symbol, f64, f64, Keep); 6] = [
            (&csi, 0.0, 0.0002, &|_, _| true),
            (&hsi, 1.0, -0.0001, &|_, _| true),
            (&hkd, 2.0, 0.0, &|_, _| true),
            (&mobile, 0.5, 0.0008, &|_, _| true),
            (&zte, 2.5, -0.0006, &|_, d| !suspended(d)),
            // Hong Kong skips one weekday in 7.
            (&tencent, 4.0, 0.0004, &|k, _| k % 7 != 3),
        ];
        for (symbol, phase, trend, keep) in series {
            store.ensure_security(symbol).unwrap();
            let bars: Vec<Bar> = weekdays
                .iter()
                .enumerate()
                .filter(|&(k, &d)| keep(k, d))
                .map(|(k, &d)| {
                    let value = if symbol.is_fx() { 0.9 + 0.01 * (k as f64 / 50.0).sin() } else { path(k, phase, trend) };
                    Bar { adj_close: value, ..Bar::close_only(d, value) }
                })
                .collect();
            let basis = if symbol.is_fx() || symbol.is_index() { AdjBasis::None } else { AdjBasis::Imported };
            store.upsert_bars(&SeriesWrite::new(symbol, &bars, "csv", basis, today, Utc::now())).unwrap();
        }
        // 40 calls from 2022-06-01 on, cycling through companies, brokers and their words;
        // 688041.SH has no prices (unscored), 诚通证券 no rule.
        let brokers: [(&str, &[&str]); 6] = [
            ("华泰证券", &["买入", "增持", "中性", "减持", "卖出"]),
            ("国泰君安", &["增持", "谨慎增持", "中性", "减持"]),
            ("招商证券", &["强烈推荐", "增持", "中性", "减持"]),
            ("中信建投", &["买入", "增持", "中性", "减持", "卖出"]),
            ("兴业证券", &["买入", "增持", "中性", "减持"]),
            ("诚通证券", &["买入"]),
        ];
        let companies = [&mobile, &zte, &tencent, &haiguang, &zte];
        let records: Vec<RatingRecord> = (0..40)
            .map(|i: usize| {
                let (broker, words) = brokers[i % brokers.len()];
                // The 000063.SZ calls of i = 1 and 4 (mod 5) fall inside its suspension for i < 10.
                let day = date(2022, 6, 1) + Days::new((i * 13 % 400) as u64);
                record(&format!("AP{i:03}"), companies[i % companies.len()], broker, day, words[i / brokers.len() % words.len()])
            })
            .collect();
        let book = BrokerBook::load(None).unwrap();
        let as_of = date(2023, 6, 30);
        let batched = score_ratings(&store, records.clone(), &book, as_of, &AnalysisOptions::default()).unwrap();
        let each = score_each(&store, records.clone(), &book, as_of);
        assert_eq!(batched, each);
        // The case is not vacuous: every status occurs, a Hong Kong call is scored against
        // 恒生指数 through HKDCNY.FX, and a suspended company's call reads an older base.
        let count = |status: CallStatus| batched.iter().filter(|c| c.score.status == status).count();
        let counts = [CallStatus::Held, CallStatus::NotHeld, CallStatus::Pending, CallStatus::Unscored].map(count);
        assert!(counts.iter().all(|&n| n > 0), "{counts:?}");
        assert!(batched.iter().any(|c| c.record.symbol == tencent && c.score.excess.is_some()));
        assert!(batched.iter().any(|c| c.record.symbol == zte && suspended(c.record.date) && c.score.excess.is_some()));
        // Another as-of date and order: still the same, and in the order given.
        let mut reversed = records;
        reversed.reverse();
        let later = date(2023, 12, 29);
        assert_eq!(
            score_ratings(&store, reversed.clone(), &book, later, &AnalysisOptions::default()).unwrap(),
            score_each(&store, reversed, &book, later)
        );
    }
}
