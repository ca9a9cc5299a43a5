/**
 * Curve training (Garipov et al. 2018): the free control points of a Bézier curve or polygonal chain between two fixed
 * endpoints are trained by drawing t ~ U(0, 1) for every minibatch and minimising
 *   L(θ(t)) + ½·wd·‖θ(t)‖²,   θ(t) = Σ_k c_k(t)·θ_k,
 * the loss at the curve point, with weight decay on θ(t) (as Garipov's `l2_regularizer` on the curve point, not on the
 * control points). θ(t) is formed inside the gradient tape, so each control point receives c_k(t)·∇. A lean loop like
 * train/loop.ts: the same optimiser module (one optimiser per control point, so a bend that a minibatch does not touch
 * is not updated, as PyTorch skips parameters without a gradient), minibatches from train/batches.ts, training mode
 * (dropout, BatchNorm batch statistics), loss and accuracy accumulated on the device and read at log points.
 * BatchNorm statistics are not trained: the returned control points keep their initial (interpolated) statistics, and
 * evaluation recomputes statistics at every point anyway.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type Dataset, featureCount, subset } from '../data/dataset';
import { forward } from '../nn/forward';
import { type HostParams, checkParams, toHost } from '../nn/params';
import { type ArchSpec, isBatchNormStat } from '../nn/spec';
import { correctCount, crossEntropy } from '../train/loss';
import { type Optimizer, type OptimizerConfig, createOptimizer } from '../train/optimizers';
import { totalSteps } from '../train/loop';
import { type LogPoint, runMinibatches } from '../train/minibatches';
import type { ScheduleConfig } from '../train/schedule';
import type { AugmentConfig } from '../train/batches';
import { type ProgressFn, StageTimer } from '../util/progress';
import { Rng, deriveSeed } from '../util/rng';
import { type CurveShape, curveCoefficients } from './curve';

export interface CurveTrainConfig {
  /** The optimiser of the control points; its own weightDecay should be 0 (decay acts on θ(t), below). */
  optimizer: OptimizerConfig;
  /** L2 coefficient on θ(t): adds ½·wd·‖θ(t)‖² to the minibatch loss. */
  weightDecay: number;
  schedule: ScheduleConfig;
  batchSize: number;
  /** Epochs over the (subset of the) training set; fractional allowed. Exactly one of epochs and steps. */
  epochs?: number;
  steps?: number;
  /** Train on a random subset of this many training samples (null/undefined: all). */
  trainSamples?: number | null;
  augment?: AugmentConfig;
}

/** Mean minibatch cross-entropy (without the L2 term) and accuracy at the sampled t since the previous point. */
export type CurveLogPoint = LogPoint;

export interface CurveTrainResult {
  controls: HostParams[];
  curve: CurveLogPoint[];
  steps: number;
  samples: number;
  seconds: number;
  samplesPerSec: number;
}

export interface CurveTrainOptions {
  seed: number;
  stage?: string;
  label?: string;
  onProgress?: ProgressFn;
  signal?: AbortSignal;
  logPoints?: number;
}

let curveRuns = 0;

