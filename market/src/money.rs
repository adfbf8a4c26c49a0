//! Amounts in integer minor units of an ISO 4217 currency.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The largest amount accepted, in minor units (10^15: a trillion in a two-decimal currency),
/// far enough below `i64::MAX` that sums of every milestone of a contract cannot overflow.
pub const MAX_AMOUNT_MINOR: i64 = 1_000_000_000_000_000;

/// An ISO 4217 currency that has minor units (not a fund or a metal such as XAU).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency {
    code: iso_currency::Currency,
    minor_units: u8,
}

impl Currency {
    /// Parses an upper-case ISO 4217 code such as `IDR`; codes without minor units are refused.
    pub fn parse(code: &str) -> Result<Self> {
        let bad = || Error::invalid("currency", format!("{code:.8} is not an ISO 4217 currency with minor units"));
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(bad());
        }
        let c = iso_currency::Currency::from_code(code).ok_or_else(bad)?;
        let minor_units = c.exponent().ok_or_else(bad)?;
        Ok(Self { code: c, minor_units: u8::try_from(minor_units).map_err(|_| bad())? })
    }

    /// The three-letter code.
    pub fn code(&self) -> &'static str {
        self.code.code()
    }

    /// How many decimal places its minor unit has (IDR 2, JPY 0, KWD 3).
    pub fn minor_units(&self) -> u8 {
        self.minor_units
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Checks an amount: a positive integer of minor units at most [`MAX_AMOUNT_MINOR`].
pub(crate) fn check_amount(field: &'static str, amount: i64) -> Result<()> {
    if amount <= 0 || amount > MAX_AMOUNT_MINOR {
        return Err(Error::invalid(
            field,
            format!("an amount is a whole number of minor units, 1 to {MAX_AMOUNT_MINOR}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currencies_carry_their_minor_units() {
        assert_eq!(Currency::parse("IDR").unwrap().minor_units(), 2);
        assert_eq!(Currency::parse("JPY").unwrap().minor_units(), 0);
        assert_eq!(Currency::parse("KWD").unwrap().minor_units(), 3);
        for bad in ["idr", "XAU", "ZZZ", "", "IDRR", "I\u{0}R"] {
            assert!(Currency::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn amounts_are_bounded() {
        assert!(check_amount("a", 1).is_ok());
        assert!(check_amount("a", MAX_AMOUNT_MINOR).is_ok());
        for bad in [0, -1, MAX_AMOUNT_MINOR + 1, i64::MIN, i64::MAX] {
            assert!(check_amount("a", bad).is_err());
        }
    }
}
