/** The history store: runs, annotations, listing, id prefixes, artifact reference counting, crash detection. */
import { existsSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runSummary } from '../../src-main/cli/summary';
import { environmentOf } from '../../src-main/store/environment';
import { RunNotFoundError } from '../../src-main/store/errors';
import type { HistoryStore } from '../../src-main/store/history';
import { newRunId, isRunId } from '../../src-main/store/ids';
import { runDocument } from '../../src-main/store/run-document';
import { artifactsDirFor, dataHome, modelabHome, resolveLocation } from '../../src-main/store/location';
import { endpointResult, pathResult, syntheticResult, syntheticRun, tempStore, weights } from './helpers';

let store: HistoryStore;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ store, cleanup } = await tempStore());
});
afterEach(async () => cleanup());

describe('location', () => {
  it('follows XDG_DATA_HOME on Linux, MODELAB_HOME over it, and puts artifacts beside the database', () => {
    expect(dataHome({ XDG_DATA_HOME: '/x/data' }, 'linux')).toBe('/x/data/modelab');
    expect(dataHome({}, 'linux')).toMatch(/\.local\/share\/modelab$/);
    expect(dataHome({}, 'darwin')).toMatch(/Library\/Application Support\/modelab$/);
    expect(modelabHome({ MODELAB_HOME: '/tmp/mh' })).toBe('/tmp/mh');
    expect(resolveLocation({ env: { MODELAB_HOME: '/tmp/mh' } })).toEqual({ dbPath: '/tmp/mh/history.sqlite', artifactsDir: '/tmp/mh/history.artifacts' });
    expect(artifactsDirFor('/a/b/lab.db')).toBe('/a/b/lab.artifacts');
  });

  it('refuses the real data directory under vitest when MODELAB_HOME is missing', () => {
    expect(() => modelabHome({ VITEST: 'true' })).toThrow(/MODELAB_HOME/);
    expect(process.env['MODELAB_HOME']).toBeTruthy();
  });
});

describe('ids', () => {
  it('are 16 characters, sort by creation time, and are unique', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => newRunId(1_700_000_000_000 + i));
    expect(ids.every(isRunId)).toBe(true);
    expect([...ids].sort()).toEqual(ids);
    // Ids made in the same millisecond differ by 30 random bits: 2,000 of them collide about 0.002 times on average
    // (n²/2³¹), so 5 collisions would mean the random part is broken (10,000 ids would collide 5% of the time).
    expect(new Set(Array.from({ length: 2000 }, () => newRunId(0))).size).toBeGreaterThanOrEqual(1995);
  });

  it('resolve from unique prefixes; unknown and ambiguous ids are errors naming the id', async () => {
    const a = await syntheticRun(store);
    const b = await syntheticRun(store);
    expect(await store.resolveId(a)).toBe(a);
    expect(await store.resolveId(a.toUpperCase())).toBe(a);
    const common = [...a].findIndex((c, i) => c !== b[i]);
    expect(await store.resolveId(a.slice(0, Math.max(4, common + 1)))).toBe(a);
    await expect(store.resolveId('zzzzzzzz')).rejects.toThrow(RunNotFoundError);
    await expect(store.resolveId('zzzzzzzz')).rejects.toThrow(/no run 'zzzzzzzz'/);
    if (common >= 4) await expect(store.resolveId(a.slice(0, common))).rejects.toThrow(/ambiguous/);
    await expect(store.resolveId('abc')).rejects.toThrow(RunNotFoundError);
  });
});

