// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {
    AccessControlDefaultAdminRules
} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";

import {JejakLimits} from "./JejakLimits.sol";

/// @title JejakRegistry
/// @notice Who may speak for a platform: each platform has one signer key, a profile CID and a status.
/// @dev The other jejak contracts read `activeSigner` on every write, so it is kept to one storage read.
/// Roles: the default admin (one account, moved in two steps after `defaultAdminDelay()`: OpenZeppelin's
/// AccessControlDefaultAdminRules) manages roles and the reputation window; OPERATOR_ROLE onboards,
/// suspends and reinstates platforms, publishes reputation roots and anchors the evidence log.
///
/// Only a platform's own signer replaces its signer at once. The operator can only propose a new signer
/// (a platform that lost its key needs that), which takes effect `SIGNER_CHANGE_DELAY` later: the
/// proposal is an event the platform watches, and the platform's signer (while Active) or the admin can
/// cancel it. So a leaked operator key cannot anchor or revoke in a platform's name unnoticed.
contract JejakRegistry is AccessControlDefaultAdminRules {
    /// @notice Role of the jejak operator (platform onboarding, roots, evidence log).
    bytes32 public constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");
    /// @notice Wait before a new default admin can accept the role (changeable by the admin, with
    /// OpenZeppelin's own wait).
    uint48 public constant INITIAL_ADMIN_DELAY = 3 days;
    /// @notice Wait between the operator's proposal of a new signer and the moment it can take effect.
    uint64 public constant SIGNER_CHANGE_DELAY = 3 days;
    /// @notice Longest profile CID accepted, in bytes.
    uint256 public constant MAX_CID_LENGTH = JejakLimits.MAX_CID_LENGTH;

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

    /// @notice A signer change proposed by the operator, due at `effectiveAt` (unix seconds).
    struct SignerChange {
        address signer;
        uint64 effectiveAt;
    }

    /// @notice A platform was registered, Active from this block, with `signer` as its key.
    event PlatformRegistered(uint64 indexed platformId, address indexed signer, string profileCid);
    /// @notice A platform's signer and profile CID were replaced (its status is unchanged).
    event PlatformUpdated(uint64 indexed platformId, address indexed signer, string profileCid);
    /// @notice An Active platform was suspended for `reasonCode`.
    event PlatformSuspended(uint64 indexed platformId, uint16 reasonCode);
    /// @notice A Suspended platform is Active again.
    event PlatformReinstated(uint64 indexed platformId);
    /// @notice The operator proposed `signer` as the platform's signer, from `effectiveAt` on: the
    /// platform has until then to cancel it.
    event SignerChangeProposed(uint64 indexed platformId, address indexed signer, uint64 effectiveAt);
    /// @notice The proposed signer change to `signer` was withdrawn (cancelled, or overtaken by the
    /// platform's own rotation).
    event SignerChangeCancelled(uint64 indexed platformId, address indexed signer);

    /// @notice The platform exists but is not Active (or does not exist).
    error PlatformNotActive(uint64 platformId);
    /// @notice No platform was registered under this id.
    error UnknownPlatform(uint64 platformId);
    /// @notice An address argument was zero.
    error ZeroAddress();
    /// @notice The caller may not make this change.
    error NotAuthorized();
    /// @notice The platform is not in the status this call requires.
    error InvalidStatus(uint64 platformId);
    /// @notice The CID is longer than `MAX_CID_LENGTH` bytes.
    error CidTooLong(uint256 length);
    /// @notice The platform has no proposed signer change.
    error NoSignerChange(uint64 platformId);
    /// @notice The proposed signer change cannot take effect before `effectiveAt`.
    error SignerChangeNotDue(uint64 platformId, uint64 effectiveAt);

    mapping(uint64 platformId => Platform) private _platforms;
    mapping(uint64 platformId => SignerChange) private _signerChanges;
    uint64 private _platformCount;

    /// @notice Makes `admin` the default admin and grants `operator` the operator role.
    /// @dev A zero `admin` is refused by AccessControlDefaultAdminRules (`AccessControlInvalidDefaultAdmin`).
    constructor(address admin, address operator) AccessControlDefaultAdminRules(INITIAL_ADMIN_DELAY, admin) {
        if (operator == address(0)) revert ZeroAddress();
        _grantRole(OPERATOR_ROLE, operator);
    }

    /// @notice Registers a new Active platform; ids start at 1 and increase by 1.
    /// @param signer The key that anchors batches for this platform.
    /// @param profileCid CID of the platform's public profile document (at most `MAX_CID_LENGTH` bytes).
    /// @return platformId The new platform's id.
    function registerPlatform(address signer, string calldata profileCid)
        external
        onlyRole(OPERATOR_ROLE)
        returns (uint64 platformId)
    {
        if (signer == address(0)) revert ZeroAddress();
        _checkCid(profileCid);
        platformId = ++_platformCount;
        Platform storage p = _platforms[platformId];
        p.signer = signer;
        p.status = PlatformStatus.Active;
        p.registeredAt = uint64(block.timestamp);
        p.profileCid = profileCid;
        emit PlatformRegistered(platformId, signer, profileCid);
    }

    /// @notice Replaces a platform's signer and profile CID at once (key rotation); only the current
    /// signer of an Active platform may. A suspended platform's own key cannot: suspension may be for
    /// a leaked key. A pending operator proposal is withdrawn.
    function updatePlatform(uint64 platformId, address signer, string calldata profileCid) external {
        if (signer == address(0)) revert ZeroAddress();
        _checkCid(profileCid);
        Platform storage p = _platforms[platformId];
        PlatformStatus status = p.status;
        if (status == PlatformStatus.None) revert UnknownPlatform(platformId);
        if (msg.sender != p.signer || status != PlatformStatus.Active) revert NotAuthorized();
        _withdrawSignerChange(platformId);
        p.signer = signer;
        p.profileCid = profileCid;
        emit PlatformUpdated(platformId, signer, profileCid);
    }

    /// @notice Proposes `signer` as a platform's new signer (operator only), for a platform that lost
    /// its key or whose key leaked. It can take effect `SIGNER_CHANGE_DELAY` from now, through
    /// `enactSignerChange`; a newer proposal replaces this one.
    function proposeSignerChange(uint64 platformId, address signer) external onlyRole(OPERATOR_ROLE) {
        if (signer == address(0)) revert ZeroAddress();
        if (_platforms[platformId].status == PlatformStatus.None) revert UnknownPlatform(platformId);
        uint64 effectiveAt = uint64(block.timestamp) + SIGNER_CHANGE_DELAY;
        _signerChanges[platformId] = SignerChange({signer: signer, effectiveAt: effectiveAt});
        emit SignerChangeProposed(platformId, signer, effectiveAt);
    }

    /// @notice Cancels a proposed signer change: the platform's current signer while it is Active, the
    /// operator or the admin may.
    function cancelSignerChange(uint64 platformId) external {
        Platform storage p = _platforms[platformId];
        bool platformItself = msg.sender == p.signer && p.status == PlatformStatus.Active;
        // Addresses and a status (slither: they share their slot with `registeredAt`).
        // slither-disable-next-line timestamp
        if (!platformItself && !hasRole(OPERATOR_ROLE, msg.sender) && msg.sender != defaultAdmin()) {
            revert NotAuthorized();
        }
        if (_signerChanges[platformId].signer == address(0)) revert NoSignerChange(platformId);
        _withdrawSignerChange(platformId);
    }

    /// @notice Makes a proposed signer the platform's signer once its delay has passed; anyone may
    /// call it (the decision was the proposal's, and the platform had the delay to cancel it).
    function enactSignerChange(uint64 platformId) external {
        SignerChange memory change = _signerChanges[platformId];
        // The delay is days; a validator's few seconds of drift do not matter (and `signer` is only
        // stored beside `effectiveAt`).
        // slither-disable-next-line timestamp
        if (change.signer == address(0)) revert NoSignerChange(platformId);
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp < change.effectiveAt) revert SignerChangeNotDue(platformId, change.effectiveAt);
        delete _signerChanges[platformId];
        Platform storage p = _platforms[platformId];
        p.signer = change.signer;
        emit PlatformUpdated(platformId, change.signer, p.profileCid);
    }

    /// @notice Suspends an Active platform: it can no longer anchor batches nor revoke leaves.
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

    /// @notice The signer change proposed for a platform (all zero if none).
    function signerChange(uint64 platformId) external view returns (SignerChange memory) {
        return _signerChanges[platformId];
    }

    /// @notice Number of platforms ever registered (also the highest id).
    function platformCount() external view returns (uint64) {
        return _platformCount;
    }

    /// @notice Whether the platform exists and is Active.
    function isActive(uint64 platformId) external view returns (bool) {
        // An enum, not a balance or a time (slither: `status` shares its slot with `registeredAt`).
        // slither-disable-next-line incorrect-equality,timestamp
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

    function _withdrawSignerChange(uint64 platformId) private {
        address proposed = _signerChanges[platformId].signer;
        // An address (slither: it shares its slot with `effectiveAt`).
        // slither-disable-next-line timestamp
        if (proposed == address(0)) return;
        delete _signerChanges[platformId];
        emit SignerChangeCancelled(platformId, proposed);
    }

    function _checkCid(string calldata cid) private pure {
        if (bytes(cid).length > MAX_CID_LENGTH) revert CidTooLong(bytes(cid).length);
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
