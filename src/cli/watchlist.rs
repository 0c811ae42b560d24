//! `ratingwatch watchlist list|add|remove`.

use clap::Subcommand;
use comfy_table::Table;

use super::{Context, exit};
use crate::store::WatchlistEntry;
use crate::symbol::Symbol;

#[derive(Subcommand, Debug)]
pub enum WatchlistCommand {
    /// List the companies on the watchlist with their sectors and tags.
    List {
        /// Only this report's companies [default: every report]
        #[arg(long, value_name = "ID")]
        report: Option<String>,
        /// Output format.
        #[arg(long, default_value = "table", value_parser = ["table", "json", "csv"])]
        format: String,
    },
    /// Add a security to a sector of a report.
    Add {
        /// The security, e.g. 600941.SH, 0700.HK, MSFT.
        symbol: String,
        /// The sector to add it to.
        #[arg(long)]
        sector: String,
        /// The report [default: the only report, when there is one]
        #[arg(long, value_name = "ID")]
        report: Option<String>,
        /// The company's name [default: the name the report gives, else the symbol]
        #[arg(long)]
        name: Option<String>,
        /// A sub-group tag (repeatable).
        #[arg(long = "tag")]
        tags: Vec<String>,
    },
    /// Remove a security from a sector (or from every sector) of a report. Prices are kept.
    Remove {
        symbol: String,
        /// Only from this sector [default: every sector]
        #[arg(long)]
        sector: Option<String>,
        #[arg(long, value_name = "ID")]
        report: Option<String>,
    },
}

/// The report a command means: the one named, or the only one in the database.
pub(crate) fn pick_report(store: &crate::store::Store, report: Option<&str>) -> anyhow::Result<String> {
    if let Some(id) = report {
        return Ok(id.to_string());
    }
    let ids = store.report_ids()?;
    match ids.as_slice() {
        [only] => Ok(only.clone()),
        [] => anyhow::bail!("no report in the database; put a report file in the reports folder and run `ratingwatch init`"),
        many => anyhow::bail!("several reports are loaded; choose one with --report ({})", many.join(", ")),
    }
}

pub fn run(context: &Context, command: &WatchlistCommand) -> anyhow::Result<u8> {
    // Arguments are checked before the database is opened, so a typo is named as such.
    let symbol = match command {
        WatchlistCommand::List { .. } => None,
        WatchlistCommand::Add { symbol, .. } | WatchlistCommand::Remove { symbol, .. } => Some(Symbol::parse(symbol)?),
    };
    let mut store = context.open_store()?;
    match (command, symbol) {
        (WatchlistCommand::List { report, format }, _) => {
            let entries = store.watchlist(report.as_deref())?;
            print!("{}", render(&entries, format)?);
        }
        (WatchlistCommand::Add { sector, report, name, tags, .. }, Some(symbol)) => {
            let report = pick_report(&store, report.as_deref())?;
            store.add_member(&report, sector, &symbol, name.as_deref(), tags)?;
            println!("added {symbol} to {sector} in {report}; run `ratingwatch sync --symbol {symbol}` for its prices");
        }
        (WatchlistCommand::Remove { sector, report, .. }, Some(symbol)) => {
            let report = pick_report(&store, report.as_deref())?;
            let removed = store.remove_member(&report, sector.as_deref(), &symbol)?;
            println!("removed {symbol} from {removed} sector(s) in {report}");
        }
        (WatchlistCommand::Add { .. } | WatchlistCommand::Remove { .. }, None) => unreachable!("parsed above"),
    }
    Ok(exit::OK)
}

fn render(entries: &[WatchlistEntry], format: &str) -> anyhow::Result<String> {
    Ok(match format {
        "json" => serde_json::to_string_pretty(entries)? + "\n",
        "csv" => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            writer.write_record(["symbol", "name", "name_en", "market", "currency", "sectors", "tags"])?;
            for e in entries {
                writer.write_record([
                    e.symbol.to_string(),
                    e.name.clone(),
                    e.name_en.clone(),
                    e.market.clone(),
                    e.currency.clone(),
                    e.sectors.join(";"),
                    e.tags.join(";"),
                ])?;
            }
            String::from_utf8(writer.into_inner()?)?
        }
        _ => {
            let mut table = Table::new();
            table.load_style(comfy_table::presets::UTF8_BORDERS_ONLY);
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
    })
}
