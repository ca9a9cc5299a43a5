/** The environment record of a run (store/types.ts RunEnvironment), built in one place: from a run document, or from
 *  what a run's events have told so far (jobs/worker.ts folds them: engine/experiment/run-so-far.ts). */
import type { RunResult } from '../engine/experiment/result';
import type { RunEnvironment } from './types';

/** What the record is made of: the run's header, and what is known of its architecture, dataset and endpoint seeds. */
export interface EnvironmentSource {
  modelab: string;
  backend: string;
  device: string;
  tfjsVersion: string;
  backendDetails: Record<string, string | number | boolean>;
  config: unknown;
  architecture?: RunResult['architecture'] | null;
  dataset?: RunEnvironment['dataset'] | null;
  endpoints: readonly { name: string; seed: number }[];
}

export function environmentOf(r: EnvironmentSource): RunEnvironment {
  const cfg = (r.config ?? {}) as { seed?: number; evaluation?: { seed?: number } };
  return {
    modelab: r.modelab,
    backend: r.backend,
    device: r.device,
    tfjsVersion: r.tfjsVersion,
    backendDetails: r.backendDetails,
    ...(r.architecture ? { architecture: r.architecture } : {}),
    ...(r.dataset ? { dataset: r.dataset } : {}),
    seeds: {
      recipe: cfg.seed,
      endpoints: Object.fromEntries(r.endpoints.map((e) => [e.name, e.seed])),
      evaluation: cfg.evaluation?.seed,
    },
  };
}
