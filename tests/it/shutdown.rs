//! SIGTERM (what systemd and Kubernetes send) stops `jejak node` as Ctrl-C does: it stops
//! accepting, drains the requests in flight, finishes the current commit, closes the database
//! and exits 0, saying so in its log; nothing it accepted is lost. The `[log]` section of the
//! configuration file takes effect (filter and format), without colour escapes in a pipe.

use std::process::Stdio;
use std::time::Duration;

use jejak_api::auth::{self, Role};
use jejak_chain::bindings::BatchEventEmitter;
use jejak_store::test_utils::TestDb;
use jejak_tests::api::free_port;
use jejak_tests::{
    TestChain, TestNode, canonical_logs_for, contracts_of, init_logs, jejak_bin, on_both_databases, stored_logs,
    write_node_config,
};
use serde_json::{Value, json};
use tokio::io::AsyncReadExt as _;

/// `jejak node` with the logs its configuration file asks for: no `RUST_LOG`, no `JEJAK_LOG__*`.
fn spawn(config: &std::path::Path) -> tokio::process::Child {
    tokio::process::Command::new(jejak_bin())
        .arg("node")
        .arg("--config")
        .arg(config)
        .env_remove("RUST_LOG")
        .env_remove("JEJAK_LOG__FILTER")
        .env_remove("JEJAK_LOG__FORMAT")
        .env_remove("JEJAK_OPERATOR__PRIVATE_KEY")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("jejak starts")
}

fn sigterm(child: &tokio::process::Child) {
    let pid = child.id().expect("still running").to_string();
    let status = std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(status.success());
}

/// Waits for the process to exit; returns its status and everything it logged.
async fn exit_of(mut child: tokio::process::Child) -> (std::process::ExitStatus, String) {
    let mut stderr = child.stderr.take().unwrap();
    let reading = tokio::spawn(async move {
        let mut out = String::new();
        let _ = stderr.read_to_string(&mut out).await;
        out
    });
    let status = tokio::time::timeout(Duration::from_secs(90), child.wait()).await.expect("the node exits").unwrap();
    (status, reading.await.unwrap())
}

/// Logs read as the file said: JSON lines, no colour escapes, only what the filter lets through.
fn check_log_lines(log: &str) -> Vec<Value> {
    assert!(!log.contains('\u{1b}'), "colour escapes in a pipe:\n{log}");
    let lines: Vec<Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON log line ({e}): {l}")))
        .collect();
    for l in &lines {
        let (level, target) = (l["level"].as_str().unwrap(), l["target"].as_str().unwrap());
        assert!(
            level != "INFO" || target == "jejak::node" || target == "jejak::api",
            "the filter in the file lets no other info line through: {l}"
        );
    }
    lines
}

fn said(lines: &[Value], message: &str) -> bool {
    lines.iter().any(|l| l["fields"]["message"].as_str().is_some_and(|m| m.contains(message)))
}

const LOG_SECTION: &str = "\n[log]\nformat = \"json\"\nfilter = \"warn,jejak::node=info,jejak::api=info\"\n";

on_both_databases! {
    async fn sigterm_during_a_backfill_exits_0_and_loses_nothing(backend) {
        init_logs();
        let chain = TestChain::start(1).await;
        let emitter = BatchEventEmitter::deploy(&chain.provider).await.unwrap();
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
        let text = std::fs::read_to_string(&config).unwrap();
        std::fs::write(&config, format!("{text}{LOG_SECTION}")).unwrap();

        let child = spawn(&config);
        TestNode::eventually(60, "the backfill to start", || {
            let store = db.store.clone();
            async move { (!stored_logs(&store, 31337).await.is_empty()).then_some(()) }
        })
        .await;
        sigterm(&child);
        let (status, log) = exit_of(child).await;
        assert_eq!(status.code(), Some(0), "SIGTERM is a clean stop:\n{log}");
        let lines = check_log_lines(&log);
        assert!(said(&lines, "shutting down"), "{log}");
        assert!(lines.iter().any(|l| l["fields"]["signal"] == "SIGTERM"), "{log}");
        assert!(said(&lines, "stopped cleanly"), "{log}");
        assert!(!said(&lines, "indexer started"), "an info line of jejak::indexer passed the file's filter: {log}");

        // What was committed is whole: the rows up to the cursor, nothing past it.
        let stored = stored_logs(&db.store, 31337).await;
        let cursor = jejak_store::chain::cursor(&mut db.store.conn().await.unwrap(), 31337).await.unwrap().unwrap();
        let upto: Vec<_> = canonical.iter().filter(|l| l.key.block_number <= cursor.block_number).cloned().collect();
        assert!(!stored.is_empty() && stored.len() < canonical.len(), "stopped mid-backfill: {} rows", stored.len());
        assert_eq!(stored, upto, "the rows up to the cursor and nothing else");

        // Restarted, it carries on to the end without a gap or a duplicate.
        let child = spawn(&config);
        let head = chain.head().await as i64;
        TestNode::eventually(120, "the restarted node to reach the head", || {
            let store = db.store.clone();
            async move {
                let c = jejak_store::chain::cursor(&mut *store.conn().await.ok()?, 31337).await.ok()??;
                (c.block_number >= head).then_some(())
            }
        })
        .await;
        sigterm(&child);
        let (status, _) = exit_of(child).await;
        assert_eq!(status.code(), Some(0));
        assert_eq!(stored_logs(&db.store, 31337).await, canonical);
    }
}

