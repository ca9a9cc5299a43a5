/**
 * A dataset from a folder of NumPy arrays (docs/datasets.md): x_train.npy, y_train.npy, x_test.npy, y_test.npy.
 * Inputs are float32 (taken as already on a [0, 1] scale) or uint8 (0..255, like the built-ins' bytes): N×D vectors,
 * N×H×W grey images, or N×C×H×W / N×H×W×C images (converted to ModeLab's NHWC). Labels are integers 0..classes-1
 * (uint8, int32 or int64), one per sample.
 */
import path from 'node:path';
import type { DatasetConfig } from './config';
import { type Dataset, type NormalizationRequest, channelStats, normalizePixels, sha256 } from './dataset';
import { type NpyData, type NpyHeader, readNpy, readNpyHeader } from './npy';
import { InputError } from '../util/errors';

export type NpyDatasetConfig = Extract<DatasetConfig, { name: 'npy' }>;
type Layout = NonNullable<NpyDatasetConfig['layout']>;

export const NPY_FILES = { xTrain: 'x_train.npy', yTrain: 'y_train.npy', xTest: 'x_test.npy', yTest: 'y_test.npy' } as const;

/** How the samples of an x array are stored, and their shape in ModeLab's [h, w, c]. */
export interface SampleLayout {
  stored: 'vectors' | 'grey' | Layout;
  inputShape: [number, number, number];
}

/**
 * The sample shape of an x array of `shape`: 2-D → vectors [1, 1, D]; 3-D → grey images [H, W, 1]; 4-D → NCHW when
 * `layout` says so or, when it is not given, when the second dimension is 1 or 3 (a channel count); else NHWC.
 */
export function sampleLayout(shape: number[], layout: Layout | undefined, file: string): SampleLayout {
  const dims = shape.slice(1);
  if (dims.some((d) => d === 0)) throw new InputError(`${file} has shape (${shape.join(', ')}): a sample with no values`);
  if (shape.length === 2) return { stored: 'vectors', inputShape: [1, 1, shape[1]!] };
  if (shape.length === 3) return { stored: 'grey', inputShape: [shape[1]!, shape[2]!, 1] };
  if (shape.length === 4) {
    const stored = layout ?? (shape[1] === 1 || shape[1] === 3 ? 'nchw' : 'nhwc');
    return stored === 'nchw' ? { stored, inputShape: [shape[2]!, shape[3]!, shape[1]!] } : { stored, inputShape: [shape[1]!, shape[2]!, shape[3]!] };
  }
  throw new InputError(`${file} has ${shape.length} dimensions (${shape.join(', ')}); inputs are N×D vectors, N×H×W grey images, or N×C×H×W or N×H×W×C images`);
}

function describe(h: NpyHeader, s: SampleLayout): string {
  const read = s.stored === 'nchw' || s.stored === 'nhwc' ? `, read as ${s.stored.toUpperCase()}` : '';
  return `${h.shape.join('×')} ${h.dtype}${read}`;
}

export function npyFiles(dir: string): Record<keyof typeof NPY_FILES, string> {
  const f = (name: string): string => path.join(dir, name);
  return { xTrain: f(NPY_FILES.xTrain), yTrain: f(NPY_FILES.yTrain), xTest: f(NPY_FILES.xTest), yTest: f(NPY_FILES.yTest) };
}

/**
 * What the estimate needs without reading the inputs: samples, input shape and bytes per stored value from the x
 * files' headers, classes from the recipe or else from the label files (small). Throws an InputError when a file is
 * missing or not a .npy file.
 */
export function npyShape(cfg: NpyDatasetConfig): { train: number; test: number; inputShape: [number, number, number]; classes: number; bytesPerValue: number } {
  const files = npyFiles(cfg.dir);
  const train = readNpyHeader(files.xTrain, 'training inputs');
  const test = readNpyHeader(files.xTest, 'test inputs');
  for (const [f, role] of [[files.yTrain, 'training labels'], [files.yTest, 'test labels']] as const) readNpyHeader(f, role);
  const classes = cfg.classes ?? classCount(readNpy(files.yTrain).data, readNpy(files.yTest).data, files);
  return {
    train: train.shape[0] ?? 0,
    test: test.shape[0] ?? 0,
    inputShape: sampleLayout(train.shape, cfg.layout, files.xTrain).inputShape,
    classes,
    bytesPerValue: train.dtype === 'uint8' ? 1 : 4,
  };
}

/** Classes when the recipe does not say: the largest label + 1 (at least 2; labels above int32 refused). */
function classCount(yTrain: NpyData, yTest: NpyData, files: ReturnType<typeof npyFiles>): number {
  const k = Math.max(maxLabel(yTrain), maxLabel(yTest)) + 1;
  if (!Number.isFinite(k)) throw new InputError(`${files.yTrain} or ${files.yTest} holds a label above 2147483647; labels are 0..classes-1`);
  if (k < 2) throw new InputError(`${files.yTrain} and ${files.yTest} hold only label 0; a classifier needs at least 2 classes`);
  return k;
}

