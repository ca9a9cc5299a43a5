/**
 * The study recipe: many runs as one (docs/studies.md). A base recipe, axes that each set one recipe field to each of
 * a list of values, and independent trials of every combination:
 *
 *   {
 *     "name": "width-sweep",                          optional (default: the base recipe's name)
 *     "description": "…",                             optional
 *     "base": { "preset": "smoke" }                   a run preset, or { "config": { …a whole run recipe… } }
 *     "set": [ { "field": "endpoints",                optional: fields set on the base recipe (the preset stays
 *                "value": [{ "name": "A" }] } ],       the one home of what the study does not change)
 *     "axes": [ { "field": "architecture.hidden",     a recipe field: dotted keys, list entries as [i]
 *                 "values": [[16, 16], [64, 64]] } ],  what it takes, in this order
 *     "trials": 3,                                    independent seeds of every combination (default 1)
 *     "seed": 1,                                      the study's seed; trial seeds derive from it (default 1)
 *     "quick": { "description": "…", "trials": 1,     optional: what `--quick` runs instead — fewer trials, other
 *                "axes": [ … ], "set": [ { "field": "training.epochs", "value": 2 } ] }   axes, fields set on the base
 *   }
 *
 * Cells are the cartesian product of the axes' values (first axis slowest) × trials (fastest): cell i is combination
 * ⌊i / trials⌋, trial i mod trials. Each cell is an ordinary run (engine/study/expand.ts builds and validates them).
 * Unknown keys are errors; counts are bounded like the run recipe's (util/limits.ts).
 */
import { z } from 'zod';
import { RECIPE_LIMITS, boundedTries } from '../util/limits';

/** A preset or study name, as the preset files are named. */
export const presetName = z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only');

const fieldPathText = z.string().min(1).max(200).describe('A recipe field: dotted keys, list entries as [i] (e.g. paths[2].p).');

const axisSchema = z
  .object({
    field: fieldPathText,
    values: z.array(z.unknown()).min(1).max(RECIPE_LIMITS.items).describe('The values the field takes, one combination each.'),
  })
  .strict();

const fieldSetting = z.object({ field: fieldPathText, value: z.unknown() }).strict();

export const studyBaseSchema = z.union([
  z.object({ preset: presetName.describe('A run preset (modelab presets).') }).strict(),
  z.object({ config: z.record(z.string(), z.unknown()).describe('A whole run recipe (docs/recipes.md).') }).strict(),
]);

export const studyRecipeSchema = z
  .object({
    name: z.string().min(1).max(200).optional().describe('Name of the study (default: the base recipe’s name).'),
    description: z.string().max(10_000).optional().describe('What the study is for.'),
    base: studyBaseSchema,
    set: z.array(fieldSetting).max(RECIPE_LIMITS.items).default([]).describe('Fields set on the base recipe before the axes (and before --quick’s).'),
    axes: z.array(axisSchema).max(16).default([]).describe('Fields swept: the cells are every combination of their values.'),
    trials: boundedTries.default(1).describe('Independent trials (seeds) of every combination.'),
    seed: z.number().int().nonnegative().max(0xffffffff).default(1).describe('The study’s seed: trial t runs with seed deriveSeed(seed, "trial t").'),
    quick: z
      .object({
        description: z.string().min(1).max(10_000).describe('What --quick reduces, in words.'),
        trials: boundedTries.optional(),
        axes: z.array(axisSchema).max(16).optional(),
        set: z.array(fieldSetting).max(RECIPE_LIMITS.items).default([]).describe('Fields set on the base recipe.'),
      })
      .strict()
      .optional()
      .describe('What `modelab study run --quick` runs instead.'),
  })
  .strict();

export type StudyRecipe = z.infer<typeof studyRecipeSchema>;
export type StudyRecipeInput = z.input<typeof studyRecipeSchema>;
export type StudyAxis = z.infer<typeof axisSchema>;
