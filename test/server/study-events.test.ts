/**
 * A study's events over the server's WebSocket (issue 14): every connected socket receives, while the study runs, its
 * start, each cell's run starting and ending (with the run's id), its progress and its end — what the app's study page
 * follows instead of polling.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModeLabApi } from '../../src-main/api/contract';
import { createApi } from '../../src-main/api/handlers';
import type { StudyDocument, StudyEvent } from '../../src-main/api/wire-types';
import { type RunningServer, startServer } from '../../src-main/server/server';
import { HistoryStore } from '../../src-main/store/history';
import { tempDir } from '../store/helpers';
import { Rpc, bearer, wsOpen } from './helpers';

const STATIC = path.resolve(import.meta.dirname, '../../out/renderer');

let t: ReturnType<typeof tempDir>;
let store: HistoryStore;
let api: ModeLabApi;
let local: RunningServer;
let rpc: Rpc;

beforeAll(async () => {
  t = tempDir('modelab-server-study-');
  store = await HistoryStore.open({ db: path.join(t.dir, 'history.sqlite') });
  api = createApi({ store, runnerOptions: { heartbeatMs: 250 } });
  local = await startServer({ api, store, staticDir: STATIC, port: 0, eventIntervalMs: 50 });
  rpc = new Rpc(await wsOpen(`ws://127.0.0.1:${local.port}/ws`, bearer(local)));
});
afterAll(async () => {
  rpc?.ws.terminate();
  await local?.close();
  await api.close();
  t.cleanup();
});

/** Resolves once the socket received study `id`'s end. */
async function ended(id: string): Promise<StudyEvent> {
  const end = (): StudyEvent | undefined => rpc.studyEvents.find((e) => e.studyId === id && e.type === 'study-status' && e.status !== 'running');
  while (!end()) await new Promise((r) => setTimeout(r, 100));
  return end()!;
}

describe('server: study events', () => {
  it("pushes a running study's start, its cells' runs starting and finishing, its progress and its end to the socket", async () => {
    const started = (await rpc.call('startStudy', { preset: 'smoke-study', quick: true, jobs: 1, backend: 'cpu' })) as { ok: true; value: { id: string; cells: number } };
    expect(started).toMatchObject({ ok: true, value: { cells: 2 } });
    const id = started.value.id;
    expect(await ended(id)).toEqual({ type: 'study-status', studyId: id, status: 'finished' });
    const mine = rpc.studyEvents.filter((e) => e.studyId === id);
    expect(mine[0]).toEqual({ type: 'study-status', studyId: id, status: 'running' });
    const doc = ((await rpc.call('getStudy', id)) as { value: StudyDocument }).value;
    const cells = mine.flatMap((e) => (e.type === 'study-cell' ? [e.cell] : []));
    for (const c of doc.cells) {
      const seen = cells.filter((x) => x.index === c.index);
      // Its run seen active (queued or running) first, then finished, each time with the run's id.
      expect(seen.every((x) => x.runId === c.runId && x.error === null)).toBe(true);
      expect(['queued', 'running']).toContain(seen[0]!.state);
      expect(seen.at(-1)!.state).toBe('finished');
    }
    // One cell at a time (jobs 1): the first cell finished before the second started, and both before the end.
    const order = mine.map((e) => (e.type === 'study-cell' ? `${e.cell.index}:${e.cell.state === 'finished' ? 'end' : 'active'}` : e.type === 'study-status' ? e.status : null)).filter((x) => x !== null);
    const firstOf = (k: string): number => order.indexOf(k);
    expect(firstOf('0:end')).toBeLessThan(firstOf('1:active'));
    expect(firstOf('1:end')).toBeLessThan(order.indexOf('finished'));
    // Progress while it ran, its counts ending all finished.
    const progress = mine.flatMap((e) => (e.type === 'study' ? [e.progress] : []));
    expect(progress.some((p) => p.counts.running + p.counts.queued > 0)).toBe(true);
    expect(progress.at(-1)!.counts.finished).toBe(2);
  });
});
