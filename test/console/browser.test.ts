/**
 * The web console in a real browser: Debian's headless Chromium (/usr/bin/chromium, installed by
 * .ci/run) driven by playwright-core through executablePath (no browser download), against a
 * running demo (embedded ledger, 3 simulated boards running the built firmware, the tamper attack
 * on the first board) with its edge and auditor consoles on free ports.
 *
 * It logs in (a wrong token is refused), sees the devices by name, opens one and sees new values
 * arrive, validates a reading through the edge, looks a reading up at the auditor and sees TRUE
 * with its evidence, sees a tampered reading shown as rejected, checks uploaded tampered data
 * (FALSE), runs a re-validation job and a saved-head check. Each page's screenshot goes to a temp
 * dir; `npm run docs:screenshots` writes them to docs/img/console/ instead (docs/console.md shows
 * them), so a test run never changes the checkout.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { runDemo, type DemoResult } from '../../demo/run.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const SHOTS_TO_DOCS = process.env['PROVENANT_SCREENSHOTS'] === 'docs';
const SHOTS = SHOTS_TO_DOCS
  ? join(import.meta.dirname, '..', '..', 'docs', 'img', 'console')
  : join(tmpdir(), `provenant-console-shots-${process.pid}`);
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

if (!existsSync(CHROMIUM)) console.log(`console browser test: ${CHROMIUM} is missing (apt-get install chromium); the test fails below`);

describe('web console in headless Chromium, against a running demo', () => {
  const dir = mkdtempSync(join(tmpdir(), 'provenant-console-'));
  const profile = mkdtempSync(join(tmpdir(), 'provenant-chromium-'));
  const stop = new AbortController();
  let demo: Promise<DemoResult> | undefined;
  let context: BrowserContext | undefined;
  afterAll(async () => {
    await context?.close().catch(() => undefined);
    stop.abort();
    await demo?.catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    rmSync(profile, { recursive: true, force: true });
    if (!SHOTS_TO_DOCS) rmSync(SHOTS, { recursive: true, force: true });
  }, 120_000);

  it('log in, devices, live values, validate, TRUE with evidence, a tampered reading rejected, jobs, saved head', async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} (Debian package chromium)`).toBe(true);
    mkdirSync(SHOTS, { recursive: true });
    const consoles = new Promise<{ edgeUrl: string; auditorUrl: string; token: string }>((resolve) => {
      demo = runDemo({
        devices: 3,
        rate: 2,
        durationS: undefined,
        attack: 'tamper',
        dataDir: dir,
        windowMs: 2000,
        verifySample: 0,
        out: () => undefined,
        progress: 'none',
        signal: stop.signal,
        consoles: { edgePort: 0, auditorPort: 0 },
        onConsoles: resolve,
      });
      void demo.catch(() => undefined);
    });
    const { edgeUrl, auditorUrl, token } = await consoles;

    const { chromium } = await import('playwright-core');
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: FLAGS,
      headless: true,
      viewport: { width: 1280, height: 860 },
    });
    const page: Page = await context.newPage();
    const shot = (name: string): Promise<Buffer> => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

    // Edge: `/` goes to the console, which asks for a login; a wrong token is refused.
    await page.goto(`${edgeUrl}/`);
    expect(new URL(page.url()).pathname).toBe('/console/login');
    await shot('login');
    await page.fill('input[name=token]', 'not-the-token-0123456789');
    await page.click('button[type=submit]');
    await expect.poll(() => page.textContent('.error')).toMatch(/not valid/);
    await page.fill('input[name=token]', token);
    await page.click('button[type=submit]');
    await page.waitForSelector('#devices tbody tr[data-device]');
    await expect.poll(async () => page.locator('#devices tbody tr[data-device]').count(), { timeout: 30_000 }).toBe(3);
    await expect.poll(() => page.textContent('#devices'), { timeout: 30_000 }).toMatch(/line-1 temp 01[\s\S]*ready[\s\S]*open/);
    await shot('edge-devices');

    // One device: values arrive live (the table refreshes by itself).
    await page.click('#devices a:has-text("line-2 temp 02")');
    await page.waitForSelector('#readings tbody tr[data-seq]', { timeout: 30_000 });
    const firstSeq = Number(await page.getAttribute('#readings tbody tr[data-seq]', 'data-seq'));
    await expect
      .poll(async () => Number(await page.getAttribute('#readings tbody tr[data-seq]', 'data-seq')), { timeout: 30_000 })
      .toBeGreaterThan(firstSeq + 2);
    expect(await page.textContent('#readings tbody tr[data-seq] td.values')).toMatch(/ch0 -?\d+\.\d+/);
    // Validate a committed reading through the edge (forwarded to the auditor).
    const seq = await page
      .locator('#readings tbody tr:has(.badge:text-is("committed")) button:has-text("Validate")')
      .nth(3)
      .evaluate((b) => b.closest('tr')?.getAttribute('data-seq'));
    // Click that row's button: the table refreshes live, and an nth(3) locator resolved again at
    // the click had moved on to a newer row (seq 31 validated, seq 29 expected).
    await page.locator(`#readings tbody tr[data-seq="${seq}"] button:has-text("Validate")`).click();
    await expect
      .poll(() => page.textContent('#validation'), { timeout: 30_000 })
      .toMatch(new RegExp(`seq ${seq}: TRUE[\\s\\S]*via auditor`));
    await expect.poll(() => page.locator('svg.chart').count(), { timeout: 30_000 }).toBe(1);
    await shot('edge-device');

    // Auditor: log in, look a reading up, TRUE with evidence.
    await page.goto(`${auditorUrl}/`);
    await page.fill('input[name=token]', token);
    await page.click('button[type=submit]');
    await page.waitForSelector('#lookup');
    const api = async (path: string): Promise<unknown> =>
      (await fetch(auditorUrl + path, { headers: { authorization: `Bearer ${token}` } })).json();
    let genuine: { deviceId: string; seq: number } | undefined;
    await expect
      .poll(
        async () => {
          const rows = (await api('/readings?deviceId=plant3-t-0002&status=committed&limit=5')) as { deviceId: string; seq: number }[];
          genuine = rows[2];
          return genuine !== undefined;
        },
        { timeout: 30_000 },
      )
      .toBe(true);
    await page.fill('#deviceId', genuine?.deviceId ?? '');
    await page.fill('#seq', String(genuine?.seq));
    await page.click('#lookup button');
    await page.waitForSelector('[data-verdict]');
    expect(await page.getAttribute('[data-verdict]', 'data-verdict')).toBe('TRUE');
    const evidence = await page.textContent('.evidence');
    expect(evidence).toMatch(
      /ledger record[\s\S]*transaction[\s\S]*block[\s\S]*inclusion proof\s*checked[\s\S]*head\s*height \d+[\s\S]*independence\s*ledger/,
    );
    expect(await page.textContent('.history')).toMatch(/TRUE[\s\S]*console/);
    await shot('auditor-verdict');

    // A tampered reading (the demo's attack rewrote it in flight; the ledger refused it BAD_TAG).
    let tampered: { deviceId: string; seq: number } | undefined;
    await expect
      .poll(
        async () => {
          const rows = (await api('/readings?status=rejected&limit=5')) as { deviceId: string; seq: number }[];
          tampered = rows[0];
          return tampered !== undefined;
        },
        { timeout: 60_000 },
      )
      .toBe(true);
    await page.goto(`${auditorUrl}/console/lookup?deviceId=${tampered?.deviceId}&seq=${tampered?.seq}`);
    await page.waitForSelector('[data-verdict]');
    expect(await page.getAttribute('[data-verdict]', 'data-verdict')).not.toBe('TRUE');
    expect(await page.textContent('[data-testid=rejected]')).toMatch(/REJECTED/);
    expect(await page.textContent('[data-verdict]')).toMatch(/BAD_TAG/);
    await shot('auditor-rejected');

    // Uploaded data with one value changed: FALSE, with both hashes in the evidence.
    const records = (await api(`/records/${genuine?.deviceId}/${genuine?.seq}`)) as { stored: { canonical: string }[] };
    const canonical = records.stored[0]?.canonical ?? '';
    const changed = `${canonical.slice(0, -4)}${canonical.slice(-4) === '0000' ? '0001' : '0000'}`;
    await page.goto(`${auditorUrl}/console`);
    await page.fill('#u-device', genuine?.deviceId ?? '');
    await page.fill('#u-seq', String(genuine?.seq));
    await page.fill('#u-data', changed);
    await page.click('#upload button');
    await page.waitForSelector('[data-verdict]');
    expect(await page.getAttribute('[data-verdict]', 'data-verdict')).toBe('FALSE');
    await shot('auditor-upload-false');

    // A re-validation job with progress, and the verdict history.
    await page.goto(`${auditorUrl}/console/jobs`);
    await page.fill('#j-dev', 'plant3-t-0003');
    await page.click('#job button');
    await page.waitForSelector('tr[data-job]');
    await expect.poll(() => page.textContent('tr[data-job]'), { timeout: 60_000 }).toMatch(/done/);
    expect(await page.textContent('tr[data-job]')).toMatch(/TRUE/);
    await shot('auditor-jobs');
    await page.goto(`${auditorUrl}/console/verdicts`);
    expect(await page.textContent('.history')).toMatch(/job:\d+/);
    await shot('auditor-verdicts');

    // The saved-head check: the current head, saved and checked later, extends it.
    await page.goto(`${auditorUrl}/console/head`);
    const saved = (await page.textContent('#current-head')) ?? '';
    await page.fill('#saved', saved);
    await page.click('form[action="/console/head"] button');
    await page.waitForSelector('[data-extends]');
    expect(await page.getAttribute('[data-extends]', 'data-extends')).toBe('true');
    await shot('auditor-head');

    // Log out: the console asks for the token again.
    await page.click('button:has-text("Log out")');
    expect(new URL(page.url()).pathname).toBe('/console/login');
    await context.close();
    context = undefined;
    stop.abort();
    const result = await demo;
    expect(result?.summary.lost).toBe(0);
  }, 300_000);
});
