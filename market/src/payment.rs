//! The seam for moving money. Today the operator asserts each escrow state through the API and the
//! node records it; a payment provider implementing [`PaymentProvider`] would move the money and
//! the node would record the same [`crate::Action::Fund`], `Release` and `Refund` entries.

use std::future::Future;

/// A move of a milestone's escrow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscrowMove {
    /// The gig.
    pub gig: String,
    /// The milestone.
    pub milestone: u32,
    /// The amount, in minor units.
    pub amount_minor: i64,
    /// Its ISO 4217 currency.
    pub currency: &'static str,
}

/// Something that holds, pays out and returns money. Each call is idempotent for one move, so a
/// retried transition never moves money twice.
pub trait PaymentProvider: Send + Sync {
    /// The provider's error.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Holds the amount from the client.
    fn fund(&self, m: &EscrowMove) -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// Pays the held amount to the worker.
    fn release(&self, m: &EscrowMove) -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// Returns the held amount to the client.
    fn refund(&self, m: &EscrowMove) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

/// No provider: the operator moved the money outside the node and asserts it; nothing to do.
#[derive(Debug, Clone, Copy, Default)]
pub struct OperatorAsserted;

impl PaymentProvider for OperatorAsserted {
    type Error = std::convert::Infallible;

    async fn fund(&self, _: &EscrowMove) -> Result<(), Self::Error> {
        Ok(())
    }

    async fn release(&self, _: &EscrowMove) -> Result<(), Self::Error> {
        Ok(())
    }

    async fn refund(&self, _: &EscrowMove) -> Result<(), Self::Error> {
        Ok(())
    }
}
