//! Proof-of-reality evidence: the tasks platforms create, the witness keys they register, the
//! files workers submit, the append-only evidence log, the verdicts, and the checkpoints the node
//! anchors on chain.
//!
//! The evidence log is the sequence of `evidence_files` rows ordered by `leaf_index`. An index
//! is assigned once, by [`append_file`], from the `evidence_log_head` counter that every append
//! updates (a row lock on PostgreSQL, the write lock on SQLite), so positions are dense and never
//! change. Files themselves live in the node's blob store, never here.

use std::collections::HashMap;

use jejak_core::merkle::{self, MerkleTree, NodeId};
use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::{Conn, Error, Result, digest};

/// A witness key a platform registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessKeyRow {
    /// The platform that registered it.
    pub platform_id: i64,
    /// The ed25519 public key.
    pub key: [u8; 32],
    /// A label for people.
    pub label: String,
    /// When the node registered it (its own clock).
    pub registered_at: i64,
}

/// Registers a witness key for a platform. Registering it again changes nothing: the first
/// registration time is what the rules compare with task windows. Returns the stored row and
/// whether this call created it.
pub async fn register_witness(
    conn: &mut Conn,
    platform_id: i64,
    key: &[u8; 32],
    label: &str,
    now: i64,
) -> Result<(WitnessKeyRow, bool)> {
    let done = sqlx::query(
        "INSERT INTO evidence_witnesses (platform_id, witness_key, label, registered_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (platform_id, witness_key) DO NOTHING",
    )
    .bind(platform_id)
    .bind(key.to_vec())
    .bind(label)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    let r = sqlx::query(
        "SELECT platform_id, witness_key, label, registered_at FROM evidence_witnesses \
         WHERE platform_id = $1 AND witness_key = $2",
    )
    .bind(platform_id)
    .bind(key.to_vec())
    .fetch_one(conn)
    .await?;
    Ok((witness_from_row(r)?, done.rows_affected() == 1))
}

/// Every witness key of a platform, oldest first.
pub async fn witness_keys(conn: &mut Conn, platform_id: i64) -> Result<Vec<WitnessKeyRow>> {
    sqlx::query(
        "SELECT platform_id, witness_key, label, registered_at FROM evidence_witnesses WHERE platform_id = $1 \
         ORDER BY registered_at, witness_key",
    )
    .bind(platform_id)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(witness_from_row)
    .collect()
}

fn witness_from_row(r: AnyRow) -> Result<WitnessKeyRow> {
    Ok(WitnessKeyRow {
        platform_id: r.try_get("platform_id")?,
        key: digest(r.try_get("witness_key")?)?,
        label: r.try_get("label")?,
        registered_at: r.try_get("registered_at")?,
    })
}

/// A task as a platform created it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTask {
    /// Node id (`tsk_...`).
    pub id: String,
    /// The platform that created it.
    pub platform_id: i64,
    /// The platform's own id for the task.
    pub external_id: String,
    /// Task type, which selects the rule configuration.
    pub task_type: String,
    /// The worker's account reference on the platform.
    pub worker_ref: String,
    /// The worker's ed25519 public key (their capture app's).
    pub worker_key: [u8; 32],
    /// Window start, unix seconds.
    pub window_start: i64,
    /// Window end, unix seconds.
    pub window_end: i64,
    /// Task location, degrees north.
    pub latitude: f64,
    /// Task location, degrees east.
    pub longitude: f64,
    /// Radius of the task area in metres, overriding the task type's.
    pub radius_m: Option<f64>,
    /// SHA-256 of the creating request, to recognise a retry.
    pub request_hash: [u8; 32],
    /// When the node created it.
    pub created_at: i64,
}

/// A stored task.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRow {
    /// The task.
    pub task: NewTask,
    /// The capture nonce, once issued.
    pub nonce: Option<String>,
    /// When the nonce was issued.
    pub nonce_issued_at: Option<i64>,
}

macro_rules! select_task {
    ($tail:literal) => {
        concat!(
            "SELECT id, platform_id, external_id, task_type, worker_ref, worker_key, window_start, window_end, \
             latitude, longitude, radius_m, request_hash, nonce, nonce_issued_at, created_at FROM evidence_tasks ",
            $tail
        )
    };
}

