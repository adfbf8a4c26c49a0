// Unit tests of the typed client (src/client.ts) with a fetch that records the requests: the
// base URL, paths and parameters, the key as a bearer token, the error body. Run: `make test-sdk`.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { createJejakClient } from '../dist/index.js';

function recorder(status, answer) {
  const seen = [];
  const fetch = async (req) => {
    seen.push({ url: req.url, method: req.method, auth: req.headers.get('authorization'), body: await req.text() });
    return new Response(JSON.stringify(answer), { status, headers: { 'content-type': 'application/json' } });
  };
  return { seen, fetch };
}

test('requests go to the base URL with the key as a bearer token', async () => {
  const r = recorder(200, { id: 'att_1', status: 'final' });
  const jejak = createJejakClient({ baseUrl: 'http://127.0.0.1:7420/', apiKey: 'jk_test.secret', fetch: r.fetch });
  const { data, error } = await jejak.GET('/v1/attestations/{id}', { params: { path: { id: 'att_1' } } });
  assert.equal(error, undefined);
  assert.equal(data.status, 'final');
  assert.deepEqual(r.seen, [{ url: 'http://127.0.0.1:7420/v1/attestations/att_1', method: 'GET', auth: 'Bearer jk_test.secret', body: '' }]);
});

test('without a key no Authorization is sent; a refusal comes back as `error`', async () => {
  const r = recorder(422, { error: { code: 'invalid_request', message: 'events: 1 to 1000' } });
  const jejak = createJejakClient({ baseUrl: 'http://node.example', fetch: r.fetch });
  const { data, error, response } = await jejak.POST('/v1/events', { body: { events: [] } });
  assert.equal(data, undefined);
  assert.equal(response.status, 422);
  assert.equal(error.error.code, 'invalid_request');
  assert.equal(r.seen[0].auth, null);
  assert.deepEqual(JSON.parse(r.seen[0].body), { events: [] });
});

test('a key that cannot be a header is refused before any request', () => {
  for (const k of ['', 'two words', 'line\nbreak', 'clé']) {
    assert.throws(() => createJejakClient({ baseUrl: 'http://node.example', apiKey: k }), TypeError, JSON.stringify(k));
  }
});
