//! Range checks and comparisons by explicit bit decomposition.
//!
//! A value is in `[0, 2^n)` when it equals `Σ b_i 2^i` over `n` allocated booleans: `n + 1`
//! constraints (one per boolean, one for the sum). `a >= b` for `b < 2^64` is "`a - b` is a 64-bit
//! value", 65 constraints; the generic comparison gadget costs ~1,850 because it decomposes both
//! sides into full field elements.
//!
//! The epoch and the three public lower bounds travel as one field element, `epoch_bounds =
//! min_score + 2^64·min_gigs + 2^128·min_tier + 2^192·epoch` (see [`pack_epoch_bounds`]): one
//! public input instead of four (three fewer elliptic-curve multiplications per on-chain
//! verification, about 19,000 gas), and its 253-bit decomposition is at once the unpacking and the
//! range check of the three bounds (64 bits each) and of the epoch ([`EPOCH_BITS`] bits, so the
//! word stays below the field modulus).

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

/// Bits of the epoch in the packed word (192 + 61 = 253 bits, below the modulus).
pub const EPOCH_BITS: usize = 61;
/// Largest epoch a proof can be about.
pub const MAX_EPOCH: u64 = (1 << EPOCH_BITS) - 1;

/// Packs the epoch and the three lower bounds into the `epoch_bounds` public input, or `None` if
/// the epoch is above [`MAX_EPOCH`].
pub fn pack_epoch_bounds(epoch: u64, min_score: u64, min_gigs: u64, min_tier: u64) -> Option<Fr> {
    (epoch <= MAX_EPOCH)
        .then(|| Fr::from_bigint(ark_ff::BigInt([min_score, min_gigs, min_tier, epoch])).expect("below 2^253"))
}

/// Splits an `epoch_bounds` public input into `(epoch, min_score, min_gigs, min_tier)`, or `None`
/// if it is not below 2^253 (no such tuple packs into it, and the circuit rejects it).
pub fn unpack_epoch_bounds(word: &Fr) -> Option<(u64, u64, u64, u64)> {
    let [s, g, t, e] = word.into_bigint().0;
    (e <= MAX_EPOCH).then_some((e, s, g, t))
}

/// Enforces `x < 2^bits` and returns the little-endian bits: `bits + 1` constraints.
pub fn enforce_bits_gadget(x: &FpVar<Fr>, bits: usize) -> Result<Vec<Boolean<Fr>>> {
    assert!(bits < Fr::MODULUS_BIT_SIZE as usize, "range checks are below the field size");
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
            Boolean::new_witness(cs.clone(), || value.map(|v| v.get_bit(i)).ok_or(SynthesisError::AssignmentMissing))
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

/// Unpacks `epoch_bounds` into `[epoch, min_score, min_gigs, min_tier]`, each range-checked
/// (61, 64, 64, 64 bits): 254 constraints.
pub fn unpack_epoch_bounds_gadget(word: &FpVar<Fr>) -> Result<[FpVar<Fr>; 4]> {
    let bits = enforce_bits_gadget(word, 3 * RANGE_BITS + EPOCH_BITS)?;
    let part = |k: usize| Boolean::le_bits_to_fp(&bits[k * RANGE_BITS..((k + 1) * RANGE_BITS).min(bits.len())]);
    Ok([part(3)?, part(0)?, part(1)?, part(2)?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_bounds_round_trip() {
        let b = pack_epoch_bounds(7, 700, 50, 3).unwrap();
        assert_eq!(unpack_epoch_bounds(&b), Some((7, 700, 50, 3)));
        let max = pack_epoch_bounds(MAX_EPOCH, u64::MAX, u64::MAX, u64::MAX).unwrap();
        assert_eq!(unpack_epoch_bounds(&max), Some((MAX_EPOCH, u64::MAX, u64::MAX, u64::MAX)));
        assert_eq!(unpack_epoch_bounds(&(max + Fr::from(1u64))), None);
        assert_eq!(unpack_epoch_bounds(&-Fr::from(1u64)), None);
        assert_eq!(pack_epoch_bounds(MAX_EPOCH + 1, 0, 0, 0), None);
        let two64 = Fr::from(1u128 << 64);
        let expected = Fr::from(700u64) + two64 * (Fr::from(50u64) + two64 * (Fr::from(3u64) + two64 * Fr::from(7u64)));
        assert_eq!(b, expected);
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
