use jejak_store::attestations::{self, IdempotencyRow, NewAttestation};
use jejak_store::batches::{self, BatchStatus};
use jejak_store::test_utils::TestDb;

fn att(id: &str, platform_id: i64, event_id: Option<&str>, leaf: u8) -> NewAttestation {
    NewAttestation {
        id: id.into(),
        platform_id,
        event_type: "task_completed".into(),
        event_id: event_id.map(Into::into),
        worker_ref: "driver-1".into(),
        occurred_at: 1_700_000_000,
        received_at: 1_700_000_100,
        body: "{}".into(),
        event_digest: [1; 32],
        salt: [2; 32],
        leaf: [leaf; 32],
    }
}

jejak_store::both_backends! {
    async fn insert_and_read_back(db: TestDb) {
        let mut c = db.store.conn().await.unwrap();
        let a = att("att_1", 1, Some("e1"), 7);
        let seq = attestations::insert(&mut c, &a).await.unwrap();
        let row = attestations::get(&mut c, "att_1").await.unwrap().unwrap();
        assert_eq!((row.seq, &row.attestation, row.batch_id), (seq, &a, None));
        let by = attestations::by_event_id(&mut c, 1, "e1").await.unwrap().unwrap();
        assert_eq!(by.attestation.id, "att_1");
        assert!(attestations::by_event_id(&mut c, 2, "e1").await.unwrap().is_none());
    }
}

jejak_store::both_backends! {
    async fn event_ids_are_unique_per_platform(db: TestDb) {
        let mut c = db.store.conn().await.unwrap();
        attestations::insert(&mut c, &att("a1", 1, Some("e1"), 1)).await.unwrap();
        attestations::insert(&mut c, &att("a2", 2, Some("e1"), 2)).await.unwrap();
        attestations::insert(&mut c, &att("a3", 1, None, 3)).await.unwrap();
        attestations::insert(&mut c, &att("a4", 1, None, 4)).await.unwrap();
        let err = attestations::insert(&mut c, &att("a5", 1, Some("e1"), 5)).await.unwrap_err();
        assert!(err.is_unique_violation());
    }
}

jejak_store::both_backends! {
    async fn batching_numbers_leaves_in_acceptance_order(db: TestDb) {
        let mut c = db.store.conn().await.unwrap();
        for i in 0..5u8 {
            attestations::insert(&mut c, &att(&format!("p1-{i}"), 1, None, 10 + i)).await.unwrap();
            attestations::insert(&mut c, &att(&format!("p2-{i}"), 2, None, 20 + i)).await.unwrap();
        }
        assert_eq!(attestations::unbatched_platforms(&mut c).await.unwrap(), vec![1, 2]);
        let first = attestations::unbatched(&mut c, 1, 3).await.unwrap();
        assert_eq!(first.iter().map(|x| x.1[0]).collect::<Vec<_>>(), vec![10, 11, 12]);
        let last_seq = first.last().unwrap().0;

        let mut tx = db.store.begin().await.unwrap();
        let b = batches::insert(&mut tx, 1, &[0xaa; 32], 3, "bafk", 5).await.unwrap();
        assert_eq!(attestations::assign_batch(&mut tx, b, 1, last_seq).await.unwrap(), 3);
        tx.commit().await.unwrap();

        let leaves = attestations::batch_leaves(&mut c, b).await.unwrap();
        assert_eq!(leaves.iter().map(|l| l[0]).collect::<Vec<_>>(), vec![10, 11, 12]);
        let r = attestations::get(&mut c, "p1-2").await.unwrap().unwrap();
        assert_eq!((r.batch_id, r.leaf_index), (Some(b), Some(2)));
        assert_eq!(attestations::unbatched(&mut c, 1, 100).await.unwrap().len(), 2);
        assert_eq!(attestations::unbatched(&mut c, 2, 100).await.unwrap().len(), 5);

        let built = batches::with_status(&mut c, BatchStatus::Built).await.unwrap();
        assert_eq!(built.len(), 1);
        batches::set_status(&mut c, b, BatchStatus::Submitted, Some(&[3; 32]), None, 9).await.unwrap();
        batches::set_status(&mut c, b, BatchStatus::Anchored, None, None, 10).await.unwrap();
        let row = batches::get(&mut c, b).await.unwrap().unwrap();
        assert_eq!((row.status, row.tx_hash), (BatchStatus::Anchored, Some([3; 32])));
    }
}

jejak_store::both_backends! {
    async fn idempotency_record_is_written_once(db: TestDb) {
        let mut c = db.store.conn().await.unwrap();
        let row = IdempotencyRow {
            platform_id: 1,
            key: "k".into(),
            request_hash: [4; 32],
            status: 202,
            response: "{\"ok\":true}".into(),
            created_at: 1,
        };
        attestations::idempotency_put(&mut c, &row).await.unwrap();
        assert_eq!(attestations::idempotency_get(&mut c, 1, "k").await.unwrap(), Some(row.clone()));
        assert!(attestations::idempotency_get(&mut c, 2, "k").await.unwrap().is_none());
        assert!(attestations::idempotency_put(&mut c, &row).await.unwrap_err().is_unique_violation());
    }
}
