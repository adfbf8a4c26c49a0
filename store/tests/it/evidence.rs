use jejak_store::evidence::{self, CheckpointStatus, NewFile, NewTask, StatementRow};
use jejak_store::test_utils::TestDb;

fn task(id: &str, external_id: &str) -> NewTask {
    NewTask {
        id: id.into(),
        platform_id: 1,
        external_id: external_id.into(),
        task_type: "delivery".into(),
        worker_ref: "courier-7".into(),
        worker_key: [7; 32],
        window_start: 1_700_000_000,
        window_end: 1_700_003_600,
        latitude: -6.2001,
        longitude: 106.8167,
        radius_m: Some(75.5),
        request_hash: [9; 32],
        created_at: 1_699_999_000,
    }
}

fn file(n: u8, phash: Option<u64>) -> NewFile {
    NewFile {
        sha256: [n; 32],
        salt: [n.wrapping_add(100); 32],
        metadata_hash: [n.wrapping_add(50); 32],
        leaf_hash: [n.wrapping_add(200); 32],
        media_type: "jpeg".into(),
        size: 1000 + i64::from(n),
        metadata: format!("{{\"n\":{n}}}"),
        phash,
        created_at: 1_700_000_100,
    }
}

jejak_store::both_backends! {
    async fn tasks_round_trip_and_nonces_are_issued_once(db: TestDb) {
        let mut c = db.store.conn().await.unwrap();
        let t = task("tsk_1", "job-1");
        evidence::insert_task(&mut c, &t).await.unwrap();
        let row = evidence::task(&mut c, "tsk_1").await.unwrap().unwrap();
        assert_eq!(row.task, t);
        assert_eq!(row.nonce, None);
        assert_eq!(evidence::task_by_external_id(&mut c, 1, "job-1").await.unwrap().unwrap().task.id, "tsk_1");
        assert!(evidence::task_by_external_id(&mut c, 2, "job-1").await.unwrap().is_none());
        // The platform's own id is unique per platform.
        let err = evidence::insert_task(&mut c, &task("tsk_2", "job-1")).await.unwrap_err();
        assert!(err.is_unique_violation());

        let first = evidence::issue_nonce(&mut c, "tsk_1", "aaaa", 10).await.unwrap().unwrap();
        assert_eq!(first, ("aaaa".to_string(), 10));
        // A second issue returns the first nonce: a retried request gets the same one back.
        let again = evidence::issue_nonce(&mut c, "tsk_1", "bbbb", 20).await.unwrap().unwrap();
        assert_eq!(again, first);
        assert!(evidence::issue_nonce(&mut c, "tsk_missing", "cccc", 30).await.unwrap().is_none());
    }
}

jejak_store::both_backends! {
    async fn witness_keys_keep_their_first_registration_time(db: TestDb) {
        let mut c = db.store.conn().await.unwrap();
        let (a, created) = evidence::register_witness(&mut c, 1, &[1; 32], "shop", 100).await.unwrap();
        assert_eq!((a.registered_at, created), (100, true));
        let (again, created) = evidence::register_witness(&mut c, 1, &[1; 32], "renamed", 500).await.unwrap();
        assert_eq!((again.registered_at, again.label.as_str(), created), (100, "shop", false));
        evidence::register_witness(&mut c, 2, &[2; 32], "other platform", 200).await.unwrap();
        let keys = evidence::witness_keys(&mut c, 1).await.unwrap();
        assert_eq!(keys.iter().map(|k| k.key).collect::<Vec<_>>(), vec![[1; 32]]);
    }
}

jejak_store::both_backends! {
    async fn log_positions_are_dense_and_never_reused(db: TestDb) {
        let store = &db.store;
        for n in 0..5u8 {
            let mut tx = store.begin().await.unwrap();
            assert_eq!(evidence::append_file(&mut tx, &file(n, Some(u64::MAX - u64::from(n)))).await.unwrap(), i64::from(n));
            jejak_store::commit(tx).await.unwrap();
        }
        // A rolled-back append leaves no gap.
        let mut tx = store.begin().await.unwrap();
        evidence::append_file(&mut tx, &file(50, None)).await.unwrap();
        jejak_store::rollback(tx).await.unwrap();
        // A file already logged cannot take a second position.
        let mut tx = store.begin().await.unwrap();
        let err = evidence::append_file(&mut tx, &file(3, None)).await.unwrap_err();
        assert!(err.is_unique_violation());
        jejak_store::rollback(tx).await.unwrap();

        let mut c = store.conn().await.unwrap();
        assert_eq!(evidence::log_size(&mut c).await.unwrap(), 5);
        let leaves = evidence::log_leaves(&mut c, 5).await.unwrap();
        assert_eq!(leaves, (0..5u8).map(|n| [n.wrapping_add(200); 32]).collect::<Vec<_>>());
        assert_eq!(evidence::log_leaves(&mut c, 3).await.unwrap(), leaves[..3]);
        assert!(evidence::log_leaves(&mut c, 6).await.is_err(), "the log holds only 5");
        let row = evidence::file(&mut c, &[4; 32]).await.unwrap().unwrap();
        // The perceptual hash keeps all 64 bits through the signed column.
        assert_eq!((row.leaf_index, row.file), (4, file(4, Some(u64::MAX - 4))));

        let mut tx = store.begin().await.unwrap();
        assert_eq!(evidence::append_file(&mut tx, &file(9, None)).await.unwrap(), 5);
        jejak_store::commit(tx).await.unwrap();
    }
}

