//! Platform events: concurrent duplicates under one Idempotency-Key store the events once and
//! answer alike; signed webhooks are accepted inside the five-minute window only, with the
//! platform's own secret, over the exact body.

use jejak_api::auth::Role;
use jejak_api::services::webhooks::sign;
use jejak_tests::{TestChain, TestNode, init_logs, on_both_databases};
use serde_json::{Value, json};

fn events(n: usize, tag: &str) -> Value {
    let list: Vec<Value> = (0..n)
        .map(|i| {
            json!({"type": "task_completed", "worker": format!("courier-{i}"), "occurred_at": "2026-01-01T00:00:00Z",
                   "event_id": format!("{tag}-{i}"), "data": {"task_id": format!("{tag}-t{i}"), "earnings_minor": 1000, "currency": "IDR"}})
        })
        .collect();
    json!({ "events": list })
}

on_both_databases! {
    async fn concurrent_duplicates_are_stored_once(backend) {
        init_logs();
        let chain = TestChain::start(1).await;
        let p = chain.register_platform(chain.operator()).await;
        let node = TestNode::start(&chain, backend).await;
        node.wait_for_platform(p).await;
        let key = node.key(Role::Platform, Some(p)).await;
        let body = events(50, "dup");
        // Sixteen copies of one request at once, under one key.
        let answers = futures::future::join_all((0..16).map(|_| node.post_events(&key, &body, Some("batch-0001")))).await;
        let first = &answers[0].1;
        for (status, answer) in &answers {
            assert_eq!(*status, 202, "{answer}");
            assert_eq!(answer, first, "every copy gets the first answer");
        }
        let ids: Vec<&str> = first["accepted"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), 50);
        // The same events under other keys, concurrently: recognised by event_id, not stored again.
        let again = futures::future::join_all((0..8).map(|i| {
            let k = format!("other-{i}");
            let (node, key, body) = (&node, &key, &body);
            async move { node.post_events(key, body, Some(&k)).await }
        }))
        .await;
        for (status, answer) in &again {
            assert!(*status == 202 || *status == 409, "{status} {answer}");
            if *status == 202 {
                let same: Vec<&str> = answer["accepted"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
                assert_eq!(same, ids);
            } else {
                assert_eq!(answer["error"]["code"], "request_in_progress");
            }
        }
        let stored = jejak_store::attestations::page(&mut node.db.store.conn().await.unwrap(), Some(p as i64), 0, 1000)
            .await
            .unwrap();
        assert_eq!(stored.len(), 50, "each event stored exactly once");
        // The key with another body is refused.
        let (s, b) = node.post_events(&key, &events(1, "else"), Some("batch-0001")).await;
        assert_eq!((s, b["error"]["code"].as_str()), (422, Some("idempotency_key_reused")));
        node.node.stop().await.unwrap();
    }
}

on_both_databases! {
    async fn signed_webhooks_inside_the_replay_window_only(backend) {
        init_logs();
        let chain = TestChain::start(1).await;
        let p = chain.register_platform(chain.operator()).await;
        let q = chain.register_platform(alloy::primitives::Address::repeat_byte(3)).await;
        let node = TestNode::start(&chain, backend).await;
        node.wait_for_platform(q).await;
        let key = node.key(Role::Platform, Some(p)).await;
        let (s, b) = node.call("POST", &format!("/v1/platforms/{p}/webhook-secret"), Some(&key), None).await;
        assert_eq!(s, 201, "{b}");
        let secret = b["secret"].as_str().unwrap().to_owned();
        let other_key = node.key(Role::Platform, Some(q)).await;
        let (_, b) = node.call("POST", &format!("/v1/platforms/{q}/webhook-secret"), Some(&other_key), None).await;
        let other_secret = b["secret"].as_str().unwrap().to_owned();

        let send = |platform: u64, signature: String, body: Vec<u8>, idem: Option<&'static str>| {
            let mut req = node
                .http
                .post(format!("{}/v1/webhooks/events", node.api))
                .header("content-type", "application/json")
                .header("jejak-platform", platform.to_string())
                .header("jejak-signature", signature)
                .body(body);
            if let Some(k) = idem {
                req = req.header("idempotency-key", k);
            }
            async move {
                let r = req.send().await.unwrap();
                let replayed = r.headers().contains_key("idempotent-replayed");
                (r.status().as_u16(), r.json::<Value>().await.unwrap_or(Value::Null), replayed)
            }
        };
        let body = serde_json::to_vec(&events(3, "hook")).unwrap();
        let now = jejak_store::now_secs();

        // Inside the window, at both edges.
        let (s, b, _) = send(p, sign(secret.as_bytes(), now, &body), body.clone(), Some("hook-1")).await;
        assert_eq!(s, 202, "{b}");
        assert_eq!(b["platform_id"], p);
        let (s, _, replayed) = send(p, sign(secret.as_bytes(), now, &body), body.clone(), Some("hook-1")).await;
        assert!(s == 202 && replayed, "a repeated delivery gets the first answer");
        let body2 = serde_json::to_vec(&events(1, "edge")).unwrap();
        let edge = sign(secret.as_bytes(), now - 290, &body2);
        let (s, b, replayed) = send(p, edge.clone(), body2.clone(), None).await;
        assert!(s == 202 && !replayed, "{b}");
        // The same signed request captured and sent again inside the window: first answer, nothing stored.
        let (s, again, replayed) = send(p, edge, body2.clone(), None).await;
        assert!(s == 202 && replayed, "{again}");
        assert_eq!(again, b);

        // Outside the window, either side.
        for t in [now - 301 - 5, now + 301 + 5] {
            let (s, b, _) = send(p, sign(secret.as_bytes(), t, &body2), body2.clone(), None).await;
            assert_eq!((s, b["error"]["code"].as_str()), (401, Some("invalid_signature")), "t = now {:+}", t - now);
        }
        // Another body, another platform's secret, another platform's id, no signature, garbage.
        let tampered = serde_json::to_vec(&events(2, "hook")).unwrap();
        let cases = [
            (p, sign(secret.as_bytes(), now, &body), tampered),
            (p, sign(other_secret.as_bytes(), now, &body), body.clone()),
            (q, sign(secret.as_bytes(), now, &body), body.clone()),
            (p, String::new(), body.clone()),
            (p, "t=abc,v1=zz".into(), body.clone()),
            (p, format!("t={now},v1={}", "00".repeat(32)), body.clone()),
        ];
        for (i, (platform, sig, b)) in cases.into_iter().enumerate() {
            let (s, answer, _) = send(platform, sig, b, None).await;
            assert_eq!((s, answer["error"]["code"].as_str()), (401, Some("invalid_signature")), "case {i}: {answer}");
        }
        let stored = jejak_store::attestations::page(&mut node.db.store.conn().await.unwrap(), None, 0, 1000).await.unwrap();
        assert_eq!(stored.len(), 4, "3 + 1 accepted events, nothing from refused requests");
        node.node.stop().await.unwrap();
    }
}
