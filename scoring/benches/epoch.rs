//! One reputation epoch over many workers, phase by phase.
//!
//! `cargo bench -p jejak-scoring --bench epoch` runs 1,000,000 workers with 20 attestations each
//! (`JEJAK_BENCH_WORKERS=N` for another size). The workload is canonical event bodies as the
//! node stores them, spread over three platforms and two years: one `account_linked`, ten
//! completed tasks with earnings, five reviews, a cancellation, a dispute, a savings
//! contribution and a repayment per worker. Generating the bodies is not timed (the node reads
//! them from its database); everything from parsing them to the manifest bytes is.
//!
//! Phases: parse (JSON to integers, every core), fold (sums per account, one shard per core),
//! score (per identity, every core), salts, leaves (Poseidon of six inputs, every core), cards
//! (each score card as the JSON the job stores, every core), tree (Poseidon of two, every core),
//! pages (canonical JSON and CIDs of the snapshot blocks).

// A benchmark binary reports on stdout; integers only, as everywhere in this crate.
#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use jejak_scoring::snapshot::{self, Header, LeafInput};
use jejak_scoring::{Engine, Params, input};
use rayon::prelude::*;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const AS_OF: i64 = 1_790_000_000;
const CHUNK: u64 = 25_000;

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d049bb133111eb);
    x ^ (x >> 31)
}

fn commitment(worker: u64) -> String {
    let mut word = [0u8; 32];
    for i in 0..4 {
        word[i * 8..i * 8 + 8].copy_from_slice(&splitmix(worker * 4 + i as u64).to_be_bytes());
    }
    word[0] &= 0x0f;
    alloy_primitives::U256::from_be_bytes(word).to_string()
}

fn time(t: i64) -> String {
    OffsetDateTime::from_unix_timestamp(t).unwrap().format(&Rfc3339).unwrap()
}

/// Twenty canonical bodies for one worker.
fn worker_bodies(worker: u64, out: &mut Vec<(u64, String)>) {
    let platform = worker % 3 + 1;
    let wref = format!("w-{worker}");
    let r = splitmix(worker);
    let at = |k: u64| time(AS_OF - ((splitmix(r ^ k) % (730 * 86_400)) as i64));
    out.push((
        platform,
        format!(
            r#"{{"data":{{"identity_commitment":"{}"}},"occurred_at":"{}","type":"account_linked","worker":"{wref}"}}"#,
            commitment(worker),
            at(0)
        ),
    ));
    for k in 1..=10 {
        out.push((
            platform,
            format!(
                r#"{{"data":{{"currency":"IDR","earnings_minor":{},"task_id":"t-{worker}-{k}"}},"occurred_at":"{}","type":"task_completed","worker":"{wref}"}}"#,
                20_000 + splitmix(r + k) % 30_000,
                at(k)
            ),
        ));
    }
    for k in 11..=15 {
        let rating = ["4.2", "4.5", "4.8", "5", "3.9"][(splitmix(r + k) % 5) as usize];
        out.push((
            platform,
            format!(
                r#"{{"data":{{"rating":{rating},"task_id":"t-{worker}-{k}"}},"occurred_at":"{}","type":"review","worker":"{wref}"}}"#,
                at(k)
            ),
        ));
    }
    let by = if r.is_multiple_of(4) { "worker" } else { "customer" };
    out.push((
        platform,
        format!(
            r#"{{"data":{{"cancelled_by":"{by}","task_id":"t-{worker}-16"}},"occurred_at":"{}","type":"task_cancelled","worker":"{wref}"}}"#,
            at(16)
        ),
    ));
    let outcome = if r.is_multiple_of(7) { "worker_lost" } else { "worker_won" };
    out.push((
        platform,
        format!(
            r#"{{"data":{{"outcome":"{outcome}","task_id":"t-{worker}-17"}},"occurred_at":"{}","type":"dispute_resolved","worker":"{wref}"}}"#,
            at(17)
        ),
    ));
    out.push((
        platform,
        format!(
            r#"{{"data":{{"amount_minor":50000,"currency":"IDR"}},"occurred_at":"{}","type":"savings_contribution","worker":"{wref}"}}"#,
            at(18)
        ),
    ));
    out.push((
        platform,
        format!(
            r#"{{"data":{{"amount_minor":100000,"currency":"IDR","loan_id":"l-{worker}","on_time":{}}},"occurred_at":"{}","type":"loan_repaid","worker":"{wref}"}}"#,
            !r.is_multiple_of(5),
            at(19)
        ),
    ));
}

/// CPU time of this process so far (user + system), from `/proc/self/stat` (Linux, USER_HZ 100):
/// with other work on the machine, wall time alone says little.
fn cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<i64> = after_name.split_whitespace().filter_map(|f| f.parse().ok()).collect();
    // After the name: state (not a number, skipped), then ppid ... utime is field 14, stime 15.
    let ticks = fields.get(10).copied().unwrap_or(0) + fields.get(11).copied().unwrap_or(0);
    Duration::from_millis(ticks.max(0) as u64 * 10)
}

/// Wall and CPU time of a phase.
#[derive(Debug, Clone, Copy, Default)]
struct Span {
    wall: Duration,
    cpu: Duration,
}

impl std::ops::Add for Span {
    type Output = Span;
    fn add(self, o: Span) -> Span {
        Span { wall: self.wall + o.wall, cpu: self.cpu + o.cpu }
    }
}

impl std::ops::AddAssign for Span {
    fn add_assign(&mut self, o: Span) {
        *self = *self + o;
    }
}

impl Span {}

struct Clock(Instant, Duration);

