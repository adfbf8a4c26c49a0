//! Anchoring the evidence log: [`EvidenceAnchorer`].
//!
//! The evidence log is one append-only RFC 6962 tree over every accepted evidence file (see
//! [`jejak_store::evidence`]). Each round, when the log has grown past the last checkpoint, the
//! job computes the root at the new size from the stored subtrees of the log (O(log n) reads),
//! checks that the tree still extends the previous head (a log edited behind the node's back is
//! never anchored), stores the public
//! [`EvidenceCheckpoint`] document in the blockstore, records the checkpoint, and calls
//! `anchorEvidence(root, size, cid)`. One checkpoint is in flight at a time, because the
//! contract only accepts growing sizes.
//!
//! Crash safety is the batcher's: the checkpoint is recorded before anything is sent, the
//! transaction hash is recorded before the broadcast ([`Sender`]), and a checkpoint whose
//! transaction the chain never saw is sent again. Before sending, the contract is asked what it
//! already holds at that size, so a checkpoint anchored by a run whose record was lost is not
//! anchored twice.

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{Address, B256};
use alloy::sol_types::SolCall;
use jejak_chain::bindings::JejakEvidenceLog;
use jejak_chain::{Sender, Sent};
use jejak_core::merkle;
use jejak_evidence::EvidenceCheckpoint;
use jejak_ipfs::{Blockstore, Kubo};
use jejak_store::evidence::{self, CheckpointRow, CheckpointStatus};
use jejak_store::{Store, now_secs};
use tokio_util::sync::CancellationToken;

use crate::{Error, Result};

/// How the evidence log is anchored.
#[derive(Debug, Clone)]
pub struct EvidenceAnchorConfig {
    /// EVM chain id.
    pub chain_id: u64,
    /// The `JejakEvidenceLog` contract.
    pub evidence_log: Address,
    /// Wait between rounds: at most one checkpoint per round, so this bounds the anchoring rate
    /// (and its gas).
    pub interval: Duration,
    /// How long to wait for a receipt within one round.
    pub receipt_timeout: Duration,
}

impl EvidenceAnchorConfig {
    /// Defaults for a deployment.
    pub fn new(chain_id: u64, evidence_log: Address) -> Self {
        Self { chain_id, evidence_log, interval: Duration::from_secs(10), receipt_timeout: Duration::from_secs(60) }
    }
}

/// What a round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EvidenceRound {
    /// Size of the checkpoint built, if one was.
    pub built: Option<u64>,
    /// Checkpoints whose transaction was sent.
    pub submitted: usize,
    /// Checkpoints whose transaction was mined (or found on chain).
    pub anchored: usize,
}

/// The evidence log anchoring job.
#[derive(Debug, Clone)]
pub struct EvidenceAnchorer {
    cfg: EvidenceAnchorConfig,
    store: Store,
    blockstore: Blockstore,
    kubo: Option<Kubo>,
    sender: Arc<Sender>,
}

impl EvidenceAnchorer {
    /// A job anchoring with `sender`'s key (the registry's operator).
    pub fn new(
        cfg: EvidenceAnchorConfig,
        store: Store,
        blockstore: Blockstore,
        kubo: Option<Kubo>,
        sender: Arc<Sender>,
    ) -> Self {
        Self { cfg, store, blockstore, kubo, sender }
    }

    /// Runs rounds until shutdown, under the node's supervision policy. A log rewritten behind
    /// the node's back or a chain it can no longer extend stops it ([`Error::LogRewritten`],
    /// [`Error::ChainDiverged`] are fatal).
    pub async fn run(self, shutdown: CancellationToken) -> Result<()> {
        jejak_runtime::supervise(
            "evidence-anchorer",
            self,
            jejak_runtime::Policy::default(),
            &jejak_runtime::Health::default(),
            shutdown,
        )
        .await
    }

    /// One round: settle a sent checkpoint, build one if the log grew, send what is built.
    pub async fn round(&self) -> Result<EvidenceRound> {
        let mut round = EvidenceRound { anchored: self.settle_submitted().await?, ..Default::default() };
        round.built = self.build().await?;
        let (sent, mined) = self.submit_built().await?;
        round.submitted += sent;
        round.anchored += mined;
        Ok(round)
    }

    fn contract(&self) -> JejakEvidenceLog::JejakEvidenceLogInstance<&alloy::providers::DynProvider> {
        JejakEvidenceLog::new(self.cfg.evidence_log, self.sender.provider())
    }

