/**
 * Lemma 4 (arXiv:1906.06247 App. A): move the non-zero hidden units U_i of a network to target slots T_i (any injective
 * map) in 5 segments at constant loss, all hidden layers at once. Needs |U_i| ≤ ⌊h_i/2⌋.
 *   P1 (b) copy rows U_i[a] into free slots π′_i(a)            P2 (c) move columns U_i[a] → π′_i(a)
 *   P3 (b) copy rows π′_i(a) into T_i[a] where they differ      P4 (c) move columns π′_i(a) → T_i[a]
 *   P5 (b) set every row outside T_i to `finalRows`' row (zero by default)
 * π′_i(a) = T_i[a] when that slot is free, else a free slot outside T_i. Column moves act on whole columns, copied
 * rows included, so duplicated units stay bit-identical throughout and all layers can move at once.
 */
import type { PathBuilder } from '../paths/builder';
import { complement } from './kept';
import type { UnitView } from '../nn/units';

export function lemma4Steps(b: PathBuilder, U: number[][], T: number[][], tag: string, finalRows?: UnitView): void {
  const d = b.geo.length;
  const widths = b.geo.slice(0, -1).map((g) => g.rows);
  const piPrime = U.map((u, idx) => {
    const h = widths[idx]!;
    const t = T[idx]!;
    if (t.length !== u.length) throw new Error(`layer ${idx + 1}: ${u.length} units to move onto ${t.length} targets`);
    if (u.length > Math.floor(h / 2)) throw new Error(`layer ${idx + 1}: Lemma 4 moves at most ⌊h/2⌋ = ${Math.floor(h / 2)} units, got ${u.length}`);
    const used = new Set(u);
    const targets = new Set(t);
    const spare = complement(u, h).filter((j) => !targets.has(j));
    return t.map((target) => (used.has(target) ? spare.shift()! : target));
  });
  const hidden = Array.from({ length: d - 1 }, (_, k) => k + 1);
  b.step('b', `${tag}: P1 (b) copy rows into free slots`, (next, prev) => {
    for (const i of hidden) U[i - 1]!.forEach((u, a) => next.copyRow(i, prev, u, piPrime[i - 1]![a]!));
  });
  b.step('c', `${tag}: P2 (c) move columns onto the copies`, (next, prev) => {
    for (const i of hidden) {
      U[i - 1]!.forEach((u, a) => {
        next.copyColumn(i + 1, prev, u, piPrime[i - 1]![a]!);
        next.zeroColumn(i + 1, u);
      });
    }
  });
  const moving = (i: number) => T[i - 1]!.map((t, a) => [piPrime[i - 1]![a]!, t] as const).filter(([p, t]) => p !== t);
  b.step('b', `${tag}: P3 (b) copy rows into their targets`, (next, prev) => {
    for (const i of hidden) for (const [p, t] of moving(i)) next.copyRow(i, prev, p, t);
  });
  b.step('c', `${tag}: P4 (c) move columns onto the targets`, (next, prev) => {
    for (const i of hidden) {
      for (const [p, t] of moving(i)) {
        next.copyColumn(i + 1, prev, p, t);
        next.zeroColumn(i + 1, p);
      }
    }
  });
  b.step('b', `${tag}: P5 (b) clear the rows outside the targets`, (next) => {
    for (const i of hidden) {
      for (const u of complement([...T[i - 1]!].sort((x, y) => x - y), widths[i - 1]!)) {
        if (finalRows) next.copyRow(i, finalRows, u, u);
        else next.zeroRow(i, u);
      }
    }
  });
}
