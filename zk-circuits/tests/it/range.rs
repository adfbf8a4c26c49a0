//! Range-check and comparison gadgets against their natives, at the edges.

use ark_r1cs_std::{GR1CSVar, alloc::AllocVar, fields::fp::FpVar};
use jejak_zk_circuits::{
    Fr,
    range::{
        RANGE_BITS, enforce_bits_gadget, enforce_geq_gadget, fits_in_bits, is_geq, pack_bounds,
        unpack_bounds, unpack_bounds_gadget,
    },
};

use crate::common::prove_cs;

fn edge_values() -> Vec<Fr> {
    let two64 = Fr::from(1u128 << 64);
    vec![
        Fr::from(0u64),
        Fr::from(1u64),
        Fr::from(u64::MAX),
        two64,
        two64 + Fr::from(1u64),
        -Fr::from(1u64),
        -two64,
    ]
}

#[test]
fn bits_gadget_agrees_with_native() {
    for x in edge_values() {
        let cs = prove_cs();
        let var = FpVar::new_witness(cs.clone(), || Ok(x)).unwrap();
        let bits = enforce_bits_gadget(&var, RANGE_BITS).unwrap();
        assert_eq!(bits.len(), RANGE_BITS);
        assert_eq!(cs.num_constraints(), RANGE_BITS + 1);
        assert_eq!(
            cs.is_satisfied().unwrap(),
            fits_in_bits(&x, RANGE_BITS),
            "x = {x}"
        );
    }
}

#[test]
fn geq_gadget_agrees_with_native() {
    let values = edge_values();
    for a in &values {
        for b in values.iter().filter(|b| fits_in_bits(b, RANGE_BITS)) {
            let cs = prove_cs();
            let av = FpVar::new_witness(cs.clone(), || Ok(*a)).unwrap();
            let bv = FpVar::new_witness(cs.clone(), || Ok(*b)).unwrap();
            enforce_geq_gadget(&av, &bv).unwrap();
            assert_eq!(cs.num_constraints(), 65);
            assert_eq!(cs.is_satisfied().unwrap(), is_geq(a, b), "{a} >= {b}");
        }
    }
}

#[test]
fn bounds_gadget_unpacks_and_range_checks() {
    let good = [
        pack_bounds(700, 50, 3),
        pack_bounds(u64::MAX, 0, u64::MAX),
        pack_bounds(0, 0, 0),
    ];
    for bounds in good {
        let cs = prove_cs();
        let var = FpVar::new_input(cs.clone(), || Ok(bounds)).unwrap();
        let [s, g, t] = unpack_bounds_gadget(&var).unwrap();
        let (es, eg, et) = unpack_bounds(&bounds).unwrap();
        assert_eq!(
            [s.value().unwrap(), g.value().unwrap(), t.value().unwrap()],
            [es, eg, et].map(Fr::from)
        );
        assert_eq!(cs.num_constraints(), 193);
        assert!(cs.is_satisfied().unwrap());
    }
    let two192 = Fr::from(1u128 << 64) * Fr::from(1u128 << 64) * Fr::from(1u128 << 64);
    for bounds in [two192, two192 + pack_bounds(700, 50, 3), -Fr::from(1u64)] {
        assert!(unpack_bounds(&bounds).is_none());
        let cs = prove_cs();
        let var = FpVar::new_input(cs.clone(), || Ok(bounds)).unwrap();
        let _ = unpack_bounds_gadget(&var).unwrap();
        assert!(!cs.is_satisfied().unwrap(), "bounds {bounds} accepted");
    }
}
