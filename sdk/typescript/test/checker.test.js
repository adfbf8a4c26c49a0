// Unit tests of the receipt checker (src/checker.ts, shared with the web app)
// against the repository's RFC 6962 vectors. Run: `make test-sdk`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import {
  canonicalJson,
  checkReceipt,
  firstFailure,
  fromHex,
  inclusionPath,
  leafHash,
  merkleRoot,
  parseReceipt,
  ReceiptFormatError,
  rootFromInclusion,
  sha256,
  toHex,
} from '../dist/index.js';

const vectors = JSON.parse(readFileSync(new URL('../../../testdata/rfc6962.json', import.meta.url), 'utf8')).vectors;
const bytes = (h) => fromHex(h, h.length / 2);

test('Merkle Tree Hash matches the RFC 6962 vectors', async () => {
  for (const v of vectors) {
    assert.equal(toHex(await merkleRoot(v.leaves.map(bytes))), v.root);
  }
});

test('every audit path of every vector leads to its root, and to nothing else', async () => {
  for (const v of vectors) {
    const leaves = v.leaves.map(bytes);
    for (let i = 0; i < leaves.length; i++) {
      const path = await inclusionPath(leaves, i);
      const leaf = await leafHash(leaves[i]);
      assert.equal(toHex(await rootFromInclusion(i, leaves.length, leaf, path)), v.root, `leaf ${i}`);
      if (leaves.length > 1) {
        const other = (i + 1) % leaves.length;
        const wrong = await rootFromInclusion(other, leaves.length, leaf, path);
        assert.notEqual(wrong && toHex(wrong), v.root, `leaf ${i} claimed at ${other}`);
        assert.equal(await rootFromInclusion(i, leaves.length, leaf, path.slice(1)), null, 'short path');
      }
      assert.equal(await rootFromInclusion(i, leaves.length, leaf, [...path, leaf]), null, 'long path');
      assert.equal(await rootFromInclusion(leaves.length, leaves.length, leaf, path), null, 'index past size');
    }
  }
});

test('RFC 8785: sorted keys, ECMAScript numbers and strings', () => {
  assert.equal(canonicalJson({ b: [1, 1e21, 0.5, -0], a: 'é\n"', c: { z: null, y: true } }),
    '{"a":"é\\n\\"","b":[1,1e+21,0.5,0],"c":{"y":true,"z":null}}');
  assert.equal(canonicalJson({ '\u20ac': 1, '\r': 2, '\ud83d\ude00': 3 }), '{"\\r":2,"€":1,"😀":3}');
});

// An attestation receipt as GET /v1/attestations/{id} answers, built here from 5 events.
async function attestationReceipt(index) {
  const events = [0, 1, 2, 3, 4].map((n) => ({ type: 'task_completed', worker_ref: `w${n}`, rating: 4.5, n }));
  const salts = events.map((_, n) => new Uint8Array(32).fill(n + 1));
  const inputs = [];
  for (let n = 0; n < events.length; n++) {
    const d = await sha256(new TextEncoder().encode(canonicalJson(events[n])));
    inputs.push(new Uint8Array([...salts[n], ...d]));
  }
  const digest = inputs[index].slice(32);
  return {
    id: 'att_1',
    platform_id: 1,
    event: events[index],
    event_digest: toHex(digest),
    salt: toHex(salts[index]),
    leaf: toHex(await leafHash(inputs[index])),
    status: 'final',
    leaf_index: index,
    inclusion_proof: (await inclusionPath(inputs, index)).map(toHex),
    batch: { root: toHex(await merkleRoot(inputs)), count: inputs.length, cid: 'b', status: 'anchored' },
    anchor: { batch_id: 7, transaction_hash: '0x' + 'ab'.repeat(32), block_number: 9, finalized: true },
  };
}

const lookup = (root, size, tx = '0x' + 'ab'.repeat(32)) => async () => ({
  root, size, transactionHash: tx, blockNumber: 9, finalized: true,
});

test('an honest attestation receipt passes every check', async () => {
  for (const i of [0, 3, 4]) {
    const raw = await attestationReceipt(i);
    const checks = await checkReceipt(parseReceipt(JSON.stringify(raw)), { anchor: lookup(raw.batch.root, 5) });
    assert.deepEqual(checks.map((c) => [c.id, c.outcome]),
      [['event_digest', 'passed'], ['leaf', 'passed'], ['inclusion', 'passed'], ['anchored', 'passed']]);
  }
});

