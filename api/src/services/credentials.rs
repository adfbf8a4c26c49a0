//! The node as a credential issuer: its ed25519 key (published as a `did:key`), where its status
//! lists live, and an in-memory copy of which credentials are revoked, so verifying a credential
//! reads no database. Credentials verified recently keep their time-independent checks (shape,
//! signature, issuer) in a bounded cache keyed by the request's SHA-256; the validity period and
//! revocation are checked again on every request.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use jejak_credential::status::LIST_SIZE;
use jejak_credential::{StatusAnswer, StatusList, did};

use crate::ApiResult;

/// How long the copy of revocations is trusted before it is read again (revocations made
/// through this node's API apply at once).
const REVOCATIONS_TTL: Duration = Duration::from_secs(1);

/// The node's issuer identity and revocation state.
#[derive(Debug)]
pub struct Issuer {
    key: SigningKey,
    did: String,
    public_url: String,
    /// How long issued credentials are valid.
    pub validity: Duration,
    revoked: RwLock<Option<(Instant, HashSet<i64>)>>,
    examined: Mutex<HashMap<[u8; 32], Arc<Examined>>>,
    /// Most examinations kept (0: none).
    pub cache_entries: usize,
}

/// The time-independent part of a credential's verification, and the issuer it names.
#[derive(Debug)]
pub struct Examined {
    /// Shape, proof and issuer checks.
    pub checks: jejak_credential::credential::Examined,
    /// `issuer` as the credential names it.
    pub issuer: Option<String>,
}

impl Issuer {
    /// An issuer signing with `key`, reachable at `public_url` (no trailing slash).
    pub fn new(key: SigningKey, public_url: &str, validity: Duration) -> Self {
        let did = did::did_key(&key.verifying_key());
        Self {
            key,
            did,
            public_url: public_url.trim_end_matches('/').to_owned(),
            validity,
            revoked: RwLock::new(None),
            examined: Mutex::new(HashMap::new()),
            cache_entries: 10_000,
        }
    }

    /// The signing key.
    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    /// `did:key:z6Mk...`.
    pub fn did(&self) -> &str {
        &self.did
    }

    /// The verification method proofs name.
    pub fn verification_method(&self) -> String {
        did::verification_method(&self.key.verifying_key())
    }

    /// URL of status list `list` (from 1).
    pub fn list_url(&self, list: i64) -> String {
        format!("{}/v1/credentials/status/{list}", self.public_url)
    }

    /// The (list, index) of the credential issued `seq`-th.
    pub fn position(seq: i64) -> (i64, u64) {
        let size = LIST_SIZE as i64;
        ((seq - 1) / size + 1, ((seq - 1) % size) as u64)
    }

    /// The `seq` a status entry of this node's lists names, if it names one.
    pub fn seq_of(&self, list_url: &str, index: u64) -> Option<i64> {
        let prefix = format!("{}/v1/credentials/status/", self.public_url);
        let list: i64 = list_url.strip_prefix(&prefix)?.parse().ok().filter(|l| *l >= 1)?;
        (index < LIST_SIZE as u64).then(|| (list - 1) * LIST_SIZE as i64 + index as i64 + 1)
    }

    async fn revoked_set(&self, store: &jejak_store::Store) -> ApiResult<HashSet<i64>> {
        if let Some((at, set)) = self.revoked.read().unwrap_or_else(|e| e.into_inner()).as_ref()
            && at.elapsed() < REVOCATIONS_TTL
        {
            return Ok(set.clone());
        }
        let mut c = store.conn().await?;
        let set: HashSet<i64> = jejak_store::credentials::revoked(&mut c).await?.into_iter().collect();
        *self.revoked.write().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), set.clone()));
        Ok(set)
    }

    /// Whether credential `seq` is revoked.
    pub async fn is_revoked(&self, store: &jejak_store::Store, seq: i64) -> ApiResult<bool> {
        if let Some((at, set)) = self.revoked.read().unwrap_or_else(|e| e.into_inner()).as_ref()
            && at.elapsed() < REVOCATIONS_TTL
        {
            return Ok(set.contains(&seq));
        }
        Ok(self.revoked_set(store).await?.contains(&seq))
    }

    /// The examination of the request whose SHA-256 is `key`, if kept.
    pub fn examined(&self, key: &[u8; 32]) -> Option<Arc<Examined>> {
        self.examined.lock().unwrap_or_else(|e| e.into_inner()).get(key).cloned()
    }

    /// Keeps an examination; the cache starts over when full.
    pub fn remember(&self, key: [u8; 32], e: Arc<Examined>) {
        if self.cache_entries == 0 {
            return;
        }
        let mut map = self.examined.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= self.cache_entries {
            map.clear();
        }
        map.insert(key, e);
    }

    /// Records a revocation made here, so it applies to the next verification.
    pub fn note_revoked(&self, seq: i64) {
        if let Some((_, set)) = self.revoked.write().unwrap_or_else(|e| e.into_inner()).as_mut() {
            set.insert(seq);
        }
    }

    /// The status list `list` as it stands.
    pub async fn status_list(&self, store: &jejak_store::Store, list: i64) -> ApiResult<StatusList> {
        let mut out = StatusList::new();
        for seq in self.revoked_set(store).await? {
            let (l, index) = Self::position(seq);
            if l == list {
                out.set(index as usize, true);
            }
        }
        Ok(out)
    }

    /// The revocation answer for a credential's status entry.
    pub async fn status_of(
        &self,
        store: &jejak_store::Store,
        entry: &jejak_credential::credential::StatusEntry,
    ) -> ApiResult<StatusAnswer> {
        Ok(match self.seq_of(&entry.list_url, entry.index) {
            None => StatusAnswer::Unknown(format!("{} is not one of this node's status lists", entry.list_url)),
            Some(seq) if self.is_revoked(store, seq).await? => StatusAnswer::Revoked,
            Some(_) => StatusAnswer::Active,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_map_to_urls_and_back() {
        let i = Issuer::new(SigningKey::from_bytes(&[1; 32]), "http://n.example/", Duration::from_secs(1));
        assert_eq!(Issuer::position(1), (1, 0));
        assert_eq!(Issuer::position(LIST_SIZE as i64 + 1), (2, 0));
        assert_eq!(i.seq_of(&i.list_url(2), 5), Some(LIST_SIZE as i64 + 6));
        assert_eq!(i.seq_of("http://other.example/v1/credentials/status/1", 5), None);
        assert_eq!(i.seq_of(&i.list_url(1), LIST_SIZE as u64), None);
        assert!(i.did().starts_with("did:key:z6Mk"));
    }
}
