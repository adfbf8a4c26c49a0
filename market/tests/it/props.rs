//! Random sequences of actions by random actors: no illegal state is ever reached, a refused
//! action changes nothing, and the history always replays to the current state.

use jejak_core::event::DisputeOutcome;
use jejak_market::{
    Action, Actor, ContractStatus, Entry, EscrowState, Gig, GigStatus, MilestoneSpec, MilestoneStatus, Outcome, Policy,
    ProposalStatus, Role, Terms,
};
use proptest::prelude::*;

use crate::machine::{client, spec, worker};

const T0: i64 = 1_800_000_000;

#[derive(Debug, Clone)]
struct Op {
    actor: u8,
    action: u8,
    index: u32,
    value: u8,
    advance: i64,
}

fn op() -> impl Strategy<Value = Op> {
    (
        0u8..8,
        0u8..22,
        prop_oneof![3 => Just(0u32), 1 => 0u32..3],
        0u8..7,
        prop_oneof![Just(0i64), 0i64..7_200, 0i64..4 * 86_400],
    )
        .prop_map(|(actor, action, index, value, advance)| Op { actor, action, index, value, advance })
}

fn actor(n: u8) -> Actor {
    match n {
        0 => client(),
        1..=3 => worker(u32::from(n)),
        4 => Actor { role: Role::Admin, id: "operator".into() },
        5 => Actor { role: Role::Arbiter, id: "arbiter".into() },
        6 => Actor::system(),
        _ => Actor { role: Role::Client, id: "another-client".into() },
    }
}

fn action(op: &Op, now: i64, gig: &Gig) -> Action {
    let (i, v) = (op.index, op.value);
    let terms = Terms {
        milestones: (0..=(v % 3))
            .map(|k| MilestoneSpec { title: format!("m{k}"), amount_minor: 100 + i64::from(k) })
            .collect(),
    };
    let expires_at = now + 3_600 * (1 + i64::from(v));
    match op.action {
        0 => Action::Propose { terms, message: String::new(), expires_at },
        1 => Action::Counter { proposal: i, terms, expires_at },
        2 => Action::Withdraw { proposal: i },
        3 => Action::Decline { proposal: i },
        4 | 5 => Action::Accept { proposal: i },
        6 => Action::Take,
        7 => Action::CancelGig,
        8 => Action::Fund { milestone: i },
        9 => Action::Release { milestone: i },
        10 => Action::Refund { milestone: i },
        11 | 12 => {
            Action::Deliver { milestone: i, note: String::new(), evidence_task: (v % 4 != 0).then(|| "tsk_1".into()) }
        }
        13 => Action::RequestChanges { milestone: i, reason: "again".into() },
        14 | 15 => Action::AcceptDelivery { milestone: i },
        16 => Action::Dispute { milestone: i, reason: "no".into() },
        17 => Action::Resolve {
            milestone: i,
            outcome: [DisputeOutcome::WorkerWon, DisputeOutcome::WorkerLost, DisputeOutcome::Settled]
                [usize::from(v % 3)],
        },
        18 => Action::CancelContract { reason: String::new() },
        19 => Action::Review { rating: v, comment: String::new() },
        // The timers: what is due (as the node's job runs them), or a random one.
        20 => gig.due(now).into_iter().next().unwrap_or(Action::CloseReviews),
        _ => [
            Action::ExpireProposal { proposal: i },
            Action::ExpireGig,
            Action::AutoAccept { milestone: i },
            Action::CloseReviews,
        ][usize::from(v % 4)]
        .clone(),
    }
}

