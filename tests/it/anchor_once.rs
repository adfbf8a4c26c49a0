//! The same batch is never anchored twice. The sender records every transaction before its
//! broadcast and reconciles by hash and nonce before sending anything again: a broadcast whose
//! answer is lost after the node accepted it (a proxy forwards `eth_sendRawTransaction` and
//! drops the answer) is found by its hash, and a transaction stuck in the pool is replaced with
//! a higher fee under the same nonce and the configured cap, so at most one of them lands.

use std::sync::Arc;
use std::time::Duration;

use alloy::providers::Provider as _;
use alloy::providers::ext::AnvilApi as _;
use alloy::rpc::types::Filter;
use alloy::sol_types::SolEvent as _;
use jejak_anchor::{Batcher, BatcherConfig};
use jejak_api::auth::Role;
use jejak_chain::bindings::JejakAttestations;
use jejak_chain::{Sender, SenderConfig};
use jejak_node::anvil::DEV_KEYS;
use jejak_store::batches::{self, BatchStatus};
use jejak_store::sends::{self, SendStatus};
use jejak_store::test_utils::TestDb;
use jejak_tests::fault_proxy::{FaultProxy, Faults};
use jejak_tests::{TestChain, TestNode, init_logs, on_both_databases};
use serde_json::json;

/// How many times the chain anchored `root`.
async fn anchorings(chain: &TestChain, root: [u8; 32]) -> usize {
    let filter = Filter::new()
        .address(chain.deployment.attestations)
        .event_signature(JejakAttestations::BatchAnchored::SIGNATURE_HASH)
        .from_block(0);
    chain
        .provider
        .get_logs(&filter)
        .await
        .unwrap()
        .iter()
        .filter(|l| JejakAttestations::BatchAnchored::decode_log_data(l.data()).unwrap().root.0 == root)
        .count()
}

/// A node that accepts and indexes but does not anchor (no operator key), its indexer idle
/// after the first sync, so that only the chain can tell the test's batcher what it sent; and
/// that batcher, sending with `sender` settings, through a fault proxy when `faults` are given.
async fn setup(
    backend: jejak_tests::Backend,
    sender: SenderConfig,
    faults: Option<Faults>,
) -> (TestChain, TestNode, Batcher, Option<FaultProxy>) {
    let chain = TestChain::start(1).await;
    let p = chain.register_platform(chain.operator()).await;
    let node = TestNode::start_with(&chain, TestDb::new(backend).await, |cfg| {
        cfg.operator.private_key = None;
        cfg.indexer.poll_interval_ms = 600_000;
    })
    .await;
    node.wait_for_platform(p).await;
    let key = node.key(Role::Platform, Some(p)).await;
    let events: Vec<_> = (0..5)
        .map(|i| {
            json!({"type": "task_completed", "worker": format!("w{i}"), "occurred_at": "2026-01-01T00:00:00Z",
                        "data": {"task_id": format!("t{i}")}})
        })
        .collect();
    let (s, b) = node.post_events(&key, &json!({ "events": events }), None).await;
    assert_eq!(s, 202, "{b}");
    let proxy = match faults {
        Some(f) => Some(FaultProxy::start(&chain.anvil.endpoint(), f).await),
        None => None,
    };
    let url = proxy.as_ref().map_or_else(|| chain.anvil.endpoint(), |p| p.url.clone());
    let signer = jejak_chain::signer_from_hex(DEV_KEYS[0]).unwrap();
    let sender = Sender::new(jejak_chain::connect(&url).unwrap(), signer, node.db.store.clone(), sender).await.unwrap();
    let mut cfg = BatcherConfig::new(31337, chain.deployment.attestations);
    cfg.receipt_timeout = Duration::from_secs(1);
    let batcher = Batcher::new(cfg, node.db.store.clone(), node.node.blockstore.clone(), None, Arc::new(sender));
    (chain, node, batcher, proxy)
}

on_both_databases! {
    async fn a_lost_broadcast_answer_anchors_the_batch_once(backend) {
        init_logs();
        let faults = Faults { drop_send_answers: 100, ..Faults::none() };
        let (chain, node, batcher, proxy) = setup(backend, SenderConfig::default(), Some(faults)).await;
        for _ in 0..4 {
            batcher.round().await.unwrap();
        }
        let proxy = proxy.unwrap();
        assert!(proxy.counts.sends_dropped.load(std::sync::atomic::Ordering::Relaxed) >= 1, "an answer was dropped");
        let mut c = node.db.store.conn().await.unwrap();
        let anchored = batches::with_status(&mut c, BatchStatus::Anchored).await.unwrap();
        assert_eq!(anchored.len(), 1, "the batch is anchored, found by its hash");
        assert_eq!(anchorings(&chain, anchored[0].root).await, 1, "and anchored exactly once on chain");
        let sent = sends::all_for(&mut c, 31337, &format!("batch:{}", anchored[0].id)).await.unwrap();
        assert_eq!(sent.iter().map(|s| s.status).collect::<Vec<_>>(), vec![SendStatus::Mined], "one transaction, signed once");
        drop(c);
        node.node.stop().await.unwrap();
    }
}

on_both_databases! {
    async fn a_stuck_transaction_is_replaced_under_the_cap_and_lands_once(backend) {
        init_logs();
        let cap = 40_000_000_000u128; // 40 gwei
        let config = SenderConfig { max_fee_per_gas: Some(cap), replace_after: Duration::from_secs(1) };
        let (chain, node, batcher, _) = setup(backend, config, None).await;
        // Nothing is mined until the test says so: the first transaction stays pending.
        chain.provider.anvil_set_auto_mine(false).await.unwrap();
        batcher.round().await.unwrap();
        let id = {
            let mut c = node.db.store.conn().await.unwrap();
            batches::with_status(&mut c, BatchStatus::Submitted).await.unwrap()[0].id
        };
        let purpose = format!("batch:{id}");
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_millis(1100)).await;
            batcher.round().await.unwrap();
        }
        let sent = sends::all_for(&mut node.db.store.conn().await.unwrap(), 31337, &purpose).await.unwrap();
        assert!(sent.len() >= 3, "replaced while it stayed pending: {sent:?}");
        assert!(sent.iter().all(|s| s.nonce == sent[0].nonce), "one nonce for every replacement");
        assert!(sent.windows(2).all(|w| w[1].max_fee_per_gas > w[0].max_fee_per_gas), "each with a higher fee");
        assert!(sent.iter().all(|s| s.max_fee_per_gas as u128 <= cap), "never above the cap");

        chain.mine(1).await;
        chain.provider.anvil_set_auto_mine(true).await.unwrap();
        batcher.round().await.unwrap();
        let mut c = node.db.store.conn().await.unwrap();
        let anchored = batches::with_status(&mut c, BatchStatus::Anchored).await.unwrap();
        assert_eq!(anchored.iter().map(|b| b.id).collect::<Vec<_>>(), vec![id]);
        chain.mine(3).await;
        assert_eq!(anchorings(&chain, anchored[0].root).await, 1, "one of the transactions landed, once");
        let sent = sends::all_for(&mut c, 31337, &purpose).await.unwrap();
        assert_eq!(sent.iter().filter(|s| s.status == SendStatus::Mined).count(), 1);
        assert!(sent.iter().all(|s| s.status != SendStatus::Open), "the others can no longer land: {sent:?}");
        drop(c);
        node.node.stop().await.unwrap();
    }
}
