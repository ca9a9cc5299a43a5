/**
 * End to end: the New experiment form never starts a recipe other than the one it shows. A field whose text does not
 * read as a number is a problem like any other (counted, listed, Start disabled), and the run that starts holds
 * exactly the values in the fields.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunDetail } from '../../src-main/api/wire-types';
import { getAt } from '../../src-renderer/src/components/recipe-form';
import { type Served, launchChromium, serve, signIn, wsCall } from './helpers';

let server: Served;
let browser: Browser;
let page: Page;
const errors: string[] = [];
const POLL = { timeout: 20_000, interval: 100 };

const state = (): Promise<string> => page.getByTestId('validation-state').innerText();
const startDisabled = (): Promise<boolean> => page.getByTestId('start').isDisabled();

async function type(dataPath: string, value: string): Promise<void> {
  const input = page.locator(`[data-path="${dataPath}"] input`);
  await input.fill(value);
  await input.press('Tab');
}

/** Every text field of the form as shown: its recipe path and its text. */
function shownFields(): Promise<{ path: string; text: string }[]> {
  return page.locator('.rf-field input[type="text"]').evaluateAll((inputs) =>
    inputs.map((i) => ({ path: (i.closest('[data-path]') as HTMLElement).dataset['path']!, text: (i as HTMLInputElement).value })),
  );
}

describe('the New experiment form, and the run page of an unknown id', () => {
  beforeAll(async () => {
    server = await serve();
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    await signIn(page, server);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('counts a field that does not parse as a problem, blocks Start, and starts exactly the recipe shown', async () => {
    await page.goto(`${server.url}?e2e=1#/new`);
    await expect.poll(() => page.getByTestId('source').inputValue(), POLL).toBe('preset:smoke');
    await expect.poll(state, POLL).toBe('ready');

    await type('training.lr', '0.5.0');
    await expect.poll(state, POLL).toBe('1 problem');
    expect(await startDisabled()).toBe(true);
    expect(await page.getByTestId('issues').innerText()).toContain('training.lr');
    expect(await page.locator('[data-path="training.lr"] .field-error').innerText()).toBe('a number');

    await type('training.epochs', '5x');
    await expect.poll(state, POLL).toBe('2 problems');
    expect(await startDisabled()).toBe(true);

    await type('training.lr', '0.5');
    await expect.poll(state, POLL).toBe('1 problem');
    await type('training.epochs', '2');
    await expect.poll(state, POLL).toBe('ready');
    expect(await startDisabled()).toBe(false);
    await expect.poll(() => page.getByTestId('issues').count(), POLL).toBe(0);

    const shown = await shownFields();
    expect(shown.find((f) => f.path === 'training.lr')?.text).toBe('0.5');
    await page.getByTestId('start').click();
    await page.waitForURL(/#\/run\/[0-9a-z]+/);
    const id = /#\/run\/([0-9a-z]+)/.exec(page.url())![1]!;
    const r = await wsCall<RunDetail>(server, 'getRun', [id]);
    await wsCall(server, 'cancelRun', [id]);
    expect(r.ok).toBe(true);
    const config = (r as { value: RunDetail }).value.config;
    expect(getAt(config, ['training', 'lr'])).toBe(0.5);
    expect(getAt(config, ['training', 'epochs'])).toBe(2);
    for (const f of shown) {
      const stored = getAt(config, f.path.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k)));
      const asText = stored === null ? '' : Array.isArray(stored) ? stored.join(', ') : String(stored);
      expect(asText, f.path).toBe(f.text);
    }
    expect(errors).toEqual([]);
  });

  it("gives each field its help line, and shows only the chosen optimizer's settings", async () => {
    await page.goto(`${server.url}?e2e=1#/new`);
    await expect.poll(state, POLL).toBe('ready');
    expect(await page.title()).toBe('New experiment · ModeLab');
    await expect.poll(() => page.locator('[data-path="training.lr"] .rf-help').innerText(), POLL).toMatch(/learning rate/i);
    expect(await page.locator('[data-path="training.lr"] input').getAttribute('aria-describedby')).toBe('f-training-lr-help');
    expect(await page.locator('[data-path="training.momentum"]').count()).toBe(1);
    expect(await page.locator('[data-path="training.beta1"]').count()).toBe(0);

    await page.locator('[data-path="training.optimizer"] select').selectOption('adam');
    await expect.poll(() => page.locator('[data-path="training.beta1"]').count(), POLL).toBe(1);
    expect(await page.locator('[data-path="training.momentum"]').count()).toBe(0);
    await expect.poll(state, POLL).toBe('ready');
  });

  it('shows a plain page for a run id the history does not have, without server paths or commands', async () => {
    await page.goto(`${server.url}?e2e=1#/run/zzzzzzzzzzzzzzzz`);
    await page.getByTestId('run-not-found').waitFor();
    const shown = await page.locator('main').innerText();
    expect(shown).toContain('No run with this id');
    expect(shown).not.toMatch(/\.db|\/tmp\/|modelab list/);
    expect(await page.title()).toBe('No such run · ModeLab');
  });

  it('lists only the JSON error while the JSON does not parse, not the last form problems', async () => {
    await page.goto(`${server.url}?e2e=1#/new`);
    await expect.poll(state, POLL).toBe('ready');
    await type('training.epochs', '-3');
    await expect.poll(state, POLL).toBe('1 problem');
    expect(await page.getByTestId('issues').innerText()).toContain('training.epochs');

    await page.getByTestId('json-mode').check();
    await page.getByTestId('json-text').fill('{ "name": ');
    await page.getByTestId('json-text').blur();
    await expect.poll(() => page.getByTestId('issues').innerText(), POLL).toMatch(/^recipe: JSON: /);
    expect(await page.getByTestId('issues').innerText()).not.toContain('training.epochs');
    expect(await state()).toBe('1 problem');
    expect(await startDisabled()).toBe(true);
  });
});
