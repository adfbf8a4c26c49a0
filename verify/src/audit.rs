//! `jejak audit replay`: checks that every published reputation root follows from the anchored
//! attestations and the published formula.
//!
//! Everything is fetched afresh: the roots, batches and revocations from the chain's logs (not
//! the node's indexed copy), the snapshot manifests, pages, parameters and batch documents from
//! IPFS by CID. Attestations come from what the auditor can see: the node's database (each one
//! is accepted only if its body and salt give a leaf some anchored batch document holds; the
//! node's own bookkeeping of batches is not trusted) and disclosed worker bundles.
//!
//! Per epoch the report says "matches", or names the first leaf that differs and why: which
//! identity it is, what the published leaf commits to against what the attestations give, and
//! which of that identity's attestations no longer match their anchored leaf.

use std::collections::{BTreeMap, HashMap};

use alloy::eips::BlockNumberOrTag;
use alloy::primitives::Address;
use alloy::providers::Provider;
use alloy::rpc::types::Filter;
use jejak_core::attestation::{self, Salt};
use jejak_core::batch::BatchDocument;
use jejak_core::cid;
use jejak_indexer::decode::{self, Contracts};
use jejak_ipfs::Fetcher;
use jejak_scoring::snapshot::Manifest;
use jejak_scoring::{Attested, Commitment, Engine, Params, ScoreCard, Tier};
use jejak_store::Store;
use jejak_store::chain::ChainEvent;
use jejak_store::scores;
use jejak_zk_circuits::{Fr, PoseidonTree, fr_from_be_bytes, fr_to_be_bytes};

use crate::{ChainView, Error, Result, bundle};

/// Where the audit reads from.
#[derive(Debug)]
pub struct AuditSources<'a> {
    /// The chain.
    pub chain: &'a ChainView,
    /// EVM chain id expected.
    pub chain_id: u64,
    /// `JejakAttestations`.
    pub attestations: Address,
    /// `JejakReputationRoots`.
    pub reputation_roots: Address,
    /// First block to read logs from.
    pub start_block: u64,
    /// Largest `eth_getLogs` range.
    pub max_log_range: u64,
    /// IPFS.
    pub fetcher: &'a Fetcher,
    /// The node's database, when the auditor has it.
    pub store: Option<&'a Store>,
    /// Disclosed bundles: (name, bytes).
    pub bundles: Vec<(String, Vec<u8>)>,
}

/// How one epoch fared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EpochVerdict {
    /// Every leaf recomputed equals the published one.
    Matches {
        /// Leaves.
        leaves: u64,
    },
    /// The first leaf that differs, or None when the snapshot itself is wrong.
    Mismatch {
        /// Leaf index.
        leaf: Option<u64>,
        /// Why.
        reason: String,
    },
    /// Not recomputed (no salts for it in the database); checked only against chain and IPFS.
    Unchecked {
        /// Why.
        reason: String,
    },
}

/// One epoch's line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpochAudit {
    /// Epoch.
    pub epoch: u64,
    /// Root on chain.
    pub root: [u8; 32],
    /// Verdict.
    pub verdict: EpochVerdict,
}

/// The whole report.
#[derive(Debug, Clone, Default)]
pub struct AuditReport {
    /// Per published epoch, ascending.
    pub epochs: Vec<EpochAudit>,
    /// Per bundle: name and verdict (Ok: what it proves).
    pub bundles: Vec<(String, Result<String, String>)>,
    /// Attestations in the database that match no anchored leaf: (id, reason).
    pub unverifiable: Vec<(String, String)>,
    /// Attestations in the database checked against an anchored leaf.
    pub verified: u64,
}

impl AuditReport {
    /// Whether everything matched.
    pub fn ok(&self) -> bool {
        self.epochs.iter().all(|e| !matches!(e.verdict, EpochVerdict::Mismatch { .. }))
            && self.bundles.iter().all(|(_, r)| r.is_ok())
            && self.unverifiable.is_empty()
    }

