/**
 * The one typed contract between ModeLab's front ends (CLI, desktop app over IPC, browser over HTTP/WebSocket) and
 * its core (store + jobs). Plain TypeScript: every argument, result and event is JSON-serialisable, so the desktop
 * bridge and the server can carry them unchanged. No Electron, no HTTP here.
 */
import type { RecipeEstimate } from '../engine/recipe/estimate';
import type { ExportLayout } from '../engine/experiment/export';
import type { QuickBenchOutcome } from '../jobs/bench-job';
import type { JobEvent, JobOutcome } from '../jobs/runner';
import type { ExistingRunChoice, ImportResult } from '../store/bundle';
import type { ListQuery, ListResult, RunDetail, RunSummary } from '../store/types';
import type { StudyStatus } from '../store/types';
import type { StudyCellChange, StudyDocument, StudyEstimate, StudyProgress, StudySummary } from '../study/coordinator';

export type { ArtifactRef, HistoryRecord, ListQuery, ListResult, RunDetail, RunEnvironment, RunStatus, RunSummary, SortKey } from '../store/types';
export { RUN_STATUSES } from '../store/types';
export type { JobEvent, JobOutcome } from '../jobs/runner';
export type { RecipeEstimate } from '../engine/recipe/estimate';
export type { QuickBenchOutcome } from '../jobs/bench-job';
import type { StoredRunDocument } from '../store/bundle';
export type { ExistingRunChoice, ImportResult, StoredRunDocument } from '../store/bundle';
export type { StudyCellChange, StudyDocument, StudyEstimate, StudyProgress, StudySummary } from '../study/coordinator';
export type { StudyStatus } from '../store/types';

/** Start a study on this machine (docs/studies.md): exactly one of a study preset, a study recipe, a stored study. */
export interface StartStudyRequest {
  /** A study preset (resources/studies/). */
  preset?: string;
  /** A study recipe document (validated). */
  study?: unknown;
  /** A stored study's id or name: resume it (finished cells kept, the others run again). */
  resume?: string;
  /** The recipe's quick variant (new studies only). */
  quick?: boolean;
  /** Cells at once (default: the cores ÷ the processes one cell computes with). */
  jobs?: number;
  backend?: string;
  dataDir?: string;
}

/**
 * Study events, each about one study: its status when its coordinator starts ('running') and when it ends (finished,
 * cancelled, failed); a cell's run when it starts, changes state and ends (finished, failed, cancelled, crashed), with
 * the run's id; its progress (cell counts, ETA) after every change and every second. The app's study page follows
 * them instead of reading the study again (docs/studies.md).
 */
export type StudyEvent =
  | { type: 'study'; studyId: string; progress: StudyProgress }
  | { type: 'study-cell'; studyId: string; cell: StudyCellChange }
  | { type: 'study-status'; studyId: string; status: StudyStatus; error?: string };

export interface StartRunRequest {
  /** A built-in preset to run (with `recipe`: only recorded as the recipe's origin). */
  preset?: string;
  /** A recipe document (validated). */
  recipe?: unknown;
  /** History name (default: the recipe's name). */
  name?: string;
  tags?: string[];
  notes?: string;
  colour?: string;
  /** Backend name (default: MODELAB_BACKEND where the job runs, else the fastest available). */
  backend?: string;
  dataDir?: string;
  /** Overrides the recipe's base seed. */
  seed?: number;
  /** Evaluate on the full training and test sets. */
  exact?: boolean;
}

export type ExportFormat = 'json' | 'csv' | 'bundle';

export interface ExportRequest {
  ids: string[];
  format: ExportFormat;
  /** File or folder (bundle: a folder, or a .zip file); '-' for stdout (json, csv). */
  out: string;
  /** Overwrite an existing bundle destination. */
  overwrite?: boolean;
  /** Bundle: also write every network as a PyTorch state_dict ('torch'; docs/bring-your-own-model.md). */
  layout?: ExportLayout;
}

