/**
 * A path in parameter space: vertices θ_0 … θ_m joined by straight segments, each labelled by kind:
 * - 'line': a plain straight segment (straight-line path, polygonal chains);
 * - 'a': top-layer move — only A_d changes (loss is convex along it);
 * - 'b': dead-row rewrite — only weights of units whose output is unused change (function constant);
 * - 'c': duplicate-column move — output weight moves between units with identical activations (function constant).
 * - 'curve': a Bézier curve whose control points are the path's vertices (one segment over all of them).
 * The path parameter t runs over [0, 1], each segment taking an equal share.
 */
import { type HostParams, combineParams, lerpParams } from '../nn/params';

export type SegmentKind = 'line' | 'a' | 'b' | 'c' | 'curve';

export interface Segment {
  from: number;
  to: number;
  kind: SegmentKind;
  /** Which step of which construction produced it, e.g. "Lemma 1 (A): S2". */
  label?: string;
}

export interface ParamPath {
  name: string;
  /** The construction: 'linear', 'theorem1', … */
  method: string;
  vertices: HostParams[];
  segments: Segment[];
}

/** The global t of the start of segment s. */
export function segmentStart(path: ParamPath, s: number): number {
  return s / path.segments.length;
}

/** Locates global t on the path: the segment and the local parameter within it. */
export function locate(path: ParamPath, t: number): { segment: number; local: number } {
  const S = path.segments.length;
  const x = Math.min(Math.max(t, 0), 1) * S;
  const segment = Math.min(Math.floor(x), S - 1);
  return { segment, local: x - segment };
}

/** Bernstein weights of a Bézier curve with n+1 control points at t. */
export function bernstein(n: number, t: number): number[] {
  const w: number[] = [];
  let binom = 1;
  for (let k = 0; k <= n; k++) {
    w.push(binom * t ** k * (1 - t) ** (n - k));
    binom = (binom * (n - k)) / (k + 1);
  }
  return w;
}

/** θ(t) on the path. */
export function pointAt(path: ParamPath, t: number): HostParams {
  const { segment, local } = locate(path, t);
  const seg = path.segments[segment]!;
  if (seg.kind === 'curve') {
    const ctrl = path.vertices.slice(seg.from, seg.to + 1);
    if (local === 0) return ctrl[0]!;
    if (local === 1) return ctrl[ctrl.length - 1]!;
    return combineParams(ctrl, bernstein(ctrl.length - 1, local));
  }
  const a = path.vertices[seg.from]!;
  const b = path.vertices[seg.to]!;
  if (local === 0) return a;
  if (local === 1) return b;
  return lerpParams(a, b, local);
}

/**
 * The t grid of a path: `points` evenly spaced values for a single segment, or every vertex plus
 * `perSegment − 1` interior points per segment for multi-segment paths.
 */
export function tGrid(path: ParamPath, opts: { points?: number; perSegment?: number }): number[] {
  const S = path.segments.length;
  if (S === 1) {
    const n = Math.max(2, opts.points ?? 61);
    return Array.from({ length: n }, (_, k) => k / (n - 1));
  }
  const per = Math.max(1, opts.perSegment ?? 4);
  const out: number[] = [];
  for (let s = 0; s < S; s++) for (let k = 0; k < per; k++) out.push((s + k / per) / S);
  out.push(1);
  return out;
}

export function linearPath(a: HostParams, b: HostParams, name = 'linear'): ParamPath {
  return { name, method: 'linear', vertices: [a, b], segments: [{ from: 0, to: 1, kind: 'line' }] };
}
