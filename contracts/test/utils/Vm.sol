// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @notice The subset of Foundry's cheatcodes the jejak tests use (signatures as in forge-std's Vm.sol).
interface Vm {
    /// @notice Sets `msg.sender` for the next call.
    function prank(address msgSender) external;
    /// @notice Sets `msg.sender` for every call until `stopPrank`.
    function startPrank(address msgSender) external;
    /// @notice Ends a `startPrank`.
    function stopPrank() external;
    /// @notice Expects the next call to revert with exactly `revertData`.
    function expectRevert(bytes calldata revertData) external;
    /// @notice Expects the next call to revert with a custom error of this selector (any arguments).
    function expectRevert(bytes4 revertData) external;
    /// @notice Expects the next call to revert, whatever the data.
    function expectRevert() external;
    /// @notice Expects the next emitted event to match the one emitted after this call.
    function expectEmit(bool checkTopic1, bool checkTopic2, bool checkTopic3, bool checkData) external;
    /// @notice Same, also checking the emitter address.
    function expectEmit(bool checkTopic1, bool checkTopic2, bool checkTopic3, bool checkData, address emitter)
        external;
    /// @notice Expects an event matching all topics and data.
    function expectEmit() external;
    /// @notice Expects an event matching all topics and data, from `emitter`.
    function expectEmit(address emitter) external;
    /// @notice Sets `block.timestamp`.
    function warp(uint256 newTimestamp) external;
    /// @notice Sets `block.number`.
    function roll(uint256 newHeight) external;
    /// @notice Sets `block.chainid`.
    function chainId(uint256 newChainId) external;
    /// @notice The address of a private key.
    function addr(uint256 privateKey) external pure returns (address keyAddr);
    /// @notice Signs `digest` with `privateKey`.
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
    /// @notice Discards the current fuzz run if `condition` is false.
    function assume(bool condition) external pure;
    /// @notice Sets the ether balance of `account`.
    function deal(address account, uint256 newBalance) external;
    /// @notice Labels an address in traces.
    function label(address account, string calldata newLabel) external;
    /// @notice Starts recording emitted logs.
    function recordLogs() external;
    /// @notice Returns and clears the logs recorded since `recordLogs`.
    function getRecordedLogs() external returns (Log[] memory logs);

    /// @notice A recorded log.
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }
}
