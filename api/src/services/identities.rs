//! Node-held (custodial) identities: identity secrets the node keeps for workers who have no
//! device or wallet of their own, so that it can prove for them (`POST /v1/workers/{id}/proofs`).
//!
//! A secret is a uniformly random field element; its commitment `Poseidon(secret)` is the
//! worker's identity, what `WorkerRecord::commitment` computes. At rest the secret is sealed with
//! XChaCha20-Poly1305 under the node's sealing key: `nonce (24) || ciphertext (32) || tag (16)`,
//! with `"jejak-identity/v1" || commitment` as associated data, so a sealed secret copied onto
//! another row does not open. The sealing key lives apart from the database (config or a file in
//! the data directory), so a database backup alone does not give the secrets away.
//!
//! Secrets never appear in logs or `Debug` output: [`IdentitySecret`] and [`SealingKey`] print
//! as redacted.

use ark_std::UniformRand as _;
use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use jejak_zk_circuits::{Fr, fr_from_be_bytes, fr_to_be_bytes, identity_commitment};
use rand::RngCore as _;

/// Domain of the associated data of a sealed secret; a new format gets a new one.
pub const SEAL_DOMAIN: &[u8] = b"jejak-identity/v1";
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// Length of a sealed secret: nonce, 32-byte secret, tag.
pub const SEALED_LEN: usize = NONCE_LEN + 32 + TAG_LEN;

/// An identity secret (a field element). Printed as `IdentitySecret(<redacted>)`.
#[derive(Clone, PartialEq, Eq)]
pub struct IdentitySecret(Fr);

impl std::fmt::Debug for IdentitySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdentitySecret(<redacted>)")
    }
}

impl IdentitySecret {
    /// A new, uniformly random secret from the operating system's generator.
    pub fn generate() -> Self {
        Self(Fr::rand(&mut rand::rngs::OsRng))
    }

    /// `Poseidon(secret)`: the worker's identity commitment.
    pub fn commitment(&self) -> Fr {
        identity_commitment(self.0)
    }

    /// The field element, to prove with. Keep it out of logs.
    pub fn expose(&self) -> Fr {
        self.0
    }
}

/// Why a sealed secret did not open.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    /// Not nonce || ciphertext || tag.
    #[error("a sealed secret is {SEALED_LEN} bytes, this one is {0}")]
    Length(usize),
    /// The tag does not verify: another sealing key, an altered row, or a row moved from another
    /// commitment.
    #[error("the sealed secret does not open with this node's sealing key (another key, or the row was altered)")]
    Open,
    /// It opened, but to something that is not this commitment's secret.
    #[error("the sealed secret opens to a value whose commitment is not the row's")]
    WrongSecret,
}

/// The node's key for sealing identity secrets at rest. Printed as `SealingKey(<redacted>)`.
#[derive(Clone)]
pub struct SealingKey(XChaCha20Poly1305);

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(<redacted>)")
    }
}

fn associated_data(commitment: &[u8; 32]) -> Vec<u8> {
    [SEAL_DOMAIN, commitment.as_slice()].concat()
}

impl SealingKey {
    /// The key from its 32 bytes.
    pub fn new(key: [u8; 32]) -> Self {
        Self(XChaCha20Poly1305::new(&key.into()))
    }

    /// Seals `secret` for the row of `commitment` (32-byte big-endian), with a fresh random nonce.
    pub fn seal(&self, commitment: &[u8; 32], secret: &IdentitySecret) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let plain = fr_to_be_bytes(&secret.0);
        let aad = associated_data(commitment);
        let ciphertext = self
            .0
            .encrypt(&XNonce::from(nonce), Payload { msg: &plain, aad: &aad })
            .expect("XChaCha20-Poly1305 seals 32 bytes");
        [nonce.as_slice(), &ciphertext].concat()
    }

    /// Opens the sealed secret of the row of `commitment`, and checks it is that commitment's.
    pub fn open(&self, commitment: &[u8; 32], sealed: &[u8]) -> Result<IdentitySecret, SealError> {
        if sealed.len() != SEALED_LEN {
            return Err(SealError::Length(sealed.len()));
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| SealError::Length(sealed.len()))?;
        let aad = associated_data(commitment);
        let plain = self
            .0
            .decrypt(&XNonce::from(nonce), Payload { msg: ciphertext, aad: &aad })
            .map_err(|_| SealError::Open)?;
        let bytes: [u8; 32] = plain.as_slice().try_into().map_err(|_| SealError::WrongSecret)?;
        let secret = IdentitySecret(fr_from_be_bytes(&bytes).map_err(|_| SealError::WrongSecret)?);
        if fr_to_be_bytes(&secret.commitment()) != *commitment {
            return Err(SealError::WrongSecret);
        }
        Ok(secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealed_pair(key: &SealingKey) -> ([u8; 32], IdentitySecret, Vec<u8>) {
        let secret = IdentitySecret::generate();
        let commitment = fr_to_be_bytes(&secret.commitment());
        let sealed = key.seal(&commitment, &secret);
        (commitment, secret, sealed)
    }

    #[test]
    fn a_sealed_secret_opens_to_itself_only_for_its_row_and_key() {
        let key = SealingKey::new([7; 32]);
        let (commitment, secret, sealed) = sealed_pair(&key);
        assert_eq!(sealed.len(), SEALED_LEN);
        assert_eq!(key.open(&commitment, &sealed), Ok(secret.clone()));
        // The same secret sealed twice: different nonces, different bytes.
        assert_ne!(key.seal(&commitment, &secret), sealed);
        // Another row: the associated data differs.
        let (other, _, _) = sealed_pair(&key);
        assert_eq!(key.open(&other, &sealed), Err(SealError::Open));
        // Another key.
        assert_eq!(SealingKey::new([8; 32]).open(&commitment, &sealed), Err(SealError::Open));
        // Any flipped byte: nonce, ciphertext or tag.
        for i in [0, NONCE_LEN, SEALED_LEN - 1] {
            let mut altered = sealed.clone();
            altered[i] ^= 1;
            assert_eq!(key.open(&commitment, &altered), Err(SealError::Open), "byte {i}");
        }
        assert_eq!(key.open(&commitment, &sealed[1..]), Err(SealError::Length(SEALED_LEN - 1)));
    }

    #[test]
    fn secrets_and_keys_stay_out_of_debug_output() {
        let secret = IdentitySecret::generate();
        let shown = format!("{secret:?} {:?}", SealingKey::new([7; 32]));
        assert_eq!(shown, "IdentitySecret(<redacted>) SealingKey(<redacted>)");
        assert!(!shown.contains(&jejak_zk_circuits::fr_to_decimal(&secret.expose())));
    }

    #[test]
    fn the_commitment_is_what_a_worker_record_computes() {
        let secret = IdentitySecret::generate();
        let record = jejak_zk_circuits::WorkerRecord {
            secret: secret.expose(),
            score: 1,
            gigs: 1,
            tier: 1,
            epoch: 1,
            salt: Fr::from(1u64),
        };
        assert_eq!(secret.commitment(), record.commitment());
        assert_ne!(IdentitySecret::generate(), secret, "fresh randomness each time");
    }
}
