/**
 * End to end, as a new user: `modelab serve` (a real child process with its own history) and the real UI in Debian's
 * Chromium. Start a smoke experiment from the New experiment view, watch it to the end, check the path chart has
 * every path's series and the barrier annotation, run it again from its recipe, open the History, search, compare
 * the two runs, export CSV and SVG (and check the files), delete a run. Every view is saved as a screenshot in
 * test-output/screenshots/ (docs/screenshots/ come from docs-screenshots.ts, with a richer history).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Download, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunDetail } from '../../src-main/api/wire-types';
import { ROOT, type Served, launchChromium, serve, signIn, wsCall } from './helpers';

const SHOTS = path.join(ROOT, 'test-output', 'screenshots');
const DOWNLOADS = path.join(ROOT, 'test-output', 'downloads');

interface ChartOption {
  series: { id: string; name: string; type: string; data: unknown[]; markPoint?: { data: { coord: number[]; barrier?: { metric: string; path: string; t: number; value: number } }[] }; markArea?: unknown }[];
}

let server: Served;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const errors: string[] = [];
const runs: string[] = [];

const POLL = { timeout: 20_000, interval: 100 };
const text = (l: Locator): Promise<string> => l.innerText().then((t) => t.trim());

async function shot(name: string): Promise<void> {
  await page.waitForTimeout(300); // let charts finish drawing
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

async function chart(name: string): Promise<ChartOption> {
  await page.waitForFunction((n) => !!(window as unknown as { __modelab_charts?: Record<string, unknown> }).__modelab_charts?.[n], name);
  return page.evaluate((n) => JSON.parse(JSON.stringify((window as unknown as { __modelab_charts: Record<string, unknown> }).__modelab_charts[n])), name);
}

async function download(trigger: () => Promise<void>): Promise<{ file: string; name: string }> {
  const [d] = (await Promise.all([page.waitForEvent('download'), trigger()])) as [Download, void];
  const file = path.join(DOWNLOADS, d.suggestedFilename());
  await d.saveAs(file);
  return { file, name: d.suggestedFilename() };
}

async function setField(dataPath: string, value: string): Promise<void> {
  const input = page.locator(`[data-path="${dataPath}"] input`);
  await input.fill(value);
  await input.press('Tab');
  await page.getByTestId('validation-state').filter({ hasText: 'ready' }).waitFor();
}

async function startFromNewView(name: string, opts: { seed?: number; epochs?: number } = {}): Promise<string> {
  await page.locator('[data-path="seed"] input').waitFor();
  await page.getByTestId('run-name').fill(name);
  if (opts.epochs !== undefined) await setField('training.epochs', String(opts.epochs));
  if (opts.seed !== undefined) await setField('seed', String(opts.seed));
  await page.getByTestId('validation-state').filter({ hasText: 'ready' }).waitFor();
  await page.getByTestId('tag-input').fill('e2e');
  await page.getByTestId('tag-input').press('Enter');
  await page.getByTestId('start').click();
  await page.waitForURL(/#\/run\/[0-9a-z]+/);
  const id = /#\/run\/([0-9a-z]+)/.exec(page.url())![1]!;
  runs.push(id);
  return id;
}

describe('the app in a browser against `modelab serve`', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    mkdirSync(DOWNLOADS, { recursive: true });
    server = await serve();
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true, colorScheme: 'light' });
    page = await context.newPage();
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    await signIn(page, server);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('starts a smoke experiment from the New experiment view and watches its progress to the end', async () => {
    await page.goto(`${server.url}?e2e=1#/new`);
    await expect.poll(() => page.getByTestId('source').inputValue(), POLL).toBe('preset:smoke');
    await page.getByTestId('validation-state').filter({ hasText: 'ready' }).waitFor();
    await expect.poll(() => text(page.getByTestId('recipe-summary')), POLL).toContain('paths: linear, theorem1');
    await shot('01-new-experiment');

    // Every field is editable and validated inline: a bad value gets its message next to the field.
    await page.locator('[data-path="training.epochs"] input').fill('-3');
    await page.locator('[data-path="training.epochs"] input').press('Tab');
    await page.locator('[data-path="training.epochs"] .field-error').waitFor();
    expect(await page.getByTestId('start').isDisabled()).toBe(true);
    await shot('01b-new-experiment-invalid');

    // Three times the preset's epochs, so that there is time to watch it.
    const id = await startFromNewView('smoke A', { epochs: 60 });
    // Live: a bar with ETA per stage and the training curves as they come; then the path chart.
    await page.getByTestId('stages').waitFor();
    await page.locator('[data-stage="train:A"].stage-running').waitFor({ timeout: 60_000 });
    await page.locator('[data-stage="path:theorem1"]').waitFor({ state: 'visible' });
    await page.waitForFunction(() => {
      const o = (window as unknown as { __modelab_charts?: Record<string, { series?: { data?: unknown[] }[] }> }).__modelab_charts?.['live-training'];
      return (o?.series?.[0]?.data?.length ?? 0) > 5;
    });
    await shot('02-live-run');
    await page.locator('.run-head [data-status="finished"]').waitFor({ timeout: 180_000 });
    await expect.poll(() => page.locator('[data-tab="paths"]').getAttribute('aria-selected'), POLL).toBe('true');
    expect(id).toMatch(/^[0-9a-z]{16}$/);
  });

  it('shows every path of the run on the path chart, train and test, with the barrier annotated at its t', async () => {
    const id = runs[0]!;
    const r = await wsCall<RunDetail>(server, 'getRun', [id]);
    expect(r.ok).toBe(true);
    const run = (r as { value: RunDetail }).value;
    expect(run.paths.map((p) => p.name)).toEqual(['linear', 'theorem1']);
    const option = await chart('path-loss');
    const ids = option.series.map((s) => s.id);
    for (const p of run.paths) {
      for (const split of ['train', 'test']) {
        const s = option.series.find((x) => x.id === `${id}|${p.name}|${split}`);
        expect(s, `${p.name} ${split}`).toBeDefined();
        expect(s!.data).toHaveLength(p.points.length);
      }
      // The barrier (default: train loss over the interpolation of the ends) is annotated at its t with its value.
      const marked = option.series.find((x) => x.id === `${id}|${p.name}|train`)!.markPoint!.data[0]!;
      expect(marked.barrier).toMatchObject({ metric: 'lossOverInterpolation', path: p.name });
      expect(marked.coord[0]).toBeCloseTo(p.barrier.train.lossOverInterpolation.t, 9);
      expect(marked.barrier!.value).toBeCloseTo(p.barrier.train.lossOverInterpolation.value, 9);
    }
    // The Theorem 1 path's segments are shaded by kind (a, b, c), and the endpoints are marked.
    expect(ids).toEqual(expect.arrayContaining(['segments|a', 'segments|b', 'segments|c', `${id}|endpoints`]));
    const acc = await chart('path-acc');
    expect(acc.series.filter((s) => s.id.startsWith(`${id}|`) && s.type === 'line')).toHaveLength(4);
    // Checks shown plainly.
    await expect.poll(() => text(page.locator('[data-path="theorem1"] .verdict')), POLL).toBe(run.paths[1]!.check.pass ? 'PASS' : 'FAIL');
    await shot('03-run-paths');
    await page.locator('[data-testid="checks"]').scrollIntoViewIfNeeded();
    await shot('04-run-checks');

    await page.locator('[data-tab="stability"]').click();
    await (await page.locator('[data-chart="stability-per-layer"]')).waitFor();
    await shot('05-run-stability');
    await page.locator('[data-tab="training"]').click();
    await chart('training');
    await shot('06-run-training');
    await page.locator('[data-tab="record"]').click();
    await expect.poll(() => text(page.getByTestId('config-json')), POLL).toContain('"theorem1"');
    await shot('07-run-record');
  });

  it('renames the run, and runs it again from its recipe with another seed', async () => {
    await page.locator('[data-tab="paths"]').click();
    await page.getByTestId('run-name').click();
    await page.getByTestId('name-input').fill('smoke A (seed 1)');
    await page.getByTestId('name-input').press('Enter');
    await expect.poll(() => text(page.getByTestId('run-name')), POLL).toBe('smoke A (seed 1)');

    await page.getByRole('button', { name: 'Run again…' }).click();
    await page.getByRole('button', { name: 'Edit the recipe first…' }).click();
    await page.waitForURL(/#\/new\?from=/);
    await expect.poll(() => page.getByTestId('source').inputValue(), POLL).toBe(`run:${runs[0]}`);
    await startFromNewView('smoke B (seed 2)', { seed: 2 });
    await page.locator('.run-head [data-status="finished"]').waitFor({ timeout: 180_000 });
  });

  it('browses the history: search, select, compare two runs', async () => {
    await page.goto(`${server.url}?e2e=1#/history`);
    await expect.poll(() => text(page.getByTestId('run-count')), POLL).toBe('2 runs');
    await expect.poll(() => page.locator('.spacer .tr[data-run]').count(), POLL).toBe(2);
    await shot('08-history');

    await page.getByTestId('search').fill('seed 2');
    await expect.poll(() => text(page.getByTestId('run-count')), POLL).toBe('1 run');
    await page.locator(`.spacer .tr[data-run="${runs[1]}"]`).waitFor({ state: 'visible' });
    await page.getByTestId('search').fill('');
    await expect.poll(() => text(page.getByTestId('run-count')), POLL).toBe('2 runs');

    // Keyboard selection: focus the table, Space selects, ↓ moves, Shift+Space extends.
    await page.getByTestId('runs-viewport').focus();
    await page.keyboard.press('Space');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Shift+Space');
    await expect.poll(() => text(page.getByTestId('run-count')), POLL).toBe('2 runs · 2 selected');
    await page.getByTestId('compare').click();
    await page.waitForURL(/#\/compare\?ids=/);

    const option = await chart('compare-loss');
    for (const id of runs) {
      expect(option.series.find((s) => s.id === `${id}|linear|train`)).toBeDefined();
      expect(option.series.find((s) => s.id === `${id}|theorem1|test`)).toBeDefined();
    }
    // Each run in its own colour.
    const colours = new Set(runs.map((id) => (option.series.find((s) => s.id === `${id}|linear|train`) as unknown as { color: string }).color));
    expect(colours.size).toBe(2);
    await expect.poll(() => page.getByTestId('compare-barriers').locator('tbody tr').count(), POLL).toBe(2);
    await shot('09-compare');
  });

  it('exports the compared runs as tidy CSV and the chart as true vector SVG', async () => {
    const csv = await download(() => page.getByTestId('compare-export-csv').click());
    const lines = readFileSync(csv.file, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('run,path,t,split,loss,acc');
    const rows = lines.slice(1).map((l) => l.split(','));
    expect(new Set(rows.map((r) => r[0]))).toEqual(new Set(runs));
    expect(new Set(rows.map((r) => r[1]))).toEqual(new Set(['linear', 'theorem1']));
    expect(new Set(rows.map((r) => r[3]))).toEqual(new Set(['train', 'test']));
    for (const r of rows) {
      expect(r).toHaveLength(6);
      expect(Number(r[2])).toBeGreaterThanOrEqual(0);
      expect(Number(r[4])).toBeGreaterThan(0);
    }
    // linear: 61 points; theorem1: 20 segments × 4 + 1 = 81 points; two splits; two runs.
    expect(rows).toHaveLength(2 * 2 * (61 + 81));

    const svg = await download(() => page.locator('[data-export="compare-loss:svg"]').click());
    expect(svg.name).toMatch(/\.svg$/);
    const text = readFileSync(svg.file, 'utf8');
    expect(text.trimStart().startsWith('<svg')).toBe(true);
    expect(text).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect((text.match(/<path /g) ?? []).length).toBeGreaterThan(10);
    expect(text).not.toContain('<image'); // vector, not an embedded bitmap

    const png = await download(() => page.locator('[data-export="compare-loss:png"]').click());
    const bytes = readFileSync(png.file);
    expect(bytes.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  });

  it('deletes a run after confirmation', async () => {
    await page.goto(`${server.url}?e2e=1#/history`);
    await expect.poll(() => text(page.getByTestId('run-count')), POLL).toBe('2 runs');
    await page.locator(`.spacer .tr[data-run="${runs[1]}"]`).click();
    await page.getByTestId('delete-selected').click();
    // The History view holds more than one confirmation dialog (delete, import); the open one is asking.
    const dialog = page.getByRole('dialog', { name: 'Delete 1 run?' });
    await dialog.waitFor({ state: 'visible' });
    await expect.poll(() => text(dialog), POLL).toContain('smoke B (seed 2)');
    await shot('10-delete-confirm');
    // Cancel keeps it; confirm removes it.
    await dialog.getByTestId('confirm-cancel').click();
    await expect.poll(() => text(page.getByTestId('run-count')), POLL).toContain('2 runs');
    await page.getByTestId('delete-selected').click();
    await dialog.getByTestId('confirm-ok').click();
    await expect.poll(() => text(page.getByTestId('run-count')), POLL).toBe('1 run');
    await expect.poll(() => page.locator(`.spacer .tr[data-run="${runs[1]}"]`).count(), POLL).toBe(0);
    const gone = await wsCall(server, 'getRun', [runs[1]!]);
    expect(gone).toMatchObject({ ok: false, error: { name: 'NotFound' } });
  });

  it('follows a dark OS theme', async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto(`${server.url}?e2e=1#/run/${runs[0]}`);
    await page.locator('.run-head [data-status="finished"]').waitFor();
    await chart('path-loss');
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(bg).toBe('rgb(18, 20, 24)');
    await shot('11-run-paths-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('had no page errors', () => {
    expect(errors).toEqual([]);
  });
});
