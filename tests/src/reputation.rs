//! Helpers for the reputation tests: identities, work events, waiting for finality, and an
//! epoch job beside a test node (the node's own job is off in tests unless asked for).

use jejak_anchor::epoch::{EpochConfig, EpochJob, Salts};
use jejak_api::auth::{self, Role};
use jejak_store::{keys, now_secs};
use jejak_zk_circuits::{Fr, fr_to_decimal, identity_commitment};
use serde_json::{Value, json};

use crate::{TestChain, TestNode};

/// Chain id of the test chain (anvil).
pub const CHAIN_ID: u64 = 31337;

/// The identity commitment of a secret, `Poseidon(Poseidon(secret), k)`, in decimal.
pub fn commitment(secret: u64) -> String {
    fr_to_decimal(&identity_commitment(Fr::from(secret)))
}

/// The worker's link token (for an hour) that lets `platform` link `account` to the identity of
/// `secret` on the test chain.
pub fn link_token(secret: u64, platform: u64, account: &str) -> Value {
    let now = now_secs() as u64;
    let token = jejak_api::services::links::issue(&Fr::from(secret), CHAIN_ID, platform, account, now, 3600)
        .expect("a link token");
    serde_json::to_value(token).expect("a token serialises")
}

/// RFC 3339 time `days_ago` days before now.
pub fn at(days_ago: i64) -> String {
    let t = time::OffsetDateTime::now_utc() - time::Duration::days(days_ago);
    t.replace_nanosecond(0).unwrap().format(&time::format_description::well_known::Rfc3339).unwrap()
}

/// `account_linked` of `worker` on `platform` to the identity of `secret`, with the worker's
/// link token.
pub fn link(platform: u64, worker: &str, secret: u64, days_ago: i64) -> Value {
    json!({"type": "account_linked", "worker": worker, "occurred_at": at(days_ago),
           "data": {"identity_commitment": commitment(secret), "link_token": link_token(secret, platform, worker)}})
}

/// `task_completed` with earnings in IDR.
pub fn completed(worker: &str, task: &str, days_ago: i64, earnings: i64) -> Value {
    json!({"type": "task_completed", "worker": worker, "occurred_at": at(days_ago),
           "data": {"task_id": task, "earnings_minor": earnings, "currency": "IDR"}})
}

/// `review` on a five-star scale; `rating` is the JSON number text ("4.8").
pub fn review(worker: &str, task: &str, days_ago: i64, rating: &str) -> Value {
    let body = format!(
        r#"{{"type":"review","worker":"{worker}","occurred_at":"{}","data":{{"task_id":"{task}","rating":{rating}}}}}"#,
        at(days_ago)
    );
    serde_json::from_str(&body).expect("a review body")
}

/// `task_cancelled` by the worker.
pub fn cancelled(worker: &str, task: &str, days_ago: i64) -> Value {
    json!({"type": "task_cancelled", "worker": worker, "occurred_at": at(days_ago), "data": {"task_id": task, "cancelled_by": "worker"}})
}

/// `dispute_resolved` against the worker.
pub fn lost_dispute(worker: &str, task: &str, days_ago: i64) -> Value {
    json!({"type": "dispute_resolved", "worker": worker, "occurred_at": at(days_ago), "data": {"task_id": task, "outcome": "worker_lost"}})
}

/// `savings_contribution`.
pub fn savings(worker: &str, days_ago: i64) -> Value {
    json!({"type": "savings_contribution", "worker": worker, "occurred_at": at(days_ago), "data": {"amount_minor": 100000, "currency": "IDR"}})
}

/// `loan_repaid`.
pub fn repaid(worker: &str, loan: &str, days_ago: i64, on_time: bool) -> Value {
    json!({"type": "loan_repaid", "worker": worker, "occurred_at": at(days_ago),
           "data": {"loan_id": loan, "amount_minor": 250000, "currency": "IDR", "on_time": on_time}})
}

impl TestNode {
    /// A worker key for the identity `commitment`.
    pub async fn worker_key(&self, commitment: &str) -> String {
        let k = auth::new_key(Role::Worker, None, Some(commitment.to_string()), "worker", now_secs());
        keys::insert(&mut self.db.store.conn().await.unwrap(), &k.row).await.unwrap();
        k.token
    }

    /// Sends events as a platform; returns their attestation ids.
    pub async fn send(&self, token: &str, events: Vec<Value>) -> Vec<String> {
        let mut ids = Vec::new();
        for chunk in events.chunks(500) {
            let (status, body) = self.post_events(token, &json!({ "events": chunk }), None).await;
            assert_eq!(status, 202, "{body}");
            ids.extend(body["accepted"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap().to_string()));
        }
        ids
    }

    /// Mines until every attestation is anchored in a finalized block.
    pub async fn wait_final(&self, chain: &TestChain, ids: &[String]) {
        let admin = self.key(Role::Admin, None).await;
        for id in ids {
            TestNode::eventually(90, &format!("attestation {id} to become final"), || {
                let (admin, id) = (admin.clone(), id.clone());
                async move {
                    let (s, r) = self.get(&admin, &format!("/v1/attestations/{id}")).await;
                    assert_eq!(s, 200, "{r}");
                    if r["status"] == "final" {
                        return Some(());
                    }
                    chain.mine(1).await;
                    None
                }
            })
            .await;
        }
    }

    /// Mines until the indexer has recorded the `RootPublished` of `epoch`.
    pub async fn wait_root_indexed(&self, chain: &TestChain, epoch: u64) {
        let store = self.db.store.clone();
        let chain_id = self.config.chain.chain_id as i64;
        TestNode::eventually(60, "the published root to be indexed", || {
            let store = store.clone();
            async move {
                let mut c = store.conn().await.ok()?;
                let found = jejak_store::scores::published_root(&mut c, chain_id, epoch as i64).await.ok()?;
                if found.is_none() {
                    chain.mine(1).await;
                }
                found
            }
        })
        .await;
    }

    /// An epoch job beside this node (same store, blockstore and transaction sender, so its
    /// nonces stay in order with the batcher's), with one-second epochs from the unix epoch, so
    /// that epoch `e` is scored as of unix time `e`.
    pub async fn epoch_job(&self, chain: &TestChain, salts: Salts) -> EpochJob {
        let sender = self.node.sender.clone().expect("the test node has the operator key");
        let mut cfg = EpochConfig::new(self.config.chain.chain_id, chain.deployment.reputation_roots);
        cfg.length_secs = 1;
        cfg.genesis = 0;
        cfg.receipt_timeout = std::time::Duration::from_secs(20);
        EpochJob::new(
            cfg,
            self.db.store.clone(),
            self.node.blockstore.clone(),
            None,
            sender,
            jejak_scoring::Params::v1(),
        )
        .unwrap()
        .with_salts(salts)
    }
}
