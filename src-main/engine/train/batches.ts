/** Minibatch assembly on the host: gather rows, optional augmentation (random crop with zero padding, horizontal flip). */
import type { Split } from '../data/dataset';
import type { Rng } from '../util/rng';

export interface AugmentConfig {
  /** Flip images left–right with probability ½. */
  flip: boolean;
  /** Pad by this many pixels (zeros) and crop back at a random offset; 0 disables. */
  crop: number;
}

export function gatherBatch(split: Split, idx: ArrayLike<number>, features: number): { x: Float32Array; y: Int32Array } {
  const x = new Float32Array(idx.length * features);
  const y = new Int32Array(idx.length);
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k]!;
    x.set(split.x.subarray(i * features, (i + 1) * features), k * features);
    y[k] = split.y[i]!;
  }
  return { x, y };
}

/** Augments a batch of NHWC images in place. */
export function augmentBatch(x: Float32Array, shape: [number, number, number], aug: AugmentConfig, rng: Rng): void {
  const [h, w, c] = shape;
  const per = h * w * c;
  const n = x.length / per;
  const tmp = new Float32Array(per);
  for (let s = 0; s < n; s++) {
    const img = x.subarray(s * per, (s + 1) * per);
    const flip = aug.flip && rng.next() < 0.5;
    const dy = aug.crop > 0 ? rng.int(2 * aug.crop + 1) - aug.crop : 0;
    const dx = aug.crop > 0 ? rng.int(2 * aug.crop + 1) - aug.crop : 0;
    if (!flip && dx === 0 && dy === 0) continue;
    tmp.fill(0);
    for (let i = 0; i < h; i++) {
      const si = i + dy;
      if (si < 0 || si >= h) continue;
      for (let j = 0; j < w; j++) {
        let sj = j + dx;
        if (sj < 0 || sj >= w) continue;
        if (flip) sj = w - 1 - sj;
        for (let ch = 0; ch < c; ch++) tmp[(i * w + j) * c + ch] = img[(si * w + sj) * c + ch]!;
      }
    }
    img.set(tmp);
  }
}
