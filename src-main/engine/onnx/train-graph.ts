/**
 * One training step as one ONNX graph (ONNX Runtime has no training API in Node): the forward pass with dropout
 * masks as inputs, mean softmax cross-entropy, its backward pass written out as operators, and the optimiser update
 * of train/optimizers.ts (same order of operations: weight decay added to the gradient, then momentum or Adam's
 * moments). Weights and optimiser state go in; updated weights and state, the batch's mean loss and its correct
 * count come out.
 *
 * Implemented for dense and conv layers ('same'/'valid', strides), max-pool, bias or none, unit-wise and channel-wise
 * dropout, BatchNorm in training mode (batch statistics; the stored statistics are neither read nor updated, as in
 * train/loop.ts).
 */
import type { ArchSpec } from '../nn/spec';
import { type ParamShape, isBatchNormStat, paramShapes } from '../nn/spec';
import type { OptimizerConfig } from '../train/optimizers';
import { type BatchNormTrace, type LayerTrace, classCount, emitForward, emitLoss, paramInputs } from './forward-graph';
import { GraphBuilder, int, ints, str } from './graph';
import { ONNX_DTYPE } from './proto';

export const LR_INPUT = 'lr';
/** Adam's bias corrections 1 − β1^t and 1 − β2^t, computed on the host for the step number t. */
export const ADAM_C1_INPUT = 'adam.c1';
export const ADAM_C2_INPUT = 'adam.c2';
export const LOSS_OUTPUT = 'loss';
export const CORRECT_OUTPUT = 'correct';

export const newParamOutput = (name: string): string => `new.${name}`;
export const gradOutput = (name: string): string => `grad.${name}`;
export const slotInput = (slot: string, name: string): string => `opt.${slot}.${name}`;
export const newSlotOutput = (slot: string, name: string): string => `new.opt.${slot}.${name}`;

/** The optimiser state tensors each parameter carries: SGD's velocity (with momentum), Adam's two moments. */
export function optimizerSlots(cfg: OptimizerConfig): string[] {
  if (cfg.type === 'adam') return ['m', 's'];
  return cfg.momentum > 0 ? ['v'] : [];
}

/** BatchNorm's backward pass (batch statistics) from dL/d(output): dγ, dβ and dL/d(input):
 *  dx = r·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)), dx̂ = dy·γ, means over the normalised axes. */
function batchNormBackward(g: GraphBuilder, bn: BatchNormTrace, dy: string): { dx: string; dGamma: string; dBeta: string } {
  const sum = (v: string): string => g.op('ReduceSum', [v, g.int64s(bn.axes)], { keepdims: int(0) });
  const mean = (v: string): string => g.op('ReduceMean', [v], { axes: ints(bn.axes), keepdims: int(1) });
  const dxhat = g.op('Mul', [dy, bn.gamma]);
  const centred = g.op('Sub', [g.op('Sub', [dxhat, mean(dxhat)]), g.op('Mul', [bn.xhat, mean(g.op('Mul', [dxhat, bn.xhat]))])]);
  return { dx: g.op('Mul', [centred, bn.r]), dGamma: sum(g.op('Mul', [dy, bn.xhat])), dBeta: sum(dy) };
}

/** 1 where v > 0, else 0 (tfjs' ReLU derivative). */
function reluDerivative(g: GraphBuilder, v: string): string {
  return g.op('Cast', [g.op('Greater', [v, g.scalar(0)])], { to: int(ONNX_DTYPE.float) });
}

/**
 * dL/dW of a convolution (NCHW input x, output gradient dz) as k² matrix products, im2col style, in HWIO directly:
 * dW[a, b, ci, co] = Σ_{n,h,w} xpad[n, h·s + a, w·s + b, ci] · dz[n, h, w, co]. Each strided window (a, b) of the
 * padded NHWC input is [N·H_o·W_o, C_in]; its transpose times dz [N·H_o·W_o, C_out] is the kernel's [C_in, C_out] at
 * (a, b), and the k² of them stacked are HWIO. Measured on the paper's MNIST CNN (batch 64, two threads): one such
 * gradient took 6–7 ms as one product over the concatenated windows and 23–24 ms as a forward convolution of the
 * channel-swapped input with dz as the filter; a product per window skips copying the concatenation (58 MB a layer)
 * and was 2–30% faster again (docs/performance.md).
 */
