//! Reputation snapshots: the worker leaves of an epoch, their Poseidon tree, and the public
//! documents that let anyone rebuild the root.
//!
//! A snapshot is published as IPFS raw blocks: pages of at most [`LEAVES_PER_PAGE`] leaves
//! (each well under [`MAX_BLOCK_BYTES`], the 1 MiB every IPFS node serves) and a small manifest
//! naming the epoch, the parameters (version and CID), the scoring time and the last block whose
//! batches count, the root, depth and count, each platform's rating totals and the page CIDs.
//! Nothing in them names a person: leaves are salted Poseidon hashes, in the order of the
//! identity commitments they hide.
//!
//! `leaf = Poseidon(commitment, score, gigs, tier, epoch, salt)` ([`jejak_zk_circuits::worker_leaf`]).

use std::collections::BTreeMap;

use jejak_core::cid::{self, Cid};
use jejak_zk_circuits::{Fr, PoseidonTree, fr_from_be_bytes, fr_to_be_bytes};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::engine::PlatformTotals;
use crate::input::Commitment;
use crate::{Error, Result};

/// Manifest kind tag.
pub const MANIFEST_KIND: &str = "jejak.reputation-snapshot";
/// Page kind tag.
pub const PAGE_KIND: &str = "jejak.reputation-snapshot-page";
/// Format version of manifests and pages.
pub const SNAPSHOT_VERSION: u32 = 1;
/// The only leaf order: by identity commitment, ascending as numbers.
pub const LEAF_ORDER: &str = "identity_commitment_ascending";
/// Largest block any IPFS node is expected to serve.
pub const MAX_BLOCK_BYTES: usize = 1 << 20;
/// Leaves per page: 69 bytes each in JSON, so a full page is about 966 KB.
pub const LEAVES_PER_PAGE: usize = 14_000;
/// Default tree depth (about a million workers).
pub const DEFAULT_DEPTH: usize = 20;

/// A field element written as `0x` and 64 lowercase hex digits (a Solidity `bytes32`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HexFr(pub Fr);

impl Serialize for HexFr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&format!("0x{}", hex::encode(fr_to_be_bytes(&self.0))))
    }
}

impl<'de> Deserialize<'de> for HexFr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        parse_hex_fr(&s).map(HexFr).map_err(serde::de::Error::custom)
    }
}

/// Parses `0x` + 64 lowercase hex digits below the BN254 modulus.
pub fn parse_hex_fr(s: &str) -> Result<Fr> {
    let bad = || Error::InvalidSnapshot(format!("`{s}` is not 0x and 64 lowercase hex digits of a field element"));
    let digits = s.strip_prefix("0x").ok_or_else(bad)?;
    if digits.len() != 64 || !digits.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err(bad());
    }
    let mut word = [0u8; 32];
    hex::decode_to_slice(digits, &mut word).map_err(|_| bad())?;
    fr_from_be_bytes(&word).map_err(|_| bad())
}

/// What a worker leaf commits to, besides the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeafInput {
    /// Identity commitment.
    pub commitment: Commitment,
    /// Reputation, 0 to 1000.
    pub score: u64,
    /// Completed tasks.
    pub gigs: u64,
    /// Credit tier as its leaf value (A = 5 ... E = 1).
    pub tier: u64,
    /// The worker's salt for this epoch.
    pub salt: Fr,
}

impl LeafInput {
    /// `Poseidon(commitment, score, gigs, tier, epoch, salt)` ([`jejak_zk_circuits::worker_leaf`]).
    pub fn leaf(&self, epoch: u64) -> Fr {
        jejak_zk_circuits::worker_leaf(self.commitment.to_fr(), self.score, self.gigs, self.tier, epoch, self.salt)
    }
}

/// Leaves of an epoch, in the order given, hashed on every core.
pub fn leaves(epoch: u64, inputs: &[LeafInput]) -> Vec<Fr> {
    inputs.par_iter().with_min_len(256).map(|i| i.leaf(epoch)).collect()
}

/// A platform's published rating totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformEntry {
    /// On-chain platform id.
    pub platform_id: u64,
    /// Its totals.
    #[serde(flatten)]
    pub totals: PlatformTotals,
}

/// A page of a snapshot, as listed in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageRef {
    /// CIDv1 (raw, sha2-256) of the page.
    pub cid: String,
    /// Leaves in it.
    pub count: u64,
}

