//! Errors of the prover crate.

use std::path::PathBuf;

/// What can go wrong with keys, proofs and interop files.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The circuit layer refused a statement, witness, tree or field element.
    #[error(transparent)]
    Circuit(#[from] jejak_zk_circuits::Error),
    /// Constraint synthesis or proving failed inside arkworks.
    #[error("groth16: {0}")]
    Synthesis(#[from] ark_relations::gr1cs::SynthesisError),
    /// A key, proof or point did not deserialise or is not on the curve / in the subgroup.
    #[error("serialization: {0}")]
    Serialization(#[from] ark_serialize::SerializationError),
    /// A key file is malformed: bad magic, header, or a payload whose length differs.
    #[error("invalid key file: {0}")]
    InvalidKeyFile(String),
    /// A key file's payload does not hash to the hash its header carries.
    #[error("key file hash mismatch: header says {expected}, payload hashes to {actual}")]
    KeyHashMismatch {
        /// Hash in the header.
        expected: String,
        /// Hash of the payload read.
        actual: String,
    },
    /// A key was made for another circuit (depth, constraints or matrices differ).
    #[error("key does not match the circuit: {0}")]
    CircuitMismatch(String),
    /// A snarkjs or circom file is malformed or not for BN254/Groth16.
    #[error("invalid {format}: {reason}")]
    InvalidInterop {
        /// Which format (zkey, r1cs, proof.json, ...).
        format: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A zkey whose toxic waste is public: straight from `snarkjs groth16 setup`, no contribution.
    #[error("uncontributed zkey: {0}")]
    UncontributedZkey(String),
    /// A proof bundle or prove input is malformed.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The generated files differ from the committed ones (`jejak-zk-gen --check`).
    #[error("generated file {path} is out of date; run `{command}`")]
    Stale {
        /// The file that differs.
        path: PathBuf,
        /// The command that regenerates it.
        command: &'static str,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// JSON (de)serialisation failed.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }

    pub(crate) fn interop(format: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidInterop { format, reason: reason.into() }
    }
}

/// Result with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
