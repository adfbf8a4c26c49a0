//! Webhook secrets sealed at rest.
//!
//! HMAC needs the secret itself, so webhook secrets (a platform's incoming secret, each
//! subscription's outgoing one) cannot be hashed like API keys; they are sealed instead with
//! XChaCha20-Poly1305 under the node's webhook secrets key, kept apart from the database (in the
//! keys directory, or configured), so a database backup alone gives no secret away.
//!
//! Stored form: `0x01 || nonce (24) || ciphertext || tag (16)`, with the row's identity as
//! associated data (`"jejak-webhook-secret/v1" || kind || id`), so a sealed secret copied onto
//! another platform's or subscription's row does not open. Secrets stored in the clear before
//! sealing existed (`whsec_...`, ASCII) are read as they are and sealed by
//! [`seal_stored_secrets`], which the node runs at start.

use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use jejak_store::webhooks as db;
use rand::RngCore as _;

use crate::ApiError;

const DOMAIN: &[u8] = b"jejak-webhook-secret/v1";
const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// The key webhook secrets are sealed with. Printed as `SecretsKey(<redacted>)`.
#[derive(Clone)]
pub struct SecretsKey(XChaCha20Poly1305);

impl std::fmt::Debug for SecretsKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretsKey(<redacted>)")
    }
}

/// Which row a secret belongs to.
#[derive(Debug, Clone, Copy)]
enum Owner<'a> {
    Platform(i64),
    Subscription(&'a str),
}

impl Owner<'_> {
    fn associated_data(self) -> Vec<u8> {
        match self {
            Owner::Platform(id) => [DOMAIN, b"|platform|", id.to_string().as_bytes()].concat(),
            Owner::Subscription(id) => [DOMAIN, b"|subscription|", id.as_bytes()].concat(),
        }
    }
}

/// Whether stored bytes are a sealed secret (a clear one is printable ASCII).
fn is_sealed(stored: &[u8]) -> bool {
    stored.first() == Some(&VERSION) && stored.len() > 1 + NONCE_LEN + TAG_LEN
}

impl SecretsKey {
    /// The key from its 32 bytes.
    pub fn new(key: [u8; 32]) -> Self {
        Self(XChaCha20Poly1305::new(&key.into()))
    }

    /// A random key that lives as long as the process (tests, and programs that keep no
    /// secrets across restarts).
    pub fn ephemeral() -> Self {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        Self::new(key)
    }

    fn seal(&self, owner: Owner<'_>, secret: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let aad = owner.associated_data();
        let ciphertext = self
            .0
            .encrypt(&XNonce::from(nonce), Payload { msg: secret, aad: &aad })
            .expect("XChaCha20-Poly1305 seals any short secret");
        [&[VERSION][..], &nonce, &ciphertext].concat()
    }

    fn open(&self, owner: Owner<'_>, stored: &[u8]) -> Result<Vec<u8>, ApiError> {
        if !is_sealed(stored) {
            // Kept in the clear before sealing; sealed at the next start.
            return Ok(stored.to_vec());
        }
        let (nonce, ciphertext) = stored[1..].split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(ApiError::internal)?;
        let aad = owner.associated_data();
        self.0.decrypt(&XNonce::from(nonce), Payload { msg: ciphertext, aad: &aad }).map_err(|_| {
            ApiError::internal(format!(
                "the webhook secret of {owner:?} does not open with this node's webhook secrets key \
                 (another key, or the row was altered)"
            ))
        })
    }

    /// Seals a platform's incoming-webhook secret for its row.
    pub fn seal_platform_secret(&self, platform_id: i64, secret: &[u8]) -> Vec<u8> {
        self.seal(Owner::Platform(platform_id), secret)
    }

    /// Opens a platform's stored incoming-webhook secret.
    pub fn open_platform_secret(&self, platform_id: i64, stored: &[u8]) -> Result<Option<Vec<u8>>, ApiError> {
        self.open(Owner::Platform(platform_id), stored).map(Some)
    }

    /// Seals a subscription's secret for its row.
    pub fn seal_subscription_secret(&self, id: &str, secret: &[u8]) -> Vec<u8> {
        self.seal(Owner::Subscription(id), secret)
    }

    /// Opens a subscription's stored secret.
    pub fn open_subscription_secret(&self, id: &str, stored: &[u8]) -> Result<Vec<u8>, ApiError> {
        self.open(Owner::Subscription(id), stored)
    }
}

/// Seals every webhook secret still stored in the clear (rows from before sealing); returns how
/// many. Each row is replaced only if it still holds what was read, so two instances starting
/// together seal each row once.
pub async fn seal_stored_secrets(store: &jejak_store::Store, key: &SecretsKey) -> jejak_store::Result<usize> {
    let mut tx = store.begin().await?;
    let mut sealed = 0;
    for (platform_id, stored) in db::platform_secrets(&mut tx).await? {
        if !is_sealed(&stored) {
            let new = key.seal(Owner::Platform(platform_id), &stored);
            sealed += usize::from(db::reseal_platform_secret(&mut tx, platform_id, &stored, &new).await?);
        }
    }
    for (id, stored) in db::subscription_secrets(&mut tx).await? {
        if !is_sealed(&stored) {
            let new = key.seal(Owner::Subscription(&id), &stored);
            sealed += usize::from(db::reseal_subscription_secret(&mut tx, &id, &stored, &new).await?);
        }
    }
    jejak_store::commit(tx).await?;
    if sealed > 0 {
        tracing::info!(target: "jejak::webhooks", sealed, "webhook secrets stored in the clear are sealed now");
    }
    Ok(sealed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_for_its_row_and_key() {
        let key = SecretsKey::new([3; 32]);
        let sealed = key.seal_platform_secret(7, b"whsec_abc");
        assert!(!sealed.windows(9).any(|w| w == b"whsec_abc"), "not in the clear");
        assert_eq!(key.open_platform_secret(7, &sealed).unwrap().unwrap(), b"whsec_abc");
        assert!(key.open_platform_secret(8, &sealed).is_err(), "moved to another platform's row");
        assert!(key.open_subscription_secret("7", &sealed).is_err(), "moved to a subscription");
        assert!(SecretsKey::new([4; 32]).open_platform_secret(7, &sealed).is_err(), "another key");
        let mut altered = sealed.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert!(key.open_platform_secret(7, &altered).is_err());
        // A secret from before sealing reads as it is.
        assert_eq!(key.open_subscription_secret("whs_1", b"whsec_old").unwrap(), b"whsec_old");
    }
}
