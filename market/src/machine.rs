//! One gig's aggregate and its state machine. Every transition is an [`Entry`] of an append-only
//! history; [`Gig::replay`] folds a history into the current state, and [`Gig::apply`] is the only
//! way a state changes, so what is stored and what replays cannot drift apart.

use jejak_core::event::DisputeOutcome;
use serde::{Deserialize, Serialize};

use crate::model::{
    GigSpec, MAX_DELIVERIES, MAX_NOTE_CHARS, MAX_PERIOD_SECS, MAX_PROPOSALS, MAX_ROUNDS, MAX_TEXT_CHARS, Policy, Terms,
    check_text,
};
use crate::{Error, Result};

/// The role an actor acts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Posts gigs, accepts proposals and deliveries, reviews the worker.
    Client,
    /// Proposes, delivers, reviews the client.
    Worker,
    /// Resolves disputes.
    Arbiter,
    /// The operator: resolves disputes, asserts escrow states.
    Admin,
    /// The node's timers.
    System,
}

/// Who takes an action: a role and the account it acts for (a client or worker reference on the
/// marketplace; the key's label for arbiters and admins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    /// The role.
    pub role: Role,
    /// The account.
    pub id: String,
}

impl Actor {
    /// The node's timers.
    pub fn system() -> Self {
        Self { role: Role::System, id: "timer".into() }
    }
}

/// The two sides of a contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The client.
    Client,
    /// The worker.
    Worker,
}

/// A transition, as stored in the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// A client posts the gig (the first entry of every history).
    Post {
        /// What is posted.
        spec: GigSpec,
        /// The timer periods it runs under.
        policy: Policy,
    },
    /// A worker proposes terms, open until `expires_at`.
    Propose {
        /// The milestones.
        terms: Terms,
        /// A cover message.
        #[serde(default)]
        message: String,
        /// When the offer lapses.
        expires_at: i64,
    },
    /// The side that did not make the current offer of a proposal counters it.
    Counter {
        /// The proposal.
        proposal: u32,
        /// The new terms.
        terms: Terms,
        /// When the counter-offer lapses.
        expires_at: i64,
    },
    /// The worker withdraws a proposal.
    Withdraw {
        /// The proposal.
        proposal: u32,
    },
    /// The client declines a proposal.
    Decline {
        /// The proposal.
        proposal: u32,
    },
    /// The side that did not make the current offer accepts it: the contract starts.
    Accept {
        /// The proposal.
        proposal: u32,
    },
    /// A worker takes the gig as posted: the contract starts on the posted terms.
    Take,
    /// The client withdraws an open gig.
    CancelGig,
    /// The operator asserts a milestone's amount is held in escrow.
    Fund {
        /// The milestone (from 0).
        milestone: u32,
    },
    /// The operator asserts a milestone's escrow was paid to the worker.
    Release {
        /// The milestone.
        milestone: u32,
    },
    /// The operator asserts a milestone's escrow went back to the client.
    Refund {
        /// The milestone.
        milestone: u32,
    },
    /// The worker delivers a milestone.
    Deliver {
        /// The milestone.
        milestone: u32,
        /// What was delivered.
        #[serde(default)]
        note: String,
        /// The proof-of-reality task holding the evidence (required for physical gigs).
        #[serde(default)]
        evidence_task: Option<String>,
    },
    /// The client asks for changes to a delivery.
    RequestChanges {
        /// The milestone.
        milestone: u32,
        /// What to change.
        reason: String,
    },
    /// The client accepts a delivery.
    AcceptDelivery {
        /// The milestone.
        milestone: u32,
    },
    /// Either side disputes a delivered milestone.
    Dispute {
        /// The milestone.
        milestone: u32,
        /// Why.
        reason: String,
    },
    /// An arbiter (or the operator) resolves a dispute.
    Resolve {
        /// The milestone.
        milestone: u32,
        /// How it ended for the worker.
        outcome: DisputeOutcome,
    },
    /// Either side ends the contract; what is not delivered is cancelled.
    CancelContract {
        /// Why.
        #[serde(default)]
        reason: String,
    },
    /// A side reviews the other once the contract ended (hidden until both did or the window closes).
    Review {
        /// 1 to 5 stars.
        rating: u8,
        /// A comment.
        #[serde(default)]
        comment: String,
    },
    /// Timer: a proposal's offer lapsed.
    ExpireProposal {
        /// The proposal.
        proposal: u32,
    },
    /// Timer: the gig's deadline passed without a contract.
    ExpireGig,
    /// Timer: a delivery was not answered within the policy's period.
    AutoAccept {
        /// The milestone.
        milestone: u32,
    },
    /// Timer: the review window closed.
    CloseReviews,
}

