//! What the indexer records from the chain: decoded contract events, the window of recent
//! blocks, and the cursor. Every event row has the natural key (chain id, block hash, log index),
//! so recording a range twice changes nothing, and every row carries its block number, so a
//! reorganisation is undone by deleting what lies above the common ancestor.

use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::{Conn, Error, Result, digest};

/// Where a log was emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogKey {
    /// EVM chain id.
    pub chain_id: i64,
    /// Block number.
    pub block_number: i64,
    /// Block hash.
    pub block_hash: [u8; 32],
    /// Index of the log in its block.
    pub log_index: i64,
    /// Transaction hash.
    pub tx_hash: [u8; 32],
    /// Emitting contract.
    pub contract: [u8; 20],
}

/// What happened to a platform in the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlatformEventKind {
    /// `PlatformRegistered`.
    Registered,
    /// `PlatformUpdated`.
    Updated,
    /// `PlatformSuspended`.
    Suspended,
    /// `PlatformReinstated`.
    Reinstated,
}

impl PlatformEventKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Registered => "registered",
            Self::Updated => "updated",
            Self::Suspended => "suspended",
            Self::Reinstated => "reinstated",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "registered" => Self::Registered,
            "updated" => Self::Updated,
            "suspended" => Self::Suspended,
            "reinstated" => Self::Reinstated,
            other => return Err(Error::Corrupt(format!("platform event kind `{other}`"))),
        })
    }
}

/// A decoded jejak contract event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainEvent {
    /// A registry event about a platform.
    Platform {
        /// Platform id.
        platform_id: i64,
        /// What happened.
        kind: PlatformEventKind,
        /// Signer address (registered, updated).
        signer: Option<[u8; 20]>,
        /// Profile CID (registered, updated).
        profile_cid: Option<String>,
        /// Reason code (suspended).
        reason_code: Option<i64>,
    },
    /// `BatchAnchored`.
    Batch {
        /// On-chain batch id.
        batch_id: i64,
        /// Platform id.
        platform_id: i64,
        /// RFC 6962 root.
        root: [u8; 32],
        /// Number of leaves.
        count: i64,
        /// CID of the batch document.
        cid: String,
    },
    /// `LeafRevoked`.
    Revocation {
        /// On-chain batch id.
        batch_id: i64,
        /// Revoked leaf hash.
        leaf: [u8; 32],
        /// Reason code.
        reason_code: i64,
    },
    /// `RootPublished`.
    RootPublished {
        /// Epoch.
        epoch: i64,
        /// Poseidon root.
        root: [u8; 32],
        /// CID of the snapshot manifest.
        snapshot_cid: String,
        /// Scoring parameters version.
        params_version: i64,
    },
    /// `RootReplaced`.
    RootReplaced {
        /// Epoch of the replaced root.
        epoch: i64,
        /// When it stops being accepted, unix seconds (`u64::MAX` when the window saturated: never).
        expires_at: u64,
    },
    /// `EvidenceAnchored`.
    Evidence {
        /// Checkpoint index.
        checkpoint: i64,
        /// Log root at `size`.
        root: [u8; 32],
        /// Log size.
        size: i64,
        /// CID of the checkpoint document.
        cid: String,
    },
    /// `JejakProofVerifier.ProofConsumed`.
    ProofConsumed(ProofConsumed),
}

/// A proof verified and consumed on chain by `JejakProofVerifier`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofConsumed {
    /// The nullifier consumed (a field element, big-endian).
    pub nullifier: [u8; 32],
    /// The context the proof was for.
    pub context: [u8; 32],
    /// Who consumed it (the caller of `verifyAndConsume`, bound into the scope).
    pub consumer: [u8; 20],
    /// Epoch of the root.
    pub epoch: i64,
    /// The reputation root proven against.
    pub root: [u8; 32],
    /// Score proven as a minimum.
    pub min_score: u64,
    /// Completed gigs proven as a minimum.
    pub min_gigs: u64,
    /// Credit tier proven as a minimum.
    pub min_tier: u64,
    /// The challenge answered (a field element, big-endian).
    pub challenge: [u8; 32],
}

/// A decoded event and where it was emitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedLog {
    /// Position.
    pub key: LogKey,
    /// Content.
    pub event: ChainEvent,
}

