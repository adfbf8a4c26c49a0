//! Reputation epochs and worker scores, and the attestations an epoch is computed from.
//!
//! An epoch's row records how far the epoch job got (computed, stored, submitted, published),
//! so a crash at any step resumes where it stopped. Worker rows are written with the epoch row
//! in one transaction: an epoch is either fully computed or not at all.

use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::chain::placeholders;
use crate::{Conn, Error, Result, digest};

/// Where an epoch is on its way to the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpochStatus {
    /// Scores, salts and leaves stored; root known.
    Computed,
    /// Snapshot pages and manifest in the blockstore; CID known.
    Stored,
    /// `publishRoot` signed, its hash recorded, possibly broadcast.
    Submitted,
    /// `publishRoot` mined.
    Published,
    /// The chain will not take this epoch (a later epoch or another root is already there).
    Failed,
}

impl EpochStatus {
    /// Column value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Computed => "computed",
            Self::Stored => "stored",
            Self::Submitted => "submitted",
            Self::Published => "published",
            Self::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "computed" => Self::Computed,
            "stored" => Self::Stored,
            "submitted" => Self::Submitted,
            "published" => Self::Published,
            "failed" => Self::Failed,
            other => return Err(Error::Corrupt(format!("epoch status `{other}`"))),
        })
    }
}

/// A computed epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpochRow {
    /// EVM chain id.
    pub chain_id: i64,
    /// Epoch number.
    pub epoch: i64,
    /// Progress.
    pub status: EpochStatus,
    /// Scoring time, unix seconds.
    pub as_of: i64,
    /// Last counted block.
    pub as_of_block: i64,
    /// Parameters version.
    pub params_version: i64,
    /// Parameters CID.
    pub params_cid: String,
    /// Tree depth.
    pub depth: i64,
    /// Leaves.
    pub worker_count: i64,
    /// Poseidon root, 32-byte big-endian.
    pub root: [u8; 32],
    /// Per-platform rating totals as published in the manifest (JSON).
    pub platforms: String,
    /// Manifest CID once stored.
    pub snapshot_cid: Option<String>,
    /// `publishRoot` transaction once signed.
    pub tx_hash: Option<[u8; 32]>,
    /// Last error.
    pub error: Option<String>,
    /// Creation time.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

macro_rules! select_epoch {
    ($tail:literal) => {
        concat!(
            "SELECT chain_id, epoch, status, as_of, as_of_block, params_version, params_cid, depth, worker_count, \
             root, platforms, snapshot_cid, tx_hash, error, created_at, updated_at FROM score_epochs ",
            $tail
        )
    };
}

