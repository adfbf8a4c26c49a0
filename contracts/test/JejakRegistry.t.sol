// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {JejakRegistry} from "../src/JejakRegistry.sol";

import {JejakFixture} from "./utils/JejakFixture.sol";

contract JejakRegistryTest is JejakFixture {
    event PlatformRegistered(uint64 indexed platformId, address indexed signer, string profileCid);
    event PlatformUpdated(uint64 indexed platformId, address indexed signer, string profileCid);
    event PlatformSuspended(uint64 indexed platformId, uint16 reasonCode);
    event PlatformReinstated(uint64 indexed platformId);

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
        vm.expectRevert(JejakRegistry.ZeroAddress.selector);
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

    function testFuzz_registerPlatform(address who, string calldata cid) public {
        vm.assume(who != address(0));
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

    function test_updatePlatform_byOperator() public {
        address next = makeAddr("next");
        vm.expectEmit(true, true, true, true, address(registry));
        emit PlatformUpdated(platformId, next, "bafynew");
        vm.prank(operator);
        registry.updatePlatform(platformId, next, "bafynew");

        JejakRegistry.Platform memory p = registry.platform(platformId);
        assertEq(p.signer, next, "signer");
        assertEq(p.profileCid, "bafynew", "cid");
        assertTrue(p.status == JejakRegistry.PlatformStatus.Active, "status unchanged");
        assertEq(p.registeredAt, 1_700_000_000, "registeredAt unchanged");
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
        vm.prank(operator);
        registry.updatePlatform(platformId, address(0), PROFILE);
    }

    function test_updatePlatform_revertsOnUnknownPlatform() public {
        vm.expectRevert(abi.encodeWithSelector(JejakRegistry.UnknownPlatform.selector, uint64(7)));
        vm.prank(operator);
        registry.updatePlatform(7, signer, PROFILE);
    }

    function test_updatePlatform_suspendedSignerCannotRotateButOperatorCan() public {
        vm.prank(operator);
        registry.suspendPlatform(platformId, 3);

        vm.expectRevert(JejakRegistry.NotAuthorized.selector);
        vm.prank(signer);
        registry.updatePlatform(platformId, stranger, PROFILE);

        address next = makeAddr("next");
        vm.prank(operator);
        registry.updatePlatform(platformId, next, PROFILE);
        JejakRegistry.Platform memory p = registry.platform(platformId);
        assertEq(p.signer, next, "signer");
        assertTrue(p.status == JejakRegistry.PlatformStatus.Suspended, "still suspended");
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
