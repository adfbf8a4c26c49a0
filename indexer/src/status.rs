//! Live indexer figures shared with the API and metrics.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// What the indexer is doing, updated as it goes.
#[derive(Debug, Default)]
pub struct IndexerStatus {
    head: AtomicU64,
    finalized: AtomicU64,
    cursor: AtomicU64,
    reorgs: AtomicU64,
    events: AtomicU64,
    log_range: AtomicU64,
    finality_lagging: AtomicBool,
    head_stalled: AtomicBool,
    last_error: Mutex<Option<String>>,
}

/// A copy of the figures at one moment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StatusSnapshot {
    /// Chain head seen last.
    pub head: u64,
    /// Finalized block seen last.
    pub finalized: u64,
    /// Last block recorded.
    pub cursor: u64,
    /// Blocks between the head and the cursor.
    pub lag: u64,
    /// Reorganisations handled.
    pub reorgs: u64,
    /// Events recorded since start.
    pub events_indexed: u64,
    /// Current `eth_getLogs` range.
    pub log_range: u64,
    /// The finalized tag lags the head beyond the alarm threshold.
    pub finality_lagging: bool,
    /// The head has not moved for longer than the stall alarm.
    pub head_stalled: bool,
    /// The last failure, cleared by the next successful step.
    pub last_error: Option<String>,
}

impl IndexerStatus {
    pub(crate) fn set_tip(&self, head: u64, finalized: u64) {
        self.head.store(head, Ordering::Relaxed);
        self.finalized.store(finalized, Ordering::Relaxed);
    }

    pub(crate) fn set_cursor(&self, cursor: u64, reorgs: u64) {
        self.cursor.store(cursor, Ordering::Relaxed);
        self.reorgs.store(reorgs, Ordering::Relaxed);
    }

    pub(crate) fn add_events(&self, n: u64) {
        self.events.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn set_log_range(&self, r: u64) {
        self.log_range.store(r, Ordering::Relaxed);
    }

    pub(crate) fn set_finality_lagging(&self, v: bool) {
        self.finality_lagging.store(v, Ordering::Relaxed);
    }

    pub(crate) fn finality_lagging(&self) -> bool {
        self.finality_lagging.load(Ordering::Relaxed)
    }

    pub(crate) fn set_head_stalled(&self, v: bool) {
        self.head_stalled.store(v, Ordering::Relaxed);
    }

    pub(crate) fn head_stalled(&self) -> bool {
        self.head_stalled.load(Ordering::Relaxed)
    }

    pub(crate) fn set_error(&self, e: Option<String>) {
        *self.last_error.lock().expect("status lock") = e;
    }

    /// The figures now.
    pub fn snapshot(&self) -> StatusSnapshot {
        let head = self.head.load(Ordering::Relaxed);
        let cursor = self.cursor.load(Ordering::Relaxed);
        StatusSnapshot {
            head,
            finalized: self.finalized.load(Ordering::Relaxed),
            cursor,
            lag: head.saturating_sub(cursor),
            reorgs: self.reorgs.load(Ordering::Relaxed),
            events_indexed: self.events.load(Ordering::Relaxed),
            log_range: self.log_range.load(Ordering::Relaxed),
            finality_lagging: self.finality_lagging.load(Ordering::Relaxed),
            head_stalled: self.head_stalled.load(Ordering::Relaxed),
            last_error: self.last_error.lock().expect("status lock").clone(),
        }
    }
}
