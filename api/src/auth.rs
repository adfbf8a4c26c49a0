//! API keys and the roles they carry.
//!
//! A key reads `jk_<id>_<secret>`: the id finds the stored row, the secret is checked against
//! its SHA-256 in constant time. Only hashes are stored.
//!
//! Rows are cached in memory ([`KeyCache`]) for a short time-to-live, so a request does not read
//! the database to authenticate; a key revoked through the API is dropped from the cache at
//! once. On PostgreSQL one revoked elsewhere (the CLI, another instance) is dropped when its
//! notification arrives ([`crate::services::key_events`]), within milliseconds; on SQLite (one
//! process) one revoked by the CLI stops working within the TTL.
//! Each authenticated request takes a token from its key's bucket ([`crate::limits`]).

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use crate::{ApiError, AppState};

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything.
    Admin,
    /// Push events for, and read, its own platform only.
    Platform,
    /// Read its own record only.
    Worker,
    /// Read-only access to history.
    Auditor,
}

impl Role {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Platform => "platform",
            Role::Worker => "worker",
            Role::Auditor => "auditor",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [Role::Admin, Role::Platform, Role::Worker, Role::Auditor].into_iter().find(|r| r.as_str() == s)
    }
}

/// The caller, as its key says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Key id.
    pub key_id: String,
    /// Role.
    pub role: Role,
    /// Platform of a platform key.
    pub platform_id: Option<i64>,
    /// Worker of a worker key.
    pub worker_id: Option<String>,
}

impl Principal {
    /// Whether the caller may read a platform's data.
    pub fn can_read_platform(&self, platform_id: i64) -> bool {
        match self.role {
            Role::Admin | Role::Auditor => true,
            Role::Platform => self.platform_id == Some(platform_id),
            Role::Worker => false,
        }
    }
}

/// A new key: the full secret string (shown once) and the row to store.
#[derive(Debug, Clone)]
pub struct NewKey {
    /// `jk_<id>_<secret>`: give this to the caller; it is not stored.
    pub token: String,
    /// The stored row.
    pub row: jejak_store::keys::ApiKeyRow,
}

/// Makes a key for a role.
pub fn new_key(role: Role, platform_id: Option<i64>, worker_id: Option<String>, label: &str, now: i64) -> NewKey {
    let mut id = [0u8; 8];
    let mut secret = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut id);
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let id = hex::encode(id);
    let secret = hex::encode(secret);
    NewKey {
        token: format!("jk_{id}_{secret}"),
        row: jejak_store::keys::ApiKeyRow {
            id,
            secret_hash: Sha256::digest(secret.as_bytes()).into(),
            role: role.as_str().to_string(),
            platform_id,
            worker_id,
            label: label.to_string(),
            created_at: now,
            revoked_at: None,
        },
    }
}

/// Splits `jk_<id>_<secret>`.
fn parse_token(token: &str) -> Option<(&str, &str)> {
    let rest = token.strip_prefix("jk_")?;
    let (id, secret) = rest.split_once('_')?;
    (id.len() == 16 && !secret.is_empty()).then_some((id, secret))
}

/// A key as the cache holds it.
#[derive(Debug, Clone)]
struct CachedKey {
    secret_hash: [u8; 32],
    revoked: bool,
    principal: Principal,
}

#[derive(Debug)]
struct Entry {
    /// None: no key has this id (cached too, so unknown ids do not reach the database each time).
    key: Option<CachedKey>,
    fetched: Instant,
}

/// Keys read recently, by id.
///
/// Known keys and unknown ids are kept apart: a flood of made-up ids fills (and starts over) only
/// the map of unknown ids, never evicting the keys of real callers.
#[derive(Debug)]
pub struct KeyCache {
    ttl: Duration,
    entries: RwLock<HashMap<String, Entry>>,
    unknown: RwLock<HashMap<String, Instant>>,
    max_unknown: usize,
}

/// Most keys cached; past it the cache of keys starts over.
const MAX_CACHED_KEYS: usize = 100_000;
/// Most unknown ids remembered; past it that map (only) starts over.
const MAX_UNKNOWN_IDS: usize = 100_000;

