//! Link keys and link tokens: how a worker consents to a platform attaching one of its accounts
//! to the worker's identity.
//!
//! The identity secret determines an Ed25519 *link key* (`SHA-256("jejak/link-key/v1" ||
//! secret)` as the seed), and the identity commitment binds it:
//! `commitment = Poseidon(Poseidon(secret), k)` with `k` the link key's 32 bytes read big-endian
//! and reduced mod r. Knowing the commitment reveals neither the secret nor the key; only the
//! holder of the secret can sign with a key the commitment opens to.
//!
//! A [`LinkToken`] is the worker's signature over [`LinkClaims`] (chain, platform, account,
//! commitment, expiry, nonce) plus the opening (`inner = Poseidon(secret)`, the link key). Anyone
//! checks it with [`LinkToken::verify`]; expiry against a clock and single use are the caller's
//! (this crate reads no clock and keeps no state).

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::{
    Error, Fr, Result,
    field::{fr_from_be_bytes_mod_order, fr_to_be_bytes},
    poseidon::hash,
};

/// Domain of the link key derivation.
pub const LINK_KEY_DOMAIN: &[u8] = b"jejak/link-key/v1";
/// Domain that starts every signed link token.
pub const LINK_TOKEN_DOMAIN: &[u8] = b"jejak/link-token/v1";
/// Bytes of a link token nonce.
pub const NONCE_LEN: usize = 16;
/// Longest account reference a token names (the event's `worker` has the same bound).
pub const MAX_ACCOUNT_LEN: usize = 128;

/// The Ed25519 link key of an identity secret.
pub fn link_signing_key(secret: &Fr) -> SigningKey {
    let mut h = Sha256::new();
    h.update(LINK_KEY_DOMAIN);
    h.update(fr_to_be_bytes(secret));
    SigningKey::from_bytes(&h.finalize().into())
}

/// `k`: a link key's public bytes, big-endian, reduced mod r.
pub fn link_key_element(public: &VerifyingKey) -> Fr {
    fr_from_be_bytes_mod_order(public.as_bytes())
}

/// `k` of the link key of `secret` (the circuit's private input beside the secret).
pub fn link_key_of(secret: &Fr) -> Fr {
    link_key_element(&link_signing_key(secret).verifying_key())
}

/// `Poseidon(secret)`: the inner half of the commitment, which a link token discloses.
pub fn inner_commitment(secret: &Fr) -> Fr {
    hash(&[*secret])
}

/// `Poseidon(inner, k)`: the identity commitment from its two halves.
pub fn commitment_from_parts(inner: Fr, link_key: Fr) -> Fr {
    hash(&[inner, link_key])
}

/// What a worker consents to: this account of this platform on this chain may be linked to this
/// identity until `expires_at`, once (`nonce`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkClaims {
    /// Chain id of the registry the platform is registered in.
    pub chain_id: u64,
    /// The platform's id in that registry.
    pub platform_id: u64,
    /// The worker's account reference on the platform (the event's `worker`).
    pub account: String,
    /// The identity commitment.
    pub commitment: Fr,
    /// Unix seconds after which the token is refused.
    pub expires_at: u64,
    /// Random, so that each token is used once.
    pub nonce: [u8; NONCE_LEN],
}

impl LinkClaims {
    /// The signed bytes, a fixed layout: the domain, `chain_id`, `platform_id` (u64 big-endian),
    /// `commitment` (32 bytes big-endian), `expires_at` (u64 big-endian), `nonce` (16 bytes),
    /// the account's length (u16 big-endian) and its UTF-8 bytes.
    pub fn signing_bytes(&self) -> Result<Vec<u8>> {
        let account = self.account.as_bytes();
        if account.is_empty() || account.len() > MAX_ACCOUNT_LEN {
            return Err(Error::InvalidLinkToken(format!("account must be 1 to {MAX_ACCOUNT_LEN} bytes")));
        }
        let mut out = Vec::with_capacity(LINK_TOKEN_DOMAIN.len() + 8 + 8 + 32 + 8 + NONCE_LEN + 2 + account.len());
        out.extend_from_slice(LINK_TOKEN_DOMAIN);
        out.extend_from_slice(&self.chain_id.to_be_bytes());
        out.extend_from_slice(&self.platform_id.to_be_bytes());
        out.extend_from_slice(&fr_to_be_bytes(&self.commitment));
        out.extend_from_slice(&self.expires_at.to_be_bytes());
        out.extend_from_slice(&self.nonce);
        out.extend_from_slice(&(account.len() as u16).to_be_bytes());
        out.extend_from_slice(account);
        Ok(out)
    }
}

