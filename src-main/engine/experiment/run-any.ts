/**
 * Runs any kind of recipe: a training recipe (run.ts) or Theorem 4's counterexample (counterexample-run.ts), the one
 * place that tells them apart for every front end (the job process, `modelab run --no-store`).
 */
import { type AnyRecipe, isCounterexample } from '../recipe/schema';
import { runCounterexample } from './counterexample-run';
import type { RunResult } from './result';
import { type RunOptions, runRecipe } from './run';

/** The counterexample takes what it needs of the options (backend, preset, onEvent): its data is generated, it trains
 *  no endpoints and evaluates on the host. */
export function runAnyRecipe(recipe: AnyRecipe, opts: RunOptions): Promise<RunResult> {
  return isCounterexample(recipe) ? runCounterexample(recipe, opts) : runRecipe(recipe, opts);
}
