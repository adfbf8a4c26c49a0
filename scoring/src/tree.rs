//! The snapshot's Poseidon Merkle tree, built with [`crate::poseidon`]: the same tree as
//! [`jejak_zk_circuits::PoseidonTree`] (empty leaves 0, empty subtrees its zero hashes, only the
//! filled prefix of each level stored), equal root and paths, built several times faster.

use jejak_zk_circuits::Fr;
use jejak_zk_circuits::merkle::{MAX_DEPTH, MerklePath, zero_hashes};
use rayon::prelude::*;

use crate::poseidon::hash_pair;
use crate::{Error, Result};

/// A sparse Poseidon tree of fixed depth whose leaves `0..len` are given.
#[derive(Debug, Clone)]
pub struct Tree {
    depth: usize,
    levels: Vec<Vec<Fr>>,
}

impl Tree {
    /// Builds the tree over `leaves`, each level on every core.
    pub fn new(depth: usize, leaves: Vec<Fr>) -> Result<Self> {
        if depth == 0 || depth > MAX_DEPTH || (depth < 64 && leaves.len() as u128 > 1u128 << depth) {
            return Err(Error::InvalidSnapshot(format!("{} leaves in a tree of depth {depth}", leaves.len())));
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

    /// Depth.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Number of leaves given.
    pub fn len(&self) -> usize {
        self.levels[0].len()
    }

    /// Whether no leaf was given.
    pub fn is_empty(&self) -> bool {
        self.levels[0].is_empty()
    }

    /// The leaves given.
    pub fn leaves(&self) -> &[Fr] {
        &self.levels[0]
    }

    /// The root.
    pub fn root(&self) -> Fr {
        self.levels[self.depth].first().copied().unwrap_or(zero_hashes()[self.depth])
    }

    /// The authentication path of leaf `index` (any index within the capacity).
    pub fn path(&self, index: u64) -> Result<MerklePath> {
        if self.depth < 64 && index >= 1u64 << self.depth {
            return Err(Error::InvalidSnapshot(format!("leaf {index} beyond a tree of depth {}", self.depth)));
        }
        let node = |h: usize, i: u64| {
            usize::try_from(i).ok().and_then(|i| self.levels[h].get(i).copied()).unwrap_or(zero_hashes()[h])
        };
        Ok(MerklePath { index, siblings: (0..self.depth).map(|h| node(h, (index >> h) ^ 1)).collect() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_root_and_paths_as_the_circuit_crates_tree() {
        for n in [0usize, 1, 2, 3, 7, 8, 33] {
            let leaves: Vec<Fr> = (0..n as u64).map(|i| Fr::from(i * 7 + 1)).collect();
            let ours = Tree::new(6, leaves.clone()).unwrap();
            let theirs = jejak_zk_circuits::PoseidonTree::from_leaves(6, leaves).unwrap();
            assert_eq!(ours.root(), theirs.root(), "{n} leaves");
            for i in [0u64, 1, 5, 32, 63] {
                assert_eq!(ours.path(i).unwrap(), theirs.path(i).unwrap(), "{n} leaves, path {i}");
            }
        }
        assert!(Tree::new(3, vec![Fr::from(1u64); 9]).is_err());
    }
}
