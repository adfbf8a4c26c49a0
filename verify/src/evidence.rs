//! Checking evidence without trusting the node: `jejak evidence verify` and `jejak evidence audit`.
//!
//! - [`verify`]: a file against its receipt (SHA-256, metadata hash, inclusion path), then the
//!   receipt against the chain: the RPC serves the receipt's chain, the evidence log contract
//!   anchored exactly the receipt's root at exactly its size (`rootAtSize`), and the receipt's
//!   transaction, mined in the receipt's block, emitted that anchor. No node is asked anything.
//! - [`audit`]: reads every checkpoint the contract holds and asks a node for the consistency
//!   proof between each consecutive pair of anchored sizes (and from the last one to the node's
//!   current log), checked against the roots read from the chain: a node that rewrote any part
//!   of its log since anchoring it cannot produce them.

use std::io::Read as _;
use std::path::Path;

use alloy::primitives::{Address, B256};
use alloy::providers::Provider as _;
use jejak_chain::bindings::JejakEvidenceLog;
use jejak_core::merkle;
use jejak_evidence::{
    AnchoredRoot, EvidenceReceipt, ParseLimits, ReasonCode, SizeLimits, check_anchor, verify_receipt_digest,
    verify_receipt_metadata,
};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use crate::{Error, Result};

fn receipt_err(code: ReasonCode, detail: impl Into<String>) -> Error {
    Error::Receipt { code, detail: detail.into() }
}

/// Reads a receipt: either the bare receipt or the whole answer of
/// `GET /v1/evidence/{sha256}/receipt` (its `receipt` member).
pub fn parse_receipt(bytes: &[u8]) -> Result<EvidenceReceipt> {
    let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| Error::BadReceipt(e.to_string()))?;
    let inner = match v.get("receipt") {
        Some(r) if v.get("version").is_none() => r.clone(),
        _ => v,
    };
    serde_json::from_value(inner).map_err(|e| Error::BadReceipt(e.to_string()))
}

/// What [`verify`] established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// SHA-256 of the file.
    pub file_sha256: [u8; 32],
    /// The file's leaf index in the log.
    pub leaf_index: u64,
    /// The anchored log size the proof is against.
    pub tree_size: u64,
    /// The anchored root.
    pub root: [u8; 32],
    /// The anchor as read from the chain.
    pub anchored: AnchoredRoot,
}

