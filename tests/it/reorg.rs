//! Reorganisations on a real anvil (`anvil_reorg`, `evm_snapshot`/`evm_revert`). After each the
//! database must hold exactly what the canonical chain says, row by row.

use alloy::network::TransactionBuilder as _;
use alloy::primitives::Address;
use alloy::providers::Provider as _;
use alloy::providers::ext::AnvilApi as _;
use alloy::rpc::types::TransactionRequest;
use alloy::rpc::types::anvil::{ReorgOptions, TransactionData};
use jejak_chain::bindings::JejakRegistry;
use jejak_indexer::Error;
use jejak_store::test_utils::TestDb;
use jejak_tests::{TestChain, canonical_logs, indexer, init_logs, on_both_databases, stored_logs};

/// A `registerPlatform` transaction from the operator, distinguishable by its signer byte.
fn register_tx(chain: &TestChain, signer_byte: u8) -> TransactionRequest {
    JejakRegistry::new(chain.deployment.registry, &chain.provider)
        .registerPlatform(Address::repeat_byte(signer_byte), format!("profile-{signer_byte}"))
        .into_transaction_request()
        .with_from(chain.operator())
}

/// Mines `n` blocks, each with one registry event.
async fn blocks_with_events(chain: &TestChain, n: u8, first_byte: u8) {
    let registry = JejakRegistry::new(chain.deployment.registry, &chain.provider);
    for i in 0..n {
        registry
            .registerPlatform(Address::repeat_byte(first_byte.wrapping_add(i)), format!("p{i}"))
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
    }
}

async fn reorg(chain: &TestChain, depth: u64, txs: Vec<(TransactionRequest, u64)>) {
    let pairs = txs.into_iter().map(|(t, b)| (TransactionData::JSON(t), b)).collect();
    chain.provider.anvil_reorg(ReorgOptions { depth, tx_block_pairs: pairs }).await.unwrap();
}

async fn assert_matches_chain(chain: &TestChain, db: &TestDb) {
    let canonical = canonical_logs(chain).await;
    let stored = stored_logs(&db.store, chain.deployment.chain_id).await;
    assert_eq!(stored.len(), canonical.len(), "row count");
    for (s, c) in stored.iter().zip(&canonical) {
        assert_eq!(s, c, "row differs from the canonical chain");
    }
}

on_both_databases! {
    async fn depth_one_reorg_replaces_an_event(backend) {
        init_logs();
        let chain = TestChain::start(32).await;
        let db = TestDb::new(backend).await;
        let mut ix = indexer(&chain, &db.store, |_| {});
        blocks_with_events(&chain, 3, 0x10).await;
        ix.sync_to_head().await.unwrap();
        assert_matches_chain(&chain, &db).await;
        let before = stored_logs(&db.store, chain.deployment.chain_id).await;

        reorg(&chain, 1, vec![(register_tx(&chain, 0xee), 0)]).await;
        ix.sync_to_head().await.unwrap();
        assert_matches_chain(&chain, &db).await;
        let depths = ix.status().reorg_depths();
        assert_eq!((depths.count, depths.sum), (1, 1), "one reorganisation, one block deep, in the metrics");
        let after = stored_logs(&db.store, chain.deployment.chain_id).await;
        assert_eq!(after.len(), before.len());
        assert_ne!(after.last(), before.last(), "the last event was replaced");
        match &after.last().unwrap().event {
            jejak_store::chain::ChainEvent::Platform { signer, .. } => assert_eq!(*signer, Some([0xee; 20])),
            other => panic!("unexpected {other:?}"),
        }
    }
}

on_both_databases! {
    async fn reorg_that_removes_an_event(backend) {
        init_logs();
        let chain = TestChain::start(32).await;
        let db = TestDb::new(backend).await;
        let mut ix = indexer(&chain, &db.store, |_| {});
        blocks_with_events(&chain, 3, 0x20).await;
        ix.sync_to_head().await.unwrap();
        let before = stored_logs(&db.store, chain.deployment.chain_id).await;
        reorg(&chain, 1, vec![]).await;
        ix.sync_to_head().await.unwrap();
        assert_matches_chain(&chain, &db).await;
        assert_eq!(stored_logs(&db.store, chain.deployment.chain_id).await.len(), before.len() - 1);
    }
}