impl Action {
    /// The action's wire name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Post { .. } => "post",
            Self::Propose { .. } => "propose",
            Self::Counter { .. } => "counter",
            Self::Withdraw { .. } => "withdraw",
            Self::Decline { .. } => "decline",
            Self::Accept { .. } => "accept",
            Self::Take => "take",
            Self::CancelGig => "cancel_gig",
            Self::Fund { .. } => "fund",
            Self::Release { .. } => "release",
            Self::Refund { .. } => "refund",
            Self::Deliver { .. } => "deliver",
            Self::RequestChanges { .. } => "request_changes",
            Self::AcceptDelivery { .. } => "accept_delivery",
            Self::Dispute { .. } => "dispute",
            Self::Resolve { .. } => "resolve",
            Self::CancelContract { .. } => "cancel_contract",
            Self::Review { .. } => "review",
            Self::ExpireProposal { .. } => "expire_proposal",
            Self::ExpireGig => "expire_gig",
            Self::AutoAccept { .. } => "auto_accept",
            Self::CloseReviews => "close_reviews",
        }
    }
}

/// One row of a gig's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Position in the gig's history, from 1.
    pub seq: u64,
    /// When it was applied (unix seconds).
    pub at: i64,
    /// Who took it.
    pub actor: Actor,
    /// What it did.
    pub action: Action,
}

/// Where a gig stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GigStatus {
    /// Taking proposals.
    Open,
    /// A contract runs.
    Contracted,
    /// The contract completed.
    Completed,
    /// The gig or its contract was cancelled.
    Cancelled,
    /// The deadline passed without a contract.
    Expired,
}

impl GigStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Contracted => "contracted",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
        }
    }
}

/// Where a proposal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProposalStatus {
    /// Its current offer may be accepted or countered.
    Open,
    /// The worker withdrew it.
    Withdrawn,
    /// The client declined it.
    Declined,
    /// It became the contract.
    Accepted,
    /// Its offer lapsed.
    Expired,
    /// The gig stopped taking proposals (another contract, cancelled, expired).
    Closed,
}

/// A worker's proposal and its negotiation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    /// Its number in the gig, from 0.
    pub id: u32,
    /// The worker.
    pub worker: String,
    /// The current offer's terms.
    pub terms: Terms,
    /// The worker's cover message.
    pub message: String,
    /// Who made the current offer.
    pub offered_by: Side,
    /// When the current offer lapses.
    pub expires_at: i64,
    /// Offers made so far (the proposal, then each counter-offer).
    pub rounds: u32,
    /// Its state.
    pub status: ProposalStatus,
}

/// A milestone's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MilestoneStatus {
    /// Being worked on.
    InProgress,
    /// Delivered, waiting for the client.
    Delivered,
    /// The client asked for changes.
    ChangesRequested,
    /// Accepted (by the client or by the timer).
    Accepted,
    /// Under dispute.
    Disputed,
    /// The dispute was resolved.
    Resolved,
    /// The contract was cancelled before it was delivered.
    Cancelled,
}

impl MilestoneStatus {
    /// Whether nothing more happens to the milestone's work.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Accepted | Self::Resolved | Self::Cancelled)
    }
}

/// A milestone's escrow, as the operator (or a payment provider) asserts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscrowState {
    /// Nothing held.
    Unfunded,
    /// The amount is held.
    Funded,
    /// Paid to the worker.
    Released,
    /// Returned to the client.
    Refunded,
}

/// A milestone of a contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Milestone {
    /// What is delivered.
    pub title: String,
    /// What it pays, in minor units.
    pub amount_minor: i64,
    /// Its state.
    pub status: MilestoneStatus,
    /// Its escrow.
    pub escrow: EscrowState,
    /// How many times it was delivered.
    pub deliveries: u32,
    /// When it was last delivered.
    pub delivered_at: Option<i64>,
    /// The last delivery's note.
    pub note: String,
    /// The proof-of-reality task of the last delivery.
    pub evidence_task: Option<String>,
    /// Who opened the dispute, if any.
    pub disputed_by: Option<Side>,
    /// How the dispute ended.
    pub outcome: Option<DisputeOutcome>,
}

/// A contract's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContractStatus {
    /// Work goes on.
    Active,
    /// Every milestone was accepted or resolved.
    Completed,
    /// A side ended it.
    Cancelled,
}