fn task_from_row(r: AnyRow) -> Result<TaskRow> {
    Ok(TaskRow {
        task: NewTask {
            id: r.try_get("id")?,
            platform_id: r.try_get("platform_id")?,
            external_id: r.try_get("external_id")?,
            task_type: r.try_get("task_type")?,
            worker_ref: r.try_get("worker_ref")?,
            worker_key: digest(r.try_get("worker_key")?)?,
            window_start: r.try_get("window_start")?,
            window_end: r.try_get("window_end")?,
            latitude: r.try_get("latitude")?,
            longitude: r.try_get("longitude")?,
            radius_m: r.try_get("radius_m")?,
            request_hash: digest(r.try_get("request_hash")?)?,
            created_at: r.try_get("created_at")?,
        },
        nonce: r.try_get("nonce")?,
        nonce_issued_at: r.try_get("nonce_issued_at")?,
    })
}

/// Stores a new task. A second task with the same `(platform_id, external_id)` is a unique
/// violation.
pub async fn insert_task(conn: &mut Conn, t: &NewTask) -> Result<()> {
    sqlx::query(
        "INSERT INTO evidence_tasks (id, platform_id, external_id, task_type, worker_ref, worker_key, window_start, \
         window_end, latitude, longitude, radius_m, request_hash, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&t.id)
    .bind(t.platform_id)
    .bind(&t.external_id)
    .bind(&t.task_type)
    .bind(&t.worker_ref)
    .bind(t.worker_key.to_vec())
    .bind(t.window_start)
    .bind(t.window_end)
    .bind(t.latitude)
    .bind(t.longitude)
    .bind(t.radius_m)
    .bind(t.request_hash.to_vec())
    .bind(t.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The task with this node id.
pub async fn task(conn: &mut Conn, id: &str) -> Result<Option<TaskRow>> {
    sqlx::query(select_task!("WHERE id = $1")).bind(id).fetch_optional(conn).await?.map(task_from_row).transpose()
}

/// Whose tasks a page lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskOwner<'a> {
    /// Every task (admins, auditors).
    Any,
    /// The tasks a platform created.
    Platform(i64),
    /// The tasks of a worker (`worker_ref`).
    Worker(&'a str),
}

/// Up to `limit` tasks of `owner` with ids before `before` (all when empty), newest first (task
/// ids are UUIDv7, so id order is creation order).
pub async fn tasks_page(conn: &mut Conn, owner: TaskOwner<'_>, before: &str, limit: i64) -> Result<Vec<TaskRow>> {
    let sql = match owner {
        TaskOwner::Any => select_task!("WHERE ($1 = '' OR id < $1) ORDER BY id DESC LIMIT $2"),
        TaskOwner::Platform(_) => {
            select_task!("WHERE platform_id = $3 AND ($1 = '' OR id < $1) ORDER BY id DESC LIMIT $2")
        }
        TaskOwner::Worker(_) => {
            select_task!("WHERE worker_ref = $3 AND ($1 = '' OR id < $1) ORDER BY id DESC LIMIT $2")
        }
    };
    let q = sqlx::query(sql).bind(before).bind(limit);
    let q = match owner {
        TaskOwner::Any => q,
        TaskOwner::Platform(p) => q.bind(p),
        TaskOwner::Worker(w) => q.bind(w),
    };
    q.fetch_all(conn).await?.into_iter().map(task_from_row).collect()
}

/// The task a platform created under its own id.
pub async fn task_by_external_id(conn: &mut Conn, platform_id: i64, external_id: &str) -> Result<Option<TaskRow>> {
    sqlx::query(select_task!("WHERE platform_id = $1 AND external_id = $2"))
        .bind(platform_id)
        .bind(external_id)
        .fetch_optional(conn)
        .await?
        .map(task_from_row)
        .transpose()
}

/// Issues `nonce` for the task unless one was issued already; returns the task's nonce and when
/// it was issued (the first one wins, so a retried request gets the same nonce back). `None`
/// when the task does not exist.
pub async fn issue_nonce(conn: &mut Conn, task_id: &str, nonce: &str, now: i64) -> Result<Option<(String, i64)>> {
    sqlx::query("UPDATE evidence_tasks SET nonce = $2, nonce_issued_at = $3 WHERE id = $1 AND nonce IS NULL")
        .bind(task_id)
        .bind(nonce)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    let row = sqlx::query("SELECT nonce, nonce_issued_at FROM evidence_tasks WHERE id = $1")
        .bind(task_id)
        .fetch_optional(conn)
        .await?;
    let Some(r) = row else { return Ok(None) };
    let nonce: Option<String> = r.try_get("nonce")?;
    let at: Option<i64> = r.try_get("nonce_issued_at")?;
    match (nonce, at) {
        (Some(n), Some(at)) => Ok(Some((n, at))),
        _ => Err(Error::Corrupt(format!("task {task_id}: nonce not recorded"))),
    }
}

/// A distinct evidence file, as accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFile {
    /// SHA-256 of the file.
    pub sha256: [u8; 32],
    /// Salt of its evidence leaf.
    pub salt: [u8; 32],
    /// Hash of its extracted metadata.
    pub metadata_hash: [u8; 32],
    /// Its RFC 6962 leaf hash in the evidence log.
    pub leaf_hash: [u8; 32],
    /// Sniffed type (`jpeg`, `gpx`...).
    pub media_type: String,
    /// Size in bytes.
    pub size: i64,
    /// Extracted metadata, JSON.
    pub metadata: String,
    /// 64-bit perceptual hash of photos that could be decoded.
    pub phash: Option<u64>,
    /// When it was first accepted.
    pub created_at: i64,
}

/// A file with its position in the evidence log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRow {
    /// The file.
    pub file: NewFile,
    /// Its leaf index in the evidence log.
    pub leaf_index: i64,
}

const FILE_COLS: &str = "f.sha256, f.leaf_index, f.salt, f.metadata_hash, f.leaf_hash, f.media_type, f.size, f.metadata, f.phash, f.created_at";

fn file_from_row(r: &AnyRow) -> Result<FileRow> {
    let phash: Option<i64> = r.try_get("phash")?;
    Ok(FileRow {
        file: NewFile {
            sha256: digest(r.try_get("sha256")?)?,
            salt: digest(r.try_get("salt")?)?,
            metadata_hash: digest(r.try_get("metadata_hash")?)?,
            leaf_hash: digest(r.try_get("leaf_hash")?)?,
            media_type: r.try_get("media_type")?,
            size: r.try_get("size")?,
            metadata: r.try_get("metadata")?,
            // Stored as the signed integer with the same bits.
            phash: phash.map(|p| p as u64),
            created_at: r.try_get("created_at")?,
        },
        leaf_index: r.try_get("leaf_index")?,
    })
}

/// The file with this SHA-256.
pub async fn file(conn: &mut Conn, sha256: &[u8; 32]) -> Result<Option<FileRow>> {
    let sql = format!("SELECT {FILE_COLS} FROM evidence_files f WHERE f.sha256 = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(sha256.to_vec())
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(file_from_row)
        .transpose()
}

/// Appends a new file to the evidence log and returns its leaf index. Run it inside a
/// transaction: the head counter and the row commit together, so an index is never skipped or
/// given twice. A file already in the log is a unique violation.
pub async fn append_file(conn: &mut Conn, f: &NewFile) -> Result<i64> {
    let size: i64 = sqlx::query_scalar("UPDATE evidence_log_head SET size = size + 1 WHERE id = 1 RETURNING size")
        .fetch_one(&mut *conn)
        .await?;
    let index = size - 1;
    sqlx::query(
        "INSERT INTO evidence_files (sha256, leaf_index, salt, metadata_hash, leaf_hash, media_type, size, metadata, \
         phash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(f.sha256.to_vec())
    .bind(index)
    .bind(f.salt.to_vec())
    .bind(f.metadata_hash.to_vec())
    .bind(f.leaf_hash.to_vec())
    .bind(&f.media_type)
    .bind(f.size)
    .bind(&f.metadata)
    .bind(f.phash.map(|p| p as i64))
    .bind(f.created_at)
    .execute(&mut *conn)
    .await?;
    let index_u = index as u64;
    let reads = merkle::append_reads(index_u);
    let found = log_nodes(conn, &reads).await?;
    let siblings =
        reads.iter().map(|id| found.get(id).copied().ok_or_else(|| missing_node(*id))).collect::<Result<Vec<_>>>()?;
    let nodes = merkle::append_nodes(index_u, f.leaf_hash, &siblings).map_err(|e| Error::Corrupt(e.to_string()))?;
    insert_log_nodes(conn, &nodes, false).await?;
    Ok(index)
}

fn missing_node(id: NodeId) -> Error {
    Error::Corrupt(format!("evidence log: subtree {} at level {} is missing", id.index, id.level))
}

/// The stored hashes of these complete subtrees of the evidence log (those it holds).
pub async fn log_nodes(conn: &mut Conn, ids: &[NodeId]) -> Result<HashMap<NodeId, [u8; 32]>> {
    let mut out = HashMap::with_capacity(ids.len());
    // A proof reads about 2 log2(n) subtrees; a chunk keeps each statement's parameters few.
    for chunk in ids.chunks(64) {
        let mut sql = String::from("SELECT level, idx, hash FROM evidence_log_nodes WHERE ");
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push_str(" OR ");
            }
            sql.push_str(&format!("(level = ${} AND idx = ${})", 2 * i + 1, 2 * i + 2));
        }
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(i64::from(id.level)).bind(id.index as i64);
        }
        for r in q.fetch_all(&mut *conn).await? {
            let level: i64 = r.try_get("level")?;
            let index: i64 = r.try_get("idx")?;
            let id = NodeId { level: level as u32, index: index as u64 };
            out.insert(id, digest(r.try_get("hash")?)?);
        }
    }
    Ok(out)
}

