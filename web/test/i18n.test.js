// Both languages have every string: the same keys, no empty text, the same {placeholders}.
// (The type checker refuses a missing key too; the browser tests look for a missing string on
// every rendered page.) Run: `make test-web`.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { en } from '../.build-test/i18n/en.js';
import { id } from '../.build-test/i18n/id.js';

const placeholders = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

test('English and Indonesian have the same keys', () => {
  assert.deepEqual(Object.keys(id).sort(), Object.keys(en).sort());
});

test('no string is empty and placeholders match', () => {
  for (const [k, v] of Object.entries(en)) {
    assert.ok(v.trim() && id[k].trim(), `${k} is empty`);
    assert.deepEqual(placeholders(id[k]), placeholders(v), `${k}: placeholders differ`);
  }
});

test('Indonesian is a translation, not a copy', () => {
  const words = (s) => s.replace(/\{\w+\}/g, '').trim();
  const same = Object.keys(en).filter((k) => en[k] === id[k] && words(en[k]).length > 12);
  assert.deepEqual(same, [], 'long strings left in English');
});
