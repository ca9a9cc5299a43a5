/**
 * Networks as other frameworks store them, mapped exactly to ModeLab's parameters (spec.ts) and back.
 *
 * Layouts (docs/bring-your-own-model.md):
 * - 'torch' (PyTorch state_dict): Linear weight [out, in]; Conv2d weight [out, in, kh, kw] (OIHW); BatchNorm weight,
 *   bias, running_mean, running_var (num_batches_tracked ignored). PyTorch flattens NCHW maps in (c, h, w) order, so
 *   the first dense layer after a flatten has its input rows re-ordered to ModeLab's (h, w, c).
 * - 'keras' (Keras / TensorFlow.js): Dense kernel [in, out]; Conv2D kernel [kh, kw, in, out] (HWIO); BatchNormalization
 *   gamma, beta, moving_mean, moving_variance. channels_last flattens (h, w, c), as ModeLab does: no re-ordering.
 * - 'modelab': ModeLab's own names and layouts (A{i}.w, …).
 *
 * One index map per parameter (`sourceIndex`) serves both directions, so import and export cannot disagree.
 */
import { InputError } from '../util/errors';
import { BN_EPSILON } from './batchnorm';
import type { HostParams, HostTensor } from './params';
import type { WeightLayout } from './weight-layouts';
import { type ArchSpec, type ParamShape, layerOutputShapes, paramShapes } from './spec';


/** A tensor as a file holds it; `data` is null for a dtype other than float32. */
export interface ForeignTensor {
  name: string;
  dtype: string;
  shape: number[];
  data: Float32Array | null;
}

/** One ModeLab parameter as a framework stores it. */
export interface ForeignSlot {
  param: ParamShape;
  shape: number[];
  /** What the framework calls it, for messages: "Linear weight [out, in]". */
  what: string;
  /** For the first dense layer after a flatten: the [h, w, c] map it reads. */
  flatten?: [number, number, number];
}

const FIELD_WHAT: Record<Exclude<WeightLayout, 'modelab'>, Record<ParamShape['role'], string>> = {
  torch: { kernel: '', bias: 'bias', bnGamma: 'BatchNorm weight', bnBeta: 'BatchNorm bias', bnMean: 'BatchNorm running_mean', bnVar: 'BatchNorm running_var' },
  keras: { kernel: '', bias: 'bias', bnGamma: 'BatchNormalization gamma', bnBeta: 'BatchNormalization beta', bnMean: 'BatchNormalization moving_mean', bnVar: 'BatchNormalization moving_variance' },
};

/** The index (1-based) of the first dense layer and the [h, w, c] map it flattens. */
function firstDense(spec: ArchSpec): { layer: number; map: [number, number, number] } {
  const k = spec.layers.findIndex((l) => l.type === 'dense');
  const shapes = layerOutputShapes(spec);
  const map = k === 0 ? spec.input : (shapes[k - 1] as [number, number, number]);
  return { layer: k + 1, map };
}

/** ModeLab's parameters in order, each as `layout` stores it. */
export function foreignSlots(spec: ArchSpec, layout: WeightLayout): ForeignSlot[] {
  const flat = firstDense(spec);
  return paramShapes(spec).map((p) => {
    if (layout === 'modelab') return { param: p, shape: p.shape, what: p.name };
    const conv = spec.layers[p.layer - 1]!.type === 'conv';
    if (p.role !== 'kernel') return { param: p, shape: p.shape, what: FIELD_WHAT[layout][p.role] };
    if (layout === 'keras') return { param: p, shape: p.shape, what: conv ? 'Conv2D kernel [kh, kw, in, out]' : 'Dense kernel [in, out]' };
    if (conv) {
      const [kh, kw, i, o] = p.shape as [number, number, number, number];
      return { param: p, shape: [o, i, kh, kw], what: 'Conv2d weight [out, in, kh, kw]' };
    }
    const [i, o] = p.shape as [number, number];
    const slot: ForeignSlot = { param: p, shape: [o, i], what: 'Linear weight [out, in]' };
    // Only a map with more than one channel is ordered differently ((c, h, w) against (h, w, c)).
    if (p.layer === flat.layer && flat.map[2] > 1) slot.flatten = flat.map;
    return slot;
  });
}

/** For each element j of the ModeLab tensor, the element of the framework's tensor it equals. */
function sourceIndex(slot: ForeignSlot, layout: WeightLayout): Int32Array | null {
  if (layout !== 'torch' || slot.param.role !== 'kernel') return null;
  const s = slot.param.shape;
  const src = new Int32Array(s.reduce((a, b) => a * b, 1));
  if (s.length === 4) {
    // HWIO[y, x, i, o] = OIHW[o, i, y, x]
    const [kh, kw, I, O] = s as [number, number, number, number];
    for (let y = 0; y < kh; y++)
      for (let x = 0; x < kw; x++)
        for (let i = 0; i < I; i++) for (let o = 0; o < O; o++) src[((y * kw + x) * I + i) * O + o] = ((o * I + i) * kh + y) * kw + x;
    return src;
  }
  const [rows, O] = s as [number, number];
  const [h, w, C] = slot.flatten ?? [1, rows, 1];
  const HW = h * w;
  // ModeLab row r = s·C + c (s = pixel, c = channel); PyTorch column c·HW + s. Without a flatten: C = 1, the identity.
  for (let sp = 0; sp < HW; sp++)
    for (let c = 0; c < C; c++) {
      const r = sp * C + c;
      for (let o = 0; o < O; o++) src[r * O + o] = o * rows + c * HW + sp;
    }
  return src;
}

