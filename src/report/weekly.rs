//! The weekly summary: per sector the week and since-report numbers against the benchmark,
//! the best and worst members of the week, and how fresh the data is.

use super::RenderOptions;
use super::chart::{ChartSpec, chart_svg};
use super::doc::{Document, Grid};
use super::headline::{Headline, week_state};
use super::numbers::{csv_fraction, percent, points};
use super::verdict::{display_name, finish, write_records};
use crate::analysis::model::{MemberMove, SectorWeek, WeeklySummary};
use crate::analysis::ratings::{CallScore, CallStatus, ScoredCall};
use crate::ratings::{Change, RatingRecord};

/// The section's title.
const NEW_RATINGS: &str = "New ratings on the watchlist this week";

/// The week's new ratings on the watchlist, in the model's order (changes and first coverage
/// first); a week without one is one line saying so.
fn new_ratings(doc: &mut Document, calls: &[ScoredCall]) {
    if calls.is_empty() {
        doc.text(format!("{NEW_RATINGS}: none."));
        return;
    }
    doc.heading(NEW_RATINGS);
    let mut grid = Grid::new(&[
        ("date", false),
        ("company", false),
        ("broker", false),
        ("rating", false),
        ("change", false),
        ("target", true),
        ("verdict so far", false),
    ]);
    let mut reasons = Vec::new();
    for call in calls {
        let r = &call.record;
        if let Some(reason) = &call.score.reason {
            reasons.push(format!("{} {} {} on {}: {reason}", r.info_code, r.broker, r.rating, r.name));
        }
        grid.row(vec![
            r.date.to_string(),
            format!("{} {}", r.name, r.symbol),
            r.broker.clone(),
            rating_word(r).to_string(),
            change_text(r),
            target_text(r.target_price).unwrap_or_else(|| "–".to_string()),
            verdict_so_far(&call.score),
        ]);
    }
    doc.table(grid);
    doc.text(
        "Changes and first coverage first, then maintained; \"was\" is Eastmoney's previous normalised word. Each call is scored \
         against its broker's own stock rule as of the week's end, as the ratings list scores it.",
    );
    if !reasons.is_empty() {
        doc.text("Unscored:");
        doc.bullets(reasons);
    }
}

/// The broker's own word, or a dash when the report states none.
pub(super) fn rating_word(record: &RatingRecord) -> &str {
    if record.rating.is_empty() { "–" } else { &record.rating }
}

/// `up (was 增持)`, `down (was 买入)`, `maintained (was 买入)`, `first coverage`: the change
/// with Eastmoney's previous normalised word.
pub(super) fn change_text(record: &RatingRecord) -> String {
    let change = match record.change {
        Change::FirstCoverage => return "first coverage".to_string(),
        Change::Up => "up",
        Change::Down => "down",
        Change::Maintained => "maintained",
    };
    match &record.previous {
        Some(previous) => format!("{change} (was {previous})"),
        None => change.to_string(),
    }
}

/// `120.00`, or `None` when the report gives no target price.
pub(super) fn target_text(target: Option<f64>) -> Option<String> {
    target.map(|price| format!("{price:.2}"))
}

