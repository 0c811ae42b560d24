//! `ratingwatch web [--listen ADDR]`: the dashboard, API, `/healthz` and `/metrics` alone,
//! without the scheduler, over an existing database (read-only). SIGINT/SIGTERM stop it.

use std::sync::Arc;

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;

use super::serve::spawn_signal_listener;
use super::{Context, exit};
use crate::clock::SystemClock;
use crate::store::Store;
use crate::web::{self, Mode, WebServer, WebState};

#[derive(clap::Args, Debug)]
pub struct WebArgs {
    /// Listen on this address and port [default: [http] listen, 127.0.0.1:8321]
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<std::net::SocketAddr>,
}

pub fn run(context: &Context, args: &WebArgs) -> anyhow::Result<u8> {
    let mut config = context.config.clone();
    if let Some(listen) = &args.listen {
        config.http.listen = *listen;
        config.validate()?;
    }
    let path = &config.database.path;
    if !path.is_file() {
        anyhow::bail!(
            "no database at {}; `ratingwatch web` shows an existing one: run `ratingwatch init` and import or sync prices first",
            path.display()
        );
    }
    // Checked once here so a database from an older version fails at start, not per request.
    Store::open_read_only(path)?;
    let token = web::resolve_token(&config, |name| std::env::var(name).ok())?;
    let grace = std::time::Duration::from_secs(config.service.grace_period_secs);
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let shutdown = CancellationToken::new();
        spawn_signal_listener(shutdown.clone())?;
        super::memory::spawn_release_task(shutdown.clone());
        let server = WebServer::bind(WebState::new(config, Arc::new(SystemClock), Mode::Standalone, token)).await?;
        server.run(shutdown, grace).await.context("the web server failed")?;
        Ok::<_, anyhow::Error>(())
    })?;
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    Ok(exit::OK)
}