/// Tables that hold decoded events, all keyed and rolled back the same way.
pub const EVENT_TABLES: [&str; 6] = [
    "chain_platform_events",
    "chain_batches",
    "chain_revocations",
    "chain_roots",
    "chain_evidence",
    "chain_proofs_consumed",
];

/// Most rows per multi-row INSERT (SQLite allows 32,766 parameters per statement).
const ROWS_PER_INSERT: usize = 500;

/// Records decoded events; rows already recorded are left as they are.
pub async fn insert_logs(conn: &mut Conn, logs: &[IndexedLog]) -> Result<()> {
    let mut platforms = Vec::new();
    let mut batches = Vec::new();
    let mut revocations = Vec::new();
    let mut roots = Vec::new();
    let mut evidence = Vec::new();
    let mut consumed = Vec::new();
    for l in logs {
        match &l.event {
            ChainEvent::Platform { .. } => platforms.push(l),
            ChainEvent::Batch { .. } => batches.push(l),
            ChainEvent::Revocation { .. } => revocations.push(l),
            ChainEvent::RootPublished { .. } | ChainEvent::RootReplaced { .. } => roots.push(l),
            ChainEvent::Evidence { .. } => evidence.push(l),
            ChainEvent::ProofConsumed(_) => consumed.push(l),
        }
    }
    let key_cols = "chain_id, block_number, block_hash, log_index, tx_hash, contract";
    insert_rows(
        conn,
        &format!("chain_platform_events ({key_cols}, platform_id, kind, signer, profile_cid, reason_code)"),
        11,
        &platforms,
        |q, l| match &l.event {
            ChainEvent::Platform { platform_id, kind, signer, profile_cid, reason_code } => bind_key(q, &l.key)
                .bind(*platform_id)
                .bind(kind.as_str())
                .bind(signer.map(|s| s.to_vec()))
                .bind(profile_cid.clone())
                .bind(*reason_code),
            _ => unreachable!("grouped by kind"),
        },
    )
    .await?;
    insert_rows(
        conn,
        &format!("chain_batches ({key_cols}, batch_id, platform_id, root, count, cid)"),
        11,
        &batches,
        |q, l| match &l.event {
            ChainEvent::Batch { batch_id, platform_id, root, count, cid } => bind_key(q, &l.key)
                .bind(*batch_id)
                .bind(*platform_id)
                .bind(root.to_vec())
                .bind(*count)
                .bind(cid.clone()),
            _ => unreachable!("grouped by kind"),
        },
    )
    .await?;
    insert_rows(
        conn,
        &format!("chain_revocations ({key_cols}, batch_id, leaf, reason_code)"),
        9,
        &revocations,
        |q, l| match &l.event {
            ChainEvent::Revocation { batch_id, leaf, reason_code } => {
                bind_key(q, &l.key).bind(*batch_id).bind(leaf.to_vec()).bind(*reason_code)
            }
            _ => unreachable!("grouped by kind"),
        },
    )
    .await?;
    insert_rows(
        conn,
        &format!("chain_roots ({key_cols}, epoch, kind, root, snapshot_cid, params_version, expires_at)"),
        12,
        &roots,
        |q, l| match &l.event {
            ChainEvent::RootPublished { epoch, root, snapshot_cid, params_version } => bind_key(q, &l.key)
                .bind(*epoch)
                .bind("published")
                .bind(Some(root.to_vec()))
                .bind(Some(snapshot_cid.clone()))
                .bind(Some(*params_version))
                .bind(None::<String>),
            ChainEvent::RootReplaced { epoch, expires_at } => bind_key(q, &l.key)
                .bind(*epoch)
                .bind("replaced")
                .bind(None::<Vec<u8>>)
                .bind(None::<String>)
                .bind(None::<i64>)
                .bind(Some(expires_at.to_string())),
            _ => unreachable!("grouped by kind"),
        },
    )
    .await?;
    insert_rows(conn, &format!("chain_evidence ({key_cols}, checkpoint, root, size, cid)"), 10, &evidence, |q, l| {
        match &l.event {
            ChainEvent::Evidence { checkpoint, root, size, cid } => {
                bind_key(q, &l.key).bind(*checkpoint).bind(root.to_vec()).bind(*size).bind(cid.clone())
            }
            _ => unreachable!("grouped by kind"),
        }
    })
    .await?;
    insert_rows(
        conn,
        &format!(
            "chain_proofs_consumed ({key_cols}, nullifier, context, consumer, epoch, root, min_score, min_gigs, \
             min_tier, challenge)"
        ),
        15,
        &consumed,
        |q, l| match &l.event {
            ChainEvent::ProofConsumed(p) => bind_key(q, &l.key)
                .bind(p.nullifier.to_vec())
                .bind(p.context.to_vec())
                .bind(p.consumer.to_vec())
                .bind(p.epoch)
                .bind(p.root.to_vec())
                .bind(p.min_score.to_string())
                .bind(p.min_gigs.to_string())
                .bind(p.min_tier.to_string())
                .bind(p.challenge.to_vec()),
            _ => unreachable!("grouped by kind"),
        },
    )
    .await?;
    Ok(())
}

