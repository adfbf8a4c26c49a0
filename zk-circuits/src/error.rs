//! Errors of the circuit crate.

/// What can go wrong when building statements, trees and circuits.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A decimal string is not the canonical form of a field element below the modulus.
    #[error("invalid field element `{value}`: {reason}")]
    InvalidFieldElement {
        /// The rejected input (truncated when long).
        value: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// Poseidon was asked to hash a number of inputs circomlib has no parameters for.
    #[error("poseidon takes 1 to {max} inputs, got {got}")]
    PoseidonArity {
        /// Inputs given.
        got: usize,
        /// Largest supported arity.
        max: usize,
    },
    /// A tree depth outside the supported range.
    #[error("tree depth {depth} is not in 1..={max}")]
    InvalidDepth {
        /// Requested depth.
        depth: usize,
        /// Largest supported depth.
        max: usize,
    },
    /// More leaves than a tree of this depth holds.
    #[error("{leaves} leaves do not fit in a tree of depth {depth}")]
    TooManyLeaves {
        /// Leaves given.
        leaves: usize,
        /// Tree depth.
        depth: usize,
    },
    /// A leaf index beyond the tree's capacity or a path of the wrong length.
    #[error("merkle: {0}")]
    Merkle(String),
    /// Public inputs that do not decode into a statement (wrong count, `epoch_bounds` not an
    /// epoch and three 64-bit bounds).
    #[error("invalid public inputs: {0}")]
    InvalidPublicInputs(String),
    /// The witness does not satisfy the statement; the string says which condition fails.
    #[error("witness does not satisfy the statement: {0}")]
    Unsatisfied(String),
    /// A link token is malformed, names another identity or does not verify.
    #[error("invalid link token: {0}")]
    InvalidLinkToken(String),
    /// The constraint system refused the circuit.
    #[error("constraint synthesis failed: {0}")]
    Synthesis(#[from] ark_relations::gr1cs::SynthesisError),
}

/// Result with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
