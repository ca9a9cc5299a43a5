/** From a recipe document to what the engine runs: validation with one-line messages, defaults, architecture specs. */
import { z } from 'zod';
import { checkEndpointFile, endpointLayout } from '../io/endpoint-weights';
import type { ArchSpec, LayerSpec } from '../nn/spec';
import { layerOutputShapes } from '../nn/spec';
import type { CurveTrainConfig } from '../curves/train';
import type { TrainConfig } from '../train/loop';
import { type FieldPath, InputError, fieldError } from '../util/errors';
import { deriveSeed } from '../util/rng';
import { pathNames } from './plan';
import { type AnyRecipe, type ArchitectureConfig, type Recipe, counterexampleRecipeSchema, isCounterexample, recipeSchema, trainingSchema } from './schema';

/** A schema failure as one line naming up to three fields; the first issue's field (under `base`) is kept as data. */
function schemaError(source: string, err: z.ZodError, base: FieldPath = []): InputError {
  const at = (i: z.ZodIssue): FieldPath => [...base, ...i.path.map((k) => (typeof k === 'number' ? k : String(k)))];
  const first = err.issues[0]!;
  const text = err.issues
    .slice(0, 3)
    .map((i) => `${at(i).length ? at(i).join('.') : '(root)'}: ${i.message}`)
    .join('; ');
  return new InputError(`${source ? `${source}: ` : ''}${text}`, { field: at(first), reason: first.message });
}

/** Validates any recipe document: a training experiment, or the counterexample (`"experiment": "counterexample"`). */
export function parseAnyRecipe(doc: unknown, source = 'recipe'): AnyRecipe {
  if (doc && typeof doc === 'object' && (doc as { experiment?: unknown }).experiment !== undefined) {
    const r = counterexampleRecipeSchema.safeParse(doc);
    if (!r.success) throw schemaError(source, r.error);
    return r.data;
  }
  return parseRecipe(doc, source);
}

