//! Notifications: every platform against a local server (wiremock) in its documented answer
//! formats, an in-process SMTP sink, and the outbox's at-least-once, never-twice behaviour.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use ratingwatch::config::{Config, EventKind};
use ratingwatch::notify::sender::{ClockFn, PassSummary};
use ratingwatch::notify::{Channels, Sender, SenderOptions, chat, events, sign};
use ratingwatch::report::RenderOptions;
use ratingwatch::store::{OutboxState, Store};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio_util::sync::CancellationToken;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::support;

/// A clock the test moves by hand.
#[derive(Clone)]
struct TestClock(Arc<Mutex<DateTime<Utc>>>);

impl TestClock {
    fn new() -> TestClock {
        TestClock(Arc::new(Mutex::new(DateTime::parse_from_rfc3339("2023-05-19T10:00:00Z").unwrap().with_timezone(&Utc))))
    }
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
    fn advance(&self, seconds: i64) {
        *self.0.lock().unwrap() += chrono::Duration::seconds(seconds);
    }
    fn as_fn(&self) -> ClockFn {
        let clock = self.clone();
        Arc::new(move || clock.now())
    }
}

fn channels(toml: &str, env: &[(&str, &str)]) -> Channels {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(&file, toml).unwrap();
    let config = Config::load(Some(&file), []).unwrap();
    let env: HashMap<String, String> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Channels::from_config(&config.notify, |name| env.get(name).cloned()).unwrap()
}

fn options(timeout: Duration) -> SenderOptions {
    let mut options = SenderOptions::from_config(&Default::default());
    options.timeout = timeout;
    options.pace = Duration::ZERO;
    options
}

fn channel_toml(name: &str, kind: &str, url: &str, extra: &str) -> String {
    format!("[[notify.channels]]\nname = \"{name}\"\nkind = \"{kind}\"\nurl = \"{url}\"\n{extra}\n")
}

/// Queues the fixture weekly summary for every channel; returns how many rows were new.
fn queue_weekly(database: &Path, channels: &Channels, now: DateTime<Utc>) -> usize {
    let summary = support::small_weekly(20);
    let message = events::weekly_summary(
        &summary,
        &RenderOptions::default(),
        "https://rw.example.com",
        "ratingwatch report --week 2023-W20".to_string(),
        now,
    );
    let rows = events::for_channels(&message, channels, &format!("weekly_summary:{}:{}", summary.report_id, summary.week));
    Store::open(database).unwrap().enqueue_messages(&rows, now).unwrap()
}

/// A fresh outbox in a temp folder (removed when `_dir` drops) holding the fixture weekly
/// summary queued for every channel, and a sender over it on a test clock.
struct Outbox {
    _dir: tempfile::TempDir,
    database: PathBuf,
    clock: TestClock,
    sender: Sender,
    /// How many rows were queued.
    queued: usize,
}

fn queued_weekly_outbox(channels: Channels, timeout: Duration) -> Outbox {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("n.db");
    let clock = TestClock::new();
    let queued = queue_weekly(&database, &channels, clock.now());
    let sender = Sender::new(channels, options(timeout), &database, clock.as_fn()).unwrap();
    Outbox { _dir: dir, database, clock, sender, queued }
}

async fn pass(sender: &Sender) -> PassSummary {
    sender.deliver_due(&CancellationToken::new()).await.unwrap()
}

fn only_row(database: &Path) -> ratingwatch::store::OutboxRow {
    let rows = Store::open(database).unwrap().outbox_messages(None, 10).unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    rows.into_iter().next().unwrap()
}

fn json_body(request: &Request) -> Value {
    serde_json::from_slice(&request.body).unwrap()
}

