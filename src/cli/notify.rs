//! `ratingwatch notify test|outbox|send`: try a channel, look at the outbox, send an event
//! on demand (backfills). `send` goes through the outbox like the service's events, so the
//! same event on the same channel is delivered once; `--again` makes a new message.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use comfy_table::Table;
use serde_json::json;

use super::{Context, exit, outln, parse_date};
use crate::analysis::CurrencyMode;
use crate::config::EventKind;
use crate::ids::{ReportId, Week};
use crate::lock::InstanceLock;
use crate::notify::{Notifier, Outcome, Sender, SenderOptions, events, sender};
use crate::pipeline::{self, WeekSelection};
use crate::report::RenderOptions;
use crate::store::{NewOutboxMessage, OutboxRow, OutboxState};

#[derive(clap::Subcommand, Debug)]
pub enum NotifyCommand {
    /// Send a short test message to every channel (or one) and print each platform's answer.
    Test(TestArgs),
    /// The outbox: each message's state, every attempt, and the last error.
    Outbox(OutboxArgs),
    /// Queue one event through the outbox and deliver it now.
    Send(SendArgs),
}

#[derive(clap::Args, Debug)]
pub struct TestArgs {
    /// Only this channel (a `name` from [[notify.channels]]).
    #[arg(long, value_name = "NAME")]
    pub channel: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct OutboxArgs {
    /// Output format.
    #[arg(long, default_value = "table", value_parser = ["table", "json"])]
    pub format: String,
    /// Only this channel's messages.
    #[arg(long, value_name = "NAME")]
    pub channel: Option<String>,
    /// The newest this many messages.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

#[derive(clap::Args, Debug)]
pub struct SendArgs {
    /// weekly_summary, verdict or rating_change.
    #[arg(long, value_parser = parse_send_event)]
    pub event: EventKind,
    /// The report [default: the only report in the database]
    #[arg(long, value_name = "ID")]
    pub report: Option<ReportId>,
    /// weekly_summary: the ISO week, e.g. 2023-W20.
    #[arg(long, value_name = "YYYY-Www")]
    pub week: Option<Week>,
    /// verdict and rating_change: measured to this date [default: today].
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub as_of: Option<NaiveDate>,
    /// Only this channel.
    #[arg(long, value_name = "NAME")]
    pub channel: Option<String>,
    /// Send a new message even if this event was delivered on this channel before.
    #[arg(long)]
    pub again: bool,
}

pub fn run(context: &Context, command: &NotifyCommand) -> anyhow::Result<u8> {
    match command {
        NotifyCommand::Test(args) => test(context, args),
        NotifyCommand::Outbox(args) => outbox(context, args),
        NotifyCommand::Send(args) => send(context, args),
    }
}

fn notifier(context: &Context, channel: Option<&str>) -> anyhow::Result<Notifier> {
    let notifier = Notifier::from_config(&context.config.notify, |name| std::env::var(name).ok())?
        .ok_or_else(|| {
            anyhow::anyhow!("no channel is configured: add a [[notify.channels]] table to the config (see README.md, \"Notifications\")")
        })?
        .with_public_url(&context.config.http.public_url);
    if let Some(name) = channel
        && notifier.channels.get(name).is_none()
    {
        let names: Vec<&str> = notifier.channels.iter().map(|c| c.name.as_str()).collect();
        anyhow::bail!("no channel named `{name}` (configured: {})", names.join(", "));
    }
    Ok(notifier)
}

fn sender(context: &Context, notifier: &Notifier) -> anyhow::Result<Sender> {
    let now = context.now;
    let mut options = SenderOptions::from_config(&context.config.notify);
    options.pace = std::time::Duration::from_millis(1100);
    Ok(Sender::new(notifier.channels.clone(), options, &context.config.database.path, Arc::new(move || now.max(Utc::now())))?)
}

fn test(context: &Context, args: &TestArgs) -> anyhow::Result<u8> {
    let notifier = notifier(context, args.channel.as_deref())?;
    let timeout = SenderOptions::from_config(&context.config.notify).timeout;
    let runtime = super::runtime()?;
    let mut code = exit::OK;
    for channel in notifier.channels.iter().filter(|c| args.channel.as_deref().is_none_or(|name| c.name == name)) {
        let message = events::test(&channel.name, context.now);
        let attempts = runtime.block_on(sender::send_now(channel, &message, timeout, context.now.max(Utc::now())))?;
        for attempt in attempts {
            let status = attempt.http_status.map(|s| format!("HTTP {s}: ")).unwrap_or_default();
            match attempt.outcome {
                Outcome::Accepted { answer } => outln(&format!("{}: accepted ({status}{answer})", channel.describe()))?,
                Outcome::Retry { reason, .. } => {
                    code = exit::PARTIAL;
                    outln(&format!("{}: not delivered, transient: {reason}", channel.describe()))?;
                }
                Outcome::Permanent { reason } => {
                    code = exit::PARTIAL;
                    outln(&format!("{}: rejected: {reason}", channel.describe()))?;
                }
            }
        }
    }
    Ok(code)
}

fn outbox(context: &Context, args: &OutboxArgs) -> anyhow::Result<u8> {
    let store = context.open_store()?;
    let rows = store.outbox_messages(args.channel.as_deref(), args.limit)?;
    let mut listed = Vec::new();
    for row in rows {
        let attempts = store.outbox_attempts(row.id)?;
        listed.push((row, attempts));
    }
    if args.format == "json" {
        let items: Vec<_> = listed.iter().map(|(row, attempts)| json!({ "message": row, "attempts": attempts })).collect();
        outln(&serde_json::to_string_pretty(&items)?)?;
        return Ok(exit::OK);
    }
    if listed.is_empty() {
        outln("the outbox is empty")?;
        return Ok(exit::OK);
    }
    let mut table = Table::new();
    table.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header(["id", "queued", "channel", "event", "state", "tries", "attempts", "next / done", "last error"]);
    for (row, attempts) in &listed {
        let log: Vec<String> = attempts
            .iter()
            .map(|a| {
                let status = a.http_status.map(|s| format!(" {s}")).unwrap_or_default();
                format!("#{} part {} {}{status} {}", a.attempt, a.part + 1, a.outcome, a.at.format("%m-%d %H:%M:%S"))
            })
            .collect();
        let when = match row.state {
            OutboxState::Pending => format!("next {}", short_time(row.next_attempt_at)),
            _ => row.finished_at.map(short_time).unwrap_or_default(),
        };
        let error = row.last_error.as_deref().map(|e| crate::notify::render::truncate_bytes(e, 120).to_string()).unwrap_or_default();
        table.add_row([
            row.id.to_string(),
            short_time(row.created_at),
            row.channel.clone(),
            format!("{}\n{}", row.event, subject(row)),
            row.state.as_str().to_string(),
            row.attempts.to_string(),
            log.join("\n"),
            when,
            error,
        ]);
    }
    outln(&table.to_string())?;
    Ok(exit::OK)
}

fn short_time(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// The dedup key without its event prefix and channel suffix: what the message is about.
fn subject(row: &OutboxRow) -> String {
    let key = row.dedup_key.strip_prefix(&format!("{}:", row.event)).unwrap_or(&row.dedup_key);
    key.strip_suffix(&format!(":{}", row.channel)).unwrap_or(key).to_string()
}

/// Gives each row a new dedup key (and webhook id): a new message, for `--again`.
fn again(rows: Vec<NewOutboxMessage>, now: DateTime<Utc>) -> Vec<NewOutboxMessage> {
    rows.into_iter()
        .map(|mut row| {
            row.dedup_key = format!("{}:again:{}", row.dedup_key, now.timestamp_millis());
            if let Ok(mut payload) = serde_json::from_str::<serde_json::Value>(&row.payload) {
                payload["id"] = serde_json::Value::String(row.dedup_key.clone());
                row.payload = payload.to_string();
            }
            row
        })
        .collect()
}

fn send(context: &Context, args: &SendArgs) -> anyhow::Result<u8> {
    let notifier = notifier(context, args.channel.as_deref())?;
    let mut store = context.open_store()?;
    let report = context.report(&store, args.report.as_ref())?;
    let render = RenderOptions::from_rule(&report.rule);
    let options = context.analysis_options(CurrencyMode::Cny);
    let now = context.now;
    let event = args.event;
    let wanted = |rows: Vec<NewOutboxMessage>| -> Vec<NewOutboxMessage> {
        let rows: Vec<NewOutboxMessage> =
            rows.into_iter().filter(|row| args.channel.as_deref().is_none_or(|name| row.channel == name)).collect();
        if args.again { again(rows, now) } else { rows }
    };
    // (announcement key and value, rows): the announced state is recorded with the rows.
    let (announcement, rows) = match event {
        EventKind::WeeklySummary => {
            let week = args.week.ok_or_else(|| anyhow::anyhow!("--event weekly_summary needs --week YYYY-Www"))?;
            let selection = WeekSelection::Week(week);
            let summary = pipeline::weekly(&store, &report, &selection, &options, &pipeline::broker_book(&context.config.ratings)?)?;
            (None, wanted(notifier.weekly_rows(&summary, &render, None, now)))
        }
        EventKind::Verdict | EventKind::RatingChange => {
            let as_of = args.as_of.unwrap_or_else(|| context.today());
            let verdict = pipeline::verdict(&store, &report, as_of, &options)?;
            let announcements =
                notifier.report_announcements(&verdict, &report.rule, &render, |key| store.announcement(key).ok().flatten(), now);
            let mut chosen: Vec<_> = announcements.into_iter().filter(|a| a.rows.iter().any(|row| row.event == event.as_str())).collect();
            if event == EventKind::Verdict && chosen.is_empty() {
                // Pending, or announced already: send the verdict as of the date anyway, keyed by it.
                let pointer = events::pointer(&notifier.config, &report.id, None);
                let message = events::verdict(&verdict, &render, &notifier.public_url, pointer, now);
                let key = format!("verdict:{}:as-of:{as_of}", report.id);
                (None, wanted(events::for_channels(&message, &notifier.channels, &key)))
            } else if chosen.is_empty() {
                outln(&format!(
                    "no rating change to announce as of {as_of}: no band change confirmed in the {} days before {} that was not announced already",
                    notifier.config.rating_lookback_days, verdict.end_date
                ))?;
                return Ok(exit::OK);
            } else {
                let rows: Vec<NewOutboxMessage> = chosen.iter_mut().flat_map(|a| std::mem::take(&mut a.rows)).collect();
                let keys: Vec<(String, String)> = chosen.into_iter().map(|a| (a.key, a.value)).collect();
                (Some(keys), wanted(rows))
            }
        }
        _ => unreachable!("clap only accepts the three events"),
    };
    let queued = match &announcement {
        Some(keys) => {
            let mut queued = 0;
            for (index, (key, value)) in keys.iter().enumerate() {
                // All rows go with the first announcement's transaction; the rest only record state.
                let rows = if index == 0 { rows.as_slice() } else { &[] };
                queued += store.announce(key, value, rows, now)?;
            }
            queued
        }
        None => store.enqueue_messages(&rows, now)?,
    };
    outln(&format!("queued {queued} new message(s) for {} channel(s)", rows.len()))?;
    let running = InstanceLock::is_held(&context.config.database.path);
    let sender = sender(context, &notifier)?;
    let runtime = super::runtime()?;
    let mut code = exit::OK;
    for row in &rows {
        let Some(stored) = store.outbox_message_by_key(&row.dedup_key)? else { continue };
        let state = match stored.state {
            OutboxState::Pending if running => {
                outln(&format!("{}: queued; the running service delivers it", stored.channel))?;
                continue;
            }
            OutboxState::Pending => runtime.block_on(sender.deliver(&stored))?,
            state => {
                outln(&format!(
                    "{}: already {} at {} (message {}; --again sends a new one)",
                    stored.channel,
                    state.as_str(),
                    stored.finished_at.map(short_time).unwrap_or_default(),
                    stored.id
                ))?;
                continue;
            }
        };
        let after = store.outbox_message(stored.id)?.unwrap_or(stored);
        match state {
            OutboxState::Sent => outln(&format!("{}: sent ({} attempt(s), message {})", after.channel, after.attempts, after.id))?,
            OutboxState::Pending => {
                code = exit::PARTIAL;
                outln(&format!(
                    "{}: not delivered yet: {}; the service retries it (next at {})",
                    after.channel,
                    after.last_error.as_deref().unwrap_or(""),
                    short_time(after.next_attempt_at)
                ))?;
            }
            _ => {
                code = exit::PARTIAL;
                outln(&format!("{}: failed: {}", after.channel, after.last_error.as_deref().unwrap_or("")))?;
            }
        }
    }
    Ok(code)
}

/// `--event`: the three events `notify send` can queue, parsed by clap.
fn parse_send_event(text: &str) -> Result<EventKind, String> {
    match EventKind::parse(text) {
        Some(event @ (EventKind::WeeklySummary | EventKind::Verdict | EventKind::RatingChange)) => Ok(event),
        _ => Err(format!(
            "`{}` is not an event `notify send` queues; use weekly_summary, verdict or rating_change",
            crate::text::quote(text)
        )),
    }
}
