//! The route handlers: parse the request into validated types, ask [`super::questions`] on
//! a read-only connection, write the answer as a page, a download or API JSON.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::cache::Answer;
use super::error::{ApiError, PageError, WebError, json_error};
use super::params::{
    Representation, parse_broker_name, parse_currency, parse_date, parse_group_by, parse_report_id, parse_symbol, parse_symbol_param,
    parse_week, unknown_parameter,
};
use super::{Mode, WebState, metrics, pages, questions};
use crate::analysis::model::CurrencyMode;
use crate::report::{self, Format, HtmlBody, RenderOptions};
use crate::store::RatingsFilter;
use crate::symbol::Symbol;

type AppState = State<Arc<WebState>>;

/// Query parameters the pages and the API accept; all optional, parsed by [`super::params`].
#[derive(Debug, Default, Deserialize)]
pub struct Params {
    as_of: Option<String>,
    currency: Option<String>,
    report: Option<String>,
    from: Option<String>,
    to: Option<String>,
    symbol: Option<String>,
    broker: Option<String>,
    since: Option<String>,
    by: Option<String>,
    sort: Option<String>,
    /// Every other parameter, refused by [`Params::only`].
    #[serde(flatten)]
    unknown: BTreeMap<String, String>,
}

impl Params {
    /// Refuses any parameter outside `known` (the ones this route takes), naming it.
    fn only(&self, known: &[&str]) -> Result<(), WebError> {
        let given = [
            ("as_of", self.as_of.is_some()),
            ("currency", self.currency.is_some()),
            ("report", self.report.is_some()),
            ("from", self.from.is_some()),
            ("to", self.to.is_some()),
            ("symbol", self.symbol.is_some()),
            ("broker", self.broker.is_some()),
            ("since", self.since.is_some()),
            ("by", self.by.is_some()),
            ("sort", self.sort.is_some()),
        ];
        let mut unexpected = given.into_iter().filter(|(name, present)| *present && !known.contains(name)).map(|(name, _)| name);
        match unexpected.next().or_else(|| self.unknown.keys().next().map(String::as_str)) {
            Some(name) => Err(unknown_parameter(name, known)),
            None => Ok(()),
        }
    }

    /// The as-of date asked for (an empty form field counts as none).
    fn as_of(&self) -> Result<Option<NaiveDate>, WebError> {
        match self.as_of.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(text) => parse_date("as_of", text).map(Some),
        }
    }

    /// `sort=return|excess|contribution`: the member tables' order (none: the report's).
    fn member_sort(&self) -> Result<Option<report::MemberSort>, WebError> {
        match self.sort.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(text) => text.parse().map(Some).map_err(|_| {
                WebError::BadRequest(format!(
                    "sort: `{}` is not one of {}",
                    text.chars().take(40).collect::<String>(),
                    <report::MemberSort as strum::VariantNames>::VARIANTS.join(", ")
                ))
            }),
        }
    }

    fn currency(&self) -> Result<CurrencyMode, WebError> {
        parse_currency(self.currency.as_deref())
    }

    fn date(name: &str, value: &Option<String>) -> Result<Option<NaiveDate>, WebError> {
        match value.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(text) => parse_date(name, text).map(Some),
        }
    }
}

/// Pretty JSON with a final newline: byte for byte what the CLI prints.
fn json_text<T: Serialize>(value: &T) -> Result<String, WebError> {
    serde_json::to_string_pretty(value).map(|text| text + "\n").map_err(WebError::internal)
}

fn answer(representation: Representation, body: String) -> Response {
    ([(header::CONTENT_TYPE, representation.content_type()), (header::VARY, "Accept")], body).into_response()
}

fn json(body: String) -> Response {
    answer(Representation::Json, body)
}

/// The answer to the question `key` names (the normalised request: route, parsed parameters
/// in a fixed order, representation, and the resolved as-of date where the answer depends on
/// today) from the answer cache, or computed by `compute` and kept when it succeeds.
async fn cached(
    state: &Arc<WebState>,
    key: String,
    compute: impl Future<Output = Result<Response, WebError>>,
) -> Result<Response, WebError> {
    // Read before computing, so what is kept is at least as new as its version.
    let Some(version) = state.data_version() else { return compute.await };
    if let Some(answer) = state.cache.get(version, &key) {
        let mut response = Response::new(Body::from(answer.body));
        *response.headers_mut() = answer.headers;
        return Ok(response);
    }
    let response = compute.await?;
    if response.status() != StatusCode::OK {
        return Ok(response);
    }
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.map_err(WebError::internal)?;
    state.cache.insert(version, key, Answer { headers: parts.headers.clone(), body: body.clone() });
    Ok(Response::from_parts(parts, Body::from(body)))
}

