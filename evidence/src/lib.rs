//! Proof-of-reality evidence of jejak: what the node does with a worker's photos and GPS tracks
//! between the upload and the receipt. Pure: no files, sockets or clocks; it takes bytes and
//! returns results, so the API can stream uploads into it and the CLI can verify offline.
//!
//! # Pipeline
//!
//! 1. **Upload**: feed chunks to an [`UploadDigest`] while streaming to the blob store. It
//!    sniffs the type from the first bytes ([`sniff`], never the declared header), hashes with
//!    SHA-256 and fails with [`Error::TooLarge`] (HTTP 413, [`ReasonCode::EvidenceTooLarge`])
//!    as soon as the kind's limit in [`SizeLimits`] is crossed.
//! 2. **Analyse**: [`analyze`] the stored bytes: structure check (truncation, hostile
//!    dimensions), [`Metadata`] ([`extract_metadata`]: EXIF of JPEG/HEIF/PNG/WebP, GPX points),
//!    the [`metadata_hash`], and a [`PerceptualHash`] of photos. Every refusal is an
//!    [`Error`] whose [`Error::reason`] is a stable [`ReasonCode`]; all parsing is bounded by
//!    [`ParseLimits`].
//! 3. **Judge**: build a [`Submission`] (task, worker key, issued nonce, [`EvidenceItem`]s,
//!    [`WitnessStatement`]s, registered witnesses), prefetch what the node has seen into a
//!    [`History`] (e.g. [`MemoryHistory`]), and [`evaluate`] it with the task type's
//!    [`RuleConfig`] (from [`RuleConfigs`]). The [`Verdict`] lists every rule's [`RuleResult`]
//!    (code, pass/warn/fail, message) and the worst [`Outcome`].
//! 4. **Log**: append [`EvidenceLeaf::hash`] (salted leaf over file hash and metadata hash) to
//!    the RFC 6962 evidence log ([`jejak_core::merkle::MerkleTree`]); after anchoring, hand out
//!    an [`EvidenceReceipt`] ([`EvidenceReceipt::issue`]).
//! 5. **Verify**: [`verify_receipt`] checks a file against its receipt offline;
//!    [`check_anchor`] compares the receipt with the [`AnchoredRoot`] the caller read from the
//!    chain.
//! 6. **Audit**: each anchored head of the log has a public [`EvidenceCheckpoint`] document
//!    (size, root, previous size and root, and the consistency proof between them).
//!
//! # Capture nonce
//!
//! The server issues a random nonce when the worker starts a task. The worker's capture app
//! writes `jejak-nonce:<nonce>` ([`NONCE_PREFIX`]) into each photo's EXIF ImageDescription or
//! UserComment, or into the GPX `<metadata><desc>` or `<keywords>`, at capture time; witnesses
//! sign the same nonce ([`witness_message`]). A photo taken before the task cannot carry it
//! without editing its metadata, which leaves the pixels, and so the perceptual hash, unchanged.
//!
//! # Features
//!
//! - `test-utils`: [`testkit`], generators of JPEG/PNG/WebP photos with EXIF and of GPX tracks,
//!   for this crate's tests and the API's.

mod checkpoint;
mod digest;
mod error;
mod geo;
mod hexser;
mod metadata;
mod phash;
mod phash_index;
mod reason;
mod receipt;
mod rules;
mod sniff;
mod witness;

#[cfg(feature = "test-utils")]
pub mod testkit;

pub use checkpoint::{CHECKPOINT_KIND, CHECKPOINT_VERSION, EvidenceCheckpoint};
pub use digest::{Digested, SizeLimits, UploadDigest, digest_reader, sha256};
pub use error::{Error, Result};
pub use geo::{GeoPoint, haversine_m};
pub use metadata::{
    CaptureTime, GpsFix, Metadata, NONCE_PREFIX, ParseLimits, PhotoMetadata, TrackMetadata, TrackPoint,
    extract_metadata, metadata_hash,
};
pub use phash::{JPEG_MIN_SIDE, PerceptualHash, dhash, perceptual_hash};
pub use phash_index::PhashIndex;
pub use reason::ReasonCode;
pub use receipt::{
    Anchor, AnchoredRoot, EvidenceLeaf, EvidenceReceipt, RECEIPT_VERSION, check_anchor, verify_receipt,
    verify_receipt_digest, verify_receipt_metadata,
};
pub use rules::{
    EvidenceItem, History, MemoryHistory, NoHistory, OTHER_PLATFORM_TASK, Outcome, PriorPhoto, RegisteredWitness,
    RuleConfig, RuleConfigs, RuleResult, Submission, TaskContext, Verdict, evaluate,
};
pub use sniff::{EvidenceKind, MediaType, SNIFF_LEN, sniff};
pub use witness::{
    WITNESS_DOMAIN, WitnessStatement, evidence_root, public_key, sign_witness, verify_witness, witness_message,
};

/// A SHA-256 digest.
pub type Digest = jejak_core::merkle::Digest;

/// Everything the node learns from one file.
#[derive(Debug, Clone, PartialEq)]
pub struct Analyzed {
    /// SHA-256 of the file.
    pub sha256: Digest,
    /// Size in bytes.
    pub size: u64,
    /// Sniffed type.
    pub media_type: MediaType,
    /// Extracted metadata.
    pub metadata: Metadata,
    /// [`metadata_hash`] of `metadata`.
    pub metadata_hash: Digest,
    /// dHash of photos that are decoded here (JPEG, PNG, WebP).
    pub perceptual_hash: Option<PerceptualHash>,
}

impl Analyzed {
    /// The file as the rules see it.
    pub fn item(&self) -> EvidenceItem {
        EvidenceItem { sha256: self.sha256, metadata: self.metadata.clone(), perceptual_hash: self.perceptual_hash }
    }

    /// Its evidence-log leaf with a fresh random salt.
    pub fn leaf(&self) -> EvidenceLeaf {
        EvidenceLeaf::with_random_salt(self.sha256, self.metadata_hash)
    }
}

/// Sniffs, size-checks, hashes, validates and extracts everything from one complete file.
///
/// Photos are decoded once for the perceptual hash, so this costs time linear in the pixel count
/// (bounded by `parse_limits`); everything else is linear in the file size.
pub fn analyze(bytes: &[u8], size_limits: &SizeLimits, parse_limits: &ParseLimits) -> Result<Analyzed> {
    let media_type = sniff(bytes)?;
    let kind = media_type.kind();
    let limit = size_limits.for_kind(kind);
    if bytes.len() as u64 > limit {
        return Err(Error::TooLarge { kind, limit, size: bytes.len() as u64 });
    }
    let metadata = extract_metadata(media_type, bytes, parse_limits)?;
    let perceptual_hash = match kind {
        EvidenceKind::Photo => perceptual_hash(media_type, bytes, parse_limits)?,
        EvidenceKind::Track => None,
    };
    Ok(Analyzed {
        sha256: sha256(bytes),
        size: bytes.len() as u64,
        media_type,
        metadata_hash: metadata_hash(&metadata)?,
        metadata,
        perceptual_hash,
    })
}
