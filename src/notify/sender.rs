//! The outbox sender: delivers due messages, records every attempt, retries with backoff,
//! gives up after `notify.give_up_after_hours`.
//!
//! At-least-once, never twice after acceptance: a message (or part of a split message) is
//! marked accepted in the same transaction that records the attempt, right after the platform
//! accepts it, and accepted parts are never sent again. The only window for a duplicate is
//! a crash between the platform's answer and that commit; nothing else (not even the log
//! line) runs in it. A resend carries the same idempotency key: the email's `Message-ID`
//! ([`email::message_id`]) and the generic webhook's `webhook-id` both come from the dedup
//! key. Pending messages survive restarts: they are rows, and the sender looks for due rows
//! when it starts.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::channel::{Channel, Channels};
use super::deliver::{self, Attempted, Outcome};
use super::{Message, NotifyError, email};
use crate::config::{ChannelKind, NotifyConfig};
use crate::store::{AttemptRecord, OutboxRow, OutboxState, Store};

/// The wall clock, injected.
pub type ClockFn = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

#[derive(Clone, Debug)]
pub struct SenderOptions {
    /// One attempt's timeout (HTTP request or SMTP session).
    pub timeout: Duration,
    /// Pending messages older than this are given up.
    pub give_up_after: chrono::Duration,
    /// Waits after the 1st, 2nd, … failed attempt; the last repeats. A `Retry-After` or a
    /// platform's rate-limit wait is used when longer.
    pub backoff: Vec<Duration>,
    /// Pause between two sends, so a burst stays under the chat platforms' rate limits
    /// (Slack about 1 a second; WeCom and DingTalk 20 a minute).
    pub pace: Duration,
    /// With no message due, look again after this long (new rows also wake the sender).
    pub idle_poll: Duration,
}

impl SenderOptions {
    pub fn from_config(config: &NotifyConfig) -> SenderOptions {
        SenderOptions {
            timeout: Duration::from_secs(config.timeout_secs),
            give_up_after: chrono::Duration::hours(config.give_up_after_hours as i64),
            // Standard Webhooks' schedule, shortened at the start: 5 s, 30 s, 2 min, 10 min,
            // 30 min, 1 h, then every 2 h until the message is given up.
            backoff: [5, 30, 120, 600, 1800, 3600, 7200].into_iter().map(Duration::from_secs).collect(),
            pace: Duration::from_millis(1100),
            idle_poll: Duration::from_secs(60),
        }
    }

    fn backoff_after(&self, failures: u32) -> Duration {
        let index = (failures.max(1) as usize - 1).min(self.backoff.len().saturating_sub(1));
        self.backoff.get(index).copied().unwrap_or(Duration::from_secs(60))
    }
}

/// What one pass did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PassSummary {
    pub accepted: usize,
    pub retrying: usize,
    pub failed: usize,
    pub expired: usize,
    /// When the next pending message is due.
    pub next_due: Option<DateTime<Utc>>,
}

pub struct Sender {
    channels: Channels,
    client: reqwest::Client,
    options: SenderOptions,
    store: Arc<Mutex<Store>>,
    clock: ClockFn,
    /// Notified when new messages are queued, so they go out without waiting for a poll.
    pub wake: Arc<Notify>,
}

impl Sender {
    pub fn new(channels: Channels, options: SenderOptions, database: &Path, clock: ClockFn) -> Result<Sender, NotifyError> {
        let client = http_client(options.timeout)?;
        // The database exists already: `serve` creates it before the sender starts, and a
        // command on a mistyped path must not create one.
        let store = Store::open_existing(database)?;
        Ok(Sender { channels, client, options, store: Arc::new(Mutex::new(store)), clock, wake: Arc::new(Notify::new()) })
    }

    pub fn channels(&self) -> &Channels {
        &self.channels
    }

