/**
 * The paper's unit convention on our tensors (arXiv:1906.06247 §2 "Neural network"; conv nets, §6: filters are
 * units). Hidden unit j of layer i is
 * - "row j of A_i": its input weights (dense: column j of the [in, out] kernel; conv: output channel j of the
 *   [kh, kw, in, out] kernel) together with its bias b_i[j] — a bias is part of its unit's row;
 * - "column j of A_{i+1}": its output weights (dense after dense: row j of the next kernel; conv after conv: input
 *   channel j of the next kernel; dense after the flatten: the rows {s·C + j : s < H·W} it owns in NHWC order).
 * Every weight tensor is addressed as (p, col, row) ↦ flat index (p·G + col)·R + row, where R is the layer's unit
 * count, G the previous layer's unit count (input features or channels for layer 1) and p runs over a block of P
 * positions (kh·kw kernel taps for conv; H·W spatial positions across a flatten; 1 for dense after dense).
 */
import type { HostParams } from './params';
import { type ArchSpec, layerOutputShapes } from './spec';

export interface LayerGeometry {
  /** Layer number i, 1-based. */
  layer: number;
  /** Units of this layer (rows): h_i. */
  rows: number;
  /** Units of the previous layer (column groups): h_{i−1}, or the input features/channels. */
  cols: number;
  /** Elements per (row, column) pair. */
  block: number;
  hasBias: boolean;
}

export function geometry(spec: ArchSpec): LayerGeometry[] {
  const shapes = layerOutputShapes(spec);
  return spec.layers.map((layer, k) => {
    const i = k + 1;
    const rows = layer.type === 'conv' ? layer.filters : layer.units;
    if (layer.type === 'conv') {
      const cols = k === 0 ? spec.input[2] : (shapes[k - 1]![2] as number);
      return { layer: i, rows, cols, block: layer.kernel * layer.kernel, hasBias: layer.bias };
    }
    if (k === 0) return { layer: i, rows, cols: spec.input[0] * spec.input[1] * spec.input[2], block: 1, hasBias: layer.bias };
    const prev = shapes[k - 1]!;
    if (prev.length === 3) return { layer: i, rows, cols: prev[2]!, block: prev[0]! * prev[1]!, hasBias: layer.bias };
    return { layer: i, rows, cols: prev[0]!, block: 1, hasBias: layer.bias };
  });
}

/** Widths h_1 … h_{d−1} of the hidden layers. */
export function hiddenWidths(spec: ArchSpec): number[] {
  return geometry(spec)
    .slice(0, -1)
    .map((g) => g.rows);
}

/**
 * View of one network's weights in the paper's row/column terms. Writes are copy-on-write per tensor: a tensor is
 * cloned the first time this view writes to it, so path vertices share every tensor a step leaves alone. All writes
 * go through Math.fround (the tensors are float32), so r·θ computed here is bit-identical wherever it is computed.
 */
export class UnitView {
  readonly geo: LayerGeometry[];
  private readonly owned = new Set<string>();

  /** `params` is not modified: the view writes into its own `out` (sharing untouched tensors with `params`). */
  constructor(
    readonly spec: ArchSpec,
    params: HostParams,
    geo?: LayerGeometry[],
  ) {
    this.geo = geo ?? geometry(spec);
    this.out = { ...params };
  }

  readonly out: HostParams;

  private read(name: string): Float32Array {
    return this.out[name]!.data;
  }

  private write(name: string): Float32Array {
    if (!this.owned.has(name)) {
      const t = this.out[name]!;
      this.out[name] = { shape: [...t.shape], data: new Float32Array(t.data) };
      this.owned.add(name);
    }
    return this.out[name]!.data;
  }

  private w(i: number): Float32Array {
    return this.write(`A${i}.w`);
  }

  private b(i: number): Float32Array | null {
    return this.geo[i - 1]!.hasBias ? this.write(`A${i}.b`) : null;
  }

  private rw(i: number): Float32Array {
    return this.read(`A${i}.w`);
  }

  private rb(i: number): Float32Array | null {
    return this.geo[i - 1]!.hasBias ? this.read(`A${i}.b`) : null;
  }

  private g(i: number): LayerGeometry {
    const g = this.geo[i - 1];
    if (!g) throw new RangeError(`no layer ${i}`);
    return g;
  }

