/**
 * End to end: the server stops with the page open and comes back (same port, history and token). While it is away
 * the page says so and keeps what it showed (never "No runs yet"); when it is back the page recovers by itself,
 * without a reload: presets, run counts, and no stale "running" pill for the run the stop cancelled.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunDetail } from '../../src-main/api/wire-types';
import { type Served, launchChromium, serve, signIn, wsCall } from './helpers';

const TOKEN = 'e2e-reconnect-0123456789abcdef';
const POLL = { timeout: 30_000, interval: 100 };

let home: string;
let server: Served;
let browser: Browser;
let page: Page;
const runs: string[] = [];

const text = (testId: string): Promise<string> => page.getByTestId(testId).innerText();

async function startSmoke(epochs: number): Promise<string> {
  const recipe = await wsCall<Record<string, Record<string, unknown>>>(server, 'presetRecipe', ['smoke']);
  if (!recipe.ok) throw new Error(recipe.error.message);
  const r = { ...recipe.value, training: { ...recipe.value['training'], epochs } };
  const started = await wsCall<{ id: string }>(server, 'startRun', [{ preset: 'smoke', recipe: r, name: `smoke ${epochs}` }]);
  if (!started.ok) throw new Error(started.error.message);
  runs.push(started.value.id);
  return started.value.id;
}

async function status(id: string): Promise<string> {
  const r = await wsCall<RunDetail>(server, 'getRun', [id]);
  return r.ok ? r.value.status : r.error.message;
}

describe('the page across a server restart', () => {
  beforeAll(async () => {
    home = mkdtempSync(path.join(os.tmpdir(), 'modelab-e2e-reconnect-'));
    server = await serve(['--token', TOKEN], { MODELAB_HOME: home });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await signIn(page, server);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('says the connection is lost, keeps what it shows, and recovers everything without a reload', async () => {
    const cancelled = await startSmoke(1);
    await wsCall(server, 'cancelRun', [cancelled]);
    await expect.poll(() => status(cancelled), POLL).toBe('cancelled');
    const running = await startSmoke(10_000);
    await expect.poll(() => status(running), POLL).toBe('running');

    await page.goto(`${server.url}#/history`);
    await expect.poll(() => text('run-count'), POLL).toBe('2 runs');
    await expect.poll(() => page.locator('.running-pill').innerText(), POLL).toBe('1 running');
    await page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));

    const port = new URL(server.url).port;
    await server.stop();
    await page.getByTestId('connection-lost').waitFor({ timeout: 30_000 });
    expect(await text('run-count')).toBe('2 runs'); // kept, not wiped

    // Views opened while the server is away wait for it: never "0 runs · No runs yet".
    await page.evaluate(() => (location.hash = '#/new'));
    await page.locator('.new-experiment').waitFor();
    await page.evaluate(() => (location.hash = '#/history'));
    await expect.poll(() => text('run-count'), POLL).toBe('loading…');
    expect(await page.getByText('No runs').count()).toBe(0);
    await page.evaluate(() => (location.hash = '#/new'));

    server = await serve(['--port', port, '--token', TOKEN], { MODELAB_HOME: home });
    expect(new URL(server.url).port).toBe(port);
    await page.getByTestId('connection-lost').waitFor({ state: 'detached', timeout: 30_000 });
    await expect.poll(() => page.getByTestId('source').inputValue(), POLL).toBe('preset:smoke');
    await expect.poll(() => page.locator('#source option').count(), POLL).toBeGreaterThan(1);
    await expect.poll(() => text('validation-state'), POLL).toBe('ready');
    expect(await page.getByTestId('start').isDisabled()).toBe(false);

    // The run the stop ended is no longer counted as running.
    expect(await status(running)).not.toMatch(/^(running|queued)$/);
    await expect.poll(() => page.locator('.running-pill').count(), POLL).toBe(0);
    await page.evaluate(() => (location.hash = '#/history'));
    await expect.poll(() => text('run-count'), POLL).toBe('2 runs');
    expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
  });
});
