/**
 * The benchmark behind `modelab bench` (docs/performance.md): the backend's matmul ceiling, training throughput of the
 * 784-512-512-10 MLP (batch 128) and the paper's MNIST CNN (batch 64), the 61-point straight line on 10,000 samples,
 * the loss plane through three MLPs (with 1, 2, … workers, as the line), the Theorem 1 path structure-aware against
 * naive, the mnist-mlp preset's wall time, and memory. Inputs are random
 * (timings do not depend on the values). FLOPs: forward 2·MACs per sample, a training step 6·MACs per sample.
 * Efficiency is stated twice: against the backend's own matmul ceiling (tfjs' matMul; on an onnx-* backend, an ONNX
 * MatMul on its provider) and against this CPU's native peak (an ONNX MatMul on ONNX Runtime's CPU provider with the
 * process's threads), both timed just before each training round, so that each ratio holds two figures of one moment.
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendRecord } from '../backend/backends';
import { isOnnxBackend, onnxProviderOf } from '../backend/names';
import type { Dataset } from '../data/dataset';
import { DeviceSplit } from '../eval/evaluate';
import { initParams } from '../nn/params';
import { type ArchSpec, forwardMacs } from '../nn/spec';
import { evaluatePathPoints } from '../paths/evaluate-path';
import { linearPath, tGrid } from '../paths/path';
import type { PointEvaluationData, PointWorkerPool } from '../paths/point-workers';
import { evaluatePathStructured } from '../paths/structured-eval';
import { evaluatePlaneGrid, planeFrame, planeGrid } from '../plane/plane';
import { CHECK_BATCH } from './context';
import { loadPreset } from '../recipe/presets';
import { resolveArchitecture } from '../recipe/resolve';
import { runRecipe } from './run';
import type { Recipe } from '../recipe/schema';
import { ortMatmul } from '../onnx/matmul';
import { OnnxTrainer } from '../onnx/trainer';
import { BENCH_SCHEMA, type BenchResult, fastestPeak, type NativePeak, type Round, type ThreadScaling, type Throughput, type WorkerScaling } from '../bench/record';
import { theorem1Path } from '../theory/theorem1';
import { hiddenWidths } from '../nn/units';
import { train } from '../train/loop';
import type { ProgressFn } from '../util/progress';
import { Rng } from '../util/rng';
import { VERSION } from '../version';

/** One native matmul timing (null where ONNX Runtime's CPU provider does not load). */
async function nativeMatmul(size: number, reps: number): Promise<NativePeak | null> {
  try {
    return await ortMatmul('cpu', size, reps);
  } catch {
    return null;
  }
}

function randomDataset(n: number, shape: [number, number, number], seed: number): Dataset {
  const rng = new Rng(seed);
  const f = shape[0] * shape[1] * shape[2];
  const make = (m: number) => ({ x: Float32Array.from({ length: m * f }, () => rng.next()), y: Int32Array.from({ length: m }, () => rng.int(10)), n: m });
  return { name: 'random', inputShape: shape, classes: 10, train: make(n), test: make(Math.min(n, 1000)), normalization: { kind: 'none' }, checksum: '', source: 'random' };
}

const MLP = (dropout: number, bias: boolean): ArchSpec => resolveArchitecture({ type: 'mlp', hidden: [512, 512], bias, dropout }, [28, 28, 1], 10);

/** The best of `reps` timings (ms) of one size³ matmul on tfjs, after a warm-up. */
function tfjsMatmulMs(size: number, reps: number): number {
  const a = tf.randomNormal([size, size]);
  const b = tf.randomNormal([size, size]);
  // Nothing returned from tidy: it would walk a returned 1M-element array looking for tensors (≈1 s).
  const once = (): void =>
    tf.tidy(() => {
      tf.matMul(a, b).dataSync();
    });
  once();
  let best = Infinity;
  for (let k = 0; k < reps; k++) {
    const s = performance.now();
    once();
    best = Math.min(best, performance.now() - s);
  }
  a.dispose();
  b.dispose();
  return best;
}