/// One side's review of the other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    /// 1 to 5.
    pub rating: u8,
    /// A comment.
    pub comment: String,
    /// When it was written.
    pub at: i64,
}

/// The double-blind reviews of a contract: neither is shown until `published_at`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Reviews {
    /// The client's review of the worker.
    pub of_worker: Option<Review>,
    /// The worker's review of the client.
    pub of_client: Option<Review>,
    /// When both became visible (both written, or the window closed).
    pub published_at: Option<i64>,
}

/// The contract between the gig's client and one worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contract {
    /// The worker.
    pub worker: String,
    /// The proposal it came from (none when the worker took the gig as posted).
    pub proposal: Option<u32>,
    /// The milestones.
    pub milestones: Vec<Milestone>,
    /// Its state.
    pub status: ContractStatus,
    /// When it started.
    pub started_at: i64,
    /// When it completed or was cancelled.
    pub ended_at: Option<i64>,
    /// Who cancelled it.
    pub cancelled_by: Option<Side>,
    /// The reviews.
    pub reviews: Reviews,
}

impl Contract {
    /// The sum of the milestones.
    pub fn total_minor(&self) -> i64 {
        self.milestones.iter().map(|m| m.amount_minor).sum()
    }

    /// What the worker earned: accepted milestones and disputes not lost.
    pub fn earned_minor(&self) -> i64 {
        self.milestones.iter().filter(|m| m.pays_worker()).map(|m| m.amount_minor).sum()
    }

    /// When the review window closes.
    pub fn reviews_close_at(&self, policy: &Policy) -> Option<i64> {
        self.ended_at.map(|t| t.saturating_add(policy.review_window_secs))
    }
}

impl Milestone {
    fn pays_worker(&self) -> bool {
        match self.status {
            MilestoneStatus::Accepted => true,
            MilestoneStatus::Resolved => self.outcome != Some(DisputeOutcome::WorkerLost),
            _ => false,
        }
    }

    fn refunds_client(&self) -> bool {
        match self.status {
            MilestoneStatus::Cancelled => true,
            MilestoneStatus::Resolved => self.outcome != Some(DisputeOutcome::WorkerWon),
            _ => false,
        }
    }
}

/// What a transition brought about that others care about: work events, webhooks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// A contract started.
    ContractStarted {
        /// The worker.
        worker: String,
    },
    /// A milestone was delivered.
    Delivered {
        /// The milestone.
        milestone: u32,
    },
    /// The contract completed.
    Completed {
        /// The worker.
        worker: String,
        /// What the worker earned, in minor units.
        earned_minor: i64,
    },
    /// The contract was cancelled.
    Cancelled {
        /// The worker.
        worker: String,
        /// By whom.
        by: Side,
    },
    /// A dispute was resolved.
    DisputeResolved {
        /// The worker.
        worker: String,
        /// The milestone.
        milestone: u32,
        /// How it ended for the worker.
        outcome: DisputeOutcome,
    },
    /// The reviews became visible.
    ReviewsPublished {
        /// The worker.
        worker: String,
        /// The client's rating of the worker, if the client reviewed.
        of_worker: Option<u8>,
        /// The worker's rating of the client, if the worker reviewed.
        of_client: Option<u8>,
    },
}

/// One gig: what was posted, its proposals, its contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gig {
    /// The node's id for the gig.
    pub id: String,
    /// The client who posted it.
    pub client: String,
    /// What was posted.
    pub spec: GigSpec,
    /// Its timer periods.
    pub policy: Policy,
    /// Its state.
    pub status: GigStatus,
    /// When it was posted.
    pub posted_at: i64,
    /// When it last changed.
    pub updated_at: i64,
    /// Entries applied (the last entry's `seq`).
    pub version: u64,
    /// Its proposals, in order.
    pub proposals: Vec<Proposal>,
    /// Its contract.
    pub contract: Option<Contract>,
}

impl Gig {
    /// Applies the first entry of a history, which must post the gig.
    pub fn post(id: &str, entry: &Entry) -> Result<(Self, Vec<Outcome>)> {
        let Action::Post { spec, policy } = &entry.action else {
            return Err(Error::illegal(entry.action.name(), "a gig's history starts with its posting"));
        };
        if entry.seq != 1 {
            return Err(Error::illegal("post", "a gig's history starts at 1"));
        }
        if entry.actor.role != Role::Client {
            return Err(Error::Forbidden("only a client posts gigs".into()));
        }
        spec.validate(entry.at)?;
        policy.validate()?;
        let gig = Self {
            id: id.to_owned(),
            client: entry.actor.id.clone(),
            spec: spec.clone(),
            policy: *policy,
            status: GigStatus::Open,
            posted_at: entry.at,
            updated_at: entry.at,
            version: 1,
            proposals: Vec::new(),
            contract: None,
        };
        Ok((gig, Vec::new()))
    }

