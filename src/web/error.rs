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

impl From<PipelineError> for WebError {
    fn from(error: PipelineError) -> Self {
        match error {
            PipelineError::Analysis(AnalysisError::AsOfBeforeReport { .. }) => WebError::Unprocessable(error.to_string()),
            PipelineError::WeekBeforeReport { .. } | PipelineError::Analysis(_) => WebError::NotFound(error.to_string()),
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
        let page = super::pages::error_page(status, self.0.message());
        (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], page.into_string()).into_response()
    }
}
