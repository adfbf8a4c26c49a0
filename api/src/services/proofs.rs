//! Groth16 verification for the API, in batches: requests queue their proof, and one thread
//! takes everything queued and checks it with one randomised pairing check
//! ([`jejak_prover::Verifier::verify_batch`]). Under load a batch holds every proof that arrived
//! while the previous one was checked; alone, a proof is a batch of one. A batch that fails is
//! checked proof by proof, so one bad proof never fails its neighbours.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use ark_bn254::Bn254;
use ark_groth16::Proof;
use jejak_prover::Verifier;
use jejak_zk_circuits::PublicInputs;
use tokio::sync::{mpsc, oneshot};

use crate::metrics::Metrics;

struct Job {
    proof: Proof<Bn254>,
    public: PublicInputs,
    reply: oneshot::Sender<bool>,
}

/// The batching verifier.
#[derive(Debug, Clone)]
pub struct ProofVerifier {
    tx: mpsc::Sender<Job>,
    /// SHA-256 of the verifying key payload (what proof bundles name).
    pub key_sha256: String,
    /// Where the key came from (in its key file's hashed header).
    pub origin: jejak_prover::KeyOrigin,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Job")
    }
}

impl ProofVerifier {
    /// The key as answers describe it: its hash, origin and whether it is the insecure
    /// development key.
    pub fn key_json(&self) -> serde_json::Value {
        let zkey_sha256 = match &self.origin {
            jejak_prover::KeyOrigin::Zkey { sha256 } => Some(sha256.as_str()),
            jejak_prover::KeyOrigin::InsecureDevSetup { .. } => None,
        };
        serde_json::json!({
            "sha256": self.key_sha256,
            "origin": self.origin.kind(),
            "zkey_sha256": zkey_sha256,
            "insecure": self.origin.is_insecure(),
        })
    }

    /// Starts the verifying thread; it ends when every handle is dropped.
    pub fn start(
        verifier: Verifier,
        key_sha256: String,
        origin: jejak_prover::KeyOrigin,
        max_batch: usize,
        metrics: Arc<Metrics>,
    ) -> Self {
        let (tx, mut rx) = mpsc::channel::<Job>(max_batch.max(1) * 8);
        let max_batch = max_batch.max(1);
        std::thread::Builder::new()
            .name("jejak-proofs".into())
            .spawn(move || {
                let mut rng = rand::rngs::OsRng;
                while let Some(first) = rx.blocking_recv() {
                    let mut jobs = vec![first];
                    while jobs.len() < max_batch {
                        match rx.try_recv() {
                            Ok(j) => jobs.push(j),
                            Err(_) => break,
                        }
                    }
                    let start = Instant::now();
                    let batch: Vec<(Proof<Bn254>, PublicInputs)> =
                        jobs.iter().map(|j| (j.proof.clone(), j.public)).collect();
                    let all_ok = verifier.verify_batch(&batch, &mut rng).unwrap_or(false);
                    let results: Vec<bool> = if all_ok {
                        vec![true; jobs.len()]
                    } else if jobs.len() == 1 {
                        vec![false]
                    } else {
                        batch.iter().map(|(p, x)| verifier.verify(p, x).unwrap_or(false)).collect()
                    };
                    metrics.proof_batch_seconds.observe(start.elapsed().as_secs_f64());
                    metrics.proof_batch_size.observe(jobs.len() as f64);
                    let valid = results.iter().filter(|r| **r).count() as u64;
                    metrics.proofs_valid.fetch_add(valid, Ordering::Relaxed);
                    metrics.proofs_invalid.fetch_add(results.len() as u64 - valid, Ordering::Relaxed);
                    tracing::debug!(target: "jejak::api", size = jobs.len(), valid, elapsed_us = start.elapsed().as_micros() as u64, "proof batch");
                    for (job, ok) in jobs.into_iter().zip(results) {
                        let _ = job.reply.send(ok);
                    }
                }
            })
            .expect("spawning the proof verification thread");
        Self { tx, key_sha256, origin }
    }

    /// Whether `proof` proves `public`; None when the verifying thread is gone.
    pub async fn verify(&self, proof: Proof<Bn254>, public: PublicInputs) -> Option<bool> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(Job { proof, public, reply }).await.ok()?;
        rx.await.ok()
    }
}
