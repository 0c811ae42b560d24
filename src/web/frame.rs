//! The frame every dashboard page shares (navigation, stylesheet) and the error page. It
//! imports nothing from the rest of `web`, so `error.rs` can render a page without the page
//! module (which depends on request parameters and questions, which depend on errors).

use axum::http::StatusCode;
use maud::{DOCTYPE, Markup, html};

/// Which item of the navigation is current.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Ledger,
    Reports,
    Ratings,
    Brokers,
    Status,
    Api,
    None,
}

/// The CSS served at `/assets/style.css`: the report pages' own style, plus the frame's.
pub fn stylesheet() -> String {
    format!("{}{WEB_STYLE}", crate::report::HTML_STYLE)
}

const WEB_STYLE: &str = r#"header.site { background: #1f2937; color: #fff; }
header.site nav { max-width: 1100px; margin: 0 auto; padding: 10px 24px; display: flex; flex-wrap: wrap; gap: 4px 18px; align-items: baseline; }
header.site a { color: #e5e7eb; text-decoration: none; }
header.site a.brand { font-weight: 600; color: #fff; margin-right: 12px; }
header.site a[aria-current] { color: #fff; border-bottom: 2px solid #60a5fa; }
main table { display: block; max-width: 100%; overflow-x: auto; }
a { color: #1d4ed8; }
.toolbar { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; margin: 0 0 14px; font-size: 14px; color: #444; }
.toolbar form { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
.toolbar input, .toolbar select, .toolbar button { font: inherit; padding: 2px 6px; }
.downloads a { margin-right: 8px; }
.notice { background: #fff7e6; border: 1px solid #f0c36d; padding: 8px 12px; margin: 8px 0 16px; }
.error h1 { color: #b91c1c; }
footer.site { max-width: 1100px; margin: 0 auto; padding: 12px 24px 32px; color: #666; font-size: 13px; }
@media (max-width: 600px) {
  main { padding: 14px; } h1 { font-size: 19px; } body { font-size: 14px; }
}
"#;

/// The icon at `/favicon.svg` (and `/favicon.ico`, which browsers ask for unprompted): a
/// rising line over a dashed band line.
pub const FAVICON: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#1f2937"/><path d="M4 12h24" stroke="#60a5fa" stroke-width="2" stroke-dasharray="3 2"/><path d="M4 26l8-7 6 4 10-16" fill="none" stroke="#fff" stroke-width="3" stroke-linejoin="round"/></svg>"##;

/// The frame every page shares.
pub fn layout(title: &str, nav: Nav, toolbar: Option<Markup>, body: Markup) -> Markup {
    let item = |target: Nav, href: &str, label: &str| {
        html! { a href=(href) aria-current=[(nav == target).then_some("page")] { (label) } }
    };
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · ratingwatch" }
                link rel="stylesheet" href="/assets/style.css";
                link rel="icon" type="image/svg+xml" href="/favicon.svg";
            }
            body {
                header.site {
                    nav {
                        a.brand href="/" { "ratingwatch" }
                        (item(Nav::Ledger, "/", "Ledger"))
                        (item(Nav::Reports, "/reports", "Reports"))
                        (item(Nav::Ratings, "/ratings", "Ratings"))
                        (item(Nav::Brokers, "/brokers", "Brokers"))
                        (item(Nav::Status, "/status", "Status"))
                        (item(Nav::Api, "/api", "API"))
                    }
                }
                main {
                    @if let Some(toolbar) = toolbar { div.toolbar { (toolbar) } }
                    (body)
                }
                footer.site { "Read-only. Numbers are computed from the stored prices on each request, as the command line computes them." }
            }
        }
    }
}

/// The page shown for an error status; `message` is escaped like every interpolation.
pub fn error_page(status: StatusCode, message: &str) -> Markup {
    let content = html! {
        div.error {
            h1 { (status.as_u16()) " " (status.canonical_reason().unwrap_or("error")) }
            p { (message) }
            p { a href="/" { "Back to the ledger" } }
        }
    };
    layout(status.canonical_reason().unwrap_or("Error"), Nav::None, None, content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_pages_escape_the_message() {
        let page = error_page(StatusCode::NOT_FOUND, "no report `<script>alert(1)</script>`").into_string();
        assert!(page.contains("no report `&lt;script&gt;alert(1)&lt;/script&gt;`"), "{page}");
        assert!(!page.contains("<script>"));
    }
}
