/**
 * Structure-aware evaluation of a labelled path (the segment kinds of arXiv:1906.06247 App. A; docs/performance.md).
 * - A (b) or (c) segment leaves the network function unchanged, so its vertices share one function.
 * - An (a) segment changes only A_d, so logits are affine in t along it: logits(t) = (1−t)·logits(V) + t·logits(V′).
 * Vertices are grouped into distinct functions (joined by (b)/(c) segments, and by having bit-identical compact
 * networks), each function is evaluated once at its compact width, and every point of a (a)/(b)/(c) segment follows
 * from its vertices' logits. 'line' segments (plain straight segments) and Bézier 'curve' segments are evaluated
 * point by point, shared with a helper process when one is given (`pointWorkers`, point-workers.ts).
 * Nothing is trusted blindly: every (b)/(c) segment is checked at an interior point against its function, and every
 * (a) segment is checked to touch only the top layer and to be affine at an interior point (on a check batch).
 */
import * as tf from '@tensorflow/tfjs-core';
import { createHash } from 'node:crypto';
import type { PathPoint } from '../eval/barrier';
import { forward } from '../nn/forward';
import { type DeviceParams, type HostParams, disposeParams, lerpParams, toDevice } from '../nn/params';
import { type ArchSpec, forwardMacs } from '../nn/spec';
import { compact, relativeCost } from '../nn/compact';
import { throwIfCancelled } from '../util/errors';
import { type ProgressFn, StageTimer, yieldToEventLoop } from '../util/progress';
import type { EvalSplits } from './evaluate-path';
import { metricsFrom } from './metrics';
import { type ParamPath, locate } from './path';
import type { PointMetrics, PointSession, PointWorkerPool } from './point-workers';
import { sharePoints } from './share-points';
import { type PointTransform, SegmentPointEvaluator } from './pointwise';

export interface PathVerification {
  functionPreserving: { segments: number; maxAbsDiff: number; maxRelDiff: number; tolerance: number; pass: boolean };
  topLayerOnly: { segments: number; violations: string[]; affineMaxRelDiff: number; tolerance: number; pass: boolean };
}

export interface PathCost {
  /** Full-width forward passes over the evaluation sets that the evaluation cost (MAC-weighted, checks included). */
  fullPassEquivalents: number;
  /** What evaluating every point with its own forward pass would cost. */
  naive: number;
  /** Distinct network functions found among the vertices. */
  distinctFunctions: number;
  /** Points on plain straight segments, evaluated one by one. */
  pointwise: number;
}

export interface StructuredEvaluation {
  points: PathPoint[];
  cost: PathCost;
  verification: PathVerification;
}

export const FUNCTION_TOLERANCE = 1e-4;

class UnionFind {
  private readonly parent: number[];
  constructor(n: number) {
    this.parent = Array.from({ length: n }, (_, i) => i);
  }
  find(i: number): number {
    while (this.parent[i] !== i) i = this.parent[i] = this.parent[this.parent[i]!]!;
    return i;
  }
  join(a: number, b: number): void {
    this.parent[this.find(a)] = this.find(b);
  }
}

function paramsKey(spec: ArchSpec, p: HostParams): string {
  const h = createHash('sha1');
  h.update(JSON.stringify(spec.layers.map((l) => (l.type === 'conv' ? l.filters : l.units))));
  for (const [k, v] of Object.entries(p)) {
    h.update(k);
    h.update(Buffer.from(v.data.buffer, v.data.byteOffset, v.data.byteLength));
  }
  return h.digest('hex');
}

function maxAbsRel(a: Float32Array, b: Float32Array): { abs: number; rel: number } {
  let abs = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    abs = Math.max(abs, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(a[i]!));
  }
  return { abs, rel: abs / Math.max(scale, 1e-12) };
}

async function logitsOn(spec: ArchSpec, dev: DeviceParams, x: tf.Tensor2D): Promise<Float32Array> {
  const y = forward(spec, dev, x);
  const v = new Float32Array(await y.data());
  y.dispose();
  return v;
}

interface PendingPoint {
  /** Index into the path's t grid. */
  k: number;
  segment: number;
  u: number;
}

/** Whether the pool evaluates on these evaluation sets (same sizes, same batches). */
function holdsSplits(pool: PointWorkerPool, splits: EvalSplits): boolean {
  const d = pool.evaluationData;
  if (!d) return false;
  const same = (s: EvalSplits['train'], n: number): boolean =>
    s.n === n && s.batches.length === Math.ceil(n / d.batchSize) && (n === 0 || s.batches[0]!.x.shape[0] === Math.min(n, d.batchSize));
  return same(splits.train, d.trainN) && same(splits.test, d.testN);
}

