/** Initialisation schemes (nn/init.ts): each kernel's spread is the documented formula (seeded draws: deterministic). */
import { describe, expect, it } from 'vitest';
import { INIT_SCHEMES, type InitScheme } from '../../src-main/engine/nn/init';
import { initParams } from '../../src-main/engine/nn/params';
import { resolveArchitecture } from '../../src-main/engine/recipe/resolve';

// conv 3×3 3→64, conv 3×3 64→32 (pooled to 4×4), dense 512→128, dense 128→10.
const spec = resolveArchitecture(
  { type: 'cnn', bias: false, conv: [{ filters: 64, kernel: 3, stride: 1, padding: 'same', pool: 2, dropout: 0 }, { filters: 32, kernel: 3, stride: 1, padding: 'same', pool: 2, dropout: 0 }], dense: [{ units: 128, dropout: 0 }] },
  [16, 16, 3],
  10,
);

function std(xs: Float32Array): number {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length);
}

/** The documented std of each kernel A1..A4 under each scheme (uniform on ±a has std a/√3). */
const expected: Record<InitScheme, number[]> = {
  'he-fan-in': [Math.sqrt(2 / 27), Math.sqrt(2 / 576), Math.sqrt(2 / 512), Math.sqrt(2 / 128)],
  'he-fan-out-conv': [Math.sqrt(2 / (9 * 64)), Math.sqrt(2 / (9 * 32)), 1 / Math.sqrt(512) / Math.sqrt(3), 1 / Math.sqrt(128) / Math.sqrt(3)],
  'glorot-uniform': [Math.sqrt(6 / (27 + 576)) / Math.sqrt(3), Math.sqrt(6 / (576 + 288)) / Math.sqrt(3), Math.sqrt(6 / 640) / Math.sqrt(3), Math.sqrt(6 / 138) / Math.sqrt(3)],
};

describe('initialisation schemes', () => {
  it.each(INIT_SCHEMES.map((s) => [s]))('%s draws every kernel with the documented spread', (scheme) => {
    const theta = initParams(spec, 5, scheme);
    expected[scheme].forEach((s, k) => expect(std(theta[`A${k + 1}.w`]!.data) / s).toBeCloseTo(1, 1));
  });

  it('the default is he-fan-in, and uniform schemes stay inside their limits', () => {
    expect(initParams(spec, 5)).toEqual(initParams(spec, 5, 'he-fan-in'));
    const g = initParams(spec, 5, 'glorot-uniform')['A3.w']!.data;
    expect(Math.max(...g.map(Math.abs))).toBeLessThanOrEqual(Math.sqrt(6 / 640));
  });
});
