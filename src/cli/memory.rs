//! Giving freed memory back to the kernel in the long-running commands (`serve`, `web`).
//!
//! The allocators keep what a burst of requests or a sync freed: mimalloc purges a freed
//! page only when it next allocates (an idle process never does), and SQLite's page caches
//! live in the C library's malloc arenas, one per thread that used them. The binary hands
//! in how to release both ([`set_release`]); a task here calls it when the resident size
//! has grown since the last release, checked every [`CHECK_EVERY`] (one read of
//! `/proc/self/statm`, so an idle process stays idle).

use std::sync::OnceLock;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// How often the resident size is looked at.
pub const CHECK_EVERY: Duration = Duration::from_secs(5);
/// Growth over the size after the last release that triggers the next one.
pub const GROWTH_BYTES: u64 = 4 * 1024 * 1024;

static RELEASE: OnceLock<fn()> = OnceLock::new();

/// Sets how freed memory is returned to the kernel (the binary knows its allocator).
pub fn set_release(release: fn()) {
    let _ = RELEASE.set(release);
}

/// Resident bytes of this process, from `/proc/self/statm` (Linux); `None` elsewhere.
fn resident_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = text.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Starts the release task on the current runtime; it ends when `shutdown` fires. Does
/// nothing when no release was set (tests, other allocators).
pub(super) fn spawn_release_task(shutdown: CancellationToken) {
    let Some(&release) = RELEASE.get() else { return };
    let Some(mut baseline) = resident_bytes() else { return };
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(CHECK_EVERY);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = interval.tick() => {}
            }
            let Some(now) = resident_bytes() else { break };
            if now > baseline + GROWTH_BYTES {
                let _ = tokio::task::spawn_blocking(release).await;
                baseline = resident_bytes().unwrap_or(now);
                tracing::debug!(before = now, after = baseline, "returned freed memory to the kernel");
            } else if now < baseline {
                baseline = now;
            }
        }
    });
}
