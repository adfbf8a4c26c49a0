use jejak_store::attestations::{self, NewAttestation};
use jejak_store::batches;
use jejak_store::chain::{self, ChainEvent, IndexedLog, LogKey};
use jejak_store::scores::{self, EpochRow, EpochStatus, WorkerScoreRow};
use jejak_store::test_utils::TestDb;

const CHAIN: i64 = 31337;

fn att(n: u8, platform_id: i64, worker: &str) -> NewAttestation {
    NewAttestation {
        id: format!("att_{n}"),
        platform_id,
        event_type: "task_completed".into(),
        event_id: None,
        worker_ref: worker.into(),
        occurred_at: 1_700_000_000,
        received_at: 1_700_000_000,
        body: format!("{{\"n\":{n}}}"),
        event_digest: [n; 32],
        salt: [n; 32],
        leaf: [n; 32],
    }
}

fn key(block: i64, log_index: i64) -> LogKey {
    LogKey {
        chain_id: CHAIN,
        block_number: block,
        block_hash: [block as u8; 32],
        log_index,
        tx_hash: [0xee; 32],
        contract: [0xcc; 20],
    }
}

/// Three batches of platform 1: anchored at blocks 10 and 20, and one never anchored. One leaf of
/// the first batch is revoked at block 15.
async fn seed(db: &TestDb) {
    let mut c = db.store.conn().await.unwrap();
    for (n, worker) in [(1, "a"), (2, "b"), (3, "a"), (4, "a"), (5, "b")] {
        attestations::insert(&mut c, &att(n, 1, worker)).await.unwrap();
    }
    let b1 = batches::insert(&mut c, 1, &[0xb1; 32], 2, "bafk-1", 0).await.unwrap();
    attestations::assign_batch(&mut c, b1, 1, 2).await.unwrap();
    let b2 = batches::insert(&mut c, 1, &[0xb2; 32], 2, "bafk-2", 0).await.unwrap();
    attestations::assign_batch(&mut c, b2, 1, 4).await.unwrap();
    let b3 = batches::insert(&mut c, 1, &[0xb3; 32], 1, "bafk-3", 0).await.unwrap();
    attestations::assign_batch(&mut c, b3, 1, 5).await.unwrap();
    let batch = |id: i64, root: u8| ChainEvent::Batch {
        batch_id: id,
        platform_id: 1,
        root: [root; 32],
        count: 2,
        cid: format!("bafk-{id}"),
    };
    chain::insert_logs(
        &mut c,
        &[
            IndexedLog { key: key(10, 0), event: batch(7, 0xb1) },
            IndexedLog {
                key: key(15, 0),
                event: ChainEvent::Revocation { batch_id: 7, leaf: [2; 32], reason_code: 1 },
            },
            IndexedLog { key: key(20, 0), event: batch(8, 0xb2) },
        ],
    )
    .await
    .unwrap();
}

async fn counted(db: &TestDb, block: i64) -> Vec<String> {
    let mut c = db.store.conn().await.unwrap();
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = scores::scoring_inputs(&mut c, CHAIN, block, after, 2).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.seq;
        out.extend(page.into_iter().map(|i| i.id));
    }
    out
}

jejak_store::both_backends! {
    async fn an_epoch_counts_anchored_unrevoked_attestations_up_to_its_block(db: TestDb) {
        seed(&db).await;
        assert_eq!(counted(&db, 9).await, Vec::<String>::new());
        assert_eq!(counted(&db, 10).await, ["att_1", "att_2"], "before the revocation");
        assert_eq!(counted(&db, 15).await, ["att_1"], "revoked at 15");
        assert_eq!(counted(&db, 99).await, ["att_1", "att_3", "att_4"], "the third batch was never anchored");
    }
}

fn worker(epoch: i64, i: u8) -> WorkerScoreRow {
    WorkerScoreRow {
        epoch,
        commitment: [i; 32],
        leaf_index: i64::from(i),
        reputation: 500 + i64::from(i),
        credit: 600,
        tier: "C".into(),
        gigs: 3,
        salt: [0x5a; 32],
        leaf: [i.wrapping_add(epoch as u8); 32],
        card: "{}".into(),
    }
}

fn epoch_row(epoch: i64, count: i64) -> EpochRow {
    EpochRow {
        chain_id: CHAIN,
        epoch,
        status: EpochStatus::Computed,
        as_of: 1_700_000_000 + epoch,
        as_of_block: 20,
        params_version: 1,
        params_cid: "bafk-params".into(),
        depth: 20,
        worker_count: count,
        root: [epoch as u8; 32],
        platforms: "[]".into(),
        snapshot_cid: None,
        tx_hash: None,
        error: None,
        created_at: 1,
        updated_at: 1,
    }
}

