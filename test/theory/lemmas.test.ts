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
import { hiddenWidths } from '../../src-main/engine/nn/units';
import { Rng } from '../../src-main/engine/util/rng';
import { close, outputs, randomCnn, randomInputs, randomMlp, useCpu } from './helpers';

beforeAll(useCpu);

function randomKept(spec: ArchSpec, seed: number, fraction = 0.5): Kept {
  const rng = new Rng(seed);
  return hiddenWidths(spec).map((h) => rng.sample(h, Math.max(1, Math.floor(h * fraction))));
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

describe('noise-stable paths', () => {
  it('Algorithm 1 drops whole columns of A_2…A_d, scales the rest by 1/(1−p), leaves A_1 and the rows alone', async () => {
    const { algorithm1 } = await import('../../src-main/engine/theory/algorithm1');
    const { spec, theta } = randomMlp(4, true, 3, 40);
    const p = 0.75;
    const { theta1, kept } = algorithm1(spec, theta, p, new Rng(5));
    expect(paramsEqual({ w: theta1['A1.w']! }, { w: theta['A1.w']! })).toBe(true);
    const widths = hiddenWidths(spec);
    for (let i = 2; i <= 4; i++) {
      const rows = i === 4 ? 3 : widths[i - 1]!;
      const w = theta1[`A${i}.w`]!.data;
      const w0 = theta[`A${i}.w`]!.data;
      for (let j = 0; j < widths[i - 2]!; j++) {
        const keptJ = kept[i - 2]!.includes(j);
        for (let r = 0; r < rows; r++) expect(w[j * rows + r]).toBe(keptJ ? Math.fround(4 * w0[j * rows + r]!) : 0);
      }
      expect(paramsEqual({ b: theta1[`A${i}.b`]! }, { b: theta[`A${i}.b`]! })).toBe(true);
    }
    // About a fraction p of the columns is dropped (40-41 units per layer: well within 4 standard deviations).
    const dropped = kept.reduce((n, k, idx) => n + widths[idx]! - k.length, 0) / widths.reduce((a, b) => a + b, 0);
    expect(Math.abs(dropped - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / 120));
  });

  it.each([['MLP', randomMlp(4, true, 8, 10)], ['CNN', randomCnn(3, false, 9)]] as const)('Theorem 2 on %s: 10 segments, exact ends, Lemma 2 part function-preserving', async (_k, net) => {
    const { algorithm1 } = await import('../../src-main/engine/theory/algorithm1');
    const { theorem2Path } = await import('../../src-main/engine/theory/noise-stable-paths');
    const { spec, theta } = net;
    const other = (_k === 'MLP' ? randomMlp(4, true, 18, 10) : randomCnn(3, false, 19)).theta;
    const rng = new Rng(1);
    const half = (r: { kept: Kept }) => r.kept.every((k, idx) => k.length <= Math.floor(hiddenWidths(spec)[idx]! / 2));
    let A1 = algorithm1(spec, theta, 0.75, rng);
    while (!half(A1)) A1 = algorithm1(spec, theta, 0.75, rng);
    let B1 = algorithm1(spec, other, 0.75, rng);
    while (!half(B1)) B1 = algorithm1(spec, other, 0.75, rng);
    const path = theorem2Path(spec, theta, A1, other, B1);
    expect(path.segments).toHaveLength(10);
    expect(path.segments[0]!.kind).toBe('line');
    expect(path.segments[9]!.kind).toBe('line');
    expect(paramsEqual(path.vertices[1]!, A1.theta1)).toBe(true);
    expect(paramsEqual(path.vertices[9]!, B1.theta1)).toBe(true);
    expect(paramsEqual(path.vertices[10]!, other)).toBe(true);
    const x = randomInputs(spec, 12, 1);
    checkSegments(spec, { ...path, segments: path.segments.slice(1, 9) }, x);
    x.dispose();
  });

  it('Theorem 3: 13 segments through the embedded narrow network, which computes f_θ*', async () => {
    const { algorithm1 } = await import('../../src-main/engine/theory/algorithm1');
    const { embedNarrow, withHiddenWidths } = await import('../../src-main/engine/theory/embed');
    const { narrowSlots, theorem3Path } = await import('../../src-main/engine/theory/noise-stable-paths');
    const { initParams } = await import('../../src-main/engine/nn/params');
    for (const net of [randomMlp(4, true, 2, 12), randomCnn(4, true, 3)]) {
      const { spec, theta } = net;
      const other = (spec.layers[0]!.type === 'dense' ? randomMlp(4, true, 22, 12) : randomCnn(4, true, 23)).theta;
      const widths = hiddenWidths(spec);
      const narrowW = widths.map(() => 2);
      const nSpec = withHiddenWidths(spec, narrowW);
      const star = initParams(nSpec, 4);
      const rng = new Rng(9);
      const room = (r: { kept: Kept }) => r.kept.every((k, idx) => widths[idx]! - k.length >= 2);
      let A1 = algorithm1(spec, theta, 0.5, rng);
      while (!room(A1)) A1 = algorithm1(spec, theta, 0.5, rng);
      let B1 = algorithm1(spec, other, 0.5, rng);
      while (!room(B1)) B1 = algorithm1(spec, other, 0.5, rng);
      const E = narrowSlots(widths, B1.kept, narrowW);
      const emb = embedNarrow(spec, theta, nSpec, star, E);
      const x = randomInputs(spec, 10, 4);
      expect(close(outputs(nSpec, star, x), outputs(spec, emb, x))).toBe(true);
      const path = theorem3Path(spec, theta, A1, other, B1, emb, E);
      expect(path.segments).toHaveLength(13);
      expect(paramsEqual(path.vertices[13]!, other)).toBe(true);
      expect(paramsEqual(path.vertices[12]!, B1.theta1)).toBe(true);
      // The vertex after Lemma 2's (a) step computes θ*.
      expect(path.vertices.slice(1, 13).some((v) => close(outputs(spec, v, x), outputs(nSpec, star, x)))).toBe(true);
      checkSegments(spec, { ...path, segments: path.segments.slice(1, 12) }, x);
      x.dispose();
    }
  });
});
