//! What scoring reads from an attested event.
//!
//! The input is the event's canonical JSON body (exactly the bytes its attestation leaf commits
//! to) and the platform of the anchored batch it is in. Only the fields the formula uses are
//! kept, as integers: ratings become basis points of their scale by exact decimal arithmetic
//! ([`crate::fixed::decimal_to_bp`]), times become unix seconds, commitments 32-byte words.

use std::borrow::Cow;

use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::fixed::decimal_to_bp;
use crate::{Error, Result};

/// An identity commitment: a BN254 field element as a 32-byte big-endian word, so that byte
/// order is numeric order (the order of leaves in a snapshot).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Commitment(pub [u8; 32]);

impl Commitment {
    /// Parses the canonical decimal form (below the BN254 modulus, no leading zeros).
    pub fn from_decimal(s: &str) -> Result<Self> {
        let v = jejak_core::event::parse_field_element(s).map_err(|_| Error::InvalidCommitment(s.to_string()))?;
        Ok(Self(v.to_be_bytes::<32>()))
    }

    /// The canonical decimal form.
    pub fn to_decimal(&self) -> String {
        alloy_primitives::U256::from_be_bytes(self.0).to_string()
    }

    /// The field element.
    pub fn to_fr(&self) -> jejak_zk_circuits::Fr {
        jejak_zk_circuits::fr_from_be_bytes(&self.0).expect("commitments are checked below the modulus")
    }
}

impl std::fmt::Display for Commitment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_decimal())
    }
}

/// An ISO 4217 currency code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Currency(pub [u8; 3]);

impl Currency {
    /// The code as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("checked ASCII")
    }

    fn parse(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        (b.len() == 3 && b.iter().all(u8::is_ascii_uppercase)).then(|| Self([b[0], b[1], b[2]]))
    }
}

/// How a dispute ended for the worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dispute {
    /// In the worker's favour.
    Won,
    /// Against the worker.
    Lost,
    /// Settled or withdrawn.
    Settled,
}

/// The part of an event the formula uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    /// `task_completed`, with its earnings when given.
    Completed {
        /// Earnings in minor units and their currency.
        earnings: Option<(Currency, i64)>,
    },
    /// `task_cancelled`; only cancellations by the worker count against them.
    Cancelled {
        /// Whether the worker cancelled.
        by_worker: bool,
    },
    /// `review`, in basis points of the platform's scale.
    Review {
        /// 0..=10,000.
        rating_bp: u32,
    },
    /// `dispute_resolved`.
    Dispute(Dispute),
    /// `account_linked`: the account belongs to this identity.
    Linked {
        /// The identity commitment.
        commitment: Commitment,
    },
    /// `savings_contribution`.
    Savings,
    /// `loan_repaid`.
    Repaid {
        /// Whether on schedule.
        on_time: bool,
    },
    /// `loan_defaulted`.
    Defaulted,
    /// Events v1 does not score (`vouch_submitted`, `por_evidence`).
    Unscored,
}

/// One attested event as scoring sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attested {
    /// The platform of the anchored batch holding it.
    pub platform_id: u64,
    /// The worker's account reference on that platform (the event's `worker`).
    pub worker_ref: String,
    /// When it happened, unix seconds.
    pub occurred_at: i64,
    /// SHA-256 of the canonical body, for `account_linked` events (it orders two links of one
    /// account made in the same second); zero for the others.
    pub digest: [u8; 32],
    /// What it says.
    pub activity: Activity,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    #[allow(dead_code)]
    event_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    worker: Cow<'a, str>,
    #[serde(borrow)]
    occurred_at: Cow<'a, str>,
    #[serde(default, borrow)]
    data: Option<Data<'a>>,
}