/// The stored subtrees these ids name, failing if one is missing: what a proof over the log
/// needs (see [`merkle::inclusion_nodes`], [`merkle::consistency_nodes`]).
pub async fn required_log_nodes(conn: &mut Conn, ids: &[NodeId]) -> Result<HashMap<NodeId, [u8; 32]>> {
    let found = log_nodes(conn, ids).await?;
    if let Some(id) = ids.iter().find(|id| !found.contains_key(id)) {
        return Err(missing_node(*id));
    }
    Ok(found)
}

async fn insert_log_nodes(conn: &mut Conn, nodes: &[(NodeId, [u8; 32])], if_missing: bool) -> Result<()> {
    for chunk in nodes.chunks(100) {
        let mut sql = String::from("INSERT INTO evidence_log_nodes (level, idx, hash) VALUES ");
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3));
        }
        if if_missing {
            sql.push_str(" ON CONFLICT (level, idx) DO NOTHING");
        }
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (id, hash) in chunk {
            q = q.bind(i64::from(id.level)).bind(id.index as i64).bind(hash.to_vec());
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Fills in the subtrees of a log accepted before they were stored (the first start after an
/// upgrade): one pass over the leaves, in a transaction that holds the appenders off. A log
/// whose last leaf has its subtree is complete and costs one read.
pub async fn fill_log_nodes(store: &crate::Store) -> Result<u64> {
    let mut c = store.conn().await?;
    let size = log_size(&mut c).await?;
    if size == 0 || !log_nodes(&mut c, &[NodeId { level: 0, index: size - 1 }]).await?.is_empty() {
        return Ok(0);
    }
    drop(c);
    let mut tx = store.begin().await?;
    // The head row lock (the write lock on SQLite) keeps appends out until this commits.
    sqlx::query("UPDATE evidence_log_head SET size = size WHERE id = 1").execute(&mut *tx).await?;
    let size = log_size(&mut tx).await?;
    let tree = MerkleTree::from_leaf_hashes(log_leaves(&mut tx, size).await?);
    let nodes: Vec<_> = merkle::complete_nodes(&tree).collect();
    insert_log_nodes(&mut tx, &nodes, true).await?;
    crate::commit(tx).await?;
    tracing::info!(target: "jejak::store", leaves = size, subtrees = nodes.len(), "evidence log subtrees filled in");
    Ok(size)
}

/// The number of leaves in the evidence log.
pub async fn log_size(conn: &mut Conn) -> Result<u64> {
    let n: i64 = sqlx::query_scalar("SELECT size FROM evidence_log_head WHERE id = 1").fetch_one(conn).await?;
    Ok(n as u64)
}

/// The first `size` leaf hashes of the evidence log, in log order. Fails if the log holds fewer
/// or has a gap, which would mean the table was edited behind the node's back.
pub async fn log_leaves(conn: &mut Conn, size: u64) -> Result<Vec<[u8; 32]>> {
    let rows =
        sqlx::query("SELECT leaf_index, leaf_hash FROM evidence_files WHERE leaf_index < $1 ORDER BY leaf_index")
            .bind(size as i64)
            .fetch_all(conn)
            .await?;
    let mut out = Vec::with_capacity(rows.len());
    for (expected, r) in rows.into_iter().enumerate() {
        let index: i64 = r.try_get("leaf_index")?;
        if index != expected as i64 {
            return Err(Error::Corrupt(format!("evidence log: leaf {expected} missing (found {index})")));
        }
        out.push(digest(r.try_get("leaf_hash")?)?);
    }
    if out.len() as u64 != size {
        return Err(Error::Corrupt(format!("evidence log holds {} leaves, not {size}", out.len())));
    }
    Ok(out)
}

/// Records that `sha256` was submitted on a task. Returns its submission sequence number, or
/// `None` if it was already submitted on that task (a retried upload).
pub async fn submit(conn: &mut Conn, task_id: &str, sha256: &[u8; 32], by: &str, now: i64) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "INSERT INTO evidence_submissions (task_id, sha256, submitted_by, submitted_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (task_id, sha256) DO NOTHING RETURNING seq",
    )
    .bind(task_id)
    .bind(sha256.to_vec())
    .bind(by)
    .bind(now)
    .fetch_optional(conn)
    .await?)
}

