//! The `jejak` process itself: killed with SIGKILL in the middle of a backfill and restarted,
//! it ends with no gap and no duplicate; a reorganisation deeper than its window makes it exit
//! non-zero with a clear error.

use std::process::Stdio;
use std::time::Duration;

use alloy::providers::Provider as _;
use alloy::providers::ext::AnvilApi as _;
use alloy::rpc::types::anvil::ReorgOptions;
use jejak_chain::bindings::{BatchEventEmitter, JejakRegistry};
use jejak_store::test_utils::TestDb;
use jejak_tests::{
    TestChain, TestNode, canonical_logs, canonical_logs_for, contracts_of, init_logs, on_both_databases, spawn_node,
    stored_logs, write_node_config,
};

/// Deterministic spread of kill points (splitmix64).
fn kill_after(i: u64) -> Duration {
    let mut z = 0x5eed_u64.wrapping_add(i.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    Duration::from_millis(150 + (z ^ (z >> 31)) % 900)
}

on_both_databases! {
    async fn sigkill_during_backfill_loses_nothing_and_doubles_nothing(backend) {
        init_logs();
        let chain = TestChain::start(1).await;
        let emitter = BatchEventEmitter::deploy(&chain.provider).await.unwrap();
        // 20,000 BatchAnchored events over 100 blocks, plus finality two blocks behind.
        for i in 0..100u64 {
            emitter.emitBatches(1 + i * 200, 1, 200).send().await.unwrap().get_receipt().await.unwrap();
        }
        chain.mine(3).await;
        let mut contracts = contracts_of(&chain.deployment);
        contracts.attestations = *emitter.address();
        let canonical = canonical_logs_for(&chain, &contracts).await;
        assert_eq!(canonical.len(), 20_000);

        let db = TestDb::new(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let config = write_node_config(
            dir.path(),
            &chain,
            &db.url,
            "127.0.0.1:0",
            *emitter.address(),
            "initial_log_range = 2\nmax_log_range = 3\nfetch_concurrency = 2",
        );
        let mut progress = Vec::new();
        for i in 0..10 {
            let mut child = spawn_node(&config, "info", Stdio::piped());
            tokio::time::sleep(kill_after(i)).await;
            child.kill().await.unwrap(); // SIGKILL
            progress.push(stored_logs(&db.store, 31337).await.len());
        }
        let head = chain.provider.get_block(alloy::eips::BlockId::latest()).await.unwrap().unwrap().header.hash;
        let mut child = spawn_node(&config, "info", Stdio::piped());
        TestNode::eventually(120, "the restarted node to reach the head", || {
            let store = db.store.clone();
            async move {
                let c = jejak_store::chain::cursor(&mut *store.conn().await.ok()?, 31337).await.ok()??;
                (c.block_hash == head.0).then_some(())
            }
        })
        .await;
        child.kill().await.unwrap();
        assert!(progress.iter().any(|n| *n > 0 && *n < 20_000), "no kill landed mid-backfill: {progress:?}");
        assert!(progress.windows(2).all(|w| w[0] <= w[1]), "progress went backwards: {progress:?}");
        assert_eq!(stored_logs(&db.store, 31337).await, canonical, "gap or duplicate after {progress:?}");
    }
}

on_both_databases! {
    async fn deep_reorg_stops_the_process_with_a_clear_error(backend) {
        init_logs();
        let chain = TestChain::start(32).await;
        let registry = JejakRegistry::new(chain.deployment.registry, &chain.provider);
        for i in 0..20u8 {
            registry
                .registerPlatform(alloy::primitives::Address::repeat_byte(i + 1), String::new())
                .send()
                .await
                .unwrap()
                .get_receipt()
                .await
                .unwrap();
        }
        let db = TestDb::new(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let config =
            write_node_config(dir.path(), &chain, &db.url, "127.0.0.1:0", chain.deployment.attestations, "reorg_window = 8");
        let mut child = spawn_node(&config, "info", Stdio::piped());
        let expected = canonical_logs(&chain).await.len();
        TestNode::eventually(60, "the node to index the registrations", || {
            let store = db.store.clone();
            async move { (stored_logs(&store, 31337).await.len() == expected).then_some(()) }
        })
        .await;
        chain.provider.anvil_reorg(ReorgOptions { depth: 12, tx_block_pairs: vec![] }).await.unwrap();
        let status = tokio::time::timeout(Duration::from_secs(60), child.wait()).await.expect("the node exits").unwrap();
        assert!(!status.success(), "a deep reorganisation must end the process with a failure");
        let mut stderr = String::new();
        use tokio::io::AsyncReadExt as _;
        child.stderr.take().unwrap().read_to_string(&mut stderr).await.unwrap();
        assert!(stderr.contains("reorganisation deeper than the 8-block window"), "{stderr}");
        // Nothing was rolled back half-way.
        assert_eq!(stored_logs(&db.store, 31337).await.len(), expected);
    }
}
