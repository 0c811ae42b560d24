//! What the analysis produces: the verdict and the weekly summary, as plain data.
//!
//! Field names are the verdict JSON contract (`verdict --format json`, pinned by the snapshot
//! tests in `tests/it/snapshots/`); returns and excess are fractions (0.1234 = 12.34 %). The `report` module renders these; nothing here formats.

use chrono::NaiveDate;
use serde::Serialize;

use crate::ids::Week;
use crate::symbol::{Currency, Symbol};

/// Which currency member returns are measured in (`--currency cny|local`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum CurrencyMode {
    /// Converted into the benchmark's currency with the daily FX rate of the same dates.
    #[default]
    Cny,
    /// Each member in its own listing currency.
    Local,
}

/// Whether a rating held at the horizon end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Held,
    NotHeld,
    /// The horizon end has not passed at the as-of date; numbers run to the latest close.
    Pending,
}

/// The benchmark's return over the verdict's dates.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BenchmarkReturn {
    pub symbol: Symbol,
    pub name: String,
    pub base_date: NaiveDate,
    pub base_close: f64,
    pub end_date: NaiveDate,
    pub end_close: f64,
    #[serde(rename = "return")]
    pub total_return: f64,
}

/// One member's buy-and-hold return from its base close.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MemberReturn {
    pub symbol: Symbol,
    pub name: String,
    /// Listing currency of the closes below.
    pub currency: Currency,
    pub base_date: NaiveDate,
    /// Adjusted close on the base date, in the listing currency.
    pub base_close: f64,
    pub end_date: NaiveDate,
    /// Adjusted close on the end date, in the listing currency.
    pub end_close: f64,
    /// Return in the verdict's currency mode.
    #[serde(rename = "return")]
    pub total_return: f64,
    /// Return in the listing currency.
    pub local_return: f64,
    /// `return` less the benchmark's return over the verdict's window.
    pub excess: f64,
    /// This member's share of its group's equal-weight return, `return / priced members`:
    /// a group's contributions add up to its return (so it differs per sector).
    pub contribution: f64,
    /// FX factors (listing currency → the benchmark's currency, `rate(listing → CNY) /
    /// rate(benchmark currency → CNY)`) used at base and end, when converted.
    pub fx_base: Option<f64>,
    pub fx_end: Option<f64>,
    /// The end close is older than the staleness limit at the as-of date.
    pub stale: bool,
}

/// A member left out of a basket, and why (never silently).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExcludedMember {
    pub symbol: Symbol,
    pub name: String,
    pub reason: String,
}

/// One point of the excess path: the excess as of a benchmark trading day.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PathPoint {
    pub date: NaiveDate,
    pub excess: f64,
}

/// The verdict for one sector, or for the whole report's basket.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupVerdict {
    pub name: String,
    pub name_en: String,
    /// Equal-weight buy-and-hold basket return: the mean of the members' returns.
    #[serde(rename = "return")]
    pub total_return: f64,
    /// Basket return minus benchmark return over the same dates.
    pub excess: f64,
    /// The report's own label (看好/中性/看淡) for the excess.
    pub implied_rating: String,
    pub implied_rating_en: String,
    /// The implied rating equals the report's rating (at the horizon end once it has passed,
    /// otherwise as of now).
    pub held: bool,
    pub status: Status,
    pub best_excess: Option<f64>,
    pub best_excess_date: Option<NaiveDate>,
    pub worst_excess: Option<f64>,
    pub worst_excess_date: Option<NaiveDate>,
    pub members: Vec<MemberReturn>,
    pub excluded: Vec<ExcludedMember>,
    /// Excess as of every benchmark trading day after the report date up to the end date.
    pub path: Vec<PathPoint>,
}

/// Did the report's rating hold?
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verdict {
    pub report_id: String,
    pub title: String,
    pub broker: String,
    /// The report's rating label (看好/中性/看淡).
    pub rating: String,
    pub rating_en: String,
    pub report_date: NaiveDate,
    pub horizon_end: NaiveDate,
    pub as_of: NaiveDate,
    /// The last benchmark trading day used: min(as_of, horizon_end), walked back to a close.
    pub end_date: NaiveDate,
    pub status: Status,
    /// Calendar days from the as-of date to the horizon end; 0 once it has passed.
    pub days_left: i64,
    pub currency: CurrencyMode,
    pub benchmark: BenchmarkReturn,
    pub sectors: Vec<GroupVerdict>,
    pub basket: GroupVerdict,
    /// Everything a reader must know: excluded members, missing FX, stale data.
    pub warnings: Vec<String>,
    /// One line stating the method (equal weight, adjusted prices, currency, benchmark, dates).
    pub method: String,
}

