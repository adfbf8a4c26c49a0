// The README's screenshots, taken from a running `jejak dev` (its demo done):
//   JEJAK_URL=http://127.0.0.1:7420 JEJAK_WORKER_KEY=jk_... JEJAK_PLATFORM_KEY=jk_... JEJAK_ATTESTATION=att_... \
//     node web/test/readme-shots.mjs OUT_DIR
// then `pngquant` them into docs/. The explorer on a phone in Bahasa Indonesia, the receipt
// checker with a tampered receipt, the wallet.
import { chromium } from 'playwright-core';
import { join } from 'node:path';

const base = process.env.JEJAK_URL;
const out = process.argv[2];
const headers = { Authorization: `Bearer ${process.env.JEJAK_PLATFORM_KEY}` };
const receipt = await (await fetch(`${base}/v1/attestations/${process.env.JEJAK_ATTESTATION}`, { headers })).json();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
});
async function page(locale, width, height, key = null) {
  const ctx = await browser.newContext({ locale, viewport: { width, height }, baseURL: base });
  if (key) await ctx.addInitScript((k) => window.sessionStorage.setItem('jejak.key', k), key);
  return ctx.newPage();
}
async function settled(p) {
  await p.waitForLoadState('networkidle');
  await p.waitForFunction(() => !document.querySelector('[role="status"].muted'), null, { timeout: 10_000 });
}
{
  const p = await page('id-ID', 360, 780);
  await p.goto('/');
  await settled(p);
  await p.screenshot({ path: join(out, 'explorer-home-id.png') });
}
{
  const p = await page('en-GB', 1280, 900);
  await p.goto('/check');
  await settled(p);
  receipt.event.worker = `${receipt.event.worker}-x`;
  await p.locator('#receipt').fill(JSON.stringify(receipt, null, 2));
  await p.getByRole('button', { name: 'Check', exact: true }).click();
  await p.waitForSelector('#check-result [data-testid]');
  await p.locator('#check-result').scrollIntoViewIfNeeded();
  await p.screenshot({ path: join(out, 'check-tampered.png') });
}
{
  const p = await page('en-GB', 360, 780, process.env.JEJAK_WORKER_KEY);
  await p.goto('/wallet');
  await settled(p);
  await p.screenshot({ path: join(out, 'wallet.png') });
}
await browser.close();
