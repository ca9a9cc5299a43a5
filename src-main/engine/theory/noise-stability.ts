/**
 * Noise-stability quantities (arXiv:1906.06247 §4, Definitions 2–4; measured per layer as in App. D.3) per layer and
 * training point.
 * For each sample x, with x^i the pre-activation of layer i and φ the layer's ReLU (then its max-pool, if any):
 * - layer cushion            µ_i(x)   = ‖A_i φ(x^{i−1})‖ / (‖A_i‖_F ‖φ(x^{i−1})‖)   (φ(x^0) = x; A_i without bias)
 * - activation contraction   c_i(x)   = ‖x^i‖ / ‖ReLU(x^i)‖                           (hidden layers)
 * - interlayer cushion       µ_{i,j}(x) = ‖J^{i,j} x^i‖ / (‖J^{i,j}‖ ‖x^i‖), µ_{i→}(x) = min_{j ≥ i} µ_{i,j}(x)
 * - interlayer smoothness    ρ_i(x)   = min over j > i, t, and θ^i / θ^{i−1} of
 *                                        ‖x̂ − x^i‖ ‖x^j‖ / (‖x^i‖ ‖M^{i,j}(x̂) − J^{i,j} x̂‖)
 * J^{i,j} is the Jacobian of the map from x^i to x^j at the clean pass: the network with its ReLU patterns and
 * max-pool selections frozen. ‖J^{i,j}‖ is its spectral norm, by power iteration on JᵀJ. x̂ is the layer-i
 * pre-activation of t·θ + (1−t)·θ^i, θ^i having A_2 … A_i dropped out by Algorithm 1 (θ^1 = θ adds nothing).
 * Choices the paper leaves open, fixed here: ‖A_i‖_F of a conv layer is the Frobenius norm of the linear operator
 * (each kernel tap counted once per output position it reaches); one Algorithm 1 draw with probability p; t on a
 * stated grid; the samples are the first `samples` training evaluation points.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertNoBatchNorm } from '../nn/batchnorm';
import { activation, linearPart, networkInput, preActivation, preActivations } from '../nn/forward';
import { type DeviceParams, type HostParams, disposeParams, toDevice } from '../nn/params';
import { type ArchSpec, layerOutputShapes } from '../nn/spec';
import { throwIfCancelled } from '../util/errors';
import { type ProgressFn, StageTimer, yieldToEventLoop } from '../util/progress';
import { Rng } from '../util/rng';
import { algorithm1 } from './algorithm1';
import { hiddenWidths } from '../nn/units';

export interface NoiseStabilityOptions {
  samples: number;
  /** Power-iteration steps for each spectral norm. */
  iterations: number;
  /** Algorithm 1's dropout probability for the interlayer smoothness. */
  p: number;
  /** Values of t for x̂ (t = 1 is the clean network and is skipped). */
  ts: number[];
  bins: number;
  seed: number;
}

export interface Distribution {
  n: number;
  /** Samples whose value is +∞ (a zero denominator), left out of the statistics. */
  infinite: number;
  min: number;
  p05: number;
  median: number;
  p95: number;
  max: number;
  mean: number;
  histogram: { edges: number[]; counts: number[] };
}

export interface LayerNoiseStats {
  layer: number;
  kind: 'dense' | 'conv';
  layerCushion: Distribution;
  interlayerCushion: Distribution;
  activationContraction?: Distribution;
  interlayerSmoothness?: Distribution;
  /** Fraction of samples with ρ_i ≥ 3d (Definition 4 asks for ρ ≥ 3d). */
  smoothnessAtLeast3d?: number;
}

export interface NoiseStability {
  samples: number;
  p: number;
  ts: number[];
  iterations: number;
  layers: LayerNoiseStats[];
  /** Definition 4 with the minima over the samples: ε = β c d^{3/2} max‖f(x)‖ / (√h_min · min_{2≤i≤d} µ_i µ_{i→}),
   *  β = √2 (cross-entropy over softmax). */
  definition4: { beta: number; c: number; d: number; maxOutputNorm: number; hMin: number; minCushionProduct: number; epsilon: number };
}

