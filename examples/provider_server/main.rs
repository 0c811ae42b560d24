//! A local stand-in for Tencent, Eastmoney and Yahoo: serves daily prices from CSV files in each
//! provider's own wire format, for demos, manual checks and benchmarks without the internet.
//!
//! ```text
//! cargo run --release --example provider_server -- --data DIR [--port 8765] [--latency-ms 0] \
//!     [--fail [PROVIDER:]SYMBOL=MODE ...]
//! ```
//!
//! It listens on 127.0.0.1 only (`--port 0` picks a free port) and prints one line to stdout
//! with the environment variables that point ratingwatch at it, e.g.
//! `RATINGWATCH__PROVIDERS__TENCENT__BASE_URL=http://127.0.0.1:8765 RATINGWATCH__PROVIDERS__EASTMONEY__BASE_URL=… RATINGWATCH__PROVIDERS__YAHOO__BASE_URL=…`
//! so `env $(cargo run … | head -1) ratingwatch sync` works. Every request is logged to stderr
//! as `METHOD PATH?QUERY -> STATUS`. The built-in per-provider rate limits still apply on the
//! client side; for benchmarks add `RATINGWATCH__PROVIDERS__<NAME>__REQUESTS_PER_SECOND=0`.
//!
//! Data: `DIR/<CANONICAL SYMBOL>.csv` (`600941.SH.csv`, `0700.HK.csv`, `MSFT.US.csv`,
//! `000300.SH.csv`, `^HSI.HK.csv`, `USDCNY.FX.csv`) in the import format `date,open,high,low,close,volume[,adj_close]`
//! (FX files may carry only `close`), read once at start with `csv_import::parse_prices`. Volume
//! is in shares. A missing `adj_close` column means `adj_close = close`. Other files are ignored.
//!
//! Endpoints (all on one port, the paths and query parameters the clients in
//! `ratingwatch::providers` send):
//! - Tencent `/appstock/app/fqkline/get` (sh, sz, hk), `/appstock/app/hkfqkline/get` (hk),
//!   `/appstock/app/usfqkline/get` (us) with `param=CODE,day,START,END,COUNT,FQ` and
//!   `/appstock/app/kline/kline` (any code, FX `whUSDCNY`, never adjusted) with
//!   `param=CODE,day,START,END,COUNT`; optional `_var=NAME` prefixes the body with `NAME=`.
//!   Rows `[date, open, close, high, low, volume]` as strings under `day`, `hfqday` or
//!   `qfqday` (indices and FX always `day`), volume in lots for Shanghai and Shenzhen, HK rows
//!   with the trailing `{"cqr":…}` object, at most 640 rows per answer (the latest ones).
//!   Unknown codes answer `{"code":0,"msg":"","data":{}}`.
//! - Eastmoney `/api/qt/stock/kline/get` with `secid`, `klt=101`, `fqt=0|1|2`, `beg`/`end`
//!   (`YYYYMMDD`; `0` or an out-of-range sentinel such as `20500101` means open), `lmt` (the
//!   latest N), `fields2` (column selection, default all of f51…f61) and `cb` (JSONP). Rows are
//!   CSV strings with close third and volume in lots for Shanghai and Shenzhen; unknown
//!   secids answer `rc=102, data=null`.
//! - Yahoo `/v8/finance/chart/{SYMBOL}` with `period1`/`period2` (Unix seconds, bars whose
//!   session OPEN falls in `[period1, period2)`) and `interval=1d`: parallel arrays with
//!   timestamps at 09:30 exchange time (00:00 Europe/London for FX), `meta.exchangeTimezoneName`,
//!   `adjclose`, index and FX volume 0. Unknown symbols answer HTTP 404 with `chart.error`.
//!
//! Symbol spellings: Tencent `sh600941`, `hk00700`, `usMSFT.OQ`, `whUSDCNY`; Eastmoney
//! `1.600941`, `0.300308`, `116.00700`, `105.MSFT`, `120.USDCNYC`, `133.USDCNH`; Yahoo
//! `600941.SS`, `0700.HK`, `MSFT`, `CNY=X`, `HKDCNY=X`. Hong Kong and US indices under the
//! library's own spellings: Tencent `hkHSI` (hk endpoints), `usINX`, `usIXIC`, `usDJI` (us
//! endpoint), Eastmoney `100.HSI`, `100.SPX`, `100.NDX`, `100.DJIA`, Yahoo `^HSI`, `^GSPC`,
//! `^IXIC`, `^DJI` (sent as `%5EHSI`); Yahoo names are read with `providers::from_yahoo_symbol`. A US ticker is served under exactly one
//! venue, so clients have to probe as they do live: the seed report's listings where they trade
//! (MSFT, GOOGL, META, BIDU, NTES on NASDAQ, BABA on NYSE), any other ticker by the sum of its
//! bytes modulo 3 (0 NASDAQ `.OQ`/`105`, 1 NYSE `.N`/`106`, 2 other `.AM`/`107`).
//!
//! Series: raw prices are the CSV's. Back-adjusted (hfq) = `adj_close × close_first / adj_close_first`
//! (equal to the raw close on the file's first row, with the returns of `adj_close`);
//! forward-adjusted (qfq) = `adj_close × close_last / adj_close_last`; open, high and low are
//! scaled by the same daily factor. Yahoo `adjclose` = `adj_close`, `close` = raw (real Yahoo
//! closes are split-adjusted; a file with a split in it will differ there). Numbers keep every
//! digit of the CSV (so a fetch round-trips exactly) but are padded to the provider's usual
//! decimals; lots are not rounded. Eastmoney's amount is `shares × (open + close) / 2`,
//! turnover is `-`. Yahoo `firstTradeDate` is the file's first date.
//!
//! Failure injection, per symbol and optionally per provider (`*` for every symbol; the most
//! specific rule wins): `--fail 600941.SH=429`, `--fail tencent:0700.HK=drop`,
//! `--fail 'eastmoney:*=html'`. Modes: `429` (with `Retry-After: 1`, plain-text body), `500`,
//! `html` (200 with a block page), `empty` (200, no body), `truncated` (200, the real body cut
//! in half), `drop` (the connection is closed without an answer), another status from 400 to
//! 599 (a one-line plain-text body), `unknown` (the provider's own "unknown symbol" answer) and
//! `no-bars` (the provider's own answer with no bars, status 200: what a throttled host sends),
//! `earliest` (Tencent answers a window fuller than a page with its earliest rows, not the
//! latest). `--latency-ms N` delays every answer, failures included.
//!
//! The formats, routing, failure injection and serving live in `server.rs`, behind a `Source`
//! of prices: here the CSV files; `bench_sync` and the integration tests (`tests/it/exchange.rs`, `tests/it/providers.rs`) include the same
//! module with a synthetic price model. The pure parts (request decoding and the `*_body`
//! builders) are tested in `tests.rs` against the real clients: `cargo test --example provider_server`.

