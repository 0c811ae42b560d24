//! The dashboard's page bodies that are not a [`super::Document`]: the ledger's report list
//! and data freshness, the reports list, a report's archive of weeks and the status page,
//! in maud (which escapes every interpolated string). `web/` frames them (layout,
//! navigation, toolbar, downloads); nothing here reads the clock or the store.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use maud::{Markup, PreEscaped, html};

use super::chart::{ChartSpec, chart_svg};
use super::doc::{Grid, badge, html_table};
use super::numbers::{close, percent, points};
use super::{Headline, RenderOptions};
use crate::analysis::model::{MemberReturn, NamedPath, SecurityInReport, Verdict};
use crate::analysis::ratings::ScoredCall;
use crate::catalog::ReportDef;
use crate::status::{MarketStatus, StatusReport};
use crate::store::ReportRow;
use crate::symbol::Symbol;

/// A time in the configured zone, `2026-11-27 16:30 CST`: the one form every page and the
/// status text write.
pub fn local_time(time: DateTime<Utc>, timezone: Tz) -> String {
    time.with_timezone(&timezone).format("%Y-%m-%d %H:%M %Z").to_string()
}

/// One row of a report's weekly archive.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ArchiveWeek {
    pub week: String,
    pub week_start: NaiveDate,
    pub week_end: NaiveDate,
    /// When the service wrote this week's files, if it has.
    pub written_at: Option<DateTime<Utc>>,
}

/// A report whose horizon has ended, with its final headline, for the ledger's top.
#[derive(Clone, Debug, PartialEq)]
pub struct FinalVerdict {
    pub report_id: String,
    pub title: String,
    pub headline: Headline,
}

/// The final verdicts as badge blocks (the verdict page's), each led by a link to its report.
fn final_badges(finals: &[FinalVerdict]) -> Markup {
    html! {
        @for verdict in finals {
            @let link = html! { a href={ "/reports/" (verdict.report_id) } { (verdict.title) } ": " };
            (PreEscaped(badge(&verdict.headline.text, verdict.headline.state, Some(&link.into_string()))))
        }
    }
}

/// The download suffixes a week row links to, as the web serves them.
const WEEK_DOWNLOADS: [&str; 3] = ["json", "csv", "md"];

/// The ledger page's facts beyond the ledger document.
pub struct LedgerPage<'a> {
    /// The ledger document's HTML, or `None` when there is no verdict yet.
    pub body: Option<&'a str>,
    /// The reports whose horizon has ended by the as-of date, each led by its final verdict.
    pub finals: &'a [FinalVerdict],
    pub reports: &'a [ReportRow],
    pub freshness: &'a [MarketStatus],
    pub as_of: NaiveDate,
    /// The query the report links carry (`?as_of=…`).
    pub query: &'a str,
}

/// `/`: the final verdicts of the reports whose horizon has ended, the ledger (or a notice
/// when there is no verdict yet), the report list and the latest close per market.
pub fn ledger(page: &LedgerPage<'_>) -> Markup {
    let LedgerPage { body, finals, reports, freshness, as_of, query } = *page;
    html! {
        (final_badges(finals))
        @match body {
            Some(body) => (PreEscaped(body)),
            None => {
                h1 { "Ledger" }
                p.notice { "No verdict yet: the benchmark has no prices on or before " (as_of) ". Run "
                    code { "ratingwatch sync" } " or " code { "ratingwatch import prices" } ", or wait for the service's first sync." }
            }
        }
        h2 { "Reports" }
        (report_list(reports, query))
        h2 { "Data freshness" }
        p {
            "Latest stored close per market: "
            @for (index, market) in freshness.iter().enumerate() {
                @if index > 0 { "; " }
                (market.market.as_str()) " " (market.latest_price_date.map_or_else(|| "none".to_string(), |d| d.to_string()))
                @if market.without_prices > 0 { " (" (market.without_prices) " without prices)" }
            }
            ". Stale securities and the jobs' last runs are on the " a href="/status" { "status page" } "."
        }
    }
}

fn report_list(reports: &[ReportRow], query: &str) -> Markup {
    html! {
        @if reports.is_empty() {
            p { "No report is loaded. Put a report file in the reports folder and run " code { "ratingwatch init" } "." }
        } @else {
            ul {
                @for report in reports {
                    li {
                        a href={ "/reports/" (report.id) (query) } { (report.title) }
                        " — " (report.broker) ", " (report.report_date) ", " (report.rating) ", "
                        (report.companies) " companies in " (report.sectors) " sectors · "
                        a href={ "/reports/" (report.id) "/weeks" } { "weekly summaries" }
                    }
                }
            }
        }
    }
}

