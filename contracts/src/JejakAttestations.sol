// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {JejakLimits} from "./JejakLimits.sol";
import {JejakRegistry} from "./JejakRegistry.sol";

/// @title JejakAttestations
/// @notice Platforms anchor Merkle roots of attestation batches here, and may later revoke single leaves.
/// @dev Anchoring writes exactly two storage slots per batch plus the batch counter, whatever the
/// number of attestations in it: the attestations themselves live off-chain at `cid`.
contract JejakAttestations is EIP712 {
    /// @notice An anchored batch.
    /// @dev `platformId`, `count` and `anchoredAt` share one slot.
    struct Batch {
        bytes32 root;
        uint64 platformId;
        uint32 count;
        uint64 anchoredAt;
    }

    /// @notice EIP-712 type hash of a relayed `anchorBatchWithSig` request. It names the signer, so a
    /// signature is bound to the one account whose nonce it consumes (two ERC-1271 wallets with the
    /// same owner key cannot replay each other's requests).
    bytes32 public constant ANCHOR_TYPEHASH = keccak256(
        "AnchorBatch(uint64 platformId,address signer,bytes32 root,uint32 count,string cid,uint256 nonce,uint256 deadline)"
    );
    /// @notice Longest batch CID accepted, in bytes.
    uint256 public constant MAX_CID_LENGTH = JejakLimits.MAX_CID_LENGTH;
    /// @notice Most nonces one `invalidateNonces` call may skip, so that no mistake can exhaust them.
    uint256 public constant MAX_NONCE_SKIP = type(uint16).max;

    /// @notice The registry that says which key speaks for which platform.
    JejakRegistry public immutable registry;

    /// @notice A batch of `count` attestations with Merkle root `root` was anchored for `platformId`.
    event BatchAnchored(
        uint64 indexed batchId, uint64 indexed platformId, bytes32 root, uint32 count, string cid
    );
    /// @notice The platform revoked `leaf` of batch `batchId` for `reasonCode`.
    event LeafRevoked(uint64 indexed batchId, bytes32 indexed leaf, uint16 reasonCode);
    /// @notice `signer` cancelled every relayed request signed with a nonce below `nextNonce`.
    event NoncesInvalidated(address indexed signer, uint256 nextNonce);

    /// @notice The caller (or the EIP-712 signer) is not the platform's current signer.
    error NotPlatformSigner();
    /// @notice `count` was zero.
    error EmptyBatch();
    /// @notice `root` was zero.
    error ZeroRoot();
    /// @notice `cid` was empty.
    error EmptyCid();
    /// @notice `cid` is longer than `MAX_CID_LENGTH` bytes.
    error CidTooLong(uint256 length);
    /// @notice The registry address is zero.
    error ZeroAddress();
    /// @notice The registry address holds no contract.
    error NotAContract(address account);
    /// @notice `invalidateNonces` must move the nonce forward by 1 to `MAX_NONCE_SKIP`.
    error InvalidNonceSkip(uint256 currentNonce, uint256 nextNonce);
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
    mapping(address signer => uint256 nonce) private _nonces;
    /// @dev Starts at 1 (not 0) so that even the first anchor rewrites a non-zero slot (5,000 gas
    /// instead of 22,100): every batch then costs the same.
    uint64 private _nextBatchId = 1;

    /// @notice Binds the contract to `registry_`; EIP-712 domain "JejakAttestations", version "1".
    constructor(JejakRegistry registry_) EIP712("JejakAttestations", "1") {
        if (address(registry_) == address(0)) revert ZeroAddress();
        if (address(registry_).code.length == 0) revert NotAContract(address(registry_));
        registry = registry_;
    }

    /// @notice Anchors a batch; the caller must be the Active platform's signer.
    /// @param root Merkle root of the batch's attestation leaves (non-zero).
    /// @param count Number of attestations in the batch (non-zero).
    /// @param cid CID of the batch's content (non-empty, at most `MAX_CID_LENGTH` bytes).
    /// @return batchId The new batch's id; ids start at 1 and strictly increase across platforms.
    function anchorBatch(uint64 platformId, bytes32 root, uint32 count, string calldata cid)
        external
        returns (uint64 batchId)
    {
        if (registry.activeSigner(platformId) != msg.sender) revert NotPlatformSigner();
        return _anchor(platformId, root, count, cid);
    }

    /// @notice Anchors a batch signed off-chain by the Active platform's signer; anyone may relay it.
    /// @dev The signer signs the EIP-712 `AnchorBatch` struct, naming itself, with its current
    /// `nonces(signer)`, which this call consumes. ECDSA signatures from an EOA and ERC-1271 signatures
    /// from a contract signer are both accepted. A signer withdraws requests it signed and no longer
    /// wants relayed with `invalidateNonces`.
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
        // slither-disable-start timestamp
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp > deadline) revert ExpiredSignature(deadline);
        // slither-disable-end timestamp
        address signer = registry.activeSigner(platformId);
        bytes32 digest = _hashTypedDataV4(
            keccak256(
                abi.encode(
                    ANCHOR_TYPEHASH,
                    platformId,
                    signer,
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

    /// @notice Revokes one leaf of a batch, for good; only the current signer of the batch's platform
    /// may, and only while the platform is Active (a suspended platform's key may have leaked).
    /// @param reasonCode Application-defined non-zero reason.
    function revokeLeaf(uint64 batchId, bytes32 leaf, uint16 reasonCode) external {
        if (reasonCode == 0) revert ZeroReason();
        uint64 platformId = _batches[batchId].platformId;
        // An id, not a balance or a time (slither: `Batch.platformId` shares its slot with `anchoredAt`).
        // slither-disable-next-line incorrect-equality,timestamp
        if (platformId == 0) revert UnknownBatch(batchId);
        if (registry.activeSigner(platformId) != msg.sender) revert NotPlatformSigner();
        mapping(bytes32 => uint16) storage revoked = _revocations[batchId];
        if (revoked[leaf] != 0) revert AlreadyRevoked();
        revoked[leaf] = reasonCode;
        emit LeafRevoked(batchId, leaf, reasonCode);
    }

    /// @notice Cancels every relayed request the caller signed with a nonce below `nextNonce`: the
    /// caller's nonce jumps to `nextNonce` (1 to `MAX_NONCE_SKIP` past the current one).
    function invalidateNonces(uint256 nextNonce) external {
        uint256 current = _nonces[msg.sender];
        if (nextNonce <= current || nextNonce - current > MAX_NONCE_SKIP) {
            revert InvalidNonceSkip(current, nextNonce);
        }
        _nonces[msg.sender] = nextNonce;
        emit NoncesInvalidated(msg.sender, nextNonce);
    }

    /// @notice The nonce `signer`'s next relayed request must carry.
    function nonces(address signer) external view returns (uint256) {
        return _nonces[signer];
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
    // The name EIP-2612 and wallets use, not mixedCase.
    // slither-disable-next-line naming-convention
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    function _anchor(uint64 platformId, bytes32 root, uint32 count, string calldata cid)
        private
        returns (uint64 batchId)
    {
        if (root == bytes32(0)) revert ZeroRoot();
        if (count == 0) revert EmptyBatch();
        uint256 cidLength = bytes(cid).length;
        if (cidLength == 0) revert EmptyCid();
        if (cidLength > MAX_CID_LENGTH) revert CidTooLong(cidLength);
        batchId = _nextBatchId++;
        _batches[batchId] =
            Batch({root: root, platformId: platformId, count: count, anchoredAt: uint64(block.timestamp)});
        emit BatchAnchored(batchId, platformId, root, count, cid);
    }

    function _useNonce(address signer) private returns (uint256) {
        // A nonce only grows by one per relayed batch or by at most MAX_NONCE_SKIP per call: it cannot
        // reach 2^256.
        unchecked {
            return _nonces[signer]++;
        }
    }

    function _isValidSignature(address signer, bytes32 digest, bytes calldata signature)
        private
        view
        returns (bool)
    {
        // The third value only details `err`, which is checked.
        // slither-disable-next-line unused-return
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == signer) return true;
        // A contract signer (multisig, smart account) vouches through ERC-1271.
        return signer.code.length != 0
            && SignatureChecker.isValidERC1271SignatureNowCalldata(signer, digest, signature);
    }
}
