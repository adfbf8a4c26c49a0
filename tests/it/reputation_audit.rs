//! `jejak audit replay`: two published epochs match; after one attestation is altered in the
//! node's database, the replay names exactly the epoch and the leaf it changes, and the command
//! exits with an error.

use clap::Parser as _;
use jejak_anchor::epoch::Salts;
use jejak_api::auth::Role;
use jejak_store::scores::{self, EpochStatus};
use jejak_tests::reputation::{commitment, completed, link, review};
use jejak_tests::{Backend, TestChain, TestNode, init_logs};
use jejak_verify::audit::{self, AuditSources, EpochVerdict};
use jejak_verify::{ChainView, ipfs_fetcher};

async fn replay(node: &TestNode, chain: &TestChain) -> audit::AuditReport {
    let fetcher = ipfs_fetcher(&[], &[node.node.blockstore.dir().to_path_buf()], None).unwrap();
    let view = ChainView::new(&chain.anvil.endpoint()).unwrap();
    audit::replay(AuditSources {
        chain: &view,
        chain_id: 31337,
        attestations: chain.deployment.attestations,
        reputation_roots: chain.deployment.reputation_roots,
        start_block: chain.deployment.start_block,
        max_log_range: 10_000,
        fetcher: &fetcher,
        store: Some(&node.db.store),
        bundles: Vec::new(),
    })
    .await
    .unwrap()
}

/// `jejak audit replay --config FILE` against this node's database, chain and blockstore.
async fn replay_command(node: &TestNode, dir: &std::path::Path) -> anyhow::Result<()> {
    let mut cfg = node.config.clone();
    cfg.database.url = Some(node.db.url.clone());
    cfg.operator.private_key = None;
    let path = dir.join("audit.toml");
    std::fs::write(&path, toml::to_string(&cfg).unwrap()).unwrap();
    let cli = jejak_node::cli::Cli::parse_from(["jejak", "audit", "replay", "--config", path.to_str().unwrap()]);
    jejak_node::cli::run(cli).await
}

async fn replay_names_the_altered_attestation(backend: Backend) {
    init_logs();
    let chain = TestChain::start(1).await;
    let p = chain.register_platform(chain.operator()).await;
    let node = TestNode::start(&chain, backend).await;
    node.wait_for_platform(p).await;
    let key = node.key(Role::Platform, Some(p)).await;
    let (_ayu, budi, _citra) = (commitment(1), commitment(2), commitment(3));
    let mut first = vec![link(p, "ayu", 1, 90), link(p, "budi", 2, 90), link(p, "citra", 3, 90)];
    for (w, rating) in [("ayu", "4.9"), ("budi", "4.4"), ("citra", "4.7")] {
        for k in 0..8 {
            let t = format!("{w}-{k}");
            first.push(completed(w, &t, 10 + k * 5, 20_000));
            first.push(review(w, &t, 10 + k * 5, rating));
        }
    }
    let ids = node.send(&key, first).await;
    node.wait_final(&chain, &ids).await;
    let job = node.epoch_job(&chain, Salts::Random).await;
    let e1 = jejak_store::now_secs() as u64;
    assert_eq!(job.run_epoch(e1).await.unwrap().status, Some(EpochStatus::Published));

    // Budi works on; the second epoch counts it.
    let mut second = Vec::new();
    for k in 0..4 {
        let t = format!("budi-late-{k}");
        second.push(completed("budi", &t, 1, 20_000));
        second.push(review("budi", &t, 1, "4.9"));
    }
    let late = node.send(&key, second).await;
    node.wait_final(&chain, &late).await;
    let e2 = (jejak_store::now_secs() as u64).max(e1 + 1);
    assert_eq!(job.run_epoch(e2).await.unwrap().status, Some(EpochStatus::Published));

    chain.mine(3).await;
    let clean = replay(&node, &chain).await;
    assert!(clean.ok(), "{:#?}", clean.lines());
    assert_eq!(clean.epochs.len(), 2);
    assert!(
        clean.epochs.iter().all(|e| matches!(e.verdict, EpochVerdict::Matches { leaves: 3 })),
        "{:#?}",
        clean.epochs
    );
    assert_eq!(clean.verified, 3 + 48 + 8);
    let dir = tempfile::tempdir().unwrap();
    replay_command(&node, dir.path()).await.expect("the command succeeds when everything matches");

    // A batch the chain does not hold yet is pending, not a mismatch. (Platform 999 is not
    // registered, so the node's batcher leaves the batch alone.)
    {
        use jejak_store::attestations::{self, NewAttestation};
        let mut c = node.db.store.conn().await.unwrap();
        let body = serde_json::to_string(&completed("budi", "pending", 0, 1)).unwrap();
        let a = NewAttestation {
            id: "att_pending".into(),
            platform_id: 999,
            event_type: "task_completed".into(),
            event_id: None,
            worker_ref: "budi".into(),
            occurred_at: 0,
            received_at: 0,
            event_digest: jejak_core::attestation::event_digest(body.as_bytes()),
            body,
            salt: [9; 32],
            leaf: [9; 32],
        };
        let seq = attestations::insert(&mut c, &a).await.unwrap();
        let b = jejak_store::batches::insert(&mut c, 999, &[0x77; 32], 1, "bafk-pending", 0).await.unwrap();
        attestations::assign_batch(&mut c, b, 999, seq).await.unwrap();
    }
    let pending = replay(&node, &chain).await;
    assert!(pending.ok(), "{:#?}", pending.lines());

    // Someone edits one of budi's late reviews in the database: 4.9 becomes 1.
    let altered = &late[1];
    let done =
        sqlx::query("UPDATE attestations SET body = REPLACE(body, '\"rating\":4.9', '\"rating\":1') WHERE id = $1")
            .bind(altered)
            .execute(node.db.store.pool())
            .await
            .unwrap();
    assert_eq!(done.rows_affected(), 1);

    let report = replay(&node, &chain).await;
    assert!(!report.ok());
    let budi_leaf = {
        let mut c = node.db.store.conn().await.unwrap();
        let b = jejak_scoring::Commitment::from_decimal(&budi).unwrap();
        scores::worker_score(&mut c, 31337, e2 as i64, &b.0).await.unwrap().unwrap().leaf_index as u64
    };
    assert_eq!(report.epochs[0].epoch, e1);
    assert!(
        matches!(report.epochs[0].verdict, EpochVerdict::Matches { .. }),
        "epoch 1 never counted it: {:?}",
        report.epochs[0]
    );
    assert_eq!(report.epochs[1].epoch, e2);
    match &report.epochs[1].verdict {
        EpochVerdict::Mismatch { leaf, reason } => {
            assert_eq!(*leaf, Some(budi_leaf), "{reason}");
            assert!(reason.contains(altered.as_str()), "the reason names the attestation: {reason}");
            assert!(reason.contains(&budi), "and the identity: {reason}");
        }
        other => panic!("epoch 2 should mismatch: {other:?}"),
    }
    assert_eq!(report.unverifiable.len(), 1);
    assert_eq!(&report.unverifiable[0].0, altered);
    let lines = report.lines().join("\n");
    assert!(lines.contains(&format!("epoch {e2}: MISMATCH at leaf {budi_leaf}")), "{lines}");
    assert!(replay_command(&node, dir.path()).await.is_err(), "non-zero exit on a mismatch");
    node.node.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_names_the_altered_attestation_sqlite() {
    replay_names_the_altered_attestation(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_names_the_altered_attestation_postgres() {
    replay_names_the_altered_attestation(Backend::Postgres).await;
}
