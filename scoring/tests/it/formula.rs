//! The formula on cases worked out by hand (README "Reputation v1" and "Credit v1").

use jejak_scoring::engine::score_all;
use jejak_scoring::{Params, ReasonCode, Tier};

use crate::common::{AS_OF, Account, commitment};

#[test]
fn a_linked_worker_without_history_sits_at_the_priors() {
    let a = Account::new(1, "w");
    let (scores, _) = score_all(&Params::v1(), AS_OF, &[a.link(commitment(1), 3)]);
    let card = &scores[0].card;
    // Q = 4500, R = 9000 -> PS = 4050; 4050 * 850 / 10000 = 344; no longevity.
    assert_eq!(card.reputation, 344);
    // Rc 3440, P 6000, D 10000: (35*3440 + 20*6000 + 5*10000) / 100 = 2904; 300 + 159 = 459.
    assert_eq!(card.credit, 459);
    assert_eq!(card.tier, Tier::E);
    assert_eq!(card.gigs, 0);
    assert_eq!(card.credit_limit, None);
    let codes: Vec<ReasonCode> = card.reputation_reasons.iter().map(|r| r.code).collect();
    assert_eq!(codes[0], ReasonCode::RatingsShortOfPlatformBest);
    assert!(codes.contains(&ReasonCode::ShortWorkHistory));
}

#[test]
fn one_fresh_task_and_a_top_rating() {
    let a = Account::new(1, "w");
    let events = [a.link(commitment(1), 0), a.done(0), a.review(0, 10_000)];
    let (scores, totals) = score_all(&Params::v1(), AS_OF, &events);
    let card = &scores[0].card;
    let p = &card.platforms[0];
    // No other reviews: mean 8500, sd 1000; n = 5000 + 2500 * 1500 / 1000 = 8750.
    assert_eq!((p.reference_mean_bp, p.reference_sd_bp, p.normalised_rating_bp), (8500, 1000, Some(8750)));
    // Q = (1e6*8750 + 1e7*4500) / 1.1e7 = 4886; R = (1e6*10000 + 1e7*9000) / 1.1e7 = 9090.
    assert_eq!((p.rating_quality_bp, p.completion_bp), (4886, 9090));
    // PS = 4886 * 9090 / 10000 = 4441; 4441 * 850 / 10000 = 377, plus 5 for one month.
    assert_eq!(p.platform_score_bp, 4441);
    assert_eq!(card.reputation, 382);
    assert_eq!(card.gigs, 1);
    assert_eq!(totals[&1].reviews, 1);
    // Earnings 30,000 IDR in the window: 5,000 a month; tier E lends nothing.
    let limit = card.credit_limit.as_ref().unwrap();
    assert_eq!((limit.amount_minor, limit.currency.as_str()), (0, "IDR"));
}

#[test]
fn a_half_life_halves_an_events_weight() {
    // Two workers, one whose only cancellation is 180 days old: half the penalty.
    let (a, b) = (Account::new(1, "a"), Account::new(1, "b"));
    let mut events = vec![a.link(commitment(1), 0), b.link(commitment(2), 0)];
    for d in 0..20 {
        events.push(a.done(d));
        events.push(b.done(d));
    }
    events.push(a.cancel(0));
    events.push(b.cancel(180));
    let (scores, _) = score_all(&Params::v1(), AS_OF, &events);
    let pa = &scores[0].card.platforms[0];
    let pb = &scores[1].card.platforms[0];
    assert_eq!(pa.penalties_bp, 150);
    assert_eq!(pb.penalties_bp, 75);
}

#[test]
fn credit_uses_savings_repayments_and_defaults() {
    let (good, bad) = (Account::new(1, "good"), Account::new(1, "bad"));
    let mut events = vec![good.link(commitment(1), 700), bad.link(commitment(2), 700)];
    for m in 0..25 {
        for w in [&good, &bad] {
            events.push(w.done(m * 30 + 1));
            events.push(w.review(m * 30 + 1, 9_400));
        }
        events.push(good.savings(m * 30 + 2));
        events.push(good.repaid(m * 30 + 3, true));
        events.push(bad.repaid(m * 30 + 3, m % 2 == 0));
    }
    events.push(bad.defaulted(10));
    let (scores, _) = score_all(&Params::v1(), AS_OF, &events);
    let (g, b) = (&scores[0].card, &scores[1].card);
    assert_eq!(g.reputation, b.reputation, "the same work record");
    assert!(g.credit > b.credit + 40, "{} vs {}", g.credit, b.credit);
    assert_eq!(g.credit_components.savings_bp, 10_000);
    assert_eq!(g.credit_components.tenure_bp, 10_000);
    assert_eq!(g.credit_components.income_regularity_bp, 10_000);
    let bad_codes: Vec<ReasonCode> = b.credit_reasons.iter().map(|r| r.code).collect();
    assert!(bad_codes.contains(&ReasonCode::LoanDefault), "{bad_codes:?}");
    assert!(bad_codes.contains(&ReasonCode::LateOrMissedRepayments), "{bad_codes:?}");
    assert!(g.tier <= b.tier);
}

#[test]
fn accounts_on_two_platforms_make_one_identity() {
    let (a1, a2) = (Account::new(1, "ayu"), Account::new(2, "ayu-77"));
    let c = commitment(9);
    let mut events = vec![a1.link(c, 50), a2.link(c, 40)];
    for d in 0..30 {
        events.push(a1.done(d));
    }
    for d in 0..10 {
        events.push(a2.done(d));
        events.push(a2.lost(d));
    }
    let (scores, _) = score_all(&Params::v1(), AS_OF, &events);
    assert_eq!(scores.len(), 1);
    let card = &scores[0].card;
    assert_eq!(card.gigs, 40);
    assert_eq!(card.platforms.len(), 2);
    assert!((9_999..=10_000).contains(&card.platforms.iter().map(|p| p.weight_bp).sum::<u32>()), "shares truncate");
    assert!(card.platforms[0].weight_bp > card.platforms[1].weight_bp, "more recent work on platform 1");
    assert!(card.reputation_reasons.iter().any(|r| r.code == ReasonCode::LostDisputes));
}

#[test]
fn the_latest_link_of_an_account_wins_and_future_events_wait() {
    let a = Account::new(1, "w");
    let events = [a.link(commitment(1), 10), a.link(commitment(2), 5), a.done(1), a.done(-1)];
    let (scores, _) = score_all(&Params::v1(), AS_OF, &events);
    assert_eq!(scores.len(), 1);
    assert_eq!(scores[0].commitment, commitment(2));
    assert_eq!(scores[0].card.gigs, 1, "the task after as_of is not counted");
}
