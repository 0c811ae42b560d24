//! A fake exchange for the `sync` and `service` tests (the real provider clients and the real
//! binary run against it): a synthetic price model served on 127.0.0.1 by the provider server
//! example's own module (`examples/provider_server/server.rs`), so the wire formats, routing and
//! failure injection are the ones `cargo run --example provider_server` serves from CSV files.
//!
//! The exchange's prices follow a formula, so a test can say what the server sent for any
//! symbol and date without fixture files per symbol: on weekday `n` (days since 0001-01-01),
//! the raw close is `base + 0.03 × (n mod 41)` with `base` in whole multiples of 0.03 from the
//! symbol's name, open/high/low sit 0.03/0.06/0.09 around it, the back-adjusted (hfq) prices are
//! three times the formula's, and Yahoo's `adjclose` is the raw close times a factor the test
//! can change (a dividend re-bases it). Volume is `1000 + n mod 7` lots of 100 shares in
//! Shanghai and Shenzhen (Tencent and Eastmoney send lots, Yahoo shares), shares elsewhere. A symbol may have a 10送5 bonus-share ex-date: from
//! that day the raw prices are two thirds of the formula while hfq carries on unchanged.
//! A session is only served once it has closed at the exchange's `now`.

#![allow(dead_code)]

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;

use ratingwatch::prices::Bar;
use ratingwatch::providers::ProviderName;
use ratingwatch::symbol::{Market, Symbol};

/// How the exchange misbehaves for one provider and symbol: the provider server's failure modes
/// (`Unknown`, `Status(code)`, `Html`, `EmptySeries`, …).
pub(crate) use crate::provider_server::FailMode as Fault;
use crate::provider_server::{FailRule, RequestLog, Rules, Security, ServerState, Source, spawn};

pub fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

pub fn symbol(text: &str) -> Symbol {
    Symbol::parse(text).unwrap()
}

/// One day's prices in thousandths, so the decimal strings sent and the `f64`s expected agree exactly.
#[derive(Clone, Copy)]
pub struct Quote {
    open: i64,
    high: i64,
    low: i64,
    close: i64,
    /// The formula's prices before any bonus shares (back-adjusted = three times these).
    unadjusted: [i64; 4],
    /// Shares.
    volume: i64,
}

pub fn price(milli: i64) -> f64 {
    milli as f64 / 1000.0
}

/// Yahoo's `adjclose`: the close times `factor`, to four decimals (a short decimal, so JSON
/// parsing gives back exactly this `f64`).
pub fn adjclose(close_milli: i64, factor: f64) -> f64 {
    (close_milli as f64 * factor * 10.0).round() / 10_000.0
}

/// The first session the exchange has (every test's history starts later).
const FIRST_DAY: &str = "2021-01-04";

pub struct ExchangeState {
    pub now: DateTime<Utc>,
    /// Ex-dates of 10送5 bonus shares.
    pub bonus: HashMap<Symbol, NaiveDate>,
    /// Yahoo's `adjclose` = close × this factor (default 0.97).
    pub yahoo_factor: HashMap<Symbol, f64>,
}

#[derive(Clone)]
pub struct Exchange {
    pub state: Arc<Mutex<ExchangeState>>,
    /// The server's failure rules, each with how many more requests it applies to.
    faults: Rules,
    /// The server's request log: provider and `PATH?QUERY`, in arrival order.
    log: RequestLog,
}

/// The exchange-local time a daily session has closed (FX: a London day's bar at 23:00 London).
pub fn session(symbol: &Symbol) -> (Tz, NaiveTime) {
    let hm = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
    match symbol.market() {
        Market::Sh | Market::Sz => (chrono_tz::Asia::Shanghai, hm(15, 0)),
        Market::Hk => (chrono_tz::Asia::Hong_Kong, hm(16, 0)),
        Market::Us => (chrono_tz::America::New_York, hm(16, 0)),
        Market::Fx => (chrono_tz::Europe::London, hm(23, 0)),
    }
}

impl Exchange {
    pub fn new(now: DateTime<Utc>) -> Exchange {
        Exchange {
            state: Arc::new(Mutex::new(ExchangeState { now, bonus: HashMap::new(), yahoo_factor: HashMap::new() })),
            faults: Arc::default(),
            log: Arc::default(),
        }
    }

    pub fn set_now(&self, now: DateTime<Utc>) {
        self.state.lock().unwrap().now = now;
    }

    fn add_fault(&self, provider: ProviderName, symbol_text: &str, mode: Fault, times: Option<usize>) {
        let rule = FailRule { provider: Some(provider), symbol: Some(symbol(symbol_text)), mode };
        let mut faults = self.faults.lock().unwrap();
        faults.retain(|(old, _)| (old.provider, &old.symbol) != (rule.provider, &rule.symbol));
        faults.push((rule, times));
    }

    pub fn fault(&self, provider: ProviderName, symbol_text: &str, fault: Fault) {
        self.add_fault(provider, symbol_text, fault, None);
    }

    /// A fault for the next request only.
    pub fn fault_once(&self, provider: ProviderName, symbol_text: &str, fault: Fault) {
        self.add_fault(provider, symbol_text, fault, Some(1));
    }

    pub fn clear_faults(&self) {
        self.faults.lock().unwrap().clear();
    }

    pub fn take_log(&self) -> Vec<(ProviderName, String)> {
        std::mem::take(&mut self.log.lock().unwrap())
    }

