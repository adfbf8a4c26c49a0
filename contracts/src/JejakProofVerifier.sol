// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {JejakGroth16Verifier} from "./JejakGroth16Verifier.sol";
import {JejakReputationRoots} from "./JejakReputationRoots.sol";

/// @title JejakProofVerifier
/// @notice Verifies jejak reputation proofs on chain and consumes their nullifiers. A worker proves
/// that their leaf is in the reputation root of an epoch and that their score, completed gigs and
/// credit tier reach the claimed minimums, bound to this contract's scope for a context and to a
/// challenge. Each (worker, scope) has one nullifier, so a proof, or a re-randomised copy of it, is
/// accepted once, and two verifiers (or two contexts) cannot link a worker's proofs.
/// @dev The scope is `uint256(keccak256(abi.encode(block.chainid, address(this), context))) % r`, as
/// `jejak_zk_circuits::scope` computes it. The root must be accepted by `roots` for the epoch (the
/// current root, or a replaced one within its validity window). The tree depth of the roots must be
/// the verifier's. Anyone may submit a proof; the consumer is recorded in the event.
contract JejakProofVerifier is JejakGroth16Verifier {
    /// @notice What a proof claims: the public inputs, with the scope given by its context.
    struct Claim {
        uint64 epoch;
        bytes32 root;
        uint64 minScore;
        uint64 minGigs;
        uint64 minTier;
        bytes32 context;
        uint256 challenge;
        uint256 nullifier;
    }

    /// @notice The reputation roots the proofs are checked against.
    JejakReputationRoots public immutable roots;

    /// @notice Whether a nullifier was consumed.
    mapping(uint256 nullifier => bool used) public nullifierUsed;

    /// @notice A proof with `nullifier` for `context` was verified and consumed by `consumer`.
    event ProofConsumed(
        uint256 indexed nullifier, bytes32 indexed context, uint64 epoch, uint256 challenge, address consumer
    );

    /// @notice `root` is not an accepted root of `epoch` (never published, or expired).
    error RootNotAccepted(uint64 epoch, bytes32 root);
    /// @notice Public input number `index` (0 root, 3 challenge, 4 nullifier) is not below the field modulus.
    error InputNotInField(uint256 index);
    /// @notice Proofs can be about epochs up to 2^61 - 1 only (the epoch shares a public input with the bounds).
    error EpochOutOfRange(uint64 epoch);
    /// @notice The nullifier was consumed before.
    error NullifierAlreadyUsed(uint256 nullifier);
    /// @notice The proof does not prove the claim.
    error InvalidProof();

    /// @notice Binds the verifier to the roots contract.
    constructor(JejakReputationRoots roots_) {
        roots = roots_;
    }

    /// @notice The scope of `context` for this verifier on this chain.
    function scopeOf(bytes32 context) public view returns (uint256) {
        return uint256(keccak256(abi.encode(block.chainid, address(this), context))) % SNARK_SCALAR_FIELD;
    }

    /// @notice The circuit's public inputs for `claim`: root, epoch and bounds packed as
    /// `minScore | minGigs << 64 | minTier << 128 | epoch << 192`, scope, challenge, nullifier.
    function publicInputs(Claim calldata claim) public view returns (uint256[5] memory input) {
        input[0] = uint256(claim.root);
        input[1] = uint256(claim.minScore) | (uint256(claim.minGigs) << 64) | (uint256(claim.minTier) << 128)
            | (uint256(claim.epoch) << 192);
        input[2] = scopeOf(claim.context);
        input[3] = claim.challenge;
        input[4] = claim.nullifier;
    }

    /// @notice Checks `proof` for `claim` without consuming it; reverts with the reason it would be
    /// refused (`InputNotInField`, `NullifierAlreadyUsed`, `RootNotAccepted`, `InvalidProof`).
    /// @param proof `[A.x, A.y, B.x1, B.x0, B.y1, B.y0, C.x, C.y]`, as jejak's proof bundles give it.
    function check(uint256[8] calldata proof, Claim calldata claim) external view returns (bool) {
        _check(proof, claim);
        return true;
    }

    /// @notice Whether `verifyAndConsume(proof, claim)` would succeed now.
    function isValid(uint256[8] calldata proof, Claim calldata claim) external view returns (bool) {
        try this.check(proof, claim) returns (bool ok) {
            return ok;
        } catch {
            return false;
        }
    }

    /// @notice Verifies `proof` for `claim` and consumes its nullifier; reverts as `check` does.
    function verifyAndConsume(uint256[8] calldata proof, Claim calldata claim) external {
        _check(proof, claim);
        nullifierUsed[claim.nullifier] = true;
        emit ProofConsumed(claim.nullifier, claim.context, claim.epoch, claim.challenge, msg.sender);
    }

    function _check(uint256[8] calldata proof, Claim calldata claim) internal view {
        // The bounds are uint64 (ABI-checked), the epoch below 2^61 and the scope reduced, so the
        // packed word and the scope are below r.
        if (uint256(claim.root) >= SNARK_SCALAR_FIELD) revert InputNotInField(0);
        if (claim.challenge >= SNARK_SCALAR_FIELD) revert InputNotInField(3);
        if (claim.nullifier >= SNARK_SCALAR_FIELD) revert InputNotInField(4);
        if (claim.epoch >= 1 << 61) revert EpochOutOfRange(claim.epoch);
        if (nullifierUsed[claim.nullifier]) revert NullifierAlreadyUsed(claim.nullifier);
        if (!roots.isRootAccepted(claim.epoch, claim.root)) revert RootNotAccepted(claim.epoch, claim.root);
        if (!_verifyProof(proof, publicInputs(claim))) revert InvalidProof();
    }
}
