//! `ratingwatch report [--week YYYY-Www | --as-of YYYY-MM-DD] [--report ID] [--format …]
//! [--output PATH]`: the weekly sector-vs-benchmark summary.

use std::path::PathBuf;

use chrono::{Datelike, NaiveDate, Weekday};

use super::verdict::{analysis_options, check_as_of, check_benchmark_prices, emit, parse_date, parse_format, resolve_report};
use super::{Context, exit};
use crate::pipeline::{self, WeekSelection};
use crate::report::{self, RenderOptions};

#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// The ISO week, e.g. 2023-W20 [default: the latest complete week]
    #[arg(long, value_name = "YYYY-Www", value_parser = parse_week, conflicts_with = "as_of")]
    pub week: Option<WeekSelection>,
    /// The week containing this date, measured to this date.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub as_of: Option<NaiveDate>,
    /// The report [default: the only report in the database]
    #[arg(long, value_name = "ID")]
    pub report: Option<String>,
    /// Measure members in CNY (converted at each date's FX rate) or in their own currency.
    #[arg(long, default_value = "cny", value_parser = ["cny", "local"])]
    pub currency: String,
    /// Output format.
    #[arg(long, default_value = "table", value_parser = ["table", "markdown", "json", "csv", "html"])]
    pub format: String,
    /// Write to this file instead of stdout, and print its path.
    #[arg(long, value_name = "PATH")]
    pub output: Option<PathBuf>,
}

fn parse_week(text: &str) -> Result<WeekSelection, String> {
    pipeline::parse_week(text).map_err(|error| error.to_string())
}

pub fn run(context: &Context, args: &ReportArgs) -> anyhow::Result<u8> {
    let store = context.open_store()?;
    let report = resolve_report(&store, args.report.as_deref())?;
    let today = context.today();
    let selection = match (&args.week, args.as_of) {
        (Some(week), _) => week.clone(),
        (None, Some(as_of)) => WeekSelection::AsOf(as_of),
        (None, None) => WeekSelection::Latest { today },
    };
    // The date the summary is measured to, as far as it is known before the analysis: an
    // explicit week ends on its Friday.
    let measured_to = match &selection {
        WeekSelection::Week { year, week } => NaiveDate::from_isoywd_opt(*year, *week, Weekday::Fri)
            .ok_or_else(|| anyhow::anyhow!("{year}-W{week:02} is not a week of {year}; expected the form 2023-W20"))?,
        WeekSelection::AsOf(as_of) => *as_of,
        WeekSelection::Latest { today } => *today,
    };
    if let WeekSelection::Week { year, week } = &selection
        && measured_to < report.report_date
    {
        let first = report.report_date.iso_week();
        anyhow::bail!(
            "week {year}-W{week:02} ends before the report date {} of `{}`; choose --week {}-W{:02} or later",
            report.report_date,
            report.id,
            first.year(),
            first.week()
        );
    }
    check_as_of(&report, measured_to)?;
    check_benchmark_prices(&store, &report, measured_to)?;

    let options = analysis_options(context, &args.currency);
    let summary = pipeline::weekly(&store, &report.id, &selection, &options)?;
    let text = report::render_weekly_with(&summary, parse_format(&args.format)?, &RenderOptions::from_rule(&report.rule));
    emit(&text, args.output.as_deref())?;
    Ok(exit::OK)
}
