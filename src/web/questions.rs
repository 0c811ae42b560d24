//! The questions the pages and the API answer, each asked of the store the way the CLI asks
//! it (`verdict`, `report`, `verdict --all`, `status`, `watchlist list`, `export prices`):
//! the same checks, the same pipeline functions, the same render options. A page and its
//! API twin call the same function here and differ only in how the result is written.

use chrono::{DateTime, NaiveDate, Utc};

use super::error::WebError;
use super::params::{ReportId, Week};
use crate::analysis::AnalysisError;
use crate::analysis::model::{CurrencyMode, SecurityInReport, Verdict, WeeklySummary};
use crate::analysis::ratings::{self, GroupBy, ScoredCall, TrackRow};
use crate::catalog::ReportDef;
use crate::config::Config;
use crate::pipeline::{self, AnalysisOptions, PipelineError, WeekSelection};
use crate::prices::Bar;
use crate::ratings::{Broker, BrokerBook};
use crate::report::{ArchiveWeek, FinalVerdict, Headline, RenderOptions};
use crate::status::{self, StatusReport};
use crate::store::{RatingsFilter, ReportRow, Store, WatchlistEntry, WrittenSummary};
use crate::symbol::Symbol;

pub fn analysis_options(config: &Config, currency: CurrencyMode) -> AnalysisOptions {
    AnalysisOptions { currency, stale_after_trading_days: config.analysis.stale_after_trading_days }
}

/// The report, or a 404 that lists the known ones (as the CLI does).
pub fn report(store: &Store, id: &ReportId) -> Result<ReportDef, WebError> {
    let known = store.report_ids()?;
    if !known.iter().any(|known| known == id.as_str()) {
        let listed = if known.is_empty() { "none loaded; run `ratingwatch init`".to_string() } else { known.join(", ") };
        return Err(WebError::NotFound(format!("no report `{id}` (known: {listed})")));
    }
    Ok(store.report(id.as_str())?)
}

/// `ratingwatch verdict ID --as-of DATE --currency C`, with the report it is about.
/// `/securities/<SYMBOL>`: the company in every report holding it, and its broker ratings;
/// a symbol no loaded report holds is a 404.
pub fn security(store: &Store, config: &Config, symbol: &Symbol, as_of: NaiveDate) -> Result<SecurityPage, WebError> {
    let entries = pipeline::security(store, symbol, as_of, &analysis_options(config, CurrencyMode::Cny))?;
    if entries.is_empty() {
        return Err(WebError::NotFound(format!("no loaded report holds `{symbol}`")));
    }
    // The company's broker ratings, as `ratings list --symbol S --as-of D` lists them.
    let filter = RatingsFilter { symbol: Some(symbol.clone()), ..Default::default() };
    let calls = rating_calls(store, config, &filter, as_of)?;
    Ok(SecurityPage { entries, calls })
}

/// What `/securities/<SYMBOL>` shows: the company in each report, and its broker ratings.
pub struct SecurityPage {
    pub entries: Vec<SecurityInReport>,
    pub calls: Vec<ScoredCall>,
}

pub fn verdict(
    store: &Store,
    config: &Config,
    id: &ReportId,
    as_of: NaiveDate,
    currency: CurrencyMode,
) -> Result<(ReportDef, Verdict, RenderOptions), WebError> {
    let report = report(store, id)?;
    let verdict = pipeline::verdict(store, &report, as_of, &analysis_options(config, currency))?;
    let options = RenderOptions::from_rule(&report.rule);
    Ok((report, verdict, options))
}

/// `ratingwatch report --report ID --week W --currency C`, with the report it is about.
pub fn weekly(
    store: &Store,
    config: &Config,
    id: &ReportId,
    week: Week,
    currency: CurrencyMode,
) -> Result<(ReportDef, WeeklySummary, RenderOptions), WebError> {
    let report = report(store, id)?;
    let summary = pipeline::weekly(store, &report, &WeekSelection::Week(week), &analysis_options(config, currency), &broker_book(config)?)?;
    let options = RenderOptions::from_rule(&report.rule);
    Ok((report, summary, options))
}

