//! The explorer's reads: public chain facts as the indexer recorded them (platforms, batches,
//! reputation roots, evidence anchors), counted and paged by indexed keys, and the score
//! distribution of an epoch as counts per range. Every query is bounded by its `limit` or reads
//! an index range.

use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::chain::{ChainBatch, LogKey, batch_from_row, key_from_row};
use crate::{Conn, Result, digest};

/// Totals for the explorer's home page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    /// Platforms registered.
    pub platforms: i64,
    /// Batches anchored.
    pub batches: i64,
    /// Attestations in anchored batches.
    pub attestations: i64,
    /// Reputation roots published (epochs).
    pub epochs: i64,
    /// Evidence checkpoints anchored.
    pub evidence_checkpoints: i64,
}

/// Counts what the chain holds for `chain_id`.
pub async fn totals(conn: &mut Conn, chain_id: i64) -> Result<Totals> {
    let platforms: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM chain_platform_events WHERE chain_id = $1 AND kind = 'registered'")
            .bind(chain_id)
            .fetch_one(&mut *conn)
            .await?;
    let row = sqlx::query("SELECT COUNT(*) AS n, CAST(COALESCE(SUM(count), 0) AS BIGINT) AS leaves FROM chain_batches WHERE chain_id = $1")
        .bind(chain_id)
        .fetch_one(&mut *conn)
        .await?;
    let epochs: i64 =
        sqlx::query_scalar("SELECT COUNT(DISTINCT epoch) FROM chain_roots WHERE chain_id = $1 AND kind = 'published'")
            .bind(chain_id)
            .fetch_one(&mut *conn)
            .await?;
    let evidence_checkpoints: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM chain_evidence WHERE chain_id = $1")
        .bind(chain_id)
        .fetch_one(&mut *conn)
        .await?;
    Ok(Totals {
        platforms,
        batches: row.try_get("n")?,
        attestations: row.try_get("leaves")?,
        epochs,
        evidence_checkpoints,
    })
}

/// Ids of registered platforms above `after`, ascending, at most `limit`.
pub async fn platform_ids(conn: &mut Conn, chain_id: i64, after: i64, limit: i64) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT platform_id FROM chain_platform_events WHERE chain_id = $1 AND kind = 'registered' AND platform_id > $2 \
         GROUP BY platform_id ORDER BY platform_id LIMIT $3",
    )
    .bind(chain_id)
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// A platform's batches and the attestations in them.
pub async fn platform_totals(conn: &mut Conn, chain_id: i64, platform_id: i64) -> Result<(i64, i64)> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(count), 0) AS BIGINT) AS leaves FROM chain_batches WHERE chain_id = $1 AND platform_id = $2",
    )
    .bind(chain_id)
    .bind(platform_id)
    .fetch_one(conn)
    .await?;
    Ok((row.try_get("n")?, row.try_get("leaves")?))
}

const BATCH_COLS: &str =
    "chain_id, block_number, block_hash, log_index, tx_hash, contract, batch_id, platform_id, root, count, cid";

