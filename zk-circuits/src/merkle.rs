//! A sparse binary Poseidon Merkle tree: `parent = Poseidon(left, right)` (circomlib, two inputs),
//! empty leaves are 0 and an empty subtree of height h hashes to [`zero_hashes`]`[h]`, so only the
//! filled prefix of each level is stored.
//!
//! [`PoseidonTree::from_leaves`] builds level by level with rayon (both cores); a tree of
//! 1,000,000 leaves is about 1,000,000 two-input hashes. [`MerklePath`] is the native proof and
//! [`MerklePathVar`] its gadget, 242 constraints per level (boolean direction bit, one selection,
//! one hash).

use std::sync::OnceLock;

use ark_ff::AdditiveGroup;
use ark_r1cs_std::{alloc::AllocVar, boolean::Boolean, fields::fp::FpVar, select::CondSelectGadget};
use ark_relations::gr1cs::{ConstraintSystemRef, SynthesisError};
use rayon::prelude::*;

use crate::{
    Error, Fr, Result,
    poseidon::{hash, hash_gadget},
};

/// Deepest supported tree (leaf indices are `u64`).
pub const MAX_DEPTH: usize = 64;

/// Parent of two nodes.
#[inline]
pub fn hash_pair(left: Fr, right: Fr) -> Fr {
    hash(&[left, right])
}

/// `zero_hashes()[h]` is the root of an empty subtree of height `h` (`[0] = 0`, the empty leaf).
pub fn zero_hashes() -> &'static [Fr; MAX_DEPTH + 1] {
    static ZEROS: OnceLock<[Fr; MAX_DEPTH + 1]> = OnceLock::new();
    ZEROS.get_or_init(|| {
        let mut z = [Fr::ZERO; MAX_DEPTH + 1];
        for h in 1..=MAX_DEPTH {
            z[h] = hash_pair(z[h - 1], z[h - 1]);
        }
        z
    })
}

fn check_depth(depth: usize) -> Result<()> {
    if depth == 0 || depth > MAX_DEPTH {
        return Err(Error::InvalidDepth { depth, max: MAX_DEPTH });
    }
    Ok(())
}

/// Number of leaves a tree of `depth` holds, saturating at `u64::MAX` for depth 64.
fn capacity(depth: usize) -> u128 {
    1u128 << depth
}

/// A sparse Poseidon Merkle tree of fixed depth whose leaves `0..len` are given.
#[derive(Clone, Debug)]
pub struct PoseidonTree {
    depth: usize,
    /// `levels[0]` are the leaves, `levels[h]` the filled prefix of height h; `levels[depth]` is
    /// `[root]` (empty for an empty tree).
    levels: Vec<Vec<Fr>>,
}

impl PoseidonTree {
    /// An empty tree (every leaf 0).
    pub fn new(depth: usize) -> Result<Self> {
        Self::from_leaves(depth, Vec::new())
    }

    /// The tree whose first `leaves.len()` leaves are `leaves` and the rest 0. Builds each level
    /// in parallel.
    pub fn from_leaves(depth: usize, leaves: Vec<Fr>) -> Result<Self> {
        check_depth(depth)?;
        if leaves.len() as u128 > capacity(depth) {
            return Err(Error::TooManyLeaves { leaves: leaves.len(), depth });
        }
        let zeros = zero_hashes();
        let mut levels = Vec::with_capacity(depth + 1);
        levels.push(leaves);
        for h in 0..depth {
            let below = &levels[h];
            let empty = zeros[h];
            let above: Vec<Fr> = below
                .par_chunks(2)
                .with_min_len(256)
                .map(|pair| hash_pair(pair[0], pair.get(1).copied().unwrap_or(empty)))
                .collect();
            levels.push(above);
        }
        Ok(Self { depth, levels })
    }

    /// Tree depth (leaves are at height 0, the root at height `depth`).
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Number of leaves given (the rest are empty).
    pub fn len(&self) -> usize {
        self.levels[0].len()
    }

    /// Whether no leaf was given.
    pub fn is_empty(&self) -> bool {
        self.levels[0].is_empty()
    }

