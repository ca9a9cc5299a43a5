/**
 * Permutation alignment of θ_B to θ_A (Ainsworth et al. 2022, Git Re-Basin).
 *
 * Weight matching: maximise Σ_tensors ⟨W_A, π(W_B)⟩ over the hidden-unit permutations by coordinate descent. For one
 * layer's permutation P_i with the others fixed the objective is linear in P_i: S[j, k] = ⟨unit j of θ_A, unit k of
 * θ_B⟩ summed over every tensor touching layer i's units (its row of A_i with B's columns permuted by P_{i−1}, its
 * column of A_{i+1} with B's rows permuted by P_{i+1}, bias and BatchNorm γ/β), a linear assignment problem. Layers
 * are visited in a random order per sweep until a sweep improves nothing (as git-re-basin's `weight_matching`).
 * BatchNorm statistics are permuted along but do not enter the objective (they are not coordinates).
 *
 * Activation matching: for each hidden layer, the Pearson correlation between A's and B's unit outputs (after BN,
 * ReLU and pooling; conv channels pooled over batch and positions) on training samples, and one assignment per layer
 * maximising the summed correlation (as REPAIR and Tatro et al.; git-re-basin uses raw inner products). Layers are
 * independent: a unit's output does not depend on how the other layers are ordered.
 */
import * as tf from '@tensorflow/tfjs-core';
import { matMulT } from '../nn/dense';
import { hiddenOutputs } from '../nn/forward';
import { type HostParams, disposeParams, toDevice } from '../nn/params';
import { type ArchSpec, isBatchNormStat } from '../nn/spec';
import { throwIfCancelled } from '../util/errors';
import { type ProgressFn, StageTimer, yieldToEventLoop } from '../util/progress';
import { Rng } from '../util/rng';
import { assignmentValue, solveLap } from './lap';
import { type Permutation, applyPermutation, identityPermutation, movedFractions, permuteKernel, permutationGroups } from './permutation';

export interface MatchingResult {
  method: 'weight' | 'activation';
  perm: Permutation;
  /** Weight matching: sweeps over the layers; activation matching: 1. */
  iterations: number;
  converged: boolean;
  /** Weight matching: ⟨θ_A, π(θ_B)⟩ over every non-statistic tensor, before (π = id) and after.
   *  Activation matching: mean correlation of the matched units, before and after, per hidden layer. */
  objective: { before: number; after: number; perLayer?: { before: number; after: number }[] };
  /** Fraction of units each hidden layer's permutation moves. */
  moved: number[];
  /** Wall-clock seconds spent in the assignment solver and in total. */
  lapSeconds: number;
  seconds: number;
}

interface Opts {
  onProgress?: ProgressFn;
  signal?: AbortSignal;
  stage?: string;
  label?: string;
}

/** ⟨θ_A, θ_B⟩ over the non-statistic tensors (float64). */
export function innerProduct(A: HostParams, B: HostParams): number {
  let s = 0;
  for (const [k, a] of Object.entries(A)) {
    if (isBatchNormStat(k)) continue;
    const b = B[k]!.data;
    for (let e = 0; e < a.data.length; e++) s += a.data[e]! * b[e]!;
  }
  return s;
}

/** S[j, k] for one permutation group given the other layers' current permutations. */
function similarity(spec: ArchSpec, A: HostParams, B: HostParams, perm: Permutation, k: number): Float64Array {
  const groups = permutationGroups(spec, A);
  const g = groups[k]!;
  const n = g.size;
  const d = spec.layers.length;
  const s = tf.tidy(() => {
    // Rows of A_i: the kernel as [P·G, R]; B's column groups permuted by P_{i−1}.
    const { geo } = g.kernel;
    const ka = tf.tensor2d(A[g.kernel.name]!.data, [geo.block * geo.cols, geo.rows]);
    const kb = tf.tensor2d(permuteKernel(B[g.kernel.name]!.data, geo, null, k > 0 ? perm[k - 1]! : null), [geo.block * geo.cols, geo.rows]);
    let m = matMulT(ka, kb, true, false);
    // Columns of A_{i+1}: the kernel as [P', G', R'] → [G', P'·R']; B's rows permuted by P_{i+1}.
    const ng = g.next.geo;
    const cols = (data: Float32Array) => tf.reshape(tf.transpose(tf.tensor3d(data, [ng.block, ng.cols, ng.rows]), [1, 0, 2]), [ng.cols, ng.block * ng.rows]) as tf.Tensor2D;
    const rowPerm = g.layer + 1 < d ? perm[k + 1]! : null;
    m = tf.add(m, matMulT(cols(A[g.next.name]!.data), cols(permuteKernel(B[g.next.name]!.data, ng, rowPerm, null)), false, true));
    for (const v of g.vectors) {
      if (isBatchNormStat(v)) continue;
      m = tf.add(m, tf.outerProduct(tf.tensor1d(A[v]!.data), tf.tensor1d(B[v]!.data)));
    }
    return m;
  });
  const out = Float64Array.from(s.dataSync());
  s.dispose();
  if (out.length !== n * n) throw new Error('similarity matrix of the wrong size');
  return out;
}

