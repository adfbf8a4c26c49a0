//! Turning contract logs into [`ChainEvent`]s.

use alloy::primitives::{Address, B256};
use alloy::rpc::types::Log;
use alloy::sol_types::SolEvent;
use jejak_chain::bindings::{
    JejakAttestations, JejakEvidenceLog, JejakProofVerifier, JejakRegistry, JejakReputationRoots,
};
use jejak_core::cid::MAX_CID_LEN;
use jejak_store::chain::{ChainEvent, IndexedLog, LogKey, PlatformEventKind, ProofConsumed};

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
    /// `JejakProofVerifier`, when its `ProofConsumed` events are wanted.
    pub proof_verifier: Option<Address>,
}

impl Contracts {
    /// Addresses for the log filter.
    pub fn addresses(&self) -> Vec<Address> {
        let mut out = vec![self.registry, self.attestations, self.reputation_roots, self.evidence_log];
        out.extend(self.proof_verifier);
        out
    }
}

/// Why a log could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// Not one of the events jejak indexes (role changes and the like).
    NotIndexed,
    /// The log lacks its block or transaction position (a pending log).
    Pending,
    /// Data does not decode as the event its topic names, or holds what jejak's contracts never
    /// emit (a CID over [`MAX_CID_LEN`] bytes, an id or size beyond `i64`).
    Malformed(String),
}

/// A uint64 the store keeps as `i64`: ids, epochs and sizes the contracts keep far below 2^63.
fn int(what: &str, value: u64) -> Result<i64, Skip> {
    i64::try_from(value)
        .map_err(|_| Skip::Malformed(format!("{what} {value} is beyond the range jejak's contracts emit")))
}

