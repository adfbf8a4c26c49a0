//! The marketplace end to end: a gig posted, taken, delivered, accepted and reviewed both ways
//! through the node's API; its outcomes become attestations of the marketplace's own platform,
//! batched and anchored on anvil like any platform's, final with receipts.

use jejak_api::auth::Role;
use jejak_tests::reputation::commitment;
use jejak_tests::{TestChain, TestNode, init_logs};
use serde_json::{Value, json};

async fn market_outcomes_are_anchored(backend: jejak_tests::Backend) {
    init_logs();
    let chain = TestChain::start(1).await;
    let platform = chain.register_platform(chain.operator()).await;
    let db = jejak_store::test_utils::TestDb::new(backend).await;
    let node = TestNode::start_with(&chain, db, |c| c.market.platform_id = Some(platform as i64)).await;
    node.wait_for_platform(platform).await;
    let client = node.key(Role::Platform, Some(platform)).await;
    let admin = node.key(Role::Admin, None).await;
    let worker_id = commitment(11);
    let worker = node.worker_key(&worker_id).await;

    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let spec = json!({"title": "Fix a leaking tap", "category": "plumbing",
        "location": {"kind": "on_site", "lat": -6.2, "lon": 106.8, "radius_m": 5000},
        "pay": {"kind": "fixed", "budget_minor": 15_000_000}, "currency": "IDR", "deadline": now + 86_400});
    let (s, gig) = node.call("POST", "/v1/market/gigs", Some(&client), Some(&spec)).await;
    assert_eq!(s, 201, "{gig}");
    let gig = gig["id"].as_str().unwrap().to_owned();
    let act = |token: String, action: Value| {
        let (node, gig) = (&node, gig.clone());
        async move {
            let (s, v) =
                node.call("POST", &format!("/v1/market/gigs/{gig}/actions"), Some(&token), Some(&action)).await;
            assert_eq!(s, 200, "{action}: {v}");
            v
        }
    };
    act(worker.clone(), json!({"type": "take"})).await;
    act(worker.clone(), json!({"type": "deliver", "milestone": 0, "evidence_task": "tsk_tap"})).await;
    act(client.clone(), json!({"type": "accept_delivery", "milestone": 0})).await;
    act(client.clone(), json!({"type": "review", "rating": 5, "comment": "fixed in an hour"})).await;
    let v = act(worker.clone(), json!({"type": "review", "rating": 4})).await;
    assert!(v["contract"]["reviews"]["published_at"].is_i64(), "{v}");

    // Completion and review, each batched, anchored and final.
    let (s, list) = node.get(&admin, "/v1/attestations").await;
    assert_eq!(s, 200, "{list}");
    let ours: Vec<Value> =
        list["data"].as_array().unwrap().iter().filter(|a| a["platform_id"] == platform).cloned().collect();
    let kinds: Vec<&str> = ours.iter().map(|a| a["event_type"].as_str().unwrap_or_default()).collect();
    assert_eq!(kinds, ["task_completed", "review"], "{list}");
    for a in &ours {
        let id = a["id"].as_str().unwrap().to_owned();
        let receipt = TestNode::eventually(60, "a marketplace attestation to become final", || {
            let (node, chain, admin, id) = (&node, &chain, admin.clone(), id.clone());
            async move {
                let (_, r) = node.get(&admin, &format!("/v1/attestations/{id}")).await;
                if r["status"] == "final" {
                    return Some(r);
                }
                chain.mine(1).await;
                None
            }
        })
        .await;
        assert_eq!(receipt["event"]["worker"], worker_id.as_str());
        assert_eq!(receipt["anchor"]["finalized"], true);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn market_outcomes_are_anchored_sqlite() {
    market_outcomes_are_anchored(jejak_tests::Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn market_outcomes_are_anchored_postgres() {
    market_outcomes_are_anchored(jejak_tests::Backend::Postgres).await
}
