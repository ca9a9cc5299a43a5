/**
 * Importing a bundle whose run is already in the history, in Chromium against `modelab serve` (issue 12): the history
 * page asks in a dialog, and each answer repeats the upload with the choice — cancel changes nothing, "Skip them"
 * imports nothing, "Import as a copy" adds the run again with a new id and its name marked.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ListResult } from '../../src-main/api/contract';
import { exportBundles } from '../../src-main/store/bundle';
import { HistoryStore } from '../../src-main/store/history';
import { syntheticRun } from '../store/helpers';
import { type Served, launchChromium, serve, signIn, wsCall } from './helpers';

const POLL = { timeout: 20_000, interval: 100 };
let server: Served;
let browser: Browser;
let page: Page;
let home: string;
let zip: string;
let id: string;

async function runs(): Promise<{ id: string; name: string }[]> {
  const r = await wsCall<ListResult>(server, 'listRuns', []);
  if (!r.ok) throw new Error(r.error.message);
  return r.value.runs.map((s) => ({ id: s.id, name: s.name }));
}

/** Clicks Import…, picks the bundle, and waits for the dialog that says the run is already there. */
async function importAgain(): Promise<void> {
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByRole('button', { name: 'Import…' }).click()]);
  await chooser.setFiles(zip);
  const text = page.getByTestId('import-exists');
  await text.waitFor({ state: 'visible', timeout: 20_000 });
  expect(await text.innerText()).toContain(`run ${id} ('in the history') is already in the history`);
}

describe('importing a run that is already in the history', () => {
  beforeAll(async () => {
    home = mkdtempSync(path.join(os.tmpdir(), 'modelab-e2e-import-'));
    const store = await HistoryStore.open({ db: path.join(home, 'history.sqlite') });
    id = await syntheticRun(store, { name: 'in the history' });
    zip = path.join(home, 'bundle.zip');
    await exportBundles(store, [id], zip);
    await store.close();
    server = await serve([], { MODELAB_HOME: home });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1366, height: 900 } })).newPage();
    await signIn(page, server);
    const u = new URL(server.url);
    u.searchParams.set('e2e', '1');
    u.hash = '/history';
    await page.goto(u.href);
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('asks; cancel and "Skip them" change nothing; "Import as a copy" adds a marked copy', async () => {
    const dialog = page.getByTestId('confirm-dialog').filter({ has: page.getByTestId('import-exists') });

    await importAgain();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => dialog.isVisible(), POLL).toBe(false);
    expect(await runs()).toEqual([{ id, name: 'in the history' }]);

    await importAgain();
    await dialog.getByRole('button', { name: 'Skip them' }).click();
    await expect.poll(() => page.getByText('imported 0 run(s), skipped 1 already in the history').isVisible(), POLL).toBe(true);
    expect(await runs()).toEqual([{ id, name: 'in the history' }]);

    await importAgain();
    await dialog.getByRole('button', { name: 'Import as a copy' }).click();
    await expect.poll(async () => (await runs()).length, POLL).toBe(2);
    // The copy keeps the original's times, so the list order between the two is not asserted.
    const all = await runs();
    expect(all).toContainEqual({ id, name: 'in the history' });
    const copy = all.find((r) => r.id !== id)!;
    expect(copy.id).toMatch(/^[0-9a-z]{16}$/);
    expect(copy.name).toBe('in the history (copy)');
  });
});
