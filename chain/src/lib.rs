//! Chain access for jejak.
//!
//! - [`bindings`]: typed contract bindings (`alloy::sol!` over the committed ABI files).
//! - [`Deployment`]: where the jejak contracts live on a chain, and [`deploy`] to put them there.
//! - [`connect`], [`connect_signing`]: alloy providers over HTTP, read-only or with a local signer.
//! - [`relay`]: the EIP-712 request a platform signs so that anyone can relay its batch.

pub mod bindings;
mod error;
pub mod relay;
mod sender;

use std::path::Path;

use alloy::network::EthereumWallet;
use alloy::primitives::Address;
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use serde::{Deserialize, Serialize};

pub use error::{Error, Result};
pub use sender::{Sender, SenderConfig, Sent};

use bindings::{JejakAttestations, JejakEvidenceLog, JejakProofVerifier, JejakRegistry, JejakReputationRoots};

/// Addresses of the jejak contracts on one chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    /// EVM chain id.
    pub chain_id: u64,
    /// `JejakRegistry`.
    pub registry: Address,
    /// `JejakAttestations`.
    pub attestations: Address,
    /// `JejakReputationRoots`.
    pub reputation_roots: Address,
    /// `JejakEvidenceLog`.
    pub evidence_log: Address,
    /// `JejakProofVerifier` (on-chain Groth16 verification of reputation proofs).
    pub proof_verifier: Address,
    /// Block the first contract was deployed in (where indexing may start).
    pub start_block: u64,
}

impl Deployment {
    /// Every contract address, for log filters.
    pub fn addresses(&self) -> [Address; 4] {
        [self.registry, self.attestations, self.reputation_roots, self.evidence_log]
    }

    /// Reads a deployment file (JSON).
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::Io(path.display().to_string(), e))?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Config(format!("{}: {e}", path.display())))
    }

    /// Writes a deployment file (JSON).
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).expect("deployment serialises");
        std::fs::write(path, text).map_err(|e| Error::Io(path.display().to_string(), e))
    }
}

/// A read-only provider over HTTP.
pub fn connect(url: &str) -> Result<DynProvider> {
    let url = url.parse().map_err(|e| Error::Config(format!("RPC URL `{}`: {e}", jejak_core::redact::origin(url))))?;
    Ok(ProviderBuilder::new().disable_recommended_fillers().connect_http(url).erased())
}

/// A provider that signs and sends transactions with `signer`, filling gas, fees, chain id and
/// nonces (asked of the node each time: for one-off operator actions; long-running jobs use
/// [`Sender`]).
pub fn connect_signing(url: &str, signer: PrivateKeySigner) -> Result<DynProvider> {
    let url = url.parse().map_err(|e| Error::Config(format!("RPC URL `{}`: {e}", jejak_core::redact::origin(url))))?;
    Ok(ProviderBuilder::new()
        .with_simple_nonce_management()
        .wallet(EthereumWallet::from(signer))
        .connect_http(url)
        .erased())
}

/// Parses a hex private key (with or without `0x`).
pub fn signer_from_hex(key: &str) -> Result<PrivateKeySigner> {
    key.trim().parse().map_err(|_| Error::Config("private key: expected 32 bytes of hex".into()))
}

/// anvil's chain id: the only chain development keys belong on.
pub const LOCAL_CHAIN_ID: u64 = 31337;

/// Deploys the jejak contracts from `provider`'s signer: the registry with `admin` and
/// `operator`, reputation roots with a validity window of `root_window_secs`, and
/// `JejakProofVerifier` from `proof_verifier_bytecode` (its creation code, as `forge build`
/// writes it after `jejak zk export-solidity` replaced `JejakGroth16Verifier.sol`) or, when `None`,
/// the committed one, whose verifying key is the INSECURE development key.
pub async fn deploy(
    provider: &DynProvider,
    admin: Address,
    operator: Address,
    root_window_secs: u64,
    proof_verifier_bytecode: Option<&[u8]>,
) -> Result<Deployment> {
    let chain_id = provider.get_chain_id().await?;
    let start_block = provider.get_block_number().await?;
    let registry = JejakRegistry::deploy(provider, admin, operator).await?;
    let attestations = JejakAttestations::deploy(provider, *registry.address()).await?;
    let roots = JejakReputationRoots::deploy(provider, *registry.address(), root_window_secs).await?;
    let evidence = JejakEvidenceLog::deploy(provider, *registry.address()).await?;
    let proof_verifier = match proof_verifier_bytecode {
        None => *JejakProofVerifier::deploy(provider, *roots.address()).await?.address(),
        Some(code) => {
            use alloy::sol_types::SolValue;
            let input = [code, &roots.address().abi_encode()].concat();
            alloy::contract::RawCallBuilder::new_raw_deploy(provider.clone(), input.into()).deploy().await?
        }
    };
    Ok(Deployment {
        chain_id,
        registry: *registry.address(),
        attestations: *attestations.address(),
        reputation_roots: *roots.address(),
        evidence_log: *evidence.address(),
        proof_verifier,
        start_block: start_block + 1,
    })
}
