//! The wall clock, behind a trait so that the service, the web server and tests can pin it.
//! Only command entry points, the service loop and the web server hold a [`SystemClock`];
//! everything else takes `now` or `today` as an argument.

use chrono::{DateTime, Utc};

/// The service's only way to read the wall clock, so tests can pin it.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