/// `ratingwatch verdict --all --as-of DATE`: every report dated on or before `as_of`.
pub fn ledger(store: &Store, config: &Config, as_of: NaiveDate) -> Result<Vec<Verdict>, WebError> {
    Ok(pipeline::verdict_all(store, as_of, &analysis_options(config, CurrencyMode::Cny))?)
}

/// `ratingwatch reports list --format json`.
pub fn reports(store: &Store) -> Result<Vec<ReportRow>, WebError> {
    Ok(store.reports()?)
}

/// `ratingwatch status --format json`; `service_running` from the lock probe.
pub fn status(store: &Store, config: &Config, now: DateTime<Utc>) -> Result<StatusReport, WebError> {
    let running = crate::lock::InstanceLock::is_held(&config.database.path);
    status::collect(store, config, now, running).map_err(WebError::internal)
}

/// The latest stored close per market, for the ledger's freshness line.
pub fn freshness(store: &Store) -> Result<Vec<status::MarketStatus>, WebError> {
    Ok(status::market_status(&store.price_freshness()?))
}

/// `ratingwatch watchlist list [--report ID] --format json`; an unknown report is a 404.
pub fn watchlist(store: &Store, report_id: Option<&ReportId>) -> Result<Vec<WatchlistEntry>, WebError> {
    if let Some(id) = report_id {
        report(store, id)?;
    }
    Ok(store.watchlist(report_id.map(ReportId::as_str))?)
}

