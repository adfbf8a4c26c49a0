//! Portable worker bundles: a worker's attestations with everything needed to check them, and
//! their leaf in the latest snapshot, verifiable against the chain and IPFS without this node.
//!
//! A bundle is one RFC 8785 (canonical JSON) document, `jejak.worker-bundle` version 1. Every
//! byte is bound to something a verifier checks independently:
//!
//! - each event, by its salted leaf, the RFC 6962 inclusion proof, and the batch root, count and
//!   platform the attestations contract holds for the batch id; the anchoring transaction's
//!   receipt must carry that batch's `BatchAnchored` in the block named, at or below finality;
//! - the snapshot, by the contract's `rootOf(epoch)`, the `RootPublished` event in the block
//!   named (root and manifest CID), the manifest and parameters fetched from IPFS by CID;
//! - the leaf, by recomputing it from the commitment, the score card, the epoch and the salt,
//!   its Poseidon path to the on-chain root, and the same leaf in the published page;
//! - the score card, by recomputing it from the bundle's own attestations with the published
//!   parameters and platform totals;
//! - the layout, by requiring the file to be exactly the canonical form of what it parses to
//!   (so even whitespace cannot change), with attestations in chain order.

use std::collections::HashMap;

use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
use alloy::rpc::types::Filter;
use alloy::sol_types::SolEvent as _;
use jejak_chain::bindings::{JejakAttestations, JejakReputationRoots};
use jejak_core::attestation::{self, Salt};
use jejak_core::merkle::{self, MerkleTree};
use jejak_core::{cid, jcs};
use jejak_indexer::decode::{self, Contracts};
use jejak_ipfs::Fetcher;
use jejak_scoring::snapshot::{LEAVES_PER_PAGE, Manifest, parse_hex_fr};
use jejak_scoring::{Attested, Commitment, Engine, Params, ScoreCard, Tier};
use jejak_store::chain::ChainEvent;
use jejak_store::scores::{self, EpochStatus};
use jejak_store::{Store, attestations, batches, chain};
use jejak_zk_circuits::{Fr, MerklePath, PoseidonTree, fr_from_be_bytes, fr_to_be_bytes};
use serde::{Deserialize, Serialize};

use crate::{ChainView, Error, Result};

/// Document kind tag.
pub const BUNDLE_KIND: &str = "jejak.worker-bundle";
/// Format version.
pub const BUNDLE_VERSION: u32 = 1;

/// A worker bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// Always [`BUNDLE_KIND`].
    pub kind: String,
    /// [`BUNDLE_VERSION`].
    pub version: u32,
    /// EVM chain id.
    pub chain_id: u64,
    /// The `JejakAttestations` contract, `0x` + 40 lowercase hex digits.
    pub attestations_contract: String,
    /// The `JejakReputationRoots` contract.
    pub reputation_roots_contract: String,
    /// The identity commitment (decimal).
    pub worker: String,
    /// The worker's anchored attestations, in chain order (block, batch, leaf).
    pub attestations: Vec<BundleAttestation>,
    /// The worker's leaf in the latest snapshot.
    pub snapshot: BundleSnapshot,
}

/// One attestation and its anchor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleAttestation {
    /// The platform of the batch.
    pub platform_id: u64,
    /// The event exactly as attested (its RFC 8785 form is what the leaf commits to).
    pub event: serde_json::Value,
    /// The leaf salt, `0x` + 64 hex digits.
    pub salt: String,
    /// The RFC 6962 leaf hash.
    pub leaf: String,
    /// Its index in the batch.
    pub leaf_index: u64,
    /// RFC 6962 inclusion proof, leaf level first.
    pub inclusion_proof: Vec<String>,
    /// Where the batch is anchored.
    pub batch: BatchAnchor,
}