function convKernelGrad(g: GraphBuilder, x: string, dz: string, k: number, stride: number, pads: number[], dzHW: [number, number], cIn: number, cOut: number): string {
  const [pt, pl, pb, pr] = pads as [number, number, number, number];
  const nhwc = g.op('Transpose', [x], { perm: ints([0, 2, 3, 1]) });
  const xp = pads.some((p) => p > 0) ? g.op('Pad', [nhwc, g.int64s([0, pt, pl, 0, 0, pb, pr, 0])]) : nhwc;
  const windows: string[] = [];
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k; b++) {
      const ends = [a + (dzHW[0] - 1) * stride + 1, b + (dzHW[1] - 1) * stride + 1];
      windows.push(g.op('Slice', [xp, g.int64s([a, b]), g.int64s(ends), g.int64s([1, 2]), g.int64s([stride, stride])]));
    }
  }
  const dzRows = g.op('Reshape', [g.op('Transpose', [dz], { perm: ints([0, 2, 3, 1]) }), g.int64s([-1, cOut])]);
  const parts = windows.map((w) => g.op('Gemm', [g.op('Reshape', [w, g.int64s([-1, cIn])]), dzRows], { transA: int(1) }));
  return g.op('Reshape', [parts.length > 1 ? g.op('Concat', parts, { axis: int(0) }) : parts[0]!, g.int64s([k, k, cIn, cOut])]);
}

/**
 * dL/dx of a convolution (output gradient dz NCHW; the kernel as the HWIO parameter and as the OIHW value the forward
 * pass used). With stride 1 it is a forward convolution of dz with the kernel rotated by 180° and its in and out
 * channels swapped, padded by k − 1 − p on each side: dx[n, ci, y, x] = Σ dz[n, co, y + p_t − a, x + p_l − b] ·
 * W[co, ci, a, b]. ONNX Runtime's Conv ran this in about half the time of the equivalent ConvTranspose (4 ms against
 * 8 ms per layer on the paper's MNIST CNN, batch 64); strides other than 1 keep ConvTranspose.
 */
function convInputGrad(g: GraphBuilder, dz: string, hwio: string, oihw: string, k: number, stride: number, pads: [number, number, number, number], dzHW: [number, number], inHW: [number, number]): string {
  const [pt, pl, pb, pr] = pads;
  if (stride === 1) {
    const reversed = g.int64s(Array.from({ length: k }, (_, a) => k - 1 - a));
    const rotated = g.op('Gather', [g.op('Gather', [hwio, reversed], { axis: int(0) }), reversed], { axis: int(1) });
    return g.op('Conv', [dz, g.op('Transpose', [rotated], { perm: ints([2, 3, 0, 1]) })], {
      kernel_shape: ints([k, k]),
      pads: ints([k - 1 - pt, k - 1 - pl, k - 1 - pb, k - 1 - pr]),
    });
  }
  const outPad = [inHW[0] - ((dzHW[0] - 1) * stride + k - pt - pb), inHW[1] - ((dzHW[1] - 1) * stride + k - pl - pr)];
  return g.op('ConvTranspose', [dz, oihw], {
    kernel_shape: ints([k, k]),
    strides: ints([stride, stride]),
    pads: ints(pads),
    output_padding: ints(outPad),
  });
}

