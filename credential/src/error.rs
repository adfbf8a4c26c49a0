//! Errors of the credential crate.

/// Why a credential, key or status list could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The document is not shaped like a credential this crate handles.
    #[error("malformed credential: {0}")]
    Malformed(String),
    /// A `did:key` or multibase value could not be decoded.
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// An encoded status list could not be decoded.
    #[error("invalid status list: {0}")]
    InvalidStatusList(String),
    /// Canonical JSON (RFC 8785) failed.
    #[error(transparent)]
    Core(#[from] jejak_core::Error),
}

/// Result of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
