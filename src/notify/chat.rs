//! A [`Digest`] in each chat platform's own syntax: WeCom markdown with `<font color>` for
//! the state, DingTalk's markdown subset (bold, a small heading, lists, links; no table),
//! Slack mrkdwn blocks (`*bold*`, `<url|text>`, no heading, no table), a Feishu post. Pure.
//!
//! One message per event and platform: the headline is always the first line and the
//! `ref <id>` line the last; when the platform's limit is reached, sector lines are dropped
//! from the end and replaced by one line saying how many were left out (never a "(1/2)", never
//! a heading without what follows it). The words and numbers are the `report` module's.

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use super::render::truncate_bytes;
use crate::report::{Digest, State};

/// The short visible id of a message: the first 8 hex digits of SHA-256 of its outbox dedup
/// key, the same on every attempt, so a reader spots a duplicate sent in the at-least-once
/// window (`ref 3f9a1c2b`).
pub fn short_ref(dedup_key: &str) -> String {
    let digest = Sha256::digest(dedup_key.as_bytes());
    digest.iter().take(4).map(|byte| format!("{byte:02x}")).collect()
}

/// The `ref` line every chat message ends with.
pub fn ref_line(dedup_key: &str) -> String {
    format!("ref {}", short_ref(dedup_key))
}

/// WeCom `markdown.content`: "最长不超过 4096 个字节".
pub const WECOM_LIMIT: usize = 4096;
/// Slack: a section block's text holds at most 3000 characters (bytes are never fewer).
pub const SLACK_SECTION_LIMIT: usize = 3000;
/// DingTalk and Feishu: whole request bodies of at most 20 000 bytes; 1 500 bytes are kept
/// for the JSON envelope, its escapes and the signature fields added at send time.
pub const BODY_TEXT_LIMIT: usize = 18_500;

/// Joins `head`, as many of `sectors` as fit and `tail` with `separator` into at most `limit`
/// bytes; the sectors left out are named by count (`omitted` makes that line). The head's
/// first line is cut, on a character boundary, only when nothing else fits.
fn fit_lines(
    head: &[String],
    sectors: &[String],
    tail: &[String],
    separator: &str,
    limit: usize,
    omitted: impl Fn(usize) -> String,
) -> String {
    let join = |lines: &[String]| lines.join(separator);
    for kept in (0..=sectors.len()).rev() {
        let mut lines: Vec<String> = head.to_vec();
        lines.extend_from_slice(&sectors[..kept]);
        if kept < sectors.len() {
            lines.push(omitted(sectors.len() - kept));
        }
        lines.extend_from_slice(tail);
        let text = join(&lines);
        if text.len() <= limit {
            return text;
        }
    }
    // Not even the head and tail fit (an absurd title): keep the tail whole, cut the rest.
    let tail = join(tail);
    let room = limit.saturating_sub(tail.len() + separator.len());
    format!("{}{separator}{tail}", truncate_bytes(&join(head), room))
}

fn omitted_sectors(count: usize) -> String {
    format!("… {count} more {} on the report page", if count == 1 { "sector" } else { "sectors" })
}

/// WeCom's colour of a state: `info` green, `warning` orange, `comment` grey.
fn wecom_colour(state: State) -> &'static str {
    match state.holds() {
        Some(true) => "info",
        Some(false) => "warning",
        None => "comment",
    }
}

/// WeCom `markdown` (its `<font color>` needs v1 markdown; markdown_v2 has no colours).
pub fn wecom(digest: &Digest, dedup_key: &str) -> Value {
    let (rating, state, rest) = digest.headline.parts();
    let colour = wecom_colour(digest.headline.state);
    let head = vec![format!("**{rating} <font color=\"{colour}\">{state}</font>**{rest}"), format!("**{}**", digest.title)];
    let sectors: Vec<String> = digest
        .sectors
        .iter()
        .map(|line| {
            let change = if line.change.is_empty() { String::new() } else { format!(", {}", line.change) };
            format!("> {}: {}, <font color=\"{}\">{}</font>{change}", line.name, line.figures, wecom_colour(line.state), line.state.short())
        })
        .collect();
    let mut tail: Vec<String> = digest.movers.iter().chain(&digest.new_ratings).cloned().collect();
    if !digest.links.is_empty() {
        tail.push(digest.links.iter().map(|link| format!("[{}]({})", link.text, link.url)).collect::<Vec<_>>().join(" · "));
    }
    tail.push(ref_line(dedup_key));
    let content = fit_lines(&head, &sectors, &tail, "\n", WECOM_LIMIT, |n| format!("> {}", omitted_sectors(n)));
    json!({"msgtype": "markdown", "markdown": {"content": content}})
}

