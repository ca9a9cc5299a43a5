/**
 * A study's coordination, for every front end (CLI, api): plan it (cells expanded and validated, each checked to fit
 * this machine, the time estimated from the stored bench), store it, run it through an executor — resumable: a
 * finished cell is never run again, a failed, crashed or cancelled one is retried — cancel it from any process, and
 * read it back as one document with its aggregated table (docs/studies.md).
 */
import { benchDirIn } from '../engine/bench/stored';
import { type ResolvedStudy, type StudyCell, expandStudy } from '../engine/study/expand';
import { type AggregateRow, type CellOutcome, aggregateStudy } from '../engine/study/aggregate';
import { checkResources, estimateHere } from '../engine/recipe/resources';
import { isCounterexample } from '../engine/recipe/schema';
import { cellsAtOnce } from '../jobs/parallelism';
import { InputError } from '../engine/util/errors';
import { storedDocument } from '../store/bundle';
import type { HistoryStore } from '../store/history';
import { FINAL_STATUSES, type RunStatus, type StudyStatus } from '../store/types';
import { modelabHome } from '../store/location';
import {
  type CellState,
  type StudyRecord,
  cellStates,
  claimStudy,
  coordinatorAlive,
  countStates,
  createStudy,
  deleteStudyRow,
  findStudy,
  latestAttempts,
  releaseStudy,
  requestStudyCancel,
  studyCancelRequested,
  studyRuns,
} from '../store/studies';
import type { StudyExecutor } from './executor';

export const STUDY_SCHEMA = 'modelab.study/1';

const FINAL = new Set<RunStatus>(FINAL_STATUSES);

export interface StudyEstimate {
  cells: number;
  /** Cells at once. */
  parallel: number;
  /** One cell's time, the mean over the cells; null without bench figures (`note` says so). */
  cellSeconds: number | null;
  /** All cells' time spread over `parallel` lanes. */
  seconds: number | null;
  note: string | null;
}

export interface StudyPlan {
  study: ResolvedStudy;
  cells: StudyCell[];
  estimate: StudyEstimate;
}

/**
 * Expands and checks every cell before anything starts: the recipe schema (expandStudy) and the resource check a run
 * passes (recipe/resources.ts), and estimates the time from this machine's stored bench figures.
 */
export async function planStudy(study: ResolvedStudy, o: { parallel?: number; backend?: string }): Promise<StudyPlan> {
  const cells = expandStudy(study);
  // Default: the cores ÷ the processes a cell computes with (its endpoints train side by side).
  const lanes = o.parallel ?? cellsAtOnce(Math.max(1, ...cells.map((c) => (isCounterexample(c.recipe) ? 1 : c.recipe.endpoints.length))));
  const benchDir = benchDirIn(modelabHome());
  const perGroup = new Map<number, number | null>();
  let note: string | null = null;
  for (const c of cells) {
    try {
      checkResources(c.recipe);
    } catch (e) {
      if (e instanceof InputError) throw new InputError(`study ${study.name} cell ${c.index}${c.label ? ` (${c.label})` : ''}: ${e.message}`);
      throw e;
    }
    // The seed changes no cost: one estimate per combination of axis values.
    if (!perGroup.has(c.group)) {
      const e = await estimateHere(c.recipe, benchDir, o.backend);
      perGroup.set(c.group, e.time?.seconds ?? null);
      note ??= e.notes[0] ?? null;
    }
  }
  const times = cells.map((c) => perGroup.get(c.group) ?? null);
  const known = times.every((t) => t !== null);
  const total = known ? (times as number[]).reduce((a, b) => a + b, 0) : null;
  const parallel = Math.max(1, Math.min(lanes, cells.length));
  return {
    study,
    cells,
    estimate: { cells: cells.length, parallel, cellSeconds: total === null ? null : total / cells.length, seconds: total === null ? null : total / parallel, note: known ? null : note },
  };
}

export const storeStudy = async (store: HistoryStore, plan: StudyPlan, executor: string): Promise<StudyRecord> =>
  findStudy(store.db, await createStudy(store.db, { recipe: plan.study, cells: plan.cells.length, executor }));

export interface StudyProgress {
  studyId: string;
  name: string;
  cells: number;
  counts: Record<CellState, number>;
  /** Seconds until every cell has ended: from the cells finished so far, else from the estimate; null unknown. */
  etaSeconds: number | null;
  elapsedSeconds: number;
}

/** A cell's run started or changed state: the cell, its latest run, that run's state (and error). */
export interface StudyCellChange {
  index: number;
  runId: string;
  state: CellState;
  error: string | null;
}