fn batch(tag: &str) -> Value {
    let events: Vec<Value> = (0..10)
        .map(|i| {
            json!({"type": "task_completed", "worker": format!("courier-{i}"), "occurred_at": "2026-01-01T00:00:00Z",
                   "event_id": format!("{tag}-e{i}"),
                   "data": {"task_id": format!("{tag}-t{i}"), "earnings_minor": 1000, "currency": "IDR"}})
        })
        .collect();
    json!({ "events": events })
}

on_both_databases! {
    async fn sigterm_under_request_load_exits_0_and_keeps_every_accepted_event(backend) {
        init_logs();
        let chain = TestChain::start(1).await;
        let platform = chain.register_platform(chain.operator()).await;
        let db = TestDb::new(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let config =
            write_node_config(dir.path(), &chain, &db.url, &format!("127.0.0.1:{port}"), chain.deployment.attestations, "");
        let text = std::fs::read_to_string(&config).unwrap();
        std::fs::write(&config, format!("{text}{LOG_SECTION}")).unwrap();
        let key = auth::new_key(Role::Platform, Some(platform as i64), None, "load", jejak_store::now_secs());
        let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
        let base = format!("http://127.0.0.1:{port}");

        let child = spawn(&config);
        TestNode::eventually(60, "the node to serve and know the platform", || {
            let (http, base, db, key) = (http.clone(), base.clone(), &db, &key);
            async move {
                let mut c = db.store.conn().await.ok()?;
                if jejak_store::keys::get(&mut c, &key.row.id).await.ok()?.is_none() {
                    jejak_store::keys::insert(&mut c, &key.row).await.ok()?;
                }
                let r = http.post(format!("{base}/v1/events")).bearer_auth(&key.token).json(&batch("probe")).send().await.ok()?;
                (r.status() == 202).then_some(())
            }
        })
        .await;

        // Eight clients sending as fast as they can; SIGTERM once a hundred requests are in.
        let sent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let clients: Vec<_> = (0..8)
            .map(|c| {
                let (http, base, token, sent) = (http.clone(), base.clone(), key.token.clone(), sent.clone());
                tokio::spawn(async move {
                    let (mut accepted, mut statuses) = (Vec::new(), Vec::new());
                    for r in 0.. {
                        let tag = format!("c{c}-r{r}");
                        let answer = http
                            .post(format!("{base}/v1/events"))
                            .bearer_auth(&token)
                            .header("idempotency-key", &tag)
                            .json(&batch(&tag))
                            .send()
                            .await;
                        sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        match answer {
                            Ok(resp) => {
                                let status = resp.status().as_u16();
                                statuses.push(status);
                                if status == 202 && let Ok(body) = resp.json::<Value>().await {
                                    accepted.extend(
                                        body["accepted"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap().to_owned()),
                                    );
                                }
                            }
                            // Refused or reset: the node stopped accepting.
                            Err(_) => break,
                        }
                    }
                    (accepted, statuses)
                })
            })
            .collect();
        while sent.load(std::sync::atomic::Ordering::Relaxed) < 100 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        sigterm(&child);
        let (status, log) = exit_of(child).await;
        let mut accepted = Vec::new();
        for c in clients {
            let (ids, statuses) = c.await.unwrap();
            assert!(statuses.iter().all(|s| *s == 202), "every answer given was a 202: {statuses:?}");
            accepted.extend(ids);
        }
        assert_eq!(status.code(), Some(0), "SIGTERM is a clean stop:\n{log}");
        let lines = check_log_lines(&log);
        assert!(said(&lines, "draining requests in flight"), "{log}");
        assert!(said(&lines, "every request in flight was answered"), "{log}");
        assert!(said(&lines, "stopped cleanly"), "{log}");
        assert!(accepted.len() >= 100, "{} events accepted", accepted.len());

        // Every event answered 202 is there.
        let mut c = db.store.conn().await.unwrap();
        for id in &accepted {
            assert!(
                jejak_store::attestations::get(&mut c, id).await.unwrap().is_some(),
                "attestation {id} was answered 202 and is missing"
            );
        }
    }
}
