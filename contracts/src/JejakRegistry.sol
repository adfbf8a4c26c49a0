// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title JejakRegistry
/// @notice Who may speak for a platform: each platform has one signer key, a profile CID and a status.
/// @dev The other jejak contracts read `activeSigner` on every write, so it is kept to one storage read.
/// Roles: DEFAULT_ADMIN_ROLE manages roles (and the reputation window); OPERATOR_ROLE onboards,
/// suspends and reinstates platforms, publishes reputation roots and anchors the evidence log.
contract JejakRegistry is AccessControl {
    /// @notice Role of the jejak operator (platform onboarding, roots, evidence log).
    bytes32 public constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");

    /// @notice Lifecycle of a platform. `None` means the id was never registered.
    enum PlatformStatus {
        None,
        Active,
        Suspended
    }

    /// @notice A registered platform.
    /// @dev `signer`, `status` and `registeredAt` share one slot.
    struct Platform {
        address signer;
        PlatformStatus status;
        uint64 registeredAt;
        string profileCid;
    }

    /// @notice A platform was registered, Active from this block, with `signer` as its key.
    event PlatformRegistered(uint64 indexed platformId, address indexed signer, string profileCid);
    /// @notice A platform's signer and profile CID were replaced (its status is unchanged).
    event PlatformUpdated(uint64 indexed platformId, address indexed signer, string profileCid);
    /// @notice An Active platform was suspended for `reasonCode`.
    event PlatformSuspended(uint64 indexed platformId, uint16 reasonCode);
    /// @notice A Suspended platform is Active again.
    event PlatformReinstated(uint64 indexed platformId);

    /// @notice The platform exists but is not Active (or does not exist).
    error PlatformNotActive(uint64 platformId);
    /// @notice No platform was registered under this id.
    error UnknownPlatform(uint64 platformId);
    /// @notice An address argument was zero.
    error ZeroAddress();
    /// @notice The caller is neither the operator nor the platform's signer.
    error NotAuthorized();
    /// @notice The platform is not in the status this call requires.
    error InvalidStatus(uint64 platformId);

    mapping(uint64 platformId => Platform) private _platforms;
    uint64 private _platformCount;

    /// @notice Grants `admin` the admin role and `operator` the operator role.
    constructor(address admin, address operator) {
        if (admin == address(0) || operator == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(OPERATOR_ROLE, operator);
    }

    /// @notice Registers a new Active platform; ids start at 1 and increase by 1.
    /// @param signer The key that anchors batches for this platform.
    /// @param profileCid CID of the platform's public profile document.
    /// @return platformId The new platform's id.
    function registerPlatform(address signer, string calldata profileCid)
        external
        onlyRole(OPERATOR_ROLE)
        returns (uint64 platformId)
    {
        if (signer == address(0)) revert ZeroAddress();
        platformId = ++_platformCount;
        Platform storage p = _platforms[platformId];
        p.signer = signer;
        p.status = PlatformStatus.Active;
        p.registeredAt = uint64(block.timestamp);
        p.profileCid = profileCid;
        emit PlatformRegistered(platformId, signer, profileCid);
    }

    /// @notice Replaces a platform's signer and profile CID.
    /// @dev Callable by the operator, or by the current signer of an Active platform (key rotation).
    /// A suspended platform's own key cannot rotate itself: suspension may be for a leaked key.
    function updatePlatform(uint64 platformId, address signer, string calldata profileCid) external {
        if (signer == address(0)) revert ZeroAddress();
        Platform storage p = _platforms[platformId];
        PlatformStatus status = p.status;
        if (status == PlatformStatus.None) revert UnknownPlatform(platformId);
        bool selfService = msg.sender == p.signer && status == PlatformStatus.Active;
        if (!selfService && !hasRole(OPERATOR_ROLE, msg.sender)) revert NotAuthorized();
        p.signer = signer;
        p.profileCid = profileCid;
        emit PlatformUpdated(platformId, signer, profileCid);
    }

    /// @notice Suspends an Active platform: it can no longer anchor batches.
    /// @param reasonCode Application-defined reason, recorded in the event.
    function suspendPlatform(uint64 platformId, uint16 reasonCode) external onlyRole(OPERATOR_ROLE) {
        Platform storage p = _requireStatus(platformId, PlatformStatus.Active);
        p.status = PlatformStatus.Suspended;
        emit PlatformSuspended(platformId, reasonCode);
    }

    /// @notice Reinstates a Suspended platform.
    function reinstatePlatform(uint64 platformId) external onlyRole(OPERATOR_ROLE) {
        Platform storage p = _requireStatus(platformId, PlatformStatus.Suspended);
        p.status = PlatformStatus.Active;
        emit PlatformReinstated(platformId);
    }

    /// @notice The platform record (all zero for an unknown id).
    function platform(uint64 platformId) external view returns (Platform memory) {
        return _platforms[platformId];
    }

    /// @notice Number of platforms ever registered (also the highest id).
    function platformCount() external view returns (uint64) {
        return _platformCount;
    }

    /// @notice Whether the platform exists and is Active.
    function isActive(uint64 platformId) external view returns (bool) {
        return _platforms[platformId].status == PlatformStatus.Active;
    }

    /// @notice The signer of an Active platform; reverts `PlatformNotActive` otherwise.
    function activeSigner(uint64 platformId) external view returns (address) {
        Platform storage p = _platforms[platformId];
        if (p.status != PlatformStatus.Active) revert PlatformNotActive(platformId);
        return p.signer;
    }

    /// @notice The current signer of a platform whatever its status (zero for an unknown id).
    function signerOf(uint64 platformId) external view returns (address) {
        return _platforms[platformId].signer;
    }

    /// @notice Whether `account` holds the operator role.
    function isOperator(address account) external view returns (bool) {
        return hasRole(OPERATOR_ROLE, account);
    }

    function _requireStatus(uint64 platformId, PlatformStatus expected)
        private
        view
        returns (Platform storage p)
    {
        p = _platforms[platformId];
        PlatformStatus status = p.status;
        if (status == PlatformStatus.None) revert UnknownPlatform(platformId);
        if (status != expected) revert InvalidStatus(platformId);
    }
}
