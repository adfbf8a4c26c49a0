//! Shared helpers: cached development keys, a scenario, snarkjs.

use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::OnceLock,
};

use ark_bn254::Bn254;
use ark_groth16::Proof;
use jejak_prover::{Prover, Reduction, setup::dev_setup};
use jejak_zk_circuits::{
    Fr, MerklePath, PoseidonTree, PublicInputs, Requirement, Statement, Witness, WorkerRecord, build_statement, scope,
};
use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};

/// Depth of the small circuit most tests use (2,227 constraints: a 4,096 domain, so a power-12
/// powers-of-tau file suffices for snarkjs).
pub(crate) const DEPTH: usize = 4;
pub(crate) const CHAIN_ID: u64 = 31337;
pub(crate) const VERIFIER: [u8; 20] = [0x11; 20];
pub(crate) const CONTEXT: [u8; 32] = [0x22; 32];
pub(crate) const CONSUMER: [u8; 20] = [0x55; 20];

pub(crate) fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// The development prover at [`DEPTH`] for a reduction, made once per test binary.
pub(crate) fn prover(reduction: Reduction) -> &'static Prover {
    static LIBSNARK: OnceLock<Prover> = OnceLock::new();
    static CIRCOM: OnceLock<Prover> = OnceLock::new();
    let slot = match reduction {
        Reduction::Libsnark => &LIBSNARK,
        Reduction::Circom => &CIRCOM,
    };
    slot.get_or_init(|| Prover::new(dev_setup(DEPTH, "jejak-prover-tests", reduction).unwrap()).unwrap())
}

/// Workers of one epoch and the tree of their leaves.
pub(crate) struct Epoch {
    pub(crate) records: Vec<WorkerRecord>,
    pub(crate) tree: PoseidonTree,
}

impl Epoch {
    /// Ten workers; worker i has score 640 + 15 i, 40 + 4 i gigs, tier 1 + i % 5.
    pub(crate) fn new(epoch: u64) -> Self {
        let records: Vec<WorkerRecord> = (0..10u64)
            .map(|i| WorkerRecord {
                secret: Fr::from(0x5ec2e7_u64 + i),
                score: 640 + 15 * i,
                gigs: 40 + 4 * i,
                tier: 1 + i % 5,
                epoch,
                salt: Fr::from(1_000 * epoch + i),
            })
            .collect();
        let tree = PoseidonTree::from_leaves(DEPTH, records.iter().map(WorkerRecord::leaf).collect()).unwrap();
        Self { records, tree }
    }

    pub(crate) fn path(&self, worker: usize) -> MerklePath {
        self.tree.path(worker as u64).unwrap()
    }

    /// Statement and witness for `worker` meeting `requirement`.
    pub(crate) fn statement(&self, worker: usize, requirement: &Requirement) -> (Statement, Witness) {
        build_statement(&self.records[worker], &self.path(worker), requirement).unwrap()
    }
}

/// The requirement of the verifier the tests play: score 700, 50 gigs, tier 2.
pub(crate) fn requirement(challenge: u64) -> Requirement {
    Requirement {
        min_score: 700,
        min_gigs: 50,
        min_tier: 2,
        scope: scope(CHAIN_ID, VERIFIER, CONSUMER, CONTEXT),
        challenge: Fr::from(challenge),
    }
}

/// A valid proof by worker 6 (score 730, 64 gigs, tier 2) of epoch 7.
pub(crate) fn valid_proof(reduction: Reduction) -> (Statement, PublicInputs, Proof<Bn254>) {
    let epoch = Epoch::new(7);
    let (statement, witness) = epoch.statement(6, &requirement(42));
    let public = statement.public_inputs().unwrap();
    let proof = prover(reduction).prove(&public, &witness, &mut rng(1)).unwrap();
    (statement, public, proof)
}

/// The repository's snarkjs; its absence fails the test (run `npm ci`).
pub(crate) fn snarkjs() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../node_modules/.bin/snarkjs");
    assert!(path.exists(), "{} is missing: run `npm ci` at the repository root", path.display());
    path
}

/// Runs snarkjs with `args` in `dir`; returns (success, stdout + stderr).
pub(crate) fn run_snarkjs(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(snarkjs())
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("running snarkjs {args:?} (is Node.js installed?): {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}
