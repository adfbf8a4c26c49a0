// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {JejakRegistry} from "../../src/JejakRegistry.sol";
import {JejakAttestations} from "../../src/JejakAttestations.sol";

import {Test} from "./Test.sol";

/// @notice Deployed registry and attestations with one Active platform, plus EIP-712 helpers
/// written independently of the contract (so a wrong digest in the contract is caught).
abstract contract JejakFixture is Test {
    string internal constant CID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";
    string internal constant PROFILE = "bafkreiprofile000000000000000000000000000000000000000000000";
    bytes32 internal constant ROOT = keccak256("batch root");
    bytes32 internal constant TYPEHASH = keccak256(
        "AnchorBatch(uint64 platformId,address signer,bytes32 root,uint32 count,string cid,uint256 nonce,uint256 deadline)"
    );
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");

    /// @dev secp256k1 group order: private keys live in [1, N - 1].
    uint256 internal constant SECP256K1_N =
        0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    address internal admin;
    address internal operator;
    address internal stranger;
    address internal relayer;
    uint256 internal signerKey = 0xA11CE;
    address internal signer;

    JejakRegistry internal registry;
    JejakAttestations internal attestations;
    uint64 internal platformId;

    function _deployJejak() internal {
        admin = makeAddr("admin");
        operator = makeAddr("operator");
        stranger = makeAddr("stranger");
        relayer = makeAddr("relayer");
        signer = vm.addr(signerKey);
        vm.label(signer, "platformSigner");
        vm.warp(1_700_000_000);

        registry = new JejakRegistry(admin, operator);
        attestations = new JejakAttestations(registry);
        vm.prank(operator);
        platformId = registry.registerPlatform(signer, PROFILE);
    }

    function _domainSeparator(address verifyingContract) internal view returns (bytes32) {
        return keccak256(
            abi.encode(
                DOMAIN_TYPEHASH,
                keccak256("JejakAttestations"),
                keccak256("1"),
                block.chainid,
                verifyingContract
            )
        );
    }

    /// @dev The digest of a request naming the platform's current signer, as a platform signs it.
    function _digest(
        uint64 pid,
        bytes32 root,
        uint32 count,
        string memory cid,
        uint256 nonce,
        uint256 deadline
    ) internal view returns (bytes32) {
        return _digestNaming(registry.signerOf(pid), pid, root, count, cid, nonce, deadline);
    }

    function _digestNaming(
        address named,
        uint64 pid,
        bytes32 root,
        uint32 count,
        string memory cid,
        uint256 nonce,
        uint256 deadline
    ) internal view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(TYPEHASH, pid, named, root, count, keccak256(bytes(cid)), nonce, deadline)
        );
        return keccak256(abi.encodePacked(hex"1901", _domainSeparator(address(attestations)), structHash));
    }

    /// @dev A CID of exactly `length` bytes.
    function _cidOfLength(uint256 length) internal pure returns (string memory) {
        bytes memory b = new bytes(length);
        for (uint256 i = 0; i < length; ++i) {
            b[i] = "b";
        }
        return string(b);
    }

    function _sign(
        uint256 key,
        uint64 pid,
        bytes32 root,
        uint32 count,
        string memory cid,
        uint256 nonce,
        uint256 deadline
    ) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, _digest(pid, root, count, cid, nonce, deadline));
        return abi.encodePacked(r, s, v);
    }

    function _anchor(uint64 pid, address from) internal returns (uint64) {
        vm.prank(from);
        return attestations.anchorBatch(pid, ROOT, 10, CID);
    }
}
