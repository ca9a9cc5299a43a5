/**
 * Networks as data. An architecture spec is a JSON-serialisable list of layers; the weights are an ordered list of
 * named tensors (see params.ts); `forward(spec, θ, x)` (forward.ts) is a pure function of the two.
 *
 * Conventions (the paper's A_i is `[out, in]`; ours are transposed to tfjs' layouts):
 * - Layers are numbered 1..d like the paper's A_1..A_d. Layer i's weights are `A{i}.w` and, with bias, `A{i}.b`.
 * - Dense kernel: `[in, out]`. Paper row j of A_i (unit j's input weights) = our column j of `A{i}.w`.
 * - Conv kernel: `[kh, kw, in, out]` (tfjs HWIO). Unit j of a conv layer is output channel j.
 * - Inputs are NHWC. The flatten from the last conv layer to the first dense layer is row-major over (h, w, c), so
 *   channel j of a conv layer with output H×W owns dense rows {s·C + j : s < H·W}.
 * - Every layer but the last is a hidden layer: optional BatchNorm (`batchNorm: true`, after the affine map, before the
 *   activation), ReLU, then (conv only) optional max-pool, then optional dropout (unit-wise for dense, channel-wise
 *   for conv). The last layer is dense and outputs logits.
 * - A BatchNorm layer i has parameters `A{i}.bn.gamma`, `A{i}.bn.beta` (trained) and statistics `A{i}.bn.mean`,
 *   `A{i}.bn.var` (role 'bnMean'/'bnVar': never trained, set by a pass over training data; see batchnorm.ts).
 */

export interface DenseLayerSpec {
  type: 'dense';
  units: number;
  bias: boolean;
  /** Dropout probability applied to this layer's output during training (hidden layers only). */
  dropout: number;
  /** BatchNorm after the affine map (hidden layers only); absent means none. */
  batchNorm?: boolean;
}

export interface ConvLayerSpec {
  type: 'conv';
  filters: number;
  kernel: number;
  stride: number;
  padding: 'same' | 'valid';
  bias: boolean;
  /** Max-pool after the ReLU, if set. */
  pool: { size: number; stride: number } | null;
  /** Channel-wise dropout probability applied to this layer's output during training. */
  dropout: number;
  /** BatchNorm (per channel) after the convolution, before the ReLU; absent means none. */
  batchNorm?: boolean;
}

export type LayerSpec = DenseLayerSpec | ConvLayerSpec;

export interface ArchSpec {
  /** Input shape [height, width, channels]; an MLP flattens it. */
  input: [number, number, number];
  layers: LayerSpec[];
}

/** Shape of each layer's output (after activation and pooling), NHWC without the batch dimension. */
export function layerOutputShapes(spec: ArchSpec): number[][] {
  const shapes: number[][] = [];
  let [h, w, c] = spec.input;
  let flat: number | null = null;
  for (const layer of spec.layers) {
    if (layer.type === 'conv') {
      if (flat !== null) throw new Error('a conv layer cannot follow a dense layer');
      if (layer.padding === 'same') {
        h = Math.ceil(h / layer.stride);
        w = Math.ceil(w / layer.stride);
      } else {
        h = Math.floor((h - layer.kernel) / layer.stride) + 1;
        w = Math.floor((w - layer.kernel) / layer.stride) + 1;
      }
      if (layer.pool) {
        h = Math.floor((h - layer.pool.size) / layer.pool.stride) + 1;
        w = Math.floor((w - layer.pool.size) / layer.pool.stride) + 1;
      }
      if (h < 1 || w < 1) throw new Error('the feature map shrinks to nothing; check kernel, stride and pooling');
      c = layer.filters;
      shapes.push([h, w, c]);
    } else {
      flat = layer.units;
      shapes.push([layer.units]);
    }
  }
  return shapes;
}

export interface ParamShape {
  name: string;
  shape: number[];
  /** Layer number, 1-based (A_i). */
  layer: number;
  /** bnGamma/bnBeta are trained BatchNorm parameters; bnMean/bnVar are its statistics (not trained). */
  role: 'kernel' | 'bias' | 'bnGamma' | 'bnBeta' | 'bnMean' | 'bnVar';
}

/** BatchNorm parameters of layer i with width n, in their order. */
function bnShapes(i: number, n: number): ParamShape[] {
  return (
    [
      ['gamma', 'bnGamma'],
      ['beta', 'bnBeta'],
      ['mean', 'bnMean'],
      ['var', 'bnVar'],
    ] as const
  ).map(([k, role]) => ({ name: `A${i}.bn.${k}`, shape: [n], layer: i, role }));
}

