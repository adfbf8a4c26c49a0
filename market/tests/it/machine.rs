//! The state machine through whole gigs: negotiation, delivery, disputes, reviews, timers.

use jejak_core::event::{DisputeOutcome, WorkEvent};
use jejak_market::{
    Action, Actor, Clock, ContractStatus, Currency, Entry, Error, EscrowState, Gig, GigSpec, GigStatus, Location,
    ManualClock, MilestoneSpec, MilestoneStatus, Outcome, Pay, Policy, ProposalStatus, Requirement, Role, Terms,
    work_events,
};

const T0: i64 = 1_800_000_000;
const DAY: i64 = 86_400;

pub(crate) fn spec(physical: bool) -> GigSpec {
    GigSpec {
        title: "Paint a fence".into(),
        description: "Twenty metres, white.".into(),
        category: "painting".into(),
        location: if physical {
            Location::OnSite { lat: -6.2, lon: 106.8, radius_m: 10_000 }
        } else {
            Location::Remote
        },
        pay: Pay::Fixed { budget_minor: 150_000_000 },
        currency: Currency::parse("IDR").unwrap(),
        deadline: T0 + 10 * DAY,
        requirement: Requirement::default(),
    }
}

pub(crate) fn client() -> Actor {
    Actor { role: Role::Client, id: "client-1".into() }
}

pub(crate) fn worker(n: u32) -> Actor {
    Actor { role: Role::Worker, id: format!("worker-{n}") }
}

fn admin() -> Actor {
    Actor { role: Role::Admin, id: "operator".into() }
}

fn arbiter() -> Actor {
    Actor { role: Role::Arbiter, id: "arbiter-1".into() }
}

fn terms(amounts: &[i64]) -> Terms {
    Terms {
        milestones: amounts
            .iter()
            .enumerate()
            .map(|(i, a)| MilestoneSpec { title: format!("part {i}"), amount_minor: *a })
            .collect(),
    }
}

/// A gig with its history, driven by a clock.
struct Run {
    gig: Gig,
    history: Vec<Entry>,
    clock: ManualClock,
}

impl Run {
    fn new(physical: bool) -> Self {
        let clock = ManualClock::new(T0);
        let entry = Entry {
            seq: 1,
            at: clock.now(),
            actor: client(),
            action: Action::Post { spec: spec(physical), policy: Policy::default() },
        };
        let (gig, _) = Gig::post("gig_1", &entry).unwrap();
        Self { gig, history: vec![entry], clock }
    }

    fn act(&mut self, actor: Actor, action: Action) -> Result<Vec<Outcome>, Error> {
        let entry = Entry { seq: self.gig.version + 1, at: self.clock.now(), actor, action };
        let before = self.gig.clone();
        match self.gig.apply(&entry) {
            Ok(out) => {
                self.history.push(entry);
                assert_eq!(Gig::replay("gig_1", &self.history).unwrap(), self.gig, "the history replays to the state");
                Ok(out)
            }
            Err(e) => {
                assert_eq!(self.gig, before, "a refused transition changes nothing");
                Err(e)
            }
        }
    }

    fn ok(&mut self, actor: Actor, action: Action) -> Vec<Outcome> {
        self.act(actor, action).unwrap()
    }

    fn illegal(&mut self, actor: Actor, action: Action) -> String {
        match self.act(actor, action) {
            Err(Error::Illegal { reason, .. }) => reason,
            other => panic!("expected an illegal transition, got {other:?}"),
        }
    }

    /// Applies every timer due now, as the node's job does.
    fn tick(&mut self) -> Vec<Outcome> {
        let mut out = Vec::new();
        for action in self.gig.due(self.clock.now()) {
            out.extend(self.ok(Actor::system(), action));
        }
        out
    }

    fn events(&self, outcomes: &[Outcome]) -> Vec<WorkEvent> {
        let now = time::OffsetDateTime::from_unix_timestamp(self.clock.now() + 60).unwrap();
        work_events(&self.gig, self.gig.version, self.clock.now(), outcomes)
            .into_iter()
            .map(|raw| WorkEvent::from_raw(raw, now).expect("marketplace events are valid work events"))
            .collect()
    }
}