    /// Rebuilds a gig from its whole history. Validation is that of each action at its time, so a
    /// history written by [`Gig::apply`] always replays.
    pub fn replay(id: &str, history: &[Entry]) -> Result<Self> {
        let replay_err = |seq, e: Error| Error::Replay { seq, reason: e.to_string() };
        let (first, rest) = history.split_first().ok_or(Error::Replay { seq: 1, reason: "empty history".into() })?;
        let (mut gig, _) = Self::post(id, first).map_err(|e| replay_err(first.seq, e))?;
        for entry in rest {
            gig.apply(entry).map_err(|e| replay_err(entry.seq, e))?;
        }
        Ok(gig)
    }

    /// Applies one entry: either every change or none. The entry's `seq` must be the next one and
    /// its time not before the last entry's.
    pub fn apply(&mut self, entry: &Entry) -> Result<Vec<Outcome>> {
        let name = entry.action.name();
        if entry.seq != self.version + 1 {
            return Err(Error::illegal(name, format!("entry {} follows {}", entry.seq, self.version)));
        }
        if entry.at < self.updated_at {
            return Err(Error::illegal(name, "time does not run backwards"));
        }
        let mut next = self.clone();
        let outcomes = next.step(entry)?;
        next.version = entry.seq;
        next.updated_at = entry.at;
        *self = next;
        Ok(outcomes)
    }

    /// The side an actor is on in this gig, if any.
    pub fn side_of(&self, actor: &Actor) -> Option<Side> {
        match actor.role {
            Role::Client if actor.id == self.client => Some(Side::Client),
            Role::Worker if self.contract.as_ref().is_some_and(|c| c.worker == actor.id) => Some(Side::Worker),
            _ => None,
        }
    }

    /// The earliest time a timer of the gig is due, if any runs.
    pub fn next_timer(&self) -> Option<i64> {
        self.timers().into_iter().map(|(at, _)| at).min()
    }

    /// The timer actions due at `now`, in the order they fell due.
    pub fn due(&self, now: i64) -> Vec<Action> {
        let mut due: Vec<(i64, Action)> = self.timers().into_iter().filter(|(at, _)| *at <= now).collect();
        due.sort_by_key(|(at, _)| *at);
        due.into_iter().map(|(_, a)| a).collect()
    }

    fn timers(&self) -> Vec<(i64, Action)> {
        let mut out = Vec::new();
        if self.status == GigStatus::Open {
            out.push((self.spec.deadline, Action::ExpireGig));
            for p in self.proposals.iter().filter(|p| p.status == ProposalStatus::Open) {
                out.push((p.expires_at, Action::ExpireProposal { proposal: p.id }));
            }
        }
        if let Some(c) = &self.contract {
            for (i, m) in c.milestones.iter().enumerate() {
                if let (MilestoneStatus::Delivered, Some(at)) = (m.status, m.delivered_at) {
                    out.push((
                        at.saturating_add(self.policy.auto_accept_secs),
                        Action::AutoAccept { milestone: i as u32 },
                    ));
                }
            }
            if c.reviews.published_at.is_none()
                && let Some(at) = c.reviews_close_at(&self.policy)
            {
                out.push((at, Action::CloseReviews));
            }
        }
        out
    }