/** Records dγ and dβ of layer i; returns the gradient at BatchNorm's input. */
function batchNormGrads(g: GraphBuilder, bn: BatchNormTrace, dy: string, i: number, grads: Record<string, string>): string {
  const b = batchNormBackward(g, bn, dy);
  grads[`A${i}.bn.gamma`] = b.dGamma;
  grads[`A${i}.bn.beta`] = b.dBeta;
  return b.dx;
}

/** dL/dθ of every parameter, given the forward trace and dL/dlogits; the network's input gets no gradient. */
function emitBackward(g: GraphBuilder, spec: ArchSpec, n: number, params: Record<string, string>, trace: LayerTrace[], dLogits: string): Record<string, string> {
  const grads: Record<string, string> = {};
  const d = spec.layers.length;
  // dL/d(layer i's output), after its dropout mask and pooling.
  let dOut = dLogits;
  for (let i = d; i >= 1; i--) {
    const t = trace[i - 1]!;
    const layer = spec.layers[i - 1]!;
    let dIn: string | null = null;
    if (t.type === 'dense') {
      let dz = dOut;
      if (i < d) {
        if (t.mask) dz = g.op('Mul', [dz, t.mask]);
        dz = g.op('Mul', [dz, reluDerivative(g, t.bn ? t.bn.out : t.pre)]);
        if (t.bn) dz = batchNormGrads(g, t.bn, dz, i, grads);
      }
      grads[`A${i}.w`] = g.op('Gemm', [t.input, dz], { transA: int(1) });
      if (layer.bias) grads[`A${i}.b`] = g.op('ReduceSum', [dz, g.int64s([0])], { keepdims: int(0) });
      if (i > 1) {
        dIn = g.op('Gemm', [dz, params[`A${i}.w`]!], { transB: int(1) });
        // Back from the (h, w, c) flatten to the conv layer's NCHW map.
        if (t.fromConv) dIn = g.op('Transpose', [g.op('Reshape', [dIn, g.int64s([n, ...t.fromConv])])], { perm: ints([0, 3, 1, 2]) });
      }
    } else {
      if (layer.type !== 'conv') throw new Error('trace and spec disagree');
      let dr = t.mask ? g.op('Mul', [dOut, t.mask]) : dOut;
      if (t.poolIndices) {
        // MaxPool's gradient: each output's gradient added at the input position it took (windows may overlap).
        const size = n * layer.filters * t.preHW[0] * t.preHW[1];
        const zeros = g.op('Expand', [g.scalar(0), g.int64s([size])]);
        const flat = (v: string): string => g.op('Reshape', [v, g.int64s([-1])]);
        const scattered = g.op('ScatterElements', [zeros, flat(t.poolIndices), flat(dr)], { axis: int(0), reduction: str('add') });
        dr = g.op('Reshape', [scattered, g.int64s([n, layer.filters, ...t.preHW])]);
      }
      let dz = g.op('Mul', [dr, reluDerivative(g, t.bn ? t.bn.out : t.pre)]);
      if (t.bn) dz = batchNormGrads(g, t.bn, dz, i, grads);
      grads[`A${i}.w`] = convKernelGrad(g, t.input, dz, layer.kernel, layer.stride, t.pads, t.preHW, t.inC, layer.filters);
      if (layer.bias) grads[`A${i}.b`] = g.op('ReduceSum', [dz, g.int64s([0, 2, 3])], { keepdims: int(0) });
      if (i > 1) dIn = convInputGrad(g, dz, params[`A${i}.w`]!, t.kernel, layer.kernel, layer.stride, t.pads, t.preHW, t.inHW);
    }
    if (dIn === null) break;
    dOut = dIn;
  }
  return grads;
}

