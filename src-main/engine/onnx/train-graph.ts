/**
 * One training step as one ONNX graph (ONNX Runtime has no training API in Node): the forward pass with dropout
 * masks as inputs, mean softmax cross-entropy, its backward pass written out as operators, and the optimiser update
 * of train/optimizers.ts (same order of operations: weight decay added to the gradient, then momentum or Adam's
 * moments). Weights and optimiser state go in; updated weights and state, the batch's mean loss and its correct
 * count come out.
 *
 * Implemented for MLPs (dense layers, with or without bias, unit-wise dropout). Convolutions, max-pool and BatchNorm
 * in training are refused by `onnxTrainingRefusal` until their backward passes are written.
 */
import type { ArchSpec } from '../nn/spec';
import { hasBatchNorm, paramShapes } from '../nn/spec';
import type { OptimizerConfig } from '../train/optimizers';
import { type DenseTrace, classCount, emitForward, emitLoss, paramInputs } from './forward-graph';
import { GraphBuilder, int } from './graph';
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

/** Why a training step for this spec cannot run on ONNX Runtime yet, or null when it can. */
export function onnxTrainingRefusal(spec: ArchSpec): string | null {
  if (spec.layers.some((l) => l.type === 'conv')) return 'training convolutional networks on ONNX Runtime is not implemented yet (MLPs only)';
  if (hasBatchNorm(spec)) return 'training with BatchNorm on ONNX Runtime is not implemented yet';
  return null;
}

/** dL/dθ of every parameter, given the forward trace and dL/dlogits; the network's input gets no gradient. */
function emitBackward(g: GraphBuilder, spec: ArchSpec, params: Record<string, string>, trace: DenseTrace[], dLogits: string): Record<string, string> {
  const grads: Record<string, string> = {};
  let dz = dLogits;
  for (let i = spec.layers.length; i >= 1; i--) {
    const t = trace[i - 1]!;
    grads[`A${i}.w`] = g.op('Gemm', [t.input, dz], { transA: int(1) });
    if (spec.layers[i - 1]!.bias) grads[`A${i}.b`] = g.op('ReduceSum', [dz, g.int64s([0])], { keepdims: int(0) });
    if (i === 1) break;
    const below = trace[i - 2]!;
    // Through layer i's affine map, then layer i−1's dropout mask and ReLU (derivative 1 where the pre-activation is
    // positive, 0 elsewhere, as tfjs' relu gradient).
    let d = g.op('Gemm', [dz, params[`A${i}.w`]!], { transB: int(1) });
    if (below.mask) d = g.op('Mul', [d, below.mask]);
    dz = g.op('Mul', [d, g.op('Cast', [g.op('Greater', [below.pre, g.scalar(0)])], { to: int(ONNX_DTYPE.float) })]);
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
  const refusal = onnxTrainingRefusal(spec);
  if (refusal) throw new Error(refusal);
  const g = new GraphBuilder('modelab_train_step');
  const k = classCount(spec);
  const params = paramInputs(g, spec);
  const lr = g.input(LR_INPUT, 'float', []);
  if (cfg.type === 'adam') {
    g.input(ADAM_C1_INPUT, 'float', []);
    g.input(ADAM_C2_INPUT, 'float', []);
  }
  const { logits, trace } = emitForward(g, spec, n, params, true);
  const loss = emitLoss(g, logits, n, k);
  // d(mean cross-entropy)/dlogits = (softmax − one-hot)/n.
  const dLogits = g.op('Div', [g.op('Sub', [g.op('Exp', [loss.logProbs]), loss.oneHot]), g.scalar(n)]);
  const grads = emitBackward(g, spec, params, trace, dLogits);
  const slotNames = optimizerSlots(cfg);
  for (const p of paramShapes(spec)) {
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

/** The cache key part that fixes a training graph: everything of the optimiser but its learning rate. */
export function optimizerKey(cfg: OptimizerConfig): string {
  const { lr: _lr, ...rest } = cfg;
  return JSON.stringify(rest);
}

