//! The reputation statement as an R1CS circuit.
//!
//! Public inputs, in this order ([`PUBLIC_INPUT_NAMES`]):
//!
//! | # | input | meaning |
//! | - | ----- | ------- |
//! | 1 | `root` | Poseidon root of the epoch's worker tree, published on chain |
//! | 2 | `epoch_bounds` | `min_score + 2^64·min_gigs + 2^128·min_tier + 2^192·epoch` ([`pack_epoch_bounds`]) |
//! | 3 | `scope` | the verifier's scope ([`crate::scope`]) |
//! | 4 | `challenge` | the verifier's challenge or signal, bound to the proof |
//! | 5 | `nullifier` | `Poseidon(secret, scope)` |
//!
//! The epoch (the leaf's, so the root's) and the three minimums share one public input to save
//! three elliptic-curve multiplications per on-chain verification; they are all public.
//!
//! Private: the identity secret, its link key `k`, score, gigs, tier, salt and the Merkle path.
//!
//! Constraints: the leaf is in the tree of `root`; `score >= min_score`, `gigs >= min_gigs`,
//! `tier >= min_tier` by 64-bit decompositions of the differences, with the bounds themselves
//! range-checked by the 253-bit decomposition of `epoch_bounds`; the nullifier is the secret's for
//! this scope. [`constraint_count`] gives the size: 1,499 + 242 × depth.

use ark_r1cs_std::{
    alloc::AllocVar,
    eq::EqGadget,
    fields::{FieldVar, fp::FpVar},
};
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};

use crate::{
    Error, Fr, Result,
    field::{fr_from_decimal, fr_to_decimal},
    link::{commitment_from_parts, inner_commitment, link_key_of},
    merkle::{MAX_DEPTH, MerklePath, MerklePathVar},
    range::{
        MAX_EPOCH, enforce_geq_gadget, is_geq, pack_epoch_bounds, unpack_epoch_bounds, unpack_epoch_bounds_gadget,
    },
    statement::{identity_commitment, identity_commitment_gadget, nullifier, nullifier_gadget, worker_leaf_gadget},
};

/// Number of public inputs (without the constant 1).
pub const NUM_PUBLIC_INPUTS: usize = 5;
/// Names of the public inputs, in circuit order.
pub const PUBLIC_INPUT_NAMES: [&str; NUM_PUBLIC_INPUTS] = ["root", "epoch_bounds", "scope", "challenge", "nullifier"];
/// Tree depth when none is given.
pub const DEFAULT_DEPTH: usize = 20;
/// Constraints that do not depend on the depth: Poseidon(1) 213 and Poseidon(2) 240 for the
/// commitment, Poseidon(6) 354, Poseidon(2) for the nullifier 240, epoch and bounds 254, three
/// comparisons 195, root and nullifier equalities 2, challenge binding 1.
pub const CONSTRAINTS_BASE: usize = 1499;
/// Constraints per tree level: direction bit 1, selection 1, Poseidon(2) 240.
pub const CONSTRAINTS_PER_LEVEL: usize = 242;

/// Number of R1CS constraints of the circuit at `depth`.
pub const fn constraint_count(depth: usize) -> usize {
    CONSTRAINTS_BASE + CONSTRAINTS_PER_LEVEL * depth
}

/// The public inputs as field elements, in circuit order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicInputs {
    /// Tree root.
    pub root: Fr,
    /// Epoch and lower bounds, packed ([`pack_epoch_bounds`]).
    pub epoch_bounds: Fr,
    /// Verifier scope.
    pub scope: Fr,
    /// Verifier challenge or signal.
    pub challenge: Fr,
    /// Nullifier.
    pub nullifier: Fr,
}

impl PublicInputs {
    /// In circuit order.
    pub fn to_array(&self) -> [Fr; NUM_PUBLIC_INPUTS] {
        [self.root, self.epoch_bounds, self.scope, self.challenge, self.nullifier]
    }

    /// From field elements in circuit order.
    pub fn from_slice(inputs: &[Fr]) -> Result<Self> {
        let [root, epoch_bounds, scope, challenge, nullifier]: [Fr; NUM_PUBLIC_INPUTS] =
            inputs.try_into().map_err(|_| {
                Error::InvalidPublicInputs(format!("expected {NUM_PUBLIC_INPUTS} inputs, got {}", inputs.len()))
            })?;
        Ok(Self { root, epoch_bounds, scope, challenge, nullifier })
    }

    /// From canonical decimal strings (snarkjs' `public.json`), each strictly below the modulus.
    pub fn from_decimal_strings<S: AsRef<str>>(inputs: &[S]) -> Result<Self> {
        let values = inputs.iter().map(|s| fr_from_decimal(s.as_ref())).collect::<Result<Vec<_>>>()?;
        Self::from_slice(&values)
    }

