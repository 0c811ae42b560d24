//! Giving freed memory back to the kernel in the long-running commands (`serve`, `web`).
//!
//! The allocators keep what a burst of requests or a sync freed. mimalloc's heaps are per
//! thread: a page another thread freed into, or that a thread emptied, goes back (and is
//! purged) only when its OWN thread collects, and a parked tokio worker never does; a
//! collect on one thread leaves the other workers' heaps as they are (an idle `serve`
//! after its start-up sync held 48 MB this way; collecting on every thread brought it to
//! 33 MB). SQLite's page caches live in the C library's malloc arenas. So:
//! - a task here looks at the resident size every [`CHECK_EVERY`] (one read of
//!   `/proc/self/statm`, so an idle process stays idle) and, when it grew
//!   [`GROWTH_BYTES`] since the last release, or [`FOLLOW_UP`] after such a release (the
//!   blocking threads of a finished job free their memory when they exit, after
//!   [`BLOCKING_KEEP_ALIVE`]), starts a release *round*;
//! - each runtime thread releases its own heap at its next park once per round
//!   ([`on_thread_park`], one atomic load when there is nothing to do) and when it stops
//!   ([`on_thread_stop`]); the task wakes the parked workers so they do.
//!
//! The binary hands in how to release ([`set_release`]): it knows its allocator.

use std::cell::Cell;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// How often the resident size is looked at.
pub const CHECK_EVERY: Duration = Duration::from_secs(5);
/// Growth over the size after the last release that triggers the next one.
pub const GROWTH_BYTES: u64 = 4 * 1024 * 1024;
/// A second round this long after a growth-triggered one: longer than the blocking pool's
/// keep-alive, so the threads that ran a job have exited and freed their pages.
pub const FOLLOW_UP: Duration = Duration::from_secs(15);
/// How long an idle blocking thread is kept (tokio's default is 10 s). An idle thread keeps
/// the pages its heap holds, and it cannot be asked to release them (it has no park hook),
/// so idle ones end soon and release when they stop. With 10 s, 6 blocking threads were
/// still alive 25 s after the start-up sync.
pub const BLOCKING_KEEP_ALIVE: Duration = Duration::from_secs(2);

static RELEASE: OnceLock<fn()> = OnceLock::new();
/// The current release round; a thread releases when its last round is older.
static ROUND: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static RELEASED_ROUND: Cell<u64> = const { Cell::new(0) };
}

/// Sets how this thread's freed memory is returned to the kernel (the binary knows its
/// allocator).
pub fn set_release(release: fn()) {
    let _ = RELEASE.set(release);
}

/// The runtime's `on_thread_park` hook: releases this thread's freed memory once per round.
pub fn on_thread_park() {
    let round = ROUND.load(Ordering::Relaxed);
    if RELEASED_ROUND.with(Cell::get) == round {
        return;
    }
    RELEASED_ROUND.with(|released| released.set(round));
    if let Some(release) = RELEASE.get() {
        release();
    }
}

/// The runtime's `on_thread_stop` hook: a thread that ends releases what it freed.
pub fn on_thread_stop() {
    if let Some(release) = RELEASE.get() {
        release();
    }
}

/// Resident bytes of this process, from `/proc/self/statm` (Linux); `None` elsewhere.
fn resident_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = text.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// When to start a release round: pure, so its rule is tested without an allocator.
#[derive(Debug)]
struct Trigger {
    /// The resident size after the last release (or the smallest seen since).
    baseline: u64,
    /// Checks left before the follow-up round, when one is due.
    follow_up_in: Option<u32>,
}

impl Trigger {
    /// Checks between a growth-triggered round and its follow-up (15 s / 5 s = 3).
    const FOLLOW_UP_CHECKS: u32 = (FOLLOW_UP.as_secs() / CHECK_EVERY.as_secs()) as u32;

    fn new(resident: u64) -> Trigger {
        Trigger { baseline: resident, follow_up_in: None }
    }