#[tokio::test]
async fn each_chat_platform_gets_its_own_body_and_signature() {
    let server = MockServer::start().await;
    Mock::given(path("/wecom"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"errcode":0,"errmsg":"ok"}"#))
        .mount(&server)
        .await;
    Mock::given(path("/ding"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"errmsg":"ok","errcode":0}"#))
        .mount(&server)
        .await;
    Mock::given(path("/feishu"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(r#"{"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": {}, "msg": "success"}"#),
        )
        .mount(&server)
        .await;
    Mock::given(path("/slack")).respond_with(ResponseTemplate::new(200).set_body_string("ok")).mount(&server).await;
    Mock::given(path("/hook")).respond_with(ResponseTemplate::new(204)).mount(&server).await;
    let base = server.uri();
    let toml = [
        channel_toml("wecom", "wecom", &format!("{base}/wecom?key=k"), ""),
        channel_toml("ding", "dingtalk", &format!("{base}/ding?access_token=t"), "secret_env = \"DING\""),
        channel_toml("feishu", "feishu", &format!("{base}/feishu"), "secret_env = \"FEISHU\""),
        channel_toml("slack", "slack", &format!("{base}/slack"), ""),
        channel_toml("hook", "webhook", &format!("{base}/hook"), "secret_env = \"HOOK\""),
    ]
    .concat();
    let channels = channels(&toml, &[("DING", "SECding"), ("FEISHU", "feishu-secret"), ("HOOK", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]);
    let Outbox { _dir, database: _, clock, sender, queued } = queued_weekly_outbox(channels, Duration::from_secs(5));
    assert_eq!(queued, 5);
    let summary = pass(&sender).await;
    assert_eq!((summary.accepted, summary.retrying, summary.failed), (5, 0, 0), "{summary:?}");

    let requests = server.received_requests().await.unwrap();
    let by_path = |p: &str| requests.iter().filter(|r| r.url.path() == p).collect::<Vec<_>>();
    // Every chat message leads with the headline (W20: the basket's +1.73 pp is 1000 − 173 =
    // 827 bp short of 看好's ≥ +10 pp), has a line per sector, the basket's best and worst two
    // of the week (腾讯 441/420 = +5.00 %, 中国移动 45.9/45 = +2.00 %; 中际旭创 53.9/55 =
    // −2.00 %, 锐捷网络 no close: 0.00 %), the links under http.public_url and the ref last.
    let headline = "看好 (overweight) not held so far: +1.73 pp vs ≥ +10 pp (8.27 pp short), 87 days left, prices of 2023-05-19";
    let telecom = "通信 communications: -1.46 pp 中性, not held so far, week +1.02 pp";
    let apps = "应用 applications: +12.29 pp 看好, held so far, week +4.47 pp";
    let best = "best this week: 腾讯 +5.00 %, 中国移动 +2.00 %";
    let worst = "worst this week: 中际旭创 -2.00 %, 锐捷网络 0.00 %";
    let report_page = "https://rw.example.com/reports/small-2023-02-14";
    let week_page = "https://rw.example.com/reports/small-2023-02-14/weeks/2023-W20";
    let reference = |channel: &str| chat::ref_line(&format!("weekly_summary:small-2023-02-14:2023-W20:{channel}"));
    for path in ["/wecom", "/ding", "/feishu", "/slack"] {
        assert_eq!(by_path(path).len(), 1, "{path}: one message per event");
        let body = String::from_utf8(by_path(path)[0].body.clone()).unwrap();
        assert!(!body.contains("<br>") && !body.contains("| --- |") && !body.contains("(1/"), "{path}: {body}");
    }

    // WeCom markdown: the state coloured (warning: not held), sectors as quotes.
    let wecom = json_body(by_path("/wecom")[0]);
    assert_eq!(wecom["msgtype"], "markdown");
    let content = wecom["markdown"]["content"].as_str().unwrap();
    let lines: Vec<&str> = content.lines().collect();
    assert_eq!(
        lines[0],
        "**看好 (overweight) <font color=\"warning\">not held so far</font>**: +1.73 pp vs ≥ +10 pp (8.27 pp short), 87 days left, prices of 2023-05-19"
    );
    assert_eq!(lines[1], "**小型测试报告 · 2023-W20**");
    assert_eq!(lines[2], "> 通信 communications: -1.46 pp 中性, <font color=\"warning\">not held so far</font>, week +1.02 pp");
    assert_eq!(lines[3], "> 应用 applications: +12.29 pp 看好, <font color=\"info\">held so far</font>, week +4.47 pp");
    assert_eq!(&lines[4..6], &[best, worst]);
    assert_eq!(lines[6], format!("[report page]({report_page}) · [week 2023-W20]({week_page})"));
    assert_eq!(lines[7], reference("wecom"));
    assert_eq!(lines.len(), 8);

    // DingTalk: ms timestamp and the URL-encoded sign in the query.
    let ding = by_path("/ding")[0];
    let query: HashMap<String, String> = ding.url.query_pairs().into_owned().collect();
    let timestamp_ms = clock.now().timestamp_millis();
    assert_eq!(query["timestamp"], timestamp_ms.to_string());
    assert_eq!(query["sign"], sign::dingtalk_sign(timestamp_ms, "SECding"));
    assert_eq!(query["access_token"], "t");
    // Its markdown subset: bold, a level-4 heading, a list, links; the title (the phone's
    // notification) is the headline in brief.
    let ding = json_body(ding);
    assert_eq!(ding["msgtype"], "markdown");
    assert_eq!(ding["markdown"]["title"], "看好 not held so far: +1.73 pp vs ≥ +10 pp");
    let expected = format!(
        "**{headline}**\n\n#### 小型测试报告 · 2023-W20\n\n- {telecom}\n- {apps}\n\n{best}\n\n{worst}\n\n\
         [report page]({report_page}) · [week 2023-W20]({week_page})\n\n{}",
        reference("ding")
    );
    assert_eq!(ding["markdown"]["text"], expected);

    // Feishu: s timestamp and sign in the body; a post titled with the headline.
    let feishu = json_body(by_path("/feishu")[0]);
    assert_eq!(feishu["timestamp"], clock.now().timestamp().to_string());
    assert_eq!(feishu["sign"], sign::feishu_sign(clock.now().timestamp(), "feishu-secret"));
    assert_eq!(feishu["msg_type"], "post");
    let post = &feishu["content"]["post"]["zh_cn"];
    assert_eq!(post["title"], headline);
    let text = |line: &str| serde_json::json!([{"tag": "text", "text": line}]);
    let links = serde_json::json!([
        {"tag": "a", "text": "report page", "href": report_page},
        {"tag": "text", "text": " · "},
        {"tag": "a", "text": "week 2023-W20", "href": week_page},
    ]);
    assert_eq!(
        post["content"],
        serde_json::json!([
            text("小型测试报告 · 2023-W20"),
            text(telecom),
            text(apps),
            text(best),
            text(worst),
            links,
            text(&reference("feishu"))
        ])
    );

    // Slack: the headline is the notification text and the first block (mrkdwn bold, no
    // heading); links in Slack's <url|text> form.
    let slack = json_body(by_path("/slack")[0]);
    assert_eq!(slack["text"], headline);
    assert_eq!(
        slack["blocks"][0]["text"]["text"],
        "*看好 (overweight) not held so far*: +1.73 pp vs ≥ +10 pp (8.27 pp short), 87 days left, prices of 2023-05-19"
    );
    assert_eq!(slack["blocks"][1]["text"]["text"], format!("*小型测试报告 · 2023-W20*\n• {telecom}\n• {apps}\n{best}\n{worst}"));
    assert_eq!(
        slack["blocks"][2]["elements"][0]["text"],
        format!("<{report_page}|report page> · <{week_page}|week 2023-W20> · {}", reference("slack"))
    );

    // Webhook: Standard Webhooks headers; the signature checked with an independent HMAC.
    let hook = by_path("/hook")[0];
    let header = |name: &str| hook.headers.get(name).unwrap().to_str().unwrap().to_string();
    let id = header("webhook-id");
    assert_eq!(id, "weekly_summary:small-2023-02-14:2023-W20:hook");
    let timestamp = header("webhook-timestamp");
    use hmac::Mac as _;
    let key = base64::engine::general_purpose::STANDARD.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(&hook.body);
    let expected = format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()));
    assert_eq!(header("webhook-signature"), expected);
    let body = json_body(hook);
    assert_eq!(body["event"], "weekly_summary");
    // `data` is the JSON the CLI prints for the summary.
    assert_eq!(
        body["data"],
        serde_json::from_str::<Value>(&ratingwatch::report::render_weekly(&support::small_weekly(20), ratingwatch::report::Format::Json))
            .unwrap()
    );
}

/// A body-level error code in an HTTP 200, per platform: permanent ones stop, rate limits wait.
#[tokio::test]
async fn body_level_errors_are_failures_not_deliveries() {
    let cases = [
        (
            "wecom",
            r#"{"errcode":93000,"errmsg":"invalid webhook url, hint: [1755605200056773468916791], from ip: 172.212.167.87, more info at https://open.work.weixin.qq.com/devtool/query?e=93000"}"#,
            OutboxState::Failed,
            0,
        ),
        (
            "wecom",
            r#"{"errcode":40058,"errmsg":"markdown.content exceed max length 4096. invalid Request Parameter"}"#,
            OutboxState::Failed,
            0,
        ),
        (
            "dingtalk",
            r#"{"errcode":310000,"errmsg":"sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"}"#,
            OutboxState::Failed,
            0,
        ),
        ("dingtalk", r#"{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}"#, OutboxState::Pending, 60),
        (
            "feishu",
            r#"{"code":19021,"data":{},"msg":"sign match fail or timestamp is not within one hour from current time"}"#,
            OutboxState::Failed,
            0,
        ),
        (
            "feishu",
            r#"{"code":11232,"data":{},"msg":"frequency limited psm[lark.oapi.app_platform_runtime]appID[1500]"}"#,
            OutboxState::Pending,
            60,
        ),
    ];
    for (kind, answer, state, wait) in cases {
        let server = MockServer::start().await;
        Mock::given(method("POST")).respond_with(ResponseTemplate::new(200).set_body_string(answer)).mount(&server).await;
        let channels = channels(&channel_toml("c", kind, &server.uri(), ""), &[]);
        let Outbox { _dir, database, clock, sender, queued: _ } = queued_weekly_outbox(channels, Duration::from_secs(5));
        pass(&sender).await;
        let row = only_row(&database);
        assert_eq!(row.state, state, "{kind} {answer}: {row:?}");
        assert_eq!(row.attempts, 1);
        // The error names the platform's code, e.g. 93000.
        let code = answer.split(':').nth(1).unwrap().split(',').next().unwrap();
        assert!(row.last_error.as_deref().unwrap().contains(code), "{row:?}");
        if state == OutboxState::Pending {
            assert_eq!((row.next_attempt_at - clock.now()).num_seconds(), wait, "{kind}: the platform's rate-limit wait");
        }
        // A failed message is never retried; a rate-limited one not before its time.
        clock.advance(30);
        pass(&sender).await;
        assert_eq!(server.received_requests().await.unwrap().len(), 1, "{kind} {answer}");
    }
}

#[tokio::test]
async fn retry_after_is_honoured_and_a_500_then_200_delivers_exactly_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "120").set_body_string("slow down"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_string("rollup_error"))
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200).set_body_string("ok")).with_priority(3).mount(&server).await;
    let channels = channels(&channel_toml("slack", "slack", &server.uri(), ""), &[]);
    let Outbox { _dir, database, clock, sender, queued: _ } = queued_weekly_outbox(channels, Duration::from_secs(5));

    pass(&sender).await;
    let row = only_row(&database);
    assert_eq!(row.state, OutboxState::Pending);
    assert_eq!((row.next_attempt_at - clock.now()).num_seconds(), 120, "Retry-After: 120 beats the 5 s backoff");
    clock.advance(119);
    pass(&sender).await;
    assert_eq!(server.received_requests().await.unwrap().len(), 1, "not before Retry-After");
    clock.advance(1);
    pass(&sender).await; // 500: the backoff's second step, 30 s
    let row = only_row(&database);
    assert_eq!((row.state, row.attempts), (OutboxState::Pending, 2));
    assert_eq!((row.next_attempt_at - clock.now()).num_seconds(), 30);
    clock.advance(30);
    pass(&sender).await; // 200
    clock.advance(3600);
    pass(&sender).await; // nothing left
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
    let row = only_row(&database);
    assert_eq!((row.state, row.attempts), (OutboxState::Sent, 3));
    let attempts = Store::open(&database).unwrap().outbox_attempts(row.id).unwrap();
    let log: Vec<(String, Option<u16>)> = attempts.iter().map(|a| (a.outcome.clone(), a.http_status)).collect();
    assert_eq!(log, [("retry".into(), Some(429)), ("retry".into(), Some(500)), ("accepted".into(), Some(200))]);
}

