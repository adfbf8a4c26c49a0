//! schemathesis (pinned, installed by `scripts/schemathesis`) fuzzes a node on SQLite through its
//! own `/openapi.json` with an admin key: no answer may be a 5xx, and every answer must match the
//! document (status, content type, body schema).

use jejak_api::auth::Role;
use jejak_tests::{Backend, TestChain, TestNode, init_logs};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_5xx_and_no_answer_outside_the_document() {
    init_logs();
    let chain = TestChain::start(1).await;
    let p = chain.register_platform(chain.operator()).await;
    let db = jejak_store::test_utils::TestDb::new(Backend::Sqlite).await;
    // A proving key (its verifying key comes with it), so proof verification and proving for
    // node-held identities are served (without keys they answer 503 by design).
    let dir = tempfile::tempdir().unwrap();
    let pk = dir.path().join("proving.key");
    jejak_prover::setup::dev_setup(4, "fuzz", jejak_prover::keys::Reduction::Libsnark).unwrap().write(&pk).unwrap();
    let node = TestNode::start_with(&chain, db, |c| {
        // The fuzzer sends thousands of requests with one key.
        c.api.rate_limit_per_sec = 0.0;
        c.api.anonymous_rate_limit_per_sec = 0.0;
        c.api.failed_auth_per_sec = 0.0;
        c.proofs.proving_key = Some(pk.clone());
        c.epochs.depth = 4;
    })
    .await;
    node.wait_for_platform(p).await;
    let admin = node.key(Role::Admin, None).await;
    // Something to find: an attestation and a published epoch.
    let platform = node.key(Role::Platform, Some(p)).await;
    let (s, _) = node
        .post_events(
            &platform,
            &json!({"events": [{"type": "task_completed", "worker": "c-1", "occurred_at": "2026-01-01T00:00:00Z",
            "data": {"task_id": "f1", "earnings_minor": 1, "currency": "IDR"}}]}),
            None,
        )
        .await;
    assert_eq!(s, 202);
    node.publish_fake_epoch(1, &jejak_tests::reputation::commitment(5), p as i64, 500).await;

    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/schemathesis");
    let api = node.api.clone();
    let out =
        tokio::task::spawn_blocking(move || std::process::Command::new(script).arg(&api).arg(&admin).output().unwrap())
            .await
            .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "schemathesis failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("passed"), "schemathesis ran no test:\n{stdout}");
    node.node.stop().await.unwrap();
}