/// The small document a root's `snapshotCid` names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always [`MANIFEST_KIND`].
    pub kind: String,
    /// [`SNAPSHOT_VERSION`].
    pub version: u32,
    /// EVM chain id of the attestations and the root.
    pub chain_id: u64,
    /// Epoch number.
    pub epoch: u64,
    /// The time scores were computed as of, unix seconds.
    pub as_of: i64,
    /// The last (finalized) block whose anchored batches count.
    pub as_of_block: u64,
    /// Parameters version (also on chain with the root).
    pub params_version: u32,
    /// CID of the parameters document.
    pub params_cid: String,
    /// Tree depth.
    pub depth: u32,
    /// Number of leaves.
    pub count: u64,
    /// Poseidon root.
    pub root: HexFr,
    /// Always [`LEAF_ORDER`].
    pub leaf_order: String,
    /// Rating totals per platform, by platform id.
    pub platforms: Vec<PlatformEntry>,
    /// Pages in leaf order.
    pub pages: Vec<PageRef>,
}

/// One page of leaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// Always [`PAGE_KIND`].
    pub kind: String,
    /// [`SNAPSHOT_VERSION`].
    pub version: u32,
    /// Epoch number.
    pub epoch: u64,
    /// Page index.
    pub index: u32,
    /// Index of its first leaf.
    pub first_leaf: u64,
    /// The leaves.
    pub leaves: Vec<HexFr>,
}

/// Everything but the leaves a manifest says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// EVM chain id.
    pub chain_id: u64,
    /// Epoch.
    pub epoch: u64,
    /// Scoring time.
    pub as_of: i64,
    /// Last counted block.
    pub as_of_block: u64,
    /// Parameters version.
    pub params_version: u32,
    /// Parameters CID.
    pub params_cid: String,
    /// Tree depth.
    pub depth: usize,
    /// Platform totals.
    pub platforms: BTreeMap<u64, PlatformTotals>,
}

/// A built snapshot: the tree and the blocks to publish.
#[derive(Debug)]
pub struct Built {
    /// The tree.
    pub tree: PoseidonTree,
    /// The manifest.
    pub manifest: Manifest,
    /// Its canonical bytes.
    pub manifest_bytes: Vec<u8>,
    /// Its CID.
    pub manifest_cid: Cid,
    /// Pages as (CID, canonical bytes), in order.
    pub pages: Vec<(Cid, Vec<u8>)>,
}

/// Builds the tree of `leaves` and the documents describing it.
pub fn build(header: Header, leaves: Vec<Fr>) -> Result<Built> {
    let tree = PoseidonTree::from_leaves(header.depth, leaves)?;
    build_from_tree(header, tree)
}

/// The documents describing an already built tree (its depth must be the header's).
pub fn build_from_tree(header: Header, tree: PoseidonTree) -> Result<Built> {
    if tree.depth() != header.depth {
        return Err(Error::InvalidSnapshot(format!(
            "a tree of depth {} for a header of depth {}",
            tree.depth(),
            header.depth
        )));
    }
    let pages: Vec<(Cid, Vec<u8>)> = tree
        .leaves()
        .par_chunks(LEAVES_PER_PAGE)
        .enumerate()
        .map(|(index, chunk)| {
            let page = Page {
                kind: PAGE_KIND.into(),
                version: SNAPSHOT_VERSION,
                epoch: header.epoch,
                index: index as u32,
                first_leaf: (index * LEAVES_PER_PAGE) as u64,
                leaves: chunk.iter().copied().map(HexFr).collect(),
            };
            let bytes = jejak_core::jcs::to_vec(&page)?;
            if bytes.len() > MAX_BLOCK_BYTES {
                return Err(Error::InvalidSnapshot(format!("page {index} is {} bytes", bytes.len())));
            }
            Ok((cid::raw_cid(&bytes), bytes))
        })
        .collect::<Result<_>>()?;
    let manifest = Manifest {
        kind: MANIFEST_KIND.into(),
        version: SNAPSHOT_VERSION,
        chain_id: header.chain_id,
        epoch: header.epoch,
        as_of: header.as_of,
        as_of_block: header.as_of_block,
        params_version: header.params_version,
        params_cid: header.params_cid,
        depth: header.depth as u32,
        count: tree.len() as u64,
        root: HexFr(tree.root()),
        leaf_order: LEAF_ORDER.into(),
        platforms: header
            .platforms
            .into_iter()
            .map(|(platform_id, totals)| PlatformEntry { platform_id, totals })
            .collect(),
        pages: pages
            .iter()
            .zip(tree.leaves().chunks(LEAVES_PER_PAGE))
            .map(|((cid, _), chunk)| PageRef { cid: cid.to_string(), count: chunk.len() as u64 })
            .collect(),
    };
    let manifest_bytes = manifest.to_bytes();
    if manifest_bytes.len() > MAX_BLOCK_BYTES {
        return Err(Error::InvalidSnapshot(format!("manifest is {} bytes", manifest_bytes.len())));
    }
    Ok(Built { manifest_cid: cid::raw_cid(&manifest_bytes), tree, manifest, manifest_bytes, pages })
}

