//! The jejak marketplace, pure: no I/O, no clock reads (time is passed in).
//!
//! The node runs an off-chain gig marketplace as one platform among others. This crate holds its
//! model and its state machine; `jejak-store` keeps gigs and their history, `jejak-api` serves
//! them under `/v1/market/...`.
//!
//! - [`GigSpec`]: what a client posts (title, category, location or remote, fixed budget or
//!   hourly rate, currency with its ISO 4217 minor units, deadline, required reputation),
//!   validated with bounds ([`GigSpec::validate`]).
//! - [`Gig`]: one gig's aggregate: its proposals and counter-offers, at most one [`Contract`]
//!   (one worker per gig) with milestones, deliveries, disputes, escrow states and double-blind
//!   reviews.
//! - [`Action`] and [`Entry`]: every transition is an entry of an append-only history;
//!   [`Gig::replay`] rebuilds the current state from it and [`Gig::apply`] refuses an illegal
//!   transition without changing anything ([`Error::Illegal`]).
//! - Timers ([`Gig::due`]): offers expire, delivered work is accepted automatically after the
//!   gig's [`Policy`] period, reviews close after theirs; the caller passes the time, so tests
//!   drive them with [`ManualClock`].
//! - [`Outcome`]s of a transition become ordinary work events ([`work_events`]).
//! - [`PaymentProvider`]: the seam for moving money; today escrow states are asserted by the
//!   operator ([`OperatorAsserted`]).
//! - [`geo`]: the bounding box and exact distance behind location search.

mod clock;
mod error;
mod events;
pub mod geo;
mod machine;
mod model;
mod money;
mod payment;

pub use clock::{Clock, ManualClock};
pub use error::{Error, Result};
pub use events::{MARKET_TASK_PREFIX, work_events};
pub use machine::{
    Action, Actor, Contract, ContractStatus, Entry, EscrowState, Gig, GigStatus, Milestone, MilestoneStatus, Outcome,
    Proposal, ProposalStatus, Review, Reviews, Role, Side,
};
pub use model::{
    GigSpec, Location, MAX_DELIVERIES, MAX_HOURS, MAX_MILESTONES, MAX_NOTE_CHARS, MAX_PERIOD_SECS, MAX_PROPOSALS,
    MAX_RADIUS_M, MAX_ROUNDS, MAX_TEXT_CHARS, MAX_TITLE_CHARS, MilestoneSpec, Pay, Policy, Requirement, Terms, Tier,
};
pub use money::{Currency, MAX_AMOUNT_MINOR};
pub use payment::{EscrowMove, OperatorAsserted, PaymentProvider};
