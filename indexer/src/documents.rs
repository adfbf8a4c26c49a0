//! The IPFS side of indexing: fetching the documents events name, apart from chain following.
//!
//! Each CID the chain names is queued with the block range that named it. This worker takes
//! due CIDs, fetches them through the configured sources, checks every byte against the CID and
//! the document against the chain (a batch document must carry the anchored root and count, an
//! evidence checkpoint the anchored root and size and a valid consistency proof), stores good ones in the blockstore and records a status: fetched, invalid (never stored) or,
//! after the last attempt, gave up. Failures are retried with capped exponential backoff.
//! A reputation snapshot manifest must carry the epoch, root and parameters version published
//! with it; its pages and parameters document are queued in turn.

use std::time::Duration;

use futures::StreamExt as _;
use jejak_core::batch::BatchDocument;
use jejak_core::cid;
use jejak_ipfs::{Blockstore, Fetcher};
use jejak_store::ipfs::{self as queue, FetchStatus, QueuedObject};
use jejak_store::{Store, chain, now_secs};
use tokio_util::sync::CancellationToken;

use crate::Result;

/// How documents are fetched.
#[derive(Debug, Clone)]
pub struct DocumentConfig {
    /// EVM chain id the documents belong to.
    pub chain_id: u64,
    /// CIDs taken per round.
    pub batch: usize,
    /// Fetches in flight.
    pub concurrency: usize,
    /// Attempts before giving up.
    pub max_attempts: u32,
    /// First retry delay.
    pub backoff_base: Duration,
    /// Longest retry delay.
    pub backoff_cap: Duration,
    /// Wait between rounds when nothing is due.
    pub poll_interval: Duration,
}

impl DocumentConfig {
    /// Defaults for a chain.
    pub fn new(chain_id: u64) -> Self {
        Self {
            chain_id,
            batch: 64,
            concurrency: 8,
            max_attempts: 12,
            backoff_base: Duration::from_secs(2),
            backoff_cap: Duration::from_secs(3600),
            poll_interval: Duration::from_secs(1),
        }
    }
}

/// The document fetch worker.
#[derive(Debug, Clone)]
pub struct DocumentFetcher {
    cfg: DocumentConfig,
    store: Store,
    fetcher: Fetcher,
    blockstore: Blockstore,
}

/// The outcome of one attempt at a CID, as the queue records it.
struct Attempt {
    cid: String,
    status: FetchStatus,
    next_attempt_at: i64,
    size: Option<i64>,
    error: Option<String>,
    at: i64,
}

impl DocumentFetcher {
    /// A worker fetching through `fetcher` into `blockstore`.
    pub fn new(cfg: DocumentConfig, store: Store, fetcher: Fetcher, blockstore: Blockstore) -> Self {
        Self { cfg, store, fetcher, blockstore }
    }

    /// Works the queue until shutdown, under the node's supervision policy.
    pub async fn run(self, shutdown: CancellationToken) -> Result<()> {
        jejak_runtime::supervise(
            "documents",
            self,
            jejak_runtime::Policy::default(),
            &jejak_runtime::Health::default(),
            shutdown,
        )
        .await
    }

    /// One round over due CIDs; returns how many were attempted. The outcomes of a round are
    /// recorded in one transaction: on SQLite the fetcher then takes the write lock once per round,
    /// not once per CID, and leaves it to the chain follower in between.
    pub async fn step(&self) -> Result<usize> {
        let due = {
            let mut c = self.store.conn().await?;
            queue::due(&mut c, now_secs(), self.cfg.batch as i64).await?
        };
        let n = due.len();
        if n == 0 {
            return Ok(0);
        }
        let outcomes: Vec<Result<Attempt>> = futures::stream::iter(due.into_iter().map(|o| self.attempt(o)))
            .buffer_unordered(self.cfg.concurrency.max(1))
            .collect()
            .await;
        let outcomes = outcomes.into_iter().collect::<Result<Vec<_>>>()?;
        let mut tx = self.store.begin().await?;
        for a in &outcomes {
            queue::record_attempt(&mut tx, &a.cid, a.status, a.next_attempt_at, a.size, a.error.as_deref(), a.at)
                .await?;
        }
        jejak_store::commit(tx).await?;
        Ok(n)
    }