#[tokio::test]
async fn a_timeout_is_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3))).mount(&server).await;
    let channels = channels(&channel_toml("hook", "webhook", &server.uri(), ""), &[]);
    let Outbox { _dir, database, clock: _, sender, queued: _ } = queued_weekly_outbox(channels, Duration::from_millis(300));
    pass(&sender).await;
    let row = only_row(&database);
    assert_eq!(row.state, OutboxState::Pending);
    assert!(row.last_error.as_deref().unwrap().starts_with("timed out"), "{row:?}");
}

#[tokio::test]
async fn pending_messages_survive_a_restart_and_duplicates_are_one_message() {
    let down = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(503)).mount(&down).await;
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("n.db");
    let clock = TestClock::new();
    {
        let channels = channels(&channel_toml("hook", "webhook", &down.uri(), ""), &[]);
        assert_eq!(queue_weekly(&database, &channels, clock.now()), 1);
        assert_eq!(queue_weekly(&database, &channels, clock.now()), 0, "the same event again is the same row");
        let sender = Sender::new(channels, options(Duration::from_secs(5)), &database, clock.as_fn()).unwrap();
        pass(&sender).await;
        assert_eq!(only_row(&database).state, OutboxState::Pending);
    } // the first process stops

    let up = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&up).await;
    let channels = channels(&channel_toml("hook", "webhook", &up.uri(), ""), &[]);
    assert_eq!(queue_weekly(&database, &channels, clock.now()), 0);
    clock.advance(10);
    let sender = Sender::new(channels, options(Duration::from_secs(5)), &database, clock.as_fn()).unwrap();
    pass(&sender).await;
    clock.advance(600);
    pass(&sender).await;
    assert_eq!(up.received_requests().await.unwrap().len(), 1, "delivered once after the restart");
    assert_eq!(only_row(&database).state, OutboxState::Sent);
}

