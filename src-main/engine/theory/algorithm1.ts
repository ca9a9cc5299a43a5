/**
 * Algorithm 1 (arXiv:1906.06247 §4): for every layer i = 2 … d and every column j of A_i (unit j of layer i−1), δ_j is
 * 0 with probability p and 1/(1−p) otherwise; column j is multiplied by δ_j. A_1 is left alone (its columns are
 * inputs).
 * Rows of dropped units are not zeroed: the units still compute, but nothing uses their outputs.
 */
import type { HostParams } from '../nn/params';
import type { ArchSpec } from '../nn/spec';
import { Rng } from '../util/rng';
import type { Kept } from './kept';
import { UnitView, geometry } from '../nn/units';

export interface Algorithm1Result {
  theta1: HostParams;
  /** Units whose output columns survive (δ ≠ 0), per hidden layer. */
  kept: Kept;
}

export function algorithm1(spec: ArchSpec, theta: HostParams, p: number, rng: Rng): Algorithm1Result {
  const geo = geometry(spec);
  const v = new UnitView(spec, theta, geo);
  const scale = 1 / (1 - p);
  const kept: Kept = [];
  for (let i = 2; i <= geo.length; i++) {
    const k: number[] = [];
    for (let j = 0; j < geo[i - 2]!.rows; j++) {
      if (rng.next() < p) v.zeroColumn(i, j);
      else {
        v.copyColumn(i, v, j, j, scale);
        k.push(j);
      }
    }
    kept.push(k);
  }
  return { theta1: v.out, kept };
}
