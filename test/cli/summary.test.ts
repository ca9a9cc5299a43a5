/** The CLI's check line (cli/summary.ts): the three states, and a bound shown apart from what it bounds. */
import { describe, expect, it } from 'vitest';
import type { PathCheck } from '../../src-main/engine/experiment/result';
import { checkLine } from '../../src-main/cli/summary';

const base: PathCheck = {
  state: 'pass',
  pass: true,
  endpoints: { startsAtA: true, endsAtB: true },
  segmentCount: { expected: 10, actual: 10, pass: true },
  functionPreserving: { segments: 7, maxAbsDiff: 0, maxRelDiff: 0, tolerance: 1e-4, pass: true },
  topLayerOnly: { segments: 1, violations: [], affineMaxRelDiff: 0, tolerance: 1e-4, pass: true },
  lossBound: { maxTrainLoss: 0.171812, t: 0.5, bound: 0.171839, epsilon: 0, formula: 'max(L(θ^A_1), L(θ^B_1))', pass: true, over: 'segments 2–9 (Lemma 2)' },
};

describe('CLI check line', () => {
  it('PASS, with the bound and the maximum told apart', () => {
    const line = checkLine(base);
    expect(line.startsWith('PASS, ')).toBe(true);
    expect(line).toContain('max train loss on segments 2–9 (Lemma 2) 0.17181 ≤ bound 0.17184: yes');
  });

  it('WARNING when an Algorithm 1 segment is over the tolerance, with the Õ(ε) scale', () => {
    const line = checkLine({
      ...base,
      state: 'warning',
      pass: false,
      algorithm1Segments: {
        tolerance: 0.1,
        segments: [{ endpoint: 'A', loss: 0.05, maxLoss: 0.9, t: 0.05, excess: 0.85, withinTolerance: false, theoryScale: 12.5 }],
        theory: 'Õ(ε)',
        state: 'warning',
      },
    });
    expect(line.startsWith('WARNING, ')).toBe(true);
    expect(line).toContain('Algorithm 1 segment A: excess 0.85 ≤ tolerance 0.1: no — WARNING (Õ(ε) scale 12.5000)');
  });

  it('FAIL for a document from before the state field whose check failed', () => {
    const { state: _dropped, ...old } = base;
    expect(checkLine({ ...old, pass: false }).startsWith('FAIL, ')).toBe(true);
  });
});
