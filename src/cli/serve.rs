//! `ratingwatch serve`: the background service in the foreground. SIGINT and SIGTERM stop
//! it cleanly (exit 0); logs go to stderr, weekly summaries and verdicts to stdout.

use std::sync::Arc;

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;

use super::{Context, exit};
use crate::service::{self, LibraryJobs, Output, ServiceOptions, SystemClock};

#[derive(clap::Args, Debug)]
pub struct ServeArgs {}

pub fn run(context: &Context, _args: &ServeArgs) -> anyhow::Result<u8> {
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let shutdown = CancellationToken::new();
        spawn_signal_listener(shutdown.clone())?;
        let jobs = LibraryJobs::new(context.config.clone(), Output::stdout())?;
        service::run(&context.config, Arc::new(jobs), ServiceOptions::default(), shutdown, Arc::new(SystemClock)).await?;
        Ok::<_, anyhow::Error>(())
    })?;
    // Blocking tasks abandoned after the grace period must not hold the exit up.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    Ok(exit::OK)
}

/// Cancels `shutdown` on the first SIGINT or SIGTERM. The handlers are installed before
/// anything else starts, so an early signal is never lost to the default (kill) action.
fn spawn_signal_listener(shutdown: CancellationToken) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
    tokio::spawn(async move {
        let name = tokio::select! {
            _ = terminate.recv() => "SIGTERM",
            _ = interrupt.recv() => "SIGINT",
        };
        tracing::info!(signal = name, "shutting down");
        shutdown.cancel();
    });
    Ok(())
}
