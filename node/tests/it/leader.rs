//! Lease keepers and leased jobs on PostgreSQL: a dependent lease follows the one it needs, and a
//! job whose write is refused by fencing stands by instead of stopping the node.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use jejak_node::leader::{Lease, LeaseKeeper, LeaseTiming, Leased};
use jejak_runtime::{Job, Pace};
use jejak_store::Store;
use jejak_store::leases;
use jejak_store::test_utils::TestDb;

const TIMING: LeaseTiming = LeaseTiming { ttl: Duration::from_secs(30), renew: Duration::from_secs(10) };

/// A job that writes through its (fenced) store at every step.
struct Writer {
    store: Store,
    steps: Arc<AtomicU64>,
}

impl Job for Writer {
    type Error = jejak_store::Error;

    async fn step(&mut self) -> Result<Pace, jejak_store::Error> {
        let tx = self.store.begin().await?;
        jejak_store::commit(tx).await?;
        self.steps.fetch_add(1, Ordering::Relaxed);
        Ok(Pace::Idle(Duration::from_millis(10)))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_superseded_term_stands_by_and_its_dependents_follow() {
    let db = TestDb::postgres().await;
    let store = db.store.clone();
    let (anchor_a, evidence_a, anchor_b) =
        (Lease::new("anchor", "a"), Lease::new("evidence", "a"), Lease::new("anchor", "b"));
    let mut keep_anchor_a = LeaseKeeper::new(store.clone(), anchor_a.clone(), TIMING);
    let mut keep_evidence_a = LeaseKeeper::new(store.clone(), evidence_a.clone(), TIMING).requires(anchor_a.clone());
    let mut keep_anchor_b = LeaseKeeper::new(store.clone(), anchor_b.clone(), TIMING);

    // The dependent waits for the lease it needs.
    keep_evidence_a.step().await.unwrap();
    assert!(evidence_a.fence.token().is_none(), "no evidence lease before the anchor lease");
    keep_anchor_a.step().await.unwrap();
    let token_a = anchor_a.ready_token().expect("a leads anchoring");
    keep_evidence_a.step().await.unwrap();
    assert!(evidence_a.ready_token().is_some(), "then it takes its own");
    keep_anchor_b.step().await.unwrap();
    assert!(anchor_b.fence.token().is_none(), "b stands by while a's lease is live");

    let steps = Arc::new(AtomicU64::new(0));
    let fenced = store.fenced(anchor_a.fence.clone());
    let counter = steps.clone();
    let mut job = Leased::new(anchor_a.clone(), store.clone(), Duration::from_millis(10), move || {
        Ok::<_, jejak_store::Error>(Writer { store: fenced.clone(), steps: counter.clone() })
    });
    job.step().await.unwrap();
    assert_eq!(steps.load(Ordering::Relaxed), 1, "the holder's job runs");

    // "a" pauses; its lease runs out (given up here, as if expired) and "b" takes it over.
    leases::release(&store, "anchor", "a", token_a).await.unwrap();
    keep_anchor_b.step().await.unwrap();
    let token_b = anchor_b.ready_token().expect("b took anchoring over");
    assert!(token_b > token_a);

    // "a" resumes before its keeper noticed: its job's write is refused, and the job stands by
    // rather than failing the node.
    assert_eq!(anchor_a.ready_token(), Some(token_a), "a still believes it leads");
    assert_eq!(job.step().await.unwrap(), Pace::Busy);
    assert_eq!(steps.load(Ordering::Relaxed), 1, "the write after the takeover did not happen");
    assert_eq!(anchor_a.fence.refused(), 1);
    assert!(anchor_a.fence.token().is_none(), "the term is over");
    assert!(matches!(job.step().await.unwrap(), Pace::Idle(_)), "standing by");
    assert_eq!(steps.load(Ordering::Relaxed), 1);

    // a's keeper sees it too, and its dependent gives the evidence lease up at once.
    keep_anchor_a.step().await.unwrap();
    keep_evidence_a.step().await.unwrap();
    assert!(evidence_a.fence.token().is_none());
    let evidence = leases::get(&store, "evidence").await.unwrap().unwrap();
    assert!(evidence.expires_at <= leases::now_millis(), "released for the new anchor leader's instance");
}
