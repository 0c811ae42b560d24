//! The read-only web front: dashboard pages, the JSON API under `/api/v1/`, `/healthz` and
//! `/metrics`, served by `serve` on the service's own runtime and by `ratingwatch web` alone.
//!
//! Invariants:
//! - Read-only: every database connection here is opened read-only
//!   ([`Store::open_read_only`]) and only GET/HEAD routes exist.
//! - Every answer is computed by the functions the CLI calls ([`questions`]) and written by
//!   the report module's renderers or its JSON serialisation; nothing here computes a number.
//! - Request input becomes validated types ([`params`]) before any lookup; no request path
//!   reaches the file system.
//! - A non-loopback listen address needs a bearer token (`[http] token_env`); start-up is
//!   refused otherwise. The token lives only in the environment.
//! - SQL stays in `store`; blocking database work runs on the blocking pool, on at most
//!   [`READ_CONNECTIONS`] connections at once (a request waits for one without a thread).
//! - Repeated questions are answered from [`cache`], keyed by the database's data version
//!   and the normalised request: never stale, bounded in entries and bytes.

mod cache;
mod error;
mod frame;
mod handlers;
pub mod metrics;
mod pages;
pub mod params;
mod questions;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use tokio_util::sync::CancellationToken;
use tower::ServiceBuilder;
use tower::limit::ConcurrencyLimitLayer;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

use crate::clock::Clock;
use crate::config::Config;
use crate::status::Liveness;
use crate::store::Store;
pub use error::WebError;

/// Requests carry no body (every route is a GET); anything larger is refused with 413.
pub const MAX_REQUEST_BODY_BYTES: usize = 16 * 1024;

/// How many read-only connections answer at once (and so how many blocking threads and
/// SQLite page caches the web server keeps): more than the machine's cores only queues the
/// work in the kernel instead of here, and every connection and thread keeps its memory.
pub const READ_CONNECTIONS: usize = 4;

/// The JSON API's endpoints under `/api/v1`, each with the command that prints the same
/// body: what `/api/v1` answers and the `/api` page lists (README's API table says the same).
pub const API_ENDPOINTS: &[(&str, &str)] = &[
    ("/api/v1/reports", "ratingwatch reports list --format json"),
    ("/api/v1/ledger?as_of=", "ratingwatch verdict --all --as-of D --format json"),
    ("/api/v1/reports/{id}/verdict?as_of=&currency=cny|local", "ratingwatch verdict ID --as-of D --format json"),
    ("/api/v1/reports/{id}/weeks", "the archive: [{week, week_start, week_end, written_at}], newest first"),
    ("/api/v1/reports/{id}/weeks/{YYYY-Www}?currency=", "ratingwatch report --report ID --week W --format json"),
    ("/api/v1/status", "ratingwatch status --format json"),
    ("/api/v1/watchlist?report=", "ratingwatch watchlist list [--report ID] --format json"),
    ("/api/v1/securities/{symbol}/prices?from=&to=", "the stored bars, as export prices writes them"),
];

/// Pages reference only their own stylesheet; no script runs anywhere.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// How the server runs: inside `serve` (with the scheduler's liveness) or alone.
#[derive(Clone)]
pub enum Mode {
    Service(Liveness),
    Standalone,
}

#[derive(Debug, thiserror::Error)]
pub enum WebStartError {
    #[error(
        "config key `http.token_env` is required to listen on {listen}, which is not a loopback address: set it to the name \
         of an environment variable holding a bearer token (example: token_env = \"RATINGWATCH_HTTP_TOKEN\"), or listen on 127.0.0.1"
    )]
    TokenRequired { listen: SocketAddr },
    #[error("config key `http.token_env` names the environment variable {var}, which is not set or empty: export the bearer token in it")]
    TokenMissing { var: String },
    #[error("config key `http.listen`: cannot listen on {listen}: {source}")]
    Bind { listen: SocketAddr, source: std::io::Error },
}

/// Reads the bearer token the config asks for; refuses a non-loopback address without one.
/// `lookup` reads an environment variable (injected for tests).
pub fn resolve_token(config: &Config, lookup: impl Fn(&str) -> Option<String>) -> Result<Option<String>, WebStartError> {
    let listen = config.http.listen;
    match &config.http.token_env {
        Some(var) => match lookup(var).filter(|token| !token.trim().is_empty()) {
            Some(token) => Ok(Some(token.trim().to_string())),
            None => Err(WebStartError::TokenMissing { var: var.clone() }),
        },
        None if listen.ip().is_loopback() => Ok(None),
        None => Err(WebStartError::TokenRequired { listen }),
    }
}

/// Everything a handler needs.
pub struct WebState {
    pub config: Config,
    pub clock: Arc<dyn Clock>,
    pub mode: Mode,
    token: Option<String>,
    pool: ReadPool,
    bar_count: metrics::BarCountCache,
    cache: cache::AnswerCache,
}

