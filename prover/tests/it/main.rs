//! Integration tests of the prover: keys, proving and verification natively, against snarkjs and
//! circom's formats, the CLI functions, and the committed on-chain artefacts.

mod circom;
mod cli;
mod common;
mod fixtures;
mod keys;
mod prove_verify;
mod snarkjs;
mod soundness;