    /// The report as lines for people.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for e in &self.epochs {
            let root = hex::encode(e.root);
            out.push(match &e.verdict {
                EpochVerdict::Matches { leaves } => {
                    format!("epoch {}: matches ({leaves} leaves, root 0x{root})", e.epoch)
                }
                EpochVerdict::Mismatch { leaf: Some(i), reason } => {
                    format!("epoch {}: MISMATCH at leaf {i}: {reason}", e.epoch)
                }
                EpochVerdict::Mismatch { leaf: None, reason } => format!("epoch {}: MISMATCH: {reason}", e.epoch),
                EpochVerdict::Unchecked { reason } => {
                    format!("epoch {}: snapshot consistent, not recomputed: {reason}", e.epoch)
                }
            });
        }
        for (name, r) in &self.bundles {
            out.push(match r {
                Ok(what) => format!("bundle {name}: verified: {what}"),
                Err(why) => format!("bundle {name}: FAILED: {why}"),
            });
        }
        if !self.unverifiable.is_empty() {
            out.push(format!("{} attestation(s) in the database match no anchored leaf:", self.unverifiable.len()));
            for (id, why) in &self.unverifiable {
                out.push(format!("  {id}: {why}"));
            }
        }
        out.push(format!(
            "{} attestation(s) verified against anchored batches; {}",
            self.verified,
            if self.ok() { "every published root follows" } else { "MISMATCH" }
        ));
        out
    }
}

/// What the chain says, read from its logs.
#[derive(Debug, Default)]
struct ChainFacts {
    /// batch id -> (platform, root, count, cid, block).
    batches: BTreeMap<u64, (u64, [u8; 32], u64, String, u64)>,
    /// (batch id, leaf) -> block of the first revocation.
    revocations: HashMap<(u64, [u8; 32]), u64>,
    /// epoch -> (root, manifest CID, parameters version, block).
    roots: BTreeMap<u64, ([u8; 32], String, u32, u64)>,
    /// The finalized block when read.
    finalized: u64,
}

async fn read_chain(src: &AuditSources<'_>) -> Result<ChainFacts> {
    let provider = &src.chain.provider;
    let chain_id = provider.get_chain_id().await.map_err(Error::rpc)?;
    if chain_id != src.chain_id {
        return Err(Error::WrongChain(format!(
            "the RPC serves chain {chain_id}, the configuration says {}",
            src.chain_id
        )));
    }
    let finalized = provider
        .get_block_by_number(BlockNumberOrTag::Finalized)
        .await
        .map_err(Error::rpc)?
        .map(|b| b.header.number)
        .ok_or_else(|| Error::Rpc("the RPC has no finalized block".into()))?;
    let head = provider.get_block_number().await.map_err(Error::rpc)?;
    let contracts = Contracts {
        registry: Address::ZERO,
        attestations: src.attestations,
        reputation_roots: src.reputation_roots,
        evidence_log: Address::ZERO,
        proof_verifier: None,
    };
    let mut facts = ChainFacts { finalized, ..ChainFacts::default() };
    let step = src.max_log_range.max(1);
    let mut from = src.start_block;
    while from <= head {
        let to = (from + step - 1).min(head);
        let filter = Filter::new().address(vec![src.attestations, src.reputation_roots]).from_block(from).to_block(to);
        for log in provider.get_logs(&filter).await.map_err(Error::rpc)? {
            let Ok(l) = decode::decode(chain_id, &contracts, &log) else { continue };
            let block = l.key.block_number as u64;
            match l.event {
                ChainEvent::Batch { batch_id, platform_id, root, count, cid } => {
                    facts.batches.entry(batch_id as u64).or_insert((
                        platform_id as u64,
                        root,
                        count as u64,
                        cid,
                        block,
                    ));
                }
                ChainEvent::Revocation { batch_id, leaf, .. } => {
                    facts.revocations.entry((batch_id as u64, leaf)).or_insert(block);
                }
                ChainEvent::RootPublished { epoch, root, snapshot_cid, params_version } => {
                    facts.roots.entry(epoch as u64).or_insert((root, snapshot_cid, params_version as u32, block));
                }
                _ => {}
            }
        }
        from = to + 1;
    }
    Ok(facts)
}

