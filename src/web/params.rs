//! Request inputs parsed into the program's own validated types before any lookup: report
//! ids, ISO weeks, dates, symbols, currencies and download formats. Nothing from a request
//! reaches the file system; a path segment that is not a well-formed id is simply unknown.

use chrono::NaiveDate;

use super::error::WebError;
use crate::analysis::model::CurrencyMode;
use crate::pipeline::{self, WeekSelection};
use crate::symbol::Symbol;

/// A report id in the catalog's form: lowercase letters, digits, `-` and `_`, at most 80
/// characters, not starting with `-`. Anything else cannot name a report, so it is a 404.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportId(String);

impl ReportId {
    pub fn parse(text: &str) -> Result<ReportId, WebError> {
        let ok = !text.is_empty()
            && text.len() <= 80
            && !text.starts_with('-')
            && text.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if ok { Ok(ReportId(text.to_string())) } else { Err(WebError::NotFound(format!("no report `{}`", shown(text)))) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ReportId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An ISO week, `2023-W20`. A malformed or nonexistent week is a 400 showing the form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IsoWeek {
    pub year: i32,
    pub week: u32,
}

impl IsoWeek {
    pub fn parse(text: &str) -> Result<IsoWeek, WebError> {
        match pipeline::parse_week(text) {
            Ok(WeekSelection::Week { year, week }) => Ok(IsoWeek { year, week }),
            _ => Err(WebError::BadRequest(format!("`{}` is not a week; expected the form 2023-W20", shown(text)))),
        }
    }

    pub fn selection(self) -> WeekSelection {
        WeekSelection::Week { year: self.year, week: self.week }
    }

    /// `2023-W20`, the form used in URLs and file names.
    pub fn label(self) -> String {
        format!("{:04}-W{:02}", self.year, self.week)
    }
}

/// A date query parameter (`as_of`, `from`, `to`); `name` is the parameter, for the message.
pub fn parse_date(name: &str, text: &str) -> Result<NaiveDate, WebError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| WebError::BadRequest(format!("{name}: `{}` is not a date; expected the form 2023-05-19", shown(text))))
}

/// A symbol in a path (forgiving input, as on the command line); one that cannot name a
/// security is a 404.
pub fn parse_symbol(text: &str) -> Result<Symbol, WebError> {
    Symbol::parse(text).map_err(|_| WebError::NotFound(format!("no security `{}`", shown(text))))
}

/// `currency=cny|local`, as `--currency` on the command line.
pub fn parse_currency(text: Option<&str>) -> Result<CurrencyMode, WebError> {
    match text.map(str::trim) {
        None | Some("") | Some("cny") => Ok(CurrencyMode::Cny),
        Some("local") => Ok(CurrencyMode::Local),
        Some(other) => Err(WebError::BadRequest(format!("currency: `{}` is neither cny nor local", shown(other)))),
    }
}

/// What a page is answered as: the page itself, or one of its downloads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Representation {
    Html,
    Json,
    Csv,
    Markdown,
}

impl Representation {
    /// Splits a download suffix off the last path segment: `2023-W20.json` → (`2023-W20`, JSON).
    /// Ids and weeks never contain a dot, so a segment with any other suffix stays whole (and
    /// fails to parse as an id or week).
    pub fn split(segment: &str) -> (&str, Option<Representation>) {
        for (suffix, representation) in [(".json", Representation::Json), (".csv", Representation::Csv), (".md", Representation::Markdown)]
        {
            if let Some(stem) = segment.strip_suffix(suffix) {
                return (stem, Some(representation));
            }
        }
        (segment, None)
    }

