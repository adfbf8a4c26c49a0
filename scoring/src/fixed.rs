//! Integer and fixed-point arithmetic the formula is built from.
//!
//! Nothing here (or anywhere in this crate) touches a float: an auditor on another machine, in
//! another language, must reproduce every number to the last digit, and IEEE-754 rounding,
//! fused multiply-add and `libm` differences make that a gamble. Every division is an integer
//! division that truncates toward zero, as Rust's `/` does; the README states the same.

use crate::{Error, Result};

/// One, in the millionths ("ppm") recency weights are expressed in.
pub const PPM: u64 = 1_000_000;

/// Basis points: 10,000 is the whole scale.
pub const BP: i64 = 10_000;

/// `2^(-2^-i)` for i = 1..=32 in Q63 (rounded to nearest), the factors of the bitwise exp2.
const EXP2_NEG_FRAC_Q63: [u64; 32] = [
    0x5a827999fcef3242,
    0x6ba27e656b4eb57a,
    0x75606373ee921c97,
    0x7a92be8a92436616,
    0x7d41d96db915019d,
    0x7e9f06067a4360ba,
    0x7f4f08ae3dc7c426,
    0x7fa765aca88f6453,
    0x7fd3ab290e46d769,
    0x7fe9d3a8e07bf086,
    0x7ff4e9597bed93ab,
    0x7ffa748dff8dc61f,
    0x7ffd3a3f50020332,
    0x7ffe9d1dbc0a75aa,
    0x7fff4e8e6306ed59,
    0x7fffa74712c3cdfd,
    0x7fffd3a381b1fa29,
    0x7fffe9d1beed018a,
    0x7ffff4e8defb81d7,
    0x7ffffa746f5f012f,
    0x7ffffd3a37a7d0a8,
    0x7ffffe9d1bd1fc58,
    0x7fffff4e8de8832d,
    0x7fffffa746f422d7,
    0x7fffffd3a37a09bb,
    0x7fffffe9d1bd02f2,
    0x7ffffff4e8de80fe,
    0x7ffffffa746f4060,
    0x7ffffffd3a37a028,
    0x7ffffffe9d1bd012,
    0x7fffffff4e8de809,
    0x7fffffffa746f404,
];

const Q63_ONE: u128 = 1 << 63;

/// The recency weight of something `age_secs` old with a half-life of `half_life_secs`:
/// `2^(-age / half_life)` in millionths (1,000,000 for age 0, 500,000 at one half-life).
///
/// The integer part of `age / half_life` is a right shift; the fraction is taken to 32 bits
/// (Q32) and `2^-fraction` is the product of the table factors for its set bits, in Q63 with
/// truncating multiplications, then rounded to the nearest millionth. Accurate to about one
/// millionth, and above all identical everywhere.
pub fn decay_ppm(age_secs: u64, half_life_secs: u64) -> u64 {
    if half_life_secs == 0 {
        return if age_secs == 0 { PPM } else { 0 };
    }
    let whole = age_secs / half_life_secs;
    if whole >= 64 {
        return 0;
    }
    let rest = u128::from(age_secs % half_life_secs);
    let frac_q32 = ((rest << 32) / u128::from(half_life_secs)) as u64;
    let mut acc: u64 = 1 << 63;
    for (i, factor) in EXP2_NEG_FRAC_Q63.iter().enumerate() {
        // Bit 31 of the Q32 fraction is 2^-1, bit 0 is 2^-32.
        if (frac_q32 >> (31 - i)) & 1 == 1 {
            acc = ((u128::from(acc) * u128::from(*factor)) >> 63) as u64;
        }
    }
    let shifted = u128::from(acc >> whole);
    ((shifted * u128::from(PPM) + (Q63_ONE >> 1)) >> 63) as u64
}

/// Integer square root: the largest `r` with `r * r <= n`.
pub fn isqrt(n: u128) -> u128 {
    if n < 2 {
        return n;
    }
    // Newton's iteration from an over-estimate; decreasing until it settles.
    let mut x = 1u128 << (n.ilog2() / 2 + 1);
    loop {
        let y = (x + n / x) / 2;
        if y >= x {
            return x;
        }
        x = y;
    }
}

