/**
 * Weight initialisation schemes (a recipe's `architecture.init`; docs/recipes.md "Initialisation"). Kernels are
 * dense [in, out] or conv [kh, kw, in, out]; fan_in = kh·kw·in (dense: in), fan_out = kh·kw·out (dense: out).
 * - 'he-fan-in': every kernel normal with std √(2/fan_in) (He et al. 2015, fan-in mode). ModeLab's default.
 * - 'he-fan-out-conv': conv kernels normal with std √(2/(kh·kw·out)) and dense kernels uniform on ±1/√fan_in — what
 *   the public VGG-on-CIFAR code the paper's VGG-11 hyperparameters come from does (chengyangfu/pytorch-vgg-cifar10:
 *   its own conv init, PyTorch's default nn.Linear init). With the paper's dropout at every layer, He fan-in starts
 *   the VGG-11 with logits of std ≈ 36 and SGD at lr 0.05 diverges (issue 13).
 * - 'glorot-uniform': every kernel uniform on ±√(6/(fan_in + fan_out)) — Keras' default, so the MNIST code of the
 *   paper's authors (Keras Conv2D/Dense without an initializer argument).
 * Biases start at zero in every scheme.
 */
import type { Rng } from '../util/rng';

export const INIT_SCHEMES = ['he-fan-in', 'he-fan-out-conv', 'glorot-uniform'] as const;
export type InitScheme = (typeof INIT_SCHEMES)[number];
export const DEFAULT_INIT: InitScheme = 'he-fan-in';

/** Fills `out` with a kernel of `shape` drawn by `scheme`. */
export function fillKernel(out: Float32Array, shape: readonly number[], scheme: InitScheme, rng: Rng): void {
  const conv = shape.length === 4;
  const taps = conv ? shape[0]! * shape[1]! : 1;
  const fanIn = taps * shape[shape.length - 2]!;
  const fanOut = taps * shape[shape.length - 1]!;
  const normal = (std: number): void => {
    for (let k = 0; k < out.length; k++) out[k] = rng.normal() * std;
  };
  const uniform = (limit: number): void => {
    for (let k = 0; k < out.length; k++) out[k] = (2 * rng.next() - 1) * limit;
  };
  switch (scheme) {
    case 'he-fan-in':
      return normal(Math.sqrt(2 / fanIn));
    case 'he-fan-out-conv':
      return conv ? normal(Math.sqrt(2 / fanOut)) : uniform(1 / Math.sqrt(fanIn));
    case 'glorot-uniform':
      return uniform(Math.sqrt(6 / (fanIn + fanOut)));
  }
}
