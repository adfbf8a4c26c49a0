//! Proof of reality behind the HTTP routes: where evidence files are kept ([`BlobStore`]), the
//! settings of the evidence routes ([`EvidenceSettings`]), and the evaluation of a task's
//! evidence with a history read from the database.
//!
//! Evidence files live in the blob store, a directory of the node (`<data dir>/evidence` by
//! default), never in the IPFS blockstore: they are never published and never served.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alloy_primitives::Address;
use jejak_evidence::{
    Digest, EvidenceItem, GeoPoint, History, Metadata, OTHER_PLATFORM_TASK, Outcome, ParseLimits, PerceptualHash,
    PhashIndex, PriorPhoto, RegisteredWitness, RuleConfigs, SizeLimits, Submission, TaskContext, Verdict,
    WitnessStatement, evaluate,
};
use jejak_store::Conn;
use jejak_store::evidence::{self as db, TaskRow};
use time::OffsetDateTime;
use tokio::sync::Semaphore;

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
    /// Largest upload request: refused as soon as a `Content-Length` announces more, or as soon
    /// as more has streamed in.
    pub max_upload_bytes: u64,
    /// Longest an upload request may take.
    pub upload_timeout: Duration,
    /// How long before its window opens a task's capture nonce may be issued.
    pub nonce_lead: Duration,
    /// Most uploads in progress at once on this instance.
    pub max_concurrent_uploads: usize,
    /// Most uploads in progress at once per API key.
    pub max_uploads_per_key: usize,
    /// Uploads in progress, per key and in all.
    pub uploads: Arc<UploadSlots>,
    /// Photos decoded at once (one per core): decoding is CPU and memory bound.
    pub decodes: Arc<Semaphore>,
    /// The perceptual hashes of every logged photo, for near-duplicate lookups.
    pub photos: Arc<PhotoIndex>,
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
            max_concurrent_uploads: 64,
            max_uploads_per_key: 4,
            uploads: Arc::default(),
            decodes: Arc::new(Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))),
            photos: Arc::default(),
        }
    }
}

/// Uploads in progress, counted per API key and in all, so no key (and no crowd of keys) can
/// hold every connection, temporary file and decoder of the node.
#[derive(Debug, Default)]
pub struct UploadSlots {
    held: Mutex<(usize, HashMap<String, usize>)>,
}

impl UploadSlots {
    /// A slot for an upload by `key`, or `None` when `key` has `per_key` uploads in progress or
    /// the node `total`. The slot is given back when the guard drops.
    pub fn try_acquire(self: &Arc<Self>, key: &str, total: usize, per_key: usize) -> Option<UploadSlot> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let (all, by_key) = &mut *held;
        let mine = by_key.get(key).copied().unwrap_or(0);
        if *all >= total || mine >= per_key {
            return None;
        }
        *all += 1;
        by_key.insert(key.to_owned(), mine + 1);
        Some(UploadSlot { slots: self.clone(), key: key.to_owned() })
    }

    /// Uploads in progress in all.
    pub fn in_progress(&self) -> usize {
        self.held.lock().unwrap_or_else(|e| e.into_inner()).0
    }
}

/// One upload in progress; see [`UploadSlots::try_acquire`].
#[derive(Debug)]
pub struct UploadSlot {
    slots: Arc<UploadSlots>,
    key: String,
}

impl Drop for UploadSlot {
    fn drop(&mut self) {
        let mut held = self.slots.held.lock().unwrap_or_else(|e| e.into_inner());
        let (all, by_key) = &mut *held;
        *all = all.saturating_sub(1);
        if let Some(n) = by_key.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                by_key.remove(&self.key);
            }
        }
    }
}

/// The perceptual hashes of the logged photos in memory, in a [`PhashIndex`] that answers
/// "within d bits" without a scan. Loaded from the log on first use and caught up by leaf index
/// before each evaluation: appends commit in leaf order (every append takes the log head's
/// lock), so reading the leaves from the last one seen misses nothing, and every instance
/// sharing a database sees every photo.
#[derive(Debug, Default)]
pub struct PhotoIndex {
    loaded: tokio::sync::Mutex<LoadedPhotos>,
}

