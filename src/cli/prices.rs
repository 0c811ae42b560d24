//! `ratingwatch import prices` and `ratingwatch export prices`.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;

use super::{Context, exit, out, outln};
use crate::csv_import;
use crate::prices::AdjBasis;
use crate::store::SeriesWrite;
use crate::symbol::Symbol;

#[derive(Subcommand, Debug)]
pub enum ImportCommand {
    /// Import daily prices (or FX rates) from CSV files with the header
    /// date,open,high,low,close,volume[,adj_close]: one file with --symbol, or several files
    /// and folders, each file named after its symbol (600941.SH.csv). A file with a bad row
    /// writes nothing; the other files are still imported, and each gets a line.
    Prices {
        /// The security or FX pair of the one FILE, e.g. 600941.SH, 0700.HK, MSFT, USDCNY.FX
        /// [default: each file's name without .csv].
        #[arg(long)]
        symbol: Option<Symbol>,
        /// Replace every stored bar of the symbol (needed when its stored series came from a provider).
        #[arg(long)]
        replace: bool,
        /// Import a symbol that is on no report's watchlist (nor a benchmark or FX pair);
        /// without it such an import is refused, since no verdict or summary would use it.
        #[arg(long)]
        add: bool,
        /// CSV files, or folders whose *.csv files are imported (in name order).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
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
    let ImportCommand::Prices { symbol, replace, add, files } = command;
    let jobs = import_list(symbol.as_ref(), files)?;
    let mut store = None;
    let mut failed = Vec::new();
    for (symbol, file) in &jobs {
        match import_one(context, &mut store, symbol, file, *replace, *add) {
            Ok(line) => outln(&line)?,
            // One file's error never stops the others; a single file keeps its exit 2.
            Err(error) if jobs.len() > 1 => {
                let (message, path) = (format!("{error:#}"), file.display().to_string());
                // Most errors name the file already (the CSV reader's file:line, the store's).
                if message.contains(&path) {
                    crate::cli::errln!("{message}");
                } else {
                    crate::cli::errln!("{path}: {message}");
                }
                failed.push(file.display().to_string());
            }
            Err(error) => return Err(error),
        }
    }
    if failed.is_empty() {
        return Ok(exit::OK);
    }
    crate::cli::errln!("{} of {} files not imported (nothing of them written): {}", failed.len(), jobs.len(), failed.join(", "));
    Ok(exit::PARTIAL)
}

/// The (symbol, file) pairs to import: `--symbol` names the one file; otherwise each file's
/// symbol is its name without `.csv`, and a folder stands for its `*.csv` files in name order.
fn import_list(symbol: Option<&Symbol>, paths: &[PathBuf]) -> anyhow::Result<Vec<(Symbol, PathBuf)>> {
    if let Some(symbol) = symbol {
        match paths {
            [file] if !file.is_dir() => return Ok(vec![(symbol.clone(), file.clone())]),
            _ => anyhow::bail!(
                "--symbol names the symbol of one file; to import several files or a folder, name each file after its symbol (600941.SH.csv) and leave --symbol out"
            ),
        }
    }
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("cannot read the folder {}", path.display()))?
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .filter(|file| file.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("csv")) && file.is_file())
                .collect();
            if found.is_empty() {
                anyhow::bail!("the folder {} holds no .csv file", path.display());
            }
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    files
        .into_iter()
        .map(|file| {
            let stem = file
                .file_name()
                .and_then(|name| name.to_str())
                .map(|name| name.strip_suffix(".csv").or_else(|| name.strip_suffix(".CSV")).unwrap_or(name));
            let symbol = stem.and_then(|stem| Symbol::parse(stem).ok()).ok_or_else(|| {
                anyhow::anyhow!(
                    "{}: the file name is not a symbol (e.g. 600941.SH.csv); rename it, or import it alone with --symbol",
                    file.display()
                )
            })?;
            Ok((symbol, file))
        })
        .collect()
}

/// Imports one file in one transaction and returns its summary line.
fn import_one(
    context: &Context,
    store: &mut Option<crate::store::Store>,
    symbol: &Symbol,
    file: &std::path::Path,
    replace: bool,
    add: bool,
) -> anyhow::Result<String> {
    let reader = std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let parsed = csv_import::parse_prices(file, std::io::BufReader::new(reader), context.today())?;
    // Created only once a file has parsed: bad files leave no new database behind.
    if store.is_none() {
        *store = Some(context.create_store()?);
    }
    let store = store.as_mut().expect("opened above");
    if !add && !store.is_named_by_a_report(symbol)? {
        anyhow::bail!(
            "{symbol} is on no watchlist (no loaded report names it as a company, alternate listing, benchmark or FX pair), so no verdict or summary would use its prices; \
             add it first with `ratingwatch watchlist add {symbol} --sector NAME`, or pass --add to import it anyway"
        );
    }
    let basis = if symbol.is_fx() || is_benchmark(store, symbol)? {
        AdjBasis::None
    } else if parsed.has_adj_close {
        AdjBasis::Imported
    } else {
        AdjBasis::CloseAsAdjusted
    };
    store.ensure_security(symbol)?;
    let stats = if replace {
        store.replace_bars(&SeriesWrite::new(symbol, &parsed.bars, "csv", basis, context.today(), context.now))?
    } else {
        store
            .upsert_bars(&SeriesWrite::new(symbol, &parsed.bars, "csv", basis, context.today(), context.now))
            .with_context(|| format!("importing {}; pass --replace to replace the stored series", file.display()))?
    };
    let (first, last) = (parsed.bars.iter().map(|b| b.date).min(), parsed.bars.iter().map(|b| b.date).max());
    Ok(format!(
        "{symbol}: {} rows from {} ({} to {}): {} added, {} replaced; adjusted basis {basis}",
        parsed.bars.len(),
        file.display(),
        first.map(|d| d.to_string()).unwrap_or_default(),
        last.map(|d| d.to_string()).unwrap_or_default(),
        stats.added,
        stats.replaced
    ))
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
