/**
 * Networks trained by PyTorch itself (test/fixtures/byo/, written by make_fixtures.py there): loaded from their
 * state_dicts (and the BN CNN from a TensorFlow.js layers model) into ModeLab, they compute PyTorch's logits and
 * PyTorch's losses and accuracies, to float32 tolerance.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src-main/engine/backend/backends';
import { featureCount } from '../../src-main/engine/data/dataset';
import { loadDataset } from '../../src-main/engine/data/load';
import type { Dataset } from '../../src-main/engine/data/dataset';
import { DeviceSplit } from '../../src-main/engine/eval/evaluate';
import { evaluateHost } from '../../src-main/engine/eval/host';
import { type EndpointFile, loadEndpointWeights } from '../../src-main/engine/io/endpoint-weights';
import { forward } from '../../src-main/engine/nn/forward';
import { type HostParams, disposeParams, toDevice } from '../../src-main/engine/nn/params';
import type { ArchSpec, LayerSpec } from '../../src-main/engine/nn/spec';

const FIXTURES = path.resolve(__dirname, '../fixtures/byo');
interface Expected {
  networks: Record<string, { logits: number[][]; train: { loss: number; acc: number }; test: { loss: number; acc: number } }>;
}
const expected = JSON.parse(readFileSync(path.join(FIXTURES, 'expected.json'), 'utf8')) as Expected;

const dense = (units: number, bias: boolean, batchNorm = false): LayerSpec => ({ type: 'dense', units, bias, dropout: 0, ...(batchNorm ? { batchNorm } : {}) });
const conv = (bias: boolean, batchNorm = false): LayerSpec => ({ type: 'conv', filters: 8, kernel: 3, stride: 1, padding: 'same', bias, pool: { size: 2, stride: 2 }, dropout: 0, ...(batchNorm ? { batchNorm } : {}) });
const input: [number, number, number] = [8, 8, 1];
/** The architectures make_fixtures.py trains, as ModeLab specs. */
const SPECS: Record<string, ArchSpec> = {
  mlp: { input, layers: [dense(32, false), dense(32, false), dense(4, false)] },
  cnn: { input, layers: [conv(false), conv(false), dense(16, false), dense(4, false)] },
  'mlp-bias': { input, layers: [dense(32, true), dense(32, true), dense(4, true)] },
  'cnn-bn': { input, layers: [conv(true, true), conv(true, true), dense(16, true, true), dense(4, true)] },
};

/** The IDX image set the fixtures were trained on, scaled to [0, 1] as PyTorch saw it. */
function fixtureDataset(): Dataset {
  const f = (n: string): string => path.join(FIXTURES, 'data', n);
  return loadDataset({ name: 'idx', trainImages: f('train-images.idx'), trainLabels: f('train-labels.idx'), testImages: f('test-images.idx'), testLabels: f('test-labels.idx'), subsetSeed: 0, normalize: 'scale' });
}

let data: Dataset;
const splits: DeviceSplit[] = [];
beforeAll(async () => {
  await selectBackend('cpu');
  data = fixtureDataset();
});
afterAll(() => splits.forEach((s) => s.dispose()));

function logits(spec: ArchSpec, p: HostParams, n: number): number[][] {
  const f = featureCount(data);
  const x = tf.tensor2d(data.test.x.subarray(0, n * f), [n, f]);
  const dev = toDevice(p);
  const y = forward(spec, dev, x);
  const out = y.arraySync() as number[][];
  [x, y].forEach((t) => t.dispose());
  disposeParams(dev);
  return out;
}

/** Largest |a − b| / (1 + |b|). */
function relDiff(a: number[][], b: number[][]): number {
  let m = 0;
  a.forEach((row, i) => row.forEach((v, j) => (m = Math.max(m, Math.abs(v - b[i]![j]!) / (1 + Math.abs(b[i]![j]!))))));
  return m;
}

describe('networks trained by PyTorch', () => {
  it.each([
    ['mlp-a', 'mlp', 'mlp-a.safetensors'],
    ['mlp-b', 'mlp', 'mlp-b.safetensors'],
    ['cnn-a', 'cnn', 'cnn-a.safetensors'],
    ['cnn-b', 'cnn', 'cnn-b.safetensors'],
    ['mlp-bias', 'mlp-bias', 'mlp-bias.safetensors'],
    ['cnn-bn', 'cnn-bn', 'cnn-bn.safetensors'],
    ['cnn-bn', 'cnn-bn', 'tfjs-cnn-bn/model.json'],
  ])('%s from %s: PyTorch’s logits, loss and accuracy', async (net, arch, file) => {
    const spec = SPECS[arch]!;
    const e: EndpointFile = { weights: path.join(FIXTURES, file) };
    const { params } = loadEndpointWeights(spec, e);
    const want = expected.networks[net]!;
    expect(relDiff(logits(spec, params, want.logits.length), want.logits)).toBeLessThan(1e-5);
    const f = featureCount(data);
    for (const split of ['train', 'test'] as const) {
      const s = new DeviceSplit(data[split], f, 1000);
      splits.push(s);
      const m = await evaluateHost(spec, params, s);
      expect(Math.abs(m.loss - want[split].loss), `${split} loss ${m.loss} against PyTorch's ${want[split].loss}`).toBeLessThan(1e-5 * (1 + want[split].loss));
      expect(m.acc).toBeCloseTo(want[split].acc, 6);
    }
  });

  it('the explicit name map reads named modules too', () => {
    const names = { 'A1.w': 'fc1.weight', 'A1.b': 'fc1.bias', 'A2.w': 'fc2.weight', 'A2.b': 'fc2.bias', 'A3.w': 'fc3.weight', 'A3.b': 'fc3.bias' };
    const spec = SPECS['mlp-bias']!;
    const byName = loadEndpointWeights(spec, { weights: path.join(FIXTURES, 'mlp-bias.safetensors'), names });
    expect(byName.names).toEqual(names);
    expect(relDiff(logits(spec, byName.params, 8), expected.networks['mlp-bias']!.logits)).toBeLessThan(1e-5);
  });
});