#[tokio::test]
async fn a_split_message_resumes_after_its_accepted_parts() {
    let server = MockServer::start().await;
    // Part 1 accepted, part 2 fails once, then everything is accepted.
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"errcode":0,"errmsg":"ok"}"#))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(502)).up_to_n_times(1).with_priority(2).mount(&server).await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"errcode":0,"errmsg":"ok"}"#))
        .with_priority(3)
        .mount(&server)
        .await;
    let channels = channels(&channel_toml("wecom", "wecom", &server.uri(), ""), &[]);
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("n.db");
    let clock = TestClock::new();
    let mut message = events::test("wecom", clock.now());
    message.event = EventKind::WeeklySummary;
    // ~10 KB of CJK lines: three WeCom messages of at most 4096 bytes.
    message.markdown =
        (0..200).map(|n| format!("| 深度学习大模型 {n:03} | +7.54 pp | 中性 |\n")).collect::<String>() + "\nMethod: equal weight.";
    let rows = events::for_channels(&message, &channels, "weekly_summary:r:2023-W20");
    Store::open(&database).unwrap().enqueue_messages(&rows, clock.now()).unwrap();
    let sender = Sender::new(channels, options(Duration::from_secs(5)), &database, clock.as_fn()).unwrap();
    pass(&sender).await;
    let row = only_row(&database);
    assert_eq!((row.state, row.parts_sent), (OutboxState::Pending, 1));
    clock.advance(5);
    pass(&sender).await;
    let requests = server.received_requests().await.unwrap();
    let contents: Vec<String> = requests.iter().map(|r| json_body(r)["markdown_v2"]["content"].as_str().unwrap().to_string()).collect();
    assert_eq!(contents.len(), 4, "part 1, part 2 (502), part 2 again, part 3");
    assert!(contents[0].starts_with("(1/3) "));
    assert_eq!(contents[1], contents[2]);
    // The ref of the dedup key is the last line of the last part.
    let reference = chat::ref_line("weekly_summary:r:2023-W20:wecom");
    assert!(
        contents[3].starts_with("(3/3) ") && contents[3].ends_with(&format!("Method: equal weight.\n\n{reference}")),
        "{}",
        contents[3]
    );
    assert!(contents.iter().all(|c| c.len() <= 4096));
    assert_eq!(contents.iter().filter(|c| c.starts_with("(1/3) ")).count(), 1, "an accepted part is never sent again");
    assert_eq!(only_row(&database).state, OutboxState::Sent);
}

