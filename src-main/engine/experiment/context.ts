/** What the stages of one run share: the data on the device, the trained weights, and memoised stability searches. */
import * as tf from '@tensorflow/tfjs-core';
import { type Dataset, type Split, featureCount, subset } from '../data/dataset';
import { DeviceSplit, type Metrics } from '../eval/evaluate';
import { type MatchingResult, activationMatching, weightMatching } from '../align/matching';
import type { HostParams } from '../nn/params';
import { type UnitStats, preActivationStats, recomputeBatchNorm, repair } from '../nn/renormalize';
import { type ArchSpec, hasBatchNorm } from '../nn/spec';
import type { EvalSplits } from '../paths/evaluate-path';
import type { PointWorkerPool } from '../paths/point-workers';
import type { PointTransform } from '../paths/pointwise';
import { type DropoutStability, measureDropoutStability } from '../theory/dropout-stability';
import type { ProgressFn } from '../util/progress';
import { deriveSeed } from '../util/rng';
import type { PathResult } from './result';
import type { DropoutSearchConfig, Recipe } from '../recipe/schema';
import type { NoiseStability } from '../theory/noise-stability';

/** Size of the batch on which path segments are verified at interior points. */
export const CHECK_BATCH = 128;

export class ExperimentContext {
  readonly splits: EvalSplits;
  /** The first CHECK_BATCH training evaluation samples, for segment checks and activation statistics. */
  readonly checkX: tf.Tensor2D;
  readonly endpointMetrics = new Map<string, { train: Metrics; test: Metrics }>();
  private readonly searchSplits = new Map<number, DeviceSplit>();
  private readonly stability = new Map<string, Promise<DropoutStability>>();
  private readonly features: number;
  readonly evalTrain: Split;
  readonly evalTest: Split;
  /** Paths evaluated so far in this run (the aligned paths look up the naive line's barrier here). */
  readonly evaluated: PathResult[] = [];
  /** Definitions 2–4 per endpoint, when the recipe measured them (stability.noise): the scale of Theorems 2 and 3's
   *  Õ(ε), shown beside the measured Algorithm 1 excess. */
  noiseStability?: Record<string, NoiseStability>;
  private readonly alignments = new Map<string, Promise<MatchingResult>>();

  constructor(
    readonly recipe: Recipe,
    readonly spec: ArchSpec,
    readonly data: Dataset,
    readonly weights: Map<string, HostParams>,
    readonly onProgress: ProgressFn | undefined,
    readonly signal: AbortSignal | undefined,
    /** Shares the points of 'line'/'curve' segments with a helper process (RunOptions.pointWorkers); it holds
     *  evalTrain and evalTest, batched as `splits`. */
    readonly pointWorkers?: PointWorkerPool,
  ) {
    this.features = featureCount(data);
    const ev = recipe.evaluation;
    this.evalTrain = subset(data.train, ev.trainSamples, deriveSeed(ev.seed, 'eval-train'), this.features);
    this.evalTest = subset(data.test, ev.testSamples, deriveSeed(ev.seed, 'eval-test'), this.features);
    this.splits = { train: new DeviceSplit(this.evalTrain, this.features, ev.batchSize), test: new DeviceSplit(this.evalTest, this.features, ev.batchSize) };
    this.checkX = this.sampleBatch(CHECK_BATCH);
  }

  /** The first n training evaluation samples as one tensor (the caller disposes it). */
  sampleBatch(n: number): tf.Tensor2D {
    const size = Math.min(n, this.evalTrain.n);
    return tf.tensor2d(this.evalTrain.x.subarray(0, size * this.features), [size, this.features]);
  }

  /** The first n training evaluation samples, on the device (memoised). */
  searchSplit(n: number): DeviceSplit {
    const size = Math.min(n, this.evalTrain.n);
    let s = this.searchSplits.get(size);
    if (!s) {
      const f = this.features;
      s = new DeviceSplit({ x: this.evalTrain.x.subarray(0, size * f), y: this.evalTrain.y.subarray(0, size), n: size }, f, this.recipe.evaluation.batchSize);
      this.searchSplits.set(size, s);
    }
    return s;
  }

