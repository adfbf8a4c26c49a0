// The web app in headless Chromium against a running node: an auditor's walk from the home page to
// a batch and the receipt checker (honest, tampered, malformed receipts), every page in both
// languages without a missing string, axe-core on every page, no horizontal scrolling at 360 px,
// screenshots at 360 and 1280 px, and each page's weight and first render.
//
// Started by the nextest test `web::explorer_and_receipt_checker_in_chromium` (tests/it/web.rs),
// which runs a node on anvil and passes, in the environment:
//   JEJAK_URL       the node's address
//   JEJAK_RECEIPT   a file holding an attestation receipt (GET /v1/attestations/{id})
//   JEJAK_PAGES     a JSON list of the paths of every page to walk
//   JEJAK_OUT       where screenshots and metrics.json go
import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const base = process.env.JEJAK_URL;
const receipt = readFileSync(process.env.JEJAK_RECEIPT, 'utf8');
const pages = JSON.parse(process.env.JEJAK_PAGES);
const out = process.env.JEJAK_OUT;
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
    `--user-data-dir=${join(out, 'profile')}`,
  ],
});

/** A fresh context in `locale` at `width`, collecting CSP violations and page errors. */
async function context(locale, width) {
  const ctx = await browser.newContext({ locale, viewport: { width, height: 800 }, baseURL: base });
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
  const batchLink = page.locator('section[aria-labelledby="batches"] tbody a[href^="/batches/"]').first();
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

// 2. Every page, both languages, both widths: strings, accessibility, layout, screenshots, weight.
const metrics = [];
for (const [lang, locale] of [
  ['en', 'en-GB'],
  ['id', 'id-ID'],
]) {
  for (const width of [360, 1280]) {
    const { ctx, page, problems } = await context(locale, width);
    for (const path of pages) {
      await page.goto(path);
      await settled(page);
      const name = `${lang}-${slug(path)}-${width}`;
      const text = await page.locator('body').innerText();
      expect(!text.includes('⟦'), `${name}: no missing string`);
      expect((await page.locator('html').getAttribute('lang')) === lang, `${name}: page language ${lang}`);
      expect((await page.locator('h1').count()) === 1, `${name}: one heading`);
      if (width === 360) {
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow <= 0, `${name}: no horizontal scrolling at 360 px (${overflow} px)`);
      }
      await page.evaluate(axeSource);
      const axe = await page.evaluate(async () => {
        const r = await window.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] });
        return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.nodes.length})`);
      });
      expect(axe.length === 0, `${name}: no serious or critical axe violations ${axe.join(', ')}`);
      await page.screenshot({ path: join(out, `${name}.png`), fullPage: true });
    }
    expect(problems.length === 0, `${lang} ${width}: no page errors or CSP violations (${problems.join('; ')})`);
    await ctx.close();
  }
}

// 3. Each page cold (a fresh context, nothing cached): bytes transferred and first render.
for (const path of pages) {
  const { ctx, page } = await context('en-GB', 360);
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