jejak_store::both_backends! {
    async fn history_sees_only_earlier_submissions_on_other_tasks(db: TestDb) {
        let mut c = db.store.conn().await.unwrap();
        for (id, ext) in [("t1", "a"), ("t2", "b"), ("t3", "c")] {
            evidence::insert_task(&mut c, &task(id, ext)).await.unwrap();
        }
        let photo = 0x0f0f_0f0f_0f0f_0f0f_u64;
        let mut tx = db.store.begin().await.unwrap();
        evidence::append_file(&mut tx, &file(1, Some(photo))).await.unwrap();
        evidence::append_file(&mut tx, &file(2, Some(photo ^ 0b111))).await.unwrap();
        evidence::append_file(&mut tx, &file(3, Some(!photo))).await.unwrap();
        jejak_store::commit(tx).await.unwrap();

        let s1 = evidence::submit(&mut c, "t1", &[1; 32], "key-a", 1).await.unwrap().unwrap();
        assert_eq!(evidence::submit(&mut c, "t1", &[1; 32], "key-a", 2).await.unwrap(), None, "a retry");
        let s2 = evidence::submit(&mut c, "t2", &[1; 32], "key-b", 3).await.unwrap().unwrap();
        let s3 = evidence::submit(&mut c, "t2", &[2; 32], "key-b", 3).await.unwrap().unwrap();
        let s4 = evidence::submit(&mut c, "t3", &[3; 32], "key-c", 4).await.unwrap().unwrap();
        assert!(s1 < s2 && s2 < s3 && s3 < s4);

        // The same file: t2 sees t1's earlier submission; t1 does not see t2's later one.
        let earlier = evidence::earlier_submissions(&mut c, &[[1; 32]], "t2", s2).await.unwrap();
        assert_eq!(earlier.iter().map(|e| (e.seq, e.task_id.as_str(), e.platform_id)).collect::<Vec<_>>(), vec![(s1, "t1", 1)]);
        assert!(evidence::earlier_submissions(&mut c, &[[1; 32]], "t1", s1).await.unwrap().is_empty());
        // Several files at once, in submission order.
        let both = evidence::earlier_submissions(&mut c, &[[2; 32], [1; 32]], "t3", s4).await.unwrap();
        assert_eq!(both.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![s1, s2, s3]);
        assert!(evidence::earlier_submissions(&mut c, &[], "t3", s4).await.unwrap().is_empty());
        // Logged photos by log position, with every bit of their hashes.
        let photos = evidence::logged_photos(&mut c, 1, u64::MAX).await.unwrap();
        assert_eq!(photos.iter().map(|p| (p.leaf_index, p.phash)).collect::<Vec<_>>(), vec![(1, photo ^ 0b111), (2, !photo)]);
        assert_eq!(evidence::logged_photos(&mut c, 0, 1).await.unwrap()[0].sha256, [1; 32]);

        let on = evidence::tasks_with_file(&mut c, &[1; 32]).await.unwrap();
        assert_eq!(on.iter().map(|t| t.task.id.as_str()).collect::<Vec<_>>(), vec!["t1", "t2"]);
        let files = evidence::task_files(&mut c, "t2").await.unwrap();
        assert_eq!(files.iter().map(|s| (s.seq, s.file.file.sha256[0])).collect::<Vec<_>>(), vec![(s2, 1), (s3, 2)]);
    }
}

