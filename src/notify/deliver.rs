//! One delivery attempt over HTTP: the platform's body, its signature, and what its answer
//! means. WeCom, DingTalk and Feishu answer HTTP 200 with an error code in the body, so a
//! 200 is never taken as delivered without reading the body.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::Message;
use super::channel::{Channel, Target};
use super::chat;
use super::render::{Fit, fit, truncate_bytes};
use super::sign;
use crate::config::ChannelKind;
use crate::providers::TransportFailure;

/// What one attempt came to.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The platform accepted the message; `answer` is its reply, shortened.
    Accepted { answer: String },
    /// Try again later: at `after` (from `Retry-After` or the platform's rate-limit rule) or
    /// on the sender's backoff schedule.
    Retry { after: Option<Duration>, reason: String },
    /// Retrying the same message cannot help (bad URL or key, signature rejected, too long).
    Permanent { reason: String },
}

/// An attempt's outcome with the HTTP status it came with, for the attempt log.
#[derive(Clone, Debug, PartialEq)]
pub struct Attempted {
    pub outcome: Outcome,
    pub http_status: Option<u16>,
}

/// How long to wait after a platform says "too fast" without a `Retry-After`: both DingTalk
/// and WeCom count 20 messages a minute per bot (DingTalk then blocks for up to 10 minutes).
pub const RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);

/// The platform limits the parts are fitted to (bytes).
pub fn part_limit(kind: ChannelKind) -> usize {
    match kind {
        // markdown_v2.content: "最长不超过 4096 个字节"; room for the "(1/3) " prefix.
        ChannelKind::Wecom => 4096 - 16,
        // Whole request bodies of at most 20 000 bytes; the JSON envelope and escapes
        // are checked after building (see `bodies`).
        ChannelKind::Dingtalk | ChannelKind::Feishu => 18_000,
        // One section block's text: 3000 characters; bytes are never fewer.
        ChannelKind::Slack => 3000,
        ChannelKind::Webhook | ChannelKind::Email => usize::MAX,
    }
}

/// Maximum messages one event becomes on a platform (chat groups should not be flooded).
pub const MAX_PARTS: usize = 3;
/// Slack carries the parts as blocks of one message: at most this many sections.
const SLACK_SECTIONS: usize = 10;
/// The DingTalk and Feishu request body limit.
const BODY_LIMIT: usize = 20_000;

