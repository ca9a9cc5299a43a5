/**
 * Networks in PyTorch's layout (nn/foreign-layout.ts, io/endpoint-weights.ts): a ModeLab network written as a
 * PyTorch state_dict by a conversion written here with tfjs transposes (independent of the module's index maps),
 * read back exactly — identical parameters and identical logits — and written back by the torch export; every
 * mismatch one line naming the tensor and the shape expected.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src-main/engine/backend/backends';
import { torchStateDict } from '../../src-main/engine/experiment/export';
import { loadEndpointWeights, torchNamesFor } from '../../src-main/engine/io/endpoint-weights';
import { encodeSafetensors, safetensorsEntries } from '../../src-main/engine/io/safetensors';
import { forward } from '../../src-main/engine/nn/forward';
import { sequentialNames } from '../../src-main/engine/nn/foreign-layout';
import { type HostParams, type HostTensor, disposeParams, initParams, paramsEqual, toDevice } from '../../src-main/engine/nn/params';
import { type ArchSpec, layerOutputShapes } from '../../src-main/engine/nn/spec';
import { InputError } from '../../src-main/engine/util/errors';
import { Rng } from '../../src-main/engine/util/rng';

const dir = mkdtempSync(path.join(os.tmpdir(), 'modelab-foreign-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await selectBackend('cpu');
});

/** A CNN on a 3-channel input with biases and BatchNorm everywhere: conv → pool → conv → flatten → dense → out. */
const cnn: ArchSpec = {
  input: [6, 6, 3],
  layers: [
    { type: 'conv', filters: 4, kernel: 3, stride: 1, padding: 'same', bias: true, pool: { size: 2, stride: 2 }, dropout: 0, batchNorm: true },
    { type: 'conv', filters: 5, kernel: 3, stride: 1, padding: 'same', bias: true, pool: null, dropout: 0, batchNorm: true },
    { type: 'dense', units: 7, bias: true, dropout: 0, batchNorm: true },
    { type: 'dense', units: 3, bias: true, dropout: 0 },
  ],
};
/** An MLP on a 2-channel image (its first layer reads a (c, h, w) flatten in PyTorch), bias-free. */
const mlp: ArchSpec = {
  input: [4, 4, 2],
  layers: [
    { type: 'dense', units: 6, bias: false, dropout: 0 },
    { type: 'dense', units: 3, bias: false, dropout: 0 },
  ],
};

/** Random weights, BatchNorm statistics included (variances positive). */
function randomParams(spec: ArchSpec, seed: number): HostParams {
  const p = initParams(spec, seed);
  const rng = new Rng(seed + 100);
  for (const [k, t] of Object.entries(p)) {
    if (k.endsWith('.w')) continue;
    for (let i = 0; i < t.data.length; i++) t.data[i] = k.endsWith('.var') ? 0.5 + rng.next() : rng.next() - 0.5;
  }
  return p;
}

/** PyTorch's tensors of a ModeLab parameter, by tfjs transposes: OIHW kernels, [out, in] dense kernels whose rows of
 *  a flattened map are in (c, h, w) order. */
function torchTensor(name: string, t: HostTensor, flattenFrom: [number, number, number] | null): HostTensor {
  return tf.tidy(() => {
    const x = tf.tensor(t.data, t.shape);
    let y: tf.Tensor;
    if (t.shape.length === 4) y = tf.transpose(x, [3, 2, 0, 1]);
    else if (t.shape.length === 2 && flattenFrom) {
      const [h, w, c] = flattenFrom;
      y = tf.reshape(tf.transpose(tf.reshape(x, [h, w, c, t.shape[1]!]), [3, 2, 0, 1]), [t.shape[1]!, c * h * w]);
    } else if (t.shape.length === 2) y = tf.transpose(x);
    else y = x;
    void name;
    return { shape: y.shape, data: new Float32Array(y.dataSync()) };
  });
}

/** The spec's parameters as a PyTorch state_dict under the given names (ModeLab name → PyTorch name). */
function torchDict(spec: ArchSpec, p: HostParams, names: Record<string, string>): Record<string, HostTensor> {
  const firstDense = spec.layers.findIndex((l) => l.type === 'dense');
  const map = firstDense === 0 ? spec.input : (layerOutputShapes(spec)[firstDense - 1] as [number, number, number]);
  const out: Record<string, HostTensor> = {};
  for (const [k, t] of Object.entries(p)) out[names[k]!] = torchTensor(k, t, k === `A${firstDense + 1}.w` ? map : null);
  return out;
}

