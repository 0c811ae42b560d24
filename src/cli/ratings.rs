//! `ratingwatch ratings sync|list|track-record`: the ratings feed.

use chrono::NaiveDate;
use clap::{Args, Subcommand};

use super::{Context, errln, exit, out, parse_date, terminal_width};
use crate::analysis::CurrencyMode;
use crate::analysis::ratings::{GroupBy, ScoredCall, track_record};
use crate::pipeline;
use crate::report::{self, Format, RATINGS_FORMATS};
use crate::store::{RatingsFilter, Store};
use crate::symbol::Symbol;

#[derive(Subcommand, Debug)]
pub enum RatingsCommand {
    /// Fetch the watchlist companies' broker ratings from Eastmoney's report list.
    Sync {
        /// One company only [default: every Shanghai/Shenzhen company on the watchlist].
        #[arg(long, value_name = "SYMBOL", value_parser = parse_symbol)]
        symbol: Option<Symbol>,
    },
    /// The stored ratings with each call's verdict against its broker's own rule, newest first.
    List {
        /// Only ratings on this company.
        #[arg(long, value_name = "SYMBOL", value_parser = parse_symbol)]
        symbol: Option<Symbol>,
        /// A broker's short or full name.
        #[arg(long)]
        broker: Option<String>,
        #[command(flatten)]
        window: ScoreWindow,
    },
    /// Whose ratings hold: per broker, analyst or rating word, hit rate with a 95 % interval.
    // The shared arguments' help speaks of listing ratings; here they score calls.
    #[command(mut_arg("as_of", |arg| arg.help("Score as of this date [default: today]")))]
    #[command(mut_arg("since", |arg| arg.help("Only calls published on or after this date")))]
    TrackRecord {
        /// Group the calls by broker, analyst or the broker's rating word.
        #[arg(long, value_enum, default_value = "broker")]
        by: GroupBy,
        #[command(flatten)]
        window: ScoreWindow,
    },
}

/// The scoring date, publication cut-off and output format `list` and `track-record` share.
#[derive(Args, Debug)]
pub struct ScoreWindow {
    /// Score as of this date, and list ratings published by then [default: today].
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    as_of: Option<NaiveDate>,
    /// Only ratings published on or after this date.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    since: Option<NaiveDate>,
    /// Output format.
    #[arg(long, default_value = "table", value_parser = report::format_parser(RATINGS_FORMATS))]
    format: Format,
}

fn parse_symbol(text: &str) -> Result<Symbol, String> {
    Symbol::parse(text).map_err(|e| e.to_string())
}

pub fn run(context: &Context, command: &RatingsCommand) -> anyhow::Result<u8> {
    match command {
        RatingsCommand::Sync { symbol } => sync(context, symbol.as_ref()),
        RatingsCommand::List { symbol, broker, window } => {
            let as_of = window.as_of.unwrap_or_else(|| context.today());
            let filter = RatingsFilter { symbol: symbol.clone(), broker: broker.clone(), since: window.since, until: None };
            let calls = scored(context, &filter, as_of)?;
            out(&report::render_ratings(&calls, as_of, window.format, terminal_width()))?;
            Ok(exit::OK)
        }
        RatingsCommand::TrackRecord { by, window } => {
            let as_of = window.as_of.unwrap_or_else(|| context.today());
            let filter = RatingsFilter { since: window.since, ..Default::default() };
            let calls = scored(context, &filter, as_of)?;
            let min_sample = context.config.ratings.min_sample;
            let rows = track_record(&calls, *by, min_sample);
            out(&report::render_track_record(&rows, (*by).into(), as_of, min_sample, window.format, terminal_width()))?;
            Ok(exit::OK)
        }
    }
}

fn scored(context: &Context, filter: &RatingsFilter, as_of: NaiveDate) -> anyhow::Result<Vec<ScoredCall>> {
    let book = pipeline::broker_book(&context.config.ratings)?;
    let store = context.open_store()?;
    Ok(pipeline::rating_calls(&store, &book, filter, as_of, &context.analysis_options(CurrencyMode::Cny))?)
}

fn sync(context: &Context, symbol: Option<&Symbol>) -> anyhow::Result<u8> {
    if !context.config.ratings.enabled {
        errln!("ratings.enabled is false: nothing fetched");
        return Ok(exit::OK);
    }
    let mut store: Store = context.create_store()?;
    let today = context.today();
    let runtime = super::runtime()?;
    let mut progress = |done: usize, total: usize, symbol: &Symbol| errln!("ratings {done}/{total} {symbol}");
    let report = runtime.block_on(crate::sync::ratings::sync_ratings(
        &mut store,
        &context.config,
        symbol,
        (today, context.now),
        &crate::sync::ratings::no_announcements,
        &mut progress,
    ))?;
    errln!(
        "ratings: {} companies, {} requests: {} new, {} updated, {} unchanged; {} skipped (not Shanghai/Shenzhen){}",
        report.companies,
        report.requests,
        report.inserted,
        report.updated,
        report.unchanged,
        report.skipped.len(),
        if report.failures.is_empty() { String::new() } else { format!("; {} failed", report.failures.len()) }
    );
    for (symbol, reason) in &report.failures {
        errln!("failed: {symbol}: {reason}");
    }
    Ok(if report.failures.is_empty() { exit::OK } else { exit::PARTIAL })
}