    /// As canonical decimal strings, in circuit order.
    pub fn to_decimal_strings(&self) -> Vec<String> {
        self.to_array().iter().map(fr_to_decimal).collect()
    }
}

/// The public statement with typed fields: what a verifier reads and checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Statement {
    /// Tree root of `epoch`.
    pub root: Fr,
    /// Epoch of the root.
    pub epoch: u64,
    /// The score is at least this.
    pub min_score: u64,
    /// Completed gigs are at least this.
    pub min_gigs: u64,
    /// The credit tier is at least this.
    pub min_tier: u64,
    /// Verifier scope.
    pub scope: Fr,
    /// Verifier challenge or signal.
    pub challenge: Fr,
    /// Nullifier for this scope.
    pub nullifier: Fr,
}

impl Statement {
    /// The circuit's public inputs; fails for an epoch above [`MAX_EPOCH`].
    pub fn public_inputs(&self) -> Result<PublicInputs> {
        let epoch_bounds = pack_epoch_bounds(self.epoch, self.min_score, self.min_gigs, self.min_tier)
            .ok_or_else(|| Error::InvalidPublicInputs(format!("epoch {} is above {MAX_EPOCH}", self.epoch)))?;
        Ok(PublicInputs {
            root: self.root,
            epoch_bounds,
            scope: self.scope,
            challenge: self.challenge,
            nullifier: self.nullifier,
        })
    }

    /// Decodes public inputs; fails if `epoch_bounds` is not a packed epoch and three bounds.
    pub fn from_public_inputs(inputs: &PublicInputs) -> Result<Self> {
        let (epoch, min_score, min_gigs, min_tier) = unpack_epoch_bounds(&inputs.epoch_bounds)
            .ok_or_else(|| Error::InvalidPublicInputs("epoch_bounds is not an epoch and three 64-bit bounds".into()))?;
        Ok(Self {
            root: inputs.root,
            epoch,
            min_score,
            min_gigs,
            min_tier,
            scope: inputs.scope,
            challenge: inputs.challenge,
            nullifier: inputs.nullifier,
        })
    }
}

/// The private inputs, as field elements so that tests can try values no honest worker has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Witness {
    /// Identity secret.
    pub secret: Fr,
    /// The identity's link key `k` ([`crate::link::link_key_of`]).
    pub link_key: Fr,
    /// Reputation score in the leaf.
    pub score: Fr,
    /// Completed gigs in the leaf.
    pub gigs: Fr,
    /// Credit tier in the leaf.
    pub tier: Fr,
    /// Leaf salt.
    pub salt: Fr,
    /// Path from the leaf to the root.
    pub path: MerklePath,
}

/// A worker's private record for one epoch: what their leaf commits to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerRecord {
    /// Identity secret (never leaves the worker or the node that holds it).
    pub secret: Fr,
    /// Reputation score.
    pub score: u64,
    /// Completed gigs.
    pub gigs: u64,
    /// Credit tier, higher is better.
    pub tier: u64,
    /// Epoch.
    pub epoch: u64,
    /// Leaf salt.
    pub salt: Fr,
}

impl WorkerRecord {
    /// `Poseidon(Poseidon(secret), k)`.
    pub fn commitment(&self) -> Fr {
        identity_commitment(self.secret)
    }

    /// The worker's leaf.
    pub fn leaf(&self) -> Fr {
        crate::worker_leaf(self.commitment(), self.score, self.gigs, self.tier, self.epoch, self.salt)
    }
}

/// What a verifier asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Requirement {
    /// Minimum score.
    pub min_score: u64,
    /// Minimum completed gigs.
    pub min_gigs: u64,
    /// Minimum credit tier.
    pub min_tier: u64,
    /// The verifier's scope.
    pub scope: Fr,
    /// The verifier's challenge or signal.
    pub challenge: Fr,
}

/// The statement and witness for `record` at `path` meeting `requirement`, after checking
/// natively that it holds (so a failing proof is reported as such, not as a synthesis error).
pub fn build_statement(
    record: &WorkerRecord,
    path: &MerklePath,
    requirement: &Requirement,
) -> Result<(Statement, Witness)> {
    let statement = Statement {
        root: path.root(record.leaf()),
        epoch: record.epoch,
        min_score: requirement.min_score,
        min_gigs: requirement.min_gigs,
        min_tier: requirement.min_tier,
        scope: requirement.scope,
        challenge: requirement.challenge,
        nullifier: nullifier(record.secret, requirement.scope),
    };
    let witness = Witness {
        secret: record.secret,
        link_key: link_key_of(&record.secret),
        score: Fr::from(record.score),
        gigs: Fr::from(record.gigs),
        tier: Fr::from(record.tier),
        salt: record.salt,
        path: path.clone(),
    };
    check(&statement.public_inputs()?, &witness)?;
    Ok((statement, witness))
}

