//! Errors as HTTP answers: JSON (`{"status", "error", "message"}`) for the API and downloads,
//! an HTML page for the dashboard. Messages name what was asked for and never carry a path
//! or a secret; internal failures are logged in full and answered in general terms.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::analysis::AnalysisError;
use crate::pipeline::PipelineError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WebError {
    /// 401: no or a wrong bearer token.
    Unauthorized(String),
    /// 404: an unknown report, week, symbol or page.
    NotFound(String),
    /// 400: a malformed date, week or parameter.
    BadRequest(String),
    /// 422: a well-formed question the data cannot answer (an as-of before the report date).
    Unprocessable(String),
    /// 503: the database cannot be opened (not created yet, or being migrated).
    Unavailable(String),
    /// 500: a bug or a broken database; the detail is in the log.
    Internal(String),
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            WebError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            WebError::Unauthorized(m)
            | WebError::NotFound(m)
            | WebError::BadRequest(m)
            | WebError::Unprocessable(m)
            | WebError::Unavailable(m)
            | WebError::Internal(m) => m,
        }
    }

    /// A store failure: logged in full, answered without detail.
    pub fn internal(error: impl std::fmt::Display) -> WebError {
        tracing::error!(%error, "web request failed");
        WebError::Internal("the database could not answer; the server log has the detail".to_string())
    }
}

impl From<crate::store::StoreError> for WebError {
    fn from(error: crate::store::StoreError) -> Self {
        WebError::internal(error)
    }
}

/// The analysis decides what a question's data cannot answer (an as-of or a week before the
/// report, no benchmark or member prices); the web only words the fix as a query parameter
/// or page rather than a command-line flag.
impl From<PipelineError> for WebError {
    fn from(error: PipelineError) -> Self {
        match error {
            PipelineError::Analysis(AnalysisError::AsOfBeforeReport { report_id, as_of, report_date }) => WebError::Unprocessable(format!(
                "as-of date {as_of} is before the report date {report_date} of `{report_id}`; use as_of={report_date} or later"
            )),
            PipelineError::WeekBeforeReport { report_id, week, report_date, .. } => WebError::NotFound(format!(
                "no week {week} for `{report_id}`: it ends before the report date {report_date}; the first week is {}",
                crate::ids::Week::first_friday_on_or_after(report_date)
            )),
            PipelineError::Analysis(_) => WebError::NotFound(error.to_string()),
            PipelineError::Store(error) => WebError::internal(error),
        }
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    status: u16,
    error: &'a str,
    message: &'a str,
}

/// The JSON form, for `/api/v1/` and downloads.
pub struct ApiError(pub WebError);

impl From<WebError> for ApiError {
    fn from(error: WebError) -> Self {
        ApiError(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_error(&self.0)
    }
}

pub fn json_error(error: &WebError) -> Response {
    let status = error.status();
    let body = ErrorBody { status: status.as_u16(), error: status.canonical_reason().unwrap_or("error"), message: error.message() };
    let text = serde_json::to_string_pretty(&body).unwrap_or_default() + "\n";
    (status, [(header::CONTENT_TYPE, "application/json")], text).into_response()
}

/// The HTML form, for dashboard pages.
pub struct PageError(pub WebError);

impl From<WebError> for PageError {
    fn from(error: WebError) -> Self {
        PageError(error)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let page = super::frame::error_page(status, self.0.message());
        (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], page.into_string()).into_response()
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn what_the_analysis_refuses_is_a_client_error_worded_for_the_web() {
        let early = WebError::from(PipelineError::Analysis(AnalysisError::AsOfBeforeReport {
            report_id: "r".to_string(),
            as_of: date("2023-02-13"),
            report_date: date("2023-02-14"),
        }));
        assert_eq!(early.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(early.message(), "as-of date 2023-02-13 is before the report date 2023-02-14 of `r`; use as_of=2023-02-14 or later");
        // Tuesday 2023-02-14: its Friday is in 2023-W07, the first week.
        let week = WebError::from(PipelineError::WeekBeforeReport {
            report_id: "r".to_string(),
            week: "2023-W06".parse().unwrap(),
            cutoff: date("2023-02-10"),
            report_date: date("2023-02-14"),
            instead: "--week 2023-W07 or later".to_string(),
        });
        assert_eq!(week.status(), StatusCode::NOT_FOUND);
        assert_eq!(week.message(), "no week 2023-W06 for `r`: it ends before the report date 2023-02-14; the first week is 2023-W07");
        let no_benchmark = WebError::from(PipelineError::Analysis(AnalysisError::NoBenchmarkPrices {
            symbol: crate::symbol::Symbol::parse("000300.SH").unwrap(),
            name: "沪深300".to_string(),
            date: date("2023-02-14"),
        }));
        assert_eq!(no_benchmark.status(), StatusCode::NOT_FOUND);
        assert!(no_benchmark.message().starts_with("no prices for the benchmark 沪深300 (000300.SH) on or before 2023-02-14"));
    }
}