/// A file submitted on a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmissionRow {
    /// Submission order across all tasks.
    pub seq: i64,
    /// The task.
    pub task_id: String,
    /// The key that submitted it.
    pub submitted_by: String,
    /// When.
    pub submitted_at: i64,
    /// The file.
    pub file: FileRow,
}

/// The files submitted on a task, in submission order.
pub async fn task_files(conn: &mut Conn, task_id: &str) -> Result<Vec<SubmissionRow>> {
    let sql = format!(
        "SELECT s.seq, s.task_id, s.submitted_by, s.submitted_at, {FILE_COLS} FROM evidence_submissions s \
         JOIN evidence_files f ON f.sha256 = s.sha256 WHERE s.task_id = $1 ORDER BY s.seq"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(task_id)
        .fetch_all(conn)
        .await?
        .iter()
        .map(|r| {
            Ok(SubmissionRow {
                seq: r.try_get("seq")?,
                task_id: r.try_get("task_id")?,
                submitted_by: r.try_get("submitted_by")?,
                submitted_at: r.try_get("submitted_at")?,
                file: file_from_row(r)?,
            })
        })
        .collect()
}

/// Every task `sha256` was submitted on, in submission order.
pub async fn tasks_with_file(conn: &mut Conn, sha256: &[u8; 32]) -> Result<Vec<TaskRow>> {
    sqlx::query(select_task!(
        "WHERE id IN (SELECT task_id FROM evidence_submissions WHERE sha256 = $1) ORDER BY created_at, id"
    ))
    .bind(sha256.to_vec())
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(task_from_row)
    .collect()
}

/// A submission on another task made before the one being judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarlierSubmission {
    /// Submission order.
    pub seq: i64,
    /// The task it was submitted on.
    pub task_id: String,
    /// The platform of that task.
    pub platform_id: i64,
    /// The file.
    pub sha256: [u8; 32],
}

