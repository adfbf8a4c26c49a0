// Unit tests of the wallet's and console's pure pieces (compiled by `tsc -p web/tsconfig.test.json`):
// proof request links (every bad field refused with its code), the score chart's geometry, QR
// codes, and a plain sentence in both languages for every reason code the scoring engine has.
// Run: `make test-web`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { chartGeometry } from '../.build-test/chart.js';
import { en } from '../.build-test/i18n/en.js';
import { id } from '../.build-test/i18n/id.js';
import { MAX_QR_BYTES, qrPath } from '../.build-test/qr.js';

const q = (s) => new URLSearchParams(s);

test('the chart puts epochs in order and scores on one 0-1000 axis', () => {
  const g = chartGeometry(
    [
      { epoch: 30, reputation: 1000, credit: 850 },
      { epoch: 10, reputation: 0, credit: 300 },
      { epoch: 20, reputation: 500, credit: 575 },
    ],
    640,
    240,
  );
  assert.deepEqual(g.dots.map((d) => d.epoch), [10, 20, 30]);
  assert.deepEqual(g.dots.map((d) => d.x), [40, 334, 628]);
  // Plot area: top 12, bottom 240 - 24 = 216.
  assert.deepEqual(g.dots.map((d) => d.yReputation), [216, 114, 12]);
  assert.equal(g.dots[2].yCredit, 42.6); // 216 - 0.85 * 204
  assert.equal(g.reputation, '40,216 334,114 628,12');
  assert.deepEqual(g.ticks.map((t) => t.y), [216, 165, 114, 63, 12]);
  // One epoch is centred; an out-of-range value is clamped, not drawn off the chart.
  const one = chartGeometry([{ epoch: 1, reputation: 2000, credit: Number.NaN }], 640, 240);
  assert.deepEqual([one.dots[0].x, one.dots[0].yReputation, one.dots[0].yCredit], [334, 12, 216]);
  assert.equal(chartGeometry([]).dots.length, 0);
});

test('QR codes: sized to the text, refused when too long', () => {
  const small = qrPath('https://jejak.example/prove?context=x&min=700');
  assert.ok(small && small.size >= 21 && (small.size - 17) % 4 === 0, `size ${small?.size}`);
  assert.match(small.d, /^(M\d+ \d+h1v1h-1z)+$/);
  // Finder pattern: the top-left module of the code (offset by the 4-module quiet zone) is dark.
  assert.ok(small.d.startsWith('M4 4h1v1h-1z'));
  const big = qrPath('x'.repeat(MAX_QR_BYTES));
  assert.ok(big && big.size > small.size);
  assert.equal(qrPath('x'.repeat(MAX_QR_BYTES + 1)), null);
  assert.equal(qrPath(''), null);
  // Multi-byte text is measured in UTF-8 bytes.
  assert.equal(qrPath('é'.repeat(MAX_QR_BYTES / 2 + 1)), null);
});

test('every reason code of the scoring engine has a sentence in both languages', () => {
  const rs = readFileSync(new URL('../../scoring/src/reasons.rs', import.meta.url), 'utf8');
  const codes = [...rs.matchAll(/Self::\w+ => "([a-z_]+)"/g)].map((m) => m[1]);
  assert.ok(codes.length >= 15, `found ${codes.length} codes`);
  for (const c of codes) {
    assert.ok(en[`reason.${c}`], `reason.${c} has no English sentence`);
    assert.ok(id[`reason.${c}`], `reason.${c} has no Indonesian sentence`);
  }
  const known = new Set(codes.map((c) => `reason.${c}`));
  const extra = Object.keys(en).filter((k) => k.startsWith('reason.') && k !== 'reason.unknown' && !known.has(k));
  assert.deepEqual(extra, [], 'sentences for codes the engine does not have');
});

test('every outcome the API answers has a word in both languages', () => {
  for (const o of ['pass', 'fail', 'warn', 'not_checked']) {
    assert.ok(en[`outcome.${o}`] && id[`outcome.${o}`], o);
  }
  for (const c of ['missing', 'too_long', 'not_a_number', 'out_of_range']) {
    assert.ok(en[`prove.problem.${c}`] && id[`prove.problem.${c}`], c);
  }
  for (const s of ['dead', 'pending', 'delivered']) {
    assert.ok(en[`console.status.${s}`] && id[`console.status.${s}`], s);
  }
});

test('after sign-in, only a page of this app behind a key is followed', async () => {
  const { nextPath } = await import('../.build-test/session.js');
  assert.equal(nextPath('/prove?context=loan&min=700', 'worker'), '/prove?context=loan&min=700');
  assert.equal(nextPath('/console/verify', 'platform'), '/console/verify');
  assert.equal(nextPath(null, 'worker'), '/wallet');
  assert.equal(nextPath(null, 'platform'), '/console');
  assert.equal(nextPath(null, 'admin'), '/console');
  assert.equal(nextPath(null, 'auditor'), '/');
  for (const hostile of ['//evil.example/wallet', 'https://evil.example/wallet', '/\\\\evil.example', '/wallet/../../x', '/walletx', '/check', 'javascript:alert(1)', '/wallet#x', '/prove?x#y']) {
    assert.equal(nextPath(hostile, 'worker'), '/wallet', hostile);
  }
});

test('every evidence rule has a name in both languages', () => {
  const rs = readFileSync(new URL('../../evidence/src/reason.rs', import.meta.url), 'utf8');
  const codes = [...rs.matchAll(/= "(POR_[A-Z_]+)"/g)].map((m) => m[1]);
  assert.ok(codes.length >= 20, `found ${codes.length} rules`);
  for (const c of codes) {
    assert.ok(en[`rule.${c}`] && id[`rule.${c}`], `rule.${c} has no name in both languages`);
  }
  const extra = Object.keys(en).filter((k) => k.startsWith('rule.') && !codes.includes(k.slice(5)));
  assert.deepEqual(extra, [], 'names of rules the evidence crate does not have');
});