test('a tampered attestation receipt names the failing check', async () => {
  const cases = [
    ['event_digest', (r) => { r.event.rating = 5; }],
    ['leaf', (r) => { r.salt = '00'.repeat(32); }],
    ['inclusion', (r) => { r.leaf_index = 1; }],
    ['inclusion', (r) => { r.inclusion_proof[0] = '11'.repeat(32); }],
    ['inclusion', (r) => { r.batch.root = '22'.repeat(32); }],
  ];
  for (const [id, tamper] of cases) {
    const raw = await attestationReceipt(2);
    const root = raw.batch.root;
    tamper(raw);
    const checks = await checkReceipt(parseReceipt(JSON.stringify(raw)), { anchor: lookup(root, 5) });
    assert.equal(firstFailure(checks)?.id, id, JSON.stringify(checks));
  }
  const raw = await attestationReceipt(2);
  const checks = await checkReceipt(parseReceipt(JSON.stringify(raw)), { anchor: lookup('33'.repeat(32), 5) });
  assert.equal(firstFailure(checks)?.id, 'anchored');
  const none = await checkReceipt(parseReceipt(JSON.stringify(raw)), { anchor: async () => null });
  assert.equal(firstFailure(none)?.id, 'anchored');
});

test('an evidence receipt checks the file when given', async () => {
  const file = new TextEncoder().encode('a photo');
  const fileSha = await sha256(file);
  const inputs = [];
  for (let n = 0; n < 6; n++) inputs.push(new Uint8Array([...new Uint8Array(32).fill(n), ...fileSha, ...new Uint8Array(32).fill(9)]));
  const receipt = {
    version: 1,
    salt: toHex(inputs[5].slice(0, 32)),
    file_sha256: toHex(fileSha),
    metadata_hash: '09'.repeat(32),
    leaf_index: 5,
    tree_size: 6,
    root: toHex(await merkleRoot(inputs)),
    inclusion_path: (await inclusionPath(inputs, 5)).map(toHex),
    anchor: null,
  };
  const wrapped = JSON.stringify({ status: 'logged', receipt });
  let checks = await checkReceipt(parseReceipt(wrapped), { file });
  assert.deepEqual(checks.map((c) => c.outcome), ['passed', 'passed', 'skipped']);
  checks = await checkReceipt(parseReceipt(wrapped));
  assert.equal(checks[0].outcome, 'skipped');
  checks = await checkReceipt(parseReceipt(wrapped), { file: new TextEncoder().encode('another photo') });
  assert.equal(firstFailure(checks)?.id, 'file_sha256');
  checks = await checkReceipt(parseReceipt(JSON.stringify({ ...receipt, metadata_hash: '08'.repeat(32) })), { file });
  assert.equal(firstFailure(checks)?.id, 'inclusion');
});

test('malformed receipts are refused with a code and the field at fault', async () => {
  const good = await attestationReceipt(1);
  const cases = [
    ['not json', 'not_json', ''],
    ['[1,2]', 'unknown_kind', ''],
    ['{"hello":1}', 'unknown_kind', ''],
    [JSON.stringify({ ...good, salt: 'zz' }), 'bad_field', 'salt'],
    [JSON.stringify({ ...good, leaf_index: -1 }), 'bad_field', 'leaf_index'],
    [JSON.stringify({ ...good, leaf_index: 2 ** 60 }), 'bad_field', 'leaf_index'],
    [JSON.stringify({ ...good, inclusion_proof: Array(65).fill('00'.repeat(32)) }), 'bad_field', 'inclusion_proof'],
    [JSON.stringify({ ...good, inclusion_proof: ['00'] }), 'bad_field', 'inclusion_proof[0]'],
    [JSON.stringify({ ...good, batch: { ...good.batch, count: 'five' } }), 'bad_field', 'batch.count'],
    [JSON.stringify({ receipt: { file_sha256: 'x', version: 2 } }), 'bad_field', 'version'],
    ['"' + 'a'.repeat(300 * 1024) + '"', 'too_large', ''],
  ];
  for (const [text, code, field] of cases) {
    assert.throws(() => parseReceipt(text), (e) => e instanceof ReceiptFormatError && e.code === code && e.field === field, text.slice(0, 60));
  }
});