on_both_databases! {
    async fn depth_sixty_reorg(backend) {
        init_logs();
        let chain = TestChain::start(32).await;
        let db = TestDb::new(backend).await;
        let mut ix = indexer(&chain, &db.store, |_| {});
        blocks_with_events(&chain, 70, 0x01).await;
        ix.sync_to_head().await.unwrap();
        assert_matches_chain(&chain, &db).await;
        let txs = (0..10u8).map(|i| (register_tx(&chain, 0xa0 + i), u64::from(i) * 6)).collect();
        reorg(&chain, 60, txs).await;
        ix.sync_to_head().await.unwrap();
        assert_matches_chain(&chain, &db).await;
        let mut c = db.store.conn().await.unwrap();
        let cursor = jejak_store::chain::cursor(&mut c, chain.deployment.chain_id as i64).await.unwrap().unwrap();
        assert_eq!(cursor.reorgs, 1);
        let depths = ix.status().reorg_depths();
        assert_eq!((depths.count, depths.sum), (1, 60), "sixty recorded blocks orphaned");
        let at_most = |bound| depths.buckets.iter().find(|(b, _)| *b == bound).unwrap().1;
        assert_eq!((at_most(32), at_most(64)), (0, 1), "in the 33 to 64 bucket");
    }
}

on_both_databases! {
    async fn reorg_deeper_than_the_window_halts(backend) {
        init_logs();
        let chain = TestChain::start(32).await;
        let db = TestDb::new(backend).await;
        let mut ix = indexer(&chain, &db.store, |c| c.reorg_window = 16);
        blocks_with_events(&chain, 30, 0x30).await;
        ix.sync_to_head().await.unwrap();
        let before = stored_logs(&db.store, chain.deployment.chain_id).await;
        reorg(&chain, 25, vec![(register_tx(&chain, 0xcc), 3)]).await;
        let err = ix.sync_to_head().await.unwrap_err();
        assert!(matches!(err, Error::ReorgTooDeep { window: 16, .. }), "{err}");
        assert!(err.to_string().contains("reorganisation deeper than the 16-block window"));
        // It stopped without touching what it had: no half-applied rollback.
        assert_eq!(stored_logs(&db.store, chain.deployment.chain_id).await, before);
        // And it refuses to go on, every time.
        assert!(matches!(ix.step().await, Err(Error::ReorgTooDeep { .. })));
    }
}

on_both_databases! {
    async fn reorg_while_the_indexer_was_stopped(backend) {
        init_logs();
        let chain = TestChain::start(32).await;
        let db = TestDb::new(backend).await;
        blocks_with_events(&chain, 10, 0x40).await;
        indexer(&chain, &db.store, |_| {}).sync_to_head().await.unwrap();
        // Two more blocks get indexed, then the indexer stops and the chain goes back to
        // before them (evm_revert) and grows another way, longer than before.
        let snap = chain.provider.anvil_snapshot().await.unwrap();
        blocks_with_events(&chain, 2, 0x50).await;
        indexer(&chain, &db.store, |_| {}).sync_to_head().await.unwrap();
        assert!(chain.provider.anvil_revert(snap).await.unwrap());
        blocks_with_events(&chain, 4, 0x60).await;
        // A new indexer on the same database notices at start.
        indexer(&chain, &db.store, |_| {}).sync_to_head().await.unwrap();
        assert_matches_chain(&chain, &db).await;
    }
}

on_both_databases! {
    async fn three_reorgs_in_quick_succession(backend) {
        init_logs();
        let chain = TestChain::start(32).await;
        let db = TestDb::new(backend).await;
        blocks_with_events(&chain, 12, 0x70).await;
        let ix = indexer(&chain, &db.store, |_| {});
        let token = tokio_util::sync::CancellationToken::new();
        let running = tokio::spawn(ix.run(token.clone()));
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        reorg(&chain, 3, vec![(register_tx(&chain, 0x81), 0)]).await;
        reorg(&chain, 2, vec![(register_tx(&chain, 0x82), 1)]).await;
        tokio::time::sleep(std::time::Duration::from_millis(120)).await;
        reorg(&chain, 5, vec![(register_tx(&chain, 0x83), 2), (register_tx(&chain, 0x84), 4)]).await;
        let head = chain.provider.get_block(alloy::eips::BlockId::latest()).await.unwrap().unwrap().header.hash;
        jejak_tests::TestNode::eventually(30, "the indexer to reach the new head", || {
            let store = db.store.clone();
            async move {
                let c = jejak_store::chain::cursor(&mut *store.conn().await.ok()?, 31337).await.ok()??;
                (c.block_hash == head.0).then_some(())
            }
        })
        .await;
        token.cancel();
        running.await.unwrap().unwrap();
        assert_matches_chain(&chain, &db).await;
    }
}