  /** BatchNorm settings: recompute statistics at every point (default yes) with this many training samples. */
  get batchNorm(): { active: boolean; samples: number } {
    const bn = this.recipe.evaluation.batchNorm;
    return { active: hasBatchNorm(this.spec) && (bn?.recompute ?? true), samples: bn?.samples ?? 2000 };
  }

  /** The training samples BatchNorm statistics (and REPAIR statistics) are computed on: the first `samples` training
   *  evaluation samples, as device batches (owned by the context). */
  normalizationBatches(): tf.Tensor2D[] {
    return this.searchSplit(this.batchNorm.samples).batches.map((b) => b.x);
  }

  /** Sets every endpoint's BN statistics with the same pass that every path point gets, so that t = 0 and t = 1 of
   *  every path reproduce the endpoints' metrics exactly. No-op without BatchNorm or with recomputation off. */
  async finalizeEndpointBatchNorm(): Promise<void> {
    if (!this.batchNorm.active) return;
    for (const [name, theta] of this.weights) this.weights.set(name, await recomputeBatchNorm(this.spec, theta, this.normalizationBatches()));
  }

  /** The per-point rewrite of a path from `first` to `last` (its end vertices): BN recomputation for BN networks,
   *  REPAIR when asked for (for BN networks the two are the same). Undefined when points are evaluated as they are. */
  async pointTransform(renormalize: 'none' | 'repair', first: HostParams, last: HostParams, spec: ArchSpec = this.spec): Promise<PointTransform | undefined> {
    const xs = this.normalizationBatches();
    if (hasBatchNorm(spec)) {
      if (!this.batchNorm.active && renormalize !== 'repair') return undefined;
      return (theta) => recomputeBatchNorm(spec, theta, xs);
    }
    if (renormalize !== 'repair') return undefined;
    const ends: [UnitStats[], UnitStats[]] = [await preActivationStats(spec, first, xs), await preActivationStats(spec, last, xs)];
    return (theta, t) => repair(spec, theta, t, ends, xs);
  }

  /** θ_to aligned to θ_from (memoised per endpoints and settings). */
  alignment(from: string, to: string, cfg: { method: 'weight' | 'activation'; maxIterations: number; samples: number }): Promise<MatchingResult> {
    const key = `${from}>${to}:${JSON.stringify(cfg)}`;
    let p = this.alignments.get(key);
    if (!p) {
      const [A, B] = [this.weights.get(from)!, this.weights.get(to)!];
      const o = { onProgress: this.onProgress, signal: this.signal, stage: `align:${from}:${to}`, label: `${cfg.method} matching ${to} → ${from}` };
      p =
        cfg.method === 'weight'
          ? weightMatching(this.spec, A, B, { maxIterations: cfg.maxIterations, seed: deriveSeed(this.recipe.seed, `weight-matching:${from}:${to}`) }, o)
          : activationMatching(this.spec, A, B, this.searchSplit(cfg.samples).batches.map((b) => b.x), o);
      this.alignments.set(key, p);
    }
    return p;
  }

  /** Definition 1 for one endpoint under one search setting (computed once per run). `net` replaces the endpoint's
   *  network (e.g. its BN-folded form), under its own memo key. */
  dropoutStability(endpoint: string, cfg: DropoutSearchConfig, net?: { key: string; spec: ArchSpec; theta: HostParams }): Promise<DropoutStability> {
    const key = `${endpoint}:${net?.key ?? ''}:${JSON.stringify(cfg)}`;
    let p = this.stability.get(key);
    if (!p) {
      p = measureDropoutStability(
        net?.spec ?? this.spec,
        net?.theta ?? this.weights.get(endpoint)!,
        { keepFraction: cfg.keepFraction, r: cfg.r, masks: cfg.masks, heuristic: cfg.heuristic, seed: deriveSeed(this.recipe.seed, `kept:${endpoint}`) },
        {
          train: this.splits.train,
          search: this.searchSplit(cfg.searchSamples),
          sample: this.checkX,
          onProgress: this.onProgress,
          signal: this.signal,
          stage: `stability:${endpoint}`,
          label: `dropout stab. ${endpoint}`,
        },
      );
      this.stability.set(key, p);
    }
    return p;
  }

  dispose(): void {
    this.splits.train.dispose();
    this.splits.test.dispose();
    this.checkX.dispose();
    for (const s of this.searchSplits.values()) s.dispose();
  }
}
