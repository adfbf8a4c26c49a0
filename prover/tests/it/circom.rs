//! circom's formats with snarkjs: the exported `.r1cs`, a `.wtns` of our witness, and a phase-2
//! `.zkey` made by snarkjs from our `.r1cs`, imported and proven from (snarkjs' reduction), with
//! snarkjs and our verifier agreeing both ways.

use std::{path::Path, sync::OnceLock};

use jejak_prover::{
    Error, Prover, Verifier,
    circom::{import_zkey, num_private_inputs, r1cs_bytes, wtns_bytes},
    keys::{KeyOrigin, Reduction},
    shape::CircuitShape,
    snarkjs::{proof_from_json, public_from_json, write_dir},
};

use crate::common::{DEPTH, Epoch, prover, requirement, rng, run_snarkjs};

/// A directory with `circuit.r1cs` (depth 4), a power-12 powers of tau, and `circuit.zkey` from
/// `snarkjs groth16 setup` plus one contribution. Made once per test binary (about a minute).
fn ceremony() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let shape = CircuitShape::get(DEPTH).unwrap();
        std::fs::write(dir.path().join("circuit.r1cs"), r1cs_bytes(&shape)).unwrap();
        let steps: [&[&str]; 6] = [
            &["powersoftau", "new", "bn128", "12", "pot_0.ptau"],
            &["powersoftau", "contribute", "pot_0.ptau", "pot_1.ptau", "--name=test", "-e=jejak test entropy"],
            &["powersoftau", "prepare", "phase2", "pot_1.ptau", "pot_final.ptau"],
            &["groth16", "setup", "circuit.r1cs", "pot_final.ptau", "circuit_0.zkey"],
            &["zkey", "contribute", "circuit_0.zkey", "circuit.zkey", "--name=test", "-e=more entropy"],
            &["zkey", "export", "verificationkey", "circuit.zkey", "snarkjs_vk.json"],
        ];
        for args in steps {
            let (ok, out) = run_snarkjs(dir.path(), args);
            assert!(ok, "snarkjs {args:?} failed:\n{out}");
        }
        dir
    })
    .path()
}

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

#[test]
fn zkey_import_proves_with_snarkjs_reduction_and_both_sides_agree() {
    let dir = ceremony();
    let zkey = std::fs::read(dir.join("circuit.zkey")).unwrap();
    let imported = import_zkey(&zkey).unwrap();
    assert_eq!(imported.info.reduction, Reduction::Circom);
    assert_eq!(imported.info.depth, DEPTH);
    assert!(matches!(imported.info.origin, KeyOrigin::Zkey { .. }));
    let p = Prover::new(imported).unwrap();

    // Our proof from the zkey: our verifier and snarkjs (with its own export of the key) accept.
    let (statement, witness) = Epoch::new(7).statement(6, &requirement(42));
    let public = statement.public_inputs().unwrap();
    let proof = p.prove(&public, &witness, &mut rng(21)).unwrap();
    let vk = p.verifying_key().key;
    assert!(Verifier::new(&vk).unwrap().verify(&proof, &public).unwrap());
    let out_dir = dir.join("ours");
    write_dir(&out_dir, &vk, &proof, &public).unwrap();
    let (ok, out) = run_snarkjs(dir, &["groth16", "verify", "snarkjs_vk.json", "ours/public.json", "ours/proof.json"]);
    assert!(ok && out.contains("OK!"), "snarkjs rejected our proof from its zkey:\n{out}");

    // snarkjs' proof from the same zkey and our witness: our verifier accepts it.
    let z = p.assignment(&public, &witness).unwrap();
    std::fs::write(dir.join("w.wtns"), wtns_bytes(&z)).unwrap();
    let (ok, out) =
        run_snarkjs(dir, &["groth16", "prove", "circuit.zkey", "w.wtns", "sj_proof.json", "sj_public.json"]);
    assert!(ok, "{out}");
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap()
    };
    let sj_proof = proof_from_json(&read("sj_proof.json")).unwrap();
    let sj_public = public_from_json(&read("sj_public.json")).unwrap();
    assert_eq!(sj_public, public);
    assert!(Verifier::new(&vk).unwrap().verify(&sj_proof, &sj_public).unwrap());
    // And snarkjs' own verification key is the one we imported.
    assert_eq!(jejak_prover::snarkjs::vk_from_json(&read("snarkjs_vk.json")).unwrap(), vk);
}

#[test]
fn a_zkey_for_another_circuit_is_refused() {
    let dir = ceremony();
    let mut zkey = std::fs::read(dir.join("circuit.zkey")).unwrap();
    // Find section 4 (coefficients) and change the first coefficient's value.
    let mut pos = 12;
    loop {
        let id = u32::from_le_bytes(zkey[pos..pos + 4].try_into().unwrap());
        let len = u64::from_le_bytes(zkey[pos + 4..pos + 12].try_into().unwrap()) as usize;
        if id == 4 {
            let first_value = pos + 12 + 4 + 12;
            zkey[first_value] ^= 1;
            break;
        }
        pos += 12 + len;
    }
    assert!(matches!(import_zkey(&zkey), Err(Error::CircuitMismatch(_))));
    assert!(import_zkey(b"zkey but not really").is_err());
}