/// A member's move over the week, for the best and worst lists.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MemberMove {
    pub symbol: Symbol,
    pub name: String,
    pub week_return: f64,
}

/// Members `m0`, `m1`, … (symbols 600000.SH, 600001.SH, …) with these week returns, in this
/// order: the best-and-worst tests' input.
#[cfg(test)]
pub(crate) fn ranked_moves(returns: &[f64]) -> Vec<MemberMove> {
    returns
        .iter()
        .enumerate()
        .map(|(i, &week_return)| MemberMove { symbol: format!("60000{i}.SH").parse().unwrap(), name: format!("m{i}"), week_return })
        .collect()
}

/// One sector (or the basket) in a weekly summary.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SectorWeek {
    pub name: String,
    pub name_en: String,
    pub week_return: f64,
    pub since_report_return: f64,
    pub week_excess: f64,
    pub since_report_excess: f64,
    /// Implied rating from the since-report excess, in the report's words.
    pub implied_rating: String,
    pub implied_rating_en: String,
    /// By week return: the best three (best first) and the worst three (worst first), never
    /// the same member in both; a sector of six members or fewer has one list, `best`, every
    /// member best to worst, and `worst` empty.
    pub best: Vec<MemberMove>,
    pub worst: Vec<MemberMove>,
}

/// The latest close per market at the summary's as-of date.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MarketFreshness {
    pub market: String,
    pub latest_close: Option<NaiveDate>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StaleMember {
    pub symbol: Symbol,
    pub name: String,
    pub last_close: Option<NaiveDate>,
}

/// The weekly sector-vs-benchmark summary of one ISO week.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WeeklySummary {
    pub report_id: String,
    pub title: String,
    pub rating: String,
    pub rating_en: String,
    pub report_date: NaiveDate,
    pub horizon_end: NaiveDate,
    /// The ISO week (`2023-W20` in JSON).
    pub week: Week,
    /// Monday and Friday of the week.
    pub week_start: NaiveDate,
    pub week_end: NaiveDate,
    /// The benchmark trading day the week is measured to (Friday or the latest before it).
    pub as_of: NaiveDate,
    /// The benchmark trading day the week is measured from (the previous week's as-of).
    pub previous_as_of: NaiveDate,
    pub days_left: i64,
    pub currency: CurrencyMode,
    pub benchmark_name: String,
    pub benchmark_week_return: f64,
    pub benchmark_since_report_return: f64,
    pub sectors: Vec<SectorWeek>,
    pub basket: SectorWeek,
    pub freshness: Vec<MarketFreshness>,
    /// Cumulative excess of each sector and the basket from the report date to `as_of`,
    /// for the chart.
    pub paths: Vec<NamedPath>,
    pub stale_members: Vec<StaleMember>,
    pub warnings: Vec<String>,
    pub method: String,
    /// Every stored rating on a watchlist company published in the week (Monday to Sunday, or
    /// to the as-of day of a summary asked as of a day), scored as of the week's last day:
    /// changes and first coverage first, then maintained ([`super::ratings::week_order`]).
    /// Filled by `pipeline::weekly`; the report module writes it as JSON `new_ratings`, in the
    /// field names of `ratings list --format json`, so the model does not serialize it.
    #[serde(skip)]
    pub new_ratings: Vec<super::ratings::ScoredCall>,
}

/// A sector's (or the basket's) excess path, for charts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NamedPath {
    pub name: String,
    pub points: Vec<PathPoint>,
}

/// One security in one loaded report that holds it: the report narrowed to that company
/// ([`crate::catalog::ReportDef::narrowed_to`]), so `verdict` is the company's own return,
/// excess and path against the report's benchmark and bands, or why it has none.
#[derive(Clone, Debug)]
pub struct SecurityInReport {
    pub report_id: String,
    pub title: String,
    pub broker: String,
    /// The company's name as the report writes it.
    pub name: String,
    /// The report's rating rule (its bands, for the headline and the chart).
    pub rule: crate::catalog::RatingRule,
    /// The report's sectors holding the company: (name, English name).
    pub sectors: Vec<(String, String)>,
    pub verdict: Result<Verdict, String>,
}
