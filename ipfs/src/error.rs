//! IPFS errors.

/// What can go wrong getting or storing a block.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No source had the block.
    #[error("block {0} not found in any source")]
    NotFound(String),
    /// A source returned bytes that do not hash to the CID. Never stored.
    #[error("content from {source_name} does not match CID {cid}")]
    Mismatch {
        /// The CID asked for.
        cid: String,
        /// Where the bytes came from.
        source_name: String,
    },
    /// The block is larger than the configured cap.
    #[error("block {cid} exceeds the {limit}-byte size cap")]
    TooLarge {
        /// The CID asked for.
        cid: String,
        /// The cap.
        limit: u64,
    },
    /// A source failed (network error, timeout, HTTP error); worth retrying.
    #[error("{source_name}: {message}")]
    Source {
        /// Which source.
        source_name: String,
        /// What happened.
        message: String,
    },
    /// The CID is not one jejak can verify.
    #[error(transparent)]
    Cid(#[from] jejak_core::Error),
    /// Disk I/O on the blockstore failed.
    #[error("blockstore: {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    /// Whether the error says the content itself is bad (retrying cannot help).
    pub fn is_invalid_content(&self) -> bool {
        matches!(self, Error::Mismatch { .. } | Error::TooLarge { .. } | Error::Cid(_))
    }
}

impl jejak_runtime::Classify for Error {
    /// Transient: a source missing a block, lying about it or failing, a blockstore write that
    /// failed (a full disk), may all be fine on the next attempt; none makes going on wrong.
    fn severity(&self) -> jejak_runtime::Severity {
        jejak_runtime::Severity::Transient
    }
}

/// Result with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