/**
 * The points inside 'line'/'curve' segments. Without a session: here, segment by segment (batched where enabled).
 * With one: shared with the helper (share-points.ts); points it fails on are evaluated here.
 */
async function evaluatePointwise(
  path: ParamPath,
  todo: PendingPoint[],
  ev: SegmentPointEvaluator,
  session: PointSession | null,
  o: { tick: () => Promise<void>; report: () => void; signal?: AbortSignal },
): Promise<{ results: Map<number, PointMetrics>; helperCost: number }> {
  const results = new Map<number, PointMetrics>();
  if (!session) {
    for (let seg = 0; seg < path.segments.length; seg++) {
      const mine = todo.filter((p) => p.segment === seg);
      if (!mine.length) continue;
      const r = await ev.evaluateMany(path, seg, mine.map((p) => p.u));
      for (const [j, p] of mine.entries()) {
        results.set(p.k, r[j]!);
        await o.tick();
      }
    }
    return { results, helperCost: 0 };
  }
  return sharePoints(
    todo,
    async (p) => (await ev.evaluateMany(path, p.segment, [p.u]))[0]!,
    { processes: session.processes, evaluate: (p) => session.evaluate(p.segment, p.u), withdraw: () => session.withdraw(), close: () => session.close() },
    o,
  );
}