#[test]
fn a_negotiated_physical_gig_runs_to_completion_and_both_reviews() {
    let mut r = Run::new(true);
    r.ok(
        worker(1),
        Action::Propose { terms: terms(&[100_000_000, 60_000_000]), message: "hi".into(), expires_at: T0 + DAY },
    );
    r.clock.advance(3_600);
    r.ok(client(), Action::Counter { proposal: 0, terms: terms(&[90_000_000, 60_000_000]), expires_at: T0 + 2 * DAY });
    assert_eq!(r.illegal(client(), Action::Accept { proposal: 0 }), "a side cannot accept its own offer");
    let out = r.ok(worker(1), Action::Accept { proposal: 0 });
    assert_eq!(out, vec![Outcome::ContractStarted { worker: "worker-1".into() }]);
    assert_eq!(r.gig.status, GigStatus::Contracted);
    assert_eq!(r.gig.contract.as_ref().unwrap().total_minor(), 150_000_000);

    r.ok(admin(), Action::Fund { milestone: 0 });
    // Physical work is delivered with its evidence task.
    let err = r.act(worker(1), Action::Deliver { milestone: 0, note: String::new(), evidence_task: None }).unwrap_err();
    assert!(matches!(err, Error::Invalid { field: "evidence_task", .. }), "{err:?}");
    let deliver = |m| Action::Deliver { milestone: m, note: "done".into(), evidence_task: Some("tsk_1".into()) };
    r.ok(worker(1), deliver(0));
    r.ok(client(), Action::RequestChanges { milestone: 0, reason: "one more coat".into() });
    r.ok(worker(1), deliver(0));
    // Only the contract's worker delivers, only its client accepts.
    assert!(matches!(r.act(worker(2), deliver(1)), Err(Error::Forbidden(_))));
    assert!(matches!(r.act(worker(1), Action::AcceptDelivery { milestone: 0 }), Err(Error::Forbidden(_))));
    r.ok(client(), Action::AcceptDelivery { milestone: 0 });
    r.ok(admin(), Action::Release { milestone: 0 });
    assert_eq!(r.gig.contract.as_ref().unwrap().milestones[0].escrow, EscrowState::Released);
    r.ok(worker(1), deliver(1));
    let out = r.ok(client(), Action::AcceptDelivery { milestone: 1 });
    assert_eq!(out, vec![Outcome::Completed { worker: "worker-1".into(), earned_minor: 150_000_000 }]);
    assert_eq!(r.gig.status, GigStatus::Completed);
    let events = r.events(&out);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].raw.kind, "task_completed");
    assert_eq!(events[0].raw.data["earnings_minor"], 150_000_000i64);
    assert_eq!(events[0].raw.data["task_id"], "market:gig_1");

    // Double blind: the first review publishes nothing.
    assert!(r.ok(worker(1), Action::Review { rating: 4, comment: "paid on time".into() }).is_empty());
    assert_eq!(r.gig.contract.as_ref().unwrap().reviews.published_at, None);
    assert_eq!(
        r.illegal(worker(1), Action::Review { rating: 5, comment: String::new() }),
        "this side has already reviewed"
    );
    let out = r.ok(client(), Action::Review { rating: 5, comment: "great".into() });
    assert_eq!(
        out,
        vec![Outcome::ReviewsPublished { worker: "worker-1".into(), of_worker: Some(5), of_client: Some(4) }]
    );
    let events = r.events(&out);
    assert_eq!(events[0].raw.kind, "review");
    assert_eq!(events[0].raw.worker, "worker-1");
}

