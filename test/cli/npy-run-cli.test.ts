/** `modelab run` on a folder of .npy arrays (data/npy-folder.ts): the recipe's dataset read, checked before the run. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageSet, toNchw, writeNpyFolder } from '../engine/npy-files';
import { modelab } from './modelab';

let tmp = '';
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'modelab-npy-run-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const hwc: [number, number, number] = [4, 4, 3];

function recipe(dir: string): string {
  const file = path.join(tmp, `recipe-${path.basename(dir)}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      name: 'npy-tiny',
      seed: 1,
      dataset: { name: 'npy', dir, normalize: 'standardize' },
      architecture: { type: 'cnn', conv: [{ filters: 4, kernel: 3, pool: 2 }], dense: [8], bias: false },
      training: { optimizer: 'sgd', lr: 0.05, batchSize: 16, epochs: 2 },
      paths: [{ type: 'linear', points: 3 }],
      evaluation: { trainSamples: null, testSamples: null, batchSize: 64 },
    }),
  );
  return file;
}

describe('modelab run on an npy folder', () => {
  it('trains both endpoints on NCHW uint8 images with int64 labels and reports the dataset read', async () => {
    const train = imageSet(64, hwc, 5);
    const test = imageSet(16, hwc, 6);
    const dir = writeNpyFolder(path.join(tmp, 'cifar-like'), {
      xTrain: { descr: '|u1', shape: [64, 3, 4, 4], data: toNchw(train.x, 64, hwc) },
      yTrain: { descr: '<i8', shape: [64], data: train.y },
      xTest: { descr: '|u1', shape: [16, 3, 4, 4], data: toNchw(test.x, 16, hwc) },
      yTest: { descr: '<i8', shape: [16], data: test.y },
    });
    const r = await modelab(['run', '--config', recipe(dir), '--no-store', '--json', '--workers', '1']);
    expect(r.stderr).not.toMatch(/Error:|    at /);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { dataset: { name: string; inputShape: number[]; classes: number; checksum: string; source: string }; paths: { points: unknown[] }[] };
    expect(doc.dataset).toMatchObject({ name: 'npy', inputShape: hwc, classes: 4 });
    expect(doc.dataset.source).toContain('x_train 64×3×4×4 uint8, read as NCHW');
    expect(doc.dataset.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(doc.paths[0]!.points).toHaveLength(3);
  });

  it('a folder without its arrays is refused before the run starts, in one line', async () => {
    const r = await modelab(['run', '--config', recipe(path.join(tmp, 'empty')), '--no-store']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^modelab: training inputs not found: .*empty\/x_train\.npy/);
  });
});
