//! The embedded blockstore: one file per block, named by its CID.

use std::path::{Path, PathBuf};

use jejak_core::cid::{self, Cid};

use crate::Result;

/// Raw blocks on local disk.
#[derive(Debug, Clone)]
pub struct Blockstore {
    dir: PathBuf,
}

impl Blockstore {
    /// Opens (creating if needed) a blockstore in `dir`.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir })
    }

    /// The directory holding the blocks.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, cid: &Cid) -> PathBuf {
        self.dir.join(cid.to_string())
    }

    /// Stores `bytes` as a raw block and returns its CID. Writing is atomic (temporary file,
    /// fsync, rename), so a crash never leaves a partial block under a valid name.
    pub async fn put(&self, bytes: &[u8]) -> Result<Cid> {
        let cid = cid::raw_cid(bytes);
        self.put_verified(&cid, bytes).await?;
        Ok(cid)
    }

    /// Stores a block fetched under `cid` after checking it hashes to `cid`.
    pub async fn put_verified(&self, cid: &Cid, bytes: &[u8]) -> Result<()> {
        cid::verify(cid, bytes)?;
        let path = self.path(cid);
        if tokio::fs::try_exists(&path).await? {
            return Ok(());
        }
        // Unique per write, so that two tasks of one process storing the same block at once do
        // not rename each other's temporary file away.
        static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = self.dir.join(format!(".{}.{}.{n}.tmp", cid, std::process::id()));
        {
            use tokio::io::AsyncWriteExt as _;
            let mut f = tokio::fs::File::create(&tmp).await?;
            f.write_all(bytes).await?;
            f.sync_all().await?;
        }
        tokio::fs::rename(&tmp, &path).await?;
        Ok(())
    }

    /// The block named `cid`, if held. Bytes are checked again on the way out, so a block
    /// corrupted on disk is reported as missing rather than served.
    pub async fn get(&self, cid: &Cid) -> Result<Option<Vec<u8>>> {
        match tokio::fs::read(self.path(cid)).await {
            Ok(bytes) => match cid::verify(cid, &bytes) {
                Ok(()) => Ok(Some(bytes)),
                Err(_) => {
                    tracing::warn!(target: "jejak::ipfs", %cid, "corrupt block on disk ignored");
                    Ok(None)
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether the block is held.
    pub async fn has(&self, cid: &Cid) -> Result<bool> {
        Ok(tokio::fs::try_exists(self.path(cid)).await?)
    }
}
