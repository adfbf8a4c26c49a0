//! Operator actions on chain: deploying the contracts and registering platforms.

use std::path::PathBuf;

use alloy::primitives::Address;
use anyhow::Context as _;
use jejak_chain::Deployment;
use jejak_chain::bindings::JejakRegistry;
use jejak_prover::KeyOrigin;
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

/// The flag that lets development keys onto a chain other than anvil's.
pub const ALLOW_INSECURE_FLAG: &str = "--allow-insecure-dev-keys";

/// What `jejak deploy` deploys beyond the defaults.
#[derive(Debug, Clone, Default)]
pub struct DeployOptions {
    /// Admin of the registry (default: the operator).
    pub admin: Option<Address>,
    /// How long a replaced reputation root stays accepted, seconds.
    pub root_window_secs: u64,
    /// The ceremony's verifier: `JejakProofVerifier` built with the `JejakGroth16Verifier.sol`
    /// that `jejak zk export-solidity` wrote, and the verifying key it was exported from. `None`:
    /// the committed verifier, whose key is the INSECURE development key.
    pub proof_verifier: Option<(PathBuf, PathBuf)>,
    /// Deploy a development key's verifier on a chain other than anvil's anyway.
    pub allow_insecure_dev_keys: bool,
}

/// Fails when keys of `origin` would serve chain `chain_id`: development keys belong on anvil's
/// chain only, unless `allowed` (then the caller has been warned, loudly).
pub fn check_key_origin(chain_id: u64, origin: &KeyOrigin, allowed: bool, what: &str) -> anyhow::Result<()> {
    if !origin.is_insecure() || chain_id == jejak_chain::LOCAL_CHAIN_ID {
        return Ok(());
    }
    anyhow::ensure!(
        allowed,
        "{what} uses the INSECURE development key ({origin}) on chain {chain_id}: anyone can forge proofs \
         that it accepts. Run a phase-2 ceremony (README, \"Keys from a ceremony\") and use its keys, or pass \
         {ALLOW_INSECURE_FLAG} if forged proofs on this chain do not matter"
    );
    tracing::error!(target: "jejak::node", chain_id, %origin, "{what} uses the INSECURE development key on a public chain ({ALLOW_INSECURE_FLAG}): anyone can forge proofs");
    Ok(())
}

/// Reads a `forge build` artifact (`{"bytecode": {"object": "0x..."}}`) or a bare hex file.
fn creation_code(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let hex_code = match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(v) => v
            .pointer("/bytecode/object")
            .and_then(serde_json::Value::as_str)
            .with_context(|| format!("{}: no bytecode.object (a forge artifact is expected)", path.display()))?
            .to_owned(),
        Err(_) => text.trim().to_owned(),
    };
    let code = hex::decode(hex_code.trim_start_matches("0x"))
        .with_context(|| format!("{}: the bytecode is not hex (unlinked libraries?)", path.display()))?;
    anyhow::ensure!(!code.is_empty(), "{}: empty bytecode", path.display());
    Ok(code)
}

/// Deploys the contracts with `key` as deployer, admin and operator (admin may be another
/// address), reputation roots valid for `root_window_secs` after replacement. Before any
/// transaction it checks the verifier's key: the committed (development) verifier or a
/// development key on a chain other than anvil's is refused unless allowed, and an artifact must
/// embed the verifying key given with it.
pub async fn deploy(rpc: &str, key: &str, opts: &DeployOptions) -> anyhow::Result<Deployment> {
    let signer = jejak_chain::signer_from_hex(key)?;
    let operator = signer.address();
    let provider = jejak_chain::connect_signing(rpc, signer)?;
    let chain_id = alloy::providers::Provider::get_chain_id(&provider).await.context("asking the RPC its chain id")?;
    let code = match &opts.proof_verifier {
        None => {
            let origin = KeyOrigin::InsecureDevSetup { seed: jejak_prover::setup::DEFAULT_DEV_SEED.into() };
            check_key_origin(chain_id, &origin, opts.allow_insecure_dev_keys, "the committed JejakProofVerifier")?;
            None
        }
        Some((artifact, vk_path)) => {
            let vk = jejak_prover::VerifyingKeyFile::read(vk_path)
                .with_context(|| format!("reading the verifying key {}", vk_path.display()))?;
            check_key_origin(chain_id, &vk.info.origin, opts.allow_insecure_dev_keys, "the verifier")?;
            let code = creation_code(artifact)?;
            anyhow::ensure!(
                jejak_prover::solidity::embeds_key(&code, &vk.key),
                "{} does not embed the verifying key {} (sha256 {}): export it with `jejak zk export-solidity` \
                 and build again",
                artifact.display(),
                vk_path.display(),
                vk.key_hash()?
            );
            tracing::info!(target: "jejak::node", origin = %vk.info.origin, key = %vk.key_hash()?, "deploying the ceremony's verifier");
            Some(code)
        }
    };
    let d = jejak_chain::deploy(
        &provider,
        opts.admin.unwrap_or(operator),
        operator,
        opts.root_window_secs,
        code.as_deref(),
    )
    .await
    .context("deploying the jejak contracts")?;
    tracing::info!(target: "jejak::node", registry = %d.registry, attestations = %d.attestations, proof_verifier = %d.proof_verifier, "contracts deployed");
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
