//! Accepted means durable: the `jejak` process is killed with SIGKILL the moment it answers 202,
//! with more requests in flight, and after a restart every event it answered 202 for is there.

use std::process::Stdio;
use std::time::Duration;

use jejak_api::auth::{self, Role};
use jejak_store::test_utils::TestDb;
use jejak_tests::api::free_port;
use jejak_tests::{TestChain, TestNode, init_logs, on_both_databases, spawn_node, write_node_config};
use serde_json::{Value, json};

fn batch(round: usize, request: usize) -> Value {
    let events: Vec<Value> = (0..20)
        .map(|i| {
            json!({"type": "task_completed", "worker": format!("courier-{i}"), "occurred_at": "2026-01-01T00:00:00Z",
                   "event_id": format!("r{round}-q{request}-e{i}"),
                   "data": {"task_id": format!("r{round}-q{request}-t{i}"), "earnings_minor": 1000, "currency": "IDR"}})
        })
        .collect();
    json!({ "events": events })
}

on_both_databases! {
    async fn sigkill_right_after_202_loses_no_accepted_event(backend) {
        init_logs();
        let chain = TestChain::start(1).await;
        let platform = chain.register_platform(chain.operator()).await;
        let db = TestDb::new(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let config =
            write_node_config(dir.path(), &chain, &db.url, &format!("127.0.0.1:{port}"), chain.deployment.attestations, "");
        let key = auth::new_key(Role::Platform, Some(platform as i64), None, "crash", jejak_store::now_secs());
        let token = key.token.clone();
        let http = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
        let base = format!("http://127.0.0.1:{port}");

        let mut accepted: Vec<String> = Vec::new();
        let mut kills_after_202 = 0;
        for round in 0..4 {
            let mut child = spawn_node(&config, "warn", Stdio::null());
            // The node is up and has indexed the platform: a request is accepted.
            let probe = TestNode::eventually(60, "the node to serve and know the platform", || {
                let (http, base, db, key) = (http.clone(), base.clone(), &db, &key);
                async move {
                    // The key goes in once the node has run the migrations.
                    let mut c = db.store.conn().await.ok()?;
                    if jejak_store::keys::get(&mut c, &key.row.id).await.ok()?.is_none() {
                        jejak_store::keys::insert(&mut c, &key.row).await.ok()?;
                    }
                    let r = http
                        .post(format!("{base}/v1/events"))
                        .bearer_auth(&key.token)
                        .header("idempotency-key", format!("probe-{round}"))
                        .json(&batch(round, 99))
                        .send()
                        .await
                        .ok()?;
                    if r.status() != 202 {
                        return None;
                    }
                    r.json::<Value>().await.ok()
                }
            })
            .await;
            accepted.extend(probe["accepted"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap().to_owned()));
            // Eight requests in flight; the first 202 kills the process.
            let mut pending: futures::stream::FuturesUnordered<_> = (0..8)
                .map(|q| {
                    let (http, base, token) = (http.clone(), base.clone(), token.clone());
                    async move {
                        let r = http
                            .post(format!("{base}/v1/events"))
                            .bearer_auth(&token)
                            .header("idempotency-key", format!("r{round}-q{q}"))
                            .json(&batch(round, q))
                            .send()
                            .await;
                        match r {
                            Ok(r) if r.status() == 202 => r.json::<Value>().await.ok(),
                            _ => None,
                        }
                    }
                })
                .collect();
            use futures::StreamExt as _;
            let mut killed = false;
            while let Some(answer) = pending.next().await {
                if let Some(body) = answer {
                    if !killed {
                        child.start_kill().unwrap(); // SIGKILL, right after the 202
                        killed = true;
                        kills_after_202 += 1;
                    }
                    accepted.extend(body["accepted"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap().to_owned()));
                }
            }
            if !killed {
                child.start_kill().unwrap();
            }
            child.wait().await.unwrap();
        }
        assert!(kills_after_202 >= 3, "the process was killed right after a 202 in most rounds");
        assert!(!accepted.is_empty());

        // Restarted, every event answered 202 is there.
        let mut child = spawn_node(&config, "warn", Stdio::null());
        TestNode::eventually(60, "the restarted node to serve", || {
            let (http, base, token) = (http.clone(), base.clone(), token.clone());
            async move {
                let r = http.get(format!("{base}/healthz")).bearer_auth(&token).send().await.ok()?;
                (r.status() == 200).then_some(())
            }
        })
        .await;
        for id in &accepted {
            // Reading every id back may outrun the key's rate limit: a 429 is waited out, not a loss.
            let mut r = http.get(format!("{base}/v1/attestations/{id}")).bearer_auth(&token).send().await.unwrap();
            for _ in 0..50 {
                if r.status() != 429 {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                r = http.get(format!("{base}/v1/attestations/{id}")).bearer_auth(&token).send().await.unwrap();
            }
            assert_eq!(r.status(), 200, "attestation {id} answered 202 before the kill is missing after the restart");
        }
        child.start_kill().unwrap();
        child.wait().await.unwrap();
    }
}
