//! One circuit breaker per provider for the length of a run.
//!
//! - Closed: requests go through. `threshold` consecutive failures (across securities) open it;
//!   any success resets the count.
//! - Open: requests are skipped. Once `cooldown` has passed, the next caller gets a probe.
//! - Probing: one request is in flight; the others are still skipped. Its success closes the
//!   circuit, its failure opens it again for another `cooldown`.
//!
//! Answers that say nothing about the host's health (the symbol is unknown to it) neither count
//! nor reset, except that they end a probe: the host answered.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::providers::ProviderName;

/// Whether a request to a provider may go out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Permit {
    Go,
    /// The one request of a half-open circuit.
    Probe,
    /// The circuit is open; the text says why.
    Skip(String),
}

/// How one request to a provider ended, for its breaker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// A failure of the provider (ban signal, unreachable, timeout, bad or empty answer).
    Failure {
        reason: String,
        unreachable: bool,
    },
    /// The host answered, but about the symbol only (not found, unsupported).
    Neutral,
    /// The request was abandoned (the run was cancelled).
    Abandoned,
}

/// What a provider's breaker did during a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CircuitReport {
    pub provider: ProviderName,
    /// How many times the circuit opened.
    pub opened: u32,
    /// Whether it was still open (or probing) when the run ended.
    pub open_at_end: bool,
    /// The failure that last opened it.
    pub last_failure: String,
    /// Every failure that opened it was a host that could not be reached at all.
    pub unreachable: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Closed,
    Open { since: Instant },
    Probing,
}

#[derive(Debug)]
struct Breaker {
    state: State,
    consecutive: u32,
    opened: u32,
    last_failure: String,
    last_unreachable: bool,
    /// Every opening so far was caused by unreachable failures.
    only_unreachable: bool,
}

impl Breaker {
    fn new() -> Breaker {
        Breaker {
            state: State::Closed,
            consecutive: 0,
            opened: 0,
            last_failure: String::new(),
            last_unreachable: false,
            only_unreachable: true,
        }
    }
}

/// Every provider's breaker for one run.
#[derive(Debug)]
pub struct Breakers {
    threshold: u32,
    cooldown: Duration,
    breakers: Mutex<BTreeMap<ProviderName, Breaker>>,
}

impl Breakers {
    pub fn new(threshold: u32, cooldown: Duration) -> Breakers {
        Breakers { threshold: threshold.max(1), cooldown, breakers: Mutex::new(BTreeMap::new()) }
    }

    /// Asks whether a request to `provider` may go out at `now`.
    pub fn permit(&self, provider: ProviderName, now: Instant) -> Permit {
        let mut breakers = self.breakers.lock().unwrap_or_else(PoisonError::into_inner);
        let breaker = breakers.entry(provider).or_insert_with(Breaker::new);
        match breaker.state {
            State::Closed => Permit::Go,
            State::Open { since } if now.saturating_duration_since(since) >= self.cooldown => {
                breaker.state = State::Probing;
                tracing::info!(%provider, "circuit half-open: sending one probe request");
                Permit::Probe
            }
            State::Open { .. } | State::Probing => Permit::Skip(format!(
                "skipped: circuit open after {} consecutive failures (last: {})",
                self.threshold, breaker.last_failure
            )),
        }
    }

