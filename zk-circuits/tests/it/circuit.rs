//! The reputation circuit: satisfiable with an honest witness, pinned size, and unsatisfiable for
//! every way of cheating, with the native check agreeing each time.

use jejak_zk_circuits::link::link_key_of;
use jejak_zk_circuits::{
    DEFAULT_DEPTH, Error, Fr, PoseidonTree, PublicInputs, ReputationCircuit, Requirement, Statement, Witness,
    WorkerRecord, build_statement, check, constraint_count, identity_commitment, nullifier, range::pack_epoch_bounds,
    scope,
};

use crate::common::{CONSUMER, CONTEXT, Scenario, VERIFIER, satisfied, setup_constraints};

fn two253() -> Fr {
    Fr::from(1u128 << 64) * Fr::from(1u128 << 64) * Fr::from(1u128 << 64) * Fr::from(1u128 << 61)
}

/// The scenario's epoch (7) with these bounds.
fn eb(min_score: u64, min_gigs: u64, min_tier: u64) -> Fr {
    pack_epoch_bounds(7, min_score, min_gigs, min_tier).unwrap()
}

/// Runs one cheat through the native check and the circuit; both must reject it.
fn rejected(s: &Scenario, what: &str, public: PublicInputs, witness: Witness) {
    assert!(check(&public, &witness).is_err(), "native check accepted: {what}");
    assert!(!satisfied(s.depth, public, witness), "circuit accepted: {what}");
}

#[test]
fn honest_witness_satisfies() {
    for depth in [4, DEFAULT_DEPTH] {
        let s = Scenario::new(depth);
        check(&s.public(), &s.witness).unwrap();
        assert!(satisfied(depth, s.public(), s.witness.clone()));
    }
}

#[test]
fn constraint_count_is_pinned() {
    // 1,499 + 242 x depth. DESIGN.md estimated ~880 + 245 x depth; the difference is the three
    // 65-constraint comparisons, the 254-constraint decomposition of epoch_bounds, the
    // Poseidon(2) that binds the link key into the commitment (see circuit.rs), and a Poseidon
    // round cheaper by 3 than estimated.
    assert_eq!(constraint_count(20), 6339);
    for depth in [1, 16, 20, 32] {
        assert_eq!(
            setup_constraints(ReputationCircuit::setup(depth).unwrap()),
            constraint_count(depth),
            "depth {depth}"
        );
    }
    let s = Scenario::new(20);
    let cs = crate::common::prove_cs();
    ark_relations::gr1cs::ConstraintSynthesizer::generate_constraints(
        ReputationCircuit::new(20, s.public(), s.witness.clone()).unwrap(),
        cs.clone(),
    )
    .unwrap();
    assert_eq!(cs.num_constraints(), constraint_count(20), "proving and setup shapes differ");
    assert_eq!(cs.num_instance_variables(), 6, "constant one + five public inputs");
}

#[test]
fn wrong_root() {
    let s = Scenario::new(8);
    let mut p = s.public();
    p.root += Fr::from(1u64);
    rejected(&s, "wrong root", p, s.witness.clone());
    // The root of another, real tree (the same workers in another epoch) is just as wrong.
    let other = PoseidonTree::from_leaves(8, vec![Fr::from(5u64); 3]).unwrap();
    p.root = other.root();
    rejected(&s, "another tree's root", p, s.witness.clone());
}

#[test]
fn score_below_threshold() {
    let s = Scenario::new(8);
    let mut p = s.public();
    p.epoch_bounds = eb(s.record.score + 1, 50, 2);
    rejected(&s, "score below min", p, s.witness.clone());
    p.epoch_bounds = eb(s.record.score, 50, 2);
    assert!(satisfied(8, p, s.witness.clone()), "score == min must pass");
}

#[test]
fn gigs_below_minimum() {
    let s = Scenario::new(8);
    let mut p = s.public();
    p.epoch_bounds = eb(700, s.record.gigs + 1, 2);
    rejected(&s, "gigs below min", p, s.witness.clone());
}

#[test]
fn tier_below_minimum() {
    let s = Scenario::new(8);
    let mut p = s.public();
    p.epoch_bounds = eb(700, 50, s.record.tier + 1);
    rejected(&s, "tier below min", p, s.witness.clone());
}

