// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

import {JejakRegistry} from "../src/JejakRegistry.sol";
import {JejakAttestations} from "../src/JejakAttestations.sol";

import {JejakFixture} from "./utils/JejakFixture.sol";

/// @dev A platform signer that measures, inside its own call frame, the gas of one anchorBatch call, so
/// the figure carries no noise from the test contract's memory growth.
contract AnchorProbe {
    function anchor(
        JejakAttestations attestations,
        uint64 platformId,
        bytes32 root,
        uint32 count,
        string calldata cid
    ) external returns (uint256 used) {
        uint256 before = gasleft();
        attestations.anchorBatch(platformId, root, count, cid);
        used = before - gasleft();
    }
}

/// @dev A contract signer (multisig stand-in) that approves exactly one digest.
contract MockWallet is IERC1271 {
    bytes32 public approved;

    function approve(bytes32 digest) external {
        approved = digest;
    }

    function isValidSignature(bytes32 hash, bytes memory) external view returns (bytes4) {
        return hash == approved ? IERC1271.isValidSignature.selector : bytes4(0xffffffff);
    }
}

/// @dev A smart account that accepts any digest its owner key signed (as many wallets do): two such
/// accounts with one owner accept the same signatures.
contract OwnedWallet is IERC1271 {
    address public immutable owner;

    constructor(address owner_) {
        owner = owner_;
    }

    function isValidSignature(bytes32 hash, bytes memory signature) external view returns (bytes4) {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(hash, signature);
        bool ok = err == ECDSA.RecoverError.NoError && recovered == owner;
        return ok ? IERC1271.isValidSignature.selector : bytes4(0xffffffff);
    }
}