jejak_store::both_backends! {
    async fn epochs_move_along_and_keep_their_workers(db: TestDb) {
        let workers: Vec<WorkerScoreRow> = (0..250u32).map(|i| worker(1, i as u8)).collect();
        let mut tx = db.store.begin().await.unwrap();
        scores::insert_epoch(&mut tx, &epoch_row(1, 250), &workers).await.unwrap();
        jejak_store::commit(tx).await.unwrap();
        let mut tx = db.store.begin().await.unwrap();
        scores::insert_epoch(&mut tx, &epoch_row(2, 2), &[worker(2, 7), worker(2, 9)]).await.unwrap();
        jejak_store::commit(tx).await.unwrap();

        let mut c = db.store.conn().await.unwrap();
        // An epoch is recorded once.
        let mut tx = db.store.begin().await.unwrap();
        assert!(scores::insert_epoch(&mut tx, &epoch_row(2, 0), &[]).await.unwrap_err().is_unique_violation());
        jejak_store::rollback(tx).await.unwrap();

        assert_eq!(scores::leaves(&mut c, CHAIN, 1).await.unwrap().len(), 250);
        assert_eq!(scores::worker_scores(&mut c, CHAIN, 1).await.unwrap(), workers);
        assert_eq!(scores::latest_epoch(&mut c, CHAIN).await.unwrap().unwrap().epoch, 2);
        assert_eq!(scores::latest_published(&mut c, CHAIN).await.unwrap(), None);

        scores::set_stored(&mut c, CHAIN, 1, "bafk-snap", 5).await.unwrap();
        scores::set_status(&mut c, CHAIN, 1, EpochStatus::Submitted, Some(&[0xaa; 32]), None, 6).await.unwrap();
        scores::set_status(&mut c, CHAIN, 1, EpochStatus::Published, None, None, 7).await.unwrap();
        let e = scores::epoch(&mut c, CHAIN, 1).await.unwrap().unwrap();
        assert_eq!((e.status, e.snapshot_cid.as_deref(), e.tx_hash, e.updated_at), (EpochStatus::Published, Some("bafk-snap"), Some([0xaa; 32]), 7));
        assert_eq!(scores::latest_published(&mut c, CHAIN).await.unwrap().unwrap().epoch, 1);

        let history = scores::worker_history(&mut c, CHAIN, &[7; 32], 10).await.unwrap();
        assert_eq!(history.iter().map(|(w, s)| (w.epoch, *s)).collect::<Vec<_>>(), [(2, EpochStatus::Computed), (1, EpochStatus::Published)]);
        assert_eq!(scores::worker_score(&mut c, CHAIN, 2, &[9; 32]).await.unwrap().unwrap().leaf_index, 9);
        assert_eq!(scores::worker_score(&mut c, CHAIN, 2, &[8; 32]).await.unwrap(), None);
        assert_eq!(scores::epochs(&mut c, CHAIN).await.unwrap().len(), 2);

        assert_eq!(scores::published_root(&mut c, CHAIN, 1).await.unwrap(), None);
        let published = ChainEvent::RootPublished { epoch: 1, root: [1; 32], snapshot_cid: "bafk-snap".into(), params_version: 1 };
        chain::insert_logs(&mut c, &[IndexedLog { key: key(30, 2), event: published }]).await.unwrap();
        let p = scores::published_root(&mut c, CHAIN, 1).await.unwrap().unwrap();
        assert_eq!((p.key.block_number, p.root, p.snapshot_cid.as_str(), p.params_version), (30, [1; 32], "bafk-snap", 1));
        assert_eq!(scores::published_roots_by_cid(&mut c, CHAIN, "bafk-snap").await.unwrap(), vec![(1, [1; 32], 1)]);
        assert!(scores::published_roots_by_cid(&mut c, CHAIN, "bafk-other").await.unwrap().is_empty());
    }
}

jejak_store::both_backends! {
    async fn an_accounts_attestations(db: TestDb) {
        seed(&db).await;
        let mut c = db.store.conn().await.unwrap();
        let all = scores::audit_inputs(&mut c, 0, 100).await.unwrap();
        assert_eq!(all.len(), 5);
        assert_eq!((all[0].id.as_str(), all[0].batch), ("att_1", Some((1, [0xb1; 32]))));
        assert_eq!((all[4].id.as_str(), all[4].batch), ("att_5", Some((1, [0xb3; 32]))));
        assert_eq!(scores::audit_inputs(&mut c, all[3].seq, 100).await.unwrap().len(), 1);
        let rows = scores::account_attestations(&mut c, &[(1, "b".to_string()), (1, "nobody".to_string())]).await.unwrap();
        assert_eq!(rows.iter().map(|r| r.attestation.id.as_str()).collect::<Vec<_>>(), ["att_2", "att_5"]);
    }
}