    /// The formula's quote of `symbol` on `day`.
    pub fn quote(&self, symbol: &Symbol, day: NaiveDate) -> Quote {
        let name_sum: i64 = symbol.to_string().bytes().map(i64::from).sum();
        // A base between 3.00 and 602.97 in steps of 0.03 (= 30 thousandths).
        let base = 30 * (100 + name_sum * 7 % 20_000);
        let formula = base + 30 * i64::from(day.num_days_from_ce() % 41);
        let after_bonus = self.state.lock().unwrap().bonus.get(symbol).is_some_and(|ex| day >= *ex);
        // 10送5: every share became 1.5, so the price as traded is two thirds of the formula.
        let scale = |milli: i64| if after_bonus { milli * 2 / 3 } else { milli };
        let unadjusted = [formula - 30, formula + 60, formula - 90, formula];
        let lots = 1000 + i64::from(day.num_days_from_ce() % 7);
        let volume = if matches!(symbol.market(), Market::Sh | Market::Sz) { lots * 100 } else { lots };
        Quote {
            open: scale(unadjusted[0]),
            high: scale(unadjusted[1]),
            low: scale(unadjusted[2]),
            close: scale(formula),
            unadjusted,
            volume,
        }
    }

    /// Weekdays in `[from, to]` whose session has closed by the exchange's `now`.
    pub fn sessions(&self, symbol: &Symbol, from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
        let (zone, close) = session(symbol);
        let now = self.state.lock().unwrap().now.with_timezone(&zone);
        let last_closed = if now.time() >= close { now.date_naive() } else { now.date_naive().pred_opt().unwrap() };
        from.iter_days().take_while(|d| *d <= to.min(last_closed)).filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)).collect()
    }

    pub fn yahoo_factor(&self, symbol: &Symbol) -> f64 {
        self.state.lock().unwrap().yahoo_factor.get(symbol).copied().unwrap_or(0.97)
    }

    /// What a sync through `provider` must store for `symbol` over `[from, to]`: the raw prices,
    /// volume in shares (the clients multiply lots by 100), and the provider's adjusted close
    /// (hfq for Tencent and Eastmoney, `adjclose` for Yahoo, the close itself for indices).
    pub fn expected(&self, provider: ProviderName, symbol_text: &str, from: &str, to: &str) -> Vec<Bar> {
        let symbol = symbol(symbol_text);
        self.sessions(&symbol, date(from), date(to))
            .into_iter()
            .map(|day| {
                let q = self.quote(&symbol, day);
                if symbol.is_fx() {
                    return Bar::close_only(day, price(q.close));
                }
                let adj_close = match provider {
                    _ if symbol.is_index() => price(q.close),
                    ProviderName::Yahoo => adjclose(q.close, self.yahoo_factor(&symbol)),
                    ProviderName::Tencent | ProviderName::Eastmoney => price(3 * q.unadjusted[3]),
                };
                // Yahoo reports no volume for an index, nor does any provider for a Hong Kong or US one.
                let no_volume =
                    symbol.is_index() && (provider == ProviderName::Yahoo || matches!(symbol.market(), Market::Hk | Market::Us));
                let volume = if no_volume { None } else { Some(q.volume as f64) };
                Bar {
                    date: day,
                    open: Some(price(q.open)),
                    high: Some(price(q.high)),
                    low: Some(price(q.low)),
                    close: price(q.close),
                    volume,
                    adj_close,
                }
            })
            .collect()
    }
}

/// The model as the provider server's source of prices: every session from [`FIRST_DAY`] that
/// has closed at `now`, for any symbol.
impl Source for Exchange {
    fn security(&self, symbol: &Symbol) -> Option<Cow<'_, Security>> {
        let days = self.sessions(symbol, date(FIRST_DAY), NaiveDate::MAX);
        let factor = self.yahoo_factor(symbol);
        let (mut raw, mut hfq) = (Vec::with_capacity(days.len()), Vec::with_capacity(days.len()));
        for day in days {
            let q = self.quote(symbol, day);
            if symbol.is_fx() {
                raw.push(Bar::close_only(day, price(q.close)));
                continue;
            }
            let [open, high, low, close] = q.unadjusted.map(|milli| price(3 * milli));
            raw.push(Bar {
                date: day,
                open: Some(price(q.open)),
                high: Some(price(q.high)),
                low: Some(price(q.low)),
                close: price(q.close),
                volume: Some(q.volume as f64),
                adj_close: adjclose(q.close, factor),
            });
            hfq.push(Bar {
                date: day,
                open: Some(open),
                high: Some(high),
                low: Some(low),
                close,
                volume: Some(q.volume as f64),
                adj_close: close,
            });
        }
        // The model has no forward-adjusted series (the clients never ask for one).
        Some(Cow::Owned(Security { symbol: symbol.clone(), raw, hfq, qfq: Vec::new() }))
    }
}

/// The base URL each provider's client is pointed at (one server answers all three).
pub struct Endpoint(String);

impl Endpoint {
    pub fn uri(&self) -> String {
        self.0.clone()
    }
}

pub struct Servers {
    pub tencent: Endpoint,
    pub eastmoney: Endpoint,
    pub yahoo: Endpoint,
}

pub async fn start(exchange: &Exchange) -> Servers {
    start_with(exchange, Duration::ZERO, None).await
}

/// Starts the provider server for `exchange` on its own thread and runtime (so a test that
/// blocks its own runtime on the real binary is still answered). Every answer waits `delay`;
/// `arrivals` is told of each request as it arrives.
pub async fn start_with(exchange: &Exchange, delay: Duration, arrivals: Option<mpsc::Sender<()>>) -> Servers {
    let base_url = spawn(ServerState {
        source: Arc::new(exchange.clone()),
        rules: exchange.faults.clone(),
        latency: delay,
        log: exchange.log.clone(),
        arrivals,
        quiet: false,
    });
    Servers { tencent: Endpoint(base_url.clone()), eastmoney: Endpoint(base_url.clone()), yahoo: Endpoint(base_url) }
}