async fn fetch(fetcher: &Fetcher, cid_text: &str, what: &str) -> Result<Vec<u8>, String> {
    let c = cid::parse(cid_text).map_err(|e| format!("{what}: {e}"))?;
    fetcher.fetch(&c).await.map_err(|e| format!("{what} {cid_text}: {e}"))
}

/// An attestation from the database checked against an anchored leaf.
#[derive(Debug, Clone)]
struct Anchored {
    attested: Attested,
    batch_id: u64,
    block: u64,
    leaf: [u8; 32],
}

/// Replays every published epoch.
pub async fn replay(src: AuditSources<'_>) -> Result<AuditReport> {
    let facts = read_chain(&src).await?;
    let mut report = AuditReport::default();

    // Every anchored leaf, from the batch documents on IPFS (checked against the chain).
    let mut anchored_leaves: HashMap<[u8; 32], (u64, u64, u64)> = HashMap::new();
    for (batch_id, (platform, root, count, cid_text, block)) in &facts.batches {
        let doc = match fetch(src.fetcher, cid_text, "batch document").await {
            Ok(bytes) => BatchDocument::from_bytes(&bytes).map_err(|e| e.to_string()),
            Err(e) => Err(e),
        };
        match doc {
            Ok(d) if d.root == *root && u64::from(d.count) == *count && d.platform_id == *platform => {
                for leaf in d.leaf_hashes() {
                    anchored_leaves.entry(leaf).or_insert((*batch_id, *platform, *block));
                }
            }
            Ok(_) => {
                tracing::warn!(target: "jejak::audit", batch_id, "batch document disagrees with the chain; its leaves are not trusted")
            }
            Err(e) => tracing::warn!(target: "jejak::audit", batch_id, error = %e, "batch document unavailable"),
        }
    }

    // The database's attestations that match an anchored leaf.
    let on_chain: std::collections::HashSet<(u64, [u8; 32])> =
        facts.batches.values().map(|(platform, root, ..)| (*platform, *root)).collect();
    let mut anchored: Vec<Anchored> = Vec::new();
    let mut by_account: HashMap<(u64, String), Vec<String>> = HashMap::new();
    if let Some(store) = src.store {
        let mut c = store.conn().await?;
        let mut after = 0;
        loop {
            let page = scores::audit_inputs(&mut c, after, 10_000).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for a in page {
                let digest = attestation::event_digest(a.body.as_bytes());
                let leaf = attestation::leaf_hash(&Salt(a.salt), &digest);
                match anchored_leaves.get(&leaf) {
                    Some(&(batch_id, platform, block)) => match Attested::from_canonical(platform, &a.body) {
                        Ok(attested) => {
                            report.verified += 1;
                            anchored.push(Anchored { attested, batch_id, block, leaf });
                        }
                        Err(e) => report.unverifiable.push((a.id, format!("anchored but not readable: {e}"))),
                    },
                    // Not batched, or in a batch the chain does not hold yet: nothing to check.
                    None if !a.batch.is_some_and(|(p, root)| on_chain.contains(&(p as u64, root))) => {}
                    None => {
                        // Altered, or in a batch whose document is unavailable.
                        let why =
                            "its batch is anchored, but its body and salt give a leaf no anchored batch document holds";
                        by_account.entry((a.platform_id as u64, a.worker_ref.clone())).or_default().push(a.id.clone());
                        report.unverifiable.push((a.id, why.to_string()));
                    }
                }
            }
        }
    }

    for (&epoch, (root, manifest_cid, params_version, block)) in &facts.roots {
        if *block > facts.finalized {
            let reason = format!("published in block {block}, not final yet (finalized: {})", facts.finalized);
            report.epochs.push(EpochAudit { epoch, root: *root, verdict: EpochVerdict::Unchecked { reason } });
            continue;
        }
        let verdict =
            replay_epoch(&src, &facts, &anchored, &by_account, epoch, root, manifest_cid, *params_version).await;
        report.epochs.push(EpochAudit { epoch, root: *root, verdict });
    }

    for (name, bytes) in &src.bundles {
        let r = bundle::verify(bytes, src.chain, src.fetcher).await.map(|v| {
            format!(
                "worker {} at leaf {} of epoch {}: reputation {}, credit {}, tier {} ({} attestations, {} counted)",
                v.worker,
                v.leaf_index,
                v.epoch,
                v.reputation,
                v.credit,
                v.tier.as_str(),
                v.attestations,
                v.counted
            )
        });
        report.bundles.push((name.clone(), r.map_err(|e| e.to_string())));
    }
    Ok(report)
}