    /// One check with the resident size `now`: `true` when a round starts.
    fn check(&mut self, now: u64) -> bool {
        if now > self.baseline + GROWTH_BYTES {
            self.follow_up_in = Some(Self::FOLLOW_UP_CHECKS);
            return true;
        }
        self.baseline = self.baseline.min(now);
        match self.follow_up_in {
            Some(1) => {
                self.follow_up_in = None;
                true
            }
            Some(left) => {
                self.follow_up_in = Some(left - 1);
                false
            }
            None => false,
        }
    }

    /// After a round: the size it left is the new baseline.
    fn released(&mut self, now: u64) {
        self.baseline = now;
    }
}

/// Starts the release task on the current runtime; it ends when `shutdown` fires. Does
/// nothing when no release was set (tests, other allocators).
pub(super) fn spawn_release_task(shutdown: CancellationToken) {
    let Some(&release) = RELEASE.get() else { return };
    let Some(start) = resident_bytes() else { return };
    let workers = tokio::runtime::Handle::current().metrics().num_workers();
    tokio::spawn(async move {
        let mut trigger = Trigger::new(start);
        let mut interval = tokio::time::interval(CHECK_EVERY);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = interval.tick() => {}
            }
            let Some(now) = resident_bytes() else { break };
            if !trigger.check(now) {
                continue;
            }
            let round = ROUND.fetch_add(1, Ordering::Relaxed) + 1;
            RELEASED_ROUND.with(|released| released.set(round));
            release();
            // Each spawned task may unpark an idle worker, which then parks again and
            // releases its own heap in the park hook.
            for _ in 0..workers {
                tokio::spawn(async {});
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            let after = resident_bytes().unwrap_or(now);
            trigger.released(after);
            tracing::debug!(before = now, after, round, "returned freed memory to the kernel");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: u64 = 1024 * 1024;

    #[test]
    fn growth_starts_a_round_and_a_follow_up_three_checks_later() {
        let mut trigger = Trigger::new(20 * MB);
        // 23 MB is 3 MB over the baseline: under GROWTH_BYTES (4 MB), no round.
        assert!(!trigger.check(23 * MB));
        // 48 MB is 28 MB over: a round; it leaves 33 MB.
        assert!(trigger.check(48 * MB));
        trigger.released(33 * MB);
        // FOLLOW_UP 15 s / CHECK_EVERY 5 s = 3 checks: the third starts the follow-up round,
        // though the size did not grow (the job's blocking threads exited meanwhile).
        assert!(!trigger.check(33 * MB));
        assert!(!trigger.check(33 * MB));
        assert!(trigger.check(33 * MB));
        trigger.released(24 * MB);
        // Then nothing until the size grows again.
        for _ in 0..10 {
            assert!(!trigger.check(25 * MB));
        }
        assert!(trigger.check(29 * MB));
    }

    #[test]
    fn a_shrinking_size_lowers_the_baseline() {
        let mut trigger = Trigger::new(40 * MB);
        // The size fell to 30 MB on its own: growth is then counted from 30 MB, so 35 MB
        // (5 MB over) starts a round though it is under the first baseline.
        assert!(!trigger.check(30 * MB));
        assert!(trigger.check(35 * MB));
    }

    #[test]
    fn the_park_hook_releases_once_per_round() {
        thread_local! {
            static CALLS: Cell<u32> = const { Cell::new(0) };
        }
        fn count() {
            CALLS.with(|calls| calls.set(calls.get() + 1));
        }
        // Only this test sets a release (tests share the process); calls are counted per
        // thread, so other tests' runtime threads do not add to this one's count.
        set_release(count);
        let calls = std::thread::spawn(|| {
            ROUND.fetch_add(1, Ordering::Relaxed);
            on_thread_park();
            on_thread_park();
            on_thread_park();
            CALLS.with(Cell::get)
        })
        .join()
        .unwrap();
        // A new thread has released in no round yet, and the round moved: three parks, one release.
        assert_eq!(calls, 1);
    }
}