/// A `ProofConsumed` event and where it was emitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumedRow {
    /// Position.
    pub key: LogKey,
    /// Content.
    pub proof: ProofConsumed,
}

const CONSUMED_COLS: &str = "chain_id, block_number, block_hash, log_index, tx_hash, contract, nullifier, context, \
     consumer, epoch, root, min_score, min_gigs, min_tier, challenge";

fn consumed_from_row(r: &AnyRow) -> Result<ConsumedRow> {
    let consumer: Vec<u8> = r.try_get("consumer")?;
    Ok(ConsumedRow {
        key: key_from_row(r)?,
        proof: ProofConsumed {
            nullifier: digest(r.try_get("nullifier")?)?,
            context: digest(r.try_get("context")?)?,
            consumer: consumer.try_into().map_err(|_| Error::Corrupt("consumer is not 20 bytes".into()))?,
            epoch: r.try_get("epoch")?,
            root: digest(r.try_get("root")?)?,
            min_score: parse_u64(&r.try_get::<String, _>("min_score")?)?,
            min_gigs: parse_u64(&r.try_get::<String, _>("min_gigs")?)?,
            min_tier: parse_u64(&r.try_get::<String, _>("min_tier")?)?,
            challenge: digest(r.try_get("challenge")?)?,
        },
    })
}

