//! Glue between the store and the pure analysis: load only the bars a question needs, then
//! compute. The CLI (`verdict`, `report`) and the service's weekly job call these same
//! functions. (Placeholder bodies: the analysis work replaces them; the signatures are the
//! contract.)

use chrono::NaiveDate;

use crate::analysis::model::{CurrencyMode, Verdict, WeeklySummary};
use crate::store::{Store, StoreError};

/// What a verdict or summary is computed with.
#[derive(Clone, Debug, PartialEq)]
pub struct AnalysisOptions {
    pub currency: CurrencyMode,
    /// A close older than this many benchmark trading days at the as-of date is stale.
    pub stale_after_trading_days: u32,
}

/// Which week a weekly summary covers.
#[derive(Clone, Debug, PartialEq)]
pub enum WeekSelection {
    /// An ISO week, e.g. parsed from `2023-W20`.
    Week { year: i32, week: u32 },
    /// The ISO week containing this date, as of this date.
    AsOf(NaiveDate),
    /// The latest complete ISO week before `today`.
    Latest { today: NaiveDate },
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
}

/// Parses `2023-W20` (also `2023W20`, `2023-w20`) into an ISO year and week.
pub fn parse_week(input: &str) -> Result<WeekSelection, PipelineError> {
    let _ = input;
    Err(PipelineError::BadWeek { input: input.to_string() })
}

/// The verdict of one report as of a date.
pub fn verdict(store: &Store, report_id: &str, as_of: NaiveDate, options: &AnalysisOptions) -> Result<Verdict, PipelineError> {
    let _ = (store, as_of, options);
    Err(PipelineError::UnknownReport { id: report_id.to_string(), known: String::new() })
}

/// The verdict of every report in the database as of a date (the ledger).
pub fn verdict_all(store: &Store, as_of: NaiveDate, options: &AnalysisOptions) -> Result<Vec<Verdict>, PipelineError> {
    let _ = (store, as_of, options);
    Ok(Vec::new())
}

/// The weekly summary of one report.
pub fn weekly(
    store: &Store,
    report_id: &str,
    selection: &WeekSelection,
    options: &AnalysisOptions,
) -> Result<WeeklySummary, PipelineError> {
    let _ = (store, selection, options);
    Err(PipelineError::UnknownReport { id: report_id.to_string(), known: String::new() })
}
