//! The weekly summary: each sector against the benchmark over one ISO week and since the
//! report, as of the week's Friday (or the latest benchmark trading day before it).

use std::cmp::Ordering;
use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::basket::{ExcessPath, Holding, Inputs, best_and_worst, exclusion_warning, groups, implied, mean, series_of};
use super::model::{MarketFreshness, MemberMove, NamedPath, PathPoint, SectorWeek, StaleMember, WeeklySummary};
use super::verdict::no_priced_member;
use super::week::WeekSpec;
use super::{AnalysisError, AnalysisOptions, Closes};
use crate::catalog::ReportDef;
use crate::symbol::{Market, Symbol};

/// How many members the best and worst lists name.
const MOVERS: usize = 3;

/// The week's best and worst lists from the members ranked best first: the top and bottom
/// [`MOVERS`], worst first. A sector of `2 × MOVERS` members or fewer would name someone in
/// both lists, so it gets one list instead, every member best to worst, and no worst list.
fn best_and_worst_movers(mut ranked: Vec<MemberMove>) -> (Vec<MemberMove>, Vec<MemberMove>) {
    if ranked.len() <= 2 * MOVERS {
        return (ranked, Vec::new());
    }
    let worst = ranked.iter().rev().take(MOVERS).cloned().collect();
    ranked.truncate(MOVERS);
    (ranked, worst)
}

/// One company over the week.
struct Moved<'a> {
    symbol: &'a Symbol,
    name: &'a str,
    /// Return since the base, as of this week's and the previous week's as-of dates.
    since: f64,
    since_previous: f64,
    week: f64,
    path: Vec<f64>,
}

struct Frame<'a> {
    report: &'a ReportDef,
    benchmark_week: f64,
    benchmark_since: f64,
    path: ExcessPath<'a>,
}

/// The summary of `week` for `report`.
///
/// As-of A = the benchmark's last trading day on or before the week's cutoff (its Friday);
/// the week runs from the previous week's as-of P (the same rule applied to the Friday
/// before, but never before the report's base) to A. A sector's week return is its
/// buy-and-hold basket's change over the week, `(1 + R(A)) / (1 + R(P)) − 1` with R the
/// return since the base, so week and since-report figures describe the same basket.
pub fn compute_weekly(
    report: &ReportDef,
    closes: &Closes,
    week: &WeekSpec,
    options: &AnalysisOptions,
) -> Result<WeeklySummary, AnalysisError> {
    super::check_as_of(report, week.cutoff)?;
    let inputs = Inputs::new(report, closes, options)?;
    let as_of = inputs.benchmark_as_of(week.cutoff).date;
    let previous_as_of = inputs.benchmark_as_of(week.previous_friday()).date.min(as_of);
    let holdings = inputs.holdings();
    if let Some(error) = no_priced_member(report, &holdings) {
        return Err(error);
    }

    let benchmark_now = inputs.benchmark_as_of(as_of).value;
    let frame = Frame {
        report,
        benchmark_week: benchmark_now / inputs.benchmark_as_of(previous_as_of).value - 1.0,
        benchmark_since: benchmark_now / inputs.benchmark_base.value - 1.0,
        path: ExcessPath::new(&inputs, as_of),
    };

    let mut warnings = Vec::new();
    let moved: Vec<Option<Moved<'_>>> = report
        .companies
        .iter()
        .zip(&holdings)
        .map(|(company, holding)| match holding {
            Ok(holding) => Some(move_over_week(holding, previous_as_of, as_of, &frame.path)),
            Err(reason) => {
                warnings.push(exclusion_warning(company, reason));
                None
            }
        })
        .collect();

    let stale_members = stale_members(&inputs, as_of);
    for stale in &stale_members {
        if let Some(last) = stale.last_close {
            warnings.push(format!(
                "{} {}: latest close {last} is {} trading days before {as_of} (stale)",
                stale.symbol,
                stale.name,
                inputs.trading_days_old(last, as_of)
            ));
        }
    }
    warnings.extend(inputs.freshness_warnings(week.cutoff, as_of));

    let (sector_groups, whole) = groups(report);
    let sectors: Vec<SectorWeek> = sector_groups.iter().map(|g| sector_week(&frame, g.name, g.name_en, &g.members, &moved)).collect();
    let basket = sector_week(&frame, whole.name, whole.name_en, &whole.members, &moved);
    let paths: Vec<NamedPath> = sector_groups
        .iter()
        .chain([&whole])
        .map(|g| NamedPath { name: g.name.to_string(), points: path(&frame, &g.members, &moved) })
        .collect();

    let label = report.rating_label();
    let horizon_end = report.horizon_end();
    Ok(WeeklySummary {
        report_id: report.id.clone(),
        title: report.title.clone(),
        rating: label.zh.clone(),
        rating_en: label.en.clone(),
        report_date: report.report_date,
        horizon_end,
        week: week.week,
        week_start: week.monday(),
        week_end: week.friday(),
        as_of,
        previous_as_of,
        days_left: (horizon_end - as_of).num_days().max(0),
        currency: options.currency,
        benchmark_name: report.rule.benchmark_name.clone(),
        benchmark_week_return: frame.benchmark_week,
        benchmark_since_report_return: frame.benchmark_since,
        sectors,
        basket,
        freshness: freshness(&inputs, as_of),
        paths,
        stale_members,
        warnings,
        method: inputs.method(&format!("week {previous_as_of} to {as_of}")),
        new_ratings: Vec::new(),
    })
}

