/**
 * The 2D loss plane through three networks θ_A, θ_B, θ_C (Garipov et al.'s plane.py; Git Re-Basin's plane through
 * A, B, π(B)). An orthonormal basis by Gram–Schmidt over every coordinate (BatchNorm statistics excluded, they are not
 * coordinates): u = (θ_B − θ_A)/‖θ_B − θ_A‖, v = the normalised part of θ_C − θ_A orthogonal to u. Plane coordinates
 * (x, y) are Euclidean distances in parameter space: θ_A = (0, 0), θ_B = (‖θ_B − θ_A‖, 0), θ_C = (p, q) with q > 0.
 * The point at (x, y) is θ_A + x·u + y·v = (1−a−c)·θ_A + a·θ_B + c·θ_C with a = (x − y·p/q)/‖θ_B − θ_A‖, c = y/q; the
 * same affine combination is applied to BatchNorm statistics (then recomputed, when the network has BN).
 *
 * Evaluation: every grid point is a full network, but the first layer is linear in the weights, so x·A_1(a, c) =
 * (1−a−c)·x·A_1^A + a·x·A_1^B + c·x·A_1^C: the three products are computed once per evaluation batch and each point pays
 * only for layers 2 … d (the same factoring as paths/pointwise.ts). When the cached products would be too large
 * (wide convolutional first layers) points take a full forward pass.
 *
 * The grid's cells (and the extra points) are independent: given a helper pool (`share`, paths/point-workers.ts) they
 * are shared with its processes (paths/share-points.ts), which evaluate them with this same PlaneEvaluator on the
 * same samples batched alike; a cell a helper fails on is evaluated here.
 *
 * Paths are projected exactly: θ(t) = Σ_k c_k(t)·V_k over a segment's vertices, so ⟨θ(t) − θ_A, w⟩ = Σ_k c_k(t)·⟨V_k −
 * θ_A, w⟩ and ‖θ(t) − θ_A‖² = Σ_kl c_k c_l ⟨V_k − θ_A, V_l − θ_A⟩; each path point gets (x, y) and its distance from
 * the plane.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DeviceSplit, Metrics } from '../eval/evaluate';
import { forward, forwardFromPre, linearPart, networkInput } from '../nn/forward';
import { type HostParams, combineParams, disposeParams, toDevice } from '../nn/params';
import { type ArchSpec, forwardMacs, isBatchNormStat, layerMacs } from '../nn/spec';
import { type ParamPath, bernstein, locate } from '../paths/path';
import { metricsFrom } from '../paths/metrics';
import type { PointMetrics, PointWorkerPool } from '../paths/point-workers';
import type { PointTransform } from '../paths/pointwise';
import { sharePoints } from '../paths/share-points';
import { InputError, throwIfCancelled } from '../util/errors';
import { type ProgressFn, StageTimer, yieldToEventLoop } from '../util/progress';

export interface PlaneFrame {
  A: HostParams;
  B: HostParams;
  C: HostParams;
  /** ‖θ_B − θ_A‖. */
  lengthAB: number;
  /** θ_C's coordinates (p, q): p = ⟨θ_C − θ_A, u⟩, q = ‖θ_C − θ_A − p·u‖. */
  p: number;
  q: number;
}

function dot(a: HostParams, b: HostParams, c: HostParams, d: HostParams): number {
  // ⟨a − b, c − d⟩ over the coordinates, float64.
  let s = 0;
  for (const k of Object.keys(a)) {
    if (isBatchNormStat(k)) continue;
    const [x, y, z, w] = [a[k]!.data, b[k]!.data, c[k]!.data, d[k]!.data];
    for (let e = 0; e < x.length; e++) s += (x[e]! - y[e]!) * (z[e]! - w[e]!);
  }
  return s;
}

