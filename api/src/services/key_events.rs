//! Key changes made by any instance, applied to this instance's key cache.
//!
//! On PostgreSQL a key's creation or revocation sends `NOTIFY jejak_keys, '<id>'` in the statement
//! that makes it ([`jejak_store::keys`]); [`KeyEvents`] listens and drops the key from the cache,
//! so a key revoked through any replica is refused by every replica at once (the time a
//! notification takes, milliseconds). When the listening connection is lost, notifications sent
//! meanwhile are lost with it: the whole cache is cleared, and again once listening resumes,
//! since keys changed in between were not heard. The cache's TTL still bounds what an instance
//! that cannot listen at all trusts. SQLite: one process, nothing to hear.

use std::sync::Arc;
use std::time::Duration;

use jejak_runtime::{Job, Pace};
use jejak_store::Store;
use jejak_store::keys::{KeyChange, KeyChanges};

use crate::Services;
use crate::auth::KeyCache;

const TARGET: &str = "jejak::api";
/// How long one step waits for a notification (shutdown is seen between steps).
const WAIT: Duration = Duration::from_millis(500);
/// How long connecting the listener may take.
const CONNECT: Duration = Duration::from_secs(5);

/// The job that applies key changes to the cache (see the module docs).
#[derive(Debug)]
pub struct KeyEvents {
    store: Store,
    services: Arc<Services>,
    changes: Option<KeyChanges>,
}

impl KeyEvents {
    /// A job for this store and these services' key cache.
    pub fn new(store: Store, services: Arc<Services>) -> Self {
        Self { store, services, changes: None }
    }

    fn cache(&self) -> &KeyCache {
        &self.services.keys
    }
}

impl Job for KeyEvents {
    type Error = jejak_store::Error;

    async fn step(&mut self) -> Result<Pace, Self::Error> {
        if self.changes.is_none() {
            let Ok(listening) = tokio::time::timeout(CONNECT, KeyChanges::listen(&self.store)).await else {
                // Nothing is cached meanwhile that a missed change could leave stale for long.
                self.cache().clear();
                tracing::warn!(target: TARGET, "the key-change listener did not connect in time; trying again");
                return Ok(Pace::Idle(Duration::from_secs(1)));
            };
            let Some(c) = listening? else {
                // SQLite: nothing to hear (the node does not start this job there).
                return Ok(Pace::Idle(Duration::from_secs(3600)));
            };
            // Changes made before listening started were not heard.
            self.cache().clear();
            tracing::debug!(target: TARGET, "listening for key changes");
            self.changes = Some(c);
        }
        let Some(changes) = self.changes.as_mut() else { return Ok(Pace::Busy) };
        match tokio::time::timeout(WAIT, changes.next()).await {
            Err(_) => Ok(Pace::Busy),
            Ok(Ok(KeyChange::Key(id))) => {
                self.cache().invalidate(&id);
                tracing::debug!(target: TARGET, key = %id, "key changed elsewhere: dropped from the cache");
                Ok(Pace::Busy)
            }
            Ok(Ok(KeyChange::Lost)) => {
                self.cache().clear();
                tracing::warn!(target: TARGET, "lost the key-change listener: cache cleared, listening again");
                self.changes = None;
                Ok(Pace::Busy)
            }
            Ok(Err(e)) => {
                self.cache().clear();
                self.changes = None;
                Err(e)
            }
        }
    }
}
