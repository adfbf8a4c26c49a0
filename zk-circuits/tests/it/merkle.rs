//! The sparse Poseidon tree against a naive full tree, paths, and the path gadget.

use ark_r1cs_std::{GR1CSVar, alloc::AllocVar, fields::fp::FpVar};
use jejak_zk_circuits::{
    Error, Fr, PoseidonTree,
    merkle::{MerklePathVar, hash_pair, zero_hashes},
};

use crate::common::{prove_cs, random_fr, rng};

/// Every leaf materialised, hashed pairwise up to the root.
fn naive_root(depth: usize, leaves: &[Fr]) -> Fr {
    let mut level: Vec<Fr> = (0..1usize << depth).map(|i| leaves.get(i).copied().unwrap_or(Fr::from(0u64))).collect();
    while level.len() > 1 {
        level = level.chunks(2).map(|p| hash_pair(p[0], p[1])).collect();
    }
    level[0]
}

#[test]
fn sparse_tree_matches_naive_tree() {
    let mut rng = rng(3);
    for (depth, n) in [(1, 0), (1, 1), (1, 2), (4, 0), (4, 5), (4, 16), (8, 37), (8, 256)] {
        let leaves: Vec<Fr> = (0..n).map(|_| random_fr(&mut rng)).collect();
        let tree = PoseidonTree::from_leaves(depth, leaves.clone()).unwrap();
        assert_eq!(tree.root(), naive_root(depth, &leaves), "depth {depth}, {n} leaves");
        assert_eq!(tree.len(), n);
    }
    assert_eq!(PoseidonTree::new(20).unwrap().root(), zero_hashes()[20]);
}

#[test]
fn paths_verify_and_only_for_their_leaf() {
    let mut rng = rng(4);
    let leaves: Vec<Fr> = (0..1000).map(|_| random_fr(&mut rng)).collect();
    let tree = PoseidonTree::from_leaves(20, leaves.clone()).unwrap();
    for index in [0u64, 1, 2, 511, 998, 999, 1000, (1 << 20) - 1] {
        let path = tree.path(index).unwrap();
        let leaf = tree.leaf(index).unwrap();
        assert_eq!(leaf, leaves.get(index as usize).copied().unwrap_or(Fr::from(0u64)));
        assert!(path.verify(leaf, tree.root()), "index {index}");
        assert!(!path.verify(leaf + Fr::from(1u64), tree.root()));
        let mut moved = path.clone();
        moved.index ^= 1;
        assert!(!moved.verify(leaf, tree.root()) || path.siblings[0] == leaf);
    }
    assert!(matches!(tree.path(1 << 20), Err(Error::Merkle(_))));
    assert!(tree.leaf(1 << 20).is_none());
}

#[test]
fn depth_and_capacity_are_checked() {
    assert!(matches!(PoseidonTree::new(0), Err(Error::InvalidDepth { .. })));
    assert!(matches!(PoseidonTree::new(65), Err(Error::InvalidDepth { .. })));
    assert!(matches!(
        PoseidonTree::from_leaves(2, vec![Fr::from(1u64); 5]),
        Err(Error::TooManyLeaves { leaves: 5, depth: 2 })
    ));
    let full = PoseidonTree::from_leaves(2, vec![Fr::from(1u64); 4]).unwrap();
    assert_eq!(full.root(), naive_root(2, &[Fr::from(1u64); 4]));
}

#[test]
fn path_gadget_agrees_with_native() {
    let mut rng = rng(5);
    let depth = 6;
    let leaves: Vec<Fr> = (0..40).map(|_| random_fr(&mut rng)).collect();
    let tree = PoseidonTree::from_leaves(depth, leaves).unwrap();
    for index in [0u64, 7, 39, 63] {
        let path = tree.path(index).unwrap();
        let leaf = tree.leaf(index).unwrap();
        let cs = prove_cs();
        let leaf_var = FpVar::new_witness(cs.clone(), || Ok(leaf)).unwrap();
        let path_var = MerklePathVar::new_witness(cs.clone(), depth, Some(&path)).unwrap();
        let root = path_var.root(&leaf_var).unwrap();
        assert_eq!(root.value().unwrap(), tree.root());
        assert!(cs.is_satisfied().unwrap());
        assert_eq!(cs.num_constraints(), 242 * depth);
    }
}
