//! The web app in headless Chromium against a real node on anvil: one node with two platforms,
//! anchored batches, a published epoch, a worker whose identity the node holds (so it proves for
//! them) and a dead-lettered webhook, then `web/test/e2e.js` (playwright-core driving Debian's
//! `chromium`) walks every page: the auditor's explorer and receipt checker, the worker's wallet
//! and proof request, the platform's console and verify page. Screenshots and page metrics land
//! in `target/web-e2e/`.

use std::path::PathBuf;
use std::sync::atomic::Ordering;

use jejak_anchor::epoch::{EpochConfig, EpochJob, Salts};
use jejak_api::auth::Role;
use jejak_evidence::testkit::PhotoSpec;
use jejak_evidence::{GeoPoint, public_key};
use jejak_prover::keys::Reduction;
use jejak_store::test_utils::TestDb;
use jejak_tests::api::Receiver;
use jejak_tests::reputation::{commitment, completed, link, review};
use jejak_tests::{Backend, TestChain, TestNode, init_logs};
use serde_json::json;

/// The test node's credential issuer key (a fixed seed, so the test can sign as the node).
const ISSUER_SEED: [u8; 32] = [0x5a; 32];

/// Depth of the epoch's tree and of the dev proving key (16 workers at most; setup stays fast).
const DEPTH: usize = 4;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

