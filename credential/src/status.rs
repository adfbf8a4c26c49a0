//! Bitstring Status List v1.0: a revocation bit per issued credential, published as a GZIP
//! compressed bitstring in multibase base64url (`u`), at least 131,072 entries so that one
//! credential's position says little about who it belongs to.

use std::io::{Read as _, Write as _};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::{Error, Result};

/// Entries in one list (the specification's minimum, 16 KiB).
pub const LIST_SIZE: usize = 131_072;

/// Largest decoded list accepted, so a hostile list cannot exhaust memory.
const MAX_LIST_BYTES: u64 = 16 << 20;

/// A status list: bit `i` set means credential `i` of the list is revoked. Bit 0 is the most
/// significant bit of the first byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusList {
    bits: Vec<u8>,
}

impl Default for StatusList {
    fn default() -> Self {
        Self::new()
    }
}

impl StatusList {
    /// An empty list of [`LIST_SIZE`] entries.
    pub fn new() -> Self {
        Self { bits: vec![0; LIST_SIZE / 8] }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.bits.len() * 8
    }

    /// Always false: a list has at least one byte of entries.
    pub fn is_empty(&self) -> bool {
        self.bits.is_empty()
    }

    /// Sets entry `index`; false when it is outside the list.
    pub fn set(&mut self, index: usize, value: bool) -> bool {
        let Some(byte) = self.bits.get_mut(index / 8) else {
            return false;
        };
        let mask = 0x80u8 >> (index % 8);
        if value {
            *byte |= mask;
        } else {
            *byte &= !mask;
        }
        true
    }

    /// Entry `index`, None outside the list.
    pub fn get(&self, index: usize) -> Option<bool> {
        self.bits.get(index / 8).map(|b| b & (0x80u8 >> (index % 8)) != 0)
    }

    /// `encodedList`: multibase base64url (no padding) of the GZIP-compressed bitstring.
    pub fn encode(&self) -> String {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&self.bits).expect("writing to memory");
        let compressed = gz.finish().expect("writing to memory");
        format!("u{}", URL_SAFE_NO_PAD.encode(compressed))
    }

    /// Reads an `encodedList`.
    pub fn decode(encoded: &str) -> Result<Self> {
        let b64 =
            encoded.strip_prefix('u').ok_or_else(|| Error::InvalidStatusList("not multibase base64url".into()))?;
        let compressed =
            URL_SAFE_NO_PAD.decode(b64).map_err(|e| Error::InvalidStatusList(format!("base64url: {e}")))?;
        let mut bits = Vec::new();
        flate2::read::GzDecoder::new(&compressed[..])
            .take(MAX_LIST_BYTES + 1)
            .read_to_end(&mut bits)
            .map_err(|e| Error::InvalidStatusList(format!("gzip: {e}")))?;
        if bits.len() as u64 > MAX_LIST_BYTES || bits.is_empty() {
            return Err(Error::InvalidStatusList("empty or larger than 16 MiB".into()));
        }
        Ok(Self { bits })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_round_trip_through_the_encoding() {
        let mut list = StatusList::new();
        assert_eq!(list.len(), LIST_SIZE);
        assert!(list.set(0, true) && list.set(94_567, true) && list.set(LIST_SIZE - 1, true));
        assert!(!list.set(LIST_SIZE, true));
        let decoded = StatusList::decode(&list.encode()).unwrap();
        assert_eq!(decoded, list);
        assert_eq!(decoded.get(94_567), Some(true));
        assert_eq!(decoded.get(94_566), Some(false));
        assert_eq!(decoded.bits[0], 0x80, "index 0 is the leftmost bit");
        assert!(StatusList::decode("zabc").is_err());
        assert!(StatusList::decode("u!!").is_err());
    }

    #[test]
    fn empty_list_is_the_specification_example() {
        // Bitstring Status List v1.0: an all-zero 16 KiB list compresses to a short value.
        let e = StatusList::new().encode();
        assert!(e.starts_with("uH4sI"), "{e}");
        assert!(e.len() < 200);
    }
}