contract JejakAttestationsTest is JejakFixture {
    event BatchAnchored(
        uint64 indexed batchId, uint64 indexed platformId, bytes32 root, uint32 count, string cid
    );
    event LeafRevoked(uint64 indexed batchId, bytes32 indexed leaf, uint16 reasonCode);
    event NoncesInvalidated(address indexed signer, uint256 nextNonce);

    bytes32 internal constant LEAF = keccak256("leaf");
    uint256 internal constant GAS_CEILING = 80_000;

    function setUp() public {
        _deployJejak();
    }

    function _notActive(uint64 pid) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(JejakRegistry.PlatformNotActive.selector, pid);
    }

    function _register(address who) internal returns (uint64 pid) {
        vm.prank(operator);
        pid = registry.registerPlatform(who, PROFILE);
    }

    // ---- constructor / EIP-712 ----

    function test_constructor() public view {
        assertEq(address(attestations.registry()), address(registry), "registry");
        assertEq(attestations.batchCount(), 0, "no batches");
        assertEq(attestations.ANCHOR_TYPEHASH(), TYPEHASH, "typehash");
        assertEq(attestations.DOMAIN_SEPARATOR(), _domainSeparator(address(attestations)), "domain separator");
        (, string memory name, string memory version, uint256 chainId, address verifying,,) =
            attestations.eip712Domain();
        assertEq(name, "JejakAttestations", "name");
        assertEq(version, "1", "version");
        assertEq(chainId, block.chainid, "chainId");
        assertEq(verifying, address(attestations), "verifyingContract");
    }

    function test_constructor_refusesZeroAndNonContractRegistry() public {
        vm.expectRevert(JejakAttestations.ZeroAddress.selector);
        new JejakAttestations(JejakRegistry(address(0)));
        vm.expectRevert(abi.encodeWithSelector(JejakAttestations.NotAContract.selector, stranger));
        new JejakAttestations(JejakRegistry(stranger));
    }

    function test_domainSeparator_followsChainId() public {
        vm.chainId(31_337_000);
        assertEq(attestations.DOMAIN_SEPARATOR(), _domainSeparator(address(attestations)), "rebuilt");
    }

    // ---- anchorBatch ----

    function test_anchorBatch_storesAndEmits() public {
        vm.warp(1_750_000_000);
        vm.expectEmit(true, true, true, true, address(attestations));
        emit BatchAnchored(1, platformId, ROOT, 10, CID);
        vm.prank(signer);
        uint64 id = attestations.anchorBatch(platformId, ROOT, 10, CID);

        assertEq(id, 1, "first id");
        assertEq(attestations.batchCount(), 1, "count");
        JejakAttestations.Batch memory b = attestations.batch(id);
        assertEq(b.root, ROOT, "root");
        assertEq(b.platformId, platformId, "platformId");
        assertEq(b.count, 10, "count");
        assertEq(b.anchoredAt, 1_750_000_000, "anchoredAt");
    }

    function test_anchorBatch_idsAreGlobalAcrossPlatforms() public {
        uint256 otherKey = 0xB0B;
        uint64 other = _register(vm.addr(otherKey));
        assertEq(_anchor(platformId, signer), 1, "p1 first");
        assertEq(_anchor(other, vm.addr(otherKey)), 2, "p2 second");
        assertEq(_anchor(platformId, signer), 3, "p1 third");
        assertEq(attestations.batch(2).platformId, other, "batch 2 platform");
        assertEq(attestations.batchCount(), 3, "count");
    }

    function test_batch_unknownIsZero() public view {
        JejakAttestations.Batch memory b = attestations.batch(5);
        assertEq(b.root, bytes32(0), "root");
        assertEq(b.platformId, 0, "platformId");
    }

    function test_anchorBatch_revertsForNonSigner() public {
        vm.expectRevert(JejakAttestations.NotPlatformSigner.selector);
        vm.prank(stranger);
        attestations.anchorBatch(platformId, ROOT, 10, CID);

        vm.expectRevert(JejakAttestations.NotPlatformSigner.selector);
        vm.prank(operator);
        attestations.anchorBatch(platformId, ROOT, 10, CID);
    }

    function test_anchorBatch_signerOfOtherPlatformCannotAnchorForIt() public {
        uint256 otherKey = 0xB0B;
        _register(vm.addr(otherKey));
        vm.expectRevert(JejakAttestations.NotPlatformSigner.selector);
        vm.prank(vm.addr(otherKey));
        attestations.anchorBatch(platformId, ROOT, 10, CID);
    }

    function test_anchorBatch_revertsForUnknownPlatform() public {
        vm.expectRevert(_notActive(9));
        vm.prank(signer);
        attestations.anchorBatch(9, ROOT, 10, CID);
    }

    function test_anchorBatch_suspendedPlatformCannotAnchor() public {
        vm.prank(operator);
        registry.suspendPlatform(platformId, 1);
        vm.expectRevert(_notActive(platformId));
        vm.prank(signer);
        attestations.anchorBatch(platformId, ROOT, 10, CID);
        assertEq(attestations.batchCount(), 0, "nothing anchored");

        vm.prank(operator);
        registry.reinstatePlatform(platformId);
        assertEq(_anchor(platformId, signer), 1, "anchors again once reinstated");
    }

    function test_anchorBatch_rotatedKey() public {
        uint256 nextKey = 0xC0FFEE;
        vm.prank(signer);
        registry.updatePlatform(platformId, vm.addr(nextKey), PROFILE);

        vm.expectRevert(JejakAttestations.NotPlatformSigner.selector);
        vm.prank(signer);
        attestations.anchorBatch(platformId, ROOT, 10, CID);

        assertEq(_anchor(platformId, vm.addr(nextKey)), 1, "new key anchors");
    }

    function test_anchorBatch_revertsOnZeroRoot() public {
        vm.expectRevert(JejakAttestations.ZeroRoot.selector);
        vm.prank(signer);
        attestations.anchorBatch(platformId, bytes32(0), 10, CID);
    }

    function test_anchorBatch_revertsOnZeroCount() public {
        vm.expectRevert(JejakAttestations.EmptyBatch.selector);
        vm.prank(signer);
        attestations.anchorBatch(platformId, ROOT, 0, CID);
    }

    function test_anchorBatch_revertsOnEmptyCid() public {
        vm.expectRevert(JejakAttestations.EmptyCid.selector);
        vm.prank(signer);
        attestations.anchorBatch(platformId, ROOT, 10, "");
    }

    function test_anchorBatch_cidLengthIsCapped() public {
        assertEq(attestations.MAX_CID_LENGTH(), 128, "cap");
        vm.startPrank(signer);
        assertEq(attestations.anchorBatch(platformId, ROOT, 10, _cidOfLength(128)), 1, "128 bytes accepted");
        vm.expectRevert(abi.encodeWithSelector(JejakAttestations.CidTooLong.selector, uint256(129)));
        attestations.anchorBatch(platformId, ROOT, 10, _cidOfLength(129));
        vm.expectRevert(abi.encodeWithSelector(JejakAttestations.CidTooLong.selector, uint256(1 << 20)));
        attestations.anchorBatch(platformId, ROOT, 10, _cidOfLength(1 << 20));
        vm.stopPrank();
        assertEq(attestations.batchCount(), 1, "nothing more anchored");
    }

    function test_anchorBatch_operatorCannotTakeOverAPlatform() public {
        // The operator's immediate ways to become a platform's signer are closed.
        vm.startPrank(operator);
        vm.expectRevert(JejakRegistry.NotAuthorized.selector);
        registry.updatePlatform(platformId, operator, PROFILE);
        vm.expectRevert(JejakAttestations.NotPlatformSigner.selector);
        attestations.anchorBatch(platformId, ROOT, 10, CID);
        // A proposal is public and only takes effect after the delay...
        registry.proposeSignerChange(platformId, operator);
        vm.expectRevert(JejakAttestations.NotPlatformSigner.selector);
        attestations.anchorBatch(platformId, ROOT, 10, CID);
        vm.stopPrank();
        // ... within which the platform cancels it.
        vm.prank(signer);
        registry.cancelSignerChange(platformId);
        vm.warp(block.timestamp + registry.SIGNER_CHANGE_DELAY());
        vm.expectRevert(abi.encodeWithSelector(JejakRegistry.NoSignerChange.selector, platformId));
        registry.enactSignerChange(platformId);
        vm.expectRevert(JejakAttestations.NotPlatformSigner.selector);
        vm.prank(operator);
        attestations.anchorBatch(platformId, ROOT, 10, CID);
        assertEq(attestations.batchCount(), 0, "nothing anchored in the platform's name");
    }

    function testFuzz_anchorBatch(bytes32 root, uint32 count, string calldata cid, uint32 warpBy) public {
        vm.assume(root != bytes32(0) && count != 0 && bytes(cid).length != 0 && bytes(cid).length <= 128);
        vm.warp(block.timestamp + warpBy);
        _anchor(platformId, signer);

        vm.expectEmit(true, true, true, true, address(attestations));
        emit BatchAnchored(2, platformId, root, count, cid);
        vm.prank(signer);
        uint64 id = attestations.anchorBatch(platformId, root, count, cid);

        assertEq(id, 2, "id");
        JejakAttestations.Batch memory b = attestations.batch(id);
        assertEq(b.root, root, "root");
        assertEq(b.count, count, "count");
        assertEq(b.platformId, platformId, "platform");
        assertEq(b.anchoredAt, block.timestamp, "anchoredAt");
    }

    function testFuzz_anchorBatch_rejectsAnyoneButTheSigner(address caller) public {
        vm.assume(caller != signer);
        vm.expectRevert(JejakAttestations.NotPlatformSigner.selector);
        vm.prank(caller);
        attestations.anchorBatch(platformId, ROOT, 10, CID);
    }

    // ---- anchorBatchWithSig ----

    function _relay(
        uint64 pid,
        bytes32 root,
        uint32 count,
        string memory cid,
        uint256 deadline,
        bytes memory sig
    ) internal returns (uint64) {
        vm.prank(relayer);
        return attestations.anchorBatchWithSig(pid, root, count, cid, deadline, sig);
    }

    function test_anchorBatchWithSig_relayed() public {
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _sign(signerKey, platformId, ROOT, 10, CID, 0, deadline);

        vm.expectEmit(true, true, true, true, address(attestations));
        emit BatchAnchored(1, platformId, ROOT, 10, CID);
        uint64 id = _relay(platformId, ROOT, 10, CID, deadline, sig);

        assertEq(id, 1, "id");
        assertEq(attestations.nonces(signer), 1, "nonce consumed");
        assertEq(attestations.batch(1).root, ROOT, "root");
        assertEq(attestations.batch(1).platformId, platformId, "platform");
    }

    function test_anchorBatchWithSig_anyoneMayRelay() public {
        uint256 deadline = block.timestamp;
        bytes memory sig = _sign(signerKey, platformId, ROOT, 10, CID, 0, deadline);
        vm.prank(stranger);
        assertEq(attestations.anchorBatchWithSig(platformId, ROOT, 10, CID, deadline, sig), 1, "by stranger");
        // The signer may also submit its own signed request.
        sig = _sign(signerKey, platformId, ROOT, 10, CID, 1, deadline);
        vm.prank(signer);
        assertEq(attestations.anchorBatchWithSig(platformId, ROOT, 10, CID, deadline, sig), 2, "by signer");
    }

    function test_anchorBatchWithSig_nonceCannotBeReplayed() public {
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _sign(signerKey, platformId, ROOT, 10, CID, 0, deadline);
        _relay(platformId, ROOT, 10, CID, deadline, sig);

        vm.expectRevert(JejakAttestations.InvalidSignature.selector);
        _relay(platformId, ROOT, 10, CID, deadline, sig);
        assertEq(attestations.batchCount(), 1, "replay anchored nothing");
        assertEq(attestations.nonces(signer), 1, "nonce unchanged by the failed replay");

        // The next nonce works.
        sig = _sign(signerKey, platformId, ROOT, 10, CID, 1, deadline);
        assertEq(_relay(platformId, ROOT, 10, CID, deadline, sig), 2, "next nonce");
    }

    function test_anchorBatchWithSig_futureNonceRejected() public {
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _sign(signerKey, platformId, ROOT, 10, CID, 1, deadline);
        vm.expectRevert(JejakAttestations.InvalidSignature.selector);
        _relay(platformId, ROOT, 10, CID, deadline, sig);
    }

    function test_anchorBatchWithSig_directAnchorDoesNotConsumeNonce() public {
        _anchor(platformId, signer);
        assertEq(attestations.nonces(signer), 0, "nonce");
    }

    function test_anchorBatchWithSig_expired() public {
        uint256 deadline = block.timestamp + 10;
        bytes memory sig = _sign(signerKey, platformId, ROOT, 10, CID, 0, deadline);
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(JejakAttestations.ExpiredSignature.selector, deadline));
        _relay(platformId, ROOT, 10, CID, deadline, sig);
    }

    function test_anchorBatchWithSig_deadlineIsInclusive() public {
        uint256 deadline = block.timestamp + 10;
        bytes memory sig = _sign(signerKey, platformId, ROOT, 10, CID, 0, deadline);
        vm.warp(deadline);
        assertEq(_relay(platformId, ROOT, 10, CID, deadline, sig), 1, "accepted at the deadline");
    }

    function test_anchorBatchWithSig_wrongKey() public {
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _sign(0xBAD, platformId, ROOT, 10, CID, 0, deadline);
        vm.expectRevert(JejakAttestations.InvalidSignature.selector);
        _relay(platformId, ROOT, 10, CID, deadline, sig);
    }

    function test_anchorBatchWithSig_malformedSignature() public {
        uint256 deadline = block.timestamp + 1 hours;
        vm.expectRevert(JejakAttestations.InvalidSignature.selector);
        _relay(platformId, ROOT, 10, CID, deadline, hex"1234");

        vm.expectRevert(JejakAttestations.InvalidSignature.selector);
        _relay(platformId, ROOT, 10, CID, deadline, new bytes(65));
    }

    function test_anchorBatchWithSig_highSRejected() public {
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(signerKey, _digest(platformId, ROOT, 10, CID, 0, deadline));
        // The malleable twin (r, N - s, flipped v) recovers the same key but is not canonical.
        bytes memory twin =
            abi.encodePacked(r, bytes32(SECP256K1_N - uint256(s)), v == 27 ? uint8(28) : uint8(27));
        vm.expectRevert(JejakAttestations.InvalidSignature.selector);
        _relay(platformId, ROOT, 10, CID, deadline, twin);
    }

    function test_anchorBatchWithSig_signatureBoundToPlatform() public {
        // Same key registered for two platforms: a request signed for one is useless for the other.
        uint64 other = _register(signer);
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _sign(signerKey, platformId, ROOT, 10, CID, 0, deadline);
        vm.expectRevert(JejakAttestations.InvalidSignature.selector);
        _relay(other, ROOT, 10, CID, deadline, sig);
        assertEq(_relay(platformId, ROOT, 10, CID, deadline, sig), 1, "valid for its own platform");
    }

    function test_anchorBatchWithSig_signatureBoundToRootCountCidDeadline() public {
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _sign(signerKey, platformId, ROOT, 10, CID, 0, deadline);

        vm.expectRevert(JejakAttestations.InvalidSignature.selector);
        _relay(platformId, keccak256("other root"), 10, CID, deadline, sig);
        vm.expectRevert(JejakAttestations.InvalidSignature.selector);
        _relay(platformId, ROOT, 11, CID, deadline, sig);
        vm.expectRevert(JejakAttestations.InvalidSignature.selector);
        _relay(platformId, ROOT, 10, "bafkreiother", deadline, sig);
        vm.expectRevert(JejakAttestations.InvalidSignature.selector);
        _relay(platformId, ROOT, 10, CID, deadline + 1, sig);
    }

    function test_anchorBatchWithSig_signatureBoundToContractAndChain() public {
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _sign(signerKey, platformId, ROOT, 10, CID, 0, deadline);

        JejakAttestations twin = new JejakAttestations(registry);
        vm.expectRevert(JejakAttestations.InvalidSignature.selector);
        twin.anchorBatchWithSig(platformId, ROOT, 10, CID, deadline, sig);

        uint256 chain = block.chainid;
        vm.chainId(chain + 1);
        vm.expectRevert(JejakAttestations.InvalidSignature.selector);
        _relay(platformId, ROOT, 10, CID, deadline, sig);
        vm.chainId(chain);
        assertEq(_relay(platformId, ROOT, 10, CID, deadline, sig), 1, "valid on its own chain");
    }

    function test_anchorBatchWithSig_suspendedPlatformCannotAnchor() public {
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _sign(signerKey, platformId, ROOT, 10, CID, 0, deadline);
        vm.prank(operator);
        registry.suspendPlatform(platformId, 7);
        vm.expectRevert(_notActive(platformId));
        _relay(platformId, ROOT, 10, CID, deadline, sig);
        assertEq(attestations.nonces(signer), 0, "nonce not consumed");
    }

    function test_anchorBatchWithSig_unknownPlatform() public {
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _sign(signerKey, 5, ROOT, 10, CID, 0, deadline);
        vm.expectRevert(_notActive(5));
        _relay(5, ROOT, 10, CID, deadline, sig);
    }

    function test_anchorBatchWithSig_rotatedKeyLosesAuthority() public {
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _sign(signerKey, platformId, ROOT, 10, CID, 0, deadline);
        uint256 nextKey = 0xC0FFEE;
        vm.prank(signer);
        registry.updatePlatform(platformId, vm.addr(nextKey), PROFILE);

        vm.expectRevert(JejakAttestations.InvalidSignature.selector);
        _relay(platformId, ROOT, 10, CID, deadline, sig);

        sig = _sign(nextKey, platformId, ROOT, 10, CID, 0, deadline);
        assertEq(_relay(platformId, ROOT, 10, CID, deadline, sig), 1, "new key signs");
    }

    function test_anchorBatchWithSig_validatesBatch() public {
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _sign(signerKey, platformId, bytes32(0), 10, CID, 0, deadline);
        vm.expectRevert(JejakAttestations.ZeroRoot.selector);
        _relay(platformId, bytes32(0), 10, CID, deadline, sig);

        sig = _sign(signerKey, platformId, ROOT, 0, CID, 0, deadline);
        vm.expectRevert(JejakAttestations.EmptyBatch.selector);
        _relay(platformId, ROOT, 0, CID, deadline, sig);

        sig = _sign(signerKey, platformId, ROOT, 10, "", 0, deadline);
        vm.expectRevert(JejakAttestations.EmptyCid.selector);
        _relay(platformId, ROOT, 10, "", deadline, sig);
    }

    function test_anchorBatchWithSig_signatureNamesTheSigner() public {
        uint256 deadline = block.timestamp + 1 hours;
        // The platform's key, but a message naming another account: refused.
        bytes32 digest = _digestNaming(stranger, platformId, ROOT, 10, CID, 0, deadline);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(signerKey, digest);
        vm.expectRevert(JejakAttestations.InvalidSignature.selector);
        _relay(platformId, ROOT, 10, CID, deadline, abi.encodePacked(r, s, v));
        assertEq(attestations.nonces(signer), 0, "nonce not consumed");
    }

    function test_anchorBatchWithSig_notReplayableAcrossWalletsOfOneOwner() public {
        // A platform's signer is a smart account; it rotates to another account of the same owner key.
        uint256 ownerKey = 0x0123;
        OwnedWallet first = new OwnedWallet(vm.addr(ownerKey));
        OwnedWallet second = new OwnedWallet(vm.addr(ownerKey));
        uint64 pid = _register(address(first));
        uint256 deadline = block.timestamp + 1 hours;
        // A request signed for the first account, never relayed (the platform withdrew it by rotating).
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(ownerKey, _digest(pid, ROOT, 10, CID, 0, deadline));
        bytes memory stale = abi.encodePacked(r, s, v);
        vm.prank(address(first));
        registry.updatePlatform(pid, address(second), PROFILE);

        vm.expectRevert(JejakAttestations.InvalidSignature.selector);
        _relay(pid, ROOT, 10, CID, deadline, stale);
        assertEq(attestations.batchCount(), 0, "the stale request was not replayed");

        (v, r, s) = vm.sign(ownerKey, _digest(pid, ROOT, 10, CID, 0, deadline));
        assertEq(_relay(pid, ROOT, 10, CID, deadline, abi.encodePacked(r, s, v)), 1, "fresh request");
    }

    function test_invalidateNonces_cancelsSignedRequests() public {
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory first = _sign(signerKey, platformId, ROOT, 10, CID, 0, deadline);
        bytes memory second = _sign(signerKey, platformId, ROOT, 11, CID, 1, deadline);

        vm.expectEmit(true, true, true, true, address(attestations));
        emit NoncesInvalidated(signer, 2);
        vm.prank(signer);
        attestations.invalidateNonces(2);
        assertEq(attestations.nonces(signer), 2, "nonce moved");

        vm.expectRevert(JejakAttestations.InvalidSignature.selector);
        _relay(platformId, ROOT, 10, CID, deadline, first);
        vm.expectRevert(JejakAttestations.InvalidSignature.selector);
        _relay(platformId, ROOT, 11, CID, deadline, second);
        assertEq(attestations.batchCount(), 0, "both withdrawn");

        bytes memory fresh = _sign(signerKey, platformId, ROOT, 12, CID, 2, deadline);
        assertEq(_relay(platformId, ROOT, 12, CID, deadline, fresh), 1, "the next nonce works");
    }

    function test_invalidateNonces_boundedForward() public {
        uint256 skip = attestations.MAX_NONCE_SKIP();
        assertEq(skip, type(uint16).max, "skip");
        vm.startPrank(signer);
        vm.expectRevert(abi.encodeWithSelector(JejakAttestations.InvalidNonceSkip.selector, 0, 0));
        attestations.invalidateNonces(0);
        vm.expectRevert(abi.encodeWithSelector(JejakAttestations.InvalidNonceSkip.selector, 0, skip + 1));
        attestations.invalidateNonces(skip + 1);
        vm.expectRevert(
            abi.encodeWithSelector(JejakAttestations.InvalidNonceSkip.selector, 0, type(uint256).max)
        );
        attestations.invalidateNonces(type(uint256).max);
        attestations.invalidateNonces(skip);
        vm.expectRevert(abi.encodeWithSelector(JejakAttestations.InvalidNonceSkip.selector, skip, skip));
        attestations.invalidateNonces(skip);
        vm.stopPrank();
        assertEq(attestations.nonces(signer), skip, "moved once");
        assertEq(attestations.nonces(stranger), 0, "per signer");
    }

    function test_anchorBatchWithSig_contractSigner() public {
        MockWallet wallet = new MockWallet();
        uint64 pid = _register(address(wallet));
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 digest = _digest(pid, ROOT, 10, CID, 0, deadline);

        vm.expectRevert(JejakAttestations.InvalidSignature.selector);
        _relay(pid, ROOT, 10, CID, deadline, hex"00");

        wallet.approve(digest);
        assertEq(_relay(pid, ROOT, 10, CID, deadline, hex"00"), 1, "ERC-1271 approval");
        assertEq(attestations.nonces(address(wallet)), 1, "nonce");
    }

    function testFuzz_anchorBatchWithSig(
        uint256 key,
        bytes32 root,
        uint32 count,
        string calldata cid,
        uint64 ttl,
        address relayedBy
    ) public {
        key = bound(key, 1, SECP256K1_N - 1);
        vm.assume(root != bytes32(0) && count != 0 && bytes(cid).length != 0 && bytes(cid).length <= 128);
        address keyAddr = vm.addr(key);
        uint64 pid = _register(keyAddr);
        uint256 deadline = block.timestamp + ttl;
        bytes memory sig = _sign(key, pid, root, count, cid, 0, deadline);

        vm.expectEmit(true, true, true, true, address(attestations));
        emit BatchAnchored(1, pid, root, count, cid);
        vm.prank(relayedBy);
        uint64 id = attestations.anchorBatchWithSig(pid, root, count, cid, deadline, sig);
        assertEq(id, 1, "id");
        assertEq(attestations.nonces(keyAddr), 1, "nonce");

        vm.expectRevert(JejakAttestations.InvalidSignature.selector);
        vm.prank(relayedBy);
        attestations.anchorBatchWithSig(pid, root, count, cid, deadline, sig);
    }

    function testFuzz_anchorBatchWithSig_otherKeyRejected(uint256 key, uint256 otherKey) public {
        key = bound(key, 1, SECP256K1_N - 1);
        otherKey = bound(otherKey, 1, SECP256K1_N - 1);
        vm.assume(key != otherKey);
        uint64 pid = _register(vm.addr(key));
        uint256 deadline = block.timestamp + 1;
        bytes memory sig = _sign(otherKey, pid, ROOT, 10, CID, 0, deadline);
        vm.expectRevert(JejakAttestations.InvalidSignature.selector);
        _relay(pid, ROOT, 10, CID, deadline, sig);
    }

    function testFuzz_anchorBatchWithSig_expired(uint64 deadline, uint64 lateBy) public {
        lateBy = uint64(bound(lateBy, 1, type(uint64).max - 1));
        deadline = uint64(bound(deadline, 0, type(uint64).max - lateBy));
        bytes memory sig = _sign(signerKey, platformId, ROOT, 10, CID, 0, deadline);
        vm.warp(uint256(deadline) + lateBy);
        vm.expectRevert(
            abi.encodeWithSelector(JejakAttestations.ExpiredSignature.selector, uint256(deadline))
        );
        _relay(platformId, ROOT, 10, CID, deadline, sig);
    }

    // ---- revokeLeaf ----

    function test_revokeLeaf() public {
        uint64 id = _anchor(platformId, signer);
        assertEq(attestations.revocationOf(id, LEAF), 0, "not revoked yet");

        vm.expectEmit(true, true, true, true, address(attestations));
        emit LeafRevoked(id, LEAF, 3);
        vm.prank(signer);
        attestations.revokeLeaf(id, LEAF, 3);
        assertEq(attestations.revocationOf(id, LEAF), 3, "reason");
        assertEq(attestations.revocationOf(id, keccak256("other")), 0, "other leaf untouched");
    }

    function test_revokeLeaf_onlyOnce() public {
        uint64 id = _anchor(platformId, signer);
        vm.startPrank(signer);
        attestations.revokeLeaf(id, LEAF, 3);
        vm.expectRevert(JejakAttestations.AlreadyRevoked.selector);
        attestations.revokeLeaf(id, LEAF, 4);
        vm.stopPrank();
        assertEq(attestations.revocationOf(id, LEAF), 3, "first reason kept");
    }

    function test_revokeLeaf_perBatch() public {
        uint64 first = _anchor(platformId, signer);
        uint64 second = _anchor(platformId, signer);
        vm.startPrank(signer);
        attestations.revokeLeaf(first, LEAF, 1);
        attestations.revokeLeaf(second, LEAF, 2);
        vm.stopPrank();
        assertEq(attestations.revocationOf(first, LEAF), 1, "first");
        assertEq(attestations.revocationOf(second, LEAF), 2, "second");
    }

    function test_revokeLeaf_revertsOnZeroReason() public {
        uint64 id = _anchor(platformId, signer);
        vm.expectRevert(JejakAttestations.ZeroReason.selector);
        vm.prank(signer);
        attestations.revokeLeaf(id, LEAF, 0);
    }

    function test_revokeLeaf_revertsOnUnknownBatch() public {
        vm.expectRevert(abi.encodeWithSelector(JejakAttestations.UnknownBatch.selector, uint64(1)));
        vm.prank(signer);
        attestations.revokeLeaf(1, LEAF, 1);
    }

    function test_revokeLeaf_revertsForNonSigner() public {
        uint64 id = _anchor(platformId, signer);
        vm.expectRevert(JejakAttestations.NotPlatformSigner.selector);
        vm.prank(stranger);
        attestations.revokeLeaf(id, LEAF, 1);

        vm.expectRevert(JejakAttestations.NotPlatformSigner.selector);
        vm.prank(operator);
        attestations.revokeLeaf(id, LEAF, 1);
    }

    function test_revokeLeaf_otherPlatformsSignerCannotRevoke() public {
        uint64 id = _anchor(platformId, signer);
        address other = makeAddr("otherSigner");
        _register(other);
        vm.expectRevert(JejakAttestations.NotPlatformSigner.selector);
        vm.prank(other);
        attestations.revokeLeaf(id, LEAF, 1);
    }

    function test_revokeLeaf_refusedWhileSuspended() public {
        uint64 id = _anchor(platformId, signer);
        vm.prank(operator);
        registry.suspendPlatform(platformId, 9);
        // A suspended platform's key may have leaked: it cannot revoke for good.
        vm.expectRevert(_notActive(platformId));
        vm.prank(signer);
        attestations.revokeLeaf(id, LEAF, 5);
        assertEq(attestations.revocationOf(id, LEAF), 0, "not revoked");

        vm.prank(operator);
        registry.reinstatePlatform(platformId);
        vm.prank(signer);
        attestations.revokeLeaf(id, LEAF, 5);
        assertEq(attestations.revocationOf(id, LEAF), 5, "revoked once reinstated");
    }

    function test_revokeLeaf_followsKeyRotation() public {
        uint64 id = _anchor(platformId, signer);
        address next = makeAddr("next");
        vm.prank(signer);
        registry.updatePlatform(platformId, next, PROFILE);

        vm.expectRevert(JejakAttestations.NotPlatformSigner.selector);
        vm.prank(signer);
        attestations.revokeLeaf(id, LEAF, 1);

        vm.prank(next);
        attestations.revokeLeaf(id, LEAF, 1);
        assertEq(attestations.revocationOf(id, LEAF), 1, "revoked by the new key");
    }

    function testFuzz_revokeLeaf(bytes32 leaf, uint16 reason, bytes32 otherLeaf) public {
        vm.assume(reason != 0 && leaf != otherLeaf);
        uint64 id = _anchor(platformId, signer);
        vm.expectEmit(true, true, true, true, address(attestations));
        emit LeafRevoked(id, leaf, reason);
        vm.prank(signer);
        attestations.revokeLeaf(id, leaf, reason);
        assertEq(attestations.revocationOf(id, leaf), reason, "reason");
        assertEq(attestations.revocationOf(id, otherLeaf), 0, "other leaf");
        vm.expectRevert(JejakAttestations.AlreadyRevoked.selector);
        vm.prank(signer);
        attestations.revokeLeaf(id, leaf, reason);
    }

    // ---- gas ----

    function test_gas_revokeLeaf() public {
        uint64 id = _anchor(platformId, signer);
        vm.prank(signer);
        uint256 before = gasleft();
        attestations.revokeLeaf(id, LEAF, 1);
        uint256 used = before - gasleft();
        assertLt(used, 50_000, "revokeLeaf");
    }
}

