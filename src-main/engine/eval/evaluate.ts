/** Loss and accuracy of a network on a split, in batches, summed on the device and read once. */
import * as tf from '@tensorflow/tfjs-core';
import type { Split } from '../data/dataset';
import { forward } from '../nn/forward';
import type { DeviceParams } from '../nn/params';
import type { ArchSpec } from '../nn/spec';
import { correctCount, crossEntropyPerRow } from '../train/loss';

export interface Metrics {
  loss: number;
  acc: number;
}

/** Batches of a split as device tensors, created once and reused for many evaluations (paths). */
export class DeviceSplit {
  readonly batches: { x: tf.Tensor2D; y: tf.Tensor1D }[] = [];
  readonly n: number;
  constructor(
    /** The host rows, for evaluation on ONNX Runtime (eval/host.ts), which batches them the same way. */
    readonly host: Split,
    features: number,
    readonly batchSize: number,
  ) {
    const split = host;
    this.n = split.n;
    for (let s = 0; s < split.n; s += batchSize) {
      const e = Math.min(s + batchSize, split.n);
      this.batches.push({
        x: tf.tensor2d(split.x.subarray(s * features, e * features), [e - s, features]),
        y: tf.tensor1d(split.y.subarray(s, e), 'int32'),
      });
    }
  }
  dispose(): void {
    for (const b of this.batches) {
      b.x.dispose();
      b.y.dispose();
    }
  }
}

/** Sums loss and correct counts over batches of logits produced by `logitsOf`, then reads them once. */
export async function evaluateLogits(data: DeviceSplit, logitsOf: (x: tf.Tensor2D, batch: number) => tf.Tensor2D): Promise<Metrics> {
  let lossSum = tf.scalar(0);
  let correct = tf.scalar(0);
  data.batches.forEach((b, k) => {
    const [nl, nc] = tf.tidy(() => {
      const logits = logitsOf(b.x, k);
      return [tf.add(lossSum, tf.sum(crossEntropyPerRow(logits, b.y))), tf.add(correct, correctCount(logits, b.y))];
    });
    lossSum.dispose();
    correct.dispose();
    lossSum = nl as tf.Scalar;
    correct = nc as tf.Scalar;
  });
  const [l, c] = await Promise.all([lossSum.data(), correct.data()]);
  lossSum.dispose();
  correct.dispose();
  return { loss: l[0]! / data.n, acc: c[0]! / data.n };
}

export function evaluate(spec: ArchSpec, params: DeviceParams, data: DeviceSplit): Promise<Metrics> {
  return evaluateLogits(data, (x) => forward(spec, params, x));
}
