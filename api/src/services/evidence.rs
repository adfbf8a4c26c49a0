//! Proof of reality behind the HTTP routes: where evidence files are kept ([`BlobStore`]), the
//! settings of the evidence routes ([`EvidenceSettings`]), and the evaluation of a task's
//! evidence with a history read from the database.
//!
//! Evidence files live in the blob store, a directory of the node (`<data dir>/evidence` by
//! default), never in the IPFS blockstore: they are never published and never served.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use alloy_primitives::Address;
use jejak_evidence::{
    Digest, EvidenceItem, GeoPoint, History, Metadata, Outcome, ParseLimits, PerceptualHash, PriorPhoto,
    RegisteredWitness, RuleConfigs, SizeLimits, Submission, TaskContext, Verdict, WitnessStatement, evaluate,
};
use jejak_store::Conn;
use jejak_store::evidence::{self as db, TaskRow};
use time::OffsetDateTime;

use crate::ApiError;

/// What the evidence routes need to know.
#[derive(Debug, Clone)]
pub struct EvidenceSettings {
    /// Where evidence files are kept.
    pub blobs: BlobStore,
    /// The `JejakEvidenceLog` contract receipts point to.
    pub evidence_log: Address,
    /// Largest photo and track accepted.
    pub size_limits: SizeLimits,
    /// Bounds on parsing a file.
    pub parse_limits: ParseLimits,
    /// Rule thresholds per task type.
    pub rules: RuleConfigs,
    /// Most files in one upload request.
    pub max_files_per_upload: usize,
    /// Largest upload request a `Content-Length` may announce (refused before reading a byte).
    pub max_upload_bytes: u64,
    /// Longest an upload request may take.
    pub upload_timeout: Duration,
    /// How long before its window opens a task's capture nonce may be issued.
    pub nonce_lead: Duration,
}

impl EvidenceSettings {
    /// Defaults, keeping files in `blobs`.
    pub fn new(blobs: BlobStore, evidence_log: Address) -> Self {
        Self {
            blobs,
            evidence_log,
            size_limits: SizeLimits::default(),
            parse_limits: ParseLimits::default(),
            rules: RuleConfigs::default(),
            max_files_per_upload: 16,
            max_upload_bytes: 256 << 20,
            upload_timeout: Duration::from_secs(600),
            nonce_lead: Duration::from_secs(3600),
        }
    }
}

/// Evidence files on disk, one file per SHA-256 (`<dir>/<2 hex>/<64 hex>`), written through
/// [`TempBlob`]s in `<dir>/tmp` and moved into place only once accepted.
#[derive(Debug, Clone)]
pub struct BlobStore {
    dir: PathBuf,
}

impl BlobStore {
    /// Opens (creating) the store at `dir`, removing partial files a crash may have left.
    pub fn open(dir: impl Into<PathBuf>) -> std::io::Result<Self> {
        let dir = dir.into();
        let tmp = dir.join("tmp");
        std::fs::create_dir_all(&tmp)?;
        for entry in std::fs::read_dir(&tmp)? {
            let path = entry?.path();
            if path.is_file() {
                std::fs::remove_file(&path)?;
            }
        }
        Ok(Self { dir })
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the file with this SHA-256 is kept.
    pub fn path(&self, sha256: &Digest) -> PathBuf {
        let hex = hex::encode(sha256);
        self.dir.join(&hex[..2]).join(hex)
    }

    /// Whether the file with this SHA-256 is kept.
    pub fn contains(&self, sha256: &Digest) -> bool {
        self.path(sha256).is_file()
    }

    /// A new, empty temporary file.
    pub(crate) async fn temp(&self) -> std::io::Result<(TempBlob, tokio::fs::File)> {
        let path = self.dir.join("tmp").join(format!("{}.part", uuid::Uuid::now_v7().simple()));
        let file = tokio::fs::OpenOptions::new().write(true).create_new(true).open(&path).await?;
        Ok((TempBlob { path: Some(path) }, file))
    }

    /// Moves an accepted temporary file into place under its SHA-256 (a file already there has
    /// the same bytes), durably: the file is synced before the move and the directory after.
    pub(crate) async fn keep(&self, mut temp: TempBlob, sha256: &Digest) -> std::io::Result<()> {
        let target = self.path(sha256);
        let Some(from) = temp.path.take() else {
            return Ok(());
        };
        tokio::task::spawn_blocking(move || {
            let parent = target.parent().expect("blob paths have a parent");
            std::fs::create_dir_all(parent)?;
            if target.is_file() {
                std::fs::remove_file(&from)?;
                return Ok(());
            }
            std::fs::File::open(&from)?.sync_all()?;
            std::fs::rename(&from, &target)?;
            std::fs::File::open(parent)?.sync_all()
        })
        .await
        .map_err(std::io::Error::other)?
    }
}

/// A temporary file that is removed when dropped unless [`BlobStore::keep`] took it: a refused,
/// failed or abandoned upload leaves nothing behind.
#[derive(Debug)]
pub(crate) struct TempBlob {
    path: Option<PathBuf>,
}

impl TempBlob {
    /// Its path.
    pub(crate) fn path(&self) -> &Path {
        self.path.as_deref().expect("a temporary blob has a path until kept")
    }
}

impl Drop for TempBlob {
    fn drop(&mut self) {
        if let Some(p) = self.path.take()
            && let Err(e) = std::fs::remove_file(&p)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(target: "jejak::evidence", path = %p.display(), error = %e, "could not remove a partial upload");
        }
    }
}

