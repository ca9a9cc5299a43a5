/** A row of the runs table as the queries read it, and the summary the history list shows of it. */
import type { RunStatus, RunSummary } from './types';

export interface RunRow {
  id: string;
  name: string;
  preset: string | null;
  status: RunStatus;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  heartbeat_at: number | null;
  pid: number | null;
  host: string | null;
  error: string | null;
  app_version: string | null;
  backend: string | null;
  device: string | null;
  dataset_name: string | null;
  dataset_checksum: string | null;
  seed: number | null;
  notes: string;
  colour: string | null;
  tags: string | null;
}

/** The columns of RunRow, for `SELECT … FROM runs r`. */
export const SUMMARY_COLUMNS = `r.id, r.name, r.preset, r.status, r.created_at, r.started_at, r.finished_at, r.heartbeat_at, r.pid, r.host,
  r.error, r.app_version, r.backend, r.device, r.dataset_name, r.dataset_checksum, r.seed, r.notes, r.colour,
  (SELECT group_concat(tag, char(10)) FROM (SELECT tag FROM run_tags t WHERE t.run_id = r.id ORDER BY tag)) AS tags`;

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function toSummary(r: RunRow): RunSummary {
  return {
    id: r.id,
    name: r.name,
    preset: r.preset,
    status: r.status,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    heartbeatAt: iso(r.heartbeat_at),
    error: r.error,
    tags: r.tags ? r.tags.split('\n') : [],
    notes: r.notes,
    colour: r.colour,
    appVersion: r.app_version,
    backend: r.backend,
    device: r.device,
    dataset: r.dataset_name,
    datasetChecksum: r.dataset_checksum,
    seed: r.seed,
    pid: r.pid,
    host: r.host,
  };
}
