//! How a run reports progress: a bar on a terminal, log lines otherwise (the service).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{SecurityOutcome, SecurityResult, SyncSummary};

/// Receives a run's progress. Called from the run's own task; implementations must not block.
pub trait SyncProgress: Send + Sync {
    /// The run starts with `total` securities selected.
    fn started(&self, total: usize);
    /// One security is done (synced, up to date, failed or cancelled).
    fn security_done(&self, result: &SecurityResult);
    /// The run is over and recorded.
    fn finished(&self, summary: &SyncSummary);
}

/// One `tracing` line per security and one for the run: for the service and for pipes.
#[derive(Clone, Copy, Debug, Default)]
pub struct LogProgress;

impl SyncProgress for LogProgress {
    fn started(&self, total: usize) {
        tracing::info!(securities = total, "sync started");
    }

    fn security_done(&self, result: &SecurityResult) {
        let symbol = result.symbol.to_string();
        match &result.outcome {
            SecurityOutcome::Synced(synced) => tracing::info!(
                symbol,
                provider = %synced.provider,
                added = synced.stats.added,
                replaced = synced.stats.replaced,
                full_history = synced.full_history,
                refetched = synced.refetch.map(|r| r.to_string()),
                "synced"
            ),
            SecurityOutcome::UpToDate => tracing::debug!(symbol, "already up to date"),
            // Unreachable hosts are reported once for the whole run (see `finished`).
            SecurityOutcome::Failed(failure) | SecurityOutcome::Deferred(failure) if failure.unreachable => {
                tracing::debug!(symbol, provider = failure.provider.map(|p| p.as_str()), reason = failure.reason.as_str(), "not synced")
            }
            SecurityOutcome::Deferred(failure) => {
                tracing::warn!(symbol, provider = failure.provider.map(|p| p.as_str()), reason = failure.reason.as_str(), "sync deferred")
            }
            SecurityOutcome::Failed(failure) => {
                tracing::warn!(symbol, provider = failure.provider.map(|p| p.as_str()), reason = failure.reason.as_str(), "sync failed")
            }
            SecurityOutcome::Cancelled => tracing::info!(symbol, "cancelled before it finished"),
        }
    }

    fn finished(&self, summary: &SyncSummary) {
        if let Some(line) = summary.all_unreachable() {
            tracing::warn!("{line}");
        } else {
            for circuit in summary.circuits.iter().filter(|c| c.unreachable) {
                tracing::warn!(provider = %circuit.provider, reason = circuit.last_failure.as_str(), "provider unreachable");
            }
            let unreachable: Vec<String> =
                summary.failures.iter().chain(&summary.deferred).filter(|f| f.unreachable).map(|f| f.symbol.to_string()).collect();
            if !unreachable.is_empty() {
                tracing::warn!(symbols = unreachable.join(", ").as_str(), "not synced: every provider tried was unreachable");
            }
        }
        tracing::info!(
            run_id = summary.run_id,
            securities = summary.requested,
            updated = summary.securities_updated,
            bars_written = summary.bars_written,
            failures = summary.failures.len(),
            deferred = summary.deferred.len(),
            fell_back = summary.fell_back.len(),
            cancelled = summary.cancelled,
            "sync finished"
        );
    }
}

/// A progress bar on stderr, for `ratingwatch sync` on a terminal. Failures are printed above
/// the bar as they happen.
pub struct TerminalProgress {
    bar: ProgressBar,
}

impl TerminalProgress {
    pub fn new() -> TerminalProgress {
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        TerminalProgress { bar }
    }
}

impl Default for TerminalProgress {
    fn default() -> Self {
        TerminalProgress::new()
    }
}

impl SyncProgress for TerminalProgress {
    fn started(&self, total: usize) {
        self.bar.set_length(total as u64);
        self.bar.enable_steady_tick(std::time::Duration::from_millis(200));
    }

    fn security_done(&self, result: &SecurityResult) {
        match &result.outcome {
            // Printed once at the end instead (see `cli::sync`).
            SecurityOutcome::Failed(failure) | SecurityOutcome::Deferred(failure) if failure.unreachable => {}
            SecurityOutcome::Failed(failure) => self.bar.println(format!("failed: {failure}")),
            SecurityOutcome::Deferred(failure) => self.bar.println(format!("deferred: {failure}")),
            _ => {}
        }
        self.bar.set_message(result.symbol.to_string());
        self.bar.inc(1);
    }

    fn finished(&self, _summary: &SyncSummary) {
        self.bar.finish_and_clear();
    }
}