export function distribution(values: number[], bins: number): Distribution {
  const finite = values.filter(Number.isFinite).sort((a, b) => a - b);
  const n = finite.length;
  const q = (f: number): number => (n ? finite[Math.min(n - 1, Math.floor(f * (n - 1) + 0.5))]! : NaN);
  const min = n ? finite[0]! : NaN;
  const max = n ? finite[n - 1]! : NaN;
  const width = (max - min) / bins || 1;
  const edges = Array.from({ length: bins + 1 }, (_, k) => min + k * width);
  const counts = Array.from({ length: bins }, () => 0);
  for (const v of finite) counts[Math.min(bins - 1, Math.floor((v - min) / width))]!++;
  return {
    n,
    infinite: values.length - n,
    min,
    p05: q(0.05),
    median: q(0.5),
    p95: q(0.95),
    max,
    mean: n ? finite.reduce((a, b) => a + b, 0) / n : NaN,
    histogram: { edges, counts },
  };
}

/** Per-sample Euclidean norms of a batch tensor [S, …] as a [S] tensor. */
function norms(t: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => tf.sqrt(tf.sum(tf.square(tf.reshape(t, [t.shape[0]!, -1])), 1)) as tf.Tensor1D);
}

/** ‖A_i‖_F of the linear operator of layer i (conv: each tap weighted by the output positions it reaches). */
export function operatorFrobenius(spec: ArchSpec, i: number, theta: HostParams): number {
  const layer = spec.layers[i - 1]!;
  const w = theta[`A${i}.w`]!;
  if (layer.type === 'dense') return Math.sqrt(w.data.reduce((s, v) => s + v * v, 0));
  const [inH, inW] = i === 1 ? spec.input : (layerOutputShapes(spec)[i - 2] as number[]);
  const k = layer.kernel;
  const [cin, cout] = [w.shape[2]!, w.shape[3]!];
  const reach = (size: number, tap: number): number => {
    const out = layer.padding === 'same' ? Math.ceil(size / layer.stride) : Math.floor((size - k) / layer.stride) + 1;
    const pad = layer.padding === 'same' ? Math.floor(Math.max((out - 1) * layer.stride + k - size, 0) / 2) : 0;
    let n = 0;
    for (let o = 0; o < out; o++) {
      const at = o * layer.stride - pad + tap;
      if (at >= 0 && at < size) n++;
    }
    return n;
  };
  let s = 0;
  for (let ky = 0; ky < k; ky++) {
    for (let kx = 0; kx < k; kx++) {
      let tap = 0;
      for (let c = 0; c < cin * cout; c++) tap += w.data[(ky * k + kx) * cin * cout + c]! ** 2;
      s += reach(inH!, ky) * reach(inW!, kx) * tap;
    }
  }
  return Math.sqrt(s);
}

/** The frozen-pattern Jacobian map from layer i's pre-activation to layer j's, at the clean pass. */
class Linearization {
  private readonly relu: tf.Tensor[] = [];
  private readonly pool: (tf.Tensor | null)[] = [];
  constructor(
    private readonly spec: ArchSpec,
    private readonly params: DeviceParams,
    pre: tf.Tensor[],
  ) {
    tf.tidy(() => {
      for (let l = 1; l < spec.layers.length; l++) {
        const p = pre[l - 1]!;
        this.relu.push(tf.keep(tf.step(p)));
        const layer = spec.layers[l - 1]!;
        if (layer.type === 'conv' && layer.pool) {
          const size = layer.pool.size;
          const stride = layer.pool.stride;
          // The gradient of a max-pool is 1 exactly at each window's selected maximum.
          const sel = tf.grad((a: tf.Tensor) => tf.sum(tf.maxPool(a as tf.Tensor4D, size, stride, 'valid')))(tf.relu(p));
          this.pool.push(tf.keep(sel));
        } else this.pool.push(null);
      }
    });
  }

