import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { type HostParams, lerpParams, paramsEqual } from '../../src-main/engine/nn/params';
import type { ArchSpec } from '../../src-main/engine/nn/spec';
import { PathBuilder } from '../../src-main/engine/paths/builder';
import type { ParamPath } from '../../src-main/engine/paths/path';
import { type Kept, drop } from '../../src-main/engine/theory/kept';
import { lemma1Path } from '../../src-main/engine/theory/lemma1';
import { lemma2Steps } from '../../src-main/engine/theory/lemma2';
import { lemma4Steps } from '../../src-main/engine/theory/lemma4';
import { theorem1Path } from '../../src-main/engine/theory/theorem1';
import { hiddenWidths } from '../../src-main/engine/theory/units';
import { Rng } from '../../src-main/engine/util/rng';
import { maxAbs, outputs, randomCnn, randomInputs, randomMlp, useCpu } from './helpers';

beforeAll(useCpu);

function randomKept(spec: ArchSpec, seed: number, fraction = 0.5): Kept {
  const rng = new Rng(seed);
  return hiddenWidths(spec).map((h) => rng.sample(h, Math.max(1, Math.floor(h * fraction))));
}

/** Relative tolerance for "the same function" in float32. */
function close(a: Float32Array, b: Float32Array): boolean {
  const scale = Math.max(1, ...Array.from(a, Math.abs));
  return maxAbs(a, b) <= 2e-5 * scale;
}

function checkSegments(spec: ArchSpec, path: ParamPath, x: tf.Tensor2D): void {
  const d = spec.layers.length;
  for (const s of path.segments) {
    const from = path.vertices[s.from]!;
    const to = path.vertices[s.to]!;
    if (s.kind === 'a') {
      // (a) moves only the top layer: every other tensor is bit-identical.
      for (const k of Object.keys(from)) if (!k.startsWith(`A${d}.`)) expect(paramsEqual({ [k]: from[k]! }, { [k]: to[k]! }), `${s.label}: ${k}`).toBe(true);
    } else {
      // (b)/(c) leave the function unchanged all along the segment.
      const y0 = outputs(spec, from, x);
      for (const t of [0.37, 1]) expect(close(y0, outputs(spec, lerpParams(from, to, t), x)), `${s.label} at t=${t}`).toBe(true);
    }
  }
}

const nets = (d: number, seed: number) => [
  { kind: 'MLP', bias: false, ...randomMlp(d, false, seed) },
  { kind: 'MLP+bias', bias: true, ...randomMlp(d, true, seed) },
  { kind: 'CNN', bias: false, ...randomCnn(d, false, seed) },
  { kind: 'CNN+bias', bias: true, ...randomCnn(d, true, seed) },
];