    /// Checks checkpoints sent earlier (perhaps before a crash) by reconciling their
    /// transactions.
    async fn settle_submitted(&self) -> Result<usize> {
        let submitted = {
            let mut c = self.store.conn().await?;
            evidence::checkpoints_with_status(&mut c, CheckpointStatus::Submitted).await?
        };
        let mut anchored = 0;
        for cp in submitted {
            let receipt = match self.sender.reconcile(&purpose(cp.size)).await? {
                Sent::Mined(r) => Some(*r),
                Sent::Pending(h) => {
                    if cp.tx_hash != Some(h.0) {
                        let mut c = self.store.conn().await?;
                        evidence::set_checkpoint_status(
                            &mut c,
                            cp.size,
                            CheckpointStatus::Submitted,
                            Some(&h.0),
                            None,
                            now_secs(),
                        )
                        .await?;
                    }
                    continue;
                }
                // Sent by an earlier version that kept no record, or its nonce went elsewhere.
                Sent::Nothing => match cp.tx_hash.map(B256::from) {
                    Some(hash) => match self.sender.receipt(hash).await? {
                        Some(r) => Some(r),
                        None if self.sender.known(hash).await? => continue,
                        None => None,
                    },
                    None => None,
                },
            };
            anchored += self.mined(cp.size, receipt.as_ref()).await?;
        }
        Ok(anchored)
    }

    /// Records the outcome of a checkpoint's transaction (None: nothing in flight, send again);
    /// 1 when it anchored the checkpoint.
    async fn mined(&self, size: i64, receipt: Option<&alloy::rpc::types::TransactionReceipt>) -> Result<usize> {
        let (status, why) = match receipt {
            Some(r) if r.status() => (CheckpointStatus::Anchored, None),
            Some(_) => (CheckpointStatus::Built, Some("transaction reverted")),
            None => (CheckpointStatus::Built, Some("no transaction in flight; sending again")),
        };
        let mut c = self.store.conn().await?;
        let hash = receipt.map(|r| r.transaction_hash.0);
        evidence::set_checkpoint_status(&mut c, size, status, hash.as_ref(), why, now_secs()).await?;
        if status == CheckpointStatus::Anchored {
            tracing::info!(target: "jejak::evidence", size, tx = ?receipt.map(|r| r.transaction_hash), "evidence log head anchored");
            Ok(1)
        } else {
            tracing::warn!(target: "jejak::evidence", size, reason = why, "resending evidence checkpoint");
            Ok(0)
        }
    }

    /// Builds the checkpoint of the whole log when it grew and nothing is in flight; returns its
    /// size.
    async fn build(&self) -> Result<Option<u64>> {
        let mut c = self.store.conn().await?;
        // Nothing fixes a diverged chain by itself: say so every round until an operator acts.
        if let Some(failed) = evidence::checkpoints_with_status(&mut c, CheckpointStatus::Failed).await?.first() {
            return Err(Error::ChainDiverged(failed.error.clone().unwrap_or_default()));
        }
        let latest = evidence::latest_checkpoint(&mut c).await?;
        if latest.as_ref().is_some_and(|l| l.status != CheckpointStatus::Anchored) {
            return Ok(None);
        }
        let size = evidence::log_size(&mut c).await?;
        let (previous_size, previous_root) = latest.map_or((0, None), |l| (l.size as u64, Some(l.root)));
        if size <= previous_size {
            return Ok(None);
        }
        // O(log n) stored subtrees give both roots and the proof between them.
        let ids = merkle::consistency_nodes(previous_size, size)?;
        let nodes = evidence::required_log_nodes(&mut c, &ids).await?;
        drop(c);
        let previous_now = merkle::root_from(&nodes, previous_size)?;
        if let Some(prev) = previous_root
            && previous_now != prev
        {
            return Err(Error::LogRewritten(format!(
                "the first {previous_size} leaves no longer hash to the anchored root {}",
                hex_digest(&prev)
            )));
        }
        let doc = EvidenceCheckpoint::from_proof(
            self.cfg.chain_id,
            self.cfg.evidence_log.into(),
            (size, merkle::root_from(&nodes, size)?),
            (previous_size, previous_now),
            merkle::consistency_proof_from(&nodes, previous_size, size)?,
        )?;
        let bytes = doc.to_bytes();
        let cid = self.blockstore.put(&bytes).await?;
        if let Some(kubo) = &self.kubo
            && let Err(e) = kubo.put_and_pin(&bytes).await
        {
            tracing::warn!(target: "jejak::evidence", %cid, error = %e, "pinning to Kubo failed; the checkpoint stays in the blockstore");
        }
        // In a transaction: on the leased anchorer's fenced store, one whose term ended cannot
        // add a checkpoint after its successor started.
        let mut tx = self.store.begin().await?;
        evidence::insert_checkpoint(
            &mut tx,
            size as i64,
            &doc.root,
            previous_size as i64,
            &cid.to_string(),
            now_secs(),
        )
        .await?;
        jejak_store::commit(tx).await?;
        tracing::info!(target: "jejak::evidence", size, previous_size, %cid, "evidence checkpoint built");
        Ok(Some(size))
    }

