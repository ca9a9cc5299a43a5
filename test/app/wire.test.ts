/** The wire contract: schemas, dispatch, the app's additions to the api, and event throttling. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ApiEvent, ModeLabApi } from '../../src-main/api/contract';
import { throttleEvents } from '../../src-main/api/events';
import { createApi } from '../../src-main/api/handlers';
import { contentSecurityPolicy, isAllowedExternalUrl } from '../../src-main/api/policy';
import { WIRE_SCHEMAS, checkArgs, createWireApi, dispatch, inspectCifarDir } from '../../src-main/api/wire';
import { WIRE_OPS, type WireApi } from '../../src-main/api/wire-types';
import { checkDatasetFiles } from '../../src-main/engine/data/load';
import type { DatasetConfig } from '../../src-main/engine/data/config';
import { HistoryStore } from '../../src-main/store/history';
import { tempDir } from '../store/helpers';
import { tinyRecipe } from '../jobs/recipes';
import { KNOWN_BACKEND_NAMES, defaultBackendText } from '../../src-main/engine/backend/names';
import { defaultBackend } from '../../src-main/engine/backend/backends';

let t: ReturnType<typeof tempDir>;
let store: HistoryStore;
let api: ModeLabApi;
let wire: WireApi;
let runId = '';

beforeAll(async () => {
  t = tempDir('modelab-wire-');
  store = await HistoryStore.open({ db: path.join(t.dir, 'history.sqlite') });
  api = createApi({ store, runnerOptions: { heartbeatMs: 250 } });
  wire = createWireApi({ api, store, mode: 'server' });
  runId = (await api.startRun({ recipe: tinyRecipe('wire'), tags: ['paper', 'wire'], backend: 'wasm' })).id;
  await api.waitForRun(runId);
});
afterAll(async () => {
  await api.close();
  t.cleanup();
});

describe('wire contract', () => {
  it('has a schema for every operation, and the implementation has every operation', () => {
    expect(Object.keys(WIRE_SCHEMAS).sort()).toEqual([...WIRE_OPS].sort());
    for (const op of WIRE_OPS) expect(typeof wire[op], op).toBe('function');
  });

  it('dispatch validates, runs and wraps; never throws', async () => {
    expect(await dispatch(wire, 'listRuns', [{ limit: 1 }])).toMatchObject({ ok: true, value: { total: 1, limit: 1 } });
    expect(await dispatch(wire, 'listRuns', [])).toMatchObject({ ok: true });
    expect(await dispatch(wire, 'nope', [])).toMatchObject({ ok: false, error: { name: 'ArgumentError', message: "unknown operation 'nope'" } });
    expect(await dispatch(wire, 'toString', [])).toMatchObject({ ok: false, error: { name: 'ArgumentError' } });
    expect(await dispatch(wire, 'listRuns', 'not an array')).toMatchObject({ ok: false, error: { name: 'ArgumentError' } });
    expect(await dispatch(wire, 'renameRun', [runId])).toMatchObject({ ok: false, error: { name: 'ArgumentError', message: /renameRun: 1/ } });
    expect(await dispatch(wire, 'startRun', [{ preset: 'nope' }])).toMatchObject({ ok: false, error: { name: 'InputError', message: /unknown preset 'nope'/ } });
    expect(checkArgs('startRun', [{ recipe: { a: 'x'.repeat(1_100_000) } }])).toMatchObject({ ok: false });
  });

  it('a refused start names the recipe field as data, which the form marks; nothing is stored', async () => {
    const before = (await wire.listRuns()).total;
    const bad = { ...tinyRecipe('bad-end'), paths: [{ type: 'linear', from: 'A', to: 'Z' }] };
    const r = await dispatch(wire, 'startRun', [{ recipe: bad }]);
    expect(r).toMatchObject({ ok: false, error: { name: 'InputError', message: /^recipe: paths\.0\.to: no endpoint named 'Z'/, at: { field: ['paths', 0, 'to'], reason: expect.stringMatching(/^no endpoint named 'Z'/) } } });
    expect((await dispatch(wire, 'startRun', [{ preset: 'nope' }])) as unknown).not.toHaveProperty('error.at');
    expect((await wire.listRuns()).total).toBe(before);
  });

  it('lists runs with what the history table shows: architecture, duration, each path with its barrier and check', async () => {
    const r = await wire.listRunRows({ tags: ['paper'] });
    expect(r.total).toBe(1);
    const row = r.runs[0]!;
    expect(row.architecture).toMatch(/^MLP 8-16-16-3/);
    expect(row.durationSec).toBeGreaterThan(0);
    expect(row.paths.map((p) => p.name)).toEqual(['linear', 'theorem1']);
    const d = await api.getRun(runId);
    expect(row.paths[0]!.trainBarrier).toBeCloseTo(d.paths[0]!.barrier.train.lossOverInterpolation.value, 6);
    expect(row.paths[1]!.state).toBe(d.paths[1]!.check.state);
    expect(await wire.listTags()).toEqual([
      { tag: 'paper', runs: 1 },
      { tag: 'wire', runs: 1 },
    ]);
  });

  it('exports path points as tidy CSV and JSON text', async () => {
    const csv = await wire.exportText([runId], 'csv');
    const lines = csv.trim().split('\n');
    expect(lines[0]).toBe('run,path,t,split,loss,acc');
    const d = await api.getRun(runId);
    expect(lines).toHaveLength(1 + 2 * d.paths.reduce((s, p) => s + p.points.length, 0));
    const json = JSON.parse(await wire.exportText([runId], 'json')) as { format: string; runs: { run: { runId: string } }[] };
    expect(json.format).toBe('modelab.history-export/1');
    expect(json.runs[0]!.run.runId).toBe(runId);
  });

  it('validates recipes with the engine schema: issues with their paths, defaults filled in when valid', async () => {
    const preset = (await wire.presetRecipe('smoke')) as Record<string, unknown>;
    const ok = await wire.validateRecipe(preset);
    expect(ok.ok).toBe(true);
    expect(ok.summary).toContain('paths: linear, theorem1');
    const bad = await wire.validateRecipe({ ...preset, training: { ...(preset['training'] as object), lr: -1, epochs: 'many' } });
    expect(bad.ok).toBe(false);
    expect(bad.issues.map((i) => i.path.join('.'))).toEqual(expect.arrayContaining(['training.lr', 'training.epochs']));
    const dup = await wire.validateRecipe({ ...preset, endpoints: [{ name: 'A' }, { name: 'A' }] });
    expect(dup).toMatchObject({ ok: false, issues: [{ path: ['endpoints'], message: expect.stringMatching(/used twice/) }] });
    // A check beyond the schema reports the field it names as data, down to the key inside a per-endpoint override.
    const override = await wire.validateRecipe({ ...preset, endpoints: [{ name: 'A', training: { lr: -1 } }, { name: 'B' }] });
    expect(override).toMatchObject({ ok: false, issues: [{ path: ['endpoints', 0, 'training', 'lr'] }] });
    expect(override.issues[0]!.message).not.toMatch(/^lr:|endpoints/);
    const twice = await wire.validateRecipe({ ...preset, paths: [{ type: 'linear', name: 'p.q' }, { type: 'linear', name: 'p.q' }] });
    expect(twice).toMatchObject({ ok: false, issues: [{ path: ['paths', 1, 'name'], message: "'p.q' is used twice" }] });
    const filled = await wire.validateRecipe({ name: 'x', dataset: { name: 'spirals' }, architecture: { type: 'mlp', hidden: [8] }, training: { epochs: 1 } });
    expect(filled.ok).toBe(true);
    expect(filled.recipe).toMatchObject({ training: { optimizer: 'sgd', momentum: 0.9 }, endpoints: [{ name: 'A' }, { name: 'B' }] });
  });

  it('lists backends with availability, and the default a run gets as `modelab backends` names it', async () => {
    const { backends: b, default: d } = await wire.backends();
    const want = await defaultBackend();
    expect(d).toEqual({ ...want, text: defaultBackendText(want) });
    expect(b.find((x) => x.name === 'cpu')).toEqual({ name: 'cpu', available: true });
    // Every backend the engine knows, in its order (engine/backend/names.ts): the app's picker shows this list.
    expect(b.map((x) => x.name)).toEqual([...KNOWN_BACKEND_NAMES]);
  });

  it("checks a CIFAR-10 folder by the engine's one rule: whole 3,073-byte records, not full-size batches", () => {
    expect(inspectCifarDir(path.join(t.dir, 'missing'))).toMatchObject({ ok: false, message: /^CIFAR-10 folder not found: / });
    const dir = path.join(t.dir, 'cifar', 'cifar-10-batches-bin');
    mkdirSync(dir, { recursive: true });
    expect(inspectCifarDir(dir)).toMatchObject({ ok: false, message: /^CIFAR-10 batch not found: .*data_batch_1\.bin/ });
    const files = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin'];
    for (const f of files) writeFileSync(path.join(dir, f), '');
    expect(inspectCifarDir(dir)).toMatchObject({ ok: false, message: /data_batch_1\.bin has 0 bytes; a CIFAR-10 binary batch holds whole records of 3,073 bytes/ });
    // The engine's rule, not full-size batches: any whole number of 3,073-byte records (a cut-down copy) is accepted …
    for (const [k, f] of files.entries()) writeFileSync(path.join(dir, f), Buffer.alloc(3073 * (k + 2)));
    expect(inspectCifarDir(path.dirname(dir))).toEqual({ ok: true, message: 'CIFAR-10 binary batches found in cifar-10-batches-bin/: 20 training and 7 test images', files });
    // … and the run the app starts on it reads the same folder (checkDatasetFiles: what `modelab run --data` checks).
    expect(() => checkDatasetFiles({ name: 'cifar10' } as DatasetConfig, { dataDir: dir })).not.toThrow();
    // A batch with a partial record is refused by both.
    writeFileSync(path.join(dir, 'test_batch.bin'), Buffer.alloc(3073 * 2 + 5));
    expect(inspectCifarDir(dir)).toMatchObject({ ok: false, message: /test_batch\.bin has 6151 bytes; a CIFAR-10 binary batch holds whole records/ });
    expect(() => checkDatasetFiles({ name: 'cifar10' } as DatasetConfig, { dataDir: dir })).toThrow(/test_batch\.bin has 6151 bytes/);
    for (const f of files) writeFileSync(path.join(dir, f), Buffer.alloc(30_730_000));
    expect(inspectCifarDir(dir)).toMatchObject({ ok: true, message: 'CIFAR-10 binary batches found: 50,000 training and 10,000 test images' });
  });

  it('has one strict CSP for the app and opens no web pages', () => {
    const csp = contentSecurityPolicy({ websocketHost: '127.0.0.1:7420' });
    expect(csp).toContain("connect-src 'self' ws://127.0.0.1:7420 wss://127.0.0.1:7420");
    expect(contentSecurityPolicy({ websocketHost: 'evil; script-src *' })).toContain("connect-src 'self';");
    expect(isAllowedExternalUrl('https://example.com/')).toBe(false);
    expect(isAllowedExternalUrl('javascript:alert(1)')).toBe(false);
  });
});

describe('event throttling', () => {
  it('coalesces progress per run and stage, passes other events at once and in order', () => {
    vi.useFakeTimers();
    try {
      const out: ApiEvent[] = [];
      const th = throttleEvents((e) => out.push(e), 200);
      const p = (done: number, stage = 'train:A'): ApiEvent => ({ type: 'run', runId: 'r', event: { kind: 'progress', progress: { stage, label: stage, done, total: 100, unit: 'steps', elapsedSec: done } } });
      const seen = (e: ApiEvent): string => (e.type === 'run' ? (e.event.kind === 'progress' ? `${e.event.progress.stage}:${e.event.progress.done}` : e.event.kind) : e.type);
      th.push(p(1));
      for (let k = 2; k <= 50; k++) th.push(p(k));
      th.push(p(1, 'train:B'));
      expect(out.map(seen)).toEqual(['train:A:1', 'train:B:1']);
      // A non-progress event of the run first flushes what is pending for it.
      th.push({ type: 'run', runId: 'r', event: { kind: 'curve', endpoint: 'A', points: [] } });
      expect(out.map(seen)).toEqual(['train:A:1', 'train:B:1', 'train:A:50', 'curve']);
      th.push(p(60));
      vi.advanceTimersByTime(250);
      expect(out.at(-1)).toMatchObject({ event: { progress: { done: 60 } } });
      th.push(p(100)); // the end of a stage always goes out
      expect(out.at(-1)).toMatchObject({ event: { progress: { done: 100 } } });
      th.close();
    } finally {
      vi.useRealTimers();
    }
  });
});
