//! Proving and verification benchmarks (criterion). `cargo bench -p jejak-prover --bench prover`.
//!
//! - `prove/depth-{16,20,32}`: one proof with a development key (arkworks' reduction), from a
//!   resident prover ([`Prover::with_tables`], as the node keeps it);
//! - `prove-one-shot/depth/20`: the same without window tables ([`Prover::new`], as
//!   `jejak zk prove` loads a key for one proof);
//! - `prove-zkey/depth/20`: one proof from a snarkjs zkey (circom's reduction). The first run makes
//!   the zkey with snarkjs (powers of tau 2^13, `groth16 setup`, one contribution: several
//!   minutes, cached in `$CARGO_TARGET_DIR/zk-bench`); then snarkjs proves from the same zkey and
//!   witness in-process (`benches/snarkjs_prove.mjs`) and the ratio is printed;
//! - `verify/one`, `verify/batch-32`: native verification;
//! - then `cpu-time`: the CPU time (all threads, from `/proc/self/stat`) per proof and per
//!   verification, which on a shared machine says more than wall time; on two free cores a proof's
//!   wall time is a little over half its CPU time.

use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::OnceLock,
    time::Instant,
};

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
        scope: scope(31337, [0x11; 20], [0x55; 20], [0x22; 32]),
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
    PROVERS[slot].get_or_init(|| Prover::with_tables(dev_setup(depth, "bench", Reduction::Libsnark).unwrap()).unwrap())
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
    let one_shot = Prover::new(prover(20).key_file().clone()).unwrap();
    let case = case(20, 30);
    let mut group = c.benchmark_group("prove-one-shot");
    group.sample_size(20);
    group.bench_function(BenchmarkId::new("depth", 20), |b| {
        b.iter(|| one_shot.prove(&case.public, &case.witness, &mut OsRng).unwrap())
    });
    group.finish();
}

fn bench_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("zk-bench")
}

fn snarkjs(dir: &Path, args: &[&str]) {
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("../node_modules/.bin/snarkjs");
    let out = Command::new(&bin).args(args).current_dir(dir).output().expect("running snarkjs (npm ci)");
    assert!(out.status.success(), "snarkjs {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// `zk-bench/circuit-20.zkey`, made with snarkjs from our `.r1cs` unless already there.
fn zkey(depth: usize) -> PathBuf {
    let dir = bench_dir();
    let zkey = dir.join(format!("circuit-{depth}.zkey"));
    if zkey.exists() {
        return zkey;
    }
    std::fs::create_dir_all(&dir).unwrap();
    let shape = jejak_prover::CircuitShape::get(depth).unwrap();
    let power = (shape.num_constraints + shape.num_instance).next_power_of_two().trailing_zeros().to_string();
    let r1cs = format!("circuit-{depth}.r1cs");
    std::fs::write(dir.join(&r1cs), jejak_prover::circom::r1cs_bytes(&shape)).unwrap();
    let ptau = format!("pot{power}_final.ptau");
    if !dir.join(&ptau).exists() {
        snarkjs(&dir, &["powersoftau", "new", "bn128", &power, "pot_0.ptau"]);
        snarkjs(&dir, &["powersoftau", "contribute", "pot_0.ptau", "pot_1.ptau", "--name=bench", "-e=bench entropy"]);
        snarkjs(&dir, &["powersoftau", "prepare", "phase2", "pot_1.ptau", &ptau]);
    }
    let zkey0 = format!("circuit-{depth}_0.zkey");
    snarkjs(&dir, &["groth16", "setup", &r1cs, &ptau, &zkey0]);
    snarkjs(&dir, &["zkey", "contribute", &zkey0, zkey.to_str().unwrap(), "--name=bench", "-e=more entropy"]);
    zkey
}

#[allow(clippy::print_stdout)]
fn bench_prove_zkey(c: &mut Criterion) {
    let depth = 20;
    let path = zkey(depth);
    let p = Prover::with_tables(jejak_prover::circom::import_zkey(&std::fs::read(&path).unwrap()).unwrap()).unwrap();
    let case = case(depth, 30);
    let mut group = c.benchmark_group("prove-zkey");
    group.sample_size(20);
    group.bench_function(BenchmarkId::new("depth", depth), |b| {
        b.iter(|| p.prove(&case.public, &case.witness, &mut OsRng).unwrap())
    });
    group.finish();

    // The same statement from the same zkey with snarkjs, and the ratio of the medians.
    let wtns = bench_dir().join(format!("witness-{depth}.wtns"));
    let z = p.assignment(&case.public, &case.witness).unwrap();
    std::fs::write(&wtns, jejak_prover::circom::wtns_bytes(&z)).unwrap();
    let runs = 11;
    let mut ours: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            p.prove(&case.public, &case.witness, &mut OsRng).unwrap();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    ours.sort_by(f64::total_cmp);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/snarkjs_prove.mjs");
    let out =
        Command::new("node").arg(&script).arg(&path).arg(&wtns).arg(runs.to_string()).output().expect("running node");
    assert!(out.status.success(), "snarkjs prove: {}", String::from_utf8_lossy(&out.stderr));
    let theirs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let theirs_ms = theirs["median_ms"].as_f64().unwrap();
    let ours_ms = ours[runs / 2];
    println!(
        "prove-zkey/depth/{depth}: jejak-prover median {ours_ms:.1} ms, snarkjs median {theirs_ms:.1} ms \
         ({runs} runs each, same zkey and witness): snarkjs / jejak = {:.1}x",
        theirs_ms / ours_ms
    );
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

/// Process CPU time (user + system, every thread that ever ran) in seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap().split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

fn cpu_ms_per<F: FnMut()>(runs: usize, mut f: F) -> f64 {
    let start = cpu_seconds();
    for _ in 0..runs {
        f();
    }
    (cpu_seconds() - start) * 1e3 / runs as f64
}

#[allow(clippy::print_stdout)]
fn cpu_time(_: &mut Criterion) {
    for depth in [16, 20, 32] {
        let p = prover(depth);
        let case = case(depth, 30);
        let ms = cpu_ms_per(20, || {
            p.prove(&case.public, &case.witness, &mut OsRng).unwrap();
        });
        println!("cpu-time prove/depth/{depth}: {ms:.1} ms CPU per proof (all threads)");
    }
    let p = prover(20);
    let verifier = Verifier::new(&p.verifying_key().key).unwrap();
    let batch: Vec<(Proof<Bn254>, PublicInputs)> = (20..52)
        .map(|w| {
            let case = case(20, w);
            (p.prove(&case.public, &case.witness, &mut OsRng).unwrap(), case.public)
        })
        .collect();
    let one = cpu_ms_per(400, || assert!(verifier.verify(&batch[0].0, &batch[0].1).unwrap()));
    let many = cpu_ms_per(40, || assert!(verifier.verify_batch(&batch, &mut OsRng).unwrap()));
    println!("cpu-time verify/one: {one:.2} ms CPU; verify/batch-32: {:.3} ms CPU per proof", many / 32.0);
}

criterion_group!(benches, bench_prove, bench_prove_zkey, bench_verify, cpu_time);
criterion_main!(benches);
