/** distinctDigits (engine/util/format-compare.ts): a check's two numbers keep their difference visible. */
import { describe, expect, it } from 'vitest';
import { distinctDigits } from '../../src-main/engine/util/format-compare';

describe('distinctDigits', () => {
  it('adds digits until different numbers print differently', () => {
    expect(distinctDigits(0.171812, 0.171839)).toEqual(['0.17181', '0.17184']);
    expect(distinctDigits(0.9108001, 0.9108002)).toEqual(['0.9108001', '0.9108002']);
    expect(distinctDigits(0.5, 0.25)).toEqual(['0.5', '0.25']);
  });

  it('prints equal numbers alike, with the minimum digits, and non-finite ones as they are', () => {
    expect(distinctDigits(1 / 3, 1 / 3)).toEqual(['0.3333', '0.3333']);
    expect(distinctDigits(Number.NaN, 0.1)).toEqual(['NaN', '0.1']);
    expect(distinctDigits(1.5, Infinity, 2)).toEqual(['1.5', 'Infinity']);
  });
});
