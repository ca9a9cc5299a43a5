/**
 * TensorFlow.js layers models (io/tfjs-layers.ts) are untrusted files: shards beside model.json only, the manifest's
 * sizes against the shards, supported layers and activations, float32 unquantized weights; each refusal one line.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readTfjsLayersModel } from '../../src-main/engine/io/tfjs-layers';
import { refusal } from './refusal';

const dir = mkdtempSync(path.join(os.tmpdir(), 'modelab-tfjs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const dense = (name: string, units: number, activation = 'linear'): unknown => ({ class_name: 'Dense', config: { name, units, activation } });
const weights = [
  { name: 'd1/kernel', shape: [3, 2], dtype: 'float32' },
  { name: 'd1/bias', shape: [2], dtype: 'float32' },
];

/** model.json (and a 32-byte shard) in a folder of its own; `doc` overrides the document's fields. */
function model(name: string, doc: Record<string, unknown> = {}, shard = Buffer.from(Float32Array.from({ length: 8 }, (_, i) => i).buffer)): string {
  const d = path.join(dir, name);
  mkdirSync(d, { recursive: true });
  writeFileSync(path.join(d, 'shard.bin'), shard);
  const base = { format: 'layers-model', modelTopology: { class_name: 'Sequential', config: { layers: [dense('d1', 2)] } }, weightsManifest: [{ paths: ['shard.bin'], weights }] };
  writeFileSync(path.join(d, 'model.json'), JSON.stringify({ ...base, ...doc }));
  return path.join(d, 'model.json');
}

const refused = (file: string): string => refusal(() => readTfjsLayersModel(file));

describe('TensorFlow.js layers models', () => {
  it('reads the weights in manifest order, the shards concatenated, and the Keras converter’s topology', () => {
    const half = Buffer.from(Float32Array.from([0, 1, 2, 3]).buffer);
    const rest = Buffer.from(Float32Array.from([4, 5, 6, 7]).buffer);
    const d = path.join(dir, 'split');
    mkdirSync(d, { recursive: true });
    writeFileSync(path.join(d, 'a.bin'), half);
    writeFileSync(path.join(d, 'b.bin'), rest);
    const doc = {
      modelTopology: { model_config: { class_name: 'Sequential', config: { layers: [dense('d1', 2, 'relu'), { class_name: 'BatchNormalization', config: { name: 'bn', epsilon: 0.001 } }] } } },
      weightsManifest: [{ paths: ['a.bin', 'b.bin'], weights }],
    };
    writeFileSync(path.join(d, 'model.json'), JSON.stringify(doc));
    const m = readTfjsLayersModel(path.join(d, 'model.json'));
    expect(m.tensors.map((t) => [t.name, t.shape, [...t.data!]])).toEqual([
      ['d1/kernel', [3, 2], [0, 1, 2, 3, 4, 5]],
      ['d1/bias', [2], [6, 7]],
    ]);
    expect(m.bnEpsilon).toBe(0.001);
  });

  it.each([
    ['a shard outside the folder', { weightsManifest: [{ paths: ['../secret.bin'], weights }] }, /shard path "\.\.\/secret\.bin" is not a file name beside model\.json/],
    ['a missing shard', { weightsManifest: [{ paths: ['gone.bin'], weights }] }, /weight shard gone\.bin not found beside it/],
    ['too few bytes', { weightsManifest: [{ paths: ['shard.bin'], weights: [...weights, { name: 'd2/kernel', shape: [4], dtype: 'float32' }] }] }, /too few for weight 'd2\/kernel' \(truncated\?\)/],
    ['bytes left over', { weightsManifest: [{ paths: ['shard.bin'], weights: weights.slice(0, 1) }] }, /the shards hold 32 bytes, the manifest's weights 24/],
    ['quantized weights', { weightsManifest: [{ paths: ['shard.bin'], weights: [{ ...weights[0], quantization: { dtype: 'uint8' } }] }] }, /weight 'd1\/kernel' is quantized/],
    ['an unknown dtype', { weightsManifest: [{ paths: ['shard.bin'], weights: [{ ...weights[0], dtype: 'complex64' }] }] }, /unknown dtype complex64/],
    ['an unsupported layer', { modelTopology: { class_name: 'Sequential', config: { layers: [{ class_name: 'LSTM', config: { name: 'lstm' } }] } } }, /layer LSTM 'lstm' is not supported/],
    ['another activation', { modelTopology: { class_name: 'Sequential', config: { layers: [dense('d1', 2, 'tanh')] } } }, /layer Dense 'd1' has activation 'tanh'; ModeLab's networks use ReLU/],
    ['channels_first', { modelTopology: { class_name: 'Sequential', config: { layers: [{ class_name: 'Conv2D', config: { name: 'c', data_format: 'channels_first' } }] } } }, /is channels_first/],
    ['no manifest', { weightsManifest: undefined }, /is not a TensorFlow\.js layers model \(no weightsManifest\)/],
  ])('refuses %s', (name, doc, re) => {
    expect(refused(model(name.replace(/\W+/g, '-'), doc))).toMatch(re);
  });

  it('refuses a file that is not JSON', () => {
    const f = path.join(dir, 'broken.json');
    writeFileSync(f, '{"weightsManifest": [');
    expect(refused(f)).toMatch(/is not a JSON file/);
  });
});