#[derive(Debug, Default)]
struct LoadedPhotos {
    index: PhashIndex<Digest>,
    /// Leaves below this are in `index` (those that are photos).
    next_leaf: u64,
}

impl PhotoIndex {
    /// Reads the photos logged since the last call (every photo on the first).
    pub async fn catch_up(&self, store: &jejak_store::Store) -> Result<(), ApiError> {
        // No database work under the lock: evaluations hold a connection while they wait for it.
        let from = self.loaded.lock().await.next_leaf;
        let mut c = store.conn().await?;
        let size = db::log_size(&mut c).await?;
        if size <= from {
            return Ok(());
        }
        let photos = db::logged_photos(&mut c, from, size).await?;
        drop(c);
        let mut loaded = self.loaded.lock().await;
        // Another caller caught up meanwhile; whatever it left out, the next call reads.
        if loaded.next_leaf != from {
            return Ok(());
        }
        for p in photos {
            loaded.index.insert(PerceptualHash(p.phash), p.sha256);
        }
        loaded.next_leaf = size;
        Ok(())
    }

    /// Logged photos within `max_distance` bits of `hash`, as (SHA-256, perceptual hash): those
    /// in the index, and those among `recent` (the leaves logged since the last catch-up, read
    /// in the caller's transaction).
    async fn within(&self, recent: &[db::LoggedPhoto], hash: u64, max_distance: u32) -> Vec<(Digest, u64)> {
        let loaded = self.loaded.lock().await;
        let mut out: Vec<(Digest, u64)> = loaded
            .index
            .within(PerceptualHash(hash), max_distance)
            .into_iter()
            .map(|(_, h, sha)| (*sha, h.0))
            .collect();
        out.extend(
            recent.iter().filter(|p| (p.phash ^ hash).count_ones() <= max_distance).map(|p| (p.sha256, p.phash)),
        );
        out
    }

    /// The first leaf not in the index.
    async fn next_leaf(&self) -> u64 {
        self.loaded.lock().await.next_leaf
    }
}

/// Evidence files on disk, one file per SHA-256 (`<dir>/<2 hex>/<64 hex>`), written through
/// [`TempBlob`]s in `<dir>/tmp` and moved into place only once the database holds them.
///
/// A file streams into `tmp/<id>.part`; once checked it is synced and renamed
/// `tmp/<id>.<sha256>.staged`; after the transaction that records it commits, it moves into
/// place. A crash leaves `.part` files (removed at start-up) or `.staged` ones, which
/// [`BlobStore::recover`] moves into place if the database holds their file and removes
/// otherwise. No path leaves a file nobody refers to.
#[derive(Debug, Clone)]
pub struct BlobStore {
    dir: PathBuf,
}

const PART: &str = "part";
const STAGED: &str = "staged";

impl BlobStore {
    /// Opens (creating) the store at `dir`, removing partial files a crash may have left.
    pub fn open(dir: impl Into<PathBuf>) -> std::io::Result<Self> {
        let dir = dir.into();
        let tmp = dir.join("tmp");
        std::fs::create_dir_all(&tmp)?;
        for entry in std::fs::read_dir(&tmp)? {
            let path = entry?.path();
            if path.is_file() && path.extension().is_none_or(|e| e != STAGED) {
                std::fs::remove_file(&path)?;
            }
        }
        Ok(Self { dir })
    }