    fn step(&mut self, entry: &Entry) -> Result<Vec<Outcome>> {
        let (at, actor) = (entry.at, &entry.actor);
        let name = entry.action.name();
        match &entry.action {
            Action::Post { .. } => Err(Error::illegal(name, "the gig is already posted")),
            Action::Propose { terms, message, expires_at } => {
                self.require_role(actor, Role::Worker)?;
                if actor.id == self.client {
                    return Err(Error::Forbidden("a client cannot propose on its own gig".into()));
                }
                self.require_taking(name, at)?;
                terms.validate()?;
                check_text("message", message, 0, MAX_TEXT_CHARS)?;
                check_expiry(*expires_at, at)?;
                if self.proposals.iter().any(|p| p.worker == actor.id && p.status == ProposalStatus::Open) {
                    return Err(Error::illegal(name, "this worker already has an open proposal on the gig"));
                }
                if self.proposals.len() >= MAX_PROPOSALS {
                    return Err(Error::illegal(name, format!("the gig has its {MAX_PROPOSALS} proposals")));
                }
                self.proposals.push(Proposal {
                    id: self.proposals.len() as u32,
                    worker: actor.id.clone(),
                    terms: terms.clone(),
                    message: message.clone(),
                    offered_by: Side::Worker,
                    expires_at: *expires_at,
                    rounds: 1,
                    status: ProposalStatus::Open,
                });
                Ok(vec![])
            }
            Action::Counter { proposal, terms, expires_at } => {
                self.require_taking(name, at)?;
                let by = self.negotiator(actor, *proposal)?;
                terms.validate()?;
                check_expiry(*expires_at, at)?;
                let p = self.open_offer(name, *proposal, at)?;
                if p.offered_by == by {
                    return Err(Error::illegal(
                        name,
                        "the current offer is this side's own; the other side answers it",
                    ));
                }
                if p.rounds as usize >= MAX_ROUNDS {
                    return Err(Error::illegal(name, format!("a negotiation has at most {MAX_ROUNDS} offers")));
                }
                p.terms = terms.clone();
                p.offered_by = by;
                p.expires_at = *expires_at;
                p.rounds += 1;
                Ok(vec![])
            }
            Action::Withdraw { proposal } => {
                if self.negotiator(actor, *proposal)? != Side::Worker {
                    return Err(Error::Forbidden("only the proposing worker withdraws a proposal".into()));
                }
                self.open_proposal(name, *proposal)?.status = ProposalStatus::Withdrawn;
                Ok(vec![])
            }
            Action::Decline { proposal } => {
                if self.negotiator(actor, *proposal)? != Side::Client {
                    return Err(Error::Forbidden("only the gig's client declines a proposal".into()));
                }
                self.open_proposal(name, *proposal)?.status = ProposalStatus::Declined;
                Ok(vec![])
            }
            Action::Accept { proposal } => {
                self.require_taking(name, at)?;
                let by = self.negotiator(actor, *proposal)?;
                let p = self.open_offer(name, *proposal, at)?;
                if p.offered_by == by {
                    return Err(Error::illegal(name, "a side cannot accept its own offer"));
                }
                p.status = ProposalStatus::Accepted;
                let (worker, terms, id) = (p.worker.clone(), p.terms.clone(), p.id);
                Ok(self.start_contract(worker, Some(id), &terms, at))
            }
            Action::Take => {
                self.require_role(actor, Role::Worker)?;
                if actor.id == self.client {
                    return Err(Error::Forbidden("a client cannot take its own gig".into()));
                }
                self.require_taking(name, at)?;
                let terms = self.spec.posted_terms();
                Ok(self.start_contract(actor.id.clone(), None, &terms, at))
            }
            Action::CancelGig => {
                self.require_client(actor)?;
                if self.status != GigStatus::Open {
                    return Err(self.not_in(name, "an open gig"));
                }
                self.status = GigStatus::Cancelled;
                self.close_proposals();
                Ok(vec![])
            }
            Action::Fund { milestone } | Action::Release { milestone } | Action::Refund { milestone } => {
                self.require_role(actor, Role::Admin)?;
                let active = self.contract.as_ref().is_some_and(|c| c.status == ContractStatus::Active);
                let m = self.milestone(name, *milestone)?;
                let (from, to, allowed, why) = match &entry.action {
                    Action::Fund { .. } => (
                        EscrowState::Unfunded,
                        EscrowState::Funded,
                        active && !m.status.is_final(),
                        "funding needs an active contract and a milestone still open",
                    ),
                    Action::Release { .. } => (
                        EscrowState::Funded,
                        EscrowState::Released,
                        m.pays_worker(),
                        "release needs the milestone accepted or a dispute the worker did not lose",
                    ),
                    _ => (
                        EscrowState::Funded,
                        EscrowState::Refunded,
                        m.refunds_client(),
                        "refund needs the milestone cancelled or a dispute the worker did not win",
                    ),
                };
                if m.escrow != from {
                    return Err(Error::illegal(name, format!("the escrow is {:?}", m.escrow).to_lowercase()));
                }
                if !allowed {
                    return Err(Error::illegal(name, why));
                }
                m.escrow = to;
                Ok(vec![])
            }
            Action::Deliver { milestone, note, evidence_task } => {
                self.require_contract_side(actor, Side::Worker)?;
                check_text("note", note, 0, MAX_NOTE_CHARS)?;
                if let Some(t) = evidence_task {
                    check_text("evidence_task", t, 1, 128)?;
                } else if self.spec.location.is_physical() {
                    return Err(Error::invalid("evidence_task", "a physical gig is delivered with its evidence task"));
                }
                let m = self.active_milestone(name, *milestone)?;
                if !matches!(m.status, MilestoneStatus::InProgress | MilestoneStatus::ChangesRequested) {
                    return Err(Error::illegal(name, format!("milestone {milestone} is {:?}", m.status)));
                }
                if m.deliveries >= MAX_DELIVERIES {
                    return Err(Error::illegal(
                        name,
                        format!("a milestone is delivered at most {MAX_DELIVERIES} times"),
                    ));
                }
                m.status = MilestoneStatus::Delivered;
                m.deliveries += 1;
                m.delivered_at = Some(at);
                m.note = note.clone();
                m.evidence_task = evidence_task.clone();
                Ok(vec![Outcome::Delivered { milestone: *milestone }])
            }
            Action::RequestChanges { milestone, reason } => {
                self.require_contract_side(actor, Side::Client)?;
                check_text("reason", reason, 1, MAX_NOTE_CHARS)?;
                let m = self.delivered(name, *milestone)?;
                m.status = MilestoneStatus::ChangesRequested;
                Ok(vec![])
            }
            Action::AcceptDelivery { milestone } => {
                self.require_contract_side(actor, Side::Client)?;
                self.delivered(name, *milestone)?.status = MilestoneStatus::Accepted;
                Ok(self.settle_if_done(at))
            }
            Action::AutoAccept { milestone } => {
                self.require_role(actor, Role::System)?;
                let period = self.policy.auto_accept_secs;
                let m = self.delivered(name, *milestone)?;
                if m.delivered_at.is_none_or(|d| at < d.saturating_add(period)) {
                    return Err(Error::illegal(name, "the delivery's answer period has not passed"));
                }
                m.status = MilestoneStatus::Accepted;
                Ok(self.settle_if_done(at))
            }
            Action::Dispute { milestone, reason } => {
                let side = self.contract_side(actor)?;
                check_text("reason", reason, 1, MAX_NOTE_CHARS)?;
                let m = self.active_milestone(name, *milestone)?;
                if !matches!(m.status, MilestoneStatus::Delivered | MilestoneStatus::ChangesRequested) {
                    return Err(Error::illegal(
                        name,
                        "only a delivered milestone or one sent back for changes is disputed",
                    ));
                }
                m.status = MilestoneStatus::Disputed;
                m.disputed_by = Some(side);
                Ok(vec![])
            }
            Action::Resolve { milestone, outcome } => {
                if !matches!(actor.role, Role::Arbiter | Role::Admin) {
                    return Err(Error::Forbidden("only an arbiter or the operator resolves disputes".into()));
                }
                let m = self.active_milestone(name, *milestone)?;
                if m.status != MilestoneStatus::Disputed {
                    return Err(Error::illegal(name, format!("milestone {milestone} is not under dispute")));
                }
                m.status = MilestoneStatus::Resolved;
                m.outcome = Some(*outcome);
                let worker = self.contract.as_ref().map(|c| c.worker.clone()).unwrap_or_default();
                let mut out = vec![Outcome::DisputeResolved { worker, milestone: *milestone, outcome: *outcome }];
                out.extend(self.settle_if_done(at));
                Ok(out)
            }
            Action::CancelContract { reason } => {
                let side = self.contract_side(actor)?;
                check_text("reason", reason, 0, MAX_NOTE_CHARS)?;
                let c = self.active_contract(name)?;
                if c.milestones
                    .iter()
                    .any(|m| matches!(m.status, MilestoneStatus::Delivered | MilestoneStatus::Disputed))
                {
                    return Err(Error::illegal(
                        name,
                        "a delivery waits for an answer or a dispute is open: accept, ask for changes or wait for the arbiter first",
                    ));
                }
                for m in c.milestones.iter_mut().filter(|m| !m.status.is_final()) {
                    m.status = MilestoneStatus::Cancelled;
                }
                c.status = ContractStatus::Cancelled;
                c.ended_at = Some(at);
                c.cancelled_by = Some(side);
                let worker = c.worker.clone();
                self.status = GigStatus::Cancelled;
                Ok(vec![Outcome::Cancelled { worker, by: side }])
            }
            Action::Review { rating, comment } => {
                let side = self.contract_side(actor)?;
                if !(1..=5).contains(rating) {
                    return Err(Error::invalid("rating", "1 to 5"));
                }
                check_text("comment", comment, 0, MAX_NOTE_CHARS)?;
                let close = self.contract.as_ref().and_then(|c| c.reviews_close_at(&self.policy));
                let c = self.contract.as_mut().ok_or_else(|| Error::illegal(name, "the gig has no contract"))?;
                if c.status == ContractStatus::Active {
                    return Err(Error::illegal(name, "reviews open when the contract ends"));
                }
                if c.reviews.published_at.is_some() || close.is_some_and(|t| at >= t) {
                    return Err(Error::illegal(name, "the review window is closed"));
                }
                let slot = match side {
                    Side::Client => &mut c.reviews.of_worker,
                    Side::Worker => &mut c.reviews.of_client,
                };
                if slot.is_some() {
                    return Err(Error::illegal(name, "this side has already reviewed"));
                }
                *slot = Some(Review { rating: *rating, comment: comment.clone(), at });
                if c.reviews.of_worker.is_some() && c.reviews.of_client.is_some() {
                    return Ok(vec![publish(c, at)]);
                }
                Ok(vec![])
            }
            Action::CloseReviews => {
                self.require_role(actor, Role::System)?;
                let close = self.contract.as_ref().and_then(|c| c.reviews_close_at(&self.policy));
                let c = self.contract.as_mut().ok_or_else(|| Error::illegal(name, "the gig has no contract"))?;
                if c.reviews.published_at.is_some() || close.is_none_or(|t| at < t) {
                    return Err(Error::illegal(name, "the review window is not closing"));
                }
                Ok(vec![publish(c, at)])
            }
            Action::ExpireProposal { proposal } => {
                self.require_role(actor, Role::System)?;
                let p = self.open_proposal(name, *proposal)?;
                if at < p.expires_at {
                    return Err(Error::illegal(name, "the offer has not lapsed"));
                }
                p.status = ProposalStatus::Expired;
                Ok(vec![])
            }
            Action::ExpireGig => {
                self.require_role(actor, Role::System)?;
                if self.status != GigStatus::Open || at < self.spec.deadline {
                    return Err(Error::illegal(name, "the gig is not open past its deadline"));
                }
                self.status = GigStatus::Expired;
                self.close_proposals();
                Ok(vec![])
            }
        }
    }