/// An error in the form the client asked for: a page, or JSON for downloads.
fn failure(representation: Representation, error: WebError) -> Response {
    match representation {
        Representation::Html => PageError(error).into_response(),
        _ => json_error(&error),
    }
}

/// The representation a page request wants: the suffix, else the `Accept` header.
fn wanted(suffix: Option<Representation>, headers: &HeaderMap) -> Representation {
    suffix.unwrap_or_else(|| Representation::from_accept(headers.get(header::ACCEPT).and_then(|value| value.to_str().ok())))
}

/// A page segment's stem and the representation it wants: its suffix (`.json`, `.csv`,
/// `.md`), else the `Accept` header.
fn negotiate<'a>(segment: &'a str, headers: &HeaderMap) -> (&'a str, Representation) {
    let (stem, suffix) = Representation::split(segment);
    (stem, wanted(suffix, headers))
}

fn format_of(representation: Representation) -> Format {
    match representation {
        Representation::Html => Format::Html,
        Representation::Json => Format::Json,
        Representation::Csv => Format::Csv,
        Representation::Markdown => Format::Markdown,
    }
}

// ---- pages ----

pub async fn ledger_page(State(state): AppState, Query(params): Query<Params>, headers: HeaderMap) -> Response {
    let representation = wanted(None, &headers);
    ledger(state, params, representation).await.unwrap_or_else(|error| failure(representation, error))
}

async fn ledger(state: Arc<WebState>, params: Params, representation: Representation) -> Result<Response, WebError> {
    params.only(&["as_of"])?;
    let explicit = params.as_of()?;
    let as_of = explicit.unwrap_or_else(|| state.today());
    let key = format!("ledger {as_of} {} {representation:?}", explicit.is_some());
    cached(&state.clone(), key, ledger_answer(state, as_of, explicit, representation)).await
}

async fn ledger_answer(
    state: Arc<WebState>,
    as_of: NaiveDate,
    explicit: Option<NaiveDate>,
    representation: Representation,
) -> Result<Response, WebError> {
    if representation != Representation::Html {
        let verdicts = state.db(move |store, state| questions::ledger(store, &state.config, as_of)).await?;
        return Ok(answer(representation, report::render_ledger(&verdicts, format_of(representation))));
    }
    let (verdicts, finals, reports, freshness) = state
        .db(move |store, state| {
            let verdicts = questions::ledger_or_empty(store, &state.config, as_of)?;
            let finals = questions::final_verdicts(store, verdicts.as_deref().unwrap_or_default())?;
            Ok((verdicts, finals, questions::reports(store)?, questions::freshness(store)?))
        })
        .await?;
    let query = pages::query(explicit, CurrencyMode::Cny);
    let body = verdicts.filter(|verdicts| !verdicts.is_empty()).map(|verdicts| HtmlBody::Ledger(&verdicts, &query).render());
    let facts = pages::LedgerFacts { body, finals, reports, freshness };
    Ok(answer(representation, pages::ledger(facts, as_of, explicit.is_some()).into_string()))
}

/// `/ledger.json`, `/status.json`, `/reports.json` and the like: top-level downloads.
pub async fn top_level_download(State(state): AppState, Path(page): Path<String>, Query(params): Query<Params>) -> Response {
    let (stem, suffix) = Representation::split(&page);
    let Some(representation) = suffix else {
        return PageError(WebError::NotFound(format!("no page `/{}`", page.chars().take(60).collect::<String>()))).into_response();
    };
    let result = match (stem, representation) {
        ("ledger", _) => ledger(state, params, representation).await,
        ("status", Representation::Json) => {
            async {
                params.only(&[])?;
                status_json(state).await
            }
            .await
        }
        ("reports", Representation::Json) => {
            async {
                params.only(&[])?;
                reports_json(state).await
            }
            .await
        }
        _ => Err(WebError::NotFound(format!("no download `/{page}`"))),
    };
    result.unwrap_or_else(|error| failure(representation, error))
}

