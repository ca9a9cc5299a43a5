/**
 * Hidden-unit permutations of a network, derived from its ArchSpec (no hand-written "permutation spec" per model).
 * Hidden layer i (1 ≤ i ≤ d−1) has one permutation P_i of its h_i units (dense units or conv channels). A unit is, as
 * in nn/units.ts, its row of A_i (kernel slice and bias) plus its BatchNorm entries (γ, β and statistics), and its
 * column of A_{i+1} (next kernel's input slice, or across a flatten the dense rows {s·C + j} it owns). Max-pooling
 * acts per channel, so it commutes with channel permutations. Layer 1's columns (the input) and layer d's rows (the
 * logits) are never permuted, so a permuted network computes exactly the same function.
 *
 * Convention (Git Re-Basin's `perm[p]`): perm[i−1][j] = k means unit j of the permuted network is unit k of the
 * original, i.e. π(θ)'s tensors along a unit axis are θ's gathered at perm. Matching θ_B to θ_A yields perm such that
 * π(θ_B)'s unit j is the unit of θ_B matched with θ_A's unit j.
 */
import type { HostParams } from '../nn/params';
import type { ArchSpec } from '../nn/spec';
import { type LayerGeometry, geometry, hiddenWidths } from '../nn/units';
import type { Rng } from '../util/rng';

export type Permutation = Int32Array[];

/** One permutation group: hidden layer `layer` and every tensor with an axis over its units. */
export interface PermGroup {
  layer: number;
  size: number;
  /** Layer i's kernel, units on its row axis (the last axis). */
  kernel: { name: string; geo: LayerGeometry };
  /** Per-unit vectors of layer i: bias and BatchNorm tensors (those present). */
  vectors: string[];
  /** Layer i+1's kernel, units on its column axis. */
  next: { name: string; geo: LayerGeometry };
}

export function permutationGroups(spec: ArchSpec, params?: HostParams): PermGroup[] {
  const geo = geometry(spec);
  return hiddenWidths(spec).map((size, k) => {
    const i = k + 1;
    const candidates = [`A${i}.b`, `A${i}.bn.gamma`, `A${i}.bn.beta`, `A${i}.bn.mean`, `A${i}.bn.var`];
    const present = (n: string): boolean => (params ? n in params : n === `A${i}.b` ? geo[k]!.hasBias : spec.layers[k]!.batchNorm === true && n.includes('.bn.'));
    return { layer: i, size, kernel: { name: `A${i}.w`, geo: geo[k]! }, vectors: candidates.filter(present), next: { name: `A${i + 1}.w`, geo: geo[k + 1]! } };
  });
}

export function identityPermutation(spec: ArchSpec): Permutation {
  return hiddenWidths(spec).map((h) => Int32Array.from({ length: h }, (_, j) => j));
}

export function randomPermutation(spec: ArchSpec, rng: Rng): Permutation {
  return hiddenWidths(spec).map((h) => rng.permutation(h));
}

export function invertPermutation(p: Permutation): Permutation {
  return p.map((q) => {
    const inv = new Int32Array(q.length);
    q.forEach((k, j) => (inv[k] = j));
    return inv;
  });
}

/** Gathers a kernel with rows taken at rowPerm and column groups at colPerm (null: identity). */
export function permuteKernel(data: Float32Array, g: LayerGeometry, rowPerm: Int32Array | null, colPerm: Int32Array | null): Float32Array {
  const { rows: R, cols: G, block: P } = g;
  const out = new Float32Array(data.length);
  for (let p = 0; p < P; p++) {
    for (let c = 0; c < G; c++) {
      const src = (p * G + (colPerm ? colPerm[c]! : c)) * R;
      const dst = (p * G + c) * R;
      if (rowPerm) for (let r = 0; r < R; r++) out[dst + r] = data[src + rowPerm[r]!]!;
      else out.set(data.subarray(src, src + R), dst);
    }
  }
  return out;
}

/** π(θ): every tensor gathered along its unit axes. Tensors the permutation does not touch are shared. */
export function applyPermutation(spec: ArchSpec, theta: HostParams, perm: Permutation): HostParams {
  const groups = permutationGroups(spec, theta);
  if (perm.length !== groups.length || groups.some((g, k) => perm[k]!.length !== g.size)) {
    throw new Error(`the permutation has sizes [${perm.map((p) => p.length)}], the network's hidden widths are [${groups.map((g) => g.size)}]`);
  }
  const out: HostParams = { ...theta };
  const geo = geometry(spec);
  const d = spec.layers.length;
  for (let i = 1; i <= d; i++) {
    const name = `A${i}.w`;
    const t = theta[name]!;
    out[name] = { shape: [...t.shape], data: permuteKernel(t.data, geo[i - 1]!, i < d ? perm[i - 1]! : null, i > 1 ? perm[i - 2]! : null) };
  }
  groups.forEach((g, k) => {
    for (const v of g.vectors) {
      const t = theta[v]!;
      out[v] = { shape: [...t.shape], data: Float32Array.from(perm[k]!, (src) => t.data[src]!) };
    }
  });
  return out;
}

/** Fraction of units of each hidden layer that the permutation moves. */
export function movedFractions(perm: Permutation): number[] {
  return perm.map((p) => (p.length ? p.reduce((n, k, j) => n + (k === j ? 0 : 1), 0) / p.length : 0));
}
