/**
 * The minibatch loop that every trainer shares (endpoint training, curve training): shuffled epochs from a seeded
 * generator, gathering and augmenting batches on the host, the learning-rate schedule, cancellation within one step,
 * loss and accuracy accumulated on the device and read only at log points, progress with samples/s, and a yield to
 * the event loop after every step (signals, IPC). What a step does to the weights is the caller's `step`.
 *
 * Divergence: the step of the first non-finite minibatch loss is tracked on the device (no sync) and read at every
 * log point and at steps 1, 2, 4, 8, … (a handful of extra one-number reads, so an early blow-up — the usual kind:
 * a bad initialisation or learning rate — stops within a step or two). A non-finite loss throws DivergedError naming
 * that exact step.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Dataset, Split } from '../data/dataset';
import { featureCount } from '../data/dataset';
import { DivergedError, throwIfCancelled } from '../util/errors';
import { type StageTimer, yieldToEventLoop } from '../util/progress';
import type { Rng } from '../util/rng';
import { type AugmentConfig, augmentBatch, gatherBatch } from './batches';
import { type ScheduleConfig, learningRate } from './schedule';

export interface LogPoint {
  step: number;
  epoch: number;
  lr: number;
  /** Mean minibatch loss and accuracy since the previous point (training mode: dropout active). */
  loss: number;
  acc: number;
  /** Endpoint training: loss and accuracy on a fixed test subsample at this point (train/test-probe.ts); absent in
   *  curve training, for BatchNorm networks, and in runs from before. */
  testLoss?: number;
  testAcc?: number;
}

/** One step on a minibatch: update the weights and return the batch's mean loss and correct count (the loop disposes
 *  both). The batch comes as tfjs tensors and as the host arrays they were made from (for steps computed elsewhere,
 *  onnx/stepper.ts); a step may be asynchronous. */
export type StepFn = (
  batch: { x: tf.Tensor2D; y: tf.Tensor1D; hostX: Float32Array; hostY: Int32Array },
  lr: number,
  step: number,
) => StepOutput | Promise<StepOutput>;

export interface StepOutput {
  loss: tf.Scalar;
  correct: tf.Scalar;
}

export interface MinibatchOptions {
  data: Dataset;
  /** The split to draw from (default: data.train). */
  split?: Split;
  batchSize: number;
  augment?: AugmentConfig;
  lr: number;
  schedule: ScheduleConfig;
  total: number;
  perEpoch: number;
  dataRng: Rng;
  augRng: Rng;
  timer: StageTimer;
  /** Number of log points over the run (default 100). */
  logPoints?: number;
  signal?: AbortSignal;
  onLog?: (p: LogPoint) => void;
  /** At each log point: test metrics to put on the point (endpoint training). */
  evaluateAtLog?: () => Promise<{ loss: number; acc: number }>;
  /** After each step (e.g. checkpoints), with the number of steps done. */
  afterStep?: (done: number) => Promise<void>;
}

/** Seconds between progress reports when log points are further apart: a long run shows it is moving from the start. */
export const PROGRESS_HEARTBEAT_SEC = 2;

/** Steps between two log points (curve points, progress reports). */
export function logInterval(total: number, logPoints = 100): number {
  return Math.max(1, Math.round(total / logPoints));
}

export async function runMinibatches(o: MinibatchOptions, step: StepFn): Promise<{ curve: LogPoint[]; samples: number; seconds: number }> {
  const split = o.split ?? o.data.train;
  const features = featureCount(o.data);
  const n = split.n;
  const logEvery = logInterval(o.total, o.logPoints);
  const curve: LogPoint[] = [];
  let lossAcc = tf.scalar(0);
  let correctAcc = tf.scalar(0);
  // The first step (1-based) whose loss was not finite (∞ while none was), and that loss.
  let badStep = tf.scalar(Infinity);
  let badLoss = tf.scalar(0);
  let seen = 0;
  let samples = 0;
  let order = o.dataRng.permutation(n);
  let pos = 0;
  const t0 = performance.now();
  let reportedAt = 0;
  try {
    for (let s = 0; s < o.total; s++) {
      throwIfCancelled(o.signal);
      if (pos >= n) {
        order = o.dataRng.permutation(n);
        pos = 0;
      }
      const idx = order.subarray(pos, Math.min(pos + o.batchSize, n));
      pos += idx.length;
      const batch = gatherBatch(split, idx, features);
      if (o.augment && (o.augment.flip || o.augment.crop > 0)) augmentBatch(batch.x, o.data.inputShape, o.augment, o.augRng);
      const lr = learningRate(o.lr, o.schedule, s, o.total, o.perEpoch);
      const x = tf.tensor2d(batch.x, [idx.length, features]);
      const y = tf.tensor1d(batch.y, 'int32');
      const { loss, correct } = await step({ x, y, hostX: batch.x, hostY: batch.y }, lr, s);
      const nextLoss = tf.tidy(() => tf.add(lossAcc, tf.mul(loss, idx.length))) as tf.Scalar;
      const nextCorrect = tf.add(correctAcc, correct) as tf.Scalar;
      const [nextBadStep, nextBadLoss] = tf.tidy(() => {
        const first = tf.logicalAnd(tf.logicalNot(tf.isFinite(loss)), tf.isInf(badStep));
        return [tf.where(first, tf.scalar(s + 1), badStep), tf.where(first, loss, badLoss)] as tf.Scalar[];
      }) as [tf.Scalar, tf.Scalar];
      [lossAcc, correctAcc, badStep, badLoss, loss, correct, x, y].forEach((t) => t.dispose());
      lossAcc = nextLoss;
      correctAcc = nextCorrect;
      badStep = nextBadStep;
      badLoss = nextBadLoss;
      seen += idx.length;
      samples += idx.length;
      const done = s + 1;
      const logNow = done % logEvery === 0 || done === o.total;
      if (logNow || (done & (done - 1)) === 0) {
        const at = (await badStep.data())[0]!;
        if (Number.isFinite(at)) throw new DivergedError(o.timer.label, at, (await badLoss.data())[0]!);
      }
      if (logNow) {
        const [l, c] = await Promise.all([lossAcc.data(), correctAcc.data()]);
        const test = o.evaluateAtLog ? await o.evaluateAtLog() : undefined;
        const point: LogPoint = { step: done, epoch: done / o.perEpoch, lr, loss: l[0]! / seen, acc: c[0]! / seen, ...(test ? { testLoss: test.loss, testAcc: test.acc } : {}) };
        curve.push(point);
        o.onLog?.(point);
        lossAcc.dispose();
        correctAcc.dispose();
        lossAcc = tf.scalar(0);
        correctAcc = tf.scalar(0);
        seen = 0;
        const secs = (performance.now() - t0) / 1000;
        o.timer.report(done, { loss: point.loss, acc: point.acc, ...(test ? { testLoss: test.loss, testAcc: test.acc } : {}), lr, epoch: point.epoch, samplesPerSec: samples / secs });
        reportedAt = secs;
      } else {
        const secs = (performance.now() - t0) / 1000;
        if (secs - reportedAt >= PROGRESS_HEARTBEAT_SEC) {
          o.timer.report(done, { lr, epoch: done / o.perEpoch, samplesPerSec: samples / secs });
          reportedAt = secs;
        }
      }
      await o.afterStep?.(done);
      await yieldToEventLoop();
    }
    return { curve, samples, seconds: (performance.now() - t0) / 1000 };
  } finally {
    [lossAcc, correctAcc, badStep, badLoss].forEach((t) => t.dispose());
  }
}