/// Submissions of any of `files` on tasks other than `task_id` before submission `before_seq`,
/// in submission order: an index lookup per file (`evidence_submissions (sha256, seq)`).
pub async fn earlier_submissions(
    conn: &mut Conn,
    files: &[[u8; 32]],
    task_id: &str,
    before_seq: i64,
) -> Result<Vec<EarlierSubmission>> {
    let mut out = Vec::new();
    for chunk in files.chunks(100) {
        let list = (0..chunk.len()).map(|i| format!("${}", i + 3)).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT s.seq, s.task_id, t.platform_id, s.sha256 FROM evidence_submissions s \
             JOIN evidence_tasks t ON t.id = s.task_id \
             WHERE s.task_id <> $1 AND s.seq < $2 AND s.sha256 IN ({list})"
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(task_id).bind(before_seq);
        for sha in chunk {
            q = q.bind(sha.to_vec());
        }
        for r in q.fetch_all(&mut *conn).await? {
            out.push(EarlierSubmission {
                seq: r.try_get("seq")?,
                task_id: r.try_get("task_id")?,
                platform_id: r.try_get("platform_id")?,
                sha256: digest(r.try_get("sha256")?)?,
            });
        }
    }
    out.sort_by_key(|s| s.seq);
    Ok(out)
}

/// A logged photo with its perceptual hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoggedPhoto {
    /// Its position in the evidence log.
    pub leaf_index: i64,
    /// Its SHA-256.
    pub sha256: [u8; 32],
    /// Its perceptual hash.
    pub phash: u64,
}

