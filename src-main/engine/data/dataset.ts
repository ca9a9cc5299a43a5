/** In-memory datasets: float32 inputs (already normalised), int labels, with a record of where they came from. */
import { createHash } from 'node:crypto';
import { Rng } from '../util/rng';

export interface Split {
  /** n × (h·w·c) inputs, row-major NHWC per sample. */
  x: Float32Array;
  y: Int32Array;
  n: number;
}

export type Normalization =
  | { kind: 'none' }
  | { kind: 'scale'; scale: number }
  | { kind: 'standardize'; mean: number[]; std: number[]; scale: number };

export interface Dataset {
  name: string;
  inputShape: [number, number, number];
  classes: number;
  train: Split;
  test: Split;
  normalization: Normalization;
  /** sha256 of the source bytes (files or generator parameters) and of the subset choice. */
  checksum: string;
  /** Human-readable provenance: files read, generator, subset sizes. */
  source: string;
}

export function featureCount(d: { inputShape: [number, number, number] }): number {
  return d.inputShape[0] * d.inputShape[1] * d.inputShape[2];
}

/** Rows `idx` of a split (copied). */
export function takeRows(s: Split, idx: ArrayLike<number>, features: number): Split {
  const x = new Float32Array(idx.length * features);
  const y = new Int32Array(idx.length);
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k]!;
    x.set(s.x.subarray(i * features, (i + 1) * features), k * features);
    y[k] = s.y[i]!;
  }
  return { x, y, n: idx.length };
}

/** A deterministic subset of n rows chosen by seed (sorted order), or the whole split when n ≥ its size. */
export function subset(s: Split, n: number | null | undefined, seed: number, features: number): Split {
  if (n === null || n === undefined || n >= s.n) return s;
  return takeRows(s, new Rng(seed).sample(s.n, n), features);
}

export function sha256(...parts: (Uint8Array | string)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

/**
 * Applies a normalisation to raw pixel values, writing floats: bytes (0..255, `unit` 255) or floats already on a
 * [0, 1] scale (`unit` 1: an npy dataset's float32 images). 'scale' divides by `unit`; for 'standardize' with no
 * mean/std given, the per-channel statistics are taken from `statsFrom` (the training images), and the record holds
 * the numbers used.
 */
export function normalizePixels(
  raw: Uint8Array | Float32Array,
  channels: number,
  spec: NormalizationRequest,
  stats?: { mean: number[]; std: number[] },
  unit = 255,
): { x: Float32Array; normalization: Normalization } {
  const x = new Float32Array(raw.length);
  if (spec.kind === 'none') {
    x.set(raw);
    return { x, normalization: { kind: 'none' } };
  }
  const s = 1 / unit;
  if (spec.kind === 'scale') {
    for (let i = 0; i < raw.length; i++) x[i] = raw[i]! * s;
    return { x, normalization: { kind: 'scale', scale: s } };
  }
  const st = spec.mean && spec.std ? { mean: spec.mean, std: spec.std } : stats;
  if (!st) throw new Error('standardize needs a mean and std');
  for (let i = 0; i < raw.length; i++) {
    const c = i % channels;
    x[i] = (raw[i]! / unit - st.mean[c]!) / st.std[c]!;
  }
  return { x, normalization: { kind: 'standardize', mean: st.mean, std: st.std, scale: s } };
}

/** Per-channel mean and std of the values / `unit` (NHWC, channel fastest). */
export function channelStats(raw: Uint8Array | Float32Array, channels: number, unit = 255): { mean: number[]; std: number[] } {
  const sum = new Float64Array(channels);
  const sq = new Float64Array(channels);
  for (let i = 0; i < raw.length; i++) {
    const v = raw[i]! / unit;
    sum[i % channels]! += v;
    sq[i % channels]! += v * v;
  }
  const n = raw.length / channels;
  const mean = Array.from(sum, (s) => s / n);
  const std = Array.from(sq, (q, c) => Math.sqrt(Math.max(q / n - mean[c]! ** 2, 1e-12)));
  return { mean, std };
}

export type NormalizationRequest =
  | { kind: 'none' }
  | { kind: 'scale' }
  | { kind: 'standardize'; mean?: number[]; std?: number[] };
