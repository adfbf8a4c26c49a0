//! Zero-knowledge reputation circuits of jejak: Groth16 over BN254 (arkworks 0.6) with circomlib's
//! Poseidon, so that roots, leaves and nullifiers match circom/circomlibjs bit for bit.
//!
//! A worker proves "my leaf is in the published root of epoch E, my score is at least S, my
//! completed gigs at least G and my credit tier at least T", bound to one verifier's scope and
//! challenge, revealing nothing else; the nullifier stops replays and differs between scopes, so two verifiers cannot link
//! their proofs. This crate is pure (no I/O): natives and gadgets side by side, each pair tested to
//! agree. Keys, proving, verification and file formats live in `jejak-prover`.
//!
//! # Public API
//!
//! - [`poseidon::hash`]`(&[Fr]) -> Fr`: circomlib Poseidon of 1 to 12 inputs
//!   ([`poseidon::try_hash`] for untrusted arities, [`poseidon::hash_gadget`] in circuits).
//! - [`identity_commitment`]`(secret) = Poseidon(Poseidon(secret), k)`, `k` the secret's
//!   Ed25519 link key reduced mod r; [`link::LinkToken`]: the worker's signed consent to one
//!   account link, checked against the commitment.
//! - [`worker_leaf`]`(commitment, score, gigs, tier, epoch, salt) = Poseidon(commitment, score,
//!   gigs, tier, epoch, salt)`: takes the commitment, so a node holding only commitments builds
//!   the tree.
//! - [`nullifier`]`(secret, scope) = Poseidon(secret, scope)`.
//! - [`scope`]`(chain_id, verifier_contract, context) = keccak256(abi.encode(uint256 chainId,
//!   address verifier, bytes32 context)) mod r`, what the Solidity wrapper computes
//!   ([`context_from_label`] turns a label into a context).
//! - [`PoseidonTree`]: sparse, configurable depth (20 by default, up to 64), empty leaves 0 with
//!   precomputed zero-subtree hashes; [`PoseidonTree::from_leaves`] builds in parallel,
//!   [`PoseidonTree::root`], [`PoseidonTree::path`] gives a [`MerklePath`].
//! - Field elements: [`fr_from_decimal`]/[`fr_to_decimal`] (canonical decimal, strictly below the
//!   modulus), [`fr_from_be_bytes`]/[`fr_to_be_bytes`] (32-byte words, strict).
//! - The circuit: [`ReputationCircuit`], its [`Statement`] (typed public side), [`PublicInputs`]
//!   (the five field elements), [`Witness`], [`WorkerRecord`], [`Requirement`],
//!   [`build_statement`] and [`constraint_count`] (1,499 + 242 × depth).
//!
//! # Modules
//!
//! - [`poseidon`]: parameters, native permutation, gadget.
//! - [`merkle`]: the tree, paths and the path gadget.
//! - [`range`]: 64-bit range checks and comparisons by bit decomposition; packing of the epoch
//!   and the bounds into one public input.
//! - [`link`]: link keys and link tokens (Ed25519 over a fixed binary layout).
//! - [`statement`]: commitments, leaves, nullifiers, scopes and their gadgets.
//! - [`circuit`]: the R1CS circuit and the native check of the same statement.
//! - [`field`]: strict conversions of field elements.
//!
//! No feature flags. Synthesising under a `tracing` subscriber that enables INFO for the `gr1cs`
//! target (arkworks instruments every gadget operation) slows proving several times: filter it
//! out (`gr1cs=off`).

pub mod circuit;
pub mod error;
pub mod field;
pub mod link;
pub mod merkle;
pub mod poseidon;
pub mod range;
pub mod statement;

pub use circuit::{
    CONSTRAINTS_BASE, CONSTRAINTS_PER_LEVEL, DEFAULT_DEPTH, NUM_PUBLIC_INPUTS, PUBLIC_INPUT_NAMES, PublicInputs,
    ReputationCircuit, Requirement, Statement, Witness, WorkerRecord, build_statement, check, constraint_count,
};
pub use error::{Error, Result};
pub use field::{Fr, fr_from_be_bytes, fr_from_decimal, fr_to_be_bytes, fr_to_decimal};
pub use merkle::{MerklePath, PoseidonTree};
pub use statement::{context_from_label, identity_commitment, nullifier, platform_consumer, scope, worker_leaf};
