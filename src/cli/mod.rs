//! The command line: global options, one file per subcommand, exit codes.
//!
//! Invariants: `main` is thin; each subcommand parses its own arguments in its own file and
//! calls library functions (the service runs exactly the same ones). The wall clock is read
//! here, once per command, and passed down. Errors become one line on stderr.

mod config;
mod init;
pub mod instruments;
pub mod memory;
mod notify;
mod prices;
mod ratings;
mod report;
mod reports;
mod serve;
mod status;
mod stdout;
mod sync;
mod verdict;
mod watchlist;
mod web;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Parser, Subcommand};

use crate::analysis::{AnalysisOptions, CurrencyMode};
use crate::catalog::ReportDef;
use crate::config::Config;
use crate::ids::ReportId;
use crate::store::Store;

pub(crate) use stdout::{errln, out, outln, terminal_width};

/// Exit codes, documented in README.md.
pub mod exit {
    /// Everything asked for was done.
    pub const OK: u8 = 0;
    /// The command ran but some parts failed (e.g. some symbols did not sync).
    pub const PARTIAL: u8 = 1;
    /// Usage, config or input error, or the command could not run at all.
    pub const ERROR: u8 = 2;
}

#[derive(Parser, Debug)]
#[command(name = "ratingwatch", version, about = "Track a research report's sector ratings against CSI 300", long_about = None)]
pub struct Cli {
    /// Config file [default: config/ratingwatch.toml when present, built-in defaults otherwise]
    #[arg(long, global = true, env = "RATINGWATCH_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// SQLite database [default: data/ratingwatch.db, or [database] path in the config]
    #[arg(long, global = true, env = "RATINGWATCH_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Log format on stderr: text or json [default: [log] format in the config]
    #[arg(long, global = true, value_name = "FORMAT")]
    pub log_format: Option<crate::config::LogFormat>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create or migrate the database and load every report under the reports folder.
    Init(init::InitArgs),
    /// List, add or remove watchlist members.
    #[command(subcommand)]
    Watchlist(watchlist::WatchlistCommand),
    /// Reports: list the loaded ones, draft a report file from a report's text, add a file.
    #[command(subcommand)]
    Reports(reports::ReportsCommand),
    /// Import prices from CSV.
    #[command(subcommand)]
    Import(prices::ImportCommand),
    /// Export stored prices as CSV.
    #[command(subcommand)]
    Export(prices::ExportCommand),
    /// The security master: sync it, import it from CSV, find a company's symbol by name.
    #[command(subcommand)]
    Instruments(instruments::InstrumentsCommand),
    /// Pull daily prices from the providers now.
    Sync(sync::SyncArgs),
    /// Did the rating hold? Per sector and for the whole basket.
    Verdict(verdict::VerdictArgs),
    /// The weekly sector-vs-benchmark summary.
    Report(report::ReportArgs),
    /// Run the background service: scheduled syncs and weekly summaries.
    Serve(serve::ServeArgs),
    /// Each job's last and next run, and data freshness.
    Status(status::StatusArgs),
    /// The web dashboard and JSON API alone (no scheduler), over an existing database.
    Web(web::WebArgs),
    /// Show the effective configuration.
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Notifications: test a channel, list the outbox, send an event on demand.
    #[command(subcommand)]
    Notify(notify::NotifyCommand),
    /// The ratings feed: every broker rating on the watchlist, scored against its broker's rule.
    #[command(subcommand)]
    Ratings(ratings::RatingsCommand),
}

/// What every command gets: the effective config and the moment the command started.
pub struct Context {
    pub config: Config,
    /// Where the config came from, for messages (`None`: built-in defaults).
    pub config_path: Option<PathBuf>,
    pub now: DateTime<Utc>,
    /// Whether stderr is a terminal (progress bars) .
    pub interactive: bool,
}

impl Context {
    /// Opens the existing database (never creating it: a mistyped `--db` is an error naming
    /// the path), loads the reports folder when it has no report yet, and marks runs whose
    /// process is gone as ended. For every command except those that create the database.
    pub fn open_store(&self) -> anyhow::Result<Store> {
        self.prepare_store(Store::open_existing(&self.config.database.path)?)
    }

    /// Like [`Context::open_store`], but creates and migrates the database (and its folder)
    /// when it does not exist yet: for `import` and `sync` (`init` and `serve` have their own).
    pub fn create_store(&self) -> anyhow::Result<Store> {
        self.prepare_store(Store::open(&self.config.database.path)?)
    }

    fn prepare_store(&self, mut store: Store) -> anyhow::Result<Store> {
        if store.report_ids()?.is_empty() {
            init::load_reports(&mut store, &self.config.reports.dir, self.now)?;
        }
        let service_running = crate::lock::InstanceLock::is_held(&self.config.database.path);
        // A reader who may not write still gets its answer; the next writer closes the runs.
        match store.close_stale_runs(self.now, service_running, &crate::lock::process_alive) {
            Ok(0) => {}
            Ok(closed) => tracing::info!(closed, "runs left unfinished by a process that has ended are now marked interrupted/cancelled"),
            Err(error) => tracing::debug!(%error, "cannot mark stale runs"),
        }
        Ok(store)
    }

    /// The calendar date of `now` in the configured time zone.
    pub fn today(&self) -> chrono::NaiveDate {
        self.config.schedule.timezone.date_of(self.now)
    }

    /// The report a command means: the one named, or the only one in the database. An
    /// unknown id is the store's error, which lists the known ones.
    pub fn report(&self, store: &Store, id: Option<&ReportId>) -> anyhow::Result<ReportDef> {
        Ok(store.report(&self.report_id(store, id)?)?)
    }

