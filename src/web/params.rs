//! Request inputs parsed into the program's own validated types before any lookup: report
//! ids and ISO weeks ([`crate::ids`]), dates, symbols, currencies and download formats. Nothing from a request
//! reaches the file system; a path segment that is not a well-formed id is simply unknown.

use chrono::NaiveDate;

use super::error::WebError;
use crate::analysis::model::CurrencyMode;
use crate::analysis::ratings::GroupBy;
pub use crate::ids::{ReportId, Week};
use crate::symbol::Symbol;

/// A report id in a path: the catalog's form ([`ReportId`]) or a 404 — a segment that is
/// not a well-formed id (`../etc/passwd`) cannot name a report.
pub fn parse_report_id(text: &str) -> Result<ReportId, WebError> {
    ReportId::parse(text).map_err(|_| WebError::NotFound(format!("no report `{}`", shown(text))))
}

/// An ISO week in a path, `2023-W20`; a malformed or nonexistent week is a 400 showing the form.
pub fn parse_week(text: &str) -> Result<Week, WebError> {
    text.parse::<Week>().map_err(|_| WebError::BadRequest(format!("`{}` is not a week; expected the form 2023-W20", shown(text))))
}

/// A date query parameter (`as_of`, `from`, `to`); `name` is the parameter, for the message.
pub fn parse_date(name: &str, text: &str) -> Result<NaiveDate, WebError> {
    crate::ids::parse_date(text, shown).map_err(|error| WebError::BadRequest(format!("{name}: {error}")))
}

/// A query parameter `name` the route does not take: a 400 naming it and the ones it takes
/// (`known`), rather than silently answering as if it were absent.
pub fn unknown_parameter(name: &str, known: &[&str]) -> WebError {
    let takes = if known.is_empty() { "none".to_string() } else { known.join(", ") };
    WebError::BadRequest(format!("unknown query parameter `{}`; this address takes: {takes}", shown(name)))
}

/// A symbol in a path (forgiving input, as on the command line); one that cannot name a
/// security is a 404.
pub fn parse_symbol(text: &str) -> Result<Symbol, WebError> {
    Symbol::parse(text).map_err(|_| WebError::NotFound(format!("no security `{}`", shown(text))))
}

/// A symbol query parameter (`symbol=`, forgiving input as `--symbol`); one that cannot name a
/// security is a 400 naming the parameter.
pub fn parse_symbol_param(name: &str, text: &str) -> Result<Symbol, WebError> {
    Symbol::parse(text).map_err(|error| WebError::BadRequest(format!("{name}: {error}")))
}

/// `by=broker|analyst|rating`, as `ratings track-record --by` (default broker).
pub fn parse_group_by(text: Option<&str>) -> Result<GroupBy, WebError> {
    const WORDS: [(&str, GroupBy); 3] = [("broker", GroupBy::Broker), ("analyst", GroupBy::Analyst), ("rating", GroupBy::Rating)];
    match text.map(str::trim) {
        None | Some("") => Ok(GroupBy::Broker),
        Some(word) => WORDS.iter().find(|(name, _)| *name == word).map(|(_, by)| *by).ok_or_else(|| {
            let names: Vec<&str> = WORDS.iter().map(|(name, _)| *name).collect();
            WebError::BadRequest(format!("by: `{}` is not {}", shown(word), crate::text::one_of(&names)))
        }),
    }
}

/// A broker's name in a path (decoded from its percent-encoding by the router): trimmed; an
/// empty one, or one with a control character, names no broker (404).
pub fn parse_broker_name(text: &str) -> Result<String, WebError> {
    let name = text.trim();
    if name.is_empty() || name.chars().any(char::is_control) || name.chars().count() > 100 {
        return Err(WebError::NotFound(format!("no broker `{}`", shown(name))));
    }
    Ok(name.to_string())
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
        let parsed = parse_report_id(text);
        assert_eq!(parsed.is_ok(), ok, "{text}");
        if let Err(error) = parsed {
            assert_eq!(error.status(), axum::http::StatusCode::NOT_FOUND);
        }
    }

    #[test]
    fn weeks_dates_and_currencies_explain_the_expected_form() {
        assert_eq!(parse_week("2023-W20").unwrap().to_string(), "2023-W20");
        assert_eq!(parse_week("2023-w5").unwrap().to_string(), "2023-W05");
        for bad in ["2023-W53", "2023-20", "../x", "2023-W20.txt"] {
            let error = parse_week(bad).unwrap_err();
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

    #[test]
    fn groupings_symbols_and_broker_names_are_checked_at_the_edge() {
        assert_eq!(parse_group_by(None).unwrap(), GroupBy::Broker);
        assert_eq!(parse_group_by(Some(" analyst ")).unwrap(), GroupBy::Analyst);
        let error = parse_group_by(Some("Desk")).unwrap_err();
        assert_eq!((error.status(), error.message()), (axum::http::StatusCode::BAD_REQUEST, "by: `Desk` is not broker, analyst or rating"));
        let error = parse_symbol_param("symbol", "600941.XX").unwrap_err();
        assert!(error.message().starts_with("symbol: `600941.XX` is not a symbol"), "{error:?}");
        assert_eq!(parse_broker_name(" 中信建投 ").unwrap(), "中信建投");
        for bad in ["", "  ", "a\u{7}b"] {
            assert_eq!(parse_broker_name(bad).unwrap_err().status(), axum::http::StatusCode::NOT_FOUND, "{bad:?}");
        }
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