/// The on-chain consumptions of `nullifier` (one per verifier contract at most), in chain order.
pub async fn proofs_consumed_by_nullifier(
    conn: &mut Conn,
    chain_id: i64,
    nullifier: &[u8; 32],
) -> Result<Vec<ConsumedRow>> {
    let sql = format!(
        "SELECT {CONSUMED_COLS} FROM chain_proofs_consumed WHERE chain_id = $1 AND nullifier = $2 \
         ORDER BY block_number, log_index"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(chain_id)
        .bind(nullifier.to_vec())
        .fetch_all(conn)
        .await?
        .iter()
        .map(consumed_from_row)
        .collect()
}

/// At most `limit` on-chain consumptions before `(block_number, log_index)`, newest first.
pub async fn proofs_consumed_before(
    conn: &mut Conn,
    chain_id: i64,
    before: (i64, i64),
    limit: i64,
) -> Result<Vec<ConsumedRow>> {
    let sql = format!(
        "SELECT {CONSUMED_COLS} FROM chain_proofs_consumed WHERE chain_id = $1 \
         AND (block_number < $2 OR (block_number = $2 AND log_index < $3)) \
         ORDER BY block_number DESC, log_index DESC LIMIT $4"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(chain_id)
        .bind(before.0)
        .bind(before.1)
        .bind(limit)
        .fetch_all(conn)
        .await?
        .iter()
        .map(consumed_from_row)
        .collect()
}

type AnyQuery = sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments>;

/// `INSERT INTO {target} VALUES (...), (...) ON CONFLICT DO NOTHING` in chunks, with `$n`
/// placeholders (sqlx's query builder writes `?` for the Any driver, which PostgreSQL refuses).
async fn insert_rows<R>(
    conn: &mut Conn,
    target: &str,
    columns: usize,
    rows: &[R],
    bind: impl Fn(AnyQuery, &R) -> AnyQuery,
) -> Result<()> {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let sql = format!("INSERT INTO {target} VALUES {} ON CONFLICT DO NOTHING", placeholders(chunk.len(), columns));
        let mut q: AnyQuery = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in chunk {
            q = bind(q, row);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// `($1, $2), ($3, $4)` for `rows` rows of `columns` values.
pub(crate) fn placeholders(rows: usize, columns: usize) -> String {
    let mut out = String::with_capacity(rows * columns * 5);
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for c in 0..columns {
            if c > 0 {
                out.push_str(", ");
            }
            out.push('$');
            out.push_str(&(r * columns + c + 1).to_string());
        }
        out.push(')');
    }
    out
}

fn bind_key(q: AnyQuery, k: &LogKey) -> AnyQuery {
    q.bind(k.chain_id)
        .bind(k.block_number)
        .bind(k.block_hash.to_vec())
        .bind(k.log_index)
        .bind(k.tx_hash.to_vec())
        .bind(k.contract.to_vec())
}

/// Deletes every event and window block above `block_number`: the undo of a reorganisation.
/// Returns how many event rows went.
pub async fn rollback_after(conn: &mut Conn, chain_id: i64, block_number: i64) -> Result<u64> {
    let mut removed = 0;
    for table in EVENT_TABLES {
        let sql = format!("DELETE FROM {table} WHERE chain_id = $1 AND block_number > $2");
        removed += sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(chain_id)
            .bind(block_number)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    }
    sqlx::query("DELETE FROM chain_blocks WHERE chain_id = $1 AND number > $2")
        .bind(chain_id)
        .bind(block_number)
        .execute(&mut *conn)
        .await?;
    Ok(removed)
}

/// The indexer's progress on one chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// EVM chain id.
    pub chain_id: i64,
    /// Last block recorded.
    pub block_number: i64,
    /// Its hash.
    pub block_hash: [u8; 32],
    /// Chain head when last seen.
    pub head_number: i64,
    /// Finalized block when last seen.
    pub finalized_number: i64,
    /// Reorganisations handled so far.
    pub reorgs: i64,
    /// Last update, unix seconds.
    pub updated_at: i64,
}

/// The cursor of a chain, if the indexer has started on it.
pub async fn cursor(conn: &mut Conn, chain_id: i64) -> Result<Option<Cursor>> {
    let row = sqlx::query(
        "SELECT chain_id, block_number, block_hash, head_number, finalized_number, reorgs, updated_at \
         FROM indexer_cursor WHERE chain_id = $1",
    )
    .bind(chain_id)
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        Ok(Cursor {
            chain_id: r.try_get("chain_id")?,
            block_number: r.try_get("block_number")?,
            block_hash: digest(r.try_get("block_hash")?)?,
            head_number: r.try_get("head_number")?,
            finalized_number: r.try_get("finalized_number")?,
            reorgs: r.try_get("reorgs")?,
            updated_at: r.try_get("updated_at")?,
        })
    })
    .transpose()
}

/// Writes the cursor.
pub async fn save_cursor(conn: &mut Conn, c: &Cursor) -> Result<()> {
    sqlx::query(
        "INSERT INTO indexer_cursor (chain_id, block_number, block_hash, head_number, finalized_number, reorgs, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (chain_id) DO UPDATE SET block_number = excluded.block_number, \
           block_hash = excluded.block_hash, head_number = excluded.head_number, \
           finalized_number = excluded.finalized_number, reorgs = excluded.reorgs, updated_at = excluded.updated_at",
    )
    .bind(c.chain_id)
    .bind(c.block_number)
    .bind(c.block_hash.to_vec())
    .bind(c.head_number)
    .bind(c.finalized_number)
    .bind(c.reorgs)
    .bind(c.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// A block of the recent-block window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockRow {
    /// Number.
    pub number: i64,
    /// Hash.
    pub hash: [u8; 32],
    /// Parent hash.
    pub parent_hash: [u8; 32],
}

/// Records window blocks (replacing any at the same height).
pub async fn insert_blocks(conn: &mut Conn, chain_id: i64, blocks: &[BlockRow]) -> Result<()> {
    for chunk in blocks.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO chain_blocks (chain_id, number, hash, parent_hash) VALUES {} \
             ON CONFLICT (chain_id, number) DO UPDATE SET hash = excluded.hash, parent_hash = excluded.parent_hash",
            placeholders(chunk.len(), 4)
        );
        let mut q: AnyQuery = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in chunk {
            q = q.bind(chain_id).bind(b.number).bind(b.hash.to_vec()).bind(b.parent_hash.to_vec());
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The window, from the highest block down, at most `limit` blocks.
pub async fn window(conn: &mut Conn, chain_id: i64, limit: i64) -> Result<Vec<BlockRow>> {
    let rows = sqlx::query(
        "SELECT number, hash, parent_hash FROM chain_blocks WHERE chain_id = $1 ORDER BY number DESC LIMIT $2",
    )
    .bind(chain_id)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(BlockRow {
                number: r.try_get("number")?,
                hash: digest(r.try_get("hash")?)?,
                parent_hash: digest(r.try_get("parent_hash")?)?,
            })
        })
        .collect()
}

