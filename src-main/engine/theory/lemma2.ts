/**
 * Lemma 2 (arXiv:1906.06247 §3, proof in App. A): connect θ (non-zero units K_i) to θ′ (non-zero units K′_i) in 8
 * segments with L ≤ max{L(θ), L(θ′)}:
 *   (b) embed θ′'s units in free slots Q_i ⊆ [h_i] \ K_i (rows outside K_i rewritten; they are unused)
 *   (a) switch the top layer from θ's units to the embedded θ′ (convex in A_d: between f_θ and f_θ′)
 *   (b) zero θ's rows K_i (now unused)
 *   Lemma 4 (5 segments) moves the embedded units from Q_i back to K′_i, and writes θ′'s rows for its unused units,
 *   so the last vertex is θ′ exactly.
 * Requires |K′_i| ≤ h_i − |K_i| (room to embed) and |K′_i| ≤ ⌊h_i/2⌋ (Lemma 4). θ's units outside K_i must have
 * zero output columns; θ′ must have zero entries in the columns of its unused units (Lemma 1 and Algorithm 1
 * outputs both do). The "first three steps" alone (Theorem 3's tail) are `lemma2Steps(…, { permute: false })`, used
 * when K′_i ∩ K_i = ∅ so that θ′ can be embedded in place.
 */
import type { HostParams } from '../nn/params';
import type { PathBuilder } from '../paths/builder';
import { type Kept, complement } from './kept';
import { lemma4Steps } from './lemma4';

export function lemma2Steps(
  b: PathBuilder,
  K: Kept,
  thetaPrime: HostParams,
  Kp: Kept,
  tag: string,
  opts: { permute: boolean } = { permute: true },
): void {
  const geo = b.geo;
  const d = geo.length;
  const widths = geo.slice(0, -1).map((g) => g.rows);
  const tp = b.view(thetaPrime);
  // Embedding slots: in place when that is possible without the permutation, else the first free units.
  const tau = Kp.map((kp, idx) => {
    const free = complement(K[idx]!, widths[idx]!);
    if (!opts.permute) {
      const clash = kp.filter((u) => K[idx]!.includes(u));
      if (clash.length) throw new Error(`${tag}: layer ${idx + 1}: units ${clash.slice(0, 5).join(', ')} are used by both networks`);
      return new Map(kp.map((u) => [u, u] as const));
    }
    if (kp.length > free.length) throw new Error(`${tag}: layer ${idx + 1} has ${free.length} free units for ${kp.length} units to embed`);
    return new Map(kp.map((u, a) => [u, free[a]!] as const));
  });
  const colOf = (i: number, c: number): number => (i === 1 ? c : tau[i - 2]!.get(c)!);
  const colsOf = (i: number): number[] => (i === 1 ? Array.from({ length: geo[0]!.cols }, (_, c) => c) : Kp[i - 2]!);

  b.step('b', `${tag}: (b) embed θ′ in the free units`, (next) => {
    for (let i = 1; i <= d - 1; i++) {
      for (const u of complement(K[i - 1]!, widths[i - 1]!)) next.zeroRow(i, u);
      for (const a of Kp[i - 1]!) {
        const s = tau[i - 1]!.get(a)!;
        for (const c of colsOf(i)) next.setEntry(i, s, colOf(i, c), tp, a, c);
        next.setBias(i, s, tp, a);
      }
    }
  });
  b.step('a', `${tag}: (a) A_${d} from θ to the embedded θ′`, (next) => {
    for (let u = 0; u < widths[d - 2]!; u++) next.zeroColumn(d, u);
    for (const c of Kp[d - 2]!) next.copyColumn(d, tp, c, colOf(d, c));
    for (let o = 0; o < geo[d - 1]!.rows; o++) next.setBias(d, o, tp, o);
  });
  // Without the permutation θ′ already sits in place: every other row becomes θ′'s own (zero, or the unused rows an
  // Algorithm 1 output keeps), so the last vertex is θ′ exactly.
  b.step('b', `${tag}: (b) ${opts.permute ? "zero θ's rows" : "replace θ's rows by θ′'s"}`, (next) => {
    for (let i = 1; i <= d - 1; i++) {
      if (opts.permute) for (const u of K[i - 1]!) next.zeroRow(i, u);
      else for (const u of complement(Kp[i - 1]!, widths[i - 1]!)) next.copyRow(i, tp, u, u);
    }
  });
  if (opts.permute) {
    lemma4Steps(b, Kp.map((kp, idx) => kp.map((u) => tau[idx]!.get(u)!)), Kp, `${tag}: Lemma 4`, tp);
  }
}
