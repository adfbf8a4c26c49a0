//! The first flow, end to end: a registered platform sends an event; it is batched, anchored on
//! anvil, indexed with its IPFS document, and the receipt proves it against the chain.

use alloy::primitives::{B256, U256};
use jejak_api::auth::Role;
use jejak_chain::bindings::JejakAttestations;
use jejak_core::batch::BatchDocument;
use jejak_core::{attestation, jcs, merkle};
use jejak_store::ipfs::FetchStatus;
use jejak_tests::{Backend, TestChain, TestNode, init_logs};
use serde_json::{Value, json};

fn hex32(v: &Value) -> [u8; 32] {
    let s = v.as_str().unwrap_or_else(|| panic!("expected hex, got {v}"));
    hex::decode(s.trim_start_matches("0x")).unwrap().try_into().unwrap()
}

async fn first_flow(backend: Backend) {
    init_logs();
    let chain = TestChain::start(1).await;
    let platform = chain.register_platform(chain.operator()).await;
    let node = TestNode::start(&chain, backend).await;
    let key = node.key(Role::Platform, Some(platform)).await;
    node.wait_for_platform(platform).await;

    let event = json!({
        "type": "task_completed",
        "event_id": "ride-7781",
        "worker": "driver-ayu",
        "occurred_at": "2026-11-20T08:30:00Z",
        "data": {"task_id": "ride-7781", "category": "ride", "earnings_minor": 32000, "currency": "IDR"}
    });
    let (status, body) = node.post_events(&key, &json!({ "events": [event.clone()] }), Some("req-1")).await;
    assert_eq!(status, 202, "{body}");
    let id = body["accepted"][0]["id"].as_str().unwrap().to_string();

    // Batched, anchored, indexed, then final once the chain moves on.
    let receipt = TestNode::eventually(60, "the attestation to become final", || {
        let (node, chain, id, key) = (&node, &chain, id.clone(), key.clone());
        async move {
            let (s, r) = node.get(&key, &format!("/v1/attestations/{id}")).await;
            assert_eq!(s, 200, "{r}");
            if r["status"] == "final" {
                return Some(r);
            }
            chain.mine(1).await;
            None
        }
    })
    .await;

    // The leaf follows from the event as sent and the disclosed salt.
    let canonical = jcs::to_vec(&event).unwrap();
    assert_eq!(receipt["event"], event);
    let digest = attestation::event_digest(&canonical);
    assert_eq!(hex32(&receipt["event_digest"]), digest);
    let salt = attestation::Salt(hex32(&receipt["salt"]));
    let leaf = attestation::leaf_hash(&salt, &digest);
    assert_eq!(hex32(&receipt["leaf"]), leaf);

    // The inclusion proof leads to the batch root.
    let root = hex32(&receipt["batch"]["root"]);
    let count = receipt["batch"]["count"].as_u64().unwrap();
    let index = receipt["leaf_index"].as_u64().unwrap();
    let proof: Vec<[u8; 32]> = receipt["inclusion_proof"].as_array().unwrap().iter().map(hex32).collect();
    assert!(merkle::verify_inclusion(index, count, &leaf, &proof, &root));

    // The anchor says where; the chain agrees.
    let anchor = &receipt["anchor"];
    assert_eq!(anchor["chain_id"], 31337);
    assert_eq!(anchor["finalized"], true);
    assert_eq!(
        anchor["contract"].as_str().unwrap().parse::<alloy::primitives::Address>().unwrap(),
        chain.deployment.attestations
    );
    let batch_id = anchor["batch_id"].as_u64().unwrap();
    let contract = JejakAttestations::new(chain.deployment.attestations, &chain.provider);
    let onchain = contract.batch(batch_id).call().await.unwrap();
    assert_eq!(onchain.root, B256::from(root));
    assert_eq!(u64::from(onchain.count), count);
    assert_eq!(onchain.platformId, platform);
    let tx: B256 = anchor["transaction_hash"].as_str().unwrap().parse().unwrap();
    let mined = alloy::providers::Provider::get_transaction_receipt(&chain.provider, tx).await.unwrap().unwrap();
    assert_eq!(mined.block_number, anchor["block_number"].as_u64());
    assert!(mined.status());
    assert_eq!(U256::from(mined.block_number.unwrap()), U256::from(anchor["block_number"].as_u64().unwrap()));

    // The batch document is a CIDv1 raw block the node serves, re-hashed and recorded by the indexer.
    let cid = receipt["batch"]["cid"].as_str().unwrap().to_string();
    let bytes = node.http.get(format!("{}/ipfs/{cid}", node.api)).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(jejak_core::cid::raw_cid(&bytes).to_string(), cid);
    let doc = BatchDocument::from_bytes(&bytes).unwrap();
    assert_eq!((doc.root, doc.leaves[index as usize].0, doc.platform_id), (root, leaf, platform));
    let fetched = TestNode::eventually(30, "the batch document to be fetched and checked", || {
        let (store, cid) = (node.db.store.clone(), cid.clone());
        async move {
            let o = jejak_store::ipfs::get(&mut *store.conn().await.ok()?, &cid).await.ok()??;
            (o.status == FetchStatus::Fetched).then_some(o)
        }
    })
    .await;
    assert_eq!(fetched.size, Some(bytes.len() as i64));

    node.node.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_flow_sqlite() {
    first_flow(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_flow_postgres() {
    first_flow(Backend::Postgres).await;
}
