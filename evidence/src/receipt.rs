//! Evidence leaves for the append-only RFC 6962 evidence log, and the receipts that prove a
//! file is in an anchored log head.
//!
//! Leaf input = `salt (32) || file SHA-256 (32) || metadata hash (32)`, hashed as an RFC 6962
//! leaf (`SHA-256(0x00 || input)`). The salt keeps a public log from confirming guesses of a
//! file (a photo that also circulates elsewhere); the metadata hash commits to what the node
//! extracted when it accepted the file.

use jejak_core::merkle::{self, MerkleTree};
use serde::{Deserialize, Serialize};

use crate::{Digest, Error, Metadata, ReasonCode, Result, digest::sha256, metadata::metadata_hash};

/// Format version of [`EvidenceReceipt`].
pub const RECEIPT_VERSION: u32 = 1;

/// The inputs of one evidence leaf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceLeaf {
    /// Random per-leaf salt.
    #[serde(with = "crate::hexser::plain")]
    pub salt: [u8; 32],
    /// SHA-256 of the file.
    #[serde(with = "crate::hexser::plain")]
    pub file_sha256: Digest,
    /// SHA-256 of the RFC 8785 form of the extracted metadata ([`metadata_hash`]).
    #[serde(with = "crate::hexser::plain")]
    pub metadata_hash: Digest,
}

impl EvidenceLeaf {
    /// A leaf with a fresh 32-byte salt from a CSPRNG seeded by the operating system.
    pub fn with_random_salt(file_sha256: Digest, metadata_hash: Digest) -> Self {
        Self { salt: rand::random(), file_sha256, metadata_hash }
    }

    /// `salt || file_sha256 || metadata_hash`.
    pub fn input(&self) -> [u8; 96] {
        let mut out = [0u8; 96];
        out[..32].copy_from_slice(&self.salt);
        out[32..64].copy_from_slice(&self.file_sha256);
        out[64..].copy_from_slice(&self.metadata_hash);
        out
    }

    /// The RFC 6962 leaf hash of [`Self::input`]: what is appended to the evidence log.
    pub fn hash(&self) -> Digest {
        merkle::leaf_hash(&self.input())
    }
}

/// Where and when the log head of a receipt was anchored on chain (`anchorEvidence`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Anchor {
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// The evidence log contract.
    #[serde(with = "crate::hexser::prefixed")]
    pub contract: [u8; 20],
    /// The anchoring transaction.
    #[serde(with = "crate::hexser::prefixed")]
    pub tx_hash: [u8; 32],
    /// The block that includes it.
    pub block_number: u64,
}

/// Proof that one file is leaf `leaf_index` of the evidence log at `tree_size`, whose root is
/// `root`, anchored as `anchor` says. Verifiable offline with [`verify_receipt`] and against the
/// chain with [`check_anchor`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceReceipt {
    /// [`RECEIPT_VERSION`].
    pub version: u32,
    /// Leaf input: the salt.
    #[serde(with = "crate::hexser::plain")]
    pub salt: [u8; 32],
    /// Leaf input: SHA-256 of the file.
    #[serde(with = "crate::hexser::plain")]
    pub file_sha256: Digest,
    /// Leaf input: the metadata hash.
    #[serde(with = "crate::hexser::plain")]
    pub metadata_hash: Digest,
    /// Position of the leaf in the log.
    pub leaf_index: u64,
    /// Log size the proof is against.
    pub tree_size: u64,
    /// Log root at `tree_size`.
    #[serde(with = "crate::hexser::plain")]
    pub root: Digest,
    /// RFC 9162 audit path, leaf side first.
    #[serde(with = "crate::hexser::digests")]
    pub inclusion_path: Vec<Digest>,
    /// The on-chain anchor of `(root, tree_size)`; `None` until the batch is anchored.
    pub anchor: Option<Anchor>,
}

impl EvidenceReceipt {
    /// Builds the receipt of leaf `leaf_index` from an inclusion path the caller read (e.g. from
    /// stored subtrees), checking that the path leads from the leaf to `root`.
    pub fn from_path(
        leaf_index: u64,
        tree_size: u64,
        root: Digest,
        inclusion_path: Vec<Digest>,
        leaf: EvidenceLeaf,
        anchor: Option<Anchor>,
    ) -> Result<Self> {
        if !merkle::verify_inclusion(leaf_index, tree_size, &leaf.hash(), &inclusion_path, &root) {
            return Err(Error::refused(
                ReasonCode::ReceiptInclusionInvalid,
                format!("leaf {leaf_index} of the log at size {tree_size} is not this evidence leaf"),
            ));
        }
        Ok(Self {
            version: RECEIPT_VERSION,
            salt: leaf.salt,
            file_sha256: leaf.file_sha256,
            metadata_hash: leaf.metadata_hash,
            leaf_index,
            tree_size,
            root,
            inclusion_path,
            anchor,
        })
    }

