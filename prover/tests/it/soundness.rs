//! Every way of cheating, natively, against real proofs: the verifier or the gate refuses each.
//! (The same list runs on chain in contracts/test/JejakProofVerifier.t.sol.)

use ark_bn254::Bn254;
use ark_groth16::Groth16;
use jejak_prover::{
    ProofGate, Reduction, Rejection, Verifier,
    bundle::ProofBundle,
    snarkjs::{proof_from_json, proof_to_json, public_from_json},
};
use jejak_zk_circuits::{Error as CircuitError, Fr, Requirement, Statement, field::MODULUS_DECIMAL, scope};
use num_bigint::BigUint;

use crate::common::{CHAIN_ID, CONSUMER, CONTEXT, Epoch, VERIFIER, prover, requirement, rng, valid_proof};

fn verifier() -> Verifier {
    Verifier::new(&prover(Reduction::Libsnark).verifying_key().key).unwrap()
}

fn gate() -> ProofGate {
    ProofGate::new(verifier(), scope(CHAIN_ID, VERIFIER, CONSUMER, CONTEXT))
}

/// The chain as the gate sees it: epoch 7's root is current, epoch 6's expired.
fn accepted(epoch: u64, root: Fr) -> bool {
    epoch == 7 && root == Epoch::new(7).tree.root()
}

fn verifies(statement: &Statement, proof: &ark_groth16::Proof<Bn254>) -> bool {
    verifier().verify(proof, &statement.public_inputs().unwrap()).unwrap()
}

#[test]
fn honest_proof_passes_the_gate_once() {
    let (statement, _, proof) = valid_proof(Reduction::Libsnark);
    let mut gate = gate();
    gate.check(&proof, &statement, accepted).unwrap();
    assert!(!gate.is_used(&statement.nullifier), "check must not consume");
    gate.consume(&proof, &statement, accepted).unwrap();
    assert!(gate.is_used(&statement.nullifier));
}

#[test]
fn wrong_root() {
    let (mut statement, _, proof) = valid_proof(Reduction::Libsnark);
    statement.root += Fr::from(1u64);
    assert!(!verifies(&statement, &proof));
    assert_eq!(gate().check(&proof, &statement, accepted), Err(Rejection::RootNotAccepted { epoch: 7 }));
    // A published root the proof was not made for passes the roots check and fails the proof.
    let (mut statement, _, proof) = valid_proof(Reduction::Libsnark);
    statement.root = Epoch::new(6).tree.root();
    assert!(!verifies(&statement, &proof));
    assert_eq!(gate().check(&proof, &statement, |_, _| true), Err(Rejection::InvalidProof));
}

#[test]
fn expired_root() {
    // A valid proof against epoch 6, whose root the chain no longer accepts.
    let old = Epoch::new(6);
    let (statement, witness) = old.statement(6, &requirement(42));
    let proof = prover(Reduction::Libsnark).prove(&statement.public_inputs().unwrap(), &witness, &mut rng(9)).unwrap();
    assert!(verifies(&statement, &proof), "the proof itself is fine");
    assert_eq!(gate().check(&proof, &statement, accepted), Err(Rejection::RootNotAccepted { epoch: 6 }));
}

#[test]
fn score_below_threshold() {
    let epoch = Epoch::new(7);
    // The prover refuses outright, naming the condition.
    let too_high = Requirement { min_score: 731, ..requirement(42) };
    let err = prover(Reduction::Libsnark)
        .prove_record(&epoch.records[6], &epoch.path(6), &too_high, &mut rng(1))
        .unwrap_err();
    assert!(matches!(&err, jejak_prover::Error::Circuit(CircuitError::Unsatisfied(m)) if m.contains("score")), "{err}");
    // A proof of ">= 700" is no proof of ">= 731".
    let (mut statement, _, proof) = valid_proof(Reduction::Libsnark);
    statement.min_score = 731;
    assert!(!verifies(&statement, &proof));
    assert_eq!(gate().check(&proof, &statement, accepted), Err(Rejection::InvalidProof));
}

#[test]
fn gigs_below_minimum() {
    let epoch = Epoch::new(7);
    let too_many = Requirement { min_gigs: 65, ..requirement(42) };
    let err = prover(Reduction::Libsnark)
        .prove_record(&epoch.records[6], &epoch.path(6), &too_many, &mut rng(1))
        .unwrap_err();
    assert!(matches!(&err, jejak_prover::Error::Circuit(CircuitError::Unsatisfied(m)) if m.contains("gigs")), "{err}");
    let (mut statement, _, proof) = valid_proof(Reduction::Libsnark);
    statement.min_gigs = 65;
    assert_eq!(gate().check(&proof, &statement, accepted), Err(Rejection::InvalidProof));
    let (mut statement, _, proof) = valid_proof(Reduction::Libsnark);
    statement.min_tier = 3;
    assert_eq!(gate().check(&proof, &statement, accepted), Err(Rejection::InvalidProof));
}

