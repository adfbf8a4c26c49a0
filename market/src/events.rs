//! Marketplace outcomes as ordinary work events, sent through the same path as any platform's.

use jejak_core::event::{Party, RawEvent};
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::machine::{Gig, Outcome, Side};

/// Every marketplace task id starts with this, followed by the gig's id.
pub const MARKET_TASK_PREFIX: &str = "market:";

/// The work events an applied entry brings about: completion (`task_completed`), cancellation
/// (`task_cancelled`), a dispute's outcome (`dispute_resolved`) and the client's published review
/// of the worker (`review`; the worker's review of the client is not about a worker's record).
/// Each `event_id` names the gig, the entry and the kind, so sending them again stores nothing new.
pub fn work_events(gig: &Gig, seq: u64, at: i64, outcomes: &[Outcome]) -> Vec<RawEvent> {
    let task_id = format!("{MARKET_TASK_PREFIX}{}", gig.id);
    let occurred_at = OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into());
    let event = |kind: &str, worker: &str, n: usize, data| RawEvent {
        kind: kind.into(),
        event_id: Some(format!("{task_id}:{seq}:{n}")),
        worker: worker.into(),
        occurred_at: occurred_at.clone(),
        data,
    };
    let mut out = Vec::new();
    for (n, o) in outcomes.iter().enumerate() {
        match o {
            Outcome::Completed { worker, earned_minor } => {
                let mut data = json!({"task_id": task_id, "category": gig.spec.category});
                if *earned_minor > 0 {
                    data["earnings_minor"] = json!(earned_minor);
                    data["currency"] = json!(gig.spec.currency.code());
                }
                out.push(event("task_completed", worker, n, data));
            }
            Outcome::Cancelled { worker, by } => {
                let by = match by {
                    Side::Client => Party::Customer,
                    Side::Worker => Party::Worker,
                };
                out.push(event("task_cancelled", worker, n, json!({"task_id": task_id, "cancelled_by": by})));
            }
            Outcome::DisputeResolved { worker, outcome, .. } => {
                out.push(event("dispute_resolved", worker, n, json!({"task_id": task_id, "outcome": outcome})));
            }
            Outcome::ReviewsPublished { worker, of_worker: Some(rating), .. } => {
                out.push(event("review", worker, n, json!({"task_id": task_id, "rating": rating, "scale": 5})));
            }
            Outcome::ReviewsPublished { of_worker: None, .. }
            | Outcome::ContractStarted { .. }
            | Outcome::Delivered { .. } => {}
        }
    }
    out
}
