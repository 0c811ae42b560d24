//! The ratings feed's listing (`ratings list`) and track record (`ratings track-record`):
//! table, markdown, JSON or CSV, through the shared document model.

use chrono::NaiveDate;
use serde::Serialize;

use super::doc::{Document, Grid};
use super::numbers::{csv_fraction, points};
use super::verdict::{finish, write_records};
use super::{Format, json};
use crate::analysis::ratings::{ScoredCall, TrackRow};

/// The formats both renderers write.
pub const RATINGS_FORMATS: &[Format] = &[Format::Table, Format::Markdown, Format::Json, Format::Csv];

/// One listed rating (the JSON and CSV row).
#[derive(Serialize)]
pub struct RatingRow<'a> {
    pub info_code: &'a str,
    pub symbol: String,
    pub name: &'a str,
    pub broker: &'a str,
    pub broker_full: &'a str,
    pub analysts: &'a str,
    pub date: NaiveDate,
    pub rating: &'a str,
    pub normalized: Option<&'a str>,
    pub previous: Option<&'a str>,
    pub change: &'static str,
    pub target_price: Option<f64>,
    pub status: &'static str,
    pub excess: Option<f64>,
    pub implied_rating: Option<&'a str>,
    pub horizon_end: Option<NaiveDate>,
    pub horizon: Option<&'a str>,
    pub benchmark: Option<&'a str>,
    pub direction_right: Option<bool>,
    pub reason: Option<&'a str>,
    pub title: &'a str,
    pub pdf_url: &'a str,
}

impl<'a> RatingRow<'a> {
    pub fn of(call: &'a ScoredCall) -> RatingRow<'a> {
        let (r, s) = (&call.record, &call.score);
        RatingRow {
            info_code: &r.info_code,
            symbol: r.symbol.to_string(),
            name: &r.name,
            broker: &r.broker,
            broker_full: &r.broker_full,
            analysts: &r.analysts,
            date: r.date,
            rating: &r.rating,
            normalized: r.normalized.as_deref(),
            previous: r.previous.as_deref(),
            change: r.change.into(),
            target_price: r.target_price,
            status: s.status.into(),
            excess: s.excess,
            implied_rating: s.implied_rating.as_deref(),
            horizon_end: s.horizon_end,
            horizon: s.horizon.as_deref(),
            benchmark: s.benchmark.as_deref(),
            direction_right: s.direction_right,
            reason: s.reason.as_deref(),
            title: &r.title,
            pdf_url: &r.pdf_url,
        }
    }
}

pub(super) const LIST_METHOD: &str = "each rating is scored as a one-company report with its broker's own stock rule (data/brokers.toml): \
     base = the company's last adjusted close on or before the publish date, end = the benchmark's last trading day on or before \
     min(horizon end, as-of); held when the implied band is the broker's own word; a horizon range is scored at its lower bound";

/// The listing's columns (name, right-aligned), as the terminal, markdown and HTML tables show them.
pub(super) const LIST_COLUMNS: [(&str, bool); 10] = [
    ("date", false),
    ("symbol", false),
    ("broker", false),
    ("rating", false),
    ("change", false),
    ("target", true),
    ("horizon end", false),
    ("excess", true),
    ("implied", false),
    ("verdict", false),
];

/// One listed rating's cells under [`LIST_COLUMNS`] (the broker is the third).
pub(super) fn list_cells(r: &RatingRow<'_>) -> [String; 10] {
    [
        r.date.to_string(),
        format!("{} {}", r.symbol, r.name),
        r.broker.to_string(),
        r.rating.to_string(),
        r.change.replace('_', " "),
        r.target_price.map(|p| format!("{p:.2}")).unwrap_or_else(|| "–".into()),
        match (r.horizon_end, r.horizon) {
            (Some(end), Some(horizon)) => format!("{end} ({horizon})"),
            _ => "–".into(),
        },
        r.excess.map(points).unwrap_or_else(|| "–".into()),
        r.implied_rating.unwrap_or("–").to_string(),
        if r.reason.is_some() { "unscored".to_string() } else { r.status.replace('_', " ") },
    ]
}

/// The ratings, newest first.
/// Tables are fitted to `width` terminal columns when given, drawn at full width when `None`.
pub fn render_ratings(calls: &[ScoredCall], as_of: NaiveDate, format: Format, width: Option<u16>) -> String {
    let rows: Vec<RatingRow<'_>> = calls.iter().rev().map(RatingRow::of).collect();
    match format {
        Format::Json => json(&rows),
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            let header = [
                "info_code",
                "symbol",
                "name",
                "broker",
                "analysts",
                "date",
                "rating",
                "normalized",
                "previous",
                "change",
                "target_price",
                "status",
                "excess",
                "implied_rating",
                "horizon_end",
                "horizon",
                "direction_right",
                "reason",
                "pdf_url",
            ];
            let mut records = vec![header.map(String::from).to_vec()];
            for r in &rows {
                records.push(vec![
                    r.info_code.to_string(),
                    r.symbol.clone(),
                    r.name.to_string(),
                    r.broker.to_string(),
                    r.analysts.to_string(),
                    r.date.to_string(),
                    r.rating.to_string(),
                    r.normalized.unwrap_or_default().to_string(),
                    r.previous.unwrap_or_default().to_string(),
                    r.change.to_string(),
                    r.target_price.map(|p| format!("{p:.2}")).unwrap_or_default(),
                    r.status.to_string(),
                    r.excess.map(csv_fraction).unwrap_or_default(),
                    r.implied_rating.unwrap_or_default().to_string(),
                    r.horizon_end.map(|d| d.to_string()).unwrap_or_default(),
                    r.horizon.unwrap_or_default().to_string(),
                    r.direction_right.map(|d| d.to_string()).unwrap_or_default(),
                    r.reason.unwrap_or_default().to_string(),
                    r.pdf_url.to_string(),
                ]);
            }
            write_records(&mut writer, &records);
            finish(writer)
        }
        _ => {
            let mut doc = Document::new(format!("Ratings as of {as_of}: {}", rows.len()));
            let mut grid = Grid::new(&LIST_COLUMNS);
            let mut reasons = Vec::new();
            for r in &rows {
                if let Some(reason) = r.reason {
                    reasons.push(format!("{} {} {}: {reason}", r.info_code, r.broker, r.rating));
                }
                grid.row(list_cells(r).to_vec());
            }
            doc.table(grid);
            if !reasons.is_empty() {
                doc.heading("Unscored");
                doc.bullets(reasons);
            }
            doc.method(LIST_METHOD);
            if format == Format::Markdown { doc.to_markdown() } else { doc.to_terminal_within(width) }
        }
    }
}

