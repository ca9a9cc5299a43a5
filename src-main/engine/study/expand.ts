/**
 * From a study recipe to its cells: each a whole run recipe, validated before anything starts (docs/studies.md).
 *
 * Seed rule: trial t of every cell runs with the recipe seed deriveSeed(study seed, "trial t") (util/rng.ts), the
 * same for every combination of axis values — a difference between combinations is then the axis, not the draw — and
 * different for every trial. The endpoints' own seeds derive from that recipe seed as in any run; the dataset's and
 * the evaluation's seeds stay as the base recipe sets them (every trial sees the same data).
 */
import { z } from 'zod';
import { presetDocument } from '../recipe/presets';
import { parseAnyRecipe } from '../recipe/resolve';
import { type AnyRecipe, isCounterexample } from '../recipe/schema';
import { InputError } from '../util/errors';
import { RECIPE_LIMITS } from '../util/limits';
import { deriveSeed } from '../util/rng';
import { parseFieldPath, setField } from './field-path';
import { type StudyAxis, type StudyRecipe, studyRecipeSchema } from './schema';

/** A study as it is stored and run: the base recipe's document written in (no preset to change under it), `set` and
 *  `--quick` folded in, the name filled. Running it again (resume) needs nothing else. */
export interface ResolvedStudy extends Omit<StudyRecipe, 'set'> {
  name: string;
  base: { config: Record<string, unknown> };
  set?: undefined;
  quick?: undefined;
}

/** One axis value of a cell. */
export interface CellSetting {
  field: string;
  value: unknown;
}

export interface StudyCell {
  /** 0-based: combination × trials + trial. */
  index: number;
  /** 0-based index of the combination of axis values. */
  group: number;
  /** 0-based trial. */
  trial: number;
  /** The cell's recipe seed (the seed rule above). */
  seed: number;
  settings: CellSetting[];
  /** `architecture.hidden=[16,16] paths[1].p=0.5`, or '' without axes. */
  label: string;
  recipe: AnyRecipe;
}

/** The seed of trial `trial` (0-based) of a study seeded `studySeed`. */
export const trialSeed = (studySeed: number, trial: number): number => deriveSeed(studySeed, `trial ${trial}`);

/** One line of `field=value` pairs; values as compact JSON. */
export const settingsLabel = (settings: CellSetting[]): string => settings.map((s) => `${s.field}=${JSON.stringify(s.value)}`).join(' ');

function schemaError(source: string, err: z.ZodError): InputError {
  const text = err.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
  return new InputError(`${source}: ${text}`);
}

/** Validates a study document and resolves it (the base preset read, `--quick` applied). */
export function resolveStudy(doc: unknown, source: string, o: { quick?: boolean } = {}): ResolvedStudy {
  const r = studyRecipeSchema.safeParse(doc);
  if (!r.success) throw schemaError(source, r.error);
  const s = r.data;
  let base = 'preset' in s.base ? presetDocument(s.base.preset) : s.base.config;
  if (!base || typeof base !== 'object' || Array.isArray(base)) throw new InputError(`${source}: the base recipe is not a JSON object`);
  for (const f of s.set) base = setField(base, parseFieldPath(f.field), f.value);
  let { axes, trials } = s;
  if (o.quick) {
    if (!s.quick) throw new InputError(`${source}: this study has no --quick variant (no "quick" section)`);
    for (const f of s.quick.set) base = setField(base, parseFieldPath(f.field), f.value);
    axes = s.quick.axes ?? axes;
    trials = s.quick.trials ?? trials;
  }
  const baseName = (base as { name?: unknown }).name;
  const name = s.name ?? (typeof baseName === 'string' && baseName ? baseName : 'study');
  const { quick: _quick, set: _set, ...rest } = s;
  return { ...rest, name: o.quick ? `${name}-quick` : name, base: { config: base as Record<string, unknown> }, axes, trials };
}

/** Every combination of the axes' values, first axis slowest. */
function combinations(axes: StudyAxis[]): CellSetting[][] {
  return axes.reduce<CellSetting[][]>((acc, a) => acc.flatMap((c) => a.values.map((value) => [...c, { field: a.field, value }])), [[]]);
}

/** How many cells a study has, without building them. */
export const cellCount = (s: Pick<StudyRecipe, 'axes' | 'trials'>): number => s.axes.reduce((n, a) => n * a.values.length, 1) * s.trials;

/**
 * Every cell of a resolved study, each recipe validated by the recipe schema: a bad axis path or a value the recipe
 * refuses is a one-line InputError naming the cell, before anything runs.
 */
export function expandStudy(study: ResolvedStudy): StudyCell[] {
  const n = cellCount(study);
  if (n > RECIPE_LIMITS.cells) throw new InputError(`study ${study.name}: ${n} cells, more than the ${RECIPE_LIMITS.cells} a study may have`);
  const fields = study.axes.map((a) => a.field);
  const dup = fields.find((f, i) => fields.indexOf(f) !== i);
  if (dup) throw new InputError(`study ${study.name}: the axis '${dup}' is given twice`);
  const paths = study.axes.map((a) => {
    const p = parseFieldPath(a.field);
    if (p.length === 1 && (p[0] === 'seed' || p[0] === 'name')) throw new InputError(`study ${study.name}: the axis '${a.field}' is set by the study itself (trials set the seed)`);
    return p;
  });
  const cells: StudyCell[] = [];
  combinations(study.axes).forEach((settings, group) => {
    let doc: unknown = study.base.config;
    settings.forEach((s, i) => {
      doc = setField(doc, paths[i]!, s.value);
    });
    const label = settingsLabel(settings);
    for (let trial = 0; trial < study.trials; trial++) {
      const index = group * study.trials + trial;
      const seed = trialSeed(study.seed, trial);
      const named = setField(setField(doc, ['seed'], seed), ['name'], `${study.name}${label ? ` ${label}` : ''} trial ${trial}`);
      const recipe = parseAnyRecipe(named, `study ${study.name} cell ${index}${label ? ` (${label})` : ''}`);
      if (study.trials > 1 && !isCounterexample(recipe)) {
        const fixed = (named as { endpoints?: { seed?: unknown }[] }).endpoints?.findIndex((e) => e.seed !== undefined) ?? -1;
        if (fixed >= 0) throw new InputError(`study ${study.name}: endpoints[${fixed}].seed is fixed in the base recipe, so every trial would repeat it (remove it: trials set the seed)`);
      }
      cells.push({ index, group, trial, seed, settings, label, recipe });
    }
  });
  return cells;
}
