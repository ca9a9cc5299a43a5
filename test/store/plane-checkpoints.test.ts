/**
 * Schema version 4 in the store: the loss plane of a run document, and the latest training checkpoint of each endpoint
 * (an artifact replaced as training advances, reference-counted like every other file) — through get, the run
 * document, deletion, the JSON export and bundles (export → delete → import → export gives identical files).
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkpointFileName, checkpointSafetensors, readCheckpointInfo } from '../../src-main/engine/experiment/export';
import { decodeSafetensors, encodeSafetensors } from '../../src-main/engine/io/safetensors';
import type { HostParams } from '../../src-main/engine/nn/params';
import type { PlaneResult } from '../../src-main/engine/experiment/result';
import { exportBundles, importBundles, storedDocument } from '../../src-main/store/bundle';
import { writeManifest } from '../../src-main/store/bundle-manifest';
import type { HistoryStore } from '../../src-main/store/history';
import { runDocument } from '../../src-main/store/run-document';
import { writeJson } from '../../src-main/store/tables';
import { endpointResult, syntheticRun, tempStore } from './helpers';

let store: HistoryStore;
let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ store, dir, cleanup } = await tempStore());
});
afterEach(async () => cleanup());

/** A small but complete plane document (3×2 grid), with a null where a loss was not finite. */
function plane(seed = 1): PlaneResult {
  const m = (v: number) => ({ loss: v, acc: 0.9 });
  const surface = (k: number) => ({ loss: [[0.1 * k, 0.2, 0.3], [0.4, null as unknown as number, 0.6 + seed]], acc: [[0.9, 0.8, 0.7], [0.6, 0.5, 0.4]] });
  return {
    points: [
      { role: 'origin', label: 'θ_A', x: 0, y: 0, train: m(0.1), test: m(0.12) },
      { role: 'axis', label: 'θ_B', x: 3, y: 0, train: m(0.11), test: m(0.13) },
      { role: 'third', label: 'π(θ_B) (aligned-linear, vertex 1)', x: 1, y: 2, train: m(0.11), test: m(0.13) },
    ],
    third: { path: 'aligned-linear', vertex: 1 },
    basis: { lengthAB: 3, thirdAlong: 1, thirdAcross: 2 },
    grid: { size: 3, margin: 0.2, xs: [-0.6, 1.5, 3.6], ys: [-0.4, 2.4] },
    train: surface(1),
    test: surface(2),
    paths: [{ name: 'linear', t: [0, 0.5, 1], x: [0, 1.5, 3], y: [0, 0, 0], offPlane: [0, 0, 0] }],
    samples: { train: 100, test: 100 },
    batchNorm: 'none',
    cost: { points: 9, fullPassEquivalents: 9, factored: true },
    seconds: 0.25,
  };
}

const params = (seed: number): HostParams => ({
  'A1.w': { shape: [3, 4], data: Float32Array.from({ length: 12 }, (_, k) => Math.cos(seed * 10 + k)) },
  'A1.b': { shape: [4], data: Float32Array.from({ length: 4 }, (_, k) => seed + k) },
});

const checkpoint = (endpoint: string, epoch: number, step: number, seed = epoch) =>
  store.saveCheckpoint(id0(), { endpoint, epoch, step }, store.artifacts.stage(checkpointSafetensors({ endpoint, epoch, step }, params(seed))));

let current = '';
const id0 = (): string => current;

/** Files in the artifact folder (hashes). */
const stored = (): string[] => store.artifacts.listStored().sort();

describe('the loss plane', () => {
  it('is saved as soon as it is computed, returned by get and in the run document (before timings)', async () => {
    const id = await syntheticRun(store);
    expect((await store.get(id)).plane).toBeNull();
    expect(runDocument(await store.get(id))).not.toHaveProperty('plane');

    await store.savePlane(id, plane());
    const d = await store.get(id);
    // JSON has no NaN: a non-finite value is null, as in the run document.
    expect(d.plane).toEqual(JSON.parse(JSON.stringify(plane())));
    const doc = runDocument(d);
    expect(doc.plane).toEqual(d.plane);
    const keys = Object.keys(doc);
    expect(keys.slice(keys.indexOf('paths'))).toEqual(['paths', 'plane', 'timings']);
  });

  it('goes with its run on delete, and is in the JSON export', async () => {
    const id = await syntheticRun(store);
    await store.savePlane(id, plane());
    let text = '';
    const out = new Writable({
      write(chunk: Buffer, _enc, cb) {
        text += chunk.toString();
        cb();
      },
    });
    await writeJson(store, [id], out);
    const j = JSON.parse(text) as { runs: { run: { plane: PlaneResult } }[] };
    expect(j.runs[0]!.run.plane).toEqual((await store.get(id)).plane);
    await store.delete([id]);
    expect((await store.db.get<{ n: number }>('SELECT count(*) AS n FROM run_planes'))!.n).toBe(0);
  });
});