/// A worker's signed consent to one link, with the opening of the commitment to the key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkToken {
    /// What is consented to.
    pub claims: LinkClaims,
    /// `Poseidon(secret)`.
    pub inner: Fr,
    /// The link key's public bytes.
    pub link_key: [u8; 32],
    /// Ed25519 signature of [`LinkClaims::signing_bytes`].
    pub signature: [u8; 64],
}

impl LinkToken {
    /// Signs `claims` with the link key of `secret`; fails if the claims name another identity.
    pub fn issue(secret: &Fr, claims: LinkClaims) -> Result<Self> {
        let key = link_signing_key(secret);
        let inner = inner_commitment(secret);
        if commitment_from_parts(inner, link_key_element(&key.verifying_key())) != claims.commitment {
            return Err(Error::InvalidLinkToken("the claims name another identity than this secret's".into()));
        }
        let signature = key.sign(&claims.signing_bytes()?).to_bytes();
        Ok(Self { claims, inner, link_key: key.verifying_key().to_bytes(), signature })
    }

    /// Checks that the commitment opens to the link key and that the key signed the claims
    /// (strict Ed25519: no small-order keys, canonical signatures). Expiry and single use are
    /// the caller's to check.
    pub fn verify(&self) -> Result<()> {
        let bad = |m: &str| Err(Error::InvalidLinkToken(m.to_owned()));
        let Ok(key) = VerifyingKey::from_bytes(&self.link_key) else {
            return bad("link_key is not an Ed25519 public key");
        };
        if commitment_from_parts(self.inner, link_key_element(&key)) != self.claims.commitment {
            return bad("the commitment does not open to this link key");
        }
        let message = self.claims.signing_bytes()?;
        if key.verify_strict(&message, &Signature::from_bytes(&self.signature)).is_err() {
            return bad("the signature does not verify");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity_commitment;

    fn claims(secret: &Fr) -> LinkClaims {
        LinkClaims {
            chain_id: 31337,
            platform_id: 2,
            account: "rider-17".into(),
            commitment: identity_commitment(*secret),
            expires_at: 1_800_000_000,
            nonce: [7; NONCE_LEN],
        }
    }

    #[test]
    fn a_token_issued_from_the_secret_verifies() {
        let secret = Fr::from(12345u64);
        let t = LinkToken::issue(&secret, claims(&secret)).unwrap();
        t.verify().unwrap();
        assert_eq!(commitment_from_parts(inner_commitment(&secret), link_key_of(&secret)), identity_commitment(secret));
    }

    #[test]
    fn every_claim_is_signed() {
        let secret = Fr::from(12345u64);
        let t = LinkToken::issue(&secret, claims(&secret)).unwrap();
        let changes: [fn(&mut LinkClaims); 5] = [
            |c| c.chain_id += 1,
            |c| c.platform_id += 1,
            |c| c.account.push('x'),
            |c| c.expires_at += 1,
            |c| c.nonce[0] ^= 1,
        ];
        for change in changes {
            let mut forged = t.clone();
            change(&mut forged.claims);
            assert!(forged.verify().is_err(), "{forged:?}");
        }
    }

    #[test]
    fn a_key_the_commitment_does_not_open_to_is_refused() {
        // Someone who knows the commitment but not the secret signs with a key of their own.
        let secret = Fr::from(12345u64);
        let other = Fr::from(999u64);
        let mut t =
            LinkToken::issue(&other, LinkClaims { commitment: identity_commitment(other), ..claims(&secret) }).unwrap();
        t.claims.commitment = identity_commitment(secret);
        t.signature = link_signing_key(&other).sign(&t.claims.signing_bytes().unwrap()).to_bytes();
        assert!(t.verify().is_err());
        t.inner = inner_commitment(&secret);
        assert!(t.verify().is_err());
        assert!(LinkToken::issue(&other, claims(&secret)).is_err());
    }

    #[test]
    fn the_signed_layout_is_fixed() {
        let c = LinkClaims {
            chain_id: 1,
            platform_id: 2,
            account: "ab".into(),
            commitment: Fr::from(3u64),
            expires_at: 4,
            nonce: [5; NONCE_LEN],
        };
        let b = c.signing_bytes().unwrap();
        assert_eq!(&b[..19], LINK_TOKEN_DOMAIN);
        assert_eq!(b.len(), 19 + 8 + 8 + 32 + 8 + 16 + 2 + 2);
        assert_eq!(&b[19..27], &1u64.to_be_bytes());
        assert_eq!(b[27 + 8 + 31], 3);
        assert_eq!(&b[b.len() - 4..], &[0, 2, b'a', b'b']);
        assert!(LinkClaims { account: String::new(), ..c.clone() }.signing_bytes().is_err());
        assert!(LinkClaims { account: "a".repeat(129), ..c }.signing_bytes().is_err());
    }
}
