/**
 * The .npy reader (data/npy.ts) on files NumPy wrote (test/fixtures/npy) and the npy-folder dataset
 * (data/npy-folder.ts) on folders written here: layouts, dtypes, the estimate's shape from headers, and every bad
 * case's one-line error.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNpyHeader, readNpy, readNpyHeader } from '../../src-main/engine/data/npy';
import { checkDatasetFiles, loadDataset } from '../../src-main/engine/data/load';
import { datasetShape } from '../../src-main/engine/data/shape';
import { datasetSchema } from '../../src-main/engine/data/config';
import { type NpyArrays, imageSet, npyBytes, toNchw, writeNpyFolder } from './npy-files';
import { refusal } from './refusal';

const fixtures = path.resolve(import.meta.dirname, '../fixtures/npy');
let tmp = '';
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'modelab-npy-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});


const readNpyHeaderOf = (b: Buffer) => parseNpyHeader(b, 'bytes');
const cfg = (dir: string, extra: Record<string, unknown> = {}) => datasetSchema.parse({ name: 'npy', dir, ...extra });

describe('.npy files written by NumPy', () => {
  it('float32 NCHW, uint8, int64 and int32 arrays read with their shapes and values', () => {
    const f = readNpy(path.join(fixtures, 'f4-nchw.npy'));
    expect(f.header).toMatchObject({ dtype: 'float32', shape: [2, 3, 2, 2], dataOffset: 128 });
    expect(Array.from(f.data as Float32Array)).toEqual(Array.from({ length: 24 }, (_, i) => Math.fround(i / 10)));
    expect(Array.from(readNpy(path.join(fixtures, 'u1.npy')).data as Uint8Array)).toEqual([0, 7, 255]);
    expect(readNpy(path.join(fixtures, 'u1.npy')).header.shape).toEqual([1, 3]);
    expect(Array.from(readNpy(path.join(fixtures, 'i8.npy')).data as BigInt64Array)).toEqual([0n, 1n, 2n, 9n]);
    expect(Array.from(readNpy(path.join(fixtures, 'i4.npy')).data as Int32Array)).toEqual([3, 1]);
  });

  it('format versions 2 and 3 (4-byte header length) read like version 1', () => {
    for (const v of ['v2.npy', 'v3.npy']) {
      const r = readNpy(path.join(fixtures, v));
      expect(r.header.shape).toEqual([2]);
      expect(Array.from(r.data as Float32Array)).toEqual([1.5, -2]);
    }
  });

  it('the header alone (what the estimate reads) agrees with the whole file', () => {
    expect(readNpyHeader(path.join(fixtures, 'f4-nchw.npy'))).toEqual(readNpy(path.join(fixtures, 'f4-nchw.npy')).header);
    expect(readNpyHeader(path.join(fixtures, 'v3.npy'))).toEqual(readNpy(path.join(fixtures, 'v3.npy')).header);
  });

  it('data that does not start at a multiple of its element size (an unpadded header) reads the same values', () => {
    const values = new Float32Array([0.5, -1, 3e-7, 1e30]);
    const bytes = npyBytes('<f4', [2, 2], values, { unpadded: true });
    const offset = readNpyHeaderOf(bytes).dataOffset;
    expect(offset % 4).not.toBe(0);
    const f = path.join(tmp, 'unaligned.npy');
    writeFileSync(f, bytes);
    expect(Array.from(readNpy(f).data as Float32Array)).toEqual(Array.from(values));
    const labels = path.join(tmp, 'unaligned-i8.npy');
    writeFileSync(labels, npyBytes('<i8', [3], new BigInt64Array([5n, -2n, 1n << 40n]), { unpadded: true }));
    expect(Array.from(readNpy(labels).data as BigInt64Array)).toEqual([5n, -2n, 1n << 40n]);
  });

  it('float64 and Fortran order are refused in one line naming the file', () => {
    expect(refusal(() => readNpy(path.join(fixtures, 'f8.npy')))).toMatch(/f8\.npy holds '<f8' values; ModeLab reads '<f4', '\|u1', '<i4', '<i8'/);
    expect(refusal(() => readNpy(path.join(fixtures, 'fortran.npy')))).toMatch(/fortran\.npy is stored in Fortran order; save it in C order/);
  });

  it('not a .npy file, an unknown version, a truncated header or data: one line each', () => {
    const file = (name: string, bytes: Buffer): string => {
      const f = path.join(tmp, name);
      writeFileSync(f, bytes);
      return f;
    };
    const good = npyBytes('<f4', [2, 2], new Float32Array([1, 2, 3, 4]));
    expect(refusal(() => readNpy(file('text.npy', Buffer.from('hello, world\n'))))).toMatch(/text\.npy is not a \.npy file/);
    const v9 = Buffer.from(good);
    v9[6] = 9;
    expect(refusal(() => readNpy(file('v9.npy', v9)))).toMatch(/v9\.npy: \.npy format version 9\.0 is not supported/);
    expect(refusal(() => readNpyHeader(file('cut-header.npy', good.subarray(0, 40))))).toMatch(/cut-header\.npy is truncated inside its header/);
    expect(refusal(() => readNpy(file('cut-data.npy', good.subarray(0, good.length - 3))))).toMatch(/cut-data\.npy holds 13 data bytes; its header says 2×2 float32 values \(16 bytes\): truncated/);
    expect(refusal(() => readNpy(file('long.npy', Buffer.concat([good, Buffer.alloc(4)]))))).toMatch(/long\.npy holds 20 data bytes/);
    const noShape = Buffer.from(good.toString('latin1').replace("'shape'", "'shapf'"), 'latin1');
    expect(refusal(() => readNpy(file('no-shape.npy', noShape)))).toMatch(/no-shape\.npy: its \.npy header is not a dict with descr, fortran_order and shape/);
    expect(refusal(() => readNpy(path.join(tmp, 'absent.npy'), 'label file'))).toMatch(/label file not found: .*absent\.npy/);
  });
});

describe('a dataset from a folder of .npy arrays', () => {
  const hwc: [number, number, number] = [4, 3, 3];
  const train = imageSet(40, hwc, 1);
  const test = imageSet(12, hwc, 2);
  const folder = (name: string, a: Partial<NpyArrays> = {}): string =>
    writeNpyFolder(path.join(tmp, name), {
      xTrain: { descr: '|u1', shape: [40, ...hwc], data: train.x },
      yTrain: { descr: '<i8', shape: [40], data: train.y },
      xTest: { descr: '|u1', shape: [12, ...hwc], data: test.x },
      yTest: { descr: '<i8', shape: [12], data: test.y },
      ...a,
    });
  const nchw = (name: string, descr: '|u1' | '<f4', conv: (x: Uint8Array) => Uint8Array | Float32Array): string =>
    folder(name, {
      xTrain: { descr, shape: [40, 3, 4, 3], data: toNchw(conv(train.x), 40, hwc) },
      xTest: { descr, shape: [12, 3, 4, 3], data: toNchw(conv(test.x), 12, hwc) },
    });
  const asFloat = (x: Uint8Array): Float32Array => Float32Array.from(x, (v) => v / 255);

  it('NHWC uint8 with int64 labels: shape, classes, labels and the scale normalisation', () => {
    const d = loadDataset(cfg(folder('nhwc')));
    expect(d.inputShape).toEqual(hwc);
    expect(d.classes).toBe(4);
    expect([d.train.n, d.test.n]).toEqual([40, 12]);
    expect(Array.from(d.train.y)).toEqual(Array.from(train.y, Number));
    expect(d.train.x[5]).toBeCloseTo(train.x[5]! / 255, 7);
    expect(d.normalization).toEqual({ kind: 'scale', scale: 1 / 255 });
    expect(d.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(d.source).toContain('x_train 40×4×3×3 uint8, read as NHWC');
  });

  it('NCHW (detected from a channel count of 3, or said with layout) gives the same dataset as NHWC', () => {
    const a = loadDataset(cfg(folder('nhwc2')));
    const b = loadDataset(cfg(nchw('nchw', '|u1', (x) => x)));
    const c = loadDataset(cfg(nchw('nchw2', '|u1', (x) => x), { layout: 'nchw' }));
    for (const d of [b, c]) {
      expect(d.inputShape).toEqual(a.inputShape);
      expect(d.train.x).toEqual(a.train.x);
      expect(d.test.x).toEqual(a.test.x);
      expect(d.train.y).toEqual(a.train.y);
    }
    expect(b.source).toContain('read as NCHW');
    // The files differ, so the checksums do; the same files give the same checksum.
    expect(b.checksum).not.toBe(a.checksum);
    expect(c.checksum).toBe(b.checksum);
  });

  it('float32 images (already on [0, 1]) give the uint8 set scaled, with scale, standardize and none', () => {
    const u = folder('u8');
    const f = nchw('f32', '<f4', asFloat);
    for (const normalize of ['scale', 'standardize'] as const) {
      const a = loadDataset(cfg(u, { normalize }));
      const b = loadDataset(cfg(f, { normalize }));
      expect(b.train.x.length).toBe(a.train.x.length);
      let worst = 0;
      for (let i = 0; i < a.train.x.length; i++) worst = Math.max(worst, Math.abs(a.train.x[i]! - b.train.x[i]!));
      expect(worst).toBeLessThan(1e-5);
      if (normalize === 'standardize') expect(b.normalization).toMatchObject({ kind: 'standardize', scale: 1 });
    }
    expect(loadDataset(cfg(f, { normalize: 'none' })).train.x[0]).toBe(Math.fround(train.x[0]! / 255));
    expect(loadDataset(cfg(u, { normalize: 'none' })).train.x[0]).toBe(train.x[0]);
  });

  it('N×D vectors and N×H×W grey images; int32 and uint8 labels; classes from the recipe', () => {
    const v = folder('vectors', {
      xTrain: { descr: '<f4', shape: [40, 36], data: asFloat(train.x) },
      xTest: { descr: '<f4', shape: [12, 36], data: asFloat(test.x) },
      yTrain: { descr: '<i4', shape: [40], data: Int32Array.from(train.y, Number) },
      yTest: { descr: '|u1', shape: [12], data: Uint8Array.from(test.y, Number) },
    });
    const d = loadDataset(cfg(v, { classes: 6 }));
    expect(d.inputShape).toEqual([1, 1, 36]);
    expect(d.classes).toBe(6);
    const g = folder('grey', { xTrain: { descr: '|u1', shape: [40, 12, 3], data: train.x }, xTest: { descr: '|u1', shape: [12, 12, 3], data: test.x } });
    expect(loadDataset(cfg(g)).inputShape).toEqual([12, 3, 1]);
  });

  it('the estimate knows the shape from the headers and label files, the subsets applied', () => {
    const dir = folder('shape');
    const d = loadDataset(cfg(dir));
    expect(datasetShape(cfg(dir, { train: 10 }))).toEqual({ inputShape: d.inputShape, classes: 4, train: 10, test: 12, rawBytesPerFeature: 1 });
    expect(datasetShape(cfg(nchw('shape-f', '<f4', asFloat)))).toMatchObject({ inputShape: hwc, rawBytesPerFeature: 4 });
    expect(datasetShape(cfg(path.join(tmp, 'nowhere')))).toBeNull();
    expect(loadDataset(cfg(dir, { train: 10, test: 5 }))).toMatchObject({ train: { n: 10 }, test: { n: 5 } });
  });

  it('each bad folder is refused in one line that names the file and the rule', () => {
    const bad = (name: string, a: Partial<NpyArrays>, extra: Record<string, unknown> = {}): string => refusal(() => loadDataset(cfg(folder(name, a), extra)));
    const nan = Float32Array.from(train.x, (v) => v / 255);
    nan[37] = Number.NaN;
    expect(bad('nan', { xTrain: { descr: '<f4', shape: [40, ...hwc], data: nan }, xTest: { descr: '<f4', shape: [12, ...hwc], data: asFloat(test.x) } })).toMatch(
      /x_train\.npy holds NaN at value 37 \(sample 1\); inputs must be finite/,
    );
    const inf = asFloat(test.x);
    inf[0] = Number.POSITIVE_INFINITY;
    expect(bad('inf', { xTrain: { descr: '<f4', shape: [40, ...hwc], data: asFloat(train.x) }, xTest: { descr: '<f4', shape: [12, ...hwc], data: inf } })).toMatch(
      /x_test\.npy holds Infinity at value 0 \(sample 0\)/,
    );
    expect(bad('range', {}, { classes: 3 })).toMatch(/y_(train|test)\.npy: label 3 at index \d+ is outside 0\.\.2/);
    const neg = BigInt64Array.from(train.y);
    neg[4] = -1n;
    expect(bad('negative', { yTrain: { descr: '<i8', shape: [40], data: neg } })).toMatch(/y_train\.npy: label -1 at index 4 is outside 0\.\.3/);
    const huge = BigInt64Array.from(train.y);
    huge[2] = 1n << 40n;
    expect(bad('huge', { yTrain: { descr: '<i8', shape: [40], data: huge } })).toMatch(/holds a label above 2147483647/);
    expect(bad('one-class', { yTrain: { descr: '<i8', shape: [40], data: new BigInt64Array(40) }, yTest: { descr: '<i8', shape: [12], data: new BigInt64Array(12) } })).toMatch(
      /hold only label 0; a classifier needs at least 2 classes/,
    );
    expect(bad('count', { yTrain: { descr: '<i8', shape: [39], data: train.y.subarray(0, 39) } })).toMatch(/x_train\.npy has 40 samples but .*y_train\.npy has 39 labels/);
    expect(bad('y2d', { yTrain: { descr: '<i8', shape: [40, 1], data: train.y } })).toMatch(/y_train\.npy has shape \(40, 1\); labels are one integer per sample/);
    expect(bad('yfloat', { yTrain: { descr: '<f4', shape: [40], data: Float32Array.from(train.y, Number) } })).toMatch(/y_train\.npy holds float32 values; labels must be integers/);
    expect(bad('xint', { xTrain: { descr: '<i4', shape: [40, 36], data: Int32Array.from(train.x) } })).toMatch(/x_train\.npy holds int32 values; inputs must be float32 or uint8/);
    expect(bad('5d', { xTrain: { descr: '|u1', shape: [40, 1, 4, 3, 3], data: train.x } })).toMatch(/x_train\.npy has 5 dimensions/);
    expect(bad('mismatch', { xTest: { descr: '|u1', shape: [12, 3, 4, 3], data: test.x } }, { layout: 'nhwc' })).toMatch(/x_test\.npy holds 3×4×3 samples \(h×w×c\), the training inputs are 4×3×3/);
    expect(bad('dtypes', { xTest: { descr: '<f4', shape: [12, ...hwc], data: asFloat(test.x) } })).toMatch(/x_test\.npy holds float32 values, the training inputs uint8/);
    expect(bad('empty-sample', { xTrain: { descr: '|u1', shape: [40, 0], data: new Uint8Array(0) } })).toMatch(/x_train\.npy has shape \(40, 0\): a sample with no values/);
  });

  it('a missing file is found before the run starts (checkDatasetFiles), in one line', () => {
    const dir = folder('missing');
    rmSync(path.join(dir, 'y_test.npy'));
    expect(refusal(() => checkDatasetFiles(cfg(dir)))).toMatch(/test labels not found: .*missing\/y_test\.npy/);
    expect(refusal(() => loadDataset(cfg(dir)))).toMatch(/label file not found: .*y_test\.npy/);
  });
});
