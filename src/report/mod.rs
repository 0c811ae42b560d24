//! Rendering: verdicts, weekly summaries and the ledger of every report to table, markdown,
//! JSON, CSV, HTML and SVG.
//!
//! Invariants: pure — model values in, `String`s out; nothing here reads the clock, the
//! database or the file system, except [`write_weekly_files`], which writes exactly the files
//! it is asked for under a directory it is given. Rendered text never contains wall-clock
//! times or absolute paths, so snapshots are stable. Every human-readable output states its
//! method in one line.
//!
//! The human formats share one small document model ([`doc`]): each report is built once as
//! headings, text, tables and a chart, then written as a terminal table, GitHub markdown or one
//! self-contained HTML page.

mod chart;
mod digest;
mod doc;
mod files;
mod headline;
mod ledger;
mod messages;
mod numbers;
pub mod pages;
mod rating_news;
pub mod rating_pages;
mod ratings;
mod status;
mod tables;
mod verdict;
mod weekly;

use std::path::{Path, PathBuf};

use crate::analysis::model::{Verdict, WeeklySummary};
use crate::catalog::{Boundary, Label, RatingRule, boundaries, three_tier_bands};

pub use chart::{ChartSpec, chart_svg};
pub use digest::{Digest, Link, SectorLine, verdict_digest, weekly_digest};
pub use doc::html_escape;
pub use files::{StagedFile, stage, weekly_file_stem, write_atomically, write_new, write_weekly_files_with};
pub use headline::{Headline, Line, Op, State, group_state, week_state};
pub use ledger::{LedgerCounts, ledger_counts};
pub use messages::{RatingChangeFacts, data_health, rating_change_line, rating_change_markdown, rating_change_title, test_message};
pub use numbers::{percent, points};
pub use pages::{ArchiveWeek, FinalVerdict, LedgerPage, local_time};
pub use rating_news::{RATING_NEWS_FORMATS, RatingNews, rating_news_title, render_rating_news, rule_for_word};
pub use rating_pages::{BrokerPage, broker_href};
pub use ratings::{RATINGS_FORMATS, RatingRow, render_ratings, render_track_record};
pub use status::{STATUS_FORMATS, render_status};
pub use tables::{REPORTS_FORMATS, WATCHLIST_FORMATS, render_reports, render_watchlist};

/// An output format (`--format`). Not every format suits every report; each renderer says
/// what it writes, and each command offers the formats it renders.
///
/// Text form: `table`, `markdown`, `json`, `csv`, `html`; parsed in any case, `md` is markdown
/// (the same for `FromStr` through strum and for `--format` through clap).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
#[derive(strum::Display, strum::IntoStaticStr, strum::EnumString, strum::VariantNames, strum::EnumIter)]
#[strum(serialize_all = "lowercase", ascii_case_insensitive, parse_err_ty = String, parse_err_fn = unknown_format)]
pub enum Format {
    Table,
    #[value(alias = "md")]
    #[strum(to_string = "markdown", serialize = "md")]
    Markdown,
    Json,
    Csv,
    Html,
}

impl Format {
    pub const ALL: [Format; 5] = [Format::Table, Format::Markdown, Format::Json, Format::Csv, Format::Html];

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The file extension for files written in this format.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Table => "txt",
            Format::Markdown => "md",
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Html => "html",
        }
    }
}

fn unknown_format(text: &str) -> String {
    format!("unknown format `{text}` (expected {})", crate::text::one_of(<Format as strum::VariantNames>::VARIANTS))
}

/// A `--format` value parser offering only `allowed`: each command lists the formats it
/// renders, and clap's error names them.
pub fn format_parser(allowed: &'static [Format]) -> impl clap::builder::TypedValueParser<Value = Format> {
    use clap::ValueEnum as _;
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(allowed.iter().filter_map(Format::to_possible_value))
        .try_map(|name: String| <Format as clap::ValueEnum>::from_str(&name, true))
}

/// What a renderer needs beyond the model values: where the rule's bands meet, with their
/// labels, drawn as one dashed line each on the chart. The model values do not carry the rule,
/// so callers that know the report pass it; the default is the seed report's rule (±10 pp,
/// 看好/中性/看淡).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderOptions {
    /// From the top down.
    pub boundaries: Vec<Boundary>,
    /// The terminal's width in columns, to fit [`Format::Table`] tables in; `None` (a pipe, a
    /// file, every other format) draws them at their full width.
    pub width: Option<u16>,
    /// HTML for the dashboard: member tables link each symbol to `/securities/<SYMBOL>` (a
    /// file or a message has no dashboard to link into).
    pub security_links: bool,
    /// The member tables' order: the report's (`None`), or by a numeric column, highest first.
    pub member_sort: Option<MemberSort>,
}

