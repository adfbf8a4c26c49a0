//! What API replicas on one PostgreSQL database share: a key revoked through one of three replicas (or the
//! CLI) is refused by every replica within a second, a lost key-change listener clears the
//! cache, a key's rate limit holds across replicas rather than per replica, and a proof's
//! nullifier is consumed once when two replicas verify it at the same moment.

use std::time::{Duration, Instant};

use alloy::primitives::FixedBytes;
use jejak_api::auth::Role;
use jejak_chain::bindings::JejakReputationRoots;
use jejak_node::config::Config;
use jejak_prover::bundle::ProofBundle;
use jejak_prover::keys::Reduction;
use jejak_store::PoolSettings;
use jejak_store::test_utils::TestDb;
use jejak_tests::{TestChain, TestNode, init_logs};
use jejak_zk_circuits::{
    Fr, PoseidonTree, Requirement, WorkerRecord, build_statement, context_from_label, fr_to_be_bytes,
    platform_consumer, scope,
};
use serde_json::{Value, json};

/// Cached keys are trusted for a minute: only a notification makes a replica forget one sooner.
fn replica(id: &'static str, tune: impl FnOnce(&mut Config)) -> impl FnOnce(&mut Config) {
    move |cfg| {
        cfg.node.instance_id = Some(id.into());
        cfg.api.key_cache_ttl_ms = 60_000;
        tune(cfg);
    }
}

