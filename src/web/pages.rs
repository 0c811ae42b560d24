//! The dashboard's frames: the toolbar (as-of and currency forms, downloads, links to
//! neighbouring pages) and the layout around the bodies the report module renders (the
//! ledger, verdict and week documents, the same markup the CLI's `--format html` and the
//! service's weekly files carry, and `report::pages` for the lists, archive and status). No
//! JavaScript; forms are plain GETs.

use chrono::NaiveDate;
use chrono_tz::Tz;
use maud::{Markup, PreEscaped, html};

use super::frame::{Nav, layout};
use super::params::Representation;
use crate::analysis::model::{CurrencyMode, SecurityInReport};
use crate::analysis::ratings::ScoredCall;
use crate::catalog::ReportDef;
use crate::report::{self, ArchiveWeek, FinalVerdict, Headline, LedgerPage};
use crate::status::{MarketStatus, StatusReport};
use crate::store::ReportRow;
use crate::symbol::Symbol;

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

/// What the ledger page shows beyond its toolbar.
pub struct LedgerFacts {
    /// The ledger document's HTML; `None` without a verdict yet.
    pub body: Option<String>,
    pub finals: Vec<FinalVerdict>,
    pub reports: Vec<ReportRow>,
    pub freshness: Vec<MarketStatus>,
}

/// `/`: the ledger (the report module's HTML), final verdicts above it, a link to each
/// report below it.
pub fn ledger(page: LedgerFacts, as_of: NaiveDate, explicit_as_of: bool) -> Markup {
    let query = query(explicit_as_of.then_some(as_of), CurrencyMode::Cny);
    let toolbar = html! {
        (as_of_form("/", as_of, None))
        (downloads("/ledger", &query, &ALL_DOWNLOADS))
    };
    let content = report::pages::ledger(&LedgerPage {
        body: page.body.as_deref(),
        finals: &page.finals,
        reports: &page.reports,
        freshness: &page.freshness,
        as_of,
        query: &query,
    });
    layout("Ledger", Nav::Ledger, Some(toolbar), content)
}

/// `/reports`: every loaded report.
pub fn reports(reports: &[ReportRow]) -> Markup {
    layout("Reports", Nav::Reports, Some(html! { (downloads("/reports", "", &[Representation::Json])) }), report::pages::reports(reports))
}

/// `/securities/<SYMBOL>`: the company in each report holding it.
pub fn security(symbol: &Symbol, entries: &[SecurityInReport], calls: &[ScoredCall], as_of: NaiveDate) -> Markup {
    let base = format!("/securities/{symbol}");
    let toolbar = html! {
        (as_of_form(&base, as_of, None))
        a href={ "/api/v1/securities/" (symbol) "/prices" } { "Prices (JSON)" }
    };
    layout(&symbol.to_string(), Nav::Reports, Some(toolbar), report::pages::security(symbol, entries, calls, as_of))
}

/// `/api`: the API's endpoints.
pub fn api(endpoints: &[(&str, &str)]) -> Markup {
    layout("JSON API", Nav::Api, None, report::pages::api_index(endpoints))
}