describe('runs', () => {
  it('keep everything a run records, and the run document reassembles', async () => {
    const id = await syntheticRun(store, { name: 'first', tags: ['x'] });
    const d = await store.get(id);
    expect(d).toMatchObject({ id, name: 'first', status: 'finished', preset: 'smoke', tags: ['x'], notes: '', colour: null, pid: null, heartbeatAt: null });
    expect(d.endpoints.map((e) => e.name)).toEqual(['A', 'B']);
    expect(d.endpoints[0]!.training.curve).toHaveLength(4);
    expect(d.paths[0]!.points).toHaveLength(3);
    expect(d.environment).toMatchObject({ backend: 'cpu', tfjsVersion: '4.22.0', dataset: { name: 'test' }, seeds: { recipe: 1, endpoints: { A: 1, B: 2 } } });
    expect(d.artifacts.map((a) => a.role)).toEqual(['endpoint:A', 'endpoint:B', 'path:linear']);
    for (const a of d.artifacts) expect(store.artifacts.has(a.hash)).toBe(true);
  });

  it('tags, notes, names and colours', async () => {
    const id = await syntheticRun(store);
    await store.addTags(id, ['b', 'a', 'a']);
    await store.removeTags(id, ['b']);
    await store.setNotes(id, 'line 1\nline 2');
    await store.rename(id, 'renamed');
    await store.setColour(id, '#ff0000');
    expect(await store.summary(id)).toMatchObject({ tags: ['a'], notes: 'line 1\nline 2', name: 'renamed', colour: '#ff0000' });
    // The run document keeps the recipe's name.
    expect((await store.get(id)).config).toMatchObject({ name: 'synthetic' });
  });

  it('list filters by status, tag, preset and text, sorts, and pages', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push(await syntheticRun(store, { name: `run ${i}`, tags: i % 2 ? ['odd'] : ['even'], preset: i < 3 ? 'smoke' : 'mnist-mlp' }));
    await store.setStatus(ids[6]!, 'failed', { from: ['finished'], error: 'boom' });
    await store.setNotes(ids[5]!, 'interesting 100% barrier');
    expect((await store.list()).runs.map((r) => r.id)).toEqual([...ids].reverse());
    expect((await store.list({ order: 'asc', limit: 3, offset: 2 })).runs.map((r) => r.id)).toEqual(ids.slice(2, 5));
    expect((await store.list({ limit: 3 })).total).toBe(7);
    expect((await store.list({ status: ['failed'] })).runs.map((r) => r.id)).toEqual([ids[6]]);
    expect((await store.list({ tags: ['odd'] })).runs.map((r) => r.id)).toEqual([ids[5], ids[3], ids[1]]);
    expect((await store.list({ tags: ['odd', 'even'] })).total).toBe(0);
    expect((await store.list({ preset: 'smoke', tags: ['even'] })).runs.map((r) => r.id)).toEqual([ids[2], ids[0]]);
    expect((await store.list({ search: 'RUN 4' })).runs.map((r) => r.id)).toEqual([ids[4]]);
    expect((await store.list({ search: '100%' })).runs.map((r) => r.id)).toEqual([ids[5]]);
    expect((await store.list({ search: 'od' })).total).toBe(3); // tag text
    expect((await store.list({ sort: 'name', order: 'asc' })).runs.map((r) => r.name)).toEqual(ids.map((_, i) => `run ${i}`));
    const summary = (await store.list({ limit: 1 })).runs[0]!;
    expect(summary).not.toHaveProperty('endpoints');
    expect(summary).not.toHaveProperty('config');
  });

  it('the run document of a run that stopped before its setup: what the history has, null where nothing is known', async () => {
    const id = await store.createRun({ name: 'early', preset: null, config: { name: 'the recipe', seed: 3 } });
    await store.setStatus(id, 'crashed', { error: 'the job process stopped' });
    const doc = runDocument(await store.get(id));
    expect(doc).toMatchObject({ name: 'the recipe', modelab: null, backend: null, device: null, tfjsVersion: null, architecture: null, dataset: null, endpoints: [], paths: [], timings: {} });
    expect(doc.finishedAt).not.toBeNull();
    expect(doc).not.toHaveProperty('stability');
    expect(runSummary(doc).split('\n').slice(0, 3)).toEqual(['ModeLab run "the recipe": architecture not recorded', 'dataset not recorded', 'backend ?: ? (tfjs ?); total --:--']);
  });

  it('finish records what only the end knows; what the events recorded is not written again', async () => {
    const config = { name: 'events', seed: 1 };
    const [a, b, p] = [endpointResult('A', 1), endpointResult('B', 2), pathResult('linear')];
    const doc = syntheticResult(config, null, [a, b], [p]);
    const id = await store.createRun({ name: 'events', preset: null, config });
    await store.markStarted(id, process.pid);
    await store.saveEnvironment(id, environmentOf(doc));
    await store.saveEndpoint(id, 0, a);
    await store.saveEndpoint(id, 1, b);
    await store.savePath(id, 0, p);
    await store.saveStability(id, { sweep: { masks: 1, points: [] } });

    // A document that disagrees with what was recorded (it never does in a job): the recorded stages stay.
    const other = { ...doc, backend: 'wasm' as const, endpoints: [{ ...a, train: { loss: 99, acc: 0 } }, b], stability: { sweep: { masks: 7, points: [] } } };
    await store.finish(id, { ...other, finishedAt: '2026-01-02T03:04:05.000Z', timings: { total: 5 } });
    const d = await store.get(id);
    expect(d).toMatchObject({ status: 'finished', finishedAt: '2026-01-02T03:04:05.000Z', startedAt: doc.startedAt, timings: { total: 5 }, pid: null, heartbeatAt: null, error: null });
    expect(d.endpoints[0]!.train.loss).toBe(a.train.loss);
    expect(d.stability).toEqual({ sweep: { masks: 1, points: [] } });
    expect(d.environment?.backend).toBe('cpu');
  });

  it('finish refuses a document with a stage the history never received, and the run stays running', async () => {
    const config = { name: 'lost', seed: 1 };
    const [a, b] = [endpointResult('A', 1), endpointResult('B', 2)];
    const id = await store.createRun({ name: 'lost', preset: null, config });
    await store.markStarted(id, process.pid);
    await store.saveEndpoint(id, 0, a);
    await expect(store.finish(id, syntheticResult(config, null, [a, b], [pathResult('linear')]))).rejects.toThrow(/never received its endpoint B, path linear$/);
    expect((await store.summary(id)).status).toBe('running');
  });

  it('status changes only from the expected statuses', async () => {
    const id = await store.createRun({ name: 'q', preset: null, config: { name: 'q' } });
    expect((await store.summary(id)).status).toBe('queued');
    expect(await store.setStatus(id, 'cancelled')).toBe(true);
    expect(await store.setStatus(id, 'crashed')).toBe(false);
    expect((await store.summary(id)).status).toBe('cancelled');
  });
});