impl WebState {
    pub fn new(config: Config, clock: Arc<dyn Clock>, mode: Mode, token: Option<String>) -> WebState {
        let pool = ReadPool {
            path: config.database.path.clone(),
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(tokio::sync::Semaphore::new(READ_CONNECTIONS)),
            version: Mutex::new(VersionConnection { store: None, epoch: 0 }),
        };
        let cache = cache::AnswerCache::new(cache::MAX_ENTRIES, cache::MAX_BYTES);
        WebState { config, clock, mode, token, pool, bar_count: metrics::BarCountCache::default(), cache }
    }

    /// The answer cache's hits and misses so far (tests and benchmarks read them).
    pub fn cache_counts(&self) -> (u64, u64) {
        self.cache.counts()
    }

    /// Today in the configured time zone: the default as-of date, as on the command line.
    pub fn today(&self) -> chrono::NaiveDate {
        self.clock.now().with_timezone(&self.config.timezone()).date_naive()
    }

    /// Runs `f` on a read-only connection on the blocking pool.
    pub async fn db<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Store, &WebState) -> Result<T, WebError> + Send + 'static,
    ) -> Result<T, WebError> {
        let permit = self.pool.permits.clone().acquire_owned().await.map_err(WebError::internal)?;
        let state = self.clone();
        tokio::task::spawn_blocking(move || {
            let result = state.pool.with(|store| f(store, &state));
            drop(permit);
            result
        })
        .await
        .map_err(|error| WebError::internal(format!("a database task failed: {error}")))?
    }

    /// The database's version now, for the answer cache; `None` when it cannot be read
    /// (the answer is then computed and not kept). Read in place, not on the blocking pool:
    /// `PRAGMA data_version` reads a counter in the WAL index (shared memory), no page of
    /// the file, in microseconds; a hop to the pool per request cost more than the answer
    /// (and under 16 connections grew the pool to 60 threads).
    fn data_version(&self) -> Option<cache::Version> {
        self.pool.version()
    }
}

/// Idle read-only connections, reused so each request skips opening the file and checking
/// its schema. `permits` bounds how many are in use, and so how many exist, to
/// [`READ_CONNECTIONS`].
struct ReadPool {
    path: PathBuf,
    idle: Mutex<Vec<Store>>,
    permits: Arc<tokio::sync::Semaphore>,
    version: Mutex<VersionConnection>,
}

/// The one connection whose `PRAGMA data_version` versions the answer cache (numbers from
/// different connections are not comparable, so it is always this one). It only ever reads,
/// so every commit, by the service's sync in this process or by another process, is
/// another connection's and changes its number.
struct VersionConnection {
    store: Option<Store>,
    /// Bumped at every (re)open: a reopened connection counts from scratch.
    epoch: u64,
}

impl ReadPool {
    fn with<T>(&self, f: impl FnOnce(&Store) -> Result<T, WebError>) -> Result<T, WebError> {
        let pooled = self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner).pop();
        let store = match pooled {
            Some(store) => store,
            None => Store::open_read_only(&self.path).map_err(|error| {
                tracing::warn!(%error, "the web server cannot open the database");
                WebError::Unavailable("the database is not available yet (first start, or being migrated); try again shortly".to_string())
            })?,
        };
        let result = f(&store);
        self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(store);
        result
    }

    fn version(&self) -> Option<cache::Version> {
        let mut connection = self.version.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if connection.store.is_none() {
            connection.store = Some(Store::open_read_only(&self.path).ok()?);
            connection.epoch += 1;
        }
        let read = connection.store.as_ref().map(Store::data_version)?;
        match read {
            Ok(data) => Some(cache::Version { epoch: connection.epoch, data }),
            Err(error) => {
                tracing::warn!(%error, "cannot read the database's data version; answering without the cache");
                connection.store = None;
                None
            }
        }
    }
}

/// The routes and their layers.
pub fn router(state: Arc<WebState>) -> Router {
    use handlers::*;
    let timeout = Duration::from_secs(state.config.http.request_timeout_secs);
    let limit = state.config.http.max_concurrent_requests;
    let routes = Router::new()
        .route("/", get(ledger_page))
        .route("/ledger", get(ledger_page))
        .route("/{page}", get(top_level_download))
        .route("/reports", get(reports_page))
        .route("/reports/{id}", get(verdict_page))
        .route("/reports/{id}/weeks", get(archive_page))
        .route("/reports/{id}/{file}", get(report_file))
        .route("/reports/{id}/weeks/{week}", get(week_page))
        .route("/ratings", get(ratings_page))
        .route("/brokers", get(brokers_page))
        .route("/brokers/{name}", get(broker_page))
        .route("/status", get(status_page))
        .route("/securities/{symbol}", get(security_page))
        .route("/api", get(api_page))
        .route("/api/v1", get(api_index))
        .route("/favicon.ico", get(favicon))
        .route("/favicon.svg", get(favicon))
        .route("/assets/style.css", get(stylesheet))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .route("/api/v1/reports", get(api_reports))
        .route("/api/v1/ledger", get(api_ledger))
        .route("/api/v1/reports/{id}/verdict", get(api_verdict))
        .route("/api/v1/reports/{id}/weeks", get(api_archive))
        .route("/api/v1/reports/{id}/weeks/{week}", get(api_week))
        .route("/api/v1/status", get(api_status))
        .route("/api/v1/watchlist", get(api_watchlist))
        .route("/api/v1/ratings", get(api_ratings))
        .route("/api/v1/brokers", get(api_brokers))
        .route("/api/v1/securities/{symbol}/prices", get(api_prices))
        .route_layer(middleware::from_fn(track))
        .fallback(not_found)
        .with_state(state.clone())
        .layer(middleware::from_fn_with_state(state, authorize));
    routes.layer(
        ServiceBuilder::new()
            .layer(SetResponseHeaderLayer::overriding(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY)))
            .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
            .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
            .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
            .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout))
            .layer(ConcurrencyLimitLayer::new(limit))
            .layer(RequestBodyLimitLayer::new(MAX_REQUEST_BODY_BYTES))
            .layer(CompressionLayer::new()),
    )
}

