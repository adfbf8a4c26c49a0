// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title JejakLimits
/// @notice Bounds shared by the jejak contracts (and mirrored by the node's indexer).
library JejakLimits {
    /// @notice Longest CID a contract accepts, in bytes. A CIDv1 in base32 of any multihash up to
    /// 512 bits (sha2-512, blake2b-512) fits; jejak's own CIDs (raw, sha2-256) are 59 bytes. The cap
    /// keeps a signer from putting megabytes in an event that every indexer then stores.
    uint256 internal constant MAX_CID_LENGTH = 128;
}
