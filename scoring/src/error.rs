//! Errors of the scoring crate.

/// What can go wrong turning attestations into scores and snapshots.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An attested event body could not be read as a work event; scoring never guesses.
    #[error("invalid event: {0}")]
    InvalidEvent(String),
    /// A parameters document is malformed, inconsistent or not the version it claims to be.
    #[error("invalid scoring parameters: {0}")]
    InvalidParams(String),
    /// A snapshot manifest or page is malformed or inconsistent with itself.
    #[error("invalid snapshot: {0}")]
    InvalidSnapshot(String),
    /// An identity commitment is not a canonical BN254 field element.
    #[error("invalid identity commitment `{0}`")]
    InvalidCommitment(String),
    /// The Poseidon tree refused the leaves (too many for its depth, bad index).
    #[error(transparent)]
    Tree(#[from] jejak_zk_circuits::Error),
    /// Domain types (CIDs, canonical JSON) failed.
    #[error(transparent)]
    Core(#[from] jejak_core::Error),
}

/// Result with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A stable machine code for the error, for CLI output and API answers.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidEvent(_) => "invalid_event",
            Error::InvalidParams(_) => "invalid_params",
            Error::InvalidSnapshot(_) => "invalid_snapshot",
            Error::InvalidCommitment(_) => "invalid_commitment",
            Error::Tree(_) => "tree",
            Error::Core(_) => "invalid_document",
        }
    }
}