/** Events pushed to subscribers: job events (status, progress, curve points, endpoints, stability, paths). */
export type ApiEvent = JobEvent;

export interface ModeLabApi {
  presets(): Promise<{ name: string; description: string }[]>;
  listRuns(query?: ListQuery): Promise<ListResult>;
  getRun(id: string): Promise<RunDetail>;
  /** The run document (complete once the run is finished). */
  getRunDocument(id: string): Promise<StoredRunDocument>;
  /** Creates the run (status queued) and starts its job; returns at once with the id. */
  startRun(req: StartRunRequest): Promise<{ id: string }>;
  /** What the run would take on this machine — memory against the machine's, time per stage from the stored bench
   *  figures (none yet: `notes` says so) — without starting or storing anything. */
  estimateRun(req: StartRunRequest): Promise<RecipeEstimate>;
  /** Runs the quick bench (about 1½ minutes, in its own process) and keeps its result for later estimates. Only on a
   *  user's request: nothing runs it by itself. */
  runQuickBench(backend?: string): Promise<QuickBenchOutcome>;
  /** Resolves when a job this process started ends. */
  waitForRun(id: string): Promise<JobOutcome>;
  cancelRun(id: string): Promise<{ id: string; outcome: 'cancelled' | 'stopping' | 'requested' | 'not-running' }>;
  tagRun(id: string, change: { add?: string[]; remove?: string[] }): Promise<RunSummary>;
  setNotes(id: string, notes: string): Promise<RunSummary>;
  renameRun(id: string, name: string): Promise<RunSummary>;
  setColour(id: string, colour: string | null): Promise<RunSummary>;
  deleteRuns(ids: string[]): Promise<{ ids: string[]; runs: number; artifactsRemoved: number }>;
  exportRuns(req: ExportRequest): Promise<{ ids: string[]; out: string }>;
  /**
   * Imports the bundles at `path` (a folder or .zip), every file checked first. A run the history already has is
   * refused (RunExistsError, code RUN_EXISTS) unless `existing` is 'skip' or 'copy'.
   */
  importBundle(path: string, opts?: { existing?: ExistingRunChoice }): Promise<ImportResult>;
  /** Studies, newest first, with their cell counts. */
  listStudies(): Promise<StudySummary[]>;
  /** A study (id, id prefix or name), its cells and the mean ± std over trials of every metric. */
  getStudy(ref: string): Promise<StudyDocument>;
  /** What a study would be — its cells and the time they take here, from the stored bench figures — with every
   *  cell validated and checked to fit; starts and stores nothing. */
  estimateStudy(req: StartStudyRequest): Promise<{ name: string; cells: number; axes: string[]; trials: number; estimate: StudyEstimate }>;
  /** Plans the study (every cell validated and checked to fit; the time estimated from the bench), stores it and
   *  starts its cells here; returns at once with the plan. Progress arrives through subscribeStudies. */
  startStudy(req: StartStudyRequest): Promise<{ id: string; cells: number; estimate: StudyEstimate }>;
  /** Resolves when a study this process started has ended (at once with its stored status otherwise). */
  waitForStudy(ref: string): Promise<{ status: string }>;
  /** Stops the study's coordinator and asks every running cell to stop (a study run by another process too). */
  cancelStudy(ref: string): Promise<{ id: string; stopping: number }>;
  /** Deletes a study: its runs too ('delete'), or they stay in the history ('keep'). Refused while it runs. */
  deleteStudy(ref: string, runs: 'delete' | 'keep'): Promise<{ id: string; runsDeleted: number }>;
  /** Receives every study event; returns the unsubscribe function. */
  subscribeStudies(listener: (e: StudyEvent) => void): () => void;
  /** Receives every event; returns the unsubscribe function. */
  subscribe(listener: (e: ApiEvent) => void): () => void;
  /** Cancels running jobs started here, and closes the history. */
  close(): Promise<void>;
}
