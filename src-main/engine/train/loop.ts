/**
 * The lean functional training loop: a pure forward pass, tf.variableGrads, our own optimiser update. No tfjs-layers.
 * With an onnx-* backend selected, each step is one ONNX Runtime graph instead (onnx/stepper.ts).
 * Reproducible: initialisation, data order, dropout and augmentation draw from generators derived from one seed.
 * Loss and accuracy accumulate on the device and are read only at log points (no per-step sync).
 */
import * as tf from '@tensorflow/tfjs-core';
import { activeBackend } from '../backend/backends';
import { isOnnxBackend } from '../backend/names';
import type { Dataset } from '../data/dataset';
import { forward } from '../nn/forward';
import type { InitScheme } from '../nn/init';
import { type HostParams, initParams, toDevice, toHost, checkParams } from '../nn/params';
import { batchNormStatsOnTraining } from '../nn/renormalize';
import { type ArchSpec, isBatchNormStat } from '../nn/spec';
import { onnxStepper } from '../onnx/stepper';
import { Rng, deriveSeed } from '../util/rng';
import { type ProgressFn, StageTimer } from '../util/progress';
import type { AugmentConfig } from './batches';
import { correctCount, crossEntropy } from './loss';
import { type OptimizerConfig, createOptimizer } from './optimizers';
import { type LogPoint, type StepFn, logInterval, runMinibatches } from './minibatches';
import { TestProbe, testProbeSize } from './test-probe';
import type { ScheduleConfig } from './schedule';

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
  /** How a fresh initialisation draws the kernels (nn/init.ts; default He-normal fan-in). */
  init?: InitScheme;
}

/** A point of a training curve: mean minibatch loss and accuracy since the previous point (dropout active), and the
 *  test metrics at that point (train/test-probe.ts). */
export type CurvePoint = LogPoint;

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

export function totalSteps(cfg: Pick<TrainConfig, 'batchSize' | 'epochs' | 'steps'>, n: number): { total: number; perEpoch: number } {
  const perEpoch = Math.ceil(n / cfg.batchSize);
  const total = cfg.steps ?? Math.max(1, Math.round((cfg.epochs ?? 1) * perEpoch));
  return { total, perEpoch };
}

export async function train(spec: ArchSpec, data: Dataset, cfg: TrainConfig, opts: TrainOptions): Promise<TrainResult> {
  const { total, perEpoch } = totalSteps(cfg, data.train.n);
  const init = opts.init ?? initParams(spec, deriveSeed(opts.seed, 'init'), cfg.init);
  checkParams(spec, init);
  const dataRng = new Rng(deriveSeed(opts.seed, 'data'));
  const dropRng = new Rng(deriveSeed(opts.seed, 'dropout'));
  const augRng = new Rng(deriveSeed(opts.seed, 'augment'));
  const timer = new StageTimer(opts.onProgress, opts.stage ?? 'train', opts.label ?? 'train', total, 'steps');

  // ONNX Runtime computes the steps when an onnx-* backend is selected (onnx/stepper.ts); tfjs otherwise.
  const stepper = isOnnxBackend(activeBackend()?.backend) ? await onnxStepper(spec, init, cfg.optimizer, dropRng) : tfjsStepper(spec, init, cfg.optimizer, dropRng);
  const probeSize = testProbeSize(spec, data.test.n, cfg.batchSize, logInterval(total, opts.logPoints));
  const probe = probeSize > 0 ? new TestProbe(spec, data, probeSize, deriveSeed(opts.seed, 'test-probe')) : null;
  try {
    const loop = await runMinibatches(
      {
        data,
        batchSize: cfg.batchSize,
        augment: cfg.augment,
        lr: cfg.optimizer.lr,
        schedule: cfg.schedule,
        total,
        perEpoch,
        dataRng,
        augRng,
        timer,
        logPoints: opts.logPoints,
        signal: opts.signal,
        onLog: opts.onCurvePoint,
        ...(probe ? { evaluateAtLog: async () => probe.evaluate(await stepper.params()) } : {}),
        afterStep: async (done) => {
          if (cfg.checkpointEvery && opts.onCheckpoint && done % Math.max(1, Math.round(cfg.checkpointEvery * perEpoch)) === 0 && done < total) {
            await opts.onCheckpoint(await batchNormStatsOnTraining(spec, await stepper.params(), data, deriveSeed(opts.seed, 'batchnorm')), done / perEpoch, done);
          }
        },
      },
      stepper.step,
    );
    const final = await batchNormStatsOnTraining(spec, await stepper.params(), data, deriveSeed(opts.seed, 'batchnorm'));
    return { params: final, curve: loop.curve, steps: total, samples: loop.samples, seconds: loop.seconds, samplesPerSec: loop.samples / loop.seconds };
  } finally {
    stepper.dispose();
    probe?.dispose();
  }
}

/** What a training run's steps do to the weights, on one compute engine. */
export interface Stepper {
  step: StepFn;
  /** The current weights; BatchNorm statistics as they came in (set after training). */
  params(): Promise<HostParams>;
  dispose(): void;
}

/** Steps on tfjs: a pure forward pass, tf.variableGrads, our own optimiser update. */
function tfjsStepper(spec: ArchSpec, init: HostParams, cfg: OptimizerConfig, dropRng: Rng): Stepper {
  const device = toDevice(init);
  // BatchNorm statistics are not trained (nn/batchnorm.ts): they stay constants here and are set after training.
  const names = Object.keys(device).filter((k) => !isBatchNormStat(k));
  const run = ++trainingRuns;
  const vars = names.map((k) => tf.variable(device[k]!, true, `train${run}/${k}`));
  Object.entries(device).forEach(([k, t]) => !isBatchNormStat(k) && t.dispose());
  const params: Record<string, tf.Tensor> = { ...device, ...Object.fromEntries(names.map((k, i) => [k, vars[i]!])) };
  const optimizer = createOptimizer(cfg, vars);
  return {
    step: ({ x, y }, lr) => {
      let correct: tf.Scalar | null = null;
      const { value, grads } = tf.variableGrads(() => {
        const logits = forward(spec, params, x, { dropoutRng: dropRng, batchStats: true });
        correct = tf.keep(correctCount(logits, y));
        return crossEntropy(logits, y);
      }, vars);
      optimizer.step(vars, vars.map((v) => grads[v.name]!), lr);
      Object.values(grads).forEach((g) => g.dispose());
      return { loss: value, correct: correct! };
    },
    params: () => toHost(params),
    dispose: () => {
      optimizer.dispose();
      vars.forEach((v) => v.dispose());
      Object.entries(device).forEach(([k, t]) => isBatchNormStat(k) && t.dispose());
    },
  };
}