pub async fn reports_page(State(state): AppState, Query(params): Query<Params>, headers: HeaderMap) -> Response {
    let representation = wanted(None, &headers);
    if let Err(error) = params.only(&[]) {
        return failure(representation, error);
    }
    let result = match representation {
        Representation::Html => {
            let page = async {
                let reports = state.db(|store, _| questions::reports(store)).await?;
                Ok(answer(representation, pages::reports(&reports).into_string()))
            };
            cached(&state, "reports-page".to_string(), page).await
        }
        Representation::Json => reports_json(state).await,
        _ => Err(WebError::NotFound("the report list is available as HTML and JSON only".to_string())),
    };
    result.unwrap_or_else(|error| failure(representation, error))
}

async fn reports_json(state: Arc<WebState>) -> Result<Response, WebError> {
    let compute = async {
        let reports = state.db(|store, _| questions::reports(store)).await?;
        Ok(json(json_text(&reports)?))
    };
    cached(&state, "reports-json".to_string(), compute).await
}

pub async fn verdict_page(
    State(state): AppState,
    Path(segment): Path<String>,
    Query(params): Query<Params>,
    headers: HeaderMap,
) -> Response {
    let (stem, representation) = negotiate(&segment, &headers);
    let result = async {
        params.only(&["as_of", "currency", "sort"])?;
        let id = parse_report_id(stem)?;
        let explicit = params.as_of()?;
        let as_of = explicit.unwrap_or_else(|| state.today());
        let currency = params.currency()?;
        let sort = params.member_sort()?;
        let key = format!("verdict-page {id} {as_of} {} {currency:?} {sort:?} {representation:?}", explicit.is_some());
        let compute = async {
            let (report, verdict, options) =
                state.db(move |store, state| questions::verdict(store, &state.config, &id, as_of, currency)).await?;
            Ok(match representation {
                Representation::Html => {
                    let options = RenderOptions { member_sort: sort, ..options.clone().with_security_links() };
                    let body = HtmlBody::Verdict(&verdict, &options).render();
                    answer(representation, pages::verdict(&report, &body, as_of, explicit.is_some(), currency, sort).into_string())
                }
                other => {
                    let options = RenderOptions { member_sort: sort, ..options };
                    answer(other, report::render_verdict_with(&verdict, format_of(other), &options))
                }
            })
        };
        cached(&state, key, compute).await
    }
    .await;
    result.unwrap_or_else(|error| failure(representation, error))
}

/// `/reports/<id>/weeks.json`: the archive as JSON (other names under a report are 404).
pub async fn report_file(State(state): AppState, Path((id, file)): Path<(String, String)>, Query(params): Query<Params>) -> Response {
    if file != "weeks.json" {
        return PageError(WebError::NotFound(format!("no page `{}` under this report", file.chars().take(60).collect::<String>())))
            .into_response();
    }
    if let Err(error) = params.only(&[]) {
        return json_error(&error);
    }
    archive_json(state, &id).await.unwrap_or_else(|error| json_error(&error))
}

pub async fn archive_page(State(state): AppState, Path(id): Path<String>, Query(params): Query<Params>, headers: HeaderMap) -> Response {
    let representation = wanted(None, &headers);
    if let Err(error) = params.only(&[]) {
        return failure(representation, error);
    }
    let result = match representation {
        Representation::Json => archive_json(state, &id).await,
        Representation::Html => {
            async {
                let id = parse_report_id(&id)?;
                // The archive lists the weeks complete by today: today is part of the question.
                let today = state.today();
                let key = format!("archive-page {id} {today}");
                let compute = async {
                    let (report, weeks, headline) = state
                        .db(move |store, state| {
                            let (report, weeks) = questions::archive(store, &state.config, &id, today)?;
                            let headline = questions::final_headline(store, &state.config, &report, today);
                            Ok((report, weeks, headline))
                        })
                        .await?;
                    let page = pages::archive(&report, &weeks, state.config.timezone(), headline.as_ref());
                    Ok(answer(representation, page.into_string()))
                };
                cached(&state, key, compute).await
            }
            .await
        }
        _ => Err(WebError::NotFound("the weekly archive is available as HTML and JSON only".to_string())),
    };
    result.unwrap_or_else(|error| failure(representation, error))
}

