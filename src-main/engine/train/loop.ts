/**
 * The lean functional training loop: a pure forward pass, tf.variableGrads, our own optimiser update. No tfjs-layers.
 * Reproducible: initialisation, data order, dropout and augmentation draw from generators derived from one seed.
 * Loss and accuracy accumulate on the device and are read only at log points (no per-step sync).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Dataset } from '../data/dataset';
import { featureCount } from '../data/dataset';
import { forward } from '../nn/forward';
import { type HostParams, initParams, toDevice, toHost, checkParams } from '../nn/params';
import { batchNormStatsOnTraining } from '../nn/renormalize';
import { type ArchSpec, isBatchNormStat } from '../nn/spec';
import { Rng, deriveSeed } from '../util/rng';
import { throwIfCancelled } from '../util/errors';
import { type ProgressFn, StageTimer, yieldToEventLoop } from '../util/progress';
import { type AugmentConfig, augmentBatch, gatherBatch } from './batches';
import { correctCount, crossEntropy } from './loss';
import { type OptimizerConfig, createOptimizer } from './optimizers';
import { type ScheduleConfig, learningRate } from './schedule';

export interface TrainConfig {
  optimizer: OptimizerConfig;
  schedule: ScheduleConfig;
  batchSize: number;
  /** Exactly one of epochs and steps. Fractional epochs are allowed. */
  epochs?: number;
  steps?: number;
  augment?: AugmentConfig;
  /** Save a checkpoint every this many epochs (through onCheckpoint). */
  checkpointEvery?: number;
}

export interface CurvePoint {
  step: number;
  epoch: number;
  lr: number;
  /** Mean training minibatch loss and accuracy since the previous point (with dropout active). */
  loss: number;
  acc: number;
}

export interface TrainResult {
  params: HostParams;
  curve: CurvePoint[];
  steps: number;
  samples: number;
  seconds: number;
  samplesPerSec: number;
}

export interface TrainOptions {
  seed: number;
  /** Start from these weights instead of a fresh initialisation. */
  init?: HostParams;
  stage?: string;
  label?: string;
  onProgress?: ProgressFn;
  /** Called with each new curve point as it is logged (live charts, persistence). */
  onCurvePoint?: (p: CurvePoint) => void;
  /** Every `checkpointEvery` epochs (not at the end: that is the result): the weights, with BatchNorm statistics of
   *  that moment, the epoch (step / steps per epoch) and the steps done. */
  onCheckpoint?: (params: HostParams, epoch: number, step: number) => void | Promise<void>;
  signal?: AbortSignal;
  /** Number of curve points to log over the run (default 100). */
  logPoints?: number;
}

let trainingRuns = 0;

export function totalSteps(cfg: TrainConfig, n: number): { total: number; perEpoch: number } {
  const perEpoch = Math.ceil(n / cfg.batchSize);
  const total = cfg.steps ?? Math.max(1, Math.round((cfg.epochs ?? 1) * perEpoch));
  return { total, perEpoch };
}

