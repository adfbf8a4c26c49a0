//! End to end: setup, prove, verify, with both reductions; batch verification.

use ark_bn254::Bn254;
use ark_groth16::Proof;
use jejak_prover::{Prover, Reduction, Verifier};
use jejak_zk_circuits::{Fr, PublicInputs};

use crate::common::{Epoch, prover, requirement, rng, valid_proof};

#[test]
fn setup_prove_verify_with_each_reduction() {
    for reduction in [Reduction::Libsnark, Reduction::Circom] {
        let (_, public, proof) = valid_proof(reduction);
        let verifier = Verifier::new(&prover(reduction).verifying_key().key).unwrap();
        assert!(verifier.verify(&proof, &public).unwrap(), "{reduction:?}");
        // The matrices cached by the prover are what an honest witness satisfies.
        let p = prover(reduction);
        let epoch = Epoch::new(7);
        let (statement, witness) = epoch.statement(6, &requirement(42));
        let z = p.assignment(&statement.public_inputs().unwrap(), &witness).unwrap();
        assert!(p.shape().is_satisfied(&z));
    }
}

#[test]
fn proving_with_the_wrong_reduction_for_a_key_fails() {
    // A circom-reduction key mislabelled as libsnark: the witness map no longer matches the key's
    // H query and the proof is invalid. This is why keys record their reduction (import-zkey
    // marks snarkjs keys as circom).
    let right = prover(Reduction::Circom);
    let mut file = right.key_file().clone();
    file.info.reduction = Reduction::Libsnark;
    let wrong = Prover::new(file).unwrap();
    let (statement, witness) = Epoch::new(7).statement(6, &requirement(42));
    let public = statement.public_inputs().unwrap();
    let verifier = Verifier::new(&right.verifying_key().key).unwrap();
    assert!(verifier.verify(&right.prove(&public, &witness, &mut rng(1)).unwrap(), &public).unwrap());
    assert!(!verifier.verify(&wrong.prove(&public, &witness, &mut rng(1)).unwrap(), &public).unwrap());
}

#[test]
fn proofs_are_randomised_and_deterministic_under_a_seed() {
    let p = prover(Reduction::Libsnark);
    let (statement, witness) = Epoch::new(7).statement(6, &requirement(42));
    let public = statement.public_inputs().unwrap();
    let a = p.prove(&public, &witness, &mut rng(5)).unwrap();
    let b = p.prove(&public, &witness, &mut rng(5)).unwrap();
    let c = p.prove(&public, &witness, &mut rng(6)).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c, "two proofs of one statement must not be linkable by their bytes");
}

fn batch(n: usize) -> Vec<(Proof<Bn254>, PublicInputs)> {
    let p = prover(Reduction::Libsnark);
    let epoch = Epoch::new(7);
    (0..n)
        .map(|i| {
            let worker = [4, 6, 7, 8, 9][i % 5]; // the workers who meet the requirement
            let (statement, witness) = epoch.statement(worker, &requirement(i as u64));
            let public = statement.public_inputs().unwrap();
            (p.prove(&public, &witness, &mut rng(100 + i as u64)).unwrap(), public)
        })
        .collect()
}

#[test]
fn batch_verification_accepts_valid_batches_and_rejects_any_bad_proof() {
    let verifier = Verifier::new(&prover(Reduction::Libsnark).verifying_key().key).unwrap();
    let good = batch(6);
    assert!(verifier.verify_batch(&[], &mut rng(1)).unwrap());
    assert!(verifier.verify_batch(&good[..1], &mut rng(1)).unwrap());
    assert!(verifier.verify_batch(&good, &mut rng(1)).unwrap());
    for i in [0, 3, 5] {
        let mut bad = good.clone();
        bad[i].1.nullifier += Fr::from(1u64);
        assert!(!verifier.verify_batch(&bad, &mut rng(2)).unwrap(), "bad public input at {i}");
        let mut swapped = good.clone();
        swapped[i].0.c = good[(i + 1) % good.len()].0.c;
        assert!(!verifier.verify_batch(&swapped, &mut rng(3)).unwrap(), "bad proof at {i}");
    }
    // Two wrong proofs that would cancel in an unweighted sum are still caught.
    let mut pair = good.clone();
    let (c0, c1) = (pair[0].0.c, pair[1].0.c);
    pair[0].0.c = c1;
    pair[1].0.c = c0;
    assert!(!verifier.verify_batch(&pair, &mut rng(4)).unwrap());
}

#[test]
fn the_fast_prover_makes_arkworks_proofs() {
    use ark_bn254::Bn254;
    use ark_groth16::{Groth16, r1cs_to_qap::LibsnarkReduction};
    use jejak_prover::qap::CircomReduction;
    let (statement, witness) = Epoch::new(7).statement(6, &requirement(42));
    let public = statement.public_inputs().unwrap();
    for reduction in [Reduction::Libsnark, Reduction::Circom] {
        let p = prover(reduction);
        // The same key with window tables (the node's resident prover) makes the same proofs.
        let tabled = jejak_prover::Prover::with_tables(p.key_file().clone()).unwrap();
        let z = p.assignment(&public, &witness).unwrap();
        let (shape, pk) = (p.shape(), &p.key_file().key);
        let (m, n_in, n_c) = (&shape.matrices[..], shape.num_instance, shape.num_constraints);
        for (r, s) in
            [(Fr::from(3u64), Fr::from(5u64)), (Fr::from(0u64), Fr::from(7u64)), (-Fr::from(9u64), Fr::from(0u64))]
        {
            let ours = p.prove_assignment(&z, r, s).unwrap();
            let theirs = match reduction {
                Reduction::Libsnark => Groth16::<Bn254, LibsnarkReduction>::create_proof_with_reduction_and_matrices(
                    pk, r, s, m, n_in, n_c, &z,
                ),
                Reduction::Circom => Groth16::<Bn254, CircomReduction>::create_proof_with_reduction_and_matrices(
                    pk, r, s, m, n_in, n_c, &z,
                ),
            }
            .unwrap();
            assert_eq!(ours, theirs, "{reduction:?}, r = {r}, s = {s}");
            assert_eq!(
                tabled.prove_assignment(&z, r, s).unwrap(),
                theirs,
                "{reduction:?} with tables, r = {r}, s = {s}"
            );
        }
    }
}