export interface RunStudyOptions {
  executor: StudyExecutor;
  signal?: AbortSignal;
  backend?: string;
  dataDir?: string;
  /** One cell's estimated seconds (StudyEstimate.cellSeconds), for the ETA before a cell has finished. */
  cellSeconds?: number | null;
  onProgress?: (p: StudyProgress) => void;
  /** The study is claimed by this coordinator (its status now 'running'). */
  onStarted?: () => void;
  /** A cell's latest run is new or changed state, as the history records it (seen at the next progress). */
  onCell?: (c: StudyCellChange) => void;
  /** How often a cancel request from another process is looked for (ms; default 1000). */
  pollMs?: number;
}

/** The runs that a coordinator no longer alive left running or queued: nothing writes them any more. */
async function settleOrphans(store: HistoryStore, study: StudyRecord): Promise<void> {
  for (const l of latestAttempts(await studyRuns(store.db, study.id), study.cells)) {
    if (l && (l.status === 'running' || l.status === 'queued')) {
      await store.setStatus(l.runId, 'crashed', { error: `the process coordinating study ${study.id} stopped before this run ended`, from: ['running', 'queued'] });
    }
  }
}

/**
 * Runs the cells of a stored study that have no finished run, through the executor; resolves with the study's status
 * once they have ended (or, after a cancel, stopped). Another live process coordinating the study is refused.
 */
export async function runStudy(store: HistoryStore, ref: string, o: RunStudyOptions): Promise<{ status: StudyStatus; study: StudyRecord; counts: Record<CellState, number> }> {
  let study = await findStudy(store.db, ref);
  await claimStudy(store.db, study.id, o.executor.kind);
  study = await findStudy(store.db, study.id);
  await settleOrphans(store, study);
  o.onStarted?.();
  const cells = expandStudy(study.recipe);
  const settled = latestAttempts(await studyRuns(store.db, study.id), study.cells);
  const before = settled.map((l) => l?.status ?? 'pending');
  // Each cell's latest run and its state as last reported: what a change is measured against.
  const reported = settled.map((l) => (l ? `${l.runId}|${l.status}` : null));
  const todo = cells.filter((c) => before[c.index] !== 'finished');
  const ctl = new AbortController();
  const onAbort = (): void => ctl.abort();
  if (o.signal?.aborted) ctl.abort();
  o.signal?.addEventListener('abort', onAbort);
  const started = Date.now();
  let counts = countStates(before);
  // Redraws after each change, one at a time: the counts from the history, the ETA from the throughput so far (cells
  // ended since this coordinator started), else from the estimate.
  const progress = async (): Promise<void> => {
    const links = await studyRuns(store.db, study.id);
    const latest = latestAttempts(links, study.cells);
    counts = countStates(latest.map((l) => l?.status ?? 'pending'));
    latest.forEach((l, index) => {
      if (!l || reported[index] === `${l.runId}|${l.status}`) return;
      reported[index] = `${l.runId}|${l.status}`;
      o.onCell?.({ index, runId: l.runId, state: l.status, error: l.error });
    });
    if (!o.onProgress) return;
    const elapsed = (Date.now() - started) / 1000;
    const endedHere = latest.filter((l) => l && Date.parse(l.createdAt) >= started && FINAL.has(l.status)).length;
    const remaining = counts.pending + counts.queued + counts.running;
    const eta = remaining === 0 ? 0 : endedHere > 0 ? (elapsed / endedHere) * remaining : o.cellSeconds != null ? (o.cellSeconds * remaining) / o.executor.parallel : null;
    o.onProgress({ studyId: study.id, name: study.name, cells: study.cells, counts, etaSeconds: eta, elapsedSeconds: elapsed });
  };
  let chain = Promise.resolve();
  const refresh = (): void => {
    chain = chain.then(progress).catch(() => undefined);
  };
  const poll = setInterval(() => {
    void studyCancelRequested(store.db, study.id)
      .then((c) => {
        if (c) ctl.abort();
      })
      .catch(() => undefined);
    refresh();
  }, o.pollMs ?? 1000);
  let outcome: 'settled' | 'submitted';
  try {
    refresh();
    outcome = await o.executor.run({ store, study, cells: todo, signal: ctl.signal, onChange: refresh, backend: o.backend, dataDir: o.dataDir });
  } catch (e) {
    clearInterval(poll);
    o.signal?.removeEventListener('abort', onAbort);
    await releaseStudy(store.db, study.id, 'failed').catch(() => undefined);
    throw e;
  }
  clearInterval(poll);
  o.signal?.removeEventListener('abort', onAbort);
  refresh();
  await chain;
  const status: StudyStatus =
    outcome === 'submitted' ? 'running' : counts.finished === study.cells ? 'finished' : ctl.signal.aborted ? 'cancelled' : 'failed';
  await releaseStudy(store.db, study.id, status);
  return { status, study: await findStudy(store.db, study.id), counts };
}

/**
 * Cancels a study from any process: its coordinator starts no more cells, and every running cell is asked to stop
 * (the process running it sees the request at its next heartbeat). With no coordinator alive, the study is marked
 * cancelled here. Returns how many cells were asked to stop.
 */
