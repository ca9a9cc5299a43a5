/** Writes .npy files from TypeScript, independently of the reader (data/npy.ts): for fixtures made in tests. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export type NpyTestDtype = '<f4' | '|u1' | '<i4' | '<i8';
type Values = Float32Array | Uint8Array | Int32Array | BigInt64Array;

/** A .npy file (C order, version 1 unless asked), padded so that the data starts at a multiple of 64 as numpy writes
 *  it (`unpadded`: wherever the header ends, as a careless writer might). */
export function npyBytes(descr: NpyTestDtype, shape: number[], data: Values, opts: { fortran?: boolean; version?: 1 | 2 | 3; unpadded?: boolean } = {}): Buffer {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '${descr}', 'fortran_order': ${opts.fortran ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
  const version = opts.version ?? 1;
  const pre = version === 1 ? 10 : 12;
  dict += `${opts.unpadded ? '' : ' '.repeat(63 - ((pre + dict.length) % 64))}\n`;
  const head = Buffer.alloc(pre);
  Buffer.from('\x93NUMPY', 'latin1').copy(head);
  head[6] = version;
  head[7] = 0;
  if (version === 1) head.writeUInt16LE(dict.length, 8);
  else head.writeUInt32LE(dict.length, 8);
  return Buffer.concat([head, Buffer.from(dict, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

export interface NpyArrays {
  xTrain: { descr: NpyTestDtype; shape: number[]; data: Values };
  yTrain: { descr: NpyTestDtype; shape: number[]; data: Values };
  xTest: { descr: NpyTestDtype; shape: number[]; data: Values };
  yTest: { descr: NpyTestDtype; shape: number[]; data: Values };
}

/** Writes x_train.npy, y_train.npy, x_test.npy and y_test.npy into `dir`. */
export function writeNpyFolder(dir: string, a: NpyArrays): string {
  mkdirSync(dir, { recursive: true });
  const names = { xTrain: 'x_train.npy', yTrain: 'y_train.npy', xTest: 'x_test.npy', yTest: 'y_test.npy' } as const;
  for (const k of Object.keys(names) as (keyof NpyArrays)[]) writeFileSync(path.join(dir, names[k]), npyBytes(a[k].descr, a[k].shape, a[k].data));
  return dir;
}

/**
 * A small image classification set with a learnable rule, stored NHWC as uint8: n samples of h×w×c, label = which
 * quarter of the mean brightness range the image falls in (classes 4). Deterministic (a linear congruential stream).
 */
export function imageSet(n: number, [h, w, c]: [number, number, number], seed: number): { x: Uint8Array; y: BigInt64Array } {
  let s = seed >>> 0;
  const next = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const f = h * w * c;
  const x = new Uint8Array(n * f);
  const y = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    const cls = Math.floor(next() * 4);
    y[i] = BigInt(cls);
    for (let j = 0; j < f; j++) x[i * f + j] = Math.min(255, Math.floor(cls * 64 + next() * 64));
  }
  return { x, y };
}

/** NHWC → NCHW (the layout PyTorch keeps images in). */
export function toNchw<T extends Uint8Array | Float32Array>(x: T, n: number, [h, w, c]: [number, number, number]): T {
  const out = new (x.constructor as new (len: number) => T)(x.length);
  for (let i = 0; i < n; i++) for (let p = 0; p < h * w; p++) for (let ch = 0; ch < c; ch++) out[i * h * w * c + ch * h * w + p] = x[i * h * w * c + p * c + ch]!;
  return out;
}
