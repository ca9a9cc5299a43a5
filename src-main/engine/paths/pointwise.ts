/**
 * Point-by-point evaluation inside plain straight segments and Bézier curves, with the first layer factored out:
 * θ(t) = Σ_c w_c(t)·θ_c over the segment's control points (two for a line), and the first layer is linear in its
 * weights, so x·A_1(t) = Σ_c w_c(t)·(x·A_1^c). The products x·A_1^c are computed once per control point and every
 * point only pays for layers 2 … d. For a 784-512-512-10 MLP the first layer is 60% of the work. When the cached
 * products would be too large (wide convolutional first layers), points fall back to a full forward pass.
 *
 * Batched: for MLPs (dense layers, no BatchNorm) several points of one segment can run as one computation over
 * stacked weights: the first-layer pre-activations of K points are one product [K, C]·[C, N·h_1] of the point
 * weights with the cached control-point products, and every later layer is a batched matMul [K, N, h]·[K, h, h′]
 * with W_l(u_k) = Σ_c w_c(u_k)·W_l^c formed on the device. Fewer, larger kernels: on by default on the GPU and
 * TensorFlow backends; off on wasm, whose batched matMul is far slower than its plain one (measured here: the
 * 61-point line on 10,000 samples took 336 s batched against 28 s point by point); MODELAB_BATCH_POINTS=1 or 0
 * forces it either way.
 *
 * On ONNX Runtime (an onnx-* backend) the same factoring holds for a dense first layer: the products are host arrays
 * computed once per control point (onnx/evaluate.ts onnxFirstProducts) and each point runs a graph from their mix.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Metrics } from '../eval/evaluate';
import { forward, forwardFromPre, linearPart, networkInput } from '../nn/forward';
import { type HostParams, combineParams, disposeParams, toDevice } from '../nn/params';
import { type ArchSpec, layerMacs } from '../nn/spec';
import type { DeviceSplit } from '../eval/evaluate';
import { evaluateHost, evaluatesOnOnnx } from '../eval/host';
import { onnxEvaluateMixed, onnxFirstProducts } from '../onnx/evaluate';
import type { EvalSplits } from './evaluate-path';
import { type ParamPath, bernstein } from './path';
import { metricsFrom } from './metrics';

/** A per-point rewrite of θ(t) before evaluation, given the global t (BatchNorm recomputation, REPAIR). */
export type PointTransform = (theta: HostParams, t: number) => Promise<HostParams>;

/** Largest first-layer cache per control point (bytes). */
const CACHE_BUDGET = 256 * 1024 * 1024;
/** Largest activation tensor of a batched chunk (floats). */
const BATCH_FLOATS = 16 * 1024 * 1024;

/** Whether batching points pays on the active backend (or as forced by MODELAB_BATCH_POINTS). */
export function batchPointsByDefault(): boolean {
  const forced = process.env['MODELAB_BATCH_POINTS'];
  if (forced === '1' || forced === '0') return forced === '1';
  return !['wasm', 'cpu'].includes(tf.getBackend());
}

