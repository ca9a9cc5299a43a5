/**
 * The network's forward pass as ONNX nodes, compiled from an ArchSpec (nn/spec.ts) for one batch size.
 *
 * Layouts: the engine's data are NHWC rows ([N, H·W·C]) and its conv kernels HWIO; ONNX Conv and MaxPool are NCHW
 * with OIHW kernels. The graph reshapes x to NHWC and transposes it to NCHW once, transposes each kernel inside the
 * graph (the weights stay in the engine's layout, so host tensors feed in unchanged), and transposes back to NHWC
 * before the flatten into the first dense layer, whose rows are ordered (h, w, c).
 * Weights are graph inputs named as in paramShapes; dropout masks (training) are inputs `mask.A{i}` shaped as the
 * engine draws them: [N, units] for dense layers, [N, 1, 1, C] for conv layers.
 */
import { BN_EPSILON } from '../nn/batchnorm';
import { samePads } from '../nn/conv';
import { type ArchSpec, isBatchNormStat, layerHasBatchNorm, layerOutputShapes, paramShapes } from '../nn/spec';
import { type GraphBuilder, float, int, ints } from './graph';
import { ONNX_DTYPE } from './proto';

export const X_INPUT = 'x';
export const LABELS_INPUT = 'labels';

export const maskInput = (i: number): string => `mask.A${i}`;

/** Whether hidden layer i (1-based) has a dropout mask in training. */
export function layerHasDropout(spec: ArchSpec, i: number): boolean {
  return i < spec.layers.length && spec.layers[i - 1]!.dropout > 0;
}

/** The shape of layer i's dropout mask for a batch of n (the engine's shape: nn/forward.ts). */
export function maskShape(spec: ArchSpec, i: number, n: number): number[] {
  const layer = spec.layers[i - 1]!;
  return layer.type === 'dense' ? [n, layer.units] : [n, 1, 1, layer.filters];
}

/** What a training graph's backward pass needs of each layer's forward values. */
export type LayerTrace =
  | {
      type: 'dense';
      /** The layer's input [N, in] (flattened from NHWC after a conv layer: `fromConv` is that map's H, W, C). */
      input: string;
      fromConv?: [number, number, number];
      /** Its affine output x·W + b [N, out]. */
      pre: string;
      /** The dropout mask applied after the ReLU, if any. */
      mask?: string;
      bn?: BatchNormTrace;
    }
  | {
      type: 'conv';
      /** The layer's input, NCHW, its height, width and channels, and the kernel as OIHW. */
      input: string;
      inHW: [number, number];
      inC: number;
      kernel: string;
      /** The convolution's output (bias added) [N, C, H, W] with its height and width, and its ReLU. */
      pre: string;
      preHW: [number, number];
      relu: string;
      /** [top, left, bottom, right] zero padding. */
      pads: [number, number, number, number];
      /** MaxPool's flat indices into the ReLU output, when pooling. */
      poolIndices?: string;
      /** The dropout mask reshaped to [N, C, 1, 1], if any. */
      mask?: string;
      bn?: BatchNormTrace;
    };

/** BatchNorm in training mode (batch statistics): what its backward pass needs. */
export interface BatchNormTrace {
  /** The normalised input x̂ = (x − mean)·r, r = 1/√(var + ε) (kept dims), γ shaped to broadcast, the axes reduced. */
  xhat: string;
  r: string;
  gamma: string;
  axes: number[];
  /** BN's output: the ReLU's input. */
  out: string;
}

/** Declares every parameter of the spec as a float input (but those `skip` names); returns name → graph value. */
export function paramInputs(g: GraphBuilder, spec: ArchSpec, withStats = true, skip: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of paramShapes(spec)) {
    if ((withStats || !isBatchNormStat(p.name)) && !skip.includes(p.name)) out[p.name] = g.input(p.name, 'float', p.shape);
  }
  return out;
}

/**
 * Emits f_θ(x) for a batch of n rows. With `training`, each hidden layer with dropout multiplies its output by the
 * mask input (inverted dropout, as the engine) and max-pools also return their indices (for the backward pass).
 * BatchNorm uses the stored statistics (evaluation mode). With `firstProduct`, a dense first layer starts from that
 * value, x·W_1 computed elsewhere, instead of from an input x (its bias is still added here).
 */
