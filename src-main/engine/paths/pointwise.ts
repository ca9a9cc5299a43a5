/**
 * Point-by-point evaluation inside plain straight segments and Bézier curves, with the first layer factored out:
 * θ(t) = Σ_c w_c(t)·θ_c over the segment's control points (two for a line), and the first layer is linear in its
 * weights, so x·A_1(t) = Σ_c w_c(t)·(x·A_1^c). The products x·A_1^c are computed once per control point and every
 * point only pays for layers 2 … d. For a 784-512-512-10 MLP the first layer is 60% of the work. When the cached
 * products would be too large (wide convolutional first layers), points fall back to a full forward pass.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Metrics } from '../eval/evaluate';
import { forward, forwardFromPre, linearPart, networkInput } from '../nn/forward';
import { type HostParams, combineParams, disposeParams, toDevice } from '../nn/params';
import { type ArchSpec, layerMacs } from '../nn/spec';
import type { EvalSplits } from './evaluate-path';
import { type ParamPath, bernstein } from './path';
import { metricsFrom } from './metrics';

/** A per-point rewrite of θ(t) before evaluation, given the global t (BatchNorm recomputation, REPAIR). */
export type PointTransform = (theta: HostParams, t: number) => Promise<HostParams>;

/** Largest first-layer cache per control point (bytes). */
const CACHE_BUDGET = 256 * 1024 * 1024;

export class SegmentPointEvaluator {
  private readonly cache = new Map<number, { train: tf.Tensor[]; test: tf.Tensor[] }>();
  private readonly macs: number[];
  private readonly full: number;
  readonly factored: boolean;
  /** Full-pass equivalents spent so far. */
  cost = 0;

  constructor(
    private readonly spec: ArchSpec,
    private readonly splits: EvalSplits,
    /** Applied to θ(t) before it is evaluated (BN statistics recomputation, REPAIR; see PointTransform). */
    private readonly transform?: PointTransform,
  ) {
    this.macs = layerMacs(spec);
    this.full = this.macs.reduce((a, b) => a + b, 0);
    const first = spec.layers[0]!;
    const outPerSample = this.macs[0]! / (first.type === 'conv' ? first.kernel * first.kernel * spec.input[2] : spec.input[0] * spec.input[1] * spec.input[2]);
    this.factored = spec.layers.length > 1 && outPerSample * (splits.train.n + splits.test.n) * 4 <= CACHE_BUDGET;
  }

  private firstLayer(path: ParamPath, v: number): { train: tf.Tensor[]; test: tf.Tensor[] } {
    let c = this.cache.get(v);
    if (!c) {
      const w = path.vertices[v]!['A1.w']!;
      const dev = { 'A1.w': tf.tensor(w.data, w.shape) };
      const run = (split: EvalSplits['train']) => split.batches.map((b) => tf.tidy(() => linearPart(this.spec, 1, dev, networkInput(this.spec, b.x))));
      c = { train: run(this.splits.train), test: run(this.splits.test) };
      disposeParams(dev);
      this.cache.set(v, c);
      this.cost += this.macs[0]! / this.full;
    }
    return c;
  }

  /** Train and test metrics at local parameter u of segment `seg` of a 'line' or 'curve' kind. */
  async evaluate(path: ParamPath, seg: number, u: number): Promise<{ train: Metrics; test: Metrics }> {
    const s = path.segments[seg]!;
    const ctrl = Array.from({ length: s.to - s.from + 1 }, (_, k) => s.from + k);
    const weights = s.kind === 'curve' ? bernstein(ctrl.length - 1, u) : [1 - u, u];
    const combined: HostParams = combineParams(ctrl.map((v) => path.vertices[v]!), weights);
    const theta = this.transform ? await this.transform(combined, (seg + u) / path.segments.length) : combined;
    // A transform that rewrites A_1 (REPAIR) breaks the factored first layer: that point takes a full pass.
    if (!this.factored || theta['A1.w'] !== combined['A1.w']) {
      const dev = toDevice(theta);
      const r = {
        train: await metricsFrom(this.splits.train, (k) => forward(this.spec, dev, this.splits.train.batches[k]!.x)),
        test: await metricsFrom(this.splits.test, (k) => forward(this.spec, dev, this.splits.test.batches[k]!.x)),
      };
      disposeParams(dev);
      this.cost += 1;
      return r;
    }
    const firsts = ctrl.map((v) => this.firstLayer(path, v));
    const rest: HostParams = Object.fromEntries(Object.entries(theta).filter(([k]) => !k.startsWith('A1.w')));
    const dev = toDevice(rest);
    const pre = (split: 'train' | 'test', k: number): tf.Tensor => {
      let y = tf.addN(firsts.map((f, c) => tf.mul(f[split][k]!, weights[c]!)));
      if (dev['A1.b']) y = tf.add(y, dev['A1.b']);
      return y;
    };
    const r = {
      train: await metricsFrom(this.splits.train, (k) => forwardFromPre(this.spec, dev, 1, pre('train', k))),
      test: await metricsFrom(this.splits.test, (k) => forwardFromPre(this.spec, dev, 1, pre('test', k))),
    };
    disposeParams(dev);
    this.cost += 1 - this.macs[0]! / this.full;
    return r;
  }

  dispose(): void {
    for (const c of this.cache.values()) [...c.train, ...c.test].forEach((t) => t.dispose());
    this.cache.clear();
  }
}
