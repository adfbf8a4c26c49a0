// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {JejakRegistry} from "../src/JejakRegistry.sol";
import {JejakAttestations} from "../src/JejakAttestations.sol";
import {JejakReputationRoots} from "../src/JejakReputationRoots.sol";
import {JejakEvidenceLog} from "../src/JejakEvidenceLog.sol";

import {Test} from "./utils/Test.sol";

uint256 constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
string constant CID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";

// =====================================================================================================
// Attestations: ids, counts, and only Active platforms anchor.
// =====================================================================================================

/// @dev Drives the registry and the attestations contract through anchors (direct and relayed, by
/// Active, Suspended and unknown platforms), suspensions, reinstatements, key rotations, revocations
/// and time; records what it saw so the invariants can compare with the chain.
contract AttestationsHandler is Test {
    uint64 internal constant PLATFORMS = 3;

    JejakRegistry public immutable registry;
    JejakAttestations public immutable attestations;
    address internal immutable operator;

    mapping(uint64 platformId => uint256 key) internal keyOf;

    uint64 public ghostAnchors;
    uint64 public lastBatchId;
    bool public idsNotSequential;
    mapping(uint64 batchId => bool) public activeAtAnchor;
    mapping(uint64 batchId => uint64) public platformOfBatch;
    uint256 public rejectedInactive;
    bool public revokedWhileInactive;

    struct Revocation {
        uint64 batchId;
        bytes32 leaf;
        uint16 reason;
    }

    Revocation[] internal _revocations;

    constructor() {
        operator = address(0x0FE4);
        registry = new JejakRegistry(address(0xAD), operator);
        attestations = new JejakAttestations(registry);
        for (uint64 i = 1; i <= PLATFORMS; ++i) {
            uint256 key = 0x5EED + i;
            vm.prank(operator);
            registry.registerPlatform(vm.addr(key), "bafyprofile");
            keyOf[i] = key;
        }
    }

    /// @dev Platform ids 0..PLATFORMS+1: includes the never-registered 0 and PLATFORMS+1.
    function _platform(uint256 seed) internal pure returns (uint64) {
        // casting to 'uint64' is safe because the value is below PLATFORMS + 2.
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint64(seed % (PLATFORMS + 2));
    }

    function _keyFor(uint64 pid) internal view returns (uint256) {
        uint256 key = keyOf[pid];
        return key == 0 ? 0xDEAD : key;
    }

    function _record(uint64 pid, uint64 batchId, bool wasActive) internal {
        if (batchId != lastBatchId + 1) idsNotSequential = true;
        lastBatchId = batchId;
        ++ghostAnchors;
        activeAtAnchor[batchId] = wasActive;
        platformOfBatch[batchId] = pid;
    }

    function anchor(uint256 platformSeed, bytes32 root, uint32 count) external {
        uint64 pid = _platform(platformSeed);
        if (root == bytes32(0)) root = bytes32(uint256(1));
        if (count == 0) count = 1;
        bool wasActive = registry.isActive(pid);
        vm.prank(vm.addr(_keyFor(pid)));
        try attestations.anchorBatch(pid, root, count, CID) returns (uint64 id) {
            _record(pid, id, wasActive);
        } catch {
            if (!wasActive) ++rejectedInactive;
        }
    }

    function anchorWithSig(uint256 platformSeed, bytes32 root, uint32 count, address relayer) external {
        uint64 pid = _platform(platformSeed);
        if (root == bytes32(0)) root = bytes32(uint256(2));
        if (count == 0) count = 1;
        bool wasActive = registry.isActive(pid);
        uint256 key = _keyFor(pid);
        address signer = vm.addr(key);
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 structHash = keccak256(
            abi.encode(
                attestations.ANCHOR_TYPEHASH(),
                pid,
                signer,
                root,
                count,
                keccak256(bytes(CID)),
                attestations.nonces(signer),
                deadline
            )
        );
        bytes32 digest = keccak256(abi.encodePacked(hex"1901", attestations.DOMAIN_SEPARATOR(), structHash));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        vm.prank(relayer);
        try attestations.anchorBatchWithSig(
            pid, root, count, CID, deadline, abi.encodePacked(r, s, v)
        ) returns (
            uint64 id
        ) {
            _record(pid, id, wasActive);
        } catch {
            if (!wasActive) ++rejectedInactive;
        }
    }

    function suspend(uint256 platformSeed, uint16 reason) external {
        vm.prank(operator);
        try registry.suspendPlatform(_platform(platformSeed), reason) {} catch {}
    }

    function reinstate(uint256 platformSeed) external {
        vm.prank(operator);
        try registry.reinstatePlatform(_platform(platformSeed)) {} catch {}
    }

    function rotate(uint256 platformSeed, uint256 newKey) external {
        uint64 pid = _platform(platformSeed);
        if (keyOf[pid] == 0) return;
        newKey = bound(newKey, 1, SECP256K1_N - 1);
        if (registry.isActive(pid)) {
            // Self-service while Active: at once.
            vm.prank(vm.addr(keyOf[pid]));
            registry.updatePlatform(pid, vm.addr(newKey), "bafyprofile");
        } else {
            // Through the operator while Suspended: proposed, then enacted after the delay.
            vm.prank(operator);
            registry.proposeSignerChange(pid, vm.addr(newKey));
            vm.warp(block.timestamp + registry.SIGNER_CHANGE_DELAY());
            registry.enactSignerChange(pid);
        }
        keyOf[pid] = newKey;
    }

    function revoke(uint256 batchSeed, bytes32 leaf, uint16 reason) external {
        if (lastBatchId == 0) return;
        // casting to 'uint64' is safe because the value is at most lastBatchId.
        // forge-lint: disable-next-line(unsafe-typecast)
        uint64 batchId = uint64(1 + batchSeed % lastBatchId);
        if (reason == 0) reason = 1;
        uint64 pid = platformOfBatch[batchId];
        bool wasActive = registry.isActive(pid);
        vm.prank(vm.addr(keyOf[pid]));
        try attestations.revokeLeaf(batchId, leaf, reason) {
            _revocations.push(Revocation(batchId, leaf, reason));
            if (!wasActive) revokedWhileInactive = true;
        } catch {}
    }

    function warp(uint32 dt) external {
        vm.warp(block.timestamp + dt % 1 days);
    }

    function revocationCount() external view returns (uint256) {
        return _revocations.length;
    }

    function revocation(uint256 i) external view returns (Revocation memory) {
        return _revocations[i];
    }
}

