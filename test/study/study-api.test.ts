/** The api's study operations, as the app and the server call them: start, progress events, read, cancel, delete. */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent, ModeLabApi, StudyEvent } from '../../src-main/api/contract';
import { createApi } from '../../src-main/api/handlers';
import { HistoryStore } from '../../src-main/store/history';
import { tempDir } from '../store/helpers';
import { longStudy } from './long-study';

let t: ReturnType<typeof tempDir>;
let api: ModeLabApi;
let store: HistoryStore;
beforeAll(async () => {
  t = tempDir('modelab-study-api-');
  store = await HistoryStore.open({ db: path.join(t.dir, 'history.sqlite') });
  api = createApi({ store, runnerOptions: { heartbeatMs: 250 } });
});
afterAll(async () => {
  await api.close();
  t.cleanup();
});

describe('api: studies', () => {
  it('starts a study, streams its progress and its cells’ run events, and reads it back with its table', async () => {
    const events: StudyEvent[] = [];
    const runEvents: ApiEvent[] = [];
    const off = api.subscribeStudies((e) => events.push(e));
    const offRuns = api.subscribe((e) => runEvents.push(e));
    // What it would be, before anything is stored.
    expect(await api.estimateStudy({ preset: 'smoke-study', quick: true, jobs: 1 })).toMatchObject({ name: 'smoke-study-quick', cells: 2, axes: ['architecture.hidden'], trials: 1, estimate: { cells: 2, parallel: 1 } });
    expect(await api.listStudies()).toEqual([]);
    const started = await api.startStudy({ preset: 'smoke-study', quick: true, jobs: 1, backend: 'cpu' });
    expect(started).toMatchObject({ cells: 2, estimate: { cells: 2, parallel: 1 } });
    expect(await api.waitForStudy(started.id)).toEqual({ status: 'finished' });
    off();
    offRuns();
    const progress = events.flatMap((e) => (e.type === 'study' ? [e.progress] : []));
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.every((p) => p.studyId === started.id && p.cells === 2)).toBe(true);
    expect(progress.at(-1)!.counts.finished).toBe(2);
    expect(events.at(-1)).toEqual({ type: 'study-status', studyId: started.id, status: 'finished' });
    const doc = await api.getStudy(started.id);
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
    expect(doc.study).toMatchObject({ name: 'smoke-study-quick', status: 'finished', trials: 1 });
    const runIds = doc.cells.map((c) => c.runId);
    expect(new Set(runEvents.filter((e) => e.type === 'status' && e.status === 'running').map((e) => e.runId))).toEqual(new Set(runIds));
    expect(doc.table.find((r) => r.metric === 'endpoint.A.acc' && r.split === 'test' && r.group === 0)).toMatchObject({ n: 1, std: null });
    expect((await api.listStudies()).map((s) => [s.id, s.counts.finished])).toEqual([[started.id, 2]]);
  });

  it('cancels a running study and its cells; refuses bad requests in one line', async () => {
    const { id } = await api.startStudy({ study: longStudy('long-study'), jobs: 1, backend: 'cpu' });
    for (let k = 0; !(await api.getStudy(id)).cells.some((c) => c.state === 'running'); k++) {
      if (k > 600) throw new Error('no cell started');
      await new Promise((r) => setTimeout(r, 50));
    }
    await expect(api.startStudy({ resume: id })).rejects.toThrow(/already running; cancel it first/);
    await expect(api.deleteStudy(id, 'keep')).rejects.toThrow(/is running; cancel it first/);
    expect((await api.cancelStudy(id)).stopping).toBe(1);
    expect(await api.waitForStudy(id)).toEqual({ status: 'cancelled' });
    const doc = await api.getStudy(id);
    expect(doc.study.status).toBe('cancelled');
    expect(doc.cells.filter((c) => c.state !== 'pending').map((c) => c.state)).toEqual(['cancelled']);
    await expect(api.startStudy({})).rejects.toThrow(/exactly one of/);
    await expect(api.startStudy({ preset: 'nope' })).rejects.toThrow(/unknown study preset 'nope'/);
    await expect(api.startStudy({ study: { base: { preset: 'smoke' }, axes: [{ field: 'training.nope', values: [1] }] } })).rejects.toThrow(/training.*nope/);
    await expect(api.deleteStudy(id, 'maybe' as never)).rejects.toThrow(/'delete' or 'keep'/);
    const runId = doc.cells[0]!.runId!;
    expect(await api.deleteStudy(id, 'delete')).toEqual({ id, runsDeleted: 1 });
    await expect(api.getRun(runId)).rejects.toThrow(/no run/);
    await expect(api.getStudy(id)).rejects.toThrow(/no study/);
  });
});
