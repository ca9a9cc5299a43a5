/**
 * What a recipe's dataset will hold, known before loading it: input shape, classes and the sizes of the two splits
 * (after the recipe's subsets). The resource estimate (recipe/estimate.ts) needs this before anything is allocated.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { DatasetConfig } from './config';
import { npyShape } from './npy-folder';
import { InputError } from '../util/errors';

export interface DataShape {
  inputShape: [number, number, number];
  classes: number;
  train: number;
  test: number;
  /** Bytes per sample of the raw file data kept while loading (1 per feature for image bytes; 0 when generated). */
  rawBytesPerFeature: number;
}

const MNIST_LIKE = { inputShape: [28, 28, 1] as [number, number, number], classes: 10, train: 60000, test: 10000 };
const CIFAR10 = { inputShape: [32, 32, 3] as [number, number, number], classes: 10, train: 50000, test: 10000 };

const sub = (n: number, want: number | null | undefined): number => (want === null || want === undefined ? n : Math.min(n, want));

/** The first dimensions of an uncompressed IDX file (its header), or null when they cannot be read here (missing,
 *  gzip-compressed, not IDX: the loader then says why). */
function idxDims(file: string): number[] | null {
  let fd: number | null = null;
  try {
    fd = openSync(file, 'r');
    const head = Buffer.alloc(16);
    const got = readSync(fd, head, 0, 16, 0);
    if (got < 4 || head[0] !== 0 || head[1] !== 0) return null;
    const ndim = head[3]!;
    if (ndim < 1 || got < 4 + 4 * ndim) return null;
    return Array.from({ length: ndim }, (_, i) => head.readUInt32BE(4 + 4 * i));
  } catch {
    return null;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/** The dataset's shape, or null when it cannot be known without loading it (an IDX file that is compressed or
 *  unreadable, an npy folder whose files are missing or malformed: the loader then says why). Reads nothing but IDX
 *  and .npy headers, and an npy folder's label files (small) when the recipe does not give its classes. */
export function datasetShape(cfg: DatasetConfig): DataShape | null {
  switch (cfg.name) {
    case 'gaussian-mixture':
      return { inputShape: [1, 1, cfg.dim], classes: cfg.classes, train: cfg.train, test: cfg.test, rawBytesPerFeature: 0 };
    case 'spirals':
      return { inputShape: [1, 1, 2], classes: cfg.arms, train: cfg.train, test: cfg.test, rawBytesPerFeature: 0 };
    case 'mnist':
    case 'fashion-mnist':
      return { ...MNIST_LIKE, train: sub(MNIST_LIKE.train, cfg.train), test: sub(MNIST_LIKE.test, cfg.test), rawBytesPerFeature: 1 };
    case 'cifar10':
      return { ...CIFAR10, train: sub(CIFAR10.train, cfg.train), test: sub(CIFAR10.test, cfg.test), rawBytesPerFeature: 1 };
    case 'idx': {
      const train = idxDims(cfg.trainImages);
      const test = idxDims(cfg.testImages);
      if (!train || !test || train.length !== 3 || test.length !== 3) return null;
      return {
        inputShape: [train[1]!, train[2]!, 1],
        classes: cfg.classes ?? 10,
        train: sub(train[0]!, cfg.train),
        test: sub(test[0]!, cfg.test),
        rawBytesPerFeature: 1,
      };
    }
    case 'npy': {
      let s: ReturnType<typeof npyShape>;
      try {
        s = npyShape(cfg);
      } catch (e) {
        if (e instanceof InputError) return null;
        throw e;
      }
      return { inputShape: s.inputShape, classes: s.classes, train: sub(s.train, cfg.train), test: sub(s.test, cfg.test), rawBytesPerFeature: s.bytesPerValue };
    }
  }
}
