//! Email: the report's HTML page as the body, its SVG chart as an inline PNG (mail clients
//! do not render SVG, and Gmail and Outlook drop `data:` images), the markdown as the plain
//! alternative. Sent with lettre over SMTP (rustls for TLS).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use resvg::{tiny_skia, usvg};
use sha2::{Digest, Sha256};

use super::Message;
use super::channel::{Channel, Target};
use super::deliver::{Attempted, Outcome};

/// The Content-ID the HTML body uses for the chart.
pub const CHART_CID: &str = "chart";

/// Families that cover Chinese; the chart's font stack asks for these first.
const CJK_FAMILIES: [&str; 9] = [
    "Noto Sans CJK",
    "Noto Serif CJK",
    "Source Han Sans",
    "WenQuanYi",
    "Droid Sans Fallback",
    "AR PL",
    "PingFang",
    "Microsoft YaHei",
    "Noto Sans SC",
];

/// The system fonts, loaded once (it reads every font file's header).
fn font_database() -> Arc<usvg::fontdb::Database> {
    static FONTS: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = usvg::fontdb::Database::new();
            db.load_system_fonts();
            Arc::new(db)
        })
        .clone()
}

/// Whether a loaded font covers Chinese (by family name).
pub fn has_cjk_font(db: &usvg::fontdb::Database) -> bool {
    db.faces().any(|face| face.families.iter().any(|(name, _)| CJK_FAMILIES.iter().any(|cjk| name.starts_with(cjk))))
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x2E80..=0x9FFF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF)
}

/// Chinese → English names found in a message's data (`name`/`name_en`, `rating`/`rating_en`,
/// `implied_rating`/`implied_rating_en` pairs anywhere in the JSON), longest first.
fn english_names(data: &serde_json::Value) -> Vec<(String, String)> {
    fn walk(value: &serde_json::Value, pairs: &mut Vec<(String, String)>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, value) in map {
                    if let (Some(zh), Some(en)) = (value.as_str(), map.get(&format!("{key}_en")).and_then(|v| v.as_str()))
                        && zh.chars().any(is_cjk)
                    {
                        pairs.push((zh.to_string(), en.to_string()));
                    }
                    walk(value, pairs);
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|item| walk(item, pairs)),
            _ => {}
        }
    }
    let mut pairs = Vec::new();
    walk(data, &mut pairs);
    pairs.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.cmp(b)));
    pairs.dedup();
    pairs
}

/// Replaces Chinese text a font-less machine cannot draw: known names by their English
/// names, anything left by nothing (better a shorter label than a row of boxes).
fn anglicise(svg: &str, names: &[(String, String)]) -> String {
    let mut out = svg.to_string();
    for (zh, en) in names {
        // The SVG is XML: an English name such as "chips & compute" must be escaped.
        out = out.replace(zh.as_str(), &crate::report::html_escape(en));
    }
    out.chars().filter(|c| !is_cjk(*c)).collect()
}

/// Rasterises an SVG at 2× for sharp text on high-density screens. With no CJK font on the
/// machine, Chinese names are replaced by the English ones from `data`.
pub fn svg_to_png(svg: &str, data: &serde_json::Value) -> Result<Vec<u8>, String> {
    let fontdb = font_database();
    let svg = if has_cjk_font(&fontdb) { svg.to_string() } else { anglicise(svg, &english_names(data)) };
    let options = usvg::Options { fontdb, ..usvg::Options::default() };
    let tree = usvg::Tree::from_str(&svg, &options).map_err(|e| format!("the chart SVG does not parse: {e}"))?;
    let size = tree.size().to_int_size();
    let scale = 2.0;
    let mut pixmap = tiny_skia::Pixmap::new(size.width() * 2, size.height() * 2).ok_or("the chart has no size")?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(&tree, tiny_skia::Transform::from_scale(scale, scale), &mut pixmap.as_mut());
    pixmap.encode_png().map_err(|e| format!("cannot encode the chart as PNG: {e}"))
}

