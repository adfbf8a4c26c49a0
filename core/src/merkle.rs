//! RFC 6962 / RFC 9162 Merkle trees over SHA-256, as Certificate Transparency defines them.
//!
//! Leaves are hashed as `SHA-256(0x00 || data)` and interior nodes as
//! `SHA-256(0x01 || left || right)`, so a leaf can never be passed off as a node. A tree of `n`
//! leaves splits at the largest power of two below `n`; building level by level and promoting an
//! unpaired last node unchanged gives exactly that shape.

use sha2::{Digest as _, Sha256};

use crate::{Error, Result};

/// A SHA-256 digest.
pub type Digest = [u8; 32];

/// `SHA-256(0x00 || data)`: the hash of one leaf.
pub fn leaf_hash(data: &[u8]) -> Digest {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(data);
    h.finalize().into()
}

/// `SHA-256(0x01 || left || right)`: the hash of an interior node.
pub fn node_hash(left: &Digest, right: &Digest) -> Digest {
    let mut buf = [0u8; 65];
    buf[0] = 0x01;
    buf[1..33].copy_from_slice(left);
    buf[33..].copy_from_slice(right);
    Sha256::digest(buf).into()
}

/// The root of the empty tree, `SHA-256("")`.
pub fn empty_root() -> Digest {
    Sha256::digest([]).into()
}

/// The Merkle tree hash of already-hashed leaves.
pub fn root(leaves: &[Digest]) -> Digest {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        _ => {
            let mut level = next_level(leaves);
            while level.len() > 1 {
                level = next_level(&level);
            }
            level[0]
        }
    }
}

fn next_level(level: &[Digest]) -> Vec<Digest> {
    let mut out = Vec::with_capacity(level.len().div_ceil(2));
    let mut pairs = level.chunks_exact(2);
    for pair in &mut pairs {
        out.push(node_hash(&pair[0], &pair[1]));
    }
    if let [last] = pairs.remainder() {
        out.push(*last);
    }
    out
}

/// A whole tree kept in memory, level by level, to answer inclusion and consistency proofs.
#[derive(Debug, Clone)]
pub struct MerkleTree {
    /// `levels[0]` holds the leaf hashes, the last level holds the root alone.
    levels: Vec<Vec<Digest>>,
}

impl MerkleTree {
    /// Builds the tree over already-hashed leaves.
    pub fn from_leaf_hashes(leaves: Vec<Digest>) -> Self {
        let mut levels = vec![leaves];
        while levels.last().is_some_and(|l| l.len() > 1) {
            let next = next_level(levels.last().expect("non-empty"));
            levels.push(next);
        }
        Self { levels }
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels[0].len() as u64
    }

    /// The leaf hashes.
    pub fn leaves(&self) -> &[Digest] {
        &self.levels[0]
    }

    /// The Merkle tree hash.
    pub fn root(&self) -> Digest {
        match self.levels.last() {
            Some(top) if top.len() == 1 => top[0],
            _ => empty_root(),
        }
    }

    /// The audit path of leaf `index` (RFC 9162 section 2.1.3.1), leaf side first.
    pub fn inclusion_proof(&self, index: u64) -> Result<Vec<Digest>> {
        if index >= self.size() {
            return Err(Error::Merkle(format!("leaf {index} outside a tree of {}", self.size())));
        }
        let mut path = Vec::new();
        let mut i = index as usize;
        for level in &self.levels[..self.levels.len() - 1] {
            let sibling = i ^ 1;
            if sibling < level.len() {
                path.push(level[sibling]);
            }
            i /= 2;
        }
        Ok(path)
    }