/** Validates a recipe document; throws InputError with a one-line reason naming the offending fields. */
export function parseRecipe(doc: unknown, source = 'recipe'): Recipe {
  const r = recipeSchema.safeParse(doc);
  if (!r.success) throw schemaError(source, r.error);
  const recipe = r.data;
  const names = recipe.endpoints.map((e) => e.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw fieldError(source, ['endpoints'], `the name '${dup}' is used twice`);
  recipe.endpoints.forEach((e, i) => {
    if (e.training) trainingFor(recipe, i, source);
    checkEndpointFields(e, i, source);
  });
  recipe.paths.forEach((p, i) => {
    if (p.type === 'theorem3') trainingWith(recipe, p.narrow.training, ['paths', i, 'narrow', 'training'], source);
  });
  if (recipe.stability?.narrow?.training) trainingWith(recipe, recipe.stability.narrow.training, ['stability', 'narrow', 'training'], source);
  const a = recipe.architecture;
  if (a.type === 'mlp' && Array.isArray(a.dropout) && a.dropout.length !== a.hidden.length) {
    throw fieldError(source, ['architecture', 'dropout'], `${a.dropout.length} values for ${a.hidden.length} hidden layers`);
  }
  const pathNames = new Set<string>();
  recipe.paths.forEach((p, i) => {
    const single = p.type === 'dropout-line';
    if (!single && recipe.endpoints.length < 2) throw fieldError(source, ['paths', i], 'a path needs two endpoints');
    const { from, to } = pathEnds(recipe, p);
    for (const [field, v] of [['from', from], ['to', to]] as const) {
      if (!names.includes(v)) throw fieldError(source, ['paths', i, field], `no endpoint named '${v}' (endpoints: ${names.join(', ')})`);
    }
    if (!single && from === to) throw fieldError(source, ['paths', i], 'from and to are the same endpoint');
    const name = pathName(recipe, i);
    if (pathNames.has(name)) throw fieldError(source, ['paths', i, 'name'], `'${name}' is used twice`);
    pathNames.add(name);
    if (a.batchNorm && (p.type === 'theorem2' || p.type === 'theorem3' || p.type === 'dropout-line' || (p.type === 'theorem1' && !p.foldBatchNorm))) {
      throw fieldError(
        source,
        ['paths', i],
        `the ${p.type} construction does not support BatchNorm${p.type === 'theorem1' ? ' (set "foldBatchNorm": true to build it between the BN-folded endpoints)' : ''}`,
      );
    }
  });
  if (a.batchNorm && recipe.stability) throw fieldError(source, ['stability'], 'dropout and noise stability (Definitions 1–4) do not support BatchNorm');
  const plane = recipe.plane;
  if (plane) {
    if (recipe.endpoints.length < 2) throw fieldError(source, ['plane'], 'a plane needs two endpoints');
    for (const [field, v] of [['from', plane.from], ['to', plane.to]] as const) {
      if (v !== undefined && !names.includes(v)) throw fieldError(source, ['plane', field], `no endpoint named '${v}' (endpoints: ${names.join(', ')})`);
    }
    if (plane.third && !pathNames.has(plane.third.path)) throw fieldError(source, ['plane', 'third', 'path'], `no path named '${plane.third.path}' (paths: ${[...pathNames].join(', ') || 'none'})`);
    if (!plane.third && !recipe.paths.some((p) => p.type === 'aligned-linear' || p.type === 'bezier' || p.type === 'polychain')) {
      throw fieldError(source, ['plane'], 'give plane.third ({ "path": NAME, "vertex": K }) or add an aligned-linear, bezier or polychain path');
    }
  }
  return recipe;
}

/** An endpoint read from a file: `layout` and `names` only with `weights`, no training settings, a known format. */
function checkEndpointFields(e: Recipe['endpoints'][number], i: number, source: string): void {
  if (!e.weights) {
    if (e.layout !== undefined || e.names !== undefined) throw fieldError(source, ['endpoints', i, e.layout !== undefined ? 'layout' : 'names'], 'only for an endpoint loaded from a file: give "weights" too');
    return;
  }
  for (const field of ['training', 'seed'] as const) {
    if (e[field] !== undefined) throw fieldError(source, ['endpoints', i, field], 'an endpoint loaded from "weights" is not trained here');
  }
  try {
    endpointLayout({ weights: e.weights, layout: e.layout });
  } catch (err) {
    throw fieldError(source, ['endpoints', i, 'weights'], (err as Error).message);
  }
}

/** Checks before a run is stored that every endpoint's weights file is there (its tensors are checked against the
 *  architecture when the run starts, once the data gives the input shape). */
export function checkEndpointFiles(recipe: AnyRecipe): void {
  if (isCounterexample(recipe)) return;
  recipe.endpoints.forEach((e, i) => {
    if (!e.weights) return;
    try {
      checkEndpointFile({ weights: e.weights, layout: e.layout });
    } catch (err) {
      throw fieldError('recipe', ['endpoints', i, 'weights'], (err as Error).message);
    }
  });
}

/** What every front end lets a user change in a recipe at start (`modelab run --seed --exact`, the api's start request). */
export interface RecipeOverrides {
  /** A new base seed (endpoint seeds derive from it unless the recipe sets them). */
  seed?: number | undefined;
  /** Evaluate on the full training and test sets (a counterexample's generated data is always evaluated whole). */
  exact?: boolean | undefined;
}

/** The recipe with the overrides applied, in place (and returned). */
export function applyOverrides<R extends AnyRecipe>(recipe: R, o: RecipeOverrides): R {
  if (o.seed !== undefined) recipe.seed = o.seed;
  if (o.exact && !isCounterexample(recipe)) recipe.evaluation = { ...recipe.evaluation, trainSamples: null, testSamples: null };
  return recipe;
}

/** Path i's name: its own, or its type (numbered from the second path of the same type on: linear, linear-2, …). */
export function pathName(recipe: Pick<Recipe, 'paths'>, i: number): string {
  return pathNames(recipe.paths)[i]!;
}

/** The endpoints a path joins; a dropout-line joins a network to its own dropped version. */
export function pathEnds(recipe: Recipe, p: Recipe['paths'][number]): { from: string; to: string } {
  const from = p.from ?? recipe.endpoints[0]!.name;
  if (p.type === 'dropout-line') return { from, to: from };
  return { from, to: p.to ?? recipe.endpoints[1]?.name ?? '' };
}

/** Seed of endpoint i: its own seed if given, else derived from the recipe seed and its name. */
export function endpointSeed(recipe: Recipe, i: number): number {
  const e = recipe.endpoints[i]!;
  return e.seed ?? deriveSeed(recipe.seed, `endpoint:${e.name}`);
}

/** The merged, validated training settings of endpoint i as the training loop takes them. */
export function trainingFor(recipe: Recipe, i: number, source = 'recipe'): TrainConfig {
  return trainingWith(recipe, recipe.endpoints[i]!.training, ['endpoints', i, 'training'], source);
}

/** The recipe's training settings with overrides applied (validated; errors name the overrides' `field` in `source`). */
export function trainingWith(recipe: Recipe, overrides: Record<string, unknown> | undefined, field: FieldPath, source = ''): TrainConfig {
  let t = recipe.training;
  if (overrides) {
    const merged = trainingSchema.safeParse({ ...stripDefaults(recipe.training), ...overrides });
    if (!merged.success) throw schemaError(source, merged.error, field);
    t = merged.data;
  }
  const optimizer =
    t.optimizer === 'sgd'
      ? { type: 'sgd' as const, lr: t.lr ?? 0.1, momentum: t.momentum, nesterov: t.nesterov, weightDecay: t.weightDecay }
      : { type: 'adam' as const, lr: t.lr ?? 1e-3, beta1: t.beta1, beta2: t.beta2, epsilon: t.epsilon, weightDecay: t.weightDecay };
  return {
    optimizer,
    schedule: t.schedule,
    batchSize: t.batchSize,
    ...(t.steps !== undefined ? { steps: t.steps } : { epochs: t.epochs ?? 1 }),
    augment: t.augment,
    checkpointEvery: t.checkpointEvery,
    init: recipe.architecture.init,
  };
}

/** The curve-training fields of a bezier/polychain path (or an aligned path's curve) as curves/train.ts takes them;
 *  without epochs or steps, 1 epoch. Weight decay acts on θ(t), so the optimiser's own decay is 0. */
export function curveTrainConfig(c: {
  epochs?: number;
  steps?: number;
  optimizer: 'sgd' | 'adam';
  lr?: number;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
  schedule: TrainConfig['schedule'];
  batchSize: number;
  trainSamples: number | null;
}): CurveTrainConfig {
  const optimizer =
    c.optimizer === 'sgd'
      ? { type: 'sgd' as const, lr: c.lr ?? 0.05, momentum: c.momentum, nesterov: c.nesterov, weightDecay: 0 }
      : { type: 'adam' as const, lr: c.lr ?? 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 };
  return {
    optimizer,
    weightDecay: c.weightDecay,
    schedule: c.schedule,
    batchSize: c.batchSize,
    ...(c.steps !== undefined ? { steps: c.steps } : { epochs: c.epochs ?? 1 }),
    trainSamples: c.trainSamples,
  };
}

function stripDefaults<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Expands the compact architecture of a recipe into a full spec for a dataset's input shape and classes. */
export function resolveArchitecture(a: ArchitectureConfig, input: [number, number, number], classes: number): ArchSpec {
  const layers: LayerSpec[] = [];
  if (a.type === 'mlp') {
    a.hidden.forEach((units, k) => {
      const dropout = Array.isArray(a.dropout) ? a.dropout[k]! : a.dropout;
      layers.push({ type: 'dense', units, bias: a.bias, dropout });
    });
  } else {
    for (const c of a.conv) {
      layers.push({
        type: 'conv',
        filters: c.filters,
        kernel: c.kernel,
        stride: c.stride,
        padding: c.padding,
        bias: a.bias,
        pool: c.pool ? { size: c.pool, stride: c.pool } : null,
        dropout: c.dropout,
      });
    }
    for (const d of a.dense) layers.push({ type: 'dense', units: d.units, bias: a.bias, dropout: d.dropout });
  }
  if (a.batchNorm) layers.forEach((l) => (l.batchNorm = true));
  layers.push({ type: 'dense', units: classes, bias: a.bias, dropout: 0 });
  const spec: ArchSpec = { input, layers };
  try {
    layerOutputShapes(spec);
  } catch (e) {
    throw new InputError(`architecture: ${(e as Error).message}`);
  }
  return spec;
}
