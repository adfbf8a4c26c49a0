// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {JejakGroth16Verifier} from "./JejakGroth16Verifier.sol";
import {JejakReputationRoots} from "./JejakReputationRoots.sol";

/// @title JejakProofVerifier
/// @notice Verifies jejak reputation proofs on chain and consumes their nullifiers. A worker proves
/// that their leaf is in the reputation root of an epoch and that their score, completed gigs and
/// credit tier reach the claimed minimums, bound to this contract's scope for a consumer and a
/// context, and to a challenge. Each (worker, scope) has one nullifier, so a proof, or a re-randomised
/// copy of it, is accepted once, and two consumers (or two contexts) cannot link a worker's proofs.
/// @dev The scope is `uint256(keccak256(abi.encode(block.chainid, address(this), consumer, context))) % r`,
/// as `jejak_zk_circuits::scope` computes it, and `verifyAndConsume` takes its caller as the consumer:
/// a proof lifted from the mempool and submitted by anyone else fails (another scope), so a
/// front-runner cannot burn the nullifier the intended consumer is about to use. The root must be
/// accepted by `roots` for the epoch (the current root, or a replaced one within its validity
/// window). The tree depth of the roots must be the verifier's.
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

    /// @notice A proof with `nullifier` for `context` was verified and consumed by `consumer`: it
    /// proved score >= `minScore`, gigs >= `minGigs` and tier >= `minTier` against `root` of `epoch`.
    event ProofConsumed(
        uint256 indexed nullifier,
        bytes32 indexed context,
        address indexed consumer,
        uint64 epoch,
        bytes32 root,
        uint64 minScore,
        uint64 minGigs,
        uint64 minTier,
        uint256 challenge
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

    /// @notice The scope of `context` for proofs `consumer` consumes from this verifier on this chain.
    function scopeOf(address consumer, bytes32 context) public view returns (uint256) {
        return
            uint256(keccak256(abi.encode(block.chainid, address(this), consumer, context)))
                % SNARK_SCALAR_FIELD;
    }

    /// @notice The circuit's public inputs for `claim` consumed by `consumer`: root, epoch and bounds
    /// packed as `minScore | minGigs << 64 | minTier << 128 | epoch << 192`, scope, challenge, nullifier.
    function publicInputs(Claim calldata claim, address consumer)
        public
        view
        returns (uint256[5] memory input)
    {
        input[0] = uint256(claim.root);
        input[1] = uint256(claim.minScore) | (uint256(claim.minGigs) << 64) | (uint256(claim.minTier) << 128)
            | (uint256(claim.epoch) << 192);
        input[2] = scopeOf(consumer, claim.context);
        input[3] = claim.challenge;
        input[4] = claim.nullifier;
    }

    /// @notice Checks `proof` for `claim` as `consumer` would consume it, without consuming it;
    /// reverts with the reason it would be refused (`InputNotInField`, `NullifierAlreadyUsed`,
    /// `RootNotAccepted`, `InvalidProof`).
    /// @param proof `[A.x, A.y, B.x1, B.x0, B.y1, B.y0, C.x, C.y]`, as jejak's proof bundles give it.
    function check(uint256[8] calldata proof, Claim calldata claim, address consumer)
        external
        view
        returns (bool)
    {
        _check(proof, claim, consumer);
        return true;
    }

    /// @notice Whether `verifyAndConsume(proof, claim)` called by `consumer` would succeed now.
    function isValid(uint256[8] calldata proof, Claim calldata claim, address consumer)
        external
        view
        returns (bool)
    {
        try this.check(proof, claim, consumer) returns (bool ok) {
            return ok;
        } catch {
            return false;
        }
    }

    /// @notice Verifies `proof` for `claim`, bound to the caller as its consumer, and consumes its
    /// nullifier; reverts as `check` does.
    function verifyAndConsume(uint256[8] calldata proof, Claim calldata claim) external {
        _check(proof, claim, msg.sender);
        nullifierUsed[claim.nullifier] = true;
        emit ProofConsumed(
            claim.nullifier,
            claim.context,
            msg.sender,
            claim.epoch,
            claim.root,
            claim.minScore,
            claim.minGigs,
            claim.minTier,
            claim.challenge
        );
    }

    function _check(uint256[8] calldata proof, Claim calldata claim, address consumer) internal view {
        // The bounds are uint64 (ABI-checked), the epoch below 2^61 and the scope reduced, so the
        // packed word and the scope are below r.
        if (uint256(claim.root) >= SNARK_SCALAR_FIELD) revert InputNotInField(0);
        if (claim.challenge >= SNARK_SCALAR_FIELD) revert InputNotInField(3);
        if (claim.nullifier >= SNARK_SCALAR_FIELD) revert InputNotInField(4);
        if (claim.epoch >= 1 << 61) revert EpochOutOfRange(claim.epoch);
        if (nullifierUsed[claim.nullifier]) revert NullifierAlreadyUsed(claim.nullifier);
        if (!roots.isRootAccepted(claim.epoch, claim.root)) revert RootNotAccepted(claim.epoch, claim.root);
        if (!_verifyProof(proof, publicInputs(claim, consumer))) revert InvalidProof();
    }
}