/// What the node saw before each file of one task, read from the database ahead of the
/// (synchronous) rules: per file, only submissions on other tasks made before it.
#[derive(Debug, Default)]
struct PrefetchedHistory {
    files: HashMap<Digest, Vec<String>>,
    photos: HashMap<PerceptualHash, Vec<PriorPhoto>>,
}

impl History for PrefetchedHistory {
    fn tasks_with_file(&self, sha256: &Digest) -> Vec<String> {
        self.files.get(sha256).cloned().unwrap_or_default()
    }

    fn similar_photos(&self, hash: PerceptualHash, max_distance: u32) -> Vec<PriorPhoto> {
        let found = self.photos.get(&hash).map(Vec::as_slice).unwrap_or_default();
        found.iter().filter(|p| p.perceptual_hash.distance(hash) <= max_distance).cloned().collect()
    }
}

fn instant(secs: i64) -> Result<OffsetDateTime, ApiError> {
    OffsetDateTime::from_unix_timestamp(secs).map_err(ApiError::internal)
}

/// Evaluates the rules over everything a task holds (files, witness statements, the platform's
/// witness keys, the issued nonce) and records the verdict. Run it in the transaction that
/// changed the task, so the stored verdict always describes the stored evidence.
pub(crate) async fn evaluate_task(
    conn: &mut Conn,
    rules: &RuleConfigs,
    task: &TaskRow,
    now: i64,
) -> Result<Verdict, ApiError> {
    let t = &task.task;
    let config = rules.for_task_type(&t.task_type);
    let max_distance = config.phash_warn_distance.max(config.phash_fail_distance);
    let mut history = PrefetchedHistory::default();
    let mut items = Vec::new();
    for s in db::task_files(conn, &t.id).await? {
        let f = &s.file.file;
        let metadata: Metadata = serde_json::from_str(&f.metadata).map_err(ApiError::internal)?;
        let earlier = db::earlier_tasks_with_file(conn, &f.sha256, &t.id, s.seq).await?;
        history.files.entry(f.sha256).or_default().extend(earlier);
        let perceptual_hash = f.phash.map(PerceptualHash);
        if let Some(h) = perceptual_hash {
            let similar = db::earlier_similar_photos(conn, h.0, max_distance, &t.id, s.seq).await?;
            history.photos.entry(h).or_default().extend(similar.into_iter().map(|p| PriorPhoto {
                task_id: p.task_id,
                sha256: p.sha256,
                perceptual_hash: PerceptualHash(p.phash),
            }));
        }
        items.push(EvidenceItem { sha256: f.sha256, metadata, perceptual_hash });
    }
    let witnesses = db::statements(conn, &t.id)
        .await?
        .into_iter()
        .map(|s| WitnessStatement { witness_key: s.witness_key, signed_at: s.signed_at, signature: s.signature })
        .collect();
    let mut registered_witnesses = Vec::new();
    for k in db::witness_keys(conn, t.platform_id).await? {
        registered_witnesses.push(RegisteredWitness { key: k.key, registered_at: instant(k.registered_at)? });
    }
    let submission = Submission {
        task: TaskContext {
            task_id: t.id.clone(),
            task_type: t.task_type.clone(),
            window_start: instant(t.window_start)?,
            window_end: instant(t.window_end)?,
            location: GeoPoint { lat: t.latitude, lon: t.longitude },
            radius_m: t.radius_m,
        },
        worker_key: t.worker_key,
        nonce: task.nonce.clone(),
        items,
        witnesses,
        registered_witnesses,
    };
    let verdict = evaluate(config, &submission, &history);
    let json = serde_json::to_string(&verdict).map_err(ApiError::internal)?;
    db::insert_verdict(conn, &t.id, outcome_str(verdict.outcome), &json, now).await?;
    tracing::info!(
        target: "jejak::evidence",
        task = %t.id,
        outcome = outcome_str(verdict.outcome),
        files = submission.items.len(),
        witnesses = submission.witnesses.len(),
        "task evidence evaluated"
    );
    Ok(verdict)
}

/// The wire name of an outcome.
pub(crate) fn outcome_str(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "pass",
        Outcome::Warn => "warn",
        Outcome::Fail => "fail",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn refused_uploads_leave_no_file_and_kept_ones_land_under_their_hash() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::open(dir.path()).unwrap();
        let (temp, _file) = blobs.temp().await.unwrap();
        let partial = temp.path().to_path_buf();
        assert!(partial.is_file());
        drop(temp);
        assert!(!partial.exists(), "a dropped upload is removed");

        let (temp, mut file) = blobs.temp().await.unwrap();
        tokio::io::AsyncWriteExt::write_all(&mut file, b"bytes").await.unwrap();
        drop(file);
        let sha = jejak_evidence::sha256(b"bytes");
        blobs.keep(temp, &sha).await.unwrap();
        assert_eq!(std::fs::read(blobs.path(&sha)).unwrap(), b"bytes");
        assert!(blobs.contains(&sha));
        assert_eq!(std::fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);

        // A crash leaves a partial file; reopening removes it.
        std::fs::write(dir.path().join("tmp").join("x.part"), b"half").unwrap();
        BlobStore::open(dir.path()).unwrap();
        assert_eq!(std::fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
    }
}