export function planeFrame(A: HostParams, B: HostParams, C: HostParams): PlaneFrame {
  const ab = dot(B, A, B, A);
  const lengthAB = Math.sqrt(ab);
  if (!(lengthAB > 0)) throw new InputError('the plane needs two different networks θ_A ≠ θ_B');
  const p = dot(C, A, B, A) / lengthAB;
  const q = Math.sqrt(Math.max(dot(C, A, C, A) - p * p, 0));
  if (!(q > 1e-9 * Math.max(lengthAB, 1))) throw new InputError('the third point of the plane lies on the line through θ_A and θ_B');
  return { A, B, C, lengthAB, p, q };
}

/** Coefficients (of θ_A, θ_B, θ_C) of the plane point (x, y). */
export function planeWeights(f: PlaneFrame, x: number, y: number): [number, number, number] {
  const c = y / f.q;
  const a = (x - (y * f.p) / f.q) / f.lengthAB;
  return [1 - a - c, a, c];
}

export function planePoint(f: PlaneFrame, x: number, y: number): HostParams {
  return combineParams([f.A, f.B, f.C], planeWeights(f, x, y));
}

/** (x, y) of any network in the plane's coordinates, and its distance from the plane. */
export function planeCoordinates(f: PlaneFrame, theta: HostParams): { x: number; y: number; offPlane: number } {
  const g = dot(theta, f.A, f.B, f.A);
  const h = dot(theta, f.A, f.C, f.A);
  const x = g / f.lengthAB;
  const y = (h - f.p * x) / f.q;
  const n2 = dot(theta, f.A, theta, f.A);
  return { x, y, offPlane: Math.sqrt(Math.max(n2 - x * x - y * y, 0)) };
}

/** The grid: `size` values per axis over the three points' extent plus `margin` of it on every side. */
export function planeGrid(f: PlaneFrame, size: number, margin: number): { xs: number[]; ys: number[] } {
  const xr = [Math.min(0, f.p), Math.max(f.lengthAB, f.p)];
  const yr = [0, f.q];
  const axis = ([lo, hi]: number[]): number[] => {
    const w = hi! - lo!;
    const [a, b] = [lo! - margin * w, hi! + margin * w];
    return Array.from({ length: size }, (_, k) => (size === 1 ? (a + b) / 2 : a + ((b - a) * k) / (size - 1)));
  };
  return { xs: axis(xr), ys: axis(yr) };
}

export interface ProjectedPath {
  name: string;
  t: number[];
  x: number[];
  y: number[];
  offPlane: number[];
}

/** Exact projection of a path's points at `ts` onto the plane. */
export function projectPath(f: PlaneFrame, path: ParamPath, ts: number[]): ProjectedPath {
  const gram = new Map<string, number>();
  const g = (i: number, j: number): number => {
    const key = i < j ? `${i},${j}` : `${j},${i}`;
    let v = gram.get(key);
    if (v === undefined) {
      v = dot(path.vertices[i]!, f.A, path.vertices[j]!, f.A);
      gram.set(key, v);
    }
    return v;
  };
  const along = path.vertices.map((v) => dot(v, f.A, f.B, f.A));
  const toward = path.vertices.map((v) => dot(v, f.A, f.C, f.A));
  const out: ProjectedPath = { name: path.name, t: [], x: [], y: [], offPlane: [] };
  for (const t of ts) {
    const { segment, local } = locate(path, t);
    const s = path.segments[segment]!;
    const idx = s.kind === 'curve' ? Array.from({ length: s.to - s.from + 1 }, (_, k) => s.from + k) : [s.from, s.to];
    const w = s.kind === 'curve' ? bernstein(idx.length - 1, local) : [1 - local, local];
    let [gx, hx, n2] = [0, 0, 0];
    idx.forEach((i, a) => {
      gx += w[a]! * along[i]!;
      hx += w[a]! * toward[i]!;
      idx.forEach((j, b) => (n2 += w[a]! * w[b]! * g(i, j)));
    });
    const x = gx / f.lengthAB;
    const y = (hx - f.p * x) / f.q;
    out.t.push(t);
    out.x.push(x);
    out.y.push(y);
    out.offPlane.push(Math.sqrt(Math.max(n2 - x * x - y * y, 0)));
  }
  return out;
}

