//! Relayed anchoring on anvil: a request signed in Rust (`jejak_chain::relay`) is accepted by
//! `anchorBatchWithSig` as relayed by the operator, and a request the signer withdrew with
//! `invalidateNonces` is refused.

use alloy::primitives::{B256, U256};
use alloy::sol_types::SolError as _;
use jejak_chain::bindings::JejakAttestations;
use jejak_chain::relay::AnchorBatch;
use jejak_node::anvil::DEV_KEYS;
use jejak_tests::{TestChain, init_logs};

const CID: &str = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";

#[tokio::test]
async fn relayed_batches_signed_in_rust_anchor_and_withdrawn_ones_do_not() {
    init_logs();
    let chain = TestChain::start(1).await;
    let key = jejak_chain::signer_from_hex(DEV_KEYS[1]).unwrap();
    let signer = key.address();
    let platform = chain.register_platform(signer).await;
    let contract = chain.deployment.attestations;
    // Relayed by the operator's provider: the platform's key never sends a transaction for it.
    let attestations = JejakAttestations::new(contract, &chain.provider);
    let deadline = jejak_store::now_secs() as u64 + 3600;

    let request = AnchorBatch::new(platform, signer, B256::repeat_byte(1), 10, CID, U256::ZERO, deadline);
    let signature = request.sign(&key, 31337, contract).unwrap();
    let receipt = attestations
        .anchorBatchWithSig(platform, request.root, 10, CID.into(), U256::from(deadline), signature)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(receipt.status(), "relayed batch anchored");
    let batch = attestations.batch(1).call().await.unwrap();
    assert_eq!((batch.root, batch.platformId, batch.count), (request.root, platform, 10));
    assert_eq!(attestations.nonces(signer).call().await.unwrap(), U256::from(1));

    // A key that is not the signer the request names cannot sign it.
    let other = jejak_chain::signer_from_hex(DEV_KEYS[2]).unwrap();
    assert!(request.sign(&other, 31337, contract).is_err());

    // Two more requests signed ahead; the signer withdraws both by moving its nonce to 3.
    let pending: Vec<_> = (1..=2u8)
        .map(|n| {
            let r = AnchorBatch::new(platform, signer, B256::repeat_byte(n + 1), 10, CID, U256::from(n), deadline);
            let s = r.sign(&key, 31337, contract).unwrap();
            (r, s)
        })
        .collect();
    let own = jejak_chain::connect_signing(&chain.anvil.endpoint(), key.clone()).unwrap();
    let withdrawn = JejakAttestations::new(contract, &own)
        .invalidateNonces(U256::from(3))
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(withdrawn.status());
    for (r, s) in pending {
        let err = attestations
            .anchorBatchWithSig(platform, r.root, 10, CID.into(), U256::from(deadline), s)
            .call()
            .await
            .expect_err("a withdrawn request must be refused");
        let data = err.as_revert_data().expect("a revert");
        assert_eq!(data[..4], JejakAttestations::InvalidSignature::SELECTOR[..], "{err}");
    }
    assert_eq!(attestations.batchCount().call().await.unwrap(), 1, "nothing more anchored");
}
