//! JSON documents of the proving flow.
//!
//! - [`ProveInput`]: what `jejak zk prove` reads: the worker's private record and secret, the
//!   Merkle path (from a bundle) or the epoch's snapshot leaves, and the verifier's requirement.
//! - [`Snapshot`]: an epoch's tree leaves (`{"depth", "epoch", "leaves": [decimal...]}`).
//! - [`ProofBundle`]: what a worker hands a verifier: the statement, the public signals, the proof
//!   in snarkjs' form and in the Solidity verifier's argument order, and the key it was made for.

use ark_bn254::Bn254;
use ark_groth16::Proof;
use jejak_zk_circuits::{
    Fr, MerklePath, PoseidonTree, PublicInputs, Requirement, Statement, WorkerRecord, context_from_label,
    fr_from_decimal, fr_to_be_bytes, fr_to_decimal, scope,
};
use serde::{Deserialize, Serialize};

use crate::{Error, Result, snarkjs, solidity::proof_words};

/// Format tag of [`ProofBundle`].
pub const PROOF_BUNDLE_FORMAT: &str = "jejak-zk-proof/v1";

/// A Merkle path as JSON.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct PathJson {
    /// Leaf index.
    pub index: u64,
    /// Siblings from the leaf level up, decimal.
    pub siblings: Vec<String>,
}

impl PathJson {
    /// From a native path.
    pub fn from_path(path: &MerklePath) -> Self {
        Self { index: path.index, siblings: path.siblings.iter().map(fr_to_decimal).collect() }
    }

    /// To a native path.
    pub fn to_path(&self) -> Result<MerklePath> {
        let siblings = self.siblings.iter().map(|s| fr_from_decimal(s)).collect::<Result<Vec<_>, _>>()?;
        Ok(MerklePath { index: self.index, siblings })
    }
}

/// An epoch's published leaves.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Snapshot {
    /// Tree depth.
    pub depth: usize,
    /// Epoch.
    pub epoch: u64,
    /// Leaves in tree order, decimal.
    pub leaves: Vec<String>,
}

impl Snapshot {
    /// The tree of these leaves.
    pub fn tree(&self) -> Result<PoseidonTree> {
        let leaves = self.leaves.iter().map(|s| fr_from_decimal(s)).collect::<Result<Vec<_>, _>>()?;
        Ok(PoseidonTree::from_leaves(self.depth, leaves)?)
    }
}

/// What a verifier asks, as JSON.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct RequirementJson {
    /// Minimum score.
    pub min_score: u64,
    /// Minimum completed gigs.
    pub min_gigs: u64,
    /// Minimum credit tier.
    pub min_tier: u64,
    /// Chain id of the verifier contract.
    pub chain_id: u64,
    /// Verifier contract address, `0x` + 40 hex digits.
    pub verifier: String,
    /// Who consumes the proof, `0x` + 40 hex digits: on chain the caller of `verifyAndConsume`
    /// (an integrator's contract or account), through a node's API the verifying platform's
    /// [`jejak_zk_circuits::platform_consumer`]. Nobody else can use the proof.
    pub consumer: String,
    /// Context, `0x` + 64 hex digits; or give `context_label`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// A label whose keccak256 is the context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_label: Option<String>,
    /// Challenge or signal, decimal.
    pub challenge: String,
}

fn hex_bytes<const N: usize>(s: &str, what: &str) -> Result<[u8; N]> {
    let digits =
        s.strip_prefix("0x").ok_or_else(|| Error::InvalidInput(format!("{what}: expected 0x-prefixed hex")))?;
    let bytes = hex::decode(digits).map_err(|e| Error::InvalidInput(format!("{what}: {e}")))?;
    bytes.try_into().map_err(|_| Error::InvalidInput(format!("{what}: expected {N} bytes")))
}

impl RequirementJson {
    /// The native requirement (scope computed as the verifier contract computes it).
    pub fn to_requirement(&self) -> Result<Requirement> {
        let verifier: [u8; 20] = hex_bytes(&self.verifier, "verifier")?;
        let consumer: [u8; 20] = hex_bytes(&self.consumer, "consumer")?;
        let context = match (&self.context, &self.context_label) {
            (Some(c), None) => hex_bytes::<32>(c, "context")?,
            (None, Some(label)) => context_from_label(label),
            _ => return Err(Error::InvalidInput("give exactly one of `context` and `context_label`".into())),
        };
        Ok(Requirement {
            min_score: self.min_score,
            min_gigs: self.min_gigs,
            min_tier: self.min_tier,
            scope: scope(self.chain_id, verifier, consumer, context),
            challenge: fr_from_decimal(&self.challenge)?,
        })
    }
}

/// The input of `jejak zk prove`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProveInput {
    /// Identity secret, decimal.
    pub secret: String,
    /// Score in the leaf.
    pub score: u64,
    /// Completed gigs in the leaf.
    pub gigs: u64,
    /// Credit tier in the leaf.
    pub tier: u64,
    /// Epoch.
    pub epoch: u64,
    /// Leaf salt, decimal.
    pub salt: String,
    /// The Merkle path (from the worker's bundle); without it the snapshot is searched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathJson>,
    /// What the verifier asks.
    pub requirement: RequirementJson,
}