#[tokio::test(flavor = "multi_thread")]
async fn explorer_wallet_and_console_in_chromium() {
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
    let keys = tempfile::tempdir().unwrap();
    let pk = jejak_prover::setup::dev_setup(DEPTH, "web-e2e", Reduction::Libsnark).unwrap();
    let pk_path = keys.path().join("proving.key");
    pk.write(&pk_path).unwrap();
    // A proving key (the node proves for the identities it holds and verifies with the key's
    // verifying half); webhooks that give up after one attempt, so one goes dead at once.
    let node = TestNode::start_with(&chain, TestDb::new(Backend::Sqlite).await, |c| {
        c.proofs.proving_key = Some(pk_path.clone());
        c.epochs.depth = DEPTH;
        c.webhooks.max_attempts = 1;
        c.webhooks.backoff_base_ms = 100;
        c.webhooks.poll_interval_ms = 50;
        c.credentials.signing_key = Some(hex::encode(ISSUER_SEED));
    })
    .await;
    node.wait_for_platform(p1).await;
    node.wait_for_platform(p2).await;
    let (k1, k2) = (node.key(Role::Platform, Some(p1)).await, node.key(Role::Platform, Some(p2)).await);

    // Platform 1's webhook receiver is down: its batch.finalized goes dead after one attempt.
    let receiver = Receiver::start(0).await;
    receiver.down.store(1, Ordering::SeqCst);
    let hook = json!({"url": receiver.url, "events": ["batch.finalized"]});
    let (s, sub) = node.call("POST", "/v1/webhooks/subscriptions", Some(&k1), Some(&hook)).await;
    assert_eq!(s, 201, "{sub}");

    // A node-held identity, linked on both platforms with the worker's own link tokens.
    let (s, made) = node.call("POST", "/v1/identities", Some(&k1), Some(&json!({"label": "web e2e"}))).await;
    assert_eq!(s, 201, "{made}");
    let held = made["worker"].as_str().unwrap().to_owned();
    let worker_key = node.worker_key(&held).await;
    let token = |platform: u64, account: &'static str| {
        let (node, worker_key, held) = (&node, &worker_key, &held);
        async move {
            let body = json!({"platform_id": platform, "account": account});
            let (s, t) =
                node.call("POST", &format!("/v1/workers/{held}/link-tokens"), Some(worker_key), Some(&body)).await;
            assert_eq!(s, 201, "{t}");
            t["link_token"].clone()
        }
    };
    let linked = |account: &str, token: serde_json::Value| {
        json!({"type": "account_linked", "worker": account, "occurred_at": jejak_tests::reputation::at(120),
               "data": {"identity_commitment": held, "link_token": token}})
    };

    let workers: Vec<String> = (1..=6).map(commitment).collect();
    let mut e1 = vec![linked("driver-held", token(p1, "driver-held").await)];
    for t in 0..8 {
        let task = format!("ride-held-{t}");
        e1.push(completed("driver-held", &task, 20 + t, 30_000));
        e1.push(review("driver-held", &task, 20 + t, "4.8"));
    }
    for (i, _) in workers.iter().enumerate() {
        let name = format!("driver-{i}");
        e1.push(link(p1, &name, i as u64 + 1, 90));
        for t in 0..(i + 2) {
            let task = format!("ride-{i}-{t}");
            e1.push(completed(&name, &task, 30 + t as i64, 25_000));
            e1.push(review(&name, &task, 30 + t as i64, if i % 2 == 0 { "4.9" } else { "4.2" }));
        }
    }
    let e2 = vec![
        link(p2, "courier-a", 1, 60),
        completed("courier-a", "parcel-1", 10, 18_000),
        linked("courier-held", token(p2, "courier-held").await),
        completed("courier-held", "parcel-2", 12, 21_000),
    ];
    let mut ids = node.send(&k1, e1).await;
    ids.extend(node.send(&k2, e2).await);
    node.wait_final(&chain, &ids).await;
    let mut cfg = EpochConfig::new(node.config.chain.chain_id, chain.deployment.reputation_roots);
    cfg.length_secs = 1;
    cfg.genesis = 0;
    cfg.depth = DEPTH;
    cfg.receipt_timeout = std::time::Duration::from_secs(20);
    let sender = node.node.sender.clone().expect("the test node has the operator key");
    let job = EpochJob::new(
        cfg,
        node.db.store.clone(),
        node.node.blockstore.clone(),
        None,
        sender,
        jejak_scoring::Params::v1(),
    )
    .unwrap()
    .with_salts(Salts::Random);
    let epoch = jejak_store::now_secs() as u64;
    job.run_epoch(epoch).await.unwrap();
    node.wait_root_indexed(&chain, epoch).await;
    chain.mine(3).await;
    TestNode::eventually(60, "a dead-lettered webhook delivery", || {
        let (node, k1) = (&node, &k1);
        async move {
            let (s, b) = node.get(k1, "/v1/webhooks/deliveries?status=dead").await;
            assert_eq!(s, 200, "{b}");
            (!b["data"].as_array().unwrap().is_empty()).then_some(())
        }
    })
    .await;
    // The receiver is back: a replay from the console now reaches it.
    receiver.down.store(0, Ordering::SeqCst);

    // An evidence task of the held worker with one honest photo and no witness: the verdict,
    // rule by rule, that the wallet and the console show.
    let place = GeoPoint { lat: -6.2001, lon: 106.8167 };
    let start = time::OffsetDateTime::now_utc().replace_nanosecond(0).unwrap() - time::Duration::minutes(30);
    let rfc = |t: time::OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).unwrap();
    let task = json!({
        "task_id": "delivery-web-1", "type": "delivery", "worker": held,
        "worker_key": hex::encode(public_key(&[7; 32])),
        "window": {"start": rfc(start), "end": rfc(start + time::Duration::hours(1))},
        "location": {"lat": place.lat, "lon": place.lon},
    });
    let (s, t) = node.call("POST", "/v1/tasks", Some(&k1), Some(&task)).await;
    assert_eq!(s, 201, "{t}");
    let task_id = t["id"].as_str().unwrap().to_owned();
    let (s, n) = node.call("POST", &format!("/v1/tasks/{task_id}/nonce"), Some(&worker_key), Some(&json!({}))).await;
    assert_eq!(s, 201, "{n}");
    let photo = PhotoSpec::honest(1, start + time::Duration::minutes(10), place, n["nonce"].as_str()).jpeg();
    let boundary = "jejak-web-e2e";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"photo.jpg\"\r\n\
         Content-Type: image/jpeg\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&photo);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let up = node
        .http
        .post(format!("{}/v1/tasks/{task_id}/evidence", node.api))
        .bearer_auth(&worker_key)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .unwrap();
    let (s, v) = (up.status().as_u16(), up.json::<serde_json::Value>().await.unwrap_or_default());
    assert_eq!(s, 201, "{v}");
    assert!(v["verdict"]["results"].as_array().is_some_and(|r| r.len() >= 2), "{v}");

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
    // A credential that expired, signed by the node's own issuer key: the verify page must name
    // the failing check, not only accept fresh credentials and refuse tampered ones.
    let (s, issued) = node.call("POST", "/v1/credentials", Some(&worker_key), Some(&json!({"worker": held}))).await;
    assert_eq!(s, 201, "{issued}");
    let mut doc = issued["credential"].clone();
    let proof = doc.as_object_mut().unwrap().remove("proof").expect("an issued credential has a proof");
    doc["validFrom"] = json!("2024-01-01T00:00:00Z");
    doc["validUntil"] = json!("2024-01-31T00:00:00Z");
    let options = jejak_credential::proof::ProofOptions {
        verification_method: proof["verificationMethod"].as_str().unwrap().to_owned(),
        created: "2024-01-01T00:00:00Z".to_owned(),
        proof_purpose: proof["proofPurpose"].as_str().unwrap().to_owned(),
    };
    let expired =
        jejak_credential::proof::sign(&doc, &options, &ed25519_dalek::SigningKey::from_bytes(&ISSUER_SEED)).unwrap();
    let expired_file = out.join("expired-credential.json");
    std::fs::write(&expired_file, serde_json::to_vec(&expired).unwrap()).unwrap();

    let status = tokio::process::Command::new("node")
        .arg(root.join("web/test/e2e.js"))
        .current_dir(&root)
        .env("JEJAK_URL", &node.api)
        .env("JEJAK_RECEIPT", &receipt_file)
        .env("JEJAK_PAGES", pages.to_string())
        .env("JEJAK_OUT", &out)
        .env("CHROMIUM", &chromium)
        .env("JEJAK_WORKER_KEY", &worker_key)
        .env("JEJAK_PLATFORM_KEY", &k1)
        .env("JEJAK_PLATFORM_ID", p1.to_string())
        .env("JEJAK_TASK", &task_id)
        .env("JEJAK_EXPIRED_CREDENTIAL", &expired_file)
        .status()
        .await
        .expect("node runs");
    assert!(status.success(), "the browser checks failed (their output is above)");
    let delivered = receiver.received().await.into_iter().filter(|r| r.answered == 200).count();
    assert_eq!(delivered, 1, "the delivery replayed from the console reached the receiver once");
}
