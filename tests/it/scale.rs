//! Several instances on one PostgreSQL database: each singleton job runs on the holder of its
//! lease, a standby takes over within the lease time when the holder dies (leaving its lease
//! behind, as a crash does), the work goes on with nothing lost and nothing anchored twice, and a
//! holder that lost its lease without knowing it (paused past it) has its writes refused.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::providers::Provider as _;
use alloy::rpc::types::Filter;
use alloy::sol_types::SolEvent as _;
use jejak_anchor::{Batcher, BatcherConfig};
use jejak_api::auth::Role;
use jejak_chain::Sender;
use jejak_chain::bindings::JejakAttestations;
use jejak_node::anvil::DEV_KEYS;
use jejak_node::config::Config;
use jejak_store::PoolSettings;
use jejak_store::batches::{self, BatchStatus};
use jejak_store::leases::Fence;
use jejak_store::test_utils::TestDb;
use jejak_tests::{TestChain, TestNode, canonical_logs, init_logs, stored_logs};
use serde_json::{Value, json};

const TTL_SECS: u64 = 2;
const RENEW_SECS: u64 = 1;

fn tune(id: &'static str) -> impl FnOnce(&mut Config) {
    move |cfg| {
        cfg.node.instance_id = Some(id.into());
        cfg.leases.ttl_secs = TTL_SECS;
        cfg.leases.renew_secs = RENEW_SECS;
    }
}

/// Every root the attestations contract anchored, in chain order.
async fn anchored_roots(chain: &TestChain) -> Vec<[u8; 32]> {
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
        .map(|l| JejakAttestations::BatchAnchored::decode_log_data(l.data()).unwrap().root.0)
        .collect()
}

fn events(from: usize, n: usize) -> Value {
    let events: Vec<_> = (from..from + n)
        .map(|i| {
            json!({"type": "task_completed", "worker": format!("w{i}"), "occurred_at": "2026-01-01T00:00:00Z",
                    "data": {"task_id": format!("scale-{i}")}})
        })
        .collect();
    json!({ "events": events })
}

/// Waits until every accepted event is in an anchored batch; returns the anchored batches.
async fn all_anchored(node: &TestNode, events: usize) -> Vec<batches::BatchRow> {
    let store = node.db.store.clone();
    TestNode::eventually(60, "every event to be anchored", || {
        let store = store.clone();
        async move {
            let mut c = store.conn().await.ok()?;
            let anchored = batches::with_status(&mut c, BatchStatus::Anchored).await.ok()?;
            let leaves: i64 = anchored.iter().map(|b| b.count).sum();
            (leaves as usize == events).then_some(anchored)
        }
    })
    .await
}

async fn ready_body(node: &TestNode) -> Value {
    node.http.get(format!("{}/readyz", node.api)).send().await.unwrap().json().await.unwrap()
}

