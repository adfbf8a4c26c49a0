//! The BN254 scalar field and its external forms: canonical decimal strings (snarkjs, circom,
//! JSON APIs) and 32-byte big-endian words (Solidity `uint256`/`bytes32`).
//!
//! Every parser is strict: a value must already be below the modulus. Reducing silently would let
//! `x` and `x + r` name the same element, which is how nullifiers get replayed.

use ark_ff::{BigInteger, PrimeField};
use num_bigint::BigUint;

use crate::{Error, Result};

pub use ark_bn254::Fr;

/// The scalar field modulus r of BN254, in decimal.
pub const MODULUS_DECIMAL: &str = "21888242871839275222246405745257275088548364400416034343698204186575808495617";

/// Parses the canonical decimal form of a field element: ASCII digits only, no sign, no leading
/// zeros (except `"0"` itself), and strictly below the modulus.
pub fn fr_from_decimal(s: &str) -> Result<Fr> {
    let reject = |reason| Error::InvalidFieldElement { value: truncate(s), reason };
    if s.is_empty() {
        return Err(reject("empty"));
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(reject("not a decimal number"));
    }
    if s.len() > 1 && s.starts_with('0') {
        return Err(reject("leading zero"));
    }
    if s.len() > MODULUS_DECIMAL.len() {
        return Err(reject("not below the field modulus"));
    }
    let n = BigUint::parse_bytes(s.as_bytes(), 10).ok_or_else(|| reject("not a decimal number"))?;
    fr_from_biguint(&n).ok_or_else(|| reject("not below the field modulus"))
}

/// The canonical decimal form of `x` (what snarkjs writes).
pub fn fr_to_decimal(x: &Fr) -> String {
    BigUint::from(x.into_bigint()).to_string()
}

/// Reads a 32-byte big-endian word, rejecting values at or above the modulus.
pub fn fr_from_be_bytes(bytes: &[u8; 32]) -> Result<Fr> {
    fr_from_biguint(&BigUint::from_bytes_be(bytes)).ok_or_else(|| Error::InvalidFieldElement {
        value: format!("0x{}", hex_string(bytes)),
        reason: "not below the field modulus",
    })
}

/// Reduces a 32-byte big-endian word modulo r (for hash outputs, never for user input).
pub fn fr_from_be_bytes_mod_order(bytes: &[u8; 32]) -> Fr {
    Fr::from_be_bytes_mod_order(bytes)
}

/// The 32-byte big-endian word of `x` (Solidity's `uint256`/`bytes32` layout).
pub fn fr_to_be_bytes(x: &Fr) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(&x.into_bigint().to_bytes_be());
    out
}

/// `x` as an integer, if it is below the modulus.
pub fn fr_from_biguint(x: &BigUint) -> Option<Fr> {
    let limbs: ark_ff::BigInt<4> = x.clone().try_into().ok()?;
    Fr::from_bigint(limbs)
}

/// The integer value of `x` if it fits in 64 bits.
pub fn fr_to_u64(x: &Fr) -> Option<u64> {
    let b = x.into_bigint();
    (b.0[1] == 0 && b.0[2] == 0 && b.0[3] == 0).then_some(b.0[0])
}

fn truncate(s: &str) -> String {
    if s.chars().count() > 90 { format!("{}...", s.chars().take(90).collect::<String>()) } else { s.to_owned() }
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_round_trip_and_strictness() {
        let x = Fr::from(123_456_789u64);
        assert_eq!(fr_from_decimal(&fr_to_decimal(&x)).unwrap(), x);
        assert_eq!(fr_to_decimal(&Fr::from(0u64)), "0");
        let r_minus_1 = -Fr::from(1u64);
        let expected = BigUint::parse_bytes(MODULUS_DECIMAL.as_bytes(), 10).unwrap() - 1u32;
        assert_eq!(fr_to_decimal(&r_minus_1), expected.to_string());
        assert_eq!(fr_from_decimal(&expected.to_string()).unwrap(), r_minus_1);
        assert!(fr_from_decimal(MODULUS_DECIMAL).is_err());
        for bad in ["", "-1", "+1", "01", "1 ", "0x10", "1e3"] {
            assert!(fr_from_decimal(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn bytes_round_trip_and_strictness() {
        let x = -Fr::from(5u64);
        assert_eq!(fr_from_be_bytes(&fr_to_be_bytes(&x)).unwrap(), x);
        let mut modulus = [0u8; 32];
        let m = BigUint::parse_bytes(MODULUS_DECIMAL.as_bytes(), 10).unwrap().to_bytes_be();
        modulus.copy_from_slice(&m);
        assert!(fr_from_be_bytes(&modulus).is_err());
        assert_eq!(fr_from_be_bytes_mod_order(&modulus), Fr::from(0u64));
        assert_eq!(fr_to_u64(&Fr::from(u64::MAX)), Some(u64::MAX));
        assert_eq!(fr_to_u64(&(Fr::from(u64::MAX) + Fr::from(1u64))), None);
    }
}
