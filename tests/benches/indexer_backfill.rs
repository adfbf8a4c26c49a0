//! Indexer backfill benchmark.
//!
//! Seeds `BENCH_EVENTS` (default 1,000,000) `BatchAnchored` events on anvil through the
//! benchmark emitter contract, then measures, in one run on this machine:
//! - anvil's own `eth_getLogs` ceiling: the same ranges fetched (4 in flight) and decoded,
//!   nothing stored;
//! - the release `jejak` binary backfilling to the head into SQLite and into PostgreSQL, three
//!   runs each on a fresh database: events/s (median) and the process's peak memory (VmHWM).
//!
//! `make bench-indexer` builds the release binary and runs this.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::{Duration, Instant};

use alloy::providers::Provider as _;
use futures::StreamExt as _;
use jejak_chain::bindings::BatchEventEmitter;
use jejak_store::Backend;
use jejak_store::test_utils::TestDb;
use jejak_tests::{TestChain, contracts_of, jejak_bin};

const EVENTS_PER_TX: u32 = 1000;
const RANGE: u64 = 8;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let total: u64 = std::env::var("BENCH_EVENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let runs: usize = std::env::var("BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(3);
    let chain = TestChain::start(1).await;
    let emitter = BatchEventEmitter::deploy(&chain.provider).await.unwrap();
    let seed_start = Instant::now();
    let txs = total.div_ceil(u64::from(EVENTS_PER_TX));
    // Send in waves so anvil mines while more arrive.
    let mut pending = Vec::new();
    for i in 0..txs {
        let n = (total - i * u64::from(EVENTS_PER_TX)).min(u64::from(EVENTS_PER_TX)) as u32;
        let call = emitter.emitBatches(1 + i * u64::from(EVENTS_PER_TX), 1, n);
        pending.push(call.send().await.unwrap());
        if pending.len() == 64 {
            for p in pending.drain(..) {
                p.get_receipt().await.unwrap();
            }
        }
    }
    for p in pending.drain(..) {
        p.get_receipt().await.unwrap();
    }
    chain.mine(3).await;
    let head = chain.provider.get_block_number().await.unwrap();
    eprintln!("seeded {total} events in {txs} transactions up to block {head} in {:.1?}", seed_start.elapsed());

    let mut contracts = contracts_of(&chain.deployment);
    contracts.attestations = *emitter.address();

    // The ceiling: what anvil can serve, fetched and decoded like the indexer does, not stored.
    let rpc = jejak_indexer::rpc::RpcClient::new(jejak_indexer::rpc::RpcConfig {
        urls: vec![chain.anvil.endpoint()],
        request_timeout: Duration::from_secs(120),
        ..Default::default()
    })
    .unwrap();
    let start = chain.deployment.start_block;
    let ranges: Vec<(u64, u64)> =
        (start..=head).step_by(RANGE as usize).map(|a| (a, (a + RANGE - 1).min(head))).collect();
    let t = Instant::now();
    let addresses = contracts.addresses();
    let decoded: usize = futures::stream::iter(ranges.iter().copied())
        .map(|(a, b)| {
            let (rpc, addresses) = (rpc.clone(), addresses.clone());
            async move {
                let logs = rpc.logs(&addresses, a, b).await.unwrap();
                logs.iter().filter_map(|l| jejak_indexer::decode::decode(31337, &contracts, l).ok()).count()
            }
        })
        .buffered(4)
        .fold(0, |acc, n| async move { acc + n })
        .await;
    let ceiling = decoded as f64 / t.elapsed().as_secs_f64();
    assert_eq!(decoded as u64, total, "every event decodes");

    let mut rows = Vec::new();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let mut rates = Vec::new();
        let mut peaks = Vec::new();
        for _ in 0..runs {
            let (rate, peak) = backfill(&chain, &contracts, backend, total).await;
            rates.push(rate);
            peaks.push(peak);
        }
        rates.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let median = rates[rates.len() / 2];
        let peak = peaks.iter().max().copied().unwrap_or(0);
        rows.push((backend, median, rates, peak));
    }

    println!("indexer backfill, {total} BatchAnchored events, {} blocks, {runs} runs per database", head - start + 1);
    println!("anvil eth_getLogs ceiling (fetch + decode, {RANGE}-block ranges, 4 in flight): {ceiling:.0} events/s");
    for (backend, median, rates, peak) in rows {
        let runs: Vec<String> = rates.iter().map(|r| format!("{r:.0}")).collect();
        println!(
            "{backend:?}: median {median:.0} events/s ({:.0}% of the ceiling), runs [{}], peak RSS {:.0} MiB",
            100.0 * median / ceiling,
            runs.join(", "),
            peak as f64 / 1024.0
        );
    }
}

/// Runs the release binary until its cursor reaches the head; returns events/s and peak RSS (KiB).
async fn backfill(chain: &TestChain, contracts: &jejak_indexer::Contracts, backend: Backend, total: u64) -> (f64, u64) {
    let db = TestDb::new(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let d = chain.deployment;
    let config = format!(
        r#"data_dir = "{data}"
[chain]
rpc_urls = ["{rpc}"]
request_timeout_secs = 120
[database]
url = "{url}"
[api]
listen = "127.0.0.1:0"
[contracts]
registry = "{registry}"
attestations = "{attestations}"
reputation_roots = "{roots}"
evidence_log = "{evidence}"
start_block = {start}
[indexer]
poll_interval_ms = 20
initial_log_range = {RANGE}
fetch_concurrency = 4
"#,
        data = dir.path().display(),
        rpc = chain.anvil.endpoint(),
        url = db.url,
        registry = d.registry,
        attestations = contracts.attestations,
        roots = d.reputation_roots,
        evidence = d.evidence_log,
        start = d.start_block,
    );
    let path = dir.path().join("jejak.toml");
    std::fs::write(&path, config).unwrap();
    let head = chain.provider.get_block_number().await.unwrap() as i64;
    let started = Instant::now();
    let mut child = tokio::process::Command::new(jejak_bin())
        .args(["node", "--config"])
        .arg(&path)
        .env("RUST_LOG", "warn")
        .env_remove("JEJAK_OPERATOR__PRIVATE_KEY")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    let mut peak = 0;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("jejak exited with {status} before reaching the head");
        }
        peak = peak.max(vm_hwm(pid));
        let mut c = db.store.conn().await.unwrap();
        if let Some(cur) = jejak_store::chain::cursor(&mut c, 31337).await.unwrap()
            && cur.block_number >= head
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed();
    peak = peak.max(vm_hwm(pid));
    child.kill().await.unwrap();
    let stored = jejak_store::chain::counts(&mut db.store.conn().await.unwrap(), 31337).await.unwrap();
    let batches = stored.iter().find(|(t, _)| *t == "chain_batches").map_or(0, |(_, n)| *n);
    assert_eq!(batches as u64, total, "every event stored once");
    (total as f64 / elapsed.as_secs_f64(), peak)
}

/// Peak resident set size of a process, KiB.
fn vm_hwm(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}
