//! Nullifiers of verified proofs, recorded in groups: requests hand their nullifier to one
//! writer task, which records everything waiting in one write transaction and answers each
//! request whether its nullifier was new. Under load this replaces one autocommit write per proof
//! with one transaction per group; on SQLite it also keeps the API's writes from meeting each
//! other on different pool connections, where SQLite's busy handler makes the loser sleep
//! (1 ms, then longer, up to 100 ms) instead of queueing. Two requests with the same nullifier in
//! one group: the first records it, the second is told it was already used.

use jejak_store::Store;
use jejak_store::proofs::{self, NullifierRow};
use tokio::sync::{mpsc, oneshot};

use crate::ApiError;

type Reply = oneshot::Sender<Result<bool, String>>;

/// The writer task's queue.
#[derive(Debug, Clone)]
pub struct NullifierWriter {
    tx: mpsc::Sender<(NullifierRow, Reply)>,
}

impl NullifierWriter {
    /// Starts the writer task on the current runtime, recording at most `max_group` nullifiers
    /// per transaction; it ends when every handle is dropped.
    pub fn start(store: Store, max_group: usize) -> Self {
        let max_group = max_group.max(1);
        let (tx, mut rx) = mpsc::channel::<(NullifierRow, Reply)>(max_group * 8);
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut group = vec![first];
                while group.len() < max_group {
                    match rx.try_recv() {
                        Ok(job) => group.push(job),
                        Err(_) => break,
                    }
                }
                let rows: Vec<&NullifierRow> = group.iter().map(|(row, _)| row).collect();
                match record(&store, &rows).await {
                    Ok(fresh) => {
                        for ((_, reply), fresh) in group.into_iter().zip(fresh) {
                            let _ = reply.send(Ok(fresh));
                        }
                    }
                    Err(e) => {
                        tracing::error!(target: "jejak::api", error = %e, size = group.len(), "recording nullifiers failed");
                        let message = e.to_string();
                        for (_, reply) in group {
                            let _ = reply.send(Err(message.clone()));
                        }
                    }
                }
            }
        });
        Self { tx }
    }

    /// Records `row`; false when its scope already consumed the nullifier (a replay).
    pub async fn consume(&self, row: NullifierRow) -> Result<bool, ApiError> {
        let (reply, answer) = oneshot::channel();
        self.tx.send((row, reply)).await.map_err(|_| ApiError::internal("the nullifier writer stopped"))?;
        answer
            .await
            .map_err(|_| ApiError::internal("the nullifier writer stopped"))?
            .map_err(|e| ApiError::internal(format!("recording the nullifier: {e}")))
    }
}

/// One transaction for the group; for each row, whether this group recorded it.
async fn record(store: &Store, rows: &[&NullifierRow]) -> jejak_store::Result<Vec<bool>> {
    let mut tx = store.begin().await?;
    let mut fresh = Vec::with_capacity(rows.len());
    for row in rows {
        fresh.push(proofs::consume(&mut tx, row).await?);
    }
    jejak_store::commit(tx).await?;
    Ok(fresh)
}
