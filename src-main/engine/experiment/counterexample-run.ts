/**
 * Runs the Theorem 4 counterexample: the generated dataset, the two exact global minimizers, the straight line between
 * them, and the best paths ModeLab's curve methods find (a trained quadratic Bézier curve and a one-bend polygonal
 * chain). The theorem says every path has a barrier; the report shows how large each method's is. The "test" split is
 * the training set itself (there is no other data).
 */
import type { BackendRecord } from '../backend/backends';
import { type PathPoint, barrierOf } from '../eval/barrier';
import type { HostParams } from '../nn/params';
import type { ArchSpec } from '../nn/spec';
import { describeArch, parameterCount } from '../nn/spec';
import {
  type CurveKind,
  type StudentParams,
  counterexampleData,
  counterexampleMetrics,
  curvePoint,
  flatten,
  studentMinimizer,
  teacherMinimizer,
  trainCurve,
  unflatten,
} from '../theory/counterexample';
import { type Split, sha256 } from '../data/dataset';
import type { ProgressFn } from '../util/progress';
import { StageTimer } from '../util/progress';
import { deriveSeed } from '../util/rng';
import type { PathConstruction } from './construction';
import { runPlan, stageKey } from '../recipe/plan';
import { type RunEvent, type RunEventSink, tellNow } from './events';
import type { EndpointResult, PathResult, RunResult } from './result';
import { type CounterexamplePathKind, counterexamplePathCheck } from './counterexample-checks';
import { runStart } from './result';
import { applyRunEvent, emptyRun, finishedRun } from './run-so-far';
import type { CounterexampleRecipe } from '../recipe/schema';

function toHost(p: StudentParams): HostParams {
  const h = p.w.length;
  const d = h + 2;
  // Our dense layout is [in, out]: A1.w[c, j] = A[j][c].
  const w1 = new Float32Array(d * h);
  p.A.forEach((row, j) => row.forEach((v, c) => (w1[c * h + j] = v)));
  return { 'A1.w': { shape: [d, h], data: w1 }, 'A2.w': { shape: [h, 1], data: Float32Array.from(p.w) } };
}

