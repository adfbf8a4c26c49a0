// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {JejakRegistry} from "../src/JejakRegistry.sol";
import {JejakEvidenceLog} from "../src/JejakEvidenceLog.sol";

import {Test} from "./utils/Test.sol";

contract JejakEvidenceLogTest is Test {
    event EvidenceAnchored(uint64 indexed index, bytes32 root, uint64 size, string cid);

    string internal constant CID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";

    address internal admin;
    address internal operator;
    address internal stranger;
    JejakRegistry internal registry;
    JejakEvidenceLog internal log;

    function setUp() public {
        admin = makeAddr("admin");
        operator = makeAddr("operator");
        stranger = makeAddr("stranger");
        vm.warp(1_700_000_000);
        registry = new JejakRegistry(admin, operator);
        log = new JejakEvidenceLog(registry);
    }

    function _root(uint64 size) internal pure returns (bytes32) {
        return keccak256(abi.encode("tree head", size));
    }

    function _anchor(uint64 size) internal returns (uint64) {
        vm.prank(operator);
        return log.anchorEvidence(_root(size), size, CID);
    }

    function test_constructor() public view {
        assertEq(address(log.registry()), address(registry), "registry");
        assertEq(log.checkpointCount(), 0, "count");
        assertEq(log.latestSize(), 0, "size");
        assertEq(log.rootAtSize(0), bytes32(0), "rootAtSize(0)");
    }

    function test_constructor_refusesZeroAndNonContractRegistry() public {
        vm.expectRevert(JejakEvidenceLog.ZeroAddress.selector);
        new JejakEvidenceLog(JejakRegistry(address(0)));
        vm.expectRevert(abi.encodeWithSelector(JejakEvidenceLog.NotAContract.selector, stranger));
        new JejakEvidenceLog(JejakRegistry(stranger));
    }

    function test_anchorEvidence_cidMustBePresentAndShort() public {
        vm.startPrank(operator);
        vm.expectRevert(JejakEvidenceLog.EmptyCid.selector);
        log.anchorEvidence(_root(1), 1, "");
        vm.expectRevert(abi.encodeWithSelector(JejakEvidenceLog.CidTooLong.selector, uint256(129)));
        log.anchorEvidence(_root(1), 1, string(new bytes(129)));
        log.anchorEvidence(_root(1), 1, string(new bytes(128)));
        vm.stopPrank();
        assertEq(log.latestSize(), 1, "128 bytes accepted");
    }

    function test_anchorEvidence_growthIsBounded() public {
        uint64 growth = log.MAX_GROWTH();
        assertEq(growth, 1 << 32, "growth");
        _anchor(10);
        vm.startPrank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(JejakEvidenceLog.SizeTooFar.selector, type(uint64).max, uint64(10))
        );
        log.anchorEvidence(_root(1), type(uint64).max, CID);
        vm.expectRevert(abi.encodeWithSelector(JejakEvidenceLog.SizeTooFar.selector, 11 + growth, uint64(10)));
        log.anchorEvidence(_root(1), 11 + growth, CID);
        log.anchorEvidence(_root(10 + growth), 10 + growth, CID);
        vm.stopPrank();
        assertEq(log.latestSize(), 10 + growth, "a full step is accepted");
        assertEq(_anchor(11 + growth), 3, "and the log goes on");
    }

    function test_anchorEvidence() public {
        vm.expectEmit(true, true, true, true, address(log));
        emit EvidenceAnchored(1, _root(4), 4, CID);
        assertEq(_anchor(4), 1, "index");

        JejakEvidenceLog.Checkpoint memory c = log.checkpoint(1);
        assertEq(c.root, _root(4), "root");
        assertEq(c.size, 4, "size");
        assertEq(c.anchoredAt, 1_700_000_000, "anchoredAt");
        assertEq(log.checkpointCount(), 1, "count");
        assertEq(log.latestSize(), 4, "latestSize");
        assertEq(log.rootAtSize(4), _root(4), "rootAtSize");
    }

    function test_anchorEvidence_indicesIncrease() public {
        assertEq(_anchor(1), 1, "1");
        assertEq(_anchor(2), 2, "2");
        assertEq(_anchor(100), 3, "3");
        assertEq(log.latestSize(), 100, "latest");
    }

    function test_anchorEvidence_revertsForNonOperator() public {
        bytes32 role = registry.OPERATOR_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, role)
        );
        vm.prank(stranger);
        log.anchorEvidence(_root(1), 1, CID);

        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, admin, role)
        );
        vm.prank(admin);
        log.anchorEvidence(_root(1), 1, CID);
    }

    function test_anchorEvidence_revertsOnZeroRoot() public {
        vm.expectRevert(JejakEvidenceLog.ZeroRoot.selector);
        vm.prank(operator);
        log.anchorEvidence(bytes32(0), 1, CID);
    }

    function test_anchorEvidence_revertsOnZeroSize() public {
        vm.expectRevert(
            abi.encodeWithSelector(JejakEvidenceLog.SizeNotIncreasing.selector, uint64(0), uint64(0))
        );
        vm.prank(operator);
        log.anchorEvidence(_root(0), 0, CID);
    }

    function test_anchorEvidence_revertsOnSizeNotIncreasing() public {
        _anchor(10);
        vm.expectRevert(
            abi.encodeWithSelector(JejakEvidenceLog.SizeNotIncreasing.selector, uint64(10), uint64(10))
        );
        vm.prank(operator);
        log.anchorEvidence(_root(10), 10, CID);

        vm.expectRevert(
            abi.encodeWithSelector(JejakEvidenceLog.SizeNotIncreasing.selector, uint64(9), uint64(10))
        );
        vm.prank(operator);
        log.anchorEvidence(_root(9), 9, CID);
    }

    function test_rootAtSize_unknownSizes() public {
        _anchor(3);
        _anchor(8);
        _anchor(20);
        assertEq(log.rootAtSize(0), bytes32(0), "0");
        assertEq(log.rootAtSize(1), bytes32(0), "below first");
        assertEq(log.rootAtSize(5), bytes32(0), "between");
        assertEq(log.rootAtSize(21), bytes32(0), "above last");
        assertEq(log.rootAtSize(type(uint64).max), bytes32(0), "max");
        assertEq(log.rootAtSize(3), _root(3), "3");
        assertEq(log.rootAtSize(8), _root(8), "8");
        assertEq(log.rootAtSize(20), _root(20), "20");
    }

    function test_checkpoint_unknownIsZero() public view {
        JejakEvidenceLog.Checkpoint memory c = log.checkpoint(3);
        assertEq(c.root, bytes32(0), "root");
        assertEq(c.size, 0, "size");
    }

    function testFuzz_anchorEvidence_sequence(uint64[8] memory steps, uint64 probe) public {
        uint64 size;
        for (uint64 i = 0; i < steps.length; ++i) {
            uint64 step = uint64(bound(steps[i], 1, 1 << 32));
            size += step;
            vm.expectEmit(true, true, true, true, address(log));
            emit EvidenceAnchored(i + 1, _root(size), size, CID);
            assertEq(_anchor(size), i + 1, "index");
        }
        assertEq(log.latestSize(), size, "latest");
        for (uint64 i = 1; i <= steps.length; ++i) {
            JejakEvidenceLog.Checkpoint memory c = log.checkpoint(i);
            assertEq(log.rootAtSize(c.size), c.root, "every anchored size resolves");
            if (i > 1) assertGt(c.size, log.checkpoint(i - 1).size, "sizes increase");
        }
        // An arbitrary size resolves iff it was anchored.
        bool anchored;
        for (uint64 i = 1; i <= steps.length; ++i) {
            if (log.checkpoint(i).size == probe) anchored = true;
        }
        assertEq(log.rootAtSize(probe), anchored ? _root(probe) : bytes32(0), "probe");
    }

    function testFuzz_anchorEvidence_rejectsNonIncreasing(uint64 first, uint64 second) public {
        first = uint64(bound(first, 1, 1 << 32));
        second = uint64(bound(second, 0, first));
        _anchor(first);
        vm.expectRevert(abi.encodeWithSelector(JejakEvidenceLog.SizeNotIncreasing.selector, second, first));
        vm.prank(operator);
        log.anchorEvidence(_root(second), second, CID);
    }

    function test_gas_anchorEvidence() public {
        _anchor(1);
        vm.prank(operator);
        uint256 before = gasleft();
        log.anchorEvidence(_root(2), 2, CID);
        uint256 used = before - gasleft();
        assertLt(used, 80_000, "anchorEvidence");
    }
}
