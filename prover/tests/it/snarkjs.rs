//! snarkjs checks our exported files: `snarkjs groth16 verify` accepts a proof and rejects a
//! tampered one. snarkjs must be installed (`npm ci`); the test fails, never skips, without it.

use jejak_prover::{
    Reduction,
    snarkjs::{proof_from_json, proof_to_json, public_from_json, public_to_json, vk_from_json, vk_to_json, write_dir},
};
use jejak_zk_circuits::Fr;

use crate::common::{prover, run_snarkjs, valid_proof};

#[test]
fn snarkjs_verifies_exported_proofs_and_rejects_tampered_ones() {
    for reduction in [Reduction::Libsnark, Reduction::Circom] {
        let dir = tempfile::tempdir().unwrap();
        let (_, public, proof) = valid_proof(reduction);
        let vk = prover(reduction).verifying_key().key;
        write_dir(dir.path(), &vk, &proof, &public).unwrap();
        let (ok, out) =
            run_snarkjs(dir.path(), &["groth16", "verify", "verification_key.json", "public.json", "proof.json"]);
        assert!(ok && out.contains("OK!"), "snarkjs rejected a valid {reduction:?} proof:\n{out}");

        let mut tampered = public;
        tampered.challenge += Fr::from(1u64);
        let other = tempfile::tempdir().unwrap();
        write_dir(other.path(), &vk, &proof, &tampered).unwrap();
        let (ok, out) =
            run_snarkjs(other.path(), &["groth16", "verify", "verification_key.json", "public.json", "proof.json"]);
        assert!(!ok && out.contains("Invalid proof"), "snarkjs accepted a tampered proof:\n{out}");
    }
}

#[test]
fn json_round_trips() {
    let (_, public, proof) = valid_proof(Reduction::Libsnark);
    let vk = prover(Reduction::Libsnark).verifying_key().key;
    assert_eq!(vk_from_json(&vk_to_json(&vk)).unwrap(), vk);
    assert_eq!(proof_from_json(&proof_to_json(&proof)).unwrap(), proof);
    assert_eq!(public_from_json(&public_to_json(&public)).unwrap(), public);
    // A point off the curve is refused.
    let mut bad = proof_to_json(&proof);
    bad["pi_a"][1] = "1".into();
    assert!(proof_from_json(&bad).is_err());
    let mut bad = proof_to_json(&proof);
    bad["protocol"] = "plonk".into();
    assert!(proof_from_json(&bad).is_err());
}