#[allow(clippy::too_many_arguments)]
async fn replay_epoch(
    src: &AuditSources<'_>,
    facts: &ChainFacts,
    anchored: &[Anchored],
    unverifiable_by_account: &HashMap<(u64, String), Vec<String>>,
    epoch: u64,
    root: &[u8; 32],
    manifest_cid: &str,
    params_version: u32,
) -> EpochVerdict {
    let bad = |reason: String| EpochVerdict::Mismatch { leaf: None, reason };
    let manifest = match fetch(src.fetcher, manifest_cid, "manifest")
        .await
        .and_then(|b| Manifest::from_bytes(&b).map_err(|e| e.to_string()))
    {
        Ok(m) => m,
        Err(e) => return bad(e),
    };
    if manifest.epoch != epoch
        || fr_to_be_bytes(&manifest.root.0) != *root
        || manifest.params_version != params_version
        || manifest.chain_id != src.chain_id
    {
        return bad("the manifest disagrees with the root published on chain (epoch, root, parameters or chain)".into());
    }
    let params = match fetch(src.fetcher, &manifest.params_cid, "parameters")
        .await
        .and_then(|b| Params::from_bytes(&b).map_err(|e| e.to_string()))
    {
        Ok(p) if p.version == params_version => p,
        Ok(p) => {
            return bad(format!("the parameters document is version {}, the root names {params_version}", p.version));
        }
        Err(e) => return bad(e),
    };
    let mut leaves: Vec<Fr> = Vec::with_capacity(manifest.count as usize);
    for (i, page) in manifest.pages.iter().enumerate() {
        match fetch(src.fetcher, &page.cid, "page")
            .await
            .and_then(|b| manifest.read_page(i, &b).map_err(|e| e.to_string()))
        {
            Ok(l) => leaves.extend(l),
            Err(e) => return bad(e),
        }
    }
    let tree = match PoseidonTree::from_leaves(manifest.depth as usize, leaves) {
        Ok(t) if t.root() == manifest.root.0 => t,
        Ok(_) => return bad("the snapshot pages do not hash to the published root".into()),
        Err(e) => return bad(e.to_string()),
    };
    let published = tree.leaves();

    let Some(store) = src.store else {
        return EpochVerdict::Unchecked { reason: "no database: salts are only in disclosed bundles".into() };
    };
    let stored =
        match async { scores::worker_scores(&mut *store.conn().await?, src.chain_id as i64, epoch as i64).await }.await
        {
            Ok(rows) => rows,
            Err(e) => return bad(format!("database: {e}")),
        };
    if stored.is_empty() {
        return EpochVerdict::Unchecked {
            reason: "the database has no salts for this epoch (another node's root?)".into(),
        };
    }
    let stored: HashMap<[u8; 32], scores::WorkerScoreRow> = stored.into_iter().map(|w| (w.commitment, w)).collect();

    let mut engine = Engine::new(params, manifest.as_of);
    for a in anchored {
        let revoked = facts.revocations.get(&(a.batch_id, a.leaf)).is_some_and(|b| *b <= manifest.as_of_block);
        if a.block <= manifest.as_of_block && !revoked {
            engine.add(&a.attested);
        }
    }
    let (scores, totals) = engine.finish();
    let published_totals = manifest.platform_totals();
    let totals_note = if totals == published_totals {
        String::new()
    } else {
        let differing: Vec<String> = published_totals
            .keys()
            .chain(totals.keys())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .filter(|p| published_totals.get(p) != totals.get(p))
            .map(|p| format!("platform {p}"))
            .collect();
        format!(" (the platform rating totals differ too: {})", differing.join(", "))
    };

    // Every leaf that differs; the one reported is that of an identity whose own attestations no
    // longer match their anchors (the cause; others may move with their platform's reference),
    // else the first.
    let mut differing: Vec<(usize, String, bool)> = Vec::new();
    for (i, w) in scores.iter().enumerate() {
        let Some(row) = stored.get(&w.commitment.0) else {
            let why =
                format!("identity {} scores here but the node recorded no salt for it in this epoch", w.commitment);
            differing.push((i, why, false));
            continue;
        };
        let salt = match fr_from_be_bytes(&row.salt) {
            Ok(s) => s,
            Err(e) => return bad(format!("stored salt: {e}")),
        };
        let leaf = jejak_zk_circuits::worker_leaf(
            w.commitment.to_fr(),
            u64::from(w.card.reputation),
            w.card.gigs,
            w.card.tier.leaf_value(),
            epoch,
            salt,
        );
        if published.get(i) == Some(&leaf) {
            continue;
        }
        let (why, suspect) =
            explain(epoch, i, w.commitment, &w.card, row, published.get(i), salt, unverifiable_by_account);
        differing.push((i, why, suspect));
    }
    if let Some((i, why, _)) = differing.iter().find(|d| d.2).or(differing.first()) {
        let others = if differing.len() > 1 {
            format!(" ({} of {} leaves differ, the first at {})", differing.len(), scores.len(), differing[0].0)
        } else {
            String::new()
        };
        return EpochVerdict::Mismatch { leaf: Some(*i as u64), reason: format!("{why}{others}{totals_note}") };
    }
    if published.len() != scores.len() {
        return EpochVerdict::Mismatch {
            leaf: Some(scores.len() as u64),
            reason: format!(
                "the snapshot has {} leaves, the attestations give {} identities{totals_note}",
                published.len(),
                scores.len()
            ),
        };
    }
    if !totals_note.is_empty() {
        return bad(format!("every leaf matches but{totals_note}"));
    }
    EpochVerdict::Matches { leaves: published.len() as u64 }
}

