/**
 * Dropout stability (Definition 1). For kept sets K (|K_j| = ⌊f·h_j⌋ per hidden layer) and factor r, θ_i keeps only
 * K in hidden layers i … d−1; ε(K) = max_i L(θ_i) − L(θ) on the training evaluation set. The search tries M random
 * kept sets and an importance heuristic on a search subset, then measures the best on the whole evaluation set.
 * Every θ_i is evaluated at its compact width (dropped units removed), which gives the same numbers faster.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DeviceSplit, Metrics } from '../eval/evaluate';
import { evaluateHost } from '../eval/host';
import { hiddenOutputs } from '../nn/forward';
import { assertNoBatchNorm } from '../nn/batchnorm';
import { type HostParams, disposeParams, toDevice } from '../nn/params';
import type { ArchSpec } from '../nn/spec';
import { throwIfCancelled } from '../util/errors';
import { type ProgressFn, StageTimer, yieldToEventLoop } from '../util/progress';
import { Rng } from '../util/rng';
import { compact } from '../nn/compact';
import { type Kept, drop } from './kept';
import { UnitView, geometry, hiddenWidths } from '../nn/units';

export interface DropoutStabilityOptions {
  /** Fraction of each hidden layer kept (Definition 1: at most ½). */
  keepFraction: number;
  /** Rescale factor of kept outputs (default 1/keepFraction, i.e. 2 for half). */
  r?: number;
  /** Random kept sets to try (the paper used 20). */
  masks: number;
  /** Also try keeping the most important units (mean activation × output-weight norm). */
  heuristic: boolean;
  seed: number;
}

export interface DroppedNetResult {
  /** θ_i drops hidden layers i … d−1. */
  i: number;
  train: Metrics;
  /** L(θ_i) − L(θ). */
  excess: number;
}

export interface DropoutStability {
  keepFraction: number;
  r: number;
  /** L(θ) and accuracy on the training evaluation set. */
  base: Metrics;
  /** ε = max_i L(θ_i) − L(θ) for the chosen kept sets. */
  epsilon: number;
  perLayer: DroppedNetResult[];
  kept: Kept;
  chosen: 'random' | 'importance';
  /** ε of every candidate on the search subset (random ones first, in draw order). */
  candidates: { source: 'random' | 'importance'; epsilon: number }[];
  searchSamples: number;
}

export function keptSize(h: number, f: number): number {
  return Math.max(1, Math.floor(f * h + 1e-9));
}

export function randomKept(widths: number[], f: number, rng: Rng): Kept {
  return widths.map((h) => rng.sample(h, keptSize(h, f)));
}

/** Importance of unit j of hidden layer i: mean output φ(x^i_j) over x × ‖column j of A_{i+1}‖. */
export async function importanceKept(spec: ArchSpec, theta: HostParams, x: tf.Tensor2D, f: number): Promise<Kept> {
  const dev = toDevice(theta);
  const means = tf.tidy(() =>
    hiddenOutputs(spec, dev, x).map((h) => tf.mean(h, h.rank === 4 ? [0, 1, 2] : [0])),
  );
  disposeParams(dev);
  const values = await Promise.all(means.map((m) => m.data()));
  means.forEach((m) => m.dispose());
  const geo = geometry(spec);
  const view = new UnitView(spec, theta, geo);
  return values.map((mean, k) => {
    const h = geo[k]!.rows;
    const score = Array.from({ length: h }, (_, j) => mean[j]! * view.columnNorm(k + 2, j));
    const order = Array.from({ length: h }, (_, j) => j).sort((a, b) => score[b]! - score[a]! || a - b);
    return order.slice(0, keptSize(h, f)).sort((a, b) => a - b);
  });
}

/** L(θ_i) on a split for i = 1 … d−1, each at compact width. */
export async function droppedLosses(spec: ArchSpec, theta: HostParams, K: Kept, r: number[], data: DeviceSplit): Promise<Metrics[]> {
  const geo = geometry(spec);
  const out: Metrics[] = [];
  for (let i = 1; i < geo.length; i++) {
    const c = compact(spec, drop(spec, theta, K, r, i, geo));
    out.push(await evaluateHost(c.spec, c.params, data));
  }
  return out;
}

export interface StabilityContext {
  /** The whole training evaluation set (for the final numbers). */
  train: DeviceSplit;
  /** A subset of it for the search. */
  search: DeviceSplit;
  /** A batch of training inputs for the importance heuristic. */
  sample: tf.Tensor2D;
  onProgress?: ProgressFn;
  signal?: AbortSignal;
  stage?: string;
  label?: string;
}

export async function measureDropoutStability(
  spec: ArchSpec,
  theta: HostParams,
  opts: DropoutStabilityOptions,
  ctx: StabilityContext,
): Promise<DropoutStability> {
  assertNoBatchNorm(spec, 'Dropout stability (Definition 1)');
  const widths = hiddenWidths(spec);
  const f = opts.keepFraction;
  const r = opts.r ?? 1 / f;
  const rs = widths.map(() => r);
  const rng = new Rng(opts.seed);
  const total = opts.masks + (opts.heuristic ? 1 : 0);
  const timer = new StageTimer(ctx.onProgress, ctx.stage ?? 'stability', ctx.label ?? 'dropout stability', total + 1, 'masks');
  const searchBase = await evaluateHost(spec, theta, ctx.search);
  const candidates: { source: 'random' | 'importance'; epsilon: number; kept: Kept }[] = [];
  const tryKept = async (kept: Kept, source: 'random' | 'importance'): Promise<void> => {
    throwIfCancelled(ctx.signal);
    const losses = await droppedLosses(spec, theta, kept, rs, ctx.search);
    candidates.push({ source, kept, epsilon: Math.max(...losses.map((m) => m.loss - searchBase.loss)) });
    timer.report(candidates.length, { epsilon: Math.min(...candidates.map((c) => c.epsilon)) });
    await yieldToEventLoop();
  };
  for (let m = 0; m < opts.masks; m++) await tryKept(randomKept(widths, f, rng), 'random');
  if (opts.heuristic) await tryKept(await importanceKept(spec, theta, ctx.sample, f), 'importance');
  const best = candidates.reduce((a, b) => (b.epsilon < a.epsilon ? b : a));
  const base = await evaluateHost(spec, theta, ctx.train);
  const per = await droppedLosses(spec, theta, best.kept, rs, ctx.train);
  timer.report(total + 1);
  const perLayer = per.map((m, k) => ({ i: k + 1, train: m, excess: m.loss - base.loss }));
  return {
    keepFraction: f,
    r,
    base,
    epsilon: Math.max(...perLayer.map((p) => p.excess)),
    perLayer,
    kept: best.kept,
    chosen: best.source,
    candidates: candidates.map(({ source, epsilon }) => ({ source, epsilon })),
    searchSamples: ctx.search.n,
  };
}
