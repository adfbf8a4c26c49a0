//! Native Poseidon and tree building (criterion). `cargo bench -p jejak-zk-circuits --bench tree`.
//!
//! The scoring epoch over 1,000,000 workers has 60 s in total; the tree of their leaves is built
//! here with both cores.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use jejak_zk_circuits::{Fr, PoseidonTree, identity_commitment, poseidon::hash, worker_leaf};

fn leaves(n: u64) -> Vec<Fr> {
    (0..n).map(|i| Fr::from(i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)).collect()
}

fn bench_poseidon(c: &mut Criterion) {
    let mut group = c.benchmark_group("poseidon");
    let inputs = leaves(6);
    for n in [1usize, 2, 6] {
        group.bench_function(BenchmarkId::new("inputs", n), |b| b.iter(|| hash(&inputs[..n])));
    }
    let commitment = identity_commitment(Fr::from(7u64));
    group.bench_function("worker_leaf", |b| b.iter(|| worker_leaf(commitment, 712, 64, 3, 9, Fr::from(5u64))));
    group.finish();
}

fn bench_tree(c: &mut Criterion) {
    let mut group = c.benchmark_group("tree");
    group.sample_size(10);
    for n in [100_000u64, 1_000_000] {
        let leaves = leaves(n);
        group.throughput(Throughput::Elements(n));
        group.bench_function(BenchmarkId::new("from_leaves-depth-20", n), |b| {
            b.iter(|| PoseidonTree::from_leaves(20, leaves.clone()).unwrap().root())
        });
    }
    group.finish();
}

criterion_group!(benches, bench_poseidon, bench_tree);
criterion_main!(benches);
