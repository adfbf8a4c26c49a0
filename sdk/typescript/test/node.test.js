// The SDK against a real node on anvil, run by the Rust test tests/it/sdk.rs (which starts the
// node and passes it here): events sent through the typed client, a receipt read and checked with
// the SDK's checker, the node's webhook delivery to a local receiver verified with
// verifyWebhook, events sent as a signed webhook with signWebhook, and a proof request built.
// Needs JEJAK_URL, JEJAK_PLATFORM_KEY, JEJAK_PLATFORM_ID and JEJAK_RPC (anvil, to mine blocks
// towards finality); fails without them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';

import {
  buildProofRequest,
  checkReceipt,
  createJejakClient,
  firstFailure,
  parseProofRequest,
  parseReceipt,
  proofRequestLink,
  proveBody,
  signWebhook,
  toHex,
  verifyWebhook,
  WebhookSignatureError,
} from '../dist/index.js';

function env(name) {
  const v = process.env[name];
  assert.ok(v, `${name} is not set: this test is run by tests/it/sdk.rs against a node it starts`);
  return v;
}

const baseUrl = env('JEJAK_URL');
const apiKey = env('JEJAK_PLATFORM_KEY');
const platformId = Number(env('JEJAK_PLATFORM_ID'));
const rpc = env('JEJAK_RPC');
const client = createJejakClient({ baseUrl, apiKey });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function mine(blocks) {
  const r = await fetch(rpc, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'anvil_mine', params: [`0x${blocks.toString(16)}`] }),
  });
  assert.equal(r.status, 200);
}

/** Polls `f` until it returns something, mining a block between tries. */
async function eventually(secs, what, f) {
  const end = Date.now() + secs * 1000;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== null) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await mine(1);
    await sleep(200);
  }
}