/// A decimal number as written in canonical JSON (`4.8`, `5`, `1e-7`, `0.25`), converted to
/// basis points of `scale` with round-half-up: `rating * 10,000 / scale`.
///
/// Ratings arrive as JSON numbers; reading their decimal text exactly (rather than as a binary
/// float) is what keeps `4.8 / 5` at exactly 9,600 on every machine.
pub fn decimal_to_bp(text: &str, scale: u32) -> Result<u32> {
    let bad = || Error::InvalidEvent(format!("rating `{text}` is not a plain non-negative decimal"));
    if scale == 0 {
        return Err(Error::InvalidEvent("rating scale 0".into()));
    }
    let (mantissa_text, exp) = match text.find(['e', 'E']) {
        Some(i) => {
            let e: i32 = text[i + 1..].trim_start_matches('+').parse().map_err(|_| bad())?;
            (&text[..i], e)
        }
        None => (text, 0),
    };
    let (int_part, frac_part) = match mantissa_text.split_once('.') {
        Some((i, f)) => (i, f),
        None => (mantissa_text, ""),
    };
    let digits_ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int_part.is_empty() || !digits_ok(int_part) || !digits_ok(frac_part) {
        return Err(bad());
    }
    let all = format!("{int_part}{frac_part}");
    let all = all.trim_start_matches('0');
    if all.len() > 30 {
        return Err(bad());
    }
    let mantissa: u128 = if all.is_empty() { 0 } else { all.parse().map_err(|_| bad())? };
    let exp10 = exp - frac_part.len() as i32;
    if !(-40..=10).contains(&exp10) {
        return if mantissa == 0 { Ok(0) } else { Err(bad()) };
    }
    let (num, den) = if exp10 >= 0 {
        (mantissa * 10u128.pow(exp10 as u32) * 10_000, u128::from(scale))
    } else {
        let pow = 10u128.checked_pow((-exp10) as u32).ok_or_else(bad)?;
        (mantissa.checked_mul(10_000).ok_or_else(bad)?, u128::from(scale).checked_mul(pow).ok_or_else(bad)?)
    };
    let bp = (2 * num + den) / (2 * den);
    u32::try_from(bp).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decay_is_exact_at_half_lives_and_monotone() {
        let h = 180 * 86_400;
        assert_eq!(decay_ppm(0, h), 1_000_000);
        assert_eq!(decay_ppm(h, h), 500_000);
        assert_eq!(decay_ppm(2 * h, h), 250_000);
        assert_eq!(decay_ppm(10 * h, h), 977);
        assert_eq!(decay_ppm(64 * h, h), 0);
        // 2^-0.5 = 0.70710678...
        assert_eq!(decay_ppm(h / 2, h), 707_107);
        // 2^-0.25 = 0.84089641...
        assert_eq!(decay_ppm(h / 4, h), 840_896);
        let mut last = u64::MAX;
        for age in (0..3 * h).step_by(3607) {
            let w = decay_ppm(age, h);
            assert!(w <= last, "decay rose at age {age}");
            last = w;
        }
    }

    #[test]
    fn table_factors_square_into_each_other() {
        // c[i]^2 = c[i-1] and c[0]^2 = 1/2, up to rounding of the last bits.
        let sq = |c: u64| (u128::from(c) * u128::from(c)) >> 63;
        assert!(sq(EXP2_NEG_FRAC_Q63[0]).abs_diff(1 << 62) <= 2);
        for i in 1..32 {
            let d = sq(EXP2_NEG_FRAC_Q63[i]).abs_diff(u128::from(EXP2_NEG_FRAC_Q63[i - 1]));
            assert!(d <= 2, "factor {i} off by {d}");
        }
    }

    #[test]
    fn isqrt_is_the_floor() {
        for n in 0u128..5000 {
            let r = isqrt(n);
            assert!(r * r <= n && (r + 1) * (r + 1) > n, "{n}");
        }
        let big = u128::from(u64::MAX);
        assert_eq!(isqrt(big * big), big);
        assert_eq!(isqrt(big * big - 1), big - 1);
    }

    #[test]
    fn ratings_in_basis_points() {
        assert_eq!(decimal_to_bp("4.8", 5).unwrap(), 9600);
        assert_eq!(decimal_to_bp("5", 5).unwrap(), 10_000);
        assert_eq!(decimal_to_bp("0", 5).unwrap(), 0);
        assert_eq!(decimal_to_bp("4.2", 5).unwrap(), 8400);
        assert_eq!(decimal_to_bp("7", 10).unwrap(), 7000);
        // 1/3 of the scale: 3333.33 rounds down; 2/3: 6666.67 rounds up.
        assert_eq!(decimal_to_bp("1", 3).unwrap(), 3333);
        assert_eq!(decimal_to_bp("2", 3).unwrap(), 6667);
        assert_eq!(decimal_to_bp("1e-7", 5).unwrap(), 0);
        assert_eq!(decimal_to_bp("4.75", 5).unwrap(), 9500);
        assert_eq!(decimal_to_bp("1.00005", 1).unwrap(), 10_001);
        for bad in ["", "-1", "1.2.3", "abc", "1e", ".5", "1e999999"] {
            assert!(decimal_to_bp(bad, 5).is_err(), "{bad:?} accepted");
        }
    }
}
