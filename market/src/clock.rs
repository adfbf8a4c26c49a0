//! An injectable clock: the model takes the time as an argument, callers get it from a clock.

use std::sync::atomic::{AtomicI64, Ordering};

/// Where the current time (unix seconds) comes from.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time in unix seconds.
    fn now(&self) -> i64;
}

/// A clock that moves only when told to (tests, replays).
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock showing `at`.
    pub fn new(at: i64) -> Self {
        Self(AtomicI64::new(at))
    }

    /// Moves the clock forward by `secs`.
    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }

    /// Sets the clock.
    pub fn set(&self, at: i64) {
        self.0.store(at, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}
