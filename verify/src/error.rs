//! Why a verification failed, or could not be made.

use jejak_evidence::ReasonCode;

/// Why a bundle, receipt or log was refused, or could not be checked. Each variant has a stable
/// code ([`Error::code`]) that the command line and the API show.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Not a bundle: bad JSON, unknown fields, malformed values.
    #[error("malformed_bundle: {0}")]
    Malformed(String),
    /// The bytes are not the canonical form of the bundle they parse to.
    #[error("not_canonical: the file is not in RFC 8785 canonical form (it was altered)")]
    NotCanonical,
    /// The RPC serves another chain than the document's.
    #[error("wrong_chain: {0}")]
    WrongChain(String),
    /// An attestation does not lead to its batch root.
    #[error("attestation_mismatch: {0}")]
    Attestation(String),
    /// The chain does not hold the batch or anchor the bundle names.
    #[error("anchor_mismatch: {0}")]
    Anchor(String),
    /// An anchor is not final yet.
    #[error("not_final: {0}")]
    NotFinal(String),
    /// The snapshot, manifest, parameters or root do not agree with the chain or IPFS.
    #[error("snapshot_mismatch: {0}")]
    Snapshot(String),
    /// The leaf or its path does not lead to the published root.
    #[error("leaf_mismatch: {0}")]
    Leaf(String),
    /// The score card does not follow from the attestations.
    #[error("score_mismatch: {0}")]
    Score(String),
    /// Export: the node has no published score for this worker, or misses data.
    #[error("export_failed: {0}")]
    Export(String),
    /// An evidence file, its receipt or the chain disagree; `code` says where.
    #[error("{code}: {detail}")]
    Receipt {
        /// The stable reason.
        code: ReasonCode,
        /// What was compared.
        detail: String,
    },
    /// A node's evidence log is not consistent with what the chain anchored.
    #[error("log_rewritten: the evidence log was rewritten between sizes {from} and {to}: {detail}")]
    LogRewritten {
        /// The older size.
        from: u64,
        /// The newer size.
        to: u64,
        /// What did not match.
        detail: String,
    },
    /// The receipt file is not an evidence receipt.
    #[error("malformed_receipt: {0}")]
    BadReceipt(String),
    /// The chain could not be asked.
    #[error("rpc_failed: {0}")]
    Rpc(String),
    /// A document could not be fetched from IPFS.
    #[error("ipfs_failed: {0}")]
    Ipfs(String),
    /// The node could not be asked, or answered nonsense.
    #[error("node_failed: {0}")]
    Node(String),
    /// A local file could not be read.
    #[error("io_failed: {0}: {1}")]
    Io(String, #[source] std::io::Error),
    /// The node's database could not be read.
    #[error("database_failed: {0}")]
    Database(#[from] jejak_store::Error),
}

impl Error {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "malformed_bundle",
            Self::NotCanonical => "not_canonical",
            Self::WrongChain(_) => "wrong_chain",
            Self::Attestation(_) => "attestation_mismatch",
            Self::Anchor(_) => "anchor_mismatch",
            Self::NotFinal(_) => "not_final",
            Self::Snapshot(_) => "snapshot_mismatch",
            Self::Leaf(_) => "leaf_mismatch",
            Self::Score(_) => "score_mismatch",
            Self::Export(_) => "export_failed",
            Self::Receipt { code, .. } => code.as_str(),
            Self::LogRewritten { .. } => "log_rewritten",
            Self::BadReceipt(_) => "malformed_receipt",
            Self::Rpc(_) => "rpc_failed",
            Self::Ipfs(_) => "ipfs_failed",
            Self::Node(_) => "node_failed",
            Self::Io(..) => "io_failed",
            Self::Database(_) => "database_failed",
        }
    }

    pub(crate) fn rpc(e: impl std::fmt::Display) -> Self {
        Self::Rpc(e.to_string())
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
