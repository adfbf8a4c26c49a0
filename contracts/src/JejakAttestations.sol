// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

import {JejakRegistry} from "./JejakRegistry.sol";

/// @title JejakAttestations
/// @notice Platforms anchor Merkle roots of attestation batches here, and may later revoke single leaves.
/// @dev Anchoring writes exactly two storage slots per batch plus the batch counter, whatever the
/// number of attestations in it: the attestations themselves live off-chain at `cid`.
contract JejakAttestations is EIP712, Nonces {
    /// @notice An anchored batch.
    /// @dev `platformId`, `count` and `anchoredAt` share one slot.
    struct Batch {
        bytes32 root;
        uint64 platformId;
        uint32 count;
        uint64 anchoredAt;
    }

    /// @notice EIP-712 type hash of a relayed `anchorBatchWithSig` request.
    bytes32 public constant ANCHOR_TYPEHASH = keccak256(
        "AnchorBatch(uint64 platformId,bytes32 root,uint32 count,string cid,uint256 nonce,uint256 deadline)"
    );

    /// @notice The registry that says which key speaks for which platform.
    JejakRegistry public immutable registry;

    /// @notice A batch of `count` attestations with Merkle root `root` was anchored for `platformId`.
    event BatchAnchored(
        uint64 indexed batchId, uint64 indexed platformId, bytes32 root, uint32 count, string cid
    );
    /// @notice The platform revoked `leaf` of batch `batchId` for `reasonCode`.
    event LeafRevoked(uint64 indexed batchId, bytes32 indexed leaf, uint16 reasonCode);

    /// @notice The caller (or the EIP-712 signer) is not the platform's current signer.
    error NotPlatformSigner();
    /// @notice `count` was zero.
    error EmptyBatch();
    /// @notice `root` was zero.
    error ZeroRoot();
    /// @notice `cid` was empty.
    error EmptyCid();
    /// @notice No batch was anchored under this id.
    error UnknownBatch(uint64 batchId);
    /// @notice The leaf was already revoked in this batch.
    error AlreadyRevoked();
    /// @notice `reasonCode` was zero (zero means "not revoked").
    error ZeroReason();
    /// @notice The relayed request's deadline has passed.
    error ExpiredSignature(uint256 deadline);
    /// @notice The relayed request was not signed by the platform's active signer.
    error InvalidSignature();
    /// @notice The platform is not Active. Raised by the registry and bubbled up unchanged.
    error PlatformNotActive(uint64 platformId);

    mapping(uint64 batchId => Batch) private _batches;
    mapping(uint64 batchId => mapping(bytes32 leaf => uint16 reasonCode)) private _revocations;
    /// @dev Starts at 1 (not 0) so that even the first anchor rewrites a non-zero slot (5,000 gas
    /// instead of 22,100): every batch then costs the same.
    uint64 private _nextBatchId = 1;

    /// @notice Binds the contract to `registry_`; EIP-712 domain "JejakAttestations", version "1".
    constructor(JejakRegistry registry_) EIP712("JejakAttestations", "1") {
        registry = registry_;
    }

    /// @notice Anchors a batch; the caller must be the Active platform's signer.
    /// @param root Merkle root of the batch's attestation leaves (non-zero).
    /// @param count Number of attestations in the batch (non-zero).
    /// @param cid CID of the batch's content (non-empty).
    /// @return batchId The new batch's id; ids start at 1 and strictly increase across platforms.
    function anchorBatch(uint64 platformId, bytes32 root, uint32 count, string calldata cid)
        external
        returns (uint64 batchId)
    {
        if (registry.activeSigner(platformId) != msg.sender) revert NotPlatformSigner();
        return _anchor(platformId, root, count, cid);
    }

    /// @notice Anchors a batch signed off-chain by the Active platform's signer; anyone may relay it.
    /// @dev The signer signs the EIP-712 `AnchorBatch` struct with its current `nonces(signer)`, which
    /// this call consumes. ECDSA signatures from an EOA and ERC-1271 signatures from a contract signer
    /// are both accepted.
    /// @param deadline Last timestamp (inclusive) at which the signature may be used.
    /// @param signature The signer's signature over the EIP-712 digest.
    /// @return batchId The new batch's id.
    function anchorBatchWithSig(
        uint64 platformId,
        bytes32 root,
        uint32 count,
        string calldata cid,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint64 batchId) {
        // Deadlines are coarse (minutes or more); a validator's few seconds of drift do not matter.
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp > deadline) revert ExpiredSignature(deadline);
        address signer = registry.activeSigner(platformId);
        bytes32 digest = _hashTypedDataV4(
            keccak256(
                abi.encode(
                    ANCHOR_TYPEHASH,
                    platformId,
                    root,
                    count,
                    keccak256(bytes(cid)),
                    _useNonce(signer),
                    deadline
                )
            )
        );
        if (!_isValidSignature(signer, digest, signature)) revert InvalidSignature();
        return _anchor(platformId, root, count, cid);
    }

    /// @notice Revokes one leaf of a batch; only the batch's platform's current signer may do so,
    /// also while the platform is suspended.
    /// @param reasonCode Application-defined non-zero reason.
    function revokeLeaf(uint64 batchId, bytes32 leaf, uint16 reasonCode) external {
        if (reasonCode == 0) revert ZeroReason();
        uint64 platformId = _batches[batchId].platformId;
        if (platformId == 0) revert UnknownBatch(batchId);
        if (registry.signerOf(platformId) != msg.sender) revert NotPlatformSigner();
        mapping(bytes32 => uint16) storage revoked = _revocations[batchId];
        if (revoked[leaf] != 0) revert AlreadyRevoked();
        revoked[leaf] = reasonCode;
        emit LeafRevoked(batchId, leaf, reasonCode);
    }

    /// @notice The batch record (all zero for an unknown id).
    function batch(uint64 batchId) external view returns (Batch memory) {
        return _batches[batchId];
    }

    /// @notice Number of batches ever anchored (also the highest id).
    function batchCount() external view returns (uint64) {
        return _nextBatchId - 1;
    }

    /// @notice The reason a leaf was revoked in a batch, 0 if it was not.
    function revocationOf(uint64 batchId, bytes32 leaf) external view returns (uint16) {
        return _revocations[batchId][leaf];
    }

    /// @notice The EIP-712 domain separator of this contract on the current chain.
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    function _anchor(uint64 platformId, bytes32 root, uint32 count, string calldata cid)
        private
        returns (uint64 batchId)
    {
        if (root == bytes32(0)) revert ZeroRoot();
        if (count == 0) revert EmptyBatch();
        if (bytes(cid).length == 0) revert EmptyCid();
        batchId = _nextBatchId++;
        _batches[batchId] =
            Batch({root: root, platformId: platformId, count: count, anchoredAt: uint64(block.timestamp)});
        emit BatchAnchored(batchId, platformId, root, count, cid);
    }

    function _isValidSignature(address signer, bytes32 digest, bytes calldata signature)
        private
        view
        returns (bool)
    {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == signer) return true;
        // A contract signer (multisig, smart account) vouches through ERC-1271.
        return signer.code.length != 0
            && SignatureChecker.isValidERC1271SignatureNowCalldata(signer, digest, signature);
    }
}
