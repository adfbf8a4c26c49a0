//! Native Poseidon against light-poseidon, the shared vector and the gadget.

use ark_r1cs_std::{GR1CSVar, alloc::AllocVar, fields::fp::FpVar};
use jejak_zk_circuits::{
    Fr, fr_from_decimal,
    poseidon::{MAX_INPUTS, hash, hash_gadget},
};
use light_poseidon::{Poseidon, PoseidonHasher};

use crate::common::{prove_cs, random_fr, rng};

#[test]
fn shared_vector() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/poseidon.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let vectors = doc["vectors"].as_array().unwrap();
    assert!(!vectors.is_empty());
    for v in vectors {
        let inputs: Vec<Fr> =
            v["inputs"].as_array().unwrap().iter().map(|x| fr_from_decimal(x.as_str().unwrap()).unwrap()).collect();
        let expected = fr_from_decimal(v["hash"].as_str().unwrap()).unwrap();
        assert_eq!(hash(&inputs), expected, "vector {v}");
    }
}

#[test]
fn agrees_with_light_poseidon_for_every_arity() {
    let mut rng = rng(1);
    for n in 1..=MAX_INPUTS {
        let mut reference = Poseidon::<Fr>::new_circom(n).unwrap();
        for _ in 0..8 {
            let inputs: Vec<Fr> = (0..n).map(|_| random_fr(&mut rng)).collect();
            assert_eq!(hash(&inputs), reference.hash(&inputs).unwrap(), "arity {n}");
        }
        let edge: Vec<Fr> = (0..n).map(|i| if i % 2 == 0 { -Fr::from(1u64) } else { Fr::from(0u64) }).collect();
        assert_eq!(hash(&edge), reference.hash(&edge).unwrap(), "arity {n}, edge values");
    }
}

#[test]
fn gadget_agrees_with_native_and_costs_what_it_should() {
    let mut rng = rng(2);
    // 3 * (8 t + partial rounds) - 3, the first capacity S-box acting on a constant.
    let expected_constraints = [(1, 213), (2, 240), (3, 261), (6, 354)];
    for (n, constraints) in expected_constraints {
        let cs = prove_cs();
        let inputs: Vec<Fr> = (0..n).map(|_| random_fr(&mut rng)).collect();
        let vars: Vec<FpVar<Fr>> = inputs.iter().map(|x| FpVar::new_witness(cs.clone(), || Ok(*x)).unwrap()).collect();
        let out = hash_gadget(&vars).unwrap();
        assert_eq!(out.value().unwrap(), hash(&inputs), "arity {n}");
        assert!(cs.is_satisfied().unwrap());
        assert_eq!(cs.num_constraints(), constraints, "arity {n}");
    }
}

#[test]
fn gadget_output_is_constrained() {
    // A wrong S-box witness must break a constraint: flip one intermediate value.
    let cs = prove_cs();
    let vars: Vec<FpVar<Fr>> =
        [1u64, 2].iter().map(|x| FpVar::new_witness(cs.clone(), || Ok(Fr::from(*x))).unwrap()).collect();
    let _ = hash_gadget(&vars).unwrap();
    assert!(cs.is_satisfied().unwrap());
    let mut tampered = cs.borrow_mut().unwrap();
    let w = &mut tampered.assignments.witness_assignment;
    let k = w.len() / 2;
    w[k] += Fr::from(1u64);
    drop(tampered);
    assert!(!cs.is_satisfied().unwrap());
}
