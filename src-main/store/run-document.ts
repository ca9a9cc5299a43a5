/** The documents of a stored run: its run document (RunResult, run.json) and its history record (history.json). */
import type { RunResult } from '../engine/experiment/result';
import { RUN_SCHEMA } from '../engine/experiment/result';
import type { HistoryRecord, RunDetail } from './types';

/**
 * The run document (RunResult) of what the history holds. Complete for a finished run; for a run that stopped early
 * it holds the stages that completed (endpoints, stability, paths) and nulls where nothing is known.
 */
export function runDocument(d: RunDetail): RunResult {
  const env = d.environment;
  const cfg = d.config as { name?: string };
  const doc = {
    schema: RUN_SCHEMA,
    modelab: env?.modelab ?? d.appVersion,
    name: cfg.name ?? d.name,
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
  return doc as unknown as RunResult;
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
