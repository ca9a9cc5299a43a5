/**
 * The resource check every run passes before anything is allocated (runRecipe, and the api's startRun before the run
 * is stored): the estimate of estimate.ts for this machine, refused with a one-line InputError when it cannot fit.
 */
import os from 'node:os';
import { datasetShape } from '../data/shape';
import { latestBench } from '../bench/stored';
import { backendOfRun } from '../backend/backends';
import { type Machine, type RecipeEstimate, type RunEstimate, assertFits, estimateRecipe, estimateRun } from './estimate';
import { type AnyRecipe, isCounterexample } from './schema';

export function thisMachine(): Machine {
  return { memoryBytes: os.totalmem(), cores: os.availableParallelism() };
}

/** The recipe's estimate on this machine (null for the counterexample, whose size the schema bounds, and for a
 *  dataset whose shape is only known once loaded); throws when it cannot fit. */
export function checkResources(recipe: AnyRecipe, machine: Machine = thisMachine()): RunEstimate | null {
  if (isCounterexample(recipe)) return null;
  const shape = datasetShape(recipe.dataset);
  if (!shape) return null;
  const estimate = estimateRun(recipe, shape, machine);
  assertFits(estimate);
  return estimate;
}

/** The recipe's estimate on this machine from the newest bench figures kept in `benchDir` for the backend the run
 *  gets (`requested` when it names one, else the default: backends.ts backendOfRun), never another backend's; with
 *  none of that backend, a note says so. Refuses nothing: `resources.refusal` says when it cannot fit. */
export async function estimateHere(recipe: AnyRecipe, benchDir: string, requested?: string): Promise<RecipeEstimate> {
  const backend = await backendOfRun(requested);
  const figures = backend === null ? null : latestBench(benchDir, backend);
  return estimateRecipe(recipe, isCounterexample(recipe) ? null : datasetShape(recipe.dataset), thisMachine(), figures, backend);
}
