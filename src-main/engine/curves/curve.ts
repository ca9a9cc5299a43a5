/**
 * Parametrised curves between two fixed endpoints (Garipov et al. 2018), as ModeLab paths.
 * - Bézier curve of order n: θ(t) = Σ_k b_{k,n}(t)·θ_k, Bernstein weights b, control points θ_0 = θ_A, θ_n = θ_B and
 *   n − 1 free control points; the path is one 'curve' segment over its n + 1 vertices (its inner vertices are not
 *   points of the path).
 * - Polygonal chain with m bends: vertices θ_A, β_1 … β_m, θ_B joined by m + 1 'line' segments, each taking an equal
 *   share of t (segment s covers [s/(m+1), (s+1)/(m+1)], as every ModeLab path and Garipov's PolyChain).
 * Both are θ(t) = Σ_k c_k(t)·θ_k over their vertices; `curveCoefficients` gives c(t), the one formula the path
 * evaluator (paths/path.ts `pointAt`), curve training and the plane share.
 */
import { type HostParams, lerpParams } from '../nn/params';
import { type ParamPath, bernstein } from '../paths/path';

export type CurveKind = 'bezier' | 'polychain';

export interface CurveShape {
  kind: CurveKind;
  /** Free control points: order − 1 for a Bézier curve, the number of bends for a polygonal chain. */
  free: number;
}

/** Coefficients c_0 … c_{free+1} of θ(t) over the vertices [θ_A, free…, θ_B]; they sum to 1. */
export function curveCoefficients(shape: CurveShape, t: number): number[] {
  const n = shape.free + 1;
  const tc = Math.min(Math.max(t, 0), 1);
  if (shape.kind === 'bezier') return bernstein(n, tc);
  const c = new Array<number>(n + 1).fill(0);
  const x = tc * n;
  const s = Math.min(Math.floor(x), n - 1);
  const u = x - s;
  c[s] = 1 - u;
  c[s + 1] = u;
  return c;
}

/** Free control points on the straight line θ_A → θ_B, at t = k/(free+1): the curve starts as the straight line
 *  (exactly so for the polygonal chain; for the Bézier curve by degree elevation, with t preserved). */
export function straightControls(shape: CurveShape, A: HostParams, B: HostParams): HostParams[] {
  return Array.from({ length: shape.free }, (_, k) => lerpParams(A, B, (k + 1) / (shape.free + 1)));
}

/** The path of a curve through its vertices [θ_A, ...controls, θ_B]. */
export function curvePath(shape: CurveShape, A: HostParams, controls: HostParams[], B: HostParams, name: string, method: string = shape.kind): ParamPath {
  if (controls.length !== shape.free) throw new Error(`a ${shape.kind} with ${shape.free} free control points got ${controls.length}`);
  const vertices = [A, ...controls, B];
  const segments =
    shape.kind === 'bezier'
      ? [{ from: 0, to: vertices.length - 1, kind: 'curve' as const, label: `Bézier order ${shape.free + 1}` }]
      : vertices.slice(1).map((_, s) => ({ from: s, to: s + 1, kind: 'line' as const, label: `polygonal chain segment ${s + 1}` }));
  return { name, method, vertices, segments };
}

/** The t of each vertex that lies on the path (Bézier: only the ends; polygonal chain: every vertex). */
export function vertexTs(shape: CurveShape): (number | null)[] {
  const n = shape.free + 1;
  return Array.from({ length: n + 1 }, (_, k) => (shape.kind === 'polychain' || k === 0 || k === n ? k / n : null));
}