/// An anchored batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchAnchor {
    /// On-chain batch id.
    pub batch_id: u64,
    /// RFC 6962 root.
    pub root: String,
    /// Leaves in the batch.
    pub count: u64,
    /// The anchoring transaction.
    pub transaction_hash: String,
    /// Its block.
    pub block_number: u64,
    /// That block's hash.
    pub block_hash: String,
}

/// The worker's place in a published snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleSnapshot {
    /// Epoch.
    pub epoch: u64,
    /// Manifest CID (as published with the root).
    pub manifest_cid: String,
    /// Poseidon root.
    pub root: String,
    /// Block of the `RootPublished` event.
    pub published_block: u64,
    /// Its transaction.
    pub published_transaction: String,
    /// Leaf index.
    pub leaf_index: u64,
    /// The leaf.
    pub leaf: String,
    /// The worker's salt for this epoch (a field element).
    pub salt: String,
    /// Poseidon siblings, leaf level first.
    pub path: Vec<String>,
    /// The score card the leaf commits to (reputation, gigs, tier) and the rest of it.
    pub card: ScoreCard,
}

fn hex0x(b: &[u8]) -> String {
    format!("0x{}", hex::encode(b))
}

/// `0x` + 64 lowercase hex digits.
fn parse32(what: &str, s: &str) -> Result<[u8; 32]> {
    let bad = || Error::Malformed(format!("{what}: expected 0x and 64 lowercase hex digits"));
    let d = s.strip_prefix("0x").ok_or_else(bad)?;
    if d.len() != 64 || !d.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(d, &mut out).map_err(|_| bad())?;
    Ok(out)
}

fn parse_address(what: &str, s: &str) -> Result<Address> {
    let bad = || Error::Malformed(format!("{what}: expected 0x and 40 lowercase hex digits"));
    let d = s.strip_prefix("0x").ok_or_else(bad)?;
    if d.len() != 40 || !d.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err(bad());
    }
    d.parse::<Address>().map_err(|_| bad())
}

fn fr(what: &str, s: &str) -> Result<Fr> {
    parse_hex_fr(s).map_err(|e| Error::Malformed(format!("{what}: {e}")))
}

/// What export needs to know about the deployment.
#[derive(Debug, Clone, Copy)]
pub struct Deployment {
    /// EVM chain id.
    pub chain_id: u64,
    /// `JejakAttestations`.
    pub attestations: Address,
    /// `JejakReputationRoots`.
    pub reputation_roots: Address,
}

