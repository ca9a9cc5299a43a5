/** Builds a path vertex by vertex: each step starts from the current vertex, edits a copy-on-write view of it, and
 *  appends the result with a labelled segment. Vertices share every tensor a step leaves alone. */
import type { HostParams } from '../nn/params';
import type { ArchSpec } from '../nn/spec';
import { type LayerGeometry, UnitView, geometry } from '../nn/units';
import type { ParamPath, Segment, SegmentKind } from './path';

export class PathBuilder {
  readonly vertices: HostParams[];
  readonly segments: Segment[] = [];
  readonly geo: LayerGeometry[];

  constructor(
    readonly spec: ArchSpec,
    start: HostParams,
  ) {
    this.vertices = [start];
    this.geo = geometry(spec);
  }

  get current(): HostParams {
    return this.vertices[this.vertices.length - 1]!;
  }

  /** A view of any network of this architecture (read-only use: it never writes to the params it is given). */
  view(params: HostParams): UnitView {
    return new UnitView(this.spec, params, this.geo);
  }

  /** Appends one segment: `edit(next, prev)` turns a copy of the current vertex into the next one. */
  step(kind: SegmentKind, label: string, edit: (next: UnitView, prev: UnitView) => void): void {
    const prev = this.view(this.current);
    const next = this.view(this.current);
    edit(next, prev);
    this.vertices.push(next.out);
    this.segments.push({ from: this.vertices.length - 2, to: this.vertices.length - 1, kind, label });
  }

  /** Appends a plain straight segment to the given vertex. */
  lineTo(params: HostParams, label: string): void {
    this.vertices.push(params);
    this.segments.push({ from: this.vertices.length - 2, to: this.vertices.length - 1, kind: 'line', label });
  }

  /** Appends another path that starts where this one ends (its first vertex is dropped). */
  append(path: { vertices: HostParams[]; segments: Segment[] }): void {
    const offset = this.vertices.length - 1;
    this.vertices.push(...path.vertices.slice(1));
    for (const s of path.segments) this.segments.push({ ...s, from: s.from + offset, to: s.to + offset });
  }

  build(name: string, method: string): ParamPath {
    return { name, method, vertices: this.vertices, segments: this.segments };
  }
}

/** The same path walked backwards. */
export function reversePath<T extends { vertices: HostParams[]; segments: Segment[] }>(p: T): T {
  const m = p.vertices.length - 1;
  return {
    ...p,
    vertices: [...p.vertices].reverse(),
    segments: [...p.segments].reverse().map((s) => ({ ...s, from: m - s.to, to: m - s.from })),
  };
}
