//! What can go wrong in the marketplace's model.

/// A marketplace error, each with a stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Input that breaks a bound or a rule of the model (422).
    #[error("{field}: {message}")]
    Invalid {
        /// The field, as the API names it.
        field: &'static str,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The transition is not allowed in the gig's current state (409).
    #[error("{action} is not allowed: {reason}")]
    Illegal {
        /// The action's wire name.
        action: &'static str,
        /// Why, in the current state.
        reason: String,
    },
    /// The actor may not take this action on this gig (403).
    #[error("{0}")]
    Forbidden(String),
    /// A history that does not replay (a corrupt store).
    #[error("history entry {seq} does not replay: {reason}")]
    Replay {
        /// The entry's position.
        seq: u64,
        /// Why it was refused.
        reason: String,
    },
}

impl Error {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid { .. } => "invalid_request",
            Self::Illegal { .. } => "illegal_transition",
            Self::Forbidden(_) => "forbidden",
            Self::Replay { .. } => "internal",
        }
    }

    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid { field, message: message.into() }
    }

    pub(crate) fn illegal(action: &'static str, reason: impl Into<String>) -> Self {
        Self::Illegal { action, reason: reason.into() }
    }
}

/// A marketplace result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
