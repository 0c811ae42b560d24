//! The dashboard's HTML: a page frame (navigation, downloads) in maud, which escapes every
//! interpolated string at compile-checked call sites, around the report module's own HTML
//! for the ledger, the verdict and the week (the same markup the CLI's `--format html`
//! and the service's weekly files carry). No JavaScript; forms are plain GETs.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use maud::{Markup, PreEscaped, html};

use super::frame::{Nav, layout};
use super::params::Representation;
use super::questions::ArchiveWeek;
use crate::analysis::model::CurrencyMode;
use crate::catalog::ReportDef;
use crate::status::{MarketStatus, StatusReport};
use crate::store::ReportRow;

/// Links to a page's downloads: `base` plus `.json`, `.csv`, `.md`, keeping the query.
pub fn downloads(base: &str, query: &str, formats: &[Representation]) -> Markup {
    html! {
        span.downloads {
            "Download: "
            @for format in formats {
                @let label = match format { Representation::Json => "JSON", Representation::Csv => "CSV", Representation::Markdown => "Markdown", Representation::Html => "HTML" };
                a href={ (base) (format.suffix()) (query) } { (label) }
            }
        }
    }
}

pub const ALL_DOWNLOADS: [Representation; 3] = [Representation::Json, Representation::Csv, Representation::Markdown];

/// A query string (`?as_of=…&currency=local`) for the non-default parameters.
pub fn query(as_of: Option<NaiveDate>, currency: CurrencyMode) -> String {
    let mut parts = Vec::new();
    if let Some(as_of) = as_of {
        parts.push(format!("as_of={as_of}"));
    }
    if currency == CurrencyMode::Local {
        parts.push("currency=local".to_string());
    }
    if parts.is_empty() { String::new() } else { format!("?{}", parts.join("&")) }
}

fn as_of_form(action: &str, as_of: NaiveDate, currency: Option<CurrencyMode>) -> Markup {
    html! {
        form method="get" action=(action) {
            label { "As of " input type="date" name="as_of" value=(as_of); }
            @if let Some(currency) = currency {
                label { "in "
                    select name="currency" {
                        option value="cny" selected[currency == CurrencyMode::Cny] { "CNY" }
                        option value="local" selected[currency == CurrencyMode::Local] { "local currency" }
                    }
                }
            }
            button type="submit" { "Show" }
        }
    }
}

