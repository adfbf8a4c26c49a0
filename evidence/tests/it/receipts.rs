//! Evidence leaves in an RFC 6962 log, receipts that verify offline, and any altered byte that
//! does not.

use jejak_core::merkle::{MerkleTree, leaf_hash, verify_consistency};
use jejak_evidence::{
    Anchor, AnchoredRoot, EvidenceLeaf, EvidenceReceipt, ReasonCode, check_anchor, verify_receipt,
    verify_receipt_metadata,
};

use crate::support::*;

const ANCHOR: Anchor = Anchor { chain_id: 80002, contract: [0x5a; 20], tx_hash: [0xc3; 32], block_number: 12_345_678 };

fn chain_view(r: &EvidenceReceipt) -> AnchoredRoot {
    AnchoredRoot {
        chain_id: ANCHOR.chain_id,
        contract: ANCHOR.contract,
        tx_hash: ANCHOR.tx_hash,
        block_number: ANCHOR.block_number,
        root: r.root,
        size: r.tree_size,
    }
}

/// A log of `size` leaves with `file`'s leaf at `index`, and the receipt for it.
fn logged(file: &[u8], index: usize, size: usize) -> (EvidenceReceipt, MerkleTree) {
    let a = analyze_ok(file);
    let leaf = a.leaf();
    let mut leaves: Vec<_> = (0..size as u64).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    leaves[index] = leaf.hash();
    let tree = MerkleTree::from_leaf_hashes(leaves);
    (EvidenceReceipt::issue(&tree, index as u64, leaf, Some(ANCHOR)).unwrap(), tree)
}

#[test]
fn leaf_is_the_rfc6962_hash_of_salt_file_hash_metadata_hash() {
    let leaf = EvidenceLeaf { salt: [1; 32], file_sha256: [2; 32], metadata_hash: [3; 32] };
    let mut input = vec![1u8; 32];
    input.extend([2u8; 32]);
    input.extend([3u8; 32]);
    assert_eq!(leaf.input().to_vec(), input);
    assert_eq!(leaf.hash(), leaf_hash(&input));
    let a = EvidenceLeaf::with_random_salt([2; 32], [3; 32]);
    let b = EvidenceLeaf::with_random_salt([2; 32], [3; 32]);
    assert_ne!(a.salt, b.salt);
}

#[test]
fn log_of_evidence_leaves_matches_the_rfc6962_vectors() {
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
        let leaves: Vec<_> = v.leaves.iter().map(|l| leaf_hash(&hex::decode(l).unwrap())).collect();
        let tree = MerkleTree::from_leaf_hashes(leaves.clone());
        assert_eq!(hex::encode(tree.root()), v.root);
        for (i, l) in leaves.iter().enumerate() {
            let path = tree.inclusion_proof(i as u64).unwrap();
            assert!(jejak_core::merkle::verify_inclusion(i as u64, tree.size(), l, &path, &tree.root()));
        }
    }
}

#[test]
fn receipt_verifies_offline_for_photos_and_tracks() {
    for (file, index, size) in
        [(honest_photo(1, 20).jpeg(), 0, 1), (honest_photo(2, 20).jpeg(), 677, 1000), (honest_track(), 4, 5)]
    {
        let (r, _) = logged(&file, index, size);
        assert_eq!(verify_receipt(&file, &r), Ok(()));
        assert_eq!(check_anchor(&r, &chain_view(&r)), Ok(()));
        assert_eq!(verify_receipt_metadata(&analyze_ok(&file).metadata, &r), Ok(()));
        // Through JSON, as the CLI reads it.
        let json = serde_json::to_string_pretty(&r).unwrap();
        let back: EvidenceReceipt = serde_json::from_str(&json).unwrap();
        assert_eq!(verify_receipt(&file, &back), Ok(()));
    }
}

#[test]
fn receipt_survives_log_growth_through_consistency() {
    let file = honest_photo(1, 20).jpeg();
    let (r, tree) = logged(&file, 10, 100);
    // The log grows to 250 leaves and is anchored again; the old receipt still holds and the new
    // head provably extends the old one.
    let mut leaves = tree.leaves().to_vec();
    leaves.extend((100..250u64).map(|i| leaf_hash(&i.to_be_bytes())));
    let grown = MerkleTree::from_leaf_hashes(leaves);
    let proof = grown.consistency_proof(r.tree_size, grown.size()).unwrap();
    assert!(verify_consistency(r.tree_size, grown.size(), &r.root, &grown.root(), &proof));
    assert_eq!(verify_receipt(&file, &r), Ok(()));
}