impl ProveInput {
    /// The worker's record.
    pub fn record(&self) -> Result<WorkerRecord> {
        Ok(WorkerRecord {
            secret: fr_from_decimal(&self.secret)?,
            score: self.score,
            gigs: self.gigs,
            tier: self.tier,
            epoch: self.epoch,
            salt: fr_from_decimal(&self.salt)?,
        })
    }

    /// The path: the one given, or the worker's leaf looked up in `snapshot`.
    pub fn resolve_path(&self, snapshot: Option<&Snapshot>) -> Result<MerklePath> {
        match (&self.path, snapshot) {
            (Some(path), _) => path.to_path(),
            (None, Some(snapshot)) => {
                if snapshot.epoch != self.epoch {
                    return Err(Error::InvalidInput(format!(
                        "snapshot is epoch {}, the record epoch {}",
                        snapshot.epoch, self.epoch
                    )));
                }
                let leaf = self.record()?.leaf();
                let tree = snapshot.tree()?;
                let index = tree
                    .leaves()
                    .iter()
                    .position(|l| *l == leaf)
                    .ok_or_else(|| Error::InvalidInput("the worker's leaf is not in the snapshot".into()))?;
                Ok(tree.path(index as u64)?)
            }
            (None, None) => Err(Error::InvalidInput("give a Merkle path or a snapshot".into())),
        }
    }
}

/// The typed statement as JSON (field elements decimal, the root also as `bytes32`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct StatementJson {
    /// Root, decimal.
    pub root: String,
    /// Root as the contracts store it, `0x` + 64 hex digits.
    pub root_bytes32: String,
    /// Epoch.
    pub epoch: u64,
    /// Minimum score proven.
    pub min_score: u64,
    /// Minimum gigs proven.
    pub min_gigs: u64,
    /// Minimum tier proven.
    pub min_tier: u64,
    /// Scope, decimal.
    pub scope: String,
    /// Challenge, decimal.
    pub challenge: String,
    /// Nullifier, decimal.
    pub nullifier: String,
}

impl StatementJson {
    /// From a statement.
    pub fn from_statement(s: &Statement) -> Self {
        Self {
            root: fr_to_decimal(&s.root),
            root_bytes32: format!("0x{}", hex::encode(fr_to_be_bytes(&s.root))),
            epoch: s.epoch,
            min_score: s.min_score,
            min_gigs: s.min_gigs,
            min_tier: s.min_tier,
            scope: fr_to_decimal(&s.scope),
            challenge: fr_to_decimal(&s.challenge),
            nullifier: fr_to_decimal(&s.nullifier),
        }
    }
}

/// A proof as handed to a verifier.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ProofBundle {
    /// [`PROOF_BUNDLE_FORMAT`].
    pub format: String,
    /// Tree depth of the circuit.
    pub depth: usize,
    /// SHA-256 of the verifying key payload the proof is for.
    pub verifying_key_sha256: String,
    /// What is proven.
    pub statement: StatementJson,
    /// The five public signals in circuit order (snarkjs' `public.json`).
    pub public_signals: Vec<String>,
    /// The proof in snarkjs' `proof.json` form.
    pub proof: serde_json::Value,
    /// The proof as `JejakProofVerifier` takes it: `[A.x, A.y, B.x1, B.x0, B.y1, B.y0, C.x, C.y]`.
    pub solidity_proof: [String; 8],
}

impl ProofBundle {
    /// Bundles a proof of `statement`.
    pub fn new(
        depth: usize,
        verifying_key_sha256: String,
        statement: &Statement,
        proof: &Proof<Bn254>,
    ) -> Result<Self> {
        Ok(Self {
            format: PROOF_BUNDLE_FORMAT.to_owned(),
            depth,
            verifying_key_sha256,
            statement: StatementJson::from_statement(statement),
            public_signals: statement.public_inputs()?.to_decimal_strings(),
            proof: snarkjs::proof_to_json(proof),
            solidity_proof: proof_words(proof),
        })
    }

    /// The proof and its public inputs, checked: strict field elements, valid points, and a
    /// typed statement that says the same as the public signals.
    pub fn decode(&self) -> Result<(Statement, PublicInputs, Proof<Bn254>)> {
        if self.format != PROOF_BUNDLE_FORMAT {
            return Err(Error::InvalidInput(format!("not a {PROOF_BUNDLE_FORMAT} bundle")));
        }
        let public = PublicInputs::from_decimal_strings(&self.public_signals)?;
        let statement = Statement::from_public_inputs(&public)?;
        if StatementJson::from_statement(&statement) != self.statement {
            return Err(Error::InvalidInput("the statement does not match the public signals".into()));
        }
        let proof = snarkjs::proof_from_json(&self.proof)?;
        if proof_words(&proof) != self.solidity_proof {
            return Err(Error::InvalidInput("the Solidity proof words do not match the proof".into()));
        }
        Ok((statement, public, proof))
    }
}

/// `Fr` from a decimal string, for callers outside the circuit crate.
pub fn parse_fr(s: &str) -> Result<Fr> {
    Ok(fr_from_decimal(s)?)
}
