/**
 * The resource and time estimate (engine/recipe/estimate.ts): exact parameter counts, memory by what holds it, the
 * one-line refusal of what cannot fit, every preset fitting a modest machine, the schema's bounds, and time from bench
 * figures by the stated arithmetic.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../src-main/engine/data/load';
import type { BenchFigures } from '../../src-main/engine/recipe/estimate';
import { estimateRun, estimateTime, formatBytes } from '../../src-main/engine/recipe/estimate';
import { datasetShape } from '../../src-main/engine/data/shape';
import { forwardMacs } from '../../src-main/engine/nn/spec';
import { listPresets, loadPreset } from '../../src-main/engine/recipe/presets';
import { parseRecipe, resolveArchitecture } from '../../src-main/engine/recipe/resolve';
import { checkResources, estimateHere } from '../../src-main/engine/recipe/resources';
import { defaultBackend } from '../../src-main/engine/backend/backends';
import { keepBenchResult } from '../../src-main/engine/bench/stored';
import { BENCH_SCHEMA, type BenchResult } from '../../src-main/engine/bench/record';
import type { DatasetConfig } from '../../src-main/engine/data/config';
import { type Recipe, isCounterexample } from '../../src-main/engine/recipe/schema';
import { RECIPE_LIMITS } from '../../src-main/engine/util/limits';

const GB = 1e9;
const smokeLike = { name: 's', dataset: { name: 'gaussian-mixture' }, architecture: { type: 'mlp', hidden: [32] }, training: { epochs: 1 } };
const small = { memoryBytes: 8 * GB, cores: 1 };

const mixture = (over: Record<string, unknown> = {}, arch: Record<string, unknown> = { type: 'mlp', hidden: [32], bias: true }): Recipe =>
  parseRecipe({
    name: 't',
    dataset: { name: 'gaussian-mixture', classes: 4, dim: 16, train: 2000, test: 1000, ...over },
    architecture: arch,
    training: { optimizer: 'sgd', lr: 0.05, batchSize: 50, epochs: 3 },
    paths: [{ type: 'linear', points: 61 }],
    evaluation: { trainSamples: null, testSamples: null, batchSize: 1000 },
  });

describe('estimateRun', () => {
  it('counts the parameters of a known MLP and CNN exactly', () => {
    const mnist = (architecture: Record<string, unknown>): Recipe => parseRecipe({ name: 'm', dataset: { name: 'mnist' }, architecture, training: { epochs: 1 } });
    const mlp = mnist({ type: 'mlp', hidden: [512, 512], bias: true });
    // 784·512 + 512 + 512·512 + 512 + 512·10 + 10
    expect(estimateRun(mlp, datasetShape(mlp.dataset)!, small).memory.parameters).toBe(669_706);
    const cnn = mnist({ type: 'cnn', bias: true, conv: [{ filters: 8, kernel: 3, pool: 2 }], dense: [] });
    // conv 3·3·1·8 + 8; 28×28 'same' then pool 2 → 14×14×8 = 1568 inputs to dense 10: 1568·10 + 10
    expect(estimateRun(cnn, datasetShape(cnn.dataset)!, small).memory.parameters).toBe(80 + 15_690);
  });

  it('counts the dataset, the path points and the training steps', () => {
    const r = mixture();
    const e = estimateRun(r, datasetShape(r.dataset)!, small);
    expect(e.memory.bytes.dataset).toBe(3000 * 16 * 4); // generated: float32 only, one process
    expect(e.trainingSteps).toEqual({ A: 3 * 40, B: 3 * 40 });
    expect(e.pathPoints).toBe(61);
    expect(e.pointSamples).toBe(61 * 3000);
    expect(e.memory.bytes.total).toBe(Object.entries(e.memory.bytes).reduce((a, [k, v]) => (k === 'total' ? a : a + v), 0));
    expect(e.refusal).toBeNull();
  });

  it.each([
    // An evaluation batch of 1,000 samples through 1e9 units is what takes most.
    ['hidden: [1e9]', () => mixture({}, { type: 'mlp', hidden: [1e9] }), /needs about 9\.3 TB .*evaluation: 8\.2 TB/],
    ['train: 1e10', () => mixture({ train: 1e10 }), /dataset: 640 GB/],
    ['dim: 1e8', () => mixture({ dim: 1e8 }), /dataset: 1\.2 TB/],
    ['points: 1e9', () => ({ ...mixture(), paths: [{ type: 'linear' as const, points: 1e9 }] }), /path vertices and points: 200 GB/],
  ])('refuses %s with one line that says how much it needs', (_, make, detail) => {
    const r = make();
    const e = estimateRun(r, datasetShape(r.dataset)!, small);
    expect(e.refusal).toMatch(/^this recipe needs about [0-9.]+ (GB|TB) of memory \(/);
    expect(e.refusal).toMatch(detail);
    expect(e.refusal).toMatch(/this machine has 8\.0 GB$/);
    expect(e.refusal).not.toMatch(/\n/);
    expect(() => checkResources(r, small)).toThrow(e.refusal!);
  });

  it('lets every preset fit a machine with 8 GB and one core', () => {
    for (const { name } of listPresets()) {
      const r = loadPreset(name);
      if (isCounterexample(r)) continue;
      const e = estimateRun(r, datasetShape(r.dataset)!, small);
      expect(e.refusal, name).toBeNull();
      expect(e.memory.bytes.total, name).toBeLessThan(4 * GB);
    }
  });

  it('formats bytes in decimal units', () => {
    expect(formatBytes(999)).toBe('999 bytes');
    expect(formatBytes(8e9)).toBe('8.0 GB');
    expect(formatBytes(3.14e12)).toBe('3.1 TB');
    expect(formatBytes(Infinity)).toBe('more than can be counted');
  });
});

describe('datasetShape', () => {
  it('knows a built-in dataset as loading it finds it, subsets included', () => {
    for (const cfg of [{ name: 'mnist' }, { name: 'mnist', train: 5000, test: 1e9 }, { name: 'spirals', arms: 3 }] as const) {
      const r = parseRecipe({ name: 'd', dataset: cfg, architecture: { type: 'mlp', hidden: [4] }, training: {} });
      const d = loadDataset(r.dataset);
      expect(datasetShape(r.dataset)).toMatchObject({ inputShape: d.inputShape, classes: d.classes, train: d.train.n, test: d.test.n });
    }
  });

  it('reads an IDX dataset’s shape from the headers alone, and gives up on what it cannot read', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'modelab-shape-'));
    try {
      const idx = (dims: number[]): Buffer => {
        const head = Buffer.alloc(4 + 4 * dims.length);
        head[2] = 0x08;
        head[3] = dims.length;
        dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
        return Buffer.concat([head, Buffer.alloc(dims.reduce((a, b) => a * b, 1))]);
      };
      const f = (name: string, b: Buffer): string => (writeFileSync(path.join(dir, name), b), path.join(dir, name));
      const files = { trainImages: f('tr-x', idx([30, 5, 7])), trainLabels: f('tr-y', idx([30])), testImages: f('te-x', idx([12, 5, 7])), testLabels: f('te-y', idx([12])) };
      const cfg = parseRecipe({ name: 'i', dataset: { name: 'idx', ...files, classes: 3, train: 20 }, architecture: { type: 'mlp', hidden: [4] }, training: {} }).dataset as Extract<DatasetConfig, { name: 'idx' }>;
      expect(datasetShape(cfg)).toEqual({ inputShape: [5, 7, 1], classes: 3, train: 20, test: 12, rawBytesPerFeature: 1 });
      const gz = { ...cfg, trainImages: f('tr-x.gz', gzipSync(idx([30, 5, 7]))) };
      expect(datasetShape(gz)).toBeNull();
      expect(datasetShape({ ...cfg, testImages: path.join(dir, 'missing') })).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('schema bounds', () => {
  const doc = (training: Record<string, unknown>, arch: Record<string, unknown> = { type: 'mlp', hidden: [8] }) => ({
    name: 'b',
    dataset: { name: 'spirals' },
    architecture: arch,
    training,
  });
  it('refuses absurd time-taking numbers with one line naming the field', () => {
    expect(() => parseRecipe(doc({ epochs: 1e12 }))).toThrow(/^recipe: training\.epochs: .*10000/);
    expect(() => parseRecipe(doc({ steps: RECIPE_LIMITS.steps + 1 }))).toThrow(/training\.steps/);
    expect(() => parseRecipe(doc({ epochs: 1 }, { type: 'mlp', hidden: [1.5] }))).toThrow(/architecture\.hidden\.0/);
    expect(() => parseRecipe(doc({ epochs: 1 }, { type: 'mlp', hidden: [1e13] }))).toThrow(/architecture\.hidden\.0/);
    expect(() => parseRecipe({ ...doc({ epochs: 1 }), stability: { dropout: { masks: 1e6 } } })).toThrow(/stability\.dropout\.masks/);
    expect(parseRecipe(doc({ epochs: RECIPE_LIMITS.epochs })).training.epochs).toBe(RECIPE_LIMITS.epochs);
  });
});

describe('estimateTime', () => {
  const figures: BenchFigures = {
    startedAt: '2026-01-01T00:00:00.000Z',
    backend: 'wasm',
    device: 'test',
    quick: true,
    training: {
      mlp: { architecture: 'MLP', batch: 128, dropout: 0, steps: 20, samplesPerSec: 1000, gflops: 2, efficiency: 0.5, rounds: [] },
      mlpDropout: { architecture: 'MLP, dropout', batch: 128, dropout: 0.5, steps: 20, samplesPerSec: 500, gflops: 1, efficiency: 0.5, rounds: [] },
      cnn: { architecture: 'CNN', batch: 64, dropout: 0, steps: 4, samplesPerSec: 100, gflops: 4, efficiency: 0.5, rounds: [] },
    },
    // 2·MACs·10,000·20 full passes in 10 s
    lineEval: { points: 61, samples: 10000, seconds: 10, fullPassEquivalents: 20, withPointWorker: null },
    theorem1Eval: {
      segments: 20,
      points: 81,
      samples: 10000,
      structured: { seconds: 1, fullPassEquivalents: 4.05, distinctFunctions: 9 },
      naive: { seconds: 10, passes: 81, measuredPoints: 5, extrapolated: true },
    },
  };
  it('times training from the family’s GFLOP/s and paths from the evaluation rate and passes per point', () => {
    const r = { ...mixture(), paths: [{ type: 'linear' as const, points: 61 }, parseRecipe({ ...smokeLike, paths: [{ type: 'theorem1', dropout: { masks: 1, heuristic: false } }] }).paths[0]!] };
    const shape = datasetShape(r.dataset)!;
    const t = estimateTime(r, shape, figures);
    const macs = forwardMacs(resolveArchitecture(r.architecture, shape.inputShape, shape.classes));
    const evalFlops = (2 * (784 * 512 + 512 * 512 + 512 * 10) * 10000 * 20) / 10;
    const train = t.stages.find((s) => s.stage === 'train:A')!;
    expect(train.seconds).toBeCloseTo((120 * 50 * 6 * macs) / 2e9, 12);
    // The line: 20 full passes per 61 points, as the bench measured.
    expect(t.stages.find((s) => s.stage === 'path:linear')!.seconds).toBeCloseTo((20 * 3000 * 2 * macs) / evalFlops, 12);
    // Theorem 1 (d = 2: 12 segments × 4 + 1 = 49 points) at 4.05 full passes per 81 points, its kept-set search
    // (2 endpoints × 1 hidden layer × 1 candidate × 2000 samples) on top.
    expect(t.stages.find((s) => s.stage === 'path:theorem1')!.seconds).toBeCloseTo(((49 * 0.05 * 3000 + 2 * 2000) * 2 * macs) / evalFlops, 9);
    // One core: the endpoints' trainings one after the other; two cores: side by side.
    expect(t.seconds).toBeCloseTo(t.stages.reduce((a, s) => a + s.seconds, 0), 12);
    expect(estimateTime(r, shape, figures, 2).seconds).toBeCloseTo(t.seconds - train.seconds, 12);
    expect(t.stages.map((s) => s.stage)).toEqual(['train:A', 'train:B', 'eval:endpoints', 'path:linear', 'path:theorem1']);
    // With dropout the dropout figure applies (half the rate here: twice the time).
    const d = mixture({}, { type: 'mlp', hidden: [32], bias: true, dropout: 0.5 });
    expect(estimateTime(d, shape, figures).stages[0]!.seconds).toBeCloseTo(2 * train.seconds, 12);
  });

  it("estimateHere uses the bench of the backend the run gets, never another's, and says so when there is none", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'modelab-estimate-bench-'));
    const was = process.env['MODELAB_BACKEND'];
    try {
      // The newest result is on wasm; an older one on cpu.
      keepBenchResult(dir, { ...figures, schema: BENCH_SCHEMA, startedAt: '2026-01-01T00:00:00.000Z', backend: 'cpu' } as BenchResult);
      keepBenchResult(dir, { ...figures, schema: BENCH_SCHEMA, startedAt: '2026-02-01T00:00:00.000Z', backend: 'wasm' } as BenchResult);
      const r = parseRecipe(smokeLike);
      const onCpu = await estimateHere(r, dir, 'cpu');
      expect(onCpu.time?.bench).toMatchObject({ backend: 'cpu', startedAt: '2026-01-01T00:00:00.000Z' });
      expect(onCpu.headline.time).toMatch(/ on cpu$/);
      const onOnnx = await estimateHere(r, dir, 'onnx-cpu');
      expect(onOnnx.time).toBeNull();
      expect(onOnnx.notes).toEqual(['no timing figures yet for onnx-cpu, the backend this run gets']);
      // No name: MODELAB_BACKEND when set, else the first available of the automatic order (defaultBackend).
      process.env['MODELAB_BACKEND'] = 'cpu';
      expect((await estimateHere(r, dir)).time?.bench.backend).toBe('cpu');
      expect((await estimateHere(r, dir, 'auto')).time?.bench.backend).toBe('cpu');
      delete process.env['MODELAB_BACKEND'];
      const auto = (await defaultBackend()).name!;
      const e = await estimateHere(r, dir);
      if (auto === 'wasm' || auto === 'cpu') expect(e.time?.bench.backend).toBe(auto);
      else expect(e.notes).toEqual([`no timing figures yet for ${auto}, the backend this run gets`]);
    } finally {
      if (was === undefined) delete process.env['MODELAB_BACKEND'];
      else process.env['MODELAB_BACKEND'] = was;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
