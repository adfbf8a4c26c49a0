//! Live indexer figures shared with the API and metrics.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Upper bounds of the reorganisation depth buckets, blocks.
pub const REORG_DEPTH_BOUNDS: [u64; 10] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 1024];

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
    /// Reorganisations handled since start by depth bucket (the last one past the bounds).
    reorg_depths: [AtomicU64; REORG_DEPTH_BOUNDS.len() + 1],
    reorg_depth_sum: AtomicU64,
}

/// The depths of the reorganisations handled since start, as a cumulative histogram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReorgDepths {
    /// (upper bound in blocks, reorganisations at most that deep), for [`REORG_DEPTH_BOUNDS`].
    pub buckets: Vec<(u64, u64)>,
    /// Reorganisations handled since start.
    pub count: u64,
    /// Blocks orphaned by them, in all.
    pub sum: u64,
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

    /// Records a reorganisation that orphaned `depth` recorded blocks.
    pub(crate) fn record_reorg(&self, depth: u64) {
        let i = REORG_DEPTH_BOUNDS.iter().position(|b| depth <= *b).unwrap_or(REORG_DEPTH_BOUNDS.len());
        self.reorg_depths[i].fetch_add(1, Ordering::Relaxed);
        self.reorg_depth_sum.fetch_add(depth, Ordering::Relaxed);
    }

    /// The depths of the reorganisations handled since start.
    pub fn reorg_depths(&self) -> ReorgDepths {
        let mut cumulative = 0;
        let buckets = REORG_DEPTH_BOUNDS
            .iter()
            .zip(&self.reorg_depths)
            .map(|(b, c)| {
                cumulative += c.load(Ordering::Relaxed);
                (*b, cumulative)
            })
            .collect();
        let count = cumulative + self.reorg_depths[REORG_DEPTH_BOUNDS.len()].load(Ordering::Relaxed);
        ReorgDepths { buckets, count, sum: self.reorg_depth_sum.load(Ordering::Relaxed) }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reorg_depths_are_cumulative_with_the_deepest_past_the_bounds() {
        let s = IndexerStatus::default();
        for depth in [1, 3, 3, 2000] {
            s.record_reorg(depth);
        }
        let d = s.reorg_depths();
        assert_eq!((d.count, d.sum), (4, 2007));
        assert_eq!(&d.buckets[..3], &[(1, 1), (2, 1), (4, 3)]);
        assert_eq!(d.buckets.last(), Some(&(1024, 3)), "2000 blocks is only in +Inf");
    }
}
