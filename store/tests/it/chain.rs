use jejak_store::chain::{self, BlockRow, ChainEvent, Cursor, IndexedLog, LogKey, PlatformEventKind, ProofConsumed};
use jejak_store::test_utils::TestDb;

fn key(block: i64, log_index: i64) -> LogKey {
    LogKey {
        chain_id: 31337,
        block_number: block,
        block_hash: [block as u8; 32],
        log_index,
        tx_hash: [0xee; 32],
        contract: [0xcc; 20],
    }
}

fn logs() -> Vec<IndexedLog> {
    vec![
        IndexedLog {
            key: key(1, 0),
            event: ChainEvent::Platform {
                platform_id: 1,
                kind: PlatformEventKind::Registered,
                signer: Some([1; 20]),
                profile_cid: Some("bafy-profile".into()),
                reason_code: None,
            },
        },
        IndexedLog {
            key: key(2, 0),
            event: ChainEvent::Batch { batch_id: 1, platform_id: 1, root: [7; 32], count: 10, cid: "bafk-1".into() },
        },
        IndexedLog {
            key: key(3, 0),
            event: ChainEvent::Platform {
                platform_id: 1,
                kind: PlatformEventKind::Suspended,
                signer: None,
                profile_cid: None,
                reason_code: Some(4),
            },
        },
        IndexedLog { key: key(3, 1), event: ChainEvent::Revocation { batch_id: 1, leaf: [5; 32], reason_code: 2 } },
        IndexedLog {
            key: key(4, 0),
            event: ChainEvent::RootPublished {
                epoch: 1,
                root: [8; 32],
                snapshot_cid: "bafk-s".into(),
                params_version: 1,
            },
        },
        IndexedLog { key: key(5, 0), event: ChainEvent::RootReplaced { epoch: 1, expires_at: 99 } },
        IndexedLog {
            key: key(5, 1),
            event: ChainEvent::Evidence { checkpoint: 1, root: [9; 32], size: 4, cid: "bafk-e".into() },
        },
        IndexedLog { key: key(5, 2), event: ChainEvent::ProofConsumed(consumed([3; 32], u64::MAX)) },
    ]
}

fn consumed(nullifier: [u8; 32], min_gigs: u64) -> ProofConsumed {
    ProofConsumed {
        nullifier,
        context: [4; 32],
        consumer: [0xc0; 20],
        epoch: 1,
        root: [8; 32],
        min_score: 700,
        min_gigs,
        min_tier: 2,
        challenge: [1; 32],
    }
}

jejak_store::both_backends! {
    async fn proof_consumptions_read_back_whole_by_nullifier_and_newest_first(db: TestDb) {
        let mut c = db.store.conn().await.unwrap();
        chain::insert_logs(&mut c, &logs()).await.unwrap();
        let later = IndexedLog { key: key(6, 0), event: ChainEvent::ProofConsumed(consumed([5; 32], 50)) };
        chain::insert_logs(&mut c, std::slice::from_ref(&later)).await.unwrap();
        let found = chain::proofs_consumed_by_nullifier(&mut c, 31337, &[3; 32]).await.unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].proof, consumed([3; 32], u64::MAX), "a uint64 minimum kept whole");
        assert_eq!(found[0].key, key(5, 2));
        assert!(chain::proofs_consumed_by_nullifier(&mut c, 31337, &[9; 32]).await.unwrap().is_empty());
        let newest = chain::proofs_consumed_before(&mut c, 31337, (i64::MAX, i64::MAX), 10).await.unwrap();
        assert_eq!(newest.iter().map(|r| r.key.block_number).collect::<Vec<_>>(), [6, 5]);
        let page = chain::proofs_consumed_before(&mut c, 31337, (6, 0), 10).await.unwrap();
        assert_eq!(page.iter().map(|r| r.proof.nullifier).collect::<Vec<_>>(), [[3; 32]]);
        // A reorganisation below block 6 takes the later one away.
        chain::rollback_after(&mut c, 31337, 5).await.unwrap();
        assert_eq!(chain::proofs_consumed_before(&mut c, 31337, (i64::MAX, i64::MAX), 10).await.unwrap().len(), 1);
    }
}

jejak_store::both_backends! {
    async fn replaying_a_range_changes_nothing(db: TestDb) {
        let mut c = db.store.conn().await.unwrap();
        chain::insert_logs(&mut c, &logs()).await.unwrap();
        let before = chain::counts(&mut c, 31337).await.unwrap();
        chain::insert_logs(&mut c, &logs()).await.unwrap();
        assert_eq!(chain::counts(&mut c, 31337).await.unwrap(), before);
        let total: i64 = before.iter().map(|x| x.1).sum();
        assert_eq!(total, 8);
    }
}

