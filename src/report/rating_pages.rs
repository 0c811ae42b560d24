//! The dashboard's ratings-feed page bodies, in maud (which escapes every interpolated
//! string): the latest ratings (`/ratings`), the track record (`/brokers`) and one broker
//! (`/brokers/<name>`: its rules from the book, its track-record row, its calls). The cells are
//! the terminal table's own ([`super::ratings`]); `web/` frames them.

use chrono::NaiveDate;
use maud::{Markup, html};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

use super::numbers::threshold;
use super::ratings::{LIST_COLUMNS, LIST_METHOD, RatingRow, list_cells, track_cells, track_columns, track_method};
use crate::analysis::ratings::{ScoredCall, TrackRow};
use crate::ratings::{Broker, Scale, TierRule};

/// The address of a broker's page: its name percent-encoded (names are Chinese), so the link
/// is plain ASCII and the router decodes it back.
pub fn broker_href(name: &str) -> String {
    format!("/brokers/{}", utf8_percent_encode(name, NON_ALPHANUMERIC))
}

fn column_head(name: &str, numeric: bool) -> Markup {
    html! { @if numeric { th.num { (name) } } @else { th { (name) } } }
}

/// The calls as a table, newest first (`calls` oldest first, as scored), each broker linking to
/// its page, then the reasons of the unscored ones.
pub(super) fn calls_table(calls: &[ScoredCall]) -> Markup {
    let rows: Vec<RatingRow<'_>> = calls.iter().rev().map(RatingRow::of).collect();
    html! {
        @if rows.is_empty() {
            p.notice { "No rating matches: run " code { "ratingwatch ratings sync" } " to fetch the watchlist's ratings, or widen the filters." }
        } @else {
            // Cards on a phone (the stylesheet's `table.cards`): every cell labelled.
            table.cards {
                thead { tr { @for (name, numeric) in LIST_COLUMNS { (column_head(name, numeric)) } th { "reason" } } }
                tbody {
                    @for row in &rows {
                        tr {
                            @for (index, cell) in list_cells(row).iter().enumerate() {
                                @let label = LIST_COLUMNS[index].0;
                                @if index == 2 {
                                    td data-label=(label) { a href=(broker_href(row.broker)) { (cell) } }
                                } @else if LIST_COLUMNS[index].1 {
                                    td.num data-label=(label) { (cell) }
                                } @else {
                                    td data-label=(label) { (cell) }
                                }
                            }
                            td data-label="reason" { (row.reason.unwrap_or("")) }
                        }
                    }
                }
            }
        }
        p.method { (LIST_METHOD) }
    }
}

/// `/ratings`: the ratings listed as `ratings list` lists them, newest first.
pub fn ratings(calls: &[ScoredCall], as_of: NaiveDate) -> Markup {
    html! {
        h1 { "Ratings as of " (as_of) ": " (calls.len()) }
        (calls_table(calls))
    }
}