/// Forgets window blocks below `number` (finalized, no longer able to reorganise).
pub async fn prune_blocks(conn: &mut Conn, chain_id: i64, number: i64) -> Result<()> {
    sqlx::query("DELETE FROM chain_blocks WHERE chain_id = $1 AND number < $2")
        .bind(chain_id)
        .bind(number)
        .execute(conn)
        .await?;
    Ok(())
}

/// A platform as the registry's events describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformState {
    /// Platform id.
    pub platform_id: i64,
    /// Current signer.
    pub signer: [u8; 20],
    /// Current profile CID.
    pub profile_cid: String,
    /// Whether it is active (not suspended).
    pub active: bool,
    /// Block of the latest event about it.
    pub last_block: i64,
    /// Block it was registered in.
    pub registered_block: i64,
}

/// Folds a platform's registry events into its current state.
pub async fn platform(conn: &mut Conn, chain_id: i64, platform_id: i64) -> Result<Option<PlatformState>> {
    let rows = sqlx::query(
        "SELECT block_number, kind, signer, profile_cid FROM chain_platform_events \
         WHERE chain_id = $1 AND platform_id = $2 ORDER BY block_number, log_index",
    )
    .bind(chain_id)
    .bind(platform_id)
    .fetch_all(conn)
    .await?;
    let mut state: Option<PlatformState> = None;
    for r in rows {
        let block: i64 = r.try_get("block_number")?;
        let kind = PlatformEventKind::parse(&r.try_get::<String, _>("kind")?)?;
        let signer: Option<Vec<u8>> = r.try_get("signer")?;
        let signer = signer
            .map(|s| <[u8; 20]>::try_from(s).map_err(|_| Error::Corrupt("signer is not 20 bytes".into())))
            .transpose()?;
        let cid: Option<String> = r.try_get("profile_cid")?;
        match (kind, state.as_mut()) {
            (PlatformEventKind::Registered, _) => {
                state = Some(PlatformState {
                    platform_id,
                    signer: signer.unwrap_or_default(),
                    profile_cid: cid.unwrap_or_default(),
                    active: true,
                    last_block: block,
                    registered_block: block,
                });
            }
            (PlatformEventKind::Updated, Some(s)) => {
                s.signer = signer.unwrap_or(s.signer);
                s.profile_cid = cid.unwrap_or_else(|| s.profile_cid.clone());
                s.last_block = block;
            }
            (PlatformEventKind::Suspended, Some(s)) => {
                s.active = false;
                s.last_block = block;
            }
            (PlatformEventKind::Reinstated, Some(s)) => {
                s.active = true;
                s.last_block = block;
            }
            (_, None) => {
                return Err(Error::Corrupt(format!("platform {platform_id} changed before registration")));
            }
        }
    }
    Ok(state)
}

/// An indexed `BatchAnchored` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBatch {
    /// Where it was emitted.
    pub key: LogKey,
    /// On-chain batch id.
    pub batch_id: i64,
    /// Platform id.
    pub platform_id: i64,
    /// Root.
    pub root: [u8; 32],
    /// Leaf count.
    pub count: i64,
    /// Batch document CID.
    pub cid: String,
}

pub(crate) fn batch_from_row(r: AnyRow) -> Result<ChainBatch> {
    Ok(ChainBatch {
        key: key_from_row(&r)?,
        batch_id: r.try_get("batch_id")?,
        platform_id: r.try_get("platform_id")?,
        root: digest(r.try_get("root")?)?,
        count: r.try_get("count")?,
        cid: r.try_get("cid")?,
    })
}

