/**
 * 2-D convolution whose filter gradient works on every backend. tfjs' wasm backend has no
 * Conv2DBackpropFilter kernel, so there the filter gradient is computed as im2col(x)ᵀ·dy with one matMul.
 */
import * as tf from '@tensorflow/tfjs-core';
import { matMulT } from './dense';

function samePads(inSize: number, k: number, s: number): [number, number] {
  const out = Math.ceil(inSize / s);
  const total = Math.max((out - 1) * s + k - inSize, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** Patches [N·Ho·Wo, kh·kw·C], columns ordered (kh, kw, c) to match a [kh, kw, in, out] kernel. */
export function im2col(x: tf.Tensor4D, k: number, stride: number, padding: 'same' | 'valid'): tf.Tensor2D {
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    let xp: tf.Tensor4D = x;
    let ho: number;
    let wo: number;
    if (padding === 'same') {
      const ph = samePads(h, k, stride);
      const pw = samePads(w, k, stride);
      xp = tf.pad(x, [[0, 0], ph, pw, [0, 0]]);
      ho = Math.ceil(h / stride);
      wo = Math.ceil(w / stride);
    } else {
      ho = Math.floor((h - k) / stride) + 1;
      wo = Math.floor((w - k) / stride) + 1;
    }
    const slices: tf.Tensor4D[] = [];
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        slices.push(
          tf.stridedSlice(xp, [0, i, j, 0], [n, i + stride * (ho - 1) + 1, j + stride * (wo - 1) + 1, c], [1, stride, stride, 1]) as tf.Tensor4D,
        );
      }
    }
    return tf.reshape(tf.concat(slices, 3), [n * ho * wo, k * k * c]) as tf.Tensor2D;
  });
}

const needsCustomFilterGrad = (): boolean => tf.getKernel('Conv2DBackpropFilter', tf.getBackend()) === undefined;

export function conv2d(x: tf.Tensor4D, w: tf.Tensor4D, stride: number, padding: 'same' | 'valid'): tf.Tensor4D {
  if (!needsCustomFilterGrad()) return tf.conv2d(x, w, stride, padding);
  const f = tf.customGrad(((xi: tf.Tensor, wi: tf.Tensor, save: tf.GradSaveFunc) => {
    const x4 = xi as tf.Tensor4D;
    const w4 = wi as tf.Tensor4D;
    save([x4, w4]);
    return {
      value: tf.conv2d(x4, w4, stride, padding),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
        const dy4 = dy as tf.Tensor4D;
        const dx = tf.conv2dTranspose(dy4, ws, xs.shape, stride, padding);
        const [kh, kw, cin, cout] = ws.shape;
        const cols = im2col(xs, kh, stride, padding);
        const dw = tf.reshape(matMulT(cols, tf.reshape(dy4, [-1, cout]) as tf.Tensor2D, true, false), [kh, kw, cin, cout]);
        return [dx, dw];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x, w) as tf.Tensor4D;
}
