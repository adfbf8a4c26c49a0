// The web app in headless Chromium against a running node: an auditor's walk from the home page to
// a batch and the receipt checker (honest, tampered, malformed receipts); a worker who signs in,
// sees the score and its reasons, issues a credential and answers a proof request whose proof
// verifies through POST /v1/verify/proof; a platform that replays a dead-lettered webhook from the
// console and verifies a proof, a credential and a receipt on the verify page (a proof for
// another context, a replayed proof and a tampered credential fail with the check or code named);
// every page in both languages without a missing string, axe-core on every page, no horizontal
// scrolling at 360 px, screenshots at 360 and 1280 px, and each page's weight and first render.
//
// Started by the nextest test `web::explorer_and_receipt_checker_in_chromium` (tests/it/web.rs),
// which runs a node on anvil and passes, in the environment:
//   JEJAK_URL       the node's address
//   JEJAK_RECEIPT   a file holding an attestation receipt (GET /v1/attestations/{id})
//   JEJAK_PAGES     a JSON list of the paths of every page to walk
//   JEJAK_OUT       where screenshots and metrics.json go
//   JEJAK_WORKER_KEY    a worker key of an identity the node holds, with a published score
//   JEJAK_PLATFORM_KEY  a key of platform JEJAK_PLATFORM_ID, which has a dead-lettered delivery
//   JEJAK_TASK          an evidence task of that worker on that platform, with a verdict
//   JEJAK_EXPIRED_CREDENTIAL  a file holding a credential signed by the node that has expired
import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const base = process.env.JEJAK_URL;
const receipt = readFileSync(process.env.JEJAK_RECEIPT, 'utf8');
const pages = JSON.parse(process.env.JEJAK_PAGES);
const out = process.env.JEJAK_OUT;
const workerKey = process.env.JEJAK_WORKER_KEY;
const platformKey = process.env.JEJAK_PLATFORM_KEY;
const platformId = process.env.JEJAK_PLATFORM_ID;
const taskId = process.env.JEJAK_TASK;
const expiredCredential = readFileSync(process.env.JEJAK_EXPIRED_CREDENTIAL, 'utf8');
for (const [name, v] of Object.entries({ JEJAK_WORKER_KEY: workerKey, JEJAK_PLATFORM_KEY: platformKey, JEJAK_PLATFORM_ID: platformId, JEJAK_TASK: taskId })) {
  if (!v) throw new Error(`${name} is not set`);
}
const CONTEXT = 'web-e2e/loan-v1';
const CHALLENGE = '123456789';
const proveUrl = `/prove?context=${encodeURIComponent(CONTEXT)}&min=100&platform=${platformId}&challenge=${CHALLENGE}`;
mkdirSync(out, { recursive: true });
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const failures = [];
function expect(ok, what) {
  if (!ok) failures.push(what);
  console.log(`${ok ? 'ok' : 'FAIL'} ${what}`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
});

/** A fresh context in `locale` at `width` (signed in with `key`, if given), collecting CSP
 * violations and page errors. */
async function context(locale, width, key = null) {
  const ctx = await browser.newContext({ locale, viewport: { width, height: 800 }, baseURL: base, acceptDownloads: true });
  if (key) await ctx.addInitScript((k) => window.sessionStorage.setItem('jejak.key', k), key);
  const page = await ctx.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  return { ctx, page, problems };
}

async function settled(page) {
  await page.waitForLoadState('networkidle');
  await page.waitForFunction(() => !document.querySelector('[role="status"].muted'), null, { timeout: 10_000 });
}

function slug(path) {
  return path.replace(/[^a-z0-9]+/gi, '_').replace(/^_|_$/g, '') || 'home';
}

