import { z } from 'zod';

/**
 * Upper bounds of the recipe's numbers (docs/recipes.md, "Bounds"): generous for research, they stop values no run
 * could mean. Sizes that take memory (widths, samples, points, batch) are bounded here only against overflow; the
 * resource estimate (recipe/estimate.ts) sets them against the machine's memory before a run starts.
 */
export const RECIPE_LIMITS = {
  /** Any count or size. */
  size: 1e12,
  /** Training epochs (fractional allowed) and checkpoint intervals. */
  epochs: 10_000,
  /** Training steps. */
  steps: 100_000_000,
  /** Repetitions that cost time, not memory: kept sets tried, Algorithm 1 tries, matching sweeps, noise iterations,
   *  narrow-network trials, histogram bins. */
  tries: 10_000,
  /** Kernel, stride and pool sizes. */
  kernel: 1024,
  /** Layers, endpoints, paths and the entries of any list. */
  items: 1000,
  /** Cells of a study (axis values × trials): each is a whole run. */
  cells: 10_000,
} as const;

/** A count or size within the bounds. */
export const boundedSize = z.number().int().positive().max(RECIPE_LIMITS.size);
/** A number of repetitions within the bounds. */
export const boundedTries = z.number().int().positive().max(RECIPE_LIMITS.tries);
