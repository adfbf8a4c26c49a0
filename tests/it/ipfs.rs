//! IPFS documents named on chain: never trusted, retried until they appear, capped in size, and
//! served between jejak nodes over the trustless-gateway protocol.

use alloy::primitives::B256;
use jejak_api::auth::Role;
use jejak_chain::bindings::JejakAttestations;
use jejak_core::batch::BatchDocument;
use jejak_core::merkle;
use jejak_node::anvil::DEV_KEYS;
use jejak_store::ipfs::{FetchStatus, QueuedObject};
use jejak_store::test_utils::TestDb;
use jejak_tests::gateway::TestGateway;
use jejak_tests::{TestChain, TestNode, init_logs, on_both_databases};
use serde_json::json;

/// A platform that anchors on its own (signer: dev key 1), so the node holds none of its
/// documents and must fetch them.
struct SelfAnchoring {
    platform: u64,
    provider: alloy::providers::DynProvider,
    contract: alloy::primitives::Address,
}

impl SelfAnchoring {
    async fn new(chain: &TestChain) -> Self {
        let signer = jejak_chain::signer_from_hex(DEV_KEYS[1]).unwrap();
        let platform = chain.register_platform(signer.address()).await;
        let provider = jejak_chain::connect_signing(&chain.anvil.endpoint(), signer).unwrap();
        Self { platform, provider, contract: chain.deployment.attestations }
    }

    /// A batch document of `n` leaves (distinct per `tag`).
    fn document(&self, n: usize, tag: u8) -> BatchDocument {
        let leaves: Vec<[u8; 32]> = (0..n).map(|i| merkle::leaf_hash(&[tag, i as u8, (i >> 8) as u8])).collect();
        BatchDocument::new(31337, self.platform, &leaves).unwrap()
    }

    /// Anchors `root` and `count` naming `cid`.
    async fn anchor(&self, root: [u8; 32], count: u32, cid: &str) {
        let c = JejakAttestations::new(self.contract, &self.provider);
        let r = c
            .anchorBatch(self.platform, B256::from(root), count, cid.to_string())
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        assert!(r.status());
    }
}

async fn queued(node: &TestNode, cid: &str) -> Option<QueuedObject> {
    jejak_store::ipfs::get(&mut *node.db.store.conn().await.ok()?, cid).await.ok()?
}

async fn wait_status(node: &TestNode, cid: &str, status: FetchStatus) -> QueuedObject {
    TestNode::eventually(60, &format!("{cid} to be {status:?}"), || async move {
        queued(node, cid).await.filter(|o| o.status == status)
    })
    .await
}

async fn held(node: &TestNode, cid: &str) -> bool {
    node.node.blockstore.has(&jejak_core::cid::parse(cid).unwrap()).await.unwrap()
}

