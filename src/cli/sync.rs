//! `ratingwatch sync`: pull daily prices now. It runs exactly what the service's sync jobs run
//! ([`crate::sync::run_sync_with`]), with a progress bar on a terminal and log lines otherwise.

use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

use super::{Context, exit, outln};
use crate::providers::Providers;
use crate::symbol::Symbol;
use crate::sync::{LogProgress, Selection, SyncOptions, SyncProgress, SyncSummary, TerminalProgress, run_sync_with};

#[derive(clap::Args, Debug)]
pub struct SyncArgs {
    /// Only this security (repeatable), e.g. 600941.SH, 0700.HK, MSFT, USDCNY.FX
    /// [default: every tracked security, the benchmarks and the FX pairs]
    #[arg(long = "symbol", value_name = "SYMBOL")]
    pub symbols: Vec<Symbol>,
    /// Re-fetch each security's full history and replace what is stored.
    #[arg(long)]
    pub full: bool,
}

pub fn run(context: &Context, args: &SyncArgs) -> anyhow::Result<u8> {
    let selection = if args.symbols.is_empty() { Selection::All } else { Selection::Symbols(args.symbols.clone()) };
    let options = SyncOptions { selection, full: args.full, trigger: "cli".to_string() };
    let providers = Providers::from_config(&context.config.providers)?;
    let store = context.create_store()?;
    let progress: Box<dyn SyncProgress> = if context.interactive { Box::new(TerminalProgress::new()) } else { Box::new(LogProgress) };

    let runtime = super::runtime()?;
    let cancel = CancellationToken::new();
    let summary = runtime.block_on(async {
        let ctrl_c = tokio::spawn(cancel_on_ctrl_c(cancel.clone()));
        let result =
            run_sync_with(&context.config, &providers, Arc::new(Mutex::new(store)), &options, context.now, &cancel, progress.as_ref())
                .await;
        ctrl_c.abort();
        result
    });
    let summary = summary?;
    print_summary(&summary)?;
    Ok(if summary.not_synced() == 0 && !summary.cancelled { exit::OK } else { exit::PARTIAL })
}

/// The first Ctrl-C lets the securities being written finish and starts no new one (the
/// database stays consistent either way); a second one stops at once.
async fn cancel_on_ctrl_c(cancel: CancellationToken) {
    if tokio::signal::ctrl_c().await.is_err() {
        return;
    }
    crate::cli::errln!("interrupted: finishing the securities in flight; press Ctrl-C again to stop now");
    cancel.cancel();
    if tokio::signal::ctrl_c().await.is_ok() {
        // Every security's write is one transaction: stopping here loses no stored data.
        std::process::exit(i32::from(exit::PARTIAL));
    }
}

fn print_summary(summary: &SyncSummary) -> anyhow::Result<()> {
    match summary.all_unreachable() {
        Some(line) => crate::cli::errln!("failed: {line}"),
        None => {
            for failure in &summary.failures {
                crate::cli::errln!("failed: {failure}");
            }
            for deferred in &summary.deferred {
                crate::cli::errln!("deferred: {deferred}");
            }
        }
    }
    for fallback in &summary.fell_back {
        crate::cli::errln!("fell back: {fallback}");
    }
    // Offline, the one line above already says every provider is unreachable.
    let offline = summary.all_unreachable().is_some();
    for circuit in summary.circuits.iter().filter(|c| !(offline && c.unreachable)) {
        let state = if circuit.open_at_end { "skipped for the rest of the run" } else { "used again after a probe succeeded" };
        crate::cli::errln!(
            "note: {} failed repeatedly ({}); its circuit opened and it was {state}",
            circuit.provider,
            circuit.last_failure
        );
    }
    outln(&summary_line(summary))?;
    if summary.cancelled {
        crate::cli::errln!("interrupted: {} securities not synced; run `ratingwatch sync` again to complete", summary.not_finished);
    }
    Ok(())
}

/// One line: what was synced, written and what failed.
fn summary_line(summary: &SyncSummary) -> String {
    let mut line = format!(
        "synced {} of {} securities: {} updated, {} bars added ({} written), {} already up to date",
        summary.securities_synced + summary.up_to_date,
        summary.requested,
        summary.securities_updated,
        summary.bars_added,
        summary.bars_written,
        summary.up_to_date,
    );
    if summary.full_histories > 0 {
        line.push_str(&format!(", {} full histories", summary.full_histories));
    }
    if !summary.fell_back.is_empty() {
        line.push_str(&format!(", {} fell back", summary.fell_back.len()));
    }
    if !summary.deferred.is_empty() {
        line.push_str(&format!("; {} deferred", summary.deferred.len()));
    }
    if !summary.failures.is_empty() {
        line.push_str(&format!("; {} failed", summary.failures.len()));
    }
    line.push_str(&format!(" (run {})", summary.run_id));
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::SyncFailure;

    #[test]
    fn summary_line_counts_everything() {
        let failure = SyncFailure { symbol: Symbol::parse("0700.HK").unwrap(), provider: None, reason: "x".into(), unreachable: false };
        let summary = SyncSummary {
            run_id: 7,
            requested: 48,
            securities_synced: 44,
            up_to_date: 2,
            securities_updated: 43,
            bars_added: 120,
            bars_written: 400,
            full_histories: 1,
            failures: vec![failure.clone(); 2],
            deferred: vec![failure.clone()],
            fell_back: vec![failure; 3],
            ..SyncSummary::default()
        };
        assert_eq!(
            summary_line(&summary),
            "synced 46 of 48 securities: 43 updated, 120 bars added (400 written), 2 already up to date, 1 full histories, 3 fell back; 1 deferred; 2 failed (run 7)"
        );
    }
}
