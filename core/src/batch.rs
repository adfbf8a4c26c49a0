//! The public document behind an attestation batch root.
//!
//! Published on IPFS as one raw block (its CID goes on chain with the root): the platform, the
//! count and the salted leaf hashes in tree order. It names no worker and no event; with it,
//! anyone holding one disclosed attestation can rebuild the inclusion proof and the root.

use serde::{Deserialize, Serialize};

use crate::merkle::{self, Digest};
use crate::{Error, Result, jcs};

/// Document format version.
pub const BATCH_DOCUMENT_VERSION: u32 = 1;
/// Document kind tag.
pub const BATCH_DOCUMENT_KIND: &str = "jejak.attestation-batch";
/// The most leaves one batch document holds (keeps a document well under a 1 MiB IPFS block).
pub const MAX_BATCH_LEAVES: usize = 10_000;

/// A batch document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchDocument {
    /// Format version, [`BATCH_DOCUMENT_VERSION`].
    pub version: u32,
    /// Always [`BATCH_DOCUMENT_KIND`].
    pub kind: String,
    /// EVM chain id the batch is anchored on.
    pub chain_id: u64,
    /// On-chain platform id.
    pub platform_id: u64,
    /// Number of leaves.
    pub count: u32,
    /// RFC 6962 root over `leaves`, hex.
    #[serde(with = "hex::serde")]
    pub root: [u8; 32],
    /// Salted leaf hashes in tree order, hex.
    pub leaves: Vec<HexDigest>,
}

/// A digest written as hex in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HexDigest(#[serde(with = "hex::serde")] pub Digest);

impl BatchDocument {
    /// Builds the document for a batch of leaf hashes.
    pub fn new(chain_id: u64, platform_id: u64, leaves: &[Digest]) -> Result<Self> {
        if leaves.is_empty() || leaves.len() > MAX_BATCH_LEAVES {
            return Err(Error::InvalidBatchDocument(format!(
                "a batch holds 1 to {MAX_BATCH_LEAVES} leaves, not {}",
                leaves.len()
            )));
        }
        Ok(Self {
            version: BATCH_DOCUMENT_VERSION,
            kind: BATCH_DOCUMENT_KIND.to_string(),
            chain_id,
            platform_id,
            count: leaves.len() as u32,
            root: merkle::root(leaves),
            leaves: leaves.iter().copied().map(HexDigest).collect(),
        })
    }

    /// The canonical bytes published on IPFS.
    pub fn to_bytes(&self) -> Vec<u8> {
        jcs::to_vec(self).expect("a batch document serialises")
    }

    /// Parses published bytes and checks the document is internally consistent.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let doc: Self = serde_json::from_slice(bytes)
            .map_err(|e| Error::InvalidBatchDocument(format!("not a batch document: {e}")))?;
        doc.check()?;
        Ok(doc)
    }

    /// Checks version, kind, count and root against the leaves.
    pub fn check(&self) -> Result<()> {
        let bad = |m: String| Err(Error::InvalidBatchDocument(m));
        if self.version != BATCH_DOCUMENT_VERSION || self.kind != BATCH_DOCUMENT_KIND {
            return bad(format!("unsupported document {} v{}", self.kind, self.version));
        }
        if self.count as usize != self.leaves.len() || self.leaves.is_empty() {
            return bad(format!("count {} but {} leaves", self.count, self.leaves.len()));
        }
        if merkle::root(&self.leaf_hashes()) != self.root {
            return bad("root does not match the leaves".into());
        }
        Ok(())
    }

    /// The leaf hashes.
    pub fn leaf_hashes(&self) -> Vec<Digest> {
        self.leaves.iter().map(|h| h.0).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let leaves: Vec<Digest> = (0u8..5).map(|i| merkle::leaf_hash(&[i])).collect();
        let doc = BatchDocument::new(31337, 1, &leaves).unwrap();
        let bytes = doc.to_bytes();
        assert_eq!(BatchDocument::from_bytes(&bytes).unwrap(), doc);
        let mut forged = doc.clone();
        forged.leaves.swap(0, 1);
        assert!(BatchDocument::from_bytes(&forged.to_bytes()).is_err());
        assert!(BatchDocument::new(1, 1, &[]).is_err());
    }
}