/// Builds the bundle of `worker` (a decimal commitment) for its latest published epoch (or
/// `epoch`), from the node's database and blockstore. Returns the canonical bytes.
pub async fn export(store: &Store, d: Deployment, worker: &str, epoch: Option<u64>) -> Result<Vec<u8>> {
    let ex = Error::Export;
    let commitment = Commitment::from_decimal(worker).map_err(|e| Error::Malformed(e.to_string()))?;
    let chain_id = d.chain_id as i64;
    let mut c = store.conn().await?;
    let history = scores::worker_history(&mut c, chain_id, &commitment.0, 10_000).await?;
    let (row, _) = history
        .into_iter()
        .find(|(w, s)| *s == EpochStatus::Published && epoch.is_none_or(|e| w.epoch == e as i64))
        .ok_or_else(|| ex(format!("no published score for worker {worker}")))?;
    let ep = scores::epoch(&mut c, chain_id, row.epoch).await?.ok_or_else(|| ex("epoch row missing".into()))?;
    let published = scores::published_root(&mut c, chain_id, row.epoch)
        .await?
        .ok_or_else(|| ex(format!("the RootPublished event of epoch {} is not indexed yet", row.epoch)))?;
    let card: ScoreCard = serde_json::from_str(&row.card).map_err(|e| ex(format!("stored score card: {e}")))?;

    // The Poseidon path, from the stored leaves (checked against the published root).
    let leaves = scores::leaves(&mut c, chain_id, row.epoch).await?;
    let leaves: Vec<Fr> =
        leaves.iter().map(fr_from_be_bytes).collect::<Result<_, _>>().map_err(|e| ex(format!("stored leaf: {e}")))?;
    let tree = PoseidonTree::from_leaves(ep.depth as usize, leaves).map_err(|e| ex(e.to_string()))?;
    if fr_to_be_bytes(&tree.root()) != published.root {
        return Err(ex(format!("stored leaves of epoch {} do not give the published root", row.epoch)));
    }
    let path = tree.path(row.leaf_index as u64).map_err(|e| ex(e.to_string()))?;

    // Every anchored, final attestation of the accounts the card names.
    let accounts: Vec<(i64, String)> =
        card.platforms.iter().map(|p| (p.platform_id as i64, p.worker_ref.clone())).collect();
    let rows = scores::account_attestations(&mut c, &accounts).await?;
    let finalized = chain::cursor(&mut c, chain_id).await?.map_or(0, |cur| cur.finalized_number);
    let mut out = Vec::new();
    let mut trees: HashMap<i64, (MerkleTree, chain::ChainBatch)> = HashMap::new();
    for r in rows {
        let (Some(batch_id), Some(leaf_index)) = (r.batch_id, r.leaf_index) else { continue };
        if let std::collections::hash_map::Entry::Vacant(slot) = trees.entry(batch_id) {
            let Some(b) = batches::get(&mut c, batch_id).await? else { continue };
            let Some(anchor) = chain::batch_by_root(&mut c, chain_id, b.platform_id, &b.root).await? else {
                continue;
            };
            let tree = MerkleTree::from_leaf_hashes(attestations::batch_leaves(&mut c, batch_id).await?);
            if tree.root() != b.root {
                return Err(ex(format!("local batch {batch_id} does not give its root")));
            }
            slot.insert((tree, anchor));
        }
        let (tree, anchor) = &trees[&batch_id];
        if anchor.key.block_number > finalized {
            continue;
        }
        let a = &r.attestation;
        let proof = tree.inclusion_proof(leaf_index as u64).map_err(|e| ex(e.to_string()))?;
        out.push(BundleAttestation {
            platform_id: anchor.platform_id as u64,
            event: serde_json::from_str(&a.body).map_err(|e| ex(format!("stored body of {}: {e}", a.id)))?,
            salt: hex0x(&a.salt),
            leaf: hex0x(&a.leaf),
            leaf_index: leaf_index as u64,
            inclusion_proof: proof.iter().map(|p| hex0x(p)).collect(),
            batch: BatchAnchor {
                batch_id: anchor.batch_id as u64,
                root: hex0x(&anchor.root),
                count: anchor.count as u64,
                transaction_hash: hex0x(&anchor.key.tx_hash),
                block_number: anchor.key.block_number as u64,
                block_hash: hex0x(&anchor.key.block_hash),
            },
        });
    }
    out.sort_by_key(|a| (a.batch.block_number, a.batch.batch_id, a.leaf_index));
    let bundle = Bundle {
        kind: BUNDLE_KIND.into(),
        version: BUNDLE_VERSION,
        chain_id: d.chain_id,
        attestations_contract: hex0x(d.attestations.as_slice()),
        reputation_roots_contract: hex0x(d.reputation_roots.as_slice()),
        worker: commitment.to_decimal(),
        attestations: out,
        snapshot: BundleSnapshot {
            epoch: row.epoch as u64,
            manifest_cid: published.snapshot_cid.clone(),
            root: hex0x(&published.root),
            published_block: published.key.block_number as u64,
            published_transaction: hex0x(&published.key.tx_hash),
            leaf_index: row.leaf_index as u64,
            leaf: hex0x(&row.leaf),
            salt: hex0x(&row.salt),
            path: path.siblings.iter().map(|s| hex0x(&fr_to_be_bytes(s))).collect(),
            card,
        },
    };
    // Catch an export the verifier would refuse before handing it out.
    let bytes = jcs::to_vec(&bundle).map_err(|e| ex(e.to_string()))?;
    check_offline(&bytes)?;
    Ok(bytes)
}

