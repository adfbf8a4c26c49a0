// Reads {"hashes": [[decimal, ...], ...], "tree": {"depth": d, "leaves": [decimal, ...]}} on stdin
// and answers {"hashes": [decimal, ...], "tree_root": decimal} computed with circomlibjs' Poseidon.
// The tree pads with 0 leaves to 2^depth and hashes pairwise, Poseidon([left, right]).
import { buildPoseidon } from "circomlibjs";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const poseidon = await buildPoseidon();
const F = poseidon.F;
const h = (inputs) => poseidon(inputs.map((x) => BigInt(x)));

const hashes = request.hashes.map((inputs) => F.toString(h(inputs)));

let level = [];
const { depth, leaves } = request.tree;
for (let i = 0; i < 2 ** depth; i++) level.push(i < leaves.length ? BigInt(leaves[i]) : 0n);
while (level.length > 1) {
  const next = [];
  for (let i = 0; i < level.length; i += 2) next.push(F.toObject(poseidon([level[i], level[i + 1]])));
  level = next;
}

process.stdout.write(JSON.stringify({ hashes, tree_root: level[0].toString() }));