    /// Builds the receipt of leaf `leaf_index` against the whole of `tree`.
    pub fn issue(tree: &MerkleTree, leaf_index: u64, leaf: EvidenceLeaf, anchor: Option<Anchor>) -> Result<Self> {
        let stored = tree.leaves().get(leaf_index as usize).copied();
        if stored != Some(leaf.hash()) {
            return Err(Error::refused(
                ReasonCode::ReceiptInclusionInvalid,
                format!("leaf {leaf_index} of the log is not this evidence leaf"),
            ));
        }
        Ok(Self {
            version: RECEIPT_VERSION,
            salt: leaf.salt,
            file_sha256: leaf.file_sha256,
            metadata_hash: leaf.metadata_hash,
            leaf_index,
            tree_size: tree.size(),
            root: tree.root(),
            inclusion_path: tree.inclusion_proof(leaf_index)?,
            anchor,
        })
    }

    /// The evidence leaf the receipt is for.
    pub fn leaf(&self) -> EvidenceLeaf {
        EvidenceLeaf { salt: self.salt, file_sha256: self.file_sha256, metadata_hash: self.metadata_hash }
    }
}

/// Checks `file` against the receipt and the receipt's inclusion path against its root.
///
/// This does not show that the root was anchored at that size: the caller reads the anchor
/// from the chain and calls [`check_anchor`].
pub fn verify_receipt(file: &[u8], receipt: &EvidenceReceipt) -> Result<(), ReasonCode> {
    verify_receipt_digest(&sha256(file), receipt)
}

/// [`verify_receipt`] for a file already hashed while streaming.
pub fn verify_receipt_digest(file_sha256: &Digest, receipt: &EvidenceReceipt) -> Result<(), ReasonCode> {
    if receipt.version != RECEIPT_VERSION {
        return Err(ReasonCode::ReceiptVersionUnsupported);
    }
    if *file_sha256 != receipt.file_sha256 {
        return Err(ReasonCode::ReceiptFileMismatch);
    }
    let ok = merkle::verify_inclusion(
        receipt.leaf_index,
        receipt.tree_size,
        &receipt.leaf().hash(),
        &receipt.inclusion_path,
        &receipt.root,
    );
    if ok { Ok(()) } else { Err(ReasonCode::ReceiptInclusionInvalid) }
}

/// Checks that `metadata` is what the receipt's metadata hash commits to.
pub fn verify_receipt_metadata(metadata: &Metadata, receipt: &EvidenceReceipt) -> Result<(), ReasonCode> {
    match metadata_hash(metadata) {
        Ok(h) if h == receipt.metadata_hash => Ok(()),
        _ => Err(ReasonCode::ReceiptMetadataMismatch),
    }
}

/// What a verifier read from the chain: the `anchorEvidence` call found in transaction
/// `tx_hash` of block `block_number`, on `chain_id`, at `contract`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnchoredRoot {
    /// Chain the transaction was read from.
    pub chain_id: u64,
    /// Contract that emitted the anchor.
    #[serde(with = "crate::hexser::prefixed")]
    pub contract: [u8; 20],
    /// The anchoring transaction.
    #[serde(with = "crate::hexser::prefixed")]
    pub tx_hash: [u8; 32],
    /// Its block.
    pub block_number: u64,
    /// Anchored log root.
    #[serde(with = "crate::hexser::plain")]
    pub root: Digest,
    /// Anchored log size.
    pub size: u64,
}

/// Checks that the chain anchored exactly the receipt's root at exactly its size, where the
/// receipt says.
pub fn check_anchor(receipt: &EvidenceReceipt, anchored: &AnchoredRoot) -> Result<(), ReasonCode> {
    let Some(a) = receipt.anchor else {
        return Err(ReasonCode::ReceiptAnchorMismatch);
    };
    let same = a.chain_id == anchored.chain_id
        && a.contract == anchored.contract
        && a.tx_hash == anchored.tx_hash
        && a.block_number == anchored.block_number
        && receipt.root == anchored.root
        && receipt.tree_size == anchored.size;
    if same { Ok(()) } else { Err(ReasonCode::ReceiptAnchorMismatch) }
}