/// A bundle that passed the checks that need no chain or IPFS.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The bundle.
    pub bundle: Bundle,
    /// Its attestations, read for scoring, with their anchor block.
    pub events: Vec<(Attested, u64, [u8; 32])>,
    /// The commitment.
    pub commitment: Commitment,
    /// The leaf.
    pub leaf: Fr,
    /// The Poseidon path.
    pub path: MerklePath,
    /// The root.
    pub root: Fr,
}

/// The checks that need nothing but the bytes: canonical form, every leaf, inclusion proof and
/// the Poseidon path.
pub fn check_offline(bytes: &[u8]) -> Result<Parsed> {
    let bundle: Bundle =
        serde_json::from_slice(bytes).map_err(|e| Error::Malformed(format!("not a worker bundle: {e}")))?;
    if jcs::to_vec(&bundle).map_err(|e| Error::Malformed(e.to_string()))? != bytes {
        return Err(Error::NotCanonical);
    }
    if bundle.kind != BUNDLE_KIND || bundle.version != BUNDLE_VERSION {
        return Err(Error::Malformed(format!("unsupported {} v{}", bundle.kind, bundle.version)));
    }
    parse_address("attestations_contract", &bundle.attestations_contract)?;
    parse_address("reputation_roots_contract", &bundle.reputation_roots_contract)?;
    let commitment = Commitment::from_decimal(&bundle.worker).map_err(|e| Error::Malformed(e.to_string()))?;
    let order: Vec<(u64, u64, u64)> =
        bundle.attestations.iter().map(|a| (a.batch.block_number, a.batch.batch_id, a.leaf_index)).collect();
    if !order.windows(2).all(|w| w[0] < w[1]) {
        return Err(Error::Malformed("attestations are not in chain order".into()));
    }
    let mut events = Vec::with_capacity(bundle.attestations.len());
    for (i, a) in bundle.attestations.iter().enumerate() {
        let what = |m: &str| Error::Attestation(format!("attestation {i}: {m}"));
        let canonical = jcs::to_vec(&a.event).map_err(|e| what(&e.to_string()))?;
        let digest = attestation::event_digest(&canonical);
        let leaf = attestation::leaf_hash(&Salt(parse32("salt", &a.salt)?), &digest);
        if hex0x(&leaf) != a.leaf {
            return Err(what("the event and salt do not give its leaf"));
        }
        let proof: Vec<[u8; 32]> =
            a.inclusion_proof.iter().map(|p| parse32("inclusion_proof", p)).collect::<Result<_>>()?;
        let root = parse32("batch.root", &a.batch.root)?;
        if !merkle::verify_inclusion(a.leaf_index, a.batch.count, &leaf, &proof, &root) {
            return Err(what("the inclusion proof does not lead to the batch root"));
        }
        parse32("batch.transaction_hash", &a.batch.transaction_hash)?;
        parse32("batch.block_hash", &a.batch.block_hash)?;
        let text = String::from_utf8(canonical).expect("canonical JSON is UTF-8");
        let attested = Attested::from_canonical(a.platform_id, &text).map_err(|e| what(&e.to_string()))?;
        events.push((attested, a.batch.block_number, leaf));
    }
    let s = &bundle.snapshot;
    let root = fr("snapshot.root", &s.root)?;
    let salt = fr("snapshot.salt", &s.salt)?;
    let tier = s.card.tier.leaf_value();
    let leaf = jejak_zk_circuits::worker_leaf(
        commitment.to_fr(),
        u64::from(s.card.reputation),
        s.card.gigs,
        tier,
        s.epoch,
        salt,
    );
    if hex0x(&fr_to_be_bytes(&leaf)) != s.leaf {
        return Err(Error::Leaf("the commitment, score card, epoch and salt do not give the leaf".into()));
    }
    let siblings: Vec<Fr> = s.path.iter().map(|p| fr("snapshot.path", p)).collect::<Result<_>>()?;
    let path = MerklePath { index: s.leaf_index, siblings };
    if path.depth() == 0 || path.depth() > 64 || (path.depth() < 64 && s.leaf_index >> path.depth() != 0) {
        return Err(Error::Leaf("the path does not fit the leaf index".into()));
    }
    if !path.verify(leaf, root) {
        return Err(Error::Leaf("the Poseidon path does not lead to the root".into()));
    }
    parse32("snapshot.published_transaction", &s.published_transaction)?;
    cid::parse(&s.manifest_cid).map_err(|e| Error::Malformed(e.to_string()))?;
    Ok(Parsed { bundle, events, commitment, leaf, path, root })
}