#[tokio::test]
async fn messages_are_given_up_after_the_configured_age() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(500)).mount(&server).await;
    let channels = channels(&channel_toml("hook", "webhook", &server.uri(), ""), &[]);
    let Outbox { _dir, database, clock, sender, queued: _ } = queued_weekly_outbox(channels, Duration::from_secs(5));
    pass(&sender).await;
    clock.advance(7 * 24 * 3600 + 1);
    let summary = pass(&sender).await;
    assert_eq!(summary.expired, 1);
    let row = only_row(&database);
    assert_eq!(row.state, OutboxState::Expired);
    assert!(row.last_error.unwrap().starts_with("gave up"));
    let counts = Store::open(&database).unwrap().channel_deliveries().unwrap();
    assert_eq!((counts[0].channel.as_str(), counts[0].expired, counts[0].pending), ("hook", 1, 0));
}

// ---------------------------------------------------------------------------------------------
// Email, into an SMTP sink in this process.

/// A minimal SMTP server on 127.0.0.1: accepts everything and keeps each message's DATA.
async fn smtp_sink() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Arc::new(Mutex::new(Vec::new()));
    let store = received.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let store = store.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                while let Ok(Some(line)) = lines.next_line().await {
                    let verb = line.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250-sink\r\n250 8BITMIME\r\n",
                        "DATA" => {
                            write.write_all(b"354 end with .\r\n").await.unwrap();
                            let mut data = String::new();
                            while let Ok(Some(line)) = lines.next_line().await {
                                if line == "." {
                                    break;
                                }
                                data.push_str(&line);
                                data.push('\n');
                            }
                            store.lock().unwrap().push(data);
                            b"250 2.0.0 queued as 1\r\n"
                        }
                        "QUIT" => {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            break;
                        }
                        _ => b"250 ok\r\n",
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, received)
}