export function emitForward(
  g: GraphBuilder,
  spec: ArchSpec,
  n: number,
  params: Record<string, string>,
  training: boolean,
  firstProduct?: string,
): { logits: string; trace: LayerTrace[] } {
  const [h0, w0, c0] = spec.input;
  const shapes = layerOutputShapes(spec);
  const d = spec.layers.length;
  const trace: LayerTrace[] = [];
  if (firstProduct !== undefined && spec.layers[0]!.type !== 'dense') throw new Error('a first-layer product needs a dense first layer');
  const x = firstProduct === undefined ? g.input(X_INPUT, 'float', [n, h0 * w0 * c0]) : '';
  let cur = x;
  let nchw = false;
  let [h, w] = [h0, w0];
  if (spec.layers[0]!.type === 'conv') {
    cur = g.op('Transpose', [g.op('Reshape', [x, g.int64s([n, h0, w0, c0])])], { perm: ints([0, 3, 1, 2]) });
    nchw = true;
  }
  spec.layers.forEach((layer, k) => {
    const i = k + 1;
    const last = i === d;
    const bias = layer.bias ? params[`A${i}.b`]! : '';
    const mask = training && layerHasDropout(spec, i) ? g.input(maskInput(i), 'float', maskShape(spec, i, n)) : undefined;
    let y: string;
    if (layer.type === 'conv') {
      const kernel = g.op('Transpose', [params[`A${i}.w`]!], { perm: ints([3, 2, 0, 1]) });
      const [pt, pb] = layer.padding === 'same' ? samePads(h, layer.kernel, layer.stride) : [0, 0];
      const [pl, pr] = layer.padding === 'same' ? samePads(w, layer.kernel, layer.stride) : [0, 0];
      const pads: [number, number, number, number] = [pt, pl, pb, pr];
      const pre = g.op('Conv', bias ? [cur, kernel, bias] : [cur, kernel], {
        kernel_shape: ints([layer.kernel, layer.kernel]),
        strides: ints([layer.stride, layer.stride]),
        pads: ints(pads),
      });
      const preHW: [number, number] = [
        Math.floor((h + pt + pb - layer.kernel) / layer.stride) + 1,
        Math.floor((w + pl + pr - layer.kernel) / layer.stride) + 1,
      ];
      y = pre;
      let bn: BatchNormTrace | undefined;
      if (layerHasBatchNorm(spec, i)) {
        if (training) y = (bn = batchNormTraining(g, y, params, i, [0, 2, 3], [layer.filters, 1, 1])).out;
        else y = batchNorm(g, y, params, i);
      }
      const relu = g.op('Relu', [y]);
      y = relu;
      let poolIndices: string | undefined;
      if (layer.pool) {
        const attrs = { kernel_shape: ints([layer.pool.size, layer.pool.size]), strides: ints([layer.pool.stride, layer.pool.stride]) };
        if (training) [y, poolIndices] = g.opN('MaxPool', [y], 2, attrs) as [string, string];
        else y = g.op('MaxPool', [y], attrs);
      }
      const maskNchw = mask ? g.op('Reshape', [mask, g.int64s([n, layer.filters, 1, 1])]) : undefined;
      if (maskNchw) y = g.op('Mul', [y, maskNchw]);
      trace.push({
        type: 'conv', input: cur, inHW: [h, w], inC: k === 0 ? c0 : shapes[k - 1]![2]!, kernel, pre, preHW, relu, pads,
        ...(poolIndices ? { poolIndices } : {}), ...(maskNchw ? { mask: maskNchw } : {}), ...(bn ? { bn } : {}),
      });
      [h, w] = [shapes[k]![0]!, shapes[k]![1]!];
    } else {
      let fromConv: [number, number, number] | undefined;
      if (nchw) {
        cur = g.op('Reshape', [g.op('Transpose', [cur], { perm: ints([0, 2, 3, 1]) }), g.int64s([n, -1])]);
        fromConv = [h, w, shapes[k - 1]![2]!];
        nchw = false;
      }
      const product = i === 1 && firstProduct !== undefined;
      const pre = product
        ? bias ? g.op('Add', [firstProduct, bias]) : firstProduct
        : g.op('Gemm', bias ? [cur, params[`A${i}.w`]!, bias] : [cur, params[`A${i}.w`]!]);
      y = pre;
      let bn: BatchNormTrace | undefined;
      if (!last && layerHasBatchNorm(spec, i)) {
        if (training) y = (bn = batchNormTraining(g, y, params, i, [0], [layer.units])).out;
        else y = batchNorm(g, y, params, i);
      }
      trace.push({ type: 'dense', input: cur, pre, ...(fromConv ? { fromConv } : {}), ...(mask ? { mask } : {}), ...(bn ? { bn } : {}) });
      if (!last) {
        y = g.op('Relu', [y]);
        if (mask) y = g.op('Mul', [y, mask]);
      }
    }
    cur = y;
  });
  return { logits: cur, trace };
}

