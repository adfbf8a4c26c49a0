//! Errors of the pure domain layer.

/// What can go wrong in pure domain code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A work event failed validation; the string says which field and why.
    #[error("invalid event: {0}")]
    InvalidEvent(String),
    /// An `account_linked` event's link token is missing or malformed.
    #[error("invalid link token: {0}")]
    InvalidLinkToken(String),
    /// An event named a type jejak does not know.
    #[error("unknown event type `{0}`")]
    UnknownEventType(String),
    /// A CID string could not be parsed or uses a hash jejak does not accept.
    #[error("invalid CID: {0}")]
    InvalidCid(String),
    /// Bytes do not hash to the CID they were fetched under.
    #[error("content does not match CID {cid}")]
    CidMismatch {
        /// The CID the bytes were expected to match.
        cid: String,
    },
    /// A batch document is malformed or inconsistent with its root.
    #[error("invalid batch document: {0}")]
    InvalidBatchDocument(String),
    /// A Merkle proof request is out of range.
    #[error("merkle: {0}")]
    Merkle(String),
    /// JSON (de)serialisation failed.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

/// Result with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
