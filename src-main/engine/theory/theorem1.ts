/**
 * Theorem 1 (arXiv:1906.06247 §3, proof in App. A): between two ε-dropout-stable networks, the path
 *   θ_A → θ^A_1 (Lemma 1, 4d−6 segments) → θ^B_1 (Lemma 2, 8) → θ_B (Lemma 1 reversed, 4d−6)
 * of 8d − 4 segments, on which L ≤ max{L(θ_A), L(θ_B)} + ε, with ε = max over both networks and all i of
 * L(θ_i) − L(θ) for the kept sets the path uses.
 */
import type { HostParams } from '../nn/params';
import { assertNoBatchNorm } from '../nn/batchnorm';
import type { ArchSpec } from '../nn/spec';
import { PathBuilder, reversePath } from '../paths/builder';
import type { ParamPath } from '../paths/path';
import { paramsEqual } from '../nn/params';
import type { Kept } from './kept';
import { lemma1Path } from './lemma1';
import { lemma2Steps } from './lemma2';

export function theorem1Path(
  spec: ArchSpec,
  thetaA: HostParams,
  KA: Kept,
  thetaB: HostParams,
  KB: Kept,
  r: number[],
  name = 'theorem1',
): ParamPath {
  assertNoBatchNorm(spec, 'The Theorem 1 path');
  const pA = lemma1Path(spec, thetaA, KA, r, 'Lemma 1 (A)');
  const pB = lemma1Path(spec, thetaB, KB, r, 'Lemma 1 (B)');
  const b = new PathBuilder(spec, thetaA);
  b.append(pA);
  lemma2Steps(b, KA, pB.vertices[pB.vertices.length - 1]!, KB, 'Lemma 2');
  const thetaB1 = pB.vertices[pB.vertices.length - 1]!;
  if (!paramsEqual(b.current, thetaB1)) throw new Error('Lemma 2 did not end exactly at θ^B_1 (construction bug)');
  b.append(reversePath(pB));
  return b.build(name, 'theorem1');
}
