//! Anchoring jobs of jejak.
//!
//! [`Batcher`] turns accepted events into anchored batches: per platform it takes the events not
//! yet batched (in acceptance order), builds the RFC 6962 tree of their salted leaves, stores the
//! batch document in the blockstore (and pins it to Kubo when configured), records the batch and
//! the leaf positions in one transaction, then calls `anchorBatch` with the platform's signer
//! key. The transaction hash is recorded before the broadcast (see [`jejak_chain::Sender`]), so a
//! crash at any point neither loses a batch nor anchors one twice.
//!
//! [`epoch::EpochJob`] scores every linked identity at each epoch from finalized attestations
//! (`jejak-scoring`), builds the Poseidon tree of worker leaves, publishes the snapshot as IPFS
//! blocks and the root with `publishRoot`; each step is recorded so a crash resumes where it
//! stopped.
//!
//! [`EvidenceAnchorer`] anchors the append-only evidence log: each time it grows, its root at the
//! new size goes on chain with `anchorEvidence(root, size, cid)`, `cid` naming the public
//! checkpoint document; see [`evidence`].

pub mod epoch;
mod error;
pub mod evidence;

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{Address, B256};
use alloy::sol_types::SolCall;
use jejak_chain::bindings::JejakAttestations;
use jejak_chain::{Sender, Sent};
use jejak_core::batch::{BatchDocument, MAX_BATCH_LEAVES};
use jejak_ipfs::{Blockstore, Kubo};
use jejak_store::batches::{self, BatchRow, BatchStatus};
use jejak_store::{Store, attestations, chain, now_secs};
use tokio_util::sync::CancellationToken;

pub use error::{Error, Result};
pub use evidence::{EvidenceAnchorConfig, EvidenceAnchorer, EvidenceRound};

/// How batches are made and anchored.
#[derive(Debug, Clone)]
pub struct BatcherConfig {
    /// EVM chain id.
    pub chain_id: u64,
    /// The `JejakAttestations` contract.
    pub attestations: Address,
    /// Wait between rounds.
    pub interval: Duration,
    /// Most events in one batch (at most [`MAX_BATCH_LEAVES`]).
    pub max_batch: usize,
    /// How long to wait for a receipt within one round.
    pub receipt_timeout: Duration,
}

impl BatcherConfig {
    /// Defaults for a deployment.
    pub fn new(chain_id: u64, attestations: Address) -> Self {
        Self {
            chain_id,
            attestations,
            interval: Duration::from_secs(5),
            max_batch: MAX_BATCH_LEAVES,
            receipt_timeout: Duration::from_secs(60),
        }
    }
}

/// What a batch's transactions are recorded under by the sender.
fn purpose(batch_id: i64) -> String {
    format!("batch:{batch_id}")
}

/// An error text fit for a TEXT column on both engines: RPC errors can carry raw revert bytes,
/// and PostgreSQL refuses NUL in text. Control characters become `?`; long texts are cut.
pub(crate) fn printable(text: &str) -> String {
    text.chars().take(1000).map(|c| if c.is_control() { '?' } else { c }).collect()
}

/// The batching and anchoring job.
#[derive(Debug, Clone)]
pub struct Batcher {
    cfg: BatcherConfig,
    store: Store,
    blockstore: Blockstore,
    kubo: Option<Kubo>,
    sender: Arc<Sender>,
}

/// What a round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    /// Batches built.
    pub built: usize,
    /// Batches whose transaction was sent.
    pub submitted: usize,
    /// Batches whose transaction was mined.
    pub anchored: usize,
}

impl Batcher {
    /// A batcher anchoring with `sender`'s key.
    pub fn new(
        cfg: BatcherConfig,
        store: Store,
        blockstore: Blockstore,
        kubo: Option<Kubo>,
        sender: Arc<Sender>,
    ) -> Self {
        let max_batch = cfg.max_batch.clamp(1, MAX_BATCH_LEAVES);
        Self { cfg: BatcherConfig { max_batch, ..cfg }, store, blockstore, kubo, sender }
    }

    /// Runs rounds until shutdown, under the node's supervision policy.
    pub async fn run(self, shutdown: CancellationToken) -> Result<()> {
        jejak_runtime::supervise(
            "batcher",
            self,
            jejak_runtime::Policy::default(),
            &jejak_runtime::Health::default(),
            shutdown,
        )
        .await
    }