describe('artifacts', () => {
  it('are content-addressed files: shared by runs, removed with their last reference', async () => {
    // Runs 1 and 2 have identical endpoint A weights (same seed), different B.
    const r1 = await syntheticRun(store, { seeds: [7, 8] });
    const r2 = await syntheticRun(store, { seeds: [7, 9] });
    const a1 = (await store.get(r1)).artifacts;
    const a2 = (await store.get(r2)).artifacts;
    const shared = a1.find((a) => a.role === 'endpoint:A')!.hash;
    expect(a2.find((a) => a.role === 'endpoint:A')!.hash).toBe(shared);
    const own1 = a1.filter((a) => a.hash !== shared).map((a) => a.hash);
    const files = (): string[] => store.artifacts.listStored().sort();
    expect(files()).toHaveLength(5); // A shared, B×2, path×2

    const d1 = await store.delete([r1]);
    expect(d1).toEqual({ runs: 1, artifactsRemoved: 2 });
    expect(store.artifacts.has(shared)).toBe(true);
    for (const h of own1) expect(store.artifacts.has(h)).toBe(false);
    expect(files()).toHaveLength(3);
    // Rows follow files.
    expect((await store.db.get<{ n: number }>('SELECT count(*) AS n FROM artifacts'))!.n).toBe(3);

    const d2 = await store.delete([r2]);
    expect(d2).toEqual({ runs: 1, artifactsRemoved: 3 });
    expect(files()).toEqual([]);
    expect((await store.db.get<{ n: number }>('SELECT count(*) AS n FROM artifacts'))!.n).toBe(0);
    // Cascades removed every row of the runs.
    for (const t of ['endpoints', 'curve_points', 'paths', 'path_points', 'artifact_refs', 'run_tags']) {
      expect((await store.db.get<{ n: number }>(`SELECT count(*) AS n FROM ${t}`))!.n, t).toBe(0);
    }
    expect(existsSync(store.artifacts.dir)).toBe(true);
  });

  it('a staged file is placed once: the same content staged twice leaves one file and no staging leftovers', async () => {
    const id = await store.createRun({ name: 'x', preset: null, config: { name: 'x' } });
    await store.saveEvalData(id, store.artifacts.stage(weights(3)));
    await store.saveEvalData(id, store.artifacts.stage(weights(3)));
    expect(store.artifacts.listStored()).toHaveLength(1);
    expect(readdirSync(store.artifacts.tmpDir)).toEqual([]);
    // Replacing a reference drops the old file when nothing else uses it.
    await store.saveEvalData(id, store.artifacts.stage(weights(4)));
    expect(store.artifacts.listStored()).toHaveLength(1);
  });

  it('gc removes unreferenced rows and stale staged files, and (on request) files no row knows', async () => {
    await syntheticRun(store);
    await store.db.run("INSERT INTO artifacts (hash, size, created_at) VALUES (?, 1, 'x')", ['d'.repeat(64)]);
    mkdirSync(store.artifacts.tmpDir, { recursive: true });
    writeFileSync(path.join(store.artifacts.tmpDir, 'left.tmp'), 'x');
    const stray = store.artifacts.pathOf('e'.repeat(64));
    mkdirSync(path.dirname(stray), { recursive: true });
    writeFileSync(stray, 'x');
    expect(await store.gc({ stagedOlderThanMs: -1, scanFiles: true })).toEqual({ orphans: 1, staged: 1, files: 1 });
    expect(existsSync(stray)).toBe(false);
    expect(store.artifacts.listStored()).toHaveLength(3); // the run's own files stay
  });
});