async fn archive_json(state: Arc<WebState>, id: &str) -> Result<Response, WebError> {
    let id = parse_report_id(id)?;
    let today = state.today();
    let key = format!("archive-json {id} {today}");
    let compute = async {
        let (_, weeks) = state.db(move |store, state| questions::archive(store, &state.config, &id, today)).await?;
        Ok(json(json_text(&weeks)?))
    };
    cached(&state, key, compute).await
}

pub async fn week_page(
    State(state): AppState,
    Path((id, segment)): Path<(String, String)>,
    Query(params): Query<Params>,
    headers: HeaderMap,
) -> Response {
    let (stem, representation) = negotiate(&segment, &headers);
    let result = async {
        params.only(&["currency"])?;
        let id = parse_report_id(&id)?;
        let week = parse_week(stem)?;
        let currency = params.currency()?;
        let today = state.today();
        let html = representation == Representation::Html;
        // The page links to its neighbours among the weeks complete by today.
        let key = format!("week-page {id} {week} {currency:?} {representation:?} {today}");
        let compute = async {
            let (report, summary, options, archive) = state
                .db(move |store, state| {
                    let (report, summary, options) = questions::weekly(store, &state.config, &id, week, currency)?;
                    // Only the page links to its neighbours in the archive.
                    let archive = if html { questions::archive_weeks(store, &state.config, &report, today)? } else { Vec::new() };
                    Ok((report, summary, options, archive))
                })
                .await?;
            Ok(match representation {
                Representation::Html => {
                    let (previous, next) = questions::neighbours(&archive, week);
                    let body = HtmlBody::Weekly(&summary, &options).render();
                    answer(representation, pages::week(&report, &week.to_string(), previous, next, &body, currency).into_string())
                }
                other => answer(other, report::render_weekly_with(&summary, format_of(other), &options)),
            })
        };
        cached(&state, key, compute).await
    }
    .await;
    result.unwrap_or_else(|error| failure(representation, error))
}

pub async fn status_page(State(state): AppState, Query(params): Query<Params>, headers: HeaderMap) -> Response {
    let representation = wanted(None, &headers);
    if let Err(error) = params.only(&[]) {
        return failure(representation, error);
    }
    let result = match representation {
        Representation::Html => {
            async {
                let now = state.clock.now();
                let report = state.db(move |store, state| questions::status(store, &state.config, now)).await?;
                Ok(answer(representation, pages::status(&report).into_string()))
            }
            .await
        }
        Representation::Json => status_json(state).await,
        _ => Err(WebError::NotFound("the status is available as HTML and JSON only".to_string())),
    };
    result.unwrap_or_else(|error| failure(representation, error))
}

async fn status_json(state: Arc<WebState>) -> Result<Response, WebError> {
    let now = state.clock.now();
    let report = state.db(move |store, state| questions::status(store, &state.config, now)).await?;
    Ok(json(json_text(&report)?))
}

/// `/securities/<SYMBOL>[?as_of=]`: the company in every report that holds it.
pub async fn security_page(State(state): AppState, Path(symbol): Path<String>, Query(params): Query<Params>) -> Response {
    let result = async {
        params.only(&["as_of"])?;
        let symbol = parse_symbol(&symbol)?;
        let explicit = params.as_of()?;
        let as_of = explicit.unwrap_or_else(|| state.today());
        let key = format!("security-page {symbol} {as_of} {}", explicit.is_some());
        let compute = async {
            let shown = symbol.clone();
            let page = state.db(move |store, state| questions::security(store, &state.config, &symbol, as_of)).await?;
            Ok(answer(Representation::Html, pages::security(&shown, &page.entries, &page.calls, as_of).into_string()))
        };
        cached(&state, key, compute).await
    }
    .await;
    result.unwrap_or_else(|error| failure(Representation::Html, error))
}

/// `/api`: the API's endpoints as a page.
pub async fn api_page(Query(params): Query<Params>) -> Response {
    if let Err(error) = params.only(&[]) {
        return failure(Representation::Html, error);
    }
    answer(Representation::Html, pages::api(super::API_ENDPOINTS).into_string())
}

