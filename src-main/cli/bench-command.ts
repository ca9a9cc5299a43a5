/** `modelab bench`: measures this machine's backends side by side (docs/performance.md) and keeps every result for
 *  comparison. */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { probeAll, selectBackend } from '../engine/backend/backends';
import { defaultedBackend } from '../engine/backend/default';
import { BACKEND_CHOICES_HELP } from '../engine/backend/names';
import { BENCH_RUN_SCHEMA, type BenchResult, type BenchRun, type WorkerScaling, fastestPeak, threadCap } from '../engine/bench/record';
import { runBench } from '../engine/experiment/bench';
import { InputError } from '../engine/util/errors';
import { benchDirIn, keepBenchResult, readBenchResults } from '../engine/bench/stored';
import { workerCount } from '../jobs/parallelism';
import { pointWorkerPool } from '../jobs/points';
import { modelabHome } from '../store/location';
import { parse } from './args';
import { ProgressRenderer } from './progress';
import { num, table } from './table';

export const BENCH_HELP = `Usage: modelab bench [--quick] [--json] [--backend NAME[,NAME…]]

Measures every available backend side by side (all but plain-JavaScript 'cpu', which takes many minutes; or those
named by --backend or MODELAB_BACKEND), each in turn: its 1024³ matmul ceiling, training throughput of the
784-512-512-10 MLP (batch 128, with and without dropout 0.5) and of the paper's MNIST CNN (batch 64), the 61-point
straight line on 10,000 samples, also with 2, 3, … workers computing its points up to the cores present (or
MODELAB_WORKERS) where 'modelab run' uses point workers (wasm, cpu, onnx-cpu), the loss plane through three MLPs
(21 × 21 on 4,000 samples; 7 × 7 with --quick) with 1, 2, … workers alike, the Theorem 1 path structure-aware
against naive, the mnist-mlp preset's wall time (estimated with --quick), peak memory, and on onnx-cpu the MLP's
training with 1, 2, … intra-op threads (each process's threads are then capped at the fewest within 10% of the
fastest: docs/backends.md). Training efficiency is
stated against each backend's own matmul ceiling and against this CPU's native peak (an ONNX MatMul on ONNX
Runtime's CPU provider), both timed just before each training round. Results are kept in <MODELAB_HOME>/bench/ and
compared with the previous run on the same backend and device; the newest one times recipes before they run
('modelab run --dry-run', and next to Start in the app).

Options:
  --quick          fewer steps; the preset's time is estimated (about 1½ minutes on a 2-core CPU)
  --json           print exactly one JSON document on stdout (schema ${BENCH_RUN_SCHEMA}: the fastest native matmul and
                   one result per backend)
  --backend NAMES  one or more of ${BACKEND_CHOICES_HELP}, comma-separated
                   (onnx-*: training steps and evaluation on ONNX Runtime, the rest on wasm; docs/backends.md)`;

function previous(dir: string, r: BenchResult): BenchResult | null {
  return readBenchResults(dir).find((p) => p.backend === r.backend && p.device === r.device && p.quick === r.quick) ?? null;
}

const pct = (x: number): string => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;

/** The change from the previous comparable result, in percent ('' without one). */
function delta(now: number, before: number | undefined, higherIsBetter = true): string {
  if (before === undefined || !Number.isFinite(before) || before === 0) return '';
  const change = ((now - before) / before) * 100;
  return `${change >= 0 ? '+' : ''}${change.toFixed(1)}%${(change >= 0) === higherIsBetter ? '' : ' (worse)'}`;
}