    /// Sends built checkpoints; returns (sent, mined).
    async fn submit_built(&self) -> Result<(usize, usize)> {
        let built = {
            let mut c = self.store.conn().await?;
            evidence::checkpoints_with_status(&mut c, CheckpointStatus::Built).await?
        };
        let (mut sent, mut mined) = (0, 0);
        for cp in built {
            if self.already_on_chain(&cp).await? {
                mined += 1;
                continue;
            }
            let call = JejakEvidenceLog::anchorEvidenceCall {
                root: cp.root.into(),
                size: cp.size as u64,
                cid: cp.cid.clone(),
            };
            let store = self.store.clone();
            let size = cp.size;
            let outcome = self
                .sender
                .send(&purpose(size), self.cfg.evidence_log, call.abi_encode().into(), |hash| async move {
                    let mut c = store.conn().await?;
                    evidence::set_checkpoint_status(
                        &mut c,
                        size,
                        CheckpointStatus::Submitted,
                        Some(&hash.0),
                        None,
                        now_secs(),
                    )
                    .await
                })
                .await;
            let hash = match outcome {
                Ok(Sent::Pending(h)) => {
                    let mut c = self.store.conn().await?;
                    evidence::set_checkpoint_status(
                        &mut c,
                        size,
                        CheckpointStatus::Submitted,
                        Some(&h.0),
                        None,
                        now_secs(),
                    )
                    .await?;
                    h
                }
                Ok(Sent::Mined(r)) => {
                    mined += self.mined(size, Some(&*r)).await?;
                    continue;
                }
                Ok(Sent::Nothing) => continue,
                Err(e) if jejak_runtime::Classify::is_fatal(&e) => return Err(e.into()),
                Err(e) => {
                    tracing::warn!(target: "jejak::evidence", size, error = %e, "could not send the evidence anchoring transaction");
                    let mut c = self.store.conn().await?;
                    evidence::set_checkpoint_status(
                        &mut c,
                        size,
                        CheckpointStatus::Built,
                        None,
                        Some(&crate::printable(&e.to_string())),
                        now_secs(),
                    )
                    .await?;
                    continue;
                }
            };
            sent += 1;
            tracing::info!(target: "jejak::evidence", size, tx = %hash, "evidence anchoring transaction sent");
            if let Some(r) = self.sender.wait(hash, Duration::from_millis(200), self.cfg.receipt_timeout).await? {
                self.sender.confirm(&purpose(size), hash).await?;
                mined += self.mined(size, Some(&r)).await?;
            }
        }
        Ok((sent, mined))
    }

    /// Whether the contract already holds this checkpoint (sent by a run whose record was lost).
    /// A contract past this size with another root, or without this size, can never take it:
    /// the checkpoint is marked failed and the round stops with [`Error::ChainDiverged`].
    async fn already_on_chain(&self, cp: &CheckpointRow) -> Result<bool> {
        let contract = self.contract();
        let size = cp.size as u64;
        let latest: u64 = contract.latestSize().call().await.map_err(jejak_chain::Error::from)?;
        if latest < size {
            return Ok(false);
        }
        let on_chain: B256 = contract.rootAtSize(size).call().await.map_err(jejak_chain::Error::from)?;
        let mut c = self.store.conn().await?;
        if on_chain == B256::from(cp.root) {
            evidence::set_checkpoint_status(&mut c, cp.size, CheckpointStatus::Anchored, None, None, now_secs())
                .await?;
            tracing::info!(target: "jejak::evidence", size, "evidence checkpoint found on chain");
            return Ok(true);
        }
        let why = if on_chain == B256::ZERO {
            format!("the contract is at size {latest} and never anchored size {size}")
        } else {
            format!("the contract anchored size {size} with root {on_chain}, not {}", hex_digest(&cp.root))
        };
        evidence::set_checkpoint_status(&mut c, cp.size, CheckpointStatus::Failed, None, Some(&why), now_secs())
            .await?;
        Err(Error::ChainDiverged(why))
    }
}

impl jejak_runtime::Job for EvidenceAnchorer {
    type Error = Error;

    /// One round, then a wait of the configured interval.
    async fn step(&mut self) -> Result<jejak_runtime::Pace> {
        self.round().await?;
        Ok(jejak_runtime::Pace::Idle(self.cfg.interval))
    }
}

/// What a checkpoint's transactions are recorded under by the sender.
fn purpose(size: i64) -> String {
    format!("evidence:{size}")
}

fn hex_digest(d: &[u8; 32]) -> String {
    B256::from(*d).to_string()
}
