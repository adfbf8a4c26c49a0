// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

import {Vm} from "./Vm.sol";

/// @notice A small stand-in for forge-std's Test: the cheatcode handle, assertions that revert with
/// a readable message, `bound` and `makeAddr`.
abstract contract Test {
    using Strings for uint256;
    using Strings for address;

    /// @notice A contract and the selectors the invariant fuzzer may call on it (forge's layout).
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    /// @notice Foundry's cheatcode address: address(uint160(uint256(keccak256("hevm cheat code")))).
    Vm internal constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

    function fail(string memory message) internal pure {
        revert(message);
    }

    function assertTrue(bool condition, string memory message) internal pure {
        if (!condition) fail(message);
    }

    function assertTrue(bool condition) internal pure {
        assertTrue(condition, "expected true");
    }

    function assertFalse(bool condition, string memory message) internal pure {
        if (condition) fail(message);
    }

    function assertFalse(bool condition) internal pure {
        assertFalse(condition, "expected false");
    }

    function assertEq(uint256 a, uint256 b, string memory message) internal pure {
        if (a != b) fail(string.concat(message, ": ", a.toString(), " != ", b.toString()));
    }

    function assertEq(uint256 a, uint256 b) internal pure {
        assertEq(a, b, "assertEq(uint256)");
    }

    function assertEq(address a, address b, string memory message) internal pure {
        if (a != b) fail(string.concat(message, ": ", a.toHexString(), " != ", b.toHexString()));
    }

    function assertEq(address a, address b) internal pure {
        assertEq(a, b, "assertEq(address)");
    }

    function assertEq(bytes32 a, bytes32 b, string memory message) internal pure {
        if (a != b) {
            fail(string.concat(message, ": ", uint256(a).toHexString(32), " != ", uint256(b).toHexString(32)));
        }
    }

    function assertEq(bytes32 a, bytes32 b) internal pure {
        assertEq(a, b, "assertEq(bytes32)");
    }

    function assertEq(bool a, bool b, string memory message) internal pure {
        if (a != b) fail(message);
    }

    function assertEq(bool a, bool b) internal pure {
        assertEq(a, b, "assertEq(bool)");
    }

    function assertEq(string memory a, string memory b, string memory message) internal pure {
        if (keccak256(bytes(a)) != keccak256(bytes(b))) fail(string.concat(message, ": ", a, " != ", b));
    }

    function assertEq(string memory a, string memory b) internal pure {
        assertEq(a, b, "assertEq(string)");
    }

    function assertGt(uint256 a, uint256 b, string memory message) internal pure {
        if (a <= b) fail(string.concat(message, ": ", a.toString(), " <= ", b.toString()));
    }

    function assertGt(uint256 a, uint256 b) internal pure {
        assertGt(a, b, "assertGt");
    }

    function assertGe(uint256 a, uint256 b, string memory message) internal pure {
        if (a < b) fail(string.concat(message, ": ", a.toString(), " < ", b.toString()));
    }

    function assertGe(uint256 a, uint256 b) internal pure {
        assertGe(a, b, "assertGe");
    }

    function assertLt(uint256 a, uint256 b, string memory message) internal pure {
        if (a >= b) fail(string.concat(message, ": ", a.toString(), " >= ", b.toString()));
    }

    function assertLt(uint256 a, uint256 b) internal pure {
        assertLt(a, b, "assertLt");
    }

    function assertLe(uint256 a, uint256 b, string memory message) internal pure {
        if (a > b) fail(string.concat(message, ": ", a.toString(), " > ", b.toString()));
    }

    function assertLe(uint256 a, uint256 b) internal pure {
        assertLe(a, b, "assertLe");
    }

    /// @notice Maps `x` into [min, max], leaving values already in range untouched.
    function bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        require(min <= max, "bound: max < min");
        if (x >= min && x <= max) return x;
        uint256 size = max - min + 1; // cannot overflow: [min, max] is not the full range here
        return min + (x % size);
    }

    /// @notice A deterministic address derived from `name`, labelled in traces.
    function makeAddr(string memory name) internal returns (address account) {
        account = address(uint160(uint256(keccak256(bytes(name)))));
        vm.label(account, name);
    }
}