fn epoch_from_row(r: AnyRow) -> Result<EpochRow> {
    let tx: Option<Vec<u8>> = r.try_get("tx_hash")?;
    Ok(EpochRow {
        chain_id: r.try_get("chain_id")?,
        epoch: r.try_get("epoch")?,
        status: EpochStatus::parse(&r.try_get::<String, _>("status")?)?,
        as_of: r.try_get("as_of")?,
        as_of_block: r.try_get("as_of_block")?,
        params_version: r.try_get("params_version")?,
        params_cid: r.try_get("params_cid")?,
        depth: r.try_get("depth")?,
        worker_count: r.try_get("worker_count")?,
        root: digest(r.try_get("root")?)?,
        platforms: r.try_get("platforms")?,
        snapshot_cid: r.try_get("snapshot_cid")?,
        tx_hash: tx.map(digest).transpose()?,
        error: r.try_get("error")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// One identity's result in an epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerScoreRow {
    /// Epoch.
    pub epoch: i64,
    /// Identity commitment.
    pub commitment: [u8; 32],
    /// Position of its leaf.
    pub leaf_index: i64,
    /// Reputation.
    pub reputation: i64,
    /// Credit score.
    pub credit: i64,
    /// Tier letter.
    pub tier: String,
    /// Completed tasks.
    pub gigs: i64,
    /// The leaf salt (a field element).
    pub salt: [u8; 32],
    /// The leaf.
    pub leaf: [u8; 32],
    /// The score card (JSON).
    pub card: String,
}

fn score_from_row(r: AnyRow) -> Result<WorkerScoreRow> {
    Ok(WorkerScoreRow {
        epoch: r.try_get("epoch")?,
        commitment: digest(r.try_get("commitment")?)?,
        leaf_index: r.try_get("leaf_index")?,
        reputation: r.try_get("reputation")?,
        credit: r.try_get("credit")?,
        tier: r.try_get("tier")?,
        gigs: r.try_get("gigs")?,
        salt: digest(r.try_get("salt")?)?,
        leaf: digest(r.try_get("leaf")?)?,
        card: r.try_get("card")?,
    })
}

const SCORE_COLUMNS: &str = "epoch, commitment, leaf_index, reputation, credit, tier, gigs, salt, leaf, card";

/// Rows per multi-row INSERT of worker scores (12 parameters each, under SQLite's limit).
const SCORES_PER_INSERT: usize = 1000;

/// Records a computed epoch and every worker row in it. Call inside a transaction: the epoch
/// is then all there or not at all.
pub async fn insert_epoch(conn: &mut Conn, e: &EpochRow, workers: &[WorkerScoreRow]) -> Result<()> {
    sqlx::query(
        "INSERT INTO score_epochs (chain_id, epoch, status, as_of, as_of_block, params_version, params_cid, depth, \
         worker_count, root, platforms, snapshot_cid, tx_hash, error, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(e.chain_id)
    .bind(e.epoch)
    .bind(e.status.as_str())
    .bind(e.as_of)
    .bind(e.as_of_block)
    .bind(e.params_version)
    .bind(&e.params_cid)
    .bind(e.depth)
    .bind(e.worker_count)
    .bind(e.root.to_vec())
    .bind(&e.platforms)
    .bind(&e.snapshot_cid)
    .bind(e.tx_hash.map(|h| h.to_vec()))
    .bind(&e.error)
    .bind(e.created_at)
    .bind(e.updated_at)
    .execute(&mut *conn)
    .await?;
    for chunk in workers.chunks(SCORES_PER_INSERT) {
        let sql =
            format!("INSERT INTO worker_scores (chain_id, {SCORE_COLUMNS}) VALUES {}", placeholders(chunk.len(), 11));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for w in chunk {
            q = q
                .bind(e.chain_id)
                .bind(w.epoch)
                .bind(w.commitment.to_vec())
                .bind(w.leaf_index)
                .bind(w.reputation)
                .bind(w.credit)
                .bind(w.tier.clone())
                .bind(w.gigs)
                .bind(w.salt.to_vec())
                .bind(w.leaf.to_vec())
                .bind(w.card.clone());
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// An epoch by number.
pub async fn epoch(conn: &mut Conn, chain_id: i64, epoch: i64) -> Result<Option<EpochRow>> {
    sqlx::query(select_epoch!("WHERE chain_id = $1 AND epoch = $2"))
        .bind(chain_id)
        .bind(epoch)
        .fetch_optional(conn)
        .await?
        .map(epoch_from_row)
        .transpose()
}

/// Every epoch, oldest first.
pub async fn epochs(conn: &mut Conn, chain_id: i64) -> Result<Vec<EpochRow>> {
    sqlx::query(select_epoch!("WHERE chain_id = $1 ORDER BY epoch"))
        .bind(chain_id)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(epoch_from_row)
        .collect()
}

/// The highest epoch computed, whatever its status.
pub async fn latest_epoch(conn: &mut Conn, chain_id: i64) -> Result<Option<EpochRow>> {
    sqlx::query(select_epoch!("WHERE chain_id = $1 ORDER BY epoch DESC LIMIT 1"))
        .bind(chain_id)
        .fetch_optional(conn)
        .await?
        .map(epoch_from_row)
        .transpose()
}

/// The highest published epoch.
pub async fn latest_published(conn: &mut Conn, chain_id: i64) -> Result<Option<EpochRow>> {
    sqlx::query(select_epoch!("WHERE chain_id = $1 AND status = 'published' ORDER BY epoch DESC LIMIT 1"))
        .bind(chain_id)
        .fetch_optional(conn)
        .await?
        .map(epoch_from_row)
        .transpose()
}

/// Records the snapshot CID and moves the epoch to `stored`.
pub async fn set_stored(conn: &mut Conn, chain_id: i64, epoch: i64, snapshot_cid: &str, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE score_epochs SET status = 'stored', snapshot_cid = $3, error = NULL, updated_at = $4 \
         WHERE chain_id = $1 AND epoch = $2",
    )
    .bind(chain_id)
    .bind(epoch)
    .bind(snapshot_cid)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves an epoch along, recording the transaction (kept when None) and the error (cleared
/// when None).
pub async fn set_status(
    conn: &mut Conn,
    chain_id: i64,
    epoch: i64,
    status: EpochStatus,
    tx_hash: Option<&[u8; 32]>,
    error: Option<&str>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE score_epochs SET status = $3, tx_hash = COALESCE($4, tx_hash), error = $5, updated_at = $6 \
         WHERE chain_id = $1 AND epoch = $2",
    )
    .bind(chain_id)
    .bind(epoch)
    .bind(status.as_str())
    .bind(tx_hash.map(|h| h.to_vec()))
    .bind(error)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// The leaves of an epoch in tree order.
pub async fn leaves(conn: &mut Conn, chain_id: i64, epoch: i64) -> Result<Vec<[u8; 32]>> {
    let rows: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT leaf FROM worker_scores WHERE chain_id = $1 AND epoch = $2 ORDER BY leaf_index")
            .bind(chain_id)
            .bind(epoch)
            .fetch_all(conn)
            .await?;
    rows.into_iter().map(digest).collect()
}

/// Every worker row of an epoch in tree order.
pub async fn worker_scores(conn: &mut Conn, chain_id: i64, epoch: i64) -> Result<Vec<WorkerScoreRow>> {
    let sql =
        format!("SELECT {SCORE_COLUMNS} FROM worker_scores WHERE chain_id = $1 AND epoch = $2 ORDER BY leaf_index");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(chain_id)
        .bind(epoch)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(score_from_row)
        .collect()
}

/// Up to `limit` rows of an epoch from leaf index `from_leaf` on, in leaf (commitment) order.
pub async fn worker_scores_page(
    conn: &mut Conn,
    chain_id: i64,
    epoch: i64,
    from_leaf: i64,
    limit: i64,
) -> Result<Vec<WorkerScoreRow>> {
    let sql = format!(
        "SELECT {SCORE_COLUMNS} FROM worker_scores WHERE chain_id = $1 AND epoch = $2 AND leaf_index >= $3 \
         ORDER BY leaf_index LIMIT $4"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(chain_id)
        .bind(epoch)
        .bind(from_leaf)
        .bind(limit)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(score_from_row)
        .collect()
}

/// The rows of an epoch whose commitments lie between `first` and `last` (inclusive).
pub async fn worker_scores_between(
    conn: &mut Conn,
    chain_id: i64,
    epoch: i64,
    first: &[u8; 32],
    last: &[u8; 32],
) -> Result<Vec<WorkerScoreRow>> {
    let sql = format!(
        "SELECT {SCORE_COLUMNS} FROM worker_scores WHERE chain_id = $1 AND epoch = $2 AND commitment >= $3 \
         AND commitment <= $4 ORDER BY commitment"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(chain_id)
        .bind(epoch)
        .bind(first.to_vec())
        .bind(last.to_vec())
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(score_from_row)
        .collect()
}

/// One identity's row in an epoch.
pub async fn worker_score(
    conn: &mut Conn,
    chain_id: i64,
    epoch: i64,
    commitment: &[u8; 32],
) -> Result<Option<WorkerScoreRow>> {
    let sql =
        format!("SELECT {SCORE_COLUMNS} FROM worker_scores WHERE chain_id = $1 AND epoch = $2 AND commitment = $3");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(chain_id)
        .bind(epoch)
        .bind(commitment.to_vec())
        .fetch_optional(conn)
        .await?
        .map(score_from_row)
        .transpose()
}

/// An identity's rows in every epoch with its status, newest first, at most `limit`.
pub async fn worker_history(
    conn: &mut Conn,
    chain_id: i64,
    commitment: &[u8; 32],
    limit: i64,
) -> Result<Vec<(WorkerScoreRow, EpochStatus)>> {
    let sql = "SELECT w.epoch, w.commitment, w.leaf_index, w.reputation, w.credit, w.tier, w.gigs, w.salt, w.leaf, \
               w.card, e.status FROM worker_scores w JOIN score_epochs e ON e.chain_id = w.chain_id AND e.epoch = w.epoch \
               WHERE w.chain_id = $1 AND w.commitment = $2 ORDER BY w.epoch DESC LIMIT $3";
    let rows = sqlx::query(sql).bind(chain_id).bind(commitment.to_vec()).bind(limit).fetch_all(conn).await?;
    rows.into_iter()
        .map(|r| {
            let status = EpochStatus::parse(&r.try_get::<String, _>("status")?)?;
            Ok((score_from_row(r)?, status))
        })
        .collect()
}

/// An attestation an epoch counts: in a batch anchored in a block at or below the epoch's block,
/// and not revoked by then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoringInput {
    /// Acceptance order (the pagination key).
    pub seq: i64,
    /// Public id.
    pub id: String,
    /// Platform of the anchored batch.
    pub platform_id: i64,
    /// Canonical event body.
    pub body: String,
}

/// Up to `limit` counted attestations after `after_seq`, in `seq` order.
pub async fn scoring_inputs(
    conn: &mut Conn,
    chain_id: i64,
    as_of_block: i64,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<ScoringInput>> {
    let rows = sqlx::query(
        "SELECT a.seq, a.id, b.platform_id, a.body FROM attestations a JOIN batches b ON b.id = a.batch_id \
         WHERE a.seq > $3 \
           AND EXISTS (SELECT 1 FROM chain_batches cb WHERE cb.chain_id = $1 AND cb.platform_id = b.platform_id \
                       AND cb.root = b.root AND cb.block_number <= $2) \
           AND NOT EXISTS (SELECT 1 FROM chain_revocations r JOIN chain_batches cb \
                             ON cb.chain_id = r.chain_id AND cb.batch_id = r.batch_id \
                           WHERE r.chain_id = $1 AND cb.platform_id = b.platform_id AND cb.root = b.root \
                             AND r.leaf = a.leaf AND r.block_number <= $2) \
         ORDER BY a.seq LIMIT $4",
    )
    .bind(chain_id)
    .bind(as_of_block)
    .bind(after_seq)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(ScoringInput {
                seq: r.try_get("seq")?,
                id: r.try_get("id")?,
                platform_id: r.try_get("platform_id")?,
                body: r.try_get("body")?,
            })
        })
        .collect()
}

/// Every attestation of the given accounts (platform, worker reference), in `seq` order.
pub async fn account_attestations(
    conn: &mut Conn,
    accounts: &[(i64, String)],
) -> Result<Vec<crate::attestations::AttestationRow>> {
    let mut out = Vec::new();
    for (platform_id, worker_ref) in accounts {
        out.extend(crate::attestations::by_worker(conn, *platform_id, worker_ref).await?);
    }
    out.sort_by_key(|a| a.seq);
    Ok(out)
}

/// A `RootPublished` event as indexed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedRoot {
    /// Where it was emitted.
    pub key: crate::chain::LogKey,
    /// Epoch.
    pub epoch: i64,
    /// Root.
    pub root: [u8; 32],
    /// Manifest CID.
    pub snapshot_cid: String,
    /// Parameters version.
    pub params_version: i64,
}

/// The indexed `RootPublished` event of an epoch (the earliest, should it appear twice).
pub async fn published_root(conn: &mut Conn, chain_id: i64, epoch: i64) -> Result<Option<PublishedRoot>> {
    let row = sqlx::query(
        "SELECT chain_id, block_number, block_hash, log_index, tx_hash, contract, epoch, root, snapshot_cid, \
         params_version FROM chain_roots WHERE chain_id = $1 AND epoch = $2 AND kind = 'published' \
         ORDER BY block_number, log_index LIMIT 1",
    )
    .bind(chain_id)
    .bind(epoch)
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        let contract: Vec<u8> = r.try_get("contract")?;
        let root: Option<Vec<u8>> = r.try_get("root")?;
        Ok(PublishedRoot {
            key: crate::chain::LogKey {
                chain_id: r.try_get("chain_id")?,
                block_number: r.try_get("block_number")?,
                block_hash: digest(r.try_get("block_hash")?)?,
                log_index: r.try_get("log_index")?,
                tx_hash: digest(r.try_get("tx_hash")?)?,
                contract: contract.try_into().map_err(|_| Error::Corrupt("contract is not 20 bytes".into()))?,
            },
            epoch: r.try_get("epoch")?,
            root: digest(root.ok_or_else(|| Error::Corrupt("published root without root".into()))?)?,
            snapshot_cid: r.try_get::<Option<String>, _>("snapshot_cid")?.unwrap_or_default(),
            params_version: r.try_get::<Option<i64>, _>("params_version")?.unwrap_or_default(),
        })
    })
    .transpose()
}

/// An attestation as an auditor reads it: only what the leaf commits to, nothing the node
/// could have bookkept wrongly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditInput {
    /// Acceptance order (the pagination key).
    pub seq: i64,
    /// Public id.
    pub id: String,
    /// The platform the node filed it under.
    pub platform_id: i64,
    /// The worker reference the node filed it under.
    pub worker_ref: String,
    /// Canonical event body.
    pub body: String,
    /// The leaf salt.
    pub salt: [u8; 32],
    /// The node's batch for it, as (platform, RFC 6962 root), once batched.
    pub batch: Option<(i64, [u8; 32])>,
}

/// Up to `limit` attestations after `after_seq`, in `seq` order, batched or not.
pub async fn audit_inputs(conn: &mut Conn, after_seq: i64, limit: i64) -> Result<Vec<AuditInput>> {
    let rows = sqlx::query(
        "SELECT a.seq, a.id, a.platform_id, a.worker_ref, a.body, a.salt, b.platform_id AS batch_platform, \
         b.root AS batch_root FROM attestations a LEFT JOIN batches b ON b.id = a.batch_id WHERE a.seq > $1 \
         ORDER BY a.seq LIMIT $2",
    )
    .bind(after_seq)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(AuditInput {
                seq: r.try_get("seq")?,
                id: r.try_get("id")?,
                platform_id: r.try_get("platform_id")?,
                worker_ref: r.try_get("worker_ref")?,
                body: r.try_get("body")?,
                salt: digest(r.try_get("salt")?)?,
                batch: match (
                    r.try_get::<Option<i64>, _>("batch_platform")?,
                    r.try_get::<Option<Vec<u8>>, _>("batch_root")?,
                ) {
                    (Some(p), Some(root)) => Some((p, digest(root)?)),
                    _ => None,
                },
            })
        })
        .collect()
}

/// Indexed `RootPublished` events naming a snapshot CID.
pub async fn published_roots_by_cid(conn: &mut Conn, chain_id: i64, cid: &str) -> Result<Vec<(i64, [u8; 32], i64)>> {
    let rows = sqlx::query(
        "SELECT epoch, root, params_version FROM chain_roots WHERE chain_id = $1 AND snapshot_cid = $2 \
         AND kind = 'published' ORDER BY block_number, log_index",
    )
    .bind(chain_id)
    .bind(cid)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            let root: Option<Vec<u8>> = r.try_get("root")?;
            Ok((
                r.try_get("epoch")?,
                digest(root.ok_or_else(|| Error::Corrupt("published root without root".into()))?)?,
                r.try_get::<Option<i64>, _>("params_version")?.unwrap_or_default(),
            ))
        })
        .collect()
}
