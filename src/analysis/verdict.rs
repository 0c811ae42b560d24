//! The verdict: did the report's rating hold, per sector and for the whole basket?

use chrono::NaiveDate;

use super::basket::{ExcessPath, Holding, Inputs, best_and_worst, excluded_member, exclusion_warning, groups, implied, mean};
use super::model::{BenchmarkReturn, GroupVerdict, MemberReturn, Status, Verdict};
use super::{AnalysisError, AnalysisOptions, Closes};
use crate::catalog::ReportDef;

/// One company's result, computed once even when it sits in several sectors.
struct Priced {
    member: MemberReturn,
    /// Its return as of each path date.
    path: Vec<f64>,
}

/// What every group of one verdict shares.
struct Frame<'a> {
    report: &'a ReportDef,
    benchmark_return: f64,
    path: ExcessPath<'a>,
    is_final: bool,
}

/// The verdict of `report` as of `as_of`, from the closes in `closes` (adjusted closes of
/// the companies, the benchmark as published, FX rates).
///
/// End date E = the benchmark's last trading day on or before min(as_of, horizon end);
/// every company is valued at its own latest close on or before E. Before the horizon end
/// the status is pending and the numbers run to the latest close.
pub fn compute_verdict(report: &ReportDef, closes: &Closes, as_of: NaiveDate, options: &AnalysisOptions) -> Result<Verdict, AnalysisError> {
    super::check_as_of(report, as_of)?;
    let inputs = Inputs::new(report, closes, options)?;
    let horizon_end = report.horizon_end();
    let asked = as_of.min(horizon_end);
    let benchmark_end = inputs.benchmark_as_of(asked);
    let end_date = benchmark_end.date;
    let is_final = as_of >= horizon_end;

    let holdings = inputs.holdings();
    if let Some(error) = no_priced_member(report, &holdings) {
        return Err(error);
    }

    let frame =
        Frame { report, benchmark_return: inputs.benchmark_return_as_of(end_date), path: ExcessPath::new(&inputs, end_date), is_final };

    let mut warnings = Vec::new();
    let priced: Vec<Result<Priced, &str>> = holdings
        .iter()
        .map(|holding| match holding {
            Ok(holding) => Ok(price(&inputs, holding, end_date, &frame.path, &mut warnings)),
            Err(reason) => Err(reason.as_str()),
        })
        .collect();
    for (company, result) in report.companies.iter().zip(&priced) {
        if let Err(reason) = result {
            warnings.push(exclusion_warning(company, reason));
        }
    }

    let (sector_groups, whole) = groups(report);
    let sectors: Vec<GroupVerdict> = sector_groups.iter().map(|g| group(&frame, g.name, g.name_en, &g.members, &priced)).collect();
    let basket = group(&frame, whole.name, whole.name_en, &whole.members, &priced);
    for sector in sectors.iter().filter(|s| s.members.is_empty()) {
        warnings.push(format!("sector {} has no member with a usable base close; it has no return", sector.name));
    }
    warnings.extend(inputs.freshness_warnings(asked, end_date));

    let label = report.rating_label();
    Ok(Verdict {
        report_id: report.id.clone(),
        title: report.title.clone(),
        broker: report.broker.clone(),
        rating: label.zh.clone(),
        rating_en: label.en.clone(),
        report_date: report.report_date,
        horizon_end,
        as_of,
        end_date,
        status: basket.status,
        days_left: (horizon_end - as_of).num_days().max(0),
        currency: options.currency,
        benchmark: BenchmarkReturn {
            symbol: report.rule.benchmark.clone(),
            name: report.rule.benchmark_name.clone(),
            base_date: inputs.benchmark_base.date,
            base_close: inputs.benchmark_base.value,
            end_date,
            end_close: benchmark_end.value,
            total_return: frame.benchmark_return,
        },
        sectors,
        basket,
        warnings,
        method: inputs.method(&format!("end {end_date}")),
    })
}

/// The error for a report none of whose companies can be priced (no base close anywhere):
/// there is no basket at all, which is a data problem to fix, not a verdict.
pub(crate) fn no_priced_member(report: &ReportDef, holdings: &[Result<Holding<'_>, String>]) -> Option<AnalysisError> {
    if holdings.iter().any(Result::is_ok) {
        return None;
    }
    let first = report
        .companies
        .first()
        .zip(holdings.first())
        .and_then(|(company, holding)| holding.as_ref().err().map(|reason| format!("{}: {reason}", company.symbol)));
    Some(AnalysisError::NoMemberPrices { report_id: report.id.clone(), example: first.unwrap_or_default() })
}

fn price(inputs: &Inputs<'_>, holding: &Holding<'_>, end_date: NaiveDate, path: &ExcessPath<'_>, warnings: &mut Vec<String>) -> Priced {
    let company = holding.company;
    let end = holding.value_as_of(end_date);
    let stale = inputs.is_stale(end.close.date, end_date);
    if stale {
        warnings.push(format!(
            "{} {}: latest close {} is {} trading days before {end_date} (stale); counted at that close",
            company.symbol,
            company.name,
            end.close.date,
            inputs.trading_days_old(end.close.date, end_date)
        ));
    }
    let member = MemberReturn {
        symbol: company.symbol.clone(),
        name: company.name.clone(),
        currency: company.symbol.currency(),
        base_date: holding.base.date,
        base_close: holding.base.value,
        end_date: end.close.date,
        end_close: end.close.value,
        total_return: holding.return_of(&end),
        local_return: holding.local_return_of(&end),
        // Both depend on the group and the benchmark: set by `group`.
        excess: f64::NAN,
        contribution: f64::NAN,
        fx_base: holding.fx_base(),
        fx_end: end.fx,
        stale,
    };
    Priced { member, path: path.member(holding) }
}

fn group(frame: &Frame<'_>, name: &str, name_en: &str, indices: &[usize], priced: &[Result<Priced, &str>]) -> GroupVerdict {
    let members: Vec<&Priced> = indices.iter().filter_map(|&i| priced.get(i)?.as_ref().ok()).collect();
    let excluded = indices
        .iter()
        .filter_map(|&i| match (frame.report.companies.get(i), priced.get(i)) {
            (Some(company), Some(Err(reason))) => Some(excluded_member(company, reason)),
            _ => None,
        })
        .collect();
    let total_return = mean(members.iter().map(|m| m.member.total_return));
    let excess = total_return - frame.benchmark_return;
    let member_paths: Vec<&[f64]> = members.iter().map(|m| m.path.as_slice()).collect();
    let path = frame.path.excess(&member_paths);
    let (best, worst) = best_and_worst(&path);
    let (rating, implied_rating, implied_rating_en) = implied(frame.report, excess);
    let held = rating == Some(frame.report.rating);
    let status = match (frame.is_final, held) {
        (false, _) => Status::Pending,
        (true, true) => Status::Held,
        (true, false) => Status::NotHeld,
    };
    GroupVerdict {
        name: name.to_string(),
        name_en: name_en.to_string(),
        total_return,
        excess,
        implied_rating,
        implied_rating_en,
        held,
        status,
        best_excess: best.map(|p| p.excess),
        best_excess_date: best.map(|p| p.date),
        worst_excess: worst.map(|p| p.excess),
        worst_excess_date: worst.map(|p| p.date),
        members: members
            .iter()
            .map(|m| MemberReturn {
                excess: m.member.total_return - frame.benchmark_return,
                contribution: m.member.total_return / members.len() as f64,
                ..m.member.clone()
            })
            .collect(),
        excluded,
        path,
    }
}
