/**
 * Lemma 1 (arXiv:1906.06247 §3, proof in App. A; merged variant): a path from θ to its dropout version
 * θ_1 = DROP(θ, K, r, 1) through every θ_k, in 4d − 6 segments alternating (a) top-layer moves and (b) dead-row
 * rewrites:
 *   (a) A_d → [r·L_d | 0]                                             (now computes f_{θ_{d−1}})
 *   for k = d−1 … 2:
 *     (b) S1: zero stale rows N_i (i = k…d−1) and build a copy chain in copy slots P_i ⊆ N_i: layer-k copies read
 *         the kept units of layer k−1 scaled by r; layer-i copies (i > k) read the layer-(i−1) copies
 *     (a) S2: move A_d's output weights onto the copy chain           (computes f_{θ_{k−1}})
 *     (b) S3: rewrite the original rows K_k of A_k to read only K_{k−1}, scaled by r (the original chain is unused)
 *     (a) S4: move A_d's output weights back (both chains are identical: the function is constant)
 *   (b) zero the rows N_i of A_1 … A_{d−1}                            (= θ_1 exactly)
 * Every (b) segment only rewrites rows of units whose outputs are unused, so the function is constant; every (a)
 * segment moves only A_d, along which the loss is convex. Hence L ≤ L(θ) + ε on the whole path.
 */
import type { HostParams } from '../nn/params';
import type { ArchSpec } from '../nn/spec';
import { PathBuilder } from '../paths/builder';
import type { ParamPath } from '../paths/path';
import { type Kept, checkKept, complement } from './kept';

export function lemma1Path(spec: ArchSpec, theta: HostParams, K: Kept, r: number[], tag: string): ParamPath {
  const b = new PathBuilder(spec, theta);
  const geo = b.geo;
  const d = geo.length;
  const widths = geo.slice(0, -1).map((g) => g.rows);
  checkKept(K, widths, true);
  const th = b.view(theta);
  const N = K.map((k, idx) => complement(k, widths[idx]!));
  // Copy slots: σ_i(K_i[a]) = P_i[a], the first |K_i| dropped units.
  const sigma = K.map((k, idx) => new Map(k.map((u, a) => [u, N[idx]![a]!] as const)));
  const Kd = K[d - 2]!;
  const rd = r[d - 2]!;
  const topTo = (slot: (u: number) => number) => (next: import('../nn/units').UnitView) => {
    for (let u = 0; u < widths[d - 2]!; u++) next.zeroColumn(d, u);
    for (const u of Kd) next.copyColumn(d, th, u, slot(u), rd);
  };

  b.step('a', `${tag}: (a) A_${d} → [r·L_${d} | 0]`, topTo((u) => u));
  for (let k = d - 1; k >= 2; k--) {
    b.step('b', `${tag} k=${k}: S1 (b) copy chain in layers ${k}…${d - 1}`, (next) => {
      for (let i = k; i <= d - 1; i++) for (const u of N[i - 1]!) next.zeroRow(i, u);
      for (const a of K[k - 1]!) {
        const s = sigma[k - 1]!.get(a)!;
        for (const c of K[k - 2]!) next.setEntry(k, s, c, th, a, c, r[k - 2]!);
        next.setBias(k, s, th, a);
      }
      for (let i = k + 1; i <= d - 1; i++) {
        for (const a of K[i - 1]!) {
          const s = sigma[i - 1]!.get(a)!;
          for (const c of K[i - 2]!) next.setEntry(i, s, sigma[i - 2]!.get(c)!, th, a, c, r[i - 2]!);
          next.setBias(i, s, th, a);
        }
      }
    });
    b.step('a', `${tag} k=${k}: S2 (a) A_${d} onto the copy chain`, topTo((u) => sigma[d - 2]!.get(u)!));
    b.step('b', `${tag} k=${k}: S3 (b) rows K_${k} of A_${k} read only K_${k - 1}, scaled`, (next) => {
      for (const a of K[k - 1]!) {
        next.zeroRow(k, a);
        for (const c of K[k - 2]!) next.setEntry(k, a, c, th, a, c, r[k - 2]!);
        next.setBias(k, a, th, a);
      }
    });
    b.step('a', `${tag} k=${k}: S4 (a) A_${d} back onto the original chain`, topTo((u) => u));
  }
  b.step('b', `${tag}: (b) zero the dropped rows of A_1…A_${d - 1}`, (next) => {
    for (let i = 1; i <= d - 1; i++) for (const u of N[i - 1]!) next.zeroRow(i, u);
  });
  return b.build(tag, 'lemma1');
}