  /** J^{i,j} v for v shaped like x^i. */
  apply(i: number, j: number, v: tf.Tensor): tf.Tensor {
    let y = v;
    for (let l = i + 1; l <= j; l++) {
      let a = tf.mul(y, this.relu[l - 2]!);
      const sel = this.pool[l - 2];
      const prev = this.spec.layers[l - 2]!;
      if (sel && prev.type === 'conv' && prev.pool) {
        const s = prev.pool.size;
        a = tf.mul(tf.avgPool(tf.mul(a, sel) as tf.Tensor4D, s, prev.pool.stride, 'valid'), s * s);
      }
      y = linearPart(this.spec, l, this.params, a);
    }
    return y;
  }

  /** Per-sample spectral norm of J^{i,j} by power iteration on JᵀJ. */
  spectralNorm(i: number, j: number, shape: number[], iterations: number, rng: Rng): tf.Tensor1D {
    return tf.tidy(() => {
      let v: tf.Tensor = tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape);
      const normalize = (t: tf.Tensor): tf.Tensor => {
        const n = tf.reshape(tf.maximum(norms(t), 1e-30), [shape[0]!, ...shape.slice(1).map(() => 1)]);
        return tf.div(t, n);
      };
      v = normalize(v);
      for (let k = 0; k < iterations; k++) {
        const w = tf.keep(this.apply(i, j, v));
        const g = tf.grad((u: tf.Tensor) => tf.sum(tf.mul(this.apply(i, j, u), w)))(v);
        w.dispose();
        v = normalize(g);
      }
      return norms(this.apply(i, j, v));
    });
  }

  dispose(): void {
    this.relu.forEach((t) => t.dispose());
    this.pool.forEach((t) => t?.dispose());
  }
}

