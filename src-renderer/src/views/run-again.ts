/**
 * "Run again" on a run (issue 14 item 6): the same recipe once more, with a new seed, or as N trials — a study of
 * that recipe (engine/study/schema.ts), each trial seeded from the study's seed (engine/study/expand.ts trialSeed).
 * Endpoint seeds fixed in the recipe would make every trial repeat them, so asking for new seeds or several trials
 * removes them: the endpoints' seeds then derive from each run's seed.
 */
import type { StartRunRequest } from '../api/types';

export interface AgainChoice {
  /** 1: one run; more: a study of that many trials. */
  trials: number;
  newSeeds: boolean;
}

export type AgainRequest = { kind: 'run'; request: StartRunRequest } | { kind: 'study'; study: Record<string, unknown> };

/** The largest seed a recipe takes (the run request's bound). */
export const MAX_SEED = 2 ** 31 - 1;
export const MAX_TRIALS = 100;

/** A seed for "new seeds" (crypto randomness: a new draw every time, unlike the recipe's derived seeds). */
export function freshSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]! % (MAX_SEED + 1);
}

const withoutEndpointSeeds = (recipe: Record<string, unknown>): Record<string, unknown> => {
  const eps = recipe['endpoints'];
  if (!Array.isArray(eps)) return recipe;
  return { ...recipe, endpoints: eps.map((e: Record<string, unknown>) => Object.fromEntries(Object.entries(e).filter(([k]) => k !== 'seed'))) };
};

/** What to start for a run's recipe: `seed` is the new seed to use when new seeds are asked for. */
export function againRequest(run: { name: string; config: unknown }, choice: AgainChoice, seed: number): AgainRequest {
  if (!Number.isInteger(choice.trials) || choice.trials < 1 || choice.trials > MAX_TRIALS) throw new Error(`trials must be a whole number from 1 to ${MAX_TRIALS}`);
  const config = JSON.parse(JSON.stringify(run.config)) as Record<string, unknown>;
  const recipe = choice.newSeeds || choice.trials > 1 ? withoutEndpointSeeds(config) : config;
  if (choice.trials === 1) {
    const again: Record<string, unknown> = choice.newSeeds ? { ...recipe, seed } : recipe;
    return { kind: 'run', request: { recipe: again, name: `${run.name} (${choice.newSeeds ? `seed ${seed}` : 'again'})` } };
  }
  const studySeed = choice.newSeeds ? seed : typeof config['seed'] === 'number' ? config['seed'] : 1;
  return { kind: 'study', study: { name: `${run.name} × ${choice.trials} trials`, base: { config: recipe }, trials: choice.trials, seed: studySeed } };
}
