/**
 * A run's plan: its endpoints, its paths by the names the run gives them, and the stages it goes through, by the
 * stage keys its progress events and timings use. One home for those names: the runner names its stages with
 * `stageKey`, and the renderer shows a run's expected stages from `runPlan` instead of a copy of the rules.
 *
 * Imports nothing at run time, so that the sandboxed renderer may import it (test/renderer/boundaries.test.ts).
 */

/** What a plan needs of a recipe (a training recipe or Theorem 4's counterexample); any stored config is read safely. */
export interface PlanInput {
  experiment?: string;
  /** An endpoint with `weights` is loaded from its file, not trained. */
  endpoints?: readonly { name: string; weights?: string | undefined }[];
  paths?: readonly { type: string; name?: string }[];
  stability?: object;
  plane?: unknown;
}

export interface PlannedStage {
  stage: string;
  label: string;
}

export interface RunPlan {
  endpoints: string[];
  paths: string[];
  stages: PlannedStage[];
}

/** The stage keys of progress events and timings. */
export const stageKey = {
  train: (endpoint: string): string => `train:${endpoint}`,
  path: (path: string): string => `path:${path}`,
  stability: 'stability',
  plane: 'plane',
  /** Theorem 4's counterexample: its two trained curves. */
  curves: 'curves',
} as const;

/** The endpoints a recipe without its own list trains (schema.ts's default). */
const DEFAULT_ENDPOINTS = ['A', 'B'];

/** The counterexample's paths, in the order it builds them (counterexample-run.ts). */
export const COUNTEREXAMPLE_PATHS = ['linear', 'bezier', 'polychain'] as const;

/** Path i's name: its own, or its type, numbered from the second unnamed path of that type on ("linear-2"). */
export function pathNames(paths: readonly { type: string; name?: string }[]): string[] {
  return paths.map((p, i) => {
    if (p.name) return p.name;
    const nth = paths.slice(0, i + 1).filter((q) => !q.name && q.type === p.type).length;
    return nth === 1 ? p.type : `${p.type}-${nth}`;
  });
}

export function runPlan(config: PlanInput | null | undefined): RunPlan {
  const r = config ?? {};
  if (r.experiment === 'counterexample') {
    const paths = [...COUNTEREXAMPLE_PATHS];
    return {
      endpoints: ['teacher', 'student'],
      paths,
      stages: [{ stage: stageKey.curves, label: 'trained curves' }, ...paths.map((n) => ({ stage: stageKey.path(n), label: `path ${n}` }))],
    };
  }
  const endpoints = r.endpoints?.map((e) => e.name) ?? DEFAULT_ENDPOINTS;
  const paths = pathNames(r.paths ?? []);
  const stages: PlannedStage[] = endpoints.map((e, i) => ({ stage: stageKey.train(e), label: `${r.endpoints?.[i]?.weights ? 'load' : 'train'} ${e}` }));
  if (r.stability && Object.keys(r.stability).length) stages.push({ stage: stageKey.stability, label: 'stability' });
  for (const n of paths) stages.push({ stage: stageKey.path(n), label: `path ${n}` });
  if (r.plane) stages.push({ stage: stageKey.plane, label: 'loss plane' });
  return { endpoints, paths, stages };
}
