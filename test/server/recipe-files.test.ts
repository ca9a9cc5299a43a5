/**
 * `modelab serve` reads only the folders it was given (engine/recipe/files.ts FileRoots: --files, the weights folder,
 * $MODELAB_HOME/datasets): a browser's recipe naming any other file — an idx file at /etc/passwd, an npy folder
 * outside, a link inside pointing out, weights outside — is refused in one line by startRun, estimateRun and
 * validateRecipe, and no run is stored; a study's cells likewise; an npy folder inside runs.
 */
import { mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModeLabApi } from '../../src-main/api/contract';
import { createApi } from '../../src-main/api/handlers';
import { FileRoots } from '../../src-main/engine/recipe/files';
import { type RunningServer, startServer } from '../../src-main/server/server';
import { HistoryStore } from '../../src-main/store/history';
import { imageSet, writeNpyFolder } from '../engine/npy-files';
import { tempDir } from '../store/helpers';
import { Rpc, bearer, wsOpen } from './helpers';

const STATIC = path.resolve(import.meta.dirname, '../../out/renderer');

let t: ReturnType<typeof tempDir>;
let store: HistoryStore;
let api: ModeLabApi;
let local: RunningServer;
let rpc: Rpc;
let allowed: string;
let outside: string;

/** A small npy data set: 4×4 grey images, 4 classes. */
function npyFolder(dir: string): string {
  const hwc: [number, number, number] = [4, 4, 1];
  const train = imageSet(60, hwc, 1);
  const test = imageSet(20, hwc, 2);
  return writeNpyFolder(dir, {
    xTrain: { descr: '|u1', shape: [60, 4, 4], data: train.x },
    yTrain: { descr: '<i8', shape: [60], data: train.y },
    xTest: { descr: '|u1', shape: [20, 4, 4], data: test.x },
    yTest: { descr: '<i8', shape: [20], data: test.y },
  });
}

const recipe = (dataset: Record<string, unknown>, endpoints: unknown[] = [{ name: 'A' }, { name: 'B' }]): Record<string, unknown> => ({
  name: 'files',
  dataset,
  architecture: { type: 'mlp', hidden: [8] },
  training: { optimizer: 'sgd', lr: 0.05, batchSize: 20, steps: 3 },
  endpoints,
  paths: [{ type: 'linear', points: 3 }],
  evaluation: { trainSamples: null, testSamples: null },
});

beforeAll(async () => {
  t = tempDir('modelab-serve-files-');
  const weightsRoot = path.join(t.dir, 'weights');
  allowed = path.join(t.dir, 'allowed');
  outside = path.join(t.dir, 'outside');
  mkdirSync(weightsRoot, { recursive: true });
  npyFolder(path.join(allowed, 'npy'));
  npyFolder(outside);
  symlinkSync(outside, path.join(allowed, 'link-out'));
  store = await HistoryStore.open({ db: path.join(t.dir, 'history.sqlite') });
  const files = { base: weightsRoot, roots: new FileRoots([weightsRoot, allowed, path.join(process.env['MODELAB_HOME']!, 'datasets')]) };
  api = createApi({ store, files, runnerOptions: { heartbeatMs: 250 } });
  local = await startServer({ api, store, staticDir: STATIC, port: 0, weightsRoot, files, eventIntervalMs: 50 });
  rpc = new Rpc(await wsOpen(`ws://127.0.0.1:${local.port}/ws`, { ...bearer(local), Origin: `http://127.0.0.1:${local.port}` }));
});
afterAll(async () => {
  rpc?.ws.close();
  await local?.close();
  await api.close();
  t.cleanup();
});

describe('a server reads only its folders', () => {
  const refused: [string, () => Record<string, unknown>, string, RegExp][] = [
    ['an idx file at /etc/passwd', () => recipe({ name: 'idx', trainImages: '/etc/passwd', trainLabels: '/etc/passwd', testImages: '/etc/passwd', testLabels: '/etc/passwd' }), 'dataset.trainImages', /\/etc\/passwd is outside/],
    ['an npy folder outside', () => recipe({ name: 'npy', dir: outside }), 'dataset.dir', /outside is outside/],
    ['a link inside pointing out', () => recipe({ name: 'npy', dir: path.join(allowed, 'link-out') }), 'dataset.dir', /link-out is outside/],
    ['weights outside', () => recipe({ name: 'npy', dir: path.join(allowed, 'npy') }, [{ name: 'A', weights: '../outside/a.safetensors' }, { name: 'B' }]), 'endpoints.0.weights', /a\.safetensors is outside/],
  ];

  it.each(refused)('%s: refused in one line by startRun, estimateRun and validateRecipe; nothing stored', async (_what, doc, field, re) => {
    const line = new RegExp(`^recipe: ${field.replaceAll('.', '\\.')}: .*${re.source}.*the folders this server reads .*; \`modelab serve --files DIR\` allows another$`);
    for (const op of ['startRun', 'estimateRun']) {
      const r = await rpc.call(op, { recipe: doc() });
      expect(r, op).toMatchObject({ ok: false, error: { name: 'InputError', message: expect.stringMatching(line) } });
      expect(r.error!.message).not.toContain('\n');
    }
    const v = await rpc.call('validateRecipe', doc());
    expect(v).toMatchObject({ ok: true, value: { ok: false, issues: [{ path: field.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k)), message: expect.stringMatching(re) }] } });
    expect(((await rpc.call('listRuns', {})) as { value: { total: number } }).value.total).toBe(0);
  });

  it("a request's CIFAR-10 folder outside is refused, and the app's folder check says so", async () => {
    const r = await rpc.call('startRun', { recipe: recipe({ name: 'cifar10' }), dataDir: outside });
    expect(r).toMatchObject({ ok: false, error: { message: expect.stringMatching(/^dataDir: .*outside is outside the folders this server reads/) } });
    expect(await rpc.call('inspectDataDir', outside)).toMatchObject({ ok: true, value: { ok: false, message: expect.stringMatching(/outside is outside the folders/) } });
    expect(((await rpc.call('listRuns', {})) as { value: { total: number } }).value.total).toBe(0);
  });

  it("a study whose cells name a folder outside is refused before it is stored", async () => {
    const study = { base: { config: recipe({ name: 'npy', dir: path.join(allowed, 'npy') }) }, axes: [{ field: 'dataset.dir', values: [path.join(allowed, 'npy'), outside] }] };
    await expect(api.estimateStudy({ study })).rejects.toThrow(/^study cell 1 \(dataset\.dir=".*"\): recipe: dataset\.dir: .*outside is outside the folders/);
    await expect(api.startStudy({ study })).rejects.toThrow(/outside is outside the folders/);
    const relative = { base: { config: recipe({ name: 'npy', dir: 'npy' }) } };
    await expect(api.startStudy({ study: relative })).rejects.toThrow(/^study cell 0: dataset\.dir: npy: a study started on a server names its files by absolute path$/);
    expect(await api.listStudies()).toEqual([]);
  });

  it('an npy folder inside runs', async () => {
    const started = await rpc.call('startRun', { recipe: recipe({ name: 'npy', dir: path.join(allowed, 'npy') }), backend: 'cpu' });
    expect(started.ok).toBe(true);
    const id = (started.value as { id: string }).id;
    await rpc.finished(id);
    const run = await rpc.call('getRun', id);
    expect(run).toMatchObject({ ok: true, value: { status: 'finished', config: { dataset: { name: 'npy', dir: path.join(allowed, 'npy') } } } });
  });
});
