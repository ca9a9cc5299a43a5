/** The api contract over store + jobs, as the desktop app and the server will call it. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent, ModeLabApi } from '../../src-main/api/contract';
import { createApi } from '../../src-main/api/handlers';
import { JobRunner } from '../../src-main/jobs/runner';
import { HistoryStore } from '../../src-main/store/history';
import { tempDir } from '../store/helpers';
import { longRecipe, tinyRecipe } from './recipes';

let t: ReturnType<typeof tempDir>;
let api: ModeLabApi;
let store: HistoryStore;
beforeAll(async () => {
  t = tempDir('modelab-api-');
  store = await HistoryStore.open({ db: path.join(t.dir, 'history.sqlite') });
  api = createApi({ store, runnerOptions: { heartbeatMs: 250 } });
});
afterAll(async () => {
  await api.close();
  t.cleanup();
});

describe('api', () => {
  it('startRun returns the id at once; events stream; the run ends finished and is listed', async () => {
    const events: ApiEvent[] = [];
    const off = api.subscribe((e) => events.push(e));
    const { id } = await api.startRun({ recipe: tinyRecipe('via api'), preset: 'tiny', name: 'api run', tags: ['api'], colour: '#abcdef', backend: 'wasm' });
    expect((await api.listRuns({ tags: ['api'] })).runs[0]).toMatchObject({ id, name: 'api run', preset: 'tiny', colour: '#abcdef' });
    const outcome = await api.waitForRun(id);
    off();
    expect(outcome.status).toBe('finished');
    expect(events.some((e) => e.type === 'run' && e.event.kind === 'progress' && e.runId === id)).toBe(true);
    expect(events.flatMap((e) => (e.type === 'run' && e.event.kind === 'path' ? [e.event.result.name] : []))).toEqual(['linear', 'theorem1']);
    // Everything the api hands out survives JSON (what IPC and WebSocket carry).
    const d = await api.getRun(id);
    expect(JSON.parse(JSON.stringify(d))).toEqual(d);
    const doc = await api.getRunDocument(id);
    expect(doc.runId).toBe(id);
    expect(doc.paths.map((p) => p.name)).toEqual(['linear', 'theorem1']);
  });

  it('bad requests are InputErrors naming the problem', async () => {
    await expect(api.startRun({ preset: 'nope' })).rejects.toThrow(/unknown preset 'nope'/);
    await expect(api.startRun({ preset: 'smoke', backend: 'gpu9000' })).rejects.toThrow(/unknown backend 'gpu9000'/);
    await expect(api.startRun({ recipe: { name: 'x' } })).rejects.toThrow(/recipe/);
    await expect(api.getRun('nothing-here')).rejects.toThrow(/no run 'nothing-here'/);
    await expect(api.setColour((await api.listRuns()).runs[0]!.id, 'not a colour!')).rejects.toThrow(/colour/);
    const queued = await store.createRun({ name: 'waiting', preset: null, config: { name: 'waiting' } });
    await expect(api.deleteRuns([queued])).rejects.toThrow(/is queued; cancel it before deleting it/);
    await store.setStatus(queued, 'cancelled');
    expect((await api.deleteRuns([queued])).runs).toBe(1);
  });

  it('a cancel requested from another process reaches the job at its owner’s next heartbeat', async () => {
    const { id } = await api.startRun({ recipe: longRecipe('cancel from elsewhere'), backend: 'wasm' });
    // Another process: its own connection and runner, which does not own the job.
    const other = await HistoryStore.open({ db: store.location.dbPath });
    const runner = new JobRunner({ store: other });
    for (let k = 0; (await other.summary(id)).status !== 'running' && k < 200; k++) await new Promise((r) => setTimeout(r, 50));
    expect(await runner.cancel(id)).toBe('requested');
    expect((await api.waitForRun(id)).status).toBe('cancelled');
    await other.close();
  });

  it('exports csv over several runs and imports a bundle', async () => {
    const ids = (await api.listRuns({ status: ['finished'] })).runs.map((r) => r.id);
    const csv = path.join(t.dir, 'all.csv');
    await api.exportRuns({ ids, format: 'csv', out: csv });
    const rows = readFileSync(csv, 'utf8').trim().split('\n');
    expect(rows[0]).toBe('run,path,t,split,loss,acc');
    expect(new Set(rows.slice(1).map((r) => r.split(',')[0]))).toEqual(new Set(ids));
    const zip = path.join(t.dir, 'runs.zip');
    await api.exportRuns({ ids, format: 'bundle', out: zip });
    const before = await Promise.all(ids.map((i) => api.getRun(i)));
    const del = await api.deleteRuns(ids);
    expect(del.runs).toBe(ids.length);
    expect((await api.importBundle(zip)).ids.sort()).toEqual([...ids].sort());
    expect(await Promise.all(ids.map((i) => api.getRun(i)))).toEqual(before);
  });
});