/// Checks `file` against `receipt`, and the receipt against the chain at `rpc_url`.
pub async fn verify(file: &Path, receipt: &EvidenceReceipt, rpc_url: &str) -> Result<Verified> {
    let (sha, bytes) = hash_file(file)?;
    verify_receipt_digest(&sha, receipt)
        .map_err(|code| receipt_err(code, format!("file SHA-256 {} against the receipt", hex::encode(sha))))?;
    // The metadata hash commits to what the node extracted from the file; extracting again here
    // shows the node did not make it up.
    if let Some(bytes) = bytes {
        let limits = SizeLimits { photo_bytes: u64::MAX, track_bytes: u64::MAX };
        let analyzed = jejak_evidence::analyze(&bytes, &limits, &ParseLimits::default())
            .map_err(|e| receipt_err(ReasonCode::ReceiptMetadataMismatch, format!("the file does not analyse: {e}")))?;
        verify_receipt_metadata(&analyzed.metadata, receipt).map_err(|code| {
            receipt_err(code, "metadata extracted from the file against the receipt's metadata hash")
        })?;
    }
    let anchor = receipt
        .anchor
        .ok_or_else(|| receipt_err(ReasonCode::ReceiptAnchorMismatch, "the receipt is not anchored yet"))?;

    let provider = jejak_chain::connect(rpc_url).map_err(Error::rpc)?;
    let chain_id = provider.get_chain_id().await.map_err(Error::rpc)?;
    if chain_id != anchor.chain_id {
        return Err(receipt_err(
            ReasonCode::ReceiptAnchorMismatch,
            format!("the RPC serves chain {chain_id}; the receipt is anchored on chain {}", anchor.chain_id),
        ));
    }
    let contract = Address::from(anchor.contract);
    let log = JejakEvidenceLog::new(contract, &provider);
    let at_size: B256 = log.rootAtSize(receipt.tree_size).call().await.map_err(Error::rpc)?;
    if at_size != B256::from(receipt.root) {
        return Err(receipt_err(
            ReasonCode::ReceiptAnchorMismatch,
            format!("{contract} anchored {at_size} at size {}, not the receipt's root", receipt.tree_size),
        ));
    }
    let tx = B256::from(anchor.tx_hash);
    let mined =
        provider.get_transaction_receipt(tx).await.map_err(Error::rpc)?.ok_or_else(|| {
            receipt_err(ReasonCode::ReceiptAnchorMismatch, format!("transaction {tx} is not on chain"))
        })?;
    if !mined.status() {
        return Err(receipt_err(ReasonCode::ReceiptAnchorMismatch, format!("transaction {tx} reverted")));
    }
    let found = mined.logs().iter().filter(|l| l.address() == contract).find_map(|l| {
        let e = l.log_decode::<JejakEvidenceLog::EvidenceAnchored>().ok()?;
        let e = e.inner.data;
        (e.size == receipt.tree_size).then_some((e.root, e.size))
    });
    let Some((root, size)) = found else {
        return Err(receipt_err(
            ReasonCode::ReceiptAnchorMismatch,
            format!("transaction {tx} anchored no head of size {} in {contract}", receipt.tree_size),
        ));
    };
    let anchored = AnchoredRoot {
        chain_id,
        contract: contract.into(),
        tx_hash: anchor.tx_hash,
        block_number: mined.block_number.unwrap_or_default(),
        root: root.0,
        size,
    };
    check_anchor(receipt, &anchored).map_err(|code| {
        receipt_err(
            code,
            format!(
                "chain: root {} size {} in block {}; receipt: root {} size {} in block {}",
                root,
                size,
                anchored.block_number,
                B256::from(receipt.root),
                receipt.tree_size,
                anchor.block_number
            ),
        )
    })?;
    Ok(Verified {
        file_sha256: sha,
        leaf_index: receipt.leaf_index,
        tree_size: receipt.tree_size,
        root: receipt.root,
        anchored,
    })
}

/// Most bytes read into memory to re-extract metadata; larger files are only hashed.
const MAX_ANALYSED: u64 = 256 << 20;

/// Streams the file through SHA-256; returns its bytes too when small enough to analyse.
fn hash_file(path: &Path) -> Result<([u8; 32], Option<Vec<u8>>)> {
    let io = |e| Error::Io(path.display().to_string(), e);
    let mut f = std::fs::File::open(path).map_err(io)?;
    let len = f.metadata().map_err(io)?.len();
    if len <= MAX_ANALYSED {
        let mut bytes = Vec::with_capacity(len as usize);
        f.read_to_end(&mut bytes).map_err(io)?;
        return Ok((Sha256::digest(&bytes).into(), Some(bytes)));
    }
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok((hasher.finalize().into(), None))
}

/// One anchored head of the log, as the contract holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnchoredHead {
    /// Checkpoint index (from 1).
    pub index: u64,
    /// Log size.
    pub size: u64,
    /// Root at that size.
    pub root: [u8; 32],
}

/// What [`audit`] established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    /// Chain the heads were read from.
    pub chain_id: u64,
    /// The evidence log contract.
    pub contract: Address,
    /// Every anchored head, oldest first.
    pub heads: Vec<AnchoredHead>,
    /// Consecutive pairs of anchored heads whose consistency proof verified.
    pub pairs_checked: usize,
    /// The node's current log size, shown to extend the last anchored head.
    pub node_log_size: u64,
}

#[derive(Deserialize)]
struct NodeCheckpoints {
    chain_id: u64,
    contract: Address,
    log_size: u64,
}

#[derive(Deserialize)]
struct NodeProof {
    from_root: String,
    to_root: String,
    proof: Vec<String>,
}

fn digest(s: &str) -> Result<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).map_err(|e| Error::Node(format!("`{s}` is not a 32-byte hex digest: {e}")))?;
    Ok(out)
}