/// The HTML body with its (first) inline SVG replaced by `<img src="cid:chart">`, and the
/// SVG itself; `None` when the page has no chart.
pub fn extract_chart(html: &str) -> (String, Option<String>) {
    let Some(start) = html.find("<svg") else { return (html.to_string(), None) };
    let Some(end) = html[start..].find("</svg>").map(|i| start + i + "</svg>".len()) else { return (html.to_string(), None) };
    let svg = html[start..end].to_string();
    let img = format!(
        r#"<img src="cid:{CHART_CID}" alt="chart: excess return since the report date" width="600" style="width:100%;max-width:600px;height:auto">"#
    );
    (format!("{}{img}{}", &html[..start], &html[end..]), Some(svg))
}

/// The `Message-ID` of part `part` of the message with outbox dedup key `dedup_key`:
/// `<` + the first 32 hex digits of SHA-256(`{dedup_key}:{part}`) + `@ratingwatch>`. The same
/// on every attempt, so a resend after a kill between the server's acceptance and the outbox
/// commit carries the same id, and servers and mail clients that collapse duplicates by
/// `Message-ID` show it once.
pub fn message_id(dedup_key: &str, part: u32) -> String {
    let digest = Sha256::digest(format!("{dedup_key}:{part}").as_bytes());
    let hex: String = digest.iter().take(16).map(|byte| format!("{byte:02x}")).collect();
    format!("<{hex}@ratingwatch>")
}

/// Builds the email for `message` (one part: an email is never split), with the stable
/// [`message_id`] of its dedup key.
pub fn build(message: &Message, from: &str, to: &[String]) -> Result<lettre::Message, String> {
    let from: Mailbox = from.parse().map_err(|e| format!("from address `{from}`: {e}"))?;
    let mut builder = lettre::Message::builder().from(from).subject(message.title.clone()).message_id(Some(message_id(&message.id, 0)));
    for address in to {
        builder = builder.to(address.parse().map_err(|e| format!("to address `{address}`: {e}"))?);
    }
    let plain = SinglePart::plain(message.plain.clone().unwrap_or_else(|| message.markdown.clone()));
    let body = match &message.html {
        None => MultiPart::alternative()
            .singlepart(plain)
            .singlepart(SinglePart::html(format!("<pre>{}</pre>", crate::report::html_escape(&message.markdown)))),
        Some(html) => {
            let (html, svg) = extract_chart(html);
            let png = svg.map(|svg| svg_to_png(&svg, &message.data)).transpose()?;
            match png {
                Some(png) => MultiPart::alternative().singlepart(plain).multipart(
                    MultiPart::related().singlepart(SinglePart::html(html)).singlepart(
                        Attachment::new_inline(CHART_CID.to_string())
                            .body(png, ContentType::parse("image/png").expect("a valid MIME type")),
                    ),
                ),
                None => MultiPart::alternative().singlepart(plain).singlepart(SinglePart::html(html)),
            }
        }
    };
    builder.multipart(body).map_err(|e| format!("cannot build the email: {e}"))
}

/// Sends `message` by SMTP. SMTP 5xx answers are permanent; 4xx, timeouts and connection
/// failures are retried.
pub async fn send(channel: &Channel, message: &Message, timeout: Duration) -> Attempted {
    let Target::Email { smtp_url, password, from, to } = &channel.target else {
        return Attempted { outcome: Outcome::Permanent { reason: "not an email channel".to_string() }, http_status: None };
    };
    let email = match build(message, from, to) {
        Ok(email) => email,
        Err(reason) => return Attempted { outcome: Outcome::Permanent { reason }, http_status: None },
    };
    let transport = match transport(smtp_url, password.as_ref().map(|p| p.expose()), timeout) {
        Ok(transport) => transport,
        Err(reason) => return Attempted { outcome: Outcome::Permanent { reason }, http_status: None },
    };
    let outcome = match transport.send(email).await {
        Ok(response) => Outcome::Accepted { answer: format!("{} {}", response.code(), response.message().collect::<Vec<_>>().join(" ")) },
        Err(error) if error.is_permanent() => Outcome::Permanent { reason: format!("SMTP rejected the message: {error}") },
        Err(error) => Outcome::Retry { after: None, reason: format!("SMTP: {error}") },
    };
    Attempted { outcome, http_status: None }
}