const BN = { gamma: 'weight', beta: 'bias', mean: 'running_mean', var: 'running_var' } as const;
/** Sequential-like names with two-digit module indices (10.weight sorts before 2.weight as text). */
const cnnNames: Record<string, string> = {
  'A1.w': '0.weight', 'A1.b': '0.bias', 'A2.w': '4.weight', 'A2.b': '4.bias', 'A3.w': '9.weight', 'A3.b': '9.bias', 'A4.w': '12.weight', 'A4.b': '12.bias',
  ...Object.fromEntries(([[1, 1], [2, 5], [3, 10]] as const).flatMap(([i, m]) => Object.entries(BN).map(([ours, theirs]) => [`A${i}.bn.${ours}`, `${m}.${theirs}`]))),
};

/** Writes tensors as the safetensors library does: names sorted as text, int64 counters first. */
function writeTorchFile(file: string, dict: Record<string, HostTensor>, counters: string[] = []): string {
  const sorted = Object.fromEntries(Object.entries(dict).sort(([a], [b]) => (a < b ? -1 : 1)));
  writeFileSync(file, encodeSafetensors(sorted, { format: 'pt' }, Object.fromEntries(counters.map((c) => [c, 17n]))));
  return file;
}

function logits(spec: ArchSpec, p: HostParams, seed: number): Float32Array {
  const rng = new Rng(seed);
  const [h, w, c] = spec.input;
  const x = tf.tensor(Float32Array.from({ length: 5 * h * w * c }, () => rng.next() * 2 - 1), [5, h * w * c]);
  const dev = toDevice(p);
  const y = forward(spec, dev, x);
  const out = y.dataSync() as Float32Array;
  [x, y].forEach((t) => t.dispose());
  disposeParams(dev);
  return out;
}

function message(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as Error).message;
  }
  throw new Error('expected an InputError');
}

