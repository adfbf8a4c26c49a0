//! Witness signatures: ed25519 over a domain-separated canonical message, verified strictly.
//!
//! The message is the RFC 8785 canonical JSON of
//! `{"domain":"jejak/evidence-witness/v1","evidence_root":<hex>,"nonce":<nonce>,"task_id":<id>,"time":<unix seconds>}`.
//! The `domain` member keeps a witness signature from being valid as any other jejak signature,
//! the nonce binds it to this task's server-issued challenge, and the evidence root
//! ([`evidence_root`]) binds it to the exact set of files.

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use jejak_core::merkle;
use serde::{Deserialize, Serialize};

use crate::Digest;

/// Domain separator of witness messages.
pub const WITNESS_DOMAIN: &str = "jejak/evidence-witness/v1";

/// A witness's signed statement that they saw the task's evidence being made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WitnessStatement {
    /// The witness's ed25519 public key.
    #[serde(with = "crate::hexser::plain")]
    pub witness_key: [u8; 32],
    /// When the witness signed, in Unix seconds.
    pub signed_at: i64,
    /// The ed25519 signature over [`witness_message`].
    #[serde(with = "crate::hexser::plain")]
    pub signature: [u8; 64],
}

#[derive(Serialize)]
struct Message<'a> {
    domain: &'static str,
    evidence_root: String,
    nonce: &'a str,
    task_id: &'a str,
    time: i64,
}

/// The exact bytes a witness signs.
pub fn witness_message(task_id: &str, evidence_root: &Digest, nonce: &str, time: i64) -> Vec<u8> {
    let m = Message { domain: WITNESS_DOMAIN, evidence_root: hex::encode(evidence_root), nonce, task_id, time };
    // Strings and an integer always canonicalise; a failure here would be a serializer bug.
    jejak_core::jcs::to_vec(&m).expect("canonical JSON of strings and an integer")
}

/// The root a witness signs over: the RFC 6962 Merkle root of the submission's file SHA-256
/// digests, sorted and deduplicated so upload order does not matter. A witness app computes it
/// from the files it is shown.
pub fn evidence_root(file_sha256s: &[Digest]) -> Digest {
    let mut hashes = file_sha256s.to_vec();
    hashes.sort_unstable();
    hashes.dedup();
    let leaves: Vec<Digest> = hashes.iter().map(|h| merkle::leaf_hash(h)).collect();
    merkle::root(&leaves)
}

/// Signs a statement with a witness's 32-byte ed25519 secret key (the witness app's side).
pub fn sign_witness(
    secret_key: &[u8; 32],
    task_id: &str,
    evidence_root: &Digest,
    nonce: &str,
    time: i64,
) -> WitnessStatement {
    let key = SigningKey::from_bytes(secret_key);
    let signature = key.sign(&witness_message(task_id, evidence_root, nonce, time));
    WitnessStatement { witness_key: key.verifying_key().to_bytes(), signed_at: time, signature: signature.to_bytes() }
}

/// The public key of a 32-byte ed25519 secret key.
pub fn public_key(secret_key: &[u8; 32]) -> [u8; 32] {
    SigningKey::from_bytes(secret_key).verifying_key().to_bytes()
}

/// Checks the statement with `verify_strict`: rejects small-order keys, non-canonical encodings
/// and malleated signatures, not only wrong ones.
pub fn verify_witness(statement: &WitnessStatement, task_id: &str, evidence_root: &Digest, nonce: &str) -> bool {
    let Ok(key) = VerifyingKey::from_bytes(&statement.witness_key) else {
        return false;
    };
    let signature = Signature::from_bytes(&statement.signature);
    let message = witness_message(task_id, evidence_root, nonce, statement.signed_at);
    key.verify_strict(&message, &signature).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_is_canonical_and_domain_separated() {
        let m = witness_message("task-1", &[0xab; 32], "n0nce", 1_700_000_000);
        let expected = format!(
            r#"{{"domain":"jejak/evidence-witness/v1","evidence_root":"{}","nonce":"n0nce","task_id":"task-1","time":1700000000}}"#,
            "ab".repeat(32)
        );
        assert_eq!(String::from_utf8(m).unwrap(), expected);
    }

    #[test]
    fn signature_binds_every_field() {
        let sk = [7u8; 32];
        let root = evidence_root(&[[1; 32], [2; 32]]);
        let s = sign_witness(&sk, "t", &root, "nonce", 100);
        assert!(verify_witness(&s, "t", &root, "nonce"));
        assert!(!verify_witness(&s, "u", &root, "nonce"));
        assert!(!verify_witness(&s, "t", &[0; 32], "nonce"));
        assert!(!verify_witness(&s, "t", &root, "other"));
        let mut later = s.clone();
        later.signed_at += 1;
        assert!(!verify_witness(&later, "t", &root, "nonce"));
    }

    #[test]
    fn strict_verification_rejects_small_order_keys() {
        // The identity point: a signature (R = identity, s = 0) is valid for every message under
        // non-strict verification.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(&identity);
        let s = WitnessStatement { witness_key: identity, signed_at: 0, signature: sig };
        assert!(!verify_witness(&s, "t", &[0; 32], "n"));
    }

    #[test]
    fn evidence_root_ignores_order_and_repeats() {
        let (a, b) = ([1u8; 32], [2u8; 32]);
        assert_eq!(evidence_root(&[a, b]), evidence_root(&[b, a, b]));
        assert_ne!(evidence_root(&[a, b]), evidence_root(&[a]));
    }
}
