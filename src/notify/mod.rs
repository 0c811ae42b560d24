//! Delivering answers to people: weekly summaries, verdicts, rating changes and data-health
//! alerts, pushed to chat groups (WeCom, DingTalk, Feishu, Slack), any HTTP endpoint, or a
//! mailbox, through a durable outbox.
//!
//! Invariants:
//! - Besides `providers/`, this is the only module that speaks HTTP (and the only one that
//!   speaks SMTP); it talks only to the endpoints configured in `[[notify.channels]]`.
//! - Messages are built when the event happens and written to the outbox (in `store`) in the
//!   transaction that records the fact they announce; a stable dedup key makes the same event
//!   on the same channel one row, so it is delivered at most once after acceptance.
//! - Text comes from the `report` renderers; nothing here formats a number of its own.
//! - Secrets come only from environment variables named in the config, and never appear in
//!   logs, errors or the outbox (URLs that carry keys are shown as their host).
//! - [`render`], [`rating`] and [`deliver::classify`] are pure; the clock is an argument.

pub mod announce;
pub mod channel;
pub mod chat;
pub mod deliver;
pub mod email;
pub mod events;
pub mod rating;
pub mod render;
pub mod sender;
pub mod sign;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use announce::{Announcement, Notifier};
pub use channel::{Channel, Channels, Secret, Target};
pub use deliver::{Attempted, Outcome};
pub use sender::{Sender, SenderOptions};

use crate::config::EventKind;

/// One event as sent to one channel; stored whole in the outbox, so what is delivered after a
/// restart is what was decided at the time of the event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// The outbox dedup key; the generic webhook's `id` and `webhook-id` (idempotency key).
    pub id: String,
    pub event: EventKind,
    pub report_id: Option<String>,
    pub occurred_at: DateTime<Utc>,
    pub title: String,
    /// The report rendered as markdown: what chat platforms get, fitted to their limits.
    pub markdown: String,
    /// The same JSON the CLI prints for the summary or verdict (`--format json`).
    pub data: serde_json::Value,
    /// The report's HTML page: the email body (its SVG chart is sent as an inline PNG).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// The report as plain text (its terminal table form, no markup): the email's `text/plain`
    /// part. `None`: the markdown is plain enough (data health, test messages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plain: Option<String>,
    /// What a chat message says (headline, sector lines, movers, links), from the `report`
    /// module; each platform's body is built from it. `None`: the markdown is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<crate::report::Digest>,
    /// Where the whole report is, for messages cut to fit.
    pub pointer: String,
}

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Pipeline(#[from] crate::pipeline::PipelineError),
    #[error("{0}")]
    Invalid(String),
    #[error("a notify task failed: {0}")]
    Task(String),
}