    /// One round: settle sent batches, build new ones, send what is built.
    pub async fn round(&self) -> Result<Round> {
        let mut round = Round::default();
        round.anchored += self.settle_submitted().await?;
        round.built += self.build_batches().await?;
        let (submitted, anchored) = self.submit_built().await?;
        round.submitted += submitted;
        round.anchored += anchored;
        Ok(round)
    }

    /// Checks batches sent earlier (perhaps before a crash) by reconciling their transactions.
    async fn settle_submitted(&self) -> Result<usize> {
        let submitted = {
            let mut c = self.store.conn().await?;
            batches::with_status(&mut c, BatchStatus::Submitted).await?
        };
        let mut anchored = 0;
        for b in submitted {
            match self.sender.reconcile(&purpose(b.id)).await? {
                Sent::Mined(r) => anchored += self.mined(&b, &r).await?,
                Sent::Pending(h) => {
                    if b.tx_hash != Some(h.0) {
                        let mut c = self.store.conn().await?;
                        batches::set_status(&mut c, b.id, BatchStatus::Submitted, Some(&h.0), None, now_secs()).await?;
                    }
                }
                Sent::Nothing => anchored += self.settle_unrecorded(&b).await?,
            }
        }
        Ok(anchored)
    }

    /// A submitted batch the sender holds nothing for: sent by an earlier version that kept no
    /// record, or whose nonce went to another transaction. Its hash is looked up; a transaction
    /// the chain never saw is sent again.
    async fn settle_unrecorded(&self, b: &BatchRow) -> Result<usize> {
        if let Some(hash) = b.tx_hash.map(B256::from) {
            if let Some(r) = self.sender.receipt(hash).await? {
                return self.mined(b, &r).await;
            }
            if self.sender.known(hash).await? {
                return Ok(0);
            }
        }
        let mut c = self.store.conn().await?;
        batches::set_status(
            &mut c,
            b.id,
            BatchStatus::Built,
            None,
            Some("no transaction in flight; sending again"),
            now_secs(),
        )
        .await?;
        Ok(0)
    }

    /// Records the outcome of a batch's mined transaction; 1 when it anchored the batch.
    async fn mined(&self, b: &BatchRow, r: &alloy::rpc::types::TransactionReceipt) -> Result<usize> {
        let mut c = self.store.conn().await?;
        if r.status() {
            batches::set_status(&mut c, b.id, BatchStatus::Anchored, Some(&r.transaction_hash.0), None, now_secs())
                .await?;
            tracing::info!(target: "jejak::anchor", batch = b.id, tx = %r.transaction_hash, "batch anchored");
            return Ok(1);
        }
        tracing::warn!(target: "jejak::anchor", batch = b.id, tx = %r.transaction_hash, "anchoring transaction reverted; will resend");
        batches::set_status(&mut c, b.id, BatchStatus::Built, None, Some("transaction reverted"), now_secs()).await?;
        Ok(0)
    }

    /// Whether this node can anchor for the platform: registered, active, signer = our key.
    async fn can_anchor(&self, platform_id: i64) -> Result<bool> {
        let mut c = self.store.conn().await?;
        let Some(p) = chain::platform(&mut c, self.cfg.chain_id as i64, platform_id).await? else {
            return Ok(false);
        };
        Ok(p.active && Address::from(p.signer) == self.sender.address())
    }

    async fn build_batches(&self) -> Result<usize> {
        let platforms = {
            let mut c = self.store.conn().await?;
            attestations::unbatched_platforms(&mut c).await?
        };
        let mut built = 0;
        for platform_id in platforms {
            if !self.can_anchor(platform_id).await? {
                tracing::debug!(target: "jejak::anchor", platform_id, "not anchoring: platform inactive or signer is not this node");
                continue;
            }
            loop {
                match self.build_one(platform_id).await? {
                    Some(n) if n == self.cfg.max_batch => built += 1,
                    Some(_) => {
                        built += 1;
                        break;
                    }
                    None => break,
                }
            }
        }
        Ok(built)
    }