    /// From the `Accept` header when the URL has no suffix: HTML unless the client asks only
    /// for JSON, CSV or markdown (a browser always lists text/html).
    pub fn from_accept(accept: Option<&str>) -> Representation {
        let Some(accept) = accept else { return Representation::Html };
        let types: Vec<&str> = accept.split(',').map(|part| part.split(';').next().unwrap_or("").trim()).collect();
        if types.iter().any(|t| *t == "text/html" || *t == "application/xhtml+xml") {
            return Representation::Html;
        }
        for t in types {
            match t {
                "application/json" => return Representation::Json,
                "text/csv" => return Representation::Csv,
                "text/markdown" => return Representation::Markdown,
                _ => {}
            }
        }
        Representation::Html
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Representation::Html => "text/html; charset=utf-8",
            Representation::Json => "application/json",
            Representation::Csv => "text/csv; charset=utf-8",
            Representation::Markdown => "text/markdown; charset=utf-8",
        }
    }

    pub fn suffix(self) -> &'static str {
        match self {
            Representation::Html => "",
            Representation::Json => ".json",
            Representation::Csv => ".csv",
            Representation::Markdown => ".md",
        }
    }
}

/// User input echoed in a message: at most 60 characters, control characters dropped
/// (the message is then escaped by whatever renders it).
fn shown(text: &str) -> String {
    let mut out: String = text.chars().filter(|c| !c.is_control()).take(60).collect();
    if text.chars().count() > 60 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case("zheshang-2023-02-14-chatgpt", true)]
    #[case("a_b-1", true)]
    #[case("../../etc/passwd", false)]
    #[case("..", false)]
    #[case("a/b", false)]
    #[case("a.json", false)]
    #[case("-x", false)]
    #[case("Upper", false)]
    #[case("", false)]
    #[case("报告", false)]
    fn report_ids_take_the_catalog_form_only(#[case] text: &str, #[case] ok: bool) {
        let parsed = ReportId::parse(text);
        assert_eq!(parsed.is_ok(), ok, "{text}");
        if let Err(error) = parsed {
            assert_eq!(error.status(), axum::http::StatusCode::NOT_FOUND);
        }
    }

    #[test]
    fn weeks_dates_and_currencies_explain_the_expected_form() {
        assert_eq!(IsoWeek::parse("2023-W20").unwrap().label(), "2023-W20");
        assert_eq!(IsoWeek::parse("2023-w5").unwrap().label(), "2023-W05");
        for bad in ["2023-W53", "2023-20", "../x", "2023-W20.txt"] {
            let error = IsoWeek::parse(bad).unwrap_err();
            assert_eq!(error.status(), axum::http::StatusCode::BAD_REQUEST);
            assert!(error.message().contains("2023-W20"), "{error:?}");
        }
        let error = parse_date("as_of", "2023-13-01").unwrap_err();
        assert!(error.message().contains("as_of") && error.message().contains("2023-05-19"), "{error:?}");
        assert_eq!(parse_currency(Some("local")).unwrap(), CurrencyMode::Local);
        assert!(parse_currency(Some("usd")).is_err());
        let long = "x".repeat(100);
        // 100 characters of input are shown as 60 and an ellipsis.
        let message = parse_date("as_of", &long).unwrap_err().message().to_string();
        assert!(message.contains(&format!("`{}…`", "x".repeat(60))), "{message}");
    }

    #[rstest]
    #[case("2023-W20.json", "2023-W20", Some(Representation::Json))]
    #[case("x.csv", "x", Some(Representation::Csv))]
    #[case("x.md", "x", Some(Representation::Markdown))]
    #[case("x", "x", None)]
    #[case("x.html", "x.html", None)]
    fn suffixes_pick_downloads(#[case] segment: &str, #[case] stem: &str, #[case] representation: Option<Representation>) {
        assert_eq!(Representation::split(segment), (stem, representation));
    }

    #[rstest]
    #[case(None, Representation::Html)]
    #[case(Some("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"), Representation::Html)]
    #[case(Some("application/json"), Representation::Json)]
    #[case(Some("text/csv"), Representation::Csv)]
    #[case(Some("text/markdown; charset=utf-8"), Representation::Markdown)]
    #[case(Some("*/*"), Representation::Html)]
    fn accept_headers_pick_downloads(#[case] accept: Option<&str>, #[case] expected: Representation) {
        assert_eq!(Representation::from_accept(accept), expected);
    }
}
