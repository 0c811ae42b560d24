//! `ratingwatch serve`: the background service in the foreground. SIGINT and SIGTERM stop
//! it cleanly (exit 0); logs go to stderr, weekly summaries and verdicts to stdout. The web
//! dashboard (`[http]`) runs on the same runtime and stops with the service.

use std::sync::Arc;

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;

use super::{Context, exit};
use crate::clock::SystemClock;
use crate::lock::InstanceLock;
use crate::schedule::Schedules;
use crate::service::{self, LibraryJobs, Output, ServiceOptions};
use crate::status::Liveness;
use crate::web::{self, Mode, WebServer, WebState};

#[derive(clap::Args, Debug)]
pub struct ServeArgs {}

pub fn run(context: &Context, _args: &ServeArgs) -> anyhow::Result<u8> {
    let config = &context.config;
    // Config errors first, before anything binds or starts.
    Schedules::from_config(&config.schedule)?;
    let token = if config.http.enabled { web::resolve_token(config, |name| std::env::var(name).ok())? } else { None };
    let grace = std::time::Duration::from_secs(config.service.grace_period_secs);
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let shutdown = CancellationToken::new();
        spawn_signal_listener(shutdown.clone())?;
        super::memory::spawn_release_task(shutdown.clone());
        let liveness = Liveness::new();
        // A second `serve` on this database must report the first one's pid, not a busy
        // port: the web server binds only when no service holds the database.
        let web = if config.http.enabled && !InstanceLock::is_held(&config.database.path) {
            let state = WebState::new(config.clone(), Arc::new(SystemClock), Mode::Service(liveness.clone()), token);
            let server = WebServer::bind(state).await?;
            Some(tokio::spawn(server.run(shutdown.clone(), grace)))
        } else {
            None
        };
        let jobs = LibraryJobs::new(config.clone(), Output::stdout())?;
        let result =
            service::run_observed(config, Arc::new(jobs), ServiceOptions::default(), shutdown.clone(), Arc::new(SystemClock), liveness)
                .await;
        // The service has stopped (on a signal, or failing to start): the web server stops with it.
        shutdown.cancel();
        if let Some(web) = web {
            match web.await {
                Ok(Err(error)) => tracing::warn!(%error, "the web server stopped with an error"),
                Err(error) => tracing::warn!(%error, "the web server task failed"),
                Ok(Ok(())) => {}
            }
        }
        result?;
        Ok::<_, anyhow::Error>(())
    })?;
    // Blocking tasks abandoned after the grace period must not hold the exit up.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    Ok(exit::OK)
}

/// Cancels `shutdown` on the first SIGINT or SIGTERM. The handlers are installed before
/// anything else starts, so an early signal is never lost to the default (kill) action.
pub(super) fn spawn_signal_listener(shutdown: CancellationToken) -> anyhow::Result<()> {
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