/// Every field any v1 payload has; which are required depends on the type. Fields scoring does
/// not use are still listed, so that a valid payload parses and an unknown field does not.
#[derive(Deserialize, Default)]
#[allow(dead_code)]
#[serde(deny_unknown_fields)]
struct Data<'a> {
    #[serde(default, borrow)]
    task_id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    category: Option<Cow<'a, str>>,
    #[serde(default)]
    earnings_minor: Option<i64>,
    #[serde(default, borrow)]
    currency: Option<Cow<'a, str>>,
    #[serde(default)]
    duration_s: Option<u32>,
    #[serde(default)]
    on_time: Option<bool>,
    #[serde(default, borrow)]
    cancelled_by: Option<Cow<'a, str>>,
    #[serde(default)]
    rating: Option<serde_json::Number>,
    #[serde(default)]
    scale: Option<u32>,
    #[serde(default, borrow)]
    voucher: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    sha256: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    verdict: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    outcome: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    identity_commitment: Option<Cow<'a, str>>,
    /// The worker's consent to an `account_linked`, checked by the node that accepted it.
    #[serde(default)]
    link_token: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    amount_minor: Option<i64>,
    #[serde(default, borrow)]
    loan_id: Option<Cow<'a, str>>,
}

impl Attested {
    /// Reads an event body attested by `platform_id`.
    pub fn from_canonical(platform_id: u64, body: &str) -> Result<Self> {
        let bad = |m: &str| Error::InvalidEvent(m.to_string());
        let env: Envelope<'_> = serde_json::from_str(body).map_err(|e| Error::InvalidEvent(format!("{e}")))?;
        if env.worker.is_empty() || env.worker.len() > jejak_core::event::MAX_ID_LEN {
            return Err(bad("worker: empty or too long"));
        }
        let occurred_at = OffsetDateTime::parse(&env.occurred_at, &Rfc3339)
            .map_err(|_| bad("occurred_at: not an RFC 3339 time"))?
            .unix_timestamp();
        let data = env.data.unwrap_or_default();
        let kind = jejak_core::event::EventType::parse(&env.kind)
            .ok_or_else(|| Error::InvalidEvent(format!("unknown event type `{}`", env.kind)))?;
        use jejak_core::event::EventType as T;
        let mut digest = [0u8; 32];
        let activity = match kind {
            T::TaskCompleted => {
                let earnings = match (data.earnings_minor, data.currency.as_deref()) {
                    (Some(e), Some(c)) if e >= 0 => {
                        Some((Currency::parse(c).ok_or_else(|| bad("currency: not ISO 4217"))?, e))
                    }
                    (Some(_), _) => return Err(bad("earnings_minor: negative or without currency")),
                    (None, _) => None,
                };
                Activity::Completed { earnings }
            }
            T::TaskCancelled => {
                let by = data.cancelled_by.ok_or_else(|| bad("cancelled_by missing"))?;
                match by.as_ref() {
                    "worker" => Activity::Cancelled { by_worker: true },
                    "customer" | "platform" => Activity::Cancelled { by_worker: false },
                    _ => return Err(bad("cancelled_by: unknown party")),
                }
            }
            T::Review => {
                let scale = data.scale.unwrap_or(5);
                if !(1..=100).contains(&scale) {
                    return Err(bad("scale: must be 1..=100"));
                }
                let rating = data.rating.ok_or_else(|| bad("rating missing"))?;
                let rating_bp = decimal_to_bp(&rating.to_string(), scale)?;
                if rating_bp > 10_000 {
                    return Err(bad("rating above the scale"));
                }
                Activity::Review { rating_bp }
            }
            T::DisputeResolved => match data.outcome.as_deref() {
                Some("worker_won") => Activity::Dispute(Dispute::Won),
                Some("worker_lost") => Activity::Dispute(Dispute::Lost),
                Some("settled") => Activity::Dispute(Dispute::Settled),
                _ => return Err(bad("outcome: missing or unknown")),
            },
            T::AccountLinked => {
                let c = data.identity_commitment.ok_or_else(|| bad("identity_commitment missing"))?;
                digest = jejak_core::attestation::event_digest(body.as_bytes());
                Activity::Linked { commitment: Commitment::from_decimal(&c)? }
            }
            T::SavingsContribution => {
                positive(data.amount_minor)?;
                Activity::Savings
            }
            T::LoanRepaid => {
                positive(data.amount_minor)?;
                Activity::Repaid { on_time: data.on_time.ok_or_else(|| bad("on_time missing"))? }
            }
            T::LoanDefaulted => {
                positive(data.amount_minor)?;
                Activity::Defaulted
            }
            T::VouchSubmitted | T::PorEvidence => Activity::Unscored,
        };
        Ok(Self { platform_id, worker_ref: env.worker.into_owned(), occurred_at, digest, activity })
    }
}