impl Manifest {
    /// Canonical bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        jejak_core::jcs::to_vec(self).expect("a manifest serialises")
    }

    /// Parses a manifest and checks it is consistent with itself.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let m: Self = serde_json::from_slice(bytes)
            .map_err(|e| Error::InvalidSnapshot(format!("not a snapshot manifest: {e}")))?;
        let bad = |s: String| Err(Error::InvalidSnapshot(s));
        if m.kind != MANIFEST_KIND || m.version != SNAPSHOT_VERSION || m.leaf_order != LEAF_ORDER {
            return bad(format!("unsupported manifest {} v{} ({})", m.kind, m.version, m.leaf_order));
        }
        if m.depth == 0 || m.depth > 64 || (m.depth < 64 && m.count > 1u64 << m.depth) {
            return bad(format!("{} leaves in a tree of depth {}", m.count, m.depth));
        }
        let sum: u64 = m.pages.iter().map(|p| p.count).sum();
        let full = m.pages.iter().rev().skip(1).all(|p| p.count == LEAVES_PER_PAGE as u64);
        let last_ok = m.pages.last().is_none_or(|p| p.count >= 1 && p.count <= LEAVES_PER_PAGE as u64);
        if sum != m.count || !full || !last_ok {
            return bad(format!("pages hold {sum} leaves, manifest says {}", m.count));
        }
        if !m.platforms.windows(2).all(|w| w[0].platform_id < w[1].platform_id) {
            return bad("platforms are not in ascending order".into());
        }
        for p in &m.pages {
            cid::parse(&p.cid)?;
        }
        cid::parse(&m.params_cid)?;
        Ok(m)
    }

    /// The platform totals as a map.
    pub fn platform_totals(&self) -> BTreeMap<u64, PlatformTotals> {
        self.platforms.iter().map(|p| (p.platform_id, p.totals)).collect()
    }

    /// Checks page `index`'s bytes and returns its leaves.
    pub fn read_page(&self, index: usize, bytes: &[u8]) -> Result<Vec<Fr>> {
        let r = self.pages.get(index).ok_or_else(|| Error::InvalidSnapshot(format!("no page {index}")))?;
        cid::verify(&cid::parse(&r.cid)?, bytes)?;
        let page: Page = serde_json::from_slice(bytes)
            .map_err(|e| Error::InvalidSnapshot(format!("page {index} is not a snapshot page: {e}")))?;
        let first = (index * LEAVES_PER_PAGE) as u64;
        if page.kind != PAGE_KIND
            || page.version != SNAPSHOT_VERSION
            || page.epoch != self.epoch
            || page.index as usize != index
            || page.first_leaf != first
            || page.leaves.len() as u64 != r.count
        {
            return Err(Error::InvalidSnapshot(format!("page {index} does not belong to epoch {} here", self.epoch)));
        }
        Ok(page.leaves.into_iter().map(|h| h.0).collect())
    }

    /// Rebuilds the tree from all leaves and checks the root.
    pub fn check_leaves(&self, leaves: Vec<Fr>) -> Result<PoseidonTree> {
        if leaves.len() as u64 != self.count {
            return Err(Error::InvalidSnapshot(format!("{} leaves, manifest says {}", leaves.len(), self.count)));
        }
        let tree = PoseidonTree::from_leaves(self.depth as usize, leaves)?;
        if tree.root() != self.root.0 {
            return Err(Error::InvalidSnapshot("the leaves do not hash to the manifest's root".into()));
        }
        Ok(tree)
    }
}

/// A fresh random salt: 31 random bytes, always below the modulus. Randomness comes from the
/// caller (this crate does no I/O).
pub fn salt_from_bytes(bytes: [u8; 31]) -> Fr {
    let mut word = [0u8; 32];
    word[1..].copy_from_slice(&bytes);
    fr_from_be_bytes(&word).expect("248-bit values are below the modulus")
}
