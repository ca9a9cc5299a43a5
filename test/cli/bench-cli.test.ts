/**
 * `modelab bench --quick --json --backend wasm,onnx-cpu` as a user runs it: both backends measured side by side in one
 * run, every figure of issue 7 reported for each and consistent with the others (GFLOP/s from samples/s and the
 * networks' multiply-accumulates, efficiency from the rounds' own and native matmuls, the native peak the fastest), the
 * Theorem 1 evaluation stays within 5 full-pass equivalents, no tensor is left, and each result is kept for comparison.
 * It asserts no speed: speed is what the command measures (docs/performance.md).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchResult, BenchRun } from '../../src-main/engine/bench/record';
import { POINT_WORKER_BACKENDS } from '../../src-main/jobs/points';
import { modelab } from './modelab';

const home = mkdtempSync(path.join(os.tmpdir(), 'modelab-bench-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** Multiply-accumulates of one 784-512-512-10 forward pass (with biases' adds not counted). */
const MLP_MACS = 784 * 512 + 512 * 512 + 512 * 10;
/** The paper's MNIST CNN: three 3×3 'same' convolutions of 32 filters on 28×28 (the first from one channel), dense 10. */
const CNN_MACS = 28 * 28 * 32 * 9 * (1 + 32 + 32) + 28 * 28 * 32 * 10;