function summary(r: BenchResult, prev: BenchResult | null): string {
  const t = r.training;
  const pt = prev?.training;
  const rows: string[][] = [
    ['matmul 1024³', `${num(r.matmul.gflops, 2)} GFLOP/s`, delta(r.matmul.gflops, prev?.matmul.gflops)],
    ...(['mlp', 'mlpDropout', 'cnn'] as const).map((k) => [
      `train ${t[k].architecture}, batch ${t[k].batch}`,
      `${Math.round(t[k].samplesPerSec)} samples/s, ${num(t[k].gflops, 2)} GFLOP/s; ${pct(t[k].efficiency)} of the matmul${t[k].rounds.length > 1 ? ` (median of ${t[k].rounds.length} rounds)` : ''}${t[k].nativeEfficiency != null ? `, ${pct(t[k].nativeEfficiency!)} of the native peak` : ''}`,
      delta(t[k].samplesPerSec, pt?.[k].samplesPerSec),
    ]),
    ...(r.threadScaling ?? []).map((x) => [
      `  the MLP's training, ${x.threads} intra-op thread${x.threads > 1 ? 's' : ''}`,
      `${Math.round(x.samplesPerSec)} samples/s${x.threads === threadCap(r) ? ' (the cap each process takes)' : ''}`,
      delta(x.samplesPerSec, prev?.threadScaling?.find((p) => p.threads === x.threads)?.samplesPerSec),
    ]),
    ['straight line, 61 points × 10,000 samples', `${num(r.lineEval.seconds, 2)} s (${num(r.lineEval.fullPassEquivalents, 1)} full passes)`, delta(r.lineEval.seconds, prev?.lineEval.seconds, false)],
    ...scalingRows(r.lineEval.seconds, r.lineEval.points - 2, r.lineEval.scaling, prev?.lineEval.scaling),
    ...(r.planeEval
      ? [
          [
            `loss plane, ${r.planeEval.size}×${r.planeEval.size} + 3 points × ${r.planeEval.samples.toLocaleString('en')} samples`,
            `${num(r.planeEval.seconds, 2)} s (${num(r.planeEval.fullPassEquivalents, 1)} full passes)`,
            delta(r.planeEval.seconds, prev?.planeEval?.size === r.planeEval.size ? prev.planeEval.seconds : undefined, false),
          ],
          ...scalingRows(r.planeEval.seconds, r.planeEval.points, r.planeEval.scaling, prev?.planeEval?.size === r.planeEval.size ? prev.planeEval.scaling : undefined),
        ]
      : []),
    [
      `Theorem 1 path, ${r.theorem1Eval.segments} segments, ${r.theorem1Eval.points} points`,
      `${num(r.theorem1Eval.structured.seconds, 2)} s, ${num(r.theorem1Eval.structured.fullPassEquivalents, 2)} full passes; naive ${num(r.theorem1Eval.naive.seconds, 1)} s, ${r.theorem1Eval.naive.passes} passes${r.theorem1Eval.naive.extrapolated ? ` (extrapolated from ${r.theorem1Eval.naive.measuredPoints} points)` : ''}`,
      delta(r.theorem1Eval.structured.seconds, prev?.theorem1Eval.structured.seconds, false),
    ],
    [`preset ${r.preset.name}`, `${num(r.preset.seconds, 0)} s${r.preset.estimated ? ' (estimated)' : ''}`, delta(r.preset.seconds, prev?.preset.seconds, false)],
    ['peak memory', `${num(r.memory.peakRssMB, 0)} MB RSS; tensors ${r.memory.tensorsAtStart} → ${r.memory.tensorsAtEnd} (max ${r.memory.maxTensors})`, delta(r.memory.peakRssMB, prev?.memory.peakRssMB, false)],
  ];
  return [
    `ModeLab bench${r.quick ? ' --quick' : ''}: backend ${r.backend} on ${r.device} (tfjs ${r.tfjsVersion}), ${num(r.seconds, 0)} s`,
    '',
    table(['figure', 'value', prev ? `vs ${prev.startedAt.slice(0, 16)}` : ''], rows, 2),
  ].join('\n');
}

/** The rows of a timing with 2, 3, … workers: seconds, speed-up over one process, the points the workers took. */
function scalingRows(alone: number, points: number, scaling: WorkerScaling[] | undefined, before: WorkerScaling[] | undefined): string[][] {
  return (scaling ?? []).slice(1).map((x) => [
    `  the same, ${x.workers} workers (${x.workers - 1} point worker${x.workers > 2 ? 's' : ''})`,
    `${num(x.seconds, 2)} s, ${num(alone / x.seconds, 2)}× (${x.workerPoints} of ${points} points in the workers)`,
    delta(x.seconds, before?.find((p) => p.workers === x.workers)?.seconds, false),
  ]);
}

