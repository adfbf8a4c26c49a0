//! One supervision policy for every background task: database errors injected under a running
//! node (its PostgreSQL server restarted, its pool saturated) leave it serving and catching up,
//! every task retrying with backoff and counting its failures; a fatal error (a store whose
//! schema is gone) stops the `jejak` process with a non-zero status and a clear log line.

use std::process::Stdio;
use std::time::Duration;

use jejak_api::auth::Role;
use jejak_store::PoolSettings;
use jejak_store::test_utils::TestDb;
use jejak_tests::private_pg::PrivatePostgres;
use jejak_tests::{TestChain, TestNode, init_logs, on_both_databases, spawn_node, write_node_config};
use serde_json::{Value, json};

fn events(tag: &str, n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            json!({"type": "task_completed", "worker": format!("courier-{i}"), "occurred_at": "2026-01-01T00:00:00Z",
                   "event_id": format!("{tag}-{i}"), "data": {"task_id": format!("{tag}-t{i}"), "earnings_minor": 1000, "currency": "IDR"}})
        })
        .collect()
}

/// Every task's failure count from `/metrics`.
async fn task_failures(node: &TestNode) -> Vec<(String, u64)> {
    let text = node.http.get(format!("{}/metrics", node.api)).send().await.unwrap().text().await.unwrap();
    text.lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("jejak_task_failures_total{task=\"")?;
            let (task, value) = rest.split_once("\"} ")?;
            Some((task.to_owned(), value.trim().parse().ok()?))
        })
        .collect()
}

/// Accepted events, anchored and final after the trouble; a webhook subscription proves the
/// webhook worker is alive too.
async fn serves_and_catches_up(node: &TestNode, chain: &TestChain, key: &str, tag: &str) {
    let ids = TestNode::eventually(60, "the node to accept events again", || async {
        let (s, b) = node.post_events(key, &json!({ "events": events(tag, 5) }), Some(tag)).await;
        (s == 202).then(|| {
            b["accepted"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
        })
    })
    .await;
    node.wait_final(chain, &ids).await;
}

/// The node's PostgreSQL server goes down (every connection dropped at once) for a few seconds
/// and comes back: no task stops, the failures are counted, events sent afterwards are anchored
/// and indexed as final.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_restart_leaves_the_node_serving_and_catching_up() {
    init_logs();
    let pg = tokio::task::spawn_blocking(PrivatePostgres::start).await.unwrap();
    let chain = TestChain::start(1).await;
    let p = chain.register_platform(chain.operator()).await;
    // A task waits a second for a connection, then fails (and retries).
    let pool = PoolSettings { max_connections: None, acquire_timeout: Duration::from_secs(1) };
    let node = TestNode::start_with(&chain, TestDb::at(&pg.url, pool).await, |cfg| {
        cfg.webhooks.poll_interval_ms = 50;
    })
    .await;
    node.wait_for_platform(p).await;
    let key = node.key(Role::Platform, Some(p)).await;
    serves_and_catches_up(&node, &chain, &key, "before").await;

    let pg = tokio::task::spawn_blocking(move || {
        pg.stop();
        pg
    })
    .await
    .unwrap();
    // Down: the API still answers (liveness does not need the database), the tasks fail.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let health = node.http.get(format!("{}/healthz", node.api)).send().await.unwrap();
    assert_eq!(health.status(), 200);
    chain.mine(3).await;
    let pg = tokio::task::spawn_blocking(move || {
        pg.start_again();
        pg
    })
    .await
    .unwrap();

    serves_and_catches_up(&node, &chain, &key, "after").await;
    let failures = task_failures(&node).await;
    for task in ["indexer", "webhooks"] {
        assert!(
            failures.iter().any(|(t, n)| t == task && *n > 0),
            "{task} saw the restart as transient failures: {failures:?}"
        );
    }
    node.node.stop().await.expect("every task was still running and stops cleanly");
    drop(pg);
}

on_both_databases! {
    /// Every pooled connection held by someone else for longer than a task waits for one: each
    /// task fails (transiently) and retries; once they are free the node carries on.
    async fn a_saturated_pool_leaves_the_node_serving_and_catching_up(backend) {
        init_logs();
        let chain = TestChain::start(1).await;
        let p = chain.register_platform(chain.operator()).await;
        let pool = PoolSettings { max_connections: Some(3), acquire_timeout: Duration::from_millis(500) };
        let node = TestNode::start_with(&chain, TestDb::with_pool(backend, pool).await, |cfg| {
            cfg.webhooks.poll_interval_ms = 50;
        })
        .await;
        node.wait_for_platform(p).await;
        let key = node.key(Role::Platform, Some(p)).await;
        serves_and_catches_up(&node, &chain, &key, "before").await;

        // Take every connection of the node's pool, and keep them for a while.
        let mut held = Vec::new();
        while held.len() < 3 {
            if let Ok(c) = node.db.store.conn().await {
                held.push(c);
            }
        }
        chain.mine(2).await;
        tokio::time::sleep(Duration::from_secs(4)).await;
        let during = task_failures(&node).await;
        drop(held);

        serves_and_catches_up(&node, &chain, &key, "after").await;
        assert!(
            during.iter().filter(|(_, n)| *n > 0).count() >= 2,
            "the tasks met the saturated pool as transient failures: {during:?}"
        );
        node.node.stop().await.expect("every task was still running and stops cleanly");
    }
}

on_both_databases! {
    /// A store whose schema is gone cannot be worked on: the process stops with a failure and a
    /// log line naming the task and the error, instead of retrying for ever.
    async fn a_fatal_store_error_stops_the_process_with_a_clear_error(backend) {
        init_logs();
        let chain = TestChain::start(1).await;
        let db = TestDb::new(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let config = write_node_config(dir.path(), &chain, &db.url, "127.0.0.1:0", chain.deployment.attestations, "");
        let mut child = spawn_node(&config, "info", Stdio::piped());
        TestNode::eventually(60, "the node to index", || {
            let store = db.store.clone();
            async move { jejak_store::chain::cursor(&mut *store.conn().await.ok()?, 31337).await.ok()?.map(|_| ()) }
        })
        .await;
        sqlx::query("DROP TABLE indexer_cursor").execute(db.store.pool()).await.unwrap();
        chain.mine(2).await;
        let status = tokio::time::timeout(Duration::from_secs(60), child.wait()).await.expect("the node exits").unwrap();
        assert!(!status.success(), "a fatal store error must end the process with a failure");
        let mut stderr = String::new();
        use tokio::io::AsyncReadExt as _;
        child.stderr.take().unwrap().read_to_string(&mut stderr).await.unwrap();
        assert!(stderr.contains("fatal error: the task stops and the node with it"), "{stderr}");
        assert!(stderr.contains("indexer_cursor"), "the log names what is wrong: {stderr}");
        assert!(stderr.contains("failed; stopping the node"), "{stderr}");
    }
}