/// The decoded body of the first MIME part with `content_type`.
fn mime_part(email: &str, content_type: &str) -> Option<(String, Vec<u8>)> {
    let at = email.find(&format!("Content-Type: {content_type}"))?;
    // The part's headers start after its boundary line.
    let start = email[..at].rfind("\n--").map(|i| email[i + 1..].find('\n').map_or(at, |j| i + 1 + j + 1)).unwrap_or(at);
    let part = &email[start..];
    let (headers, rest) = part.split_once("\n\n")?;
    let body: String = rest.lines().take_while(|line| !line.starts_with("--")).collect::<Vec<_>>().join("\n");
    let bytes = if headers.contains("Content-Transfer-Encoding: base64") {
        base64::engine::general_purpose::STANDARD.decode(body.replace('\n', "")).ok()?
    } else if headers.contains("quoted-printable") {
        quoted_printable::decode(&body, quoted_printable::ParseMode::Robust).ok()?
    } else {
        body.into_bytes()
    };
    Some((headers.to_string(), bytes))
}

#[tokio::test]
async fn email_carries_the_html_report_with_the_chart_as_an_inline_png() {
    let (port, received) = smtp_sink().await;
    let toml = format!(
        "[[notify.channels]]\nname = \"mail\"\nkind = \"email\"\nsmtp_url = \"smtp://127.0.0.1:{port}\"\nfrom = \"ratingwatch <bot@example.com>\"\nto = [\"team@example.com\", \"cio@example.com\"]\n"
    );
    let channels = channels(&toml, &[]);
    let Outbox { _dir, database, clock: _, sender, queued: _ } = queued_weekly_outbox(channels, Duration::from_secs(10));
    let summary = pass(&sender).await;
    assert_eq!(summary.accepted, 1, "{summary:?} {:?}", only_row(&database));
    let emails = received.lock().unwrap().clone();
    assert_eq!(emails.len(), 1);
    let email = &emails[0];
    assert!(email.contains("To: team@example.com, cio@example.com"), "{email}");
    assert!(email.contains("Content-Type: multipart/alternative") && email.contains("Content-Type: multipart/related"));
    let (_, html) = mime_part(email, "text/html").expect("an HTML part");
    let html = String::from_utf8(html).unwrap();
    assert!(html.contains("<img src=\"cid:chart\""), "the chart is referenced by Content-ID");
    assert!(!html.contains("<svg"), "no SVG left for mail clients that cannot show it");
    assert!(html.contains("Method:"));
    // Subject, plain text and HTML lead with the headline (W20: +1.73 pp, 827 bp short of
    // ≥ +10 pp); the plain part is the table form, with no markup.
    let headline = "看好 (overweight) not held so far: +1.73 pp vs ≥ +10 pp (8.27 pp short), 87 days left, prices of 2023-05-19";
    let message = events::weekly_summary(&support::small_weekly(20), &RenderOptions::default(), "", String::new(), Utc::now());
    assert_eq!(message.title, format!("{headline} · 小型测试报告 2023-W20"));
    let mail = ratingwatch::notify::email::build(&message, "rw@example.com", &["to@example.com".to_string()]).unwrap();
    assert_eq!(mail.headers().get_raw("Subject").unwrap(), message.title);
    let (_, plain) = mime_part(email, "text/plain").expect("a plain part");
    let plain = String::from_utf8(plain).unwrap();
    assert_eq!(plain.lines().next(), Some(headline), "{plain}");
    assert!(!plain.contains("<br>") && !plain.contains('<'), "{plain}");
    assert!(html.contains(&format!("<p class=\"headline fails\">{}</p>", headline.replace('>', "&gt;"))), "{html}");
    let (headers, png) = mime_part(email, "image/png").expect("an inline PNG part");
    assert!(headers.contains("Content-ID: <chart>") && headers.contains("Content-Disposition: inline"), "{headers}");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(png.len() > 10_000, "a drawn chart, not an empty image: {} bytes", png.len());
    let row = only_row(&database);
    assert_eq!(row.state, OutboxState::Sent);
    let attempts = Store::open(&database).unwrap().outbox_attempts(row.id).unwrap();
    assert!(attempts[0].detail.starts_with("250"), "{attempts:?}");
}

