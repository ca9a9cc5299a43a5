/**
 * Kept sets and DROP (Definition 1). K[i−1] lists the kept units of hidden layer i (sorted); the rest, N_i, are
 * dropped. r[i−1] is the factor applied to layer i's kept outputs (one r for all layers in the paper; per layer by its
 * footnote 1).
 */
import type { HostParams } from '../nn/params';
import type { ArchSpec } from '../nn/spec';
import { type LayerGeometry, UnitView, geometry } from '../nn/units';

export type Kept = number[][];

export function complement(k: number[], n: number): number[] {
  const s = new Set(k);
  const out: number[] = [];
  for (let j = 0; j < n; j++) if (!s.has(j)) out.push(j);
  return out;
}

/** Checks kept sets against the widths: sorted, distinct, in range, and (when `half`) |K_i| ≤ ⌊h_i/2⌋. */
export function checkKept(K: Kept, widths: number[], half: boolean): void {
  if (K.length !== widths.length) throw new Error(`kept sets for ${K.length} hidden layers, the network has ${widths.length}`);
  K.forEach((k, idx) => {
    const h = widths[idx]!;
    if (k.some((j, n) => j < 0 || j >= h || !Number.isInteger(j) || (n > 0 && j <= k[n - 1]!))) {
      throw new Error(`kept set of layer ${idx + 1} must be sorted distinct units in 0..${h - 1}`);
    }
    if (half && k.length > Math.floor(h / 2)) throw new Error(`layer ${idx + 1} keeps ${k.length} of ${h} units; at most ⌊h/2⌋ = ${Math.floor(h / 2)} allowed`);
  });
}

/** DROP(θ, K, r, k): θ_k of Definition 1 — hidden layers k … d−1 keep only K, rescaled by r; layers < k untouched. */
export function drop(spec: ArchSpec, theta: HostParams, K: Kept, r: number[], k: number, geo: LayerGeometry[] = geometry(spec)): HostParams {
  const d = geo.length;
  const v = new UnitView(spec, theta, geo);
  for (let j = k; j <= d - 1; j++) {
    const kept = K[j - 1]!;
    for (const u of complement(kept, geo[j - 1]!.rows)) {
      v.zeroRow(j, u);
      v.zeroColumn(j + 1, u);
    }
    // Columns of A_{j+1} for kept units scale by r_j. Rows of A_{j+1} were possibly zeroed above (when j+1 < d is
    // itself dropped), and zero rows stay zero under scaling, so scaling from θ's columns would resurrect them:
    // scale the current column instead.
    for (const u of kept) v.copyColumn(j + 1, v, u, u, r[j - 1]!);
  }
  return v.out;
}