/** The ModeLab tensor of `slot` from the framework's data. */
export function fromForeign(slot: ForeignSlot, layout: WeightLayout, data: Float32Array): HostTensor {
  const src = sourceIndex(slot, layout);
  const out = new Float32Array(data.length);
  if (src) for (let j = 0; j < out.length; j++) out[j] = data[src[j]!]!;
  else out.set(data);
  return { shape: [...slot.param.shape], data: out };
}

/** The framework's tensor of `slot` from ModeLab's. */
export function toForeign(slot: ForeignSlot, layout: WeightLayout, t: HostTensor): HostTensor {
  const src = sourceIndex(slot, layout);
  const out = new Float32Array(t.data.length);
  if (src) for (let j = 0; j < out.length; j++) out[src[j]!] = t.data[j]!;
  else out.set(t.data);
  return { shape: [...slot.shape], data: out };
}

/** Natural order: numbers inside names compared as numbers ("2.weight" before "10.weight"). */
function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** Field order inside one module: kernel, bias, then BatchNorm's parameters and statistics. */
const FIELD_ORDER = ['weight', 'kernel', 'bias', 'gamma', 'beta', 'running_mean', 'moving_mean', 'running_var', 'moving_variance'];

function splitName(name: string): [string, string] {
  const k = Math.max(name.lastIndexOf('.'), name.lastIndexOf('/'));
  return k < 0 ? ['', name] : [name.slice(0, k), name.slice(k + 1)];
}

/**
 * Tensors in the order their modules appear: grouped by module (the name up to its last '.' or '/'), modules in
 * natural order, fields in FIELD_ORDER. For files whose own order says nothing (the safetensors library writes names
 * sorted as text, so "10.weight" comes before "2.weight").
 */
export function moduleOrder(tensors: ForeignTensor[]): ForeignTensor[] {
  const rank = (f: string): number => {
    const r = FIELD_ORDER.indexOf(f);
    return r < 0 ? FIELD_ORDER.length : r;
  };
  return [...tensors].sort((a, b) => {
    const [ma, fa] = splitName(a.name);
    const [mb, fb] = splitName(b.name);
    return naturalCompare(ma, mb) || rank(fa) - rank(fb) || naturalCompare(fa, fb);
  });
}

/** Tensors a framework keeps that are no parameter of the network (PyTorch's BatchNorm step counter). */
export function isIgnoredTensor(name: string): boolean {
  return splitName(name)[1] === 'num_batches_tracked';
}

export interface AssignOptions {
  layout: WeightLayout;
  /** ModeLab parameter name → the file's tensor name; every parameter named (instead of order of appearance). */
  names?: Record<string, string> | undefined;
  /** The file, for messages. */
  what: string;
  /** BatchNorm ε the file's network used, when the file says (Keras' default is 1e-3); ModeLab's is BN_EPSILON. */
  bnEpsilon?: number | undefined;
}

const shapeText = (s: readonly number[]): string => `[${s.join(', ')}]`;

function layerText(p: ParamShape): string {
  return `layer ${p.layer}'s ${p.role === 'kernel' ? 'weight' : p.role === 'bias' ? 'bias' : `BatchNorm ${p.name.split('.').pop()}`}`;
}

/**
 * ModeLab parameters from a file's tensors: by the explicit name map, else in order of appearance (modules in the
 * order of ModeLab's layers; layout 'modelab' by ModeLab's names). Every mismatch — a missing tensor, a wrong shape,
 * a tensor left over, a dtype other than float32, a name map entry naming nothing — is an InputError of one line
 * naming the tensor and the shape expected. Returns the parameters and which file tensor each came from.
 */
