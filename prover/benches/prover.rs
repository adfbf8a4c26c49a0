//! Proving and verification benchmarks (criterion). `cargo bench -p jejak-prover --bench prover`.
//!
//! - `prove/depth-{16,20,32}`: one proof with a development key (arkworks' reduction);
//! - `prove-zkey/depth-20`: one proof from a snarkjs zkey (circom's reduction), when the zkey
//!   exists (see `benches/snarkjs.sh`, which also times snarkjs on the same zkey and witness);
//! - `verify/one`, `verify/batch-32`: native verification.

use std::{path::PathBuf, sync::OnceLock};

use ark_bn254::Bn254;
use ark_groth16::Proof;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use jejak_prover::{Prover, Reduction, Verifier, setup::dev_setup};
use jejak_zk_circuits::{Fr, PoseidonTree, PublicInputs, Requirement, Witness, WorkerRecord, build_statement, scope};
use rand::rngs::OsRng;

struct Case {
    public: PublicInputs,
    witness: Witness,
}

fn case(depth: usize, worker: u64) -> Case {
    let records: Vec<WorkerRecord> = (0..64u64)
        .map(|i| WorkerRecord {
            secret: Fr::from(1_000 + i),
            score: 600 + 5 * i,
            gigs: 40 + i,
            tier: 1 + i % 5,
            epoch: 7,
            salt: Fr::from(77 * i + 1),
        })
        .collect();
    let tree = PoseidonTree::from_leaves(depth, records.iter().map(WorkerRecord::leaf).collect()).unwrap();
    let requirement = Requirement {
        min_score: 700,
        min_gigs: 50,
        min_tier: 1,
        scope: scope(31337, [0x11; 20], [0x22; 32]),
        challenge: Fr::from(worker),
    };
    let (statement, witness) =
        build_statement(&records[worker as usize], &tree.path(worker).unwrap(), &requirement).unwrap();
    Case { public: statement.public_inputs().unwrap(), witness }
}

fn prover(depth: usize) -> &'static Prover {
    static PROVERS: [OnceLock<Prover>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let slot = match depth {
        16 => 0,
        20 => 1,
        _ => 2,
    };
    PROVERS[slot].get_or_init(|| Prover::new(dev_setup(depth, "bench", Reduction::Libsnark).unwrap()).unwrap())
}

fn bench_prove(c: &mut Criterion) {
    let mut group = c.benchmark_group("prove");
    group.sample_size(20);
    for depth in [16, 20, 32] {
        let p = prover(depth);
        let case = case(depth, 30);
        group.bench_function(BenchmarkId::new("depth", depth), |b| {
            b.iter(|| p.prove(&case.public, &case.witness, &mut OsRng).unwrap())
        });
    }
    group.finish();
}

/// The zkey made by `benches/snarkjs.sh` (depth 20), if present.
fn zkey_path() -> PathBuf {
    std::env::var_os("JEJAK_BENCH_ZKEY")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/zk-bench/circuit-20.zkey")))
}

fn bench_prove_zkey(c: &mut Criterion) {
    let path = zkey_path();
    let Ok(bytes) = std::fs::read(&path) else {
        return;
    };
    let p = Prover::new(jejak_prover::circom::import_zkey(&bytes).unwrap()).unwrap();
    let case = case(p.depth(), 30);
    let mut group = c.benchmark_group("prove-zkey");
    group.sample_size(20);
    group.bench_function(BenchmarkId::new("depth", p.depth()), |b| {
        b.iter(|| p.prove(&case.public, &case.witness, &mut OsRng).unwrap())
    });
    group.finish();
}

fn bench_verify(c: &mut Criterion) {
    let p = prover(20);
    let verifier = Verifier::new(&p.verifying_key().key).unwrap();
    let batch: Vec<(Proof<Bn254>, PublicInputs)> = (20..52)
        .map(|w| {
            let case = case(20, w);
            (p.prove(&case.public, &case.witness, &mut OsRng).unwrap(), case.public)
        })
        .collect();
    assert!(verifier.verify_batch(&batch, &mut OsRng).unwrap());
    let mut group = c.benchmark_group("verify");
    group.bench_function("one", |b| b.iter(|| assert!(verifier.verify(&batch[0].0, &batch[0].1).unwrap())));
    group.throughput(Throughput::Elements(batch.len() as u64));
    group.bench_function("batch-32", |b| b.iter(|| assert!(verifier.verify_batch(&batch, &mut OsRng).unwrap())));
    group.finish();
}

criterion_group!(benches, bench_prove, bench_prove_zkey, bench_verify);
criterion_main!(benches);
