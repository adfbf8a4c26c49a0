//! Errors of the evidence crate. Every variant maps to a stable [`ReasonCode`].

use crate::{EvidenceKind, ReasonCode};

/// Why a file was refused or an operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The upload exceeds the size limit of its kind; the API answers 413.
    #[error("{kind} upload of more than {limit} bytes refused ({size} bytes so far)")]
    TooLarge {
        /// The kind whose limit applied (the largest limit while the type is still unknown).
        kind: EvidenceKind,
        /// The limit in bytes.
        limit: u64,
        /// Bytes received when the limit was crossed.
        size: u64,
    },
    /// The file was refused; `code` says why, `detail` says where.
    #[error("{code}: {detail}")]
    Refused {
        /// The stable reason.
        code: ReasonCode,
        /// A human explanation.
        detail: String,
    },
    /// Canonical JSON or hashing of a value failed.
    #[error(transparent)]
    Core(#[from] jejak_core::Error),
}

impl Error {
    /// The stable reason code of this error.
    pub fn reason(&self) -> ReasonCode {
        match self {
            Error::TooLarge { .. } => ReasonCode::EvidenceTooLarge,
            Error::Refused { code, .. } => *code,
            Error::Core(_) => ReasonCode::EvidenceMetadataInvalid,
        }
    }

    pub(crate) fn refused(code: ReasonCode, detail: impl Into<String>) -> Self {
        Error::Refused { code, detail: detail.into() }
    }
}

/// Result with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
