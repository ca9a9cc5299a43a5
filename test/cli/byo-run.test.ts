/**
 * Networks trained outside ModeLab, end to end (issue 15): `modelab run` on a recipe whose two endpoints are PyTorch
 * state_dicts (test/fixtures/byo: an MLP pair, a CNN pair, bias-free ReLU nets) with the straight line, weight
 * matching and the Theorem 1 path. The endpoint losses ModeLab reports are PyTorch's; `--out DIR --layout torch`
 * writes every endpoint and path vertex so that PyTorch's `model.load_state_dict` takes it, and PyTorch's logits of
 * an exported vertex are ModeLab's. Networks trained in ModeLab go out the same way (`modelab export --layout torch`),
 * under the names of the nn.Sequential that mirrors the architecture.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSummary } from '../../src-main/cli/summary';
import { selectBackend } from '../../src-main/engine/backend/backends';
import { readSafetensors } from '../../src-main/engine/io/safetensors';
import { forward } from '../../src-main/engine/nn/forward';
import { type HostParams, disposeParams, toDevice } from '../../src-main/engine/nn/params';
import type { ArchSpec } from '../../src-main/engine/nn/spec';
import type { RunDocument } from '../../src-main/store/run-document';

const root = path.resolve(__dirname, '../..');
const FIXTURES = path.join(root, 'test/fixtures/byo');
const python = process.env['MODELAB_PYTHON'] ?? 'python3';
const expected = JSON.parse(readFileSync(path.join(FIXTURES, 'expected.json'), 'utf8')) as {
  networks: Record<string, { train: { loss: number; acc: number }; test: { loss: number; acc: number } }>;
};
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
beforeAll(async () => {
  await selectBackend('cpu');
});

const data = (f: string): string => path.join(FIXTURES, 'data', f);
const ARCHITECTURES = {
  mlp: { type: 'mlp', hidden: [32, 32], bias: false },
  cnn: { type: 'cnn', conv: [{ filters: 8, kernel: 3, pool: 2 }, { filters: 8, kernel: 3, pool: 2 }], dense: [16], bias: false },
};

/** The recipe, in its own folder: the weights named relative to it. */
function recipe(dir: string, arch: keyof typeof ARCHITECTURES): string {
  const file = path.join(dir, 'recipe.json');
  const weights = (n: string): string => path.relative(dir, path.join(FIXTURES, `${arch}-${n}.safetensors`));
  const doc = {
    name: `byo-${arch}`,
    dataset: { name: 'idx', trainImages: data('train-images.idx'), trainLabels: data('train-labels.idx'), testImages: data('test-images.idx'), testLabels: data('test-labels.idx') },
    architecture: ARCHITECTURES[arch],
    training: {},
    endpoints: [
      { name: 'A', weights: weights('a') },
      { name: 'B', weights: weights('b') },
    ],
    paths: [
      { type: 'linear', points: 5 },
      { type: 'aligned-linear', method: 'weight', points: 5 },
      { type: 'theorem1', perSegment: 2, dropout: { masks: 4, searchSamples: 512 } },
    ],
    evaluation: { trainSamples: null, testSamples: null },
  };
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

interface RunDoc {
  endpoints: { name: string; train: { loss: number; acc: number }; test: { loss: number; acc: number }; training: { steps: number } }[];
  paths: { name: string; points: unknown[] }[];
  architecture: { spec: ArchSpec };
}

/** ModeLab's logits of a network on the first 8 test images (the evaluation set is the whole test set, in order). */
function modelabLogits(spec: ArchSpec, p: HostParams, outDir: string): number[][] {
  const { tensors } = readSafetensors(path.join(outDir, 'eval-data.safetensors'));
  const x = tensors['test.x']!;
  const f = x.shape.slice(1).reduce((a, b) => a * b, 1);
  const xt = tf.tensor2d(x.data.subarray(0, 8 * f), [8, f]);
  const dev = toDevice(p);
  const y = forward(spec, dev, xt);
  const out = y.arraySync() as number[][];
  [xt, y].forEach((t) => t.dispose());
  disposeParams(dev);
  return out;
}

/** The parameters of vertex k of a path (ModeLab's own file). */
function vertex(outDir: string, pathName: string, k: number): HostParams {
  const { tensors } = readSafetensors(path.join(outDir, 'paths', `${pathName}.safetensors`));
  return Object.fromEntries(Object.entries(tensors).flatMap(([n, t]) => (n.startsWith(`v${k}.`) ? [[n.slice(`v${k}.`.length), t]] : [])));
}

/** PyTorch's logits of each file against ModeLab's of its parameters (largest |Δ| / (1 + |ModeLab's|)). */
function compareWithTorch(arch: 'mlp' | 'cnn', spec: ArchSpec, files: [string, HostParams][], outDir: string): void {
  const py = spawnSync(python, [path.join(FIXTURES, 'torch_logits.py'), arch, ...files.map(([f]) => f)], { encoding: 'utf8' });
  expect(py.status, `${python} with PyTorch (MODELAB_PYTHON): ${py.stderr}`).toBe(0);
  const torchLogits = JSON.parse(py.stdout) as Record<string, number[][]>;
  for (const [file, params] of files) {
    const ours = modelabLogits(spec, params, outDir);
    const theirs = torchLogits[file]!;
    const diff = Math.max(...ours.flatMap((row, i) => row.map((v, j) => Math.abs(v - theirs[i]![j]!) / (1 + Math.abs(v)))));
    expect(diff, file).toBeLessThan(1e-5);
  }
}

/** One endpoint's parameters from endpoints.safetensors. */
function endpoint(outDir: string, name: string): HostParams {
  const { tensors } = readSafetensors(path.join(outDir, 'endpoints.safetensors'));
  return Object.fromEntries(Object.entries(tensors).flatMap(([n, t]) => (n.startsWith(`${name}.`) ? [[n.slice(name.length + 1), t]] : [])));
}

describe.each(['mlp', 'cnn'] as const)('a %s pair trained by PyTorch', (arch) => {
  it('runs with the straight line, weight matching and Theorem 1; PyTorch’s endpoint losses; vertices load back into PyTorch', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), `modelab-byo-${arch}-`));
    dirs.push(dir);
    const out = path.join(dir, 'out');
    const r = spawnSync(process.execPath, [path.join(root, 'bin/modelab.mjs'), 'run', '--config', recipe(dir, arch), '--no-store', '--json', '--out', out, '--layout', 'torch'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, MODELAB_BACKEND: 'wasm' },
    });
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as RunDoc;
    // The endpoints are PyTorch's networks: not trained here, their losses and accuracies PyTorch's (float32).
    doc.endpoints.forEach((e, i) => {
      const want = expected.networks[`${arch}-${'ab'[i]}`]!;
      expect(e.training.steps).toBe(0);
      for (const split of ['train', 'test'] as const) {
        expect(Math.abs(e[split].loss - want[split].loss), `${e.name} ${split} loss ${e[split].loss} against PyTorch's ${want[split].loss}`).toBeLessThan(1e-5 * (1 + want[split].loss));
        expect(e[split].acc).toBeCloseTo(want[split].acc, 6);
      }
    });
    expect(doc.paths.map((p) => p.name)).toEqual(['linear', 'aligned-linear', 'theorem1']);
    // The summary says the endpoints were loaded (no seed, no training time).
    expect(runSummary(JSON.parse(r.stdout) as RunDocument)).toMatch(/^B +— +\S+ +\S+ +\S+ +\S+ +loaded +—$/m);
    expect(doc.paths.every((p) => p.points.length >= 5)).toBe(true);

    // PyTorch loads an endpoint, π(θ_B) (the matched end of the aligned line) and a Theorem 1 vertex, strictly.
    compareWithTorch(arch, doc.architecture.spec, [
      [path.join(out, 'torch', 'B.safetensors'), endpoint(out, 'B')],
      [path.join(out, 'torch', 'aligned-linear', 'v1.safetensors'), vertex(out, 'aligned-linear', 1)],
      [path.join(out, 'torch', 'theorem1', 'v3.safetensors'), vertex(out, 'theorem1', 3)],
    ], out);
  });
});

