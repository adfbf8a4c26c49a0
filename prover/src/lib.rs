//! Keys, proving, verification and interop files for jejak's zero-knowledge reputation proofs
//! (the circuit itself is in `jejak-zk-circuits`).
//!
//! - [`setup`]: the seeded development setup (`jejak zk setup`), labelled INSECURE.
//! - [`keys`]: key files with a header carrying their purpose, origin and payload hash.
//! - [`prover`]: [`Prover`], Groth16 with cached constraint matrices on both cores.
//! - [`verifier`]: [`Verifier`], single and batched (random linear combination) verification;
//!   [`ProofGate`], the native counterpart of the on-chain wrapper (scope, roots, nullifiers).
//! - [`snarkjs`]: `verification_key.json`, `proof.json`, `public.json`.
//! - [`circom`]: `.r1cs` and `.wtns` export, `.zkey` import (proofs from an imported zkey use
//!   [`qap::CircomReduction`], snarkjs' reduction).
//! - [`solidity`]: the Solidity Groth16 verifier generated from a verifying key.
//! - [`bundle`]: the JSON a worker proves from and the proof bundle a verifier receives.
//! - [`cli`]: the `jejak zk ...` commands as plain functions.
//! - [`fixtures`]: the committed on-chain artefacts (verifier contract, forge fixtures) and their
//!   check, behind the `jejak-zk-gen` binary.
//!
//! No feature flags.

pub mod bundle;
pub mod circom;
pub mod cli;
pub mod error;
pub mod fixtures;
pub mod keys;
pub mod msm;
pub mod prover;
pub mod qap;
pub mod setup;
pub mod shape;
pub mod snarkjs;
pub mod solidity;
pub mod verifier;

pub use error::{Error, Result};
pub use keys::{KeyInfo, KeyOrigin, ProvingKeyFile, Reduction, VerifyingKeyFile};
pub use prover::Prover;
pub use shape::{CircuitShape, DEFAULT_CIRCUIT_SHA256};
pub use verifier::{ProofGate, Rejection, Verifier};
