//! `ratingwatch verdict [REPORT_ID] [--as-of DATE] [--currency cny|local] [--format …] [--all]
//! [--output PATH]`: did the rating hold? Also the helpers `report` shares: the report to use,
//! dates, formats, and writing the result.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use chrono::NaiveDate;

use super::{Context, exit};
use crate::analysis::model::CurrencyMode;
use crate::catalog::ReportDef;
use crate::pipeline::{self, AnalysisOptions};
use crate::report::{self, Format, RenderOptions};
use crate::store::Store;

#[derive(clap::Args, Debug)]
pub struct VerdictArgs {
    /// The report [default: the only report in the database]
    #[arg(value_name = "REPORT_ID", conflicts_with = "all")]
    pub report_id: Option<String>,
    /// Compute the verdict as of this date [default: today]
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub as_of: Option<NaiveDate>,
    /// Measure members in CNY (converted at each date's FX rate) or in their own currency.
    #[arg(long, value_enum, default_value_t = CurrencyMode::Cny)]
    pub currency: CurrencyMode,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Every report in the database, one row each, and the share of ratings that held.
    #[arg(long)]
    pub all: bool,
    /// Write to this file instead of stdout, and print its path.
    #[arg(long, value_name = "PATH")]
    pub output: Option<PathBuf>,
}

pub fn run(context: &Context, args: &VerdictArgs) -> anyhow::Result<u8> {
    let store = context.open_store()?;
    let as_of = args.as_of.unwrap_or_else(|| context.today());
    let options = analysis_options(context, args.currency);
    let format = args.format;
    let text = if args.all {
        let verdicts = pipeline::verdict_all(&store, as_of, &options)?;
        if verdicts.is_empty() {
            anyhow::bail!("no report in the database; put a report file in the reports folder and run `ratingwatch init`");
        }
        report::render_ledger(&verdicts, format)
    } else {
        let report = resolve_report(&store, args.report_id.as_deref())?;
        check_as_of(&report, as_of)?;
        check_benchmark_prices(&store, &report, as_of)?;
        let verdict = pipeline::verdict(&store, &report.id, as_of, &options)?;
        report::render_verdict_with(&verdict, format, &RenderOptions::from_rule(&report.rule))
    };
    emit(&text, args.output.as_deref())?;
    Ok(exit::OK)
}

/// A date argument in the one form the product prints.
pub(super) fn parse_date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| format!("`{text}` is not a date; expected the form 2023-05-19"))
}

pub(super) fn analysis_options(context: &Context, currency: CurrencyMode) -> AnalysisOptions {
    AnalysisOptions { currency, stale_after_trading_days: context.config.analysis.stale_after_trading_days }
}

/// The report named, or the only one; an unknown id lists the known ones.
pub(super) fn resolve_report(store: &Store, id: Option<&str>) -> anyhow::Result<ReportDef> {
    let id = super::watchlist::pick_report(store, id)?;
    let known = store.report_ids()?;
    if !known.contains(&id) {
        let listed = if known.is_empty() { "none loaded; run `ratingwatch init`".to_string() } else { known.join(", ") };
        anyhow::bail!("no report `{id}` in the database (known: {listed})");
    }
    Ok(store.report(&id)?)
}

/// A verdict or summary needs the report to exist at the date asked for.
pub(super) fn check_as_of(report: &ReportDef, as_of: NaiveDate) -> anyhow::Result<()> {
    if as_of < report.report_date {
        anyhow::bail!(
            "as-of date {as_of} is before the report date {} of `{}`; pass --as-of {} or later",
            report.report_date,
            report.id,
            report.report_date
        );
    }
    Ok(())
}

/// Without a benchmark close there is nothing to compare against: say what to run.
pub(super) fn check_benchmark_prices(store: &Store, report: &ReportDef, date: NaiveDate) -> anyhow::Result<()> {
    let benchmark = &report.rule.benchmark;
    if store.bar_as_of(benchmark, date)?.is_none() {
        anyhow::bail!(
            "no prices for the benchmark {} ({benchmark}) on or before {date}; run `ratingwatch sync` or \
             `ratingwatch import prices --symbol {benchmark} FILE.csv`",
            report.rule.benchmark_name
        );
    }
    Ok(())
}

/// Prints the text, or writes it to `output` and prints the path.
pub(super) fn emit(text: &str, output: Option<&Path>) -> anyhow::Result<()> {
    match output {
        None => print!("{text}"),
        Some(path) => {
            if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).with_context(|| format!("cannot create the folder {}", parent.display()))?;
            }
            report::write_atomically(path, text.as_bytes())?;
            println!("{}", path.display());
        }
    }
    Ok(())
}
