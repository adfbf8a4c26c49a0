//! The TypeScript SDK (`sdk/typescript`) against a real node on anvil: the SDK is built with
//! `tsc`, then `sdk/typescript/test/node.test.js` runs under `node --test` with the node's URL, a
//! platform key and anvil's RPC URL. It sends events through the typed client, checks a final
//! receipt with the SDK's checker (anchoring looked up in the explorer), verifies the node's
//! `batch.finalized` delivery to its own receiver with `verifyWebhook`, sends events as a signed
//! webhook with `signWebhook`, and builds a proof request the node's wallet page opens.

use std::path::PathBuf;

use jejak_api::auth::Role;
use jejak_store::test_utils::TestDb;
use jejak_tests::{Backend, TestChain, TestNode, init_logs};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

#[tokio::test(flavor = "multi_thread")]
async fn typescript_sdk_against_a_node_on_anvil() {
    init_logs();
    let root = repo();
    let tsc = root.join("node_modules/.bin/tsc");
    assert!(
        tsc.exists() && root.join("node_modules/openapi-fetch").exists(),
        "the SDK test needs node_modules (TypeScript, openapi-fetch): run `make deps`"
    );
    let built = tokio::process::Command::new(&tsc)
        .args(["-p", "sdk/typescript/tsconfig.json"])
        .current_dir(&root)
        .status()
        .await
        .expect("tsc runs");
    assert!(built.success(), "the SDK does not build (tsc's output is above)");

    let chain = TestChain::start(1).await;
    let platform = chain.register_platform(chain.operator()).await;
    let node = TestNode::start_with(&chain, TestDb::new(Backend::Sqlite).await, |c| {
        c.webhooks.backoff_base_ms = 100;
        c.webhooks.poll_interval_ms = 50;
    })
    .await;
    node.wait_for_platform(platform).await;
    let key = node.key(Role::Platform, Some(platform)).await;

    let status = tokio::process::Command::new("node")
        .args(["--test", "--test-reporter=spec", "sdk/typescript/test/node.test.js"])
        .current_dir(&root)
        .env("JEJAK_URL", &node.api)
        .env("JEJAK_PLATFORM_KEY", &key)
        .env("JEJAK_PLATFORM_ID", platform.to_string())
        .env("JEJAK_RPC", chain.anvil.endpoint())
        .status()
        .await
        .expect("node runs");
    assert!(status.success(), "the SDK's tests against the node failed (their output is above)");

    // What the SDK sent is in the node: two events by API key, one as a signed webhook.
    let (s, page) = node.get(&key, "/v1/attestations?limit=10").await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(page["data"].as_array().map(Vec::len), Some(3), "{page}");
}
