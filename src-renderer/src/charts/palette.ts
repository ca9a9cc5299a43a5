/**
 * Colours. Categorical colours are Paul Tol's colour-blind-safe "bright" and "muted" schemes; a run keeps one
 * colour for good: the colour stored with it (`modelab colour`), else one chosen from its id's hash, so the same run
 * has the same colour in every chart and every session.
 */
export const PALETTE = ['#4477aa', '#ee6677', '#228833', '#ccbb44', '#66ccee', '#aa3377', '#332288', '#999933', '#cc6677', '#117733', '#882255', '#44aa99'];

/** Darker variants for the dark theme's contrast where a palette colour is too pale. */
export function pathColour(index: number): string {
  return PALETTE[((index % PALETTE.length) + PALETTE.length) % PALETTE.length]!;
}

/** FNV-1a over the id's characters: stable across sessions and machines. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function runColour(run: { id: string; colour?: string | null }): string {
  if (run.colour) return run.colour;
  return PALETTE[hashString(run.id) % PALETTE.length]!;
}

/** Segment kinds of a path, with what each means (the legend of the path chart's shading). */
export const SEGMENT_KINDS = {
  a: { label: 'a: top-layer move', colour: '#4477aa', meaning: 'only the top layer A_d changes; the logits are affine in t' },
  b: { label: 'b: dead-row rewrite', colour: '#ccbb44', meaning: 'only weights of units whose output is unused change; same function' },
  c: { label: 'c: duplicate-column move', colour: '#228833', meaning: 'output weight moves between units with identical activations; same function' },
  curve: { label: 'curve: Bézier segment', colour: '#aa3377', meaning: 'a Bézier curve over its control points' },
  line: { label: 'line: straight segment', colour: '#999999', meaning: 'a plain straight segment' },
} as const;

export type ShadedKind = keyof typeof SEGMENT_KINDS;

/** Viridis, for surfaces (perceptually uniform, colour-blind safe). */
export const VIRIDIS = ['#440154', '#482878', '#3e4989', '#31688e', '#26828e', '#1f9e89', '#35b779', '#6ece58', '#b5de2b', '#fde725'];

/** A colour mixed towards black (k > 0) or white (k < 0) by |k| (0 … 1): tells the paths of one run apart. */
export function tint(hex: string, k: number): string {
  const m = /^#([0-9a-f]{6})$/i.exec(hex);
  if (!m) return hex;
  const n = parseInt(m[1]!, 16);
  const target = k > 0 ? 0 : 255;
  const a = Math.min(1, Math.abs(k));
  const ch = (shift: number): string => Math.round(((n >> shift) & 255) * (1 - a) + target * a).toString(16).padStart(2, '0');
  return `#${ch(16)}${ch(8)}${ch(0)}`;
}
