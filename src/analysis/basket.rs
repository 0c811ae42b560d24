//! The core shared by verdicts and weekly summaries: pricing each company from its base
//! close (with FX conversion), valuing it as of any later date, and the small pieces of
//! arithmetic every basket uses.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;

use super::model::{CurrencyMode, ExcludedMember, PathPoint};
use super::series::{Point, Series};
use super::{AnalysisError, AnalysisOptions, Closes};
use crate::catalog::{Company, Rating, ReportDef};
use crate::symbol::{Currency, Symbol};

static EMPTY_SERIES: Series = Series::empty();

/// Where the benchmark's data is more than this many calendar days behind the date asked
/// for, a warning says so: longer than any exchange holiday (Spring Festival, Golden Week).
const BENCHMARK_GAP_WARNING_DAYS: i64 = 14;

/// The report's base-line: its companies, the benchmark's base close and the options.
pub(crate) struct Inputs<'a> {
    pub report: &'a ReportDef,
    pub closes: &'a Closes,
    pub options: &'a AnalysisOptions,
    pub benchmark: &'a Series,
    /// The benchmark's close on its last trading day on or before the report date.
    pub benchmark_base: Point,
}

impl<'a> Inputs<'a> {
    pub fn new(report: &'a ReportDef, closes: &'a Closes, options: &'a AnalysisOptions) -> Result<Inputs<'a>, AnalysisError> {
        let benchmark = series_of(closes, &report.rule.benchmark);
        let benchmark_base = benchmark.as_of(report.report_date).ok_or_else(|| AnalysisError::NoBenchmarkPrices {
            symbol: report.rule.benchmark.clone(),
            name: report.rule.benchmark_name.clone(),
            date: report.report_date,
        })?;
        Ok(Inputs { report, closes, options, benchmark, benchmark_base })
    }

    /// The benchmark's close as of `date` (never before its base).
    pub fn benchmark_as_of(&self, date: NaiveDate) -> Point {
        self.benchmark.as_of(date).filter(|p| p.date >= self.benchmark_base.date).unwrap_or(self.benchmark_base)
    }

    pub fn benchmark_return_as_of(&self, date: NaiveDate) -> f64 {
        self.benchmark_as_of(date).value / self.benchmark_base.value - 1.0
    }

    /// Benchmark trading days after `close_date` up to and including `at`: how old a close
    /// is when it is used at `at`.
    pub fn trading_days_old(&self, close_date: NaiveDate, at: NaiveDate) -> usize {
        self.benchmark.dates_between(close_date, at).len()
    }

    /// A close older than the limit (in benchmark trading days) is stale.
    pub fn is_stale(&self, close_date: NaiveDate, at: NaiveDate) -> bool {
        self.trading_days_old(close_date, at) > self.options.stale_after_trading_days as usize
    }

    /// Every company of the report, priced from its base close or excluded with a reason,
    /// in report order.
    pub fn holdings(&self) -> Vec<Result<Holding<'a>, String>> {
        self.report.companies.iter().map(|company| self.holding(company)).collect()
    }

