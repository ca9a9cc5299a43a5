/** What the history keeps about a run, as plain JSON-friendly types (the api contract re-exports them). */
import type { BackendName } from '../engine/backend/backends';
import type { EndpointResult, PathResult, PlaneResult, RunResult, StabilityReport } from '../engine/experiment/result';
import type { CurvePoint } from '../engine/train/loop';

export const RUN_STATUSES = ['queued', 'running', 'finished', 'failed', 'cancelled', 'crashed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
/** Statuses a run never leaves on its own. */
export const FINAL_STATUSES: readonly RunStatus[] = ['finished', 'failed', 'cancelled', 'crashed'];
/** Statuses of a run a job still owns (waiting or computing): all but the final ones. */
export const ACTIVE_STATUSES: readonly RunStatus[] = RUN_STATUSES.filter((s) => !FINAL_STATUSES.includes(s));

/** A study's status (store/studies.ts): its cells' runs have the run statuses above. */
export const STUDY_STATUSES = ['created', 'running', 'finished', 'failed', 'cancelled'] as const;
export type StudyStatus = (typeof STUDY_STATUSES)[number];

/** Where and with what a run computed. Known from the job's setup on; completed from the run document at the end. (A type,
 *  not an interface: a JSON object, assignable where a bundle's schema admits more fields.) */
export type RunEnvironment = {
  modelab: string;
  backend: BackendName | string;
  device: string;
  tfjsVersion: string;
  backendDetails: Record<string, string | number | boolean>;
  architecture?: RunResult['architecture'];
  /** The run document's dataset record (name, source, checksum, normalisation, sizes). */
  dataset?: Partial<RunResult['dataset']> & { name: string; checksum: string };
  seeds: { recipe?: number; endpoints: Record<string, number>; evaluation?: number };
};

/** One row of the history list (no curves, points or weights). */
export interface RunSummary {
  id: string;
  name: string;
  preset: string | null;
  status: RunStatus;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** Last heartbeat of the process running the job (ISO time), while it runs. */
  heartbeatAt: string | null;
  error: string | null;
  tags: string[];
  notes: string;
  colour: string | null;
  appVersion: string | null;
  backend: string | null;
  device: string | null;
  dataset: string | null;
  datasetChecksum: string | null;
  seed: number | null;
  pid: number | null;
  host: string | null;
}

export interface ArtifactRef {
  /** 'endpoint:<name>', 'path:<name>', 'eval-data', 'checkpoint:<endpoint>'. */
  role: string;
  hash: string;
  size: number;
}

/** The latest training checkpoint of an endpoint (its weights: the artifact `checkpoint:<endpoint>`). */
export interface CheckpointRecord {
  endpoint: string;
  /** step / steps per epoch. */
  epoch: number;
  /** Training steps done. */
  step: number;
}

/** Everything the history holds about one run. */
export interface RunDetail extends RunSummary {
  config: unknown;
  environment: RunEnvironment | null;
  /** Endpoints trained and evaluated so far, with their full training curves. */
  endpoints: EndpointResult[];
  /** Training curves by endpoint, including those of endpoints still (or never finished) training. */
  curves: Record<string, CurvePoint[]>;
  stability: StabilityReport | null;
  /** Paths evaluated so far, in recipe order. */
  paths: PathResult[];
  /** The loss plane (RunResult.plane), once computed; null when the recipe has none (or it was not reached). */
  plane: PlaneResult | null;
  /** The latest checkpoint of each endpoint that made one (training.checkpointEvery), by endpoint name. */
  checkpoints: CheckpointRecord[];
  timings: Record<string, number> | null;
  artifacts: ArtifactRef[];
}

export type SortKey = 'created' | 'started' | 'finished' | 'name' | 'status';

export interface ListQuery {
  status?: RunStatus[];
  /** Runs carrying every one of these tags. */
  tags?: string[];
  preset?: string;
  /** Case-insensitive substring of the id, name, notes or a tag. */
  search?: string;
  sort?: SortKey;
  order?: 'asc' | 'desc';
  /** Page size (default 50, at most 1000). */
  limit?: number;
  offset?: number;
}

export interface ListResult {
  runs: RunSummary[];
  /** Runs matching the filters, over all pages. */
  total: number;
  limit: number;
  offset: number;
}

/** History metadata carried by a bundle beside run.json (history.json). */
export interface HistoryRecord {
  format: 'modelab.history/1';
  id: string;
  name: string;
  preset: string | null;
  status: RunStatus;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
  tags: string[];
  notes: string;
  colour: string | null;
  config: unknown;
  environment: RunEnvironment | null;
  /** Curves of endpoints that never finished (a crashed or cancelled run); finished endpoints carry theirs in run.json. */
  partialCurves: Record<string, CurvePoint[]>;
  stability: StabilityReport | null;
  timings: Record<string, number> | null;
}