/// The transport for `smtp_url`; the user name comes from the URL, the password from the
/// environment (never from the URL: config validation rejects one there).
fn transport(smtp_url: &str, password: Option<&str>, timeout: Duration) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let mut parsed = url::Url::parse(smtp_url).map_err(|e| format!("smtp_url: {e}"))?;
    let user = percent_encoding::percent_decode_str(parsed.username()).decode_utf8_lossy().to_string();
    let _ = parsed.set_username("");
    let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(parsed.as_str()).map_err(|e| format!("smtp_url: {e}"))?;
    let builder = match password {
        Some(password) => builder.credentials(Credentials::new(user, password.to_string())),
        None => builder,
    };
    Ok(builder.timeout(Some(timeout)).build())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: &str) -> Message {
        Message {
            id: id.to_string(),
            event: crate::config::EventKind::WeeklySummary,
            report_id: Some("r".to_string()),
            occurred_at: chrono::DateTime::from_timestamp(1_681_700_000, 0).unwrap(),
            title: "Weekly summary".to_string(),
            markdown: "# Weekly summary".to_string(),
            data: serde_json::Value::Null,
            html: None,
            plain: None,
            digest: None,
            pointer: String::new(),
        }
    }

    /// The `Message-ID` header of the email built for a message with dedup key `id`.
    fn built_message_id(id: &str) -> String {
        let email = build(&message(id), "ratingwatch <bot@example.com>", &["team@example.com".to_string()]).unwrap();
        let formatted = String::from_utf8(email.formatted()).unwrap();
        let line =
            formatted.lines().find(|line| line.starts_with("Message-ID: ")).unwrap_or_else(|| panic!("no Message-ID in {formatted}"));
        line["Message-ID: ".len()..].to_string()
    }

    #[test]
    fn the_message_id_is_stable_across_a_resend_and_comes_from_the_dedup_key() {
        let key = "weekly_summary:r:2023-W20:mail";
        let first = built_message_id(key);
        // A resend after a kill builds the email again from the same outbox row.
        assert_eq!(first, built_message_id(key));
        assert_ne!(first, built_message_id("weekly_summary:r:2023-W21:mail"));
        let local = first.strip_prefix('<').and_then(|id| id.strip_suffix("@ratingwatch>")).unwrap_or_else(|| panic!("{first}"));
        assert_eq!(local.len(), 32, "{first}");
        assert!(local.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()), "{first}");
        // SHA-256 of `weekly_summary:r:2023-W20:mail:0`, first 32 hex digits.
        assert_eq!(first, "<439ec260128e87373fb93bc89667d933@ratingwatch>");
    }

    #[test]
    fn the_chart_becomes_a_cid_image() {
        let (html, svg) = extract_chart("<p>a</p><figure><svg width=\"10\" height=\"10\"><rect/></svg></figure><p>b</p>");
        assert_eq!(svg.as_deref(), Some("<svg width=\"10\" height=\"10\"><rect/></svg>"));
        assert!(html.contains("<img src=\"cid:chart\"") && html.starts_with("<p>a</p>") && html.ends_with("<p>b</p>"), "{html}");
        assert_eq!(extract_chart("<p>no chart</p>").1, None);
    }

    #[test]
    fn chinese_names_fall_back_to_english_ones_from_the_data() {
        let data = serde_json::json!({"sectors": [{"name": "芯片算力", "name_en": "chips & compute"}], "rating": "看好", "rating_en": "overweight"});
        let svg = "<text>芯片算力</text><text>看好 ≥ +10 pp</text><text>ChatGPT研究框架</text>";
        assert_eq!(
            anglicise(svg, &english_names(&data)),
            "<text>chips &amp; compute</text><text>overweight ≥ +10 pp</text><text>ChatGPT</text>"
        );
    }

    #[test]
    fn an_svg_rasterises_to_a_png() {
        let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" width="20" height="10"><rect width="20" height="10" fill="red"/></svg>"#;
        let png = svg_to_png(svg, &serde_json::Value::Null).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        // IHDR: width and height at 2×.
        assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), 40);
        assert_eq!(u32::from_be_bytes(png[20..24].try_into().unwrap()), 20);
    }
}
