//! Reputation end to end: workers on two platforms, an epoch scored and its root published, the
//! explanations API by role, and a portable bundle that verifies against chain and IPFS after the
//! node's database is gone, and fails on any altered byte.

use jejak_anchor::epoch::Salts;
use jejak_api::auth::Role;
use jejak_chain::bindings::JejakReputationRoots;
use jejak_scoring::snapshot::Manifest;
use jejak_store::ipfs::FetchStatus;
use jejak_store::scores::EpochStatus;
use jejak_tests::reputation::{cancelled, commitment, completed, link, lost_dispute, repaid, review, savings};
use jejak_tests::{Backend, TestChain, TestNode, init_logs};
use jejak_verify::bundle::{self, Deployment};
use jejak_verify::{ChainView, ipfs_fetcher};
use serde_json::Value;

/// Four linked workers (two on both platforms) and an unlinked one whose reviews still count in
/// their platform's reference.
/// Identities are named by their secrets; each link carries the worker's token for its platform.
fn workload(platforms: (u64, u64), ayu: u64, budi: u64, citra: u64, eko: u64) -> (Vec<Value>, Vec<Value>) {
    let (a, b) = platforms;
    let mut p1 = vec![link(a, "ayu-1", ayu, 300), link(a, "budi", budi, 200), link(a, "eko", eko, 40)];
    let mut p2 = vec![link(b, "ayu@2", ayu, 250), link(b, "citra", citra, 100), link(b, "eko", eko, 30)];
    p1.extend([
        completed("eko", "e-1", 20, 15_000),
        review("eko", "e-1", 20, "4.4"),
        completed("eko", "e-2", 2, 15_000),
    ]);
    p2.extend([completed("eko", "e-3", 5, 60_000), savings("eko", 3)]);
    for k in 0..12 {
        let t = format!("a1-{k}");
        p1.push(completed("ayu-1", &t, k * 20, 30_000));
        p1.push(review("ayu-1", &t, k * 20, if k % 3 == 0 { "4.8" } else { "5" }));
    }
    for k in 0..5 {
        let t = format!("a2-{k}");
        p2.push(completed("ayu@2", &t, k * 7, 45_000));
        p2.push(review("ayu@2", &t, k * 7, "4.6"));
    }
    p1.push(savings("ayu-1", 12));
    p1.push(repaid("ayu-1", "loan-1", 30, true));
    p1.push(repaid("ayu-1", "loan-1", 60, true));
    for k in 0..6 {
        let t = format!("b-{k}");
        p1.push(completed("budi", &t, k * 9, 18_000));
        p1.push(review("budi", &t, k * 9, "4.2"));
    }
    p1.push(cancelled("budi", "b-x", 4));
    p1.push(lost_dispute("budi", "b-2", 10));
    for k in 0..20 {
        let t = format!("c-{k}");
        p2.push(completed("citra", &t, k * 3, 25_000));
        p2.push(review("citra", &t, k * 3, "4.7"));
    }
    for k in 0..10 {
        p1.push(review("dewi", &format!("d-{k}"), k, "4.5"));
    }
    (p1, p2)
}

/// A different character of the same kind (digit for digit, hex letter for hex letter), so the
/// JSON stays well formed and only the meaning changes; anything else flips a bit.
fn alter(b: u8) -> u8 {
    match b {
        b'0'..=b'8' => b + 1,
        b'9' => b'0',
        b'a'..=b'e' => b + 1,
        b'f' => b'a',
        _ => b ^ 0x01,
    }
}