export function assignTensors(spec: ArchSpec, tensors: ForeignTensor[], o: AssignOptions): { params: HostParams; names: Record<string, string> } {
  const slots = foreignSlots(spec, o.layout);
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const pick: (ForeignTensor | undefined)[] = [];
  if (o.names || o.layout === 'modelab') {
    const names = o.names ?? Object.fromEntries(slots.map((s) => [s.param.name, s.param.name]));
    const known = new Set(slots.map((s) => s.param.name));
    const stray = Object.keys(names).find((k) => !known.has(k));
    if (stray) throw new InputError(`${o.what}: names: '${stray}' is no parameter of this architecture (parameters: ${[...known].join(', ')})`);
    for (const s of slots) {
      const n = names[s.param.name];
      if (n === undefined) throw new InputError(`${o.what}: names: no file tensor given for ${s.param.name} (${layerText(s.param)}, ${s.what} ${shapeText(s.shape)})`);
      const t = byName.get(n);
      if (!t) throw new InputError(`${o.what}: no tensor '${n}' (named for ${s.param.name}, ${layerText(s.param)}, expected shape ${shapeText(s.shape)})`);
      pick.push(t);
    }
  } else {
    const queue = tensors.filter((t) => !isIgnoredTensor(t.name));
    slots.forEach((s, k) => {
      const t = queue[k];
      if (!t) throw new InputError(`${o.what}: missing a tensor for ${layerText(s.param)} (${s.what} ${shapeText(s.shape)}): the file has ${queue.length} tensors, the architecture needs ${slots.length}`);
      pick.push(t);
    });
  }
  const used = new Set<string>();
  const params: HostParams = {};
  const names: Record<string, string> = {};
  slots.forEach((s, k) => {
    const t = pick[k]!;
    const expect = `${layerText(s.param)} expects ${s.what ? `${s.what} ` : ''}${shapeText(s.shape)}`;
    if (used.has(t.name)) throw new InputError(`${o.what}: tensor '${t.name}' is named twice; ${expect}`);
    if (!t.data) throw new InputError(`${o.what}: tensor '${t.name}' is ${t.dtype}; ModeLab reads float32 weights (save them as float32); ${expect}`);
    if (shapeText(t.shape) !== shapeText(s.shape)) {
      const hint = !spec.layers[s.param.layer - 1]!.bias && /bias$/.test(t.name) && s.param.role === 'kernel' ? ' (the file has biases: set "bias": true in the architecture)' : '';
      throw new InputError(`${o.what}: tensor '${t.name}' has shape ${shapeText(t.shape)}; ${expect}${hint}`);
    }
    used.add(t.name);
    names[s.param.name] = t.name;
    const v = fromForeign(s, o.layout, t.data);
    // x̂ = (x − mean)/√(var + ε_file) = (x − mean)/√((var + ε_file − ε) + ε): the file's ε folded into the variance.
    if (s.param.role === 'bnVar' && o.bnEpsilon !== undefined && o.bnEpsilon !== BN_EPSILON) {
      for (let j = 0; j < v.data.length; j++) v.data[j] = v.data[j]! + o.bnEpsilon - BN_EPSILON;
    }
    if (!v.data.every(Number.isFinite)) throw new InputError(`${o.what}: tensor '${t.name}' holds NaN or infinite values`);
    params[s.param.name] = v;
  });
  const extra = tensors.find((t) => !used.has(t.name) && !isIgnoredTensor(t.name));
  if (extra) throw new InputError(`${o.what}: tensor '${extra.name}' ${shapeText(extra.shape)} is left over: the architecture has no layer for it (it needs ${slots.length} tensors: ${slots.map((s) => shapeText(s.shape)).join(' ')})`);
  return { params, names };
}

/**
 * The names ModeLab gives a network in PyTorch layout when no file named them: those of the nn.Sequential that
 * mirrors the architecture (docs/bring-your-own-model.md builds it): Flatten first for an MLP; per hidden layer
 * Linear/Conv2d, BatchNorm1d/2d, ReLU, MaxPool2d, Dropout/Dropout2d as present; Flatten before the first dense layer
 * of a CNN; the output Linear last.
 */
export function sequentialNames(spec: ArchSpec): Record<string, string> {
  const names: Record<string, string> = {};
  let m = 0;
  const d = spec.layers.length;
  spec.layers.forEach((l, k) => {
    const i = k + 1;
    if (l.type === 'dense' && (k === 0 || spec.layers[k - 1]!.type === 'conv')) m++; // Flatten
    names[`A${i}.w`] = `${m}.weight`;
    if (l.bias) names[`A${i}.b`] = `${m}.bias`;
    m++;
    if (i === d) return;
    if (l.batchNorm) {
      for (const [ours, theirs] of [['gamma', 'weight'], ['beta', 'bias'], ['mean', 'running_mean'], ['var', 'running_var']]) names[`A${i}.bn.${ours}`] = `${m}.${theirs}`;
      m++;
    }
    m++; // ReLU
    if (l.type === 'conv' && l.pool) m++;
    if (l.dropout > 0) m++;
  });
  return names;
}

/**
 * A network in `layout`, as a state_dict: each parameter under `names[param]`, in ModeLab's order; with
 * `counters`, each PyTorch BatchNorm module's num_batches_tracked (an int64 0, which load_state_dict needs).
 */
export function foreignStateDict(spec: ArchSpec, params: HostParams, layout: WeightLayout, names: Record<string, string>): { tensors: Record<string, HostTensor>; counters: string[] } {
  const tensors: Record<string, HostTensor> = {};
  const counters: string[] = [];
  for (const s of foreignSlots(spec, layout)) {
    const n = names[s.param.name] ?? s.param.name;
    tensors[n] = toForeign(s, layout, params[s.param.name]!);
    if (layout === 'torch' && s.param.role === 'bnVar') counters.push(`${splitName(n)[0]}${n.includes('.') ? '.' : ''}num_batches_tracked`);
  }
  return { tensors, counters };
}
