//! A newly stored broker rating as news (the `broker_rating` notification): a title that
//! leads with the answer (who upgraded whom to what), then the broker, analysts, date, the
//! broker's word and Eastmoney's normalised one, the target price, the broker's own rule for
//! that word (band, benchmark and horizon from the broker book), the PDF and where to look
//! next. Markdown, plain text or HTML through the shared document model; pure.

use super::Format;
use super::doc::{Document, markdown_inline};
use super::numbers::{close, threshold};
use crate::analysis::ratings::prepare;
use crate::catalog::Band;
use crate::ratings::{BrokerBook, Change, RatingRecord};

/// The formats [`render_rating_news`] writes.
pub const RATING_NEWS_FORMATS: &[Format] = &[Format::Table, Format::Markdown, Format::Html];

/// One rating to announce, with what the renderers need beyond the record.
#[derive(Clone, Debug, PartialEq)]
pub struct RatingNews<'a> {
    pub record: &'a RatingRecord,
    /// The broker's rule for the word ([`rule_for_word`]).
    pub rule: String,
    /// Where to see every rating on the company.
    pub pointer: String,
}

impl<'a> RatingNews<'a> {
    pub fn new(record: &'a RatingRecord, book: &BrokerBook, pointer: String) -> RatingNews<'a> {
        RatingNews { record, rule: rule_for_word(record, book), pointer }
    }
}

/// The word a rating is announced with: the broker's own (`sRatingName`), else Eastmoney's
/// normalised word, else `no rating stated`.
fn word(record: &RatingRecord) -> &str {
    match record.rating.trim() {
        "" => record.normalized.as_deref().filter(|w| !w.trim().is_empty()).unwrap_or("no rating stated"),
        word => word,
    }
}

/// `国泰君安 upgrades 中国移动 (600941.SH) to 增持 (was 中性)`; `国泰君安 first coverage:
/// 中国移动 (600941.SH) 买入`. The previous word is Eastmoney's normalised one (the list gives
/// no other).
pub fn rating_news_title(record: &RatingRecord) -> String {
    let company = format!("{} ({})", record.name, record.symbol);
    let previous = record.previous.as_deref().filter(|p| !p.trim().is_empty()).unwrap_or("?");
    let (broker, word) = (&record.broker, word(record));
    match record.change {
        Change::FirstCoverage => format!("{broker} first coverage: {company} {word}"),
        Change::Up => format!("{broker} upgrades {company} to {word} (was {previous})"),
        Change::Down => format!("{broker} downgrades {company} to {word} (was {previous})"),
        Change::Maintained => format!("{broker} maintains {company} at {word}"),
    }
}

/// `≥ +15 pp`, `≥ +5 pp and < +15 pp`, `≤ -5 pp`: the excess a band stands for.
fn band_range(band: &Band) -> String {
    let lower = band.lower.map(|b| format!("{} {}", if b.inclusive { "≥" } else { ">" }, threshold(b.bp)));
    let upper = band.upper.map(|b| format!("{} {}", if b.inclusive { "≤" } else { "<" }, threshold(b.bp)));
    match (lower, upper) {
        (Some(lower), Some(upper)) => format!("{lower} and {upper}"),
        (Some(one), None) | (None, Some(one)) => one,
        (None, None) => "any".to_string(),
    }
}

/// The broker's rule for the record's word: `增持 = excess over 沪深300 (000300.SH) ≥ +15 pp
/// within 12 months`, from the same preparation that scores the call; else why there is none
/// (`broker rule unknown: …`, `word not in the rule: …`, `rule qualitative: …`).
pub fn rule_for_word(record: &RatingRecord, book: &BrokerBook) -> String {
    match prepare(record, book) {
        Ok((report, horizon)) => {
            let rule = &report.rule;
            let band = rule.bands.get(report.rating.0).map(band_range).unwrap_or_else(|| "–".to_string());
            let within = if horizon.min_months == horizon.max_months {
                format!("within {} months", horizon.min_months)
            } else {
                format!("within {}", horizon.note())
            };
            format!(
                "{word} = excess over {benchmark} ({symbol}) {band} {within}",
                word = record.rating.trim(),
                benchmark = rule.benchmark_name,
                symbol = rule.benchmark,
            )
        }
        Err(unscored) => unscored.reason.unwrap_or_else(|| "broker rule unknown".to_string()),
    }
}

/// What the message says, line by line: (label, text to escape, raw URL or command).
fn lines(news: &RatingNews<'_>) -> Vec<(String, Option<String>)> {
    let r = news.record;
    let broker = if r.broker_full.trim().is_empty() || r.broker_full == r.broker {
        r.broker.clone()
    } else {
        format!("{} ({})", r.broker, r.broker_full)
    };
    let analysts = if r.analysts.trim().is_empty() { "not named".to_string() } else { r.analysts.replace(',', ", ") };
    let normalized = match (&r.normalized, &r.previous) {
        (Some(now), Some(before)) if !before.trim().is_empty() => format!("{now} (previously {before})"),
        (Some(now), _) => format!("{now} (no previous rating)"),
        (None, _) => "none".to_string(),
    };
    let change: &'static str = r.change.into();
    vec![
        (format!("broker: {broker}"), None),
        (format!("analysts: {analysts}"), None),
        (format!("published: {}", r.date), None),
        (format!("rating: {} (the broker's word), {}", word(r), change.replace('_', " ")), None),
        (format!("Eastmoney's normalised rating: {normalized}"), None),
        (format!("target price: {}", r.target_price.map(close).unwrap_or_else(|| "none stated".to_string())), None),
        (format!("broker's rule: {}", news.rule), None),
        (format!("report: {}", r.title), None),
        ("PDF: ".to_string(), Some(r.pdf_url.clone())),
    ]
}

fn method(record: &RatingRecord) -> String {
    format!(
        "announced once per rating (info code {}), when first stored and published within ratings.announce_within_days of the sync; \
         the change compares Eastmoney's normalised values with the same broker's previous rating",
        record.info_code
    )
}

/// The message in `format`: plain text (`table`), HTML, or markdown (every other format).
/// Markdown leaves the PDF link and the pointer unescaped, so chat platforms keep them whole.
pub fn render_rating_news(news: &RatingNews<'_>, format: Format) -> String {
    let r = news.record;
    let lines = lines(news);
    let pointer = format!("every rating on {}: ", r.symbol);
    if !matches!(format, Format::Table | Format::Html) {
        let mut out = format!("### {}\n\n", markdown_inline(&rating_news_title(r)));
        for (text, raw) in &lines {
            out.push_str(&format!("- {}{}\n", markdown_inline(text), raw.as_deref().unwrap_or("")));
        }
        out.push_str(&format!("\n{}`{}`\n\nMethod: {}\n", markdown_inline(&pointer), news.pointer, markdown_inline(&method(r))));
        return out;
    }
    let mut doc = Document::new(rating_news_title(r));
    doc.bullets(lines.into_iter().map(|(text, raw)| text + raw.as_deref().unwrap_or("")).collect());
    doc.text(pointer + &news.pointer);
    doc.method(&method(r));
    if format == Format::Html { doc.to_html() } else { doc.to_terminal_within(None) }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::symbol::Symbol;

    fn record(broker: &str, word: &str, change: Change, previous: Option<&str>) -> RatingRecord {
        RatingRecord {
            info_code: "AP202312071234567890".into(),
            symbol: Symbol::parse("600941.SH").unwrap(),
            name: "中国移动".into(),
            broker: broker.into(),
            broker_full: format!("{broker}证券股份有限公司"),
            analysts: "张三,李四".into(),
            date: NaiveDate::from_ymd_opt(2023, 12, 7).unwrap(),
            rating: word.into(),
            normalized: Some("买入".into()),
            normalized_value: Some(3),
            previous: previous.map(str::to_string),
            previous_value: previous.map(|_| 2),
            change,
            target_price: Some(120.5),
            title: "点评：算力网络领航".into(),
            pdf_url: crate::ratings::pdf_url("AP202312071234567890"),
        }
    }

    #[test]
    fn the_title_leads_with_who_changed_what() {
        let book = BrokerBook::load(None).unwrap();
        let up = record("国泰君安", "增持", Change::Up, Some("中性"));
        assert_eq!(rating_news_title(&up), "国泰君安 upgrades 中国移动 (600941.SH) to 增持 (was 中性)");
        let down = record("国泰君安", "中性", Change::Down, Some("增持"));
        assert_eq!(rating_news_title(&down), "国泰君安 downgrades 中国移动 (600941.SH) to 中性 (was 增持)");
        let first = record("华泰证券", "买入", Change::FirstCoverage, None);
        assert_eq!(rating_news_title(&first), "华泰证券 first coverage: 中国移动 (600941.SH) 买入");
        // No word of the broker's own: Eastmoney's normalised one.
        let wordless = record("华泰证券", "", Change::FirstCoverage, None);
        assert_eq!(rating_news_title(&wordless), "华泰证券 first coverage: 中国移动 (600941.SH) 买入");
        assert!(RatingNews::new(&up, &book, String::new()).rule.starts_with("增持 = "));
    }

    #[test]
    fn the_rule_is_the_brokers_band_and_horizon_for_the_word_or_why_not() {
        let book = BrokerBook::load(None).unwrap();
        // data/brokers.toml: 国泰君安 增持 min_pp = 15 (≥, the top band), 12 months, 沪深300.
        let top = record("国泰君安", "增持", Change::Up, Some("中性"));
        assert_eq!(rule_for_word(&top, &book), "增持 = excess over 沪深300 (000300.SH) ≥ +15 pp within 12 months");
        // 谨慎增持: from min_pp = 5 up to the band above's 15 (exclusive there).
        let middle = record("国泰君安", "谨慎增持", Change::Up, Some("中性"));
        assert_eq!(rule_for_word(&middle, &book), "谨慎增持 = excess over 沪深300 (000300.SH) ≥ +5 pp and < +15 pp within 12 months");
        // 中性: above_pp = -5 (> −5) and below +5.
        let neutral = record("国泰君安", "中性", Change::Down, Some("增持"));
        assert_eq!(rule_for_word(&neutral, &book), "中性 = excess over 沪深300 (000300.SH) > -5 pp and < +5 pp within 12 months");
        // 招商证券: 6–12 months, scored at the lower bound.
        let range = record("招商证券", "增持", Change::FirstCoverage, None);
        assert_eq!(
            rule_for_word(&range, &book),
            "增持 = excess over 沪深300 (000300.SH) ≥ +5 pp and < +20 pp within 6–12 months, scored at 6"
        );
        let unknown = record("无名", "买入", Change::FirstCoverage, None);
        assert!(
            rule_for_word(&unknown, &book).starts_with("broker rule unknown: 无名 is not in the broker rules"),
            "{}",
            rule_for_word(&unknown, &book)
        );
        let stray = record("国泰君安", "买入", Change::FirstCoverage, None);
        assert!(rule_for_word(&stray, &book).starts_with("word not in the rule: `买入`"), "{}", rule_for_word(&stray, &book));
    }

    #[test]
    fn the_message_says_broker_analysts_date_words_target_rule_pdf_and_pointer() {
        let book = BrokerBook::load(None).unwrap();
        let up = record("国泰君安", "增持", Change::Up, Some("中性"));
        let news = RatingNews::new(&up, &book, "ratingwatch ratings list --symbol 600941.SH".into());
        let markdown = render_rating_news(&news, Format::Markdown);
        for expected in [
            "### 国泰君安 upgrades 中国移动 (600941.SH) to 增持 (was 中性)\n\n",
            "- broker: 国泰君安 (国泰君安证券股份有限公司)\n",
            "- analysts: 张三, 李四\n",
            "- published: 2023-12-07\n",
            "- rating: 增持 (the broker's word), up\n",
            "- Eastmoney's normalised rating: 买入 (previously 中性)\n",
            "- target price: 120.50\n",
            "- broker's rule: 增持 = excess over 沪深300 (000300.SH) ≥ +15 pp within 12 months\n",
            "- PDF: https://pdf.dfcfw.com/pdf/H3_AP202312071234567890_1.pdf\n",
            "every rating on 600941.SH: `ratingwatch ratings list --symbol 600941.SH`",
            "Method: announced once per rating (info code AP202312071234567890), when first stored and published within ratings.announce\\_within\\_days",
        ] {
            assert!(markdown.contains(expected), "{expected:?} in\n{markdown}");
        }
        let plain = render_rating_news(&news, Format::Table);
        assert!(plain.starts_with("国泰君安 upgrades 中国移动 (600941.SH) to 增持 (was 中性)\n===="), "{plain}");
        assert!(plain.contains("- PDF: https://pdf.dfcfw.com/pdf/H3_AP202312071234567890_1.pdf\n"), "{plain}");
        assert!(!plain.contains("**") && !plain.contains("# "), "{plain}");
        let html = render_rating_news(&news, Format::Html);
        assert!(html.contains("<h1>国泰君安 upgrades 中国移动 (600941.SH) to 增持 (was 中性)</h1>"), "{html}");
        assert!(html.contains("<li>target price: 120.50</li>"), "{html}");
        // No target, no previous: said so.
        let first = RatingRecord { target_price: None, ..record("无名", "买入", Change::FirstCoverage, None) };
        let markdown = render_rating_news(&RatingNews::new(&first, &book, String::new()), Format::Markdown);
        assert!(markdown.contains("- target price: none stated\n"), "{markdown}");
        assert!(markdown.contains("- Eastmoney's normalised rating: 买入 (no previous rating)\n"), "{markdown}");
        assert!(markdown.contains("- broker's rule: broker rule unknown: 无名"), "{markdown}");
    }
}