    /// Fetches and checks one CID; the outcome is recorded by the caller.
    async fn attempt(&self, obj: QueuedObject) -> Result<Attempt> {
        let now = now_secs();
        let outcome = match cid::parse(&obj.cid) {
            Err(e) => Err((FetchStatus::Invalid, e.to_string())),
            Ok(parsed) => match self.fetcher.fetch(&parsed).await {
                Ok(bytes) => match self.check(&obj, &bytes).await? {
                    Ok(()) => {
                        self.blockstore.put_verified(&parsed, &bytes).await?;
                        Ok(bytes.len())
                    }
                    Err(why) => Err((FetchStatus::Invalid, why)),
                },
                Err(e) if e.is_invalid_content() => Err((FetchStatus::Invalid, e.to_string())),
                Err(e) => Err((FetchStatus::Pending, e.to_string())),
            },
        };
        let recorded = |status, next_attempt_at, size, error| Attempt {
            cid: obj.cid.clone(),
            status,
            next_attempt_at,
            size,
            error,
            at: now,
        };
        Ok(match outcome {
            Ok(size) => {
                tracing::debug!(target: "jejak::ipfs", cid = %obj.cid, kind = %obj.kind, size, "document fetched");
                recorded(FetchStatus::Fetched, now, Some(size as i64), None)
            }
            Err((FetchStatus::Invalid, why)) => {
                tracing::warn!(target: "jejak::ipfs", cid = %obj.cid, kind = %obj.kind, reason = %why, "document invalid");
                recorded(FetchStatus::Invalid, now, None, Some(why))
            }
            Err((_, why)) => {
                let attempts = obj.attempts as u32 + 1;
                if attempts >= self.cfg.max_attempts {
                    tracing::warn!(target: "jejak::ipfs", cid = %obj.cid, attempts, reason = %why, "gave up on document");
                    recorded(FetchStatus::GaveUp, now, None, Some(why))
                } else {
                    let delay = crate::rpc::backoff(attempts - 1, self.cfg.backoff_base, self.cfg.backoff_cap);
                    recorded(FetchStatus::Pending, now + delay.as_secs().max(1) as i64, None, Some(why))
                }
            }
        })
    }

    /// Checks a document against what the chain says about it. `Ok(Err(reason))` means the
    /// content is wrong for the events that name it.
    async fn check(&self, obj: &QueuedObject, bytes: &[u8]) -> Result<std::result::Result<(), String>> {
        if obj.kind == "evidence" {
            return self.check_evidence(obj, bytes).await;
        }
        if obj.kind == "snapshot" {
            return self.check_snapshot(obj, bytes).await;
        }
        if obj.kind == SNAPSHOT_PAGE || obj.kind == SCORING_PARAMS {
            return Ok(check_snapshot_part(&obj.kind, bytes));
        }
        if obj.kind != "batch" {
            return Ok(Ok(()));
        }
        let doc = match BatchDocument::from_bytes(bytes) {
            Ok(d) => d,
            Err(e) => return Ok(Err(e.to_string())),
        };
        if doc.chain_id != self.cfg.chain_id {
            return Ok(Err(format!("document is for chain {}, not {}", doc.chain_id, self.cfg.chain_id)));
        }
        let mut c = self.store.conn().await?;
        for b in chain::batches_by_cid(&mut c, self.cfg.chain_id as i64, &obj.cid).await? {
            if b.root != doc.root || b.count != i64::from(doc.count) || b.platform_id != doc.platform_id as i64 {
                return Ok(Err(format!(
                    "document does not match batch {} anchored on chain (root, count or platform differ)",
                    b.batch_id
                )));
            }
        }
        Ok(Ok(()))
    }
}

