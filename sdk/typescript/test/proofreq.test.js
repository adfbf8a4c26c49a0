// Unit tests of the proof-request links and builder (src/proofreq.ts, the link format the web
// app's wallet reads): round trips, every bad field refused with its stable code. Run: `make test-sdk`.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  buildProofRequest,
  parseProofRequest,
  ProofRequestError,
  proofRequestLink,
  proveBody,
  randomChallenge,
} from '../dist/index.js';

const q = (s) => new URLSearchParams(s);

test('a proof request link round-trips', () => {
  const r = { context: 'loan:acme/2026', minScore: 700, minGigs: 50, minTier: 3, challenge: '12345', platform: 2 };
  const link = proofRequestLink('http://127.0.0.1:7420', r);
  const u = new URL(link);
  assert.equal(u.pathname, '/prove');
  assert.deepEqual(parseProofRequest(u.searchParams), r);
  assert.deepEqual(proveBody(r), { context: 'loan:acme/2026', min_score: 700, min_gigs: 50, min_tier: 3, challenge: '12345', platform_id: 2 });
  const bare = parseProofRequest(q('context=x&min=0'));
  assert.deepEqual(proveBody(bare), { context: 'x', min_score: 0, min_gigs: 0, min_tier: 0 });
});

test('a bad proof request names its field and a stable code', () => {
  const cases = [
    ['min=700', 'context', 'missing'],
    [`context=${'é'.repeat(129)}&min=1`, 'context', 'too_long'],
    ['context=x', 'min', 'missing'],
    ['context=x&min=abc', 'min', 'not_a_number'],
    ['context=x&min=-1', 'min', 'not_a_number'],
    ['context=x&min=1001', 'min', 'out_of_range'],
    ['context=x&min=1&tier=6', 'tier', 'out_of_range'],
    ['context=x&min=1&gigs=1e3', 'gigs', 'not_a_number'],
    ['context=x&min=1&challenge=0x12', 'challenge', 'not_a_number'],
    [`context=x&min=1&challenge=${'9'.repeat(78)}`, 'challenge', 'out_of_range'],
    ['context=x&min=1&challenge=21888242871839275222246405745257275088548364400416034343698204186575808495617', 'challenge', 'out_of_range'],
    ['context=x&min=1&platform=0', 'platform', 'out_of_range'],
    ['context=x&min=1&platform=p1', 'platform', 'not_a_number'],
  ];
  for (const [query, field, code] of cases) {
    assert.throws(
      () => parseProofRequest(q(query)),
      (e) => e instanceof ProofRequestError && e.field === field && e.code === code,
      `${query} → ${field} ${code}`,
    );
  }
  // The largest challenge below the modulus is accepted, written without leading zeros.
  const top = '21888242871839275222246405745257275088548364400416034343698204186575808495616';
  assert.equal(parseProofRequest(q(`context=x&min=1&challenge=${top}`)).challenge, top);
  assert.equal(parseProofRequest(q('context=x&min=1&challenge=007')).challenge, '7');
});

test('random challenges are distinct field elements', () => {
  const a = randomChallenge();
  const b = randomChallenge();
  assert.notEqual(a, b);
  for (const c of [a, b]) assert.doesNotThrow(() => parseProofRequest(q(`context=x&min=0&challenge=${c}`)));
});


test('buildProofRequest builds what the wallet reads, with a fresh challenge by default', () => {
  const r = buildProofRequest({ context: 'loan:acme/2026', minScore: 700, minGigs: 50, minTier: 3, platform: 2 });
  assert.match(r.challenge, /^\d+$/);
  assert.deepEqual(r, { context: 'loan:acme/2026', minScore: 700, minGigs: 50, minTier: 3, challenge: r.challenge, platform: 2 });
  assert.deepEqual(parseProofRequest(new URL(proofRequestLink('https://node.example', r)).searchParams), r);
  assert.notEqual(buildProofRequest({ context: 'x', minScore: 1 }).challenge, buildProofRequest({ context: 'x', minScore: 1 }).challenge);
  // A given challenge (string or bigint) is kept, written without leading zeros; null asks none.
  assert.equal(buildProofRequest({ context: 'x', minScore: 1, challenge: '007' }).challenge, '7');
  assert.equal(buildProofRequest({ context: 'x', minScore: 1, challenge: 12345n }).challenge, '12345');
  assert.deepEqual(buildProofRequest({ context: 'x', minScore: 0, challenge: null }), {
    context: 'x', minScore: 0, minGigs: 0, minTier: 0, challenge: null, platform: null,
  });
});

test('buildProofRequest refuses what the wallet would refuse, naming the field', () => {
  const cases = [
    [{ context: '', minScore: 1 }, 'context', 'missing'],
    [{ context: 'é'.repeat(129), minScore: 1 }, 'context', 'too_long'],
    [{ context: 'x' }, 'min', 'missing'],
    [{ context: 'x', minScore: 1001 }, 'min', 'out_of_range'],
    [{ context: 'x', minScore: -1 }, 'min', 'out_of_range'],
    [{ context: 'x', minScore: 1.5 }, 'min', 'not_a_number'],
    [{ context: 'x', minScore: Number.NaN }, 'min', 'not_a_number'],
    [{ context: 'x', minScore: 1, minGigs: 1_000_001 }, 'gigs', 'out_of_range'],
    [{ context: 'x', minScore: 1, minTier: 6 }, 'tier', 'out_of_range'],
    [{ context: 'x', minScore: 1, challenge: -1n }, 'challenge', 'out_of_range'],
    [{ context: 'x', minScore: 1, challenge: '0x12' }, 'challenge', 'not_a_number'],
    [{ context: 'x', minScore: 1, challenge: 21888242871839275222246405745257275088548364400416034343698204186575808495617n }, 'challenge', 'out_of_range'],
    [{ context: 'x', minScore: 1, platform: 0 }, 'platform', 'out_of_range'],
    [{ context: 'x', minScore: 1, platform: 1.5 }, 'platform', 'not_a_number'],
  ];
  for (const [input, field, code] of cases) {
    assert.throws(
      () => buildProofRequest(input),
      (e) => e instanceof ProofRequestError && e.field === field && e.code === code,
      `${JSON.stringify(input, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))} → ${field} ${code}`,
    );
  }
});