export async function weightMatching(
  spec: ArchSpec,
  A: HostParams,
  B: HostParams,
  cfg: { maxIterations: number; seed: number },
  opts: Opts = {},
): Promise<MatchingResult> {
  const t0 = performance.now();
  const groups = permutationGroups(spec, A);
  const perm = identityPermutation(spec);
  const rng = new Rng(cfg.seed);
  const timer = new StageTimer(opts.onProgress, opts.stage ?? 'align', opts.label ?? 'weight matching', cfg.maxIterations, 'sweeps');
  let lapSeconds = 0;
  let iterations = 0;
  let converged = false;
  const before = innerProduct(A, B);
  for (let it = 0; it < cfg.maxIterations; it++) {
    throwIfCancelled(opts.signal);
    iterations++;
    let progress = false;
    for (const k of rng.permutation(groups.length)) {
      const n = groups[k]!.size;
      const S = similarity(spec, A, B, perm, k);
      const l0 = performance.now();
      const sigma = solveLap(S, n, { maximize: true });
      lapSeconds += (performance.now() - l0) / 1000;
      const oldL = assignmentValue(S, n, perm[k]!);
      const newL = assignmentValue(S, n, sigma);
      if (newL > oldL + 1e-12 * Math.max(1, Math.abs(oldL))) {
        progress = true;
        perm[k] = sigma;
      }
    }
    timer.report(iterations);
    await yieldToEventLoop();
    if (!progress) {
      converged = true;
      break;
    }
  }
  const after = innerProduct(A, applyPermutation(spec, B, perm));
  return { method: 'weight', perm, iterations, converged, objective: { before, after }, moved: movedFractions(perm), lapSeconds, seconds: (performance.now() - t0) / 1000 };
}

/** Per hidden layer: Pearson correlations corr[j, k] between A's unit j and B's unit k on the sample batches. */
export async function unitCorrelations(spec: ArchSpec, A: HostParams, B: HostParams, xs: tf.Tensor2D[]): Promise<Float64Array[]> {
  const widths = permutationGroups(spec).map((g) => g.size);
  const acc = widths.map((h) => ({ m: 0, sa: new Float64Array(h), sb: new Float64Array(h), qa: new Float64Array(h), qb: new Float64Array(h), ab: new Float64Array(h * h) }));
  const [da, db] = [toDevice(A), toDevice(B)];
  try {
    for (const x of xs) {
      const parts = tf.tidy(() => {
        const [oa, ob] = [hiddenOutputs(spec, da, x), hiddenOutputs(spec, db, x)];
        return oa.map((a, k) => {
          const h = widths[k]!;
          const a2 = tf.reshape(a, [-1, h]) as tf.Tensor2D;
          const b2 = tf.reshape(ob[k]!, [-1, h]) as tf.Tensor2D;
          return [tf.sum(a2, 0), tf.sum(b2, 0), tf.sum(tf.square(a2), 0), tf.sum(tf.square(b2), 0), matMulT(a2, b2, true, false), tf.scalar(a2.shape[0])];
        });
      });
      for (const [k, p] of parts.entries()) {
        const [sa, sb, qa, qb, ab, m] = await Promise.all(p.map((t) => t.data()));
        const a = acc[k]!;
        a.m += m![0]!;
        for (let j = 0; j < sa!.length; j++) {
          a.sa[j]! += sa![j]!;
          a.sb[j]! += sb![j]!;
          a.qa[j]! += qa![j]!;
          a.qb[j]! += qb![j]!;
        }
        for (let e = 0; e < ab!.length; e++) a.ab[e]! += ab![e]!;
        p.forEach((t) => t.dispose());
      }
    }
  } finally {
    disposeParams(da);
    disposeParams(db);
  }
  return acc.map((a, k) => {
    const h = widths[k]!;
    const mu = (s: Float64Array) => Float64Array.from(s, (v) => v / a.m);
    const [ma, mb] = [mu(a.sa), mu(a.sb)];
    const sd = (q: Float64Array, m: Float64Array) => Float64Array.from(q, (v, j) => Math.sqrt(Math.max(v / a.m - m[j]! ** 2, 0)));
    const [sda, sdb] = [sd(a.qa, ma), sd(a.qb, mb)];
    const corr = new Float64Array(h * h);
    for (let j = 0; j < h; j++) {
      for (let l = 0; l < h; l++) {
        const den = sda[j]! * sdb[l]!;
        corr[j * h + l] = den > 1e-12 ? (a.ab[j * h + l]! / a.m - ma[j]! * mb[l]!) / den : 0;
      }
    }
    return corr;
  });
}

export async function activationMatching(spec: ArchSpec, A: HostParams, B: HostParams, xs: tf.Tensor2D[], opts: Opts = {}): Promise<MatchingResult> {
  const t0 = performance.now();
  throwIfCancelled(opts.signal);
  const corr = await unitCorrelations(spec, A, B, xs);
  let lapSeconds = 0;
  const perLayer: { before: number; after: number }[] = [];
  const perm: Permutation = corr.map((c) => {
    const h = Math.round(Math.sqrt(c.length));
    const l0 = performance.now();
    const sigma = solveLap(c, h, { maximize: true });
    lapSeconds += (performance.now() - l0) / 1000;
    perLayer.push({ before: assignmentValue(c, h, Int32Array.from({ length: h }, (_, j) => j)) / h, after: assignmentValue(c, h, sigma) / h });
    return sigma;
  });
  const mean = (f: (p: { before: number; after: number }) => number) => perLayer.reduce((s, p) => s + f(p), 0) / Math.max(1, perLayer.length);
  return {
    method: 'activation',
    perm,
    iterations: 1,
    converged: true,
    objective: { before: mean((p) => p.before), after: mean((p) => p.after), perLayer },
    moved: movedFractions(perm),
    lapSeconds,
    seconds: (performance.now() - t0) / 1000,
  };
}