async fn reputation_end_to_end(backend: Backend) {
    init_logs();
    let chain = TestChain::start(1).await;
    let p1 = chain.register_platform(chain.operator()).await;
    let p2 = chain.register_platform(chain.operator()).await;
    let node = TestNode::start(&chain, backend).await;
    node.wait_for_platform(p1).await;
    node.wait_for_platform(p2).await;
    let (k1, k2) = (node.key(Role::Platform, Some(p1)).await, node.key(Role::Platform, Some(p2)).await);
    let (ayu, budi, _citra, eko) = (commitment(11), commitment(22), commitment(33), commitment(44));
    let (e1, e2) = workload((p1, p2), 11, 22, 33, 44);
    // Platform 2 knows budi's commitment but not the secret: a token of its own making does not
    // link an account to it, so it never reads budi's record (below).
    let mut forged = link(p2, "budi@2", 999, 10);
    forged["data"]["identity_commitment"] = budi.clone().into();
    forged["data"]["link_token"]["commitment"] = budi.clone().into();
    let (s, b) = node.post_events(&k2, &serde_json::json!({ "events": [forged] }), None).await;
    assert_eq!((s, b["error"]["code"].as_str()), (422, Some("link_token_invalid")), "{b}");
    let mut ids = node.send(&k1, e1).await;
    ids.extend(node.send(&k2, e2).await);
    node.wait_final(&chain, &ids).await;

    // One epoch, scored as of now, published.
    let job = node.epoch_job(&chain, Salts::Random).await;
    let epoch = jejak_store::now_secs() as u64;
    let out = job.run_epoch(epoch).await.unwrap();
    assert_eq!(out.status, Some(EpochStatus::Published), "{out:?}");
    assert_eq!(out.workers, 4, "dewi is not linked");
    let roots = JejakReputationRoots::new(chain.deployment.reputation_roots, &chain.provider);
    let on_chain = roots.rootOf(epoch).call().await.unwrap();
    assert_eq!(on_chain.root.0, out.root.unwrap());
    assert_eq!(on_chain.paramsVersion, 1);
    let cid = jejak_core::cid::parse(out.snapshot_cid.as_deref().unwrap()).unwrap();
    let manifest = Manifest::from_bytes(&node.node.blockstore.get(&cid).await.unwrap().unwrap()).unwrap();
    assert_eq!((manifest.epoch, manifest.count, manifest.depth), (epoch, 4, 20));
    assert_eq!(manifest.platforms.len(), 2, "rating totals of both platforms are published");
    let text = String::from_utf8(node.node.blockstore.get(&cid).await.unwrap().unwrap()).unwrap();
    for name in ["ayu", "budi", "citra", "dewi", &ayu[..20]] {
        assert!(!text.contains(name), "the manifest names nobody ({name})");
    }

    // The explanations API, by role.
    let ayu_key = node.worker_key(&ayu).await;
    let (s, r) = node.get(&ayu_key, &format!("/v1/workers/{ayu}/reputation")).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["epoch"], epoch);
    assert_eq!(r["status"], "published");
    let score = r["reputation"]["score"].as_u64().unwrap();
    assert!((1..=1000).contains(&score));
    assert!((300..=850).contains(&r["credit"]["score"].as_u64().unwrap()));
    assert!(["A", "B", "C", "D", "E"].contains(&r["credit"]["tier"].as_str().unwrap()));
    assert_eq!(r["credit"]["limit"]["currency"], "IDR");
    assert_eq!(r["reputation"]["gigs"], 17);
    assert_eq!(r["platforms"].as_array().unwrap().len(), 2, "the worker sees every platform");
    assert!(
        r["reputation"]["reasons"].as_array().unwrap().iter().all(|x| x["code"].is_string() && x["points"].is_u64())
    );
    assert_eq!(r["history"].as_array().unwrap().len(), 1);
    assert_eq!(r["snapshot"]["root"], format!("0x{}", hex::encode(on_chain.root.0)));
    // The worker gets the salt that opens their leaf; the leaf follows from it and the scores.
    let salt = jejak_scoring::snapshot::parse_hex_fr(r["snapshot"]["salt"].as_str().unwrap()).unwrap();
    let tier = jejak_scoring::Tier::A.leaf_value()
        - ["A", "B", "C", "D", "E"].iter().position(|t| *t == r["credit"]["tier"]).unwrap() as u64;
    let leaf = jejak_zk_circuits::worker_leaf(
        jejak_zk_circuits::fr_from_decimal(&ayu).unwrap(),
        score,
        r["reputation"]["gigs"].as_u64().unwrap(),
        tier,
        epoch,
        salt,
    );
    assert_eq!(r["snapshot"]["leaf"], format!("0x{}", hex::encode(jejak_zk_circuits::fr_to_be_bytes(&leaf))));
    let (s, r1) = node.get(&k1, &format!("/v1/workers/{ayu}/reputation")).await;
    assert_eq!(s, 200, "{r1}");
    let platforms = r1["platforms"].as_array().unwrap();
    assert_eq!(platforms.len(), 1, "a platform sees only its own account of the worker");
    assert_eq!(platforms[0]["platform_id"], p1);
    assert_eq!(r1["reputation"]["score"], score);
    assert!(r1["snapshot"].get("salt").is_none(), "only the worker gets the salt");
    let (s, r) = node.get(&k2, &format!("/v1/workers/{budi}/reputation")).await;
    assert_eq!((s, r["error"]["code"].as_str()), (404, Some("worker_not_found")), "budi did not consent to platform 2");
    let (s, r) = node.get(&ayu_key, &format!("/v1/workers/{budi}/reputation")).await;
    assert_eq!((s, r["error"]["code"].as_str()), (404, Some("worker_not_found")), "a worker reads only itself");
    let auditor = node.key(Role::Auditor, None).await;
    let (s, r) = node.get(&auditor, &format!("/v1/workers/{budi}/reputation")).await;
    assert_eq!(s, 200, "{r}");
    let budi_codes: Vec<&str> =
        r["reputation"]["reasons"].as_array().unwrap().iter().map(|x| x["code"].as_str().unwrap()).collect();
    assert!(budi_codes.contains(&"ratings_below_platform_average"), "{budi_codes:?}");
    let (s, r) = node.get(&auditor, "/v1/workers/12ab/reputation").await;
    assert_eq!((s, r["error"]["code"].as_str()), (422, Some("invalid_request")));
    let (s, _) = node.get(&auditor, &format!("/v1/workers/{}/reputation", commitment(99))).await;
    assert_eq!(s, 404);
    let (s, _) = node
        .http
        .get(format!("{}/v1/workers/{ayu}/reputation", node.api))
        .send()
        .await
        .map(|r| (r.status().as_u16(), ()))
        .unwrap();
    assert_eq!(s, 401);

    // The indexer checks the manifest against the published root and mirrors its parts.
    let status_of = |cid: String| {
        let store = node.db.store.clone();
        async move { jejak_store::ipfs::get(&mut *store.conn().await.ok()?, &cid).await.ok()?.map(|o| o.status) }
    };
    for part in [out.snapshot_cid.clone().unwrap(), manifest.params_cid.clone(), manifest.pages[0].cid.clone()] {
        TestNode::eventually(60, &format!("{part} to be fetched and checked"), || {
            let (status_of, part, chain) = (&status_of, part.clone(), &chain);
            async move {
                chain.mine(1).await;
                (status_of(part).await? == FetchStatus::Fetched).then_some(())
            }
        })
        .await;
    }
    // A root published with a manifest that names another epoch and root is recorded invalid.
    let mut forged = manifest.clone();
    forged.epoch = epoch + 1;
    let forged_cid = node.node.blockstore.put(&forged.to_bytes()).await.unwrap().to_string();
    roots
        .publishRoot(epoch + 1, alloy::primitives::B256::repeat_byte(7), forged_cid.clone(), 1)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    TestNode::eventually(60, "the forged manifest to be recorded invalid", || {
        let (status_of, part, chain) = (&status_of, forged_cid.clone(), &chain);
        async move {
            chain.mine(1).await;
            (status_of(part).await? == FetchStatus::Invalid).then_some(())
        }
    })
    .await;

    // The bundle, exported by the node...
    node.wait_root_indexed(&chain, epoch).await;
    let d = Deployment {
        chain_id: 31337,
        attestations: chain.deployment.attestations,
        reputation_roots: chain.deployment.reputation_roots,
    };
    let bytes = bundle::export(&node.db.store, d, &ayu, None).await.unwrap();
    let small_bundle = bundle::export(&node.db.store, d, &eko, None).await.unwrap();
    let parsed: bundle::Bundle = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(parsed.attestations.len(), 2 + 24 + 10 + 3, "ayu's anchored attestations on both platforms");
    assert_eq!(u64::from(parsed.snapshot.card.reputation), score);

    // ...verified with nothing but the chain and a copy of the public blocks (any IPFS node).
    let ipfs = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(node.node.blockstore.dir()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), ipfs.path().join(entry.file_name())).unwrap();
    }
    let fetcher = ipfs_fetcher(&[], &[ipfs.path().to_path_buf()], None).unwrap();
    let view = ChainView::new(&chain.anvil.endpoint()).unwrap();
    let v = bundle::verify(&bytes, &view, &fetcher).await.unwrap();
    assert_eq!((v.epoch, u64::from(v.reputation), v.attestations), (epoch, score, parsed.attestations.len()));
    assert!(v.root_accepted);

    // The node and its database go away; the bundle still verifies.
    let TestNode { node: running, db, .. } = node;
    running.stop().await.unwrap();
    drop(db);
    let v = bundle::verify(&bytes, &view, &fetcher).await.unwrap();
    assert_eq!(u64::from(v.reputation), score);
    // The same through the command line: `jejak bundle verify FILE --rpc URL --blockstore DIR`.
    let file = ipfs.path().join("ayu.bundle.json");
    std::fs::write(&file, &bytes).unwrap();
    let verify_cli = |path: &std::path::Path| {
        let args = ["jejak", "bundle", "verify", path.to_str().unwrap(), "--rpc", &chain.anvil.endpoint()];
        let mut args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        args.extend(["--blockstore".into(), ipfs.path().display().to_string()]);
        jejak_node::cli::run(<jejak_node::cli::Cli as clap::Parser>::parse_from(args))
    };
    verify_cli(&file).await.expect("the command verifies the bundle");
    let mut tampered = bytes.clone();
    let at = bytes.len() / 2;
    tampered[at] = alter(tampered[at]);
    std::fs::write(&file, &tampered).unwrap();
    assert!(verify_cli(&file).await.is_err(), "and exits non-zero on an altered one");

    // Any altered byte is refused: every byte of a small worker's bundle, and a sample of the big
    // one (the same fields, many more of them).
    assert!(bundle::verify(&small_bundle, &view, &fetcher).await.is_ok());
    refuses_every_altered_byte(&small_bundle, (0..small_bundle.len()).collect(), &view, &fetcher).await;
    refuses_every_altered_byte(&bytes, (0..bytes.len()).step_by(89).collect(), &view, &fetcher).await;
    let mut longer = bytes.clone();
    longer.push(b'\n');
    assert!(matches!(bundle::verify(&longer, &view, &fetcher).await, Err(jejak_verify::Error::NotCanonical)));
}