describe('checkpoints', () => {
  it('files: the endpoint tensor names without prefix, metadata with endpoint, epoch and step', () => {
    const buf = checkpointSafetensors({ endpoint: 'A', epoch: 2, step: 24 }, params(1));
    const { tensors, metadata } = decodeSafetensors(buf);
    expect(Object.keys(tensors)).toEqual(['A1.w', 'A1.b']);
    expect(metadata).toMatchObject({ format: 'modelab-checkpoint', endpoint: 'A', epoch: '2', step: '24' });
    expect(JSON.parse(metadata['layout']!)).toHaveProperty('dense');
    expect(readCheckpointInfo(buf)).toEqual({ endpoint: 'A', epoch: 2, step: 24 });
    expect(readCheckpointInfo(encodeSafetensors(params(1)))).toBeNull();
    expect(checkpointFileName('A', 3)).toBe('A-epoch3.safetensors');
    expect(checkpointFileName('net-1', 0.5)).toBe('net-1-epoch0.5.safetensors');
    expect(checkpointFileName('A', 2 / 3)).toBe('A-epoch0.6667.safetensors');
  });

  it('the latest of each endpoint is kept: a new one replaces the last, whose file goes when nothing else uses it', async () => {
    current = await store.createRun({ name: 'training', preset: null, config: {} });
    await store.markStarted(current, process.pid);
    await checkpoint('A', 1, 10);
    const first = (await store.get(current)).artifacts.find((a) => a.role === 'checkpoint:A')!.hash;
    await checkpoint('A', 2, 20);
    await checkpoint('B', 1, 10);
    const d = await store.get(current);
    expect(d.checkpoints).toEqual([
      { endpoint: 'A', epoch: 2, step: 20 },
      { endpoint: 'B', epoch: 1, step: 10 },
    ]);
    expect(d.artifacts.map((a) => a.role)).toEqual(['checkpoint:A', 'checkpoint:B']);
    expect(store.artifacts.has(first)).toBe(false);
    const a = d.artifacts.find((x) => x.role === 'checkpoint:A')!;
    expect(readCheckpointInfo(store.artifacts.read(a.hash))).toEqual({ endpoint: 'A', epoch: 2, step: 20 });
    expect(readdirSync(store.artifacts.tmpDir)).toEqual([]);

    // Kept whatever the run's end: a crash keeps the last weights.
    await store.setStatus(current, 'crashed', { error: 'killed' });
    expect((await store.get(current)).checkpoints).toHaveLength(2);
  });

  it('a file shared by two runs stays until its last reference goes', async () => {
    const one = await store.createRun({ name: 'one', preset: null, config: {} });
    const two = await store.createRun({ name: 'two', preset: null, config: {} });
    current = one;
    await checkpoint('A', 1, 10, 7);
    current = two;
    await checkpoint('A', 1, 10, 7); // the same seed: the same bytes
    expect(stored()).toHaveLength(1);
    const shared = stored()[0]!;
    current = one;
    await checkpoint('A', 2, 20, 8); // one moves on: the shared file stays for two
    expect(store.artifacts.has(shared)).toBe(true);
    expect(stored()).toHaveLength(2);
    await store.delete([two]);
    expect(store.artifacts.has(shared)).toBe(false);
    expect(stored()).toHaveLength(1);
    await store.delete([one]);
    expect(stored()).toEqual([]);
    expect((await store.db.get<{ n: number }>('SELECT count(*) AS n FROM checkpoints'))!.n).toBe(0);
    expect((await store.db.get<{ n: number }>('SELECT count(*) AS n FROM artifacts'))!.n).toBe(0);
  });
});