/// The anchoring of a platform's root, if indexed (the earliest, should it appear twice).
pub async fn batch_by_root(
    conn: &mut Conn,
    chain_id: i64,
    platform_id: i64,
    root: &[u8; 32],
) -> Result<Option<ChainBatch>> {
    sqlx::query(
        "SELECT chain_id, block_number, block_hash, log_index, tx_hash, contract, batch_id, platform_id, root, count, cid \
         FROM chain_batches WHERE chain_id = $1 AND platform_id = $2 AND root = $3 \
         ORDER BY block_number, log_index LIMIT 1",
    )
    .bind(chain_id)
    .bind(platform_id)
    .bind(root.to_vec())
    .fetch_optional(conn)
    .await?
    .map(batch_from_row)
    .transpose()
}

/// Indexed batches with the CID they name, in chain order, after `(block, log index)`.
pub async fn batches_after(conn: &mut Conn, chain_id: i64, after: (i64, i64), limit: i64) -> Result<Vec<ChainBatch>> {
    sqlx::query(
        "SELECT chain_id, block_number, block_hash, log_index, tx_hash, contract, batch_id, platform_id, root, count, cid \
         FROM chain_batches WHERE chain_id = $1 AND (block_number > $2 OR (block_number = $2 AND log_index > $3)) \
         ORDER BY block_number, log_index LIMIT $4",
    )
    .bind(chain_id)
    .bind(after.0)
    .bind(after.1)
    .bind(limit)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(batch_from_row)
    .collect()
}

/// The reason a leaf of an on-chain batch was revoked, if it was.
pub async fn revocation(conn: &mut Conn, chain_id: i64, batch_id: i64, leaf: &[u8; 32]) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT reason_code FROM chain_revocations WHERE chain_id = $1 AND batch_id = $2 AND leaf = $3 \
         ORDER BY block_number LIMIT 1",
    )
    .bind(chain_id)
    .bind(batch_id)
    .bind(leaf.to_vec())
    .fetch_optional(conn)
    .await?)
}

/// Number of event rows per table, for status pages and tests.
pub async fn counts(conn: &mut Conn, chain_id: i64) -> Result<Vec<(&'static str, i64)>> {
    let mut out = Vec::new();
    for table in EVENT_TABLES {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE chain_id = $1");
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(chain_id).fetch_one(&mut *conn).await?;
        out.push((table, n));
    }
    Ok(out)
}

/// Indexed batches naming a CID.
pub async fn batches_by_cid(conn: &mut Conn, chain_id: i64, cid: &str) -> Result<Vec<ChainBatch>> {
    sqlx::query(
        "SELECT chain_id, block_number, block_hash, log_index, tx_hash, contract, batch_id, platform_id, root, count, cid \
         FROM chain_batches WHERE chain_id = $1 AND cid = $2 ORDER BY block_number, log_index",
    )
    .bind(chain_id)
    .bind(cid)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(batch_from_row)
    .collect()
}

