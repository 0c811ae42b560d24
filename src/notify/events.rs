//! Building the messages of the five events (and `notify test`) from model values, with
//! the `report` renderers, and fanning them out to the channels that want them.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::Message;
use super::channel::Channels;
use super::rating::BandChange;
use crate::analysis::model::{GroupVerdict, Verdict, WeeklySummary};
use crate::catalog::RatingRule;
use crate::config::{EventKind, NotifyConfig};
use crate::report::{self, Format, RenderOptions};
use crate::store::NewOutboxMessage;

/// Where the whole report is: `<report_url>/<report-id>/<week>.html` when the output folder
/// is published, else the command that prints it.
pub fn pointer(config: &NotifyConfig, report_id: &str, week: Option<&str>) -> String {
    match (config.report_url.trim_end_matches('/'), week) {
        ("", Some(week)) => format!("ratingwatch report --report {report_id} --week {week}"),
        ("", None) => format!("ratingwatch verdict --report {report_id}"),
        (base, Some(week)) => format!("{base}/{report_id}/{week}.html"),
        (base, None) => format!("{base}/{report_id}/"),
    }
}

fn message(event: EventKind, report_id: Option<&str>, now: DateTime<Utc>, title: String, markdown: String) -> Message {
    Message {
        id: String::new(),
        event,
        report_id: report_id.map(str::to_string),
        occurred_at: now,
        title,
        markdown,
        data: serde_json::Value::Null,
        html: None,
        plain: None,
        digest: None,
        pointer: String::new(),
    }
}

/// `weekly_summary`: the sector table, best and worst members, freshness and the method line.
/// `public_url` (`http.public_url`, may be empty) is where the chat messages link to.
pub fn weekly_summary(summary: &WeeklySummary, render: &RenderOptions, public_url: &str, pointer: String, now: DateTime<Utc>) -> Message {
    // The subject leads with the answer.
    let headline = report::Headline::of_weekly(summary, render);
    let title = format!("{} · {} {}", headline.text, summary.title, summary.week);
    let mut message = message(
        EventKind::WeeklySummary,
        Some(&summary.report_id),
        now,
        title,
        report::render_weekly_with(summary, Format::Markdown, render),
    );
    message.data = report::weekly_json(summary, render);
    message.digest = Some(report::weekly_digest(summary, render, public_url));
    message.plain = Some(report::render_weekly_with(summary, Format::Table, render));
    message.html = Some(report::render_weekly_with(summary, Format::Html, render));
    message.pointer = pointer;
    message
}

/// `verdict`: the final verdict once the horizon has ended.
pub fn verdict(verdict: &Verdict, render: &RenderOptions, public_url: &str, pointer: String, now: DateTime<Utc>) -> Message {
    let headline = report::Headline::of_verdict(verdict, render);
    let title = format!("{} · {}", headline.text, verdict.title);
    let mut message =
        message(EventKind::Verdict, Some(&verdict.report_id), now, title, report::render_verdict_with(verdict, Format::Markdown, render));
    message.data = report::verdict_json(verdict, render);
    message.digest = Some(report::verdict_digest(verdict, render, public_url));
    message.plain = Some(report::render_verdict_with(verdict, Format::Table, render));
    message.html = Some(report::render_verdict_with(verdict, Format::Html, render));
    message.pointer = pointer;
    message
}

