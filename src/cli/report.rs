//! `ratingwatch report [--week YYYY-Www | --as-of YYYY-MM-DD] [--report ID] [--format …]
//! [--output PATH]`: the weekly sector-vs-benchmark summary.

use std::path::PathBuf;

use chrono::NaiveDate;

use super::{Context, emit, exit, parse_date, table_width};
use crate::analysis::CurrencyMode;
use crate::ids::{ReportId, Week};
use crate::pipeline::{self, WeekSelection};
use crate::report::{self, Format, RenderOptions};

#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// The ISO week, e.g. 2023-W20 [default: the latest complete week]
    #[arg(long, value_name = "YYYY-Www", conflicts_with = "as_of")]
    pub week: Option<Week>,
    /// The week containing this date, measured to this date.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub as_of: Option<NaiveDate>,
    /// The report [default: the only report in the database]
    #[arg(long, value_name = "ID")]
    pub report: Option<ReportId>,
    /// Measure members in CNY (converted at each date's FX rate) or in their own currency.
    #[arg(long, value_enum, default_value_t = CurrencyMode::Cny)]
    pub currency: CurrencyMode,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write to this file instead of stdout, and print its path.
    #[arg(long, value_name = "PATH")]
    pub output: Option<PathBuf>,
}

pub fn run(context: &Context, args: &ReportArgs) -> anyhow::Result<u8> {
    let store = context.open_store()?;
    let report = context.report(&store, args.report.as_ref())?;
    let selection = match (args.week, args.as_of) {
        (Some(week), _) => WeekSelection::Week(week),
        (None, Some(as_of)) => WeekSelection::AsOf(as_of),
        (None, None) => WeekSelection::Latest { today: context.today() },
    };
    let book = pipeline::broker_book(&context.config.ratings)?;
    let summary = pipeline::weekly(&store, &report, &selection, &context.analysis_options(args.currency), &book)?;
    let text = report::render_weekly_with(
        &summary,
        args.format,
        &RenderOptions::from_rule(&report.rule).within(table_width(args.output.as_deref())),
    );
    emit(&text, args.output.as_deref())?;
    Ok(exit::OK)
}