describe.each([3, 4, 5])('depth d = %i', (d) => {
  it.each(nets(d, 10 + d).map((n) => [n.kind, n] as const))('Lemma 1 on %s: 4d−6 segments, exact ends, vertex functions f_θ or f_θk', (_k, net) => {
    const { spec, theta } = net;
    const K = randomKept(spec, d);
    const r = Array(d - 1).fill(2);
    const path = lemma1Path(spec, theta, K, r, 'L1');
    expect(path.segments).toHaveLength(4 * d - 6);
    expect(paramsEqual(path.vertices[0]!, theta)).toBe(true);
    expect(paramsEqual(path.vertices.at(-1)!, drop(spec, theta, K, r, 1))).toBe(true);
    expect(path.segments.map((s) => s.kind).join('')).toBe(`a${'baba'.repeat(d - 2)}b`);
    const x = randomInputs(spec, 16, d);
    checkSegments(spec, path, x);
    const fns = [theta, ...Array.from({ length: d - 1 }, (_, k) => drop(spec, theta, K, r, k + 1))].map((t) => outputs(spec, t, x));
    for (const v of path.vertices) {
      const y = outputs(spec, v, x);
      expect(fns.some((f) => close(f, y))).toBe(true);
    }
    // θ_{d−1}, …, θ_1 are all visited.
    for (let k = 1; k < d; k++) expect(path.vertices.some((v) => close(outputs(spec, v, x), fns[k]!))).toBe(true);
    x.dispose();
  });

  it.each(nets(d, 20 + d).map((n) => [n.kind, n] as const))('Lemma 2 on %s: 8 segments from θ^A_1 to θ^B_1 exactly', (_k, net) => {
    const { spec, theta } = net;
    const other = (net.kind.startsWith('MLP') ? randomMlp(d, net.bias, 77 + d) : randomCnn(d, net.bias, 77 + d)).theta;
    const KA = randomKept(spec, 5 * d);
    const KB = randomKept(spec, 7 * d);
    const r = Array(d - 1).fill(2);
    const A1 = drop(spec, theta, KA, r, 1);
    const B1 = drop(spec, other, KB, r, 1);
    const b = new PathBuilder(spec, A1);
    lemma2Steps(b, KA, B1, KB, 'L2');
    const path = b.build('l2', 'lemma2');
    expect(path.segments).toHaveLength(8);
    expect(paramsEqual(path.vertices.at(-1)!, B1)).toBe(true);
    const x = randomInputs(spec, 16, d);
    checkSegments(spec, path, x);
    x.dispose();
  });

  it.each(nets(d, 30 + d).map((n) => [n.kind, n] as const))('Theorem 1 on %s: 8d−4 segments, θ_A to θ_B exactly', (_k, net) => {
    const { spec, theta } = net;
    const other = (net.kind.startsWith('MLP') ? randomMlp(d, net.bias, 91 + d) : randomCnn(d, net.bias, 91 + d)).theta;
    const path = theorem1Path(spec, theta, randomKept(spec, 3), other, randomKept(spec, 4), Array(d - 1).fill(2));
    expect(path.segments).toHaveLength(8 * d - 4);
    expect(paramsEqual(path.vertices[0]!, theta)).toBe(true);
    expect(paramsEqual(path.vertices.at(-1)!, other)).toBe(true);
    path.segments.forEach((s, i) => {
      expect(s.from).toBe(i);
      expect(s.to).toBe(i + 1);
    });
    const x = randomInputs(spec, 12, d);
    checkSegments(spec, path, x);
    x.dispose();
  });
});

describe('Lemma 4', () => {
  it('moves the non-zero units onto an arbitrary permutation in 5 segments at constant output', () => {
    for (const { spec, theta } of [randomMlp(4, true, 5, 8), randomCnn(4, false, 6)]) {
      const K = randomKept(spec, 11);
      const A1: HostParams = drop(spec, theta, K, [1.5, 2, 2.5], 1);
      const rng = new Rng(3);
      // Targets: a random injective map of each layer's kept units into its units, overlapping the current ones.
      const T = K.map((k, idx) => rng.sample(hiddenWidths(spec)[idx]!, k.length).sort(() => rng.next() - 0.5));
      const b = new PathBuilder(spec, A1);
      lemma4Steps(b, K, T, 'L4');
      const path = b.build('l4', 'lemma4');
      expect(path.segments.map((s) => s.kind).join('')).toBe('bcbcb');
      const x = randomInputs(spec, 16, 2);
      checkSegments(spec, path, x);
      expect(close(outputs(spec, A1, x), outputs(spec, path.vertices.at(-1)!, x))).toBe(true);
      x.dispose();
    }
  });

  it('refuses to move more than half of a layer', () => {
    const { spec, theta } = randomMlp(3, false, 1, 6);
    const b = new PathBuilder(spec, theta);
    expect(() => lemma4Steps(b, [[0, 1, 2, 3], [0, 1]], [[2, 3, 4, 5], [1, 0]], 'L4')).toThrow(/at most/);
  });
});