    fn start_contract(&mut self, worker: String, proposal: Option<u32>, terms: &Terms, at: i64) -> Vec<Outcome> {
        let milestones = terms
            .milestones
            .iter()
            .map(|m| Milestone {
                title: m.title.clone(),
                amount_minor: m.amount_minor,
                status: MilestoneStatus::InProgress,
                escrow: EscrowState::Unfunded,
                deliveries: 0,
                delivered_at: None,
                note: String::new(),
                evidence_task: None,
                disputed_by: None,
                outcome: None,
            })
            .collect();
        self.contract = Some(Contract {
            worker: worker.clone(),
            proposal,
            milestones,
            status: ContractStatus::Active,
            started_at: at,
            ended_at: None,
            cancelled_by: None,
            reviews: Reviews::default(),
        });
        self.status = GigStatus::Contracted;
        self.close_proposals();
        vec![Outcome::ContractStarted { worker }]
    }

    /// Completes the contract once every milestone is final.
    fn settle_if_done(&mut self, at: i64) -> Vec<Outcome> {
        let Some(c) = self.contract.as_mut() else { return vec![] };
        if c.status != ContractStatus::Active || !c.milestones.iter().all(|m| m.status.is_final()) {
            return vec![];
        }
        c.status = ContractStatus::Completed;
        c.ended_at = Some(at);
        self.status = GigStatus::Completed;
        vec![Outcome::Completed { worker: c.worker.clone(), earned_minor: c.earned_minor() }]
    }