jejak_store::both_backends! {
    async fn statements_verdicts_and_checkpoints(db: TestDb) {
        let mut c = db.store.conn().await.unwrap();
        evidence::insert_task(&mut c, &task("t1", "a")).await.unwrap();
        let s = StatementRow { witness_key: [5; 32], signed_at: 42, signature: [6; 64], received_at: 50 };
        assert!(evidence::add_statement(&mut c, "t1", &s).await.unwrap());
        assert!(!evidence::add_statement(&mut c, "t1", &s).await.unwrap(), "the same statement twice");
        assert_eq!(evidence::statements(&mut c, "t1").await.unwrap(), vec![s]);

        assert!(evidence::latest_verdict(&mut c, "t1").await.unwrap().is_none());
        evidence::insert_verdict(&mut c, "t1", "fail", "{\"a\":1}", 60).await.unwrap();
        evidence::insert_verdict(&mut c, "t1", "pass", "{\"a\":2}", 61).await.unwrap();
        let v = evidence::latest_verdict(&mut c, "t1").await.unwrap().unwrap();
        assert_eq!((v.outcome.as_str(), v.verdict.as_str()), ("pass", "{\"a\":2}"));

        assert!(evidence::latest_checkpoint(&mut c).await.unwrap().is_none());
        evidence::insert_checkpoint(&mut c, 3, &[1; 32], 0, "bafk-a", 70).await.unwrap();
        evidence::set_checkpoint_status(&mut c, 3, CheckpointStatus::Submitted, Some(&[2; 32]), None, 71).await.unwrap();
        evidence::set_checkpoint_status(&mut c, 3, CheckpointStatus::Anchored, None, None, 72).await.unwrap();
        evidence::insert_checkpoint(&mut c, 8, &[3; 32], 3, "bafk-b", 73).await.unwrap();
        let latest = evidence::latest_checkpoint(&mut c).await.unwrap().unwrap();
        assert_eq!((latest.size, latest.previous_size, latest.status), (8, 3, CheckpointStatus::Built));
        let anchored = evidence::checkpoints_with_status(&mut c, CheckpointStatus::Anchored).await.unwrap();
        assert_eq!(anchored.len(), 1);
        assert_eq!(anchored[0].tx_hash, Some([2; 32]), "the hash survives later status changes");
        assert_eq!(evidence::checkpoints(&mut c).await.unwrap().len(), 2);
    }
}

jejak_store::both_backends! {
    async fn log_proofs_read_a_few_stored_subtrees_and_equal_the_trees(db: TestDb) {
        use jejak_core::merkle::{self, MerkleTree};
        let store = &db.store;
        let mut leaves = Vec::new();
        let mut rng = 0x006a_656a_616b_u64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        for n in 0..200u8 {
            let f = file(n, None);
            leaves.push(f.leaf_hash);
            let mut tx = store.begin().await.unwrap();
            evidence::append_file(&mut tx, &f).await.unwrap();
            jejak_store::commit(tx).await.unwrap();
            let size = u64::from(n) + 1;
            let tree = MerkleTree::from_leaf_hashes(leaves.clone());
            let mut c = store.conn().await.unwrap();
            // Random leaves and older sizes at every size: what a receipt and a consistency
            // proof read, and what they answer.
            for _ in 0..3 {
                let (index, old) = (next() % size, next() % (size + 1));
                let bound = 2 * (64 - size.leading_zeros() as usize) + 2;
                let ids = merkle::inclusion_nodes(index, size).unwrap();
                let nodes = evidence::required_log_nodes(&mut c, &ids).await.unwrap();
                assert!(nodes.len() <= bound, "{} rows for a receipt at size {size}", nodes.len());
                let path = merkle::inclusion_proof_from(&nodes, index, size).unwrap();
                assert_eq!(path, tree.inclusion_proof(index).unwrap());
                assert_eq!(merkle::root_from(&nodes, size).unwrap(), tree.root());
                assert!(merkle::verify_inclusion(index, size, &leaves[index as usize], &path, &tree.root()));
                let ids = merkle::consistency_nodes(old, size).unwrap();
                let nodes = evidence::required_log_nodes(&mut c, &ids).await.unwrap();
                assert!(nodes.len() <= 2 * bound, "{} rows for a consistency proof to {size}", nodes.len());
                let proof = merkle::consistency_proof_from(&nodes, old, size).unwrap();
                assert_eq!(proof, tree.consistency_proof(old, size).unwrap());
                let old_root = merkle::root_from(&nodes, old).unwrap();
                assert!(merkle::verify_consistency(old, size, &old_root, &tree.root(), &proof));
            }
        }

        // A log accepted before subtrees were stored is filled in when the store opens, to the
        // same subtrees.
        let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM evidence_log_nodes").fetch_one(store.pool()).await.unwrap();
        sqlx::query("DELETE FROM evidence_log_nodes WHERE level > 0 OR idx > 17").execute(store.pool()).await.unwrap();
        assert_eq!(evidence::fill_log_nodes(store).await.unwrap(), 200);
        let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM evidence_log_nodes").fetch_one(store.pool()).await.unwrap();
        assert_eq!(after, before);
        let mut c = store.conn().await.unwrap();
        let ids = merkle::consistency_nodes(77, 200).unwrap();
        let nodes = evidence::required_log_nodes(&mut c, &ids).await.unwrap();
        let tree = MerkleTree::from_leaf_hashes(leaves.clone());
        assert_eq!(merkle::consistency_proof_from(&nodes, 77, 200).unwrap(), tree.consistency_proof(77, 200).unwrap());
        assert_eq!(evidence::fill_log_nodes(store).await.unwrap(), 0, "a complete log is left alone");
        // A missing subtree is an error, never a wrong proof.
        sqlx::query("DELETE FROM evidence_log_nodes WHERE level = 7").execute(store.pool()).await.unwrap();
        let ids = merkle::inclusion_nodes(3, 200).unwrap();
        assert!(evidence::required_log_nodes(&mut c, &ids).await.is_err());
    }
}