fn move_over_week<'a>(holding: &Holding<'a>, previous_as_of: NaiveDate, as_of: NaiveDate, path: &ExcessPath<'_>) -> Moved<'a> {
    let now = holding.value_as_of(as_of);
    let before = holding.value_as_of(previous_as_of);
    Moved {
        symbol: &holding.company.symbol,
        name: &holding.company.name,
        since: holding.return_of(&now),
        since_previous: holding.return_of(&before),
        week: now.value / before.value - 1.0,
        path: path.member(holding),
    }
}

fn sector_week(frame: &Frame<'_>, name: &str, name_en: &str, indices: &[usize], moved: &[Option<Moved<'_>>]) -> SectorWeek {
    let members: Vec<&Moved<'_>> = indices.iter().filter_map(|&i| moved.get(i)?.as_ref()).collect();
    let since = mean(members.iter().map(|m| m.since));
    let since_previous = mean(members.iter().map(|m| m.since_previous));
    let week_return = (1.0 + since) / (1.0 + since_previous) - 1.0;
    let since_report_excess = since - frame.benchmark_since;
    let (_, implied_rating, implied_rating_en) = implied(frame.report, since_report_excess);

    // Best first by week return; ties keep report order, so the lists are deterministic.
    let mut by_week: Vec<&Moved<'_>> = members.clone();
    by_week.sort_by(|a, b| b.week.partial_cmp(&a.week).unwrap_or(Ordering::Equal));
    let ranked = by_week.iter().map(|m| MemberMove { symbol: m.symbol.clone(), name: m.name.to_string(), week_return: m.week }).collect();
    let (best, worst) = best_and_worst_movers(ranked);

    SectorWeek {
        name: name.to_string(),
        name_en: name_en.to_string(),
        week_return,
        since_report_return: since,
        week_excess: week_return - frame.benchmark_week,
        since_report_excess,
        implied_rating,
        implied_rating_en,
        best,
        worst,
    }
}

fn path(frame: &Frame<'_>, indices: &[usize], moved: &[Option<Moved<'_>>]) -> Vec<PathPoint> {
    let member_paths: Vec<&[f64]> = indices.iter().filter_map(|&i| moved.get(i)?.as_ref()).map(|m| m.path.as_slice()).collect();
    let points = frame.path.excess(&member_paths);
    // Only finite points are drawable; a sector without priced members has none.
    let (best, _) = best_and_worst(&points);
    if best.is_none() { Vec::new() } else { points }
}

/// The latest close on or before `as_of` in each market the report uses (its companies,
/// the benchmark, the FX pairs).
fn freshness(inputs: &Inputs<'_>, as_of: NaiveDate) -> Vec<MarketFreshness> {
    let report = inputs.report;
    let mut latest: BTreeMap<Market, Option<NaiveDate>> = BTreeMap::new();
    let symbols = report.companies.iter().map(|c| &c.symbol).chain([&report.rule.benchmark]).chain(&report.fx);
    for symbol in symbols {
        let close = series_of(inputs.closes, symbol).as_of(as_of).map(|p| p.date);
        let entry = latest.entry(symbol.market()).or_insert(None);
        *entry = (*entry).max(close);
    }
    latest.into_iter().map(|(market, latest_close)| MarketFreshness { market: market.as_str().to_string(), latest_close }).collect()
}

/// Companies whose latest close on or before `as_of` is stale, or that have none.
fn stale_members(inputs: &Inputs<'_>, as_of: NaiveDate) -> Vec<StaleMember> {
    inputs
        .report
        .companies
        .iter()
        .filter_map(|company| {
            let last_close = series_of(inputs.closes, &company.symbol).as_of(as_of).map(|p| p.date);
            let stale = last_close.is_none_or(|date| inputs.is_stale(date, as_of));
            stale.then(|| StaleMember { symbol: company.symbol.clone(), name: company.name.clone(), last_close })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::model::ranked_moves as ranked;

    fn names(moves: &[MemberMove]) -> Vec<&str> {
        moves.iter().map(|m| m.name.as_str()).collect()
    }

    #[test]
    fn no_member_is_both_best_and_worst() {
        // Seven members, best first: the top three and the bottom three (worst first) share no one.
        let (best, worst) = best_and_worst_movers(ranked(&[0.06, 0.05, 0.04, 0.0, -0.01, -0.02, -0.03]));
        assert_eq!((names(&best), names(&worst)), (vec!["m0", "m1", "m2"], vec!["m6", "m5", "m4"]));
    }

    #[test]
    fn six_members_or_fewer_get_one_list_best_to_worst() {
        for n in [1, 4, 6] {
            let returns: Vec<f64> = (0..n).map(|i| 0.05 - 0.01 * i as f64).collect();
            let (best, worst) = best_and_worst_movers(ranked(&returns));
            assert_eq!(best.len(), n, "{n} members");
            assert!(worst.is_empty(), "{n} members");
        }
    }
}