/// One track-record row in JSON: the group key under its own name (`broker`, `analyst` or
/// `rating`) beside every count.
#[derive(Serialize)]
struct TrackJson<'a> {
    #[serde(flatten)]
    key: std::collections::BTreeMap<&'static str, &'a str>,
    #[serde(flatten)]
    row: &'a TrackRow,
}

/// The track record's columns (name, right-aligned); the group key is the second, under its own name.
pub(super) fn track_columns(key_name: &'static str) -> [(&'static str, bool); 12] {
    [
        ("rank", true),
        (key_name, false),
        ("calls", true),
        ("independent", true),
        ("scored", true),
        ("held", true),
        ("hit rate (95 % CI)", true),
        ("direction right", true),
        ("mean excess", true),
        ("median excess", true),
        ("pending", true),
        ("unscored", false),
    ]
}

/// One group's cells under [`track_columns`].
pub(super) fn track_cells(row: &TrackRow) -> [String; 12] {
    let unscored = if row.unscored == 0 {
        "0".to_string()
    } else {
        let reasons: Vec<String> =
            row.unscored_by_reason.iter().map(|(kind, n)| format!("{n} {}", <&'static str>::from(*kind).replace('_', " "))).collect();
        format!("{} ({})", row.unscored, reasons.join(", "))
    };
    [
        row.rank.map(|r| r.to_string()).unwrap_or_else(|| "–".into()),
        row.key.clone(),
        row.calls.to_string(),
        row.independent.to_string(),
        row.scored.to_string(),
        row.held.to_string(),
        match (row.hit_rate, row.hit_rate_low, row.hit_rate_high) {
            (Some(rate), Some(low), Some(high)) => format!("{} ({}–{})", whole(rate), whole(low), whole(high)),
            _ => "–".into(),
        },
        row.direction_right.to_string(),
        row.mean_excess.map(points).unwrap_or_else(|| "–".into()),
        row.median_excess.map(points).unwrap_or_else(|| "–".into()),
        row.pending.to_string(),
        unscored,
    ]
}

/// The track record's method line, for every format that has one.
pub(super) fn track_method(min_sample: usize) -> String {
    format!(
        "scored = calls whose horizon has ended, against the broker's own stock rule; hit rate = held / scored with the Wilson \
         95 % interval; groups with fewer than {min_sample} scored calls are not ranked; ranked by the interval's lower bound; \
         independent = calls that are not a maintained word on the same stock by the same broker inside the horizon of its \
         last independent call"
    )
}

/// The track record, ranked groups first.
/// Tables are fitted to `width` terminal columns when given, drawn at full width when `None`.
pub fn render_track_record(
    rows: &[TrackRow],
    key_name: &'static str,
    as_of: NaiveDate,
    min_sample: usize,
    format: Format,
    width: Option<u16>,
) -> String {
    match format {
        Format::Json => {
            let out: Vec<TrackJson<'_>> =
                rows.iter().map(|row| TrackJson { key: [(key_name, row.key.as_str())].into_iter().collect(), row }).collect();
            json(&out)
        }
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            let header = [
                key_name,
                "rank",
                "calls",
                "independent",
                "scored",
                "held",
                "hit_rate",
                "hit_rate_low",
                "hit_rate_high",
                "direction_right",
                "mean_excess",
                "median_excess",
                "pending",
                "unscored",
            ];
            let mut records = vec![header.map(String::from).to_vec()];
            let fraction = |v: Option<f64>| v.map(csv_fraction).unwrap_or_default();
            for row in rows {
                records.push(vec![
                    row.key.clone(),
                    row.rank.map(|r| r.to_string()).unwrap_or_default(),
                    row.calls.to_string(),
                    row.independent.to_string(),
                    row.scored.to_string(),
                    row.held.to_string(),
                    fraction(row.hit_rate),
                    fraction(row.hit_rate_low),
                    fraction(row.hit_rate_high),
                    row.direction_right.to_string(),
                    fraction(row.mean_excess),
                    fraction(row.median_excess),
                    row.pending.to_string(),
                    row.unscored.to_string(),
                ]);
            }
            write_records(&mut writer, &records);
            finish(writer)
        }
        _ => {
            let mut doc = Document::new(format!("Track record by {key_name} as of {as_of}"));
            let mut grid = Grid::new(&track_columns(key_name));
            for row in rows {
                grid.row(track_cells(row).to_vec());
            }
            doc.table(grid);
            doc.method(&track_method(min_sample));
            if format == Format::Markdown { doc.to_markdown() } else { doc.to_terminal_within(width) }
        }
    }
}

/// A fraction as a whole percentage, `67 %`.
fn whole(fraction: f64) -> String {
    format!("{:.0} %", fraction * 100.0)
}