impl Clock {
    fn now() -> Self {
        Clock(Instant::now(), cpu())
    }

    fn elapsed(&self) -> Span {
        Span { wall: self.0.elapsed(), cpu: cpu().saturating_sub(self.1) }
    }
}

/// `12.34 s`.
fn secs(d: Duration) -> String {
    let ms = d.as_millis();
    format!("{}.{:02} s", ms / 1000, ms % 1000 / 10)
}

/// `part` as a percentage of `whole`, one decimal.
fn pct(part: Duration, whole: Duration) -> String {
    let permille = part.as_nanos() * 1000 / whole.as_nanos().max(1);
    format!("{}.{}%", permille / 10, permille % 10)
}

fn main() {
    let workers: u64 = std::env::var("JEJAK_BENCH_WORKERS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let threads = rayon::current_num_threads();
    println!("epoch benchmark: {workers} workers x 20 attestations, {threads} threads");

    let params = Params::v1();
    let mut engine = Engine::new(params.clone(), AS_OF);
    let (mut t_parse, mut t_fold, mut t_gen) = (Span::default(), Span::default(), Span::default());
    let mut events = 0usize;
    let mut start = 0;
    while start < workers {
        let end = (start + CHUNK).min(workers);
        let t = Clock::now();
        let mut bodies = Vec::with_capacity(((end - start) * 20) as usize);
        for w in start..end {
            worker_bodies(w, &mut bodies);
        }
        t_gen += t.elapsed();
        let t = Clock::now();
        let refs: Vec<(u64, &str)> = bodies.iter().map(|(p, b)| (*p, b.as_str())).collect();
        let parsed: Vec<jejak_scoring::Attested> =
            input::parse_all(&refs).into_iter().map(|p| p.expect("generated bodies are valid")).collect();
        t_parse += t.elapsed();
        let t = Clock::now();
        engine.add_batch(&parsed);
        t_fold += t.elapsed();
        events += parsed.len();
        start = end;
    }

    let t = Clock::now();
    let (scores, totals) = engine.finish();
    let t_score = t.elapsed();
    assert_eq!(scores.len() as u64, workers, "every worker is linked");

    let t = Clock::now();
    let inputs: Vec<LeafInput> = scores
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let seed = splitmix(i as u64).to_be_bytes();
            let mut salt = [0u8; 31];
            for (k, b) in salt.iter_mut().enumerate() {
                *b = seed[k % 8] ^ k as u8;
            }
            LeafInput {
                commitment: s.commitment,
                score: u64::from(s.card.reputation),
                gigs: s.card.gigs,
                tier: s.card.tier.leaf_value(),
                salt: snapshot::salt_from_bytes(salt),
            }
        })
        .collect();
    let t_salts = t.elapsed();

    let t = Clock::now();
    let leaves = snapshot::leaves(7, &inputs);
    let t_leaves = t.elapsed();

    // What the job stores per identity besides the leaf: its score card as JSON.
    let t = Clock::now();
    let cards: Vec<String> = scores.par_iter().map(|s| serde_json::to_string(&s.card).unwrap()).collect();
    let t_cards = t.elapsed();
    let card_bytes: usize = cards.iter().map(String::len).sum();
    drop(cards);

    let t = Clock::now();
    let tree = jejak_zk_circuits::PoseidonTree::from_leaves(snapshot::DEFAULT_DEPTH, leaves).unwrap();
    let t_tree = t.elapsed();

    let header = Header {
        chain_id: 31337,
        epoch: 7,
        as_of: AS_OF,
        as_of_block: 1,
        params_version: params.version,
        params_cid: jejak_core::cid::raw_cid(&params.to_bytes()).to_string(),
        depth: snapshot::DEFAULT_DEPTH,
        platforms: totals,
    };
    let t = Clock::now();
    let built = snapshot::build_from_tree(header, tree).unwrap();
    let t_pages = t.elapsed();

    let total = t_parse + t_fold + t_score + t_salts + t_leaves + t_cards + t_tree + t_pages;
    let poseidon = t_leaves + t_tree;
    let row = |name: &str, d: Span| {
        println!("  {name:<8} {:>9}  {:>6}   cpu {:>9}", secs(d.wall), pct(d.wall, total.wall), secs(d.cpu))
    };
    println!(
        "events {events}, leaves {}, pages {}, (generation, untimed: {})",
        built.manifest.count,
        built.pages.len(),
        secs(t_gen.wall)
    );
    println!("  phase         wall  share   cpu (user + system, both cores)");
    row("parse", t_parse);
    row("fold", t_fold);
    row("score", t_score);
    row("salts", t_salts);
    row("leaves", t_leaves);
    row("cards", t_cards);
    row("tree", t_tree);
    row("pages", t_pages);
    row("total", total);
    println!(
        "  Poseidon (leaves + tree): {} wall = {} of the total; {} cpu = {}",
        secs(poseidon.wall),
        pct(poseidon.wall, total.wall),
        secs(poseidon.cpu),
        pct(poseidon.cpu, total.cpu)
    );
    println!(
        "  score cards as JSON: {} MB in all, {} bytes each on average",
        card_bytes >> 20,
        card_bytes / scores.len()
    );
    let dist = |f: &dyn Fn(&jejak_scoring::ScoreCard) -> u32| {
        let mut v: Vec<u32> = scores.iter().map(|s| f(&s.card)).collect();
        v.sort_unstable();
        (v[0], v[v.len() / 2], v[v.len() - 1])
    };
    println!("  reputation min/median/max {:?}, credit {:?}", dist(&|c| c.reputation), dist(&|c| c.credit));
}