impl KeyCache {
    /// A cache keeping rows for `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self::with_unknown_cap(ttl, MAX_UNKNOWN_IDS)
    }

    fn with_unknown_cap(ttl: Duration, max_unknown: usize) -> Self {
        Self { ttl, entries: RwLock::new(HashMap::new()), unknown: RwLock::new(HashMap::new()), max_unknown }
    }

    fn fresh(&self, id: &str) -> Option<Option<CachedKey>> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = entries.get(id).filter(|e| e.fetched.elapsed() < self.ttl) {
            return Some(e.key.clone());
        }
        drop(entries);
        let unknown = self.unknown.read().unwrap_or_else(|e| e.into_inner());
        unknown.get(id).filter(|at| at.elapsed() < self.ttl).map(|_| None)
    }

    fn put(&self, id: &str, key: Option<CachedKey>) {
        match key {
            Some(key) => {
                let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
                if entries.len() >= MAX_CACHED_KEYS {
                    entries.clear();
                }
                entries.insert(id.to_owned(), Entry { key: Some(key), fetched: Instant::now() });
                drop(entries);
                self.unknown.write().unwrap_or_else(|e| e.into_inner()).remove(id);
            }
            None => {
                self.entries.write().unwrap_or_else(|e| e.into_inner()).remove(id);
                let mut unknown = self.unknown.write().unwrap_or_else(|e| e.into_inner());
                if unknown.len() >= self.max_unknown {
                    unknown.clear();
                }
                unknown.insert(id.to_owned(), Instant::now());
            }
        }
    }

    /// Forgets every key (the changes made elsewhere may not all have been heard).
    pub fn clear(&self) {
        self.entries.write().unwrap_or_else(|e| e.into_inner()).clear();
        self.unknown.write().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Forgets a key (after it was revoked or created here).
    pub fn invalidate(&self, id: &str) {
        self.entries.write().unwrap_or_else(|e| e.into_inner()).remove(id);
        self.unknown.write().unwrap_or_else(|e| e.into_inner()).remove(id);
    }
}

async fn load(state: &AppState, id: &str) -> Result<Option<CachedKey>, ApiError> {
    let mut c = state.store.conn().await?;
    let Some(row) = jejak_store::keys::get(&mut c, id).await? else {
        return Ok(None);
    };
    let role =
        Role::parse(&row.role).ok_or_else(|| ApiError::internal(format!("key {id} has unknown role {}", row.role)))?;
    Ok(Some(CachedKey {
        secret_hash: row.secret_hash,
        revoked: row.revoked_at.is_some(),
        principal: Principal { key_id: row.id, role, platform_id: row.platform_id, worker_id: row.worker_id },
    }))
}

/// Checks a bearer token against the (cached) store.
pub async fn authenticate(state: &AppState, token: &str) -> Result<Principal, ApiError> {
    let bad = || ApiError::unauthorized("invalid API key");
    let (id, secret) = parse_token(token).ok_or_else(bad)?;
    let cache = &state.services.keys;
    let key = match cache.fresh(id) {
        Some(k) => k,
        None => {
            let k = load(state, id).await?;
            cache.put(id, k.clone());
            k
        }
    };
    let key = key.ok_or_else(bad)?;
    let given: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
    if !bool::from(given.ct_eq(&key.secret_hash)) || key.revoked {
        return Err(bad());
    }
    Ok(key.principal)
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // The admission layer authenticated the key and charged its bucket once already.
        match parts.extensions.get::<crate::limits::Admitted>() {
            Some(crate::limits::Admitted::Key(who)) => return Ok(who.clone()),
            Some(crate::limits::Admitted::Refused(e)) => return Err(e.clone()),
            None => {}
        }
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer <API key>"))?;
        let token = bearer(header).ok_or_else(|| ApiError::unauthorized(BEARER_FORMAT))?;
        let who = authenticate(state, token).await?;
        crate::limits::charge_key(state, &who.key_id).await?;
        Ok(who)
    }
}

/// The message for an `Authorization` header that is not a bearer key.
pub(crate) const BEARER_FORMAT: &str = "Authorization must be `Bearer <API key>`";

/// The key of an `Authorization: Bearer <key>` header.
pub(crate) fn bearer(header: &axum::http::HeaderValue) -> Option<&str> {
    header.to_str().ok().and_then(|h| h.strip_prefix("Bearer ")).map(str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip() {
        let k = new_key(Role::Platform, Some(1), None, "x", 0);
        let (id, secret) = parse_token(&k.token).unwrap();
        assert_eq!(id, k.row.id);
        let h: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
        assert_eq!(h, k.row.secret_hash);
        assert!(parse_token("jk_short_x").is_none());
        assert!(parse_token("bearer").is_none());
    }

    #[test]
    fn made_up_ids_never_evict_real_keys() {
        let cache = KeyCache::with_unknown_cap(Duration::from_secs(60), 8);
        let real = CachedKey {
            secret_hash: [1; 32],
            revoked: false,
            principal: Principal { key_id: "00aa".into(), role: Role::Admin, platform_id: None, worker_id: None },
        };
        cache.put("00aa", Some(real));
        for i in 0..1_000 {
            cache.put(&format!("{i:016x}"), None);
        }
        assert!(matches!(cache.fresh("00aa"), Some(Some(_))), "the real key is still cached");
        assert!(cache.unknown.read().unwrap().len() <= 8, "the unknown ids stay bounded");
        assert!(matches!(cache.fresh(&format!("{:016x}", 999)), Some(None)), "recent unknown ids are remembered");
    }
}
