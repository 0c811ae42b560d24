//! A fake exchange on 127.0.0.1 that speaks Tencent's, Eastmoney's and Yahoo's formats for any
//! symbol, shared by the `sync` and `service` tests (the real provider clients and the real
//! binary run against it).
//!
//! The exchange's prices follow a formula, so a test can say what the server sent for any
//! symbol and date without fixture files per symbol: on weekday `n` (days since 0001-01-01),
//! the raw close is `base + 0.03 × (n mod 41)` with `base` in whole multiples of 0.03 from the
//! symbol's name, open/high/low sit 0.01/0.02/0.03 around it, the back-adjusted (hfq) close is
//! three times the raw close, and Yahoo's `adjclose` is the raw close times a factor the test
//! can change (a dividend re-bases it). A symbol may have a 10送5 bonus-share ex-date: from
//! that day the raw prices are two thirds of the formula while hfq carries on unchanged.
//! A session is only served once it has closed at the exchange's `now`.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde_json::json;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use ratingwatch::prices::Bar;
use ratingwatch::providers::ProviderName;
use ratingwatch::symbol::{Market, Symbol};

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
    hfq_close: i64,
    /// Lots for Shanghai/Shenzhen, shares elsewhere (as the vendors send them).
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

pub fn text(milli: i64) -> String {
    format!("{}.{:03}", milli / 1000, milli % 1000)
}

/// How the exchange misbehaves for one provider and symbol.
#[derive(Clone, Copy, Debug)]
pub enum Fault {
    /// The provider's own "unknown symbol" answer.
    Unknown,
    /// This HTTP status with an empty JSON object.
    Status(u16),
    /// A block page with status 200.
    Html,
    /// The provider's own "no bars" answer with status 200 (Tencent `day: []`, Eastmoney
    /// `klines: []`, a Yahoo chart without timestamps): what a throttled host sends.
    EmptySeries,
}

pub struct ExchangeState {
    pub now: DateTime<Utc>,
    /// Faults and how many requests each still applies to (`None`: every one).
    pub faults: HashMap<(ProviderName, Symbol), (Fault, Option<usize>)>,
    /// Ex-dates of 10送5 bonus shares.
    pub bonus: HashMap<Symbol, NaiveDate>,
    /// Yahoo's `adjclose` = close × this factor (default 0.97).
    pub yahoo_factor: HashMap<Symbol, f64>,
    /// Every request, in arrival order.
    pub log: Vec<(ProviderName, String)>,
}

#[derive(Clone)]
pub struct Exchange {
    pub state: Arc<Mutex<ExchangeState>>,
}

/// The exchange-local time a daily session has closed (FX: a London day's bar at 23:00 London).
pub fn session(symbol: &Symbol) -> (Tz, NaiveTime, NaiveTime) {
    let hm = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
    match symbol.market() {
        Market::Sh | Market::Sz => (chrono_tz::Asia::Shanghai, hm(9, 30), hm(15, 0)),
        Market::Hk => (chrono_tz::Asia::Hong_Kong, hm(9, 30), hm(16, 0)),
        Market::Us => (chrono_tz::America::New_York, hm(9, 30), hm(16, 0)),
        Market::Fx => (chrono_tz::Europe::London, hm(0, 0), hm(23, 0)),
    }
}

pub fn is_index(symbol: &Symbol) -> bool {
    symbol.code().starts_with("000") && symbol.market() == Market::Sh
}

impl Exchange {
    pub fn new(now: DateTime<Utc>) -> Exchange {
        Exchange {
            state: Arc::new(Mutex::new(ExchangeState {
                now,
                faults: HashMap::new(),
                bonus: HashMap::new(),
                yahoo_factor: HashMap::new(),
                log: Vec::new(),
            })),
        }
    }

    pub fn set_now(&self, now: DateTime<Utc>) {
        self.state.lock().unwrap().now = now;
    }