/// The request bodies for `message` on `channel`, in order; deterministic, so a sender that
/// restarts after part 1 was accepted sends parts 2.. of the same split.
pub fn bodies(kind: ChannelKind, message: &Message) -> Vec<Value> {
    // A report's event: one message per platform, built for it from the report's digest.
    if let Some(digest) = &message.digest {
        let body = match kind {
            ChannelKind::Wecom => Some(chat::wecom(digest, &message.id)),
            ChannelKind::Dingtalk => Some(chat::dingtalk(digest, &message.id)),
            ChannelKind::Slack => Some(chat::slack(digest, &message.id)),
            ChannelKind::Feishu => Some(chat::feishu(digest, &message.id)),
            ChannelKind::Webhook | ChannelKind::Email => None,
        };
        if let Some(body) = body {
            return vec![body];
        }
    }
    // Data health and test messages: their markdown, fitted, the ref on its last line.
    let mut message = message.clone();
    if !matches!(kind, ChannelKind::Webhook | ChannelKind::Email) {
        message.markdown = format!("{}\n\n{}", message.markdown.trim_end(), chat::ref_line(&message.id));
    }
    let message = &message;
    let pointer = message.pointer.as_str();
    match kind {
        ChannelKind::Webhook => vec![json!({
            "id": message.id,
            "event": message.event,
            "report_id": message.report_id,
            "occurred_at": message.occurred_at,
            "title": message.title,
            "markdown": message.markdown,
            "data": message.data,
        })],
        ChannelKind::Slack => {
            let sections = fit(&message.markdown, &Fit { limit: part_limit(kind), max_parts: SLACK_SECTIONS, pointer });
            let mut blocks = vec![json!({"type": "header", "text": {"type": "plain_text", "text": truncate_chars(&message.title, 150)}})];
            blocks.extend(sections.iter().map(|text| json!({"type": "section", "text": {"type": "mrkdwn", "text": text}})));
            vec![json!({"text": message.title, "blocks": blocks})]
        }
        ChannelKind::Wecom => numbered(&fit(&message.markdown, &Fit { limit: part_limit(kind), max_parts: MAX_PARTS, pointer }))
            .into_iter()
            .map(|content| json!({"msgtype": "markdown_v2", "markdown_v2": {"content": content}}))
            .collect(),
        ChannelKind::Dingtalk | ChannelKind::Feishu => {
            let build = |content: &str| match kind {
                ChannelKind::Dingtalk => {
                    json!({"msgtype": "markdown", "markdown": {"title": truncate_chars(&message.title, 64), "text": content}})
                }
                _ => json!({"msg_type": "interactive", "card": {
                    "schema": "2.0",
                    "header": {"title": {"tag": "plain_text", "content": message.title}},
                    "body": {"elements": [{"tag": "markdown", "content": content}]},
                }}),
            };
            // JSON escapes (\n, \") make the body longer than the text: shrink until it fits.
            let mut limit = part_limit(kind);
            loop {
                let parts = numbered(&fit(&message.markdown, &Fit { limit, max_parts: MAX_PARTS, pointer }));
                let bodies: Vec<Value> = parts.iter().map(|part| build(part)).collect();
                // 300 bytes of room for the signature fields added at send time.
                if bodies.iter().all(|body| body.to_string().len() + 300 <= BODY_LIMIT) || limit < 1000 {
                    return bodies;
                }
                limit = limit * 9 / 10;
            }
        }
        ChannelKind::Email => Vec::new(),
    }
}

fn numbered(parts: &[String]) -> Vec<String> {
    if parts.len() == 1 {
        return parts.to_vec();
    }
    parts.iter().enumerate().map(|(i, part)| format!("({}/{}) {part}", i + 1, parts.len())).collect()
}

fn truncate_chars(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// Characters of a dedup key kept as they are in the `webhook-id` header; everything else
/// (CJK sector names, spaces, `%`) is percent-encoded, so the header is plain ASCII.
const WEBHOOK_ID_ESCAPES: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b':').remove(b'-').remove(b'_').remove(b'.');

/// The Standard Webhooks headers for one body: `webhook-id` is the message's dedup key,
/// percent-encoded to ASCII (header values are ASCII; the key can hold a sector's Chinese
/// name), and the signature signs exactly that header value, as receivers verify it.
pub fn webhook_headers(message_id: &str, timestamp_s: i64, body: &[u8], secret: Option<&str>) -> Vec<(&'static str, String)> {
    let id = percent_encoding::utf8_percent_encode(message_id, WEBHOOK_ID_ESCAPES).to_string();
    let mut headers = vec![("webhook-timestamp", timestamp_s.to_string())];
    if let Some(secret) = secret {
        headers.push(("webhook-signature", sign::standard_webhooks_signature(&id, timestamp_s, body, secret)));
    }
    headers.insert(0, ("webhook-id", id));
    headers
}

