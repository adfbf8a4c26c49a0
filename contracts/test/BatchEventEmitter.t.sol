// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {JejakAttestations} from "../src/JejakAttestations.sol";
import {BatchEventEmitter} from "../src/bench/BatchEventEmitter.sol";

import {Test} from "./utils/Test.sol";
import {Vm} from "./utils/Vm.sol";

contract BatchEventEmitterTest is Test {
    BatchEventEmitter internal emitter;

    function setUp() public {
        emitter = new BatchEventEmitter();
    }

    function test_emitBatches_sameEventAsAttestations() public {
        vm.recordLogs();
        emitter.emitBatches(100, 7, 3);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 3, "three logs");
        for (uint64 i = 0; i < logs.length; ++i) {
            uint64 id = 100 + i;
            assertEq(logs[i].emitter, address(emitter), "emitter");
            assertEq(logs[i].topics.length, 3, "topics");
            assertEq(logs[i].topics[0], JejakAttestations.BatchAnchored.selector, "topic0 = BatchAnchored");
            assertEq(
                logs[i].topics[0],
                keccak256("BatchAnchored(uint64,uint64,bytes32,uint32,string)"),
                "signature"
            );
            assertEq(uint256(logs[i].topics[1]), id, "batchId");
            assertEq(uint256(logs[i].topics[2]), 7, "platformId");
            (bytes32 root, uint32 count, string memory cid) =
                abi.decode(logs[i].data, (bytes32, uint32, string));
            assertEq(root, keccak256(abi.encode(id)), "root");
            assertEq(count, 1, "count");
            assertEq(cid, emitter.CID(), "cid");
        }
    }

    function test_emitBatches_zeroEmitsNothing() public {
        vm.recordLogs();
        emitter.emitBatches(1, 1, 0);
        assertEq(vm.getRecordedLogs().length, 0, "no logs");
    }

    function testFuzz_emitBatches(uint64 first, uint64 platformId, uint8 n) public {
        vm.assume(uint256(first) + n <= type(uint64).max);
        vm.recordLogs();
        emitter.emitBatches(first, platformId, n);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, n, "count");
        if (n > 0) {
            assertEq(uint256(logs[n - 1].topics[1]), uint256(first) + n - 1, "last id");
        }
    }
}
