//! The verdict of one report: per sector and for the basket, then each sector's members.

use super::chart::{ChartSpec, chart_svg};
use super::doc::{Document, Grid};
use super::headline::{Headline, group_state};
use super::numbers::{close, csv_fraction, percent, points, points_on};
use super::{MemberSort, RenderOptions};
use crate::analysis::model::{CurrencyMode, GroupVerdict, MemberReturn, NamedPath, Status, Verdict};

/// `芯片算力 chips & compute`, or just the name when there is no distinct English one.
pub fn display_name(name: &str, name_en: &str) -> String {
    if name_en.is_empty() || name_en == name { name.to_string() } else { format!("{name} {name_en}") }
}

/// `held`, `not held`, or `pending: held so far, 181 days left`.
pub fn status_text(status: Status, held_so_far: bool, days_left: i64) -> String {
    match status {
        Status::Held => "held".to_string(),
        Status::NotHeld => "not held".to_string(),
        Status::Pending => {
            let so_far = if held_so_far { "held so far" } else { "not held so far" };
            format!("pending: {so_far}, {days_left} {} left", if days_left == 1 { "day" } else { "days" })
        }
    }
}

pub fn status_word(status: Status) -> &'static str {
    match status {
        Status::Held => "held",
        Status::NotHeld => "not_held",
        Status::Pending => "pending",
    }
}

pub fn currency_text(currency: CurrencyMode) -> &'static str {
    match currency {
        CurrencyMode::Cny => "CNY",
        CurrencyMode::Local => "local currency",
    }
}

pub fn document(verdict: &Verdict, options: &RenderOptions) -> Document {
    let benchmark = &verdict.benchmark;
    let mut doc = Document::new(format!("Verdict: {} ({}, {})", verdict.title, verdict.broker, verdict.report_date));
    doc.lead(&Headline::of_verdict(verdict, options));
    doc.text(format!(
        "Report {}: rating {} ({}) against {} ({}), horizon {} to {}.",
        verdict.report_id, verdict.rating, verdict.rating_en, benchmark.name, benchmark.symbol, verdict.report_date, verdict.horizon_end
    ));
    doc.text(format!(
        "As of {}, prices to {}: {}.",
        verdict.as_of,
        verdict.end_date,
        status_text(verdict.status, verdict.basket.held, verdict.days_left)
    ));
    doc.text(format!(
        "{} {}: {} on {} to {} on {}, {}.",
        benchmark.name,
        benchmark.symbol,
        close(benchmark.base_close),
        benchmark.base_date,
        close(benchmark.end_close),
        benchmark.end_date,
        percent(benchmark.total_return)
    ));

    doc.heading("Sectors");
    let mut grid = Grid::new(&[
        ("sector", false),
        ("return", true),
        (benchmark.name.as_str(), true),
        ("excess", true),
        ("implied", false),
        ("verdict", false),
        ("best excess", true),
        ("worst excess", true),
        ("members", true),
    ])
    .into_cards();
    for group in verdict.sectors.iter().chain(std::iter::once(&verdict.basket)) {
        grid.row(vec![
            display_name(&group.name, &group.name_en),
            percent(group.total_return),
            percent(benchmark.total_return),
            points(group.excess),
            group.implied_rating.clone(),
            group_state(verdict, group).short().to_string(),
            points_on(group.best_excess, group.best_excess_date),
            points_on(group.worst_excess, group.worst_excess_date),
            member_count(group),
        ]);
    }
    doc.table(grid);

    doc.chart(chart_svg(&ChartSpec {
        title: &verdict.title,
        benchmark_name: &benchmark.name,
        report_date: verdict.report_date,
        horizon_end: verdict.horizon_end,
        paths: &paths(verdict),
        emphasised: Some(&verdict.basket.name),
        boundaries: &options.boundaries,
    }));

    for sector in &verdict.sectors {
        doc.heading(format!("Members: {}", display_name(&sector.name, &sector.name_en)));
        doc.table(member_grid(sector, verdict.currency, options));
    }

    if !verdict.warnings.is_empty() {
        doc.heading("Warnings");
        doc.bullets(verdict.warnings.clone());
    }
    doc.method(&verdict.method);
    doc
}

fn member_count(group: &GroupVerdict) -> String {
    if group.excluded.is_empty() {
        group.members.len().to_string()
    } else {
        format!("{} ({} excluded)", group.members.len(), group.excluded.len())
    }
}