/// Sends one body to an HTTP channel and classifies the answer.
pub async fn send_http(client: &reqwest::Client, channel: &Channel, body: &Value, message_id: &str, now: DateTime<Utc>) -> Attempted {
    let Target::Http { url, secret } = &channel.target else {
        return Attempted { outcome: Outcome::Permanent { reason: "not an HTTP channel".to_string() }, http_status: None };
    };
    let mut url = url.expose().to_string();
    let mut body = body.clone();
    let mut request_headers: Vec<(&str, String)> = Vec::new();
    let bytes;
    match (channel.kind, secret) {
        (ChannelKind::Dingtalk, Some(secret)) => {
            let timestamp = now.timestamp_millis();
            let sign = sign::dingtalk_sign(timestamp, secret.expose());
            let encoded: String = url::form_urlencoded::byte_serialize(sign.as_bytes()).collect();
            let separator = if url.contains('?') { '&' } else { '?' };
            url = format!("{url}{separator}timestamp={timestamp}&sign={encoded}");
            bytes = body.to_string().into_bytes();
        }
        (ChannelKind::Feishu, Some(secret)) => {
            let timestamp = now.timestamp();
            body["timestamp"] = Value::String(timestamp.to_string());
            body["sign"] = Value::String(sign::feishu_sign(timestamp, secret.expose()));
            bytes = body.to_string().into_bytes();
        }
        (ChannelKind::Webhook, secret) => {
            bytes = body.to_string().into_bytes();
            request_headers = webhook_headers(message_id, now.timestamp(), &bytes, secret.as_ref().map(|secret| secret.expose()));
        }
        _ => bytes = body.to_string().into_bytes(),
    }
    let mut request = client.post(&url).header(reqwest::header::CONTENT_TYPE, "application/json");
    for (name, value) in request_headers {
        request = request.header(name, value);
    }
    let response = match request.body(bytes).send().await {
        Ok(response) => response,
        // `without_url`: the URL carries the key on most platforms.
        Err(error) => {
            let kind = match TransportFailure::of(&error) {
                TransportFailure::Timeout => "timed out",
                TransportFailure::Connect => "cannot connect",
                TransportFailure::Other => "request failed",
            };
            return Attempted {
                outcome: Outcome::Retry { after: None, reason: format!("{kind}: {}", error.without_url()) },
                http_status: None,
            };
        }
    };
    let status = response.status().as_u16();
    let retry_after = retry_after(response.headers(), now);
    let text = match response.text().await {
        Ok(text) => text,
        Err(error) => {
            return Attempted {
                outcome: Outcome::Retry { after: retry_after, reason: format!("reading the answer failed: {}", error.without_url()) },
                http_status: Some(status),
            };
        }
    };
    Attempted { outcome: classify(channel.kind, status, retry_after, &text), http_status: Some(status) }
}

/// `Retry-After` as seconds or an HTTP date counted from the sender's `now` (the shared
/// parser in `providers::http`), capped at one hour.
pub fn retry_after(headers: &reqwest::header::HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    crate::providers::parse_retry_after(headers, Some(now)).map(|delay| delay.min(Duration::from_secs(3600)))
}

fn short(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let cut = truncate_bytes(&one_line, 300);
    if cut.len() < one_line.len() { format!("{cut}…") } else { cut.to_string() }
}

