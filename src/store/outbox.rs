//! The notification outbox: messages waiting for delivery, every attempt, and what has been
//! announced. `notify` decides; this only stores. The writes that record a fact together with
//! its messages (a job's end, a written weekly summary) live here, in one transaction each;
//! `runs.rs` knows nothing of the outbox.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;

use super::runs::{finish_job_run_in, record_weekly_summary_in};
use super::{Result, Store, StoreError, time_text};

/// A message to queue: `dedup_key` makes a second queueing of the same event a no-op.
#[derive(Clone, Debug, PartialEq)]
pub struct NewOutboxMessage {
    pub dedup_key: String,
    pub channel: String,
    pub event: String,
    pub report_id: Option<String>,
    pub title: String,
    pub payload: String,
}

/// A message's delivery state; the text is what `outbox.state` stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, strum::IntoStaticStr, strum::EnumString, strum::VariantNames, strum::EnumIter)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum OutboxState {
    Pending,
    Sent,
    /// A permanent failure (bad key, signature rejected, …): not retried.
    Failed,
    /// Not delivered within `notify.give_up_after_hours`.
    Expired,
}

impl OutboxState {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The stored text; anything unknown reads as pending.
    fn parse(text: &str) -> OutboxState {
        text.parse().unwrap_or(OutboxState::Pending)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OutboxRow {
    pub id: i64,
    pub dedup_key: String,
    pub channel: String,
    pub event: String,
    pub report_id: Option<String>,
    pub title: String,
    #[serde(skip)]
    pub payload: String,
    pub created_at: DateTime<Utc>,
    pub state: OutboxState,
    pub attempts: u32,
    pub parts_sent: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OutboxAttempt {
    pub attempt: u32,
    pub part: u32,
    pub at: DateTime<Utc>,
    /// `accepted`, `retry` or `permanent`.
    pub outcome: String,
    pub http_status: Option<u16>,
    pub detail: String,
}

/// What one attempt did to a message.
#[derive(Clone, Debug, PartialEq)]
pub struct AttemptRecord {
    pub part: u32,
    pub at: DateTime<Utc>,
    pub outcome: String,
    pub http_status: Option<u16>,
    pub detail: String,
    /// The message's state afterwards, its next attempt time (pending only) and the parts
    /// accepted so far.
    pub state: OutboxState,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub parts_sent: u32,
}

/// Per channel, how many messages are in each state: for `status` and the web status page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ChannelDeliveries {
    pub channel: String,
    pub pending: usize,
    pub sent: usize,
    pub failed: usize,
    pub expired: usize,
    /// The oldest pending message's queue time.
    pub oldest_pending: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

const COLUMNS: &str = "id, dedup_key, channel, event, report_id, title, payload, created_at, state, attempts, parts_sent, next_attempt_at, last_error, finished_at";

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutboxRow> {
    Ok(OutboxRow {
        id: r.get(0)?,
        dedup_key: r.get(1)?,
        channel: r.get(2)?,
        event: r.get(3)?,
        report_id: r.get(4)?,
        title: r.get(5)?,
        payload: r.get(6)?,
        created_at: r.get::<_, DateTime<Utc>>(7)?,
        state: OutboxState::parse(&r.get::<_, String>(8)?),
        attempts: r.get::<_, i64>(9)? as u32,
        parts_sent: r.get::<_, i64>(10)? as u32,
        next_attempt_at: r.get::<_, DateTime<Utc>>(11)?,
        last_error: r.get(12)?,
        finished_at: r.get::<_, Option<DateTime<Utc>>>(13)?,
    })
}

/// Queues `messages` inside an open transaction; returns how many were new.
pub(crate) fn enqueue_in(tx: &Transaction<'_>, messages: &[NewOutboxMessage], now: DateTime<Utc>) -> Result<usize> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO outbox (dedup_key, channel, event, report_id, title, payload, created_at, next_attempt_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) ON CONFLICT (dedup_key) DO NOTHING",
    )?;
    let mut added = 0;
    for message in messages {
        added += stmt.execute(params![
            message.dedup_key,
            message.channel,
            message.event,
            message.report_id,
            message.title,
            message.payload,
            time_text(now)
        ])?;
    }
    Ok(added)
}

fn set_announcement_in(tx: &Transaction<'_>, key: &str, value: &str, now: DateTime<Utc>) -> Result<()> {
    tx.execute(
        "INSERT INTO announcements (key, value, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        params![key, value, time_text(now)],
    )?;
    Ok(())
}

impl Store {
    /// Queues `messages` (one transaction); a dedup key already present is skipped.
    pub fn enqueue_messages(&mut self, messages: &[NewOutboxMessage], now: DateTime<Utc>) -> Result<usize> {
        self.write(|tx| enqueue_in(tx, messages, now))
    }

    /// Records announced state (`key` → `value`) and queues its messages in one transaction:
    /// the announcement and its messages land together or not at all.
    pub fn announce(&mut self, key: &str, value: &str, messages: &[NewOutboxMessage], now: DateTime<Utc>) -> Result<usize> {
        self.write(|tx| {
            set_announcement_in(tx, key, value, now)?;
            enqueue_in(tx, messages, now)
        })
    }

    /// Records a job run's end and, in the same transaction, an announcement about the job
    /// (`key` → `value`) with its messages.
    #[allow(clippy::too_many_arguments)]
    pub fn finish_job_run_and_announce(
        &mut self,
        run_id: i64,
        outcome: super::JobRunOutcome,
        counts: &serde_json::Value,
        error: Option<&str>,
        announcement: Option<(&str, &str, &[NewOutboxMessage])>,
        now: DateTime<Utc>,
    ) -> Result<usize> {
        self.write(|tx| {
            finish_job_run_in(tx, run_id, outcome, counts, error, now)?;
            match announcement {
                Some((key, value, messages)) => {
                    set_announcement_in(tx, key, value, now)?;
                    enqueue_in(tx, messages, now)
                }
                None => Ok(0),
            }
        })
    }

    /// Records a written summary and queues its notifications in one transaction, so a
    /// summary is never recorded without its messages (nor the reverse). Returns how many
    /// messages were new (a re-run of the same week queues nothing twice).
    pub fn record_weekly_summary_and_notify(
        &mut self,
        report_id: &str,
        week: &str,
        as_of: NaiveDate,
        files: &[String],
        messages: &[NewOutboxMessage],
        now: DateTime<Utc>,
    ) -> Result<usize> {
        self.write(|tx| {
            record_weekly_summary_in(tx, report_id, week, as_of, files, now)?;
            enqueue_in(tx, messages, now)
        })
    }

    pub fn announcement(&self, key: &str) -> Result<Option<String>> {
        Ok(self.conn.query_row("SELECT value FROM announcements WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    }

    /// Pending messages due at `now`, oldest first.
    pub fn due_messages(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<OutboxRow>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM outbox WHERE state = 'pending' AND next_attempt_at <= ?1 ORDER BY next_attempt_at, id LIMIT ?2"
        ))?;
        Ok(stmt.query_map(params![time_text(now), limit as i64], read_row)?.collect::<rusqlite::Result<_>>()?)
    }

    /// When the next pending message is due (`None`: nothing pending).
    pub fn next_due_at(&self) -> Result<Option<DateTime<Utc>>> {
        Ok(self
            .conn
            .query_row("SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'pending'", [], |r| r.get::<_, Option<DateTime<Utc>>>(0))?)
    }

    /// Records one attempt and the message's new state in one transaction.
    pub fn record_attempt(&mut self, id: i64, attempt: &AttemptRecord) -> Result<()> {
        self.write(|tx| {
            let attempts: i64 = tx
                .query_row("SELECT attempts FROM outbox WHERE id = ?1", [id], |r| r.get(0))
                .optional()?
                .ok_or_else(|| StoreError::NotFound(format!("outbox message {id}")))?;
            let number = attempts + 1;
            tx.execute(
                "INSERT INTO outbox_attempts (message_id, attempt, part, at, outcome, http_status, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![id, number, attempt.part, time_text(attempt.at), attempt.outcome, attempt.http_status, attempt.detail],
            )?;
            let finished = (attempt.state != OutboxState::Pending).then(|| time_text(attempt.at));
            let error = (attempt.outcome != "accepted").then_some(attempt.detail.as_str());
            tx.execute(
                "UPDATE outbox SET attempts = ?2, state = ?3, parts_sent = ?4,
                        next_attempt_at = COALESCE(?5, next_attempt_at), last_error = COALESCE(?6, last_error), finished_at = ?7
                 WHERE id = ?1",
                params![
                    id,
                    number,
                    attempt.state.as_str(),
                    attempt.parts_sent,
                    attempt.next_attempt_at.map(time_text),
                    error,
                    finished
                ],
            )?;
            Ok(())
        })
    }

    /// Gives up pending messages queued before `cutoff`; returns them (state `expired`).
    pub fn expire_messages(&mut self, cutoff: DateTime<Utc>, now: DateTime<Utc>) -> Result<Vec<OutboxRow>> {
        self.write(|tx| {
            let rows: Vec<OutboxRow> = {
                let mut stmt = tx.prepare(&format!("SELECT {COLUMNS} FROM outbox WHERE state = 'pending' AND created_at < ?1 ORDER BY id"))?;
                stmt.query_map([time_text(cutoff)], read_row)?.collect::<rusqlite::Result<_>>()?
            };
            for row in &rows {
                tx.execute(
                    "UPDATE outbox SET state = 'expired', finished_at = ?2,
                            last_error = 'gave up: not delivered within notify.give_up_after_hours' || COALESCE(' (last error: ' || last_error || ')', '')
                     WHERE id = ?1",
                    params![row.id, time_text(now)],
                )?;
            }
            Ok(rows.into_iter().map(|row| OutboxRow { state: OutboxState::Expired, ..row }).collect())
        })
    }

    /// The newest `limit` messages, newest first, optionally of one channel.
    pub fn outbox_messages(&self, channel: Option<&str>, limit: usize) -> Result<Vec<OutboxRow>> {
        let mut stmt =
            self.conn.prepare(&format!("SELECT {COLUMNS} FROM outbox WHERE ?1 IS NULL OR channel = ?1 ORDER BY id DESC LIMIT ?2"))?;
        Ok(stmt.query_map(params![channel, limit as i64], read_row)?.collect::<rusqlite::Result<_>>()?)
    }

    pub fn outbox_message(&self, id: i64) -> Result<Option<OutboxRow>> {
        Ok(self.conn.query_row(&format!("SELECT {COLUMNS} FROM outbox WHERE id = ?1"), [id], read_row).optional()?)
    }

    pub fn outbox_message_by_key(&self, dedup_key: &str) -> Result<Option<OutboxRow>> {
        Ok(self.conn.query_row(&format!("SELECT {COLUMNS} FROM outbox WHERE dedup_key = ?1"), [dedup_key], read_row).optional()?)
    }

    /// Every attempt at message `id`, in order.
    pub fn outbox_attempts(&self, id: i64) -> Result<Vec<OutboxAttempt>> {
        let mut stmt = self.conn.prepare(
            "SELECT attempt, part, at, outcome, http_status, detail FROM outbox_attempts WHERE message_id = ?1 ORDER BY attempt",
        )?;
        let rows = stmt.query_map([id], |r| {
            Ok(OutboxAttempt {
                attempt: r.get::<_, i64>(0)? as u32,
                part: r.get::<_, i64>(1)? as u32,
                at: r.get::<_, DateTime<Utc>>(2)?,
                outcome: r.get(3)?,
                http_status: r.get::<_, Option<i64>>(4)?.map(|s| s as u16),
                detail: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Message counts per channel and state, channels in name order.
    pub fn channel_deliveries(&self) -> Result<Vec<ChannelDeliveries>> {
        let mut stmt = self.conn.prepare(
            "SELECT channel,
                    SUM(state = 'pending'), SUM(state = 'sent'), SUM(state = 'failed'), SUM(state = 'expired'),
                    MIN(CASE WHEN state = 'pending' THEN created_at END),
                    (SELECT last_error FROM outbox o2 WHERE o2.channel = o.channel AND o2.state IN ('pending', 'failed', 'expired')
                       AND o2.last_error IS NOT NULL ORDER BY o2.id DESC LIMIT 1)
             FROM outbox o GROUP BY channel ORDER BY channel",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(ChannelDeliveries {
                channel: r.get(0)?,
                pending: r.get::<_, i64>(1)? as usize,
                sent: r.get::<_, i64>(2)? as usize,
                failed: r.get::<_, i64>(3)? as usize,
                expired: r.get::<_, i64>(4)? as usize,
                oldest_pending: r.get::<_, Option<DateTime<Utc>>>(5)?,
                last_error: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outbox_state_keeps_its_stored_text() {
        use strum::{IntoEnumIterator, VariantNames};
        // The text in existing databases and in `notify status --json`: it must never change.
        let stored = ["pending", "sent", "failed", "expired"];
        assert_eq!(OutboxState::VARIANTS, stored);
        for (state, text) in OutboxState::iter().zip(stored) {
            assert_eq!(state.as_str(), text);
            assert_eq!(OutboxState::parse(text), state);
            assert_eq!(serde_json::to_string(&state).unwrap(), format!("\"{text}\""));
        }
        assert_eq!(OutboxState::parse("Sent"), OutboxState::Pending);
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_684_490_400 + seconds, 0).unwrap()
    }

    fn new(key: &str, channel: &str) -> NewOutboxMessage {
        NewOutboxMessage {
            dedup_key: key.to_string(),
            channel: channel.to_string(),
            event: "weekly_summary".to_string(),
            report_id: Some("r".to_string()),
            title: "t".to_string(),
            payload: "{}".to_string(),
        }
    }

    #[test]
    fn a_dedup_key_is_queued_once_and_attempts_are_all_kept() {
        let mut store = Store::open_in_memory().unwrap();
        assert_eq!(store.enqueue_messages(&[new("k:a", "a"), new("k:b", "b")], at(0)).unwrap(), 2);
        assert_eq!(store.enqueue_messages(&[new("k:a", "a")], at(5)).unwrap(), 0, "the same event on the same channel is one row");
        let due = store.due_messages(at(0), 10).unwrap();
        assert_eq!(due.len(), 2);
        let id = due[0].id;
        let retry = AttemptRecord {
            part: 0,
            at: at(1),
            outcome: "retry".to_string(),
            http_status: Some(500),
            detail: "HTTP 500".to_string(),
            state: OutboxState::Pending,
            next_attempt_at: Some(at(60)),
            parts_sent: 0,
        };
        store.record_attempt(id, &retry).unwrap();
        assert_eq!(store.due_messages(at(30), 10).unwrap().len(), 1, "the retried one waits for its backoff");
        assert_eq!(store.next_due_at().unwrap(), Some(at(0)));
        let accepted = AttemptRecord {
            outcome: "accepted".to_string(),
            http_status: Some(200),
            detail: "ok".to_string(),
            at: at(61),
            state: OutboxState::Sent,
            next_attempt_at: None,
            parts_sent: 1,
            ..retry
        };
        store.record_attempt(id, &accepted).unwrap();
        let row = store.outbox_message(id).unwrap().unwrap();
        assert_eq!((row.state, row.attempts, row.parts_sent), (OutboxState::Sent, 2, 1));
        assert_eq!(row.last_error.as_deref(), Some("HTTP 500"));
        let attempts = store.outbox_attempts(id).unwrap();
        assert_eq!(attempts.iter().map(|a| (a.attempt, a.outcome.as_str())).collect::<Vec<_>>(), [(1, "retry"), (2, "accepted")]);

        let expired = store.expire_messages(at(1), at(100)).unwrap();
        assert_eq!(expired.len(), 1, "the other pending one, queued at 0, is older than the cutoff");
        let counts = store.channel_deliveries().unwrap();
        assert_eq!(counts.len(), 2);
        assert_eq!((counts[0].channel.as_str(), counts[0].sent, counts[0].pending), ("a", 1, 0));
        assert_eq!((counts[1].channel.as_str(), counts[1].expired), ("b", 1));
        assert!(counts[1].last_error.as_deref().unwrap().starts_with("gave up"));
    }

    #[test]
    fn an_announcement_and_its_messages_land_together() {
        let mut store = Store::open_in_memory().unwrap();
        store.announce("rating:r:芯片算力", "overweight", &[new("rating_change:r:x:a", "a")], at(0)).unwrap();
        assert_eq!(store.announcement("rating:r:芯片算力").unwrap().as_deref(), Some("overweight"));
        assert_eq!(store.outbox_messages(None, 10).unwrap().len(), 1);
    }
}