/// The track record's table; with `link_keys` (grouped by broker) each key links to its page.
fn track_table(rows: &[TrackRow], key_name: &'static str, link_keys: bool) -> Markup {
    let columns = track_columns(key_name);
    html! {
        table.cards {
            thead { tr { @for (name, numeric) in columns { (column_head(name, numeric)) } } }
            tbody {
                @for row in rows {
                    tr {
                        @for (index, cell) in track_cells(row).iter().enumerate() {
                            @let label = columns[index].0;
                            @if index == 1 && link_keys {
                                td data-label=(label) { a href=(broker_href(&row.key)) { (cell) } }
                            } @else if columns[index].1 {
                                td.num data-label=(label) { (cell) }
                            } @else {
                                td data-label=(label) { (cell) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `/brokers`: the track record, ranked as `ratings track-record` ranks it.
pub fn track_record(rows: &[TrackRow], key_name: &'static str, as_of: NaiveDate, min_sample: usize) -> Markup {
    html! {
        h1 { "Track record by " (key_name) " as of " (as_of) }
        @if rows.is_empty() {
            p.notice { "No rating is stored yet: run " code { "ratingwatch ratings sync" } "." }
        } @else {
            (track_table(rows, key_name, key_name == "broker"))
        }
        p.method { (track_method(min_sample)) }
    }
}

/// A band's range in words: `≥ +15 pp`, `> -5 pp and < +5 pp`, `≤ -5 pp`.
fn band_range(lower: Option<crate::catalog::Bound>, upper: Option<crate::catalog::Bound>) -> String {
    let low = lower.map(|b| format!("{} {}", if b.inclusive { "≥" } else { ">" }, threshold(b.bp)));
    let high = upper.map(|b| format!("{} {}", if b.inclusive { "≤" } else { "<" }, threshold(b.bp)));
    match (low, high) {
        (Some(low), Some(high)) => format!("{low} and {high}"),
        (Some(one), None) | (None, Some(one)) => one,
        (None, None) => "any excess".to_string(),
    }
}

fn tier_rule(title: &str, rule: Option<&TierRule>) -> Markup {
    html! {
        h3 { (title) }
        @match rule {
            None => p { "No " (title.to_lowercase()) " in the book: these calls are unscored (broker rule unknown)." },
            Some(rule) => {
                p {
                    "Horizon " (rule.horizon.note()) "; benchmark "
                    @for (index, (group, (symbol, name))) in rule.benchmarks.iter().enumerate() {
                        @if index > 0 { ", " }
                        (group) ": " (name) " (" (symbol) ")"
                    }
                    "."
                }
                @match &rule.scale {
                    Scale::Bands(bands) => {
                        table {
                            thead { tr { th { "rating" } th { "excess over the benchmark" } } }
                            tbody {
                                @for band in bands {
                                    tr { td { (band.label.zh) " (" (band.label.en) ")" } td { (band_range(band.lower, band.upper)) } }
                                }
                            }
                        }
                    }
                    Scale::Words(words) => p { "Stated in words only, so never scored: " (words.join(", ")) "." },
                }
                blockquote { (rule.source) }
            }
        }
    }
}

/// What a broker's page shows.
pub struct BrokerPage<'a> {
    pub name: &'a str,
    /// The broker's entry in the book; `None` for a broker the book has no rules for.
    pub rules: Option<&'a Broker>,
    /// Its row of the track record by broker (ranked among all brokers).
    pub row: Option<&'a TrackRow>,
    /// Its calls, oldest first.
    pub calls: &'a [ScoredCall],
    pub as_of: NaiveDate,
    pub min_sample: usize,
}

/// `/brokers/<name>`: the broker's rules, its track-record row and its calls.
pub fn broker(page: &BrokerPage<'_>) -> Markup {
    let BrokerPage { name, rules, row, calls, as_of, min_sample } = *page;
    html! {
        h1 { (name) }
        @if let Some(broker) = rules {
            @if !broker.aliases.is_empty() { p { "Also listed as " (broker.aliases.join(", ")) "." } }
        }
        h2 { "Rules" }
        @match rules {
            None => p.notice { "The broker book (data/brokers.toml, and ratings.brokers_file) has no entry for " (name) ": its calls are listed unscored." },
            Some(broker) => {
                (tier_rule("Stock rule", broker.stock.as_ref()))
                (tier_rule("Industry rule", broker.industry.as_ref()))
            }
        }
        h2 { "Track record as of " (as_of) }
        @match row {
            Some(row) => {
                (track_table(std::slice::from_ref(row), "broker", false))
                p.method { (track_method(min_sample)) " The rank is among all brokers." }
            }
            None => p { "No call by " (name) " is stored." },
        }
        h2 { "Calls: " (calls.len()) }
        (calls_table(calls))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Bound;

    #[test]
    fn broker_links_are_ascii_and_bands_read_as_ranges() {
        // 华泰 is E5 8D 8E E6 B3 B0 in UTF-8.
        assert_eq!(broker_href("华泰"), "/brokers/%E5%8D%8E%E6%B3%B0");
        assert_eq!(broker_href("a b/c"), "/brokers/a%20b%2Fc");
        let at = |bp, inclusive| Some(Bound { bp, inclusive });
        assert_eq!(band_range(at(1500, true), None), "≥ +15 pp");
        assert_eq!(band_range(at(-500, false), at(500, false)), "> -5 pp and < +5 pp");
        assert_eq!(band_range(None, at(-500, true)), "≤ -5 pp");
    }
}