/// Alters each byte at `positions` in turn; every result must fail verification. Most fail the
/// checks that need neither chain nor IPFS (run on both cores); the rest against the chain.
async fn refuses_every_altered_byte(
    bytes: &[u8],
    positions: Vec<usize>,
    view: &ChainView,
    fetcher: &jejak_ipfs::Fetcher,
) {
    let forge = |i: usize| {
        let mut forged = bytes.to_vec();
        forged[i] = alter(forged[i]);
        forged
    };
    let survivors: Vec<usize> = std::thread::scope(|s| {
        let halves: Vec<_> = positions
            .chunks(positions.len().div_ceil(2))
            .map(|part| {
                s.spawn(|| {
                    part.iter().copied().filter(|&i| bundle::check_offline(&forge(i)).is_ok()).collect::<Vec<_>>()
                })
            })
            .collect();
        halves.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    assert!(!survivors.is_empty(), "anchors and card fields are checked against the chain and IPFS");
    for i in survivors {
        let r = bundle::verify(&forge(i), view, fetcher).await;
        assert!(r.is_err(), "altering byte {i} ({:?} in {:?}) went unnoticed", bytes[i] as char, context(bytes, i));
    }
}

fn context(bytes: &[u8], i: usize) -> String {
    String::from_utf8_lossy(&bytes[i.saturating_sub(30)..(i + 30).min(bytes.len())]).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reputation_api_and_bundle_sqlite() {
    reputation_end_to_end(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reputation_api_and_bundle_postgres() {
    reputation_end_to_end(Backend::Postgres).await;
}

/// The node's own job, on a schedule: with ten-second epochs it publishes without being asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_publishes_epochs_on_its_schedule() {
    init_logs();
    let chain = TestChain::start(1).await;
    let p = chain.register_platform(chain.operator()).await;
    let db = jejak_store::test_utils::TestDb::new(Backend::Sqlite).await;
    let node = TestNode::start_with(&chain, db, |cfg| {
        cfg.epochs.enabled = true;
        cfg.epochs.length_secs = 10;
        cfg.epochs.interval_secs = 1;
    })
    .await;
    node.wait_for_platform(p).await;
    let key = node.key(Role::Platform, Some(p)).await;
    // Events a day old, so that whichever ten-second epoch comes next counts them.
    let ids = node.send(&key, vec![link(p, "w", 5, 1), completed("w", "t", 1, 1000), review("w", "t", 1, "4.5")]).await;
    node.wait_final(&chain, &ids).await;
    let store = node.db.store.clone();
    let published = TestNode::eventually(90, "the node to publish an epoch by itself", || {
        let (store, chain) = (store.clone(), &chain);
        async move {
            let mut conn = store.conn().await.ok()?;
            let e = jejak_store::scores::latest_published(&mut conn, 31337).await.ok()??;
            chain.mine(1).await;
            Some(e)
        }
    })
    .await;
    assert_eq!(published.worker_count, 1);
    assert_eq!(published.as_of, published.epoch * 10);
    let roots = JejakReputationRoots::new(chain.deployment.reputation_roots, &chain.provider);
    assert_eq!(roots.rootOf(published.epoch as u64).call().await.unwrap().root.0, published.root);
    node.node.stop().await.unwrap();
}