    /// The id of [`Context::report`], without loading the report.
    pub fn report_id(&self, store: &Store, id: Option<&ReportId>) -> anyhow::Result<String> {
        if let Some(id) = id {
            return Ok(id.to_string());
        }
        let ids = store.report_ids()?;
        match ids.as_slice() {
            [only] => Ok(only.clone()),
            [] => anyhow::bail!("no report in the database; put a report file in the reports folder and run `ratingwatch init`"),
            many => anyhow::bail!("several reports are loaded; choose one with --report ({})", many.join(", ")),
        }
    }

    /// What a verdict or summary is computed with: `--currency` and the config.
    pub fn analysis_options(&self, currency: CurrencyMode) -> AnalysisOptions {
        AnalysisOptions { currency, stale_after_trading_days: self.config.analysis.stale_after_trading_days }
    }
}

/// A date argument in the one form the product prints (`ids::parse_date`), the input
/// excerpted as every command-line message does.
pub(crate) fn parse_date(text: &str) -> Result<NaiveDate, crate::ids::ParseError> {
    crate::ids::parse_date(text, crate::text::quote)
}

/// The width tables are fitted to: the terminal's when the text goes to a terminal's stdout,
/// none (full width) for a pipe or an `--output` file.
pub(crate) fn table_width(output: Option<&Path>) -> Option<u16> {
    if output.is_some() { None } else { terminal_width() }
}

/// Prints the text, or writes it to `output` and prints the path.
pub(crate) fn emit(text: &str, output: Option<&Path>) -> anyhow::Result<()> {
    match output {
        None => out(text)?,
        Some(path) => {
            if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).with_context(|| format!("cannot create the folder {}", parent.display()))?;
            }
            crate::report::write_atomically(path, text.as_bytes())?;
            outln(&path.display().to_string())?;
        }
    }
    Ok(())
}

fn load_context(cli: &Cli) -> anyhow::Result<Context> {
    let default_path = PathBuf::from("config/ratingwatch.toml");
    let config_path = match &cli.config {
        Some(path) => Some(path.clone()),
        None if default_path.is_file() => Some(default_path),
        None => None,
    };
    let mut config = Config::load(config_path.as_deref(), std::env::vars())?;
    if let Some(db) = &cli.db {
        config.database.path = db.clone();
    }
    if let Some(format) = &cli.log_format {
        config.log.format = *format;
    }
    Ok(Context { config, config_path, now: Utc::now(), interactive: std::io::stderr().is_terminal() })
}

fn init_logging(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("{},rusqlite_migration=warn,tokio_cron_scheduler=warn", config.log.level)));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        // A closed stderr (`ratingwatch sync 2>&1 | head`) drops log lines instead of making
        // tracing-subscriber report the failure with `eprintln!`, which panics.
        .log_internal_errors(false);
    let _ = if config.log.format == crate::config::LogFormat::Json { builder.json().try_init() } else { builder.compact().try_init() };
}

/// Builds the tokio runtime for the commands that do network or scheduled work.
/// Every thread releases its own freed memory when asked (see [`memory`]).
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .on_thread_park(memory::on_thread_park)
        .on_thread_stop(memory::on_thread_stop)
        .thread_keep_alive(memory::BLOCKING_KEEP_ALIVE)
        .build()
        .context("cannot start the async runtime")
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let context = match load_context(&cli) {
        Ok(context) => context,
        Err(error) => {
            errln!("error: {}", one_line_error(&error));
            return ExitCode::from(exit::ERROR);
        }
    };
    init_logging(&context.config);
    let result = match &cli.command {
        Command::Init(args) => init::run(&context, args),
        Command::Watchlist(command) => watchlist::run(&context, command),
        Command::Reports(command) => reports::run(&context, command),
        Command::Import(command) => prices::run_import(&context, command),
        Command::Export(command) => prices::run_export(&context, command),
        Command::Instruments(command) => instruments::run(&context, command),
        Command::Sync(args) => sync::run(&context, args),
        Command::Verdict(args) => verdict::run(&context, args),
        Command::Report(args) => report::run(&context, args),
        Command::Serve(args) => serve::run(&context, args),
        Command::Status(args) => status::run(&context, args),
        Command::Web(args) => web::run(&context, args),
        Command::Config(command) => config::run(&context, command),
        Command::Notify(command) => notify::run(&context, command),
        Command::Ratings(command) => ratings::run(&context, command),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            errln!("error: {}", one_line_error(&error));
            ExitCode::from(exit::ERROR)
        }
    }
}

/// An error and its causes on one line, like anyhow's `{:#}`, but without repeating a cause
/// whose text the message already holds: many errors quote their source in their own
/// message, and `{:#}` would print it again. A cause already quoted ends the line, since its
/// own causes were quoted with it.
pub(crate) fn one_line_error(error: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if message.contains(&text) {
            break;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_chain_does_not_repeat_its_causes() {
        let io = std::io::Error::from_raw_os_error(2);
        let config = crate::config::ConfigError::Read { path: PathBuf::from("c.toml"), error: io };
        let error = anyhow::Error::new(config).context("loading the configuration");
        assert_eq!(
            one_line_error(&error),
            "loading the configuration: cannot read config file c.toml: No such file or directory (os error 2)"
        );
        // A cause the message quotes (thiserror's `{source}` with #[source]) is printed once.
        #[derive(Debug, thiserror::Error)]
        #[error("cannot open x: {source}")]
        struct Quoting {
            source: std::io::Error,
        }
        let error = anyhow::Error::new(Quoting { source: std::io::Error::from_raw_os_error(13) });
        assert_eq!(format!("{error:#}").matches("Permission denied").count(), 2, "anyhow alone repeats it");
        assert_eq!(one_line_error(&error), "cannot open x: Permission denied (os error 13)");
    }
}