impl DocumentFetcher {
    /// An evidence checkpoint must be internally consistent (its consistency proof leads from
    /// the previous head to its own) and carry the root and size the chain anchored with it.
    async fn check_evidence(&self, obj: &QueuedObject, bytes: &[u8]) -> Result<std::result::Result<(), String>> {
        let doc = match jejak_evidence::EvidenceCheckpoint::from_bytes(bytes) {
            Ok(d) => d,
            Err(e) => return Ok(Err(e.to_string())),
        };
        if doc.chain_id != self.cfg.chain_id {
            return Ok(Err(format!("checkpoint is for chain {}, not {}", doc.chain_id, self.cfg.chain_id)));
        }
        let mut c = self.store.conn().await?;
        for a in jejak_store::evidence::anchors_by_cid(&mut c, self.cfg.chain_id as i64, &obj.cid).await? {
            if a.root != doc.root || a.size != doc.size as i64 || a.contract != doc.log_contract {
                return Ok(Err(format!(
                    "checkpoint does not match evidence anchor {} on chain (root, size or contract differ)",
                    a.checkpoint
                )));
            }
        }
        Ok(Ok(()))
    }
}

/// Queue kind of the pages a snapshot manifest names.
const SNAPSHOT_PAGE: &str = "snapshot_page";
/// Queue kind of the scoring parameters a snapshot manifest names.
const SCORING_PARAMS: &str = "scoring_params";

impl DocumentFetcher {
    /// A reputation snapshot manifest must be well formed and carry the epoch, root and
    /// parameters version the chain published with its CID; its pages and parameters document
    /// are then queued, so the node holds the whole snapshot.
    async fn check_snapshot(&self, obj: &QueuedObject, bytes: &[u8]) -> Result<std::result::Result<(), String>> {
        let m = match jejak_scoring::snapshot::Manifest::from_bytes(bytes) {
            Ok(m) => m,
            Err(e) => return Ok(Err(e.to_string())),
        };
        if m.chain_id != self.cfg.chain_id {
            return Ok(Err(format!("snapshot is for chain {}, not {}", m.chain_id, self.cfg.chain_id)));
        }
        let mut c = self.store.conn().await?;
        let root = jejak_zk_circuits::fr_to_be_bytes(&m.root.0);
        for (epoch, r, version) in
            jejak_store::scores::published_roots_by_cid(&mut c, self.cfg.chain_id as i64, &obj.cid).await?
        {
            if epoch != m.epoch as i64 || r != root || version != i64::from(m.params_version) {
                return Ok(Err(format!(
                    "snapshot does not match the root published for epoch {epoch} (epoch, root or parameters version differ)"
                )));
            }
        }
        let now = now_secs();
        queue::enqueue(&mut c, &m.params_cid, SCORING_PARAMS, now).await?;
        for p in &m.pages {
            queue::enqueue(&mut c, &p.cid, SNAPSHOT_PAGE, now).await?;
        }
        Ok(Ok(()))
    }
}

/// A page or parameters document named by a manifest must at least be one.
fn check_snapshot_part(kind: &str, bytes: &[u8]) -> std::result::Result<(), String> {
    if kind == SCORING_PARAMS {
        return jejak_scoring::Params::from_bytes(bytes).map(|_| ()).map_err(|e| e.to_string());
    }
    let page: jejak_scoring::snapshot::Page =
        serde_json::from_slice(bytes).map_err(|e| format!("not a snapshot page: {e}"))?;
    if page.kind != jejak_scoring::snapshot::PAGE_KIND || page.version != jejak_scoring::snapshot::SNAPSHOT_VERSION {
        return Err(format!("unsupported page {} v{}", page.kind, page.version));
    }
    Ok(())
}

impl jejak_runtime::Job for DocumentFetcher {
    type Error = crate::Error;

    /// One round; at once again while CIDs were due.
    async fn step(&mut self) -> Result<jejak_runtime::Pace> {
        Ok(match DocumentFetcher::step(self).await? {
            0 => jejak_runtime::Pace::Idle(self.cfg.poll_interval),
            _ => jejak_runtime::Pace::Busy,
        })
    }
}
