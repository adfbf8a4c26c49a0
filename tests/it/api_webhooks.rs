//! Outgoing webhooks against a receiver that fails, then recovers: the finalized batch is
//! delivered at least once, signed, with one event id across retries; a receiver that stays
//! down puts the delivery on the dead-letter list, and a replay delivers it with the same id.

use jejak_api::auth::Role;
use jejak_tests::api::Receiver;
use jejak_tests::{TestChain, TestNode, init_logs, on_both_databases};
use serde_json::{Value, json};

on_both_databases! {
    async fn deliveries_retry_until_the_receiver_recovers_and_dead_letters_replay(backend) {
        init_logs();
        let chain = TestChain::start(1).await;
        let p = chain.register_platform(chain.operator()).await;
        let db = jejak_store::test_utils::TestDb::new(backend).await;
        let node = TestNode::start_with(&chain, db, |c| {
            c.webhooks.backoff_base_ms = 100;
            c.webhooks.backoff_cap_secs = 1;
            c.webhooks.max_attempts = 5;
            c.webhooks.poll_interval_ms = 50;
        })
        .await;
        node.wait_for_platform(p).await;
        let key = node.key(Role::Platform, Some(p)).await;
        let flaky = Receiver::start(3).await;
        let down = Receiver::start(0).await;
        down.down.store(1, std::sync::atomic::Ordering::SeqCst);
        let mut secrets = Vec::new();
        for r in [&flaky, &down] {
            let (s, b) = node
                .call("POST", "/v1/webhooks/subscriptions", Some(&key), Some(&json!({"url": r.url, "events": ["batch.finalized"]})))
                .await;
            assert_eq!(s, 201, "{b}");
            secrets.push(b["secret"].as_str().unwrap().to_owned());
        }

        let ids = node
            .send(&key, vec![json!({"type": "task_completed", "worker": "courier-1", "occurred_at": "2026-01-01T00:00:00Z",
                "data": {"task_id": "w1", "earnings_minor": 1000, "currency": "IDR"}})])
            .await;
        node.wait_final(&chain, &ids).await;

        // The flaky receiver: three 500s, then a 200, all for one event id, each signed.
        let seen = TestNode::eventually(60, "the delivery to get through", || {
            let flaky = flaky.clone();
            async move {
                let seen = flaky.received().await;
                seen.iter().any(|r| r.answered == 200).then_some(seen)
            }
        })
        .await;
        assert_eq!(seen.iter().map(|r| r.answered).collect::<Vec<_>>(), vec![500, 500, 500, 200]);
        let event_id = &seen[0].event_id;
        assert!(event_id.starts_with("evt_"));
        for r in &seen {
            assert_eq!(&r.event_id, event_id, "one event id across retries");
            jejak_api::services::webhooks::verify(secrets[0].as_bytes(), &r.signature, r.body.as_bytes(), jejak_store::now_secs())
                .expect("each delivery is signed with the subscription's secret");
            let body: Value = serde_json::from_str(&r.body).unwrap();
            assert_eq!(body["type"], "batch.finalized");
            assert_eq!(body["id"], *event_id);
            assert_eq!(body["platform_id"], p);
        }

        // The receiver that stays down: five attempts, then the dead-letter list.
        let dead = TestNode::eventually(60, "the delivery to go dead", || {
            let (node, key) = (&node, key.clone());
            async move {
                let (s, b) = node.get(&key, "/v1/webhooks/deliveries?status=dead").await;
                assert_eq!(s, 200, "{b}");
                b["data"].as_array().unwrap().first().cloned()
            }
        })
        .await;
        assert_eq!(dead["attempts"], 5);
        assert_eq!(dead["event_id"], *event_id, "both subscriptions hear of the same event");
        assert_eq!(down.received().await.len(), 5);
        // Recovered, replayed, delivered with the same event id.
        down.down.store(0, std::sync::atomic::Ordering::SeqCst);
        let (s, b) = node.call("POST", &format!("/v1/webhooks/deliveries/{}/replay", dead["id"].as_str().unwrap()), Some(&key), None).await;
        assert_eq!(s, 200, "{b}");
        let got = TestNode::eventually(30, "the replayed delivery", || {
            let down = down.clone();
            async move { down.received().await.into_iter().find(|r| r.answered == 200) }
        })
        .await;
        assert_eq!(&got.event_id, event_id);
        // The receiver saw the request before the node recorded its answer.
        TestNode::eventually(30, "both deliveries recorded as delivered", || {
            let (node, key) = (&node, key.clone());
            async move {
                let (_, b) = node.get(&key, "/v1/webhooks/deliveries?status=delivered").await;
                (b["data"].as_array().unwrap().len() == 2).then_some(())
            }
        })
        .await;
        let (s, b) = node.call("POST", &format!("/v1/webhooks/deliveries/{}/replay", dead["id"].as_str().unwrap()), Some(&key), None).await;
        assert_eq!((s, b["error"]["code"].as_str()), (409, Some("delivery_not_dead")));
        let metrics = node.http.get(format!("{}/metrics", node.api)).send().await.unwrap().text().await.unwrap();
        assert!(metrics.contains("jejak_webhook_deliveries{status=\"delivered\"} 2"), "{metrics}");
        node.node.stop().await.unwrap();
    }
}
