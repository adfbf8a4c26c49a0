// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {
    IAccessControlDefaultAdminRules
} from "@openzeppelin/contracts/access/extensions/IAccessControlDefaultAdminRules.sol";

import {JejakRegistry} from "../src/JejakRegistry.sol";

import {JejakFixture} from "./utils/JejakFixture.sol";

contract JejakRegistryTest is JejakFixture {
    event PlatformRegistered(uint64 indexed platformId, address indexed signer, string profileCid);
    event PlatformUpdated(uint64 indexed platformId, address indexed signer, string profileCid);
    event PlatformSuspended(uint64 indexed platformId, uint16 reasonCode);
    event PlatformReinstated(uint64 indexed platformId);
    event SignerChangeProposed(uint64 indexed platformId, address indexed signer, uint64 effectiveAt);
    event SignerChangeCancelled(uint64 indexed platformId, address indexed signer);

    bytes32 internal constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");

    function setUp() public {
        _deployJejak();
    }

    function _unauthorized(address account, bytes32 role) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, account, role);
    }

    // ---- constructor and roles ----

    function test_constructor_grantsRoles() public view {
        assertEq(registry.OPERATOR_ROLE(), OPERATOR_ROLE);
        assertTrue(registry.hasRole(registry.DEFAULT_ADMIN_ROLE(), admin), "admin role");
        assertTrue(registry.hasRole(OPERATOR_ROLE, operator), "operator role");
        assertFalse(registry.hasRole(OPERATOR_ROLE, admin), "admin is not operator");
        assertFalse(registry.hasRole(registry.DEFAULT_ADMIN_ROLE(), operator), "operator is not admin");
        assertTrue(registry.isOperator(operator), "isOperator(operator)");
        assertFalse(registry.isOperator(admin), "isOperator(admin)");
        assertFalse(registry.isOperator(stranger), "isOperator(stranger)");
    }

    function test_constructor_revertsOnZeroAdmin() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControlDefaultAdminRules.AccessControlInvalidDefaultAdmin.selector, address(0)
            )
        );
        new JejakRegistry(address(0), operator);
    }

    function test_constructor_revertsOnZeroOperator() public {
        vm.expectRevert(JejakRegistry.ZeroAddress.selector);
        new JejakRegistry(admin, address(0));
    }

    function test_admin_canGrantAndRevokeOperator() public {
        vm.startPrank(admin);
        registry.grantRole(OPERATOR_ROLE, stranger);
        assertTrue(registry.isOperator(stranger), "granted");
        registry.revokeRole(OPERATOR_ROLE, stranger);
        vm.stopPrank();
        assertFalse(registry.isOperator(stranger), "revoked");
    }

    function test_admin_movesInTwoStepsAfterTheDelay() public {
        address next = makeAddr("nextAdmin");
        bytes32 adminRole = registry.DEFAULT_ADMIN_ROLE();
        assertEq(registry.defaultAdmin(), admin, "defaultAdmin");
        assertEq(registry.defaultAdminDelay(), 3 days, "delay");

        // Granting the admin role outright is refused.
        vm.expectRevert(IAccessControlDefaultAdminRules.AccessControlEnforcedDefaultAdminRules.selector);
        vm.prank(admin);
        registry.grantRole(adminRole, next);

        vm.prank(admin);
        registry.beginDefaultAdminTransfer(next);
        (address pending, uint48 schedule) = registry.pendingDefaultAdmin();
        assertEq(pending, next, "pending admin");
        assertEq(schedule, block.timestamp + 3 days, "schedule");

        // Not before the delay, and only by the new admin.
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControlDefaultAdminRules.AccessControlEnforcedDefaultAdminDelay.selector, schedule
            )
        );
        vm.prank(next);
        registry.acceptDefaultAdminTransfer();
        vm.warp(uint256(schedule) + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControlDefaultAdminRules.AccessControlInvalidDefaultAdmin.selector, admin
            )
        );
        vm.prank(admin);
        registry.acceptDefaultAdminTransfer();

        vm.prank(next);
        registry.acceptDefaultAdminTransfer();
        assertEq(registry.defaultAdmin(), next, "moved");
        assertTrue(registry.hasRole(adminRole, next), "new admin holds the role");
        assertFalse(registry.hasRole(adminRole, admin), "old admin lost it");
        assertTrue(registry.isOperator(operator), "the operator is untouched");
    }

    function test_admin_transferCanBeCancelled() public {
        address next = makeAddr("nextAdmin");
        vm.startPrank(admin);
        registry.beginDefaultAdminTransfer(next);
        registry.cancelDefaultAdminTransfer();
        vm.stopPrank();
        vm.warp(block.timestamp + 4 days);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControlDefaultAdminRules.AccessControlInvalidDefaultAdmin.selector, next
            )
        );
        vm.prank(next);
        registry.acceptDefaultAdminTransfer();
        assertEq(registry.defaultAdmin(), admin, "unchanged");
    }

    function test_operator_cannotGrantRoles() public {
        vm.expectRevert(_unauthorized(operator, bytes32(0)));
        vm.prank(operator);
        registry.grantRole(OPERATOR_ROLE, stranger);
    }

    // ---- registerPlatform ----

    function test_registerPlatform_storesRecordAndEmits() public {
        address other = makeAddr("otherSigner");
        vm.warp(1_800_000_000);
        vm.expectEmit(true, true, true, true, address(registry));
        emit PlatformRegistered(2, other, "bafyother");
        vm.prank(operator);
        uint64 id = registry.registerPlatform(other, "bafyother");

        assertEq(id, 2, "second id");
        assertEq(registry.platformCount(), 2, "count");
        JejakRegistry.Platform memory p = registry.platform(id);
        assertEq(p.signer, other, "signer");
        assertTrue(p.status == JejakRegistry.PlatformStatus.Active, "status");
        assertEq(p.registeredAt, 1_800_000_000, "registeredAt");
        assertEq(p.profileCid, "bafyother", "profileCid");
        assertTrue(registry.isActive(id), "isActive");
        assertEq(registry.activeSigner(id), other, "activeSigner");
        assertEq(registry.signerOf(id), other, "signerOf");
    }

    function test_registerPlatform_idsStartAtOneAndIncrease() public {
        assertEq(platformId, 1, "first id");
        vm.startPrank(operator);
        for (uint64 i = 2; i <= 5; ++i) {
            assertEq(registry.registerPlatform(signer, PROFILE), i, "next id");
        }
        vm.stopPrank();
        assertEq(registry.platformCount(), 5, "count");
    }

    function test_registerPlatform_revertsForNonOperator() public {
        vm.expectRevert(_unauthorized(stranger, OPERATOR_ROLE));
        vm.prank(stranger);
        registry.registerPlatform(signer, PROFILE);

        vm.expectRevert(_unauthorized(admin, OPERATOR_ROLE));
        vm.prank(admin);
        registry.registerPlatform(signer, PROFILE);
    }

    function test_registerPlatform_revertsOnZeroSigner() public {
        vm.expectRevert(JejakRegistry.ZeroAddress.selector);
        vm.prank(operator);
        registry.registerPlatform(address(0), PROFILE);
    }

    function test_registerPlatform_cidLengthIsCapped() public {
        vm.startPrank(operator);
        uint64 id = registry.registerPlatform(signer, _cidOfLength(128));
        assertEq(registry.platform(id).profileCid, _cidOfLength(128), "128 bytes accepted");
        vm.expectRevert(abi.encodeWithSelector(JejakRegistry.CidTooLong.selector, uint256(129)));
        registry.registerPlatform(signer, _cidOfLength(129));
        vm.stopPrank();
        assertEq(registry.platformCount(), 2, "nothing more registered");
    }

    function testFuzz_registerPlatform(address who, string calldata cid) public {
        vm.assume(who != address(0) && bytes(cid).length <= 128);
        vm.prank(operator);
        uint64 id = registry.registerPlatform(who, cid);
        assertEq(id, 2, "id");
        JejakRegistry.Platform memory p = registry.platform(id);
        assertEq(p.signer, who, "signer");
        assertEq(p.profileCid, cid, "cid");
        assertEq(registry.activeSigner(id), who, "activeSigner");
    }

    // ---- platform views on unknown ids ----

    function test_views_unknownPlatform() public {
        JejakRegistry.Platform memory p = registry.platform(99);
        assertEq(p.signer, address(0), "signer");
        assertTrue(p.status == JejakRegistry.PlatformStatus.None, "status");
        assertFalse(registry.isActive(99), "isActive");
        assertFalse(registry.isActive(0), "isActive(0)");
        assertEq(registry.signerOf(99), address(0), "signerOf");
        vm.expectRevert(abi.encodeWithSelector(JejakRegistry.PlatformNotActive.selector, uint64(99)));
        registry.activeSigner(99);
        vm.expectRevert(abi.encodeWithSelector(JejakRegistry.PlatformNotActive.selector, uint64(0)));
        registry.activeSigner(0);
    }

    // ---- updatePlatform ----

    function test_updatePlatform_operatorCannotRotateAnActivePlatform() public {
        vm.expectRevert(JejakRegistry.NotAuthorized.selector);
        vm.prank(operator);
        registry.updatePlatform(platformId, operator, "bafynew");
        JejakRegistry.Platform memory p = registry.platform(platformId);
        assertEq(p.signer, signer, "signer unchanged");
        assertEq(p.profileCid, PROFILE, "profile unchanged");
    }

    function test_updatePlatform_bySignerKeepsStatusAndDate() public {
        address next = makeAddr("next");
        vm.expectEmit(true, true, true, true, address(registry));
        emit PlatformUpdated(platformId, next, "bafynew");
        vm.prank(signer);
        registry.updatePlatform(platformId, next, "bafynew");

        JejakRegistry.Platform memory p = registry.platform(platformId);
        assertEq(p.signer, next, "signer");
        assertEq(p.profileCid, "bafynew", "cid");
        assertTrue(p.status == JejakRegistry.PlatformStatus.Active, "status unchanged");
        assertEq(p.registeredAt, 1_700_000_000, "registeredAt unchanged");
    }

    function test_updatePlatform_cidLengthIsCapped() public {
        vm.expectRevert(abi.encodeWithSelector(JejakRegistry.CidTooLong.selector, uint256(129)));
        vm.prank(signer);
        registry.updatePlatform(platformId, signer, _cidOfLength(129));
    }

    function test_updatePlatform_selfServiceRotation() public {
        address next = makeAddr("next");
        vm.expectEmit(true, true, true, true, address(registry));
        emit PlatformUpdated(platformId, next, PROFILE);
        vm.prank(signer);
        registry.updatePlatform(platformId, next, PROFILE);
        assertEq(registry.activeSigner(platformId), next, "rotated");

        // The old key has lost its authority.
        vm.expectRevert(JejakRegistry.NotAuthorized.selector);
        vm.prank(signer);
        registry.updatePlatform(platformId, signer, PROFILE);

        // The new key can rotate again.
        vm.prank(next);
        registry.updatePlatform(platformId, signer, PROFILE);
        assertEq(registry.activeSigner(platformId), signer, "rotated back");
    }

    function test_updatePlatform_revertsForStranger() public {
        vm.expectRevert(JejakRegistry.NotAuthorized.selector);
        vm.prank(stranger);
        registry.updatePlatform(platformId, stranger, PROFILE);

        vm.expectRevert(JejakRegistry.NotAuthorized.selector);
        vm.prank(admin);
        registry.updatePlatform(platformId, stranger, PROFILE);
    }

    function test_updatePlatform_signerOfOtherPlatformIsNotAuthorized() public {
        address other = makeAddr("otherSigner");
        vm.prank(operator);
        registry.registerPlatform(other, PROFILE);
        vm.expectRevert(JejakRegistry.NotAuthorized.selector);
        vm.prank(other);
        registry.updatePlatform(platformId, other, PROFILE);
    }

    function test_updatePlatform_revertsOnZeroSigner() public {
        vm.expectRevert(JejakRegistry.ZeroAddress.selector);
        vm.prank(signer);
        registry.updatePlatform(platformId, address(0), PROFILE);
    }

    function test_updatePlatform_revertsOnUnknownPlatform() public {
        vm.expectRevert(abi.encodeWithSelector(JejakRegistry.UnknownPlatform.selector, uint64(7)));
        vm.prank(operator);
        registry.updatePlatform(7, signer, PROFILE);
    }

    function test_updatePlatform_suspendedSignerCannotRotate() public {
        vm.prank(operator);
        registry.suspendPlatform(platformId, 3);

        vm.expectRevert(JejakRegistry.NotAuthorized.selector);
        vm.prank(signer);
        registry.updatePlatform(platformId, stranger, PROFILE);
        vm.expectRevert(JejakRegistry.NotAuthorized.selector);
        vm.prank(operator);
        registry.updatePlatform(platformId, stranger, PROFILE);
        assertEq(registry.signerOf(platformId), signer, "unchanged");
    }

    // ---- signer changes proposed by the operator ----

    function _propose(address next) internal returns (uint64 effectiveAt) {
        effectiveAt = uint64(block.timestamp) + registry.SIGNER_CHANGE_DELAY();
        vm.expectEmit(true, true, true, true, address(registry));
        emit SignerChangeProposed(platformId, next, effectiveAt);
        vm.prank(operator);
        registry.proposeSignerChange(platformId, next);
    }

    function test_signerChange_takesEffectAfterTheDelayOnly() public {
        address next = makeAddr("next");
        assertEq(registry.SIGNER_CHANGE_DELAY(), 3 days, "delay");
        uint64 effectiveAt = _propose(next);
        JejakRegistry.SignerChange memory change = registry.signerChange(platformId);
        assertEq(change.signer, next, "proposed signer");
        assertEq(change.effectiveAt, effectiveAt, "effectiveAt");
        assertEq(registry.activeSigner(platformId), signer, "nothing changes yet");

        vm.warp(effectiveAt - 1);
        vm.expectRevert(
            abi.encodeWithSelector(JejakRegistry.SignerChangeNotDue.selector, platformId, effectiveAt)
        );
        registry.enactSignerChange(platformId);

        vm.warp(effectiveAt);
        vm.expectEmit(true, true, true, true, address(registry));
        emit PlatformUpdated(platformId, next, PROFILE);
        vm.prank(stranger); // anyone may enact a due change
        registry.enactSignerChange(platformId);
        assertEq(registry.activeSigner(platformId), next, "enacted");
        assertEq(registry.signerChange(platformId).signer, address(0), "cleared");
        vm.expectRevert(abi.encodeWithSelector(JejakRegistry.NoSignerChange.selector, platformId));
        registry.enactSignerChange(platformId);
    }

    function test_signerChange_recoversASuspendedPlatformsKey() public {
        // A leaked key: the operator suspends the platform, so the key can neither act nor cancel.
        address next = makeAddr("next");
        vm.prank(operator);
        registry.suspendPlatform(platformId, 4);
        uint64 effectiveAt = _propose(next);
        vm.expectRevert(JejakRegistry.NotAuthorized.selector);
        vm.prank(signer);
        registry.cancelSignerChange(platformId);
        vm.warp(effectiveAt);
        registry.enactSignerChange(platformId);
        assertEq(registry.signerOf(platformId), next, "recovered");
        assertFalse(registry.isActive(platformId), "still suspended until reinstated");
    }

    function test_signerChange_cancelledByThePlatformOrTheAdmin() public {
        address next = makeAddr("next");
        uint64 effectiveAt = _propose(next);
        vm.expectEmit(true, true, true, true, address(registry));
        emit SignerChangeCancelled(platformId, next);
        vm.prank(signer);
        registry.cancelSignerChange(platformId);
        vm.warp(effectiveAt);
        vm.expectRevert(abi.encodeWithSelector(JejakRegistry.NoSignerChange.selector, platformId));
        registry.enactSignerChange(platformId);
        assertEq(registry.signerOf(platformId), signer, "unchanged");

        _propose(next);
        vm.prank(admin);
        registry.cancelSignerChange(platformId);
        _propose(next);
        vm.prank(operator);
        registry.cancelSignerChange(platformId);
        vm.expectRevert(abi.encodeWithSelector(JejakRegistry.NoSignerChange.selector, platformId));
        vm.prank(operator);
        registry.cancelSignerChange(platformId);
    }

    function test_signerChange_strangersCannotCancel() public {
        _propose(makeAddr("next"));
        vm.expectRevert(JejakRegistry.NotAuthorized.selector);
        vm.prank(stranger);
        registry.cancelSignerChange(platformId);
        address other = makeAddr("otherSigner");
        vm.prank(operator);
        registry.registerPlatform(other, PROFILE);
        vm.expectRevert(JejakRegistry.NotAuthorized.selector);
        vm.prank(other);
        registry.cancelSignerChange(platformId);
    }

    function test_signerChange_overtakenByThePlatformsOwnRotation() public {
        address proposed = makeAddr("proposed");
        address own = makeAddr("own");
        uint64 effectiveAt = _propose(proposed);
        vm.expectEmit(true, true, true, true, address(registry));
        emit SignerChangeCancelled(platformId, proposed);
        vm.prank(signer);
        registry.updatePlatform(platformId, own, PROFILE);
        vm.warp(effectiveAt);
        vm.expectRevert(abi.encodeWithSelector(JejakRegistry.NoSignerChange.selector, platformId));
        registry.enactSignerChange(platformId);
        assertEq(registry.signerOf(platformId), own, "the platform's choice stands");
    }

    function test_signerChange_newerProposalRestartsTheDelay() public {
        uint64 first = _propose(makeAddr("first"));
        vm.warp(first - 1);
        address second = makeAddr("second");
        uint64 due = _propose(second);
        assertEq(due, first - 1 + 3 days, "restarted");
        vm.warp(first);
        vm.expectRevert(abi.encodeWithSelector(JejakRegistry.SignerChangeNotDue.selector, platformId, due));
        registry.enactSignerChange(platformId);
        vm.warp(due);
        registry.enactSignerChange(platformId);
        assertEq(registry.signerOf(platformId), second, "the newer proposal");
    }

    function test_signerChange_proposalChecks() public {
        vm.expectRevert(_unauthorized(signer, OPERATOR_ROLE));
        vm.prank(signer);
        registry.proposeSignerChange(platformId, stranger);
        vm.expectRevert(_unauthorized(admin, OPERATOR_ROLE));
        vm.prank(admin);
        registry.proposeSignerChange(platformId, stranger);
        vm.startPrank(operator);
        vm.expectRevert(JejakRegistry.ZeroAddress.selector);
        registry.proposeSignerChange(platformId, address(0));
        vm.expectRevert(abi.encodeWithSelector(JejakRegistry.UnknownPlatform.selector, uint64(9)));
        registry.proposeSignerChange(9, stranger);
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(JejakRegistry.NoSignerChange.selector, uint64(9)));
        registry.enactSignerChange(9);
    }

    // ---- suspendPlatform / reinstatePlatform ----

    function test_suspendPlatform() public {
        vm.expectEmit(true, true, true, true, address(registry));
        emit PlatformSuspended(platformId, 42);
        vm.prank(operator);
        registry.suspendPlatform(platformId, 42);

        assertTrue(registry.platform(platformId).status == JejakRegistry.PlatformStatus.Suspended, "status");
        assertFalse(registry.isActive(platformId), "isActive");
        assertEq(registry.signerOf(platformId), signer, "signerOf survives suspension");
        vm.expectRevert(abi.encodeWithSelector(JejakRegistry.PlatformNotActive.selector, platformId));
        registry.activeSigner(platformId);
    }

    function test_suspendPlatform_revertsForNonOperator() public {
        vm.expectRevert(_unauthorized(signer, OPERATOR_ROLE));
        vm.prank(signer);
        registry.suspendPlatform(platformId, 1);
    }

    function test_suspendPlatform_revertsOnUnknown() public {
        vm.expectRevert(abi.encodeWithSelector(JejakRegistry.UnknownPlatform.selector, uint64(2)));
        vm.prank(operator);
        registry.suspendPlatform(2, 1);
    }

    function test_suspendPlatform_revertsWhenAlreadySuspended() public {
        vm.startPrank(operator);
        registry.suspendPlatform(platformId, 1);
        vm.expectRevert(abi.encodeWithSelector(JejakRegistry.InvalidStatus.selector, platformId));
        registry.suspendPlatform(platformId, 1);
        vm.stopPrank();
    }

    function test_reinstatePlatform() public {
        vm.startPrank(operator);
        registry.suspendPlatform(platformId, 1);
        vm.expectEmit(true, true, true, true, address(registry));
        emit PlatformReinstated(platformId);
        registry.reinstatePlatform(platformId);
        vm.stopPrank();
        assertTrue(registry.isActive(platformId), "active again");
        assertEq(registry.activeSigner(platformId), signer, "activeSigner");
    }

    function test_reinstatePlatform_revertsForNonOperator() public {
        vm.prank(operator);
        registry.suspendPlatform(platformId, 1);
        vm.expectRevert(_unauthorized(signer, OPERATOR_ROLE));
        vm.prank(signer);
        registry.reinstatePlatform(platformId);
    }

    function test_reinstatePlatform_revertsOnUnknown() public {
        vm.expectRevert(abi.encodeWithSelector(JejakRegistry.UnknownPlatform.selector, uint64(0)));
        vm.prank(operator);
        registry.reinstatePlatform(0);
    }

    function test_reinstatePlatform_revertsWhenActive() public {
        vm.expectRevert(abi.encodeWithSelector(JejakRegistry.InvalidStatus.selector, platformId));
        vm.prank(operator);
        registry.reinstatePlatform(platformId);
    }

    // ---- gas ----

    function test_gas_registerPlatform() public {
        vm.prank(operator);
        uint256 before = gasleft();
        registry.registerPlatform(signer, CID);
        uint256 used = before - gasleft();
        assertLt(used, 150_000, "registerPlatform gas");
    }
}