export class SegmentPointEvaluator {
  private readonly cache = new Map<number, { train: tf.Tensor[]; test: tf.Tensor[] }>();
  /** The same products on ONNX Runtime, as host arrays. */
  private readonly hostCache = new Map<number, { train: Float32Array[]; test: Float32Array[] }>();
  private readonly onnx = evaluatesOnOnnx();
  private readonly macs: number[];
  private readonly full: number;
  readonly factored: boolean;
  /** Whether points of one segment are evaluated together (see the module comment). */
  readonly batched: boolean;
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
    // On ONNX Runtime only a dense first layer is factored (its product is one MatMul: onnx/evaluate.ts).
    this.factored = spec.layers.length > 1 && (!this.onnx || first.type === 'dense') && outPerSample * (splits.train.n + splits.test.n) * 4 <= CACHE_BUDGET;
    this.batched =
      this.factored && !this.onnx && !transform && batchPointsByDefault() && spec.layers.every((l) => l.type === 'dense' && !l.batchNorm);
  }

  /** Multiply-accumulates one point costs over the evaluation sets (layers 2 … d when the first is factored out). */
  get pointMacs(): number {
    return (this.factored ? this.full - this.macs[0]! : this.full) * (this.splits.train.n + this.splits.test.n);
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

  private async hostFirstLayer(path: ParamPath, v: number): Promise<{ train: Float32Array[]; test: Float32Array[] }> {
    let c = this.hostCache.get(v);
    if (!c) {
      const w = path.vertices[v]!['A1.w']!;
      const { train, test } = this.splits;
      c = { train: await onnxFirstProducts(this.spec, w, train.host, train.batchSize), test: await onnxFirstProducts(this.spec, w, test.host, test.batchSize) };
      this.hostCache.set(v, c);
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
    if (this.onnx && this.factored && theta['A1.w'] === combined['A1.w']) {
      const firsts: { train: Float32Array[]; test: Float32Array[] }[] = [];
      for (const v of ctrl) firsts.push(await this.hostFirstLayer(path, v));
      const { train, test } = this.splits;
      const r = {
        train: await onnxEvaluateMixed(this.spec, theta, firsts.map((f) => f.train), weights, train.host, train.batchSize),
        test: await onnxEvaluateMixed(this.spec, theta, firsts.map((f) => f.test), weights, test.host, test.batchSize),
      };
      this.cost += 1 - this.macs[0]! / this.full;
      return r;
    }
    if (this.onnx) {
      this.cost += 1;
      return { train: await evaluateHost(this.spec, theta, this.splits.train), test: await evaluateHost(this.spec, theta, this.splits.test) };
    }
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

  /** Metrics at several local parameters of one 'line'/'curve' segment (batched where enabled). */
  async evaluateMany(path: ParamPath, seg: number, us: number[]): Promise<{ train: Metrics; test: Metrics }[]> {
    if (!this.batched) {
      const out: { train: Metrics; test: Metrics }[] = [];
      for (const u of us) out.push(await this.evaluate(path, seg, u));
      return out;
    }
    const s = path.segments[seg]!;
    const ctrl = Array.from({ length: s.to - s.from + 1 }, (_, k) => s.from + k);
    const firsts = ctrl.map((v) => this.firstLayer(path, v));
    const widest = Math.max(...this.spec.layers.map((l) => (l.type === 'dense' ? l.units : 0)));
    const rows = Math.max(...[...this.splits.train.batches, ...this.splits.test.batches].map((b) => b.x.shape[0]));
    const chunk = Math.max(1, Math.floor(BATCH_FLOATS / (rows * widest)));
    const out: { train: Metrics; test: Metrics }[] = [];
    for (let start = 0; start < us.length; start += chunk) {
      const part = us.slice(start, start + chunk);
      const coeff = tf.tensor2d(part.flatMap((u) => (s.kind === 'curve' ? bernstein(ctrl.length - 1, u) : [1 - u, u])), [part.length, ctrl.length]);
      // Stacked parameters of every point: [K, …] = coeff · (control-point parameters).
      const stacked: Record<string, tf.Tensor> = {};
      for (const name of Object.keys(path.vertices[s.from]!)) {
        if (name === 'A1.w') continue;
        const t0 = path.vertices[s.from]![name]!;
        const ctl = tf.tensor2d(
          Float32Array.from(ctrl.flatMap((v) => Array.from(path.vertices[v]![name]!.data))),
          [ctrl.length, t0.data.length],
        );
        stacked[name] = tf.tidy(() => tf.reshape(tf.matMul(coeff, ctl), [part.length, ...t0.shape]));
        ctl.dispose();
      }
      const run = async (split: 'train' | 'test', data: DeviceSplit): Promise<Metrics[]> => {
        const sums = tf.tidy(() => {
          let loss: tf.Tensor = tf.zeros([part.length]);
          let correct: tf.Tensor = tf.zeros([part.length]);
          data.batches.forEach((b, k) => {
            const n = b.x.shape[0];
            const F = tf.stack(firsts.map((f) => f[split][k]!)); // [C, N, h1]
            const h1 = F.shape[2]!;
            let y = tf.reshape(tf.matMul(coeff, tf.reshape(F, [ctrl.length, n * h1])), [part.length, n, h1]);
            if (stacked['A1.b']) y = tf.add(y, tf.expandDims(stacked['A1.b'], 1));
            for (let l = 2; l <= this.spec.layers.length; l++) {
              y = tf.matMul(tf.relu(y), stacked[`A${l}.w`]!);
              if (stacked[`A${l}.b`]) y = tf.add(y, tf.expandDims(stacked[`A${l}.b`]!, 1));
            }
            const oneHot = tf.oneHot(b.y, y.shape[2]!);
            loss = tf.add(loss, tf.neg(tf.sum(tf.mul(tf.logSoftmax(y), oneHot), [1, 2])));
            correct = tf.add(correct, tf.sum(tf.cast(tf.equal(tf.argMax(y, 2), b.y), 'float32'), 1));
          });
          return tf.stack([loss, correct]);
        });
        const v = await sums.data();
        sums.dispose();
        return part.map((_, k) => ({ loss: v[k]! / data.n, acc: v[part.length + k]! / data.n }));
      };
      const train = await run('train', this.splits.train);
      const test = await run('test', this.splits.test);
      part.forEach((_, k) => out.push({ train: train[k]!, test: test[k]! }));
      coeff.dispose();
      Object.values(stacked).forEach((t) => t.dispose());
      this.cost += part.length * (1 - this.macs[0]! / this.full);
    }
    return out;
  }

  dispose(): void {
    for (const c of this.cache.values()) [...c.train, ...c.test].forEach((t) => t.dispose());
    this.cache.clear();
    this.hostCache.clear();
  }
}