contract AttestationsInvariantTest is Test {
    AttestationsHandler internal handler;
    JejakAttestations internal attestations;

    function setUp() public {
        vm.warp(1_700_000_000);
        handler = new AttestationsHandler();
        attestations = handler.attestations();
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory selectors) {
        bytes4[] memory s = new bytes4[](7);
        s[0] = AttestationsHandler.anchor.selector;
        s[1] = AttestationsHandler.anchorWithSig.selector;
        s[2] = AttestationsHandler.suspend.selector;
        s[3] = AttestationsHandler.reinstate.selector;
        s[4] = AttestationsHandler.rotate.selector;
        s[5] = AttestationsHandler.revoke.selector;
        s[6] = AttestationsHandler.warp.selector;
        selectors = new FuzzSelector[](1);
        selectors[0] = FuzzSelector(address(handler), s);
    }

    /// (1) Batch ids strictly increase, one by one, and batchCount counts the successful anchors.
    function invariant_batchIdsIncreaseAndCountMatches() public view {
        assertFalse(handler.idsNotSequential(), "ids not sequential");
        assertEq(attestations.batchCount(), handler.ghostAnchors(), "batchCount != successful anchors");
        assertEq(attestations.batchCount(), handler.lastBatchId(), "batchCount != last id");
        assertEq(attestations.batch(attestations.batchCount() + 1).root, bytes32(0), "batch beyond count");
    }

    /// (2) Every batch that exists was anchored while its platform was Active.
    function invariant_onlyActivePlatformsAnchor() public view {
        uint64 n = attestations.batchCount();
        for (uint64 id = 1; id <= n; ++id) {
            assertTrue(handler.activeAtAnchor(id), "batch anchored by an inactive platform");
            JejakAttestations.Batch memory b = attestations.batch(id);
            assertEq(b.platformId, handler.platformOfBatch(id), "platform of batch");
            assertTrue(b.root != bytes32(0) && b.count != 0, "stored batch is well formed");
        }
    }

    /// Revocations are recorded once, with their reason, and never cleared; only an Active platform's
    /// signer revokes.
    function invariant_revocationsStick() public view {
        assertFalse(handler.revokedWhileInactive(), "a suspended platform revoked a leaf");
        uint256 n = handler.revocationCount();
        for (uint256 i = 0; i < n; ++i) {
            AttestationsHandler.Revocation memory r = handler.revocation(i);
            assertEq(attestations.revocationOf(r.batchId, r.leaf), r.reason, "revocation reason");
        }
    }
}