/// `/reports/<id>`: the verdict (the report module's HTML, chart included).
pub fn verdict(
    report: &ReportDef,
    body: &str,
    as_of: NaiveDate,
    explicit_as_of: bool,
    currency: CurrencyMode,
    sort: Option<report::MemberSort>,
) -> Markup {
    let base = format!("/reports/{}", report.id);
    let query = query(explicit_as_of.then_some(as_of), currency);
    // The sort links keep the page's other parameters.
    let sorted = |key: &str| format!("{base}{}{}sort={key}", query, if query.is_empty() { "?" } else { "&" });
    let toolbar = html! {
        (as_of_form(&base, as_of, Some(currency)))
        a href={ (base) "/weeks" } { "Weekly summaries" }
        span.sort {
            "Members by: "
            @if sort.is_none() { b { "report order" } } @else { a href={ (base) (query) } { "report order" } }
            @for key in <report::MemberSort as strum::VariantNames>::VARIANTS {
                " · "
                @if sort.map(<&'static str>::from) == Some(*key) { b { (key) } } @else { a href=(sorted(key)) { (key) } }
            }
        }
        (downloads(&base, &query, &ALL_DOWNLOADS))
    };
    layout(&report.title, Nav::Reports, Some(toolbar), PreEscaped(body.to_string()))
}

/// `/reports/<id>/weeks`: the archive of weekly summaries.
pub fn archive(report: &ReportDef, weeks: &[ArchiveWeek], timezone: Tz, final_headline: Option<&Headline>) -> Markup {
    let base = format!("/reports/{}/weeks", report.id);
    let toolbar = html! {
        a href={ "/reports/" (report.id) } { "Verdict" }
        (downloads(&base, "", &[Representation::Json]))
    };
    let content = report::pages::archive(report, weeks, timezone, final_headline);
    layout(&format!("Weekly summaries: {}", report.title), Nav::Reports, Some(toolbar), content)
}

/// `/reports/<id>/weeks/<week>`: one week, the body of the service's weekly file.
pub fn week(report: &ReportDef, week: &str, previous: Option<String>, next: Option<String>, body: &str, currency: CurrencyMode) -> Markup {
    let base = format!("/reports/{}/weeks", report.id);
    let query = query(None, currency);
    let toolbar = html! {
        a href={ "/reports/" (report.id) } { "Verdict" }
        @if let Some(previous) = &previous { a href={ (base) "/" (previous) } { "← " (previous) } }
        a href=(base) { "All weeks" }
        @if let Some(next) = &next { a href={ (base) "/" (next) } { (next) " →" } }
        (downloads(&format!("{base}/{week}"), &query, &ALL_DOWNLOADS))
    };
    layout(&format!("{week}: {}", report.title), Nav::Reports, Some(toolbar), PreEscaped(body.to_string()))
}

/// A form of plain GET fields (name, label, value) with a submit button.
fn filter_form(action: &str, fields: &[(&str, &str, String)]) -> Markup {
    html! {
        form method="get" action=(action) {
            @for (name, label, value) in fields {
                @if *name == "as_of" || *name == "since" {
                    label { (label) " " input type="date" name=(name) value=(value); }
                } @else {
                    label { (label) " " input type="text" name=(name) value=(value) size="12"; }
                }
            }
            button type="submit" { "Show" }
        }
    }
}

/// The ratings filters as the page was asked (for the form's values and the API link).
pub struct RatingsAsked {
    pub symbol: Option<String>,
    pub broker: Option<String>,
    pub since: Option<NaiveDate>,
    pub as_of: NaiveDate,
}

/// `/ratings`: the latest ratings on the watchlist's companies, newest first.
pub fn ratings(body: Markup, asked: &RatingsAsked) -> Markup {
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let toolbar = html! {
        (filter_form("/ratings", &[
            ("symbol", "Company", text(&asked.symbol)),
            ("broker", "Broker", text(&asked.broker)),
            ("since", "Since", asked.since.map(|d| d.to_string()).unwrap_or_default()),
            ("as_of", "As of", asked.as_of.to_string()),
        ]))
        a href="/api/v1/ratings" { "JSON API" }
    };
    layout("Ratings", Nav::Ratings, Some(toolbar), body)
}

/// `/brokers`: the track record.
pub fn brokers(body: Markup, by: &'static str, since: Option<NaiveDate>, as_of: NaiveDate) -> Markup {
    let toolbar = html! {
        form method="get" action="/brokers" {
            label { "By "
                select name="by" {
                    @for option in ["broker", "analyst", "rating"] {
                        option value=(option) selected[option == by] { (option) }
                    }
                }
            }
            label { "Since " input type="date" name="since" value=(since.map(|d| d.to_string()).unwrap_or_default()); }
            label { "As of " input type="date" name="as_of" value=(as_of); }
            button type="submit" { "Show" }
        }
        a href="/api/v1/brokers" { "JSON API" }
    };
    layout("Brokers", Nav::Brokers, Some(toolbar), body)
}

/// `/brokers/<name>`: one broker's rules, track record and calls.
pub fn broker(name: &str, body: Markup, as_of: NaiveDate) -> Markup {
    let toolbar = html! {
        form method="get" action=(report::broker_href(name)) {
            label { "As of " input type="date" name="as_of" value=(as_of); }
            button type="submit" { "Show" }
        }
        a href="/brokers" { "All brokers" }
    };
    layout(name, Nav::Brokers, Some(toolbar), body)
}

/// `/status`: the same facts as `ratingwatch status`.
pub fn status(status: &StatusReport) -> Markup {
    let toolbar = html! { (downloads("/status", "", &[Representation::Json])) };
    layout("Status", Nav::Status, Some(toolbar), report::pages::status(status))
}

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
