//! `ratingwatch verdict [REPORT_ID | --report ID] [--as-of DATE] [--currency cny|local] [--format …] [--all]
//! [--output PATH]`: did the rating hold?

use std::path::PathBuf;

use chrono::NaiveDate;

use super::{Context, emit, exit, parse_date, table_width};
use crate::analysis::CurrencyMode;
use crate::ids::ReportId;
use crate::pipeline;
use crate::report::{self, Format, RenderOptions};

#[derive(clap::Args, Debug)]
pub struct VerdictArgs {
    /// The report [default: the only report in the database]
    #[arg(value_name = "REPORT_ID", conflicts_with = "all")]
    pub report_id: Option<ReportId>,
    /// The report, named as every other command names it (the same as REPORT_ID).
    #[arg(long = "report", value_name = "ID", conflicts_with_all = ["all", "report_id"])]
    pub report: Option<ReportId>,
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
    let options = context.analysis_options(args.currency);
    let text = if args.all {
        let verdicts = pipeline::verdict_all(&store, as_of, &options)?;
        if verdicts.is_empty() {
            anyhow::bail!("no report in the database; put a report file in the reports folder and run `ratingwatch init`");
        }
        report::render_ledger_within(&verdicts, args.format, table_width(args.output.as_deref()))
    } else {
        let report = context.report(&store, args.report.as_ref().or(args.report_id.as_ref()))?;
        let verdict = pipeline::verdict(&store, &report, as_of, &options)?;
        report::render_verdict_with(
            &verdict,
            args.format,
            &RenderOptions::from_rule(&report.rule).within(table_width(args.output.as_deref())),
        )
    };
    emit(&text, args.output.as_deref())?;
    Ok(exit::OK)
}