/// A member table's numeric column to sort by, highest first (`?sort=` on the verdict page).
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::EnumString, strum::IntoStaticStr, strum::VariantNames)]
#[strum(serialize_all = "snake_case")]
pub enum MemberSort {
    Return,
    Excess,
    Contribution,
}

impl Default for RenderOptions {
    fn default() -> Self {
        let labels = [Label::new("看好", "overweight"), Label::new("中性", "neutral"), Label::new("看淡", "underweight")];
        let bands = three_tier_bands(1000, -1000, labels);
        RenderOptions { boundaries: boundaries(&bands), width: None, security_links: false, member_sort: None }
    }
}

impl RenderOptions {
    pub fn from_rule(rule: &RatingRule) -> RenderOptions {
        RenderOptions { boundaries: rule.boundaries(), width: None, security_links: false, member_sort: None }
    }

    /// These options with tables fitted to `width` columns (see [`RenderOptions::width`]).
    pub fn within(self, width: Option<u16>) -> RenderOptions {
        RenderOptions { width, ..self }
    }

    /// These options with member symbols linked for the dashboard (see [`RenderOptions::security_links`]).
    pub fn with_security_links(self) -> RenderOptions {
        RenderOptions { security_links: true, ..self }
    }
}

/// Renders a verdict with the default options (±10 pp bands).
pub fn render_verdict(verdict: &Verdict, format: Format) -> String {
    render_verdict_with(verdict, format, &RenderOptions::default())
}

/// Renders a verdict: per sector and for the basket, members, warnings and the method line.
pub fn render_verdict_with(verdict: &Verdict, format: Format, options: &RenderOptions) -> String {
    match format {
        Format::Json => json(&Headed { headline: Headline::of_verdict(verdict, options), document: verdict }),
        Format::Csv => verdict::csv(verdict),
        Format::Table => verdict::document(verdict, options).to_terminal_within(options.width),
        Format::Markdown => verdict::document(verdict, options).to_markdown(),
        Format::Html => verdict::document(verdict, options).to_html(),
    }
}

/// Renders a weekly summary with the default options (±10 pp bands).
pub fn render_weekly(summary: &WeeklySummary, format: Format) -> String {
    render_weekly_with(summary, format, &RenderOptions::default())
}

/// Renders a weekly summary: per sector the week and since-report numbers against the
/// benchmark, the best and worst members, data freshness and the method line.
pub fn render_weekly_with(summary: &WeeklySummary, format: Format, options: &RenderOptions) -> String {
    match format {
        Format::Json => json(&WeeklyJson::new(summary, options)),
        Format::Csv => weekly::csv(summary),
        Format::Table => weekly::document(summary, options).to_terminal_within(options.width),
        Format::Markdown => weekly::document(summary, options).to_markdown(),
        Format::Html => weekly::document(summary, options).to_html(),
    }
}

/// A document with its headline first: the JSON `verdict --format json` and
/// `report --format json` print (the model's fields after a `headline` object).
#[derive(serde::Serialize)]
struct Headed<'a, T: serde::Serialize> {
    headline: Headline,
    #[serde(flatten)]
    document: &'a T,
}

/// The weekly summary's JSON: its headline, the model's fields, and `new_ratings`, each an
/// object with the fields of a `ratings list --format json` row.
#[derive(serde::Serialize)]
struct WeeklyJson<'a> {
    headline: Headline,
    #[serde(flatten)]
    document: &'a WeeklySummary,
    new_ratings: Vec<RatingRow<'a>>,
}

