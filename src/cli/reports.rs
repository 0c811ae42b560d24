//! `ratingwatch reports list`.

use clap::Subcommand;
use comfy_table::Table;

use super::{Context, exit};

#[derive(Subcommand, Debug)]
pub enum ReportsCommand {
    /// List the reports in the database.
    List {
        /// Output format.
        #[arg(long, default_value = "table", value_parser = ["table", "json"])]
        format: String,
    },
}

pub fn run(context: &Context, command: &ReportsCommand) -> anyhow::Result<u8> {
    let ReportsCommand::List { format } = command;
    let store = context.open_store()?;
    let reports = store.reports()?;
    if format == "json" {
        println!("{}", serde_json::to_string_pretty(&reports)?);
        return Ok(exit::OK);
    }
    let mut table = Table::new();
    table.load_style(comfy_table::presets::UTF8_BORDERS_ONLY);
    table.set_header(["id", "date", "broker", "rating", "sectors", "companies", "title"]);
    for r in &reports {
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
    println!("{table}");
    Ok(exit::OK)
}