/// What an HTTP answer means on each platform (delivery-and-names.md §1.8).
pub fn classify(kind: ChannelKind, status: u16, retry_after: Option<Duration>, body: &str) -> Outcome {
    let answer = short(body);
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let code = |field: &str| parsed.as_ref().and_then(|v| v.get(field)).and_then(Value::as_i64);
    let text_field = |field: &str| parsed.as_ref().and_then(|v| v.get(field)).and_then(Value::as_str).unwrap_or("").to_string();
    let retry = |after: Option<Duration>, reason: String| Outcome::Retry { after, reason };
    let permanent = |reason: String| Outcome::Permanent { reason };

    // Feishu answers rate limits as HTTP 400 + 9499 "too many request" as well as 200 + 11232.
    if kind == ChannelKind::Feishu && code("code").is_some() {
        let code = code("code").unwrap_or(-1);
        let msg = text_field("msg");
        let lower = msg.to_lowercase();
        return match code {
            0 => Outcome::Accepted { answer },
            11232 => retry(retry_after.or(Some(RATE_LIMIT_WAIT)), format!("rate limited: code {code} {msg}")),
            _ if lower.contains("frequency limited") || lower.contains("too many") => {
                retry(retry_after.or(Some(RATE_LIMIT_WAIT)), format!("rate limited: code {code} {msg}"))
            }
            19021 => permanent(format!("signature rejected (check secret_env and the clock): code {code} {msg}")),
            _ => permanent(format!("code {code}: {msg}")),
        };
    }
    match status {
        429 => return retry(retry_after, format!("HTTP 429 rate limited: {answer}")),
        408 | 500..=599 => return retry(retry_after, format!("HTTP {status}: {answer}")),
        410 => return permanent(format!("HTTP 410 gone: the webhook was removed ({answer})")),
        400..=499 => return permanent(format!("HTTP {status}: {answer}")),
        200..=299 => {}
        _ => return retry(retry_after, format!("HTTP {status}: {answer}")),
    }
    match kind {
        ChannelKind::Webhook | ChannelKind::Slack | ChannelKind::Email => Outcome::Accepted { answer },
        ChannelKind::Wecom | ChannelKind::Dingtalk => {
            let Some(errcode) = code("errcode") else {
                // Never assume success: an answer without a code is not an acceptance.
                return retry(None, format!("HTTP {status} without an errcode: {answer}"));
            };
            let errmsg = text_field("errmsg");
            match (kind, errcode) {
                (_, 0) => Outcome::Accepted { answer },
                (_, -1) => retry(None, format!("errcode -1 (system busy): {errmsg}")),
                (ChannelKind::Wecom, 45009) | (ChannelKind::Dingtalk, 130101) => {
                    retry(retry_after.or(Some(RATE_LIMIT_WAIT)), format!("rate limited: errcode {errcode} {errmsg}"))
                }
                (ChannelKind::Dingtalk, _) if errmsg.contains("too fast") => {
                    retry(retry_after.or(Some(RATE_LIMIT_WAIT)), format!("rate limited: errcode {errcode} {errmsg}"))
                }
                (ChannelKind::Dingtalk, 310000) if errmsg.contains("sign") => {
                    permanent(format!("signature rejected (check secret_env): errcode {errcode} {errmsg}"))
                }
                (ChannelKind::Dingtalk, 310000) if errmsg.contains("timestamp") => {
                    permanent(format!("timestamp rejected (is the clock right?): errcode {errcode} {errmsg}"))
                }
                (ChannelKind::Dingtalk, 310000) if errmsg.contains("keywords") => {
                    permanent(format!("the robot's keyword is missing from the message: errcode {errcode} {errmsg}"))
                }
                (ChannelKind::Wecom, 93000) => permanent(format!("invalid webhook URL or key: errcode {errcode} {errmsg}")),
                _ => permanent(format!("errcode {errcode}: {errmsg}")),
            }
        }
        ChannelKind::Feishu => {
            if code("StatusCode") == Some(0) {
                Outcome::Accepted { answer }
            } else {
                retry(None, format!("HTTP {status} without a code: {answer}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[test]
    fn the_webhook_id_is_ascii_and_the_signature_signs_that_header_value() {
        let key = "rating_change:zheshang-2023-02-14-chatgpt:深度学习大模型:2023-04-17:neutral:hook";
        let headers = webhook_headers(key, 1_681_700_000, b"{}", Some("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
        let id = &headers[0];
        assert_eq!(id.0, "webhook-id");
        // 深 is E6 B7 B1 in UTF-8; ':', '-', '_' and '.' are kept.
        assert!(id.1.starts_with("rating_change:zheshang-2023-02-14-chatgpt:%E6%B7%B1"), "{}", id.1);
        assert!(id.1.is_ascii());
        assert!(reqwest::header::HeaderValue::from_str(&id.1).is_ok());
        let signature = &headers[2];
        assert_eq!(signature.0, "webhook-signature");
        // A receiver signs `{webhook-id header}.{timestamp}.{body}`: the same value must come out.
        let expected = sign::standard_webhooks_signature(&id.1, 1_681_700_000, b"{}", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        assert_eq!(signature.1, expected);
        // An ASCII key is sent as it is.
        let plain = webhook_headers("weekly_summary:r:2023-W20:hook", 1, b"", None);
        assert_eq!(plain, vec![("webhook-id", "weekly_summary:r:2023-W20:hook".to_string()), ("webhook-timestamp", "1".to_string())]);
    }

    // The bodies are the research doc's verbatim samples (delivery-and-names.md §1.1–1.4).
    #[rstest]
    #[case::wecom_ok(ChannelKind::Wecom, 200, r#"{"errcode":0,"errmsg":"ok"}"#, "accepted")]
    #[case::wecom_too_long(ChannelKind::Wecom, 200, r#"{"errcode":40058,"errmsg":"markdown.content exceed max length 4096. invalid Request Parameter, hint: [1714538355214402498975046], from ip: 119.2.196.241, more info at https://open.work.weixin.qq.com/devtool/query?e=40058"}"#, "permanent")]
    #[case::wecom_bad_key(ChannelKind::Wecom, 200, r#"{"errcode":93000,"errmsg":"invalid webhook url, hint: [1755605200056773468916791], from ip: 172.212.167.87, more info at https://open.work.weixin.qq.com/devtool/query?e=93000"}"#, "permanent")]
    #[case::wecom_rate(ChannelKind::Wecom, 200, r#"{"errcode":45009,"errmsg":"api freq out of limit"}"#, "rate")]
    #[case::ding_ok(ChannelKind::Dingtalk, 200, r#"{"errmsg":"ok","errcode":0}"#, "accepted")]
    #[case::ding_rate(ChannelKind::Dingtalk, 200, r#"{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}"#, "rate")]
    #[case::ding_sign(
        ChannelKind::Dingtalk,
        200,
        r#"{"errcode":310000,"errmsg":"sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"}"#,
        "permanent"
    )]
    #[case::ding_keyword(
        ChannelKind::Dingtalk,
        200,
        r#"{"errcode":310000,"errmsg":"keywords not in content, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"}"#,
        "permanent"
    )]
    #[case::ding_too_long(ChannelKind::Dingtalk, 200, r#"{"errcode":460101,"errmsg":"message too long, exceed 20000 bytes"}"#, "permanent")]
    #[case::ding_token(ChannelKind::Dingtalk, 200, r#"{"errcode":300001,"errmsg":"token is not exist"}"#, "permanent")]
    #[case::feishu_ok(
        ChannelKind::Feishu,
        200,
        r#"{"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": {}, "msg": "success"}"#,
        "accepted"
    )]
    #[case::feishu_sign(
        ChannelKind::Feishu,
        200,
        r#"{"code":19021,"data":{},"msg":"sign match fail or timestamp is not within one hour from current time"}"#,
        "permanent"
    )]
    #[case::feishu_rate_200(
        ChannelKind::Feishu,
        200,
        r#"{"code":11232,"data":{},"msg":"frequency limited psm[lark.oapi.app_platform_runtime]appID[1500]"}"#,
        "rate"
    )]
    #[case::feishu_rate_400(ChannelKind::Feishu, 400, r#"{"code":9499,"msg":"too many request","data":{}}"#, "rate")]
    #[case::feishu_bad(ChannelKind::Feishu, 400, r#"{"code": 9499, "msg": "Bad Request", "data": {}}"#, "permanent")]
    #[case::slack_ok(ChannelKind::Slack, 200, "ok", "accepted")]
    #[case::slack_payload(ChannelKind::Slack, 400, "invalid_payload", "permanent")]
    #[case::slack_gone(ChannelKind::Slack, 410, "channel_is_archived", "permanent")]
    #[case::slack_rollup(ChannelKind::Slack, 500, "rollup_error", "retry")]
    #[case::slack_429(ChannelKind::Slack, 429, "", "retry")]
    #[case::webhook_ok(ChannelKind::Webhook, 204, "", "accepted")]
    #[case::webhook_404(ChannelKind::Webhook, 404, "not found", "permanent")]
    #[case::wecom_html_200(ChannelKind::Wecom, 200, "<html>proxy</html>", "retry")]
    fn answers_are_classified_like_the_platforms_document_them(
        #[case] kind: ChannelKind,
        #[case] status: u16,
        #[case] body: &str,
        #[case] expected: &str,
    ) {
        let outcome = classify(kind, status, None, body);
        let got = match &outcome {
            Outcome::Accepted { .. } => "accepted",
            Outcome::Retry { after: Some(RATE_LIMIT_WAIT), .. } => "rate",
            Outcome::Retry { .. } => "retry",
            Outcome::Permanent { .. } => "permanent",
        };
        assert_eq!(got, expected, "{outcome:?}");
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = DateTime::parse_from_rfc3339("2023-05-19T10:00:00Z").unwrap().with_timezone(&Utc);
        let header = |value: &'static str| {
            let mut headers = reqwest::header::HeaderMap::new();
            headers.insert(reqwest::header::RETRY_AFTER, reqwest::header::HeaderValue::from_static(value));
            headers
        };
        assert_eq!(retry_after(&header("30"), now), Some(Duration::from_secs(30)));
        assert_eq!(retry_after(&header("Fri, 19 May 2023 10:02:00 GMT"), now), Some(Duration::from_secs(120)));
        assert_eq!(retry_after(&header("99999"), now), Some(Duration::from_secs(3600)));
        assert_eq!(retry_after(&header("soon"), now), None);
    }

    fn message(markdown: String) -> Message {
        Message {
            id: "weekly_summary:r:2023-W20:c".to_string(),
            event: crate::config::EventKind::WeeklySummary,
            report_id: Some("r".to_string()),
            occurred_at: DateTime::parse_from_rfc3339("2023-05-19T10:00:00Z").unwrap().with_timezone(&Utc),
            title: "周报 2023-W20".to_string(),
            markdown,
            data: json!({"week": "2023-W20"}),
            html: None,
            plain: None,
            digest: None,
            pointer: "ratingwatch report --report r --week 2023-W20".to_string(),
        }
    }

    #[test]
    fn chat_bodies_stay_within_each_platform_limit() {
        // ~60 KB of CJK table rows with quotes and newlines that JSON escapes.
        let markdown: String =
            (0..600).map(|n| format!("| 深度学习大模型 \"{n}\" | +7.54 pp |\n")).collect::<String>() + "\nMethod: equal weight.\n";
        let message = message(markdown);
        let wecom = bodies(ChannelKind::Wecom, &message);
        assert_eq!(wecom.len(), MAX_PARTS);
        for body in &wecom {
            assert!(body["markdown_v2"]["content"].as_str().unwrap().len() <= 4096);
        }
        assert!(wecom[2]["markdown_v2"]["content"].as_str().unwrap().ends_with("Method: equal weight."));
        for kind in [ChannelKind::Dingtalk, ChannelKind::Feishu] {
            for body in bodies(kind, &message) {
                assert!(body.to_string().len() + 300 <= 20_000, "{kind:?}");
            }
        }
        let slack = bodies(ChannelKind::Slack, &message);
        assert_eq!(slack.len(), 1);
        assert!(slack[0]["blocks"].as_array().unwrap().len() <= 11);
    }

    #[test]
    fn the_webhook_body_carries_the_cli_json_as_data() {
        let body = &bodies(ChannelKind::Webhook, &message("# t".to_string()))[0];
        let keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["data", "event", "id", "markdown", "occurred_at", "report_id", "title"]);
        assert_eq!(body["event"], "weekly_summary");
        assert_eq!(body["data"]["week"], "2023-W20");
    }
}
