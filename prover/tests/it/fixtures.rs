//! The committed verifier contract and forge fixtures are what the generator makes today.

use std::path::Path;

use jejak_prover::fixtures::{CHECK_COMMAND, check, checksum_address, create_address};

#[test]
fn committed_verifier_and_fixtures_are_up_to_date() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let checked = check(repo).unwrap_or_else(|e| panic!("{e} (check with `{CHECK_COMMAND}`)"));
    assert_eq!(checked.len(), 3);
}

#[test]
fn create_addresses_match_forge() {
    // forge's first deployment from its test contract (nonce 1) is the well-known
    // 0x5615dEB798BB3E4dFa0139dFa1b3D433Cc23b72f.
    let forge_test = jejak_prover::fixtures::FORGE_TEST_CONTRACT;
    assert_eq!(checksum_address(&create_address(forge_test, 1)), "0x5615dEB798BB3E4dFa0139dFa1b3D433Cc23b72f");
    assert_eq!(checksum_address(&forge_test), "0x7FA9385bE102ac3EAc297483Dd6233D62b3e1496");
}