/** NCHW → NHWC (channel fastest), in a new array of the same type. */
function toNhwc<T extends Float32Array | Uint8Array>(src: T, n: number, [h, w, c]: [number, number, number]): T {
  const out = new (src.constructor as new (len: number) => T)(src.length);
  const hw = h * w;
  for (let i = 0; i < n; i++) {
    const base = i * hw * c;
    for (let ch = 0; ch < c; ch++) for (let p = 0; p < hw; p++) out[base + p * c + ch] = src[base + ch * hw + p]!;
  }
  return out;
}

interface RawSplit {
  x: Float32Array | Uint8Array;
  labels: NpyData;
  n: number;
  layout: SampleLayout;
  header: NpyHeader;
  hashes: string[];
}

function readSplit(xFile: string, yFile: string, layout: Layout | undefined): RawSplit {
  const x = readNpy(xFile, 'input file');
  if (x.header.dtype !== 'float32' && x.header.dtype !== 'uint8') throw new InputError(`${xFile} holds ${x.header.dtype} values; inputs must be float32 or uint8`);
  const s = sampleLayout(x.header.shape, layout, xFile);
  const n = x.header.shape[0]!;
  if (x.data instanceof Float32Array) {
    let bad = -1;
    for (let i = 0; i < x.data.length && bad < 0; i++) if (!Number.isFinite(x.data[i]!)) bad = i; // a loop: findIndex is ~10× slower
    if (bad >= 0) throw new InputError(`${xFile} holds ${x.data[bad]} at value ${bad} (sample ${Math.floor(bad / (x.data.length / n))}); inputs must be finite`);
  }
  const y = readNpy(yFile, 'label file');
  if (y.header.dtype === 'float32') throw new InputError(`${yFile} holds float32 values; labels must be integers (int64, int32 or uint8)`);
  if (y.header.shape.length !== 1) throw new InputError(`${yFile} has shape (${y.header.shape.join(', ')}); labels are one integer per sample (shape (N,))`);
  if (y.header.shape[0] !== n) throw new InputError(`${xFile} has ${n} samples but ${yFile} has ${y.header.shape[0]} labels`);
  const data = s.stored === 'nchw' ? toNhwc(x.data as Float32Array | Uint8Array, n, s.inputShape) : (x.data as Float32Array | Uint8Array);
  return { x: data, labels: y.data, n, layout: s, header: x.header, hashes: [sha256(x.bytes), sha256(y.bytes)] };
}

/** Labels as int32, each checked to lie in 0..limit-1 (int64 compared as bigints: nothing is rounded). */
function labelsOf(data: NpyData, file: string, limit: number): Int32Array {
  const out = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < 0 || v >= (typeof v === 'bigint' ? BigInt(limit) : limit)) {
      throw new InputError(`${file}: label ${v} at index ${i} is outside 0..${limit - 1}`);
    }
    out[i] = Number(v);
  }
  return out;
}

/** The largest label (at least 0), as a number when it fits an int32, else Infinity. */
function maxLabel(data: NpyData): number {
  let m = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v > 2147483647) return Infinity;
    if (v > m) m = Number(v);
  }
  return m;
}

export function loadNpyFolder(cfg: NpyDatasetConfig, normalize: NormalizationRequest): Dataset {
  const files = npyFiles(cfg.dir);
  const train = readSplit(files.xTrain, files.yTrain, cfg.layout);
  const test = readSplit(files.xTest, files.yTest, cfg.layout);
  const [a, b] = [train.layout.inputShape, test.layout.inputShape];
  if (a.join() !== b.join()) throw new InputError(`${files.xTest} holds ${b.join('×')} samples (h×w×c), the training inputs are ${a.join('×')}`);
  if (train.header.dtype !== test.header.dtype) throw new InputError(`${files.xTest} holds ${test.header.dtype} values, the training inputs ${train.header.dtype}: use one type for both`);
  const k = cfg.classes ?? classCount(train.labels, test.labels, files);
  const yTrain = labelsOf(train.labels, files.yTrain, k);
  const yTest = labelsOf(test.labels, files.yTest, k);
  const channels = a[2];
  const unit = train.header.dtype === 'uint8' ? 255 : 1;
  const stats = normalize.kind === 'standardize' ? channelStats(train.x, channels, unit) : undefined;
  const tr = normalizePixels(train.x, channels, normalize, stats, unit);
  const te = normalizePixels(test.x, channels, normalize, stats, unit);
  return {
    name: 'npy',
    inputShape: a,
    classes: k,
    train: { x: tr.x, y: yTrain, n: train.n },
    test: { x: te.x, y: yTest, n: test.n },
    normalization: tr.normalization,
    checksum: sha256(...train.hashes, ...test.hashes),
    source: `NumPy arrays in ${cfg.dir}: x_train ${describe(train.header, train.layout)}, x_test ${describe(test.header, test.layout)}`,
  };
}