    fn close_proposals(&mut self) {
        for p in self.proposals.iter_mut().filter(|p| p.status == ProposalStatus::Open) {
            p.status = ProposalStatus::Closed;
        }
    }

    fn not_in(&self, action: &'static str, wanted: &str) -> Error {
        Error::illegal(action, format!("the gig is {}, not {wanted}", self.status.as_str()))
    }

    fn require_role(&self, actor: &Actor, role: Role) -> Result<()> {
        if actor.role == role {
            Ok(())
        } else {
            Err(Error::Forbidden(format!("this action is taken by the {role:?} role").to_lowercase()))
        }
    }

    fn require_client(&self, actor: &Actor) -> Result<()> {
        if actor.role == Role::Client && actor.id == self.client {
            Ok(())
        } else {
            Err(Error::Forbidden("only the gig's client takes this action".into()))
        }
    }

    /// The gig takes proposals and contracts: open and before its deadline.
    fn require_taking(&self, action: &'static str, at: i64) -> Result<()> {
        if self.status != GigStatus::Open {
            return Err(self.not_in(action, "open"));
        }
        if at >= self.spec.deadline {
            return Err(Error::illegal(action, "the gig's deadline has passed"));
        }
        Ok(())
    }

    /// Which side of a proposal's negotiation the actor is on.
    fn negotiator(&self, actor: &Actor, proposal: u32) -> Result<Side> {
        let p = self.proposals.get(proposal as usize).ok_or_else(|| Error::invalid("proposal", "no such proposal"))?;
        match actor.role {
            Role::Client if actor.id == self.client => Ok(Side::Client),
            Role::Worker if actor.id == p.worker => Ok(Side::Worker),
            _ => Err(Error::Forbidden("only the gig's client and the proposing worker negotiate".into())),
        }
    }

