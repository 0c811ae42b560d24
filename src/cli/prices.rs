//! `ratingwatch import prices` and `ratingwatch export prices`.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;

use super::{Context, exit, out, outln};
use crate::csv_import;
use crate::prices::AdjBasis;
use crate::symbol::Symbol;

#[derive(Subcommand, Debug)]
pub enum ImportCommand {
    /// Import daily prices (or FX rates) for one symbol from a CSV file with the header
    /// date,open,high,low,close,volume[,adj_close]. Nothing is written if any row is bad.
    Prices {
        /// The security or FX pair, e.g. 600941.SH, 0700.HK, MSFT, USDCNY.FX.
        #[arg(long)]
        symbol: Symbol,
        /// Replace every stored bar of the symbol (needed when its stored series came from a provider).
        #[arg(long)]
        replace: bool,
        /// Import a symbol that is on no report's watchlist (nor a benchmark or FX pair);
        /// without it such an import is refused, since no verdict or summary would use it.
        #[arg(long)]
        add: bool,
        /// The CSV file.
        file: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum ExportCommand {
    /// Write a symbol's stored bars as CSV in the import format (adj_close included).
    Prices {
        /// The security or FX pair, e.g. 600941.SH, 0700.HK, MSFT, USDCNY.FX.
        #[arg(long)]
        symbol: Symbol,
        /// Write to this file instead of stdout.
        #[arg(long, value_name = "PATH")]
        output: Option<PathBuf>,
    },
}

pub fn run_import(context: &Context, command: &ImportCommand) -> anyhow::Result<u8> {
    let ImportCommand::Prices { symbol, replace, add, file } = command;
    let reader = std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let parsed = csv_import::parse_prices(file, std::io::BufReader::new(reader), context.today())?;
    // Created only once the file has parsed: a bad file leaves no new database behind.
    let mut store = context.create_store()?;
    if !*add && !store.is_named_by_a_report(symbol)? {
        anyhow::bail!(
            "{symbol} is on no watchlist (no loaded report names it as a company, alternate listing, benchmark or FX pair), so no verdict or summary would use its prices; \
             add it first with `ratingwatch watchlist add {symbol} --sector NAME`, or pass --add to import it anyway"
        );
    }
    let basis = if symbol.is_fx() || is_benchmark(&store, symbol)? {
        AdjBasis::None
    } else if parsed.has_adj_close {
        AdjBasis::Imported
    } else {
        AdjBasis::CloseAsAdjusted
    };
    store.ensure_security(symbol)?;
    let stats = if *replace {
        store.replace_bars(symbol, &parsed.bars, "csv", basis, context.today(), context.now)?
    } else {
        store
            .upsert_bars(symbol, &parsed.bars, "csv", basis, context.today(), context.now)
            .with_context(|| format!("importing {}; pass --replace to replace the stored series", file.display()))?
    };
    let (first, last) = (parsed.bars.iter().map(|b| b.date).min(), parsed.bars.iter().map(|b| b.date).max());
    outln(&format!(
        "{symbol}: {} rows from {} ({} to {}): {} added, {} replaced; adjusted basis {basis}",
        parsed.bars.len(),
        file.display(),
        first.map(|d| d.to_string()).unwrap_or_default(),
        last.map(|d| d.to_string()).unwrap_or_default(),
        stats.added,
        stats.replaced
    ))?;
    Ok(exit::OK)
}

fn is_benchmark(store: &crate::store::Store, symbol: &Symbol) -> anyhow::Result<bool> {
    for id in store.report_ids()? {
        if &store.report(&id)?.rule.benchmark == symbol {
            return Ok(true);
        }
    }
    Ok(false)
}

pub fn run_export(context: &Context, command: &ExportCommand) -> anyhow::Result<u8> {
    let ExportCommand::Prices { symbol, output } = command;
    let store = context.open_store()?;
    let bars = store.all_bars(symbol)?;
    if bars.is_empty() {
        anyhow::bail!("no stored prices for {symbol}; run `ratingwatch sync --symbol {symbol}` or `ratingwatch import prices`");
    }
    match output {
        Some(path) => {
            let mut text = Vec::new();
            csv_import::write_prices(&bars, &mut text)?;
            crate::report::write_atomically(path, &text)?;
            crate::cli::errln!("{symbol}: {} bars written to {}", bars.len(), path.display());
        }
        None => {
            let mut text = Vec::new();
            csv_import::write_prices(&bars, &mut text)?;
            out(&String::from_utf8(text).context("the price CSV is not UTF-8")?)?;
        }
    }
    Ok(exit::OK)
}