#[test]
fn one_contract_per_gig_whoever_comes_second() {
    let mut r = Run::new(false);
    r.ok(worker(1), Action::Propose { terms: terms(&[100]), message: String::new(), expires_at: T0 + DAY });
    r.ok(worker(2), Action::Propose { terms: terms(&[90]), message: String::new(), expires_at: T0 + DAY });
    assert_eq!(
        r.illegal(worker(1), Action::Propose { terms: terms(&[80]), message: String::new(), expires_at: T0 + DAY }),
        "this worker already has an open proposal on the gig"
    );
    r.ok(client(), Action::Accept { proposal: 1 });
    assert_eq!(r.illegal(client(), Action::Accept { proposal: 0 }), "the gig is contracted, not open");
    assert_eq!(r.illegal(worker(3), Action::Take), "the gig is contracted, not open");
    assert_eq!(r.gig.proposals[0].status, ProposalStatus::Closed);
    assert_eq!(r.gig.proposals[1].status, ProposalStatus::Accepted);
    // The client cannot take part as a worker in its own gig.
    let mut r = Run::new(false);
    assert!(matches!(
        r.act(Actor { role: Role::Worker, id: "client-1".into() }, Action::Take),
        Err(Error::Forbidden(_))
    ));
    let out = r.ok(worker(7), Action::Take);
    assert_eq!(out, vec![Outcome::ContractStarted { worker: "worker-7".into() }]);
    assert_eq!(r.gig.contract.as_ref().unwrap().total_minor(), 150_000_000);
}

#[test]
fn timers_expire_offers_accept_deliveries_and_close_reviews_when_due_only() {
    let mut r = Run::new(false);
    r.ok(worker(1), Action::Propose { terms: terms(&[100]), message: String::new(), expires_at: T0 + DAY });
    assert_eq!(r.gig.next_timer(), Some(T0 + DAY));
    r.clock.advance(DAY - 1);
    assert!(r.gig.due(r.clock.now()).is_empty());
    // A timer cannot run early even if asked.
    assert_eq!(r.illegal(Actor::system(), Action::ExpireProposal { proposal: 0 }), "the offer has not lapsed");
    r.clock.advance(1);
    // A lapsed offer cannot be accepted even before the timer ran.
    assert_eq!(r.illegal(client(), Action::Accept { proposal: 0 }), "the offer has lapsed");
    r.tick();
    assert_eq!(r.gig.proposals[0].status, ProposalStatus::Expired);
    // Only the node's timers run timers.
    r.ok(worker(2), Action::Take);
    r.ok(worker(2), Action::Deliver { milestone: 0, note: String::new(), evidence_task: None });
    assert!(matches!(r.act(client(), Action::AutoAccept { milestone: 0 }), Err(Error::Forbidden(_))));
    r.clock.advance(Policy::default().auto_accept_secs - 1);
    assert!(r.tick().is_empty());
    r.clock.advance(1);
    let out = r.tick();
    assert!(matches!(out[..], [Outcome::Completed { earned_minor: 150_000_000, .. }]), "{out:?}");
    assert_eq!(r.gig.contract.as_ref().unwrap().milestones[0].status, MilestoneStatus::Accepted);
    r.ok(client(), Action::Review { rating: 2, comment: String::new() });
    r.clock.advance(Policy::default().review_window_secs);
    assert_eq!(
        r.illegal(worker(2), Action::Review { rating: 5, comment: String::new() }),
        "the review window is closed"
    );
    let out = r.tick();
    assert_eq!(out, vec![Outcome::ReviewsPublished { worker: "worker-2".into(), of_worker: Some(2), of_client: None }]);
    assert_eq!(r.gig.next_timer(), None);
    assert_eq!(r.events(&out)[0].raw.data["rating"], 2);

    // An open gig past its deadline expires.
    let mut r = Run::new(false);
    r.clock.set(spec(false).deadline);
    assert_eq!(r.illegal(worker(1), Action::Take), "the gig's deadline has passed");
    r.tick();
    assert_eq!(r.gig.status, GigStatus::Expired);
}

