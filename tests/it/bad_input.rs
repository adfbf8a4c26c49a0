//! Bad input to `POST /v1/events` gets a clear error with a stable code and stores nothing;
//! retries are recognised; unregistered and suspended platforms are refused.

use jejak_api::auth::Role;
use jejak_chain::bindings::JejakRegistry;
use jejak_tests::{Backend, TestChain, TestNode, init_logs};
use serde_json::{Value, json};

fn event(n: u32) -> Value {
    json!({
        "type": "task_completed",
        "worker": "courier-7",
        "occurred_at": "2026-11-01T10:00:00Z",
        "data": {"task_id": format!("job-{n}")}
    })
}

async fn stored(node: &TestNode) -> i64 {
    let pool = node.db.store.pool().clone();
    sqlx_count(&pool).await
}

async fn sqlx_count(pool: &sqlx::AnyPool) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM attestations").fetch_one(pool).await.unwrap()
}

async fn bad_input(backend: Backend) {
    init_logs();
    let chain = TestChain::start(32).await;
    let platform = chain.register_platform(chain.operator()).await;
    let node = TestNode::start(&chain, backend).await;
    let key = node.key(Role::Platform, Some(platform)).await;
    node.wait_for_platform(platform).await;
    let url = format!("{}/v1/events", node.api);

    // Malformed JSON: 400, nothing stored.
    let resp = node.http.post(&url).bearer_auth(&key).body("{\"events\": [").send().await.unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "malformed_json");

    // No key, a wrong key.
    let resp = node.http.post(&url).json(&json!({"events": [event(1)]})).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let resp = node
        .http
        .post(&url)
        .bearer_auth("jk_0000000000000000_nope")
        .json(&json!({"events": [event(1)]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.json::<Value>().await.unwrap()["error"]["code"], "unauthorized");

    // An unknown type among good events: 422, and none of the good ones stored either.
    let mut teleport = event(2);
    teleport["type"] = json!("teleported");
    let (s, b) = node.post_events(&key, &json!({"events": [event(1), teleport]}), None).await;
    assert_eq!((s, b["error"]["code"].as_str()), (422, Some("unknown_event_type")), "{b}");
    assert_eq!(b["error"]["details"]["errors"][0]["index"], 1);

    // Invalid fields.
    let mut bad = event(3);
    bad["data"]["earnings_minor"] = json!(-1);
    bad["data"]["currency"] = json!("IDR");
    let (s, b) = node.post_events(&key, &json!({"events": [bad]}), None).await;
    assert_eq!((s, b["error"]["code"].as_str()), (422, Some("invalid_event")), "{b}");
    let (s, b) = node.post_events(&key, &json!({"events": []}), None).await;
    assert_eq!((s, b["error"]["code"].as_str()), (422, Some("invalid_request")), "{b}");
    let many: Vec<Value> = (0..1001).map(event).collect();
    let (s, _) = node.post_events(&key, &json!({"events": many}), None).await;
    assert_eq!(s, 422);
    assert_eq!(stored(&node).await, 0, "nothing was stored by refused requests");

    // The same request twice under one Idempotency-Key: stored once, same answer.
    let body = json!({"events": [event(10), event(11)]});
    let (s1, b1) = node.post_events(&key, &body, Some("retry-me")).await;
    let (s2, b2) = node.post_events(&key, &body, Some("retry-me")).await;
    assert_eq!((s1, s2), (202, 202));
    assert_eq!(b1, b2);
    assert_eq!(stored(&node).await, 2);
    // Another body under the same key is refused.
    let (s, b) = node.post_events(&key, &json!({"events": [event(12)]}), Some("retry-me")).await;
    assert_eq!((s, b["error"]["code"].as_str()), (422, Some("idempotency_key_reused")));
    // Concurrent duplicates: one stored.
    let body = json!({"events": [event(20)]});
    let (a, b) = tokio::join!(node.post_events(&key, &body, Some("race")), node.post_events(&key, &body, Some("race")));
    assert_eq!((a.0, b.0), (202, 202), "{a:?} {b:?}");
    assert_eq!(a.1["accepted"][0]["id"], b.1["accepted"][0]["id"]);
    assert_eq!(stored(&node).await, 3);

    // A platform's event id is recognised on its second arrival.
    let mut with_id = event(30);
    with_id["event_id"] = json!("evt-30");
    let (_, first) = node.post_events(&key, &json!({"events": [with_id.clone()]}), None).await;
    let (s, again) = node.post_events(&key, &json!({"events": [with_id.clone()]}), None).await;
    assert_eq!(s, 202);
    assert_eq!(again["accepted"][0]["duplicate"], true);
    assert_eq!(again["accepted"][0]["id"], first["accepted"][0]["id"]);
    with_id["data"]["task_id"] = json!("job-other");
    let (s, b) = node.post_events(&key, &json!({"events": [with_id]}), None).await;
    assert_eq!((s, b["error"]["code"].as_str()), (409, Some("event_id_conflict")));
    assert_eq!(stored(&node).await, 4);

    // A key for a platform that is not registered.
    let ghost = node.key(Role::Platform, Some(99)).await;
    let (s, b) = node.post_events(&ghost, &json!({"events": [event(40)]}), None).await;
    assert_eq!((s, b["error"]["code"].as_str()), (403, Some("platform_not_registered")));
    // An auditor cannot send events.
    let auditor = node.key(Role::Auditor, None).await;
    let (s, _) = node.post_events(&auditor, &json!({"events": [event(41)]}), None).await;
    assert_eq!(s, 403);

    // Suspended on chain: refused once the node has seen it.
    let registry = JejakRegistry::new(chain.deployment.registry, &chain.provider);
    registry.suspendPlatform(platform, 7).send().await.unwrap().get_receipt().await.unwrap();
    let (store, chain_id) = (node.db.store.clone(), node.config.chain.chain_id as i64);
    TestNode::eventually(30, "the suspension to be indexed", || {
        let store = store.clone();
        async move {
            let p = jejak_store::chain::platform(&mut *store.conn().await.ok()?, chain_id, platform as i64)
                .await
                .ok()??;
            (!p.active).then_some(())
        }
    })
    .await;
    let (s, b) = node.post_events(&key, &json!({"events": [event(50)]}), None).await;
    assert_eq!((s, b["error"]["code"].as_str()), (403, Some("platform_suspended")), "{b}");
    assert_eq!(stored(&node).await, 4);
    node.node.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_sqlite() {
    bad_input(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_postgres() {
    bad_input(Backend::Postgres).await;
}