fn member_grid(sector: &GroupVerdict, currency: CurrencyMode, options: &RenderOptions) -> Grid {
    let links = options.security_links;
    let mut grid = Grid::new(&[
        ("symbol", false),
        ("name", false),
        ("currency", false),
        ("base date", false),
        ("base close", true),
        ("end date", false),
        ("end close", true),
        ("return", true),
        ("excess", true),
        ("contribution", true),
        ("note", false),
    ]);
    let mut members: Vec<&MemberReturn> = sector.members.iter().collect();
    if let Some(sort) = options.member_sort {
        let key = |member: &MemberReturn| match sort {
            MemberSort::Return => member.total_return,
            MemberSort::Excess => member.excess,
            MemberSort::Contribution => member.contribution,
        };
        // Highest first; a stable sort keeps the report's order among equals.
        members.sort_by(|a, b| key(b).total_cmp(&key(a)));
    }
    for member in members {
        let mut notes = Vec::new();
        if member.stale {
            notes.push("stale".to_string());
        }
        // In CNY mode a foreign member's return includes the currency move: show both.
        if currency == CurrencyMode::Cny
            && let (Some(fx_base), Some(fx_end)) = (member.fx_base, member.fx_end)
        {
            notes.push(format!("{} {}, FX {fx_base:.4} to {fx_end:.4}", member.currency, percent(member.local_return)));
        }
        let link = links.then(|| format!("/securities/{}", member.symbol));
        grid.row_linked(
            vec![
                member.symbol.to_string(),
                member.name.clone(),
                member.currency.to_string(),
                member.base_date.to_string(),
                close(member.base_close),
                member.end_date.to_string(),
                close(member.end_close),
                percent(member.total_return),
                points(member.excess),
                percent(member.contribution),
                notes.join("; "),
            ],
            link,
        );
    }
    for excluded in &sector.excluded {
        let dash = || "–".to_string();
        grid.row(vec![
            excluded.symbol.to_string(),
            excluded.name.clone(),
            excluded.symbol.currency().to_string(),
            dash(),
            dash(),
            dash(),
            dash(),
            dash(),
            dash(),
            dash(),
            format!("excluded: {}", excluded.reason),
        ]);
    }
    grid
}

/// Each sector's path and the basket's, for the chart.
fn paths(verdict: &Verdict) -> Vec<NamedPath> {
    verdict
        .sectors
        .iter()
        .chain(std::iter::once(&verdict.basket))
        .map(|group| NamedPath { name: group.name.clone(), points: group.path.clone() })
        .collect()
}

/// One row per sector and one for the basket, fractions as in JSON.
pub fn csv(verdict: &Verdict) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = [
        "report_id",
        "as_of",
        "end_date",
        "kind",
        "name",
        "name_en",
        "return",
        "benchmark_return",
        "excess",
        "implied_rating",
        "status",
        "held",
        "best_excess",
        "best_excess_date",
        "worst_excess",
        "worst_excess_date",
        "members",
        "excluded",
    ];
    let rows = verdict.sectors.iter().map(|group| ("sector", group)).chain(std::iter::once(("basket", &verdict.basket)));
    let mut records = vec![header.iter().map(|name| name.to_string()).collect::<Vec<_>>()];
    for (kind, group) in rows {
        records.push(vec![
            verdict.report_id.clone(),
            verdict.as_of.to_string(),
            verdict.end_date.to_string(),
            kind.to_string(),
            group.name.clone(),
            group.name_en.clone(),
            csv_fraction(group.total_return),
            csv_fraction(verdict.benchmark.total_return),
            csv_fraction(group.excess),
            group.implied_rating.clone(),
            status_word(group.status).to_string(),
            group.held.to_string(),
            group.best_excess.map(csv_fraction).unwrap_or_default(),
            group.best_excess_date.map(|date| date.to_string()).unwrap_or_default(),
            group.worst_excess.map(csv_fraction).unwrap_or_default(),
            group.worst_excess_date.map(|date| date.to_string()).unwrap_or_default(),
            group.members.len().to_string(),
            group.excluded.len().to_string(),
        ]);
    }
    write_records(&mut writer, &records);
    finish(writer)
}

pub fn write_records(writer: &mut csv::Writer<Vec<u8>>, records: &[Vec<String>]) {
    for record in records {
        // Writing to a Vec<u8> cannot fail on I/O; the records all have the header's length.
        writer.write_record(record).expect("CSV records write to memory");
    }
}

pub fn finish(writer: csv::Writer<Vec<u8>>) -> String {
    let bytes = writer.into_inner().expect("CSV flushes to memory");
    String::from_utf8(bytes).expect("CSV of UTF-8 strings is UTF-8")
}
