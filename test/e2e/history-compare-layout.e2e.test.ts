/**
 * Layout and colours in Chromium, on a history made directly in the database (no training): the history table fits
 * the window at 1024, 1366 and 1920 px with the date cell showing the time inside the viewport; comparing three runs
 * that all carry the same stored colour draws each run in its own colour, the dots beside their names matching the
 * chart, with the recipe differences and the endpoints' metrics side by side; the PNG export is drawn off-screen at
 * twice the chart's size; the top bar's Compare without chosen runs opens the history with a hint.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HistoryStore } from '../../src-main/store/history';
import { linear, theorem1 } from '../renderer/fixtures';
import { type Served, launchChromium, serve, signIn } from './helpers';

const POLL = { timeout: 20_000, interval: 100 };
let server: Served;
let browser: Browser;
let page: Page;
let home: string;
const ids: string[] = [];
let warnedId = '';

const endpoint = (name: string, k: number) => ({
  name,
  seed: k,
  train: { loss: 0.1 * k, acc: 0.9 },
  test: { loss: 0.2 * k, acc: 0.8 },
  training: { steps: 30, samples: 1000, seconds: 1, samplesPerSec: 1000, curve: [1, 2, 3].map((s) => ({ step: s * 10, epoch: s / 3, lr: 0.1, loss: 1 / s + k, acc: 0.5 + s / 10 })) },
});

function open(hash: string): Promise<unknown> {
  const u = new URL(server.url);
  u.searchParams.set('e2e', '1');
  u.hash = hash;
  return page.goto(u.href);
}

describe('history columns and compare colours', () => {
  beforeAll(async () => {
    home = mkdtempSync(path.join(os.tmpdir(), 'modelab-e2e-layout-'));
    const store = await HistoryStore.open({ db: path.join(home, 'history.sqlite') });
    for (const [k, lr] of [0.1, 0.05, 0.02].entries()) {
      // The same stored colour on every run: the comparison must still tell them apart.
      const id = await store.createRun({
        name: `same colour ${k}`,
        preset: null,
        config: { name: `same colour ${k}`, seed: k, training: { optimizer: { type: 'sgd', lr }, epochs: 2 } },
        colour: '#4477aa',
      });
      await store.saveEndpoint(id, 0, endpoint('A', k + 1));
      await store.saveEndpoint(id, 1, endpoint('B', k + 2));
      await store.savePath(id, 0, linear);
      await store.savePath(id, 1, theorem1);
      await store.setStatus(id, 'finished');
      ids.push(id);
    }
    // A run whose Theorem 1 check ended in the WARNING state (stored with check_pass 0, the state in check_state).
    warnedId = await store.createRun({ name: 'warned', preset: null, config: { name: 'warned', seed: 9 } });
    await store.saveEndpoint(warnedId, 0, endpoint('A', 1));
    await store.saveEndpoint(warnedId, 1, endpoint('B', 2));
    await store.savePath(warnedId, 0, linear);
    await store.savePath(warnedId, 1, { ...theorem1, check: { ...theorem1.check, state: 'warning', pass: false } });
    await store.setStatus(warnedId, 'finished');
    await store.close();
    server = await serve([], { MODELAB_HOME: home });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1024, height: 768 } })).newPage();
    await signIn(page, server);
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('shows the date with its time, whole and inside the window, at 1024, 1366 and 1920 px', async () => {
    for (const width of [1024, 1366, 1920]) {
      await page.setViewportSize({ width, height: 768 });
      await open('/history');
      const cell = page.getByTestId('run-date').first();
      await cell.waitFor();
      await expect.poll(() => cell.innerText(), POLL).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
      const box = await cell.evaluate((el) => {
        const r = el.getBoundingClientRect();
        return { right: r.right, clipped: el.scrollWidth > el.clientWidth, viewport: document.documentElement.clientWidth };
      });
      expect(box.clipped, `date cell clipped at ${width} px`).toBe(false);
      expect(box.right, `date cell outside the window at ${width} px`).toBeLessThanOrEqual(box.viewport);
    }
  });

  it("the top bar's Compare without chosen runs opens the history with a hint; with runs it is the current page", async () => {
    await page.setViewportSize({ width: 1366, height: 900 });
    await open('/new');
    await page.locator('[data-nav="compare"]').click();
    await expect.poll(() => page.evaluate(() => location.hash), POLL).toBe('#/history?hint=compare');
    const hint = page.getByTestId('compare-hint');
    await expect.poll(async () => ((await hint.count()) ? hint.innerText() : ''), POLL).toMatch(/^To compare runs, tick them in the history/);
    // Ticking a run answers the hint; the toolbar's Compare then compares it, and the top bar marks that page.
    await page.getByLabel('Select same colour 0').check();
    await expect.poll(() => hint.count(), POLL).toBe(0);
    await page.getByTestId('compare').click();
    await expect.poll(() => page.evaluate(() => location.hash), POLL).toMatch(/^#\/compare\?ids=/);
    // The hash changes before the top bar re-renders: wait for the mark, do not read it once.
    await expect.poll(() => page.locator('[data-nav="compare"]').getAttribute('aria-current'), POLL).toBe('page');
    // A comparison emptied (its last run removed) says how to choose runs again.
    await page.getByRole('button', { name: 'Remove same colour 0 from the comparison' }).click();
    await expect.poll(async () => ((await hint.count()) ? hint.innerText() : ''), POLL).toMatch(/^To compare runs, tick them in the history/);
    await expect.poll(() => page.locator('[data-nav="compare"]').getAttribute('aria-current'), POLL).toBeNull();
  });

  it('shows a WARNING check amber, apart from a fail, in the history and in the comparison', async () => {
    await page.setViewportSize({ width: 1366, height: 900 });
    await open('/history');
    const chip = page.locator(`[data-run="${warnedId}"] .barrier-chip`, { hasText: 'theorem1' });
    await chip.waitFor();
    expect(await chip.getAttribute('data-check')).toBe('warning');
    const colours = await chip.evaluate((el) => {
      const css = getComputedStyle(document.querySelector('.app')!);
      return { value: getComputedStyle(el.querySelector('b')!).color, warn: css.getPropertyValue('--warn').trim(), danger: css.getPropertyValue('--danger').trim() };
    });
    const rgb = (hex: string): string => `rgb(${[1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)).join(', ')})`;
    expect(colours.value).toBe(rgb(colours.warn));
    expect(colours.value).not.toBe(rgb(colours.danger));
    expect(await page.locator(`[data-run="${ids[0]}"] .barrier-chip`, { hasText: 'theorem1' }).getAttribute('data-check')).toBe('pass');

    await open(`/compare?ids=${ids[0]},${warnedId}`);
    const cells = page.getByTestId('compare-barriers').locator('td[data-check]');
    await expect.poll(() => cells.evaluateAll((tds) => tds.map((td) => `${td.getAttribute('data-check')}:${(td as HTMLElement).innerText.trim()}`)), POLL).toEqual([
      'pass:PASS',
      'pass:PASS',
      'pass:PASS',
      'warning:WARNING',
    ]);
  });

  it('compares three runs that share a stored colour in three colours, dots matching the chart', async () => {
    await page.setViewportSize({ width: 1366, height: 900 });
    await open(`/compare?ids=${ids.join(',')}`);
    // The chart is drawn as each run's detail arrives: read it once every run has its series.
    let option: { series: { id: string; color?: string }[] } = { series: [] };
    const lineColour = (id: string): string | undefined => option.series.find((s) => s.id === `${id}|linear|train`)?.color;
    await expect
      .poll(async () => {
        option = (await page.evaluate(() => {
          const charts = (window as unknown as { __modelab_charts?: Record<string, unknown> }).__modelab_charts;
          return JSON.parse(JSON.stringify(charts?.['compare-loss'] ?? { series: [] }));
        })) as typeof option;
        return ids.every((id) => lineColour(id) !== undefined);
      }, POLL)
      .toBe(true);
    const colours = ids.map(lineColour);
    expect(new Set(colours).size).toBe(3);
    expect(colours[0]).toBe('#4477aa');
    for (const id of ids) expect(await page.locator(`.compare-runs li[data-run="${id}"] .dot`).getAttribute('data-colour')).toBe(lineColour(id));
    // What differs between the recipes, and the endpoints side by side.
    const diff = page.getByTestId('compare-recipe-diff');
    await expect.poll(() => diff.locator('tbody tr td.mono').allInnerTexts(), POLL).toEqual(expect.arrayContaining(['training.optimizer.lr', 'seed', 'name']));
    await expect.poll(() => page.getByTestId('compare-endpoints').locator('tbody tr').count(), POLL).toBe(6);
    await page.waitForFunction(() => !!(window as unknown as { __modelab_charts?: Record<string, unknown> }).__modelab_charts?.['compare-training']);

    const width = await page.locator('[data-chart="compare-loss"] canvas').first().evaluate((c) => c.getBoundingClientRect().width);
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-export="compare-loss:png"]').click()]);
    const png = readFileSync((await download.path())!);
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    // IHDR width: twice the chart's (the chart's width is a whole number of CSS pixels, the box's may not be).
    expect(Math.abs(png.readUInt32BE(16) - 2 * Math.max(width, 640))).toBeLessThanOrEqual(2);
  });
});