    /// Builds one batch of a platform's oldest unbatched events; returns its size.
    async fn build_one(&self, platform_id: i64) -> Result<Option<usize>> {
        let pending = {
            let mut c = self.store.conn().await?;
            attestations::unbatched(&mut c, platform_id, self.cfg.max_batch as i64).await?
        };
        let Some(&(last_seq, _)) = pending.last() else {
            return Ok(None);
        };
        let leaves: Vec<[u8; 32]> = pending.iter().map(|(_, l)| *l).collect();
        let doc = BatchDocument::new(self.cfg.chain_id, platform_id as u64, &leaves)?;
        let bytes = doc.to_bytes();
        let cid = self.blockstore.put(&bytes).await?;
        if let Some(kubo) = &self.kubo
            && let Err(e) = kubo.put_and_pin(&bytes).await
        {
            tracing::warn!(target: "jejak::anchor", %cid, error = %e, "pinning to Kubo failed; the document stays in the blockstore");
        }
        let mut tx = self.store.begin().await?;
        let id =
            batches::insert(&mut tx, platform_id, &doc.root, leaves.len() as i64, &cid.to_string(), now_secs()).await?;
        let assigned = attestations::assign_batch(&mut tx, id, platform_id, last_seq).await?;
        if assigned != leaves.len() as u64 {
            // Events became visible between reading and assigning; try again next round.
            jejak_store::rollback(tx).await?;
            return Ok(None);
        }
        jejak_store::commit(tx).await?;
        tracing::info!(target: "jejak::anchor", batch = id, platform_id, leaves = leaves.len(), %cid, "batch built");
        Ok(Some(leaves.len()))
    }

    /// Sends built batches; returns (sent, mined).
    async fn submit_built(&self) -> Result<(usize, usize)> {
        let built = {
            let mut c = self.store.conn().await?;
            batches::with_status(&mut c, BatchStatus::Built).await?
        };
        let (mut sent, mut mined) = (0, 0);
        for b in built {
            if !self.can_anchor(b.platform_id).await? {
                continue;
            }
            if self.already_on_chain(&b).await? {
                continue;
            }
            let call = JejakAttestations::anchorBatchCall {
                platformId: b.platform_id as u64,
                root: b.root.into(),
                count: b.count as u32,
                cid: b.cid.clone(),
            };
            let store = self.store.clone();
            let id = b.id;
            let outcome = self
                .sender
                .send(&purpose(b.id), self.cfg.attestations, call.abi_encode().into(), |hash| async move {
                    let mut c = store.conn().await?;
                    batches::set_status(&mut c, id, BatchStatus::Submitted, Some(&hash.0), None, now_secs()).await
                })
                .await;
            let hash = match outcome {
                Ok(Sent::Pending(h)) => {
                    let mut c = self.store.conn().await?;
                    batches::set_status(&mut c, b.id, BatchStatus::Submitted, Some(&h.0), None, now_secs()).await?;
                    h
                }
                Ok(Sent::Mined(r)) => {
                    mined += self.mined(&b, &r).await?;
                    continue;
                }
                Ok(Sent::Nothing) => continue,
                Err(e) if jejak_runtime::Classify::is_fatal(&e) => return Err(e.into()),
                Err(e) => {
                    tracing::warn!(target: "jejak::anchor", batch = b.id, error = %e, "could not send anchoring transaction");
                    // Whatever was recorded before the failure is reconciled before the next send.
                    let mut c = self.store.conn().await?;
                    batches::set_status(
                        &mut c,
                        b.id,
                        BatchStatus::Built,
                        None,
                        Some(&printable(&e.to_string())),
                        now_secs(),
                    )
                    .await?;
                    continue;
                }
            };
            sent += 1;
            if let Some(r) = self.sender.wait(hash, Duration::from_millis(200), self.cfg.receipt_timeout).await? {
                self.sender.confirm(&purpose(b.id), hash).await?;
                mined += self.mined(&b, &r).await?;
            }
        }
        Ok((sent, mined))
    }

    /// A batch the indexer already saw anchored (sent before a crash that lost the record).
    async fn already_on_chain(&self, b: &BatchRow) -> Result<bool> {
        let mut c = self.store.conn().await?;
        if chain::batch_by_root(&mut c, self.cfg.chain_id as i64, b.platform_id, &b.root).await?.is_some() {
            batches::set_status(&mut c, b.id, BatchStatus::Anchored, None, None, now_secs()).await?;
            return Ok(true);
        }
        Ok(false)
    }
}

impl jejak_runtime::Job for Batcher {
    type Error = Error;

    /// One round, then a wait of the configured interval.
    async fn step(&mut self) -> Result<jejak_runtime::Pace> {
        self.round().await?;
        Ok(jejak_runtime::Pace::Idle(self.cfg.interval))
    }
}
