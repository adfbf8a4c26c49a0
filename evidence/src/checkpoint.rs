//! The public document behind each anchored head of the evidence log.
//!
//! `anchorEvidence(root, size, cid)` names it by CID: a CIDv1 raw block of the RFC 8785 JSON of
//! an [`EvidenceCheckpoint`]: the chain and contract, the new size and root, the previous
//! anchored size and root, and the RFC 6962 consistency proof between them. It holds hashes of
//! tree nodes only, nothing about a file or a person, and lets anyone holding the chain and the
//! documents check that each head extends the one before, without asking the node.

use jejak_core::merkle::{self, MerkleTree};
use serde::{Deserialize, Serialize};

use crate::{Digest, Error, ReasonCode, Result};

/// Document format version.
pub const CHECKPOINT_VERSION: u32 = 1;
/// Document kind tag.
pub const CHECKPOINT_KIND: &str = "jejak.evidence-checkpoint";

/// One anchored head of the evidence log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceCheckpoint {
    /// [`CHECKPOINT_VERSION`].
    pub version: u32,
    /// Always [`CHECKPOINT_KIND`].
    pub kind: String,
    /// EVM chain id of the evidence log contract.
    pub chain_id: u64,
    /// The `JejakEvidenceLog` contract.
    #[serde(with = "crate::hexser::prefixed")]
    pub log_contract: [u8; 20],
    /// Log size at this head.
    pub size: u64,
    /// RFC 6962 root of the first `size` leaves.
    #[serde(with = "crate::hexser::plain")]
    pub root: Digest,
    /// Size of the previous anchored head (0 for the first).
    pub previous_size: u64,
    /// Root at `previous_size` (the empty-tree root for 0).
    #[serde(with = "crate::hexser::plain")]
    pub previous_root: Digest,
    /// Consistency proof from `previous_size` to `size` (RFC 9162 section 2.1.4).
    #[serde(with = "crate::hexser::digests")]
    pub consistency_proof: Vec<Digest>,
}

impl EvidenceCheckpoint {
    /// The checkpoint of `log` (the whole log) following an anchored head of `previous_size`.
    pub fn new(chain_id: u64, log_contract: [u8; 20], log: &MerkleTree, previous_size: u64) -> Result<Self> {
        let size = log.size();
        if previous_size >= size {
            return Err(invalid(format!("a checkpoint must grow the log: {previous_size} -> {size}")));
        }
        Ok(Self {
            version: CHECKPOINT_VERSION,
            kind: CHECKPOINT_KIND.to_string(),
            chain_id,
            log_contract,
            size,
            root: log.root(),
            previous_size,
            previous_root: log.root_at(previous_size)?,
            consistency_proof: log.consistency_proof(previous_size, size)?,
        })
    }

    /// The checkpoint of a log head read from stored subtrees: `root` at `size`, following the
    /// anchored head `previous_root` at `previous_size`, with the consistency proof between them.
    /// Fails unless the proof leads from the one to the other.
    pub fn from_proof(
        chain_id: u64,
        log_contract: [u8; 20],
        (size, root): (u64, Digest),
        (previous_size, previous_root): (u64, Digest),
        consistency_proof: Vec<Digest>,
    ) -> Result<Self> {
        let doc = Self {
            version: CHECKPOINT_VERSION,
            kind: CHECKPOINT_KIND.to_string(),
            chain_id,
            log_contract,
            size,
            root,
            previous_size,
            previous_root,
            consistency_proof,
        };
        doc.check()?;
        Ok(doc)
    }

    /// The canonical bytes published as a raw block.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Integers, strings and lists of strings always canonicalise.
        jejak_core::jcs::to_vec(self).expect("a checkpoint serialises")
    }

    /// Parses published bytes and checks the document is internally consistent.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let doc: Self =
            serde_json::from_slice(bytes).map_err(|e| invalid(format!("not an evidence checkpoint: {e}")))?;
        doc.check()?;
        Ok(doc)
    }

    /// Checks version, kind, growth and the consistency proof between the two heads.
    pub fn check(&self) -> Result<()> {
        if self.version != CHECKPOINT_VERSION || self.kind != CHECKPOINT_KIND {
            return Err(invalid(format!("unknown checkpoint format {} version {}", self.kind, self.version)));
        }
        if self.previous_size >= self.size {
            return Err(invalid(format!("size {} does not grow {}", self.size, self.previous_size)));
        }
        let previous_ok = self.previous_size > 0 || self.previous_root == merkle::empty_root();
        if !previous_ok
            || !merkle::verify_consistency(
                self.previous_size,
                self.size,
                &self.previous_root,
                &self.root,
                &self.consistency_proof,
            )
        {
            return Err(invalid(format!(
                "the consistency proof does not lead from size {} to size {}",
                self.previous_size, self.size
            )));
        }
        Ok(())
    }
}

fn invalid(detail: String) -> Error {
    Error::refused(ReasonCode::CheckpointInvalid, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(n: u64) -> MerkleTree {
        MerkleTree::from_leaf_hashes((0..n).map(|i| merkle::leaf_hash(&i.to_be_bytes())).collect())
    }

    #[test]
    fn round_trips_and_proves_growth() {
        for (prev, size) in [(0, 1), (1, 2), (3, 7), (4, 8), (8, 13), (100, 1000)] {
            let doc = EvidenceCheckpoint::new(80002, [0x11; 20], &log(size), prev).unwrap();
            let back = EvidenceCheckpoint::from_bytes(&doc.to_bytes()).unwrap();
            assert_eq!(back, doc);
            assert_eq!(back.root, log(size).root());
            assert_eq!(back.previous_root, log(prev).root());
        }
    }

    #[test]
    fn a_rewritten_prefix_does_not_check() {
        let mut doc = EvidenceCheckpoint::new(1, [0; 20], &log(13), 8).unwrap();
        doc.previous_root[0] ^= 1;
        assert_eq!(doc.check().unwrap_err().reason(), ReasonCode::CheckpointInvalid);
        let doc = EvidenceCheckpoint::new(1, [0; 20], &log(13), 8).unwrap();
        let mut bytes = doc.to_bytes();
        let at = bytes.windows(4).position(|w| w == b"\"siz").unwrap();
        bytes[at + 8] = b'9'; // "size":13 -> "size":19
        assert!(EvidenceCheckpoint::from_bytes(&bytes).is_err());
        assert!(EvidenceCheckpoint::new(1, [0; 20], &log(5), 5).is_err());
    }

    #[test]
    fn holds_no_leaf() {
        let doc = EvidenceCheckpoint::new(1, [0; 20], &log(2), 1).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&doc.to_bytes()).unwrap();
        let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "chain_id",
                "consistency_proof",
                "kind",
                "log_contract",
                "previous_root",
                "previous_size",
                "root",
                "size",
                "version"
            ]
        );
    }
}
