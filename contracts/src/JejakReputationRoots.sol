// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {JejakRegistry} from "./JejakRegistry.sol";

/// @title JejakReputationRoots
/// @notice The operator publishes one reputation Merkle root per epoch. A root is accepted while it is
/// the latest one, and for `validityWindow` seconds after a newer epoch replaces it, so that proofs
/// built against it moments before the switch still verify.
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

    mapping(uint64 epoch => RootInfo) private _roots;
    uint64 private _latestEpoch;
    uint64 private _validityWindow;

    /// @notice Binds the contract to `registry_` with an initial validity window in seconds.
    constructor(JejakRegistry registry_, uint64 validityWindow_) {
        registry = registry_;
        _validityWindow = validityWindow_;
        emit ValidityWindowChanged(validityWindow_);
    }

    /// @notice Publishes the root of a new epoch (operator only) and starts the previous root's window.
    /// @param epoch Must be greater than `latestEpoch()`; the first epoch is at least 1.
    /// @param root The reputation Merkle root (non-zero).
    /// @param snapshotCid CID of the snapshot the root was computed from.
    /// @param paramsVersion Version of the scoring parameters used.
    function publishRoot(uint64 epoch, bytes32 root, string calldata snapshotCid, uint32 paramsVersion)
        external
    {
        if (!registry.isOperator(msg.sender)) {
            revert IAccessControl.AccessControlUnauthorizedAccount(msg.sender, registry.OPERATOR_ROLE());
        }
        if (root == bytes32(0)) revert ZeroRoot();
        uint64 previous = _latestEpoch;
        if (epoch <= previous) revert EpochNotIncreasing(epoch, previous);
        if (previous != 0) {
            // Saturate rather than overflow: a huge window means "never expires", not "cannot publish".
            uint256 end = block.timestamp + _validityWindow;
            // casting to 'uint64' is safe because `end` was just checked to fit.
            // forge-lint: disable-next-line(unsafe-typecast)
            uint64 expiresAt = end > type(uint64).max ? type(uint64).max : uint64(end);
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
        // forge-lint: disable-next-line(block-timestamp)
        return epoch == _latestEpoch || block.timestamp < info.expiresAt;
    }

    /// @notice The record of `epoch` (all zero if never published).
    function rootOf(uint64 epoch) external view returns (RootInfo memory) {
        return _roots[epoch];
    }

    /// @notice The latest published epoch, 0 before the first.
    function latestEpoch() external view returns (uint64) {
        return _latestEpoch;
    }

    /// @notice Seconds a replaced root stays accepted, for roots replaced from now on.
    function validityWindow() external view returns (uint64) {
        return _validityWindow;
    }
}
