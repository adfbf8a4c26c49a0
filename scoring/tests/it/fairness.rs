//! Fairness across platforms and against small samples (issue 4, "Tests it must have").

use jejak_scoring::engine::score_all;
use jejak_scoring::input::Attested;
use jejak_scoring::{Params, ScoreCard};

use crate::common::{AS_OF, Account, commitment};

/// `peers` workers on `platform` whose ratings cycle through `ratings` (bp), each with 20 tasks
/// and 20 reviews over the last 200 days.
fn peers(platform: u64, peers: usize, ratings: &[u32], out: &mut Vec<Attested>) {
    for i in 0..peers {
        let a = Account::new(platform, &format!("peer-{platform}-{i}"));
        out.push(a.link(commitment(1_000 + platform * 10_000 + i as u64), 300));
        for k in 0..20 {
            out.push(a.done(k * 10));
            out.push(a.review(k * 10, ratings[(i + k as usize) % ratings.len()]));
        }
    }
}

fn card_of(events: &[Attested], n: u64) -> ScoreCard {
    let (scores, _) = score_all(&Params::v1(), AS_OF, events);
    scores.into_iter().find(|s| s.commitment == commitment(n)).expect("scored").card
}

#[test]
fn a_four_point_eight_among_four_point_nines_is_below_a_four_point_six_among_four_point_twos() {
    let mut events = Vec::new();
    // Platform 1: everyone has about 4.9 (4.8 to 5.0). Platform 2: about 4.2 (3.6 to 4.8).
    peers(1, 100, &[9_600, 9_800, 10_000, 9_800], &mut events);
    peers(2, 100, &[7_200, 8_400, 9_600, 8_400], &mut events);
    let (x, y) = (Account::new(1, "x"), Account::new(2, "y"));
    events.push(x.link(commitment(1), 300));
    events.push(y.link(commitment(2), 300));
    for k in 0..20 {
        events.push(x.done(k * 10));
        events.push(x.review(k * 10, 9_600)); // 4.8 / 5
        events.push(y.done(k * 10));
        events.push(y.review(k * 10, 9_200)); // 4.6 / 5
    }
    let (cx, cy) = (card_of(&events, 1), card_of(&events, 2));
    let (px, py) = (&cx.platforms[0], &cy.platforms[0]);
    assert!(
        px.reference_mean_bp > 9_700 && py.reference_mean_bp < 8_500,
        "{} {}",
        px.reference_mean_bp,
        py.reference_mean_bp
    );
    assert!(px.normalised_rating_bp.unwrap() < 5_000, "4.8 is below the 4.9 platform's average");
    assert!(py.normalised_rating_bp.unwrap() > 5_000, "4.6 is above the 4.2 platform's average");
    assert!(cx.reputation < cy.reputation, "4.8@4.9 scored {} and 4.6@4.2 scored {}", cx.reputation, cy.reputation);
    assert!(cx.credit <= cy.credit);
}

#[test]
fn three_perfect_ratings_do_not_beat_three_hundred_good_ones() {
    let mut events = Vec::new();
    // A platform whose workers average about 4.5.
    peers(1, 100, &[8_400, 9_000, 9_600, 9_000], &mut events);
    let (few, many) = (Account::new(1, "few"), Account::new(1, "many"));
    events.push(few.link(commitment(1), 400));
    events.push(many.link(commitment(2), 400));
    for k in 0..3 {
        events.push(few.done(k));
        events.push(few.review(k, 10_000)); // 5.0
    }
    for k in 0..300 {
        events.push(many.done(k));
        events.push(many.review(k, 9_400)); // 4.7: good, above the platform's average
    }
    let (cf, cm) = (card_of(&events, 1), card_of(&events, 2));
    assert!(
        cf.platforms[0].rating_quality_bp < cm.platforms[0].rating_quality_bp,
        "rating quality: three 5.0s {} vs three hundred 4.7s {}",
        cf.platforms[0].rating_quality_bp,
        cm.platforms[0].rating_quality_bp
    );
    assert!(cf.reputation < cm.reputation, "{} vs {}", cf.reputation, cm.reputation);
    assert!(cf.reputation_reasons.iter().any(|r| r.code == jejak_scoring::ReasonCode::FewRecentRatings));
}

#[test]
fn a_rating_scale_does_not_matter_once_in_basis_points() {
    use jejak_scoring::Attested;
    let five = Attested::from_canonical(
        1,
        r#"{"data":{"rating":4,"task_id":"t"},"occurred_at":"2026-11-20T00:00:00Z","type":"review","worker":"w"}"#,
    )
    .unwrap();
    let ten = Attested::from_canonical(
        1,
        r#"{"data":{"rating":8,"scale":10,"task_id":"t"},"occurred_at":"2026-11-20T00:00:00Z","type":"review","worker":"w"}"#,
    )
    .unwrap();
    assert_eq!(five.activity, ten.activity);
}