/// Anchored batches newest first, before `(block, log index)` (all when `None`), of one platform
/// or all, at most `limit`.
pub async fn batches_page(
    conn: &mut Conn,
    chain_id: i64,
    platform_id: Option<i64>,
    before: Option<(i64, i64)>,
    limit: i64,
) -> Result<Vec<ChainBatch>> {
    let (block, log) = before.unwrap_or((i64::MAX, i64::MAX));
    let platform = if platform_id.is_some() { "AND platform_id = $5" } else { "" };
    let sql = format!(
        "SELECT {BATCH_COLS} FROM chain_batches WHERE chain_id = $1 {platform} \
         AND (block_number < $2 OR (block_number = $2 AND log_index < $3)) \
         ORDER BY block_number DESC, log_index DESC LIMIT $4"
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(chain_id).bind(block).bind(log).bind(limit);
    if let Some(p) = platform_id {
        q = q.bind(p);
    }
    q.fetch_all(conn).await?.into_iter().map(batch_from_row).collect()
}

/// The anchoring of on-chain batch `batch_id` (the earliest, should a reorganisation have left
/// two).
pub async fn batch_by_id(conn: &mut Conn, chain_id: i64, batch_id: i64) -> Result<Option<ChainBatch>> {
    let sql = format!(
        "SELECT {BATCH_COLS} FROM chain_batches WHERE chain_id = $1 AND batch_id = $2 \
         ORDER BY block_number, log_index LIMIT 1"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(chain_id)
        .bind(batch_id)
        .fetch_optional(conn)
        .await?
        .map(batch_from_row)
        .transpose()
}

/// Batches whose root or transaction is `hash`, at most `limit`.
pub async fn batches_by_hash(conn: &mut Conn, chain_id: i64, hash: &[u8; 32], limit: i64) -> Result<Vec<ChainBatch>> {
    let sql = format!(
        "SELECT {BATCH_COLS} FROM chain_batches WHERE chain_id = $1 AND (root = $2 OR tx_hash = $2) \
         ORDER BY block_number, log_index LIMIT $3"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(chain_id)
        .bind(hash.to_vec())
        .bind(limit)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(batch_from_row)
        .collect()
}

/// Batches naming `cid`, at most `limit`.
pub async fn batches_by_cid(conn: &mut Conn, chain_id: i64, cid: &str, limit: i64) -> Result<Vec<ChainBatch>> {
    let sql = format!(
        "SELECT {BATCH_COLS} FROM chain_batches WHERE chain_id = $1 AND cid = $2 ORDER BY block_number, log_index LIMIT $3"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(chain_id)
        .bind(cid)
        .bind(limit)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(batch_from_row)
        .collect()
}

/// Revoked leaves of an on-chain batch.
pub async fn revocations(conn: &mut Conn, chain_id: i64, batch_id: i64) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM chain_revocations WHERE chain_id = $1 AND batch_id = $2")
        .bind(chain_id)
        .bind(batch_id)
        .fetch_one(conn)
        .await?)
}

/// A published reputation root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootRow {
    /// Where `RootPublished` was emitted.
    pub key: LogKey,
    /// Epoch.
    pub epoch: i64,
    /// Poseidon root (big-endian field element).
    pub root: [u8; 32],
    /// Snapshot manifest CID.
    pub snapshot_cid: String,
    /// Scoring parameters version.
    pub params_version: i64,
    /// Whether a later `RootReplaced` names this epoch.
    pub replaced: bool,
}

const ROOT_COLS: &str = "r.chain_id, r.block_number, r.block_hash, r.log_index, r.tx_hash, r.contract, r.epoch, r.root, \
     r.snapshot_cid, r.params_version, \
     EXISTS (SELECT 1 FROM chain_roots x WHERE x.chain_id = r.chain_id AND x.epoch = r.epoch AND x.kind = 'replaced') AS replaced";

fn root_row(r: AnyRow) -> Result<RootRow> {
    let replaced = match r.try_get::<bool, _>("replaced") {
        Ok(b) => b,
        Err(_) => r.try_get::<i64, _>("replaced")? != 0,
    };
    Ok(RootRow {
        key: key_from_row(&r)?,
        epoch: r.try_get("epoch")?,
        root: digest(r.try_get::<Option<Vec<u8>>, _>("root")?.unwrap_or_default())?,
        snapshot_cid: r.try_get::<Option<String>, _>("snapshot_cid")?.unwrap_or_default(),
        params_version: r.try_get::<Option<i64>, _>("params_version")?.unwrap_or_default(),
        replaced,
    })
}

/// Published roots newest epoch first, below epoch `before` (all when `None`), at most `limit`.
pub async fn roots_page(conn: &mut Conn, chain_id: i64, before: Option<i64>, limit: i64) -> Result<Vec<RootRow>> {
    let sql = format!(
        "SELECT {ROOT_COLS} FROM chain_roots r WHERE r.chain_id = $1 AND r.kind = 'published' AND r.epoch < $2 \
         ORDER BY r.epoch DESC, r.block_number DESC LIMIT $3"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(chain_id)
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(root_row)
        .collect()
}

/// The root published for `epoch` (the latest, should it have been published again).
pub async fn root(conn: &mut Conn, chain_id: i64, epoch: i64) -> Result<Option<RootRow>> {
    let sql = format!(
        "SELECT {ROOT_COLS} FROM chain_roots r WHERE r.chain_id = $1 AND r.kind = 'published' AND r.epoch = $2 \
         ORDER BY r.block_number DESC, r.log_index DESC LIMIT 1"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(chain_id)
        .bind(epoch)
        .fetch_optional(conn)
        .await?
        .map(root_row)
        .transpose()
}

/// Published roots whose root, transaction or snapshot CID is `needle`, at most `limit`.
pub async fn roots_matching(conn: &mut Conn, chain_id: i64, needle: Needle<'_>, limit: i64) -> Result<Vec<RootRow>> {
    let cond = match needle {
        Needle::Hash(_) => "(r.root = $2 OR r.tx_hash = $2)",
        Needle::Cid(_) => "r.snapshot_cid = $2",
    };
    let sql = format!(
        "SELECT {ROOT_COLS} FROM chain_roots r WHERE r.chain_id = $1 AND r.kind = 'published' AND {cond} \
         ORDER BY r.block_number, r.log_index LIMIT $3"
    );
    let q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(chain_id);
    let q = match needle {
        Needle::Hash(h) => q.bind(h.to_vec()),
        Needle::Cid(c) => q.bind(c),
    };
    q.bind(limit).fetch_all(conn).await?.into_iter().map(root_row).collect()
}

/// What a search looks for.
#[derive(Debug, Clone, Copy)]
pub enum Needle<'a> {
    /// A root or a transaction hash.
    Hash(&'a [u8; 32]),
    /// A CID.
    Cid(&'a str),
}

/// An anchored evidence log head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceRow {
    /// Where `EvidenceAnchored` was emitted.
    pub key: LogKey,
    /// Checkpoint index.
    pub checkpoint: i64,
    /// Log root at `size`.
    pub root: [u8; 32],
    /// Log size.
    pub size: i64,
    /// Checkpoint document CID.
    pub cid: String,
}

const EVIDENCE_COLS: &str =
    "chain_id, block_number, block_hash, log_index, tx_hash, contract, checkpoint, root, size, cid";

fn evidence_row(r: AnyRow) -> Result<EvidenceRow> {
    Ok(EvidenceRow {
        key: key_from_row(&r)?,
        checkpoint: r.try_get("checkpoint")?,
        root: digest(r.try_get("root")?)?,
        size: r.try_get("size")?,
        cid: r.try_get("cid")?,
    })
}

/// Evidence anchors whose root, transaction or CID is `needle`, at most `limit`.
pub async fn evidence_matching(
    conn: &mut Conn,
    chain_id: i64,
    needle: Needle<'_>,
    limit: i64,
) -> Result<Vec<EvidenceRow>> {
    let cond = match needle {
        Needle::Hash(_) => "(root = $2 OR tx_hash = $2)",
        Needle::Cid(_) => "cid = $2",
    };
    let sql = format!(
        "SELECT {EVIDENCE_COLS} FROM chain_evidence WHERE chain_id = $1 AND {cond} ORDER BY block_number, log_index LIMIT $3"
    );
    let q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(chain_id);
    let q = match needle {
        Needle::Hash(h) => q.bind(h.to_vec()),
        Needle::Cid(c) => q.bind(c),
    };
    q.bind(limit).fetch_all(conn).await?.into_iter().map(evidence_row).collect()
}

/// Evidence anchors newest first, below checkpoint `before` (all when `None`), at most `limit`.
pub async fn evidence_page(
    conn: &mut Conn,
    chain_id: i64,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<EvidenceRow>> {
    let sql = format!(
        "SELECT {EVIDENCE_COLS} FROM chain_evidence WHERE chain_id = $1 AND checkpoint < $2 \
         ORDER BY checkpoint DESC, block_number DESC LIMIT $3"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(chain_id)
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(evidence_row)
        .collect()
}

/// Counts of an epoch's workers per range of `width` of one score column, lowest range first:
/// `(range start, count)`. Only ranges with workers appear.
pub async fn score_histogram(
    conn: &mut Conn,
    chain_id: i64,
    epoch: i64,
    column: ScoreColumn,
    width: i64,
) -> Result<Vec<(i64, i64)>> {
    let col = match column {
        ScoreColumn::Reputation => "reputation",
        ScoreColumn::Credit => "credit",
    };
    let sql = format!(
        "SELECT ({col} / $3) * $3 AS bucket, COUNT(*) AS n FROM worker_scores WHERE chain_id = $1 AND epoch = $2 \
         GROUP BY 1 ORDER BY 1"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(chain_id)
        .bind(epoch)
        .bind(width)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|r| -> Result<(i64, i64)> { Ok((r.try_get("bucket")?, r.try_get("n")?)) })
        .collect()
}

/// A score column of `worker_scores`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScoreColumn {
    /// Reputation, 0 to 1000.
    Reputation,
    /// Credit score, 300 to 850.
    Credit,
}
