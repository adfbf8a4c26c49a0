// Times snarkjs' Groth16 prover in-process (no process start-up, files in memory):
//   node snarkjs_prove.mjs circuit.zkey witness.wtns RUNS
// prints {"median_ms", "min_ms", "max_ms", "runs"} after one warm-up proof.
import { readFileSync } from "node:fs";
import * as snarkjs from "snarkjs";

const [zkeyPath, wtnsPath, runsArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 10);
const mem = (path) => ({ type: "mem", data: new Uint8Array(readFileSync(path)) });

await snarkjs.groth16.prove(mem(zkeyPath), mem(wtnsPath));
const times = [];
for (let i = 0; i < runs; i++) {
  const start = performance.now();
  await snarkjs.groth16.prove(mem(zkeyPath), mem(wtnsPath));
  times.push(performance.now() - start);
}
times.sort((a, b) => a - b);
process.stdout.write(
  JSON.stringify({ median_ms: times[runs >> 1], min_ms: times[0], max_ms: times[runs - 1], runs }) + "\n",
);
process.exit(0);