/// The company's figures in one report, as a one-row table (cards on a phone).
fn security_grid(verdict: &Verdict, member: &MemberReturn) -> String {
    let benchmark = verdict.benchmark.name.as_str();
    let mut grid = Grid::new(&[
        ("base date", false),
        ("base close", true),
        ("end date", false),
        ("end close", true),
        ("return", true),
        (benchmark, true),
        ("excess", true),
        ("implied", false),
        ("note", false),
    ])
    .into_cards();
    grid.row(vec![
        member.base_date.to_string(),
        format!("{} {}", close(member.base_close), member.currency),
        member.end_date.to_string(),
        close(member.end_close),
        percent(member.total_return),
        percent(verdict.benchmark.total_return),
        points(member.excess),
        verdict.basket.implied_rating.clone(),
        if member.stale { "stale".to_string() } else { String::new() },
    ]);
    html_table(&grid)
}

/// `/securities/<SYMBOL>`: the company in each report that holds it, each section led by the
/// headline of the report's rule applied to the company alone, then its closes, return and
/// excess, and its excess path against the report's bands (`boundaries` per entry, from the
/// report's rule).
pub fn security(symbol: &Symbol, entries: &[SecurityInReport], calls: &[ScoredCall], as_of: NaiveDate) -> Markup {
    let name = entries.first().map_or("", |entry| entry.name.as_str());
    html! {
        h1 { (symbol) " " (name) }
        p { "In " (entries.len()) @if entries.len() == 1 { " report" } @else { " reports" } ", as of " (as_of)
            ": each report's rule applied to this company alone (its return from the report's base close against the report's benchmark)." }
        @for entry in entries {
            @let options = RenderOptions::from_rule(&entry.rule);
            h2 { a href={ "/reports/" (entry.report_id) } { (entry.title) } " (" (entry.broker) ")" }
            p { "Sectors: "
                @for (index, (zh, en)) in entry.sectors.iter().enumerate() {
                    @if index > 0 { ", " } (zh) @if !en.is_empty() { " " (en) }
                }
                @if entry.sectors.is_empty() { "–" }
            }
            @match &entry.verdict {
                Err(reason) => p.notice { "No verdict for this company: " (reason) },
                Ok(verdict) => {
                    @let headline = Headline::of_verdict(verdict, &options);
                    (PreEscaped(badge(&headline.text, headline.state, None)))
                    @if let Some(member) = verdict.basket.members.first() {
                        (PreEscaped(security_grid(verdict, member)))
                    }
                    figure.chart {
                        (PreEscaped(chart_svg(&ChartSpec {
                            title: name,
                            benchmark_name: &verdict.benchmark.name,
                            report_date: verdict.report_date,
                            horizon_end: verdict.horizon_end,
                            paths: &[NamedPath { name: name.to_string(), points: verdict.basket.path.clone() }],
                            emphasised: Some(name),
                            boundaries: &options.boundaries,
                        })))
                    }
                }
            }
        }
        h2 { "Broker ratings on " (name) }
        (super::rating_pages::calls_table(calls))
    }
}

/// `/api`: the JSON API's endpoints (path pattern, and the command printing the same body),
/// the concrete ones linked.
pub fn api_index(endpoints: &[(&str, &str)]) -> Markup {
    html! {
        h1 { "JSON API" }
        p { "GET only; every body is the command line's " code { "--format json" } " output for the same question. "
            "The same list as JSON: " a href="/api/v1" { "/api/v1" } "." }
        table {
            thead { tr { th { "endpoint" } th { "same as" } } }
            tbody {
                @for (path, same_as) in endpoints {
                    tr {
                        td { @if path.contains('{') { code { (path) } } @else { a href=(path.split('?').next().unwrap_or(path)) { code { (path) } } } }
                        td { (same_as) }
                    }
                }
            }
        }
    }
}

/// `/reports`: every loaded report.
pub fn reports(reports: &[ReportRow]) -> Markup {
    html! { h1 { "Reports" } (report_list(reports, "")) }
}