#[test]
fn wrong_nullifier() {
    let (mut statement, _, proof) = valid_proof(Reduction::Libsnark);
    statement.nullifier += Fr::from(1u64);
    assert!(!verifies(&statement, &proof));
    assert_eq!(gate().check(&proof, &statement, accepted), Err(Rejection::InvalidProof));
}

#[test]
fn nullifier_reused() {
    let (statement, _, proof) = valid_proof(Reduction::Libsnark);
    let mut gate = gate();
    gate.consume(&proof, &statement, accepted).unwrap();
    assert!(matches!(gate.consume(&proof, &statement, accepted), Err(Rejection::NullifierAlreadyUsed { .. })));
    // The same worker proving again (another challenge, fresh randomness) has the same nullifier.
    let epoch = Epoch::new(7);
    let (again, proof2) = prover(Reduction::Libsnark)
        .prove_record(&epoch.records[6], &epoch.path(6), &requirement(43), &mut rng(77))
        .unwrap();
    assert_eq!(again.nullifier, statement.nullifier);
    assert!(matches!(gate.consume(&proof2, &again, accepted), Err(Rejection::NullifierAlreadyUsed { .. })));
    // Another worker is not blocked.
    let (other, proof3) = prover(Reduction::Libsnark)
        .prove_record(&epoch.records[8], &epoch.path(8), &requirement(44), &mut rng(78))
        .unwrap();
    gate.consume(&proof3, &other, accepted).unwrap();
}

#[test]
fn scope_of_another_verifier() {
    // A proof made for another verifier's scope: the gate refuses the scope, and the proof does
    // not verify for this gate's scope either.
    let epoch = Epoch::new(7);
    let elsewhere = Requirement { scope: scope(CHAIN_ID, [0x33; 20], CONSUMER, CONTEXT), ..requirement(42) };
    let (statement, proof) =
        prover(Reduction::Libsnark).prove_record(&epoch.records[6], &epoch.path(6), &elsewhere, &mut rng(3)).unwrap();
    assert!(verifies(&statement, &proof));
    assert_eq!(gate().check(&proof, &statement, accepted), Err(Rejection::WrongScope));
    let mut here = statement;
    here.scope = scope(CHAIN_ID, VERIFIER, CONSUMER, CONTEXT);
    assert!(!verifies(&here, &proof));
    // And the two scopes give the worker unlinkable nullifiers.
    let (home, _, _) = valid_proof(Reduction::Libsnark);
    assert_ne!(home.nullifier, statement.nullifier);
}

#[test]
fn public_input_at_or_above_the_modulus() {
    let (statement, _, proof) = valid_proof(Reduction::Libsnark);
    let vk_hash = prover(Reduction::Libsnark).verifying_key().key_hash().unwrap();
    let bundle = ProofBundle::new(4, vk_hash, &statement, &proof).unwrap();
    bundle.decode().unwrap();
    let r = BigUint::parse_bytes(MODULUS_DECIMAL.as_bytes(), 10).unwrap();
    for i in 0..5 {
        let mut aliased = bundle.clone();
        let x = BigUint::parse_bytes(aliased.public_signals[i].as_bytes(), 10).unwrap();
        aliased.public_signals[i] = (x + &r).to_string();
        assert!(aliased.decode().is_err(), "signal {i} + r accepted");
        let json = serde_json::to_value(&aliased.public_signals).unwrap();
        assert!(public_from_json(&json).is_err(), "public.json signal {i} + r accepted");
    }
    // A proof coordinate at or above the base field modulus is refused too.
    let mut proof_json = proof_to_json(&proof);
    let q = BigUint::parse_bytes(b"21888242871839275222246405745257275088696311157297823662689037894645226208583", 10)
        .unwrap();
    let x = BigUint::parse_bytes(proof_json["pi_a"][0].as_str().unwrap().as_bytes(), 10).unwrap();
    proof_json["pi_a"][0] = (x + q).to_string().into();
    assert!(proof_from_json(&proof_json).is_err());
}

#[test]
fn rerandomised_proof_replayed() {
    let (statement, public, proof) = valid_proof(Reduction::Libsnark);
    let vk = prover(Reduction::Libsnark).verifying_key().key;
    let copy = Groth16::<Bn254>::rerandomize_proof(&vk, &proof, &mut rng(11));
    assert_ne!(copy, proof);
    assert!(verifier().verify(&copy, &public).unwrap(), "a re-randomised proof is valid");
    let mut gate = gate();
    gate.consume(&proof, &statement, accepted).unwrap();
    assert!(matches!(gate.consume(&copy, &statement, accepted), Err(Rejection::NullifierAlreadyUsed { .. })));
}

#[test]
fn a_tampered_proof_is_refused() {
    let (statement, public, mut proof) = valid_proof(Reduction::Libsnark);
    let epoch = Epoch::new(7);
    let (_, witness) = epoch.statement(6, &requirement(42));
    let other = prover(Reduction::Libsnark).prove(&public, &witness, &mut rng(2)).unwrap();
    assert!(verifies(&statement, &other));
    // Parts of two valid proofs of the same statement do not make a valid proof.
    proof.a = other.a;
    assert!(!verifies(&statement, &proof));
}
