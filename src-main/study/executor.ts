/**
 * The seam between a study's coordinator (coordinator.ts) and what runs its cells: on this machine (local-executor.ts,
 * the default) or on a cluster (a batch executor such as Slurm: it submits the cells and brings their runs into the
 * history later, with `collect`). Each cell's run is an ordinary run of the history linked to the study
 * (store/studies.ts linkRun).
 */
import type { StudyCell } from '../engine/study/expand';
import type { HistoryStore } from '../store/history';
import type { StudyRecord } from '../store/studies';

/** The executors a study can name (`--executor`); the first is the default. */
export const EXECUTOR_KINDS = ['local', 'slurm'] as const;
export type ExecutorKind = (typeof EXECUTOR_KINDS)[number];

export interface ExecutorContext {
  store: HistoryStore;
  study: StudyRecord;
  /** The cells to run now: those without a finished run, in cell order. */
  cells: StudyCell[];
  /** Fires on cancel: start no more cells, stop the running ones. */
  signal: AbortSignal;
  /** Something changed (a cell started or ended): the coordinator redraws its progress. */
  onChange(): void;
  backend?: string;
  dataDir?: string;
}

export interface StudyExecutor {
  readonly kind: ExecutorKind;
  /** How many cells run at once (for the ETA). */
  readonly parallel: number;
  /**
   * Runs the cells, each as a run linked to the study. 'settled': every cell has ended (or, after a cancel, every
   * started one has stopped); 'submitted': a batch executor handed them to its scheduler, their runs come with collect.
   */
  run(ctx: ExecutorContext): Promise<'settled' | 'submitted'>;
  /** A batch executor: imports the runs of finished cells into the history, linked to the study; idempotent. */
  collect?(ctx: Omit<ExecutorContext, 'cells' | 'signal' | 'onChange'>): Promise<{ imported: number }>;
}