/// `pending, horizon end 2023-11-16 (6 months)`, `held (+15.00 pp)`, `unscored: broker rule
/// unknown`: the call's verdict as of the week's end.
pub(super) fn verdict_so_far(score: &CallScore) -> String {
    let excess = score.excess.map(|excess| format!(" ({})", points(excess))).unwrap_or_default();
    match score.status {
        CallStatus::Pending => match (score.horizon_end, &score.horizon) {
            (Some(end), Some(horizon)) => format!("pending, horizon end {end} ({horizon})"),
            (Some(end), None) => format!("pending, horizon end {end}"),
            _ => "pending".to_string(),
        },
        CallStatus::Held => format!("held{excess}"),
        CallStatus::NotHeld => format!("not held{excess}"),
        CallStatus::Unscored => match score.unscored {
            Some(kind) => format!("unscored: {}", <&'static str>::from(kind).replace('_', " ")),
            None => "unscored".to_string(),
        },
    }
}

pub fn document(summary: &WeeklySummary, options: &RenderOptions) -> Document {
    let mut doc = Document::new(format!("Weekly summary {}: {}", summary.week, summary.title));
    doc.lead(&Headline::of_weekly(summary, options));
    doc.text(format!(
        "Week {} to {}, measured from the close of {} to the close of {}.",
        summary.week_start, summary.week_end, summary.previous_as_of, summary.as_of
    ));
    let horizon = if summary.days_left > 0 {
        format!("horizon end {}, {} {} left", summary.horizon_end, summary.days_left, if summary.days_left == 1 { "day" } else { "days" })
    } else {
        format!("horizon ended {}", summary.horizon_end)
    };
    doc.text(format!(
        "Report {} of {}: rating {} ({}); {}.",
        summary.report_id, summary.report_date, summary.rating, summary.rating_en, horizon
    ));

    doc.heading(format!("Sectors against {}", summary.benchmark_name));
    let mut grid = Grid::new(&[
        ("sector", false),
        ("week", true),
        ("week excess", true),
        ("since report", true),
        ("excess since report", true),
        ("implied now", false),
        ("verdict", false),
    ])
    .into_cards();
    for sector in summary.sectors.iter().chain(std::iter::once(&summary.basket)) {
        grid.row(vec![
            display_name(&sector.name, &sector.name_en),
            percent(sector.week_return),
            points(sector.week_excess),
            percent(sector.since_report_return),
            points(sector.since_report_excess),
            sector.implied_rating.clone(),
            week_state(summary, sector).short().to_string(),
        ]);
    }
    grid.row(vec![
        format!("{} (benchmark)", summary.benchmark_name),
        percent(summary.benchmark_week_return),
        String::new(),
        percent(summary.benchmark_since_report_return),
        String::new(),
        String::new(),
        String::new(),
    ]);
    doc.table(grid);

    doc.chart(chart_svg(&ChartSpec {
        title: &summary.title,
        benchmark_name: &summary.benchmark_name,
        report_date: summary.report_date,
        horizon_end: summary.horizon_end,
        paths: &summary.paths,
        emphasised: Some(&summary.basket.name),
        boundaries: &options.boundaries,
    }));

    doc.heading("Best and worst members this week");
    let mut movers = Grid::new(&[("sector", false), ("best", false), ("worst", false)]).into_cards();
    for sector in &summary.sectors {
        // Six members or fewer come as one list (the model never names a member twice).
        let worst = if sector.worst.is_empty() && sector.best.len() > 1 { "(one list)".to_string() } else { moves(&sector.worst) };
        movers.row(vec![display_name(&sector.name, &sector.name_en), moves(&sector.best), worst]);
    }
    doc.table(movers);

    new_ratings(&mut doc, &summary.new_ratings);

    doc.heading("Data freshness");
    let mut freshness = Grid::new(&[("market", false), ("latest close", false)]);
    for market in &summary.freshness {
        freshness.row(vec![market.market.clone(), market.latest_close.map(|date| date.to_string()).unwrap_or_else(|| "none".to_string())]);
    }
    doc.table(freshness);
    if summary.stale_members.is_empty() {
        doc.text("No stale member.");
    } else {
        doc.text("Stale members (latest close too old at the as-of date):");
        doc.bullets(
            summary
                .stale_members
                .iter()
                .map(|member| {
                    let last = member.last_close.map(|date| format!("last close {date}")).unwrap_or_else(|| "no close".to_string());
                    format!("{} {}: {last}", member.name, member.symbol)
                })
                .collect(),
        );
    }

    if !summary.warnings.is_empty() {
        doc.heading("Warnings");
        doc.bullets(summary.warnings.clone());
    }
    doc.method(&summary.method);
    doc
}

/// `寒武纪 +12.00 %`, one member per line.
fn moves(members: &[MemberMove]) -> String {
    if members.is_empty() {
        return "–".to_string();
    }
    members.iter().map(|member| format!("{} {}", member.name, percent(member.week_return))).collect::<Vec<_>>().join("\n")
}

/// One row per sector and one for the basket, with the benchmark's numbers on every row so
/// each row stands alone in a spreadsheet.
pub fn csv(summary: &WeeklySummary) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = [
        "report_id",
        "week",
        "as_of",
        "previous_as_of",
        "kind",
        "name",
        "name_en",
        "week_return",
        "benchmark_week_return",
        "week_excess",
        "since_report_return",
        "benchmark_since_report_return",
        "since_report_excess",
        "implied_rating",
        "days_left",
    ];
    let mut records = vec![header.iter().map(|name| name.to_string()).collect::<Vec<_>>()];
    let rows = summary.sectors.iter().map(|sector| ("sector", sector)).chain(std::iter::once(("basket", &summary.basket)));
    for (kind, sector) in rows {
        records.push(row(summary, kind, sector));
    }
    // A week with new ratings adds their columns (named as in `ratings list --format csv`)
    // and one `new_rating` row each; a week without keeps the sector file's columns.
    if !summary.new_ratings.is_empty() {
        records[0].extend(RATING_COLUMNS.iter().map(|name| name.to_string()));
        for record in &mut records[1..] {
            record.extend(RATING_COLUMNS.iter().map(|_| String::new()));
        }
        for call in &summary.new_ratings {
            let (r, s) = (&call.record, &call.score);
            let mut record = vec![
                summary.report_id.clone(),
                summary.week.to_string(),
                summary.as_of.to_string(),
                summary.previous_as_of.to_string(),
                "new_rating".to_string(),
                r.name.clone(),
            ];
            record.extend((record.len()..header.len()).map(|_| String::new()));
            let status: &'static str = s.status.into();
            let change: &'static str = r.change.into();
            record.extend([
                r.info_code.clone(),
                r.symbol.to_string(),
                r.broker.clone(),
                r.date.to_string(),
                r.rating.clone(),
                change.to_string(),
                r.previous.clone().unwrap_or_default(),
                target_text(r.target_price).unwrap_or_default(),
                status.to_string(),
                s.horizon_end.map(|date| date.to_string()).unwrap_or_default(),
                s.horizon.clone().unwrap_or_default(),
                s.reason.clone().unwrap_or_default(),
            ]);
            records.push(record);
        }
    }
    write_records(&mut writer, &records);
    finish(writer)
}

/// The columns a `new_rating` row fills, after the sector columns.
const RATING_COLUMNS: [&str; 12] =
    ["info_code", "symbol", "broker", "date", "rating", "change", "previous", "target_price", "status", "horizon_end", "horizon", "reason"];

fn row(summary: &WeeklySummary, kind: &str, sector: &SectorWeek) -> Vec<String> {
    vec![
        summary.report_id.clone(),
        summary.week.to_string(),
        summary.as_of.to_string(),
        summary.previous_as_of.to_string(),
        kind.to_string(),
        sector.name.clone(),
        sector.name_en.clone(),
        csv_fraction(sector.week_return),
        csv_fraction(summary.benchmark_week_return),
        csv_fraction(sector.week_excess),
        csv_fraction(sector.since_report_return),
        csv_fraction(summary.benchmark_since_report_return),
        csv_fraction(sector.since_report_excess),
        sector.implied_rating.clone(),
        summary.days_left.to_string(),
    ]
}
