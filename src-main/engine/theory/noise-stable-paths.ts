/**
 * The noise-stable paths (arXiv:1906.06247 §4, Theorems 2 and 3; proofs in App. B). Both start by dropping out each
 * network with Algorithm 1 and walking the straight segment θ → θ_1 (Lemma 3), then connect the dropped networks with
 * Lemma 2:
 *   Theorem 2: [θ_A → θ^A_1] + Lemma 2(θ^A_1 → θ^B_1) + [θ^B_1 → θ_B]                          10 segments, p = 3/4
 *   Theorem 3: [θ_A → θ^A_1] + Lemma 2(θ^A_1 → θ*) + first 3 steps of Lemma 2(θ* → θ^B_1) + [θ^B_1 → θ_B]   13 segments
 * where θ* is a trained narrow network embedded in units that θ^B_1 dropped (so θ^B_1 can be written in place).
 */
import type { HostParams } from '../nn/params';
import { assertNoBatchNorm } from '../nn/batchnorm';
import { paramsEqual } from '../nn/params';
import type { ArchSpec } from '../nn/spec';
import { PathBuilder } from '../paths/builder';
import type { ParamPath } from '../paths/path';
import type { Kept } from './kept';
import { complement } from './kept';
import { lemma2Steps } from './lemma2';

export interface DroppedOut {
  theta1: HostParams;
  kept: Kept;
}

export function theorem2Path(spec: ArchSpec, thetaA: HostParams, A1: DroppedOut, thetaB: HostParams, B1: DroppedOut, name = 'theorem2'): ParamPath {
  assertNoBatchNorm(spec, 'The Theorem 2 path');
  const b = new PathBuilder(spec, thetaA);
  b.lineTo(A1.theta1, 'Lemma 3 (A): straight segment to the Algorithm 1 dropout');
  lemma2Steps(b, A1.kept, B1.theta1, B1.kept, 'Lemma 2');
  closeWithLine(b, B1.theta1, thetaB);
  return b.build(name, 'theorem2');
}

/** E_i: the first h*_i units that θ^B_1 dropped (so that E_i ∩ K^B_i = ∅). */
export function narrowSlots(widths: number[], KB: Kept, narrowWidths: number[]): number[][] {
  return KB.map((k, idx) => {
    const free = complement(k, widths[idx]!);
    if (free.length < narrowWidths[idx]!) throw new Error(`layer ${idx + 1}: θ^B_1 dropped ${free.length} units, the narrow network needs ${narrowWidths[idx]}`);
    return free.slice(0, narrowWidths[idx]!);
  });
}

export function theorem3Path(
  spec: ArchSpec,
  thetaA: HostParams,
  A1: DroppedOut,
  thetaB: HostParams,
  B1: DroppedOut,
  narrowEmbedded: HostParams,
  E: number[][],
  name = 'theorem3',
): ParamPath {
  assertNoBatchNorm(spec, 'The Theorem 3 path');
  const b = new PathBuilder(spec, thetaA);
  b.lineTo(A1.theta1, 'Lemma 3 (A): straight segment to the Algorithm 1 dropout');
  lemma2Steps(b, A1.kept, narrowEmbedded, E, 'Lemma 2 (θ^A_1 → θ*)');
  lemma2Steps(b, E, B1.theta1, B1.kept, 'Lemma 2 (θ* → θ^B_1), first 3 steps', { permute: false });
  closeWithLine(b, B1.theta1, thetaB);
  return b.build(name, 'theorem3');
}

/** Lemma 2 must have landed exactly on θ^B_1; then the last straight segment returns to θ_B. */
function closeWithLine(b: PathBuilder, B1: HostParams, thetaB: HostParams): void {
  if (!paramsEqual(b.current, B1)) throw new Error('Lemma 2 did not end exactly at θ^B_1 (construction bug)');
  b.lineTo(thetaB, 'Lemma 3 (B), reversed: straight segment from the Algorithm 1 dropout');
}