export async function train(spec: ArchSpec, data: Dataset, cfg: TrainConfig, opts: TrainOptions): Promise<TrainResult> {
  const features = featureCount(data);
  const n = data.train.n;
  const { total, perEpoch } = totalSteps(cfg, n);
  const init = opts.init ?? initParams(spec, deriveSeed(opts.seed, 'init'));
  checkParams(spec, init);
  const dataRng = new Rng(deriveSeed(opts.seed, 'data'));
  const dropRng = new Rng(deriveSeed(opts.seed, 'dropout'));
  const augRng = new Rng(deriveSeed(opts.seed, 'augment'));
  const timer = new StageTimer(opts.onProgress, opts.stage ?? 'train', opts.label ?? 'train', total, 'steps');

  const device = toDevice(init);
  // BatchNorm statistics are not trained (nn/batchnorm.ts): they stay constants here and are set after training.
  const names = Object.keys(device).filter((k) => !isBatchNormStat(k));
  const run = ++trainingRuns;
  const vars = names.map((k) => tf.variable(device[k]!, true, `train${run}/${k}`));
  Object.entries(device).forEach(([k, t]) => !isBatchNormStat(k) && t.dispose());
  const params: Record<string, tf.Tensor> = { ...device, ...Object.fromEntries(names.map((k, i) => [k, vars[i]!])) };
  const optimizer = createOptimizer(cfg.optimizer, vars);
  const logEvery = Math.max(1, Math.round(total / (opts.logPoints ?? 100)));
  const curve: CurvePoint[] = [];
  let lossAcc = tf.scalar(0);
  let correctAcc = tf.scalar(0);
  let seenSinceLog = 0;
  let samples = 0;
  let order = dataRng.permutation(n);
  let pos = 0;
  const t0 = performance.now();
  try {
    for (let step = 0; step < total; step++) {
      throwIfCancelled(opts.signal);
      if (pos >= n) {
        order = dataRng.permutation(n);
        pos = 0;
      }
      const idx = order.subarray(pos, Math.min(pos + cfg.batchSize, n));
      pos += idx.length;
      const batch = gatherBatch(data.train, idx, features);
      if (cfg.augment && (cfg.augment.flip || cfg.augment.crop > 0)) augmentBatch(batch.x, data.inputShape, cfg.augment, augRng);
      const lr = learningRate(cfg.optimizer.lr, cfg.schedule, step, total, perEpoch);
      const x = tf.tensor2d(batch.x, [idx.length, features]);
      const y = tf.tensor1d(batch.y, 'int32');
      let correct: tf.Scalar | null = null;
      const { value, grads } = tf.variableGrads(() => {
        const logits = forward(spec, params, x, { dropoutRng: dropRng, batchStats: true });
        correct = tf.keep(correctCount(logits, y));
        return crossEntropy(logits, y);
      }, vars);
      optimizer.step(vars, vars.map((v) => grads[v.name]!), lr);
      const nextLoss = tf.tidy(() => tf.add(lossAcc, tf.mul(value, idx.length))) as tf.Scalar;
      const nextCorrect = tf.add(correctAcc, correct!) as tf.Scalar;
      [lossAcc, correctAcc, value, x, y, correct!].forEach((t) => t.dispose());
      Object.values(grads).forEach((g) => g.dispose());
      lossAcc = nextLoss;
      correctAcc = nextCorrect;
      seenSinceLog += idx.length;
      samples += idx.length;

      const done = step + 1;
      if (done % logEvery === 0 || done === total) {
        const [l, c] = await Promise.all([lossAcc.data(), correctAcc.data()]);
        const point: CurvePoint = { step: done, epoch: done / perEpoch, lr, loss: l[0]! / seenSinceLog, acc: c[0]! / seenSinceLog };
        curve.push(point);
        opts.onCurvePoint?.(point);
        lossAcc.dispose();
        correctAcc.dispose();
        lossAcc = tf.scalar(0);
        correctAcc = tf.scalar(0);
        seenSinceLog = 0;
        const secs = (performance.now() - t0) / 1000;
        timer.report(done, { loss: point.loss, acc: point.acc, lr, epoch: point.epoch, samplesPerSec: samples / secs });
      }
      if (cfg.checkpointEvery && opts.onCheckpoint && done % Math.max(1, Math.round(cfg.checkpointEvery * perEpoch)) === 0 && done < total) {
        await opts.onCheckpoint(await batchNormStatsOnTraining(spec, await toHost(params), data, deriveSeed(opts.seed, 'batchnorm')), done / perEpoch, done);
      }
      await yieldToEventLoop();
    }
    const final = await batchNormStatsOnTraining(spec, await toHost(params), data, deriveSeed(opts.seed, 'batchnorm'));
    const seconds = (performance.now() - t0) / 1000;
    return { params: final, curve, steps: total, samples, seconds, samplesPerSec: samples / seconds };
  } finally {
    lossAcc.dispose();
    correctAcc.dispose();
    optimizer.dispose();
    vars.forEach((v) => v.dispose());
    Object.entries(device).forEach(([k, t]) => isBatchNormStat(k) && t.dispose());
  }
}