    /// The root of the tree made of the first `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Digest> {
        if size > self.size() {
            return Err(Error::Merkle(format!("size {size} beyond a tree of {}", self.size())));
        }
        Ok(self.subtree_root(0, size as usize))
    }

    /// Proof that the tree of `old_size` leaves is a prefix of the tree of `new_size` leaves
    /// (RFC 9162 section 2.1.4.1).
    pub fn consistency_proof(&self, old_size: u64, new_size: u64) -> Result<Vec<Digest>> {
        if new_size > self.size() || old_size > new_size {
            return Err(Error::Merkle(format!(
                "no consistency proof from {old_size} to {new_size} in a tree of {}",
                self.size()
            )));
        }
        let mut proof = Vec::new();
        if old_size == 0 || old_size == new_size {
            return Ok(proof);
        }
        self.subproof(old_size as usize, 0, new_size as usize, true, &mut proof);
        Ok(proof)
    }

    /// SUBPROOF(m, D[start:end], b) of RFC 6962 section 2.1.2.
    fn subproof(&self, m: usize, start: usize, end: usize, complete: bool, out: &mut Vec<Digest>) {
        let n = end - start;
        if m == n {
            if !complete {
                out.push(self.subtree_root(start, end));
            }
            return;
        }
        let k = split_point(n);
        if m <= k {
            self.subproof(m, start, start + k, complete, out);
            out.push(self.subtree_root(start + k, end));
        } else {
            self.subproof(m - k, start + k, end, false, out);
            out.push(self.subtree_root(start, start + k));
        }
    }

    /// MTH(D[start:end]), read from the stored levels where the range is an aligned complete
    /// subtree and computed by splitting otherwise.
    fn subtree_root(&self, start: usize, end: usize) -> Digest {
        let n = end - start;
        if n == 0 {
            return empty_root();
        }
        if n.is_power_of_two() && start.is_multiple_of(n) {
            let level = n.trailing_zeros() as usize;
            return self.levels[level][start >> level];
        }
        let k = split_point(n);
        node_hash(&self.subtree_root(start, start + k), &self.subtree_root(start + k, end))
    }
}

/// A complete subtree of a log: the `2^level` leaves from `index * 2^level`. A log that stores
/// the hash of every complete subtree (written as leaves are appended, see [`append_nodes`])
/// answers any root, inclusion or consistency proof by reading O(log n) of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId {
    /// Height above the leaves (0 for a leaf).
    pub level: u32,
    /// Position among the subtrees of that height.
    pub index: u64,
}

/// Where the hashes of complete subtrees come from: `None` for one the source does not hold.
pub trait NodeSource {
    /// The hash of a complete subtree.
    fn node(&self, id: NodeId) -> Option<Digest>;
}

impl NodeSource for std::collections::HashMap<NodeId, Digest> {
    fn node(&self, id: NodeId) -> Option<Digest> {
        self.get(&id).copied()
    }
}

impl NodeSource for std::collections::BTreeMap<NodeId, Digest> {
    fn node(&self, id: NodeId) -> Option<Digest> {
        self.get(&id).copied()
    }
}

impl NodeSource for MerkleTree {
    fn node(&self, id: NodeId) -> Option<Digest> {
        self.levels.get(id.level as usize)?.get(usize::try_from(id.index).ok()?).copied()
    }
}

/// Records which subtrees an algorithm reads, answering with a placeholder: the proofs' control
/// flow depends on sizes only, so one dry run lists exactly the nodes the real run needs.
struct Recorder(std::cell::RefCell<std::collections::BTreeSet<NodeId>>);

impl NodeSource for Recorder {
    fn node(&self, id: NodeId) -> Option<Digest> {
        self.0.borrow_mut().insert(id);
        Some([0; 32])
    }
}

fn recorded(run: impl FnOnce(&Recorder) -> Result<()>) -> Result<Vec<NodeId>> {
    let r = Recorder(Default::default());
    run(&r)?;
    Ok(r.0.into_inner().into_iter().collect())
}

fn missing(id: NodeId) -> Error {
    Error::Merkle(format!("subtree {} at level {} is not stored", id.index, id.level))
}

/// MTH(D[start:end]) from stored complete subtrees: O(log n) of them for the ranges the RFC 6962
/// recursions visit, whose `start` is a multiple of the largest power of two below `end - start`.
fn range_root(nodes: &impl NodeSource, start: u64, end: u64) -> Result<Digest> {
    let n = end - start;
    if n == 0 {
        return Ok(empty_root());
    }
    if n.is_power_of_two() && start.is_multiple_of(n) {
        let id = NodeId { level: n.trailing_zeros(), index: start >> n.trailing_zeros() };
        return nodes.node(id).ok_or_else(|| missing(id));
    }
    let k = split_point_u64(n);
    Ok(node_hash(&range_root(nodes, start, start + k)?, &range_root(nodes, start + k, end)?))
}

fn split_point_u64(n: u64) -> u64 {
    1 << (u64::BITS - 1 - (n - 1).leading_zeros())
}

/// The root of the first `size` leaves, from stored subtrees.
pub fn root_from(nodes: &impl NodeSource, size: u64) -> Result<Digest> {
    range_root(nodes, 0, size)
}

