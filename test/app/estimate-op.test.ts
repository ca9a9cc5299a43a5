/**
 * The api's estimate operations (issue 12 item 4, issue 13's time estimate), through the wire as the app calls them:
 * estimateRun reports memory and time for a preset or a recipe and stores nothing, a recipe that cannot fit comes
 * back with its one-line refusal (and startRun refuses it before storing anything), no bench figures are said to be
 * missing; runQuickBench's job reports, fails and runs once (a fake process stands in for a bench that succeeds: the
 * real one takes minutes).
 */
import { cpSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModeLabApi } from '../../src-main/api/contract';
import { createApi } from '../../src-main/api/handlers';
import { createWireApi, dispatch } from '../../src-main/api/wire';
import type { WireApi } from '../../src-main/api/wire-types';
import { type FromBenchWorker, type ToBenchWorker, runQuickBenchJob } from '../../src-main/jobs/bench-job';
import type { JobProcess, Launcher } from '../../src-main/jobs/process';
import { HistoryStore } from '../../src-main/store/history';
import { tinyRecipe } from '../jobs/recipes';
import { tempDir } from '../store/helpers';

const ROOT = path.resolve(import.meta.dirname, '../..');
let t: ReturnType<typeof tempDir>;
let store: HistoryStore;
let api: ModeLabApi;
let wire: WireApi;
const savedHome = process.env['MODELAB_HOME'];

function useHome(name: string, withBench: boolean): void {
  const h = path.join(t.dir, name);
  mkdirSync(h, { recursive: true });
  if (withBench) cpSync(path.join(ROOT, 'test', 'fixtures', 'bench'), path.join(h, 'bench'), { recursive: true });
  process.env['MODELAB_HOME'] = h;
}

beforeAll(async () => {
  t = tempDir('modelab-estimate-op-');
  store = await HistoryStore.open({ db: path.join(t.dir, 'history.sqlite') });
  api = createApi({ store });
  wire = createWireApi({ api, store, mode: 'server' });
});
afterAll(async () => {
  process.env['MODELAB_HOME'] = savedHome;
  await api.close();
  t.cleanup();
});

describe('estimateRun', () => {
  it('reports memory and time per stage for a preset from the stored bench figures', async () => {
    useHome('with-bench', true);
    // The fixture was measured on wasm: asked for by name (a run's estimate reads only its own backend's figures).
    const r = await dispatch(wire, 'estimateRun', [{ preset: 'mnist-mlp', backend: 'wasm' }]);
    expect(r.ok).toBe(true);
    const e = (r as { value: Awaited<ReturnType<WireApi['estimateRun']>> }).value;
    expect(e.recipe).toBe('mnist-mlp');
    expect(e.resources?.memory.parameters).toBe(669_706);
    expect(e.resources?.refusal).toBeNull();
    expect(e.time?.bench).toMatchObject({ backend: 'wasm', quick: true, startedAt: '2026-11-01T12:00:00.000Z' });
    expect(e.time?.stages.map((s) => s.stage)).toEqual(['train:A', 'train:B', 'eval:endpoints', 'path:linear']);
    expect(e.notes).toEqual([]);
    expect(e.headline).toEqual({ memory: expect.stringMatching(/^about [0-9.]+ GB of this machine's [0-9.]+ GB$/), time: 'about 2 min on wasm' });
    expect((await api.listRuns()).total).toBe(0);
  });

  it('applies the request’s overrides (exact evaluation) like startRun', async () => {
    useHome('with-bench', true);
    const plain = await wire.estimateRun({ preset: 'mnist-mlp' });
    const exact = await wire.estimateRun({ preset: 'mnist-mlp', exact: true });
    expect(plain.resources?.evaluationSamples).toBe(20_000);
    expect(exact.resources?.evaluationSamples).toBe(70_000);
  });

  it('returns the refusal of a recipe that cannot fit, which startRun refuses before storing it', async () => {
    useHome('with-bench', true);
    const huge = { ...tinyRecipe('huge'), architecture: { type: 'mlp', hidden: [1e9] } };
    const e = await wire.estimateRun({ recipe: huge });
    expect(e.resources?.refusal).toMatch(/^this recipe needs about [0-9.]+ TB of memory .*; this machine has [0-9.]+ GB$/);
    const started = await dispatch(wire, 'startRun', [{ recipe: huge }]);
    expect(started).toEqual({ ok: false, error: { name: 'InputError', message: e.resources!.refusal } });
    expect((await api.listRuns()).total).toBe(0);
  });

  it('says when there are no timing figures yet, and checks its arguments', async () => {
    useHome('no-bench', false);
    const e = await wire.estimateRun({ preset: 'smoke' });
    expect(e.time).toBeNull();
    expect(e.notes).toEqual([expect.stringMatching(/^no timing figures yet for [a-z-]+, the backend this run gets$/)]);
    expect(e.resources?.memory.parameters).toBeGreaterThan(0);
    expect(await dispatch(wire, 'estimateRun', [{}])).toMatchObject({ ok: false, error: { name: 'ArgumentError' } });
    expect(await dispatch(wire, 'estimateRun', [{ preset: 'nope' }])).toMatchObject({ ok: false, error: { name: 'InputError', message: /unknown preset 'nope'/ } });
    expect(await dispatch(wire, 'runQuickBench', ['wasm'])).toMatchObject({ ok: false, error: { name: 'ArgumentError' } });
  });
});

/** A launcher whose process answers a bench request with `reply` (or exits without one). */
function fakeLauncher(reply: FromBenchWorker | null): { launcher: Launcher; starts: () => number; got: ToBenchWorker[] } {
  let starts = 0;
  const got: ToBenchWorker[] = [];
  const launcher: Launcher = () => {
    starts++;
    let onMessage: (m: unknown) => void = () => undefined;
    let onExit: (code: number | null, signal: string | null) => void = () => undefined;
    const proc: JobProcess = {
      pid: 1,
      send: (m) => {
        got.push(m as ToBenchWorker);
        setTimeout(() => (reply ? onMessage(reply) : onExit(1, null)), 10);
      },
      onMessage: (cb) => (onMessage = cb),
      onExit: (cb) => (onExit = cb),
      kill: () => undefined,
    };
    return proc;
  };
  return { launcher, starts: () => starts, got };
}

describe('runQuickBench job', () => {
  it('starts one bench process however often it is asked while it runs, and reports its result', async () => {
    const f = fakeLauncher({ type: 'done', startedAt: '2026-11-29T04:00:00.000Z', backend: 'wasm' });
    const [a, b] = await Promise.all([runQuickBenchJob({ launcher: f.launcher, backend: 'wasm' }), runQuickBenchJob({ launcher: f.launcher })]);
    expect(a).toEqual({ startedAt: '2026-11-29T04:00:00.000Z', backend: 'wasm' });
    expect(b).toEqual(a);
    expect(f.starts()).toBe(1);
    expect(f.got).toEqual([{ type: 'bench', backend: 'wasm' }]);
  });

  it('reports a failure in one line, and a process that ends without reporting', async () => {
    await expect(runQuickBenchJob({ launcher: fakeLauncher({ type: 'error', message: 'no backend' }).launcher })).rejects.toThrow('the quick benchmark failed: no backend');
    await expect(runQuickBenchJob({ launcher: fakeLauncher(null).launcher })).rejects.toThrow(/ended \(exit code 1\) before reporting/);
  });

  it('runs the real bench process, which reports what stops it (an unknown backend: no bench is run)', async () => {
    await expect(runQuickBenchJob({ backend: 'nope' })).rejects.toThrow(/^the quick benchmark failed: .*nope.*wasm/);
  }, 60_000);
});
