//! The epoch job killed between each of its steps, then restarted: one root per epoch on chain,
//! the right one, and an audit that finds every epoch matching.

use alloy::primitives::U256;
use alloy::providers::Provider as _;
use alloy::rpc::types::Filter;
use alloy::sol_types::SolEvent as _;
use jejak_anchor::Error as AnchorError;
use jejak_anchor::epoch::{CrashPoint, Salts};
use jejak_api::auth::Role;
use jejak_chain::bindings::JejakReputationRoots;
use jejak_store::scores::{self, EpochStatus};
use jejak_tests::reputation::{completed, link, review};
use jejak_tests::{Backend, TestChain, TestNode, init_logs};
use jejak_verify::audit::{self, AuditSources, EpochVerdict};
use jejak_verify::{ChainView, ipfs_fetcher};

async fn root_events(chain: &TestChain, epoch: u64) -> Vec<[u8; 32]> {
    let filter = Filter::new()
        .address(chain.deployment.reputation_roots)
        .event_signature(JejakReputationRoots::RootPublished::SIGNATURE_HASH)
        .topic1(U256::from(epoch))
        .from_block(0);
    chain
        .provider
        .get_logs(&filter)
        .await
        .unwrap()
        .iter()
        .map(|l| JejakReputationRoots::RootPublished::decode_log_data(l.data()).unwrap().root.0)
        .collect()
}

async fn crash_and_restart(backend: Backend) {
    init_logs();
    let chain = TestChain::start(1).await;
    let p = chain.register_platform(chain.operator()).await;
    let node = TestNode::start(&chain, backend).await;
    node.wait_for_platform(p).await;
    let key = node.key(Role::Platform, Some(p)).await;
    let mut events = Vec::new();
    for w in 0..4u64 {
        let name = format!("w{w}");
        events.push(link(p, &name, 100 + w, 60));
        for k in 0..(3 + w as i64) {
            let t = format!("{name}-{k}");
            events.push(completed(&name, &t, k * 4, 10_000));
            events.push(review(&name, &t, k * 4, ["4.1", "4.6", "5", "4.8"][w as usize]));
        }
    }
    let ids = node.send(&key, events).await;
    node.wait_final(&chain, &ids).await;

    let chain_id = 31337;
    let base = jejak_store::now_secs() as u64;
    let points =
        [CrashPoint::AfterCompute, CrashPoint::AfterStore, CrashPoint::AfterRecord, CrashPoint::AfterBroadcast];
    for (i, point) in points.into_iter().enumerate() {
        let epoch = base + i as u64;
        let crashing = node.epoch_job(&chain, Salts::Random).await.crash_at(Some(point));
        match crashing.run_epoch(epoch).await {
            Err(AnchorError::Injected(p)) => assert_eq!(p, point),
            other => panic!("expected the injected crash at {point:?}, got {other:?}"),
        }
        let row =
            scores::epoch(&mut node.db.store.conn().await.unwrap(), chain_id, epoch as i64).await.unwrap().unwrap();
        let expected = match point {
            CrashPoint::AfterCompute => EpochStatus::Computed,
            CrashPoint::AfterStore => EpochStatus::Stored,
            CrashPoint::AfterRecord | CrashPoint::AfterBroadcast => EpochStatus::Submitted,
        };
        assert_eq!(row.status, expected, "{point:?}");
        let recorded = root_events(&chain, epoch).await;
        match point {
            CrashPoint::AfterRecord => assert!(recorded.is_empty(), "recorded but never broadcast"),
            CrashPoint::AfterBroadcast => {}
            _ => assert!(recorded.is_empty()),
        }

        // Restart: a new job (new sender, nothing in memory) takes it from the database.
        let job = node.epoch_job(&chain, Salts::Random).await;
        let out = job.run_epoch(epoch).await.unwrap();
        assert_eq!(out.status, Some(EpochStatus::Published), "{point:?}: {out:?}");
        assert_eq!(out.root, Some(row.root), "{point:?}: the computed root is the one published");
        // Running it again changes nothing.
        assert_eq!(job.run_epoch(epoch).await.unwrap(), out);
        chain.mine(2).await;
        let events = root_events(&chain, epoch).await;
        assert_eq!(events, vec![row.root], "{point:?}: exactly one root for epoch {epoch}");
        let roots = JejakReputationRoots::new(chain.deployment.reputation_roots, &chain.provider);
        assert_eq!(roots.rootOf(epoch).call().await.unwrap().root.0, row.root);
    }

    // Two instances on one epoch at once (a standby that did not see the other): one root.
    let epoch = base + points.len() as u64;
    let (a, b) = (node.epoch_job(&chain, Salts::Random).await, node.epoch_job(&chain, Salts::Random).await);
    let (ra, rb) = tokio::join!(a.run_epoch(epoch), b.run_epoch(epoch));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    let settled = node.epoch_job(&chain, Salts::Random).await.run_epoch(epoch).await.unwrap();
    assert_eq!(settled.status, Some(EpochStatus::Published), "{ra:?} {rb:?} {settled:?}");
    chain.mine(2).await;
    assert_eq!(root_events(&chain, epoch).await, vec![settled.root.unwrap()], "one root for epoch {epoch}");

    // A scheduled round with nothing due publishes nothing more.
    let job = node.epoch_job(&chain, Salts::Random).await;
    let round = job.tick(base as i64).await.unwrap();
    assert!(round.is_empty(), "{round:?}");

    // Every root follows from the attestations.
    chain.mine(3).await;
    let fetcher = ipfs_fetcher(&[], &[node.node.blockstore.dir().to_path_buf()], None).unwrap();
    let view = ChainView::new(&chain.anvil.endpoint()).unwrap();
    let report = audit::replay(AuditSources {
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
    .unwrap();
    assert!(report.ok(), "{:#?}", report.lines());
    assert_eq!(report.epochs.len(), points.len() + 1);
    assert!(report.epochs.iter().all(|e| matches!(e.verdict, EpochVerdict::Matches { leaves: 4 })));
    node.node.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_each_step_gives_one_root_per_epoch_sqlite() {
    crash_and_restart(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_each_step_gives_one_root_per_epoch_postgres() {
    crash_and_restart(Backend::Postgres).await;
}
