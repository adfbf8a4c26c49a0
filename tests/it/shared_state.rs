//! What API replicas on one PostgreSQL database share: a key revoked through one replica (or the
//! CLI) is refused by every replica within a second, a lost key-change listener clears the
//! cache, and a key's rate limit holds across replicas rather than per replica.

use std::time::{Duration, Instant};

use jejak_api::auth::Role;
use jejak_node::config::Config;
use jejak_store::PoolSettings;
use jejak_store::test_utils::TestDb;
use jejak_tests::{TestChain, TestNode, init_logs};

/// Cached keys are trusted for a minute: only a notification makes a replica forget one sooner.
fn replica(id: &'static str, tune: impl FnOnce(&mut Config)) -> impl FnOnce(&mut Config) {
    move |cfg| {
        cfg.node.instance_id = Some(id.into());
        cfg.api.key_cache_ttl_ms = 60_000;
        tune(cfg);
    }
}

async fn two_replicas(tune: fn(&mut Config)) -> (TestChain, TestNode, TestNode) {
    let chain = TestChain::start(1).await;
    let db = TestDb::postgres().await;
    let url = db.url.clone();
    let a = TestNode::start_with(&chain, db, replica("a", tune)).await;
    let b = TestNode::start_with(&chain, TestDb::at(&url, PoolSettings::default()).await, replica("b", tune)).await;
    (chain, a, b)
}

fn key_id(token: &str) -> &str {
    &token[3..19]
}

/// Polls `GET /v1/keys` with `token` every 50 ms until it is refused; fails after one second.
async fn refused_within_a_second(node: &TestNode, token: &str, what: &str) -> Duration {
    let start = Instant::now();
    loop {
        let (s, body) = node.get(token, "/v1/keys").await;
        if s == 401 {
            assert_eq!(body["error"]["code"], "unauthorized", "{body}");
            return start.elapsed();
        }
        assert_eq!(s, 200, "{body}");
        assert!(start.elapsed() < Duration::from_secs(1), "{what}: still accepted after one second");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_revoked_anywhere_is_refused_by_every_replica_within_a_second() {
    init_logs();
    let (_chain, a, b) = two_replicas(|_| {}).await;
    let admin = a.key(Role::Admin, None).await;
    let (victim, by_cli) = (a.key(Role::Admin, None).await, a.key(Role::Admin, None).await);
    // Both replicas hold both keys in their caches.
    for node in [&a, &b] {
        for token in [&admin, &victim, &by_cli] {
            assert_eq!(node.get(token, "/v1/keys").await.0, 200);
        }
    }

    // Revoked through replica a.
    let url = format!("{}/v1/keys/{}/revoke", a.api, key_id(&victim));
    let resp = a.http.post(url).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    refused_within_a_second(&b, &victim, "the key revoked through a, on b").await;
    assert_eq!(a.get(&victim, "/v1/keys").await.0, 401, "a refuses it at once");

    // Revoked in the database as the CLI does, through neither replica.
    let mut c = a.db.store.conn().await.unwrap();
    assert!(jejak_store::keys::revoke(&mut c, key_id(&by_cli), 1).await.unwrap());
    refused_within_a_second(&a, &by_cli, "the key revoked by the CLI, on a").await;
    refused_within_a_second(&b, &by_cli, "the key revoked by the CLI, on b").await;
    assert_eq!(b.get(&admin, "/v1/keys").await.0, 200, "other keys still work");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_key_listener_clears_the_cache_and_listens_again() {
    init_logs();
    let (_chain, a, b) = two_replicas(|_| {}).await;
    let key = a.key(Role::Admin, None).await;
    assert_eq!(b.get(&key, "/v1/keys").await.0, 200, "b caches the key");
    // Revoked without a notification (a change the listener could not hear while it was
    // disconnected), then every listening connection dies.
    sqlx::query("UPDATE api_keys SET revoked_at = 1 WHERE id = $1")
        .bind(key_id(&key))
        .execute(a.db.store.pool())
        .await
        .unwrap();
    assert_eq!(b.get(&key, "/v1/keys").await.0, 200, "the change was not heard: b trusts its cache");
    let killed = sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()",
    )
    .fetch_all(a.db.store.pool())
    .await
    .unwrap();
    assert!(!killed.is_empty(), "the replicas' listeners were found");
    refused_within_a_second(&b, &key, "the key after the listener was lost, on b").await;

    // Listening again: the next revocation is heard.
    let other = a.key(Role::Admin, None).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let listening: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'",
        )
        .fetch_one(a.db.store.pool())
        .await
        .unwrap();
        if listening >= 2 {
            break;
        }
        assert!(Instant::now() < deadline, "the replicas listen again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(b.get(&other, "/v1/keys").await.0, 200);
    let mut c = a.db.store.conn().await.unwrap();
    assert!(jejak_store::keys::revoke(&mut c, key_id(&other), 1).await.unwrap());
    refused_within_a_second(&b, &other, "a key revoked after the listener came back, on b").await;
}

const RATE: f64 = 10.0;
const SECS: f64 = 3.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keys_rate_limit_holds_across_replicas() {
    init_logs();
    let (_chain, a, b) = two_replicas(|cfg| {
        cfg.api.rate_limit_per_sec = RATE;
        cfg.api.rate_limit_burst = RATE;
    })
    .await;
    let key = a.key(Role::Admin, None).await;
    // One client per replica, each asking as fast as it is answered for SECS seconds: each
    // replica's own bucket alone would admit burst + RATE * SECS, the two 2 * (RATE + RATE * SECS).
    let hammer = |node: &TestNode| {
        let (http, url, key) = (node.http.clone(), format!("{}/v1/keys", node.api), key.clone());
        tokio::spawn(async move {
            let (mut ok, mut limited) = (0u32, 0u32);
            let end = Instant::now() + Duration::from_secs_f64(SECS);
            while Instant::now() < end {
                let resp = http.get(&url).bearer_auth(&key).send().await.unwrap();
                match resp.status().as_u16() {
                    200 => ok += 1,
                    429 => {
                        assert!(resp.headers().contains_key("retry-after"));
                        limited += 1
                    }
                    s => panic!("unexpected status {s}"),
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            (ok, limited)
        })
    };
    let (on_a, on_b) = (hammer(&a), hammer(&b));
    let ((ok_a, limited_a), (ok_b, limited_b)) = (on_a.await.unwrap(), on_b.await.unwrap());
    let admitted = f64::from(ok_a + ok_b);
    let one_limit = RATE + RATE * SECS;
    tracing::info!(ok_a, ok_b, limited_a, limited_b, "admitted across two replicas");
    assert!(limited_a + limited_b > 0, "the clients asked faster than the limit");
    assert!(ok_a > 0 && ok_b > 0, "both replicas admit some");
    assert!(
        admitted <= one_limit * 1.2 + 2.0,
        "{admitted} admitted across two replicas: about {one_limit} expected, per-replica limits would admit {}",
        2.0 * one_limit
    );
    assert!(admitted >= one_limit * 0.8, "{admitted} admitted: the shared limit still admits about {one_limit}");
}
