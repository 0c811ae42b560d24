//! `ratingwatch watchlist list|add|remove`.

use clap::Subcommand;

use super::{Context, exit, out, outln, terminal_width};
use crate::ids::ReportId;
use crate::report::{self, Format, WATCHLIST_FORMATS};
use crate::symbol::Symbol;

#[derive(Subcommand, Debug)]
pub enum WatchlistCommand {
    /// List the companies on the watchlist with their sectors and tags.
    List {
        /// Only this report's companies [default: every report]
        #[arg(long, value_name = "ID")]
        report: Option<ReportId>,
        /// Output format.
        #[arg(long, default_value = "table", value_parser = report::format_parser(WATCHLIST_FORMATS))]
        format: Format,
    },
    /// Add a security to a sector of a report.
    Add {
        /// The security, e.g. 600941.SH, 0700.HK, MSFT.
        symbol: Symbol,
        /// The sector to add it to.
        #[arg(long)]
        sector: String,
        /// The report [default: the only report, when there is one]
        #[arg(long, value_name = "ID")]
        report: Option<ReportId>,
        /// The company's name [default: the name the report gives, else the symbol]
        #[arg(long)]
        name: Option<String>,
        /// A sub-group tag (repeatable).
        #[arg(long = "tag")]
        tags: Vec<String>,
    },
    /// Remove a security from a sector (or from every sector) of a report. Prices are kept.
    Remove {
        /// The security, e.g. 600941.SH, 0700.HK, MSFT.
        symbol: Symbol,
        /// Only from this sector [default: every sector]
        #[arg(long)]
        sector: Option<String>,
        /// The report [default: the only report, when there is one]
        #[arg(long, value_name = "ID")]
        report: Option<ReportId>,
    },
}

pub fn run(context: &Context, command: &WatchlistCommand) -> anyhow::Result<u8> {
    // The symbol is parsed by clap, before the database is opened, so a typo is named as such.
    let mut store = context.open_store()?;
    match command {
        WatchlistCommand::List { report, format } => {
            let entries = store.watchlist(report.as_deref())?;
            out(&report::render_watchlist(&entries, *format, terminal_width()))?;
        }
        WatchlistCommand::Add { symbol, sector, report, name, tags } => {
            let report = context.report_id(&store, report.as_ref())?;
            store.add_member(&report, sector, symbol, name.as_deref(), tags)?;
            outln(&format!("added {symbol} to {sector} in {report}; run `ratingwatch sync --symbol {symbol}` for its prices"))?;
            differs_from_file(context, &store, &report)?;
        }
        WatchlistCommand::Remove { symbol, sector, report } => {
            let report = context.report_id(&store, report.as_ref())?;
            let removed = store.remove_member(&report, sector.as_deref(), symbol)?;
            outln(&format!("removed {symbol} from {removed} sector(s) in {report}"))?;
            differs_from_file(context, &store, &report)?;
        }
    }
    Ok(exit::OK)
}

/// After a change by hand, says when the database's basket no longer matches the report's
/// file (or the built-in seed), and that `init` would load the file again.
fn differs_from_file(context: &Context, store: &crate::store::Store, report: &str) -> anyhow::Result<()> {
    let dir = &context.config.reports.dir;
    let (definitions, source) = if dir.exists() {
        (crate::catalog::load_dir(dir)?, format!("its file in {}", dir.display()))
    } else {
        (crate::catalog::embedded_reports()?, "the built-in seed".to_string())
    };
    let Some(file) = definitions.into_iter().find(|definition| definition.id == report) else { return Ok(()) };
    let changes = crate::catalog::differences(&file, &store.report(report)?);
    if !changes.is_empty() {
        outln(&format!(
            "note: report {report}'s basket now differs from {source} ({}); `ratingwatch init` loads the file again and undoes this: edit the file to keep it",
            changes.join("; ")
        ))?;
    }
    Ok(())
}