impl<'a> WeeklyJson<'a> {
    fn new(summary: &'a WeeklySummary, options: &RenderOptions) -> WeeklyJson<'a> {
        WeeklyJson {
            headline: Headline::of_weekly(summary, options),
            document: summary,
            new_ratings: summary.new_ratings.iter().map(RatingRow::of).collect(),
        }
    }
}

/// The verdict's JSON document as a value: what `verdict --format json` prints (there in the
/// model's field order) and what the generic webhook carries as `data`; one serialisation.
pub fn verdict_json(verdict: &Verdict, options: &RenderOptions) -> serde_json::Value {
    to_value(&Headed { headline: Headline::of_verdict(verdict, options), document: verdict })
}

/// The weekly summary's JSON document as a value (`report --format json`, the webhook's `data`).
pub fn weekly_json(summary: &WeeklySummary, options: &RenderOptions) -> serde_json::Value {
    to_value(&WeeklyJson::new(summary, options))
}

fn to_value<T: serde::Serialize>(value: &T) -> serde_json::Value {
    // As in `json`: the model always serializes.
    serde_json::to_value(value).expect("model values serialize to JSON")
}

/// Renders the ledger of every report (`verdict --all`): one row per report and the share of
/// ratings that held.
pub fn render_ledger(verdicts: &[Verdict], format: Format) -> String {
    render_ledger_within(verdicts, format, None)
}

/// [`render_ledger`] with its table fitted to `width` terminal columns when given.
pub fn render_ledger_within(verdicts: &[Verdict], format: Format, width: Option<u16>) -> String {
    match format {
        Format::Json => json(&ledger::LedgerJson::new(verdicts)),
        Format::Csv => ledger::csv(verdicts),
        Format::Table => ledger::document(verdicts, None).to_terminal_within(width),
        Format::Markdown => ledger::document(verdicts, None).to_markdown(),
        Format::Html => ledger::document(verdicts, None).to_html(),
    }
}

/// The inside of a report's HTML page (`<main>`'s content), for the web dashboard: the same
/// markup as [`Format::Html`] without the page around it.
pub enum HtmlBody<'a> {
    Verdict(&'a Verdict, &'a RenderOptions),
    Weekly(&'a WeeklySummary, &'a RenderOptions),
    /// The ledger, each row's report linking to its page with this query (`?as_of=…` or "").
    Ledger(&'a [Verdict], &'a str),
}

impl HtmlBody<'_> {
    pub fn render(&self) -> String {
        match self {
            HtmlBody::Verdict(verdict, options) => verdict::document(verdict, options).to_html_body(),
            HtmlBody::Weekly(summary, options) => weekly::document(summary, options).to_html_body(),
            HtmlBody::Ledger(verdicts, query) => ledger::document(verdicts, Some(query)).to_html_body(),
        }
    }
}

/// A headline as the badge block every report page leads with (the verdict page's).
pub fn headline_badge(headline: &Headline) -> String {
    doc::badge(&headline.text, headline.state, None)
}

/// The CSS of the HTML pages, for a web page that embeds an [`HtmlBody`].
pub const HTML_STYLE: &str = doc::STYLE;

/// Writes `<dir>/<report-id>/<YYYY>-W<ww>.{md,json,html}` and returns the paths written.
pub fn write_weekly_files(dir: &Path, summary: &WeeklySummary) -> std::io::Result<Vec<PathBuf>> {
    write_weekly_files_with(dir, summary, &RenderOptions::default())
}

fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    // The model holds only strings, numbers, dates and plain enums, which always serialize;
    // a failure here is a bug in the model, not bad input.
    serde_json::to_string_pretty(value).expect("model values serialize to JSON") + "\n"
}

#[cfg(test)]
mod format_tests {
    use strum::IntoEnumIterator;

    use super::Format;

    #[test]
    fn every_format_keeps_its_name_and_parses_like_format_flag() {
        // The names `--format` takes and the web's representations: they must never change.
        let names = ["table", "markdown", "json", "csv", "html"];
        assert_eq!(Format::iter().collect::<Vec<_>>(), Format::ALL);
        for (format, name) in Format::iter().zip(names) {
            assert_eq!((format.as_str(), format.to_string()), (name, name.to_string()));
            assert_eq!(name.parse::<Format>(), Ok(format));
            assert_eq!(name.to_uppercase().parse::<Format>(), Ok(format));
            // `--format` (clap) takes the same names.
            assert_eq!(<Format as clap::ValueEnum>::from_str(name, true), Ok(format));
        }
        assert_eq!("MD".parse::<Format>(), Ok(Format::Markdown));
        assert_eq!(<Format as clap::ValueEnum>::from_str("md", true), Ok(Format::Markdown));
    }

    #[test]
    fn an_unknown_format_lists_the_accepted_names() {
        assert_eq!("svg".parse::<Format>(), Err("unknown format `svg` (expected table, markdown, json, csv or html)".to_string()));
    }
}