/// What a verified bundle says.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The worker.
    pub worker: String,
    /// The snapshot epoch.
    pub epoch: u64,
    /// Leaf index.
    pub leaf_index: u64,
    /// Attestations checked.
    pub attestations: usize,
    /// Of them, counted in the epoch's score.
    pub counted: usize,
    /// Reputation.
    pub reputation: u32,
    /// Credit score.
    pub credit: u32,
    /// Tier.
    pub tier: Tier,
    /// Whether the chain still accepts the root in proofs.
    pub root_accepted: bool,
}

/// Verifies `bytes` against the chain behind `chain` and the documents `fetcher` finds.
pub async fn verify(bytes: &[u8], chain: &ChainView, fetcher: &Fetcher) -> Result<Verified> {
    let p = check_offline(bytes)?;
    let b = &p.bundle;
    let provider = &chain.provider;
    let chain_id = provider.get_chain_id().await.map_err(Error::rpc)?;
    if chain_id != b.chain_id {
        return Err(Error::WrongChain(format!("the RPC serves chain {chain_id}, the bundle is for {}", b.chain_id)));
    }
    let atts = parse_address("attestations_contract", &b.attestations_contract)?;
    let roots_addr = parse_address("reputation_roots_contract", &b.reputation_roots_contract)?;
    let contracts = Contracts {
        registry: Address::ZERO,
        attestations: atts,
        reputation_roots: roots_addr,
        evidence_log: Address::ZERO,
        proof_verifier: None,
    };
    let finalized = provider
        .get_block_by_number(BlockNumberOrTag::Finalized)
        .await
        .map_err(Error::rpc)?
        .map(|h| h.header.number)
        .ok_or_else(|| Error::Rpc("the RPC has no finalized block".into()))?;

    // The root, its event and the documents it names.
    let s = &b.snapshot;
    let roots = JejakReputationRoots::new(roots_addr, provider);
    let info = roots.rootOf(s.epoch).call().await.map_err(Error::rpc)?;
    if hex0x(info.root.as_slice()) != s.root {
        return Err(Error::Snapshot(format!(
            "the chain's root of epoch {} is {}",
            s.epoch,
            hex0x(info.root.as_slice())
        )));
    }
    let filter = Filter::new()
        .address(roots_addr)
        .event_signature(JejakReputationRoots::RootPublished::SIGNATURE_HASH)
        .topic1(U256::from(s.epoch))
        .from_block(s.published_block)
        .to_block(s.published_block);
    let logs = provider.get_logs(&filter).await.map_err(Error::rpc)?;
    let published = logs.iter().any(|log| {
        log.transaction_hash.map(|h| hex0x(h.as_slice())) == Some(s.published_transaction.clone())
            && matches!(decode::decode(b.chain_id, &contracts, log).map(|l| l.event),
                Ok(ChainEvent::RootPublished { epoch, root, snapshot_cid, .. })
                    if epoch as u64 == s.epoch && hex0x(&root) == s.root && snapshot_cid == s.manifest_cid)
    });
    if !published {
        return Err(Error::Snapshot(format!(
            "no RootPublished of epoch {} with this root and manifest in block {} transaction {}",
            s.epoch, s.published_block, s.published_transaction
        )));
    }
    let manifest_cid = cid::parse(&s.manifest_cid).map_err(|e| Error::Malformed(e.to_string()))?;
    let manifest_bytes = fetcher.fetch(&manifest_cid).await.map_err(|e| Error::Ipfs(format!("manifest: {e}")))?;
    let manifest = Manifest::from_bytes(&manifest_bytes).map_err(|e| Error::Snapshot(e.to_string()))?;
    if manifest.epoch != s.epoch
        || manifest.chain_id != b.chain_id
        || hex0x(&fr_to_be_bytes(&manifest.root.0)) != s.root
        || manifest.params_version != info.paramsVersion
        || manifest.depth as usize != p.path.depth()
    {
        return Err(Error::Snapshot("the manifest disagrees with the chain or the bundle".into()));
    }
    let params_cid = cid::parse(&manifest.params_cid).map_err(|e| Error::Snapshot(e.to_string()))?;
    let params_bytes = fetcher.fetch(&params_cid).await.map_err(|e| Error::Ipfs(format!("parameters: {e}")))?;
    let params = Params::from_bytes(&params_bytes).map_err(|e| Error::Snapshot(e.to_string()))?;
    if params.version != manifest.params_version {
        return Err(Error::Snapshot("the parameters document is not the version the root names".into()));
    }
    let page_index = (s.leaf_index / LEAVES_PER_PAGE as u64) as usize;
    let page_ref =
        manifest.pages.get(page_index).ok_or_else(|| Error::Leaf("leaf index beyond the snapshot".into()))?;
    let page_cid = cid::parse(&page_ref.cid).map_err(|e| Error::Snapshot(e.to_string()))?;
    let page = fetcher.fetch(&page_cid).await.map_err(|e| Error::Ipfs(format!("page {page_index}: {e}")))?;
    let leaves = manifest.read_page(page_index, &page).map_err(|e| Error::Snapshot(e.to_string()))?;
    if leaves.get(s.leaf_index as usize % LEAVES_PER_PAGE) != Some(&p.leaf) {
        return Err(Error::Leaf(format!("the published page holds another leaf at index {}", s.leaf_index)));
    }

    // Revocations of the bundle's leaves, from the chain's logs in one query: (batch, leaf) ->
    // the block of the first revocation.
    let mut revoked_at: HashMap<(u64, [u8; 32]), u64> = HashMap::new();
    if let Some(first) = b.attestations.iter().map(|a| a.batch.block_number).min() {
        let ids: Vec<B256> = b.attestations.iter().map(|a| B256::from(U256::from(a.batch.batch_id))).collect();
        let filter = Filter::new()
            .address(atts)
            .event_signature(JejakAttestations::LeafRevoked::SIGNATURE_HASH)
            .topic1(ids)
            .from_block(first);
        for log in provider.get_logs(&filter).await.map_err(Error::rpc)? {
            if let Ok(l) = decode::decode(b.chain_id, &contracts, &log)
                && let ChainEvent::Revocation { batch_id, leaf, .. } = l.event
            {
                let block = l.key.block_number as u64;
                let at = revoked_at.entry((batch_id as u64, leaf)).or_insert(block);
                *at = (*at).min(block);
            }
        }
    }

    // The score card, recomputed from the bundle's own attestations.
    let mut engine = Engine::new(params, manifest.as_of);
    let mut counted = 0;
    for ((attested, block, leaf), a) in p.events.iter().zip(&b.attestations) {
        let revoked = revoked_at.get(&(a.batch.batch_id, *leaf)).is_some_and(|r| *r <= manifest.as_of_block);
        if *block <= manifest.as_of_block && !revoked {
            engine.add(attested);
            counted += 1;
        }
    }
    let scores = engine.finish_with_totals(&manifest.platform_totals());
    let mine: Vec<_> = scores.iter().filter(|w| w.commitment == p.commitment).collect();
    let [worker] = mine.as_slice() else {
        return Err(Error::Score("the attestations link no account to this worker".into()));
    };
    if scores.len() != 1 {
        return Err(Error::Score("the attestations link accounts to other identities too".into()));
    }
    if worker.card != s.card {
        return Err(Error::Score(format!(
            "the attestations give reputation {}, credit {}, tier {}; the bundle says {}, {}, {}",
            worker.card.reputation,
            worker.card.credit,
            worker.card.tier.as_str(),
            s.card.reputation,
            s.card.credit,
            s.card.tier.as_str()
        )));
    }
    // Batches and their anchoring transactions, each asked once.
    let attestations = JejakAttestations::new(atts, provider);
    // Each batch is asked once; every other attestation in it must name the same anchor.
    let mut checked: HashMap<u64, BatchAnchor> = HashMap::new();
    for (i, a) in b.attestations.iter().enumerate() {
        let what = |m: String| Error::Anchor(format!("attestation {i} (batch {}): {m}", a.batch.batch_id));
        if let Some(seen) = checked.get(&a.batch.batch_id) {
            if *seen != a.batch {
                return Err(what("another attestation names this batch with another anchor".into()));
            }
        } else {
            let on = attestations.batch(a.batch.batch_id).call().await.map_err(Error::rpc)?;
            if hex0x(on.root.as_slice()) != a.batch.root
                || u64::from(on.count) != a.batch.count
                || on.platformId != a.platform_id
            {
                return Err(what("the contract holds another root, count or platform for this batch".into()));
            }
            let tx = B256::from(parse32("transaction_hash", &a.batch.transaction_hash)?);
            let receipt = provider
                .get_transaction_receipt(tx)
                .await
                .map_err(Error::rpc)?
                .ok_or_else(|| what("the anchoring transaction is unknown".into()))?;
            if receipt.block_number != Some(a.batch.block_number)
                || receipt.block_hash.map(|h| hex0x(h.as_slice())) != Some(a.batch.block_hash.clone())
            {
                return Err(what("the transaction is in another block".into()));
            }
            let anchored = receipt.inner.logs().iter().any(|log| {
                matches!(decode::decode(b.chain_id, &contracts, log).map(|l| l.event),
                    Ok(ChainEvent::Batch { batch_id, .. }) if batch_id as u64 == a.batch.batch_id)
            });
            if !anchored {
                return Err(what("the transaction did not anchor this batch".into()));
            }
            if a.batch.block_number > finalized {
                return Err(Error::NotFinal(format!(
                    "batch {} is in block {}, finalized is {finalized}",
                    a.batch.batch_id, a.batch.block_number
                )));
            }
            checked.insert(a.batch.batch_id, a.batch.clone());
        }
    }

    let root_accepted =
        roots.isRootAccepted(s.epoch, B256::from(parse32("root", &s.root)?)).call().await.map_err(Error::rpc)?;
    Ok(Verified {
        worker: b.worker.clone(),
        epoch: s.epoch,
        leaf_index: s.leaf_index,
        attestations: b.attestations.len(),
        counted,
        reputation: s.card.reputation,
        credit: s.card.credit,
        tier: s.card.tier,
        root_accepted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_a_canonical_bundle_with_a_stable_code() {
        let e = check_offline(b"not json").unwrap_err();
        assert_eq!(e.code(), "malformed_bundle");
        let e = check_offline(br#"{"kind": "jejak.worker-bundle"}"#).unwrap_err();
        assert_eq!(e.code(), "malformed_bundle", "{e}");
        assert!(e.to_string().starts_with("malformed_bundle: "), "{e}");
    }
}