/// Reads many bodies on every core: `(platform id, canonical body)` in, results in the same
/// order out.
pub fn parse_all(items: &[(u64, &str)]) -> Vec<Result<Attested>> {
    use rayon::prelude::*;
    items.par_iter().with_min_len(512).map(|(platform, body)| Attested::from_canonical(*platform, body)).collect()
}

fn positive(amount: Option<i64>) -> Result<()> {
    match amount {
        Some(a) if a > 0 => Ok(()),
        _ => Err(Error::InvalidEvent("amount_minor: missing or not positive".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_kind() {
        let r = Attested::from_canonical(
            3,
            r#"{"data":{"rating":4.8,"task_id":"t1"},"occurred_at":"2026-01-02T03:04:05Z","type":"review","worker":"w-1"}"#,
        )
        .unwrap();
        assert_eq!(r.activity, Activity::Review { rating_bp: 9600 });
        assert_eq!((r.platform_id, r.worker_ref.as_str(), r.occurred_at), (3, "w-1", 1_767_323_045));
        let c = Attested::from_canonical(
            1,
            r#"{"data":{"currency":"IDR","earnings_minor":25000,"task_id":"r"},"occurred_at":"2026-01-02T03:04:05Z","type":"contribution_created","worker":"w"}"#,
        )
        .unwrap();
        assert_eq!(c.activity, Activity::Completed { earnings: Some((Currency(*b"IDR"), 25000)) });
        let l = Attested::from_canonical(
            1,
            r#"{"data":{"identity_commitment":"12345"},"occurred_at":"2026-01-02T03:04:05Z","type":"account_linked","worker":"w"}"#,
        )
        .unwrap();
        let Activity::Linked { commitment } = l.activity else { panic!("{l:?}") };
        assert_eq!(commitment.to_decimal(), "12345");
        assert_ne!(l.digest, [0; 32]);
    }

    #[test]
    fn refuses_what_it_cannot_score_exactly() {
        for body in [
            r#"{"data":{"rating":6,"task_id":"t"},"occurred_at":"2026-01-02T03:04:05Z","type":"review","worker":"w"}"#,
            r#"{"data":{"task_id":"t"},"occurred_at":"2026-01-02T03:04:05Z","type":"review","worker":"w"}"#,
            r#"{"data":{"rating":-1,"task_id":"t"},"occurred_at":"2026-01-02T03:04:05Z","type":"review","worker":"w"}"#,
            r#"{"data":{"identity_commitment":"007"},"occurred_at":"2026-01-02T03:04:05Z","type":"account_linked","worker":"w"}"#,
            r#"{"data":{"task_id":"t","cancelled_by":"alien"},"occurred_at":"2026-01-02T03:04:05Z","type":"task_cancelled","worker":"w"}"#,
            r#"{"data":{"task_id":"t"},"occurred_at":"yesterday","type":"task_completed","worker":"w"}"#,
            r#"{"data":{"task_id":"t"},"occurred_at":"2026-01-02T03:04:05Z","type":"teleported","worker":"w"}"#,
            r#"{"data":{"task_id":"t","bonus":1},"occurred_at":"2026-01-02T03:04:05Z","type":"task_completed","worker":"w"}"#,
        ] {
            assert!(Attested::from_canonical(1, body).is_err(), "{body}");
        }
    }
}