describe('PyTorch layout', () => {
  it('a CNN with BatchNorm written in PyTorch layout loads back exactly: identical parameters and logits', () => {
    const p = randomParams(cnn, 1);
    const file = writeTorchFile(path.join(dir, 'cnn.safetensors'), torchDict(cnn, p, cnnNames), ['1.num_batches_tracked', '5.num_batches_tracked', '10.num_batches_tracked']);
    const loaded = loadEndpointWeights(cnn, { weights: file });
    expect(paramsEqual(loaded.params, p)).toBe(true);
    expect(loaded.names).toEqual(cnnNames);
    expect(logits(cnn, loaded.params, 9)).toEqual(logits(cnn, p, 9));
  });

  it('an MLP on a multi-channel image: its first layer re-ordered from (c, h, w) rows', () => {
    const p = randomParams(mlp, 2);
    const names = { 'A1.w': 'net.1.weight', 'A2.w': 'net.3.weight' };
    const loaded = loadEndpointWeights(mlp, { weights: writeTorchFile(path.join(dir, 'mlp.safetensors'), torchDict(mlp, p, names)) });
    expect(paramsEqual(loaded.params, p)).toBe(true);
    expect(logits(mlp, loaded.params, 3)).toEqual(logits(mlp, p, 3));
  });

  it('the torch export writes what the independent conversion writes, under the file endpoint’s own names', () => {
    const p = randomParams(cnn, 4);
    const file = writeTorchFile(path.join(dir, 'cnn-names.safetensors'), torchDict(cnn, randomParams(cnn, 5), cnnNames));
    const { entries } = safetensorsEntries(torchStateDict(cnn, p, torchNamesFor(cnn, { weights: file })));
    const expected = torchDict(cnn, p, cnnNames);
    const counters = ['1', '5', '10'].map((m) => `${m}.num_batches_tracked`);
    expect(entries.map((e) => e.name).sort()).toEqual([...Object.keys(expected), ...counters].sort());
    for (const e of entries) {
      if (counters.includes(e.name)) expect([e.dtype, e.shape]).toEqual(['I64', []]);
      else expect([e.shape, e.data], e.name).toEqual([expected[e.name]!.shape, expected[e.name]!.data]);
    }
  });

  it('without a file, the export names the nn.Sequential that mirrors the architecture, counters included', () => {
    expect(sequentialNames(cnn)).toEqual({
      ...cnnNames,
      // conv, bn, relu, pool (0–3); conv, bn, relu (4–6); flatten 7; linear, bn, relu (8–10); linear 11
      'A2.w': '4.weight', 'A2.b': '4.bias', 'A3.w': '8.weight', 'A3.b': '8.bias', 'A4.w': '11.weight', 'A4.b': '11.bias',
      ...Object.fromEntries(Object.entries(BN).flatMap(([ours, theirs]) => [[`A3.bn.${ours}`, `9.${theirs}`]])),
    });
    expect(torchNamesFor(cnn, undefined)).toEqual(sequentialNames(cnn));
    const buf = torchStateDict(cnn, randomParams(cnn, 6), sequentialNames(cnn));
    const header = JSON.parse(buf.toString('utf8', 8, 8 + Number(buf.readBigUInt64LE(0)))) as Record<string, { dtype: string }>;
    expect(['1', '5', '9'].map((m) => header[`${m}.num_batches_tracked`]?.dtype)).toEqual(['I64', 'I64', 'I64']);
  });

  it('an explicit name map overrides the order of appearance', () => {
    const p = randomParams(mlp, 7);
    const names = { 'A1.w': 'z_first.weight', 'A2.w': 'a_last.weight' }; // their text order is the reverse
    const file = writeTorchFile(path.join(dir, 'named.safetensors'), torchDict(mlp, p, names));
    expect(message(() => loadEndpointWeights(mlp, { weights: file }))).toMatch(/tensor 'a_last\.weight' has shape \[3, 6\]; layer 1's weight expects Linear weight \[out, in\] \[6, 32\]/);
    expect(paramsEqual(loadEndpointWeights(mlp, { weights: file, names }).params, p)).toBe(true);
  });
});

describe('every mismatch is one line naming the tensor and the shape expected', () => {
  let good: Record<string, HostTensor> = {};
  beforeAll(() => {
    good = torchDict(mlp, randomParams(mlp, 8), { 'A1.w': '1.weight', 'A2.w': '3.weight' });
  });
  const file = (name: string, dict: Record<string, HostTensor>): string => writeTorchFile(path.join(dir, `${name}.safetensors`), dict);
  it.each([
    ['missing', () => ({ '1.weight': good['1.weight']! }), /missing a tensor for layer 2's weight \(Linear weight \[out, in\] \[3, 6\]\)/],
    ['wrong shape', () => ({ ...good, '3.weight': { shape: [6, 3], data: good['3.weight']!.data } }), /tensor '3\.weight' has shape \[6, 3\]; layer 2's weight expects Linear weight \[out, in\] \[3, 6\]/],
    ['extra', () => ({ ...good, '5.weight': { shape: [2, 3], data: new Float32Array(6) } }), /tensor '5\.weight' \[2, 3\] is left over/],
    ['biases', () => ({ '1.weight': good['1.weight']!, '1.bias': { shape: [6], data: new Float32Array(6) }, '3.weight': good['3.weight']! }), /tensor '1\.bias' has shape \[6\]; layer 2's weight .*set "bias": true/],
  ] as const)('%s', (name, dict, re) => {
    const m = message(() => loadEndpointWeights(mlp, { weights: file(name, dict()) }));
    expect(m).toMatch(re);
    expect(m).not.toContain('\n');
  });

  it('a dtype other than float32', () => {
    const f = path.join(dir, 'f16.safetensors');
    const header = JSON.stringify({ '1.weight': { dtype: 'F16', shape: [6, 32], data_offsets: [0, 384] }, '3.weight': { dtype: 'F32', shape: [3, 6], data_offsets: [384, 456] } });
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    writeFileSync(f, Buffer.concat([len, Buffer.from(header), Buffer.alloc(456)]));
    expect(message(() => loadEndpointWeights(mlp, { weights: f }))).toMatch(/tensor '1\.weight' is F16; ModeLab reads float32 weights .*layer 1's weight expects Linear weight \[out, in\] \[6, 32\]/);
  });

  it('a name map naming nothing, or missing a parameter', () => {
    const f = file('map', good);
    expect(message(() => loadEndpointWeights(mlp, { weights: f, names: { 'A1.w': '1.weight', 'A2.w': 'fc.weight' } }))).toMatch(/no tensor 'fc\.weight' \(named for A2\.w, layer 2's weight, expected shape \[3, 6\]\)/);
    expect(message(() => loadEndpointWeights(mlp, { weights: f, names: { 'A1.w': '1.weight' } }))).toMatch(/names: no file tensor given for A2\.w/);
    expect(message(() => loadEndpointWeights(mlp, { weights: f, names: { 'A1.w': '1.weight', 'A2.w': '3.weight', 'A3.w': 'x' } }))).toMatch(/'A3\.w' is no parameter/);
  });

  it('files that are not there or not weights', () => {
    expect(message(() => loadEndpointWeights(mlp, { weights: path.join(dir, 'nope.safetensors') }))).toMatch(/weights file not found/);
    expect(message(() => loadEndpointWeights(mlp, { weights: path.join(dir, 'a.pt') }))).toMatch(/give a \.safetensors file or a TensorFlow\.js model\.json/);
    expect(message(() => loadEndpointWeights(mlp, { weights: path.join(dir, 'a.json'), layout: 'torch' }))).toMatch(/keras layout/);
  });
});