/// DingTalk `markdown`: the headline in bold first, then a level-4 heading with the report,
/// the sectors as a list, movers, links and the ref. `title` (the phone notification) is the
/// headline's state and numbers.
pub fn dingtalk(digest: &Digest, dedup_key: &str) -> Value {
    // One line each; the empty lines make the blank-line paragraphs DingTalk needs, while the
    // list items stay one line apart.
    let head = vec![format!("**{}**", digest.headline.text), String::new(), format!("#### {}", digest.title), String::new()];
    let sectors: Vec<String> = digest.sectors.iter().map(|line| format!("- {}", line.text())).collect();
    let mut tail = Vec::new();
    for line in digest.movers.iter().chain(&digest.new_ratings) {
        tail.extend([String::new(), line.clone()]);
    }
    if !digest.links.is_empty() {
        tail.extend([
            String::new(),
            digest.links.iter().map(|link| format!("[{}]({})", link.text, link.url)).collect::<Vec<_>>().join(" · "),
        ]);
    }
    tail.extend([String::new(), ref_line(dedup_key)]);
    let text = fit_lines(&head, &sectors, &tail, "\n", BODY_TEXT_LIMIT, |n| format!("- {}", omitted_sectors(n)));
    // The notification shows the title: the headline in brief.
    json!({"msgtype": "markdown", "markdown": {"title": truncate_chars(&digest.headline.brief(), 64), "text": text}})
}

/// Slack's mrkdwn escapes: `&`, `<` and `>` only.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Slack: `text` (the notification) is the headline; the blocks are the headline in bold,
/// one section with the report and its sectors, and a context line with the links and the ref.
pub fn slack(digest: &Digest, dedup_key: &str) -> Value {
    let (rating, state, rest) = digest.headline.parts();
    let headline = format!("*{} {}*{}", slack_escape(rating), slack_escape(state), slack_escape(rest));
    let head = vec![format!("*{}*", slack_escape(&digest.title))];
    let sectors: Vec<String> = digest.sectors.iter().map(|line| format!("• {}", slack_escape(&line.text()))).collect();
    let tail: Vec<String> = digest.movers.iter().chain(&digest.new_ratings).map(|line| slack_escape(line)).collect();
    let section = fit_lines(&head, &sectors, &tail, "\n", SLACK_SECTION_LIMIT, |n| format!("• {}", omitted_sectors(n)));
    let mut context: Vec<String> = digest.links.iter().map(|link| format!("<{}|{}>", link.url, slack_escape(&link.text))).collect();
    context.push(ref_line(dedup_key));
    json!({
        "text": digest.headline.text,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": truncate_bytes(&headline, SLACK_SECTION_LIMIT)}},
            {"type": "section", "text": {"type": "mrkdwn", "text": section}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": context.join(" · ")}]},
        ],
    })
}

/// Feishu `post`: its title (shown first, in bold) is the headline; one paragraph per line.
pub fn feishu(digest: &Digest, dedup_key: &str) -> Value {
    let text = |line: &str| json!([{"tag": "text", "text": line}]);
    let build = |kept: usize| {
        let mut content = vec![text(&digest.title)];
        content.extend(digest.sectors[..kept].iter().map(|line| text(&line.text())));
        if kept < digest.sectors.len() {
            content.push(text(&omitted_sectors(digest.sectors.len() - kept)));
        }
        content.extend(digest.movers.iter().chain(&digest.new_ratings).map(|line| text(line)));
        if !digest.links.is_empty() {
            let mut links = Vec::new();
            for (index, link) in digest.links.iter().enumerate() {
                if index > 0 {
                    links.push(json!({"tag": "text", "text": " · "}));
                }
                links.push(json!({"tag": "a", "text": link.text, "href": link.url}));
            }
            content.push(Value::Array(links));
        }
        content.push(text(&ref_line(dedup_key)));
        json!({"msg_type": "post", "content": {"post": {"zh_cn": {"title": digest.headline.text, "content": content}}}})
    };
    (0..=digest.sectors.len()).rev().map(build).find(|body| body.to_string().len() <= BODY_TEXT_LIMIT).unwrap_or_else(|| build(0))
}

