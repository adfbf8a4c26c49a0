// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {JejakLimits} from "./JejakLimits.sol";
import {JejakRegistry} from "./JejakRegistry.sol";

/// @title JejakReputationRoots
/// @notice The operator publishes one reputation Merkle root per epoch. A root is accepted while it is
/// the latest one, and for `validityWindow` seconds after a newer epoch replaces it, so that proofs
/// built against it moments before the switch still verify.
///
/// Epochs only move forward, by a bounded step, so that no single mistaken or hostile `publishRoot`
/// (a millisecond timestamp, 2^61 or more) can push the latest epoch where later roots, or proofs,
/// can no longer follow: the first epoch is at most `MAX_FIRST_EPOCH` (a unix time in seconds fits
/// until 2106), each later one at most `MAX_EPOCH_STEP` past the latest.
contract JejakReputationRoots {
    /// @notice A published root.
    /// @dev `expiresAt` is 0 while the root is current; it is fixed when the root is replaced.
    /// `publishedAt`, `expiresAt` and `paramsVersion` share one slot.
    struct RootInfo {
        bytes32 root;
        uint64 publishedAt;
        uint64 expiresAt;
        uint32 paramsVersion;
    }

    /// @notice Highest first epoch.
    uint64 public constant MAX_FIRST_EPOCH = type(uint32).max;
    /// @notice Most an epoch may move past the latest one: 2^20 epochs are 2,870 years of daily epochs,
    /// 119 years of hourly ones, 12 days of one-second ones.
    uint64 public constant MAX_EPOCH_STEP = 1 << 20;
    /// @notice Longest snapshot CID accepted, in bytes.
    uint256 public constant MAX_CID_LENGTH = JejakLimits.MAX_CID_LENGTH;

    /// @notice The registry whose operator publishes and whose admin sets the window.
    JejakRegistry public immutable registry;

    /// @notice Root `root` of `epoch` was published and is now the current root.
    event RootPublished(uint64 indexed epoch, bytes32 root, string snapshotCid, uint32 paramsVersion);
    /// @notice The root of `epoch` was replaced by a newer epoch; it is accepted until `expiresAt`
    /// (exclusive).
    event RootReplaced(uint64 indexed epoch, uint64 expiresAt);
    /// @notice Roots replaced from now on stay accepted for `window` seconds.
    event ValidityWindowChanged(uint64 window);

    /// @notice `root` was zero.
    error ZeroRoot();
    /// @notice `epoch` is not greater than the latest published epoch.
    error EpochNotIncreasing(uint64 epoch, uint64 latestEpoch);
    /// @notice `epoch` is more than `highest`, the furthest the next epoch may go.
    error EpochTooFar(uint64 epoch, uint64 highest);
    /// @notice `snapshotCid` was empty.
    error EmptyCid();
    /// @notice `snapshotCid` is longer than `MAX_CID_LENGTH` bytes.
    error CidTooLong(uint256 length);
    /// @notice The registry address is zero.
    error ZeroAddress();
    /// @notice The registry address holds no contract.
    error NotAContract(address account);

    mapping(uint64 epoch => RootInfo) private _roots;
    uint64 private _latestEpoch;
    uint64 private _validityWindow;

    /// @notice Binds the contract to `registry_` with an initial validity window in seconds.
    constructor(JejakRegistry registry_, uint64 validityWindow_) {
        if (address(registry_) == address(0)) revert ZeroAddress();
        if (address(registry_).code.length == 0) revert NotAContract(address(registry_));
        registry = registry_;
        _validityWindow = validityWindow_;
        emit ValidityWindowChanged(validityWindow_);
    }

    /// @notice Publishes the root of a new epoch (operator only) and starts the previous root's window.
    /// @param epoch Greater than `latestEpoch()` and at most `nextEpochLimit()`; the first is at least 1.
    /// @param root The reputation Merkle root (non-zero).
    /// @param snapshotCid CID of the snapshot the root was computed from (non-empty, at most
    /// `MAX_CID_LENGTH` bytes).
    /// @param paramsVersion Version of the scoring parameters used.
    function publishRoot(uint64 epoch, bytes32 root, string calldata snapshotCid, uint32 paramsVersion)
        external
    {
        if (!registry.isOperator(msg.sender)) {
            revert IAccessControl.AccessControlUnauthorizedAccount(msg.sender, registry.OPERATOR_ROLE());
        }
        if (root == bytes32(0)) revert ZeroRoot();
        uint256 cidLength = bytes(snapshotCid).length;
        if (cidLength == 0) revert EmptyCid();
        if (cidLength > MAX_CID_LENGTH) revert CidTooLong(cidLength);
        uint64 previous = _latestEpoch;
        if (epoch <= previous) revert EpochNotIncreasing(epoch, previous);
        uint64 highest = _nextEpochLimit(previous);
        if (epoch > highest) revert EpochTooFar(epoch, highest);
        if (previous != 0) {
            // Saturate rather than overflow: a huge window means "never expires", not "cannot publish".
            uint256 end = block.timestamp + _validityWindow;
            // casting to 'uint64' is safe because `end` was just checked to fit.
            // slither-disable-start timestamp
            // forge-lint: disable-next-line(unsafe-typecast)
            uint64 expiresAt = end > type(uint64).max ? type(uint64).max : uint64(end);
            // slither-disable-end timestamp
            _roots[previous].expiresAt = expiresAt;
            emit RootReplaced(previous, expiresAt);
        }
        _roots[epoch] = RootInfo({
            root: root, publishedAt: uint64(block.timestamp), expiresAt: 0, paramsVersion: paramsVersion
        });
        _latestEpoch = epoch;
        emit RootPublished(epoch, root, snapshotCid, paramsVersion);
    }

    /// @notice Sets the window for roots replaced from now on (registry admin only).
    /// @dev Roots already replaced keep the `expiresAt` they were given.
    function setValidityWindow(uint64 window) external {
        if (!registry.hasRole(bytes32(0), msg.sender)) {
            revert IAccessControl.AccessControlUnauthorizedAccount(msg.sender, bytes32(0));
        }
        _validityWindow = window;
        emit ValidityWindowChanged(window);
    }

    /// @notice Whether `root` is the root of `epoch` and is still accepted: it is current, or it was
    /// replaced and `block.timestamp < expiresAt`.
    function isRootAccepted(uint64 epoch, bytes32 root) external view returns (bool) {
        RootInfo storage info = _roots[epoch];
        if (root == bytes32(0) || info.root != root) return false;
        // The current root is recognised by its epoch, so "current" never depends on a zero timestamp.
        // Windows are hours or days; a validator's few seconds of drift do not matter.
        // slither-disable-start timestamp
        // forge-lint: disable-next-line(block-timestamp)
        return epoch == _latestEpoch || block.timestamp < info.expiresAt;
        // slither-disable-end timestamp
    }

    /// @notice The record of `epoch` (all zero if never published).
    function rootOf(uint64 epoch) external view returns (RootInfo memory) {
        return _roots[epoch];
    }

    /// @notice The latest published epoch, 0 before the first.
    function latestEpoch() external view returns (uint64) {
        return _latestEpoch;
    }

    /// @notice The highest epoch `publishRoot` accepts now.
    function nextEpochLimit() external view returns (uint64) {
        return _nextEpochLimit(_latestEpoch);
    }

    /// @notice Seconds a replaced root stays accepted, for roots replaced from now on.
    function validityWindow() external view returns (uint64) {
        return _validityWindow;
    }

    function _nextEpochLimit(uint64 latest) private pure returns (uint64) {
        // latest < MAX_FIRST_EPOCH + n * MAX_EPOCH_STEP after n roots: no overflow for 2^43 roots.
        return latest == 0 ? MAX_FIRST_EPOCH : latest + MAX_EPOCH_STEP;
    }
}
