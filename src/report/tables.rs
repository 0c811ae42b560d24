//! The watchlist and the list of loaded reports: a terminal table, CSV or JSON.

use comfy_table::Table;

use super::verdict::{finish, write_records};
use super::{Format, json};
use crate::store::{ReportRow, WatchlistEntry};

/// The formats [`render_watchlist`] writes; any other renders as the table.
pub const WATCHLIST_FORMATS: &[Format] = &[Format::Table, Format::Json, Format::Csv];

/// The formats [`render_reports`] writes; any other renders as the table.
pub const REPORTS_FORMATS: &[Format] = &[Format::Table, Format::Json];

/// The companies on the watchlist with their sectors and tags, and a count line.
/// Tables are fitted to `width` terminal columns when given, drawn at full width when `None`.
pub fn render_watchlist(entries: &[WatchlistEntry], format: Format, width: Option<u16>) -> String {
    match format {
        Format::Json => json(&entries),
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            let header = ["symbol", "name", "name_en", "market", "currency", "sectors", "tags"];
            let mut records = vec![header.map(String::from).to_vec()];
            records.extend(entries.iter().map(|e| {
                vec![
                    e.symbol.to_string(),
                    e.name.clone(),
                    e.name_en.clone(),
                    e.market.clone(),
                    e.currency.clone(),
                    e.sectors.join(";"),
                    e.tags.join(";"),
                ]
            }));
            write_records(&mut writer, &records);
            finish(writer)
        }
        _ => {
            let mut table = Table::new();
            table.load_style(comfy_table::presets::UTF8_BORDERS_ONLY);
            super::doc::fit(&mut table, width);
            table.set_header(["symbol", "name", "market", "currency", "sectors", "tags"]);
            for e in entries {
                table.add_row([
                    e.symbol.to_string(),
                    format!("{} {}", e.name, e.name_en),
                    e.market.clone(),
                    e.currency.clone(),
                    e.sectors.join(", "),
                    e.tags.join(", "),
                ]);
            }
            format!("{table}\n{} companies\n", entries.len())
        }
    }
}

/// The reports in the database, one row each.
/// Tables are fitted to `width` terminal columns when given, drawn at full width when `None`.
pub fn render_reports(reports: &[ReportRow], format: Format, width: Option<u16>) -> String {
    match format {
        Format::Json => json(&reports),
        _ => {
            let mut table = Table::new();
            table.load_style(comfy_table::presets::UTF8_BORDERS_ONLY);
            super::doc::fit(&mut table, width);
            table.set_header(["id", "date", "broker", "rating", "sectors", "companies", "title"]);
            for r in reports {
                table.add_row([
                    r.id.clone(),
                    r.report_date.to_string(),
                    r.broker.clone(),
                    r.rating.clone(),
                    r.sectors.to_string(),
                    r.companies.to_string(),
                    r.title.clone(),
                ]);
            }
            format!("{table}\n")
        }
    }
}