/// The photos (files with a perceptual hash) at log positions `from..to`, in log order: a range
/// of the `leaf_index` index.
pub async fn logged_photos(conn: &mut Conn, from: u64, to: u64) -> Result<Vec<LoggedPhoto>> {
    let clamp = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    sqlx::query(
        "SELECT leaf_index, sha256, phash FROM evidence_files \
         WHERE leaf_index >= $1 AND leaf_index < $2 AND phash IS NOT NULL ORDER BY leaf_index",
    )
    .bind(clamp(from))
    .bind(clamp(to))
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| {
        Ok(LoggedPhoto {
            leaf_index: r.try_get("leaf_index")?,
            sha256: digest(r.try_get("sha256")?)?,
            // Stored as the signed integer with the same bits.
            phash: r.try_get::<i64, _>("phash")? as u64,
        })
    })
    .collect()
}

/// A witness statement received for a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementRow {
    /// The witness's ed25519 public key.
    pub witness_key: [u8; 32],
    /// When the witness says they signed, unix seconds.
    pub signed_at: i64,
    /// The ed25519 signature.
    pub signature: [u8; 64],
    /// When the node received it.
    pub received_at: i64,
}

/// Stores a witness statement for a task; returns false if the same statement was stored
/// before.
pub async fn add_statement(conn: &mut Conn, task_id: &str, s: &StatementRow) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO evidence_witness_statements (task_id, witness_key, signed_at, signature, received_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (task_id, witness_key, signature) DO NOTHING",
    )
    .bind(task_id)
    .bind(s.witness_key.to_vec())
    .bind(s.signed_at)
    .bind(s.signature.to_vec())
    .bind(s.received_at)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The witness statements of a task, in the order received.
pub async fn statements(conn: &mut Conn, task_id: &str) -> Result<Vec<StatementRow>> {
    sqlx::query(
        "SELECT witness_key, signed_at, signature, received_at FROM evidence_witness_statements WHERE task_id = $1 \
         ORDER BY received_at, witness_key, signature",
    )
    .bind(task_id)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| {
        let sig: Vec<u8> = r.try_get("signature")?;
        Ok(StatementRow {
            witness_key: digest(r.try_get("witness_key")?)?,
            signed_at: r.try_get("signed_at")?,
            signature: sig
                .try_into()
                .map_err(|b: Vec<u8>| Error::Corrupt(format!("signature of {} bytes", b.len())))?,
            received_at: r.try_get("received_at")?,
        })
    })
    .collect()
}

/// A stored evaluation of a task's evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerdictRow {
    /// Evaluation order.
    pub seq: i64,
    /// The task.
    pub task_id: String,
    /// `pass`, `warn` or `fail`.
    pub outcome: String,
    /// The verdict with every rule's result, JSON.
    pub verdict: String,
    /// When it was evaluated.
    pub evaluated_at: i64,
}

/// Records an evaluation; returns its sequence number.
pub async fn insert_verdict(conn: &mut Conn, task_id: &str, outcome: &str, verdict: &str, now: i64) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO evidence_verdicts (task_id, outcome, verdict, evaluated_at) VALUES ($1, $2, $3, $4) RETURNING seq",
    )
    .bind(task_id)
    .bind(outcome)
    .bind(verdict)
    .bind(now)
    .fetch_one(conn)
    .await?)
}

/// The latest evaluation of a task.
pub async fn latest_verdict(conn: &mut Conn, task_id: &str) -> Result<Option<VerdictRow>> {
    let r = sqlx::query(
        "SELECT seq, task_id, outcome, verdict, evaluated_at FROM evidence_verdicts WHERE task_id = $1 \
         ORDER BY seq DESC LIMIT 1",
    )
    .bind(task_id)
    .fetch_optional(conn)
    .await?;
    r.map(|r| {
        Ok(VerdictRow {
            seq: r.try_get("seq")?,
            task_id: r.try_get("task_id")?,
            outcome: r.try_get("outcome")?,
            verdict: r.try_get("verdict")?,
            evaluated_at: r.try_get("evaluated_at")?,
        })
    })
    .transpose()
}

/// Where a checkpoint is on its way to the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckpointStatus {
    /// Root computed and document stored; not yet sent.
    Built,
    /// Transaction sent; waiting for it to be mined.
    Submitted,
    /// Transaction mined successfully.
    Anchored,
    /// Can never be anchored (the chain holds a different head); see the error.
    Failed,
}