export async function measureNoiseStability(
  spec: ArchSpec,
  theta: HostParams,
  x: tf.Tensor2D,
  o: NoiseStabilityOptions,
  ctx: { onProgress?: ProgressFn; signal?: AbortSignal; stage?: string; label?: string } = {},
): Promise<NoiseStability> {
  assertNoBatchNorm(spec, 'Noise stability (Definitions 2–4)');
  const d = spec.layers.length;
  const S = Math.min(o.samples, x.shape[0]);
  const xs = tf.slice(x, [0, 0], [S, x.shape[1]]);
  const rng = new Rng(o.seed);
  const dev = toDevice(theta);
  const drawn = algorithm1(spec, theta, o.p, rng).theta1;
  const timer = new StageTimer(ctx.onProgress, ctx.stage ?? 'noise', ctx.label ?? 'noise stability', d, 'layers');
  const read = async (t: tf.Tensor): Promise<number[]> => {
    const v = Array.from(await t.data());
    t.dispose();
    return v;
  };
  const pre = preActivations(spec, dev, xs);
  const lin = new Linearization(spec, dev, pre);
  const layers: LayerNoiseStats[] = [];
  const extremes = { cushionProduct: Infinity, c: 1 };
  try {
    for (let i = 1; i <= d; i++) {
      throwIfCancelled(ctx.signal);
      const layer = spec.layers[i - 1]!;
      const fro = operatorFrobenius(spec, i, theta);
      const cushion = await read(
        tf.tidy(() => {
          const input = i === 1 ? networkInput(spec, xs) : activation(spec, i - 1, pre[i - 2]!);
          return tf.div(norms(linearPart(spec, i, dev, input)), tf.mul(tf.maximum(norms(input), 1e-30), fro));
        }),
      );
      const xi = pre[i - 1]!;
      const xiNorm = await read(norms(xi));
      // Interlayer cushion: min over j ≥ i (µ_{i,i} = 1).
      const inter = Array.from({ length: S }, () => 1);
      for (let j = i + 1; j <= d; j++) {
        const jx = await read(tf.tidy(() => norms(lin.apply(i, j, xi))));
        const sn = await read(lin.spectralNorm(i, j, xi.shape, o.iterations, rng));
        for (let s = 0; s < S; s++) inter[s] = Math.min(inter[s]!, jx[s]! / Math.max(sn[s]! * xiNorm[s]!, 1e-30));
      }
      const stats: LayerNoiseStats = {
        layer: i,
        kind: layer.type,
        layerCushion: distribution(cushion, o.bins),
        interlayerCushion: distribution(inter, o.bins),
      };
      if (i < d) {
        const c = await read(tf.tidy(() => tf.div(norms(xi), tf.maximum(norms(tf.relu(xi)), 1e-30))));
        stats.activationContraction = distribution(c, o.bins);
        extremes.c = Math.max(extremes.c, ...c.filter(Number.isFinite));
      }
      if (i >= 2) {
        for (let s = 0; s < S; s++) extremes.cushionProduct = Math.min(extremes.cushionProduct, cushion[s]! * inter[s]!);
      }
      if (i >= 2 && i < d) {
        const rho = Array.from({ length: S }, () => Infinity);
        for (const variant of [i, i - 1].filter((v) => v >= 2)) {
          // θ^variant: A_2 … A_variant from the Algorithm 1 draw, the rest from θ.
          for (const t of o.ts.filter((t) => t < 1)) {
            const mixed: HostParams = {};
            for (const [k, v] of Object.entries(theta)) {
              const layerNo = Number(k.slice(1, k.indexOf('.')));
              const other = layerNo >= 2 && layerNo <= variant ? drawn[k]! : v;
              mixed[k] = { shape: v.shape, data: Float32Array.from(v.data, (a, n) => t * a + (1 - t) * other.data[n]!) };
            }
            const mdev = toDevice(mixed);
            const xhat = tf.tidy(() => preActivations(spec, mdev, xs)[i - 1]!);
            disposeParams(mdev);
            const dx = await read(tf.tidy(() => norms(tf.sub(xhat, xi))));
            let y = xhat;
            for (let j = i + 1; j <= d; j++) {
              const next = tf.tidy(() => preActivation(spec, j, dev, activation(spec, j - 1, y)));
              if (y !== xhat) y.dispose();
              y = next;
              const gap = await read(tf.tidy(() => norms(tf.sub(y, lin.apply(i, j, xhat)))));
              const xj = await read(norms(pre[j - 1]!));
              // A zero gap satisfies the inequality for every ρ: it does not constrain ρ.
              for (let s = 0; s < S; s++) if (gap[s]! > 0) rho[s] = Math.min(rho[s]!, (dx[s]! * xj[s]!) / (xiNorm[s]! * gap[s]!));
            }
            if (y !== xhat) y.dispose();
            xhat.dispose();
          }
        }
        stats.interlayerSmoothness = distribution(rho, o.bins);
        stats.smoothnessAtLeast3d = rho.filter((r) => r >= 3 * d).length / S;
      }
      layers.push(stats);
      timer.report(i);
      await yieldToEventLoop();
    }
    const maxOut = Math.max(...(await read(norms(pre[d - 1]!))));
    const hMin = Math.min(...hiddenWidths(spec));
    const beta = Math.SQRT2;
    return {
      samples: S,
      p: o.p,
      ts: o.ts,
      iterations: o.iterations,
      layers,
      definition4: {
        beta,
        c: extremes.c,
        d,
        maxOutputNorm: maxOut,
        hMin,
        minCushionProduct: extremes.cushionProduct,
        epsilon: (beta * extremes.c * d ** 1.5 * maxOut) / (Math.sqrt(hMin) * extremes.cushionProduct),
      },
    };
  } finally {
    lin.dispose();
    pre.forEach((t) => t.dispose());
    xs.dispose();
    disposeParams(dev);
  }
}