/// The audit path of leaf `index` in the tree of `size` leaves (RFC 9162 section 2.1.3.1), leaf
/// side first, from stored subtrees: the same path as [`MerkleTree::inclusion_proof`].
pub fn inclusion_proof_from(nodes: &impl NodeSource, index: u64, size: u64) -> Result<Vec<Digest>> {
    if index >= size {
        return Err(Error::Merkle(format!("leaf {index} outside a tree of {size}")));
    }
    let mut path = Vec::new();
    let (mut m, mut start, mut end) = (index, 0, size);
    // Walk down from the root, remembering each sibling; the path lists them leaf side first.
    while end - start > 1 {
        let k = split_point_u64(end - start);
        if m < k {
            path.push(range_root(nodes, start + k, end)?);
            end = start + k;
        } else {
            path.push(range_root(nodes, start, start + k)?);
            start += k;
            m -= k;
        }
    }
    path.reverse();
    Ok(path)
}

/// Proof that the tree of `old_size` leaves is a prefix of the tree of `new_size` leaves (RFC
/// 9162 section 2.1.4.1), from stored subtrees: the same proof as
/// [`MerkleTree::consistency_proof`].
pub fn consistency_proof_from(nodes: &impl NodeSource, old_size: u64, new_size: u64) -> Result<Vec<Digest>> {
    if old_size > new_size {
        return Err(Error::Merkle(format!("no consistency proof from {old_size} to {new_size}")));
    }
    let mut proof = Vec::new();
    if old_size == 0 || old_size == new_size {
        return Ok(proof);
    }
    // SUBPROOF(m, D[start:end], b), iteratively: the pushes after the recursive call come out in
    // reverse, so they are collected and appended in order at the end.
    let (mut m, mut start, mut end, mut complete) = (old_size, 0, new_size, true);
    let mut tail = Vec::new();
    loop {
        let n = end - start;
        if m == n {
            if !complete {
                proof.push(range_root(nodes, start, end)?);
            }
            break;
        }
        let k = split_point_u64(n);
        if m <= k {
            tail.push(range_root(nodes, start + k, end)?);
            end = start + k;
        } else {
            tail.push(range_root(nodes, start, start + k)?);
            start += k;
            m -= k;
            complete = false;
        }
    }
    tail.reverse();
    proof.extend(tail);
    Ok(proof)
}

/// The subtrees [`root_from`] reads for `size`.
pub fn root_nodes(size: u64) -> Result<Vec<NodeId>> {
    recorded(|r| root_from(r, size).map(drop))
}

/// The subtrees [`inclusion_proof_from`] and [`root_from`] read for leaf `index` of `size`.
pub fn inclusion_nodes(index: u64, size: u64) -> Result<Vec<NodeId>> {
    recorded(|r| {
        inclusion_proof_from(r, index, size)?;
        root_from(r, size).map(drop)
    })
}

/// The subtrees [`consistency_proof_from`] and the two roots read for `old_size` to `new_size`.
pub fn consistency_nodes(old_size: u64, new_size: u64) -> Result<Vec<NodeId>> {
    recorded(|r| {
        consistency_proof_from(r, old_size, new_size)?;
        root_from(r, old_size)?;
        root_from(r, new_size).map(drop)
    })
}

/// The stored subtrees appending leaf `index` needs: the left siblings of the subtrees it
/// completes, at most one per level.
pub fn append_reads(index: u64) -> Vec<NodeId> {
    let completed = (index + 1).trailing_zeros();
    (1..=completed).map(|level| NodeId { level: level - 1, index: ((index + 1) >> (level - 1)) - 2 }).collect()
}

/// The subtrees that appending leaf `index` with hash `leaf` completes, the leaf first, given the
/// hashes of [`append_reads`] in its order.
pub fn append_nodes(index: u64, leaf: Digest, left_siblings: &[Digest]) -> Result<Vec<(NodeId, Digest)>> {
    let reads = append_reads(index);
    if left_siblings.len() != reads.len() {
        return Err(Error::Merkle(format!(
            "appending leaf {index} needs {} left siblings, not {}",
            reads.len(),
            left_siblings.len()
        )));
    }
    let mut out = vec![(NodeId { level: 0, index }, leaf)];
    let mut hash = leaf;
    for (level, left) in (1..).zip(left_siblings) {
        hash = node_hash(left, &hash);
        out.push((NodeId { level, index: ((index + 1) >> level) - 1 }, hash));
    }
    Ok(out)
}