/// `/api/v1`: the API's endpoints, `[{"path", "same_as"}]`.
pub async fn api_index(Query(params): Query<Params>) -> Response {
    if let Err(error) = params.only(&[]) {
        return failure(Representation::Json, error);
    }
    let endpoints: Vec<serde_json::Value> =
        super::API_ENDPOINTS.iter().map(|(path, same_as)| serde_json::json!({ "path": path, "same_as": same_as })).collect();
    json(serde_json::to_string_pretty(&endpoints).unwrap_or_default() + "\n")
}

pub async fn favicon() -> Response {
    ([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "public, max-age=86400")], super::frame::FAVICON).into_response()
}

pub async fn stylesheet() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")], super::frame::stylesheet())
        .into_response()
}

pub async fn not_found() -> Response {
    metrics::record_request("unmatched", 404, std::time::Duration::ZERO);
    PageError(WebError::NotFound("no such page".to_string())).into_response()
}

// ---- health and metrics ----

#[derive(Serialize)]
struct Health {
    status: &'static str,
    database: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    scheduler: Option<String>,
}

pub async fn healthz(State(state): AppState) -> Response {
    let database = state.db(|store, _| Ok(store.report_ids().map(|ids| ids.len())?)).await;
    let scheduler = match &state.mode {
        Mode::Service(liveness) => Some(liveness.check()),
        Mode::Standalone => None,
    };
    let healthy = database.is_ok() && scheduler.as_ref().is_none_or(Result::is_ok);
    let body = Health {
        status: if healthy { "ok" } else { "unavailable" },
        database: match &database {
            Ok(reports) => format!("ok ({reports} reports)"),
            Err(error) => error.message().to_string(),
        },
        scheduler: scheduler.map(|result| result.map_or_else(|reason| reason, |()| "ok".to_string())),
    };
    let status = if healthy { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let text = serde_json::to_string_pretty(&body).unwrap_or_default() + "\n";
    (status, [(header::CONTENT_TYPE, "application/json")], text).into_response()
}

pub async fn metrics_text(State(state): AppState) -> Response {
    let now = state.clock.now();
    let facts = state
        .db(move |store, state| {
            Ok(metrics::DatabaseFacts {
                status: questions::status(store, &state.config, now)?,
                job_outcomes: store.job_outcome_counts()?,
                bars_stored: state.bar_count.get(|| store.stored_bar_count())?,
            })
        })
        .await;
    match facts {
        Ok(facts) => metrics::record_database(&facts),
        Err(error) => tracing::warn!(error = error.message(), "/metrics without the database series"),
    }
    if let Mode::Service(liveness) = &state.mode {
        metrics::record_scheduler(Some(liveness.check().is_ok()));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], metrics::render()).into_response()
}

// ---- the JSON API ----

pub async fn api_reports(State(state): AppState, Query(params): Query<Params>) -> Result<Response, ApiError> {
    params.only(&[])?;
    Ok(reports_json(state).await?)
}

pub async fn api_ledger(State(state): AppState, Query(params): Query<Params>) -> Result<Response, ApiError> {
    Ok(ledger(state, params, Representation::Json).await?)
}

pub async fn api_verdict(State(state): AppState, Path(id): Path<String>, Query(params): Query<Params>) -> Result<Response, ApiError> {
    params.only(&["as_of", "currency"])?;
    let id = parse_report_id(&id)?;
    let as_of = params.as_of()?.unwrap_or_else(|| state.today());
    let currency = params.currency()?;
    let key = format!("api-verdict {id} {as_of} {currency:?}");
    let compute = async {
        let (_, verdict, options) = state.db(move |store, state| questions::verdict(store, &state.config, &id, as_of, currency)).await?;
        Ok(json(report::render_verdict_with(&verdict, Format::Json, &options)))
    };
    Ok(cached(&state, key, compute).await?)
}

pub async fn api_archive(State(state): AppState, Path(id): Path<String>, Query(params): Query<Params>) -> Result<Response, ApiError> {
    params.only(&[])?;
    Ok(archive_json(state, &id).await?)
}