// =====================================================================================================
// Reputation roots: a replaced root expires exactly at replacement time + window.
// =====================================================================================================

contract RootsHandler is Test {
    JejakRegistry public immutable registry;
    JejakReputationRoots public immutable roots;
    address internal immutable operator;
    address internal immutable admin;

    uint64[] internal _epochs;
    mapping(uint64 epoch => bytes32) public rootOfEpoch;
    mapping(uint64 epoch => uint64) public expectedExpiry;

    constructor() {
        admin = address(0xAD);
        operator = address(0x0FE4);
        registry = new JejakRegistry(admin, operator);
        roots = new JejakReputationRoots(registry, 1 hours);
    }

    function publish(uint8 step, bytes32 root, uint32 paramsVersion) external {
        uint64 previous = roots.latestEpoch();
        uint64 epoch = previous + 1 + (step % 3);
        if (root == bytes32(0)) root = keccak256(abi.encode(epoch));
        uint256 end = block.timestamp + roots.validityWindow();
        vm.prank(operator);
        roots.publishRoot(epoch, root, "bafysnapshot", paramsVersion);
        if (previous != 0) {
            // casting to 'uint64' is safe because `end` is checked to fit first.
            // forge-lint: disable-next-line(unsafe-typecast)
            expectedExpiry[previous] = end > type(uint64).max ? type(uint64).max : uint64(end);
        }
        _epochs.push(epoch);
        rootOfEpoch[epoch] = root;
    }

    bool public outOfRangeAccepted;
    bool public inRangeRefused;

    /// @dev Any epoch at all, as a mistaken or hostile operator might send: accepted iff it lies in
    /// (latest, nextEpochLimit()].
    function publishAny(uint64 epoch, bytes32 root) external {
        if (root == bytes32(0)) root = keccak256(abi.encode("any", epoch));
        uint64 previous = roots.latestEpoch();
        bool inRange = epoch > previous && epoch <= roots.nextEpochLimit();
        uint256 end = block.timestamp + roots.validityWindow();
        vm.prank(operator);
        try roots.publishRoot(epoch, root, "bafysnapshot", 1) {
            if (!inRange) outOfRangeAccepted = true;
            if (previous != 0) {
                // casting to 'uint64' is safe because `end` is checked to fit first.
                // forge-lint: disable-next-line(unsafe-typecast)
                expectedExpiry[previous] = end > type(uint64).max ? type(uint64).max : uint64(end);
            }
            _epochs.push(epoch);
            rootOfEpoch[epoch] = root;
        } catch {
            if (inRange) inRangeRefused = true;
        }
    }

    function setWindow(uint64 window) external {
        vm.prank(admin);
        // Mostly realistic windows, sometimes zero or huge.
        roots.setValidityWindow(window % 4 == 0 ? window : window % 3 days);
    }

    function warp(uint32 dt) external {
        vm.warp(block.timestamp + dt % 2 days);
    }

    function epochCount() external view returns (uint256) {
        return _epochs.length;
    }

    function epochAt(uint256 i) external view returns (uint64) {
        return _epochs[i];
    }
}

