//! Webhook deliveries claimed one attempt at a time: of workers racing for a due delivery (on
//! instances sharing a database) exactly one attempts it, and a claim whose holder died runs out.

use jejak_store::both_backends;
use jejak_store::test_utils::TestDb;
use jejak_store::webhooks::{self, DeliveryRow, DeliveryStatus, SubscriptionRow};

async fn queue(db: &TestDb, n: usize) {
    let mut c = db.store.conn().await.unwrap();
    let sub = SubscriptionRow {
        id: "whs_1".into(),
        platform_id: 7,
        url: "https://receiver.example/hook".into(),
        events: "batch.finalized".into(),
        secret: vec![1; 32],
        created_at: 1,
        deleted_at: None,
    };
    webhooks::insert_subscription(&mut c, &sub).await.unwrap();
    for i in 0..n {
        let d = DeliveryRow {
            id: format!("whd_{i}"),
            subscription_id: "whs_1".into(),
            platform_id: 7,
            event_id: format!("evt_{i}"),
            event_type: "batch.finalized".into(),
            payload: "{}".into(),
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: 1_000,
            last_status: None,
            last_error: None,
            created_at: 1,
            updated_at: 1,
        };
        assert!(webhooks::insert_delivery(&mut c, &d).await.unwrap());
    }
}

both_backends! {
    async fn a_due_delivery_is_claimed_by_one_worker_and_due_again_when_its_claim_runs_out(db: TestDb) {
        queue(&db, 1).await;
        let mut c = db.store.conn().await.unwrap();
        let due = webhooks::due_fair(&mut c, 2_000, 4, 64).await.unwrap();
        assert_eq!(due.len(), 1);
        assert!(webhooks::claim(&mut c, "whd_0", due[0].next_attempt_at, 60_000).await.unwrap(), "the first claims it");
        assert!(!webhooks::claim(&mut c, "whd_0", due[0].next_attempt_at, 60_000).await.unwrap(), "a second, having read it due, does not");
        assert!(webhooks::due_fair(&mut c, 2_000, 4, 64).await.unwrap().is_empty(), "not due while claimed");
        // Its holder died: past the claim it is due again, and attempted at least once.
        let again = webhooks::due_fair(&mut c, 60_000, 4, 64).await.unwrap();
        assert_eq!(again.len(), 1);
        assert!(webhooks::claim(&mut c, "whd_0", again[0].next_attempt_at, 120_000).await.unwrap());
        webhooks::record_attempt(&mut c, "whd_0", DeliveryStatus::Delivered, 120_000, Some(200), None, 3).await.unwrap();
        assert!(!webhooks::claim(&mut c, "whd_0", 120_000, 180_000).await.unwrap(), "a delivered one is never claimed");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_racing_workers_split_the_queue_and_never_share_a_delivery() {
    let db = TestDb::postgres().await;
    queue(&db, 40).await;
    let race = |worker: usize| {
        let store = db.store.clone();
        tokio::spawn(async move {
            let mut c = store.conn().await.unwrap();
            let due = webhooks::due_fair(&mut c, 2_000, 64, 64).await.unwrap();
            let mut mine = Vec::new();
            for d in due {
                if webhooks::claim(&mut c, &d.id, d.next_attempt_at, 60_000 + worker as i64).await.unwrap() {
                    mine.push(d.id);
                }
            }
            mine
        })
    };
    let (a, b, c) = (race(0), race(1), race(2));
    let (a, b, c) = (a.await.unwrap(), b.await.unwrap(), c.await.unwrap());
    let mut all: Vec<_> = a.iter().chain(&b).chain(&c).cloned().collect();
    all.sort();
    let before = all.len();
    all.dedup();
    assert_eq!(before, all.len(), "a delivery claimed by two workers");
    assert_eq!(all.len(), 40, "every due delivery claimed by one of them");
}
