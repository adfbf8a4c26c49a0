// SPDX-License-Identifier: Apache-2.0
// Generated from verifying key sha256:8696a9f703f8d4253a7b9fc1a682ecf004d19b720caa2e8ae55c80e47b4aad96.
// Do not edit: regenerate with `cargo run --release -p jejak-prover --bin jejak-zk-gen`;
// CI checks that this file matches the key.
pragma solidity ^0.8.28;

/// @title JejakGroth16Verifier
/// @notice Groth16 verifier (BN254) for jejak's reputation circuit at tree depth 20
/// (6339 constraints, libsnark reduction). Public inputs, in order: root, epoch_bounds, scope, challenge, nullifier.
/// @dev Key from an INSECURE development setup: anyone can forge proofs for it; never deploy it outside development.
contract JejakGroth16Verifier {
    /// @notice Scalar field modulus r of BN254: every public input must be below it.
    uint256 internal constant SNARK_SCALAR_FIELD =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @notice Base field modulus q of BN254: every proof coordinate must be below it.
    uint256 internal constant BASE_FIELD =
        21888242871839275222246405745257275088696311157297823662689037894645226208583;

    uint256 internal constant ALPHA_X =
        21806659613846188703675845010963539004144023557037275328519590144611203178242;
    uint256 internal constant ALPHA_Y =
        14830556479915535191590754900980645037121790121959660459874923463342485464375;
    uint256 internal constant BETA_X1 =
        16431023251929745514793797737995844081127261406730916578324683184301444575806;
    uint256 internal constant BETA_X0 =
        14368594326890495374294538323804792098537917690527117876143246331021833507444;
    uint256 internal constant BETA_Y1 =
        12498436991153793473556352073680576611974077199640044795751582381965936156573;
    uint256 internal constant BETA_Y0 =
        18203323747944754931967866999603494110610292874816147754874676612171829558641;
    uint256 internal constant GAMMA_X1 =
        17865850459481331326835735943586534257748502452614557142386742379238863949819;
    uint256 internal constant GAMMA_X0 =
        11296632012892017893471986749494516560926245709351933904557682744886035727694;
    uint256 internal constant GAMMA_Y1 =
        6922382569737679480634457044292751675684622066157308208308910450145737776389;
    uint256 internal constant GAMMA_Y0 =
        9349526658709538888955579638380953120416941848991950701370604319591162068765;
    uint256 internal constant DELTA_X1 =
        18698179358760006104573799284273545330836171002275725537526496551879472219292;
    uint256 internal constant DELTA_X0 =
        13781170311212260972130991278685984871916330372737346732302252823207039714071;
    uint256 internal constant DELTA_Y1 =
        16757910024318642938317445544138446976134553151649638563327321591744240514894;
    uint256 internal constant DELTA_Y0 =
        7943370931485339681894882554479390401738727871495519307678712498709720830167;
    uint256 internal constant IC0_X =
        7786410839752241467550803897774628607005196250426768348940911855772894598082;
    uint256 internal constant IC0_Y =
        18548947882681095967711834350891091289050046492025778184603189782476254536937;
    uint256 internal constant IC1_X =
        2898183145931267507257349024945974201314960453324984336969235489796259721102;
    uint256 internal constant IC1_Y =
        13207782279051218844122366779439494546981323385365480574366167087742349762034;
    uint256 internal constant IC2_X =
        10480704626332777451735487095878082414985992147067093118272475580431907749072;
    uint256 internal constant IC2_Y =
        16298906914495243334979429666454381999167982559795037079607135545763066850060;
    uint256 internal constant IC3_X =
        7317565391856427616277867353943384848668206559347493620316093433818429442974;
    uint256 internal constant IC3_Y =
        2257018512810921481749912851368537991702757538544708113980241153517833004832;
    uint256 internal constant IC4_X =
        4986760170774134792658265269909036283578091630124575165152986647050905795248;
    uint256 internal constant IC4_Y =
        8852386387516250155899645639427689909836625082404795766812200369104013099516;
    uint256 internal constant IC5_X =
        11982835693057370650245593956220933696212892455473242240257855210981253631326;
    uint256 internal constant IC5_Y =
        20129796025196507639310221902201980110997197343146494986712661335724950483737;

    /// @notice Whether `proof` is a valid proof for the public inputs `input`.
    /// @param proof `[A.x, A.y, B.x1, B.x0, B.y1, B.y0, C.x, C.y]` (G2 imaginary parts first).
    /// @param input root, epoch_bounds, scope, challenge, nullifier.
    function verifyProof(uint256[8] calldata proof, uint256[5] calldata input) external view returns (bool) {
        return _verifyProof(proof, input);
    }

    /// @dev Checks `e(-A, B) · e(alpha, beta) · e(vk_x, gamma) · e(C, delta) == 1` with
    /// `vk_x = IC0 + Σ input[i] · IC(i+1)`.
    function _verifyProof(uint256[8] calldata proof, uint256[5] memory input)
        internal
        view
        returns (bool ok)
    {
        for (uint256 i = 0; i < 8; ++i) {
            if (proof[i] >= BASE_FIELD) return false;
        }
        for (uint256 i = 0; i < 5; ++i) {
            if (input[i] >= SNARK_SCALAR_FIELD) return false;
        }
        assembly ("memory-safe") {
            // Scratch space past the free memory pointer (never allocated, so never reused).
            let m := mload(0x40)
            ok := 1
            mstore(m, IC0_X)
            mstore(add(m, 0x20), IC0_Y)
            // + root * IC1
            mstore(add(m, 0x40), IC1_X)
            mstore(add(m, 0x60), IC1_Y)
            mstore(add(m, 0x80), mload(add(input, 0x0)))
            ok := and(ok, staticcall(gas(), 0x07, add(m, 0x40), 0x60, add(m, 0x40), 0x40))
            ok := and(ok, staticcall(gas(), 0x06, m, 0x80, m, 0x40))
            // + epoch_bounds * IC2
            mstore(add(m, 0x40), IC2_X)
            mstore(add(m, 0x60), IC2_Y)
            mstore(add(m, 0x80), mload(add(input, 0x20)))
            ok := and(ok, staticcall(gas(), 0x07, add(m, 0x40), 0x60, add(m, 0x40), 0x40))
            ok := and(ok, staticcall(gas(), 0x06, m, 0x80, m, 0x40))
            // + scope * IC3
            mstore(add(m, 0x40), IC3_X)
            mstore(add(m, 0x60), IC3_Y)
            mstore(add(m, 0x80), mload(add(input, 0x40)))
            ok := and(ok, staticcall(gas(), 0x07, add(m, 0x40), 0x60, add(m, 0x40), 0x40))
            ok := and(ok, staticcall(gas(), 0x06, m, 0x80, m, 0x40))
            // + challenge * IC4
            mstore(add(m, 0x40), IC4_X)
            mstore(add(m, 0x60), IC4_Y)
            mstore(add(m, 0x80), mload(add(input, 0x60)))
            ok := and(ok, staticcall(gas(), 0x07, add(m, 0x40), 0x60, add(m, 0x40), 0x40))
            ok := and(ok, staticcall(gas(), 0x06, m, 0x80, m, 0x40))
            // + nullifier * IC5
            mstore(add(m, 0x40), IC5_X)
            mstore(add(m, 0x60), IC5_Y)
            mstore(add(m, 0x80), mload(add(input, 0x80)))
            ok := and(ok, staticcall(gas(), 0x07, add(m, 0x40), 0x60, add(m, 0x40), 0x40))
            ok := and(ok, staticcall(gas(), 0x06, m, 0x80, m, 0x40))

            let vkx := mload(m)
            let vky := mload(add(m, 0x20))
            // (-A, B)
            mstore(m, calldataload(proof))
            mstore(add(m, 0x20), mod(sub(BASE_FIELD, calldataload(add(proof, 0x20))), BASE_FIELD))
            calldatacopy(add(m, 0x40), add(proof, 0x40), 0x80)
            // (alpha, beta)
            mstore(add(m, 0xc0), ALPHA_X)
            mstore(add(m, 0xe0), ALPHA_Y)
            mstore(add(m, 0x100), BETA_X1)
            mstore(add(m, 0x120), BETA_X0)
            mstore(add(m, 0x140), BETA_Y1)
            mstore(add(m, 0x160), BETA_Y0)
            // (vk_x, gamma)
            mstore(add(m, 0x180), vkx)
            mstore(add(m, 0x1a0), vky)
            mstore(add(m, 0x1c0), GAMMA_X1)
            mstore(add(m, 0x1e0), GAMMA_X0)
            mstore(add(m, 0x200), GAMMA_Y1)
            mstore(add(m, 0x220), GAMMA_Y0)
            // (C, delta)
            calldatacopy(add(m, 0x240), add(proof, 0xc0), 0x40)
            mstore(add(m, 0x280), DELTA_X1)
            mstore(add(m, 0x2a0), DELTA_X0)
            mstore(add(m, 0x2c0), DELTA_Y1)
            mstore(add(m, 0x2e0), DELTA_Y0)
            ok := and(ok, staticcall(gas(), 0x08, m, 0x300, m, 0x20))
            ok := and(ok, mload(m))
        }
    }
}