/// Why leaf `i` differs.
#[allow(clippy::too_many_arguments)]
fn explain(
    epoch: u64,
    i: usize,
    commitment: Commitment,
    card: &ScoreCard,
    row: &scores::WorkerScoreRow,
    published: Option<&Fr>,
    salt: Fr,
    unverifiable_by_account: &HashMap<(u64, String), Vec<String>>,
) -> (String, bool) {
    let recomputed = format!("reputation {}, gigs {}, tier {}", card.reputation, card.gigs, card.tier.as_str());
    if row.leaf_index != i as i64 {
        return (
            format!(
                "identity {commitment} comes at leaf {i} from the attestations, the node placed it at {}: the set of \
                 identities differs",
                row.leaf_index
            ),
            false,
        );
    }
    let stored_tier = Tier::from_letter(&row.tier);
    let stored_leaf = jejak_zk_circuits::worker_leaf(
        commitment.to_fr(),
        row.reputation as u64,
        row.gigs as u64,
        stored_tier.map_or(0, Tier::leaf_value),
        epoch,
        salt,
    );
    let mut why = if published == Some(&stored_leaf) {
        format!(
            "identity {commitment}: the published leaf commits to reputation {}, gigs {}, tier {}; the anchored attestations give {recomputed}",
            row.reputation, row.gigs, row.tier
        )
    } else {
        format!(
            "identity {commitment}: the published leaf is not the node's recorded leaf; the anchored attestations give {recomputed}"
        )
    };
    let stored_card: Option<ScoreCard> = serde_json::from_str(&row.card).ok();
    let suspects: Vec<&String> = stored_card
        .iter()
        .flat_map(|c| c.platforms.iter())
        .filter_map(|p| unverifiable_by_account.get(&(p.platform_id, p.worker_ref.clone())))
        .flatten()
        .collect();
    if !suspects.is_empty() {
        let list: Vec<&str> = suspects.iter().map(|s| s.as_str()).collect();
        why.push_str(&format!(
            "; this identity's attestation(s) {} no longer match their anchored leaf (altered in the database)",
            list.join(", ")
        ));
    }
    (why, !suspects.is_empty())
}