fn truncate_chars(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Headline, Line, Link, Op, SectorLine};

    const KEY: &str = "weekly_summary:r:2023-W20:c";

    /// A week's digest with `sectors` sectors of long CJK names (each line ~150 bytes).
    fn digest(sectors: usize) -> Digest {
        let headline = Headline {
            text: "看好 (overweight) held so far: +24.40 pp vs ≥ +10 pp (+14.40 pp clear), 87 days left, prices of 2023-05-19".to_string(),
            rating: "看好".to_string(),
            rating_en: "overweight".to_string(),
            state: State::HeldSoFar,
            excess: 0.244,
            line: Some(Line { op: Op::AtLeast, bp: 1000 }),
            distance: Some(0.144),
            days_left: 87,
            is_final: false,
            prices_date: "2023-05-19".parse().unwrap(),
        };
        Digest {
            headline,
            title: "人工智能算力周报 · 2023-W20".to_string(),
            sectors: (0..sectors)
                .map(|n| SectorLine {
                    name: format!("深度学习大模型与算力基础设施 {n:03}"),
                    figures: "+12.29 pp 看好".to_string(),
                    state: if n % 2 == 0 { State::HeldSoFar } else { State::NotHeldSoFar },
                    change: "week +4.47 pp".to_string(),
                })
                .collect(),
            movers: vec!["best this week: 腾讯 +5.00 %, 中国移动 +2.00 %".to_string()],
            new_ratings: Vec::new(),
            links: vec![Link { text: "report page".to_string(), url: "https://rw.example.com/reports/r".to_string() }],
        }
    }

    #[test]
    fn the_ref_is_the_first_eight_hex_digits_of_the_dedup_keys_sha256() {
        // sha256("weekly_summary:r:2023-W20:c") starts c81c57c4 (Python's hashlib agrees).
        assert_eq!(ref_line(KEY), "ref c81c57c4");
        assert_ne!(short_ref("weekly_summary:r:2023-W20:d"), short_ref(KEY), "each channel's row has its own");
    }

    /// Each platform's text: WeCom and DingTalk markdown, the Slack section, the Feishu body.
    fn texts(sectors: usize) -> [(String, usize); 4] {
        texts_of(&digest(sectors))
    }

    fn texts_of(digest: &Digest) -> [(String, usize); 4] {
        let wecom = wecom(digest, KEY)["markdown"]["content"].as_str().unwrap().to_string();
        let ding = dingtalk(digest, KEY)["markdown"]["text"].as_str().unwrap().to_string();
        let slack = slack(digest, KEY)["blocks"][1]["text"]["text"].as_str().unwrap().to_string();
        let feishu = feishu(digest, KEY).to_string();
        [(wecom, WECOM_LIMIT), (ding, BODY_TEXT_LIMIT), (slack, SLACK_SECTION_LIMIT), (feishu, BODY_TEXT_LIMIT)]
    }

    #[test]
    fn every_platform_says_the_weeks_new_ratings_after_the_movers() {
        let mut digest = digest(3);
        digest.new_ratings = vec!["new rating 2023-05-15: 中兴通讯, 兴业证券 增持, first coverage".to_string()];
        for (index, (text, _)) in texts_of(&digest).into_iter().enumerate() {
            let movers = text.find("best this week").unwrap_or_else(|| panic!("platform {index}: {text}"));
            let rating = text.find("new rating 2023-05-15: 中兴通讯").unwrap_or_else(|| panic!("platform {index}: {text}"));
            assert!(movers < rating, "platform {index}: {text}");
        }
        // Without new ratings nothing is said of them.
        assert!(texts(3).iter().all(|(text, _)| !text.contains("new rating")));
    }

    #[test]
    fn a_short_digest_keeps_every_sector() {
        for (text, _) in texts(3) {
            assert!(text.contains("深度学习大模型与算力基础设施 002") && !text.contains("more sector"), "{text}");
        }
    }

    #[test]
    fn a_long_digest_drops_sectors_from_the_end_and_keeps_headline_first_and_ref_last() {
        // 300 sectors of ~150 bytes are ~45 000 bytes: over every platform's limit.
        for (index, (text, limit)) in texts(300).into_iter().enumerate() {
            assert!(text.len() <= limit, "platform {index}: {} bytes > {limit}", text.len());
            assert!(text.contains("深度学习大模型与算力基础设施 000"), "platform {index}: the first sectors stay");
            assert!(!text.contains("深度学习大模型与算力基础设施 299"), "platform {index}");
            assert!(text.contains("more sectors on the report page"), "platform {index}: {text}");
            assert!(!text.contains("(1/"), "platform {index}: one message, never numbered");
        }
        let digest = digest(300);
        let wecom = wecom(&digest, KEY)["markdown"]["content"].as_str().unwrap().to_string();
        assert!(wecom.starts_with("**看好 (overweight) <font color=\"info\">held so far</font>**: +24.40 pp"), "{wecom}");
        assert!(wecom.ends_with("\nref c81c57c4"), "{wecom}");
        let ding = dingtalk(&digest, KEY);
        let text = ding["markdown"]["text"].as_str().unwrap();
        assert!(text.starts_with("**看好 (overweight) held so far:"), "{text}");
        assert!(text.ends_with("\n\nref c81c57c4"));
        // The heading is followed by the list, never left dangling.
        let after_heading = text.split("#### 人工智能算力周报 · 2023-W20\n\n").nth(1).unwrap();
        assert!(after_heading.starts_with("- 深度学习大模型与算力基础设施 000"), "{after_heading}");
        // 300 bytes for the signature fields stay free under DingTalk's 20 000 bytes.
        assert!(ding.to_string().len() + 300 <= 20_000);
        let feishu = feishu(&digest, KEY);
        assert!(feishu.to_string().len() + 300 <= 20_000);
        assert_eq!(feishu["content"]["post"]["zh_cn"]["title"], digest.headline.text);
        let slack = slack(&digest, KEY);
        assert_eq!(slack["text"], digest.headline.text);
        assert!(slack["blocks"][2]["elements"][0]["text"].as_str().unwrap().ends_with("ref c81c57c4"));
    }

    #[test]
    fn slack_escapes_its_three_characters() {
        let mut digest = digest(1);
        digest.title = "A&B <x>".to_string();
        let body = slack(&digest, KEY);
        assert!(body["blocks"][1]["text"]["text"].as_str().unwrap().starts_with("*A&amp;B &lt;x&gt;*"), "{body}");
    }
}