/** Largest cache of first-layer products per plane point (bytes). */
const CACHE_BUDGET = 256 * 1024 * 1024;

/** Evaluates plane points on fixed train/test splits with the first layer factored out (see above). */
export class PlaneEvaluator {
  private readonly firsts: { train: tf.Tensor[]; test: tf.Tensor[] }[] = [];
  readonly factored: boolean;
  /** Full-pass equivalents spent (MAC-weighted). */
  cost = 0;
  /** The first layer's share of a full pass. */
  readonly share: number;

  constructor(
    private readonly spec: ArchSpec,
    private readonly frame: PlaneFrame,
    private readonly splits: { train: DeviceSplit; test: DeviceSplit },
    private readonly transform?: PointTransform,
  ) {
    const macs = layerMacs(spec);
    this.share = macs[0]! / macs.reduce((a, b) => a + b, 0);
    const first = spec.layers[0]!;
    const perSample = macs[0]! / (first.type === 'conv' ? first.kernel * first.kernel * spec.input[2] : spec.input[0] * spec.input[1] * spec.input[2]);
    this.factored = spec.layers.length > 1 && 3 * perSample * (splits.train.n + splits.test.n) * 4 <= CACHE_BUDGET;
    if (this.factored) {
      for (const p of [frame.A, frame.B, frame.C]) {
        const dev = { 'A1.w': tf.tensor(p['A1.w']!.data, p['A1.w']!.shape) };
        const run = (s: DeviceSplit) => s.batches.map((b) => tf.tidy(() => linearPart(spec, 1, dev, networkInput(spec, b.x))));
        this.firsts.push({ train: run(splits.train), test: run(splits.test) });
        disposeParams(dev);
        this.cost += this.share;
      }
    }
  }

  async evaluate(x: number, y: number): Promise<{ train: Metrics; test: Metrics }> {
    const w = planeWeights(this.frame, x, y);
    const combined = combineParams([this.frame.A, this.frame.B, this.frame.C], w);
    // A transform gets the plane point's "t" as its position along A → B (used by nothing but REPAIR, which the plane
    // does not offer); BN recomputation ignores it.
    const theta = this.transform ? await this.transform(combined, Math.min(Math.max(w[1], 0), 1)) : combined;
    const splits = this.splits;
    if (!this.factored || theta['A1.w'] !== combined['A1.w']) {
      const dev = toDevice(theta);
      const r = {
        train: await metricsFrom(splits.train, (k) => forward(this.spec, dev, splits.train.batches[k]!.x)),
        test: await metricsFrom(splits.test, (k) => forward(this.spec, dev, splits.test.batches[k]!.x)),
      };
      disposeParams(dev);
      this.cost += 1;
      return r;
    }
    const rest: HostParams = Object.fromEntries(Object.entries(theta).filter(([k]) => k !== 'A1.w'));
    const dev = toDevice(rest);
    const pre = (split: 'train' | 'test', k: number): tf.Tensor => {
      let yv = tf.addN(this.firsts.map((f, c) => tf.mul(f[split][k]!, w[c]!)));
      if (dev['A1.b']) yv = tf.add(yv, dev['A1.b']);
      return yv;
    };
    const r = {
      train: await metricsFrom(splits.train, (k) => forwardFromPre(this.spec, dev, 1, pre('train', k))),
      test: await metricsFrom(splits.test, (k) => forwardFromPre(this.spec, dev, 1, pre('test', k))),
    };
    disposeParams(dev);
    this.cost += 1 - this.share;
    return r;
  }

  dispose(): void {
    for (const f of this.firsts) [...f.train, ...f.test].forEach((t) => t.dispose());
    this.firsts.length = 0;
  }
}