impl CheckpointStatus {
    /// Column value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Built => "built",
            Self::Submitted => "submitted",
            Self::Anchored => "anchored",
            Self::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "built" => Self::Built,
            "submitted" => Self::Submitted,
            "anchored" => Self::Anchored,
            "failed" => Self::Failed,
            other => return Err(Error::Corrupt(format!("checkpoint status `{other}`"))),
        })
    }
}

/// A log head the node anchors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointRow {
    /// Log size.
    pub size: i64,
    /// Log root at `size`.
    pub root: [u8; 32],
    /// The size of the checkpoint before it (0 for the first).
    pub previous_size: i64,
    /// CID of the checkpoint document.
    pub cid: String,
    /// Progress.
    pub status: CheckpointStatus,
    /// The anchoring transaction.
    pub tx_hash: Option<[u8; 32]>,
    /// Why the last attempt failed.
    pub error: Option<String>,
    /// Creation time.
    pub created_at: i64,
}

macro_rules! select_checkpoint {
    ($tail:literal) => {
        concat!(
            "SELECT size, root, previous_size, cid, status, tx_hash, error, created_at FROM evidence_checkpoints ",
            $tail
        )
    };
}

fn checkpoint_from_row(r: AnyRow) -> Result<CheckpointRow> {
    let tx: Option<Vec<u8>> = r.try_get("tx_hash")?;
    Ok(CheckpointRow {
        size: r.try_get("size")?,
        root: digest(r.try_get("root")?)?,
        previous_size: r.try_get("previous_size")?,
        cid: r.try_get("cid")?,
        status: CheckpointStatus::parse(&r.try_get::<String, _>("status")?)?,
        tx_hash: tx.map(digest).transpose()?,
        error: r.try_get("error")?,
        created_at: r.try_get("created_at")?,
    })
}

/// Records a built checkpoint.
pub async fn insert_checkpoint(
    conn: &mut Conn,
    size: i64,
    root: &[u8; 32],
    previous_size: i64,
    cid: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO evidence_checkpoints (size, root, previous_size, cid, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'built', $5, $5)",
    )
    .bind(size)
    .bind(root.to_vec())
    .bind(previous_size)
    .bind(cid)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Checkpoints in a state, smallest first.
pub async fn checkpoints_with_status(conn: &mut Conn, status: CheckpointStatus) -> Result<Vec<CheckpointRow>> {
    sqlx::query(select_checkpoint!("WHERE status = $1 ORDER BY size"))
        .bind(status.as_str())
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(checkpoint_from_row)
        .collect()
}

/// Every checkpoint, smallest first.
pub async fn checkpoints(conn: &mut Conn) -> Result<Vec<CheckpointRow>> {
    sqlx::query(select_checkpoint!("ORDER BY size"))
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(checkpoint_from_row)
        .collect()
}

/// The largest checkpoint that is not failed.
pub async fn latest_checkpoint(conn: &mut Conn) -> Result<Option<CheckpointRow>> {
    sqlx::query(select_checkpoint!("WHERE status <> 'failed' ORDER BY size DESC LIMIT 1"))
        .fetch_optional(conn)
        .await?
        .map(checkpoint_from_row)
        .transpose()
}

/// Moves a checkpoint along, recording the transaction and any error.
pub async fn set_checkpoint_status(
    conn: &mut Conn,
    size: i64,
    status: CheckpointStatus,
    tx_hash: Option<&[u8; 32]>,
    error: Option<&str>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE evidence_checkpoints SET status = $2, tx_hash = COALESCE($3, tx_hash), error = $4, updated_at = $5 \
         WHERE size = $1",
    )
    .bind(size)
    .bind(status.as_str())
    .bind(tx_hash.map(|h| h.to_vec()))
    .bind(error)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// An `EvidenceAnchored` event the indexer recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceAnchor {
    /// Checkpoint index in the contract (from 1).
    pub checkpoint: i64,
    /// Anchored root.
    pub root: [u8; 32],
    /// Anchored size.
    pub size: i64,
    /// CID of the checkpoint document.
    pub cid: String,
    /// The anchoring transaction.
    pub tx_hash: [u8; 32],
    /// Its block.
    pub block_number: i64,
    /// Its block hash.
    pub block_hash: [u8; 32],
}

