// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {JejakRegistry} from "../src/JejakRegistry.sol";
import {JejakAttestations} from "../src/JejakAttestations.sol";
import {JejakReputationRoots} from "../src/JejakReputationRoots.sol";
import {JejakEvidenceLog} from "../src/JejakEvidenceLog.sol";

import {Test} from "./utils/Test.sol";

/// @notice The transactions of a day of operation, one per test, for the deployment runbook's gas
/// figures: `forge test --gas-report --isolate --match-contract JejakGasDayTest` reports each as a
/// transaction (21,000, calldata and execution) beside each contract's deployment cost.
/// @dev Everything is warmed up in setUp (a platform, one batch, one root, one checkpoint), so each
/// figure is a steady-state call with a CID of jejak's usual 59 bytes.
contract JejakGasDayTest is Test {
    string internal constant CID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";

    address internal admin = address(0xAD);
    address internal operator = address(0x0FE4);
    JejakRegistry internal registry;
    JejakAttestations internal attestations;
    JejakReputationRoots internal roots;
    JejakEvidenceLog internal log;
    uint64 internal platformId;

    function setUp() public {
        vm.warp(1_700_000_000);
        registry = new JejakRegistry(admin, operator);
        attestations = new JejakAttestations(registry);
        roots = new JejakReputationRoots(registry, 7 days);
        log = new JejakEvidenceLog(registry);
        vm.startPrank(operator);
        // The operator anchors for platforms that delegate to it, as the node does.
        platformId = registry.registerPlatform(operator, CID);
        attestations.anchorBatch(platformId, keccak256("warm-up"), 10_000, CID);
        roots.publishRoot(20_000, keccak256("epoch 20000"), CID, 1);
        log.anchorEvidence(keccak256("size 10"), 10, CID);
        vm.stopPrank();
    }

    /// One full batch: the node's largest (`MAX_BATCH_LEAVES`, 10,000 attestations).
    function test_day_anchorBatch() public {
        vm.prank(operator);
        attestations.anchorBatch(platformId, keccak256("batch"), 10_000, CID);
        assertEq(attestations.batchCount(), 2, "anchored");
    }

    /// The day's reputation root.
    function test_day_publishRoot() public {
        vm.prank(operator);
        roots.publishRoot(20_001, keccak256("epoch 20001"), CID, 1);
        assertEq(roots.latestEpoch(), 20_001, "published");
    }

    /// One evidence checkpoint.
    function test_day_anchorEvidence() public {
        vm.prank(operator);
        log.anchorEvidence(keccak256("size 20"), 20, CID);
        assertEq(log.latestSize(), 20, "anchored");
    }

    /// Onboarding one platform.
    function test_day_registerPlatform() public {
        vm.prank(operator);
        assertEq(registry.registerPlatform(address(0xB0B), CID), 2, "registered");
    }
}