// 1. The auditor's walk, in English on a phone.
{
  const { ctx, page, problems } = await context('en-GB', 360);
  await page.goto('/');
  await settled(page);
  expect((await page.locator('h1').textContent()) === 'Explorer', 'home page renders its title');
  // The receipt's own batch, among the latest on the home page.
  const batchLink = page.locator(`section[aria-labelledby="batches"] tbody a[href="/batches/${JSON.parse(receipt).anchor.batch_id}"]`).first();
  const batchHref = await batchLink.getAttribute('href');
  await batchLink.click();
  await settled(page);
  expect(new URL(page.url()).pathname === batchHref, `a batch link opens ${batchHref}`);
  const root = JSON.parse(receipt).batch.root;
  expect((await page.locator('main').textContent()).includes(root), 'the batch page shows the root of the receipt');
  await page.getByRole('link', { name: 'Check a receipt from this batch' }).click();
  await settled(page);

  const check = async (text) => {
    await page.locator('#receipt').fill(text);
    await page.getByRole('button', { name: 'Check', exact: true }).click();
    await page.waitForSelector('#check-result [data-testid]');
  };
  const outcome = (id) => page.locator(`[data-check="${id}"]`).getAttribute('data-outcome');

  await check(receipt);
  for (const id of ['event_digest', 'leaf', 'inclusion', 'anchored']) {
    expect((await outcome(id)) === 'passed', `honest receipt: ${id} passed`);
  }
  expect((await page.getByTestId('check-summary').textContent()).includes('Every check passed'), 'honest receipt: summary');
  await page.screenshot({ path: join(out, 'check-passed-360.png'), fullPage: true });

  const tampered = JSON.parse(receipt);
  tampered.event.worker = `${tampered.event.worker}-x`;
  await check(JSON.stringify(tampered));
  expect((await outcome('event_digest')) === 'failed', 'tampered event: event digest failed');
  expect(
    (await page.getByTestId('check-summary').textContent()).includes('Failed: Event digest'),
    'tampered event: the failing check is named',
  );
  await page.screenshot({ path: join(out, 'check-tampered-360.png'), fullPage: true });

  const moved = JSON.parse(receipt);
  moved.inclusion_proof = moved.inclusion_proof.length ? moved.inclusion_proof.slice(1) : ['00'.repeat(32)];
  await check(JSON.stringify(moved));
  expect((await outcome('inclusion')) === 'failed', 'tampered path: inclusion failed');

  await check('{"this is": not json');
  expect((await page.getByTestId('check-error').textContent()).includes('This is not JSON'), 'malformed receipt: clear message');
  await check(JSON.stringify({ ...JSON.parse(receipt), salt: 'zz' }));
  expect((await page.getByTestId('check-error').textContent()).includes('“salt”'), 'bad field: the field is named');

  // Search by the receipt's transaction finds its batch.
  await page.goto(`/search?q=${JSON.parse(receipt).anchor.transaction_hash}`);
  await settled(page);
  expect((await page.locator('.hits a').count()) >= 1, 'search by transaction finds the batch');
  await page.goto('/search?q=not-a-thing');
  await settled(page);
  expect((await page.locator('[role="alert"]').textContent()).includes('invalid_search'), 'a bad search shows the API code');

  // The language switch.
  await page.goto('/');
  await settled(page);
  await page.getByRole('button', { name: 'Bahasa Indonesia' }).click();
  expect((await page.locator('h1').textContent()) === 'Penjelajah', 'the switch turns the page into Indonesian');
  expect((await page.locator('html').getAttribute('lang')) === 'id', 'the switch sets <html lang>');
  expect(problems.length === 0, `no page errors or CSP violations (${problems.join('; ')})`);
  await ctx.close();
}

/** axe-core on the page as it is now: no serious or critical violation. */
async function axeClean(page, name) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  const axe = await page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] });
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.nodes.length})`);
  });
  expect(axe.length === 0, `${name}: no serious or critical axe violations ${axe.join(', ')}`);
}

/** A call to the node's API with `key`, outside the browser. */
async function apiCall(method, path, key, body) {
  const res = await fetch(new URL(path, base), {
    method,
    headers: { Authorization: `Bearer ${key}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

/** Looks the evidence task up on the current page and checks its verdict is shown rule by rule
 * (against the API's own answer); an unknown id shows the API's code. */