const ago = (days) => new Date(Date.now() - days * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
const completed = (worker, task, days) => ({
  type: 'task_completed',
  worker,
  occurred_at: ago(days),
  data: { task_id: task, earnings_minor: 25_000, currency: 'IDR' },
});

/** A receiver on 127.0.0.1 keeping each request's headers and exact body bytes. */
async function receiver() {
  const seen = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      seen.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200).end();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}/hook`, seen, close: () => server.close() };
}

test('events, receipt, webhook delivery and proof request against a node on anvil', async (t) => {
  const hook = await receiver();
  t.after(() => hook.close());

  // A subscription: the secret is shown once, in the answer.
  const sub = await client.POST('/v1/webhooks/subscriptions', { body: { url: hook.url, events: ['batch.finalized'] } });
  assert.equal(sub.response.status, 201, JSON.stringify(sub.error));
  const secret = sub.data.secret;
  assert.ok(secret, 'a new subscription carries its secret');

  // Events through the typed client.
  const sent = await client.POST('/v1/events', {
    body: { events: [completed('sdk-driver-1', 'sdk-ride-1', 3), completed('sdk-driver-2', 'sdk-ride-2', 2)] },
    headers: { 'Idempotency-Key': `sdk-${Date.now()}` },
  });
  assert.equal(sent.response.status, 202, JSON.stringify(sent.error));
  assert.equal(sent.data.platform_id, platformId);
  assert.equal(sent.data.accepted.length, 2);
  const id = sent.data.accepted[0].id;

  // A refusal answers in the error format, typed.
  const bad = await client.POST('/v1/events', { body: { events: [] } });
  assert.equal(bad.response.status >= 400 && bad.response.status < 500, true, `empty batch answered ${bad.response.status}`);
  assert.equal(typeof bad.error.error.code, 'string');

  // The receipt once final, recomputed here.
  const receipt = await eventually(120, `attestation ${id} to become final`, async () => {
    const r = await client.GET('/v1/attestations/{id}', { params: { path: { id } } });
    assert.equal(r.response.status, 200, JSON.stringify(r.error));
    return r.data.status === 'final' ? r.data : undefined;
  });
  const parsed = parseReceipt(JSON.stringify(receipt));
  assert.equal(parsed.kind, 'attestation');
  assert.equal(toHex(parsed.leaf), receipt.leaf.replace(/^0x/, ''));
  // The anchoring, as the explorer's index of chain events has it (the indexer may trail).
  assert.equal(typeof parsed.batchId, 'number', 'a final receipt names its batch');
  const batch = await eventually(60, `batch ${parsed.batchId} in the explorer`, async () => {
    const b = await client.GET('/v1/explorer/batches/{id}', { params: { path: { id: parsed.batchId } } });
    return b.response.status === 200 ? b.data : undefined;
  });
  const checks = await checkReceipt(parsed, {
    anchor: async () => ({
      root: batch.root.replace(/^0x/, ''),
      size: batch.count,
      transactionHash: batch.transaction_hash,
      blockNumber: batch.block_number,
      finalized: batch.finalized,
    }),
  });
  assert.equal(firstFailure(checks), undefined, JSON.stringify(checks));
  assert.deepEqual(
    checks.map((c) => [c.id, c.outcome]),
    [
      ['event_digest', 'passed'],
      ['leaf', 'passed'],
      ['inclusion', 'passed'],
      ['anchored', 'passed'],
    ],
  );
  // The same receipt with its event altered fails its checks.
  const altered = structuredClone(receipt);
  altered.event.data.earnings_minor += 1;
  const bad2 = await checkReceipt(parseReceipt(JSON.stringify(altered)));
  assert.equal(firstFailure(bad2)?.id, 'event_digest');

  // The node's delivery of batch.finalized, verified on the exact bytes received.
  const delivery = await eventually(60, 'a batch.finalized delivery', async () => hook.seen[0]);
  const header = delivery.headers['jejak-signature'];
  assert.ok(delivery.headers['jejak-webhook-id'], 'each delivery carries its event id');
  const ok = await verifyWebhook(secret, header, delivery.body);
  assert.ok(Math.abs(ok.t - Date.now() / 1000) < 300);
  assert.equal(JSON.parse(delivery.body.toString('utf8')).type, 'batch.finalized');
  const tampered = Buffer.concat([delivery.body, Buffer.from(' ')]);
  await assert.rejects(verifyWebhook(secret, header, tampered), (e) => e instanceof WebhookSignatureError && e.code === 'mismatch');
  await assert.rejects(verifyWebhook(`${secret}x`, header, delivery.body), { code: 'mismatch' });

  // Events sent as a signed webhook: the node accepts what signWebhook signs, and refuses it
  // altered.
  const rotated = await client.POST('/v1/platforms/{id}/webhook-secret', { params: { path: { id: platformId } } });
  assert.equal(rotated.response.status, 201, JSON.stringify(rotated.error));
  const anonymous = createJejakClient({ baseUrl });
  const text = JSON.stringify({ events: [completed('sdk-driver-3', 'sdk-ride-3', 1)] });
  const post = async (signature, body) =>
    anonymous.POST('/v1/webhooks/events', {
      params: { header: { 'Jejak-Platform': platformId, 'Jejak-Signature': signature } },
      body: JSON.parse(body),
      bodySerializer: () => body,
      headers: { 'content-type': 'application/json' },
    });
  const signed = await post(await signWebhook(rotated.data.secret, text), text);
  assert.equal(signed.response.status, 202, JSON.stringify(signed.error));
  assert.equal(signed.data.accepted.length, 1);
  const forged = await post(await signWebhook(rotated.data.secret, text), text.replace('sdk-ride-3', 'sdk-ride-4'));
  assert.equal(forged.response.status, 401, JSON.stringify(forged.error));

  // A proof request for this platform, as the wallet reads it, and the body the node proves from.
  const request = buildProofRequest({ context: 'loan:sdk-test', minScore: 700, minGigs: 2, minTier: 3, platform: platformId });
  assert.match(request.challenge, /^\d+$/);
  const link = new URL(proofRequestLink(baseUrl, request));
  assert.equal(link.origin + link.pathname, `${new URL(baseUrl).origin}/prove`);
  assert.deepEqual(parseProofRequest(link.searchParams), request);
  assert.deepEqual(proveBody(request), {
    context: 'loan:sdk-test',
    min_score: 700,
    min_gigs: 2,
    min_tier: 3,
    challenge: request.challenge,
    platform_id: platformId,
  });
  // The wallet page the link opens is served by the node.
  const page = await fetch(link);
  assert.equal(page.status, 200);
});