    async fn db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, crate::store::StoreError> + Send + 'static,
    ) -> Result<T, NotifyError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            let mut store = store.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            f(&mut store)
        })
        .await
        .map_err(|e| NotifyError::Task(e.to_string()))?
        .map_err(NotifyError::from)
    }

    /// Gives up old messages, then delivers every due one (stopping early, between
    /// messages, when `stop` fires).
    pub async fn deliver_due(&self, stop: &CancellationToken) -> Result<PassSummary, NotifyError> {
        let now = (self.clock)();
        let cutoff = now - self.options.give_up_after;
        let expired = self.db(move |store| store.expire_messages(cutoff, now)).await?;
        for row in &expired {
            // The data_health-style line: what was lost, where, and why.
            warn!(target: "ratingwatch::data_health", channel = %row.channel, key = %row.dedup_key, attempts = row.attempts,
                last_error = row.last_error.as_deref().unwrap_or(""), "gave up on a message: not delivered within notify.give_up_after_hours");
        }
        let mut summary = PassSummary { expired: expired.len(), ..PassSummary::default() };
        let due = self.db(move |store| store.due_messages(now, 100)).await?;
        let mut first = true;
        for row in due {
            if stop.is_cancelled() {
                break;
            }
            if !first && !self.options.pace.is_zero() {
                tokio::time::sleep(self.options.pace).await;
            }
            first = false;
            match self.deliver(&row).await? {
                OutboxState::Sent => summary.accepted += 1,
                OutboxState::Pending => summary.retrying += 1,
                OutboxState::Failed | OutboxState::Expired => summary.failed += 1,
            }
        }
        summary.next_due = self.db(|store| store.next_due_at()).await?;
        Ok(summary)
    }

    /// Delivers the parts of one message not yet accepted, recording each attempt.
    pub async fn deliver(&self, row: &OutboxRow) -> Result<OutboxState, NotifyError> {
        let message: Message = match serde_json::from_str(&row.payload) {
            Ok(message) => message,
            Err(error) => {
                return self.finish(row, 0, row.parts_sent, permanent(format!("the stored message does not parse: {error}"))).await;
            }
        };
        let Some(channel) = self.channels.get(&row.channel) else {
            let reason = format!("channel `{}` is no longer in [[notify.channels]]", row.channel);
            return self.finish(row, 0, row.parts_sent, permanent(reason)).await;
        };
        if channel.kind == ChannelKind::Email {
            let attempted = email::send(channel, &message, self.options.timeout).await;
            return self.finish(row, 0, 1, attempted).await;
        }
        let bodies = deliver::bodies(channel.kind, &message);
        let total = bodies.len() as u32;
        for index in row.parts_sent..total {
            let attempted = deliver::send_http(&self.client, channel, &bodies[index as usize], &message.id, (self.clock)()).await;
            if !matches!(attempted.outcome, Outcome::Accepted { .. }) {
                return self.record(row, index, index, attempted, false).await;
            }
            let done = index + 1 == total;
            let state = self.record(row, index, index + 1, attempted, done).await?;
            if done {
                return Ok(state);
            }
            if !self.options.pace.is_zero() {
                tokio::time::sleep(self.options.pace).await;
            }
        }
        self.finish(row, 0, row.parts_sent, permanent("the message has no content for this platform".to_string())).await
    }

    async fn finish(&self, row: &OutboxRow, part: u32, parts_when_accepted: u32, attempted: Attempted) -> Result<OutboxState, NotifyError> {
        let accepted = matches!(attempted.outcome, Outcome::Accepted { .. });
        let parts_sent = if accepted { parts_when_accepted } else { row.parts_sent };
        self.record(row, part, parts_sent, attempted, accepted).await
    }

    /// Records one attempt; `done`: the whole message has now been accepted.
    async fn record(
        &self,
        row: &OutboxRow,
        part: u32,
        parts_sent: u32,
        attempted: Attempted,
        done: bool,
    ) -> Result<OutboxState, NotifyError> {
        let channel = row.channel.as_str();
        let now = (self.clock)();
        let failures = row.attempts + 1;
        let (outcome, detail, state, next) = match &attempted.outcome {
            Outcome::Accepted { answer } if done => ("accepted", answer.clone(), OutboxState::Sent, None),
            // A part of a split message: the rest go out right away.
            Outcome::Accepted { answer } => ("accepted", answer.clone(), OutboxState::Pending, Some(now)),
            Outcome::Retry { after, reason } => {
                let wait = self.options.backoff_after(failures).max(after.unwrap_or_default());
                let next = now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1));
                ("retry", reason.clone(), OutboxState::Pending, Some(next))
            }
            Outcome::Permanent { reason } => ("permanent", reason.clone(), OutboxState::Failed, None),
        };
        let record = AttemptRecord {
            part,
            at: now,
            outcome: outcome.to_string(),
            http_status: attempted.http_status,
            detail,
            state,
            next_attempt_at: next,
            parts_sent,
        };
        let id = row.id;
        // The commit first: between the endpoint's answer and it is the only window in which
        // a kill resends an accepted part, so nothing else (not even a log line) runs there.
        let record = self
            .db(move |store| {
                store.record_attempt(id, &record)?;
                Ok(record)
            })
            .await?;
        let detail = record.detail;
        match state {
            OutboxState::Sent => info!(channel, key = %row.dedup_key, parts = parts_sent, "message delivered"),
            OutboxState::Pending if outcome == "retry" => {
                warn!(channel, key = %row.dedup_key, error = %detail, next_attempt = ?next, "delivery failed; will retry")
            }
            OutboxState::Failed => warn!(channel, key = %row.dedup_key, error = %detail, "delivery failed permanently; not retrying"),
            _ => {}
        }
        Ok(state)
    }

    /// Runs until `shutdown`: a pass whenever a message is due, when woken, or every
    /// `idle_poll`. A send in flight finishes (bounded by the timeout); no new one starts.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        info!(channels = self.channels.iter().map(Channel::describe).collect::<Vec<_>>().join(", "), "notification sender started");
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            let next_due = match self.deliver_due(&shutdown).await {
                Ok(summary) => summary.next_due,
                Err(error) => {
                    warn!(%error, "the notification sender could not read or write the outbox; trying again later");
                    None
                }
            };
            let now = (self.clock)();
            let wait = next_due
                .map(|at| (at - now).to_std().unwrap_or(Duration::ZERO))
                .unwrap_or(self.options.idle_poll)
                .clamp(Duration::from_millis(50), self.options.idle_poll);
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
        info!("notification sender stopped");
    }
}

/// The client every delivery uses: the attempt's timeout, ratingwatch's user agent.
fn http_client(timeout: Duration) -> Result<reqwest::Client, NotifyError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .user_agent(concat!("ratingwatch/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| NotifyError::Invalid(format!("cannot build the HTTP client: {e}")))
}

/// Sends `message` to `channel` now, outside the outbox and without a database (`notify
/// test`, which a new user runs before anything else): every part's attempt, stopping at the
/// first part not accepted.
pub async fn send_now(channel: &Channel, message: &Message, timeout: Duration, now: DateTime<Utc>) -> Result<Vec<Attempted>, NotifyError> {
    if channel.kind == ChannelKind::Email {
        return Ok(vec![email::send(channel, message, timeout).await]);
    }
    let client = http_client(timeout)?;
    let mut attempts = Vec::new();
    for body in deliver::bodies(channel.kind, message) {
        let attempted = deliver::send_http(&client, channel, &body, &message.id, now).await;
        let accepted = matches!(attempted.outcome, Outcome::Accepted { .. });
        attempts.push(attempted);
        if !accepted {
            break;
        }
    }
    Ok(attempts)
}

fn permanent(reason: String) -> Attempted {
    Attempted { outcome: Outcome::Permanent { reason }, http_status: None }
}