describe('a weights file that is not there', () => {
  it('is refused in one line, exit 2, before anything is stored', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'modelab-byo-missing-'));
    dirs.push(dir);
    const file = recipe(dir, 'mlp');
    const doc = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...doc, endpoints: [{ name: 'A', weights: 'gone.safetensors' }, { name: 'B' }] }));
    const db = path.join(dir, 'history.sqlite');
    const r = spawnSync(process.execPath, [path.join(root, 'bin/modelab.mjs'), 'run', '--config', file, '--db', db], { cwd: root, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/^modelab: recipe: endpoints\.0\.weights: weights file not found: .*gone\.safetensors$/);
    const list = spawnSync(process.execPath, [path.join(root, 'bin/modelab.mjs'), 'list', '--json', '--db', db], { cwd: root, encoding: 'utf8' });
    expect(list.stdout).not.toMatch(/byo-mlp/);
  });
});

describe('networks trained in ModeLab', () => {
  it('modelab export --layout torch writes them under the mirrored nn.Sequential’s names, loadable by PyTorch', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'modelab-byo-trained-'));
    dirs.push(dir);
    const file = recipe(dir, 'cnn');
    const doc = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...doc, training: { steps: 20, batchSize: 64 }, endpoints: [{ name: 'A' }, { name: 'B' }], paths: [{ type: 'linear', points: 3 }] }));
    const modelab = (args: string[]): { status: number | null; stdout: string; stderr: string } =>
      spawnSync(process.execPath, [path.join(root, 'bin/modelab.mjs'), ...args, '--db', path.join(dir, 'history.sqlite')], { cwd: root, encoding: 'utf8', env: { ...process.env, MODELAB_BACKEND: 'wasm' } });
    const run = modelab(['run', '--config', file, '--json']);
    expect(run.status, run.stderr).toBe(0);
    const { runId, architecture } = JSON.parse(run.stdout) as RunDoc & { runId: string };
    const out = path.join(dir, 'bundle');
    const exp = modelab(['export', runId, '--format', 'bundle', '--out', out, '--layout', 'torch']);
    expect(exp.status, exp.stderr).toBe(0);
    compareWithTorch('cnn', architecture.spec, [
      [path.join(out, 'torch', 'A.safetensors'), endpoint(out, 'A')],
      [path.join(out, 'torch', 'linear', 'v1.safetensors'), vertex(out, 'linear', 1)],
    ], out);
    // A layout is for bundles only, and only the known ones.
    expect(modelab(['export', runId, '--format', 'json', '--out', '-', '--layout', 'torch']).stderr).toMatch(/--layout applies to --format bundle/);
    expect(modelab(['export', runId, '--format', 'bundle', '--out', path.join(dir, 'b2'), '--layout', 'onnx']).stderr).toMatch(/--layout needs modelab or torch, got 'onnx'/);
  });
});