jejak_store::both_backends! {
    async fn platform_state_folds_its_events(db: TestDb) {
        let mut c = db.store.conn().await.unwrap();
        chain::insert_logs(&mut c, &logs()[..2]).await.unwrap();
        let p = chain::platform(&mut c, 31337, 1).await.unwrap().unwrap();
        assert!(p.active);
        assert_eq!((p.signer, p.profile_cid.as_str()), ([1; 20], "bafy-profile"));
        chain::insert_logs(&mut c, &logs()).await.unwrap();
        assert!(!chain::platform(&mut c, 31337, 1).await.unwrap().unwrap().active);
        assert!(chain::platform(&mut c, 31337, 2).await.unwrap().is_none());
        let b = chain::batch_by_root(&mut c, 31337, 1, &[7; 32]).await.unwrap().unwrap();
        assert_eq!((b.batch_id, b.count, b.key.block_number), (1, 10, 2));
        assert_eq!(chain::revocation(&mut c, 31337, 1, &[5; 32]).await.unwrap(), Some(2));
        assert_eq!(chain::revocation(&mut c, 31337, 1, &[6; 32]).await.unwrap(), None);
    }
}

jejak_store::both_backends! {
    async fn rollback_removes_exactly_the_orphaned_blocks(db: TestDb) {
        let mut tx = db.store.begin().await.unwrap();
        chain::insert_logs(&mut tx, &logs()).await.unwrap();
        let blocks: Vec<BlockRow> = (1..=5)
            .map(|n| BlockRow { number: n, hash: [n as u8; 32], parent_hash: [n as u8 - 1; 32] })
            .collect();
        chain::insert_blocks(&mut tx, 31337, &blocks).await.unwrap();
        let removed = chain::rollback_after(&mut tx, 31337, 2).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(removed, 6);
        let mut c = db.store.conn().await.unwrap();
        let w = chain::window(&mut c, 31337, 100).await.unwrap();
        assert_eq!(w.iter().map(|b| b.number).collect::<Vec<_>>(), vec![2, 1]);
        assert!(chain::platform(&mut c, 31337, 1).await.unwrap().unwrap().active, "the suspension was orphaned");
        chain::prune_blocks(&mut c, 31337, 2).await.unwrap();
        assert_eq!(chain::window(&mut c, 31337, 100).await.unwrap().len(), 1);
    }
}

jejak_store::both_backends! {
    async fn cursor_upserts(db: TestDb) {
        let mut c = db.store.conn().await.unwrap();
        assert!(chain::cursor(&mut c, 1).await.unwrap().is_none());
        let mut cur = Cursor {
            chain_id: 1,
            block_number: 10,
            block_hash: [1; 32],
            head_number: 20,
            finalized_number: 5,
            reorgs: 0,
            updated_at: 1,
        };
        chain::save_cursor(&mut c, &cur).await.unwrap();
        cur.block_number = 11;
        cur.reorgs = 1;
        chain::save_cursor(&mut c, &cur).await.unwrap();
        assert_eq!(chain::cursor(&mut c, 1).await.unwrap(), Some(cur));
    }
}

jejak_store::both_backends! {
    async fn a_rolled_back_transaction_leaves_nothing(db: TestDb) {
        let mut tx = db.store.begin().await.unwrap();
        chain::insert_logs(&mut tx, &logs()).await.unwrap();
        tx.rollback().await.unwrap();
        let mut c = db.store.conn().await.unwrap();
        assert!(chain::counts(&mut c, 31337).await.unwrap().iter().all(|x| x.1 == 0));
    }
}

jejak_store::both_backends! {
    async fn a_saturated_expiry_reads_back_exactly(db: TestDb) {
        // `expiresAt` is a uint64: 2^64 - 1 (a saturated window: never) and ordinary times alike
        // come back as they were, not as negative numbers.
        let mut c = db.store.conn().await.unwrap();
        let published = |block, epoch| IndexedLog {
            key: key(block, 0),
            event: ChainEvent::RootPublished {
                epoch,
                root: [epoch as u8; 32],
                snapshot_cid: "bafk-s".into(),
                params_version: 1,
            },
        };
        let replaced = |block, epoch, expires_at| IndexedLog {
            key: key(block, 1),
            event: ChainEvent::RootReplaced { epoch, expires_at },
        };
        let logs = vec![
            published(1, 1),
            published(2, 2),
            replaced(2, 1, u64::MAX),
            published(3, 3),
            replaced(3, 2, 1_700_000_000),
        ];
        chain::insert_logs(&mut c, &logs).await.unwrap();
        assert_eq!(chain::all_logs(&mut c, 31337).await.unwrap(), logs);
        let mut expiry = Vec::new();
        for epoch in 1..=3 {
            expiry.push(jejak_store::proofs::root_state(&mut c, 31337, epoch).await.unwrap().unwrap().expires_at);
        }
        assert_eq!(expiry, [Some(u64::MAX), Some(1_700_000_000), None], "the last one is current");
    }
}