    fn holding(&self, company: &'a Company) -> Result<Holding<'a>, String> {
        let report_date = self.report.report_date;
        let series = series_of(self.closes, &company.symbol);
        let Some(base) = series.as_of(report_date) else {
            return Err(match series.first() {
                Some(first) => {
                    format!("no close on or before the report date {report_date} (first close {}: listed or priced only later)", first.date)
                }
                None => format!(
                    "no prices stored; run `ratingwatch sync --symbol {0}` or `ratingwatch import prices --symbol {0} FILE.csv`",
                    company.symbol
                ),
            });
        };
        let target = self.report.rule.benchmark.currency();
        let listing = company.symbol.currency();
        let conversion = if self.options.currency == CurrencyMode::Cny && listing != target {
            let mut conversion = Conversion { listing: self.pair_series(listing), target: self.pair_series(target), base_factor: 1.0 };
            conversion.base_factor = conversion.factor(base.date).map_err(|(pair, date)| {
                format!(
                    "no {pair} rate on or before {date} to convert its base close into {target}; \
                     run `ratingwatch sync --symbol {pair}` or `ratingwatch import prices --symbol {pair} FILE.csv`"
                )
            })?;
            Some(conversion)
        } else {
            None
        };
        let base_value = base.value * conversion.as_ref().map_or(1.0, |c| c.base_factor);
        Ok(Holding { company, series, conversion, base, base_value })
    }

    fn pair_series(&self, currency: Currency) -> Option<(Symbol, &'a Series)> {
        currency.cny_pair().map(|pair| {
            let series = series_of(self.closes, &pair);
            (pair, series)
        })
    }

    /// The FX pairs conversions use (empty in local-currency mode).
    pub fn pairs_used(&self) -> BTreeSet<Symbol> {
        if self.options.currency == CurrencyMode::Local {
            return BTreeSet::new();
        }
        let target = self.report.rule.benchmark.currency();
        self.report
            .companies
            .iter()
            .map(|c| c.symbol.currency())
            .filter(|&currency| currency != target)
            .flat_map(|currency| [currency.cny_pair(), target.cny_pair()])
            .flatten()
            .collect()
    }

    /// Warnings about data that is behind: the benchmark itself (compared with the date
    /// asked for, in calendar days) and each FX pair (compared with `at`, in trading days).
    pub fn freshness_warnings(&self, asked: NaiveDate, at: NaiveDate) -> Vec<String> {
        let mut warnings = Vec::new();
        let gap = (asked - at).num_days();
        if gap > BENCHMARK_GAP_WARNING_DAYS {
            warnings.push(format!(
                "the benchmark {} has no close after {at}, {gap} days before {asked}; run `ratingwatch sync` or `ratingwatch import prices`",
                self.report.rule.benchmark
            ));
        }
        for pair in self.pairs_used() {
            if let Some(latest) = series_of(self.closes, &pair).as_of(at)
                && self.is_stale(latest.date, at)
            {
                warnings.push(format!(
                    "{pair}: latest rate {} is {} trading days before {at}; conversions use it",
                    latest.date,
                    self.trading_days_old(latest.date, at)
                ));
            }
        }
        warnings
    }

    /// One line on how the numbers are made: weights, prices, currency, benchmark, dates.
    pub fn method(&self, window: &str) -> String {
        let rule = &self.report.rule;
        let target = rule.benchmark.currency();
        let currency = match self.options.currency {
            CurrencyMode::Local => "in each listing's own currency".to_string(),
            CurrencyMode::Cny => {
                let foreign: BTreeSet<&str> =
                    self.report.companies.iter().map(|c| c.symbol.currency()).filter(|&c| c != target).map(|c| c.as_str()).collect();
                if foreign.is_empty() {
                    format!("in {target}")
                } else {
                    format!("in {target} ({} converted at same-day rates)", foreign.into_iter().collect::<Vec<_>>().join("/"))
                }
            }
        };
        format!(
            "Equal-weight buy-and-hold baskets of adjusted closes, {currency}, vs {} ({}) as published; base {} (T0), {window}.",
            rule.benchmark_name, rule.benchmark, self.report.report_date
        )
    }
}

/// Converts a listing currency into the benchmark's currency through CNY rates:
/// `rate(listing → CNY) / rate(benchmark currency → CNY)`; the second is 1 for a CNY
/// benchmark (every report so far).
pub(crate) struct Conversion<'a> {
    listing: Option<(Symbol, &'a Series)>,
    target: Option<(Symbol, &'a Series)>,
    base_factor: f64,
}

impl Conversion<'_> {
    /// The factor as of `date`, or the pair and date that have no rate.
    fn factor(&self, date: NaiveDate) -> Result<f64, (Symbol, NaiveDate)> {
        let rate = |pair: &Option<(Symbol, &Series)>| match pair {
            None => Ok(1.0),
            Some((symbol, series)) => series.as_of(date).map(|p| p.value).ok_or_else(|| (symbol.clone(), date)),
        };
        Ok(rate(&self.listing)? / rate(&self.target)?)
    }
}

/// A company bought at its base close: it can be valued as of any later date.
pub(crate) struct Holding<'a> {
    pub company: &'a Company,
    series: &'a Series,
    conversion: Option<Conversion<'a>>,
    /// The close on the company's own last trading day on or before the report date.
    pub base: Point,
    /// The base close in the verdict's currency.
    base_value: f64,
}