async fn get_json<T: serde::de::DeserializeOwned>(http: &reqwest::Client, url: &str) -> Result<T> {
    let resp = http.get(url).send().await.map_err(|e| Error::Node(format!("{url}: {e}")))?;
    let status = resp.status();
    let body = resp.bytes().await.map_err(|e| Error::Node(format!("{url}: {e}")))?;
    if !status.is_success() {
        return Err(Error::Node(format!("{url}: {status}: {}", String::from_utf8_lossy(&body))));
    }
    serde_json::from_slice(&body).map_err(|e| Error::Node(format!("{url}: unexpected answer: {e}")))
}

/// Checks that the node at `node_url` never rewrote its evidence log: every consecutive pair of
/// heads anchored in the contract (given, or as the node names it) is consistent, and so is the
/// last one with the node's current log.
pub async fn audit(rpc_url: &str, node_url: &str, contract: Option<Address>) -> Result<AuditReport> {
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| Error::Node(e.to_string()))?;
    let base = node_url.trim_end_matches('/');
    let info: NodeCheckpoints = get_json(&http, &format!("{base}/v1/evidence/checkpoints")).await?;
    let provider = jejak_chain::connect(rpc_url).map_err(Error::rpc)?;
    let chain_id = provider.get_chain_id().await.map_err(Error::rpc)?;
    if info.chain_id != chain_id {
        return Err(Error::Node(format!(
            "the node anchors on chain {}, the RPC serves chain {chain_id}",
            info.chain_id
        )));
    }
    let contract = contract.unwrap_or(info.contract);
    let log = JejakEvidenceLog::new(contract, &provider);
    let count: u64 = log.checkpointCount().call().await.map_err(Error::rpc)?;
    let mut heads = Vec::with_capacity(count as usize);
    for index in 1..=count {
        let c = log.checkpoint(index).call().await.map_err(Error::rpc)?;
        heads.push(AnchoredHead { index, size: c.size, root: c.root.0 });
    }

    let check = |from: &AnchoredHead, to_size: u64, to_root: Option<[u8; 32]>, p: NodeProof| {
        let rewritten = |detail: String| Error::LogRewritten { from: from.size, to: to_size, detail };
        let node_from = digest(&p.from_root)?;
        let node_to = digest(&p.to_root)?;
        if node_from != from.root {
            return Err(rewritten(format!(
                "the node's root at size {} is {}, the chain anchored {}",
                from.size,
                hex::encode(node_from),
                hex::encode(from.root)
            )));
        }
        let to_root = to_root.unwrap_or(node_to);
        if node_to != to_root {
            return Err(rewritten(format!(
                "the node's root at size {to_size} is {}, the chain anchored {}",
                hex::encode(node_to),
                hex::encode(to_root)
            )));
        }
        let proof = p.proof.iter().map(|s| digest(s)).collect::<Result<Vec<_>, _>>()?;
        if !merkle::verify_consistency(from.size, to_size, &from.root, &to_root, &proof) {
            return Err(rewritten("the consistency proof does not verify against the anchored roots".into()));
        }
        Ok(())
    };

    let proof_url = |from: u64, to: u64| format!("{base}/v1/evidence/consistency?from={from}&to={to}");
    let mut pairs_checked = 0;
    for w in heads.windows(2) {
        let p: NodeProof = get_json(&http, &proof_url(w[0].size, w[1].size)).await?;
        check(&w[0], w[1].size, Some(w[1].root), p)?;
        pairs_checked += 1;
    }
    if let Some(last) = heads.last() {
        if info.log_size < last.size {
            return Err(Error::LogRewritten {
                from: last.size,
                to: info.log_size,
                detail: format!("the node's log holds {} leaves, fewer than the {} anchored", info.log_size, last.size),
            });
        }
        let p: NodeProof = get_json(&http, &proof_url(last.size, info.log_size)).await?;
        check(last, info.log_size, None, p)?;
    }
    Ok(AuditReport { chain_id, contract, heads, pairs_checked, node_log_size: info.log_size })
}