#[test]
fn any_altered_byte_of_the_file_fails() {
    let file = honest_track();
    let (r, _) = logged(&file, 3, 17);
    for i in 0..file.len() {
        let mut altered = file.clone();
        altered[i] ^= 1 << (i % 8);
        assert_eq!(verify_receipt(&altered, &r), Err(ReasonCode::ReceiptFileMismatch), "byte {i}");
    }
    assert_eq!(verify_receipt(&file[..file.len() - 1], &r), Err(ReasonCode::ReceiptFileMismatch));
}

/// A different character of the same kind, so the JSON stays well-formed where it can.
fn substitute(b: u8) -> u8 {
    match b {
        b'0'..=b'8' | b'a'..=b'e' => b + 1,
        b'9' => b'0',
        b'f' => b'a',
        b'g'..=b'y' | b'A'..=b'Y' => b + 1,
        b'z' => b'g',
        _ => b'z',
    }
}

#[test]
fn any_altered_byte_of_the_receipt_fails() {
    let file = honest_photo(1, 20).jpeg();
    let (r, _) = logged(&file, 5, 8);
    let json = serde_json::to_vec(&r).unwrap();
    let chain = chain_view(&r);
    let mut checked = 0;
    for i in 0..json.len() {
        for altered_byte in [substitute(json[i]), b'Z'] {
            assert_ne!(altered_byte, json[i]);
            let mut altered = json.clone();
            altered[i] = altered_byte;
            let Ok(receipt) = serde_json::from_slice::<EvidenceReceipt>(&altered) else {
                continue;
            };
            checked += 1;
            let offline = verify_receipt(&file, &receipt);
            let on_chain = check_anchor(&receipt, &chain);
            assert!(
                offline.is_err() || on_chain.is_err(),
                "byte {i} changed to {:?} still verifies: {}",
                altered_byte as char,
                String::from_utf8_lossy(&altered)
            );
        }
    }
    // Most alterations still parse, so the checks above did the rejecting.
    assert!(checked > json.len() / 2, "only {checked} altered receipts parsed");
}

#[test]
fn each_part_of_the_receipt_has_its_failure() {
    let file = honest_photo(1, 20).jpeg();
    let (r, _) = logged(&file, 5, 8);
    let chain = chain_view(&r);

    let mut x = r.clone();
    x.version = 2;
    assert_eq!(verify_receipt(&file, &x), Err(ReasonCode::ReceiptVersionUnsupported));
    let mut x = r.clone();
    x.salt[0] ^= 1;
    assert_eq!(verify_receipt(&file, &x), Err(ReasonCode::ReceiptInclusionInvalid));
    let mut x = r.clone();
    x.metadata_hash[31] ^= 1;
    assert_eq!(verify_receipt(&file, &x), Err(ReasonCode::ReceiptInclusionInvalid));
    assert_eq!(verify_receipt_metadata(&analyze_ok(&file).metadata, &x), Err(ReasonCode::ReceiptMetadataMismatch));
    let mut x = r.clone();
    x.inclusion_path.pop();
    assert_eq!(verify_receipt(&file, &x), Err(ReasonCode::ReceiptInclusionInvalid));
    let mut x = r.clone();
    x.leaf_index = 4;
    assert_eq!(verify_receipt(&file, &x), Err(ReasonCode::ReceiptInclusionInvalid));
    // Index 5 of 8 and of 7 have the same path shape: only the chain tells the sizes apart.
    let mut x = r.clone();
    x.tree_size = 7;
    assert_eq!(check_anchor(&x, &chain), Err(ReasonCode::ReceiptAnchorMismatch));
    let mut x = r.clone();
    x.anchor.as_mut().unwrap().block_number += 1;
    assert_eq!(check_anchor(&x, &chain), Err(ReasonCode::ReceiptAnchorMismatch));
    let mut x = r.clone();
    x.anchor = None;
    assert_eq!(check_anchor(&x, &chain), Err(ReasonCode::ReceiptAnchorMismatch));
    // A receipt for a leaf the log does not hold cannot be issued.
    let (_, tree) = logged(&file, 5, 8);
    let stranger = EvidenceLeaf::with_random_salt([9; 32], [9; 32]);
    assert!(EvidenceReceipt::issue(&tree, 5, stranger, None).is_err());
}
