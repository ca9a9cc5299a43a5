/**
 * The ONNX forward graph against the engine's tfjs forward pass (cpu backend) on the same weights: logits, summed
 * cross-entropy and correct count, for MLPs with and without bias and a CNN with BatchNorm, max-pool, 'same' and
 * 'valid' padding and strides; and the session cache, keyed by spec and batch size.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src-main/engine/backend/backends';
import { onnxEvaluate, onnxForwardBatch } from '../../src-main/engine/onnx/evaluate';
import { cachedSessionCount } from '../../src-main/engine/onnx/runtime';
import { correctCount, crossEntropyPerRow } from '../../src-main/engine/train/loss';
import type { ArchSpec } from '../../src-main/engine/nn/spec';
import { batch, cnn, maxAbs, mlp, randomParams, tfjsLogits } from './helpers';

beforeAll(async () => {
  await selectBackend('cpu');
});

function tfjsLossAndCorrect(logits: Float32Array, y: Int32Array): { lossSum: number; correct: number } {
  return tf.tidy(() => {
    const l = tf.tensor2d(logits, [y.length, logits.length / y.length]);
    const yt = tf.tensor1d(y, 'int32');
    return { lossSum: tf.sum(crossEntropyPerRow(l, yt)).dataSync()[0]!, correct: correctCount(l, yt).dataSync()[0]! };
  });
}

const cases: { name: string; spec: ArchSpec }[] = [
  { name: 'MLP with bias', spec: mlp(true) },
  { name: 'MLP without bias', spec: mlp(false) },
  { name: 'CNN with BatchNorm, max-pool, same/valid padding and strides', spec: cnn },
];

describe.each(cases)('$name', ({ spec }) => {
  it('gives the tfjs logits, loss and correct count on the same weights', async () => {
    const p = randomParams(spec, 3);
    const n = 5;
    const { x, y } = batch(spec, n, 4);
    const want = tfjsLogits(spec, p, x, n);
    const got = await onnxForwardBatch(spec, p, x, y);
    expect(got.logits.length).toBe(want.length);
    // Not vacuous: the logits vary, and a wrong layout (NHWC read as NCHW, an untransposed kernel) moves them by O(1).
    expect(maxAbs(want, new Float32Array(want.length))).toBeGreaterThan(0.1);
    expect(maxAbs(got.logits, want)).toBeLessThan(1e-5);
    const ref = tfjsLossAndCorrect(want, y);
    expect(Math.abs(got.lossSum - ref.lossSum)).toBeLessThan(1e-5 * n);
    expect(got.correct).toBe(ref.correct);
  });
});

describe('onnxEvaluate', () => {
  it('sums over batches (the last one smaller) to the whole split’s mean loss and accuracy', async () => {
    const spec = mlp(true);
    const p = randomParams(spec, 8);
    const n = 11;
    const { x, y } = batch(spec, n, 9);
    const whole = await onnxForwardBatch(spec, p, x, y);
    const m = await onnxEvaluate(spec, p, { x, y, n }, 4);
    expect(m.loss).toBeCloseTo(whole.lossSum / n, 5);
    expect(m.acc).toBe(whole.correct / n);
  });

  it('compiles once per spec and batch size', async () => {
    const spec = mlp(false);
    const p = randomParams(spec, 1);
    const { x, y } = batch(spec, 6, 2);
    await onnxForwardBatch(spec, p, x, y);
    const before = cachedSessionCount();
    await onnxForwardBatch(spec, randomParams(spec, 5), x, y);
    expect(cachedSessionCount()).toBe(before);
    await onnxForwardBatch(spec, p, x.subarray(0, 3 * 12), y.subarray(0, 3));
    expect(cachedSessionCount()).toBe(before + 1);
  });

  it('refuses weights that do not match the spec', async () => {
    const spec = mlp(true);
    const { x, y } = batch(spec, 2, 2);
    await expect(onnxForwardBatch(spec, randomParams(mlp(false), 1), x, y)).rejects.toThrow(/expected \d+ parameters/);
  });
});
