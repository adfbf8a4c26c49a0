//! Groth16 proving for node-held identities (`POST /v1/workers/{id}/proofs`).
//!
//! A proof takes a fraction of a second on every core, so proofs are made one at a time on a
//! thread of their own, fed by a bounded queue: a request that finds the queue full is answered
//! at once (`prover_busy`, 503 with `Retry-After`) instead of piling up behind others. A request
//! that went away before its turn is skipped.
//!
//! The Poseidon tree of the most recent epoch proven against is kept (one entry, keyed by chain
//! and epoch), so repeated proofs do not rebuild it from the stored leaves.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use ark_bn254::Bn254;
use ark_groth16::Proof;
use jejak_prover::Prover;
use jejak_zk_circuits::{MerklePath, PoseidonTree, Requirement, Statement, WorkerRecord};
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::metrics::Metrics;

/// What the proving thread answers.
pub type ProveResult = Result<(Statement, Proof<Bn254>), jejak_prover::Error>;

struct Job {
    record: WorkerRecord,
    path: MerklePath,
    requirement: Requirement,
    reply: oneshot::Sender<ProveResult>,
}

// The record holds the identity secret: never print it.
impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProveJob(<redacted>)")
    }
}

/// Why a proof was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    /// As many proofs are waiting as the queue holds.
    #[error("the proving queue is full")]
    Busy,
    /// The proving thread is gone.
    #[error("the proving thread stopped")]
    Stopped,
}

/// A tree kept for its (chain id, epoch).
type CachedTree = Option<((i64, i64), Arc<PoseidonTree>)>;

/// The proving thread, its queue and the tree cache.
pub struct ProvingService {
    tx: mpsc::Sender<Job>,
    /// Most proofs waiting to be made.
    pub queue: usize,
    /// Tree depth of the proving key's circuit.
    pub depth: usize,
    /// SHA-256 of the matching verifying key payload (what proof bundles name).
    pub key_sha256: String,
    trees: Mutex<CachedTree>,
    metrics: Arc<Metrics>,
}

// Not the cached tree: up to millions of leaves.
impl std::fmt::Debug for ProvingService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProvingService")
            .field("queue", &self.queue)
            .field("depth", &self.depth)
            .field("key_sha256", &self.key_sha256)
            .finish_non_exhaustive()
    }
}

impl ProvingService {
    /// Starts the proving thread with `prover`, at most `queue` proofs waiting; the thread ends
    /// when the service is dropped.
    pub fn start(prover: Prover, queue: usize, metrics: Arc<Metrics>) -> Result<Self, jejak_prover::Error> {
        Self::start_inner(prover, queue, metrics, None)
    }

    /// [`Self::start`] with a thread that, before each proof, waits for a message on the gate (or
    /// for the gate to be dropped): a full queue on demand.
    #[cfg(test)]
    pub(crate) fn start_gated(
        prover: Prover,
        queue: usize,
        metrics: Arc<Metrics>,
    ) -> Result<(Self, std::sync::mpsc::Sender<()>), jejak_prover::Error> {
        let (open, gate) = std::sync::mpsc::channel();
        Ok((Self::start_inner(prover, queue, metrics, Some(gate))?, open))
    }

    fn start_inner(
        prover: Prover,
        queue: usize,
        metrics: Arc<Metrics>,
        gate: Option<std::sync::mpsc::Receiver<()>>,
    ) -> Result<Self, jejak_prover::Error> {
        let queue = queue.max(1);
        let depth = prover.depth();
        let key_sha256 = prover.verifying_key().key_hash()?;
        let (tx, mut rx) = mpsc::channel::<Job>(queue);
        let thread_metrics = metrics.clone();
        std::thread::Builder::new()
            .name("jejak-prover".into())
            .spawn(move || {
                while let Some(job) = rx.blocking_recv() {
                    if let Some(gate) = &gate {
                        // Dropped: open for good.
                        let _ = gate.recv();
                    }
                    if job.reply.is_closed() {
                        tracing::debug!(target: "jejak::api", "proof request gone before its turn; skipped");
                        continue;
                    }
                    let start = Instant::now();
                    let result =
                        prover.prove_record(&job.record, &job.path, &job.requirement, &mut rand::rngs::OsRng);
                    let elapsed = start.elapsed();
                    if result.is_ok() {
                        thread_metrics.proofs_made.fetch_add(1, Ordering::Relaxed);
                        thread_metrics.prove_seconds.observe(elapsed.as_secs_f64());
                    }
                    tracing::debug!(target: "jejak::api", ok = result.is_ok(), elapsed_ms = elapsed.as_millis() as u64, "proof made");
                    let _ = job.reply.send(result);
                }
            })
            .map_err(|e| jejak_prover::Error::InvalidInput(format!("starting the proving thread: {e}")))?;
        Ok(Self { tx, queue, depth, key_sha256, trees: Mutex::new(None), metrics })
    }

    /// Queues a proof of `record` at `path` meeting `requirement`; the receiver gets the
    /// statement and proof once made.
    pub fn submit(
        &self,
        record: WorkerRecord,
        path: MerklePath,
        requirement: Requirement,
    ) -> Result<oneshot::Receiver<ProveResult>, QueueError> {
        let (reply, rx) = oneshot::channel();
        self.tx.try_send(Job { record, path, requirement, reply }).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => QueueError::Busy,
            mpsc::error::TrySendError::Closed(_) => QueueError::Stopped,
        })?;
        Ok(rx)
    }

    /// Seconds a caller turned away should wait: the queue's worth of proofs at the mean proving
    /// time so far (one second before any proof is made).
    pub fn retry_after_secs(&self) -> u64 {
        let mean = self.metrics.prove_seconds.mean().unwrap_or(1.0 / (self.queue as f64 + 1.0));
        ((mean * (self.queue as f64 + 1.0)).ceil() as u64).max(1)
    }

    /// The tree of (chain id, epoch): the cached one, or `build`'s, which then replaces it.
    /// Concurrent callers wait for one build.
    pub async fn tree<F, Fut, E>(&self, key: (i64, i64), build: F) -> Result<Arc<PoseidonTree>, E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<PoseidonTree, E>>,
    {
        let mut slot = self.trees.lock().await;
        if let Some((k, tree)) = slot.as_ref()
            && *k == key
        {
            return Ok(tree.clone());
        }
        let tree = Arc::new(build().await?);
        *slot = Some((key, tree.clone()));
        Ok(tree)
    }
}