/** Every figure of each backend in one column: the side-by-side view of a run over several backends. */
function sideBySide(run: BenchRun): string {
  const rs = run.results;
  const row = (label: string, f: (r: BenchResult) => string): string[] => [label, ...rs.map(f)];
  const rows: string[][] = [
    row('matmul 1024³ (own ceiling), GFLOP/s', (r) => num(r.matmul.gflops, 1)),
    ...(['mlp', 'mlpDropout', 'cnn'] as const).flatMap((k) => [
      row(`train ${rs[0]!.training[k].architecture}, samples/s`, (r) => String(Math.round(r.training[k].samplesPerSec))),
      row('  of own ceiling / of native peak', (r) => `${pct(r.training[k].efficiency)} / ${r.training[k].nativeEfficiency != null ? pct(r.training[k].nativeEfficiency!) : '—'}`),
    ]),
    row('straight line, 61 points × 10,000 samples, s', (r) => num(r.lineEval.seconds, 2)),
    row('loss plane, s', (r) => (r.planeEval ? num(r.planeEval.seconds, 2) : '—')),
    row('Theorem 1 path structure-aware, s', (r) => num(r.theorem1Eval.structured.seconds, 2)),
    row(`preset ${rs[0]!.preset.name}${rs[0]!.preset.estimated ? ' (estimated)' : ''}, s`, (r) => num(r.preset.seconds, 0)),
  ];
  const peak = run.nativePeak;
  return [
    `Side by side${peak ? `; native peak ${num(peak.gflops, 1)} GFLOP/s (ONNX Runtime CPU MatMul 1024³, ${peak.threads} thread${peak.threads === 1 ? '' : 's'})` : '; no native peak (ONNX Runtime does not load)'}`,
    '',
    table(['figure', ...rs.map((r) => r.backend)], rows, 2),
  ].join('\n');
}

/** The backends a bench measures: those named (comma-separated), else every available one but plain-JS 'cpu'. */
export async function benchBackends(named: string | undefined): Promise<string[]> {
  if (named !== undefined) {
    const names = named.split(',').map((n) => n.trim());
    if (names.some((n) => !n)) throw new InputError(`--backend '${named}' names an empty backend (give NAME[,NAME…])`);
    const twice = names.find((n, k) => names.indexOf(n) !== k);
    if (twice) throw new InputError(`--backend names '${twice}' twice`);
    return names;
  }
  return (await probeAll()).filter((p) => p.available && p.name !== 'cpu').map((p) => p.name);
}

export async function benchCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, { quick: { type: 'boolean' }, json: { type: 'boolean' }, backend: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
  if (values['help']) {
    process.stdout.write(`${BENCH_HELP}\n`);
    return 0;
  }
  const quick = Boolean(values['quick']);
  const names = await benchBackends(defaultedBackend(values['backend'] as string | undefined));
  // Every name checked before anything is measured: a typo in the last one does not cost the others' minutes.
  for (const n of names) await checkAvailable(n);
  const run: BenchRun = { schema: BENCH_RUN_SCHEMA, quick, nativePeak: null, results: [] };
  const texts: string[] = [];
  for (const backend of names) {
    const { result, prev } = await benchAndKeep({ quick, backend });
    run.results.push(result);
    texts.push(summary(result, prev));
  }
  run.nativePeak = fastestPeak(run.results.map((r) => r.nativePeak));
  if (run.results.length > 1) texts.push(sideBySide(run));
  process.stdout.write(values['json'] ? `${JSON.stringify(run)}\n` : `${texts.join('\n\n')}\n`);
  return 0;
}

/** An InputError naming what is available when `name` is unknown or not available here. */
async function checkAvailable(name: string): Promise<void> {
  const probes = await probeAll();
  const p = probes.find((q) => q.name === name);
  if (p?.available) return;
  await selectBackend(name); // throws the InputError naming what is available
}

/** Runs the bench on one backend with progress on stderr and keeps its result (<MODELAB_HOME>/bench/); also the
 *  previous comparable result. Used by `modelab bench` and, with the user's consent, by `modelab run --dry-run`. */
export async function benchAndKeep(o: { quick: boolean; backend?: string }): Promise<{ result: BenchResult; prev: BenchResult | null }> {
  const backend = await selectBackend(o.backend);
  const progress = new ProgressRenderer();
  const pointsDir = path.join(os.tmpdir(), `modelab-bench-points-${process.pid}-${randomBytes(4).toString('hex')}`);
  // The line and the plane with 1, 2, … processes computing their points, up to the workers present (parallelism.ts).
  const pointPools = { maxWorkers: workerCount(), open: (workers: number) => pointWorkerPool({ parallel: 'auto', backend: backend.backend, tmpDir: pointsDir, workers }) };
  const result = await runBench(backend, { quick: o.quick, onProgress: (e) => progress.update(e), pointPools }).finally(() => {
    rmSync(pointsDir, { recursive: true, force: true });
  });
  progress.finishLine();
  const dir = benchDirIn(modelabHome());
  const prev = previous(dir, result);
  keepBenchResult(dir, result);
  return { result, prev };
}