/// `n` (at most three) instances with every role on one fresh PostgreSQL database.
async fn replicas(n: usize, tune: fn(&mut Config)) -> (TestChain, Vec<TestNode>) {
    let chain = TestChain::start(1).await;
    let db = TestDb::postgres().await;
    let url = db.url.clone();
    let mut nodes = vec![TestNode::start_with(&chain, db, replica("a", tune)).await];
    for id in ["b", "c"].into_iter().take(n - 1) {
        nodes.push(
            TestNode::start_with(&chain, TestDb::at(&url, PoolSettings::default()).await, replica(id, tune)).await,
        );
    }
    (chain, nodes)
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
    let (_chain, nodes) = replicas(3, |_| {}).await;
    let a = &nodes[0];
    let admin = a.key(Role::Admin, None).await;
    let (victim, by_cli) = (a.key(Role::Admin, None).await, a.key(Role::Admin, None).await);
    // Every replica holds every key in its cache.
    for node in &nodes {
        for token in [&admin, &victim, &by_cli] {
            assert_eq!(node.get(token, "/v1/keys").await.0, 200);
        }
    }

    // Revoked through replica a.
    let url = format!("{}/v1/keys/{}/revoke", a.api, key_id(&victim));
    let resp = a.http.post(url).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(a.get(&victim, "/v1/keys").await.0, 401, "a refuses it at once");
    for (node, what) in nodes[1..].iter().zip(["the key revoked through a, on b", "the key revoked through a, on c"]) {
        refused_within_a_second(node, &victim, what).await;
    }

    // Revoked in the database as the CLI does, through neither replica.
    let mut c = a.db.store.conn().await.unwrap();
    assert!(jejak_store::keys::revoke(&mut c, key_id(&by_cli), 1).await.unwrap());
    for (node, what) in nodes.iter().zip(["the CLI's revocation, on a", "on b", "on c"]) {
        refused_within_a_second(node, &by_cli, what).await;
    }
    assert_eq!(nodes[2].get(&admin, "/v1/keys").await.0, 200, "other keys still work");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_key_listener_clears_the_cache_and_listens_again() {
    init_logs();
    let (_chain, nodes) = replicas(2, |_| {}).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let key = a.key(Role::Admin, None).await;
    // Creating the key notifies too: once b has heard that (within the promised second), what b
    // caches next stays until another notification or a lost listener.
    tokio::time::sleep(Duration::from_millis(1500)).await;
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
    refused_within_a_second(b, &key, "the key after the listener was lost, on b").await;

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
    refused_within_a_second(b, &other, "a key revoked after the listener came back, on b").await;
}

const RATE: f64 = 10.0;
const SECS: f64 = 3.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keys_rate_limit_holds_across_replicas() {
    init_logs();
    let (_chain, nodes) = replicas(3, |cfg| {
        cfg.api.rate_limit_per_sec = RATE;
        cfg.api.rate_limit_burst = RATE;
    })
    .await;
    let key = nodes[0].key(Role::Admin, None).await;
    // One client per replica, each asking as fast as it is answered for SECS seconds: each
    // replica's own bucket alone would admit burst + RATE * SECS, the three 3 * (RATE + RATE * SECS).
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
    let clients: Vec<_> = nodes.iter().map(hammer).collect();
    let mut counts = Vec::new();
    for c in clients {
        counts.push(c.await.unwrap());
    }
    let admitted = f64::from(counts.iter().map(|(ok, _)| ok).sum::<u32>());
    let one_limit = RATE + RATE * SECS;
    tracing::info!(?counts, "admitted and limited per replica");
    assert!(
        counts.iter().all(|(ok, limited)| *ok > 0 && *limited > 0),
        "every replica admits some, refuses some: {counts:?}"
    );
    assert!(
        admitted <= one_limit * 1.2 + 2.0,
        "{admitted} admitted across three replicas: about {one_limit} expected, per-replica limits would admit {}",
        3.0 * one_limit
    );
    assert!(admitted >= one_limit * 0.8, "{admitted} admitted: the shared limit still admits about {one_limit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_verifying_one_proof_at_once_consume_its_nullifier_once() {
    const DEPTH: usize = 4;
    const CONTEXT: &str = "acme-lending/loan-v1";
    init_logs();
    let chain = TestChain::start(1).await;
    let p = chain.register_platform(chain.operator()).await;
    let dir = tempfile::tempdir().unwrap();
    let pk = jejak_prover::setup::dev_setup(DEPTH, "shared-state-test", Reduction::Libsnark).unwrap();
    let vk_path = dir.path().join("verifying.key");
    let vk = pk.verifying_key();
    vk.write(&vk_path).unwrap();
    let prover = jejak_prover::Prover::new(pk).unwrap();
    let db = TestDb::postgres().await;
    let url = db.url.clone();
    let with_vk = |id: &'static str| {
        let vk_path = vk_path.clone();
        replica(id, move |c| c.proofs.verifying_key = Some(vk_path))
    };
    let a = TestNode::start_with(&chain, db, with_vk("a")).await;
    let b = TestNode::start_with(&chain, TestDb::at(&url, PoolSettings::default()).await, with_vk("b")).await;
    a.wait_for_platform(p).await;
    let key = a.key(Role::Platform, Some(p)).await;

    let records: Vec<WorkerRecord> = (0..4)
        .map(|i| WorkerRecord {
            secret: Fr::from(1000 + i),
            score: 700,
            gigs: 60,
            tier: 2,
            epoch: 1,
            salt: Fr::from(7 + i),
        })
        .collect();
    let tree = PoseidonTree::from_leaves(DEPTH, records.iter().map(|r| r.leaf()).collect()).unwrap();
    JejakReputationRoots::new(chain.deployment.reputation_roots, &chain.provider)
        .publishRoot(1, FixedBytes(fr_to_be_bytes(&tree.root())), "bafkreiroot".into(), 1)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    a.wait_root_indexed(&chain, 1).await;
    let roots_addr: [u8; 20] = chain.deployment.reputation_roots.into();
    let requirement = Requirement {
        min_score: 650,
        min_gigs: 50,
        min_tier: 1,
        scope: scope(31337, roots_addr, platform_consumer(Some(p)), context_from_label(CONTEXT)),
        challenge: Fr::from(42u64),
    };
    let (statement, witness) = build_statement(&records[0], &tree.path(0).unwrap(), &requirement).unwrap();
    let proof = prover.prove(&statement.public_inputs().unwrap(), &witness, &mut rand::rngs::OsRng).unwrap();
    let bundle =
        serde_json::to_value(ProofBundle::new(DEPTH, vk.key_hash().unwrap(), &statement, &proof).unwrap()).unwrap();

    // The root is final for both replicas (a dry run consumes nothing).
    for node in [&a, &b] {
        TestNode::eventually(60, "the root to be final", || {
            let (chain, body) = (&chain, json!({"proof": bundle, "context": CONTEXT, "consume": false}));
            let key = key.clone();
            async move {
                let (s, v) = node.call("POST", "/v1/verify/proof", Some(&key), Some(&body)).await;
                assert_eq!(s, 200, "{v}");
                if v["valid"] == true {
                    return Some(());
                }
                chain.mine(1).await;
                None
            }
        })
        .await;
    }
    let request = json!({"proof": bundle, "context": CONTEXT, "challenge": "42",
                         "require": {"min_score": 600, "min_gigs": 50, "min_tier": 1}});
    let (on_a, on_b) = tokio::join!(
        a.call("POST", "/v1/verify/proof", Some(&key), Some(&request)),
        b.call("POST", "/v1/verify/proof", Some(&key), Some(&request)),
    );
    let answers: Vec<&(u16, Value)> = vec![&on_a, &on_b];
    let ok: Vec<_> = answers.iter().filter(|(s, _)| *s == 200).collect();
    let used: Vec<_> = answers.iter().filter(|(s, b)| *s == 409 && b["error"]["code"] == "nullifier_used").collect();
    assert_eq!((ok.len(), used.len()), (1, 1), "one consumes, the other is refused: {answers:?}");
    assert_eq!(ok[0].1["nullifier_consumed"], true, "{answers:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_shared_limit_admits_on_the_local_one() {
    init_logs();
    let (_chain, nodes) = replicas(1, |cfg| {
        cfg.api.rate_limit_per_sec = 0.001;
        cfg.api.rate_limit_burst = 2.0;
    })
    .await;
    let a = &nodes[0];
    let key = a.key(Role::Admin, None).await;
    // The shared buckets' table is gone: charging it fails on every request.
    sqlx::query("DROP TABLE rate_buckets").execute(a.db.store.pool()).await.unwrap();
    for _ in 0..2 {
        let (s, body) = a.get(&key, "/v1/keys").await;
        assert_eq!(s, 200, "a database failure is not a refusal: {body}");
    }
    let (s, body) = a.get(&key, "/v1/keys").await;
    assert_eq!((s, body["error"]["code"].as_str()), (429, Some("rate_limited")), "the local bucket still holds");
}