async function taskVerdict(page, who, key) {
  const api = await apiCall('GET', `/v1/tasks/${taskId}`, key);
  const lookup = async (id) => {
    await page.locator('#task-id').fill(id);
    await page.getByRole('button', { name: 'Show', exact: true }).click();
  };
  // The caller's own tasks are listed (`GET /v1/tasks`).
  const listed = page.locator(`[data-testid="task-list"] [data-task="${taskId}"]`);
  await listed.waitFor({ timeout: 10_000 }).catch(() => {});
  expect((await listed.count()) === 1, `${who}: the task list shows the task`);
  await lookup(taskId);
  await page.getByTestId('task').waitFor();
  const rules = page.locator('[data-testid="task"] [data-rule]');
  const shown = [];
  for (let i = 0; i < (await rules.count()); i++) {
    shown.push(`${await rules.nth(i).getAttribute('data-rule')}:${await rules.nth(i).getAttribute('data-outcome')}`);
  }
  const expected = api.body.verdict.results.map((r) => `${r.code}:${r.outcome}`);
  expect(shown.length > 1 && JSON.stringify(shown) === JSON.stringify(expected), `${who}: the task's verdict rule by rule (${shown.join(', ')})`);
  expect((await page.getByTestId('task-outcome').textContent()).length > 0, `${who}: the task's outcome`);
  await axeClean(page, `${who}: the task's verdict`);
  await lookup('tsk_not_a_task');
  await page.locator('[role="alert"]').first().waitFor();
  expect((await page.locator('[role="alert"]').first().textContent()).includes('task_not_found'), `${who}: an unknown task shows the API code`);
}

/** Signs in through the sign-in form; the app then opens the role's home page. */
async function signInWith(page, key, landing) {
  await page.goto('/signin');
  await settled(page);
  await page.locator('#key').fill(key);
  await page.getByRole('button', { name: 'Sign in', exact: true }).last().click();
  await page.waitForURL((u) => u.pathname === landing, { timeout: 10_000 });
  await settled(page);
}

// 2. The worker: sign in, score and reasons, a credential, a proof request answered.
let proof = null;
let credential = null;
{
  const { ctx, page, problems } = await context('en-GB', 360);
  await signInWith(page, workerKey, '/wallet');
  expect((await page.locator('h1').textContent()) === 'My wallet', 'a worker key opens the wallet');
  const score = (await page.getByTestId('reputation-score').locator('.stat-value').textContent()).trim();
  expect(/^\d[\d,]*$/.test(score), `the reputation score is shown (${score})`);
  expect(/^\d[\d,]*$/.test((await page.getByTestId('credit-score').locator('.stat-value').textContent()).trim()), 'the credit score is shown');
  const reasons = page.locator('[data-reason]');
  const n = await reasons.count();
  expect(n >= 1, `reasons are listed (${n})`);
  for (let i = 0; i < n; i++) {
    const text = await reasons.nth(i).textContent();
    expect(!/no sentence|⟦/.test(text), `reason ${await reasons.nth(i).getAttribute('data-reason')} is a sentence: ${text}`);
  }
  expect((await page.locator('[data-testid="score-chart"] circle').count()) >= 1, 'the chart shows the epoch');
  expect((await page.locator('main table tbody tr').first().count()) === 1, 'the per-platform breakdown is shown');
  await page.screenshot({ path: join(out, 'wallet-360.png'), fullPage: true });
  // The portable bundle, byte for byte as the node built it.
  await page.getByTestId('bundle-fetch').click();
  const bundleLink = page.getByTestId('bundle-download');
  await bundleLink.waitFor({ timeout: 30_000 }).catch(() => {});
  expect((await bundleLink.count()) === 1 && (await bundleLink.getAttribute('href')).startsWith('blob:'), 'the wallet offers the portable bundle');

  await page.getByRole('button', { name: 'Issue a credential' }).click();
  await page.getByTestId('credential-issued').waitFor({ timeout: 20_000 });
  expect((await page.locator('[data-testid="credential-issued"] .qr svg path').count()) === 1, 'the credential has a QR code');
  await axeClean(page, 'the issued credential');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download the credential' }).click()]);
  credential = JSON.parse(readFileSync(await download.path(), 'utf8'));
  expect(Array.isArray(credential.type) && credential.type.includes('VerifiableCredential') && !!credential.proof, 'the downloaded credential is a signed VC');
  await page.getByTestId('credential-list').waitFor();
  expect((await page.getByTestId('credential-list').locator('li').count()) >= 1, 'the issued credential is listed');
  await taskVerdict(page, 'worker', workerKey);

  // A proof request: what is asked is shown, nothing is sent before approval.
  await page.goto(proveUrl);
  await settled(page);
  expect((await page.locator('main').textContent()).includes(CONTEXT), 'the proof request shows who asks');
  await page.getByRole('button', { name: 'Approve and make the proof' }).click();
  await page.getByTestId('proof-made').waitFor({ timeout: 120_000 });
  proof = JSON.parse(await page.locator('#proof-json').inputValue());
  await axeClean(page, 'the proof made');
  await page.screenshot({ path: join(out, 'prove-done-360.png'), fullPage: true });
  const checked = await apiCall('POST', '/v1/verify/proof', platformKey, { proof, context: CONTEXT, challenge: CHALLENGE, consume: false });
  expect(checked.status === 200 && checked.body.valid === true, `the proof verifies through POST /v1/verify/proof (${JSON.stringify(checked.body)})`);

  // Bad requests: a malformed link, a bound the score does not meet.
  await page.goto('/prove?context=x&min=abc');
  await settled(page);
  expect((await page.getByTestId('prove-error').textContent()).includes('proof_request_not_a_number'), 'a malformed proof request names its code');
  await page.goto(`/prove?context=x&min=1000&platform=${platformId}`);
  await settled(page);
  await page.getByRole('button', { name: 'Approve and make the proof' }).click();
  await page.locator('[role="alert"]').first().waitFor({ timeout: 30_000 });
  expect((await page.locator('[role="alert"]').first().textContent()).includes('requirement_not_met'), 'an unmet bound shows the API code');
  expect(problems.length === 0, `worker: no page errors or CSP violations (${problems.join('; ')})`);
  await ctx.close();
}