/** Whether hidden layer i (1-based) has BatchNorm (the output layer never has). */
export function layerHasBatchNorm(spec: ArchSpec, i: number): boolean {
  return i < spec.layers.length && spec.layers[i - 1]?.batchNorm === true;
}

/** Whether any hidden layer has BatchNorm. */
export function hasBatchNorm(spec: ArchSpec): boolean {
  return spec.layers.some((_, k) => layerHasBatchNorm(spec, k + 1));
}

/** Whether a parameter name is a BatchNorm statistic (running mean or variance): not trained, not a coordinate. */
export function isBatchNormStat(name: string): boolean {
  return name.endsWith('.bn.mean') || name.endsWith('.bn.var');
}

/** The ordered parameter list of a spec. */
export function paramShapes(spec: ArchSpec): ParamShape[] {
  const out: ParamShape[] = [];
  let inC = spec.input[2];
  let inFlat = spec.input[0] * spec.input[1] * spec.input[2];
  const outShapes = layerOutputShapes(spec);
  spec.layers.forEach((layer, k) => {
    const i = k + 1;
    if (layer.type === 'conv') {
      out.push({ name: `A${i}.w`, shape: [layer.kernel, layer.kernel, inC, layer.filters], layer: i, role: 'kernel' });
      if (layer.bias) out.push({ name: `A${i}.b`, shape: [layer.filters], layer: i, role: 'bias' });
      if (layer.batchNorm && k < spec.layers.length - 1) out.push(...bnShapes(i, layer.filters));
      inC = layer.filters;
      const s = outShapes[k]!;
      inFlat = s[0]! * s[1]! * s[2]!;
    } else {
      out.push({ name: `A${i}.w`, shape: [inFlat, layer.units], layer: i, role: 'kernel' });
      if (layer.bias) out.push({ name: `A${i}.b`, shape: [layer.units], layer: i, role: 'bias' });
      if (layer.batchNorm && k < spec.layers.length - 1) out.push(...bnShapes(i, layer.units));
      inFlat = layer.units;
    }
  });
  return out;
}

export function parameterCount(spec: ArchSpec): number {
  return paramShapes(spec).reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
}

/** Number of layers d. */
export function depth(spec: ArchSpec): number {
  return spec.layers.length;
}

/** Width h_i of hidden layer i (1-based, i < d): units or channels. */
export function hiddenWidth(spec: ArchSpec, i: number): number {
  const layer = spec.layers[i - 1];
  if (!layer) throw new RangeError(`no layer ${i}`);
  return layer.type === 'conv' ? layer.filters : layer.units;
}

/** Multiply-accumulates of one forward pass for one sample (for GFLOP/s reporting: FLOPs = 2·MACs). */
export function forwardMacs(spec: ArchSpec): number {
  return layerMacs(spec).reduce((a, b) => a + b, 0);
}

/** Multiply-accumulates of each layer's affine map, for one sample. */
export function layerMacs(spec: ArchSpec): number[] {
  const out: number[] = [];
  let [h, w, c] = spec.input;
  let inFlat = h * w * c;
  const shapes = layerOutputShapes(spec);
  spec.layers.forEach((layer, k) => {
    if (layer.type === 'conv') {
      const oh = layer.padding === 'same' ? Math.ceil(h / layer.stride) : Math.floor((h - layer.kernel) / layer.stride) + 1;
      const ow = layer.padding === 'same' ? Math.ceil(w / layer.stride) : Math.floor((w - layer.kernel) / layer.stride) + 1;
      out.push(oh * ow * layer.kernel * layer.kernel * c * layer.filters);
      const s = shapes[k]!;
      [h, w, c] = [s[0]!, s[1]!, s[2]!];
      inFlat = h * w * c;
    } else {
      out.push(inFlat * layer.units);
      inFlat = layer.units;
    }
  });
  return out;
}

/** A short human description, e.g. "MLP 784-512-512-10, no bias" or "CNN 28x28x1 → conv32×3 → … → 10". */
export function describeArch(spec: ArchSpec): string {
  const bias = (spec.layers.some((l) => l.bias) ? 'bias' : 'no bias') + (hasBatchNorm(spec) ? ', BatchNorm' : '');
  if (spec.layers.every((l) => l.type === 'dense')) {
    const widths = [spec.input[0] * spec.input[1] * spec.input[2], ...spec.layers.map((l) => (l as DenseLayerSpec).units)];
    return `MLP ${widths.join('-')}, ${bias}`;
  }
  const parts = spec.layers.map((l) =>
    l.type === 'conv' ? `conv${l.filters}×${l.kernel}${l.stride > 1 ? `/s${l.stride}` : ''}${l.pool ? '+pool' : ''}` : `fc${l.units}`,
  );
  return `CNN ${spec.input.join('x')} → ${parts.join(' → ')}, ${bias}`;
}
