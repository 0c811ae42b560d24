//! The weekly summary: per sector the week and since-report numbers against the benchmark,
//! the best and worst members of the week, and how fresh the data is.

use super::RenderOptions;
use super::chart::{ChartSpec, chart_svg};
use super::doc::{Document, Grid};
use super::headline::{Headline, week_state};
use super::numbers::{csv_fraction, percent, points};
use super::verdict::{display_name, finish, write_records};
use crate::analysis::model::{MemberMove, SectorWeek, WeeklySummary};

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
    let mut movers = Grid::new(&[("sector", false), ("best", false), ("worst", false)]);
    for sector in &summary.sectors {
        // Six members or fewer come as one list (the model never names a member twice).
        let worst = if sector.worst.is_empty() && sector.best.len() > 1 { "(one list)".to_string() } else { moves(&sector.worst) };
        movers.row(vec![display_name(&sector.name, &sector.name_en), moves(&sector.best), worst]);
    }
    doc.table(movers);

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
    write_records(&mut writer, &records);
    finish(writer)
}

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
