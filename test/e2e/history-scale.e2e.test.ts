/**
 * The history view with thousands of runs: 5,000 runs in the database, `modelab serve` on it, the UI in Chromium.
 * Only the visible rows are in the page; paging, sorting and filtering happen in the database; the keyboard reaches
 * the last run.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HistoryStore } from '../../src-main/store/history';
import { newRunId } from '../../src-main/store/ids';
import { ROOT, type Served, launchChromium, serve, signIn } from './helpers';

const N = 5000;
const POLL = { timeout: 20_000, interval: 100 };
let server: Served;
let browser: Browser;
let page: Page;
let home: string;

const count = (): Promise<string> => page.getByTestId('run-count').innerText();

describe(`the history view with ${N} runs`, () => {
  beforeAll(async () => {
    home = mkdtempSync(path.join(os.tmpdir(), 'modelab-e2e-scale-'));
    const store = await HistoryStore.open({ db: path.join(home, 'history.sqlite') });
    await store.db.transaction(async (sql) => {
      const t0 = Date.parse('2026-01-01T00:00:00Z');
      const statuses = ['finished', 'finished', 'finished', 'failed', 'cancelled', 'crashed'];
      for (let i = 0; i < N; i++) {
        const id = newRunId(t0 + i * 60_000);
        const created = new Date(t0 + i * 60_000).toISOString();
        const finished = new Date(t0 + i * 60_000 + 42_000).toISOString();
        await sql.run(
          `INSERT INTO runs (id, name, preset, config_json, status, created_at, started_at, finished_at, backend, dataset_name, environment_json)
           VALUES (?, ?, 'smoke', '{"name":"x","architecture":{"type":"mlp"}}', ?, ?, ?, ?, 'wasm', 'gaussian-mixture', '{"architecture":{"description":"MLP 16-64-64-4"}}')`,
          [id, `experiment ${i}`, statuses[i % 6]!, created, created, finished],
        );
        if (i % 7 === 0) await sql.run("INSERT INTO run_tags (run_id, tag) VALUES (?, 'paper')", [id]);
        await sql.run("INSERT INTO paths (run_id, idx, name, kind, check_pass, train_barrier, test_barrier, result_json) VALUES (?, 0, 'linear', 'linear', 1, ?, ?, '{}')", [id, i / N, i / N + 0.01]);
      }
    });
    await store.close();
    server = await serve([], { MODELAB_HOME: home });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await signIn(page, server);
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('opens at once with only the visible rows in the page', async () => {
    const t0 = Date.now();
    await page.goto(`${server.url}?e2e=1#/history`);
    await expect.poll(count, POLL).toBe(`${N} runs`);
    await page.locator('.spacer .tr[data-run]').first().waitFor();
    expect(Date.now() - t0).toBeLessThan(15_000);
    const rows = await page.locator('.spacer .tr').count();
    expect(rows).toBeGreaterThan(10);
    expect(rows).toBeLessThan(80);
    // Newest first; the barrier column shows each path's value.
    expect(await page.locator('.spacer .tr[data-run] .c-name a').first().innerText()).toBe(`experiment ${N - 1}`);
    expect(await page.locator('.spacer .tr[data-run] .c-barrier').first().innerText()).toContain('linear');
    mkdirSync(path.join(ROOT, 'test-output', 'screenshots'), { recursive: true });
    await page.screenshot({ path: path.join(ROOT, 'test-output', 'screenshots', `history-${N}-runs.png`) });
  });

  it('reaches the last (oldest) run from the keyboard, fetching only the pages scrolled to', async () => {
    await page.getByTestId('runs-viewport').focus();
    await page.keyboard.press('End');
    await page.locator('.spacer .tr[data-run] .c-name a', { hasText: /^experiment 0$/ }).waitFor({ timeout: 20_000 });
    expect(await page.locator('.spacer .tr').count()).toBeLessThan(80);
    await page.keyboard.press('Space');
    await expect.poll(count, POLL).toBe(`${N} runs · 1 selected`);
  });

  it('searches, filters by tag and status, and sorts in the database', async () => {
    await page.getByTestId('search').fill('experiment 4321');
    await expect.poll(count, POLL).toMatch(/^1 run/);
    await page.getByTestId('search').fill('');
    await page.getByTestId('tag-filter').selectOption('paper');
    await expect.poll(count, POLL).toMatch(new RegExp(`^${Math.ceil(N / 7)} runs`));
    await page.getByTestId('tag-filter').selectOption('');
    await page.getByRole('button', { name: 'failed', exact: true }).click();
    await expect.poll(count, POLL).toMatch(new RegExp(`^${Math.floor((N + 2) / 6)} runs`));
    await page.getByRole('button', { name: 'failed', exact: true }).click();
    await page.getByRole('columnheader', { name: /^name/ }).click();
    await expect.poll(() => page.locator('.spacer .tr[data-run] .c-name a').first().innerText(), POLL).toBe('experiment 0');
    await page.getByRole('columnheader', { name: /^name/ }).click();
    await expect.poll(() => page.locator('.spacer .tr[data-run] .c-name a').first().innerText(), POLL).toBe('experiment 999');
  });
});
