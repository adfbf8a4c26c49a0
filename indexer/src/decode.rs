//! Turning contract logs into [`ChainEvent`]s.

use alloy::primitives::{Address, B256};
use alloy::rpc::types::Log;
use alloy::sol_types::SolEvent;
use jejak_chain::bindings::{JejakAttestations, JejakEvidenceLog, JejakRegistry, JejakReputationRoots};
use jejak_store::chain::{ChainEvent, IndexedLog, LogKey, PlatformEventKind};

/// The contracts whose events are indexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Contracts {
    /// `JejakRegistry`.
    pub registry: Address,
    /// `JejakAttestations` (or anything emitting its events, such as the benchmark emitter).
    pub attestations: Address,
    /// `JejakReputationRoots`.
    pub reputation_roots: Address,
    /// `JejakEvidenceLog`.
    pub evidence_log: Address,
}

impl Contracts {
    /// Addresses for the log filter.
    pub fn addresses(&self) -> Vec<Address> {
        vec![self.registry, self.attestations, self.reputation_roots, self.evidence_log]
    }
}

/// Why a log could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// Not one of the events jejak indexes (role changes and the like).
    NotIndexed,
    /// The log lacks its block or transaction position (a pending log).
    Pending,
    /// Data does not decode as the event its topic names.
    Malformed(String),
}

/// Decodes one log emitted by a jejak contract.
pub fn decode(chain_id: u64, contracts: &Contracts, log: &Log) -> Result<IndexedLog, Skip> {
    let (Some(block_hash), Some(block_number), Some(log_index), Some(tx_hash)) =
        (log.block_hash, log.block_number, log.log_index, log.transaction_hash)
    else {
        return Err(Skip::Pending);
    };
    let key = LogKey {
        chain_id: chain_id as i64,
        block_number: block_number as i64,
        block_hash: block_hash.0,
        log_index: log_index as i64,
        tx_hash: tx_hash.0,
        contract: log.address().0.0,
    };
    let topic0 = log.topic0().copied().unwrap_or(B256::ZERO);
    let data = log.data();
    let bad = |e: alloy::sol_types::Error| Skip::Malformed(e.to_string());
    let address = log.address();
    let event = if address == contracts.registry {
        match topic0 {
            JejakRegistry::PlatformRegistered::SIGNATURE_HASH => {
                let e = JejakRegistry::PlatformRegistered::decode_log_data(data).map_err(bad)?;
                ChainEvent::Platform {
                    platform_id: e.platformId as i64,
                    kind: PlatformEventKind::Registered,
                    signer: Some(e.signer.0.0),
                    profile_cid: Some(e.profileCid),
                    reason_code: None,
                }
            }
            JejakRegistry::PlatformUpdated::SIGNATURE_HASH => {
                let e = JejakRegistry::PlatformUpdated::decode_log_data(data).map_err(bad)?;
                ChainEvent::Platform {
                    platform_id: e.platformId as i64,
                    kind: PlatformEventKind::Updated,
                    signer: Some(e.signer.0.0),
                    profile_cid: Some(e.profileCid),
                    reason_code: None,
                }
            }
            JejakRegistry::PlatformSuspended::SIGNATURE_HASH => {
                let e = JejakRegistry::PlatformSuspended::decode_log_data(data).map_err(bad)?;
                ChainEvent::Platform {
                    platform_id: e.platformId as i64,
                    kind: PlatformEventKind::Suspended,
                    signer: None,
                    profile_cid: None,
                    reason_code: Some(i64::from(e.reasonCode)),
                }
            }
            JejakRegistry::PlatformReinstated::SIGNATURE_HASH => {
                let e = JejakRegistry::PlatformReinstated::decode_log_data(data).map_err(bad)?;
                ChainEvent::Platform {
                    platform_id: e.platformId as i64,
                    kind: PlatformEventKind::Reinstated,
                    signer: None,
                    profile_cid: None,
                    reason_code: None,
                }
            }
            _ => return Err(Skip::NotIndexed),
        }
    } else if address == contracts.attestations {
        match topic0 {
            JejakAttestations::BatchAnchored::SIGNATURE_HASH => {
                let e = JejakAttestations::BatchAnchored::decode_log_data(data).map_err(bad)?;
                ChainEvent::Batch {
                    batch_id: e.batchId as i64,
                    platform_id: e.platformId as i64,
                    root: e.root.0,
                    count: i64::from(e.count),
                    cid: e.cid,
                }
            }
            JejakAttestations::LeafRevoked::SIGNATURE_HASH => {
                let e = JejakAttestations::LeafRevoked::decode_log_data(data).map_err(bad)?;
                ChainEvent::Revocation {
                    batch_id: e.batchId as i64,
                    leaf: e.leaf.0,
                    reason_code: i64::from(e.reasonCode),
                }
            }
            _ => return Err(Skip::NotIndexed),
        }
    } else if address == contracts.reputation_roots {
        match topic0 {
            JejakReputationRoots::RootPublished::SIGNATURE_HASH => {
                let e = JejakReputationRoots::RootPublished::decode_log_data(data).map_err(bad)?;
                ChainEvent::RootPublished {
                    epoch: e.epoch as i64,
                    root: e.root.0,
                    snapshot_cid: e.snapshotCid,
                    params_version: i64::from(e.paramsVersion),
                }
            }
            JejakReputationRoots::RootReplaced::SIGNATURE_HASH => {
                let e = JejakReputationRoots::RootReplaced::decode_log_data(data).map_err(bad)?;
                ChainEvent::RootReplaced { epoch: e.epoch as i64, expires_at: e.expiresAt as i64 }
            }
            _ => return Err(Skip::NotIndexed),
        }
    } else if address == contracts.evidence_log {
        match topic0 {
            JejakEvidenceLog::EvidenceAnchored::SIGNATURE_HASH => {
                let e = JejakEvidenceLog::EvidenceAnchored::decode_log_data(data).map_err(bad)?;
                ChainEvent::Evidence { checkpoint: e.index as i64, root: e.root.0, size: e.size as i64, cid: e.cid }
            }
            _ => return Err(Skip::NotIndexed),
        }
    } else {
        return Err(Skip::NotIndexed);
    };
    Ok(IndexedLog { key, event })
}

/// The IPFS documents an event names, with their kind.
pub fn named_documents(event: &ChainEvent) -> Option<(&str, &'static str)> {
    match event {
        ChainEvent::Platform { profile_cid: Some(cid), .. } if !cid.is_empty() => Some((cid, "profile")),
        ChainEvent::Batch { cid, .. } => Some((cid, "batch")),
        ChainEvent::RootPublished { snapshot_cid, .. } => Some((snapshot_cid, "snapshot")),
        ChainEvent::Evidence { cid, .. } => Some((cid, "evidence")),
        _ => None,
    }
}
