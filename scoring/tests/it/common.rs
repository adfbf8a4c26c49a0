//! Builders for attested events.

use jejak_scoring::input::{Activity, Attested, Commitment, Currency, Dispute};

/// The scoring time of the tests: 2026-11-25T00:00:00Z.
pub(crate) const AS_OF: i64 = 1_795_564_800;
pub(crate) const DAY: i64 = 86_400;

/// A commitment from a small number.
pub(crate) fn commitment(n: u64) -> Commitment {
    let mut w = [0u8; 32];
    w[24..].copy_from_slice(&n.to_be_bytes());
    w[0] = 0x01;
    Commitment(w)
}

/// An account on a platform.
#[derive(Debug, Clone)]
pub(crate) struct Account {
    pub(crate) platform: u64,
    pub(crate) worker: String,
}

impl Account {
    pub(crate) fn new(platform: u64, worker: &str) -> Self {
        Self { platform, worker: worker.into() }
    }

    fn ev(&self, days_ago: i64, activity: Activity) -> Attested {
        Attested {
            platform_id: self.platform,
            worker_ref: self.worker.clone(),
            occurred_at: AS_OF - days_ago * DAY,
            digest: [0; 32],
            activity,
        }
    }

    pub(crate) fn link(&self, c: Commitment, days_ago: i64) -> Attested {
        let mut e = self.ev(days_ago, Activity::Linked { commitment: c });
        e.digest[0] = c.0[31];
        e
    }

    pub(crate) fn done(&self, days_ago: i64) -> Attested {
        self.ev(days_ago, Activity::Completed { earnings: Some((Currency(*b"IDR"), 30_000)) })
    }

    pub(crate) fn review(&self, days_ago: i64, rating_bp: u32) -> Attested {
        self.ev(days_ago, Activity::Review { rating_bp })
    }

    pub(crate) fn cancel(&self, days_ago: i64) -> Attested {
        self.ev(days_ago, Activity::Cancelled { by_worker: true })
    }

    pub(crate) fn lost(&self, days_ago: i64) -> Attested {
        self.ev(days_ago, Activity::Dispute(Dispute::Lost))
    }

    pub(crate) fn savings(&self, days_ago: i64) -> Attested {
        self.ev(days_ago, Activity::Savings)
    }

    pub(crate) fn repaid(&self, days_ago: i64, on_time: bool) -> Attested {
        self.ev(days_ago, Activity::Repaid { on_time })
    }

    pub(crate) fn defaulted(&self, days_ago: i64) -> Attested {
        self.ev(days_ago, Activity::Defaulted)
    }
}