export async function cancelStudy(store: HistoryStore, ref: string): Promise<{ id: string; stopping: number }> {
  const study = await findStudy(store.db, ref);
  await requestStudyCancel(store.db, study.id);
  let stopping = 0;
  for (const l of latestAttempts(await studyRuns(store.db, study.id), study.cells)) {
    if (l && (l.status === 'running' || l.status === 'queued')) {
      await store.requestCancel(l.runId);
      stopping++;
    }
  }
  if (!coordinatorAlive(study)) {
    await settleOrphans(store, study);
    if (study.status === 'running' || study.status === 'created') await releaseStudy(store.db, study.id, 'cancelled');
  }
  return { id: study.id, stopping };
}

/** Deletes a study; its runs too when `withRuns`, else they stay in the history, unlinked. Refused while it runs. */
export async function deleteStudy(store: HistoryStore, ref: string, withRuns: boolean): Promise<{ id: string; runsDeleted: number }> {
  const study = await findStudy(store.db, ref);
  if (coordinatorAlive(study)) throw new InputError(`study ${study.name} (${study.id}) is running; cancel it first (modelab study cancel ${study.id})`);
  const links = await studyRuns(store.db, study.id);
  const active = links.find((l) => l.status === 'running' || l.status === 'queued');
  if (active) throw new InputError(`run ${active.runId} of study ${study.id} is ${active.status}; cancel the study first (modelab study cancel ${study.id})`);
  let runsDeleted = 0;
  if (withRuns && links.length) runsDeleted = (await store.delete(links.map((l) => l.runId))).runs;
  await deleteStudyRow(store.db, study.id);
  return { id: study.id, runsDeleted };
}

/** A cell as the study document shows it. */
export interface StudyCellView {
  index: number;
  group: number;
  trial: number;
  seed: number;
  settings: StudyCell['settings'];
  label: string;
  state: CellState;
  /** The latest attempt's run (the finished one once the cell finished); null before the first. */
  runId: string | null;
  error: string | null;
  /** Every attempt's run, oldest first. */
  attempts: string[];
}

/** The study summary every listing shows: the stored record, whether its coordinator is alive, its cell counts. */
export interface StudySummary extends Omit<StudyRecord, 'recipe'> {
  axes: string[];
  trials: number;
  live: boolean;
  counts: Record<CellState, number>;
}

export interface StudyDocument {
  schema: typeof STUDY_SCHEMA;
  study: StudySummary & { recipe: ResolvedStudy };
  cells: StudyCellView[];
  /** Mean ± std over trials per combination of axis values, per metric (engine/study/aggregate.ts). */
  table: AggregateRow[];
}

function summaryOf(s: StudyRecord, states: CellState[]): StudySummary {
  const { recipe, ...rest } = s;
  return { ...rest, axes: recipe.axes.map((a) => a.field), trials: recipe.trials, live: coordinatorAlive(s), counts: countStates(states) };
}

export async function listStudySummaries(store: HistoryStore, list: () => Promise<StudyRecord[]>): Promise<StudySummary[]> {
  const out: StudySummary[] = [];
  for (const s of await list()) out.push(summaryOf(s, cellStates(await studyRuns(store.db, s.id), s.cells)));
  return out;
}

/** The cells with their finished runs' documents (what aggregation and the CSV read). */
export async function cellOutcomes(store: HistoryStore, study: StudyRecord): Promise<{ views: StudyCellView[]; outcomes: CellOutcome[] }> {
  const links = await studyRuns(store.db, study.id);
  const latest = latestAttempts(links, study.cells);
  const cells = expandStudy(study.recipe);
  const views: StudyCellView[] = [];
  const outcomes: CellOutcome[] = [];
  for (const c of cells) {
    const l = latest[c.index];
    views.push({
      index: c.index,
      group: c.group,
      trial: c.trial,
      seed: c.seed,
      settings: c.settings,
      label: c.label,
      state: l?.status ?? 'pending',
      runId: l?.runId ?? null,
      error: l?.error ?? null,
      attempts: links.filter((x) => x.cell === c.index).map((x) => x.runId),
    });
    const finished = l?.status === 'finished' ? l.runId : null;
    outcomes.push({ index: c.index, group: c.group, trial: c.trial, settings: c.settings, runId: finished, doc: finished ? storedDocument(await store.get(finished)) : null });
  }
  return { views, outcomes };
}

/** The study, its cells and the aggregated table: what `--json` prints and the api returns. */
export async function studyDocument(store: HistoryStore, ref: string): Promise<StudyDocument> {
  const study = await findStudy(store.db, ref);
  const { views, outcomes } = await cellOutcomes(store, study);
  return {
    schema: STUDY_SCHEMA,
    study: { ...summaryOf(study, views.map((v) => v.state)), recipe: study.recipe },
    cells: views,
    table: aggregateStudy(outcomes),
  };
}