#[test]
fn score_wrapping_around_the_field() {
    // A leaf holding a "score" of r - 1 (which no honest engine writes) would pass a comparison
    // done in the field; the 64-bit decomposition of the difference stops it.
    let depth = 6;
    let secret = Fr::from(99u64);
    let salt = Fr::from(3u64);
    let huge = -Fr::from(1u64);
    let leaf = jejak_zk_circuits::poseidon::hash(&[
        identity_commitment(secret),
        huge,
        Fr::from(60u64),
        Fr::from(3u64),
        Fr::from(7u64),
        salt,
    ]);
    let tree = PoseidonTree::from_leaves(depth, vec![leaf]).unwrap();
    let scope = scope(1, VERIFIER, CONSUMER, CONTEXT);
    let public = PublicInputs {
        root: tree.root(),
        epoch_bounds: eb(700, 50, 2),
        scope,
        challenge: Fr::from(1u64),
        nullifier: nullifier(secret, scope),
    };
    let witness = Witness {
        secret,
        link_key: link_key_of(&secret),
        score: huge,
        gigs: Fr::from(60u64),
        tier: Fr::from(3u64),
        salt,
        path: tree.path(0).unwrap(),
    };
    assert!(witness.path.verify(leaf, tree.root()));
    let s = Scenario::new(depth);
    rejected(&s, "score r - 1", public, witness);
}

#[test]
fn wrong_nullifier() {
    let s = Scenario::new(8);
    let mut p = s.public();
    p.nullifier += Fr::from(1u64);
    rejected(&s, "wrong nullifier", p, s.witness.clone());
    // Another worker's nullifier for the same scope.
    p.nullifier = nullifier(Fr::from(12345u64), p.scope);
    rejected(&s, "another secret's nullifier", p, s.witness.clone());
}

#[test]
fn scope_of_another_verifier() {
    let s = Scenario::new(8);
    let mut p = s.public();
    // The proof's nullifier was made for this verifier; presented with another verifier's scope.
    p.scope = scope(31337, [0x33; 20], CONSUMER, CONTEXT);
    rejected(&s, "other verifier's scope", p, s.witness.clone());
    p.scope = scope(1, VERIFIER, CONSUMER, CONTEXT);
    rejected(&s, "other chain's scope", p, s.witness.clone());
    // The same verifier and context for another consumer (a front-runner on chain, another
    // platform off chain).
    p.scope = scope(31337, VERIFIER, [0x44; 20], CONTEXT);
    rejected(&s, "other consumer's scope", p, s.witness.clone());
}

#[test]
fn epoch_bounds_that_do_not_unpack() {
    let s = Scenario::new(8);
    let mut p = s.public();
    // Bits above 2^253 would let the epoch (or, through carries, a bound) take a value the
    // verifier never asked for, were the word not range-checked.
    p.epoch_bounds = eb(700, 50, 2) + two253();
    rejected(&s, "epoch_bounds >= 2^253", p, s.witness.clone());
    p.epoch_bounds = -Fr::from(1u64);
    rejected(&s, "epoch_bounds r - 1", p, s.witness.clone());
    // A negative bound (r - 1) can never be packed either.
    p.epoch_bounds = eb(0, 50, 2) - Fr::from(1u64);
    rejected(&s, "min_score r - 1", p, s.witness.clone());
}

#[test]
fn wrong_epoch() {
    let s = Scenario::new(8);
    let mut p = s.public();
    p.epoch_bounds = pack_epoch_bounds(8, 700, 50, 2).unwrap();
    rejected(&s, "epoch other than the leaf's", p, s.witness.clone());
}