    /// Records how a permitted request ended.
    pub fn record(&self, provider: ProviderName, permit: &Permit, outcome: Outcome, now: Instant) {
        let mut breakers = self.breakers.lock().unwrap_or_else(PoisonError::into_inner);
        let breaker = breakers.entry(provider).or_insert_with(Breaker::new);
        let probe = *permit == Permit::Probe;
        match outcome {
            Outcome::Success => {
                if breaker.state != State::Closed {
                    tracing::info!(%provider, "circuit closed: the provider answered again");
                }
                breaker.state = State::Closed;
                breaker.consecutive = 0;
            }
            Outcome::Neutral if probe => {
                breaker.state = State::Closed;
                breaker.consecutive = 0;
            }
            Outcome::Neutral => {}
            // A cancelled probe leaves the circuit open but ready for the next probe.
            Outcome::Abandoned if probe => breaker.state = State::Open { since: now.checked_sub(self.cooldown).unwrap_or(now) },
            Outcome::Abandoned => {}
            Outcome::Failure { reason, unreachable } => {
                breaker.consecutive += 1;
                breaker.last_failure = reason;
                breaker.last_unreachable = unreachable;
                let opens = match breaker.state {
                    State::Closed => breaker.consecutive >= self.threshold,
                    State::Probing => probe,
                    State::Open { .. } => false,
                };
                if opens {
                    breaker.state = State::Open { since: now };
                    breaker.opened += 1;
                    metrics::counter!("ratingwatch_provider_trips_total", "provider" => <&'static str>::from(provider)).increment(1);
                    breaker.only_unreachable &= unreachable;
                    tracing::debug!(%provider, failures = breaker.consecutive, "circuit opened");
                }
            }
        }
    }

    /// Whether `provider`'s circuit is open and was opened by unreachable-host failures.
    pub fn is_unreachable(&self, provider: ProviderName) -> bool {
        let breakers = self.breakers.lock().unwrap_or_else(PoisonError::into_inner);
        breakers.get(&provider).is_some_and(|b| b.state != State::Closed && b.last_unreachable)
    }

    /// The providers whose circuit opened during the run.
    pub fn report(&self) -> Vec<CircuitReport> {
        let breakers = self.breakers.lock().unwrap_or_else(PoisonError::into_inner);
        breakers
            .iter()
            .filter(|(_, breaker)| breaker.opened > 0)
            .map(|(provider, breaker)| CircuitReport {
                provider: *provider,
                opened: breaker.opened,
                open_at_end: breaker.state != State::Closed,
                last_failure: breaker.last_failure.clone(),
                unreachable: breaker.only_unreachable,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TENCENT: ProviderName = ProviderName::Tencent;

    fn failure() -> Outcome {
        Outcome::Failure { reason: "timed out".to_string(), unreachable: false }
    }

    #[test]
    fn opens_after_threshold_consecutive_failures_and_a_success_resets_the_count() {
        let breakers = Breakers::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        // Two failures, a success, two failures: never three in a row.
        for outcome in [failure(), failure(), Outcome::Success, failure(), failure()] {
            assert_eq!(breakers.permit(TENCENT, t0), Permit::Go);
            breakers.record(TENCENT, &Permit::Go, outcome, t0);
        }
        // An unknown symbol neither counts nor resets.
        breakers.record(TENCENT, &Permit::Go, Outcome::Neutral, t0);
        assert_eq!(breakers.permit(TENCENT, t0), Permit::Go);
        breakers.record(TENCENT, &Permit::Go, failure(), t0);
        let Permit::Skip(reason) = breakers.permit(TENCENT, t0) else { panic!("the third failure in a row opens the circuit") };
        assert_eq!(reason, "skipped: circuit open after 3 consecutive failures (last: timed out)");
        assert_eq!(breakers.permit(ProviderName::Eastmoney, t0), Permit::Go, "one breaker per provider");
        assert_eq!(
            breakers.report(),
            vec![CircuitReport {
                provider: TENCENT,
                opened: 1,
                open_at_end: true,
                last_failure: "timed out".to_string(),
                unreachable: false
            }]
        );
    }

    #[test]
    fn each_opening_counts_one_trip_for_metrics() {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            let breakers = Breakers::new(2, Duration::from_secs(60));
            let t0 = Instant::now();
            // Two failures open it (one trip); a third while open does not count again.
            for _ in 0..3 {
                breakers.record(TENCENT, &Permit::Go, failure(), t0);
            }
        });
        let text = handle.render();
        assert!(text.contains("ratingwatch_provider_trips_total{provider=\"tencent\"} 1"), "{text}");
    }

    #[test]
    fn after_the_cooldown_one_probe_goes_out_and_its_answer_decides() {
        let breakers = Breakers::new(1, Duration::from_secs(60));
        let t0 = Instant::now();
        breakers.record(TENCENT, &Permit::Go, failure(), t0);
        assert!(matches!(breakers.permit(TENCENT, t0 + Duration::from_secs(59)), Permit::Skip(_)));
        // 60 s later: one probe, and nobody else while it is in flight.
        let later = t0 + Duration::from_secs(60);
        assert_eq!(breakers.permit(TENCENT, later), Permit::Probe);
        assert!(matches!(breakers.permit(TENCENT, later), Permit::Skip(_)));
        // The probe fails: open for another cooldown.
        breakers.record(TENCENT, &Permit::Probe, failure(), later);
        assert!(matches!(breakers.permit(TENCENT, later + Duration::from_secs(30)), Permit::Skip(_)));
        let again = later + Duration::from_secs(60);
        assert_eq!(breakers.permit(TENCENT, again), Permit::Probe);
        breakers.record(TENCENT, &Permit::Probe, Outcome::Success, again);
        assert_eq!(breakers.permit(TENCENT, again), Permit::Go);
        let report = breakers.report();
        assert_eq!((report[0].opened, report[0].open_at_end), (2, false));
    }

    #[test]
    fn a_cancelled_probe_lets_the_next_caller_probe() {
        let breakers = Breakers::new(1, Duration::from_secs(60));
        let t0 = Instant::now() + Duration::from_secs(120);
        breakers.record(TENCENT, &Permit::Go, failure(), t0);
        let later = t0 + Duration::from_secs(60);
        assert_eq!(breakers.permit(TENCENT, later), Permit::Probe);
        breakers.record(TENCENT, &Permit::Probe, Outcome::Abandoned, later);
        assert_eq!(breakers.permit(TENCENT, later), Permit::Probe);
    }

    #[test]
    fn unreachable_is_reported_only_when_every_opening_was_unreachable() {
        let breakers = Breakers::new(2, Duration::ZERO);
        let t0 = Instant::now();
        let unreachable = || Outcome::Failure { reason: "cannot connect".to_string(), unreachable: true };
        breakers.record(TENCENT, &Permit::Go, unreachable(), t0);
        breakers.record(TENCENT, &Permit::Go, unreachable(), t0);
        assert!(breakers.is_unreachable(TENCENT));
        assert!(breakers.report()[0].unreachable);
        assert!(!breakers.is_unreachable(ProviderName::Yahoo));
    }
}
