//! Range-check and comparison gadgets against their natives, at the edges.

use ark_r1cs_std::{GR1CSVar, alloc::AllocVar, fields::fp::FpVar};
use jejak_zk_circuits::{
    Fr,
    range::{
        EPOCH_BITS, MAX_EPOCH, RANGE_BITS, enforce_bits_gadget, enforce_geq_gadget, fits_in_bits, is_geq,
        pack_epoch_bounds, unpack_epoch_bounds, unpack_epoch_bounds_gadget,
    },
};

use crate::common::prove_cs;

fn edge_values() -> Vec<Fr> {
    let two64 = Fr::from(1u128 << 64);
    vec![Fr::from(0u64), Fr::from(1u64), Fr::from(u64::MAX), two64, two64 + Fr::from(1u64), -Fr::from(1u64), -two64]
}

#[test]
fn bits_gadget_agrees_with_native() {
    for x in edge_values() {
        let cs = prove_cs();
        let var = FpVar::new_witness(cs.clone(), || Ok(x)).unwrap();
        let bits = enforce_bits_gadget(&var, RANGE_BITS).unwrap();
        assert_eq!(bits.len(), RANGE_BITS);
        assert_eq!(cs.num_constraints(), RANGE_BITS + 1);
        assert_eq!(cs.is_satisfied().unwrap(), fits_in_bits(&x, RANGE_BITS), "x = {x}");
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
fn epoch_bounds_gadget_unpacks_and_range_checks() {
    let good = [
        pack_epoch_bounds(7, 700, 50, 3).unwrap(),
        pack_epoch_bounds(MAX_EPOCH, u64::MAX, 0, u64::MAX).unwrap(),
        pack_epoch_bounds(0, 0, 0, 0).unwrap(),
    ];
    for word in good {
        let cs = prove_cs();
        let var = FpVar::new_input(cs.clone(), || Ok(word)).unwrap();
        let parts = unpack_epoch_bounds_gadget(&var).unwrap();
        let (e, s, g, t) = unpack_epoch_bounds(&word).unwrap();
        let values: Vec<Fr> = parts.iter().map(|p| p.value().unwrap()).collect();
        assert_eq!(values, [e, s, g, t].map(Fr::from));
        assert_eq!(cs.num_constraints(), 3 * RANGE_BITS + EPOCH_BITS + 1);
        assert!(cs.is_satisfied().unwrap());
    }
    let two253 = Fr::from(1u128 << 64) * Fr::from(1u128 << 64) * Fr::from(1u128 << 64) * Fr::from(1u64 << 61);
    let bad = [two253, two253 + pack_epoch_bounds(7, 700, 50, 3).unwrap(), -Fr::from(1u64)];
    for word in bad {
        assert!(unpack_epoch_bounds(&word).is_none());
        let cs = prove_cs();
        let var = FpVar::new_input(cs.clone(), || Ok(word)).unwrap();
        let _ = unpack_epoch_bounds_gadget(&var).unwrap();
        assert!(!cs.is_satisfied().unwrap(), "epoch_bounds {word} accepted");
    }
}
