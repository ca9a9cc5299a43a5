/**
 * Compaction: the same function with its dead hidden units removed. A unit is dead when nothing downstream uses it
 * (all its output weights into live units are zero, judged top-down) or when it always outputs zero (zero row and
 * bias). The compact network computes exactly the function of the full one (up to float summation order) at a
 * fraction of the cost: the dropped networks θ_k of Definition 1 shrink to their kept units.
 */
import type { HostParams } from './params';
import { type ArchSpec, forwardMacs, hasBatchNorm } from './spec';
import { type LayerGeometry, UnitView, geometry } from './units';

/** Live units of each hidden layer (sorted). */
export function liveUnits(spec: ArchSpec, theta: HostParams, geo: LayerGeometry[] = geometry(spec)): number[][] {
  const d = geo.length;
  const v = new UnitView(spec, theta, geo);
  const live: number[][] = Array.from({ length: d - 1 }, () => []);
  let liveAbove: number[] = Array.from({ length: geo[d - 1]!.rows }, (_, o) => o);
  for (let i = d - 1; i >= 1; i--) {
    const rows = liveAbove;
    for (let u = 0; u < geo[i - 1]!.rows; u++) {
      if (v.rowIsZero(i, u)) continue;
      if (v.columnFeedsAny(i + 1, u, rows)) live[i - 1]!.push(u);
    }
    liveAbove = live[i - 1]!;
  }
  return live;
}

export interface Compacted {
  spec: ArchSpec;
  params: HostParams;
  live: number[][];
}

/** The compact network: hidden layer i keeps `live[i−1]` (at least one unit, so shapes stay valid). */
export function compact(spec: ArchSpec, theta: HostParams, live?: number[][]): Compacted {
  const geo = geometry(spec);
  // A BN unit with a zero row still outputs β: no unit is provably dead, so a BN network is its own compact form.
  if (hasBatchNorm(spec)) return { spec, params: theta, live: geo.slice(0, -1).map((g) => Array.from({ length: g.rows }, (_, u) => u)) };
  const keep = (live ?? liveUnits(spec, theta, geo)).map((l) => (l.length ? l : [0]));
  const d = geo.length;
  const layers = spec.layers.map((l, k) =>
    k === d - 1 ? l : l.type === 'conv' ? { ...l, filters: keep[k]!.length } : { ...l, units: keep[k]!.length },
  );
  const cspec: ArchSpec = { input: spec.input, layers };
  const params: HostParams = {};
  geo.forEach((g, k) => {
    const i = k + 1;
    const rowsKeep = i === d ? Array.from({ length: g.rows }, (_, o) => o) : keep[k]!;
    const colsKeep = i === 1 ? Array.from({ length: g.cols }, (_, c) => c) : keep[k - 1]!;
    const src = theta[`A${i}.w`]!.data;
    const R = rowsKeep.length;
    const C = colsKeep.length;
    const w = new Float32Array(g.block * C * R);
    for (let p = 0; p < g.block; p++) {
      for (let c = 0; c < C; c++) {
        const sBase = (p * g.cols + colsKeep[c]!) * g.rows;
        const dBase = (p * C + c) * R;
        for (let r = 0; r < R; r++) w[dBase + r] = src[sBase + rowsKeep[r]!]!;
      }
    }
    const shape = theta[`A${i}.w`]!.shape.slice();
    shape[shape.length - 1] = R;
    shape[shape.length - 2] = spec.layers[k]!.type === 'conv' ? C : g.block * C;
    params[`A${i}.w`] = { shape, data: w };
    if (g.hasBias) {
      const b = theta[`A${i}.b`]!.data;
      params[`A${i}.b`] = { shape: [R], data: Float32Array.from(rowsKeep, (r) => b[r]!) };
    }
  });
  return { spec: cspec, params, live: keep };
}

/** Forward MACs of the compact network relative to the full one. */
export function relativeCost(full: ArchSpec, c: ArchSpec): number {
  return forwardMacs(c) / forwardMacs(full);
}
