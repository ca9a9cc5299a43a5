/**
 * The app's studies (issue 14 item 6), against a real `modelab serve`: a tiny study (smoke-study: two widths × two
 * trials of a small MLP pair) started from the Studies page runs its cells; its page shows the cells' states live
 * until all are finished, the aggregated chart (mean ± std over trials against the width, each trial a faint point),
 * and the cells as a table whose rows open each run; "Run again" with N trials on a run's page makes a study. And a
 * running study's page follows its events alone: its cell table, counts and state change as events arrive, with no
 * read of the study between them (no polling).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StudyEvent } from '../../src-main/api/wire-types';
import { ROOT, type Served, launchChromium, serve, signIn, wsCall } from './helpers';

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

/**
 * Installed before the app's scripts: one ordered log, in the page, of what the page's WebSocket receives (study
 * events, replies to getStudy, other messages), the getStudy calls it sends, and every change of the study page's cell
 * states, counts and state text. A message and the DOM changes it causes run in one task (the app's handlers, Vue's
 * render and the MutationObserver's callback are its microtasks), so each DOM change follows its cause in the log.
 */
const STUDY_PAGE_LOG = `(() => {
  const log = [];
  window.__studyLog = log;
  const calls = new Map();
  const Native = window.WebSocket;
  class Logged extends Native {
    constructor(url, protocols) {
      super(url, protocols);
      this.addEventListener('message', (ev) => {
        const m = JSON.parse(String(ev.data));
        if (m.studyEvent) log.push({ in: 'studyEvent', e: m.studyEvent });
        else if (m.id !== undefined && calls.get(m.id) === 'getStudy') log.push({ in: 'getStudy' });
        else log.push({ in: m.event ? 'event' : 'other' });
      });
    }
    send(data) {
      const m = JSON.parse(String(data));
      calls.set(m.id, m.op);
      if (m.op === 'getStudy') log.push({ out: 'getStudy' });
      super.send(data);
    }
  }
  window.WebSocket = Logged;
  let last = '';
  const text = (id) => document.querySelector('[data-testid="' + id + '"]')?.textContent ?? '';
  new MutationObserver(() => {
    const dom = {
      cells: [...document.querySelectorAll('[data-testid="study-cells"] tbody tr')].map((tr) => tr.querySelector('[data-status]')?.getAttribute('data-status') ?? ''),
      counts: text('study-counts'),
      state: text('study-state'),
    };
    const key = JSON.stringify(dom);
    if (key !== last) {
      last = key;
      log.push({ dom });
    }
  }).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
})();`;

type Dom = { cells: string[]; counts: string; state: string };
type LogEntry = { in?: 'studyEvent' | 'getStudy' | 'event' | 'other'; e?: StudyEvent; out?: 'getStudy'; dom?: Dom };

/** What the page received last before log entry `i`: the cause of a DOM change there. */
const causeOf = (log: LogEntry[], i: number): string | undefined => log.slice(0, i).reverse().find((x) => x.in)?.in;

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

  it("a running study's page follows its events alone: cell states, counts and state change with no read of the study between events", async () => {
    // Two cells one after the other: a short one, then one that trains until it is cancelled.
    const smoke = JSON.parse(readFileSync(path.join(ROOT, 'resources/studies/smoke-study.json'), 'utf8')) as Record<string, unknown>;
    const study = { ...smoke, name: 'live-study', quick: undefined, trials: 1, axes: [{ field: 'training.epochs', values: [2, 10_000] }] };
    const live = await page.context().newPage();
    live.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    await live.addInitScript(STUDY_PAGE_LOG);
    const started = await wsCall<{ id: string }>(server, 'startStudy', [{ study: JSON.parse(JSON.stringify(study)), jobs: 1, backend: 'cpu' }]);
    if (!started.ok) throw new Error(started.error.message);
    const id = started.value.id;
    await live.goto(`${server.url}#/study/${id}`);
    const log = (): Promise<LogEntry[]> => live.evaluate(() => (window as unknown as { __studyLog: LogEntry[] }).__studyLog);
    const progressCount = (l: LogEntry[]): number => l.filter((x) => x.e?.type === 'study' && x.e.studyId === id).length;

    // The long cell runs; from then on, while the progress events of five seconds arrive, the page reads nothing.
    await expect.poll(async () => (await log()).some((x) => x.dom?.cells[1] === 'running'), POLL).toBe(true);
    const mark = (await log()).length;
    await expect.poll(async () => progressCount((await log()).slice(mark)), POLL).toBeGreaterThanOrEqual(5);
    expect((await log()).slice(mark).filter((x) => x.out === 'getStudy')).toEqual([]);

    // Cancelled from elsewhere: the cell and the study's state change on the page from the events alone.
    const cancelled = await wsCall(server, 'cancelStudy', [id]);
    expect(cancelled.ok).toBe(true);
    await expect.poll(async () => (await log()).some((x) => x.dom?.state === 'cancelled' && x.dom.cells[1] === 'cancelled'), POLL).toBe(true);
    const all = await log();
    const firstDom = (f: (d: Dom) => boolean): number => all.findIndex((x) => x.dom && f(x.dom));
    expect(causeOf(all, firstDom((d) => d.cells[1] === 'cancelled'))).toBe('studyEvent');
    expect(causeOf(all, firstDom((d) => d.state === 'cancelled'))).toBe('studyEvent');
    // The progress line's counts changed on events too (the running cell counted, then the cancelled one).
    const countChanges = all.flatMap((x, i) => (x.dom && i > 0 && all.slice(0, i).reverse().find((y) => y.dom)?.dom?.counts !== x.dom.counts ? [causeOf(all, i)] : []));
    expect(countChanges).toContain('studyEvent');
    // The study was read once when the page opened, and again only for a cell that finished (its aggregate).
    const finishedCells = all.filter((x) => x.e?.type === 'study-cell' && x.e.studyId === id && x.e.cell.state === 'finished').length;
    expect(finishedCells).toBe(1);
    expect(all.filter((x) => x.out === 'getStudy').length).toBeLessThanOrEqual(1 + finishedCells);
    expect(errors).toEqual([]);
    await live.close();
  }, LONG);
});