/// @notice Gas is a product figure: anchoring costs the same whatever the batch size, well under 80,000.
/// @dev The probe platform is registered in setUp so every test starts from cold storage, as a real
/// transaction would. Figures are execution gas of the call: a real transaction adds 21,000 plus
/// calldata, and does not pay the 2,600 cold-account access to the contract it targets.
contract JejakAttestationsGasTest is JejakFixture {
    uint256 internal constant GAS_CEILING = 80_000;

    AnchorProbe internal probe;
    uint64 internal probePlatform;

    function setUp() public {
        _deployJejak();
        probe = new AnchorProbe();
        vm.prank(operator);
        probePlatform = registry.registerPlatform(address(probe), PROFILE);
    }

    function _measure(uint32 count) internal returns (uint256) {
        return probe.anchor(attestations, probePlatform, ROOT, count, CID);
    }

    function test_gas_anchorBatch_10() public {
        assertLt(_measure(10), GAS_CEILING, "anchorBatch(10)");
    }

    function test_gas_anchorBatch_10000() public {
        assertLt(_measure(10_000), GAS_CEILING, "anchorBatch(10000)");
    }

    function test_gas_anchorBatch_firstAndLaterBatchesCostTheSame() public {
        assertEq(attestations.batchCount(), 0, "no batch yet");
        uint256 first = _measure(10);
        assertLt(first, GAS_CEILING, "first batch");
        // Later calls in this transaction find the registry and the counter warm: compare like with like.
        uint256 warm10 = _measure(10);
        uint256 warm10000 = _measure(10_000);
        uint256 warmMax = _measure(type(uint32).max);
        assertEq(warm10, warm10000, "10 vs 10,000 attestations");
        assertEq(warm10, warmMax, "10 vs 2^32-1 attestations");
        // Per attestation, a batch of 10,000 costs well under 1,000 gas (under 10 in fact).
        assertLt(first / 10_000, 10, "per attestation");
    }

    function testFuzz_gas_anchorBatch_neverAboveCeiling(bytes32 root, uint32 count) public {
        vm.assume(root != bytes32(0) && count != 0);
        assertLt(probe.anchor(attestations, probePlatform, root, count, CID), GAS_CEILING, "anchorBatch");
    }

    function test_gas_anchorBatchWithSig() public {
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory sig = _sign(signerKey, platformId, ROOT, 10_000, CID, 0, deadline);
        vm.prank(relayer);
        uint256 before = gasleft();
        attestations.anchorBatchWithSig(platformId, ROOT, 10_000, CID, deadline, sig);
        uint256 used = before - gasleft();
        assertLt(used, 110_000, "anchorBatchWithSig");
    }
}