/** The backend's own ceiling: the best of `reps` size³ matmuls (ms) where it computes its networks. */
async function matmulMs(backend: BackendRecord, size: number, reps: number): Promise<number> {
  return isOnnxBackend(backend.backend) ? (await ortMatmul(onnxProviderOf(backend.backend), size, reps)).ms : tfjsMatmulMs(size, reps);
}

const gflopsOf = (ms: number, size: number): number => (2 * size ** 3) / ms / 1e6;

const median = (xs: number[]): number => {
  const v = [...xs].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
};

/** Times `steps` SGD steps of `spec` after a 2-step warm-up (kernels compiled, buffers allocated), with the matmul
 *  ceiling of the moment measured just before. */
async function timeRound(backend: BackendRecord, spec: ArchSpec, batch: number, steps: number, data: Dataset, size: number): Promise<Round & { matmulMs: number; native: NativePeak | null }> {
  const matmul = await matmulMs(backend, size, 2);
  const native = await nativeMatmul(size, 2);
  const cfg = { optimizer: { type: 'sgd' as const, lr: 0.01, momentum: 0.9, nesterov: false, weightDecay: 0 }, schedule: { type: 'constant' as const }, batchSize: batch };
  await train(spec, data, { ...cfg, steps: 2 }, { seed: 1 });
  const r = await train(spec, data, { ...cfg, steps }, { seed: 2 });
  return { matmulMs: matmul, native, matmulGflops: gflopsOf(matmul, size), nativeGflops: native?.gflops ?? null, samplesPerSec: r.samplesPerSec, gflops: (r.samplesPerSec * 6 * forwardMacs(spec)) / 1e9 };
}

/**
 * The MLP's training steps (batch 128, SGD with momentum) on ONNX Runtime's CPU provider with 1, 2, … intra-op threads
 * up to the cores present, in this process: `rounds` alternating passes over the counts of `steps` steps each after a
 * warm-up, the fastest round per count.
 */
async function timeThreads(spec: ArchSpec, data: Dataset, steps: number, rounds: number): Promise<ThreadScaling[]> {
  const cores = os.availableParallelism();
  const init = initParams(spec, 5);
  const cfg = { type: 'sgd' as const, lr: 0.01, momentum: 0.9, nesterov: false, weightDecay: 0 };
  const batch = 128;
  const features = spec.input[0] * spec.input[1] * spec.input[2];
  const at = (s: number): number => (s * batch) % (data.train.n - batch);
  const step = (trainer: OnnxTrainer, s: number) =>
    trainer.step(data.train.x.subarray(at(s) * features, (at(s) + batch) * features), data.train.y.subarray(at(s), at(s) + batch), cfg.lr, {});
  const best = new Map<number, number>();
  for (let r = 0; r < rounds; r++) {
    for (let threads = 1; threads <= cores; threads++) {
      const trainer = await OnnxTrainer.create(spec, init, cfg, threads);
      for (let s = 0; s < 2; s++) await step(trainer, s);
      const t0 = performance.now();
      for (let s = 0; s < steps; s++) await step(trainer, s);
      const rate = (steps * batch) / ((performance.now() - t0) / 1000);
      best.set(threads, Math.max(best.get(threads) ?? 0, rate));
    }
  }
  return [...best].map(([threads, samplesPerSec]) => ({ threads, samplesPerSec }));
}

function summarise(spec: ArchSpec, label: string, batch: number, steps: number, rounds: Round[]): Throughput {
  const fastest = rounds.reduce((a, b) => (b.samplesPerSec > a.samplesPerSec ? b : a));
  return {
    architecture: label,
    batch,
    dropout: spec.layers[0]!.dropout,
    steps,
    samplesPerSec: fastest.samplesPerSec,
    gflops: fastest.gflops,
    efficiency: median(rounds.map((r) => r.gflops / r.matmulGflops)),
    nativeEfficiency: rounds.every((r) => r.nativeGflops) ? median(rounds.map((r) => r.gflops / r.nativeGflops!)) : null,
    rounds,
  };
}