    /// Settles what a crash left staged: files the database holds move into place, the others
    /// are removed. Run it at start-up, before uploads are served. Returns (kept, removed).
    pub async fn recover(&self, store: &jejak_store::Store) -> Result<(usize, usize), ApiError> {
        let mut staged = Vec::new();
        for entry in std::fs::read_dir(self.dir.join("tmp")).map_err(ApiError::internal)? {
            let path = entry.map_err(ApiError::internal)?.path();
            if path.extension().is_some_and(|e| e == STAGED) {
                staged.push(path);
            }
        }
        let (mut kept, mut removed) = (0, 0);
        let mut c = store.conn().await?;
        for path in staged {
            let sha = path
                .file_stem()
                .and_then(|s| s.to_str())
                .and_then(|s| s.rsplit_once('.'))
                .and_then(|(_, hex)| <[u8; 32]>::try_from(hex::decode(hex).ok()?).ok());
            let held = match sha {
                Some(sha) => db::file(&mut c, &sha).await?.is_some(),
                None => false,
            };
            let temp = TempBlob { path: Some(path) };
            match (held, sha) {
                (true, Some(sha)) => {
                    self.keep(temp, &sha).await.map_err(ApiError::internal)?;
                    kept += 1;
                }
                _ => {
                    drop(temp);
                    removed += 1;
                }
            }
        }
        if kept + removed > 0 {
            tracing::warn!(target: "jejak::evidence", kept, removed, "staged evidence files settled after a crash");
        }
        Ok((kept, removed))
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

    /// Files in the temporary directory (partial and staged uploads).
    pub fn temporary_files(&self) -> usize {
        std::fs::read_dir(self.dir.join("tmp")).map_or(0, |d| d.filter(|e| e.is_ok()).count())
    }

    /// A new, empty temporary file.
    pub(crate) async fn temp(&self) -> std::io::Result<(TempBlob, tokio::fs::File)> {
        let path = self.dir.join("tmp").join(format!("{}.{PART}", uuid::Uuid::now_v7().simple()));
        let file = tokio::fs::OpenOptions::new().write(true).create_new(true).open(&path).await?;
        Ok((TempBlob { path: Some(path) }, file))
    }

    /// Moves a staged file into place under its SHA-256 (a file already there has the same
    /// bytes), durably: the directory is synced after the move. Call it once the database
    /// holds the file; on failure the file stays staged for [`BlobStore::recover`].
    pub(crate) async fn keep(&self, mut temp: TempBlob, sha256: &Digest) -> std::io::Result<()> {
        let target = self.path(sha256);
        let Some(from) = temp.path.take() else {
            return Ok(());
        };
        let result = tokio::task::spawn_blocking({
            let from = from.clone();
            move || {
                let parent = target.parent().expect("blob paths have a parent");
                std::fs::create_dir_all(parent)?;
                if target.is_file() {
                    std::fs::remove_file(&from)?;
                    return Ok(());
                }
                std::fs::rename(&from, &target)?;
                std::fs::File::open(parent)?.sync_all()
            }
        })
        .await
        .map_err(std::io::Error::other)?;
        if let Err(e) = &result {
            tracing::error!(target: "jejak::evidence", path = %from.display(), error = %e, "an accepted evidence file stays staged until the next start");
        }
        result
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

    /// Marks a complete, checked file as awaiting the commit: synced, and renamed with its
    /// SHA-256 so that a crash after the commit can still put it in place.
    pub(crate) async fn stage(&mut self, sha256: &Digest) -> std::io::Result<()> {
        let from = self.path().to_path_buf();
        let to = from.with_file_name(format!(
            "{}.{}.{STAGED}",
            from.file_stem().and_then(|s| s.to_str()).unwrap_or("blob"),
            hex::encode(sha256)
        ));
        let to2 = to.clone();
        tokio::task::spawn_blocking(move || {
            std::fs::File::open(&from)?.sync_all()?;
            std::fs::rename(&from, &to2)
        })
        .await
        .map_err(std::io::Error::other)??;
        self.path = Some(to);
        Ok(())
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
/// changed the task, so the stored verdict always describes the stored evidence, after
/// [`PhotoIndex::catch_up`] outside it: inside, duplicates are looked up by index (the file
/// hash; the perceptual hash in memory), never by a scan.
///
/// Submissions on another platform's tasks count as duplicates without being named.
pub(crate) async fn evaluate_task(
    conn: &mut Conn,
    ev: &EvidenceSettings,
    task: &TaskRow,
    now: i64,
) -> Result<Verdict, ApiError> {
    let t = &task.task;
    let config = ev.rules.for_task_type(&t.task_type);
    let max_distance = config.phash_warn_distance.max(config.phash_fail_distance);
    let label = |s: &db::EarlierSubmission| {
        if s.platform_id == t.platform_id { s.task_id.clone() } else { OTHER_PLATFORM_TASK.to_owned() }
    };
    // Photos logged since the index last caught up (others' uploads since, and this one's).
    let recent = db::logged_photos(conn, ev.photos.next_leaf().await, u64::MAX).await?;
    let mut history = PrefetchedHistory::default();
    let mut items = Vec::new();
    for s in db::task_files(conn, &t.id).await? {
        let f = &s.file.file;
        let metadata: Metadata = serde_json::from_str(&f.metadata).map_err(ApiError::internal)?;
        let earlier = db::earlier_submissions(conn, &[f.sha256], &t.id, s.seq).await?;
        history.files.entry(f.sha256).or_default().extend(earlier.iter().map(label));
        let perceptual_hash = f.phash.map(PerceptualHash);
        if let Some(h) = perceptual_hash {
            let near = ev.photos.within(&recent, h.0, max_distance).await;
            let hashes: HashMap<Digest, u64> = near.iter().copied().collect();
            let shas: Vec<Digest> = hashes.keys().copied().collect();
            let similar = db::earlier_submissions(conn, &shas, &t.id, s.seq).await?;
            history.photos.entry(h).or_default().extend(similar.iter().map(|p| PriorPhoto {
                task_id: label(p),
                sha256: p.sha256,
                perceptual_hash: PerceptualHash(hashes[&p.sha256]),
                other_platform: p.platform_id != t.platform_id,
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

    jejak_store::both_backends! {
        async fn staged_files_a_crash_left_are_kept_if_committed_and_removed_otherwise(db: jejak_store::test_utils::TestDb) {
            let dir = tempfile::tempdir().unwrap();
            let blobs = BlobStore::open(dir.path()).unwrap();
            let stage = |bytes: &'static [u8]| {
                let blobs = blobs.clone();
                async move {
                    let (mut temp, mut file) = blobs.temp().await.unwrap();
                    tokio::io::AsyncWriteExt::write_all(&mut file, bytes).await.unwrap();
                    drop(file);
                    let sha = jejak_evidence::sha256(bytes);
                    temp.stage(&sha).await.unwrap();
                    // A crash: nothing removes or moves it.
                    temp.path.take();
                    sha
                }
            };
            let committed = stage(b"committed").await;
            let abandoned = stage(b"abandoned").await;
            let mut tx = db.store.begin().await.unwrap();
            let file = db::NewFile {
                sha256: committed,
                salt: [1; 32],
                metadata_hash: [2; 32],
                leaf_hash: [3; 32],
                media_type: "jpeg".into(),
                size: 9,
                metadata: "{}".into(),
                phash: None,
                created_at: 1,
            };
            db::append_file(&mut tx, &file).await.unwrap();
            jejak_store::commit(tx).await.unwrap();
            // Reopening keeps staged files for the recovery; the recovery settles them.
            let blobs = BlobStore::open(dir.path()).unwrap();
            assert_eq!(blobs.temporary_files(), 2);
            assert_eq!(blobs.recover(&db.store).await.unwrap(), (1, 1));
            assert_eq!(std::fs::read(blobs.path(&committed)).unwrap(), b"committed");
            assert!(!blobs.contains(&abandoned));
            assert_eq!(blobs.temporary_files(), 0);
        }
    }

    #[test]
    fn upload_slots_are_counted_per_key_and_in_all() {
        let slots = Arc::new(UploadSlots::default());
        let a1 = slots.try_acquire("a", 3, 2).unwrap();
        let _a2 = slots.try_acquire("a", 3, 2).unwrap();
        assert!(slots.try_acquire("a", 3, 2).is_none(), "two per key");
        let b1 = slots.try_acquire("b", 3, 2).unwrap();
        assert!(slots.try_acquire("c", 3, 2).is_none(), "three in all");
        drop(b1);
        assert!(slots.try_acquire("c", 3, 2).is_some());
        drop(a1);
        assert_eq!(slots.in_progress(), 1);
    }
}