export async function evaluatePathStructured(
  spec: ArchSpec,
  path: ParamPath,
  ts: number[],
  splits: EvalSplits,
  checkX: tf.Tensor2D,
  opts: {
    onProgress?: ProgressFn;
    signal?: AbortSignal;
    stage?: string;
    label?: string;
    /** Rewrites θ(t) at every point of a 'line'/'curve' segment strictly inside the path, inner vertices (polygonal
     *  bends) included, before it is evaluated: BatchNorm recomputation or REPAIR (nn/renormalize.ts). The points at
     *  t = 0 and t = 1 keep the endpoints' own logits, so the transform must leave the endpoints unchanged. */
    pointParams?: PointTransform;
    /** A helper process that evaluates a share of the points inside 'line'/'curve' segments (point-workers.ts). It
     *  must hold the same evaluation sets as `splits`; it is not used with `pointParams` or batched evaluation. */
    pointWorkers?: PointWorkerPool;
  } = {},
): Promise<StructuredEvaluation> {
  const d = spec.layers.length;
  const nV = path.vertices.length;
  const evalN = splits.train.n + splits.test.n;
  const checkN = checkX.shape[0];
  const timer = new StageTimer(opts.onProgress, opts.stage ?? `path:${path.name}`, opts.label ?? `path ${path.name}`, nV + path.segments.length + ts.length, 'steps');
  let progress = 0;
  const report = (): void => timer.report(++progress);
  const tick = async (): Promise<void> => {
    throwIfCancelled(opts.signal);
    report();
    await yieldToEventLoop();
  };

  // 1. Distinct functions: join vertices along (b)/(c) segments and by bit-identical compact networks.
  const uf = new UnionFind(nV);
  for (const s of path.segments) if (s.kind === 'b' || s.kind === 'c') uf.join(s.from, s.to);
  const compacts = path.vertices.map((v) => compact(spec, v));
  const byKey = new Map<string, number>();
  compacts.forEach((c, v) => {
    const key = paramsKey(c.spec, c.params);
    const seen = byKey.get(key);
    if (seen === undefined) byKey.set(key, v);
    else uf.join(v, seen);
  });
  // Only segment ends need logits (a Bézier curve's inner control points are not points of the path).
  const ends = new Set(path.segments.flatMap((s) => [s.from, s.to]));
  const members = new Map<number, number[]>();
  for (let v = 0; v < nV; v++) if (ends.has(v)) members.set(uf.find(v), [...(members.get(uf.find(v)) ?? []), v]);

  // 2. Evaluate each function once, at the cheapest compact width among its vertices.
  let cost = 0;
  const pointwiseEval = new SegmentPointEvaluator(spec, splits, opts.pointParams);
  const logits = new Map<number, { train: tf.Tensor2D[]; test: tf.Tensor2D[]; check: Float32Array }>();
  const groupOf = (v: number) => logits.get(uf.find(v))!;
  try {
    for (const [root, vs] of members) {
      const rep = vs.reduce((a, b) => (forwardMacs(compacts[b]!.spec) < forwardMacs(compacts[a]!.spec) ? b : a));
      const c = compacts[rep]!;
      const dev = toDevice(c.params);
      const rel = relativeCost(spec, c.spec);
      logits.set(root, {
        train: splits.train.batches.map((b) => forward(c.spec, dev, b.x)),
        test: splits.test.batches.map((b) => forward(c.spec, dev, b.x)),
        check: await logitsOn(c.spec, dev, checkX),
      });
      disposeParams(dev);
      cost += rel * (1 + checkN / evalN);
      for (let k = 0; k < vs.length; k++) await tick();
    }

    // 3. Verify every segment at an interior point on the check batch (full width).
    const fp = { segments: 0, maxAbsDiff: 0, maxRelDiff: 0 };
    const top = { segments: 0, violations: [] as string[], affineMaxRelDiff: 0 };
    for (const [si, s] of path.segments.entries()) {
      const from = path.vertices[s.from]!;
      const to = path.vertices[s.to]!;
      if (s.kind !== 'line' && s.kind !== 'curve') {
        // The midpoint at its compact width: units dead at both ends are dead in between.
        const mid = compact(spec, lerpParams(from, to, 0.5));
        const dev = toDevice(mid.params);
        const y = await logitsOn(mid.spec, dev, checkX);
        disposeParams(dev);
        cost += relativeCost(spec, mid.spec) * (checkN / evalN);
        if (s.kind === 'a') {
          top.segments++;
          for (const k of Object.keys(from)) {
            if (k.startsWith(`A${d}.`)) continue;
            const a = from[k]!.data;
            const b = to[k]!.data;
            if (a !== b && a.some((x, i) => x !== b[i])) top.violations.push(`segment ${si} changes ${k}`);
          }
          const ya = groupOf(s.from).check;
          const yb = groupOf(s.to).check;
          const affine = ya.map((x, i) => 0.5 * x + 0.5 * yb[i]!);
          top.affineMaxRelDiff = Math.max(top.affineMaxRelDiff, maxAbsRel(affine, y).rel);
        } else {
          fp.segments++;
          const diff = maxAbsRel(groupOf(s.from).check, y);
          const diff2 = maxAbsRel(groupOf(s.to).check, y);
          fp.maxAbsDiff = Math.max(fp.maxAbsDiff, diff.abs, diff2.abs);
          fp.maxRelDiff = Math.max(fp.maxRelDiff, diff.rel, diff2.rel);
        }
      }
      await tick();
    }

    // 4. Points: from the vertices' logits, except inside plain straight segments and curves, which are evaluated
    //    segment by segment (batched where the backend profits).
    const located = ts.map((t) => ({ t, ...locate(path, t) }));
    const needsEval = (p: (typeof located)[number]): boolean => {
      const kind = path.segments[p.segment]!.kind;
      return (kind === 'line' || kind === 'curve') && ((p.local > 0 && p.local < 1) || (opts.pointParams !== undefined && p.t > 0 && p.t < 1));
    };
    const todo: PendingPoint[] = [];
    for (let seg = 0; seg < path.segments.length; seg++) {
      for (const [k, p] of located.entries()) if (p.segment === seg && needsEval(p)) todo.push({ k, segment: seg, u: p.local });
    }
    const pool = opts.pointWorkers;
    const session =
      pool && !opts.pointParams && !pointwiseEval.batched && todo.length >= 2 && holdsSplits(pool, splits)
        ? pool.session(spec, path, todo.length * pointwiseEval.pointMacs)
        : null;
    const shared = await evaluatePointwise(path, todo, pointwiseEval, session, { tick, report, signal: opts.signal });
    const evaluated = shared.results;
    cost += shared.helperCost;
    const points: PathPoint[] = [];
    for (const [k, { t, segment, local }] of located.entries()) {
      const known = evaluated.get(k);
      if (known) {
        points.push({ t, ...known });
        continue;
      }
      const s = path.segments[segment]!;
      const a = groupOf(s.from);
      const b = groupOf(s.to);
      const mix = (x: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor2D =>
        local === 0 ? x : local === 1 ? y : (tf.add(tf.mul(x, 1 - local), tf.mul(y, local)) as tf.Tensor2D);
      points.push({
        t,
        train: await metricsFrom(splits.train, (j) => mix(a.train[j]!, b.train[j]!)),
        test: await metricsFrom(splits.test, (j) => mix(a.test[j]!, b.test[j]!)),
      });
      await tick();
    }
    const pointwise = evaluated.size;
    return {
      points,
      cost: { fullPassEquivalents: cost + pointwiseEval.cost, naive: ts.length, distinctFunctions: members.size, pointwise },
      verification: {
        functionPreserving: { ...fp, tolerance: FUNCTION_TOLERANCE, pass: fp.maxRelDiff <= FUNCTION_TOLERANCE },
        topLayerOnly: {
          ...top,
          tolerance: FUNCTION_TOLERANCE,
          pass: top.violations.length === 0 && top.affineMaxRelDiff <= FUNCTION_TOLERANCE,
        },
      },
    };
  } finally {
    pointwiseEval.dispose();
    for (const g of logits.values()) [...g.train, ...g.test].forEach((t) => t.dispose());
  }
}

