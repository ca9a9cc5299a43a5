/**
 * A run's Stability, Loss plane and Recipe & environment tabs (src-renderer/src/views/run/), on a history made directly
 * in the database from a real tiny run (dropout stability, noise stability, a plane): each tab shows its tables and
 * charts, the noise endpoint can be changed, notes are saved on leaving the field, and the page raises no error.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src-main/engine/backend/backends';
import { parseRecipe } from '../../src-main/engine/recipe/resolve';
import { runRecipe } from '../../src-main/engine/experiment/run';
import { HistoryStore } from '../../src-main/store/history';
import { environmentOf } from '../../src-main/store/environment';
import type { RunDetail } from '../../src-main/api/wire-types';
import { type Served, launchChromium, serve, signIn, wsCall } from './helpers';

const POLL = { timeout: 20_000, interval: 100 };
let server: Served;
let browser: Browser;
let page: Page;
let home: string;
let id = '';
const errors: string[] = [];

describe("a run's stability and plane tabs", () => {
  beforeAll(async () => {
    const recipe = parseRecipe({
      name: 'tabs',
      seed: 4,
      dataset: { name: 'gaussian-mixture', classes: 3, dim: 8, train: 120, test: 60, seed: 0 },
      architecture: { type: 'mlp', hidden: [8, 8] },
      training: { optimizer: 'sgd', lr: 0.05, batchSize: 40, epochs: 1 },
      stability: { dropout: { masks: 1, searchSamples: 60 }, noise: { samples: 20 } },
      paths: [{ type: 'linear', points: 3 }, { type: 'aligned-linear', points: 3 }],
      plane: { size: 3, trainSamples: 60, testSamples: 60 },
    });
    const doc = await runRecipe(recipe, { backend: await selectBackend('cpu') });
    home = mkdtempSync(path.join(os.tmpdir(), 'modelab-e2e-tabs-'));
    const store = await HistoryStore.open({ db: path.join(home, 'history.sqlite') });
    id = await store.createRun({ name: 'tabs', preset: null, config: recipe });
    // As a job records it: the environment, each stage as it completes (the run's events), then the end.
    await store.saveEnvironment(id, environmentOf(doc));
    for (const [i, e] of doc.endpoints.entries()) {
      await store.appendCurve(id, e.name, e.training.curve);
      await store.saveEndpoint(id, i, e);
    }
    if (doc.stability) await store.saveStability(id, doc.stability);
    for (const [i, p] of doc.paths.entries()) await store.savePath(id, i, p);
    if (doc.plane) await store.savePlane(id, doc.plane);
    await store.finish(id, doc);
    await store.close();
    server = await serve([], { MODELAB_HOME: home });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1366, height: 900 } })).newPage();
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    await signIn(page, server);
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('Stability: the Definition 1 table, the per-layer and noise charts, another endpoint on request', async () => {
    const u = new URL(server.url);
    u.searchParams.set('e2e', '1');
    u.hash = `#/run/${id}`;
    await page.goto(u.href);
    await page.locator('[data-tab="stability"]').click();
    await expect.poll(() => page.locator('[role="tabpanel"] table.data tbody tr').count(), POLL).toBe(2);
    await page.locator('[data-chart="stability-per-layer"]').waitFor();
    await page.locator('[data-chart="stability-noise"]').waitFor();
    await page.locator('[data-chart="stability-noise"] select').first().selectOption('B');
    await expect.poll(() => page.locator('[data-chart="stability-noise"] select').first().inputValue(), POLL).toBe('B');
  });

  it('Loss plane: the surface and what it was computed on', async () => {
    await page.locator('[data-tab="plane"]').click();
    await page.locator('[data-chart="plane"]').waitFor();
    await expect.poll(() => page.locator('[role="tabpanel"] p.muted').innerText(), POLL).toMatch(/3×3 grid on 60 training samples/);
  });

  it('Recipe & environment: the environment and the recipe; notes saved when the field is left', async () => {
    await page.locator('[data-tab="record"]').click();
    await expect.poll(() => page.locator('[role="tabpanel"] table.kv').first().innerText(), POLL).toMatch(/backend\s+cpu/);
    await expect.poll(() => page.getByTestId('config-json').innerText(), POLL).toContain('"name": "tabs"');
    await page.getByTestId('notes').fill('seen in the record tab');
    await page.getByTestId('notes').blur();
    await expect
      .poll(async () => {
        const r = await wsCall<RunDetail>(server, 'getRun', [id]);
        return r.ok ? (r as { value: RunDetail }).value.notes : null;
      }, POLL)
      .toBe('seen in the record tab');
    expect(errors).toEqual([]);
  });
});