describe('modelab bench --quick --json', () => {
  it('reports every figure for each backend, consistently, side by side, and keeps the results', async () => {
    process.env['MODELAB_HOME'] = home;
    const ran = await modelab(['bench', '--quick', '--json', '--backend', 'wasm,onnx-cpu'], { timeoutMs: 400_000 });
    expect(ran.code, ran.stderr).toBe(0);
    const run = JSON.parse(ran.stdout) as BenchRun;
    expect(run.schema).toBe('modelab.bench-run/1');
    expect(run.quick).toBe(true);
    // This CPU's native peak: an ONNX MatMul 1024³ on the CPU provider, with every core unless the pool owner says;
    // the run's is the fastest of its backends'.
    const peak = run.nativePeak!;
    expect(peak).toMatchObject({ size: 1024, provider: 'cpu', threads: os.availableParallelism() });
    expect(peak.gflops).toBeCloseTo((2 * 1024 ** 3) / peak.ms / 1e6, 6);
    expect(peak.gflops).toBe(Math.max(...run.results.map((r) => r.nativePeak!.gflops)));
    expect(run.results.map((r) => r.backend)).toEqual(['wasm', 'onnx-cpu']);
    expect(run.results[0]!.device).toMatch(/WebAssembly/);
    expect(run.results[1]!.device).toMatch(/^ONNX Runtime/);
    for (const r of run.results) checkResult(r);

    const kept = readdirSync(path.join(home, 'bench')).sort();
    expect(kept).toHaveLength(2);
    const keptResults = kept.map((f) => JSON.parse(readFileSync(path.join(home, 'bench', f), 'utf8')) as BenchResult);
    for (const r of run.results) expect(keptResults.find((k) => k.backend === r.backend)).toEqual(r);
    expect(readdirSync(os.tmpdir()).filter((f) => f.startsWith(`modelab-bench-points-`))).toEqual([]);
  }, 420_000);

  it('--help tells what it measures; an unknown, repeated or empty backend is a one-line error', async () => {
    const help = await modelab(['bench', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--quick/);
    expect(help.stdout).toMatch(/matmul ceiling/);
    expect(help.stdout).toMatch(/native peak/);
    for (const [arg, message] of [['nope', /wasm/], ['wasm,nope', /unknown backend 'nope'/], ['wasm,wasm', /'wasm' twice/], ['wasm,', /empty backend/]] as const) {
      const bad = await modelab(['bench', '--backend', arg]);
      expect(bad.code, arg).toBe(2);
      expect(bad.stderr.trim().split('\n'), arg).toHaveLength(1);
      expect(bad.stderr, arg).toMatch(message);
    }
  });
});

/** Every figure of one backend's result, consistent with the others. */
function checkResult(r: BenchResult): void {
  expect(r.schema).toBe('modelab.bench/1');
  expect(r.quick).toBe(true);
  expect(r.nativePeak).toMatchObject({ size: 1024, provider: 'cpu' });
  expect(r.matmul.size).toBe(1024);
  expect(r.matmul.gflops).toBeCloseTo((2 * 1024 ** 3) / r.matmul.ms / 1e6, 6);

  // Each training round is set against the matmuls timed just before it, its own and the native one; the ceiling and
  // the native peak are the fastest of them all.
  const allRounds = Object.values(r.training).flatMap((t) => t.rounds);
  expect(Math.max(...allRounds.map((x) => x.matmulGflops))).toBeCloseTo(r.matmul.gflops, 6);
  expect(Math.max(...allRounds.map((x) => x.nativeGflops!))).toBe(r.nativePeak!.gflops);
  const medianOf = (xs: number[]): number => {
    const v = [...xs].sort((a, b) => a - b);
    const mid = v.length >> 1;
    return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  };
  expect(r.training.mlp.rounds).toHaveLength(4);
  expect(r.training.mlpDropout.rounds).toHaveLength(4);
  expect(r.training.cnn.rounds).toHaveLength(4);
  for (const k of ['mlp', 'mlpDropout', 'cnn'] as const) {
    const t = r.training[k];
    expect(t.samplesPerSec).toBe(Math.max(...t.rounds.map((x) => x.samplesPerSec)));
    expect(t.efficiency).toBeCloseTo(medianOf(t.rounds.map((x) => x.gflops / x.matmulGflops)), 9);
    expect(t.nativeEfficiency).toBeCloseTo(medianOf(t.rounds.map((x) => x.gflops / x.nativeGflops!)), 9);
    for (const x of t.rounds) expect(x.gflops).toBeCloseTo((x.samplesPerSec * 6 * (k === 'cnn' ? CNN_MACS : MLP_MACS)) / 1e9, 6);
  }
  // The MLP's training by intra-op threads, 1 … cores, in one process: onnx-cpu only (jobs/parallelism.ts reads it).
  if (r.backend === 'onnx-cpu') {
    expect(r.threadScaling!.map((x) => x.threads)).toEqual(Array.from({ length: os.availableParallelism() }, (_, k) => k + 1));
    for (const x of r.threadScaling!) expect(x.samplesPerSec).toBeGreaterThan(0);
  } else {
    expect(r.threadScaling).toBeNull();
  }
  expect(r.training.mlp.batch).toBe(128);
  expect(r.training.cnn.batch).toBe(64);
  expect(r.training.mlpDropout.dropout).toBe(0.5);

  // The line: 59 interior points one by one plus the two endpoints' logits, the first layer factored once (on tfjs and
  // on ONNX Runtime alike: paths/pointwise.ts).
  expect(r.lineEval).toMatchObject({ points: 61, samples: 10000 });
  expect(r.lineEval.fullPassEquivalents).toBeGreaterThan(20);
  expect(r.lineEval.fullPassEquivalents).toBeLessThan(61);
  // Points are shared with point workers, with a second core, on the backends that spread them over processes (wasm,
  // cpu, onnx-cpu: jobs/points.ts).
  const spread = os.availableParallelism() > 1 && POINT_WORKER_BACKENDS.has(r.backend);
  if (spread) {
    expect(r.lineEval.withPointWorker?.workerPoints).toBeGreaterThan(0);
    expect(r.lineEval.withPointWorker!.workerPoints).toBeLessThanOrEqual(59);
  } else {
    expect(r.lineEval.withPointWorker).toBeNull();
  }
  // The line with 1, 2, … workers up to the cores present, each timing beside its workers count, where the points
  // are shared: the 2-worker figure is withPointWorker's.
  const scaling = r.lineEval.scaling!;
  expect(scaling.map((x) => x.workers)).toEqual(spread ? Array.from({ length: os.availableParallelism() }, (_, k) => k + 1) : [1]);
  expect(scaling[0]).toEqual({ workers: 1, seconds: r.lineEval.seconds, workerPoints: 0 });
  for (const x of scaling.slice(1)) {
    expect(x.seconds).toBeGreaterThan(0);
    expect(x.workerPoints).toBeGreaterThan(0);
    expect(x.workerPoints).toBeLessThanOrEqual(59);
  }
  if (spread) expect(r.lineEval.withPointWorker).toEqual({ seconds: scaling[1]!.seconds, workerPoints: scaling[1]!.workerPoints });

  // The loss plane (7 × 7 cells and the three networks' points in --quick mode, on 2,000 + 2,000 samples), timed with
  // the same worker counts as the line, its cells shared where the line's points are.
  const plane = r.planeEval!;
  expect(plane).toMatchObject({ size: 7, points: 52, samples: 4000 });
  expect(plane.fullPassEquivalents).toBeGreaterThan(0);
  expect(plane.fullPassEquivalents).toBeLessThanOrEqual(52);
  expect(plane.scaling.map((x) => x.workers)).toEqual(scaling.map((x) => x.workers));
  expect(plane.scaling[0]).toEqual({ workers: 1, seconds: plane.seconds, workerPoints: 0 });
  for (const x of plane.scaling.slice(1)) {
    expect(x.seconds).toBeGreaterThan(0);
    expect(x.workerPoints).toBeGreaterThan(0);
    expect(x.workerPoints).toBeLessThanOrEqual(52);
  }

  // Theorem 1 (bias-free MLP, d = 3: 8d − 4 = 20 segments, 4 points each): at most 5 full passes against 81.
  expect(r.theorem1Eval).toMatchObject({ segments: 20, points: 81, samples: 10000 });
  expect(r.theorem1Eval.structured.fullPassEquivalents).toBeLessThanOrEqual(5);
  expect(r.theorem1Eval.naive.passes).toBe(81);
  expect(r.theorem1Eval.naive.extrapolated).toBe(true);

  expect(r.preset).toMatchObject({ name: 'mnist-mlp', estimated: true });
  expect(r.preset.seconds).toBeGreaterThan(0);
  expect(r.memory.peakRssMB).toBeGreaterThan(50);
  expect(r.memory.tensorsAtEnd).toBe(r.memory.tensorsAtStart);
  expect(r.memory.maxTensors).toBeGreaterThanOrEqual(r.memory.tensorsAtStart);
}