/** BatchNorm with the stored statistics, on [N, C] or [N, C, H, W]. */
function batchNorm(g: GraphBuilder, y: string, params: Record<string, string>, i: number): string {
  const p = (k: string): string => params[`A${i}.bn.${k}`]!;
  return g.op('BatchNormalization', [y, p('gamma'), p('beta'), p('mean'), p('var')], { epsilon: float(BN_EPSILON) });
}

/** BatchNorm with the batch's own mean and biased variance (training mode), in the engine's order of operations
 *  (nn/batchnorm.ts): (x − mean)·rsqrt(var + ε)·γ + β. γ and β are reshaped to `shape` to broadcast over NCHW. */
function batchNormTraining(g: GraphBuilder, y: string, params: Record<string, string>, i: number, axes: number[], shape: number[]): BatchNormTrace {
  const p = (k: string): string => g.op('Reshape', [params[`A${i}.bn.${k}`]!, g.int64s(shape)]);
  const gamma = p('gamma');
  const mean = g.op('ReduceMean', [y], { axes: ints(axes), keepdims: int(1) });
  const c = g.op('Sub', [y, mean]);
  const v = g.op('ReduceMean', [g.op('Mul', [c, c])], { axes: ints(axes), keepdims: int(1) });
  const r = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [v, g.scalar(BN_EPSILON)])])]);
  const xhat = g.op('Mul', [c, r]);
  return { xhat, r, gamma, axes, out: g.op('Add', [g.op('Mul', [xhat, gamma]), p('beta')]) };
}

/**
 * Softmax cross-entropy and correct predictions of logits [N, K] against int32 labels [N]:
 * per-row losses, their sum and mean, the correct count (arg-max, first index on ties, as tfjs), and the one-hot
 * labels and log-softmax for a backward pass.
 */
export function emitLoss(
  g: GraphBuilder,
  logits: string,
  n: number,
  classes: number,
): { lossSum: string; lossMean: string; correct: string; logProbs: string; oneHot: string } {
  const labels = g.op('Cast', [g.input(LABELS_INPUT, 'int32', [n])], { to: int(ONNX_DTYPE.int64) });
  const oneHot = g.op('OneHot', [labels, g.int64s([classes], []), g.floats([0, 1], [2])], { axis: int(-1) });
  const logProbs = g.op('LogSoftmax', [logits], { axis: int(1) });
  const rows = g.op('ReduceSum', [g.op('Mul', [oneHot, logProbs]), g.int64s([1])], { keepdims: int(0) });
  const lossSum = g.op('Neg', [g.op('ReduceSum', [rows, g.int64s([0])], { keepdims: int(0) })]);
  const lossMean = g.op('Div', [lossSum, g.scalar(n)]);
  const hits = g.op('Equal', [g.op('ArgMax', [logits], { axis: int(1), keepdims: int(0) }), labels]);
  const correct = g.op('ReduceSum', [g.op('Cast', [hits], { to: int(ONNX_DTYPE.float) }), g.int64s([0])], { keepdims: int(0) });
  return { lossSum, lossMean, correct, logProbs, oneHot };
}

/** Number of classes: the output layer's width. */
export function classCount(spec: ArchSpec): number {
  const top = spec.layers[spec.layers.length - 1]!;
  if (top.type !== 'dense') throw new Error('the last layer must be dense');
  return top.units;
}
