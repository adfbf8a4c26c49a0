//! Node-held identities end to end: a node configured with only a proving key makes an identity
//! for a platform, keeps its sealing key in the data directory, proves for the worker against a
//! root published on anvil, and its own verification API accepts the proof once.

use alloy::primitives::FixedBytes;
use jejak_api::auth::Role;
use jejak_chain::bindings::JejakReputationRoots;
use jejak_prover::keys::Reduction;
use jejak_store::scores::{EpochRow, EpochStatus, WorkerScoreRow};
use jejak_tests::{TestChain, TestNode, init_logs, on_both_databases};
use jejak_zk_circuits::{Fr, PoseidonTree, fr_from_decimal, fr_to_be_bytes, worker_leaf};
use serde_json::json;

const DEPTH: usize = 4;
const CONTEXT: &str = "acme-lending/loan-v1";

on_both_databases! {
    async fn a_node_held_identity_proves_through_the_api_against_an_anchored_root(backend) {
        init_logs();
        let chain = TestChain::start(1).await;
        let p = chain.register_platform(chain.operator()).await;
        let dir = tempfile::tempdir().unwrap();
        let pk = jejak_prover::setup::dev_setup(DEPTH, "api-custody-e2e", Reduction::Libsnark).unwrap();
        let pk_path = dir.path().join("proving.key");
        pk.write(&pk_path).unwrap();
        let db = jejak_store::test_utils::TestDb::new(backend).await;
        // Only a proving key: the node verifies with its verifying key.
        let node = TestNode::start_with(&chain, db, |c| {
            c.proofs.proving_key = Some(pk_path.clone());
            c.epochs.depth = DEPTH;
        })
        .await;
        node.wait_for_platform(p).await;
        let platform = node.key(Role::Platform, Some(p)).await;
        let admin = node.key(Role::Admin, None).await;

        let (s, made) = node.call("POST", "/v1/identities", Some(&platform), Some(&json!({"label": "driver 1882"}))).await;
        assert_eq!(s, 201, "{made}");
        assert_eq!(made["custody"], "node");
        let worker = made["worker"].as_str().unwrap().to_owned();
        let seal_key = node.config.keys_dir().join("identity-seal.key");
        assert_eq!(std::fs::read_to_string(&seal_key).unwrap().len(), 64, "made on first start");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(std::fs::metadata(&seal_key).unwrap().permissions().mode() & 0o777, 0o600);
        }

        // Epoch 1 as the epoch job leaves it: the worker's leaf among others, the root on chain.
        let commitment = fr_from_decimal(&worker).unwrap();
        let rows: Vec<(Fr, i64, i64, &str, Fr)> = vec![
            (Fr::from(11u64), 400, 5, "E", Fr::from(1u64)),
            (commitment, 712, 64, "C", Fr::from(2u64)),
            (Fr::from(13u64), 820, 90, "A", Fr::from(3u64)),
        ];
        let tier = |t: &str| jejak_scoring::Tier::from_letter(t).unwrap().leaf_value();
        let leaves: Vec<Fr> =
            rows.iter().map(|(c, s, g, t, salt)| worker_leaf(*c, *s as u64, *g as u64, tier(t), 1, *salt)).collect();
        let tree = PoseidonTree::from_leaves(DEPTH, leaves.clone()).unwrap();
        let chain_id = node.config.chain.chain_id as i64;
        let epoch = EpochRow {
            chain_id,
            epoch: 1,
            status: EpochStatus::Published,
            as_of: 1,
            as_of_block: 1,
            params_version: 1,
            params_cid: "bafkreiparams".into(),
            depth: DEPTH as i64,
            worker_count: rows.len() as i64,
            root: fr_to_be_bytes(&tree.root()),
            platforms: "[]".into(),
            snapshot_cid: Some("bafkreiroot".into()),
            tx_hash: None,
            error: None,
            created_at: 1,
            updated_at: 1,
        };
        let workers: Vec<WorkerScoreRow> = rows
            .iter()
            .zip(&leaves)
            .enumerate()
            .map(|(i, ((c, s, g, t, salt), leaf))| WorkerScoreRow {
                epoch: 1,
                commitment: fr_to_be_bytes(c),
                leaf_index: i as i64,
                reputation: *s,
                credit: 700,
                tier: (*t).into(),
                gigs: *g,
                salt: fr_to_be_bytes(salt),
                leaf: fr_to_be_bytes(leaf),
                card: "{}".into(),
            })
            .collect();
        let mut tx = node.db.store.begin().await.unwrap();
        jejak_store::scores::insert_epoch(&mut tx, &epoch, &workers).await.unwrap();
        jejak_store::commit(tx).await.unwrap();
        let roots = JejakReputationRoots::new(chain.deployment.reputation_roots, &chain.provider);
        roots
            .publishRoot(1, FixedBytes(fr_to_be_bytes(&tree.root())), "bafkreiroot".into(), 1)
            .send().await.unwrap().get_receipt().await.unwrap();
        node.wait_root_indexed(&chain, 1).await;

        // The worker's own key (made by an admin), then a proof for a lender.
        let (s, key) = node.call("POST", "/v1/keys", Some(&admin), Some(&json!({"role": "worker", "worker_id": worker}))).await;
        assert_eq!(s, 201, "{key}");
        let own = key["token"].as_str().unwrap().to_owned();
        let ask = json!({"context": CONTEXT, "platform_id": p, "challenge": "7", "min_score": 700, "min_gigs": 50, "min_tier": 3});
        let (s, answer) = node.call("POST", &format!("/v1/workers/{worker}/proofs"), Some(&own), Some(&ask)).await;
        assert_eq!(s, 200, "{answer}");
        assert_eq!(answer["epoch"], 1);

        let verify = |consume: bool| json!({"proof": answer["proof"], "context": CONTEXT, "challenge": "7",
            "require": {"min_score": 700, "min_gigs": 50, "min_tier": 3}, "consume": consume});
        TestNode::eventually(60, "the root to be final", || {
            let (node, chain, platform, body) = (&node, &chain, &platform, verify(false));
            async move {
                let (s, b) = node.call("POST", "/v1/verify/proof", Some(platform), Some(&body)).await;
                assert_eq!(s, 200, "{b}");
                if b["valid"] == true {
                    return Some(());
                }
                chain.mine(1).await;
                None
            }
        })
        .await;
        let (s, b) = node.call("POST", "/v1/verify/proof", Some(&platform), Some(&verify(true))).await;
        assert_eq!((s, &b["valid"], &b["nullifier_consumed"]), (200, &json!(true), &json!(true)), "{b}");
        let (s, b) = node.call("POST", "/v1/verify/proof", Some(&platform), Some(&verify(true))).await;
        assert_eq!((s, b["error"]["code"].as_str()), (409, Some("nullifier_used")), "{b}");
        let metrics = node.http.get(format!("{}/metrics", node.api)).send().await.unwrap().text().await.unwrap();
        assert!(metrics.contains("jejak_proofs_made_total 1"), "{metrics}");
        node.node.stop().await.unwrap();
    }
}
