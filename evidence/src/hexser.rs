//! Strict lowercase hex for fixed-size byte arrays in JSON, so one value has exactly one
//! spelling and any altered character in a receipt changes or breaks it.

use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

fn decode<const N: usize>(s: &str) -> Result<[u8; N], String> {
    if s.len() != 2 * N || s.bytes().any(|b| !matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(format!("expected {} lowercase hex digits", 2 * N));
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(s, &mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

/// `[u8; N]` as plain lowercase hex.
pub(crate) mod plain {
    use super::*;

    pub(crate) fn serialize<S: Serializer, const N: usize>(v: &[u8; N], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>, const N: usize>(d: D) -> Result<[u8; N], D::Error> {
        decode(&String::deserialize(d)?).map_err(D::Error::custom)
    }
}

/// `[u8; N]` as `0x`-prefixed lowercase hex, the way Ethereum tools print addresses and hashes.
pub(crate) mod prefixed {
    use super::*;

    pub(crate) fn serialize<S: Serializer, const N: usize>(v: &[u8; N], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("0x{}", hex::encode(v)))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>, const N: usize>(d: D) -> Result<[u8; N], D::Error> {
        let s = String::deserialize(d)?;
        let body = s.strip_prefix("0x").ok_or_else(|| D::Error::custom("expected a 0x prefix"))?;
        decode(body).map_err(D::Error::custom)
    }
}

/// `Vec<[u8; 32]>` as a list of plain lowercase hex strings.
pub(crate) mod digests {
    use super::*;
    use serde::ser::SerializeSeq;

    pub(crate) fn serialize<S: Serializer>(v: &[[u8; 32]], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(v.len()))?;
        for d in v {
            seq.serialize_element(&hex::encode(d))?;
        }
        seq.end()
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<[u8; 32]>, D::Error> {
        Vec::<String>::deserialize(d)?.iter().map(|s| decode(s).map_err(D::Error::custom)).collect()
    }
}