// 3. The platform: the console's dead-letter list with replay, then the verify page.
{
  const { ctx, page, problems } = await context('en-GB', 1280);
  await signInWith(page, platformKey, '/console');
  expect((await page.locator('h1').textContent()) === 'Platform console', 'a platform key opens the console');
  const dead = page.getByTestId('deliveries-dead').locator('[data-delivery]');
  await dead.first().waitFor();
  const id = await dead.first().getAttribute('data-delivery');
  expect((await page.getByTestId('events').locator('li').count()) >= 1, 'the console lists the platform\'s events');
  await page.screenshot({ path: join(out, 'console-dead-1280.png'), fullPage: true });
  await page.getByRole('button', { name: `Send again: delivery ${id}` }).click();
  await page.getByTestId('replayed').waitFor();
  expect((await page.getByTestId('replayed').textContent()).includes(id), `the replay of ${id} is confirmed`);
  const gone = await page
    .locator(`[data-testid="deliveries-dead"] [data-delivery="${id}"]`)
    .waitFor({ state: 'detached', timeout: 10_000 })
    .then(() => true, () => false);
  expect(gone, 'the console no longer lists it as dead');
  // The receiver is back up: the replayed delivery arrives, and the console lists it as delivered.
  let delivered = false;
  for (let i = 0; i < 100 && !delivered; i++) {
    const d = await apiCall('GET', '/v1/webhooks/deliveries?status=delivered', platformKey);
    delivered = d.body.data.some((x) => x.id === id);
    if (!delivered) await new Promise((r) => setTimeout(r, 100));
  }
  expect(delivered, 'the replayed delivery is delivered');
  await page.getByRole('button', { name: 'Delivered', exact: true }).click();
  const listed = await page
    .locator(`[data-testid="deliveries-delivered"] [data-delivery="${id}"]`)
    .waitFor({ timeout: 10_000 })
    .then(() => true, () => false);
  expect(listed, 'the console lists the replayed delivery as delivered');

  await taskVerdict(page, 'platform', platformKey);
  await page.getByRole('link', { name: 'Verify a proof, credential or receipt' }).click();
  await settled(page);
  const verify = async (kind, text, fields = {}) => {
    await page.getByRole('button', { name: kind, exact: true }).click();
    await page.locator('#pasted').fill(text);
    for (const [sel, v] of Object.entries(fields)) await page.locator(sel).fill(v);
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await page.locator('[data-testid="verify-result"], [role="alert"]').first().waitFor({ timeout: 30_000 });
  };
  const summary = async () => (await page.locator('[data-testid="verify-summary"], [role="alert"]').first().textContent()) ?? '';
  await verify('Proof', JSON.stringify(proof), { '#context': 'someone-else/context', '#challenge': CHALLENGE });
  expect(/Not valid: the check \w+ failed|code \w+/.test(await summary()), `a proof for another context fails, named (${await summary()})`);
  await verify('Proof', JSON.stringify(proof), { '#context': CONTEXT, '#challenge': CHALLENGE });
  expect((await summary()).includes('Valid: every check passed'), `the proof verifies on the verify page (${await summary()})`);
  await page.screenshot({ path: join(out, 'verify-proof-1280.png'), fullPage: true });
  await axeClean(page, 'a verified proof');
  await verify('Proof', JSON.stringify(proof), { '#context': CONTEXT, '#challenge': CHALLENGE });
  expect((await summary()).includes('nullifier_used'), `a replayed proof shows nullifier_used (${await summary()})`);
  await verify('Credential', JSON.stringify(credential));
  expect((await summary()).includes('Valid: every check passed'), `the credential verifies (${await summary()})`);
  const forged = structuredClone(credential);
  forged.credentialSubject = { ...forged.credentialSubject, reputation: 1000 };
  await verify('Credential', JSON.stringify(forged));
  expect(/Not valid: the check \w+ failed/.test(await summary()), `a tampered credential fails, named (${await summary()})`);
  await verify('Credential', expiredCredential);
  expect(/Not valid: the check valid_until failed/.test(await summary()), `an expired credential fails on valid_until (${await summary()})`);
  await verify('Receipt', receipt);
  expect((await summary()).includes('Valid: every check passed'), `the receipt verifies through the API (${await summary()})`);
  await verify('Receipt', '{"receipt": ');
  expect((await summary()).includes('not_json'), 'a malformed paste names its code');
  expect(problems.length === 0, `platform: no page errors or CSP violations (${problems.join('; ')})`);
  await ctx.close();
}