mod server;

#[cfg(test)]
mod tests;

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use tokio::net::TcpListener;

use ratingwatch::providers::ProviderName;
use server::{FailRule, ServerState, load_library, parse_fail_rule, serve};

#[derive(Parser, Debug)]
#[command(about = "Serve CSV prices in Tencent, Eastmoney and Yahoo formats on 127.0.0.1")]
struct Args {
    /// Folder of `<CANONICAL SYMBOL>.csv` files (date,open,high,low,close,volume[,adj_close]).
    #[arg(long)]
    data: PathBuf,
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 8765)]
    port: u16,
    /// Delay before every answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Inject a failure: `[PROVIDER:]SYMBOL=MODE`, MODE one of 429, 500 (or another 4xx/5xx), html,
    /// empty, truncated, drop, unknown, no-bars, earliest;
    /// SYMBOL may be `*`. Repeatable.
    #[arg(long = "fail", value_name = "[PROVIDER:]SYMBOL=MODE", value_parser = parse_fail_rule)]
    fail: Vec<FailRule>,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("provider_server: cannot start the async runtime: {error}");
            return std::process::ExitCode::from(2);
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("provider_server: {error:#}");
            std::process::ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    let library = load_library(&args.data)?;
    let listener = TcpListener::bind(("127.0.0.1", args.port))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{}; pick another --port (0 = any free port)", args.port))?;
    let base_url = format!("http://{}", listener.local_addr()?);
    eprintln!(
        "provider_server: {} securities from {} on {base_url}; latency {} ms; {} failure rule(s); Ctrl-C stops",
        library.len(),
        args.data.display(),
        args.latency_ms,
        args.fail.len()
    );
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", env_line(&base_url))?;
    stdout.flush()?;
    drop(stdout);
    let state = Arc::new(ServerState::new(Arc::new(library), args.fail, Duration::from_millis(args.latency_ms)));
    tokio::select! {
        () = serve(listener, state) => {}
        result = tokio::signal::ctrl_c() => result.context("cannot wait for Ctrl-C")?,
    }
    Ok(())
}

/// The environment assignments that point all three providers at `base_url`.
fn env_line(base_url: &str) -> String {
    ProviderName::ALL
        .iter()
        .map(|provider| format!("RATINGWATCH__PROVIDERS__{}__BASE_URL={base_url}", provider.as_str().to_ascii_uppercase()))
        .collect::<Vec<_>>()
        .join(" ")
}