/** A point worker pool that counts the points its worker evaluated (jobs/points.ts). */
export type CountingPointPool = PointWorkerPool & { readonly served: number };

/** Point worker pools to time the line with: `open(w)` is one for w processes computing at once (this one included),
 *  or undefined where points stay in this process (jobs/points.ts). */
export interface BenchPointPools {
  maxWorkers: number;
  open(workers: number): (CountingPointPool & { close(): Promise<void> }) | undefined;
}

/**
 * Times `work` with 1, 2, … processes up to the workers present: alone, then with each pool in turn. The pool for
 * w + 1 is started while w is timed, so that it is ready when its turn comes (as in a run, where the point workers
 * start while the endpoints train).
 */
async function timeByWorkers(
  pools: BenchPointPools | undefined,
  prepare: { spec: ArchSpec; pointwiseMacs: number },
  data: PointEvaluationData,
  work: (pool?: CountingPointPool) => Promise<void>,
): Promise<WorkerScaling[]> {
  const maxWorkers = pools?.maxWorkers ?? 1;
  const open = (w: number): ReturnType<BenchPointPools['open']> => {
    const p = w <= maxWorkers ? pools?.open(w) : undefined;
    p?.prepare?.(prepare);
    return p;
  };
  let next = open(2);
  let s = performance.now();
  await work();
  const scaling: WorkerScaling[] = [{ workers: 1, seconds: (performance.now() - s) / 1000, workerPoints: 0 }];
  try {
    for (let w = 2; next; w++) {
      const pool = next;
      next = undefined;
      try {
        await pool.setEvaluationData(data);
        next = open(w + 1);
        s = performance.now();
        await work(pool);
        scaling.push({ workers: w, seconds: (performance.now() - s) / 1000, workerPoints: pool.served });
      } finally {
        await pool.close();
      }
    }
  } finally {
    await next?.close();
  }
  return scaling;
}

