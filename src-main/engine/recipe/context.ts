/** What the stages of one run share: the data on the device, the trained weights, and memoised stability searches. */
import * as tf from '@tensorflow/tfjs-core';
import { type Dataset, type Split, featureCount, subset } from '../data/dataset';
import { DeviceSplit, type Metrics } from '../eval/evaluate';
import type { HostParams } from '../nn/params';
import type { ArchSpec } from '../nn/spec';
import type { EvalSplits } from '../paths/evaluate-path';
import { type DropoutStability, measureDropoutStability } from '../theory/dropout-stability';
import type { ProgressFn } from '../util/progress';
import { deriveSeed } from '../util/rng';
import type { DropoutSearchConfig, Recipe } from './schema';

/** Size of the batch on which path segments are verified at interior points. */
export const CHECK_BATCH = 256;

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

  constructor(
    readonly recipe: Recipe,
    readonly spec: ArchSpec,
    readonly data: Dataset,
    readonly weights: Map<string, HostParams>,
    readonly onProgress: ProgressFn | undefined,
    readonly signal: AbortSignal | undefined,
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

  /** Definition 1 for one endpoint under one search setting (computed once per run). */
  dropoutStability(endpoint: string, cfg: DropoutSearchConfig): Promise<DropoutStability> {
    const key = `${endpoint}:${JSON.stringify(cfg)}`;
    let p = this.stability.get(key);
    if (!p) {
      p = measureDropoutStability(
        this.spec,
        this.weights.get(endpoint)!,
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
