/** Shared test helpers: temporary histories, and runs filled with synthetic results and artifacts. */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EndpointResult, PathResult, RunResult } from '../../src-main/engine/experiment/result';
import { encodeSafetensors } from '../../src-main/engine/io/safetensors';
import { environmentOf } from '../../src-main/store/environment';
import { HistoryStore } from '../../src-main/store/history';
import { Database } from '../../src-main/store/sqlite';

export function tempDir(prefix = 'modelab-store-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function tempStore(): Promise<{ store: HistoryStore; dir: string; cleanup: () => Promise<void> }> {
  const t = tempDir();
  const store = await HistoryStore.open({ db: path.join(t.dir, 'history.sqlite') });
  return {
    store,
    dir: t.dir,
    cleanup: async () => {
      await store.close().catch(() => undefined);
      t.cleanup();
    },
  };
}

export const sha256File = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');

/** Weights as safetensors bytes; the same `seed` gives the same bytes (so artifacts can be shared). */
export function weights(seed: number, name = 'A'): Buffer {
  const data = Float32Array.from({ length: 12 }, (_, k) => Math.sin(seed * 100 + k));
  return encodeSafetensors({ [`${name}.A1.w`]: { shape: [3, 4], data } });
}

export function endpointResult(name: string, seed: number): EndpointResult {
  return {
    name,
    seed,
    train: { loss: 0.1 + seed / 1000, acc: 0.97 },
    test: { loss: 0.12, acc: 0.95 },
    training: { steps: 4, samples: 512, seconds: 0.5, samplesPerSec: 1024, curve: [1, 2, 3, 4].map((s) => ({ step: s, epoch: s / 2, lr: 0.1, loss: 1 / s, acc: 0.5 + s / 10 })) },
  };
}

export function pathResult(name: string): PathResult {
  const points = [0, 0.5, 1].map((t) => ({ t, train: { loss: 0.1 + (t === 0.5 ? 0.3 : 0), acc: 0.97 }, test: { loss: 0.12 + (t === 0.5 ? 0.4 : 0), acc: 0.95 } }));
  const bv = { value: 0.3, t: 0.5 };
  const sb = { lossOverInterpolation: bv, lossOverEndpointMean: bv, errorOverInterpolation: bv, errorOverEndpointMean: bv, maxLoss: bv, maxError: bv };
  return {
    name,
    kind: 'linear',
    from: 'A',
    to: 'B',
    segments: [{ from: 0, to: 1, kind: 'line' }],
    points,
    barrier: { train: sb, test: sb },
    cost: { naive: 3, fullPassEquivalents: 3, distinctFunctions: 3 } as unknown as PathResult['cost'],
    check: { pass: true } as unknown as PathResult['check'],
    construction: { renormalize: 'none' },
  };
}

/** A finished run's document around these results (the recipe a plain object: the store keeps it as given). */
export function syntheticResult(config: { name: string; seed: number }, preset: string | null, endpoints: EndpointResult[], paths: PathResult[]): RunResult {
  return {
    schema: 'modelab.run/1',
    modelab: '0.1.0',
    name: config.name,
    preset,
    startedAt: new Date().toISOString(),
    finishedAt: new Date().toISOString(),
    backend: 'cpu',
    device: 'test',
    tfjsVersion: '4.22.0',
    backendDetails: {},
    config,
    architecture: { spec: { input: [1, 1, 3], layers: [{ type: 'dense', units: 4, bias: true, dropout: 0 }] }, description: 'test', parameters: 16 },
    dataset: { name: 'test', source: 'test', checksum: 'c'.repeat(64), normalization: { kind: 'none' }, inputShape: [1, 1, 3], classes: 4, trainSize: 1, testSize: 1, evalTrainSize: 1, evalTestSize: 1 },
    endpoints,
    paths,
    timings: { total: 1 },
  } as unknown as RunResult;
}

/** A finished run with synthetic results; endpoint weights from `seeds` (equal seeds share artifact files). */
export async function syntheticRun(store: HistoryStore, opts: { name?: string; seeds?: [number, number]; tags?: string[]; preset?: string | null } = {}): Promise<string> {
  const [sa, sb] = opts.seeds ?? [1, 2];
  const config = { name: opts.name ?? 'synthetic', seed: 1 };
  const id = await store.createRun({ name: opts.name ?? 'synthetic', preset: opts.preset ?? 'smoke', config, tags: opts.tags });
  await store.markStarted(id, process.pid);
  const a = endpointResult('A', sa);
  const b = endpointResult('B', sb);
  const p = pathResult('linear');
  const result = syntheticResult(config, opts.preset ?? 'smoke', [a, b], [p]);
  // As a job records it: the environment at setup, each stage as it completes, then the end.
  await store.saveEnvironment(id, environmentOf(result));
  await store.saveEndpoint(id, 0, a, store.artifacts.stage(weights(sa, 'A')));
  await store.saveEndpoint(id, 1, b, store.artifacts.stage(weights(sb, 'B')));
  await store.savePath(id, 0, p, store.artifacts.stage(encodeSafetensors({ 'v0.A1.w': { shape: [1], data: Float32Array.of(sa) }, 'v1.A1.w': { shape: [1], data: Float32Array.of(sb) } })));
  await store.finish(id, result);
  return id;
}

/** A new database from a SQL dump (the schema-version fixtures). */
export async function databaseFromSql(file: string, sql: string): Promise<void> {
  const db = await Database.open(file, { create: true });
  await db.exec(sql);
  await db.close();
}