    pub fn fault(&self, provider: ProviderName, symbol_text: &str, fault: Fault) {
        self.state.lock().unwrap().faults.insert((provider, symbol(symbol_text)), (fault, None));
    }

    /// A fault for the next request only.
    pub fn fault_once(&self, provider: ProviderName, symbol_text: &str, fault: Fault) {
        self.state.lock().unwrap().faults.insert((provider, symbol(symbol_text)), (fault, Some(1)));
    }

    pub fn take_log(&self) -> Vec<(ProviderName, String)> {
        std::mem::take(&mut self.state.lock().unwrap().log)
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
        Quote {
            open: scale(formula - 30),
            high: scale(formula + 60),
            low: scale(formula - 90),
            close: scale(formula),
            hfq_close: formula * 3,
            volume: 1000 + i64::from(day.num_days_from_ce() % 7),
        }
    }

    /// Weekdays in `[from, to]` whose session has closed by the exchange's `now`.
    pub fn sessions(&self, symbol: &Symbol, from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
        let (zone, _, close) = session(symbol);
        let now = self.state.lock().unwrap().now.with_timezone(&zone);
        let last_closed = if now.time() >= close { now.date_naive() } else { now.date_naive().pred_opt().unwrap() };
        from.iter_days().take_while(|d| *d <= to.min(last_closed)).filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)).collect()
    }

    pub fn yahoo_factor(&self, symbol: &Symbol) -> f64 {
        self.state.lock().unwrap().yahoo_factor.get(symbol).copied().unwrap_or(0.97)
    }

    /// What a sync through `provider` must store for `symbol` over `[from, to]`.
    pub fn expected(&self, provider: ProviderName, symbol_text: &str, from: &str, to: &str) -> Vec<Bar> {
        let symbol = symbol(symbol_text);
        self.sessions(&symbol, date(from), date(to))
            .into_iter()
            .map(|day| {
                let q = self.quote(&symbol, day);
                if symbol.is_fx() {
                    return Bar::close_only(day, price(q.close));
                }
                let lots = matches!(symbol.market(), Market::Sh | Market::Sz) && provider != ProviderName::Yahoo;
                let volume = if lots { q.volume as f64 * 100.0 } else { q.volume as f64 };
                let adj_close = match provider {
                    _ if is_index(&symbol) => price(q.close),
                    ProviderName::Yahoo => adjclose(q.close, self.yahoo_factor(&symbol)),
                    ProviderName::Tencent | ProviderName::Eastmoney => price(q.hfq_close),
                };
                let volume = if provider == ProviderName::Yahoo && is_index(&symbol) { None } else { Some(volume) };
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

    pub fn fault_for(&self, provider: ProviderName, symbol: &Symbol) -> Option<Fault> {
        let mut state = self.state.lock().unwrap();
        let key = (provider, symbol.clone());
        let (fault, remaining) = state.faults.get(&key).copied()?;
        match remaining {
            Some(1) => {
                state.faults.remove(&key);
            }
            Some(n) => {
                state.faults.insert(key, (fault, Some(n - 1)));
            }
            None => {}
        }
        Some(fault)
    }

    pub fn tencent(&self, request: &Request) -> ResponseTemplate {
        let param = query(request, "param").unwrap_or_default();
        let fields: Vec<&str> = param.split(',').collect();
        let code = fields[0];
        let Ok(symbol) = Symbol::parse(code) else { return json_body(200, json!({"code": -1, "msg": "param error", "data": {}})) };
        if let Some(fault) = self.fault_for(ProviderName::Tencent, &symbol) {
            let empty = json!({"code": 0, "msg": "", "data": {code: {"day": [], "prec": "1.000", "version": "16"}}});
            return fault_response(fault, json!({"code": 0, "msg": "", "data": {}}), empty);
        }
        let (from, to) = (date(fields[2]), date(fields[3]));
        let hfq = fields.get(5) == Some(&"hfq");
        let rows: Vec<serde_json::Value> = self
            .sessions(&symbol, from, to)
            .into_iter()
            .take(640)
            .map(|day| {
                let q = self.quote(&symbol, day);
                let close = if hfq { q.hfq_close } else { q.close };
                let factor = if hfq { q.hfq_close as f64 / q.close as f64 } else { 1.0 };
                let scaled = |milli: i64| text((milli as f64 * factor).round() as i64);
                json!([day.to_string(), scaled(q.open), text(close), scaled(q.high), scaled(q.low), format!("{}.000", q.volume)])
            })
            .collect();
        let key = if hfq { "hfqday" } else { "day" };
        json_body(200, json!({"code": 0, "msg": "", "data": {code: {key: rows, "prec": "1.000", "version": "16"}}}))
    }

    pub fn eastmoney(&self, request: &Request) -> ResponseTemplate {
        let secid = query(request, "secid").unwrap_or_default();
        let (prefix, code) = secid.split_once('.').unwrap_or(("", ""));
        let market = match prefix {
            "1" => "SH",
            "0" => "SZ",
            "116" => "HK",
            "105" | "106" | "107" => "US",
            _ => "FX",
        };
        let code = if market == "FX" { code.trim_end_matches('C') } else { code };
        let unknown = json!({"rc": 100, "rt": 17, "data": null});
        let Ok(symbol) = Symbol::parse(&format!("{code}.{market}")) else { return json_body(200, unknown) };
        if let Some(fault) = self.fault_for(ProviderName::Eastmoney, &symbol) {
            // Throttled Eastmoney hosts answer exactly this: an empty `klines` list with rc 0.
            let empty = json!({"rc": 0, "rt": 17, "data": {"code": code, "market": 1, "dktotal": 0, "klines": []}});
            return fault_response(fault, unknown, empty);
        }
        let parse = |name: &str| NaiveDate::parse_from_str(&query(request, name).unwrap_or_default(), "%Y%m%d").unwrap();
        let hfq = query(request, "fqt").as_deref() == Some("2");
        let klines: Vec<String> = self
            .sessions(&symbol, parse("beg"), parse("end"))
            .into_iter()
            .map(|day| {
                let q = self.quote(&symbol, day);
                let close = if hfq { q.hfq_close } else { q.close };
                format!("{day},{},{},{},{},{},1.0,1.0,0.5,0.1,0.2", text(q.open), text(close), text(q.high), text(q.low), q.volume)
            })
            .collect();
        json_body(200, json!({"rc": 0, "rt": 17, "data": {"code": code, "market": 1, "klines": klines}}))
    }

    pub fn yahoo(&self, request: &Request) -> ResponseTemplate {
        let yahoo_symbol = request.url.path().trim_start_matches("/v8/finance/chart/").to_string();
        let not_found =
            json!({"chart": {"result": null, "error": {"code": "Not Found", "description": "No data found, symbol may be delisted"}}});
        let Ok(symbol) = Symbol::parse(&yahoo_symbol) else { return json_body(404, not_found) };
        if let Some(fault) = self.fault_for(ProviderName::Yahoo, &symbol) {
            let empty = json!({"chart": {"result": [{
                "meta": {"symbol": yahoo_symbol, "exchangeTimezoneName": session(&symbol).0.name()},
                "indicators": {"quote": [{}], "adjclose": [{}]}
            }], "error": null}});
            return match fault {
                Fault::Unknown => json_body(404, not_found),
                other => fault_response(other, json!({}), empty),
            };
        }
        let (zone, open_time, close_time) = session(&symbol);
        let stamp = |day: NaiveDate, time: NaiveTime| zone.from_local_datetime(&day.and_time(time)).unwrap().timestamp();
        let period = |name: &str| query(request, name).and_then(|v| v.parse::<i64>().ok()).unwrap_or_default();
        let (period1, period2) = (period("period1"), period("period2"));
        let from = DateTime::from_timestamp(period1, 0).unwrap().date_naive().pred_opt().unwrap();
        let to = DateTime::from_timestamp(period2, 0).unwrap().date_naive().succ_opt().unwrap();
        let days: Vec<NaiveDate> =
            self.sessions(&symbol, from, to).into_iter().filter(|day| (period1..period2).contains(&stamp(*day, open_time))).collect();
        let quotes: Vec<Quote> = days.iter().map(|day| self.quote(&symbol, *day)).collect();
        let factor = self.yahoo_factor(&symbol);
        let column = |f: &dyn Fn(&Quote) -> f64| quotes.iter().map(f).collect::<Vec<f64>>();
        let last_close = days.last().map(|day| stamp(*day, close_time)).unwrap_or(period1);
        json_body(
            200,
            json!({"chart": {"result": [{
                "meta": {"symbol": yahoo_symbol, "exchangeTimezoneName": zone.name(), "regularMarketTime": last_close},
                "timestamp": days.iter().map(|day| stamp(*day, open_time)).collect::<Vec<i64>>(),
                "indicators": {
                    "quote": [{
                        "open": column(&|q| price(q.open)),
                        "high": column(&|q| price(q.high)),
                        "low": column(&|q| price(q.low)),
                        "close": column(&|q| price(q.close)),
                        "volume": column(&|q| q.volume as f64),
                    }],
                    "adjclose": [{"adjclose": column(&|q| adjclose(q.close, factor))}]
                }
            }], "error": null}}),
        )
    }
}

pub fn query(request: &Request, name: &str) -> Option<String> {
    request.url.query_pairs().find(|(key, _)| key == name).map(|(_, value)| value.into_owned())
}

pub fn json_body(status: u16, body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_string(body.to_string()).insert_header("content-type", "application/json")
}

pub fn fault_response(fault: Fault, unknown: serde_json::Value, empty: serde_json::Value) -> ResponseTemplate {
    match fault {
        Fault::Unknown => json_body(200, unknown),
        Fault::EmptySeries => json_body(200, empty),
        Fault::Status(status) => json_body(status, json!({})),
        Fault::Html => ResponseTemplate::new(200)
            .set_body_string("<html><head><title>403 Forbidden</title></head><body>blocked</body></html>")
            .insert_header("content-type", "text/html"),
    }
}

/// Serves one provider's format on its own server, logging every request.
pub struct Counter {
    provider: ProviderName,
    exchange: Exchange,
    /// Every answer waits this long.
    delay: Duration,
    /// Told of each request as it arrives.
    arrivals: Option<mpsc::Sender<()>>,
}

impl Respond for Counter {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.exchange.state.lock().unwrap().log.push((self.provider, request.url.to_string()));
        if let Some(arrivals) = &self.arrivals {
            let _ = arrivals.send(());
        }
        let response = match self.provider {
            ProviderName::Tencent => self.exchange.tencent(request),
            ProviderName::Eastmoney => self.exchange.eastmoney(request),
            ProviderName::Yahoo => self.exchange.yahoo(request),
        };
        response.set_delay(self.delay)
    }
}

/// The three providers' servers, all backed by one exchange.
pub struct Servers {
    pub tencent: MockServer,
    pub eastmoney: MockServer,
    pub yahoo: MockServer,
}

pub async fn start(exchange: &Exchange) -> Servers {
    start_with(exchange, Duration::ZERO, None).await
}

pub async fn start_with(exchange: &Exchange, delay: Duration, arrivals: Option<mpsc::Sender<()>>) -> Servers {
    let mut servers = Vec::new();
    for provider in ProviderName::ALL {
        let server = MockServer::start().await;
        let counter = Counter { provider, exchange: exchange.clone(), delay, arrivals: arrivals.clone() };
        Mock::given(wiremock::matchers::any()).respond_with(counter).mount(&server).await;
        servers.push(server);
    }
    let yahoo = servers.pop().unwrap();
    let eastmoney = servers.pop().unwrap();
    let tencent = servers.pop().unwrap();
    Servers { tencent, eastmoney, yahoo }
}