#[test]
fn two_crossings_of_the_same_line_have_distinct_titles_and_subjects_naming_their_dates() {
    use chrono::NaiveDate;
    use ratingwatch::notify::rating::BandChange;
    let report = support::small_report();
    let verdict = support::small_verdict("2023-06-30");
    let group = &verdict.sectors[0];
    let (neutral, overweight) = (report.rule.implied(0.0), report.rule.implied(0.5));
    assert_ne!(neutral, overweight);
    let change = |since: NaiveDate| BandChange {
        from: neutral,
        to: overweight,
        since,
        excess_since: 0.11,
        confirmed: since.succ_opt().unwrap(),
        excess_confirmed: 0.12,
    };
    let (april, may) = (NaiveDate::from_ymd_opt(2023, 4, 3).unwrap(), NaiveDate::from_ymd_opt(2023, 5, 17).unwrap());
    let now = Utc::now();
    let first = events::rating_change(&verdict, group, &change(april), &report.rule, 2, "", String::new(), now);
    let second = events::rating_change(&verdict, group, &change(may), &report.rule, 2, "", String::new(), now);
    assert_ne!(first.title, second.title);
    let (from, to) = (&report.rule.label(neutral).zh, &report.rule.label(overweight).zh);
    assert_eq!(first.title, format!("{} · {} {from} → {to} · 2023-04-03", verdict.title, group.name));
    assert_eq!(second.title, format!("{} · {} {from} → {to} · 2023-05-17", verdict.title, group.name));
    assert!(first.markdown.starts_with(&format!("### {}\n", first.title)));
    // The email subject is the title, so the two mails differ too.
    let subject = |message: &ratingwatch::notify::Message| {
        let mail = ratingwatch::notify::email::build(message, "rw@example.com", &["to@example.com".to_string()]).unwrap();
        mail.headers().get_raw("Subject").unwrap().to_string()
    };
    assert_eq!(subject(&first), first.title);
    assert_ne!(subject(&first), subject(&second));
}

