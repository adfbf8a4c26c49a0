// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {JejakAttestations} from "../JejakAttestations.sol";

/// @title BatchEventEmitter
/// @notice FOR BENCHMARKS ONLY, never deploy it next to a real jejak registry: it emits
/// `BatchAnchored` logs with exactly the event signature of `JejakAttestations`, without any
/// authorisation or storage, so the indexer can be benchmarked on realistic logs.
contract BatchEventEmitter {
    /// @notice The CID every emitted batch points to (a well-formed CIDv1, raw codec, sha2-256).
    string public constant CID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";

    /// @notice Emits `n` `BatchAnchored` events with ids `firstBatchId`, `firstBatchId + 1`, ...
    /// for `platformId`; each has `root = keccak256(abi.encode(batchId))`, `count = 1` and `cid = CID`.
    function emitBatches(uint64 firstBatchId, uint64 platformId, uint32 n) external {
        for (uint64 i = 0; i < n; ++i) {
            uint64 batchId = firstBatchId + i;
            emit JejakAttestations.BatchAnchored(batchId, platformId, keccak256(abi.encode(batchId)), 1, CID);
        }
    }
}
