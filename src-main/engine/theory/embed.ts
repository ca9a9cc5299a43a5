/**
 * Embeds a narrow network θ* (hidden widths h*_i ≤ h_i, same layer structure) into the full width: narrow unit a of
 * hidden layer i becomes unit E_i[a]; every other weight is zero. The embedded network computes f_θ* exactly.
 */
import { type HostParams, zerosLike } from '../nn/params';
import type { ArchSpec } from '../nn/spec';
import { geometry } from '../nn/units';

export function embedNarrow(spec: ArchSpec, fullLike: HostParams, narrowSpec: ArchSpec, narrow: HostParams, E: number[][]): HostParams {
  const G = geometry(spec);
  const g = geometry(narrowSpec);
  const out = zerosLike(fullLike);
  const d = G.length;
  for (let i = 1; i <= d; i++) {
    const [Gi, gi] = [G[i - 1]!, g[i - 1]!];
    if (Gi.block !== gi.block) throw new Error(`layer ${i}: the narrow network's block size differs`);
    const rowMap = i === d ? Array.from({ length: gi.rows }, (_, o) => o) : E[i - 1]!;
    const colMap = i === 1 ? Array.from({ length: gi.cols }, (_, c) => c) : E[i - 2]!;
    const src = narrow[`A${i}.w`]!.data;
    const dst = out[`A${i}.w`]!.data;
    for (let p = 0; p < gi.block; p++) {
      for (let c = 0; c < gi.cols; c++) {
        for (let r = 0; r < gi.rows; r++) dst[(p * Gi.cols + colMap[c]!) * Gi.rows + rowMap[r]!] = src[(p * gi.cols + c) * gi.rows + r]!;
      }
    }
    if (gi.hasBias) {
      const sb = narrow[`A${i}.b`]!.data;
      const db = out[`A${i}.b`]!.data;
      rowMap.forEach((r, a) => (db[r] = sb[a]!));
    }
  }
  return out;
}

/** The same architecture with hidden widths replaced (units for dense layers, filters for conv layers). */
export function withHiddenWidths(spec: ArchSpec, widths: number[]): ArchSpec {
  const d = spec.layers.length;
  return {
    input: spec.input,
    layers: spec.layers.map((l, k) => (k === d - 1 ? l : l.type === 'conv' ? { ...l, filters: widths[k]! } : { ...l, units: widths[k]! })),
  };
}