/** θ' (and the new optimiser state) from θ and its gradient; returns slot name → new value, plus 'param'. */
function emitUpdate(g: GraphBuilder, cfg: OptimizerConfig, theta: string, grad: string, slots: Record<string, string>, lr: string): Record<string, string> {
  let gr = grad;
  if (cfg.weightDecay > 0) gr = g.op('Add', [gr, g.op('Mul', [theta, g.scalar(cfg.weightDecay)])]);
  const out: Record<string, string> = {};
  let upd = gr;
  if (cfg.type === 'sgd') {
    if (cfg.momentum > 0) {
      const mu = g.scalar(cfg.momentum);
      const v = g.op('Add', [g.op('Mul', [slots['v']!, mu]), gr]);
      out['v'] = v;
      upd = cfg.nesterov ? g.op('Add', [gr, g.op('Mul', [v, mu])]) : v;
    }
  } else {
    const m = g.op('Add', [g.op('Mul', [slots['m']!, g.scalar(cfg.beta1)]), g.op('Mul', [gr, g.scalar(1 - cfg.beta1)])]);
    const s = g.op('Add', [g.op('Mul', [slots['s']!, g.scalar(cfg.beta2)]), g.op('Mul', [g.op('Mul', [gr, gr]), g.scalar(1 - cfg.beta2)])]);
    out['m'] = m;
    out['s'] = s;
    const mHat = g.op('Div', [m, ADAM_C1_INPUT]);
    const sHat = g.op('Div', [s, ADAM_C2_INPUT]);
    upd = g.op('Div', [mHat, g.op('Add', [g.op('Sqrt', [sHat]), g.scalar(cfg.epsilon)])]);
  }
  out['param'] = g.op('Sub', [theta, g.op('Mul', [upd, lr])]);
  return out;
}

/**
 * The training-step model for batches of n. The learning rate is an input (schedules change it every step); the
 * optimiser's other constants are part of the graph. With `gradients`, dL/dθ is an output too (tests).
 */
export function buildTrainStepModel(spec: ArchSpec, n: number, cfg: OptimizerConfig, gradients = false): Uint8Array {
  const g = new GraphBuilder('modelab_train_step');
  const k = classCount(spec);
  // BatchNorm statistics are not trained (nn/batchnorm.ts) and training mode does not read them: no inputs.
  const params = paramInputs(g, spec, false);
  const lr = g.input(LR_INPUT, 'float', []);
  if (cfg.type === 'adam') {
    g.input(ADAM_C1_INPUT, 'float', []);
    g.input(ADAM_C2_INPUT, 'float', []);
  }
  const { logits, trace } = emitForward(g, spec, n, params, true);
  const loss = emitLoss(g, logits, n, k);
  // d(mean cross-entropy)/dlogits = (softmax − one-hot)/n.
  const dLogits = g.op('Div', [g.op('Sub', [g.op('Exp', [loss.logProbs]), loss.oneHot]), g.scalar(n)]);
  const grads = emitBackward(g, spec, n, params, trace, dLogits);
  const slotNames = optimizerSlots(cfg);
  for (const p of trainableShapes(spec)) {
    const slots = Object.fromEntries(slotNames.map((s) => [s, g.input(slotInput(s, p.name), 'float', p.shape)]));
    const upd = emitUpdate(g, cfg, params[p.name]!, grads[p.name]!, slots, lr);
    g.output(newParamOutput(p.name), upd['param']!, 'float', p.shape);
    for (const s of slotNames) g.output(newSlotOutput(s, p.name), upd[s]!, 'float', p.shape);
    if (gradients) g.output(gradOutput(p.name), grads[p.name]!, 'float', p.shape);
  }
  g.output(LOSS_OUTPUT, loss.lossMean, 'float', []);
  g.output(CORRECT_OUTPUT, loss.correct, 'float', []);
  return g.serialize();
}

/** The parameters a training step updates: all but the BatchNorm statistics. */
export function trainableShapes(spec: ArchSpec): ParamShape[] {
  return paramShapes(spec).filter((p) => !isBatchNormStat(p.name));
}

/** The cache key part that fixes a training graph: everything of the optimiser but its learning rate. */
export function optimizerKey(cfg: OptimizerConfig): string {
  const { lr: _lr, ...rest } = cfg;
  return JSON.stringify(rest);
}