/// Counts each routed request by its route pattern (never the raw path) and status.
async fn track(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_string(), |path| path.as_str().to_string());
    let started = Instant::now();
    let response = next.run(request).await;
    metrics::record_request(&route, response.status().as_u16(), started.elapsed());
    response
}

/// With a token configured, every request must carry `Authorization: Bearer <token>`.
async fn authorize(State(state): State<Arc<WebState>>, request: Request, next: Next) -> Response {
    let Some(token) = &state.token else { return next.run(request).await };
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        // RFC 7235: the scheme is case-insensitive (`bearer`, `BEARER` are `Bearer`).
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("Bearer"))
        .map(|(_, presented)| presented.trim());
    if presented.is_some_and(|presented| constant_time_eq(presented.as_bytes(), token.as_bytes())) {
        return next.run(request).await;
    }
    metrics::record_request("unauthorized", 401, Duration::ZERO);
    let mut response =
        error::json_error(&WebError::Unauthorized("this server needs `Authorization: Bearer <token>` (see [http] token_env)".to_string()));
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"ratingwatch\""));
    response
}

/// Compares without stopping at the first differing byte, so timing does not reveal how
/// much of a guessed token was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A bound listener and its router, ready to serve.
pub struct WebServer {
    listener: tokio::net::TcpListener,
    router: Router,
    state: Arc<WebState>,
}

impl WebServer {
    /// Checks `[http]` (token, address) and binds the listener, so a bad config or a busy
    /// port stops the start-up with the key named.
    pub async fn bind(state: WebState) -> Result<WebServer, WebStartError> {
        let listen = state.config.http.listen;
        if state.token.is_none() && !listen.ip().is_loopback() {
            return Err(WebStartError::TokenRequired { listen });
        }
        let listener = tokio::net::TcpListener::bind(listen).await.map_err(|source| WebStartError::Bind { listen, source })?;
        metrics::handle();
        let state = Arc::new(state);
        Ok(WebServer { listener, router: router(state.clone()), state })
    }

    /// The state the handlers share (tests read the answer cache's counts from it).
    pub fn state(&self) -> Arc<WebState> {
        self.state.clone()
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` fires, then lets requests in flight finish for up to `grace`.
    pub async fn run(self, shutdown: CancellationToken, grace: Duration) -> std::io::Result<()> {
        let address = self.listener.local_addr()?;
        tracing::info!(address = %address, "web server listening on http://{address}");
        tokio::spawn(metrics::upkeep(shutdown.clone()));
        let stop = shutdown.clone();
        let serve = axum::serve(self.listener, self.router).with_graceful_shutdown(async move { stop.cancelled().await });
        tokio::select! {
            result = serve => result,
            _ = async { shutdown.cancelled().await; tokio::time::sleep(grace).await } => {
                tracing::warn!(grace_secs = grace.as_secs(), "web requests still running after the grace period; closing them");
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(listen: &str, token_env: Option<&str>) -> Config {
        let mut config = Config::default();
        config.http.listen = listen.parse().unwrap();
        config.http.token_env = token_env.map(str::to_string);
        config
    }

    #[test]
    fn non_loopback_addresses_need_a_token_from_the_environment() {
        let none = |_: &str| None;
        let some = |name: &str| (name == "RW_TOKEN").then(|| "s3cret".to_string());
        assert_eq!(resolve_token(&config("127.0.0.1:8321", None), none).unwrap(), None);
        assert_eq!(resolve_token(&config("[::1]:8321", None), none).unwrap(), None);
        let error = resolve_token(&config("0.0.0.0:8321", None), none).unwrap_err().to_string();
        assert!(error.contains("http.token_env") && error.contains("0.0.0.0:8321"), "{error}");
        let error = resolve_token(&config("0.0.0.0:8321", Some("RW_TOKEN")), none).unwrap_err().to_string();
        assert!(error.contains("http.token_env") && error.contains("RW_TOKEN"), "{error}");
        assert!(!error.contains("s3cret"));
        assert_eq!(resolve_token(&config("0.0.0.0:8321", Some("RW_TOKEN")), some).unwrap().as_deref(), Some("s3cret"));
    }

    #[test]
    fn token_comparison_needs_every_byte() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
    }
}
