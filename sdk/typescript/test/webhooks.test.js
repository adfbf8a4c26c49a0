// Unit tests of Jejak-Signature (src/webhooks.ts) against the node's own values:
// testdata/webhook-signatures.json is made and checked by the node's Rust code
// (api/src/services/webhooks.rs `shared_signature_vectors`). Run: `make test-sdk`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import {
  DEFAULT_TOLERANCE_SECS,
  parseSignatureHeader,
  signWebhook,
  verifyWebhook,
  WebhookSignatureError,
} from '../dist/index.js';

const fixture = JSON.parse(readFileSync(new URL('../../../testdata/webhook-signatures.json', import.meta.url), 'utf8'));

test('the fixture covers acceptance and every refusal', () => {
  const kinds = new Set(fixture.vectors.map((v) => v.expect));
  assert.deepEqual([...kinds].sort(), ['malformed', 'mismatch', 'ok', 'outside_window']);
  assert.equal(fixture.window_secs, DEFAULT_TOLERANCE_SECS);
});

test('signWebhook gives the header the node gives', async () => {
  const s = fixture.signed;
  assert.equal(await signWebhook(s.secret, s.body, s.t), s.header);
  // Bytes and text sign alike.
  const enc = new TextEncoder();
  assert.equal(await signWebhook(enc.encode(s.secret), enc.encode(s.body).buffer, s.t), s.header);
});

test('verifyWebhook agrees with the node on every vector', async () => {
  for (const v of fixture.vectors) {
    const run = verifyWebhook(v.secret, v.header, v.body, { now: v.now });
    if (v.expect === 'ok') {
      const got = await run;
      assert.equal(typeof got.t, 'number', v.name);
    } else {
      await assert.rejects(run, (e) => e instanceof WebhookSignatureError && e.code === v.expect, `${v.name}: ${v.expect}`);
    }
  }
});

test('a tampered signature, body or timestamp is refused', async () => {
  const secret = 'whsec_unit';
  const body = '{"type":"batch.finalized","data":{"batch_id":7}}';
  const now = 1_900_000_000;
  const header = await signWebhook(secret, body, now);
  assert.deepEqual(await verifyWebhook(secret, header, body, { now }), { t: now });
  const mac = header.split('v1=')[1];
  const flip = (i) => `t=${now},v1=${mac.slice(0, i)}${mac[i] === '0' ? '1' : '0'}${mac.slice(i + 1)}`;
  for (const h of [flip(0), flip(31), flip(63)]) {
    await assert.rejects(verifyWebhook(secret, h, body, { now }), { code: 'mismatch' });
  }
  await assert.rejects(verifyWebhook(secret, header, `${body} `, { now }), { code: 'mismatch' });
  await assert.rejects(verifyWebhook('whsec_other', header, body, { now }), { code: 'mismatch' });
  await assert.rejects(verifyWebhook(secret, header.replace(`t=${now}`, `t=${now - 1}`), body, { now }), { code: 'mismatch' });
  // A tolerance of its own: a receiver may be stricter than the node.
  await assert.rejects(verifyWebhook(secret, header, body, { now: now + 61, toleranceSecs: 60 }), { code: 'outside_window' });
  assert.ok(await verifyWebhook(secret, header, body, { now: now + 60, toleranceSecs: 60 }));
  await assert.rejects(verifyWebhook(secret, null, body, { now }), { code: 'malformed' });
  await assert.rejects(verifyWebhook(secret, undefined, body, { now }), { code: 'malformed' });
  // Timestamps far past 2^53 are outside any window, never read as a nearby time.
  await assert.rejects(verifyWebhook(secret, `t=9223372036854775807,v1=${mac}`, body, { now }), { code: 'outside_window' });
});

test('headers are bounded before any MAC', () => {
  const mac = 'ab'.repeat(32);
  assert.equal(parseSignatureHeader(`t=1,${Array(4).fill(`v1=${mac}`).join(',')}`).macs.length, 4);
  for (const bad of [
    `t=1,${Array(5).fill(`v1=${mac}`).join(',')}`,
    `t=1,t=2,v1=${mac}`,
    `t=1,v1=${mac},${'x'.repeat(500)}`,
    `t=1,v1=${'é'.repeat(32)}`,
    `t=1.5,v1=${mac}`,
    'v1=00',
    '',
  ]) {
    assert.throws(() => parseSignatureHeader(bad), (e) => e instanceof WebhookSignatureError && e.code === 'malformed', bad);
  }
});
