/** The documents of a stored run: its run document (run.json) and its history record (history.json). */
import { RUN_SCHEMA, type RunResult } from '../engine/experiment/result';
import type { HistoryRecord, RunDetail, RunEnvironment } from './types';

/**
 * The run document of a stored run. A finished run's has every part of a RunResult; one that stopped early (failed,
 * cancelled, crashed, or still running) has the stages it completed and null where nothing is known (docs/run-json.md,
 * `status`): before the job's setup no versions, backend, architecture or dataset record; before its end no
 * finishing time. The recipe is as the history keeps it (a bundle's is checked as JSON, not as a recipe).
 */
export interface RunDocument
  extends Omit<RunResult, 'modelab' | 'startedAt' | 'finishedAt' | 'backend' | 'device' | 'tfjsVersion' | 'config' | 'architecture' | 'dataset'> {
  modelab: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  backend: string | null;
  device: string | null;
  tfjsVersion: string | null;
  config: unknown;
  architecture: RunResult['architecture'] | null;
  /** The environment's dataset record: whole once the evaluation sets are drawn. */
  dataset: NonNullable<RunEnvironment['dataset']> | null;
}

/** The recipe's name, when the stored recipe has one. */
function recipeName(config: unknown): string | null {
  return typeof config === 'object' && config !== null && 'name' in config && typeof config.name === 'string' ? config.name : null;
}

/** The run document of what the history holds, its fields in the document's order. */
export function runDocument(d: RunDetail): RunDocument {
  const env = d.environment;
  return {
    schema: RUN_SCHEMA,
    modelab: env?.modelab ?? d.appVersion,
    name: recipeName(d.config) ?? d.name,
    preset: d.preset,
    startedAt: d.startedAt,
    finishedAt: d.finishedAt,
    backend: env?.backend ?? d.backend,
    device: env?.device ?? d.device,
    tfjsVersion: env?.tfjsVersion ?? null,
    backendDetails: env?.backendDetails ?? {},
    config: d.config,
    architecture: env?.architecture ?? null,
    dataset: env?.dataset ?? null,
    endpoints: d.endpoints,
    ...(d.stability ? { stability: d.stability } : {}),
    paths: d.paths,
    ...(d.plane ? { plane: d.plane } : {}),
    timings: d.timings ?? {},
  };
}

/** The history metadata of a run (history.json in a bundle). */
export function historyRecord(d: RunDetail): HistoryRecord {
  const done = new Set(d.endpoints.map((e) => e.name));
  return {
    format: 'modelab.history/1',
    id: d.id,
    name: d.name,
    preset: d.preset,
    status: d.status,
    createdAt: d.createdAt,
    startedAt: d.startedAt,
    finishedAt: d.finishedAt,
    error: d.error,
    tags: d.tags,
    notes: d.notes,
    colour: d.colour,
    config: d.config,
    environment: d.environment,
    partialCurves: Object.fromEntries(Object.entries(d.curves).filter(([k]) => !done.has(k))),
    stability: d.stability,
    timings: d.timings,
  };
}