/// A security's stored bars from `from` to `to` (inclusive); a symbol with no stored prices
/// at all is a 404.
pub fn prices(store: &Store, symbol: &Symbol, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<Vec<Bar>, WebError> {
    if store.bar_stats(symbol)?.is_none() {
        return Err(WebError::NotFound(format!("no stored prices for {symbol}")));
    }
    // Dates are compared as ISO text in the store, so the open ends are four-digit years.
    let from = from.unwrap_or(NaiveDate::from_ymd_opt(1, 1, 1).unwrap_or_default());
    let to = to.unwrap_or(NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or_default());
    if from > to {
        return Err(WebError::BadRequest(format!("from {from} is after to {to}")));
    }
    Ok(store.bars(symbol, from, to)?)
}

/// The broker rules the ratings are scored with ([`pipeline::broker_book`]); a
/// `ratings.brokers_file` that cannot be used is a 500 (the detail, with the file, in the log).
pub fn broker_book(config: &Config) -> Result<BrokerBook, WebError> {
    pipeline::broker_book(&config.ratings).map_err(|error| {
        tracing::error!(%error, "the broker book cannot be built");
        WebError::Internal(
            "the broker rules (data/brokers.toml and ratings.brokers_file) cannot be used; the server log has the detail".into(),
        )
    })
}

/// `ratingwatch ratings list [--symbol S] [--broker B] [--since D] --as-of D`: the calls,
/// oldest first (the renderers list them newest first).
pub fn rating_calls(store: &Store, config: &Config, filter: &RatingsFilter, as_of: NaiveDate) -> Result<Vec<ScoredCall>, WebError> {
    let book = broker_book(config)?;
    Ok(pipeline::rating_calls(store, &book, filter, as_of, &analysis_options(config, CurrencyMode::Cny))?)
}

/// `ratingwatch ratings track-record --by B [--since D] --as-of D`.
pub fn track_record(
    store: &Store,
    config: &Config,
    by: GroupBy,
    since: Option<NaiveDate>,
    as_of: NaiveDate,
) -> Result<Vec<TrackRow>, WebError> {
    let calls = rating_calls(store, config, &RatingsFilter { since, ..Default::default() }, as_of)?;
    Ok(ratings::track_record(&calls, by, config.ratings.min_sample))
}

/// One broker's page: its name as the feed lists it, its rules, its row of the track record
/// by broker (ranked among all), and its calls (oldest first).
pub struct BrokerFacts {
    pub name: String,
    pub rules: Option<Broker>,
    pub row: Option<TrackRow>,
    pub calls: Vec<ScoredCall>,
}

/// The broker `name` (a short name the feed lists, or a name or alias of the book), or a 404
/// that lists the known ones: the book's and the feed's.
pub fn broker(store: &Store, config: &Config, name: &str, as_of: NaiveDate) -> Result<BrokerFacts, WebError> {
    let book = broker_book(config)?;
    let all = pipeline::rating_calls(store, &book, &RatingsFilter::default(), as_of, &analysis_options(config, CurrencyMode::Cny))?;
    let listed = all.iter().any(|call| call.record.broker == name);
    let name = match (listed, book.find(name, name)) {
        (true, _) => name.to_string(),
        (false, Some(broker)) => broker.name.clone(),
        (false, None) => {
            let mut known: Vec<&str> = book.brokers().map(|broker| broker.name.as_str()).collect();
            known.extend(all.iter().map(|call| call.record.broker.as_str()));
            known.sort_unstable();
            known.dedup();
            return Err(WebError::NotFound(format!("no broker `{name}` (known: {})", known.join(", "))));
        }
    };
    let rules = book.find(&name, &name).cloned();
    let of_broker = |call: &&ScoredCall| {
        call.record.broker == name
            || rules
                .as_ref()
                .is_some_and(|rules| book.find(&call.record.broker, &call.record.broker_full).is_some_and(|b| b.name == rules.name))
    };
    let calls: Vec<ScoredCall> = all.iter().filter(of_broker).cloned().collect();
    let row = ratings::track_record(&all, GroupBy::Broker, config.ratings.min_sample).into_iter().find(|row| row.key == name);
    Ok(BrokerFacts { name, rules, row, calls })
}

/// The final headline of a report whose horizon has ended by `today` (the verdict as of
/// today, as the verdict page shows it), for the top of its weeks page; `None` while it is
/// pending, or when the verdict cannot be computed (no prices yet: the page says so below).
pub fn final_headline(store: &Store, config: &Config, report: &ReportDef, today: NaiveDate) -> Option<Headline> {
    if today < report.horizon_end() {
        return None;
    }
    let verdict = pipeline::verdict(store, report, today, &analysis_options(config, CurrencyMode::Cny)).ok()?;
    Some(Headline::of_verdict(&verdict, &RenderOptions::from_rule(&report.rule)))
}

/// The ledger's reports whose horizon has ended, each with its final headline (each report's
/// own band lines).
pub fn final_verdicts(store: &Store, verdicts: &[Verdict]) -> Result<Vec<FinalVerdict>, WebError> {
    let mut finals = Vec::new();
    for verdict in verdicts.iter().filter(|verdict| verdict.status != crate::analysis::model::Status::Pending) {
        let report = store.report(&verdict.report_id)?;
        let headline = Headline::of_verdict(verdict, &RenderOptions::from_rule(&report.rule));
        finals.push(FinalVerdict { report_id: verdict.report_id.clone(), title: verdict.title.clone(), headline });
    }
    Ok(finals)
}

/// The week of the first Friday on or after the report date: the first week a summary can
/// be measured to.
pub fn first_week(report: &ReportDef) -> Week {
    Week::first_friday_on_or_after(report.report_date)
}

/// Every complete week from the report's first in which the benchmark has a close, newest
/// first, each marked with whether the service has written it. A week without one (a
/// market holiday week, or prices not synced) has no summary (see
/// [`crate::pipeline::weekly`]), so it is not listed.
pub fn archive(store: &Store, config: &Config, id: &ReportId, today: NaiveDate) -> Result<(ReportDef, Vec<ArchiveWeek>), WebError> {
    let report = report(store, id)?;
    let weeks = archive_weeks(store, config, &report, today)?;
    Ok((report, weeks))
}

/// The weeks of [`archive`] for a report already read.
pub fn archive_weeks(store: &Store, config: &Config, report: &ReportDef, today: NaiveDate) -> Result<Vec<ArchiveWeek>, WebError> {
    let written = store.written_summaries(&report.id)?;
    let first = first_week(report);
    let last_friday = Week::latest_complete(today).friday();
    if last_friday < first.monday() {
        return Ok(Vec::new());
    }
    let closes = store.bars(&report.rule.benchmark, first.monday(), last_friday)?;
    // Every close is on or before `last_friday`, so every week it falls in is complete.
    let mut weeks: Vec<Week> = closes.iter().map(|bar| Week::containing(bar.date)).collect();
    weeks.dedup();
    // A report's life ends with its verdict: the weeks after its horizon are listed only when
    // the service summarises them too.
    if !config.schedule.weekly_after_horizon {
        weeks.retain(|week| !pipeline::week_after_horizon(*week, report.horizon_end()));
    }
    let weeks = weeks
        .into_iter()
        .rev()
        .map(|week| {
            let label = week.to_string();
            ArchiveWeek {
                written_at: written.get(&label).map(|summary: &WrittenSummary| summary.written_at),
                week: label,
                week_start: week.monday(),
                week_end: week.friday(),
            }
        })
        .collect();
    Ok(weeks)
}

/// The archive's weeks before and after `week` (`archive` is newest first), for a week
/// page's links.
pub fn neighbours(archive: &[ArchiveWeek], week: Week) -> (Option<String>, Option<String>) {
    let previous = archive.iter().find(|w| w.week_end < week.monday()).map(|w| w.week.clone());
    let next = archive.iter().rev().find(|w| w.week_start > week.friday()).map(|w| w.week.clone());
    (previous, next)
}

/// Turns a pipeline error about a missing benchmark into the empty-ledger case: a database
/// without prices still has a front page.
pub fn ledger_or_empty(store: &Store, config: &Config, as_of: NaiveDate) -> Result<Option<Vec<Verdict>>, WebError> {
    match pipeline::verdict_all(store, as_of, &analysis_options(config, CurrencyMode::Cny)) {
        Ok(verdicts) => Ok(Some(verdicts)),
        Err(PipelineError::Analysis(AnalysisError::NoBenchmarkPrices { .. } | AnalysisError::NoMemberPrices { .. })) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_week_is_the_one_whose_friday_follows_the_report_date() {
        let mut report = crate::catalog::parse_report(
            std::path::Path::new("seed.toml"),
            include_str!("../../data/reports/zheshang-2023-02-14-chatgpt.toml"),
        )
        .unwrap();
        // Tuesday 2023-02-14: Friday the 17th, ISO week 7.
        assert_eq!(first_week(&report).to_string(), "2023-W07");
        // A Friday report date is its own week; a Saturday one moves to the next week.
        report.report_date = NaiveDate::from_ymd_opt(2023, 2, 17).unwrap();
        assert_eq!(first_week(&report).to_string(), "2023-W07");
        report.report_date = NaiveDate::from_ymd_opt(2023, 2, 18).unwrap();
        assert_eq!(first_week(&report).to_string(), "2023-W08");
    }

    #[test]
    fn a_weeks_neighbours_are_the_archives_nearest_weeks_with_prices() {
        let listed = |label: &str| {
            let week: Week = label.parse().unwrap();
            ArchiveWeek { week: label.to_string(), week_start: week.monday(), week_end: week.friday(), written_at: None }
        };
        // Newest first, as `archive` lists them; 2023-W40 (Golden Week) has no close.
        let archive = [listed("2023-W41"), listed("2023-W39"), listed("2023-W38")];
        let week = |label: &str| label.parse::<Week>().unwrap();
        assert_eq!(neighbours(&archive, week("2023-W39")), (Some("2023-W38".to_string()), Some("2023-W41".to_string())));
        // A week outside the archive (asked for by name) still finds the weeks around it.
        assert_eq!(neighbours(&archive, week("2023-W40")), (Some("2023-W39".to_string()), Some("2023-W41".to_string())));
        assert_eq!(neighbours(&archive, week("2023-W38")), (None, Some("2023-W39".to_string())));
        assert_eq!(neighbours(&archive, week("2023-W41")), (Some("2023-W39".to_string()), None));
        assert_eq!(neighbours(&[], week("2023-W41")), (None, None));
    }
}
