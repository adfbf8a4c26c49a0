//! Range checks and comparisons by explicit bit decomposition.
//!
//! A value is in `[0, 2^n)` when it equals `Σ b_i 2^i` over `n` allocated booleans: `n + 1`
//! constraints (one per boolean, one for the sum). `a >= b` for `b < 2^64` is "`a - b` is a 64-bit
//! value", 65 constraints; the generic comparison gadget costs ~1,850 because it decomposes both
//! sides into full field elements.
//!
//! The three public lower bounds travel as one field element, `bounds = min_score + 2^64 ·
//! min_gigs + 2^128 · min_tier` (see [`pack_bounds`]): one public input instead of three (two
//! fewer elliptic-curve multiplications per on-chain verification, 12,000 gas), and its 192-bit
//! decomposition is at once the unpacking and the range check of all three bounds.

use ark_ff::{BigInteger, PrimeField};
use ark_r1cs_std::{GR1CSVar, alloc::AllocVar, boolean::Boolean, eq::EqGadget, fields::fp::FpVar};
use ark_relations::gr1cs::SynthesisError;

use crate::{Fr, Result};

/// Bits of every range-checked quantity (scores, gigs, tiers, bounds).
pub const RANGE_BITS: usize = 64;

/// Whether `x < 2^bits` as an integer (the native side of [`enforce_bits_gadget`]).
pub fn fits_in_bits(x: &Fr, bits: usize) -> bool {
    x.into_bigint().num_bits() as usize <= bits
}

/// Whether `a >= b` holds the way the circuit checks it: `a - b` (in the field) fits in
/// [`RANGE_BITS`] bits. For `a, b < 2^64` this is integer `a >= b`.
pub fn is_geq(a: &Fr, b: &Fr) -> bool {
    fits_in_bits(&(*a - b), RANGE_BITS)
}

/// Packs the three public lower bounds into the single `bounds` public input.
pub fn pack_bounds(min_score: u64, min_gigs: u64, min_tier: u64) -> Fr {
    let two64 = Fr::from(1u128 << 64);
    Fr::from(min_score) + two64 * (Fr::from(min_gigs) + two64 * Fr::from(min_tier))
}

/// Splits a `bounds` public input into `(min_score, min_gigs, min_tier)`, or `None` if it is not
/// below 2^192 (no three 64-bit values pack into it, and the circuit rejects it).
pub fn unpack_bounds(bounds: &Fr) -> Option<(u64, u64, u64)> {
    let limbs = bounds.into_bigint().0;
    (limbs[3] == 0).then_some((limbs[0], limbs[1], limbs[2]))
}

/// Enforces `x < 2^bits` and returns the little-endian bits: `bits + 1` constraints.
pub fn enforce_bits_gadget(x: &FpVar<Fr>, bits: usize) -> Result<Vec<Boolean<Fr>>> {
    assert!(
        bits < Fr::MODULUS_BIT_SIZE as usize,
        "range checks are below the field size"
    );
    if let FpVar::Constant(c) = x {
        if !fits_in_bits(c, bits) {
            return Err(SynthesisError::Unsatisfiable.into());
        }
        let b = c.into_bigint();
        return Ok((0..bits).map(|i| Boolean::constant(b.get_bit(i))).collect());
    }
    let cs = x.cs();
    let value = x.value().ok().map(|v| v.into_bigint());
    let decomposition = (0..bits)
        .map(|i| {
            Boolean::new_witness(cs.clone(), || {
                value
                    .map(|v| v.get_bit(i))
                    .ok_or(SynthesisError::AssignmentMissing)
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Boolean::le_bits_to_fp(&decomposition)?.enforce_equal(x)?;
    Ok(decomposition)
}

/// Enforces `a >= b` for `b` already known to be below 2^64: 65 constraints.
pub fn enforce_geq_gadget(a: &FpVar<Fr>, b: &FpVar<Fr>) -> Result<()> {
    enforce_bits_gadget(&(a - b), RANGE_BITS)?;
    Ok(())
}

/// Unpacks `bounds` into `[min_score, min_gigs, min_tier]`, each range-checked to 64 bits:
/// 193 constraints.
pub fn unpack_bounds_gadget(bounds: &FpVar<Fr>) -> Result<[FpVar<Fr>; 3]> {
    let bits = enforce_bits_gadget(bounds, 3 * RANGE_BITS)?;
    let part = |k: usize| Boolean::le_bits_to_fp(&bits[k * RANGE_BITS..(k + 1) * RANGE_BITS]);
    Ok([part(0)?, part(1)?, part(2)?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_round_trip() {
        let b = pack_bounds(700, 50, 3);
        assert_eq!(unpack_bounds(&b), Some((700, 50, 3)));
        let max = pack_bounds(u64::MAX, u64::MAX, u64::MAX);
        assert_eq!(unpack_bounds(&max), Some((u64::MAX, u64::MAX, u64::MAX)));
        assert_eq!(unpack_bounds(&(max + Fr::from(1u64))), None);
        assert_eq!(unpack_bounds(&-Fr::from(1u64)), None);
    }

    #[test]
    fn geq_native() {
        let f = |x: u64| Fr::from(x);
        assert!(is_geq(&f(700), &f(700)));
        assert!(is_geq(&f(701), &f(700)));
        assert!(!is_geq(&f(699), &f(700)));
        assert!(is_geq(&f(u64::MAX), &f(0)));
        assert!(!is_geq(&f(0), &f(1)));
    }
}
