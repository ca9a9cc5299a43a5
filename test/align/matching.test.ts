import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { activationMatching, weightMatching } from '../../src-main/engine/align/matching';
import { applyPermutation, identityPermutation, invertPermutation, randomPermutation } from '../../src-main/engine/align/permutation';
import { barrierOf } from '../../src-main/engine/eval/barrier';
import { DeviceSplit } from '../../src-main/engine/eval/evaluate';
import { initParams, maxAbsDiff, paramsEqual } from '../../src-main/engine/nn/params';
import type { ArchSpec } from '../../src-main/engine/nn/spec';
import { evaluatePathPoints } from '../../src-main/engine/paths/evaluate-path';
import { linearPath, tGrid } from '../../src-main/engine/paths/path';
import { resolveArchitecture } from '../../src-main/engine/recipe/resolve';
import { Rng } from '../../src-main/engine/util/rng';
import { close, outputs, randomCnn, randomInputs, randomMlp, useCpu } from '../theory/helpers';

beforeAll(useCpu);

function randomSplit(spec: ArchSpec, n: number, seed: number, classes = 3): DeviceSplit {
  const f = spec.input[0] * spec.input[1] * spec.input[2];
  const rng = new Rng(seed);
  return new DeviceSplit({ x: Float32Array.from({ length: n * f }, () => rng.normal()), y: Int32Array.from({ length: n }, () => rng.int(classes)), n }, f, 50);
}

/** A BN MLP with non-trivial BN parameters and statistics. */
function bnMlp(seed: number) {
  const spec = resolveArchitecture({ type: 'mlp', hidden: [12, 10], bias: true, dropout: 0, batchNorm: true }, [1, 1, 5], 3);
  const theta = initParams(spec, seed);
  const rng = new Rng(seed + 7);
  for (const [k, v] of Object.entries(theta)) {
    if (k.endsWith('.b') || k.endsWith('.beta') || k.endsWith('.mean')) v.data.forEach((_, i) => (v.data[i] = rng.normal() * 0.3));
    if (k.endsWith('.gamma') || k.endsWith('.var')) v.data.forEach((_, i) => (v.data[i] = 0.5 + rng.next()));
  }
  return { spec, theta };
}

const nets = [
  { name: 'MLP with bias', ...randomMlp(4, true, 11, 16) },
  { name: 'CNN with pooling and a flatten', ...randomCnn(4, true, 12) },
  { name: 'MLP with BatchNorm', ...bnMlp(13) },
];

describe.each(nets)('$name', ({ spec, theta }) => {
  it('a permuted network computes the same function, and the inverse permutation restores it bit for bit', () => {
    const perm = randomPermutation(spec, new Rng(3));
    const p = applyPermutation(spec, theta, perm);
    expect(paramsEqual(p, theta)).toBe(false);
    const x = randomInputs(spec, 20, 4);
    expect(close(outputs(spec, theta, x), outputs(spec, p, x))).toBe(true);
    x.dispose();
    expect(paramsEqual(applyPermutation(spec, p, invertPermutation(perm)), theta)).toBe(true);
    expect(paramsEqual(applyPermutation(spec, theta, identityPermutation(spec)), theta)).toBe(true);
  });

  it('weight matching recovers a random permutation exactly: equal weights, zero barrier', async () => {
    const B = applyPermutation(spec, theta, randomPermutation(spec, new Rng(21)));
    const m = await weightMatching(spec, theta, B, { maxIterations: 100, seed: 1 });
    const aligned = applyPermutation(spec, B, m.perm);
    expect(paramsEqual(aligned, theta)).toBe(true);
    expect(m.converged).toBe(true);
    expect(m.objective.after).toBeGreaterThan(m.objective.before);
    const split = randomSplit(spec, 200, 5);
    const naive = await evaluatePathPoints(spec, linearPath(theta, B), tGrid(linearPath(theta, B), { points: 11 }), { train: split, test: split });
    const after = await evaluatePathPoints(spec, linearPath(theta, aligned), tGrid(linearPath(theta, aligned), { points: 11 }), { train: split, test: split });
    split.dispose();
    expect(barrierOf(after).train.lossOverInterpolation.value).toBe(0);
    // The naive line between the two orderings is not the constant path: its loss moves.
    const losses = naive.map((q) => q.train.loss);
    expect(Math.max(...losses) - Math.min(...losses)).toBeGreaterThan(1e-4);
  });

  it('activation matching recovers a permuted copy exactly', async () => {
    const B = applyPermutation(spec, theta, randomPermutation(spec, new Rng(22)));
    const xs = [randomInputs(spec, 150, 8), randomInputs(spec, 150, 9)];
    const m = await activationMatching(spec, theta, B, xs);
    xs.forEach((x) => x.dispose());
    expect(maxAbsDiff(applyPermutation(spec, B, m.perm), theta)).toBe(0);
    // Matched units correlate perfectly (a unit dead on these samples has correlation 0 with everything).
    m.objective.perLayer!.forEach((l) => {
      expect(l.after).toBeGreaterThan(0.9);
      expect(l.after).toBeGreaterThanOrEqual(l.before);
    });
  });
});

describe('alignment of two different networks', () => {
  it('weight matching never lowers ⟨θ_A, π(θ_B)⟩ and leaves the function of θ_B unchanged', async () => {
    const { spec, theta: A } = randomMlp(3, true, 31, 24);
    const B = initParams(spec, 32);
    const m = await weightMatching(spec, A, B, { maxIterations: 50, seed: 2 });
    expect(m.objective.after).toBeGreaterThanOrEqual(m.objective.before);
    const x = randomInputs(spec, 16, 1);
    expect(close(outputs(spec, B, x), outputs(spec, applyPermutation(spec, B, m.perm), x))).toBe(true);
    x.dispose();
    expect(tf.memory().numTensors).toBeGreaterThanOrEqual(0);
  });
});