pub async fn api_week(
    State(state): AppState,
    Path((id, week)): Path<(String, String)>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    params.only(&["currency"])?;
    let id = parse_report_id(&id)?;
    let week = parse_week(&week)?;
    let currency = params.currency()?;
    let key = format!("api-week {id} {week} {currency:?}");
    let compute = async {
        let (_, summary, options) = state.db(move |store, state| questions::weekly(store, &state.config, &id, week, currency)).await?;
        Ok(json(report::render_weekly_with(&summary, Format::Json, &options)))
    };
    Ok(cached(&state, key, compute).await?)
}

pub async fn api_status(State(state): AppState, Query(params): Query<Params>) -> Result<Response, ApiError> {
    params.only(&[])?;
    Ok(status_json(state).await?)
}

pub async fn api_watchlist(State(state): AppState, Query(params): Query<Params>) -> Result<Response, ApiError> {
    params.only(&["report"])?;
    let report = params.report.as_deref().map(str::trim).filter(|id| !id.is_empty()).map(parse_report_id).transpose()?;
    let entries = state.db(move |store, _| questions::watchlist(store, report.as_ref())).await?;
    Ok(json(json_text(&entries)?))
}

pub async fn api_prices(State(state): AppState, Path(symbol): Path<String>, Query(params): Query<Params>) -> Result<Response, ApiError> {
    params.only(&["from", "to"])?;
    let symbol = parse_symbol(&symbol)?;
    let from = Params::date("from", &params.from)?;
    let to = Params::date("to", &params.to)?;
    let bars = state.db(move |store, _| questions::prices(store, &symbol, from, to)).await?;
    Ok(json(json_text(&bars)?))
}

// ---- the ratings feed ----

/// A text parameter, trimmed; an empty form field counts as none.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|text| !text.is_empty())
}

/// The question of `ratings list`: the filters and the scoring date (today by default).
struct RatingsAsk {
    symbol: Option<Symbol>,
    broker: Option<String>,
    since: Option<NaiveDate>,
    as_of: NaiveDate,
}

impl RatingsAsk {
    fn of(state: &WebState, params: &Params) -> Result<RatingsAsk, WebError> {
        params.only(&["symbol", "broker", "since", "as_of"])?;
        Ok(RatingsAsk {
            symbol: given(&params.symbol).map(|text| parse_symbol_param("symbol", text)).transpose()?,
            broker: given(&params.broker).map(str::to_string),
            since: Params::date("since", &params.since)?,
            as_of: params.as_of()?.unwrap_or_else(|| state.today()),
        })
    }

    fn key(&self, what: &str) -> String {
        let symbol = self.symbol.as_ref().map(Symbol::to_string);
        format!("{what} {symbol:?} {:?} {:?} {}", self.broker, self.since, self.as_of)
    }

    fn filter(&self) -> RatingsFilter {
        RatingsFilter { symbol: self.symbol.clone(), broker: self.broker.clone(), since: self.since, until: None }
    }
}

pub async fn ratings_page(State(state): AppState, Query(params): Query<Params>, headers: HeaderMap) -> Response {
    let representation = wanted(None, &headers);
    let result = async {
        let ask = RatingsAsk::of(&state, &params)?;
        match representation {
            Representation::Json => ratings_json(state, ask).await,
            Representation::Html => {
                let compute = async {
                    let filter = ask.filter();
                    let as_of = ask.as_of;
                    let calls = state.db(move |store, state| questions::rating_calls(store, &state.config, &filter, as_of)).await?;
                    let asked = pages::RatingsAsked {
                        symbol: ask.symbol.as_ref().map(Symbol::to_string),
                        broker: ask.broker.clone(),
                        since: ask.since,
                        as_of,
                    };
                    Ok(answer(representation, pages::ratings(report::rating_pages::ratings(&calls, as_of), &asked).into_string()))
                };
                cached(&state, ask.key("ratings-page"), compute).await
            }
            _ => Err(WebError::NotFound("the ratings are available as HTML and JSON only".to_string())),
        }
    }
    .await;
    result.unwrap_or_else(|error| failure(representation, error))
}

async fn ratings_json(state: Arc<WebState>, ask: RatingsAsk) -> Result<Response, WebError> {
    let key = ask.key("ratings-json");
    let compute = async {
        let (filter, as_of) = (ask.filter(), ask.as_of);
        let calls = state.db(move |store, state| questions::rating_calls(store, &state.config, &filter, as_of)).await?;
        Ok(json(report::render_ratings(&calls, as_of, Format::Json, None)))
    };
    cached(&state, key, compute).await
}