/// README's "WeCom in four steps", followed literally: the shipped config with the box's
/// table appended parses, and `notify test` reaches the (local) WeCom endpoint named by the
/// environment variable, never by the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_wecom_in_four_steps_works_on_the_shipped_config() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    // Step 2's block: the ```toml fence after the marker, its lines without the quote prefix.
    let after = &readme[readme.find("<!-- wecom-four-steps -->").expect("README keeps the marker")..];
    let block: String = after
        .lines()
        .map(|line| line.trim_start_matches('>').trim())
        .skip_while(|line| *line != "```toml")
        .skip(1)
        .take_while(|line| *line != "```")
        .map(|line| format!("{line}\n"))
        .collect();
    assert!(block.contains("[[notify.channels]]") && block.contains("url_env = \"WECOM_WEBHOOK_URL\""), "{block}");

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ratingwatch.toml");
    let shipped = std::fs::read_to_string(root.join("config/ratingwatch.toml")).unwrap();
    std::fs::write(&config, format!("{shipped}\n{block}")).unwrap();
    let loaded = Config::load(Some(&config), []).unwrap_or_else(|error| panic!("shipped config + README's channel: {error:#}"));
    assert_eq!(loaded.notify.channels.len(), 1);

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/cgi-bin/webhook/send"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"errcode":0,"errmsg":"ok"}"#))
        .expect(1)
        .mount(&server)
        .await;
    let url = format!("{}/cgi-bin/webhook/send?key=four-steps-key", server.uri());
    let (dir_path, config_path) = (dir.path().to_path_buf(), config.clone());
    let output = tokio::task::spawn_blocking(move || {
        support::ratingwatch_process(&dir_path)
            .arg("--config")
            .arg(&config_path)
            .args(["notify", "test"])
            .env("WECOM_WEBHOOK_URL", url)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.starts_with("team-wecom (wecom 127.0.0.1): accepted (HTTP 200"), "{stdout}");
    // The key is in the environment only: not echoed back to the terminal.
    assert!(!stdout.contains("four-steps-key"), "{stdout}");
    let requests = server.received_requests().await.unwrap();
    assert_eq!(json_body(&requests[0])["msgtype"].as_str().map(|t| t.starts_with("markdown")), Some(true));
}