fn holder_of<'a>(body: &'a Value, job: &str) -> Option<&'a Value> {
    body["leases"].as_array()?.iter().find(|l| l["job"] == job)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standby_takes_over_within_the_lease_time_and_nothing_is_lost_or_anchored_twice() {
    init_logs();
    let chain = TestChain::start(1).await;
    let platform = chain.register_platform(chain.operator()).await;
    let db = TestDb::postgres().await;
    let url = db.url.clone();
    let mut a = TestNode::start_with(&chain, db, tune("a")).await;
    // "a" started first: it takes every lease before "b" exists.
    for job in ["indexer", "anchor"] {
        let lease = a.node.lease(job).unwrap().clone();
        TestNode::eventually(10, "a to hold its leases", || {
            let lease = lease.clone();
            async move { lease.ready_token() }
        })
        .await;
    }
    let b = TestNode::start_with(&chain, TestDb::at(&url, PoolSettings::default()).await, tune("b")).await;
    a.wait_for_platform(platform).await;
    let key = a.key(Role::Platform, Some(platform)).await;

    // Any instance takes requests; one of them anchors.
    let (s, body) = b.post_events(&key, &events(0, 3), None).await;
    assert_eq!(s, 202, "{body}");
    let (s, body) = a.post_events(&key, &events(3, 2), None).await;
    assert_eq!(s, 202, "{body}");
    let first = all_anchored(&a, 5).await;
    for job in ["indexer", "anchor"] {
        assert!(a.node.lease(job).unwrap().ready_token().is_some(), "a runs {job}");
        assert!(b.node.lease(job).unwrap().fence.token().is_none(), "b stands by for {job}");
    }
    assert!(a.node.indexer_status.snapshot().events_indexed > 0, "a indexes");
    assert_eq!(b.node.indexer_status.snapshot().events_indexed, 0, "b does not");
    // Readiness per replica: its roles, each job's holder and age.
    let on_b = ready_body(&b).await;
    assert_eq!(on_b["instance"]["id"], "b");
    assert_eq!(on_b["instance"]["roles"].as_array().unwrap().len(), 6, "every role by default");
    let anchor = holder_of(&on_b, "anchor").expect("the anchor lease is reported");
    assert_eq!((anchor["holder"].as_str(), anchor["held_here"].as_bool()), (Some("a"), Some(false)));
    assert!(anchor["age_ms"].as_i64().unwrap() > 0);
    assert_eq!(holder_of(&ready_body(&a).await, "indexer").unwrap()["held_here"], true);
    let status: Value = b.http.get(format!("{}/v1/index/status", b.api)).send().await.unwrap().json().await.unwrap();
    assert_eq!(holder_of(&status, "indexer").unwrap()["holder"], "a", "{status}");

    // An instance without the api role serves the operations routes only, and stands by.
    let c = TestNode::start_with(&chain, TestDb::at(&url, PoolSettings::default()).await, |cfg| {
        tune("c")(cfg);
        cfg.node.roles = "indexer".parse().unwrap();
    })
    .await;
    let (s, _) = c.post_events(&key, &events(100, 1), None).await;
    assert_eq!(s, 404, "no public API without the api role");
    let on_c = ready_body(&c).await;
    assert_eq!(on_c["instance"]["roles"], json!(["indexer"]), "{on_c}");
    assert_eq!(on_c["checks"]["indexer"]["here"], false, "{on_c}");
    assert!(on_c["checks"]["indexer"]["cursor"].as_u64().unwrap() > 0, "the stored cursor stands in: {on_c}");
    assert!(c.node.lease("anchor").is_none() && c.node.lease("indexer").unwrap().fence.token().is_none());
    let TestNode { node: c_node, db: c_db, .. } = c;
    c_node.stop().await.unwrap();
    drop(c_db);

    // "a" dies with its leases: what it held in memory is what a paused "a" would write with.
    let a_token = a.node.lease("anchor").unwrap().fence.token().unwrap();
    let stale = Fence::new("anchor", "a");
    stale.begin_term(a_token, 0);
    a.node.keep_leases_at_stop();
    let died = Instant::now();
    let TestNode { node: a_node, db: a_db, .. } = a;
    a_node.stop().await.unwrap();
    for job in ["indexer", "anchor"] {
        let lease = b.node.lease(job).unwrap().clone();
        TestNode::eventually(20, "b to take the job over", || {
            let lease = lease.clone();
            async move { lease.ready_token() }
        })
        .await;
    }
    let failover = died.elapsed();
    let bound = Duration::from_secs(TTL_SECS + RENEW_SECS) + Duration::from_millis(1500);
    assert!(failover <= bound, "took over after {failover:?}, more than the lease time and a poll ({bound:?})");
    let b_token = b.node.lease("anchor").unwrap().fence.token().unwrap();
    assert!(b_token > a_token, "the fencing token rose with the holder");

    // More work while the paused "a" wakes up and tries to batch and send with its old term.
    let (s, body) = b.post_events(&key, &events(5, 4), None).await;
    assert_eq!(s, 202, "{body}");
    let fenced = b.db.store.fenced(stale.clone());
    let signer = jejak_chain::signer_from_hex(DEV_KEYS[0]).unwrap();
    let sender =
        Sender::new(jejak_chain::connect(&chain.anvil.endpoint()).unwrap(), signer, fenced.clone(), Default::default())
            .await
            .unwrap();
    let stale_batcher = Batcher::new(
        BatcherConfig::new(31337, chain.deployment.attestations),
        fenced,
        b.node.blockstore.clone(),
        None,
        Arc::new(sender),
    );
    match stale_batcher.round().await {
        Err(jejak_anchor::Error::Store(e)) => {
            assert!(e.is_fenced(), "{e}");
            assert!(e.to_string().contains(&format!("token {a_token}")), "{e}");
        }
        other => panic!("the stale leader's batcher was not refused: {other:?}"),
    }
    assert!(stale.refused() >= 1);

    let all = all_anchored(&b, 9).await;
    assert!(all.len() > first.len(), "b anchored the later events");
    // Nothing anchored twice, nothing lost: one root on chain per anchored batch.
    let roots = anchored_roots(&chain).await;
    let distinct: HashSet<_> = roots.iter().collect();
    assert_eq!(distinct.len(), roots.len(), "a root anchored twice");
    assert_eq!(roots.len(), all.len(), "every anchored batch once on chain, and only those");
    // The indexer went on where "a" stopped: every event on chain, b's anchoring included, is
    // recorded once, with no gap.
    chain.mine(4).await;
    let canonical = canonical_logs(&chain).await;
    let store = b.db.store.clone();
    let stored = TestNode::eventually(30, "b's indexer to record every event on chain", || {
        let (store, canonical) = (store.clone(), canonical.clone());
        async move {
            let stored = stored_logs(&store, 31337).await;
            (stored.len() >= canonical.len()).then_some(stored)
        }
    })
    .await;
    assert_eq!(stored, canonical, "no event missing or doubled");
    assert!(b.node.indexer_status.snapshot().events_indexed > 0, "b indexes now");
    b.node.stop().await.unwrap();
    // "a"'s handle owns the test database: it goes last.
    drop(a_db);
}