/// Checks natively every condition the circuit enforces, naming the first that fails.
pub fn check(public: &PublicInputs, witness: &Witness) -> Result<()> {
    let fail = |what: &str| Err(Error::Unsatisfied(what.to_owned()));
    let Some((epoch, min_score, min_gigs, min_tier)) = unpack_epoch_bounds(&public.epoch_bounds) else {
        return fail("epoch_bounds is not an epoch and three 64-bit bounds");
    };
    for (value, min, name) in
        [(witness.score, min_score, "score"), (witness.gigs, min_gigs, "gigs"), (witness.tier, min_tier, "tier")]
    {
        if !is_geq(&value, &Fr::from(min)) {
            return Err(Error::Unsatisfied(format!("{name} below the minimum {min}")));
        }
    }
    let leaf = crate::poseidon::hash(&[
        commitment_from_parts(inner_commitment(&witness.secret), witness.link_key),
        witness.score,
        witness.gigs,
        witness.tier,
        Fr::from(epoch),
        witness.salt,
    ]);
    if !witness.path.verify(leaf, public.root) {
        return fail("the leaf is not in the tree of this root (wrong secret, record, epoch or path)");
    }
    if nullifier(witness.secret, public.scope) != public.nullifier {
        return fail("the nullifier is not Poseidon(secret, scope)");
    }
    Ok(())
}

/// The Groth16 circuit: `witness` and `public` are `None` at setup.
#[derive(Clone, Debug)]
pub struct ReputationCircuit {
    depth: usize,
    public: Option<PublicInputs>,
    witness: Option<Witness>,
}

impl ReputationCircuit {
    /// The shape of the circuit, for key generation and constraint matrices.
    pub fn setup(depth: usize) -> Result<Self> {
        check_depth(depth)?;
        Ok(Self { depth, public: None, witness: None })
    }

    /// The circuit with its assignment. Nothing is checked here beyond the path's length: a
    /// witness that breaks the statement gives an unsatisfied constraint system.
    pub fn new(depth: usize, public: PublicInputs, witness: Witness) -> Result<Self> {
        check_depth(depth)?;
        if witness.path.depth() != depth {
            return Err(Error::Merkle(format!("path has {} levels, circuit {depth}", witness.path.depth())));
        }
        Ok(Self { depth, public: Some(public), witness: Some(witness) })
    }

    /// Tree depth.
    pub fn depth(&self) -> usize {
        self.depth
    }

    fn synthesize(self, cs: ConstraintSystemRef<Fr>) -> Result<()> {
        let missing = || SynthesisError::AssignmentMissing;
        let public = self.public.map(|p| p.to_array());
        let inputs = (0..NUM_PUBLIC_INPUTS)
            .map(|i| FpVar::new_input(cs.clone(), || public.map(|p| p[i]).ok_or_else(missing)))
            .collect::<Result<Vec<_>, _>>()?;
        let [root, epoch_bounds, scope, challenge, nullifier_in]: [FpVar<Fr>; NUM_PUBLIC_INPUTS] =
            inputs.try_into().expect("five inputs");

        let w = self.witness.as_ref();
        let witness = |f: fn(&Witness) -> Fr| FpVar::new_witness(cs.clone(), || w.map(f).ok_or_else(missing));
        let secret = witness(|w| w.secret)?;
        let link_key = witness(|w| w.link_key)?;
        let score = witness(|w| w.score)?;
        let gigs = witness(|w| w.gigs)?;
        let tier = witness(|w| w.tier)?;
        let salt = witness(|w| w.salt)?;
        let path = MerklePathVar::new_witness(cs.clone(), self.depth, w.map(|w| &w.path))?;

        let [epoch, min_score, min_gigs, min_tier] = unpack_epoch_bounds_gadget(&epoch_bounds)?;
        enforce_geq_gadget(&score, &min_score)?;
        enforce_geq_gadget(&gigs, &min_gigs)?;
        enforce_geq_gadget(&tier, &min_tier)?;

        let commitment = identity_commitment_gadget(&secret, &link_key)?;
        let leaf = worker_leaf_gadget(&commitment, &score, &gigs, &tier, &epoch, &salt)?;
        path.root(&leaf)?.enforce_equal(&root)?;
        nullifier_gadget(&secret, &scope)?.enforce_equal(&nullifier_in)?;
        // The challenge enters no other constraint. Groth16's input rows already bind it, but a
        // constraint of its own keeps it bound under any R1CS-to-QAP reduction (as circom
        // circuits do with a squared signal).
        let _ = challenge.square()?;
        Ok(())
    }
}

impl ConstraintSynthesizer<Fr> for ReputationCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        self.synthesize(cs).map_err(|e| match e {
            Error::Synthesis(e) => e,
            _ => SynthesisError::Unsatisfiable,
        })
    }
}

fn check_depth(depth: usize) -> Result<()> {
    if depth == 0 || depth > MAX_DEPTH {
        return Err(Error::InvalidDepth { depth, max: MAX_DEPTH });
    }
    Ok(())
}
