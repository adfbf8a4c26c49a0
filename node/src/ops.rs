//! Operator actions on chain: deploying the contracts and registering platforms.

use alloy::primitives::Address;
use anyhow::Context as _;
use jejak_chain::Deployment;
use jejak_chain::bindings::JejakRegistry;
use serde::{Deserialize, Serialize};

/// A platform's public profile, published on IPFS; its CID goes in the registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformProfile {
    /// Always `jejak.platform-profile`.
    pub kind: String,
    /// Format version.
    pub version: u32,
    /// Display name.
    pub name: String,
    /// Website.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Kinds of work.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Rating scale maximum (5 for five stars).
    pub rating_scale: u32,
}

impl PlatformProfile {
    /// A profile with the current format.
    pub fn new(name: &str, url: Option<&str>, categories: &[&str], rating_scale: u32) -> Self {
        Self {
            kind: "jejak.platform-profile".into(),
            version: 1,
            name: name.into(),
            url: url.map(Into::into),
            categories: categories.iter().map(|c| c.to_string()).collect(),
            rating_scale,
        }
    }

    /// Canonical bytes (RFC 8785), as published.
    pub fn to_bytes(&self) -> Vec<u8> {
        jejak_core::jcs::to_vec(self).expect("a profile serialises")
    }
}

/// Deploys the contracts with `key` as deployer, admin and operator (admin may be another
/// address), reputation roots valid for `root_window_secs` after replacement.
pub async fn deploy(rpc: &str, key: &str, admin: Option<Address>, root_window_secs: u64) -> anyhow::Result<Deployment> {
    let signer = jejak_chain::signer_from_hex(key)?;
    let operator = signer.address();
    let provider = jejak_chain::connect_signing(rpc, signer)?;
    let d = jejak_chain::deploy(&provider, admin.unwrap_or(operator), operator, root_window_secs)
        .await
        .context("deploying the jejak contracts")?;
    tracing::info!(target: "jejak::node", registry = %d.registry, attestations = %d.attestations, "contracts deployed");
    Ok(d)
}

/// Registers a platform (operator only); returns its id.
pub async fn register_platform(
    rpc: &str,
    key: &str,
    registry: Address,
    signer: Address,
    profile_cid: &str,
) -> anyhow::Result<u64> {
    let provider = jejak_chain::connect_signing(rpc, jejak_chain::signer_from_hex(key)?)?;
    let reg = JejakRegistry::new(registry, &provider);
    let receipt = reg
        .registerPlatform(signer, profile_cid.to_string())
        .send()
        .await
        .context("sending registerPlatform")?
        .get_receipt()
        .await
        .context("waiting for registerPlatform")?;
    anyhow::ensure!(receipt.status(), "registerPlatform reverted");
    let id = receipt
        .decoded_log::<JejakRegistry::PlatformRegistered>()
        .map(|l| l.data.platformId)
        .context("registerPlatform emitted no PlatformRegistered")?;
    Ok(id)
}
