// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {JejakRegistry} from "../src/JejakRegistry.sol";
import {JejakReputationRoots} from "../src/JejakReputationRoots.sol";

import {Test} from "./utils/Test.sol";

contract JejakReputationRootsTest is Test {
    event RootPublished(uint64 indexed epoch, bytes32 root, string snapshotCid, uint32 paramsVersion);
    event RootReplaced(uint64 indexed epoch, uint64 expiresAt);
    event ValidityWindowChanged(uint64 window);

    uint64 internal constant WINDOW = 1 days;
    bytes32 internal constant R1 = keccak256("root 1");
    bytes32 internal constant R2 = keccak256("root 2");
    bytes32 internal constant R3 = keccak256("root 3");
    string internal constant SNAP = "bafkreisnapshot";

    address internal admin;
    address internal operator;
    address internal stranger;
    JejakRegistry internal registry;
    JejakReputationRoots internal roots;

    function setUp() public {
        admin = makeAddr("admin");
        operator = makeAddr("operator");
        stranger = makeAddr("stranger");
        vm.warp(1_700_000_000);
        registry = new JejakRegistry(admin, operator);
        roots = new JejakReputationRoots(registry, WINDOW);
    }

    function _publish(uint64 epoch, bytes32 root) internal {
        vm.prank(operator);
        roots.publishRoot(epoch, root, SNAP, 1);
    }

    function _unauthorized(address account, bytes32 role) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, account, role);
    }

    // ---- constructor ----

    function test_constructor() public {
        assertEq(address(roots.registry()), address(registry), "registry");
        assertEq(roots.validityWindow(), WINDOW, "window");
        assertEq(roots.latestEpoch(), 0, "no epoch");

        vm.expectEmit(true, true, true, true);
        emit ValidityWindowChanged(7);
        new JejakReputationRoots(registry, 7);
    }

    function test_constructor_refusesZeroAndNonContractRegistry() public {
        vm.expectRevert(JejakReputationRoots.ZeroAddress.selector);
        new JejakReputationRoots(JejakRegistry(address(0)), WINDOW);
        vm.expectRevert(abi.encodeWithSelector(JejakReputationRoots.NotAContract.selector, stranger));
        new JejakReputationRoots(JejakRegistry(stranger), WINDOW);
    }

    // ---- epoch bounds ----

    function _tooFar(uint64 epoch, uint64 highest) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(JejakReputationRoots.EpochTooFar.selector, epoch, highest);
    }

    function _expectTooFar(uint64 epoch, uint64 highest) internal {
        vm.expectRevert(_tooFar(epoch, highest));
        vm.prank(operator);
        roots.publishRoot(epoch, R2, SNAP, 1);
    }

    function test_epochBounds_firstEpochAtMostAUnixTimeInSeconds() public {
        uint64 maxFirst = roots.MAX_FIRST_EPOCH();
        assertEq(maxFirst, type(uint32).max, "first epoch bound");
        assertEq(roots.nextEpochLimit(), maxFirst, "limit before the first root");
        _expectTooFar(maxFirst + 1, maxFirst);
        _expectTooFar(1_700_000_000_000, maxFirst); // a millisecond timestamp
        _expectTooFar(uint64(1) << 61, maxFirst);
        _expectTooFar(type(uint64).max, maxFirst);
        _publish(maxFirst, R1);
        assertEq(roots.latestEpoch(), maxFirst, "the edge itself is accepted");
    }

    function test_epochBounds_laterEpochsMoveBySmallSteps() public {
        uint64 step = roots.MAX_EPOCH_STEP();
        assertEq(step, 1 << 20, "step");
        uint64 first = 1_700_000_000; // one-second epochs counted from the unix epoch
        _publish(first, R1);
        assertEq(roots.nextEpochLimit(), first + step, "limit");
        _expectTooFar(first + step + 1, first + step);
        _expectTooFar(1_700_000_000_000, first + step);
        _expectTooFar(uint64(1) << 61, first + step);
        _expectTooFar(type(uint64).max, first + step);
        _publish(first + step, R2);
        assertEq(roots.latestEpoch(), first + step, "a full step is accepted");
    }

    function test_epochBounds_aRefusedEpochBricksNothing() public {
        // Daily epochs: epoch 20,000 is published, then someone tries a millisecond timestamp.
        _publish(20_000, R1);
        _expectTooFar(1_728_000_000_000, 20_000 + roots.MAX_EPOCH_STEP());
        // The next day's root still goes in, and the replaced one stays in its window.
        vm.warp(block.timestamp + 1 days);
        _publish(20_001, R2);
        assertEq(roots.latestEpoch(), 20_001, "latest");
        assertTrue(roots.isRootAccepted(20_001, R2), "current");
        assertTrue(roots.isRootAccepted(20_000, R1), "replaced, in its window");
    }

    function testFuzz_epochBounds(uint64 latest, uint64 next) public {
        latest = uint64(bound(latest, 1, roots.MAX_FIRST_EPOCH()));
        _publish(latest, R1);
        uint64 highest = latest + roots.MAX_EPOCH_STEP();
        vm.prank(operator);
        if (next <= latest) {
            vm.expectRevert(
                abi.encodeWithSelector(JejakReputationRoots.EpochNotIncreasing.selector, next, latest)
            );
        } else if (next > highest) {
            vm.expectRevert(_tooFar(next, highest));
        }
        roots.publishRoot(next, R2, SNAP, 1);
        assertEq(roots.latestEpoch(), next > latest && next <= highest ? next : latest, "latest");
        assertLt(roots.latestEpoch(), uint256(1) << 61, "below the proof verifier's epoch range");
    }

    // ---- snapshot CIDs ----

    function test_publishRoot_cidMustBePresentAndShort() public {
        vm.startPrank(operator);
        vm.expectRevert(JejakReputationRoots.EmptyCid.selector);
        roots.publishRoot(1, R1, "", 1);
        vm.expectRevert(abi.encodeWithSelector(JejakReputationRoots.CidTooLong.selector, uint256(129)));
        roots.publishRoot(1, R1, string(new bytes(129)), 1);
        roots.publishRoot(1, R1, string(new bytes(128)), 1);
        vm.stopPrank();
        assertEq(roots.latestEpoch(), 1, "128 bytes accepted");
    }

    // ---- publishRoot ----

    function test_publishRoot_first() public {
        vm.expectEmit(true, true, true, true, address(roots));
        emit RootPublished(1, R1, SNAP, 3);
        vm.prank(operator);
        roots.publishRoot(1, R1, SNAP, 3);

        assertEq(roots.latestEpoch(), 1, "latest");
        JejakReputationRoots.RootInfo memory info = roots.rootOf(1);
        assertEq(info.root, R1, "root");
        assertEq(info.publishedAt, 1_700_000_000, "publishedAt");
        assertEq(info.expiresAt, 0, "current");
        assertEq(info.paramsVersion, 3, "paramsVersion");
        assertTrue(roots.isRootAccepted(1, R1), "accepted");
    }

    function test_publishRoot_replacesPrevious() public {
        _publish(1, R1);
        vm.warp(1_700_000_500);

        vm.expectEmit(true, true, true, true, address(roots));
        emit RootReplaced(1, 1_700_000_500 + WINDOW);
        vm.expectEmit(true, true, true, true, address(roots));
        emit RootPublished(2, R2, SNAP, 1);
        _publish(2, R2);

        assertEq(roots.latestEpoch(), 2, "latest");
        assertEq(roots.rootOf(1).expiresAt, 1_700_000_500 + WINDOW, "frozen at replacement");
        assertEq(roots.rootOf(1).publishedAt, 1_700_000_000, "publishedAt kept");
        assertEq(roots.rootOf(2).expiresAt, 0, "new is current");
        assertTrue(roots.isRootAccepted(1, R1), "old still accepted");
        assertTrue(roots.isRootAccepted(2, R2), "new accepted");
    }

    function test_publishRoot_epochsMayHaveGaps() public {
        _publish(3, R1);
        _publish(10, R2);
        assertEq(roots.latestEpoch(), 10, "latest");
        assertEq(roots.rootOf(3).expiresAt, block.timestamp + WINDOW, "3 replaced by 10");
        assertEq(roots.rootOf(5).root, bytes32(0), "gap is empty");
    }

    function test_publishRoot_onlyLatestIsReplaced() public {
        _publish(1, R1);
        vm.warp(block.timestamp + 10);
        _publish(2, R2);
        uint64 firstExpiry = roots.rootOf(1).expiresAt;
        vm.warp(block.timestamp + 10);
        _publish(3, R3);
        assertEq(roots.rootOf(1).expiresAt, firstExpiry, "epoch 1 untouched by epoch 3");
        assertEq(roots.rootOf(2).expiresAt, block.timestamp + WINDOW, "epoch 2 replaced");
    }

    function test_publishRoot_revertsForNonOperator() public {
        bytes32 role = registry.OPERATOR_ROLE();
        vm.expectRevert(_unauthorized(stranger, role));
        vm.prank(stranger);
        roots.publishRoot(1, R1, SNAP, 1);

        vm.expectRevert(_unauthorized(admin, role));
        vm.prank(admin);
        roots.publishRoot(1, R1, SNAP, 1);
    }

    function test_publishRoot_followsOperatorRole() public {
        bytes32 role = registry.OPERATOR_ROLE();
        vm.prank(admin);
        registry.grantRole(role, stranger);
        vm.prank(stranger);
        roots.publishRoot(1, R1, SNAP, 1);

        vm.prank(admin);
        registry.revokeRole(role, operator);
        vm.expectRevert(_unauthorized(operator, role));
        vm.prank(operator);
        roots.publishRoot(2, R2, SNAP, 1);
    }

    function test_publishRoot_revertsOnZeroRoot() public {
        vm.expectRevert(JejakReputationRoots.ZeroRoot.selector);
        vm.prank(operator);
        roots.publishRoot(1, bytes32(0), SNAP, 1);
    }

    function test_publishRoot_revertsOnEpochZero() public {
        vm.expectRevert(
            abi.encodeWithSelector(JejakReputationRoots.EpochNotIncreasing.selector, uint64(0), uint64(0))
        );
        vm.prank(operator);
        roots.publishRoot(0, R1, SNAP, 1);
    }

    function test_publishRoot_revertsOnSameOrOlderEpoch() public {
        _publish(5, R1);
        vm.expectRevert(
            abi.encodeWithSelector(JejakReputationRoots.EpochNotIncreasing.selector, uint64(5), uint64(5))
        );
        vm.prank(operator);
        roots.publishRoot(5, R2, SNAP, 1);

        vm.expectRevert(
            abi.encodeWithSelector(JejakReputationRoots.EpochNotIncreasing.selector, uint64(4), uint64(5))
        );
        vm.prank(operator);
        roots.publishRoot(4, R2, SNAP, 1);
    }

    // ---- isRootAccepted ----

    function test_isRootAccepted_exactExpiry() public {
        _publish(1, R1);
        vm.warp(1_700_001_000);
        _publish(2, R2);
        uint64 expiresAt = 1_700_001_000 + WINDOW;

        vm.warp(expiresAt - 1);
        assertTrue(roots.isRootAccepted(1, R1), "accepted one second before");
        vm.warp(expiresAt);
        assertFalse(roots.isRootAccepted(1, R1), "rejected at expiresAt");
        vm.warp(expiresAt + 365 days);
        assertFalse(roots.isRootAccepted(1, R1), "rejected later");
        assertTrue(roots.isRootAccepted(2, R2), "current root never expires");
    }

    function test_isRootAccepted_rejectsMismatches() public {
        _publish(1, R1);
        assertFalse(roots.isRootAccepted(1, R2), "wrong root");
        assertFalse(roots.isRootAccepted(2, R1), "wrong epoch");
        assertFalse(roots.isRootAccepted(0, bytes32(0)), "zero epoch, zero root");
        assertFalse(roots.isRootAccepted(7, bytes32(0)), "unpublished epoch, zero root");
        assertFalse(roots.isRootAccepted(1, bytes32(0)), "zero root");
    }

    function test_isRootAccepted_zeroWindowExpiresImmediately() public {
        vm.prank(admin);
        roots.setValidityWindow(0);
        _publish(1, R1);
        _publish(2, R2);
        assertEq(roots.rootOf(1).expiresAt, block.timestamp, "expires now");
        assertFalse(roots.isRootAccepted(1, R1), "gone at once");
    }

    function test_publishRoot_hugeWindowSaturates() public {
        vm.prank(admin);
        roots.setValidityWindow(type(uint64).max);
        _publish(1, R1);
        _publish(2, R2);
        assertEq(roots.rootOf(1).expiresAt, type(uint64).max, "saturated");
        vm.warp(type(uint64).max - 1);
        assertTrue(roots.isRootAccepted(1, R1), "accepted until the end of time");
    }

    // ---- setValidityWindow ----

    function test_setValidityWindow() public {
        vm.expectEmit(true, true, true, true, address(roots));
        emit ValidityWindowChanged(3 days);
        vm.prank(admin);
        roots.setValidityWindow(3 days);
        assertEq(roots.validityWindow(), 3 days, "window");
    }

    function test_setValidityWindow_revertsForNonAdmin() public {
        vm.expectRevert(_unauthorized(operator, bytes32(0)));
        vm.prank(operator);
        roots.setValidityWindow(1);

        vm.expectRevert(_unauthorized(stranger, bytes32(0)));
        vm.prank(stranger);
        roots.setValidityWindow(1);
    }

    function test_setValidityWindow_appliesToLaterReplacementsOnly() public {
        _publish(1, R1);
        _publish(2, R2); // epoch 1 replaced with the old window
        uint64 replacedAt = uint64(block.timestamp);
        vm.prank(admin);
        roots.setValidityWindow(10 days);
        assertEq(roots.rootOf(1).expiresAt, replacedAt + WINDOW, "already replaced: unchanged");

        vm.warp(block.timestamp + 100);
        _publish(3, R3);
        assertEq(roots.rootOf(2).expiresAt, block.timestamp + 10 days, "new window");
    }

    // ---- fuzz ----

    function testFuzz_window(uint64 window, uint64 publishedAt, uint64 replacedAfter, uint64 probeAfter)
        public
    {
        publishedAt = uint64(bound(publishedAt, 1, type(uint64).max / 4));
        replacedAfter = uint64(bound(replacedAfter, 0, type(uint64).max / 4));
        vm.prank(admin);
        roots.setValidityWindow(window);

        vm.warp(publishedAt);
        _publish(1, R1);
        uint256 replacedAt = uint256(publishedAt) + replacedAfter;
        vm.warp(replacedAt);
        _publish(2, R2);

        uint256 expected = replacedAt + window;
        if (expected > type(uint64).max) expected = type(uint64).max;
        assertEq(roots.rootOf(1).expiresAt, expected, "expiresAt");

        uint256 probe = bound(probeAfter, replacedAt, type(uint64).max);
        vm.warp(probe);
        assertEq(roots.isRootAccepted(1, R1), probe < expected, "accepted iff before expiry");
        assertTrue(roots.isRootAccepted(2, R2), "current");

        if (expected > replacedAt) {
            vm.warp(expected - 1);
            assertTrue(roots.isRootAccepted(1, R1), "accepted at expiresAt - 1");
        }
        vm.warp(expected);
        assertFalse(roots.isRootAccepted(1, R1), "rejected at expiresAt");
    }

    function testFuzz_publishRoot(uint64 epoch, bytes32 root, string calldata cid, uint32 version) public {
        epoch = uint64(bound(epoch, 1, roots.MAX_FIRST_EPOCH()));
        vm.assume(root != bytes32(0) && bytes(cid).length != 0 && bytes(cid).length <= 128);
        vm.expectEmit(true, true, true, true, address(roots));
        emit RootPublished(epoch, root, cid, version);
        vm.prank(operator);
        roots.publishRoot(epoch, root, cid, version);
        assertEq(roots.latestEpoch(), epoch, "latest");
        assertEq(roots.rootOf(epoch).paramsVersion, version, "version");
        assertTrue(roots.isRootAccepted(epoch, root), "accepted");
        vm.expectRevert(
            abi.encodeWithSelector(JejakReputationRoots.EpochNotIncreasing.selector, epoch, epoch)
        );
        vm.prank(operator);
        roots.publishRoot(epoch, root, cid, version);
    }

    // ---- gas ----

    function test_gas_publishRoot() public {
        _publish(1, R1);
        vm.prank(operator);
        uint256 before = gasleft();
        roots.publishRoot(2, R2, "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku", 1);
        uint256 used = before - gasleft();
        assertLt(used, 90_000, "publishRoot");
    }
}