export async function runCounterexample(
  recipe: CounterexampleRecipe,
  opts: {
    backend: BackendRecord;
    preset?: string;
    /** What the run computes as it goes, its progress included, as experiment/run.ts reports it (experiment/events.ts). */
    onEvent?: RunEventSink;
  },
): Promise<RunResult> {
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const h = recipe.width;
  const data = counterexampleData(h);
  const spec: ArchSpec = {
    input: [1, 1, h + 2],
    layers: [
      { type: 'dense', units: h, bias: false, dropout: 0 },
      { type: 'dense', units: 1, bias: false, dropout: 0 },
    ],
  };
  const split: Split = { x: Float32Array.from(data.x.flat()), y: Int32Array.from(data.y), n: data.x.length };
  const dataset: Omit<RunResult['dataset'], 'evalTrainSize' | 'evalTestSize'> = {
    name: 'counterexample',
    source: `Theorem 4 dataset for width h = ${h}: k = ${data.sizes.k}, l = ${data.sizes.l}, m = ${data.sizes.m}, n = ${data.sizes.n}`,
    checksum: sha256(JSON.stringify(data)),
    normalization: { kind: 'none' },
    inputShape: [1, 1, h + 2],
    classes: 1,
    trainSize: data.x.length,
    testSize: data.x.length,
  };
  // The document is the fold of the run's events, as in experiment/run.ts.
  let run = emptyRun;
  const emit = async (e: RunEvent): Promise<void> => {
    run = applyRunEvent(run, e);
    await opts.onEvent?.(e);
  };
  const start = runStart(recipe, opts, startedAt, 'host arithmetic (float64); no tensors');
  const architecture = { spec, description: `${describeArch(spec)}, one output, squared loss`, parameters: parameterCount(spec) };
  await emit({ kind: 'environment', start });
  await emit({ kind: 'plan', plan: runPlan(recipe), architecture, dataset });
  await emit({ kind: 'eval-data', sets: { train: split, test: split } });
  const ends = { teacher: teacherMinimizer(h), student: studentMinimizer(h) };
  const endpoints: EndpointResult[] = [];
  for (const [index, [name, p]] of Object.entries(ends).entries()) {
    const m = counterexampleMetrics(p, data);
    const e: EndpointResult = { name, seed: 0, train: m, test: m, training: { steps: 0, samples: 0, seconds: 0, samplesPerSec: 0, curve: [] } };
    endpoints.push(e);
    await emit({ kind: 'endpoint', index, endpoint: e, params: toHost(p) });
  }
  const a = flatten(ends.teacher);
  const b = flatten(ends.student);
  const ts = Array.from({ length: recipe.points }, (_, k) => k / (recipe.points - 1));
  const evaluateCurve = (theta: (t: number) => number[]): PathPoint[] =>
    ts.map((t) => {
      const m = counterexampleMetrics(unflatten(theta(t), h), data);
      return { t, train: m, test: m };
    });
  const paths: PathResult[] = [];
  const timings: Record<string, number> = {};
  const add = async (name: string, made: PathConstruction, vertices: number[][], points: PathPoint[], seconds: number): Promise<void> => {
    const kind = made.kind;
    const hv = vertices.map((v) => toHost(unflatten(v, h)));
    // A Bézier curve is one 'curve' segment over its control points; polylines are straight segments.
    const segments =
      kind === 'bezier'
        ? [{ from: 0, to: hv.length - 1, kind: 'curve' as const }]
        : hv.slice(1).map((_, s) => ({ from: s, to: s + 1, kind: 'line' as const }));
    const place = { kind }; // `kind` second and `construction` last in the document, as in paths.ts
    // The path's function as its points were evaluated: its ends are checked against the minimizers themselves.
    const at = (t: number): number[] =>
      kind === 'linear' ? vertices[0]!.map((v, i) => (1 - t) * v + t * vertices[1]![i]!) : curvePoint(kind as CurveKind, vertices[0]!, vertices[1]!, vertices[2]!, t).theta;
    const result: PathResult = {
      name,
      ...place,
      from: 'teacher',
      to: 'student',
      segments,
      points,
      barrier: barrierOf(points),
      cost: { fullPassEquivalents: points.length, naive: points.length, distinctFunctions: vertices.length, pointwise: points.length },
      check: counterexamplePathCheck({ kind: kind as CounterexamplePathKind, at, from: a, to: b, segments: segments.length, points }),
      ...made,
    };
    timings[stageKey.path(name)] = seconds;
    await emit({ kind: 'path', index: paths.length, result, path: { name, method: kind, vertices: hv, segments } });
    paths.push(result);
  };
  let t1 = performance.now();
  await add('linear', { kind: 'linear', construction: { renormalize: 'none' } }, [a, b], evaluateCurve((t) => a.map((v, i) => (1 - t) * v + t * b[i]!)), (performance.now() - t1) / 1000);
  const onEvent = opts.onEvent;
  const onProgress: ProgressFn | undefined = onEvent && ((progress) => tellNow(onEvent, { kind: 'progress', progress }));
  const timer = new StageTimer(onProgress, stageKey.curves, 'trained curves', 2, 'curves');
  for (const [k, kind] of (['bezier', 'polychain'] as CurveKind[]).entries()) {
    t1 = performance.now();
    const c = trainCurve(kind, a, b, data, recipe.curves.steps, recipe.curves.lr, deriveSeed(recipe.seed, `curve:${kind}`));
    const points = evaluateCurve((t) => curvePoint(kind, a, c, b, t).theta);
    const bend = counterexampleMetrics(unflatten(c, h), data);
    // A polygonal chain passes through its bend; a Bézier curve's vertices are its control points.
    await add(kind, { kind, construction: { steps: recipe.curves.steps, lr: recipe.curves.lr, bend } }, [a, c, b], points, (performance.now() - t1) / 1000);
    timer.report(k + 1);
  }
  timings['total'] = (performance.now() - t0) / 1000;
  await emit({ kind: 'done', finishedAt: new Date().toISOString(), timings: { ...timings } });
  return finishedRun(run);
}