/// `/reports/<id>/weeks`: the archive of weekly summaries, newest first; `final_headline`
/// (once the horizon has ended) above everything, as the verdict page's badge.
pub fn archive(report: &ReportDef, weeks: &[ArchiveWeek], timezone: Tz, final_headline: Option<&Headline>) -> Markup {
    let base = format!("/reports/{}/weeks", report.id);
    html! {
        @if let Some(headline) = final_headline { (PreEscaped(super::headline_badge(headline))) }
        h1 { "Weekly summaries: " (report.title) }
        p { (report.broker) ", " (report.report_date) ", rating " (report.rating_label().zh) ". Each week is measured from the previous Friday's close to its Friday's close (or the latest close before it)." }
        @if weeks.is_empty() {
            p.notice { "No week yet: the benchmark " (report.rule.benchmark_name) " has no prices after the report date." }
        } @else {
            table {
                thead { tr { th { "week" } th { "Monday" } th { "Friday" } th { "written by the service" } th { "downloads" } } }
                tbody {
                    @for week in weeks {
                        tr {
                            td { a href={ (base) "/" (week.week) } { (week.week) } }
                            td { (week.week_start) }
                            td { (week.week_end) }
                            td { (week.written_at.map_or_else(|| "-".to_string(), |t| local_time(t, timezone))) }
                            td {
                                @for suffix in WEEK_DOWNLOADS {
                                    a href={ (base) "/" (week.week) "." (suffix) } { (suffix) } " "
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `/status`: the same facts as `ratingwatch status`.
pub fn status(report: &StatusReport) -> Markup {
    let timezone: Tz = report.timezone.zone();
    let local = |time: DateTime<Utc>| local_time(time, timezone);
    html! {
        h1 { "Status" }
        p {
            "Service: " strong { @if report.service_running { "running" } @else { "not running" } }
            ". Times in " (report.timezone) "."
        }
        h2 { "Jobs" }
        table {
            thead { tr { th { "job" } th { "schedule" } th { "last run" } th { "outcome" } th.num { "took" } th { "last success" } th { "next run" } } }
            tbody {
                @for job in &report.jobs {
                    tr {
                        td { (job.job.name()) }
                        td { code { (job.schedule) } }
                        @match &job.last_run {
                            Some(run) => {
                                td { (local(run.started_at)) }
                                td { (run.outcome.as_str()) @if let Some(error) = &run.error { ": " (error) } }
                                td.num { (run.duration_secs.map_or_else(|| "-".to_string(), |s| format!("{s} s"))) }
                            }
                            None => { td { "never" } td { "-" } td.num { "-" } }
                        }
                        td { (job.last_success_at.map_or_else(|| "never".to_string(), local)) }
                        td { (job.next_run.map_or_else(|| "never".to_string(), local)) }
                    }
                }
            }
        }
        h2 { "Prices per market" }
        table {
            thead { tr { th { "market" } th.num { "securities" } th { "latest price" } th.num { "without prices" } } }
            tbody {
                @for market in &report.markets {
                    tr {
                        td { (market.market.as_str()) }
                        td.num { (market.securities) }
                        td { (market.latest_price_date.map_or_else(|| "-".to_string(), |d| d.to_string())) }
                        td.num { (market.without_prices) }
                    }
                }
            }
        }
        @match (report.benchmark_latest_close, report.benchmark_weekdays_behind) {
            (Some(latest), Some(behind)) if behind > report.stale_after_trading_days as usize => {
                p.notice { "The benchmark's latest close is " (latest) ", " (behind) " weekdays ago: every price is behind. Run " code { "ratingwatch sync" } "." }
            }
            (None, _) => { p.notice { "The benchmark has no prices: run " code { "ratingwatch sync" } " or " code { "ratingwatch import prices" } "." } }
            _ => {}
        }
        h2 { "Stale securities" }
        @if report.stale.is_empty() {
            p { "None: every security has a close within " (report.stale_after_trading_days) " trading days of the benchmark's latest." }
        } @else {
            p { (report.stale.len()) " securities have a latest close more than " (report.stale_after_trading_days) " trading days old." }
            table {
                thead { tr { th { "symbol" } th { "name" } th { "latest close" } th.num { "trading days behind" } } }
                tbody {
                    @for stale in &report.stale {
                        tr {
                            td { (stale.symbol) }
                            td { (stale.name) }
                            td { (stale.latest_close.map_or_else(|| "-".to_string(), |d| d.to_string())) }
                            td.num { (stale.trading_days_behind.map_or_else(|| "no prices".to_string(), |d| d.to_string())) }
                        }
                    }
                }
            }
        }
        h2 { "Last sync" }
        @match &report.last_sync {
            None => p { "No sync has run yet." },
            Some(sync) => {
                p {
                    "#" (sync.id) " (" (sync.trigger) ") started " (local(sync.started_at)) ": " (sync.outcome) ", "
                    (sync.securities_updated) " securities updated, " (sync.bars_written) " bars written, "
                    (sync.failures.len()) " failures."
                }
                @if !sync.failures.is_empty() {
                    table {
                        thead { tr { th { "symbol" } th { "provider" } th { "reason" } } }
                        tbody {
                            @for failure in &sync.failures {
                                tr { td { (failure.symbol) } td { (failure.provider.as_deref().unwrap_or("-")) } td { (failure.reason) } }
                            }
                        }
                    }
                }
            }
        }
        @if !report.deliveries.is_empty() {
            h2 { "Notifications" }
            p { "Per channel; " code { "ratingwatch notify outbox" } " lists every attempt." }
            table {
                thead { tr { th { "channel" } th.num { "pending" } th.num { "sent" } th.num { "failed" } th.num { "given up" } th { "oldest pending" } th { "last error" } } }
                tbody {
                    @for channel in &report.deliveries {
                        tr {
                            td { (channel.channel) }
                            td.num { (channel.pending) }
                            td.num { (channel.sent) }
                            td.num { (channel.failed) }
                            td.num { (channel.expired) }
                            td { (channel.oldest_pending.map_or_else(|| "-".to_string(), local)) }
                            td { (channel.last_error.as_deref().unwrap_or("-")) }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_are_minutes_in_the_zone() {
        // 08:30 UTC is 16:30 in Shanghai (UTC+8, no summer time).
        let time = DateTime::parse_from_rfc3339("2026-11-27T08:30:59Z").unwrap().with_timezone(&Utc);
        assert_eq!(local_time(time, chrono_tz::Asia::Shanghai), "2026-11-27 16:30 CST");
    }
}
