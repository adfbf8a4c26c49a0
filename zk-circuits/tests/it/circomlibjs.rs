//! Native Poseidon and the tree against circomlibjs 0.1.7, run by node from the repository's
//! node_modules. No skipping: a missing node or package fails the test.

use std::{
    io::Write,
    process::{Command, Stdio},
};

use jejak_zk_circuits::link::link_key_of;
use jejak_zk_circuits::{
    Fr, PoseidonTree, fr_from_decimal, fr_to_decimal, identity_commitment, nullifier, poseidon::hash, worker_leaf,
};
use serde_json::json;

use crate::common::{random_fr, rng};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/circomlibjs_hashes.mjs");

/// Sends `request` to the node script and returns its JSON answer.
fn circomlibjs(request: &serde_json::Value) -> serde_json::Value {
    let mut child = Command::new("node")
        .arg(SCRIPT)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running `node` (Node.js must be installed for this test)");
    child.stdin.take().unwrap().write_all(request.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "circomlibjs script failed (is circomlibjs installed in node_modules? run `npm ci`): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn dec(values: &[Fr]) -> Vec<String> {
    values.iter().map(fr_to_decimal).collect()
}

#[test]
fn native_poseidon_matches_circomlibjs() {
    let mut rng = rng(11);
    let mut inputs: Vec<Vec<Fr>> = Vec::new();
    for n in 1..=12 {
        for _ in 0..3 {
            inputs.push((0..n).map(|_| random_fr(&mut rng)).collect());
        }
    }
    inputs.push(vec![Fr::from(1u64), Fr::from(2u64)]);
    inputs.push(vec![Fr::from(0u64)]);
    inputs.push(vec![-Fr::from(1u64); 6]);

    // The statement's own hashes, computed the way the node computes them.
    let secret = random_fr(&mut rng);
    let salt = random_fr(&mut rng);
    let scope = random_fr(&mut rng);
    let commitment = identity_commitment(secret);
    let leaf = worker_leaf(commitment, 812, 140, 4, 9, salt);
    let inner = hash(&[secret]);
    inputs.push(vec![secret]);
    inputs.push(vec![inner, link_key_of(&secret)]);
    inputs.push(vec![commitment, Fr::from(812u64), Fr::from(140u64), Fr::from(4u64), Fr::from(9u64), salt]);
    inputs.push(vec![secret, scope]);

    let leaves: Vec<Fr> = (0..11).map(|_| random_fr(&mut rng)).collect();
    let tree = PoseidonTree::from_leaves(5, leaves.clone()).unwrap();

    let request = json!({
        "hashes": inputs.iter().map(|i| dec(i)).collect::<Vec<_>>(),
        "tree": { "depth": 5, "leaves": dec(&leaves) },
    });
    let answer = circomlibjs(&request);
    let hashes = answer["hashes"].as_array().unwrap();
    assert_eq!(hashes.len(), inputs.len());
    for (input, theirs) in inputs.iter().zip(hashes) {
        let theirs = fr_from_decimal(theirs.as_str().unwrap()).unwrap();
        assert_eq!(hash(input), theirs, "Poseidon({}) differs from circomlibjs", input.len());
    }
    let n = inputs.len();
    assert_eq!(fr_from_decimal(hashes[n - 4].as_str().unwrap()).unwrap(), inner);
    assert_eq!(fr_from_decimal(hashes[n - 3].as_str().unwrap()).unwrap(), commitment);
    assert_eq!(fr_from_decimal(hashes[n - 2].as_str().unwrap()).unwrap(), leaf);
    assert_eq!(fr_from_decimal(hashes[n - 1].as_str().unwrap()).unwrap(), nullifier(secret, scope));
    assert_eq!(fr_from_decimal(answer["tree_root"].as_str().unwrap()).unwrap(), tree.root());
}
