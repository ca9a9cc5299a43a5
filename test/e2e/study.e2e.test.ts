/**
 * The app's studies (issue 14 item 6), against a real `modelab serve`: a tiny study (smoke-study: two widths × two
 * trials of a small MLP pair) started from the Studies page runs its cells; its page shows the cells' states live
 * until all are finished, the aggregated chart (mean ± std over trials against the width, each trial a faint point),
 * and the cells as a table whose rows open each run; "Run again" with N trials on a run's page makes a study.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Served, launchChromium, serve, signIn } from './helpers';

const POLL = { timeout: 240_000, interval: 250 };
// A shared, loaded machine: the cells' runs take what the machine gives them.
const LONG = 600_000;
let server: Served;
let browser: Browser;
let page: Page;
const errors: string[] = [];

type Series = { id: string; type: string; data: unknown[] };
const chartSeries = (p: Page, name: string): Promise<Series[] | null> =>
  p.evaluate((n) => {
    const o = (window as unknown as { __modelab_charts?: Record<string, { series?: Series[] }> }).__modelab_charts?.[n];
    return o?.series ? o.series.map((s) => ({ id: s.id, type: s.type, data: s.data })) : null;
  }, name);

describe('studies in the app', () => {
  beforeAll(async () => {
    server = await serve();
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1366, height: 900 } })).newPage();
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    await signIn(page, server);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('starts a study preset, follows its cells live, and shows its aggregated chart and cell table', async () => {
    const u = new URL(server.url);
    u.searchParams.set('e2e', '1');
    u.hash = '#/studies';
    await page.goto(u.href);
    await page.getByTestId('no-studies').waitFor();
    await page.getByTestId('study-preset').selectOption('smoke-study');
    await page.getByTestId('study-quick').uncheck();
    // The plan before anything starts: the cell count and shape (no bench figures in a fresh home: no time).
    await expect.poll(() => page.getByTestId('study-plan').innerText(), POLL).toMatch(/^4 cells \(architecture\.hidden × 2 trials\); /);
    await page.getByTestId('start-study').click();
    await page.waitForURL(/#\/study\//);
    await expect.poll(() => page.locator('[data-testid="study-cells"] tbody tr').count(), POLL).toBe(4);
    await expect.poll(() => page.getByTestId('study-counts').innerText(), POLL).toBe('4/4 done');
    // The barrier of the straight line against the width: a mean per width, error bars, two trials per width.
    await expect.poll(async () => (await chartSeries(page, 'study-0'))?.map((s) => s.id), POLL).toEqual(['linear|mean', 'linear|err', 'linear|trials']);
    const series = (await chartSeries(page, 'study-0'))!;
    expect(series[0]!.data.map((p) => (p as number[])[0])).toEqual([8, 16]);
    expect(series[1]!.data).toHaveLength(2);
    expect(series[2]!.type).toBe('scatter');
    expect(series[2]!.data).toHaveLength(4);
    await expect.poll(() => page.locator('[data-chart="study-0"] [data-export="study-0:svg"]').count(), POLL).toBe(1);
    // Each row opens its cell's run.
    const states = await page.locator('[data-testid="study-cells"] tbody tr [data-status]').evaluateAll((els) => els.map((e) => e.getAttribute('data-status')));
    expect(states).toEqual(['finished', 'finished', 'finished', 'finished']);
    await page.locator('[data-testid="study-cells"] tbody tr[data-cell="2"]').click();
    await page.waitForURL(/#\/run\//);
    await expect.poll(() => page.locator('h1').first().innerText(), POLL).toMatch(/smoke-study architecture\.hidden=\[16,16\] trial 0/);
  }, LONG);

  it('"Run again" with 2 trials on a run makes a study of its recipe', async () => {
    await page.getByTestId('run-again').click();
    await page.getByTestId('again-trials').fill('2');
    await page.getByTestId('again-start').click();
    await page.waitForURL(/#\/study\//);
    await expect.poll(() => page.locator('h1').first().innerText(), POLL).toMatch(/× 2 trials$/);
    await expect.poll(() => page.getByTestId('study-counts').innerText(), POLL).toBe('2/2 done');
    await page.goto(`${server.url}#/studies`);
    await expect.poll(() => page.locator('[data-testid="studies-table"] tbody tr').count(), POLL).toBe(2);
    expect(errors).toEqual([]);
  }, LONG);
});