describe('bundles', () => {
  it('carry the plane and the checkpoints: export → delete → import → export gives identical files', async () => {
    const id = await syntheticRun(store, { name: 'with plane' });
    current = id;
    await store.savePlane(id, plane());
    await checkpoint('A', 1, 10);
    await checkpoint('A', 2, 20);
    await checkpoint('B', 2, 20);
    const before = await store.get(id);

    const b1 = path.join(dir, 'b1');
    await exportBundles(store, [id], b1);
    expect(readdirSync(path.join(b1, 'checkpoints')).sort()).toEqual(['A-epoch2.safetensors', 'B-epoch2.safetensors']);
    const runJson = JSON.parse(readFileSync(path.join(b1, 'run.json'), 'utf8')) as { plane: PlaneResult; runId: string };
    expect(runJson.plane).toEqual(before.plane);
    expect(readFileSync(path.join(b1, 'checkpoints', 'A-epoch2.safetensors')).equals(store.artifacts.read(before.artifacts.find((a) => a.role === 'checkpoint:A')!.hash))).toBe(true);

    await store.delete([id]);
    expect(stored()).toEqual([]);
    expect((await importBundles(store, b1)).ids).toEqual([id]);
    const after = await store.get(id);
    // (syntheticRun's endpoint and path files lack ModeLab's metadata: the first export writes them anew. Checkpoint
    // files travel as they are.)
    const strip = (d: typeof before) => ({ ...d, artifacts: d.artifacts.filter((x) => x.role.startsWith('checkpoint:')) });
    expect(strip(after)).toEqual(strip(before));
    expect(JSON.stringify(storedDocument(after))).toBe(JSON.stringify(storedDocument(before)));

    const b2 = path.join(dir, 'b2');
    await exportBundles(store, [id], b2);
    for (const f of ['run.json', 'history.json', 'endpoints.safetensors', 'paths/linear.safetensors', 'checkpoints/A-epoch2.safetensors', 'checkpoints/B-epoch2.safetensors']) {
      expect(readFileSync(path.join(b2, f)).equals(readFileSync(path.join(b1, f))), f).toBe(true);
    }

    // A zip, imported as a copy (the id is taken): the same plane and checkpoints, sharing the files.
    const zip = path.join(dir, 'b.zip');
    await exportBundles(store, [id], zip);
    const [copy] = (await importBundles(store, zip, { existing: 'copy' })).ids;
    expect(copy).not.toBe(id);
    const c = await store.get(copy!);
    expect({ ...c, id, name: after.name }).toEqual(after);
    expect(c.name).toBe(`${after.name} (copy)`);
  });

  it('a crashed run with checkpoints but no finished endpoint keeps them through a bundle', async () => {
    current = await store.createRun({ name: 'crashed', preset: null, config: { name: 'crashed' } });
    await store.markStarted(current, process.pid);
    await store.appendCurve(current, 'A', [{ step: 10, epoch: 1, lr: 0.1, loss: 1, acc: 0.5 }]);
    await checkpoint('A', 1, 10);
    await store.setStatus(current, 'crashed', { error: 'killed' });
    const before = await store.get(current);
    const b = path.join(dir, 'crashed');
    await exportBundles(store, [current], b);
    expect(readdirSync(path.join(b, 'checkpoints'))).toEqual(['A-epoch1.safetensors']);
    await store.delete([current]);
    await importBundles(store, b);
    expect(await store.get(current)).toEqual(before);
  });

  it('import takes the latest checkpoint of each endpoint (a `run --out` folder holds them all) and refuses foreign files', async () => {
    const id = await syntheticRun(store);
    const b = path.join(dir, 'out');
    await exportBundles(store, [id], b);
    await store.delete([id]);
    mkdirSync(path.join(b, 'checkpoints'));
    for (const e of [1, 2, 3]) {
      for (const ep of ['A', 'B']) {
        writeFileSync(path.join(b, 'checkpoints', checkpointFileName(ep, e)), checkpointSafetensors({ endpoint: ep, epoch: e, step: e * 10 }, params(e)));
      }
    }
    // As `run --out DIR` does: the checkpoints are written first, the bundle (and its manifest) over them at the end.
    writeManifest(b);
    const [got] = (await importBundles(store, b)).ids;
    const d = await store.get(got!);
    expect(d.checkpoints).toEqual([
      { endpoint: 'A', epoch: 3, step: 30 },
      { endpoint: 'B', epoch: 3, step: 30 },
    ]);
    const a = d.artifacts.find((x) => x.role === 'checkpoint:A')!;
    expect(store.artifacts.read(a.hash).equals(readFileSync(path.join(b, 'checkpoints', 'A-epoch3.safetensors')))).toBe(true);
    await store.delete([got!]);

    // Weights without checkpoint metadata, or naming an endpoint that could not be a file name: refused, nothing kept.
    writeFileSync(path.join(b, 'checkpoints', 'C-epoch1.safetensors'), encodeSafetensors(params(1)));
    writeManifest(b);
    await expect(importBundles(store, b)).rejects.toThrow(/C-epoch1\.safetensors is not a ModeLab checkpoint/);
    writeFileSync(path.join(b, 'checkpoints', 'C-epoch1.safetensors'), checkpointSafetensors({ endpoint: '../../evil', epoch: 1, step: 1 }, params(1)));
    writeManifest(b);
    await expect(importBundles(store, b)).rejects.toThrow(/'\.\.\/\.\.\/evil' is not an endpoint name/);
    expect((await store.list()).total).toBe(0);
  });
});

describe('an endpoint result next to its checkpoint', () => {
  it('saving the endpoint leaves the checkpoint (both kept)', async () => {
    current = await store.createRun({ name: 'both', preset: null, config: {} });
    await checkpoint('A', 1, 10);
    await store.saveEndpoint(current, 0, endpointResult('A', 1), store.artifacts.stage(encodeSafetensors({ 'A.A1.w': params(9)['A1.w']! })));
    const d = await store.get(current);
    expect(d.artifacts.map((a) => a.role)).toEqual(['checkpoint:A', 'endpoint:A']);
    expect(d.checkpoints).toEqual([{ endpoint: 'A', epoch: 1, step: 10 }]);
  });
});