export interface PlaneGridResult {
  xs: number[];
  ys: number[];
  /** Row-major over y: value[iy][ix] at (xs[ix], ys[iy]). */
  train: { loss: number[][]; acc: number[][] };
  test: { loss: number[][]; acc: number[][] };
  cost: { points: number; fullPassEquivalents: number; factored: boolean };
  /** Metrics at the `extra` points (e.g. the three networks' own coordinates), in order. */
  extra: { train: Metrics; test: Metrics }[];
}

/** Sharing the grid with helper processes: the pool, and how many of the evaluation sets' first samples `splits` are
 *  (the helpers hold the whole evaluation sets, batched as `splits`). Not with a transform (it stays in this process). */
export interface PlaneSharing {
  pool: PointWorkerPool;
  samples: { train: number; test: number };
}

export async function evaluatePlaneGrid(
  spec: ArchSpec,
  frame: PlaneFrame,
  grid: { xs: number[]; ys: number[] },
  splits: { train: DeviceSplit; test: DeviceSplit },
  opts: {
    transform?: PointTransform;
    extra?: { x: number; y: number }[];
    onProgress?: ProgressFn;
    signal?: AbortSignal;
    stage?: string;
    label?: string;
    share?: PlaneSharing;
  } = {},
): Promise<PlaneGridResult> {
  const ev = new PlaneEvaluator(spec, frame, splits, opts.transform);
  const extra = opts.extra ?? [];
  const total = grid.xs.length * grid.ys.length + extra.length;
  const timer = new StageTimer(opts.onProgress, opts.stage ?? 'plane', opts.label ?? 'loss plane', total, 'points');
  const empty = () => grid.ys.map(() => grid.xs.map(() => NaN));
  const out: PlaneGridResult = {
    xs: grid.xs,
    ys: grid.ys,
    train: { loss: empty(), acc: empty() },
    test: { loss: empty(), acc: empty() },
    cost: { points: total, fullPassEquivalents: 0, factored: ev.factored },
    extra: [],
  };
  // The extra points first, then the grid row by row: k < extra.length is extra[k], else cell k − extra.length.
  const points = [...extra, ...grid.ys.flatMap((y) => grid.xs.map((x) => ({ x, y })))].map((p, k) => ({ k, ...p }));
  const place = (k: number, m: PointMetrics): void => {
    if (k < extra.length) return void (out.extra[k] = m);
    const [iy, ix] = [Math.floor((k - extra.length) / grid.xs.length), (k - extra.length) % grid.xs.length];
    out.train.loss[iy]![ix] = m.train.loss;
    out.train.acc[iy]![ix] = m.train.acc;
    out.test.loss[iy]![ix] = m.test.loss;
    out.test.acc[iy]![ix] = m.test.acc;
  };
  const macs = total * (forwardMacs(spec) * (ev.factored ? 1 - ev.share : 1)) * (splits.train.n + splits.test.n);
  const session = opts.share && !opts.transform && total >= 2 ? (opts.share.pool.planeSession?.(spec, frame, opts.share.samples, macs) ?? null) : null;
  let done = 0;
  try {
    if (session) {
      const report = (): void => timer.report(++done);
      const tick = async (): Promise<void> => {
        report();
        await yieldToEventLoop();
        throwIfCancelled(opts.signal);
      };
      const shared = await sharePoints(points, (p) => ev.evaluate(p.x, p.y), {
        processes: session.processes,
        evaluate: (p) => session.evaluate(p.x, p.y),
        withdraw: () => session.withdraw(),
        close: () => session.close(),
      }, { tick, report, signal: opts.signal });
      for (const [k, m] of shared.results) place(k, m);
      out.cost.fullPassEquivalents = ev.cost + shared.helperCost;
      return out;
    }
    for (const p of points) {
      throwIfCancelled(opts.signal);
      const m = await ev.evaluate(p.x, p.y);
      place(p.k, m);
      timer.report(++done, p.k < extra.length ? undefined : { trainLoss: m.train.loss });
      if (p.k >= extra.length) await yieldToEventLoop();
    }
    out.cost.fullPassEquivalents = ev.cost;
    return out;
  } finally {
    ev.dispose();
  }
}
