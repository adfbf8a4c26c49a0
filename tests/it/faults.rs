//! The indexer behind an RPC that misbehaves like real providers: it must end with exactly the
//! canonical set of events.

use std::sync::atomic::Ordering;
use std::time::Duration;

use alloy::primitives::Address;
use alloy::providers::Provider as _;
use jejak_chain::bindings::JejakRegistry;
use jejak_indexer::rpc::RpcConfig;
use jejak_store::test_utils::TestDb;
use jejak_tests::fault_proxy::{FaultProxy, Faults};
use jejak_tests::{TestChain, TestNode, canonical_logs, indexer_via, init_logs, on_both_databases, stored_logs};

async fn emit(chain: &TestChain, n: u32, salt: u8) {
    let registry = JejakRegistry::new(chain.deployment.registry, &chain.provider);
    for i in 0..n {
        registry
            .registerPlatform(Address::repeat_byte(((u32::from(salt) + i) % 255 + 1) as u8), format!("p{salt}-{i}"))
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
    }
}

/// Waits until the stored cursor is the canonical head block.
async fn wait_for_head(chain: &TestChain, db: &TestDb) {
    let head = chain.provider.get_block(alloy::eips::BlockId::latest()).await.unwrap().unwrap().header.hash;
    TestNode::eventually(120, "the indexer to reach the head", || {
        let store = db.store.clone();
        async move {
            let c = jejak_store::chain::cursor(&mut *store.conn().await.ok()?, 31337).await.ok()??;
            (c.block_hash == head.0).then_some(())
        }
    })
    .await;
}

on_both_databases! {
    async fn faulty_rpc_still_yields_the_canonical_set(backend) {
        init_logs();
        // finalized two blocks behind the head: most of the history is backfilled.
        let chain = TestChain::start(1).await;
        emit(&chain, 120, 0x11).await;
        let proxy = FaultProxy::start(&chain.anvil.endpoint(), Faults { head_backwards: 30, ..Faults::default() }).await;
        let db = TestDb::new(backend).await;
        let rpc = RpcConfig {
            urls: vec![proxy.url.clone()],
            request_timeout: Duration::from_millis(800),
            max_attempts: 1000,
            backoff_base: Duration::from_millis(10),
            backoff_cap: Duration::from_millis(200),
        };
        let ix = indexer_via(&chain, &db.store, rpc, |c| {
            c.initial_log_range = 500;
            c.fetch_concurrency = 3;
        });
        let token = tokio_util::sync::CancellationToken::new();
        let running = tokio::spawn(ix.run(token.clone()));
        wait_for_head(&chain, &db).await;
        // Live blocks keep coming while the provider keeps misbehaving.
        emit(&chain, 15, 0x77).await;
        wait_for_head(&chain, &db).await;
        // Keep polling a stale-head-prone provider for a while: nothing may change.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        token.cancel();
        running.await.unwrap().unwrap();

        let canonical = canonical_logs(&chain).await;
        assert_eq!(canonical.len(), 135);
        assert_eq!(stored_logs(&db.store, 31337).await, canonical);
        let c = &proxy.counts;
        for (what, n) in [
            ("rate limits", c.rate_limited.load(Ordering::Relaxed)),
            ("range errors", c.range_errors.load(Ordering::Relaxed)),
            ("hung requests", c.hung.load(Ordering::Relaxed)),
            ("stale heads", c.stale_heads.load(Ordering::Relaxed)),
            ("scrambled answers", c.scrambled.load(Ordering::Relaxed)),
        ] {
            assert!(n > 0, "the proxy never produced {what}: the test did not test it");
        }
    }
}

on_both_databases! {
    async fn falls_over_to_a_second_endpoint(backend) {
        init_logs();
        let chain = TestChain::start(1).await;
        emit(&chain, 10, 0x22).await;
        let db = TestDb::new(backend).await;
        // The first endpoint is down for good.
        let rpc = RpcConfig {
            urls: vec!["http://127.0.0.1:9".into(), chain.anvil.endpoint()],
            request_timeout: Duration::from_millis(500),
            max_attempts: 10,
            backoff_base: Duration::from_millis(10),
            backoff_cap: Duration::from_millis(50),
        };
        let mut ix = indexer_via(&chain, &db.store, rpc, |_| {});
        ix.sync_to_head().await.unwrap();
        assert_eq!(stored_logs(&db.store, 31337).await, canonical_logs(&chain).await);
    }
}
