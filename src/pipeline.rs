//! Glue between the store and the pure analysis: load only the bars a question needs, then
//! compute. The CLI (`verdict`, `report`) and the service's weekly job call these same
//! functions.
//!
//! What is loaded: the report as it stands in the database, and for each company its
//! closes from the base close (its latest on or before the report date) to the end date;
//! the benchmark and FX pairs from the oldest of those base closes. Each is one index seek
//! plus one range of the `(symbol, date)` key, so a verdict reads a few hundred rows per
//! company however long the stored history is.

use chrono::NaiveDate;

use crate::analysis::model::{Verdict, WeeklySummary};
use crate::analysis::{self, AnalysisError, Closes, Series, WeekSpec};
use crate::catalog::ReportDef;
use crate::ids::Week;
use crate::store::{Store, StoreError};
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

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("no report `{id}` (known: {known})")]
    UnknownReport { id: String, known: String },
    #[error("as-of date {as_of} is before the report date {report_date}")]
    AsOfBeforeReport { as_of: NaiveDate, report_date: NaiveDate },
    #[error(
        "no prices for the benchmark {symbol} up to {date}; run `ratingwatch sync` or `ratingwatch import prices --symbol {symbol} FILE.csv`"
    )]
    NoBenchmarkPrices { symbol: String, date: NaiveDate },
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Any other reason the analysis cannot run (e.g. no company has a price).
    #[error(transparent)]
    Analysis(AnalysisError),
}

impl From<AnalysisError> for PipelineError {
    fn from(error: AnalysisError) -> Self {
        match error {
            AnalysisError::AsOfBeforeReport { as_of, report_date } => PipelineError::AsOfBeforeReport { as_of, report_date },
            AnalysisError::NoBenchmarkPrices { symbol, date } => PipelineError::NoBenchmarkPrices { symbol: symbol.to_string(), date },
            other => PipelineError::Analysis(other),
        }
    }
}

/// The verdict of one report as of a date.
pub fn verdict(store: &Store, report_id: &str, as_of: NaiveDate, options: &AnalysisOptions) -> Result<Verdict, PipelineError> {
    let report = load_report(store, report_id)?;
    verdict_of(store, &report, as_of, options)
}

/// The verdict of every report in the database as of a date (the ledger), oldest report
/// first. A report dated after `as_of` has no verdict yet and is left out.
pub fn verdict_all(store: &Store, as_of: NaiveDate, options: &AnalysisOptions) -> Result<Vec<Verdict>, PipelineError> {
    let mut verdicts = Vec::new();
    for id in store.report_ids()? {
        let report = store.report(&id)?;
        if report.report_date <= as_of {
            verdicts.push(verdict_of(store, &report, as_of, options)?);
        }
    }
    Ok(verdicts)
}

/// The weekly summary of one report.
pub fn weekly(
    store: &Store,
    report_id: &str,
    selection: &WeekSelection,
    options: &AnalysisOptions,
) -> Result<WeeklySummary, PipelineError> {
    let report = load_report(store, report_id)?;
    let week = selection.resolve();
    if week.cutoff < report.report_date {
        return Err(PipelineError::AsOfBeforeReport { as_of: week.cutoff, report_date: report.report_date });
    }
    let closes = load_closes(store, &report, week.cutoff)?;
    Ok(analysis::compute_weekly(&report, &closes, &week, options)?)
}

fn verdict_of(store: &Store, report: &ReportDef, as_of: NaiveDate, options: &AnalysisOptions) -> Result<Verdict, PipelineError> {
    if as_of < report.report_date {
        return Err(PipelineError::AsOfBeforeReport { as_of, report_date: report.report_date });
    }
    let closes = load_closes(store, report, as_of.min(report.horizon_end()))?;
    Ok(analysis::compute_verdict(report, &closes, as_of, options)?)
}

fn load_report(store: &Store, report_id: &str) -> Result<ReportDef, PipelineError> {
    let known = store.report_ids()?;
    if !known.iter().any(|id| id == report_id) {
        let known = if known.is_empty() { "none; run `ratingwatch init`".to_string() } else { known.join(", ") };
        return Err(PipelineError::UnknownReport { id: report_id.to_string(), known });
    }
    Ok(store.report(report_id)?)
}

/// The closes a verdict or summary to `end` needs, and no others.
fn load_closes(store: &Store, report: &ReportDef, end: NaiveDate) -> Result<Closes, PipelineError> {
    let report_date = report.report_date;
    let mut closes = Closes::with_capacity(report.companies.len() + 3);
    let mut earliest = report_date;
    for company in &report.companies {
        let points = store.closes_from_as_of(&company.symbol, report_date, end)?;
        if let Some(&(first, _)) = points.first() {
            earliest = earliest.min(first);
        }
        closes.insert(company.symbol.clone(), Series::new(points));
    }
    // The benchmark and the FX pairs reach back to the oldest base close (a company
    // suspended over the report date has an old one), so its age can be counted in
    // benchmark trading days and its base converted at the rate of its own date.
    let benchmark = store.closes_from_as_of(&report.rule.benchmark, earliest, end)?;
    if benchmark.is_empty() {
        return Err(PipelineError::NoBenchmarkPrices { symbol: report.rule.benchmark.to_string(), date: end });
    }
    closes.insert(report.rule.benchmark.clone(), Series::new(benchmark));
    let mut pairs: Vec<Symbol> = report.fx.clone();
    let currencies = report.companies.iter().map(|c| c.symbol.currency()).chain([report.rule.benchmark.currency()]);
    pairs.extend(currencies.filter_map(|currency| currency.cny_pair()));
    for pair in pairs {
        if let std::collections::hash_map::Entry::Vacant(entry) = closes.entry(pair) {
            let rates = store.closes_from_as_of(entry.key(), earliest, end)?;
            entry.insert(Series::new(rates));
        }
    }
    Ok(closes)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