/// Every recorded event of a chain in chain order: what an audit or a test compares with the
/// canonical chain, row by row.
pub async fn all_logs(conn: &mut Conn, chain_id: i64) -> Result<Vec<IndexedLog>> {
    let mut out = Vec::new();
    let key_cols = "chain_id, block_number, block_hash, log_index, tx_hash, contract";
    let sql = format!(
        "SELECT {key_cols}, platform_id, kind, signer, profile_cid, reason_code FROM chain_platform_events WHERE chain_id = $1"
    );
    for r in sqlx::query(sqlx::AssertSqlSafe(sql)).bind(chain_id).fetch_all(&mut *conn).await? {
        let signer: Option<Vec<u8>> = r.try_get("signer")?;
        out.push(IndexedLog {
            key: key_from_row(&r)?,
            event: ChainEvent::Platform {
                platform_id: r.try_get("platform_id")?,
                kind: PlatformEventKind::parse(&r.try_get::<String, _>("kind")?)?,
                signer: signer
                    .map(|s| s.try_into().map_err(|_| Error::Corrupt("signer is not 20 bytes".into())))
                    .transpose()?,
                profile_cid: r.try_get("profile_cid")?,
                reason_code: r.try_get("reason_code")?,
            },
        });
    }
    for b in batches_after(conn, chain_id, (-1, -1), i64::MAX).await? {
        out.push(IndexedLog {
            key: b.key,
            event: ChainEvent::Batch {
                batch_id: b.batch_id,
                platform_id: b.platform_id,
                root: b.root,
                count: b.count,
                cid: b.cid,
            },
        });
    }
    let sql = format!("SELECT {key_cols}, batch_id, leaf, reason_code FROM chain_revocations WHERE chain_id = $1");
    for r in sqlx::query(sqlx::AssertSqlSafe(sql)).bind(chain_id).fetch_all(&mut *conn).await? {
        out.push(IndexedLog {
            key: key_from_row(&r)?,
            event: ChainEvent::Revocation {
                batch_id: r.try_get("batch_id")?,
                leaf: digest(r.try_get("leaf")?)?,
                reason_code: r.try_get("reason_code")?,
            },
        });
    }
    let sql = format!(
        "SELECT {key_cols}, epoch, kind, root, snapshot_cid, params_version, expires_at FROM chain_roots WHERE chain_id = $1"
    );
    for r in sqlx::query(sqlx::AssertSqlSafe(sql)).bind(chain_id).fetch_all(&mut *conn).await? {
        let kind: String = r.try_get("kind")?;
        let event = match kind.as_str() {
            "published" => {
                let root: Option<Vec<u8>> = r.try_get("root")?;
                ChainEvent::RootPublished {
                    epoch: r.try_get("epoch")?,
                    root: digest(root.ok_or_else(|| Error::Corrupt("published root without root".into()))?)?,
                    snapshot_cid: r.try_get::<Option<String>, _>("snapshot_cid")?.unwrap_or_default(),
                    params_version: r.try_get::<Option<i64>, _>("params_version")?.unwrap_or_default(),
                }
            }
            _ => ChainEvent::RootReplaced {
                epoch: r.try_get("epoch")?,
                expires_at: parse_u64(r.try_get::<Option<String>, _>("expires_at")?.as_deref().unwrap_or("0"))?,
            },
        };
        out.push(IndexedLog { key: key_from_row(&r)?, event });
    }
    let sql = format!("SELECT {key_cols}, checkpoint, root, size, cid FROM chain_evidence WHERE chain_id = $1");
    for r in sqlx::query(sqlx::AssertSqlSafe(sql)).bind(chain_id).fetch_all(&mut *conn).await? {
        out.push(IndexedLog {
            key: key_from_row(&r)?,
            event: ChainEvent::Evidence {
                checkpoint: r.try_get("checkpoint")?,
                root: digest(r.try_get("root")?)?,
                size: r.try_get("size")?,
                cid: r.try_get("cid")?,
            },
        });
    }
    let sql = format!("SELECT {CONSUMED_COLS} FROM chain_proofs_consumed WHERE chain_id = $1");
    for r in sqlx::query(sqlx::AssertSqlSafe(sql)).bind(chain_id).fetch_all(&mut *conn).await? {
        let row = consumed_from_row(&r)?;
        out.push(IndexedLog { key: row.key, event: ChainEvent::ProofConsumed(row.proof) });
    }
    out.sort_by_key(|l| (l.key.block_number, l.key.log_index));
    Ok(out)
}

/// A uint64 kept as decimal text (neither engine has an unsigned 64-bit column type).
pub(crate) fn parse_u64(text: &str) -> Result<u64> {
    text.parse().map_err(|_| Error::Corrupt(format!("`{text}` is not a uint64")))
}

pub(crate) fn key_from_row(r: &AnyRow) -> Result<LogKey> {
    let contract: Vec<u8> = r.try_get("contract")?;
    Ok(LogKey {
        chain_id: r.try_get("chain_id")?,
        block_number: r.try_get("block_number")?,
        block_hash: digest(r.try_get("block_hash")?)?,
        log_index: r.try_get("log_index")?,
        tx_hash: digest(r.try_get("tx_hash")?)?,
        contract: contract.try_into().map_err(|_| Error::Corrupt("contract is not 20 bytes".into()))?,
    })
}