/// Every complete subtree of `tree`, for filling a store of subtrees from leaves.
pub fn complete_nodes(tree: &MerkleTree) -> impl Iterator<Item = (NodeId, Digest)> + '_ {
    let size = tree.size();
    tree.levels.iter().enumerate().flat_map(move |(level, hashes)| {
        let complete = (size >> level) as usize;
        hashes[..complete.min(hashes.len())]
            .iter()
            .enumerate()
            .map(move |(i, h)| (NodeId { level: level as u32, index: i as u64 }, *h))
    })
}

/// The largest power of two strictly below `n` (n >= 2).
fn split_point(n: usize) -> usize {
    debug_assert!(n >= 2);
    1 << (usize::BITS - 1 - (n - 1).leading_zeros())
}

/// Checks an audit path (RFC 9162 section 2.1.3.2).
pub fn verify_inclusion(index: u64, size: u64, leaf: &Digest, proof: &[Digest], root: &Digest) -> bool {
    if index >= size {
        return false;
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    s == 0 && r == *root
}

/// Checks a consistency proof between two tree heads (RFC 9162 section 2.1.4.2).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Digest,
    new_root: &Digest,
    proof: &[Digest],
) -> bool {
    if old_size > new_size {
        return false;
    }
    if old_size == new_size {
        return proof.is_empty() && old_root == new_root;
    }
    if old_size == 0 {
        return proof.is_empty();
    }
    let mut path: Vec<Digest> = Vec::with_capacity(proof.len() + 1);
    if old_size.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    let (mut f, mut s) = (old_size - 1, new_size - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    s == 0 && fr == *old_root && sr == *new_root
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn leaves(n: usize) -> Vec<Digest> {
        (0..n).map(|i| leaf_hash(&(i as u64).to_be_bytes())).collect()
    }

    /// The recursive definition of RFC 6962 section 2.1, as a reference.
    fn mth(d: &[Digest]) -> Digest {
        match d.len() {
            0 => empty_root(),
            1 => d[0],
            n => {
                let k = split_point(n);
                node_hash(&mth(&d[..k]), &mth(&d[k..]))
            }
        }
    }

    #[test]
    fn empty_tree_root_is_sha256_of_nothing() {
        assert_eq!(hex::encode(empty_root()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(MerkleTree::from_leaf_hashes(vec![]).root(), empty_root());
    }

    #[test]
    fn level_build_matches_recursive_definition() {
        for n in 1..70 {
            let l = leaves(n);
            assert_eq!(root(&l), mth(&l), "n = {n}");
            assert_eq!(MerkleTree::from_leaf_hashes(l.clone()).root(), mth(&l));
        }
    }

    #[test]
    fn every_inclusion_proof_verifies_and_wrong_ones_fail() {
        for n in 1..40u64 {
            let tree = MerkleTree::from_leaf_hashes(leaves(n as usize));
            let r = tree.root();
            for i in 0..n {
                let p = tree.inclusion_proof(i).unwrap();
                let leaf = tree.leaves()[i as usize];
                assert!(verify_inclusion(i, n, &leaf, &p, &r), "n={n} i={i}");
                assert!(!verify_inclusion(i, n, &leaf_hash(b"other"), &p, &r));
                if n > 1 {
                    assert!(!verify_inclusion((i + 1) % n, n, &leaf, &p, &r));
                }
            }
            assert!(tree.inclusion_proof(n).is_err());
        }
    }

    #[test]
    fn every_consistency_proof_verifies_and_wrong_ones_fail() {
        let tree = MerkleTree::from_leaf_hashes(leaves(33));
        for new in 1..=33u64 {
            let new_root = tree.root_at(new).unwrap();
            for old in 1..=new {
                let old_root = tree.root_at(old).unwrap();
                let p = tree.consistency_proof(old, new).unwrap();
                assert!(verify_consistency(old, new, &old_root, &new_root, &p), "{old}->{new}");
                if old < new {
                    let forged = leaf_hash(b"forged");
                    assert!(!verify_consistency(old, new, &forged, &new_root, &p));
                    assert!(!verify_consistency(old, new, &old_root, &forged, &p));
                }
            }
        }
    }

    #[test]
    fn rfc6962_reference_vectors() {
        #[derive(serde::Deserialize)]
        struct File {
            vectors: Vec<Vector>,
        }
        #[derive(serde::Deserialize)]
        struct Vector {
            leaves: Vec<String>,
            root: String,
        }
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/rfc6962.json");
        let file: File = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        assert!(!file.vectors.is_empty());
        for v in file.vectors {
            let hashed: Vec<Digest> = v.leaves.iter().map(|l| leaf_hash(&hex::decode(l).unwrap())).collect();
            assert_eq!(hex::encode(root(&hashed)), v.root);
        }
    }

    /// Stores every complete subtree the way a log does, one append at a time.
    fn appended(n: u64) -> std::collections::HashMap<NodeId, Digest> {
        let mut store = std::collections::HashMap::new();
        for (i, leaf) in leaves(n as usize).into_iter().enumerate() {
            let i = i as u64;
            let siblings: Vec<Digest> = append_reads(i).iter().map(|id| store[id]).collect();
            store.extend(append_nodes(i, leaf, &siblings).unwrap());
        }
        store
    }

    #[test]
    fn appended_subtrees_are_the_complete_subtrees_of_the_tree() {
        for n in 0..70u64 {
            let tree = MerkleTree::from_leaf_hashes(leaves(n as usize));
            let from_tree: std::collections::HashMap<_, _> = complete_nodes(&tree).collect();
            assert_eq!(appended(n), from_tree, "n = {n}");
        }
    }

    #[test]
    fn proofs_from_a_missing_subtree_fail_cleanly() {
        let mut store = appended(10);
        store.remove(&NodeId { level: 1, index: 4 });
        assert!(root_from(&store, 10).is_err());
        assert!(inclusion_proof_from(&store, 0, 10).is_err());
        assert!(consistency_proof_from(&store, 3, 10).is_err());
    }

    proptest! {
        #[test]
        fn proofs_from_stored_subtrees_equal_the_trees(n in 1u64..600, a in any::<u64>(), b in any::<u64>()) {
            let store = appended(n);
            let tree = MerkleTree::from_leaf_hashes(leaves(n as usize));
            let (index, old) = (a % n, b % (n + 1));
            prop_assert_eq!(root_from(&store, n).unwrap(), tree.root());
            prop_assert_eq!(root_from(&store, old).unwrap(), tree.root_at(old).unwrap());
            prop_assert_eq!(inclusion_proof_from(&store, index, n).unwrap(), tree.inclusion_proof(index).unwrap());
            prop_assert_eq!(consistency_proof_from(&store, old, n).unwrap(), tree.consistency_proof(old, n).unwrap());
            // Each answer reads O(log n) subtrees: the dry runs list them, and the proofs need
            // nothing else.
            let bound = 2 * (64 - n.leading_zeros() as usize) + 2;
            let inc = inclusion_nodes(index, n).unwrap();
            let con = consistency_nodes(old, n).unwrap();
            prop_assert!(inc.len() <= bound, "{} nodes for inclusion in {}", inc.len(), n);
            prop_assert!(con.len() <= 2 * bound, "{} nodes for consistency to {}", con.len(), n);
            let only = |ids: &[NodeId]| ids.iter().map(|id| (*id, store[id])).collect::<std::collections::HashMap<_, _>>();
            prop_assert_eq!(inclusion_proof_from(&only(&inc), index, n).unwrap(), tree.inclusion_proof(index).unwrap());
            prop_assert_eq!(root_from(&only(&inc), n).unwrap(), tree.root());
            let con_only = only(&con);
            prop_assert_eq!(consistency_proof_from(&con_only, old, n).unwrap(), tree.consistency_proof(old, n).unwrap());
            prop_assert_eq!(root_from(&con_only, old).unwrap(), tree.root_at(old).unwrap());
        }
    }

    proptest! {
        #[test]
        fn inclusion_proofs_verify(n in 1usize..2000, seed in any::<u64>()) {
            let tree = MerkleTree::from_leaf_hashes(leaves(n));
            let i = seed % n as u64;
            let p = tree.inclusion_proof(i).unwrap();
            prop_assert!(verify_inclusion(i, n as u64, &tree.leaves()[i as usize], &p, &tree.root()));
        }

        #[test]
        fn consistency_proofs_verify(n in 2usize..2000, seed in any::<u64>()) {
            let tree = MerkleTree::from_leaf_hashes(leaves(n));
            let old = 1 + seed % (n as u64 - 1);
            let p = tree.consistency_proof(old, n as u64).unwrap();
            prop_assert!(verify_consistency(
                old, n as u64, &tree.root_at(old).unwrap(), &tree.root(), &p));
        }
    }
}