  /** Sets row `row` of A_i to zero, bias included. */
  zeroRow(i: number, row: number): void {
    const { rows, cols, block } = this.g(i);
    const w = this.w(i);
    for (let p = 0; p < block; p++) for (let c = 0; c < cols; c++) w[(p * cols + c) * rows + row] = 0;
    const b = this.b(i);
    if (b) b[row] = 0;
  }

  /** Copies row `src` of layer i in `from` (another view of the same architecture, or this one) into row `dst`. */
  copyRow(i: number, from: UnitView, src: number, dst: number, scale = 1): void {
    const { rows, cols, block } = this.g(i);
    const w = this.w(i);
    const fw = from.rw(i);
    for (let p = 0; p < block; p++) {
      for (let c = 0; c < cols; c++) {
        const base = (p * cols + c) * rows;
        w[base + dst] = Math.fround(scale * fw[base + src]!);
      }
    }
    const b = this.b(i);
    if (b) b[dst] = from.rb(i)![src]!;
  }

  /** Sets entry block A_i[row, col] := scale · from.A_i[srcRow, srcCol]. */
  setEntry(i: number, row: number, col: number, from: UnitView, srcRow: number, srcCol: number, scale = 1): void {
    const { rows, cols, block } = this.g(i);
    const w = this.w(i);
    const fw = from.rw(i);
    for (let p = 0; p < block; p++) w[(p * cols + col) * rows + row] = Math.fround(scale * fw[(p * cols + srcCol) * rows + srcRow]!);
  }

  /** Sets the bias of unit `row` of layer i from another view (no-op without bias). */
  setBias(i: number, row: number, from: UnitView, srcRow: number): void {
    if (!this.geo[i - 1]!.hasBias) return;
    const b = this.b(i);
    if (b) b[row] = from.rb(i)![srcRow]!;
  }

  /** Sets column `col` of A_i (every row) to zero. */
  zeroColumn(i: number, col: number): void {
    const { rows, cols, block } = this.g(i);
    const w = this.w(i);
    for (let p = 0; p < block; p++) w.fill(0, (p * cols + col) * rows, (p * cols + col + 1) * rows);
  }

  /** Column `dst` of A_i := scale · column `src` of `from`'s A_i (every row). */
  copyColumn(i: number, from: UnitView, src: number, dst: number, scale = 1): void {
    const { rows, cols, block } = this.g(i);
    const w = this.w(i);
    const fw = from.rw(i);
    for (let p = 0; p < block; p++) {
      const s = (p * cols + src) * rows;
      const d = (p * cols + dst) * rows;
      for (let r = 0; r < rows; r++) w[d + r] = Math.fround(scale * fw[s + r]!);
    }
  }

  /** Whether column `col` of A_i is entirely zero (unit `col` of layer i−1 is unused by layer i). */
  columnIsZero(i: number, col: number): boolean {
    const { rows, cols, block } = this.g(i);
    const w = this.rw(i);
    for (let p = 0; p < block; p++) {
      const s = (p * cols + col) * rows;
      for (let r = 0; r < rows; r++) if (w[s + r] !== 0) return false;
    }
    return true;
  }

  /** Euclidean norm of column `col` of A_i (a unit's output weights). */
  columnNorm(i: number, col: number): number {
    const { rows, cols, block } = this.g(i);
    const w = this.rw(i);
    let s = 0;
    for (let p = 0; p < block; p++) {
      const base = (p * cols + col) * rows;
      for (let r = 0; r < rows; r++) s += w[base + r]! ** 2;
    }
    return Math.sqrt(s);
  }

  /** Whether column `col` of A_i has a non-zero entry in any of the given rows. */
  columnFeedsAny(i: number, col: number, rowList: number[]): boolean {
    const { rows, cols, block } = this.g(i);
    const w = this.rw(i);
    for (let p = 0; p < block; p++) {
      const s = (p * cols + col) * rows;
      for (const r of rowList) if (w[s + r] !== 0) return true;
    }
    return false;
  }

  /** Whether row `row` of A_i (with its bias) is entirely zero. */
  rowIsZero(i: number, row: number): boolean {
    const { rows, cols, block } = this.g(i);
    const w = this.rw(i);
    for (let p = 0; p < block; p++) for (let c = 0; c < cols; c++) if (w[(p * cols + c) * rows + row] !== 0) return false;
    const b = this.rb(i);
    return !b || b[row] === 0;
  }
}