/// A CID no longer than the contracts accept.
fn cid(what: &str, value: String) -> Result<String, Skip> {
    if value.len() > MAX_CID_LEN {
        return Err(Skip::Malformed(format!("{what} of {} bytes exceeds {MAX_CID_LEN}", value.len())));
    }
    Ok(value)
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
                    platform_id: int("platform id", e.platformId)?,
                    kind: PlatformEventKind::Registered,
                    signer: Some(e.signer.0.0),
                    profile_cid: Some(cid("profile CID", e.profileCid)?),
                    reason_code: None,
                }
            }
            JejakRegistry::PlatformUpdated::SIGNATURE_HASH => {
                let e = JejakRegistry::PlatformUpdated::decode_log_data(data).map_err(bad)?;
                ChainEvent::Platform {
                    platform_id: int("platform id", e.platformId)?,
                    kind: PlatformEventKind::Updated,
                    signer: Some(e.signer.0.0),
                    profile_cid: Some(cid("profile CID", e.profileCid)?),
                    reason_code: None,
                }
            }
            JejakRegistry::PlatformSuspended::SIGNATURE_HASH => {
                let e = JejakRegistry::PlatformSuspended::decode_log_data(data).map_err(bad)?;
                ChainEvent::Platform {
                    platform_id: int("platform id", e.platformId)?,
                    kind: PlatformEventKind::Suspended,
                    signer: None,
                    profile_cid: None,
                    reason_code: Some(i64::from(e.reasonCode)),
                }
            }
            JejakRegistry::PlatformReinstated::SIGNATURE_HASH => {
                let e = JejakRegistry::PlatformReinstated::decode_log_data(data).map_err(bad)?;
                ChainEvent::Platform {
                    platform_id: int("platform id", e.platformId)?,
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
                    batch_id: int("batch id", e.batchId)?,
                    platform_id: int("platform id", e.platformId)?,
                    root: e.root.0,
                    count: i64::from(e.count),
                    cid: cid("batch CID", e.cid)?,
                }
            }
            JejakAttestations::LeafRevoked::SIGNATURE_HASH => {
                let e = JejakAttestations::LeafRevoked::decode_log_data(data).map_err(bad)?;
                ChainEvent::Revocation {
                    batch_id: int("batch id", e.batchId)?,
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
                    epoch: int("epoch", e.epoch)?,
                    root: e.root.0,
                    snapshot_cid: cid("snapshot CID", e.snapshotCid)?,
                    params_version: i64::from(e.paramsVersion),
                }
            }
            JejakReputationRoots::RootReplaced::SIGNATURE_HASH => {
                let e = JejakReputationRoots::RootReplaced::decode_log_data(data).map_err(bad)?;
                // The whole uint64: a saturated window (2^64 - 1) means the root never expires.
                ChainEvent::RootReplaced { epoch: int("epoch", e.epoch)?, expires_at: e.expiresAt }
            }
            _ => return Err(Skip::NotIndexed),
        }
    } else if address == contracts.evidence_log {
        match topic0 {
            JejakEvidenceLog::EvidenceAnchored::SIGNATURE_HASH => {
                let e = JejakEvidenceLog::EvidenceAnchored::decode_log_data(data).map_err(bad)?;
                ChainEvent::Evidence {
                    checkpoint: int("checkpoint index", e.index)?,
                    root: e.root.0,
                    size: int("evidence log size", e.size)?,
                    cid: cid("checkpoint CID", e.cid)?,
                }
            }
            _ => return Err(Skip::NotIndexed),
        }
    } else if Some(address) == contracts.proof_verifier {
        match topic0 {
            JejakProofVerifier::ProofConsumed::SIGNATURE_HASH => {
                let e = JejakProofVerifier::ProofConsumed::decode_log_data(data).map_err(bad)?;
                ChainEvent::ProofConsumed(ProofConsumed {
                    nullifier: e.nullifier.to_be_bytes(),
                    context: e.context.0,
                    consumer: e.consumer.0.0,
                    epoch: int("epoch", e.epoch)?,
                    root: e.root.0,
                    min_score: e.minScore,
                    min_gigs: e.minGigs,
                    min_tier: e.minTier,
                    challenge: e.challenge.to_be_bytes(),
                })
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

#[cfg(test)]
mod tests {
    use alloy::primitives::{FixedBytes, LogData};

    use super::*;

    const ROOTS: Address = Address::repeat_byte(3);

    fn contracts() -> Contracts {
        Contracts {
            registry: Address::repeat_byte(1),
            attestations: Address::repeat_byte(2),
            reputation_roots: ROOTS,
            evidence_log: Address::repeat_byte(4),
            proof_verifier: Some(Address::repeat_byte(5)),
        }
    }

    fn log(address: Address, data: LogData) -> Log {
        Log {
            inner: alloy::primitives::Log { address, data },
            block_hash: Some(B256::repeat_byte(9)),
            block_number: Some(7),
            block_timestamp: None,
            transaction_hash: Some(B256::repeat_byte(8)),
            transaction_index: Some(0),
            log_index: Some(1),
            removed: false,
        }
    }

    fn replaced(expires_at: u64) -> Result<IndexedLog, Skip> {
        let data = JejakReputationRoots::RootReplaced { epoch: 5, expiresAt: expires_at }.encode_log_data();
        decode(31337, &contracts(), &log(ROOTS, data))
    }

    #[test]
    fn expiry_decodes_as_the_whole_uint64() {
        for expires_at in [0, 1_700_000_000, i64::MAX as u64, i64::MAX as u64 + 1, u64::MAX] {
            let event = replaced(expires_at).unwrap().event;
            assert_eq!(event, ChainEvent::RootReplaced { epoch: 5, expires_at }, "{expires_at}");
        }
    }

    fn published(epoch: u64, cid: String) -> Result<IndexedLog, Skip> {
        let data = JejakReputationRoots::RootPublished {
            epoch,
            root: FixedBytes([7; 32]),
            snapshotCid: cid,
            paramsVersion: 1,
        }
        .encode_log_data();
        decode(31337, &contracts(), &log(ROOTS, data))
    }

    #[test]
    fn cids_over_the_contracts_cap_are_refused() {
        let at_cap = "b".repeat(MAX_CID_LEN);
        assert!(
            matches!(published(1, at_cap.clone()).unwrap().event, ChainEvent::RootPublished { snapshot_cid, .. } if snapshot_cid == at_cap)
        );
        for len in [MAX_CID_LEN + 1, 1 << 20] {
            let Err(Skip::Malformed(why)) = published(1, "b".repeat(len)) else {
                panic!("a {len}-byte CID was accepted")
            };
            assert!(why.contains("snapshot CID"), "{why}");
        }
        let batch = JejakAttestations::BatchAnchored {
            batchId: 1,
            platformId: 1,
            root: FixedBytes([1; 32]),
            count: 3,
            cid: "b".repeat(MAX_CID_LEN + 1),
        }
        .encode_log_data();
        assert!(matches!(decode(1, &contracts(), &log(Address::repeat_byte(2), batch)), Err(Skip::Malformed(_))));
    }

    #[test]
    fn proof_consumptions_decode_with_their_indexed_fields_and_whole_minimums() {
        use alloy::primitives::U256;
        let data = JejakProofVerifier::ProofConsumed {
            nullifier: U256::from(77u64),
            context: FixedBytes([6; 32]),
            consumer: Address::repeat_byte(0xc0),
            epoch: 3,
            root: FixedBytes([7; 32]),
            minScore: 700,
            minGigs: u64::MAX,
            minTier: 2,
            challenge: U256::from(42u64),
        }
        .encode_log_data();
        let event = decode(31337, &contracts(), &log(Address::repeat_byte(5), data.clone())).unwrap().event;
        let mut nullifier = [0u8; 32];
        nullifier[31] = 77;
        let mut challenge = [0u8; 32];
        challenge[31] = 42;
        assert_eq!(
            event,
            ChainEvent::ProofConsumed(ProofConsumed {
                nullifier,
                context: [6; 32],
                consumer: [0xc0; 20],
                epoch: 3,
                root: [7; 32],
                min_score: 700,
                min_gigs: u64::MAX,
                min_tier: 2,
                challenge,
            })
        );
        // The same log from a contract the node was not told of is not indexed.
        assert_eq!(decode(31337, &contracts(), &log(Address::repeat_byte(6), data)), Err(Skip::NotIndexed));
    }

    #[test]
    fn numbers_beyond_i64_are_refused_not_wrapped() {
        assert!(published(i64::MAX as u64, "bafy".into()).is_ok());
        let Err(Skip::Malformed(why)) = published(i64::MAX as u64 + 1, "bafy".into()) else {
            panic!("an epoch beyond i64 was accepted")
        };
        assert!(why.contains("epoch 9223372036854775808"), "{why}");
    }
}