/// Every invariant of a gig's state.
fn check(gig: &Gig) {
    let c = gig.contract.as_ref();
    match gig.status {
        GigStatus::Open | GigStatus::Expired => assert!(c.is_none()),
        GigStatus::Contracted => assert_eq!(c.unwrap().status, ContractStatus::Active),
        GigStatus::Completed => assert_eq!(c.unwrap().status, ContractStatus::Completed),
        GigStatus::Cancelled => assert!(c.is_none_or(|c| c.status == ContractStatus::Cancelled)),
    }
    if gig.status != GigStatus::Open {
        assert!(gig.proposals.iter().all(|p| p.status != ProposalStatus::Open), "no open proposal on a closed gig");
    }
    let accepted: Vec<_> = gig.proposals.iter().filter(|p| p.status == ProposalStatus::Accepted).collect();
    assert!(accepted.len() <= 1, "at most one accepted proposal");
    for w in ["worker-1", "worker-2", "worker-3"] {
        let open = gig.proposals.iter().filter(|p| p.worker == w && p.status == ProposalStatus::Open).count();
        assert!(open <= 1, "one open proposal per worker");
    }
    let Some(c) = c else {
        assert!(accepted.is_empty());
        return;
    };
    match c.proposal {
        Some(i) => {
            let p = &gig.proposals[i as usize];
            assert_eq!(p.status, ProposalStatus::Accepted);
            assert_eq!(p.worker, c.worker);
            assert_eq!(p.terms.total_minor(), c.total_minor());
        }
        None => {
            assert!(accepted.is_empty());
            assert_eq!(c.total_minor(), gig.spec.pay.ceiling_minor());
        }
    }
    assert_ne!(c.worker, gig.client);
    for m in &c.milestones {
        assert!(m.deliveries <= 10);
        if matches!(m.status, MilestoneStatus::Delivered) {
            assert!(m.delivered_at.is_some() && m.deliveries > 0);
        }
        if gig.spec.location.is_physical() && m.deliveries > 0 {
            assert!(m.evidence_task.is_some(), "physical work is delivered with evidence");
        }
        assert_eq!(m.outcome.is_some(), m.status == MilestoneStatus::Resolved);
        match m.escrow {
            EscrowState::Released => assert!(
                m.status == MilestoneStatus::Accepted
                    || (m.status == MilestoneStatus::Resolved && m.outcome != Some(DisputeOutcome::WorkerLost))
            ),
            EscrowState::Refunded => assert!(
                m.status == MilestoneStatus::Cancelled
                    || (m.status == MilestoneStatus::Resolved && m.outcome != Some(DisputeOutcome::WorkerWon))
            ),
            EscrowState::Unfunded | EscrowState::Funded => {}
        }
    }
    match c.status {
        ContractStatus::Active => {
            assert!(c.ended_at.is_none());
            assert!(c.reviews.of_worker.is_none() && c.reviews.of_client.is_none());
            assert!(!c.milestones.iter().all(|m| m.status.is_final()));
        }
        ContractStatus::Completed => {
            assert!(c.milestones.iter().all(|m| m.status.is_final() && m.status != MilestoneStatus::Cancelled));
        }
        ContractStatus::Cancelled => {
            assert!(c.cancelled_by.is_some());
            assert!(c.milestones.iter().all(|m| m.status.is_final()));
        }
    }
    if let Some(at) = c.reviews.published_at {
        let both = c.reviews.of_worker.is_some() && c.reviews.of_client.is_some();
        assert!(both || at >= c.reviews_close_at(&gig.policy).unwrap(), "published early with one review");
    }
}

/// What a run reached, to show the random actions get far.
#[derive(Debug, Default)]
struct Reached {
    started: u32,
    ended: u32,
    published: u32,
    resolved: u32,
}

/// Applies the operations to a fresh gig, checking every invariant after each; returns the gig,
/// its history and what was reached.
fn run(physical: bool, ops: &[Op]) -> Result<(Gig, Vec<Entry>, Reached), TestCaseError> {
    let policy = Policy { auto_accept_secs: 86_400, review_window_secs: 2 * 86_400 };
    let post = Entry { seq: 1, at: T0, actor: client(), action: Action::Post { spec: spec(physical), policy } };
    let (mut gig, _) = Gig::post("gig_p", &post).unwrap();
    let mut history = vec![post];
    let mut now = T0;
    let mut r = Reached::default();
    for op in ops {
        now += op.advance;
        let entry = Entry { seq: gig.version + 1, at: now, actor: actor(op.actor), action: action(op, now, &gig) };
        let before = gig.clone();
        match gig.apply(&entry) {
            Ok(outcomes) => {
                for o in &outcomes {
                    match o {
                        Outcome::ContractStarted { .. } => r.started += 1,
                        Outcome::Completed { .. } | Outcome::Cancelled { .. } => r.ended += 1,
                        Outcome::ReviewsPublished { .. } => r.published += 1,
                        Outcome::DisputeResolved { .. } => r.resolved += 1,
                        Outcome::Delivered { .. } => {}
                    }
                }
                history.push(entry);
            }
            Err(_) => prop_assert_eq!(&gig, &before, "a refused action changed the gig"),
        }
        check(&gig);
        prop_assert!(r.started <= 1 && r.ended <= r.started && r.published <= r.ended);
    }
    Ok((gig, history, r))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_actions_never_reach_an_illegal_state_and_the_history_replays(
        physical in any::<bool>(),
        ops in proptest::collection::vec(op(), 1..160),
    ) {
        let (gig, history, _) = run(physical, &ops)?;
        prop_assert_eq!(Gig::replay("gig_p", &history).unwrap(), gig);
    }
}

/// The random runs above are worth something only if they reach contracts, endings, disputes
/// and reviews: count how often they do over a fixed seed.
#[test]
fn random_runs_reach_every_stage() {
    use proptest::strategy::ValueTree as _;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let mut runner = TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]));
    let mut total = Reached::default();
    for _ in 0..512 {
        let ops = proptest::collection::vec(op(), 1..160).new_tree(&mut runner).unwrap().current();
        let (_, _, r) = run(false, &ops).unwrap();
        total.started += r.started;
        total.ended += r.ended;
        total.published += r.published;
        total.resolved += r.resolved;
    }
    assert!(total.started > 50 && total.ended > 20 && total.published > 5 && total.resolved > 0, "{total:?}");
}
