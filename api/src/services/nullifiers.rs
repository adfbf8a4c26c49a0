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
use tokio_util::sync::CancellationToken;

use crate::ApiError;

type Reply = oneshot::Sender<Result<bool, String>>;

/// The writer task's queue.
#[derive(Debug, Clone)]
pub struct NullifierWriter {
    tx: mpsc::Sender<(NullifierRow, Reply)>,
}

impl NullifierWriter {
    /// Starts the writer task on the current runtime, recording at most `max_group` nullifiers
    /// per transaction; it ends when every handle is dropped. The node starts it under its
    /// supervisor instead ([`NullifierWriter::new`]); this is for a router used on its own.
    pub fn start(store: Store, max_group: usize) -> Self {
        let (writer, job) = Self::new(store, max_group);
        let (policy, health) = (jejak_runtime::Policy::default(), jejak_runtime::Health::default());
        tokio::spawn(async move {
            let _ = jejak_runtime::supervise("nullifiers", job, policy, &health, CancellationToken::new()).await;
        });
        writer
    }

    /// The writer's handle and the job that records what it is handed; the job runs until
    /// every handle is dropped (after the API drained its requests, at shutdown).
    pub fn new(store: Store, max_group: usize) -> (Self, NullifierJob) {
        let max_group = max_group.max(1);
        let (tx, rx) = mpsc::channel::<(NullifierRow, Reply)>(max_group * 8);
        (Self { tx }, NullifierJob { store, rx, max_group })
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

/// The writer task: one group of waiting nullifiers per step, in one transaction.
#[derive(Debug)]
pub struct NullifierJob {
    store: Store,
    rx: mpsc::Receiver<(NullifierRow, Reply)>,
    max_group: usize,
}

impl jejak_runtime::Job for NullifierJob {
    type Error = jejak_store::Error;

    /// Waits for a nullifier, records it with every other one waiting, answers each request. A
    /// failed transaction answers its group with the error (they are not recorded; the clients
    /// may retry) and is the supervisor's to judge.
    async fn step(&mut self) -> jejak_store::Result<jejak_runtime::Pace> {
        let Some(first) = self.rx.recv().await else {
            return Ok(jejak_runtime::Pace::Done);
        };
        let mut group = vec![first];
        while group.len() < self.max_group {
            match self.rx.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let rows: Vec<&NullifierRow> = group.iter().map(|(row, _)| row).collect();
        match record(&self.store, &rows).await {
            Ok(fresh) => {
                for ((_, reply), fresh) in group.into_iter().zip(fresh) {
                    let _ = reply.send(Ok(fresh));
                }
                Ok(jejak_runtime::Pace::Busy)
            }
            Err(e) => {
                let message = e.to_string();
                for (_, reply) in group {
                    let _ = reply.send(Err(message.clone()));
                }
                Err(e)
            }
        }
    }

    /// Requests still draining at shutdown need their answers: the job ends with its queue.
    fn stops_with_shutdown(&self) -> bool {
        false
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