/// `rating_change`: one sector's (or the basket's) implied rating moved to another band;
/// titled with the date of the change. Its chat message leads with the verdict's headline.
#[allow(clippy::too_many_arguments)]
pub fn rating_change(
    verdict: &Verdict,
    group: &GroupVerdict,
    change: &BandChange,
    rule: &RatingRule,
    confirm_closes: u32,
    public_url: &str,
    pointer: String,
    now: DateTime<Utc>,
) -> Message {
    let facts = report::RatingChangeFacts {
        from: rule.label(change.from),
        to: rule.label(change.to),
        since: change.since,
        excess_since: change.excess_since,
        confirmed: change.confirmed,
        excess_confirmed: change.excess_confirmed,
        confirm_closes,
    };
    let (from, to) = (facts.from, facts.to);
    let title = report::rating_change_title(verdict, group, &facts);
    let markdown = report::rating_change_markdown(verdict, group, &facts, rule, &pointer);
    let mut digest = report::verdict_digest(verdict, &RenderOptions::from_rule(rule), public_url);
    digest.title = title.clone();
    digest.movers = vec![report::rating_change_line(group, &facts)];
    let mut message = message(EventKind::RatingChange, Some(&verdict.report_id), now, title, markdown);
    message.digest = Some(digest);
    message.data = json!({
        "report_id": verdict.report_id,
        "group": group.name,
        "group_en": group.name_en,
        "from": change.from,
        "to": change.to,
        "from_label": from.zh,
        "to_label": to.zh,
        "since": change.since,
        "excess_since": change.excess_since,
        "confirmed": change.confirmed,
        "excess_confirmed": change.excess_confirmed,
        "confirm_closes": confirm_closes,
    });
    message.pointer = pointer;
    message
}

/// `data_health`: a problem started (`cleared == false`) or cleared.
pub fn data_health(condition: &str, cleared: bool, detail: &str, now: DateTime<Utc>) -> Message {
    let (title, markdown) = report::data_health(condition, cleared, detail);
    let mut message = message(EventKind::DataHealth, None, now, title, markdown);
    message.data = json!({ "condition": condition, "cleared": cleared, "detail": detail });
    message.pointer = "ratingwatch status".to_string();
    message
}

/// `broker_rating`: a broker's upgrade, downgrade or first coverage of a watchlist company,
/// led by the answer (`国泰君安 upgrades 中国移动 (600941.SH) to 增持 (was 中性)`). No chat
/// digest (it has no verdict to colour): chat platforms get the markdown.
pub fn broker_rating(news: &report::RatingNews<'_>, now: DateTime<Utc>) -> Message {
    let record = news.record;
    let title = report::rating_news_title(record);
    let mut message = message(EventKind::BrokerRating, None, now, title, report::render_rating_news(news, Format::Markdown));
    message.plain = Some(report::render_rating_news(news, Format::Table));
    message.html = Some(report::render_rating_news(news, Format::Html));
    message.data = json!({ "rating": record, "rule": news.rule });
    message.pointer = news.pointer.clone();
    message
}

/// `notify test`: a short message that proves the channel works.
pub fn test(channel: &str, now: DateTime<Utc>) -> Message {
    let (title, markdown, html) = report::test_message(channel, now);
    let mut message = message(EventKind::Test, None, now, title, markdown);
    message.data = json!({ "channel": channel });
    message.html = Some(html);
    message.pointer = "ratingwatch status".to_string();
    message
}

/// One outbox row per channel that wants `message.event`, keyed `<key>:<channel>`.
pub fn for_channels(message: &Message, channels: &Channels, key: &str) -> Vec<NewOutboxMessage> {
    channels
        .for_event(message.event)
        .map(|channel| {
            let mut message = message.clone();
            message.id = format!("{key}:{}", channel.name);
            NewOutboxMessage {
                dedup_key: message.id.clone(),
                channel: channel.name.clone(),
                event: message.event.as_str().to_string(),
                report_id: message.report_id.clone(),
                title: message.title.clone(),
                payload: serde_json::to_string(&message).unwrap_or_default(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_test_messages_html_escapes_an_ampersand_with_the_reports_one_escaper() {
        let now = DateTime::parse_from_rfc3339("2023-05-19T10:00:00Z").unwrap().with_timezone(&Utc);
        let message = test("r&d <team>", now);
        let html = message.html.unwrap();
        // Before: only `<` was escaped, so `&` reached the HTML part raw.
        assert!(html.contains("r&amp;d &lt;team&gt;"), "{html}");
        assert!(!html.contains("r&d"), "{html}");
    }
}