contract RootsInvariantTest is Test {
    RootsHandler internal handler;
    JejakReputationRoots internal roots;

    function setUp() public {
        vm.warp(1_700_000_000);
        handler = new RootsHandler();
        roots = handler.roots();
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory selectors) {
        bytes4[] memory s = new bytes4[](4);
        s[0] = RootsHandler.publish.selector;
        s[1] = RootsHandler.setWindow.selector;
        s[2] = RootsHandler.warp.selector;
        s[3] = RootsHandler.publishAny.selector;
        selectors = new FuzzSelector[](1);
        selectors[0] = FuzzSelector(address(handler), s);
    }

    /// (4) Whatever epochs are thrown at it, the next epoch can always be published and stays inside the
    /// proof verifier's range (below 2^61): no single call bricks the roots.
    function invariant_epochsStayPublishable() public view {
        assertFalse(handler.outOfRangeAccepted(), "an epoch out of range was accepted");
        assertFalse(handler.inRangeRefused(), "an epoch in range was refused");
        uint64 latest = roots.latestEpoch();
        assertGt(roots.nextEpochLimit(), latest, "the next epoch is publishable");
        assertLt(roots.nextEpochLimit(), uint256(1) << 61, "inside the verifier's epoch range");
    }

    /// (3) A replaced root's expiry is frozen at replacement time + window, and the root is accepted at
    /// expiresAt - 1 but not at expiresAt; the current root is always accepted.
    function invariant_replacedRootExpiresExactlyAtWindow() public {
        uint256 n = handler.epochCount();
        if (n == 0) return;
        uint256 now_ = block.timestamp;
        uint64 latest = roots.latestEpoch();
        assertEq(latest, handler.epochAt(n - 1), "latest epoch");
        assertEq(roots.rootOf(latest).expiresAt, 0, "current root has no expiry");
        assertTrue(roots.isRootAccepted(latest, handler.rootOfEpoch(latest)), "current root accepted");

        for (uint256 i = 0; i + 1 < n; ++i) {
            uint64 epoch = handler.epochAt(i);
            bytes32 root = handler.rootOfEpoch(epoch);
            uint64 expiresAt = roots.rootOf(epoch).expiresAt;
            assertEq(expiresAt, handler.expectedExpiry(epoch), "expiresAt frozen at replacement + window");
            assertEq(roots.isRootAccepted(epoch, root), now_ < expiresAt, "accepted iff now < expiresAt");
            vm.warp(expiresAt - 1);
            assertTrue(roots.isRootAccepted(epoch, root), "accepted at expiresAt - 1");
            vm.warp(expiresAt);
            assertFalse(roots.isRootAccepted(epoch, root), "rejected at expiresAt");
            vm.warp(now_);
        }
    }
}

// =====================================================================================================
// Evidence log: sizes strictly increase.
// =====================================================================================================

contract EvidenceHandler is Test {
    JejakEvidenceLog public immutable log;
    address internal immutable operator;

    uint64 public ghostCount;
    bool public staleAccepted;

    constructor() {
        operator = address(0x0FE4);
        log = new JejakEvidenceLog(new JejakRegistry(address(0xAD), operator));
    }

    function anchor(uint16 growth, bytes32 root) external {
        if (root == bytes32(0)) root = bytes32(uint256(1));
        uint64 size = log.latestSize() + 1 + growth;
        vm.prank(operator);
        log.anchorEvidence(root, size, CID);
        ++ghostCount;
    }

    bool public tooFarAccepted;

    /// @dev Any size at all: one more than `MAX_GROWTH` past the latest is refused.
    function anchorAny(uint64 size, bytes32 root) external {
        if (root == bytes32(0)) root = bytes32(uint256(1));
        uint64 latest = log.latestSize();
        vm.prank(operator);
        try log.anchorEvidence(root, size, CID) {
            ++ghostCount;
            if (size - latest > log.MAX_GROWTH()) tooFarAccepted = true;
        } catch {}
    }

    function anchorStale(uint64 back, bytes32 root) external {
        if (root == bytes32(0)) root = bytes32(uint256(1));
        uint64 latest = log.latestSize();
        uint64 size = latest - uint64(bound(back, 0, latest));
        vm.prank(operator);
        try log.anchorEvidence(root, size, CID) {
            staleAccepted = true;
        } catch {}
    }
}

contract EvidenceInvariantTest is Test {
    EvidenceHandler internal handler;
    JejakEvidenceLog internal log;

    function setUp() public {
        handler = new EvidenceHandler();
        log = handler.log();
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory selectors) {
        bytes4[] memory s = new bytes4[](3);
        s[0] = EvidenceHandler.anchor.selector;
        s[1] = EvidenceHandler.anchorStale.selector;
        s[2] = EvidenceHandler.anchorAny.selector;
        selectors = new FuzzSelector[](1);
        selectors[0] = FuzzSelector(address(handler), s);
    }

    /// Evidence sizes strictly increase, and every anchored size resolves to its root.
    function invariant_evidenceSizesStrictlyIncrease() public view {
        assertFalse(handler.staleAccepted(), "a non-increasing size was accepted");
        assertFalse(handler.tooFarAccepted(), "a size too far ahead was accepted");
        uint64 n = log.checkpointCount();
        assertEq(n, handler.ghostCount(), "checkpointCount");
        uint64 previous;
        for (uint64 i = 1; i <= n; ++i) {
            JejakEvidenceLog.Checkpoint memory c = log.checkpoint(i);
            assertGt(c.size, previous, "size increases");
            assertEq(log.rootAtSize(c.size), c.root, "rootAtSize");
            previous = c.size;
        }
        assertEq(log.latestSize(), previous, "latestSize");
        assertLe(previous, uint256(n) * log.MAX_GROWTH(), "the log grew by bounded steps");
    }
}