    fn open_proposal(&mut self, action: &'static str, proposal: u32) -> Result<&mut Proposal> {
        let p =
            self.proposals.get_mut(proposal as usize).ok_or_else(|| Error::invalid("proposal", "no such proposal"))?;
        if p.status != ProposalStatus::Open {
            return Err(Error::illegal(action, format!("the proposal is {:?}", p.status).to_lowercase()));
        }
        Ok(p)
    }

    /// An open proposal whose current offer has not lapsed at `at`.
    fn open_offer(&mut self, action: &'static str, proposal: u32, at: i64) -> Result<&mut Proposal> {
        let p = self.open_proposal(action, proposal)?;
        if at >= p.expires_at {
            return Err(Error::illegal(action, "the offer has lapsed"));
        }
        Ok(p)
    }

    fn contract_side(&self, actor: &Actor) -> Result<Side> {
        self.side_of(actor)
            .ok_or_else(|| Error::Forbidden("only the contract's client and worker take this action".into()))
    }

    fn require_contract_side(&self, actor: &Actor, side: Side) -> Result<()> {
        if self.side_of(actor) == Some(side) {
            Ok(())
        } else {
            Err(Error::Forbidden(format!("only the contract's {side:?} takes this action").to_lowercase()))
        }
    }

    fn active_contract(&mut self, action: &'static str) -> Result<&mut Contract> {
        let status = self.status;
        match self.contract.as_mut() {
            Some(c) if c.status == ContractStatus::Active => Ok(c),
            _ => Err(Error::illegal(action, format!("the gig is {}, with no active contract", status.as_str()))),
        }
    }

    fn milestone(&mut self, action: &'static str, i: u32) -> Result<&mut Milestone> {
        let c = self.contract.as_mut().ok_or_else(|| Error::illegal(action, "the gig has no contract"))?;
        c.milestones.get_mut(i as usize).ok_or_else(|| Error::invalid("milestone", "no such milestone"))
    }

    fn active_milestone(&mut self, action: &'static str, i: u32) -> Result<&mut Milestone> {
        self.active_contract(action)?
            .milestones
            .get_mut(i as usize)
            .ok_or_else(|| Error::invalid("milestone", "no such milestone"))
    }

    fn delivered(&mut self, action: &'static str, i: u32) -> Result<&mut Milestone> {
        let m = self.active_milestone(action, i)?;
        if m.status != MilestoneStatus::Delivered {
            return Err(Error::illegal(
                action,
                format!("milestone {i} is {:?}, not delivered", m.status).to_lowercase(),
            ));
        }
        Ok(m)
    }
}

fn publish(c: &mut Contract, at: i64) -> Outcome {
    c.reviews.published_at = Some(at);
    Outcome::ReviewsPublished {
        worker: c.worker.clone(),
        of_worker: c.reviews.of_worker.as_ref().map(|r| r.rating),
        of_client: c.reviews.of_client.as_ref().map(|r| r.rating),
    }
}

fn check_expiry(expires_at: i64, at: i64) -> Result<()> {
    if expires_at <= at || expires_at - at > MAX_PERIOD_SECS {
        return Err(Error::invalid("expires_at", "an offer lapses in the future, within two years"));
    }
    Ok(())
}