/// `/`: the ledger (the report module's HTML), with a link to each report below it.
pub fn ledger(body: Option<String>, reports: &[ReportRow], freshness: &[MarketStatus], as_of: NaiveDate, explicit_as_of: bool) -> Markup {
    let query = query(explicit_as_of.then_some(as_of), CurrencyMode::Cny);
    let toolbar = html! {
        (as_of_form("/", as_of, None))
        (downloads("/ledger", &query, &ALL_DOWNLOADS))
    };
    let content = html! {
        @match &body {
            Some(body) => (PreEscaped(body)),
            None => {
                h1 { "Ledger" }
                p.notice { "No verdict yet: the benchmark has no prices on or before " (as_of) ". Run "
                    code { "ratingwatch sync" } " or " code { "ratingwatch import prices" } ", or wait for the service's first sync." }
            }
        }
        h2 { "Reports" }
        (report_list(reports, &query))
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
    };
    layout("Ledger", Nav::Ledger, Some(toolbar), content)
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

/// `/reports`: every loaded report.
pub fn reports(reports: &[ReportRow]) -> Markup {
    let content = html! { h1 { "Reports" } (report_list(reports, "")) };
    layout("Reports", Nav::Reports, Some(html! { (downloads("/reports", "", &[Representation::Json])) }), content)
}

/// `/reports/<id>`: the verdict (the report module's HTML, chart included).
pub fn verdict(report: &ReportDef, body: &str, as_of: NaiveDate, explicit_as_of: bool, currency: CurrencyMode) -> Markup {
    let base = format!("/reports/{}", report.id);
    let query = query(explicit_as_of.then_some(as_of), currency);
    let toolbar = html! {
        (as_of_form(&base, as_of, Some(currency)))
        a href={ (base) "/weeks" } { "Weekly summaries" }
        (downloads(&base, &query, &ALL_DOWNLOADS))
    };
    layout(&report.title, Nav::Reports, Some(toolbar), PreEscaped(body.to_string()))
}

/// `/reports/<id>/weeks`: the archive of weekly summaries.
pub fn archive(report: &ReportDef, weeks: &[ArchiveWeek], timezone: Tz) -> Markup {
    let base = format!("/reports/{}/weeks", report.id);
    let toolbar = html! {
        a href={ "/reports/" (report.id) } { "Verdict" }
        (downloads(&base, "", &[Representation::Json]))
    };
    let content = html! {
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
                            td { (week.written_at.map_or_else(|| "-".to_string(), |t| local(t, timezone))) }
                            td {
                                @for format in ALL_DOWNLOADS {
                                    a href={ (base) "/" (week.week) (format.suffix()) } { (format.suffix().trim_start_matches('.')) } " "
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    layout(&format!("Weekly summaries: {}", report.title), Nav::Reports, Some(toolbar), content)
}

/// `/reports/<id>/weeks/<week>`: one week, the body of the service's weekly file.
pub fn week(report: &ReportDef, week: &str, previous: Option<String>, next: Option<String>, body: &str, currency: CurrencyMode) -> Markup {
    let base = format!("/reports/{}/weeks", report.id);
    let query = query(None, currency);
    let toolbar = html! {
        @if let Some(previous) = &previous { a href={ (base) "/" (previous) } { "← " (previous) } }
        a href=(base) { "All weeks" }
        @if let Some(next) = &next { a href={ (base) "/" (next) } { (next) " →" } }
        (downloads(&format!("{base}/{week}"), &query, &ALL_DOWNLOADS))
    };
    layout(&format!("{week}: {}", report.title), Nav::Reports, Some(toolbar), PreEscaped(body.to_string()))
}

fn local(time: DateTime<Utc>, timezone: Tz) -> String {
    time.with_timezone(&timezone).format("%Y-%m-%d %H:%M %Z").to_string()
}

/// `/status`: the same facts as `ratingwatch status`.
pub fn status(report: &StatusReport) -> Markup {
    let timezone: Tz = report.timezone.zone();
    let toolbar = html! { (downloads("/status", "", &[Representation::Json])) };
    let content = html! {
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
                                td { (local(run.started_at, timezone)) }
                                td { (run.outcome.as_str()) @if let Some(error) = &run.error { ": " (error) } }
                                td.num { (run.duration_secs.map_or_else(|| "-".to_string(), |s| format!("{s} s"))) }
                            }
                            None => { td { "never" } td { "-" } td.num { "-" } }
                        }
                        td { (job.last_success_at.map_or_else(|| "never".to_string(), |t| local(t, timezone))) }
                        td { (job.next_run.map_or_else(|| "never".to_string(), |t| local(t, timezone))) }
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
                    "#" (sync.id) " (" (sync.trigger) ") started " (local(sync.started_at, timezone)) ": " (sync.outcome) ", "
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
                            td { (channel.oldest_pending.map_or_else(|| "-".to_string(), |t| local(t, timezone))) }
                            td { (channel.last_error.as_deref().unwrap_or("-")) }
                        }
                    }
                }
            }
        }
    };
    layout("Status", Nav::Status, Some(toolbar), content)
}

/// Any error, as a page.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_carry_only_non_default_parameters() {
        let date = NaiveDate::from_ymd_opt(2023, 5, 19).unwrap();
        assert_eq!(query(None, CurrencyMode::Cny), "");
        assert_eq!(query(Some(date), CurrencyMode::Cny), "?as_of=2023-05-19");
        assert_eq!(query(Some(date), CurrencyMode::Local), "?as_of=2023-05-19&currency=local");
    }
}