/// A holding's close as of a date, and its value in the verdict's currency.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Valuation {
    pub close: Point,
    /// The conversion factor used for `close`, when converted.
    pub fx: Option<f64>,
    pub value: f64,
}

impl Holding<'_> {
    pub fn fx_base(&self) -> Option<f64> {
        self.conversion.as_ref().map(|c| c.base_factor)
    }

    /// The latest close on or before `date` (the base itself before any later close), with
    /// the FX rate as of that close's own date.
    pub fn value_as_of(&self, date: NaiveDate) -> Valuation {
        self.value_of(self.series.as_of(date))
    }

    /// The valuation of `close`, the series' latest close on or before some date (the base
    /// when there is none since the base).
    fn value_of(&self, close: Option<Point>) -> Valuation {
        let close = close.filter(|p| p.date >= self.base.date).unwrap_or(self.base);
        // A rate exists on or before the base date (checked when pricing the base), so one
        // exists for every later close; the base factor is only a formal fallback.
        let fx = self.conversion.as_ref().map(|c| c.factor(close.date).unwrap_or(c.base_factor));
        Valuation { close, fx, value: close.value * fx.unwrap_or(1.0) }
    }

    /// Return since the base in the verdict's currency.
    pub fn return_of(&self, valuation: &Valuation) -> f64 {
        valuation.value / self.base_value - 1.0
    }

    /// Return since the base in the listing currency.
    pub fn local_return_of(&self, valuation: &Valuation) -> f64 {
        valuation.close.value / self.base.value - 1.0
    }
}

/// The dates an excess path runs over (the benchmark's trading days after the report date up
/// to `end`) with the benchmark's return as of each: the verdict's and the weekly summary's
/// paths are drawn from it the same way.
pub(crate) struct ExcessPath<'a> {
    pub dates: &'a [NaiveDate],
    benchmark: Vec<f64>,
}

impl<'a> ExcessPath<'a> {
    pub fn new(inputs: &Inputs<'a>, end: NaiveDate) -> ExcessPath<'a> {
        let dates = inputs.benchmark.dates_between(inputs.report.report_date, end);
        ExcessPath { dates, benchmark: dates.iter().map(|&date| inputs.benchmark_return_as_of(date)).collect() }
    }

    /// A holding's return as of each path date.
    pub fn member(&self, holding: &Holding<'_>) -> Vec<f64> {
        // One walk along the holding's series for all the (ascending) path dates.
        holding.series.as_of_each(self.dates).map(|close| holding.return_of(&holding.value_of(close))).collect()
    }

    /// The equal-weight basket of `members` (each a [`ExcessPath::member`] path) minus the
    /// benchmark, date by date; NaN at every point for a basket with no member.
    pub fn excess(&self, members: &[&[f64]]) -> Vec<PathPoint> {
        self.dates
            .iter()
            .zip(&self.benchmark)
            .enumerate()
            .map(|(i, (&date, benchmark))| PathPoint { date, excess: mean(members.iter().map(|path| path[i])) - benchmark })
            .collect()
    }
}

pub(crate) fn series_of<'a>(closes: &'a Closes, symbol: &Symbol) -> &'a Series {
    closes.get(symbol).unwrap_or(&EMPTY_SERIES)
}

/// One group a verdict or summary reports on: a sector, or the whole basket.
pub(crate) struct Group<'a> {
    pub name: &'a str,
    pub name_en: &'a str,
    /// The group's companies, as indices into `report.companies`.
    pub members: Vec<usize>,
}

