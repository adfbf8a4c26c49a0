// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {JejakLimits} from "./JejakLimits.sol";
import {JejakRegistry} from "./JejakRegistry.sol";

/// @title JejakEvidenceLog
/// @notice Checkpoints of jejak's append-only evidence log (an RFC 6962 Merkle tree): the operator
/// anchors the tree's root each time the log grows, so anyone can later check consistency proofs
/// between any two anchored sizes. A checkpoint grows the log by at most `MAX_GROWTH` entries, so no
/// single mistaken or hostile size (2^64 - 1) leaves later checkpoints nowhere to go.
contract JejakEvidenceLog {
    /// @notice The log's root at one size.
    /// @dev `size` and `anchoredAt` share one slot.
    struct Checkpoint {
        bytes32 root;
        uint64 size;
        uint64 anchoredAt;
    }

    /// @notice Most entries one checkpoint may add (2^32: far more than any anchoring round holds).
    uint64 public constant MAX_GROWTH = 1 << 32;
    /// @notice Longest checkpoint CID accepted, in bytes.
    uint256 public constant MAX_CID_LENGTH = JejakLimits.MAX_CID_LENGTH;

    /// @notice The registry whose operator anchors the log.
    JejakRegistry public immutable registry;

    /// @notice Checkpoint `index` anchors the log's `root` at `size` entries; its content is at `cid`.
    event EvidenceAnchored(uint64 indexed index, bytes32 root, uint64 size, string cid);

    /// @notice `root` was zero.
    error ZeroRoot();
    /// @notice `size` is not greater than the latest anchored size.
    error SizeNotIncreasing(uint64 size, uint64 latestSize);
    /// @notice `size` adds more than `MAX_GROWTH` entries to `latestSize`.
    error SizeTooFar(uint64 size, uint64 latestSize);
    /// @notice `cid` was empty.
    error EmptyCid();
    /// @notice `cid` is longer than `MAX_CID_LENGTH` bytes.
    error CidTooLong(uint256 length);
    /// @notice The registry address is zero.
    error ZeroAddress();
    /// @notice The registry address holds no contract.
    error NotAContract(address account);

    mapping(uint64 index => Checkpoint) private _checkpoints;
    uint64 private _checkpointCount;

    /// @notice Binds the contract to `registry_`.
    constructor(JejakRegistry registry_) {
        if (address(registry_) == address(0)) revert ZeroAddress();
        if (address(registry_).code.length == 0) revert NotAContract(address(registry_));
        registry = registry_;
    }

    /// @notice Anchors the log's root at a new, larger size (operator only).
    /// @param root RFC 6962 Merkle tree head of the first `size` entries (non-zero).
    /// @param size Number of entries; must exceed `latestSize()`, by at most `MAX_GROWTH`.
    /// @param cid CID of the checkpoint document (non-empty, at most `MAX_CID_LENGTH` bytes).
    /// @return index The new checkpoint's index; indices start at 1.
    function anchorEvidence(bytes32 root, uint64 size, string calldata cid) external returns (uint64 index) {
        if (!registry.isOperator(msg.sender)) {
            revert IAccessControl.AccessControlUnauthorizedAccount(msg.sender, registry.OPERATOR_ROLE());
        }
        if (root == bytes32(0)) revert ZeroRoot();
        uint256 cidLength = bytes(cid).length;
        if (cidLength == 0) revert EmptyCid();
        if (cidLength > MAX_CID_LENGTH) revert CidTooLong(cidLength);
        uint64 latest = _checkpoints[_checkpointCount].size;
        // Sizes, not times (slither: `Checkpoint.size` shares its slot with `anchoredAt`).
        // slither-disable-next-line timestamp
        if (size <= latest) revert SizeNotIncreasing(size, latest);
        if (size - latest > MAX_GROWTH) revert SizeTooFar(size, latest);
        index = ++_checkpointCount;
        _checkpoints[index] = Checkpoint({root: root, size: size, anchoredAt: uint64(block.timestamp)});
        emit EvidenceAnchored(index, root, size, cid);
    }

    /// @notice The checkpoint at `index` (all zero for an unknown index).
    function checkpoint(uint64 index) external view returns (Checkpoint memory) {
        return _checkpoints[index];
    }

    /// @notice Number of checkpoints anchored (also the highest index).
    function checkpointCount() external view returns (uint64) {
        return _checkpointCount;
    }

    /// @notice The largest anchored size, 0 before the first checkpoint.
    function latestSize() external view returns (uint64) {
        return _checkpoints[_checkpointCount].size;
    }

    /// @notice The root anchored at exactly `size`, or zero if that size was never anchored.
    /// @dev Binary search over checkpoints, whose sizes strictly increase; keeps anchoring to two slots.
    function rootAtSize(uint64 size) external view returns (bytes32) {
        uint64 low = 1;
        uint64 high = _checkpointCount;
        while (low <= high) {
            uint64 mid = low + (high - low) / 2;
            Checkpoint storage c = _checkpoints[mid];
            uint64 midSize = c.size;
            if (midSize == size) return c.root;
            if (midSize < size) low = mid + 1;
            else high = mid - 1;
        }
        return bytes32(0);
    }
}
