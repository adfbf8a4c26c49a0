//! Relayed anchoring: the EIP-712 `AnchorBatch` request a platform's signer signs off chain, so
//! that anyone (the jejak operator, a relayer) can submit it with `anchorBatchWithSig`.
//!
//! The request names the signer and carries the signer's next nonce (`nonces(signer)`); the
//! domain is `JejakAttestations`, version `1`, the chain id and the contract address. A signer
//! withdraws requests it signed but no longer wants relayed with `invalidateNonces(next)`.

use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::signers::SignerSync as _;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{Eip712Domain, SolStruct as _, eip712_domain};

use crate::{Error, Result};

alloy::sol! {
    /// The EIP-712 struct `JejakAttestations.ANCHOR_TYPEHASH` names (fields as in Solidity).
    #[allow(missing_docs)]
    #[derive(Debug, PartialEq, Eq)]
    struct AnchorBatch {
        uint64 platformId;
        address signer;
        bytes32 root;
        uint32 count;
        string cid;
        uint256 nonce;
        uint256 deadline;
    }
}

/// The EIP-712 domain of the `JejakAttestations` contract at `contract` on `chain_id`.
pub fn domain(chain_id: u64, contract: Address) -> Eip712Domain {
    eip712_domain! {
        name: "JejakAttestations",
        version: "1",
        chain_id: chain_id,
        verifying_contract: contract,
    }
}

impl AnchorBatch {
    /// A request for `platform_id`'s batch, to be signed by `signer` with its nonce `nonce`
    /// (read with `nonces(signer)`), usable until `deadline` (unix seconds, inclusive).
    pub fn new(
        platform_id: u64,
        signer: Address,
        root: B256,
        count: u32,
        cid: &str,
        nonce: U256,
        deadline: u64,
    ) -> Self {
        Self { platformId: platform_id, signer, root, count, cid: cid.into(), nonce, deadline: U256::from(deadline) }
    }

    /// The digest the signer signs.
    pub fn digest(&self, chain_id: u64, contract: Address) -> B256 {
        self.eip712_signing_hash(&domain(chain_id, contract))
    }

    /// Signs the request with `key`, which must be the signer it names: the 65-byte `r || s || v`
    /// signature `anchorBatchWithSig` takes.
    pub fn sign(&self, key: &PrivateKeySigner, chain_id: u64, contract: Address) -> Result<Bytes> {
        if key.address() != self.signer {
            return Err(Error::Config(format!(
                "the request names signer {} but the key is {}",
                self.signer,
                key.address()
            )));
        }
        let signature = key
            .sign_hash_sync(&self.digest(chain_id, contract))
            .map_err(|e| Error::Config(format!("signing the anchoring request: {e}")))?;
        Ok(Bytes::from(signature.as_bytes().to_vec()))
    }
}
