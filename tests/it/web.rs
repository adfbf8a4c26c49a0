//! The web app in headless Chromium against a real node on anvil: one node with two platforms,
//! anchored batches and a published epoch, then `web/test/e2e.js` (playwright-core driving
//! Debian's `chromium`) walks every page. Screenshots and page metrics land in
//! `target/web-e2e/`.

use std::path::PathBuf;

use jejak_anchor::epoch::Salts;
use jejak_api::auth::Role;
use jejak_tests::reputation::{commitment, completed, link, review};
use jejak_tests::{Backend, TestChain, TestNode, init_logs};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

#[tokio::test(flavor = "multi_thread")]
async fn explorer_and_receipt_checker_in_chromium() {
    init_logs();
    let root = repo();
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists() && root.join("node_modules/playwright-core").exists(),
        "the browser tests need {chromium} and node_modules: run `scripts/ensure-chromium` and `make deps`"
    );
    let chain = TestChain::start(1).await;
    let p1 = chain.register_platform(chain.operator()).await;
    let p2 = chain.register_platform(chain.operator()).await;
    let node = TestNode::start(&chain, Backend::Sqlite).await;
    node.wait_for_platform(p1).await;
    node.wait_for_platform(p2).await;
    let (k1, k2) = (node.key(Role::Platform, Some(p1)).await, node.key(Role::Platform, Some(p2)).await);
    let workers: Vec<String> = (1..=6).map(commitment).collect();
    let mut e1 = Vec::new();
    for (i, w) in workers.iter().enumerate() {
        let name = format!("driver-{i}");
        e1.push(link(&name, w, 90));
        for t in 0..(i + 2) {
            let task = format!("ride-{i}-{t}");
            e1.push(completed(&name, &task, 30 + t as i64, 25_000));
            e1.push(review(&name, &task, 30 + t as i64, if i % 2 == 0 { "4.9" } else { "4.2" }));
        }
    }
    let e2 = vec![link("courier-a", &workers[0], 60), completed("courier-a", "parcel-1", 10, 18_000)];
    let mut ids = node.send(&k1, e1).await;
    ids.extend(node.send(&k2, e2).await);
    node.wait_final(&chain, &ids).await;
    let job = node.epoch_job(&chain, Salts::Random).await;
    let epoch = jejak_store::now_secs() as u64;
    job.run_epoch(epoch).await.unwrap();
    node.wait_root_indexed(&chain, epoch).await;
    chain.mine(3).await;

    let (s, receipt) = node.get(&k1, &format!("/v1/attestations/{}", ids[1])).await;
    assert_eq!(s, 200, "{receipt}");
    assert_eq!(receipt["status"], "final", "{receipt}");
    let batch = receipt["anchor"]["batch_id"].as_u64().unwrap();

    let out = root.join("target/web-e2e");
    std::fs::create_dir_all(&out).unwrap();
    let receipt_file = out.join("receipt.json");
    std::fs::write(&receipt_file, serde_json::to_vec_pretty(&receipt).unwrap()).unwrap();
    let pages = serde_json::json!([
        "/",
        format!("/platforms/{p1}"),
        format!("/batches/{batch}"),
        format!("/epochs/{epoch}"),
        "/evidence",
        "/check",
        format!("/search?q={}", receipt["batch"]["root"].as_str().unwrap()),
        "/signin",
        "/no-such-page/../platforms/999999",
    ]);
    let status = tokio::process::Command::new("node")
        .arg(root.join("web/test/e2e.js"))
        .current_dir(&root)
        .env("JEJAK_URL", &node.api)
        .env("JEJAK_RECEIPT", &receipt_file)
        .env("JEJAK_PAGES", pages.to_string())
        .env("JEJAK_OUT", &out)
        .env("CHROMIUM", &chromium)
        .status()
        .await
        .expect("node runs");
    assert!(status.success(), "the browser checks failed (their output is above)");
}