on_both_databases! {
    async fn documents_are_checked_retried_and_capped(backend) {
        init_logs();
        let chain = TestChain::start(1).await;
        let platform = SelfAnchoring::new(&chain).await;
        let honest = TestGateway::start().await;
        let liar = TestGateway::start().await;
        let node = TestNode::start_with(&chain, TestDb::new(backend).await, |c| {
            c.ipfs.gateways = vec![honest.url.clone(), liar.url.clone()];
            c.ipfs.max_object_bytes = 2000;
        })
        .await;

        // Missing at first: retried with backoff, fetched once it appears.
        let doc = platform.document(5, 1);
        let bytes = doc.to_bytes();
        let cid = jejak_core::cid::raw_cid(&bytes).to_string();
        platform.anchor(doc.root, doc.count, &cid).await;
        TestNode::eventually(30, "two failed attempts", || async {
            queued(&node, &cid).await.filter(|o| o.attempts >= 2 && o.status == FetchStatus::Pending)
        })
        .await;
        assert!(!held(&node, &cid).await);
        honest.add(&bytes);
        let fetched = wait_status(&node, &cid, FetchStatus::Fetched).await;
        assert_eq!(fetched.size, Some(bytes.len() as i64));
        assert!(held(&node, &cid).await);

        // Only a liar has it: the bytes do not hash to the CID, so it is invalid and not stored.
        let doc = platform.document(5, 2);
        let lied_cid = jejak_core::cid::raw_cid(&doc.to_bytes()).to_string();
        liar.lie_about(&lied_cid);
        platform.anchor(doc.root, doc.count, &lied_cid).await;
        let invalid = wait_status(&node, &lied_cid, FetchStatus::Invalid).await;
        assert!(invalid.error.unwrap().contains("does not match"), "the reason names the mismatch");
        assert!(!held(&node, &lied_cid).await);

        // Bytes that match their CID but not what the chain anchored: invalid too.
        let doc = platform.document(5, 3);
        let bytes = doc.to_bytes();
        let cid = honest.add(&bytes);
        platform.anchor([0x42; 32], doc.count, &cid).await;
        let invalid = wait_status(&node, &cid, FetchStatus::Invalid).await;
        assert!(invalid.error.unwrap().contains("anchored"), "the reason says it contradicts the chain");
        assert!(!held(&node, &cid).await);

        // Larger than the cap: refused, never stored.
        let doc = platform.document(100, 4);
        let bytes = doc.to_bytes();
        assert!(bytes.len() > 2000);
        let cid = honest.add(&bytes);
        platform.anchor(doc.root, doc.count, &cid).await;
        let refused = wait_status(&node, &cid, FetchStatus::Invalid).await;
        assert!(refused.error.unwrap().contains("size cap"));
        assert!(!held(&node, &cid).await);

        // The status endpoint counts the queue by status.
        let (s, status) = node.get("", "/v1/index/status").await;
        assert_eq!(s, 200);
        assert_eq!(status["ipfs"]["fetched"], 1);
        assert_eq!(status["ipfs"]["invalid"], 3);
        node.node.stop().await.unwrap();
    }
}

on_both_databases! {
    async fn a_second_node_fetches_through_the_first_nodes_gateway(backend) {
        init_logs();
        let chain = TestChain::start(1).await;
        let platform = chain.register_platform(chain.operator()).await;
        let kubo = TestGateway::start().await;
        let first = TestNode::start_with(&chain, TestDb::new(backend).await, |c| c.ipfs.kubo_rpc = Some(kubo.url.clone())).await;
        let key = first.key(Role::Platform, Some(platform)).await;
        first.wait_for_platform(platform).await;
        let event = json!({"type": "task_completed", "worker": "w1", "occurred_at": "2026-11-01T00:00:00Z", "data": {"task_id": "t1"}});
        let (s, body) = first.post_events(&key, &json!({"events": [event]}), None).await;
        assert_eq!(s, 202, "{body}");
        let id = body["accepted"][0]["id"].as_str().unwrap().to_string();
        let receipt = TestNode::eventually(60, "the batch to be anchored", || {
            let (first, key, id) = (&first, key.clone(), id.clone());
            async move {
                let (_, r) = first.get(&key, &format!("/v1/attestations/{id}")).await;
                r.get("anchor").is_some().then_some(r)
            }
        })
        .await;
        let cid = receipt["batch"]["cid"].as_str().unwrap().to_string();
        // Published documents are pinned to the configured Kubo node.
        let pinned = kubo.get(&cid).expect("the batch document was pinned to Kubo");
        assert_eq!(jejak_core::cid::raw_cid(&pinned).to_string(), cid);

        // A second node, with its own database and blockstore, gets it from the first one's gateway.
        let second = TestNode::start_with(&chain, TestDb::new(backend).await, |c| {
            c.operator.private_key = None;
            c.ipfs.gateways = vec![first.api.clone()];
        })
        .await;
        wait_status(&second, &cid, FetchStatus::Fetched).await;
        assert!(held(&second, &cid).await);
        let served = second.http.get(format!("{}/ipfs/{cid}", second.api)).send().await.unwrap().bytes().await.unwrap();
        assert_eq!(served.to_vec(), pinned);

        // A third fetches it from Kubo's RPC.
        let third = TestNode::start_with(&chain, TestDb::new(backend).await, |c| {
            c.operator.private_key = None;
            c.ipfs.kubo_rpc = Some(kubo.url.clone());
        })
        .await;
        let before = kubo.requests();
        wait_status(&third, &cid, FetchStatus::Fetched).await;
        assert!(kubo.requests() > before, "the third node asked Kubo");
        for n in [first, second, third] {
            n.node.stop().await.unwrap();
        }
    }
}