pub async fn api_ratings(State(state): AppState, Query(params): Query<Params>) -> Result<Response, ApiError> {
    let ask = RatingsAsk::of(&state, &params)?;
    Ok(ratings_json(state, ask).await?)
}

/// The question of `ratings track-record`: the grouping, the cut-off and the scoring date.
struct TrackAsk {
    by: crate::analysis::ratings::GroupBy,
    since: Option<NaiveDate>,
    as_of: NaiveDate,
}

impl TrackAsk {
    fn of(state: &WebState, params: &Params) -> Result<TrackAsk, WebError> {
        params.only(&["by", "since", "as_of"])?;
        Ok(TrackAsk {
            by: parse_group_by(params.by.as_deref())?,
            since: Params::date("since", &params.since)?,
            as_of: params.as_of()?.unwrap_or_else(|| state.today()),
        })
    }

    fn key(&self, what: &str) -> String {
        format!("{what} {:?} {:?} {}", self.by, self.since, self.as_of)
    }
}

async fn track_rows(state: &Arc<WebState>, ask: &TrackAsk) -> Result<Vec<crate::analysis::ratings::TrackRow>, WebError> {
    let (by, since, as_of) = (ask.by, ask.since, ask.as_of);
    state.db(move |store, state| questions::track_record(store, &state.config, by, since, as_of)).await
}

pub async fn brokers_page(State(state): AppState, Query(params): Query<Params>, headers: HeaderMap) -> Response {
    let representation = wanted(None, &headers);
    let result = async {
        let ask = TrackAsk::of(&state, &params)?;
        match representation {
            Representation::Json => brokers_json(state, ask).await,
            Representation::Html => {
                let compute = async {
                    let rows = track_rows(&state, &ask).await?;
                    let key_name: &'static str = ask.by.into();
                    let body = report::rating_pages::track_record(&rows, key_name, ask.as_of, state.config.ratings.min_sample);
                    Ok(answer(representation, pages::brokers(body, key_name, ask.since, ask.as_of).into_string()))
                };
                cached(&state, ask.key("brokers-page"), compute).await
            }
            _ => Err(WebError::NotFound("the track record is available as HTML and JSON only".to_string())),
        }
    }
    .await;
    result.unwrap_or_else(|error| failure(representation, error))
}

async fn brokers_json(state: Arc<WebState>, ask: TrackAsk) -> Result<Response, WebError> {
    let compute = async {
        let rows = track_rows(&state, &ask).await?;
        let min_sample = state.config.ratings.min_sample;
        Ok(json(report::render_track_record(&rows, ask.by.into(), ask.as_of, min_sample, Format::Json, None)))
    };
    cached(&state, ask.key("brokers-json"), compute).await
}

pub async fn api_brokers(State(state): AppState, Query(params): Query<Params>) -> Result<Response, ApiError> {
    let ask = TrackAsk::of(&state, &params)?;
    Ok(brokers_json(state, ask).await?)
}

/// `/brokers/<name>` (the router has decoded the percent-encoding): the broker's rules, its
/// track-record row and its calls; an unknown broker is a 404 listing the known ones.
pub async fn broker_page(State(state): AppState, Path(name): Path<String>, Query(params): Query<Params>) -> Response {
    let result = async {
        params.only(&["as_of"])?;
        let name = parse_broker_name(&name)?;
        let as_of = params.as_of()?.unwrap_or_else(|| state.today());
        let key = format!("broker-page {name:?} {as_of}");
        let compute = async {
            let facts = state.db(move |store, state| questions::broker(store, &state.config, &name, as_of)).await?;
            let body = report::rating_pages::broker(&report::BrokerPage {
                name: &facts.name,
                rules: facts.rules.as_ref(),
                row: facts.row.as_ref(),
                calls: &facts.calls,
                as_of,
                min_sample: state.config.ratings.min_sample,
            });
            Ok(answer(Representation::Html, pages::broker(&facts.name, body, as_of).into_string()))
        };
        cached(&state, key, compute).await
    }
    .await;
    result.unwrap_or_else(|error| failure(Representation::Html, error))
}
