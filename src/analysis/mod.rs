//! Pure analysis: price series, FX series and a report's rule in; verdicts and weekly
//! summaries out.
//!
//! Invariants (stated as absences): no SQL, no HTTP, no clock — the as-of date and the data
//! are arguments, so every number here can be checked by hand from its inputs.
//!
//! The product's definitions, in the words of the code:
//! - Base close: each company's adjusted close on its own last trading day on or before the
//!   report date T0. A company without one (listed later, no data) is excluded from every
//!   basket and named in `excluded` and `warnings`.
//! - As-of: a value "as of D" is the latest close on or before D ([`Series::as_of`]); the
//!   dates a verdict or summary is taken on are benchmark trading days.
//! - Currency: in CNY mode (`--currency cny`) a company quoted in another currency than the
//!   benchmark is valued in the benchmark's currency as `close × fx(close date)`, with `fx` =
//!   `rate(listing → CNY) / rate(benchmark currency → CNY)` as of that close's own date (the
//!   second rate is 1 for a CNY benchmark such as 沪深300; for 恒生指数 a CNY member is divided
//!   by HKDCNY); the return is `(end_close × fx_end) / (base_close × fx_base) − 1`.
//! - Basket: equal weight, buy and hold from the base: the mean of the members' returns.
//!   The whole report's basket holds every company once.
//! - Excess = basket return − benchmark return over the same dates (fractions; 0.1 = 10 pp),
//!   rated with [`crate::catalog::RatingRule::implied`] (rounded to bp, bounds inclusive).
//! - Stale: a close more than `stale_after_trading_days` benchmark trading days older than
//!   the date it is used at; still counted, always flagged.

mod basket;
pub mod model;
pub mod ratings;
mod series;
mod verdict;
mod week;
mod weekly;

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::catalog::ReportDef;
use crate::symbol::Symbol;

pub use model::CurrencyMode;
pub use series::{Point, Series};
pub use verdict::compute_verdict;
pub use week::WeekSpec;
pub use weekly::compute_weekly;

/// Every series the analysis reads, by symbol: companies' adjusted closes, the benchmark's
/// closes as published, and FX rates (`USDCNY.FX`, `HKDCNY.FX`: CNY per unit). Hashed with
/// rustc-hash's `FxHasher`: a 5,000-company summary looks symbols up tens of thousands of
/// times, and the keys are our own validated symbols (no hash-flooding risk).
pub type Closes = HashMap<Symbol, Series, rustc_hash::FxBuildHasher>;

/// What a verdict or summary is computed with.
#[derive(Clone, Debug, PartialEq)]
pub struct AnalysisOptions {
    pub currency: CurrencyMode,
    /// A close older than this many benchmark trading days at the as-of date is stale.
    pub stale_after_trading_days: u32,
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        AnalysisOptions { currency: CurrencyMode::Cny, stale_after_trading_days: 5 }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnalysisError {
    #[error("as-of date {as_of} is before the report date {report_date} of `{report_id}`; pass --as-of {report_date} or later")]
    AsOfBeforeReport { report_id: String, as_of: NaiveDate, report_date: NaiveDate },
    #[error(
        "no prices for the benchmark {name} ({symbol}) on or before {date}; run `ratingwatch sync` or `ratingwatch import prices --symbol {symbol} FILE.csv`"
    )]
    NoBenchmarkPrices { symbol: Symbol, name: String, date: NaiveDate },
    #[error(
        "no company of report `{report_id}` can be priced ({example}); run `ratingwatch sync` or `ratingwatch import prices --symbol SYMBOL FILE.csv`"
    )]
    NoMemberPrices { report_id: String, example: String },
    #[error("{}", no_prices_in_week(week, week_start, week_end, benchmark_name, latest_close, next_close))]
    NoPricesInWeek {
        week: crate::ids::Week,
        week_start: NaiveDate,
        week_end: NaiveDate,
        benchmark_name: String,
        latest_close: NaiveDate,
        /// The benchmark's first close after the week, when the store has one (filled in by
        /// `pipeline::weekly`): then the week was a market holiday, not missing data.
        next_close: Option<NaiveDate>,
    },
}

fn no_prices_in_week(
    week: &crate::ids::Week,
    week_start: &NaiveDate,
    week_end: &NaiveDate,
    benchmark_name: &str,
    latest_close: &NaiveDate,
    next_close: &Option<NaiveDate>,
) -> String {
    match next_close {
        Some(next) => format!(
            "week {week} ({week_start} to {week_end}) was a market holiday: {benchmark_name} has no close in it (the last before is from \
             {latest_close}, the next from {next}); there is no summary for it"
        ),
        None => format!(
            "no prices in week {week} ({week_start} to {week_end}): the latest close of {benchmark_name} by then is from {latest_close}; \
             it may be a market holiday week, or prices are not synced yet (`ratingwatch sync`)"
        ),
    }
}

/// A summary asked for one week whose benchmark has no close in it (a holiday week, or
/// prices not synced yet) is measured from one close to the same close: 0.00 % everywhere,
/// which reads as a flat week rather than as no data. `pipeline::weekly` refuses it with
/// this, for every weekly question (`report`, `notify send`, the week page and API, the job).
pub fn check_week_has_prices(summary: &model::WeeklySummary) -> Result<(), AnalysisError> {
    if summary.as_of < summary.week_start {
        return Err(AnalysisError::NoPricesInWeek {
            week: summary.week,
            week_start: summary.week_start,
            week_end: summary.week_end,
            benchmark_name: summary.benchmark_name.clone(),
            latest_close: summary.as_of,
            next_close: None,
        });
    }
    Ok(())
}

/// The one rule on dates: a verdict or summary is as of the report date or later. The
/// computations check it first; the pipeline's errors come from here.
pub fn check_as_of(report: &ReportDef, as_of: NaiveDate) -> Result<(), AnalysisError> {
    if as_of < report.report_date {
        return Err(AnalysisError::AsOfBeforeReport { report_id: report.id.clone(), as_of, report_date: report.report_date });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
