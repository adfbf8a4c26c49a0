//! Snapshots: leaves as the circuit defines them, pages under 1 MiB, manifests that check.

use std::collections::BTreeMap;

use jejak_scoring::snapshot::{self, Header, LEAVES_PER_PAGE, LeafInput, MAX_BLOCK_BYTES, Manifest};
use jejak_scoring::{Error, PlatformTotals};
use jejak_zk_circuits::Fr;

use crate::common::commitment;

fn inputs(n: u64) -> Vec<LeafInput> {
    (0..n)
        .map(|i| LeafInput {
            commitment: commitment(i),
            score: 300 + i % 700,
            gigs: i * 3,
            tier: 1 + i % 5,
            salt: snapshot::salt_from_bytes([(i % 251) as u8; 31]),
        })
        .collect()
}

fn header(epoch: u64) -> Header {
    let mut platforms = BTreeMap::new();
    platforms.insert(1, PlatformTotals { reviews: 3, rating_sum_bp: 27_000, rating_sq_sum: 243_000_000 });
    Header {
        chain_id: 31337,
        epoch,
        as_of: 1_795_564_800,
        as_of_block: 42,
        params_version: 1,
        params_cid: jejak_core::cid::raw_cid(b"params").to_string(),
        depth: 20,
        platforms,
    }
}

#[test]
fn leaves_are_the_circuits_worker_leaves() {
    for i in inputs(5) {
        let want = jejak_zk_circuits::worker_leaf(i.commitment.to_fr(), i.score, i.gigs, i.tier, 9, i.salt);
        assert_eq!(i.leaf(9), want);
    }
}

#[test]
fn pages_stay_under_a_mebibyte_and_rebuild_the_root() {
    let ins = inputs(LEAVES_PER_PAGE as u64 + 3);
    let leaves = snapshot::leaves(4, &ins);
    let built = snapshot::build(header(4), leaves.clone()).unwrap();
    assert_eq!(built.pages.len(), 2);
    assert!(built.pages.iter().all(|(_, b)| b.len() <= MAX_BLOCK_BYTES), "{}", built.pages[0].1.len());
    let m = Manifest::from_bytes(&built.manifest_bytes).unwrap();
    assert_eq!(m, built.manifest);
    assert_eq!(jejak_core::cid::raw_cid(&built.manifest_bytes), built.manifest_cid);
    let mut all = Vec::new();
    for (i, (_, bytes)) in built.pages.iter().enumerate() {
        all.extend(m.read_page(i, bytes).unwrap());
    }
    assert_eq!(all, leaves);
    let tree = m.check_leaves(all).unwrap();
    let theirs = jejak_zk_circuits::PoseidonTree::from_leaves(20, leaves).unwrap();
    assert_eq!(tree.root(), theirs.root());
    let path = tree.path(14_001).unwrap();
    assert!(path.verify(tree.leaves()[14_001], m.root.0));
    assert!(!String::from_utf8_lossy(&built.manifest_bytes).contains("commitment\""), "no commitments published");
}

#[test]
fn tampered_documents_are_refused() {
    let built = snapshot::build(header(2), snapshot::leaves(2, &inputs(10))).unwrap();
    let m = Manifest::from_bytes(&built.manifest_bytes).unwrap();
    let mut page = built.pages[0].1.clone();
    let at = page.len() - 10;
    page[at] = if page[at] == b'0' { b'1' } else { b'0' };
    assert!(matches!(m.read_page(0, &page), Err(Error::Core(_))), "CID mismatch");
    let mut leaves = m.read_page(0, &built.pages[0].1).unwrap();
    leaves[3] += Fr::from(1u64);
    assert!(m.check_leaves(leaves).is_err());
    let mut forged = m.clone();
    forged.count += 1;
    assert!(Manifest::from_bytes(&forged.to_bytes()).is_err());
    let text = String::from_utf8(built.manifest_bytes.clone()).unwrap().replace("\"epoch\":2", "\"epoch\":3");
    let other = Manifest::from_bytes(text.as_bytes()).unwrap();
    assert!(other.read_page(0, &built.pages[0].1).is_err(), "a page of epoch 2 is not a page of epoch 3");
}