export async function trainCurve(
  spec: ArchSpec,
  data: Dataset,
  shape: CurveShape,
  A: HostParams,
  B: HostParams,
  init: HostParams[],
  cfg: CurveTrainConfig,
  opts: CurveTrainOptions,
): Promise<CurveTrainResult> {
  if (init.length !== shape.free) throw new Error(`expected ${shape.free} initial control points, got ${init.length}`);
  for (const p of [A, B, ...init]) checkParams(spec, p);
  const train = subset(data.train, cfg.trainSamples ?? null, deriveSeed(opts.seed, 'curve-subset'), featureCount(data));
  const { total, perEpoch } = totalSteps(cfg, train.n);
  const names = Object.keys(A).filter((k) => !isBatchNormStat(k));
  const tRng = new Rng(deriveSeed(opts.seed, 't'));
  const dataRng = new Rng(deriveSeed(opts.seed, 'data'));
  const dropRng = new Rng(deriveSeed(opts.seed, 'dropout'));
  const augRng = new Rng(deriveSeed(opts.seed, 'augment'));
  const timer = new StageTimer(opts.onProgress, opts.stage ?? 'curve', opts.label ?? 'train curve', total, 'steps');
  const run = ++curveRuns;

  const constant = (p: HostParams): Record<string, tf.Tensor> => Object.fromEntries(names.map((k) => [k, tf.tensor(p[k]!.data, p[k]!.shape, 'float32')]));
  const ends = [constant(A), constant(B)];
  const free: tf.Variable[][] = init.map((p, c) =>
    names.map((k) => {
      const t = tf.tensor(p[k]!.data, p[k]!.shape, 'float32');
      const v = tf.variable(t, true, `curve${run}/c${c}/${k}`);
      t.dispose();
      return v;
    }),
  );
  const optimizers: Optimizer[] = free.map((vars) => createOptimizer(cfg.optimizer, vars));
  try {
    const loop = await runMinibatches(
      {
        data,
        split: train,
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
      },
      ({ x, y }, lr) => {
        const coeff = curveCoefficients(shape, tRng.next());
        // Vertices [A, free…, B]; the free control points are vertices 1 … free.
        const used = free.map((_, c) => coeff[c + 1]! !== 0);
        let correct: tf.Scalar | null = null;
        let ce: tf.Scalar | null = null;
        const vars = free.flatMap((vs, c) => (used[c] ? vs : []));
        const { value, grads } = tf.variableGrads(() => {
          const theta: Record<string, tf.Tensor> = {};
          names.forEach((k, j) => {
            const terms: tf.Tensor[] = [];
            const add = (tensor: tf.Tensor, w: number): void => void (w !== 0 && terms.push(w === 1 ? tensor : tf.mul(tensor, w)));
            add(ends[0]![k]!, coeff[0]!);
            free.forEach((vs, c) => add(vs[j]!, coeff[c + 1]!));
            add(ends[1]![k]!, coeff[coeff.length - 1]!);
            theta[k] = terms.length === 1 ? terms[0]! : tf.addN(terms);
          });
          const logits = forward(spec, theta, x, { dropoutRng: dropRng, batchStats: true });
          correct = tf.keep(correctCount(logits, y));
          const loss = crossEntropy(logits, y);
          ce = tf.keep(loss);
          if (cfg.weightDecay <= 0) return loss;
          const l2 = tf.addN(names.map((k) => tf.sum(tf.square(theta[k]!))));
          return tf.add(loss, tf.mul(l2, 0.5 * cfg.weightDecay)) as tf.Scalar;
        }, vars);
        free.forEach((vs, c) => {
          if (!used[c]) return;
          const gs = vs.map((v) => grads[v.name]);
          if (gs.every((g) => g)) optimizers[c]!.step(vs, gs as tf.Tensor[], lr);
        });
        // The logged loss is the cross-entropy alone (the L2 term is not part of the loss landscape).
        if (value !== ce) value.dispose();
        Object.values(grads).forEach((g) => g.dispose());
        return { loss: ce!, correct: correct! };
      },
    );
    const controls: HostParams[] = [];
    for (const [c, vs] of free.entries()) {
      const trained = await toHost(Object.fromEntries(names.map((k, j) => [k, vs[j]!])));
      // BatchNorm statistics are not coordinates: keep the initial ones (evaluation recomputes them).
      controls.push({ ...init[c]!, ...trained });
    }
    return {
      controls: controls.map((p) => Object.fromEntries(Object.keys(A).map((k) => [k, p[k]!]))),
      curve: loop.curve,
      steps: total,
      samples: loop.samples,
      seconds: loop.seconds,
      samplesPerSec: loop.samples / loop.seconds,
    };
  } finally {
    optimizers.forEach((o) => o.dispose());
    free.flat().forEach((v) => v.dispose());
    ends.forEach((e) => Object.values(e).forEach((tt) => tt.dispose()));
  }
}
