//! Glue between the store and the pure analysis: load only the bars a question needs, then
//! compute. The CLI (`verdict`, `report`) and the service's weekly job call these same
//! functions.
//!
//! What is loaded: the report as it stands in the database, and for each company its
//! closes from the base close (its latest on or before the report date) to the end date;
//! the benchmark and FX pairs from the oldest of those base closes. Each security is one
//! index seek plus one range of the `(symbol, date)` key, so a verdict reads a few hundred
//! rows per company however long the stored history is, and all companies are read by one
//! statement ([`Store::closes_from_as_of`]), not one each. Nothing is cached between calls:
//! every verdict reads the database as it stands.

use chrono::NaiveDate;

use crate::analysis::model::{Verdict, WeeklySummary};
use crate::analysis::{self, AnalysisError, Closes, Series, WeekSpec};
use crate::catalog::ReportDef;
use crate::store::{Store, StoreError};
use crate::symbol::Symbol;

pub use crate::analysis::AnalysisOptions;

/// Which week a weekly summary covers.
#[derive(Clone, Debug, PartialEq)]
pub enum WeekSelection {
    /// An ISO week, e.g. parsed from `2023-W20`.
    Week { year: i32, week: u32 },
    /// The ISO week containing this date, as of this date.
    AsOf(NaiveDate),
    /// The latest complete ISO week before `today`: the week of the latest Friday strictly
    /// before `today` (see [`WeekSpec::latest_complete`]).
    Latest { today: NaiveDate },
}

impl WeekSelection {
    /// The calendar week and cutoff date this selection stands for.
    pub fn resolve(&self) -> Result<WeekSpec, PipelineError> {
        match *self {
            WeekSelection::Week { year, week } => {
                WeekSpec::iso(year, week).ok_or_else(|| PipelineError::BadWeek { input: format!("{year}-W{week:02}") })
            }
            WeekSelection::AsOf(date) => Ok(WeekSpec::containing(date)),
            WeekSelection::Latest { today } => Ok(WeekSpec::latest_complete(today)),
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
    #[error("`{input}` is not a week; expected the form 2023-W20")]
    BadWeek { input: String },
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

/// Parses `2023-W20` (also `2023W20`, `2023-w20`, `2023-W5`) into an ISO year and week.
/// The week must exist in that year (1–52, or 53 in long years).
pub fn parse_week(input: &str) -> Result<WeekSelection, PipelineError> {
    let bad = || PipelineError::BadWeek { input: input.to_string() };
    let text = input.trim();
    let (year, week) = text.split_once(['W', 'w']).ok_or_else(bad)?;
    let year = year.strip_suffix('-').unwrap_or(year);
    let digits = |s: &str, max_len: usize| !s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit());
    if year.len() != 4 || !digits(year, 4) || !digits(week, 2) {
        return Err(bad());
    }
    let (year, week): (i32, u32) = (year.parse().map_err(|_| bad())?, week.parse().map_err(|_| bad())?);
    WeekSpec::iso(year, week).ok_or_else(bad)?;
    Ok(WeekSelection::Week { year, week })
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
    let week = selection.resolve()?;
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

/// The closes a verdict or summary to `end` needs, and no others, in three statements
/// whatever the report's size: the companies, then the benchmark, then the FX pairs.
fn load_closes(store: &Store, report: &ReportDef, end: NaiveDate) -> Result<Closes, PipelineError> {
    let report_date = report.report_date;
    let mut closes = Closes::with_capacity(report.companies.len() + 3);
    let mut earliest = report_date;
    let companies: Vec<Symbol> = report.companies.iter().map(|company| company.symbol.clone()).collect();
    for (symbol, points) in store.closes_from_as_of(&companies, report_date, end)? {
        if let Some(&(first, _)) = points.first() {
            earliest = earliest.min(first);
        }
        closes.insert(symbol, Series::new(points));
    }
    // The benchmark and the FX pairs reach back to the oldest base close (a company
    // suspended over the report date has an old one), so its age can be counted in
    // benchmark trading days and its base converted at the rate of its own date.
    let mut others: Vec<Symbol> = vec![report.rule.benchmark.clone()];
    let currencies = report.companies.iter().map(|c| c.symbol.currency()).chain([report.rule.benchmark.currency()]);
    for pair in report.fx.iter().cloned().chain(currencies.filter_map(|currency| currency.cny_pair())) {
        if !closes.contains_key(&pair) && !others.contains(&pair) {
            others.push(pair);
        }
    }
    for (symbol, points) in store.closes_from_as_of(&others, earliest, end)? {
        if symbol == report.rule.benchmark && points.is_empty() {
            return Err(PipelineError::NoBenchmarkPrices { symbol: symbol.to_string(), date: end });
        }
        closes.insert(symbol, Series::new(points));
    }
    Ok(closes)
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case("2023-W20", 2023, 20)]
    #[case("2023W20", 2023, 20)]
    #[case("2023-w20", 2023, 20)]
    #[case(" 2023-W05 ", 2023, 5)]
    #[case("2023-W5", 2023, 5)]
    #[case("2020-W53", 2020, 53)]
    fn good_weeks(#[case] input: &str, #[case] year: i32, #[case] week: u32) {
        assert_eq!(parse_week(input).unwrap(), WeekSelection::Week { year, week });
    }

    #[rstest]
    #[case("")]
    #[case("2023")]
    #[case("2023-20")]
    #[case("W20")]
    #[case("23-W20")]
    #[case("2023-W")]
    #[case("2023-W0")]
    #[case("2023-W53")] // 2023 has 52 ISO weeks
    #[case("2023-W123")]
    #[case("2023-W2x")]
    #[case("2023--W20")]
    #[case("2023-05-19")]
    fn bad_weeks_show_the_expected_form(#[case] input: &str) {
        let err = parse_week(input).unwrap_err();
        assert!(matches!(&err, PipelineError::BadWeek { input: shown } if shown == input), "{err:?}");
        assert!(err.to_string().contains("2023-W20"), "{err}");
    }

    #[test]
    fn selections_resolve_to_weeks() {
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let week = WeekSelection::Week { year: 2023, week: 20 }.resolve().unwrap();
        assert_eq!((week.label(), week.cutoff), ("2023-W20".to_string(), date(2023, 5, 19)));
        let as_of = WeekSelection::AsOf(date(2023, 5, 17)).resolve().unwrap();
        assert_eq!((as_of.label(), as_of.cutoff), ("2023-W20".to_string(), date(2023, 5, 17)));
        let latest = WeekSelection::Latest { today: date(2023, 5, 22) }.resolve().unwrap();
        assert_eq!((latest.label(), latest.cutoff), ("2023-W20".to_string(), date(2023, 5, 19)));
        let err = WeekSelection::Week { year: 2023, week: 53 }.resolve().unwrap_err();
        assert!(err.to_string().contains("2023-W53"), "{err}");
    }
}