// 4. Every page, both languages, both widths: strings, accessibility, layout, screenshots, weight.
const metrics = [];
for (const [lang, locale] of [
  ['en', 'en-GB'],
  ['id', 'id-ID'],
]) {
  for (const width of [360, 1280]) {
    for (const [key, list] of [
      [null, pages],
      [workerKey, ['/wallet', proveUrl]],
      [platformKey, ['/console', '/console/verify']],
    ]) {
    const { ctx, page, problems } = await context(locale, width, key);
    for (const path of list) {
      await page.goto(path);
      await settled(page);
      const name = `${lang}-${slug(path.split('?')[0])}-${width}`;
      const text = await page.locator('body').innerText();
      expect(!text.includes('⟦'), `${name}: no missing string`);
      expect((await page.locator('html').getAttribute('lang')) === lang, `${name}: page language ${lang}`);
      expect((await page.locator('h1').count()) === 1, `${name}: one heading`);
      if (width === 360) {
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow <= 0, `${name}: no horizontal scrolling at 360 px (${overflow} px)`);
      }
      await axeClean(page, name);
      await page.screenshot({ path: join(out, `${name}.png`), fullPage: true });
    }
    expect(problems.length === 0, `${lang} ${width}: no page errors or CSP violations (${problems.join('; ')})`);
    await ctx.close();
    }
  }
}

// 5. Each page cold (a fresh context, nothing cached): bytes transferred and first render.
for (const [key, path] of [...pages.map((p) => [null, p]), [workerKey, '/wallet'], [platformKey, '/console']]) {
  const { ctx, page } = await context('en-GB', 360, key);
  const responses = [];
  page.on('response', (r) => responses.push(r));
  await page.goto(path);
  await settled(page);
  let bytes = 0;
  for (const r of responses) {
    const s = await r.request().sizes();
    bytes += s.responseBodySize + s.responseHeadersSize;
  }
  const fcp = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1);
  metrics.push({ path, requests: responses.length, kilobytes: Math.round(bytes / 102.4) / 10, first_contentful_paint_ms: Math.round(fcp) });
  await ctx.close();
}
await browser.close();
writeFileSync(join(out, 'metrics.json'), `${JSON.stringify(metrics, null, 1)}\n`);
console.log(JSON.stringify(metrics));
const total = failures.length;
console.log(`${total === 0 ? 'all checks passed' : `${total} checks failed:\n${failures.join('\n')}`}`);
process.exit(total === 0 ? 0 : 1);