    /// The root.
    pub fn root(&self) -> Fr {
        self.levels[self.depth].first().copied().unwrap_or(zero_hashes()[self.depth])
    }

    /// Leaf `index` (0 for an empty slot), or `None` beyond the tree's capacity.
    pub fn leaf(&self, index: u64) -> Option<Fr> {
        (u128::from(index) < capacity(self.depth)).then(|| self.node(0, index))
    }

    /// The leaves given.
    pub fn leaves(&self) -> &[Fr] {
        &self.levels[0]
    }

    fn node(&self, height: usize, index: u64) -> Fr {
        usize::try_from(index).ok().and_then(|i| self.levels[height].get(i).copied()).unwrap_or(zero_hashes()[height])
    }

    /// The authentication path of leaf `index`.
    pub fn path(&self, index: u64) -> Result<MerklePath> {
        if u128::from(index) >= capacity(self.depth) {
            return Err(Error::Merkle(format!("leaf index {index} beyond a tree of depth {}", self.depth)));
        }
        let siblings = (0..self.depth).map(|h| self.node(h, (index >> h) ^ 1)).collect();
        Ok(MerklePath { index, siblings })
    }
}

/// A leaf's authentication path: its index and one sibling per level, leaf level first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerklePath {
    /// Leaf index; bit h says whether the node at height h is a right child.
    pub index: u64,
    /// Sibling at each height, from the leaves up.
    pub siblings: Vec<Fr>,
}

impl MerklePath {
    /// Depth of the tree this path is for.
    pub fn depth(&self) -> usize {
        self.siblings.len()
    }

    /// Direction bits, leaf level first (`true`: the node is a right child).
    pub fn index_bits(&self) -> Vec<bool> {
        (0..self.depth()).map(|h| h < 64 && (self.index >> h) & 1 == 1).collect()
    }

    /// The root reached from `leaf`.
    pub fn root(&self, leaf: Fr) -> Fr {
        self.siblings.iter().zip(self.index_bits()).fold(leaf, |node, (sibling, right)| {
            if right { hash_pair(*sibling, node) } else { hash_pair(node, *sibling) }
        })
    }

    /// Whether `leaf` at this path hashes to `root`.
    pub fn verify(&self, leaf: Fr, root: Fr) -> bool {
        self.root(leaf) == root
    }
}

/// The gadget of [`MerklePath`]: siblings and direction bits as witnesses.
#[derive(Clone, Debug)]
pub struct MerklePathVar {
    /// Sibling at each height.
    pub siblings: Vec<FpVar<Fr>>,
    /// Direction bit at each height (1 constraint each).
    pub bits: Vec<Boolean<Fr>>,
}

impl MerklePathVar {
    /// Allocates a path of `depth` levels; `path` is `None` at setup. Siblings first, then bits.
    pub fn new_witness(cs: ConstraintSystemRef<Fr>, depth: usize, path: Option<&MerklePath>) -> Result<Self> {
        if let Some(p) = path
            && p.depth() != depth
        {
            return Err(Error::Merkle(format!("path has {} levels, circuit {depth}", p.depth())));
        }
        let missing = || SynthesisError::AssignmentMissing;
        let siblings = (0..depth)
            .map(|h| FpVar::new_witness(cs.clone(), || path.map(|p| p.siblings[h]).ok_or_else(missing)))
            .collect::<Result<Vec<_>, _>>()?;
        let bits = (0..depth)
            .map(|h| Boolean::new_witness(cs.clone(), || path.map(|p| p.index_bits()[h]).ok_or_else(missing)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { siblings, bits })
    }

    /// The root reached from `leaf`: 241 constraints per level on top of the bits.
    pub fn root(&self, leaf: &FpVar<Fr>) -> Result<FpVar<Fr>> {
        let mut node = leaf.clone();
        for (sibling, right) in self.siblings.iter().zip(&self.bits) {
            // left = right ? sibling : node; the other input is what remains of the pair.
            let left = FpVar::conditionally_select(right, sibling, &node)?;
            let other = &node + sibling - &left;
            node = hash_gadget(&[left, other])?;
        }
        Ok(node)
    }
}
