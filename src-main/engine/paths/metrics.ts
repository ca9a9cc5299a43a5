/** Loss and accuracy from logits, summed on the device over a split's batches and read once. */
import * as tf from '@tensorflow/tfjs-core';
import type { DeviceSplit, Metrics } from '../eval/evaluate';
import { correctCount, crossEntropyPerRow } from '../train/loss';

/** Loss and accuracy of a split from per-batch logits produced by `logitsOf`. */
export async function metricsFrom(split: DeviceSplit, logitsOf: (batch: number) => tf.Tensor2D): Promise<Metrics> {
  const sums = tf.tidy(() => {
    let loss: tf.Tensor = tf.scalar(0);
    let correct: tf.Tensor = tf.scalar(0);
    split.batches.forEach((b, k) => {
      const logits = logitsOf(k);
      loss = tf.add(loss, tf.sum(crossEntropyPerRow(logits, b.y)));
      correct = tf.add(correct, correctCount(logits, b.y));
    });
    return tf.stack([loss, correct]);
  });
  const v = await sums.data();
  sums.dispose();
  return { loss: v[0]! / split.n, acc: v[1]! / split.n };
}
