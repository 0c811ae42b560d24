//! `ratingwatch reports list`.

use clap::Subcommand;

use super::{Context, exit};
use crate::report::{self, Format, REPORTS_FORMATS};

#[derive(Subcommand, Debug)]
pub enum ReportsCommand {
    /// List the reports in the database.
    List {
        /// Output format.
        #[arg(long, default_value = "table", value_parser = report::format_parser(REPORTS_FORMATS))]
        format: Format,
    },
}

pub fn run(context: &Context, command: &ReportsCommand) -> anyhow::Result<u8> {
    let ReportsCommand::List { format } = command;
    let store = context.open_store()?;
    print!("{}", report::render_reports(&store.reports()?, *format));
    Ok(exit::OK)
}