/// The name of the whole report's basket, next to the sectors.
const BASKET_NAME: (&str, &str) = ("全部标的", "All companies");

/// The report's groups in output order: each sector, then the basket of every company.
pub(crate) fn groups(report: &ReportDef) -> (Vec<Group<'_>>, Group<'_>) {
    // Company indices by symbol, so sectors find their members without a linear search.
    let index: HashMap<&Symbol, usize> = report.companies.iter().enumerate().map(|(index, company)| (&company.symbol, index)).collect();
    let sectors = report
        .sectors
        .iter()
        .map(|sector| Group {
            name: &sector.name,
            name_en: &sector.name_en,
            members: sector.members.iter().filter_map(|member| index.get(&member.symbol).copied()).collect(),
        })
        .collect();
    let basket = Group { name: BASKET_NAME.0, name_en: BASKET_NAME.1, members: (0..report.companies.len()).collect() };
    (sectors, basket)
}

/// The arithmetic mean; NaN for no values (a basket with no priced member has no return).
pub(crate) fn mean(values: impl IntoIterator<Item = f64>) -> f64 {
    let (sum, count) = values.into_iter().fold((0.0, 0usize), |(sum, count), value| (sum + value, count + 1));
    if count == 0 { f64::NAN } else { sum / count as f64 }
}

/// The implied rating of an excess, as (rating, Chinese label, English label); no rating
/// (and "—") for a basket without a return.
pub(crate) fn implied(report: &ReportDef, excess: f64) -> (Option<Rating>, String, String) {
    if !excess.is_finite() {
        return (None, "—".to_string(), "—".to_string());
    }
    let rating = report.rule.implied(excess);
    let label = report.rule.label(rating);
    (Some(rating), label.zh.clone(), label.en.clone())
}

/// The largest and the smallest excess on a path, each with its first date.
pub(crate) fn best_and_worst(path: &[PathPoint]) -> (Option<PathPoint>, Option<PathPoint>) {
    let mut best: Option<PathPoint> = None;
    let mut worst: Option<PathPoint> = None;
    for &point in path.iter().filter(|p| p.excess.is_finite()) {
        if best.is_none_or(|b| point.excess > b.excess) {
            best = Some(point);
        }
        if worst.is_none_or(|w| point.excess < w.excess) {
            worst = Some(point);
        }
    }
    (best, worst)
}

pub(crate) fn excluded_member(company: &Company, reason: &str) -> ExcludedMember {
    ExcludedMember { symbol: company.symbol.clone(), name: company.name.clone(), reason: reason.to_string() }
}

/// The warning naming an excluded company.
pub(crate) fn exclusion_warning(company: &Company, reason: &str) -> String {
    format!("{} {} is excluded from the baskets: {reason}", company.symbol, company.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2023, 3, d).unwrap()
    }

    #[test]
    fn excess_path_is_the_members_mean_minus_the_benchmark_and_nan_without_members() {
        let dates = [day(1), day(2)];
        let path = ExcessPath { dates: &dates, benchmark: vec![0.01, -0.02] };
        // Day 1: mean(0.05, 0.03) = 0.04, minus 0.01 = 0.03; day 2: mean(-0.01, 0.00) = -0.005,
        // minus -0.02 = 0.015.
        let points = path.excess(&[&[0.05, -0.01], &[0.03, 0.0]]);
        assert_eq!(points.iter().map(|p| p.date).collect::<Vec<_>>(), dates);
        assert!((points[0].excess - 0.03).abs() < 1e-12, "{points:?}");
        assert!((points[1].excess - 0.015).abs() < 1e-12, "{points:?}");
        // A sector with no priced member has a path of the right dates and no number.
        let empty = path.excess(&[]);
        assert_eq!(empty.len(), 2);
        assert!(empty.iter().all(|p| p.excess.is_nan()));
        assert_eq!(best_and_worst(&empty), (None, None));
    }
}