macro_rules! select_anchor {
    ($tail:literal) => {
        concat!(
            "SELECT checkpoint, root, size, cid, tx_hash, block_number, block_hash FROM chain_evidence \
             WHERE chain_id = $1 AND contract = $2 ",
            $tail
        )
    };
}

fn anchor_from_row(r: AnyRow) -> Result<EvidenceAnchor> {
    Ok(EvidenceAnchor {
        checkpoint: r.try_get("checkpoint")?,
        root: digest(r.try_get("root")?)?,
        size: r.try_get("size")?,
        cid: r.try_get("cid")?,
        tx_hash: digest(r.try_get("tx_hash")?)?,
        block_number: r.try_get("block_number")?,
        block_hash: digest(r.try_get("block_hash")?)?,
    })
}

/// The indexed anchor of exactly `size` by the evidence log `contract`.
pub async fn anchor_at_size(
    conn: &mut Conn,
    chain_id: i64,
    contract: &[u8; 20],
    size: i64,
) -> Result<Option<EvidenceAnchor>> {
    sqlx::query(select_anchor!("AND size = $3 ORDER BY block_number LIMIT 1"))
        .bind(chain_id)
        .bind(contract.to_vec())
        .bind(size)
        .fetch_optional(conn)
        .await?
        .map(anchor_from_row)
        .transpose()
}

/// The smallest indexed anchor whose size covers leaf `leaf_index` (the first anchored head
/// that includes it).
pub async fn first_anchor_covering(
    conn: &mut Conn,
    chain_id: i64,
    contract: &[u8; 20],
    leaf_index: i64,
) -> Result<Option<EvidenceAnchor>> {
    sqlx::query(select_anchor!("AND size > $3 ORDER BY size LIMIT 1"))
        .bind(chain_id)
        .bind(contract.to_vec())
        .bind(leaf_index)
        .fetch_optional(conn)
        .await?
        .map(anchor_from_row)
        .transpose()
}

/// An indexed anchor with the contract that emitted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceAnchorBy {
    /// The evidence log contract.
    pub contract: [u8; 20],
    /// Checkpoint index in the contract.
    pub checkpoint: i64,
    /// Anchored root.
    pub root: [u8; 32],
    /// Anchored size.
    pub size: i64,
}

/// Every indexed evidence anchor naming the document `cid`, from any contract.
pub async fn anchors_by_cid(conn: &mut Conn, chain_id: i64, cid: &str) -> Result<Vec<EvidenceAnchorBy>> {
    sqlx::query("SELECT contract, checkpoint, root, size FROM chain_evidence WHERE chain_id = $1 AND cid = $2")
        .bind(chain_id)
        .bind(cid)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|r| {
            let contract: Vec<u8> = r.try_get("contract")?;
            Ok(EvidenceAnchorBy {
                contract: contract
                    .try_into()
                    .map_err(|b: Vec<u8>| Error::Corrupt(format!("contract of {} bytes", b.len())))?,
                checkpoint: r.try_get("checkpoint")?,
                root: digest(r.try_get("root")?)?,
                size: r.try_get("size")?,
            })
        })
        .collect()
}

/// Every indexed anchor of the evidence log `contract`, smallest size first.
pub async fn anchors(conn: &mut Conn, chain_id: i64, contract: &[u8; 20]) -> Result<Vec<EvidenceAnchor>> {
    sqlx::query(select_anchor!("ORDER BY size"))
        .bind(chain_id)
        .bind(contract.to_vec())
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(anchor_from_row)
        .collect()
}

/// A page of the indexed anchors of the evidence log `contract`, newest first: at most `limit`
/// with a checkpoint index below `before` (all when `None`).
pub async fn anchors_page(
    conn: &mut Conn,
    chain_id: i64,
    contract: &[u8; 20],
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<EvidenceAnchor>> {
    sqlx::query(select_anchor!("AND checkpoint < $3 ORDER BY checkpoint DESC LIMIT $4"))
        .bind(chain_id)
        .bind(contract.to_vec())
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(anchor_from_row)
        .collect()
}

/// Checkpoints not anchored yet (built, in flight, or failed), smallest first, at most `limit`.
pub async fn unanchored_checkpoints(conn: &mut Conn, limit: i64) -> Result<Vec<CheckpointRow>> {
    sqlx::query(select_checkpoint!("WHERE status <> 'anchored' ORDER BY size LIMIT $1"))
        .bind(limit)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(checkpoint_from_row)
        .collect()
}