describe('crash detection', () => {
  it('marks running runs with a stale heartbeat and a dead process crashed, and nothing else', async () => {
    const now = Date.now();
    const mk = async (name: string, beatAgo: number, pid: number | null, host?: string): Promise<string> => {
      const id = await store.createRun({ name, preset: null, config: { name } });
      await store.markStarted(id, pid, host);
      await store.db.run('UPDATE runs SET heartbeat_at = ? WHERE id = ?', [now - beatAgo, id]);
      return id;
    };
    const dead = await mk('dead', 60_000, 999_999_999);
    const fresh = await mk('fresh beat', 1000, 999_999_999);
    const alive = await mk('alive pid', 60_000, process.pid);
    const elsewhere = await mk('other host, recent', 60_000, 1, 'some-other-host');
    const lost = await mk('other host, an hour old', 7_200_000, 1, 'some-other-host');
    await store.appendCurve(dead, 'A', [{ step: 1, epoch: 0.1, lr: 0.1, loss: 1, acc: 0.5 }]);
    const marked = await store.detectCrashed({ now, staleMs: 6000 });
    expect(marked.sort()).toEqual([dead, lost].sort());
    const d = await store.get(dead);
    expect(d.status).toBe('crashed');
    expect(d.error).toMatch(/pid 999999999.*stopped without finishing/);
    expect(d.curves['A']).toHaveLength(1);
    for (const id of [fresh, alive, elsewhere]) expect((await store.summary(id)).status).toBe('running');
  });
});
