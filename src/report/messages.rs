//! The short notification messages that are not documents: a sector's rating change, a data
//! health problem or its clearing, and `notify test`. `notify` builds them from these texts
//! and fits them to each platform; no number is formatted there.

use chrono::{DateTime, NaiveDate, Utc};

use super::doc::html_escape;
use super::numbers::points;
use crate::analysis::model::{GroupVerdict, Verdict};
use crate::catalog::{Label, RatingRule};

/// A confirmed change of a sector's (or the basket's) implied rating.
pub struct RatingChangeFacts<'a> {
    pub from: &'a Label,
    pub to: &'a Label,
    /// The first close in the new band, and the excess then.
    pub since: NaiveDate,
    pub excess_since: f64,
    /// The close that confirmed it, and the excess then.
    pub confirmed: NaiveDate,
    pub excess_confirmed: f64,
    pub confirm_closes: u32,
}

/// The title, dated by the change's first close so two crossings of the same line differ.
pub fn rating_change_title(verdict: &Verdict, group: &GroupVerdict, change: &RatingChangeFacts<'_>) -> String {
    format!("{} · {} {} → {} · {}", verdict.title, group.name, change.from.zh, change.to.zh, change.since)
}

/// The message in markdown: the change, the report's rating and horizon, the rule's
/// boundaries, the anti-flap method and where the full report is.
pub fn rating_change_markdown(
    verdict: &Verdict,
    group: &GroupVerdict,
    change: &RatingChangeFacts<'_>,
    rule: &RatingRule,
    pointer: &str,
) -> String {
    let title = rating_change_title(verdict, group, change);
    let boundaries = rule
        .boundaries()
        .iter()
        .map(|b| format!("{} {}/{}", points(b.bp as f64 / 10_000.0), b.above.zh, b.below.zh))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "### {title}\n\n\
         **{name}** ({name_en}): implied rating **{from_zh} → {to_zh}** ({from_en} → {to_en}) \
         at {excess_since} excess over {benchmark} on {since}; held for {closes} closes, {excess_confirmed} on {confirmed}.\n\n\
         Report rating: {rating} ({report_date}), horizon to {horizon_end}, {days_left} days left. \
         Band boundaries: {boundaries}.\n\n\
         Method: a new implied rating is announced once it has held {closes} consecutive closes. {method}\n\n\
         full report: {pointer}",
        name = group.name,
        name_en = group.name_en,
        from_zh = change.from.zh,
        to_zh = change.to.zh,
        from_en = change.from.en,
        to_en = change.to.en,
        excess_since = points(change.excess_since),
        benchmark = verdict.benchmark.name,
        since = change.since,
        closes = change.confirm_closes,
        excess_confirmed = points(change.excess_confirmed),
        confirmed = change.confirmed,
        rating = verdict.rating,
        report_date = verdict.report_date,
        horizon_end = verdict.horizon_end,
        days_left = verdict.days_left,
        method = verdict.method,
    )
}

/// The change as one chat line, in place of the digest's movers.
pub fn rating_change_line(group: &GroupVerdict, change: &RatingChangeFacts<'_>) -> String {
    format!(
        "{} {} → {} ({} → {}) at {} on {}, held for {} closes",
        group.name,
        change.from.zh,
        change.to.zh,
        change.from.en,
        change.to.en,
        points(change.excess_since),
        change.since,
        change.confirm_closes
    )
}

/// `data_health`: the title and markdown of a problem that started or cleared.
pub fn data_health(condition: &str, cleared: bool, detail: &str) -> (String, String) {
    let state = if cleared { "cleared" } else { "problem" };
    let title = format!("ratingwatch data health: {condition} {state}");
    let markdown = format!("### {title}\n\n{detail}\n\nSee `ratingwatch status` for every job and market.");
    (title, markdown)
}

/// `notify test`: the title, markdown and HTML of the message that proves a channel works.
pub fn test_message(channel: &str, now: DateTime<Utc>) -> (String, String, String) {
    let title = "ratingwatch test message".to_string();
    let markdown = format!(
        "### {title}\n\nChannel `{channel}` is set up: weekly summaries, verdicts and rating changes will arrive here. Sent {}.",
        now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    let html = format!("<!DOCTYPE html><html><body><p>{}</p></body></html>", html_escape(&markdown));
    (title, markdown, html)
}
