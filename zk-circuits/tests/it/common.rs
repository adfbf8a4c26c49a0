//! Shared helpers: deterministic randomness, constraint systems, a small scenario.

use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem, ConstraintSystemRef, SynthesisMode};
use ark_std::UniformRand;
use jejak_zk_circuits::{
    Fr, MerklePath, PoseidonTree, PublicInputs, ReputationCircuit, Requirement, Statement, Witness, WorkerRecord,
    build_statement, scope,
};
use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};

/// The same random stream on every run.
pub(crate) fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

pub(crate) fn random_fr(rng: &mut ChaCha20Rng) -> Fr {
    Fr::rand(rng)
}

/// A constraint system that records values and matrices.
pub(crate) fn prove_cs() -> ConstraintSystemRef<Fr> {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_mode(SynthesisMode::Prove { construct_matrices: true, generate_lc_assignments: true });
    cs
}

/// Constraints of a circuit at setup (no values).
pub(crate) fn setup_constraints(circuit: ReputationCircuit) -> usize {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_mode(SynthesisMode::Setup);
    circuit.generate_constraints(cs.clone()).unwrap();
    cs.finalize();
    cs.num_constraints()
}

/// Whether the circuit with this assignment satisfies its constraints.
pub(crate) fn satisfied(depth: usize, public: PublicInputs, witness: Witness) -> bool {
    let cs = prove_cs();
    let circuit = ReputationCircuit::new(depth, public, witness).unwrap();
    match circuit.generate_constraints(cs.clone()) {
        Ok(()) => cs.is_satisfied().unwrap(),
        Err(_) => false,
    }
}

/// A small epoch: several workers in a tree, one of whom proves to one verifier.
pub(crate) struct Scenario {
    pub(crate) depth: usize,
    pub(crate) tree: PoseidonTree,
    pub(crate) record: WorkerRecord,
    pub(crate) index: u64,
    pub(crate) requirement: Requirement,
    pub(crate) statement: Statement,
    pub(crate) witness: Witness,
}

pub(crate) const VERIFIER: [u8; 20] = [0x11; 20];
pub(crate) const CONSUMER: [u8; 20] = [0x55; 20];
pub(crate) const CONTEXT: [u8; 32] = [0x22; 32];

impl Scenario {
    pub(crate) fn new(depth: usize) -> Self {
        let mut rng = rng(7);
        let records: Vec<WorkerRecord> = (0..9u64)
            .map(|i| WorkerRecord {
                secret: random_fr(&mut rng),
                score: 600 + 20 * i,
                gigs: 40 + 3 * i,
                tier: i % 5 + 1,
                epoch: 7,
                salt: random_fr(&mut rng),
            })
            .collect();
        let tree = PoseidonTree::from_leaves(depth, records.iter().map(WorkerRecord::leaf).collect()).unwrap();
        let index = 6;
        let record = records[index as usize].clone(); // score 720, gigs 58, tier 2
        let requirement = Requirement {
            min_score: 700,
            min_gigs: 50,
            min_tier: 2,
            scope: scope(31337, VERIFIER, CONSUMER, CONTEXT),
            challenge: Fr::from(0xC0FFEEu64),
        };
        let path = tree.path(index).unwrap();
        let (statement, witness) = build_statement(&record, &path, &requirement).unwrap();
        assert_eq!(statement.root, tree.root());
        Self { depth, tree, record, index, requirement, statement, witness }
    }

    pub(crate) fn public(&self) -> PublicInputs {
        self.statement.public_inputs().unwrap()
    }

    pub(crate) fn path(&self) -> MerklePath {
        self.tree.path(self.index).unwrap()
    }
}
