//! Salted attestation leaves.
//!
//! A leaf commits to one event without revealing it: `leaf input = salt || SHA-256(JCS(event))`,
//! hashed as an RFC 6962 leaf. The 32-byte random salt stops anyone from confirming a guessed
//! event against a public batch; the worker or platform discloses it with the event to prove it.

use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::merkle::{self, Digest};

/// A 32-byte random salt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Salt(#[serde(with = "hex::serde")] pub [u8; 32]);

impl Salt {
    /// A fresh salt from the operating system's generator.
    pub fn random() -> Self {
        let mut s = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut s);
        Self(s)
    }
}

/// SHA-256 of an event's canonical bytes.
pub fn event_digest(canonical: &[u8]) -> Digest {
    Sha256::digest(canonical).into()
}

/// The leaf input, `salt || event digest`.
pub fn leaf_input(salt: &Salt, digest: &Digest) -> [u8; 64] {
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(&salt.0);
    out[32..].copy_from_slice(digest);
    out
}

/// The RFC 6962 leaf hash of an attestation.
pub fn leaf_hash(salt: &Salt, digest: &Digest) -> Digest {
    merkle::leaf_hash(&leaf_input(salt, digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salts_hide_equal_events() {
        let d = event_digest(b"{}");
        assert_ne!(leaf_hash(&Salt::random(), &d), leaf_hash(&Salt::random(), &d));
        let s = Salt([7; 32]);
        assert_eq!(leaf_hash(&s, &d), merkle::leaf_hash(&[[7u8; 32], d].concat()));
    }
}