/// A named change to an honest witness.
type Cheat = (&'static str, fn(&mut Witness));

#[test]
fn wrong_private_inputs() {
    let s = Scenario::new(8);
    let p = s.public();
    let cheats: [Cheat; 7] = [
        ("other secret", |w| w.secret += Fr::from(1u64)),
        ("higher score than the leaf", |w| w.score += Fr::from(100u64)),
        ("more gigs than the leaf", |w| w.gigs += Fr::from(1u64)),
        ("higher tier than the leaf", |w| w.tier += Fr::from(1u64)),
        ("other salt", |w| w.salt += Fr::from(1u64)),
        ("tampered sibling", |w| w.path.siblings[3] += Fr::from(1u64)),
        ("other leaf position", |w| w.path.index ^= 0b100),
    ];
    for (what, cheat) in cheats {
        let mut w = s.witness.clone();
        cheat(&mut w);
        rejected(&s, what, p, w);
    }
}

#[test]
fn another_workers_leaf_does_not_help() {
    // Worker 8 (score 760) is in the tree; worker 6 cannot use worker 8's path with its secret.
    let s = Scenario::new(8);
    let mut w = s.witness.clone();
    w.path = s.tree.path(8).unwrap();
    rejected(&s, "another worker's path", s.public(), w);
}

#[test]
fn build_statement_refuses_unmet_requirements() {
    let s = Scenario::new(8);
    let req = Requirement { min_score: 900, ..s.requirement };
    let err = build_statement(&s.record, &s.path(), &req).unwrap_err();
    assert!(matches!(err, Error::Unsatisfied(ref m) if m.contains("score")), "{err}");
    let req = Requirement { min_gigs: 1000, ..s.requirement };
    assert!(matches!(build_statement(&s.record, &s.path(), &req), Err(Error::Unsatisfied(m)) if m.contains("gigs")));
    let stranger = WorkerRecord { secret: Fr::from(1u64), ..s.record.clone() };
    let (statement, _) = build_statement(&stranger, &s.path(), &s.requirement).unwrap();
    assert_ne!(statement.root, s.tree.root(), "a stranger's record must not reach the published root");
}

#[test]
fn statement_round_trips_through_public_inputs() {
    let s = Scenario::new(8);
    let decoded = Statement::from_public_inputs(&s.public()).unwrap();
    assert_eq!(decoded, s.statement);
    let strings = s.public().to_decimal_strings();
    assert_eq!(PublicInputs::from_decimal_strings(&strings).unwrap(), s.public());
    let mut p = s.public();
    p.epoch_bounds += two253();
    assert!(Statement::from_public_inputs(&p).is_err());
    let mut too_late = s.statement;
    too_late.epoch = jejak_zk_circuits::range::MAX_EPOCH + 1;
    assert!(too_late.public_inputs().is_err());
    assert!(PublicInputs::from_slice(&[Fr::from(1u64); 4]).is_err());
    assert!(PublicInputs::from_slice(&[Fr::from(1u64); 6]).is_err());
}

#[test]
fn public_input_at_or_above_the_modulus_is_refused() {
    let s = Scenario::new(8);
    let mut strings = s.public().to_decimal_strings();
    // nullifier + r names the same field element; the parser must not reduce it.
    let aliased = num_bigint::BigUint::parse_bytes(strings[4].as_bytes(), 10).unwrap()
        + num_bigint::BigUint::parse_bytes(jejak_zk_circuits::field::MODULUS_DECIMAL.as_bytes(), 10).unwrap();
    strings[4] = aliased.to_string();
    assert!(matches!(PublicInputs::from_decimal_strings(&strings), Err(Error::InvalidFieldElement { .. })));
    strings[4] = jejak_zk_circuits::field::MODULUS_DECIMAL.to_owned();
    assert!(PublicInputs::from_decimal_strings(&strings).is_err());
}

#[test]
fn scope_and_platform_consumer_match_solidity_abi_encoding() {
    // `cast keccak $(cast abi-encode "f(uint256,address,address,bytes32)" 31337 0x11.. 0x55.. 0x22..)`.
    let unhex = |s: &str| -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    };
    let expected = unhex("3af00855dd23e6f3ac5c3816943c4e393012d929774b93619160b3909253c4ed");
    let expected = jejak_zk_circuits::field::fr_from_be_bytes_mod_order(&expected.try_into().unwrap());
    assert_eq!(scope(31337, VERIFIER, CONSUMER, CONTEXT), expected);
    // `cast keccak $(cast abi-encode "f(string,uint256)" jejak-api-platform 7)`, its last 20 bytes.
    let seven = unhex("bfdd1c2dba28016c4da5a54bf4b788be11878bc0");
    assert_eq!(jejak_zk_circuits::platform_consumer(Some(7)).as_slice(), seven.as_slice());
    assert_eq!(jejak_zk_circuits::platform_consumer(None), [0; 20]);
    assert_ne!(jejak_zk_circuits::platform_consumer(Some(8)), jejak_zk_circuits::platform_consumer(Some(7)));
}