export async function runBench(
  backend: BackendRecord,
  opts: { quick: boolean; onProgress?: ProgressFn; pointPools?: BenchPointPools },
): Promise<BenchResult> {
  const t0 = performance.now();
  const startedAt = new Date().toISOString();
  const tensorsAtStart = tf.memory().numTensors;
  let maxTensors = tensorsAtStart;
  const note = (): void => {
    maxTensors = Math.max(maxTensors, tf.memory().numTensors);
  };
  const stages = 8;
  let stage = 0;
  const report = (): void => {
    opts.onProgress?.({ stage: 'bench', label: 'bench', done: stage++, total: stages, unit: 'stages', elapsedSec: (performance.now() - t0) / 1000 });
  };

  // 1-2. The matmul ceiling and the training throughputs, in alternating rounds: on a shared machine the speed
  // drifts by tens of percent within minutes, so each training round is set against a matmul timed just before it.
  report();
  const size = 1024;
  const rounds = opts.quick ? 4 : 5;
  const steps = opts.quick ? 20 : 40;
  const mnistLike = randomDataset(opts.quick ? 4096 : 16384, [28, 28, 1], 1);
  const mlpSpec = MLP(0, true);
  const dropoutSpec = MLP(0.5, true);
  const cnnSpec = resolveArchitecture((loadPreset('mnist-cnn-paper') as Recipe).architecture, [28, 28, 1], 10);
  // The CNN's rounds alternate with the MLPs' like theirs (a single round was the noisiest figure of all), shorter.
  const cnnSteps = opts.quick ? 4 : 10;
  const mlpRounds: Round[] = [];
  const dropoutRounds: Round[] = [];
  const cnnRounds: Round[] = [];
  let best = Infinity;
  const natives: (NativePeak | null)[] = [];
  for (let r = 0; r < rounds; r++) {
    const kinds = [[mlpSpec, 128, steps, mlpRounds], [dropoutSpec, 128, steps, dropoutRounds], [cnnSpec, 64, cnnSteps, cnnRounds]] as const;
    for (const [spec, batch, n, into] of kinds) {
      const { matmulMs: ms, native, ...round } = await timeRound(backend, spec, batch, n, mnistLike, size);
      best = Math.min(best, ms);
      natives.push(native);
      into.push(round);
    }
    note();
  }
  report();
  // The threads one process gains from (onnx-cpu: jobs/parallelism.ts caps each process's threads by it).
  const threadScaling = backend.backend === 'onnx-cpu' ? await timeThreads(mlpSpec, mnistLike, steps, opts.quick ? 2 : 3) : null;
  const peak = fastestPeak(natives);
  const ceiling = gflopsOf(best, size);
  const training = {
    mlp: summarise(mlpSpec, '784-512-512-10 MLP', 128, steps, mlpRounds),
    mlpDropout: summarise(dropoutSpec, '784-512-512-10 MLP, dropout 0.5', 128, steps, dropoutRounds),
    cnn: summarise(cnnSpec, "the paper's MNIST CNN (3×conv32 3×3, dense 10)", 64, cnnSteps, cnnRounds),
  };

  // 3. The 61-point straight line between two MLPs on 10,000 samples.
  report();
  const spec = MLP(0, false);
  const A = initParams(spec, 11);
  const B = initParams(spec, 12);
  // 10,000 evaluation samples: 5,000 "train" and 5,000 "test".
  const evalData = randomDataset(5000, [28, 28, 1], 3);
  const evalTest = randomDataset(5000, [28, 28, 1], 4).train;
  const splits = { train: new DeviceSplit(evalData.train, 784, 2500), test: new DeviceSplit(evalTest, 784, 2500) };
  const checkX = tf.tensor2d(evalData.train.x.subarray(0, CHECK_BATCH * 784), [CHECK_BATCH, 784]);
  const line = linearPath(A, B);
  const lineTs = tGrid(line, { points: 61 });
  const pointData: PointEvaluationData = { train: evalData.train, test: evalTest, inputShape: [28, 28, 1], batchSize: 2500 };
  let lineEv: Awaited<ReturnType<typeof evaluatePathStructured>> | undefined;
  const scaling = await timeByWorkers(opts.pointPools, { spec, pointwiseMacs: (lineTs.length - 2) * forwardMacs(spec) * 10000 }, pointData, async (pool) => {
    const r = await evaluatePathStructured(spec, line, lineTs, splits, checkX, pool ? { pointWorkers: pool } : {});
    if (!pool) lineEv = r;
  });
  const lineSeconds = scaling[0]!.seconds;
  const two = scaling.find((x) => x.workers === 2 && x.workerPoints > 0);
  const withPointWorker = two ? { seconds: two.seconds, workerPoints: two.workerPoints } : null;
  const lineEval = { points: 61, samples: 10000, seconds: lineSeconds, fullPassEquivalents: lineEv!.cost.fullPassEquivalents, withPointWorker, scaling };
  note();

  // 4. The loss plane through A, B and a third MLP: a recipe's default grid (21 × 21; 7 × 7 in --quick mode) on the
  //    first 2,000 training and 2,000 test samples (a recipe's plane.trainSamples / testSamples defaults).
  report();
  const planeSize = opts.quick ? 7 : 21;
  const frame = planeFrame(A, B, initParams(spec, 13));
  const grid = planeGrid(frame, planeSize, 0.2);
  const anchors = [{ x: 0, y: 0 }, { x: frame.lengthAB, y: 0 }, { x: frame.p, y: frame.q }];
  const half = 2000;
  const firstOf = (x: { x: Float32Array; y: Int32Array }) => ({ x: x.x.subarray(0, half * 784), y: x.y.subarray(0, half), n: half });
  const planeSplits = { train: new DeviceSplit(firstOf(evalData.train), 784, 2500), test: new DeviceSplit(firstOf(evalTest), 784, 2500) };
  const planePoints = planeSize * planeSize + anchors.length;
  let planeCost = 0;
  let planeScaling: WorkerScaling[];
  try {
    planeScaling = await timeByWorkers(opts.pointPools, { spec, pointwiseMacs: planePoints * forwardMacs(spec) * 2 * half }, pointData, async (pool) => {
      const r = await evaluatePlaneGrid(spec, frame, grid, planeSplits, { extra: anchors, ...(pool ? { share: { pool, samples: { train: half, test: half } } } : {}) });
      if (!pool) planeCost = r.cost.fullPassEquivalents;
    });
  } finally {
    planeSplits.train.dispose();
    planeSplits.test.dispose();
  }
  const planeEval = { size: planeSize, points: planePoints, samples: 2 * half, seconds: planeScaling[0]!.seconds, fullPassEquivalents: planeCost, scaling: planeScaling };
  note();

  // 5. Theorem 1: structure-aware against naive.
  report();
  const rng = new Rng(5);
  let s: number;
  const K = () => hiddenWidths(spec).map((h) => rng.sample(h, h / 2));
  const path = theorem1Path(spec, A, K(), B, K(), [2, 2]);
  const ts = tGrid(path, { perSegment: 4 });
  s = performance.now();
  const structured = await evaluatePathStructured(spec, path, ts, splits, checkX);
  const structuredSec = (performance.now() - s) / 1000;
  const sample = opts.quick ? ts.filter((_, k) => k % 20 === 0) : ts;
  s = performance.now();
  await evaluatePathPoints(spec, path, sample, splits);
  const naivePerPoint = (performance.now() - s) / 1000 / sample.length;
  splits.train.dispose();
  splits.test.dispose();
  checkX.dispose();
  note();

  // 6. The mnist-mlp preset's wall time (estimated from the measured rates in --quick mode).
  report();
  const recipe = loadPreset('mnist-mlp') as Recipe;
  let preset: BenchResult['preset'];
  if (opts.quick) {
    // Training both endpoints, evaluating them (4 passes over 10,000 samples) and the 61-point line on 20,000 samples.
    const samples = 60000 * (recipe.training.epochs ?? 1) * recipe.endpoints.length;
    const perPass = lineEval.seconds / lineEval.fullPassEquivalents;
    const seconds = samples / training.mlp.samplesPerSec + 4 * perPass + 2 * lineEval.seconds;
    preset = { name: 'mnist-mlp', seconds, estimated: true, note: 'estimated for one process from the measured training rate and line evaluation (run without --quick to time the preset; modelab run also trains the endpoints in parallel processes)' };
  } else {
    s = performance.now();
    await runRecipe(recipe, { backend, preset: 'mnist-mlp' });
    preset = { name: 'mnist-mlp', seconds: (performance.now() - s) / 1000, estimated: false, note: 'timed end to end in this process (modelab run also trains the endpoints in parallel processes)' };
  }
  note();
  report();
  return {
    schema: BENCH_SCHEMA,
    modelab: VERSION,
    startedAt,
    quick: opts.quick,
    backend: backend.backend,
    device: backend.device,
    tfjsVersion: backend.tfjsVersion,
    matmul: { size, ms: best, gflops: ceiling },
    nativePeak: peak,
    training,
    threadScaling,
    lineEval,
    planeEval,
    theorem1Eval: {
      segments: path.segments.length,
      points: ts.length,
      samples: 10000,
      structured: { seconds: structuredSec, fullPassEquivalents: structured.cost.fullPassEquivalents, distinctFunctions: structured.cost.distinctFunctions },
      naive: { seconds: naivePerPoint * ts.length, passes: ts.length, measuredPoints: sample.length, extrapolated: sample.length < ts.length },
    },
    preset,
    memory: { peakRssMB: process.resourceUsage().maxRSS / 1024, tensorsAtStart, tensorsAtEnd: tf.memory().numTensors, maxTensors },
    seconds: (performance.now() - t0) / 1000,
  };
}
