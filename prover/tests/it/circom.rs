//! circom's formats with snarkjs: the exported `.r1cs` and a `.wtns` of our witness. The phase-2
//! `.zkey` import (and every test that needs a ceremony) is in the end-to-end tests
//! (`tests/it/ceremony.rs`), which share one small ceremony.

use jejak_prover::{
    circom::{num_private_inputs, r1cs_bytes, wtns_bytes},
    keys::Reduction,
    shape::CircuitShape,
};

use crate::common::{DEPTH, Epoch, prover, requirement, run_snarkjs};

#[test]
fn snarkjs_reads_the_exported_r1cs() {
    let dir = tempfile::tempdir().unwrap();
    let shape = CircuitShape::get(DEPTH).unwrap();
    std::fs::write(dir.path().join("c.r1cs"), r1cs_bytes(&shape)).unwrap();
    let (ok, out) = run_snarkjs(dir.path(), &["r1cs", "info", "c.r1cs"]);
    assert!(ok, "{out}");
    for expected in [
        format!("# of Wires: {}", shape.num_variables()),
        format!("# of Constraints: {}", shape.num_constraints),
        format!("# of Private Inputs: {}", num_private_inputs(DEPTH)),
        "# of Public Inputs: 5".to_owned(),
        "# of Outputs: 0".to_owned(),
    ] {
        assert!(out.contains(&expected), "missing `{expected}` in:\n{out}");
    }
}

#[test]
fn snarkjs_checks_our_witness_against_our_r1cs() {
    let dir = tempfile::tempdir().unwrap();
    let p = prover(Reduction::Libsnark);
    std::fs::write(dir.path().join("c.r1cs"), r1cs_bytes(p.shape())).unwrap();
    let (statement, witness) = Epoch::new(7).statement(6, &requirement(42));
    let z = p.assignment(&statement.public_inputs().unwrap(), &witness).unwrap();
    std::fs::write(dir.path().join("good.wtns"), wtns_bytes(&z)).unwrap();
    let (ok, out) = run_snarkjs(dir.path(), &["wtns", "check", "c.r1cs", "good.wtns"]);
    assert!(ok && out.contains("WITNESS IS CORRECT"), "{out}");

    let mut bad = z.clone();
    let k = bad.len() / 2;
    bad[k] += jejak_zk_circuits::Fr::from(1u64);
    std::fs::write(dir.path().join("bad.wtns"), wtns_bytes(&bad)).unwrap();
    let (ok, out) = run_snarkjs(dir.path(), &["wtns", "check", "c.r1cs", "bad.wtns"]);
    assert!(!ok || !out.contains("WITNESS IS CORRECT"), "a tampered witness passed:\n{out}");
}
