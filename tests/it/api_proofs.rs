//! `POST /v1/verify/proof` against roots the indexer recorded from anvil: a valid proof passes
//! once and its replay answers 409; concurrent proofs are verified (in batches); a proof for
//! another context, for another platform (same label), with swapped proof points, or against an
//! expired root does not pass.

use alloy::primitives::FixedBytes;
use jejak_api::auth::Role;
use jejak_chain::bindings::JejakReputationRoots;
use jejak_prover::bundle::ProofBundle;
use jejak_prover::keys::Reduction;
use jejak_tests::{TestChain, TestNode, init_logs, on_both_databases};
use jejak_zk_circuits::{
    Fr, PoseidonTree, Requirement, WorkerRecord, build_statement, context_from_label, fr_to_be_bytes,
    platform_consumer, scope,
};
use serde_json::{Value, json};

const DEPTH: usize = 4;
const CONTEXT: &str = "acme-lending/loan-v1";

fn record(i: u64, epoch: u64) -> WorkerRecord {
    WorkerRecord { secret: Fr::from(1000 + i), score: 700 + i, gigs: 60, tier: 2, epoch, salt: Fr::from(77 + i) }
}

on_both_databases! {
    async fn proofs_verify_once_against_final_roots_inside_their_window(backend) {
        init_logs();
        let chain = TestChain::start(1).await;
        let p = chain.register_platform(chain.operator()).await;
        let dir = tempfile::tempdir().unwrap();
        let pk = jejak_prover::setup::dev_setup(DEPTH, "api-proof-test", Reduction::Libsnark).unwrap();
        let vk_path = dir.path().join("verifying.key");
        let vk = pk.verifying_key();
        vk.write(&vk_path).unwrap();
        let prover = jejak_prover::Prover::new(pk).unwrap();
        let db = jejak_store::test_utils::TestDb::new(backend).await;
        let node = TestNode::start_with(&chain, db, |c| c.proofs.verifying_key = Some(vk_path.clone())).await;
        node.wait_for_platform(p).await;
        let key = node.key(Role::Platform, Some(p)).await;
        let q = chain.register_platform(chain.operator()).await;
        node.wait_for_platform(q).await;
        let key_q = node.key(Role::Platform, Some(q)).await;

        // Epoch 1: eight workers, the root published by the operator and final.
        let records: Vec<WorkerRecord> = (0..8).map(|i| record(i, 1)).collect();
        let tree = PoseidonTree::from_leaves(DEPTH, records.iter().map(|r| r.leaf()).collect()).unwrap();
        let roots = JejakReputationRoots::new(chain.deployment.reputation_roots, &chain.provider);
        roots
            .publishRoot(1, FixedBytes(fr_to_be_bytes(&tree.root())), "bafkreiroot".into(), 1)
            .send().await.unwrap().get_receipt().await.unwrap();
        node.wait_root_indexed(&chain, 1).await;
        chain.mine(5).await;

        let roots_addr: [u8; 20] = chain.deployment.reputation_roots.into();
        let requirement_for = |platform| Requirement {
            min_score: 650,
            min_gigs: 50,
            min_tier: 1,
            scope: scope(31337, roots_addr, platform_consumer(Some(platform)), context_from_label(CONTEXT)),
            challenge: Fr::from(42u64),
        };
        let requirement = requirement_for(p as u64);
        assert_ne!(requirement.scope, requirement_for(q as u64).scope, "two platforms, one label, one scope");
        let vk_hash = vk.key_hash().unwrap();
        let bundles: Vec<Value> = records
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let (statement, witness) = build_statement(r, &tree.path(i as u64).unwrap(), &requirement).unwrap();
                let proof = prover.prove(&statement.public_inputs().unwrap(), &witness, &mut rand::rngs::OsRng).unwrap();
                serde_json::to_value(ProofBundle::new(DEPTH, vk_hash.clone(), &statement, &proof).unwrap()).unwrap()
            })
            .collect();
        let request = |b: &Value| json!({"proof": b, "context": CONTEXT, "challenge": "42",
                                          "require": {"min_score": 600, "min_gigs": 50, "min_tier": 1}});
        let verify = |body: Value| {
            let (node, key) = (&node, key.clone());
            async move { node.call("POST", "/v1/verify/proof", Some(&key), Some(&body)).await }
        };

        // Final root: wait until the indexer has finalized the publishing block.
        let answer = TestNode::eventually(60, "the root to be final", || {
            let (chain, verify, body) = (&chain, &verify, request(&bundles[0]));
            async move {
                let (s, b) = verify(json!({"proof": body["proof"], "context": CONTEXT, "consume": false})).await;
                assert_eq!(s, 200, "{b}");
                if b["valid"] == true {
                    return Some(b);
                }
                chain.mine(1).await;
                None
            }
        })
        .await;
        assert_eq!(answer["nullifier_consumed"], false);

        let (s, b) = verify(request(&bundles[0])).await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["valid"], true, "{b}");
        assert_eq!(b["nullifier_consumed"], true);
        // The answer names the key and its origin (from the key file's hashed header), as /readyz does.
        let key_json = json!({"sha256": vk_hash, "origin": "insecure-dev-setup", "zkey_sha256": null, "insecure": true});
        assert_eq!(b["verifying_key"], key_json, "{b}");
        let (_, ready) = node.call("GET", "/readyz", None, None).await;
        assert_eq!(ready["verifying_key"], key_json, "{ready}");
        let names: Vec<&str> = b["checks"].as_array().unwrap().iter().map(|c| c["check"].as_str().unwrap()).collect();
        assert_eq!(
            names,
            ["format", "verifying_key", "scope", "root_anchored", "root_finalized", "root_window", "requirement", "challenge", "nullifier_unused", "groth16"]
        );
        // Replayed: 409.
        let (s, b) = verify(request(&bundles[0])).await;
        assert_eq!((s, b["error"]["code"].as_str()), (409, Some("nullifier_used")), "{b}");

        // Seven at once, twice each: each verifies, each nullifier is consumed once.
        let answers = futures::future::join_all(bundles[1..].iter().chain(&bundles[1..]).map(|b| verify(request(b)))).await;
        let (ok, replays): (Vec<_>, Vec<_>) = answers.iter().partition(|(s, _)| *s == 200);
        assert_eq!(ok.len(), 7, "{answers:?}");
        assert!(ok.iter().all(|(_, b)| b["valid"] == true));
        assert!(replays.iter().all(|(s, b)| *s == 409 && b["error"]["code"] == "nullifier_used"), "{replays:?}");

        // Another context: the scope check fails, nothing consumed.
        let (s, b) = verify(json!({"proof": bundles[1], "context": "someone-else", "consume": false})).await;
        assert_eq!((s, &b["valid"]), (200, &json!(false)), "{b}");
        let failed: Vec<&str> = b["checks"].as_array().unwrap().iter().filter(|c| c["outcome"] == "fail").map(|c| c["check"].as_str().unwrap()).collect();
        assert!(failed.contains(&"scope"), "{b}");
        // Platform q uses the same label: p's proof (consumed by p) is bound to another scope, and q
        // does not learn that p consumed it.
        let verify_q = |body: Value| {
            let (node, key) = (&node, key_q.clone());
            async move { node.call("POST", "/v1/verify/proof", Some(&key), Some(&body)).await }
        };
        let (s, b) = verify_q(request(&bundles[1])).await;
        assert_eq!((s, &b["valid"], &b["nullifier_consumed"]), (200, &json!(false), &json!(false)), "{b}");
        let outcome = |b: &Value, name: &str| {
            b["checks"].as_array().unwrap().iter().find(|c| c["check"] == name).unwrap()["outcome"].clone()
        };
        assert_eq!(outcome(&b, "scope"), "fail", "{b}");
        assert_eq!(outcome(&b, "nullifier_unused"), "not_checked", "{b}");
        // The same worker's proof made for q passes for q once, then q (and only q) sees a replay.
        let (statement, witness) = build_statement(&records[1], &tree.path(1).unwrap(), &requirement_for(q as u64)).unwrap();
        let proof = prover.prove(&statement.public_inputs().unwrap(), &witness, &mut rand::rngs::OsRng).unwrap();
        let for_q = serde_json::to_value(ProofBundle::new(DEPTH, vk_hash.clone(), &statement, &proof).unwrap()).unwrap();
        let (s, b) = verify_q(request(&for_q)).await;
        assert_eq!((s, &b["valid"], &b["nullifier_consumed"]), (200, &json!(true), &json!(true)), "{b}");
        let (s, b) = verify_q(request(&for_q)).await;
        assert_eq!((s, b["error"]["code"].as_str()), (409, Some("nullifier_used")), "{b}");
        let (s, b) = verify(request(&for_q)).await;
        assert_eq!((s, &b["valid"]), (200, &json!(false)), "{b}");
        assert_eq!(outcome(&b, "nullifier_unused"), "not_checked", "{b}");
        // A higher requirement than proven.
        let (_, b) = verify(json!({"proof": bundles[2], "context": CONTEXT, "consume": false, "require": {"min_score": 800}})).await;
        assert_eq!(b["valid"], false, "{b}");
        // Another worker's proof points under this statement: the pairing says no.
        let mut swapped = bundles[2].clone();
        swapped["proof"] = bundles[3]["proof"].clone();
        swapped["solidity_proof"] = bundles[3]["solidity_proof"].clone();
        let (s, b) = verify(json!({"proof": swapped, "context": CONTEXT, "consume": false})).await;
        assert_eq!(s, 200, "{b}");
        let groth16 = b["checks"].as_array().unwrap().iter().find(|c| c["check"] == "groth16").unwrap();
        assert_eq!((&b["valid"], &groth16["outcome"]), (&json!(false), &json!("fail")), "{b}");
        // A malformed bundle is a bad request, not a failed proof.
        let (s, b) = verify(json!({"proof": {"format": "nope"}, "context": CONTEXT})).await;
        assert_eq!((s, b["error"]["code"].as_str()), (422, Some("invalid_request")));

        // Epoch 2 replaces epoch 1 with a zero window: epoch 1's root has expired.
        roots.setValidityWindow(0).send().await.unwrap().get_receipt().await.unwrap();
        let epoch2 = PoseidonTree::from_leaves(DEPTH, vec![record(0, 2).leaf()]).unwrap();
        roots
            .publishRoot(2, FixedBytes(fr_to_be_bytes(&epoch2.root())), "bafkreiroot2".into(), 1)
            .send().await.unwrap().get_receipt().await.unwrap();
        node.wait_root_indexed(&chain, 2).await;
        let b = TestNode::eventually(60, "the replacement to be indexed", || {
            let (verify, chain) = (&verify, &chain);
            let body = json!({"proof": bundles[1], "context": CONTEXT, "consume": false});
            async move {
                let (_, b) = verify(body).await;
                let window = b["checks"].as_array()?.iter().find(|c| c["check"] == "root_window")?.clone();
                if window["outcome"] == "fail" {
                    return Some(b);
                }
                chain.mine(1).await;
                None
            }
        })
        .await;
        assert_eq!(b["valid"], false);

        // Epoch 3 replaces epoch 2 with a saturated window (expiresAt = 2^64 - 1): epoch 2's root is
        // accepted for ever, not read back as -1 and reported expired.
        roots.setValidityWindow(u64::MAX).send().await.unwrap().get_receipt().await.unwrap();
        let (statement, witness) = build_statement(&record(0, 2), &epoch2.path(0).unwrap(), &requirement).unwrap();
        let proof = prover.prove(&statement.public_inputs().unwrap(), &witness, &mut rand::rngs::OsRng).unwrap();
        let epoch2_bundle = serde_json::to_value(ProofBundle::new(DEPTH, vk_hash.clone(), &statement, &proof).unwrap()).unwrap();
        let epoch3 = PoseidonTree::from_leaves(DEPTH, vec![record(0, 3).leaf()]).unwrap();
        roots
            .publishRoot(3, FixedBytes(fr_to_be_bytes(&epoch3.root())), "bafkreiroot3".into(), 1)
            .send().await.unwrap().get_receipt().await.unwrap();
        node.wait_root_indexed(&chain, 3).await;
        let b = TestNode::eventually(60, "epoch 2's replacement to be indexed", || {
            let (verify, chain) = (&verify, &chain);
            let body = json!({"proof": epoch2_bundle, "context": CONTEXT, "consume": false});
            async move {
                let (_, b) = verify(body).await;
                let window = b["checks"].as_array()?.iter().find(|c| c["check"] == "root_window")?.clone();
                if window["detail"].as_str()?.starts_with("replaced") {
                    return Some(b);
                }
                chain.mine(1).await;
                None
            }
        })
        .await;
        let window = b["checks"].as_array().unwrap().iter().find(|c| c["check"] == "root_window").unwrap();
        assert_eq!(window["outcome"], "pass", "{b}");
        assert!(window["detail"].as_str().unwrap().contains("for ever"), "{b}");
        // The same worker's secret already spent its nullifier in this scope at epoch 1; every
        // other check passes.
        let failed: Vec<&str> = b["checks"].as_array().unwrap().iter().filter(|c| c["outcome"] == "fail").map(|c| c["check"].as_str().unwrap()).collect();
        assert_eq!(failed, ["nullifier_unused"], "{b}");
        let metrics = node.http.get(format!("{}/metrics", node.api)).send().await.unwrap().text().await.unwrap();
        assert!(metrics.contains("jejak_proofs_verified_total{result=\"valid\"}"), "{metrics}");
        node.node.stop().await.unwrap();
    }
}