#[test]
fn disputes_are_resolved_by_an_arbiter_and_decide_the_escrow() {
    let mut r = Run::new(false);
    r.ok(worker(1), Action::Take);
    r.ok(admin(), Action::Fund { milestone: 0 });
    assert_eq!(
        r.illegal(client(), Action::Dispute { milestone: 0, reason: "nothing yet".into() }),
        "only a delivered milestone or one sent back for changes is disputed"
    );
    r.ok(worker(1), Action::Deliver { milestone: 0, note: String::new(), evidence_task: None });
    r.ok(client(), Action::Dispute { milestone: 0, reason: "not what was asked".into() });
    assert!(r.illegal(worker(1), Action::CancelContract { reason: String::new() }).contains("dispute is open"));
    assert!(matches!(
        r.act(client(), Action::Resolve { milestone: 0, outcome: DisputeOutcome::Settled }),
        Err(Error::Forbidden(_))
    ));
    assert_eq!(
        r.illegal(admin(), Action::Release { milestone: 0 }),
        "release needs the milestone accepted or a dispute the worker did not lose"
    );
    let out = r.ok(arbiter(), Action::Resolve { milestone: 0, outcome: DisputeOutcome::WorkerLost });
    assert_eq!(r.gig.contract.as_ref().unwrap().status, ContractStatus::Completed);
    let events = r.events(&out);
    let kinds: Vec<_> = events.iter().map(|e| e.raw.kind.as_str()).collect();
    assert_eq!(kinds, ["dispute_resolved", "task_completed"]);
    assert_eq!(events[0].raw.data["outcome"], "worker_lost");
    assert!(events[1].raw.data.get("earnings_minor").is_none(), "a lost dispute earns nothing");
    assert_ne!(events[0].raw.event_id, events[1].raw.event_id);
    r.ok(admin(), Action::Refund { milestone: 0 });
    assert_eq!(r.illegal(admin(), Action::Refund { milestone: 0 }), "the escrow is refunded");
}

#[test]
fn cancellations_close_the_gig_and_say_who_cancelled() {
    let mut r = Run::new(false);
    r.ok(worker(1), Action::Propose { terms: terms(&[50, 50]), message: String::new(), expires_at: T0 + DAY });
    assert!(matches!(r.act(worker(1), Action::CancelGig), Err(Error::Forbidden(_))));
    r.ok(client(), Action::CancelGig);
    assert_eq!(r.gig.status, GigStatus::Cancelled);
    assert_eq!(r.gig.proposals[0].status, ProposalStatus::Closed);
    assert_eq!(r.illegal(client(), Action::CancelGig), "the gig is cancelled, not an open gig");

    let mut r = Run::new(false);
    r.ok(worker(1), Action::Take);
    assert_eq!(r.illegal(admin(), Action::Refund { milestone: 0 }), "the escrow is unfunded");
    r.ok(admin(), Action::Fund { milestone: 0 });
    let out = r.ok(client(), Action::CancelContract { reason: "plans changed".into() });
    let events = r.events(&out);
    assert_eq!(events[0].raw.kind, "task_cancelled");
    assert_eq!(events[0].raw.data["cancelled_by"], "customer");
    assert_eq!(r.gig.contract.as_ref().unwrap().milestones[0].status, MilestoneStatus::Cancelled);
    r.ok(admin(), Action::Refund { milestone: 0 });
    assert_eq!(
        r.illegal(worker(1), Action::Deliver { milestone: 0, note: String::new(), evidence_task: None }),
        "the gig is cancelled, with no active contract"
    );
}

#[test]
fn histories_that_do_not_replay_are_refused() {
    let mut r = Run::new(false);
    r.ok(worker(1), Action::Take);
    let mut h = r.history.clone();
    h[1].seq = 3;
    assert!(matches!(Gig::replay("gig_1", &h), Err(Error::Replay { seq: 3, .. })));
    let mut h = r.history.clone();
    h[1].at = T0 - 1;
    assert!(matches!(Gig::replay("gig_1", &h), Err(Error::Replay { .. })));
    assert!(matches!(Gig::replay("gig_1", &r.history[1..]), Err(Error::Replay { .. })));
    assert!(matches!(Gig::replay("gig_1", &[]), Err(Error::Replay { .. })));
    // Entries survive their JSON form.
    let json = serde_json::to_string(&r.history).unwrap();
    let back: Vec<Entry> = serde_json::from_str(&json).unwrap();
    assert_eq!(Gig::replay("gig_1", &back).unwrap(), r.gig);
}
