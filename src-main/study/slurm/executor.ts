/**
 * The Slurm executor: a study's cells as one Slurm array job, in a study folder that the login node and the compute
 * nodes share (layout.ts). `prepareSlurmStudy` writes the cells and the job script, `submit` hands it to sbatch,
 * `status` says where each cell stands (the task's own exit file first, then squeue, then sacct or scontrol),
 * `follow` polls until no task is queued or running, `collect` imports finished runs into the history — each task's
 * run once, however often it is called — and `resubmit` runs failed cells again with the same script.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../engine/io/atomic';
import { makeDirs } from '../../engine/io/mkdirs';
import { InputError } from '../../engine/util/errors';
import { importBundles } from '../../store/bundle';
import type { HistoryStore } from '../../store/history';
import { newRunId } from '../../store/ids';
import { STUDY_LAYOUT, cellFile, exitFile, logFile, runDir, taskId } from './layout';
import { finishedTasks, queuedTasks, sbatch, scancel } from './queue';
import { type SlurmOptions, sbatchScript } from './script';

/** Where a cell stands. 'done': its run finished and waits to be collected; 'collected': it is in the history. */
export const SLURM_CELL_STATES = ['unsubmitted', 'queued', 'running', 'done', 'failed', 'collected'] as const;
export type SlurmCellState = (typeof SLURM_CELL_STATES)[number];

export interface SlurmCellStatus {
  cell: number;
  state: SlurmCellState;
  /** The cell's latest Slurm task, `<job>_<cell>`; null before it was submitted. */
  task: string | null;
  /** Slurm's word for the task (PENDING, RUNNING, COMPLETED, FAILED, TIMEOUT, CANCELLED, OUT_OF_MEMORY…), when known. */
  slurmState: string | null;
  /** The task's exit code, when it ended and one is known. */
  exitCode: number | null;
  /** The task's log (stdout and stderr), absolute; null before it was submitted. */
  log: string | null;
  /** For a failed cell: why, in one line. */
  reason: string | null;
  /** For a collected cell: its run in the history. */
  runId: string | null;
}

const stateSchema = z.object({
  version: z.literal(1),
  cells: z.number().int().positive(),
  submissions: z.array(z.object({ jobId: z.string().regex(/^\d+$/), cells: z.array(z.number().int().nonnegative()), at: z.string() })),
  // Task id → the run id chosen for its run before the import (so that a crash mid-import cannot duplicate it),
  // whether the import finished, and why the history refused the task's run folder (the cell then counts as failed).
  collected: z.record(
    z.string().regex(/^\d+_\d+$/),
    z.object({ cell: z.number().int().nonnegative(), runId: z.string(), imported: z.boolean(), error: z.string().optional() }),
  ),
});
type StudyState = z.infer<typeof stateSchema>;

function readState(dir: string): StudyState {
  const file = path.join(dir, STUDY_LAYOUT.state);
  if (!existsSync(file)) throw new InputError(`${dir} is not a Slurm study folder (no ${STUDY_LAYOUT.state})`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new InputError(`${file} cannot be read: ${(e as Error).message.split('\n')[0]}`);
  }
  const r = stateSchema.safeParse(raw);
  if (!r.success) throw new InputError(`${file} is damaged: ${r.error.issues[0]?.path.join('.') || '(root)'}: ${r.error.issues[0]?.message}`);
  return r.data;
}

const writeState = (dir: string, s: StudyState): void => writeFileAtomic(path.join(dir, STUDY_LAYOUT.state), `${JSON.stringify(s, null, 2)}\n`);

/** Whether `dir` holds a study that was submitted (its script and cells are then fixed). */
export function slurmStudySubmitted(dir: string): boolean {
  const abs = path.resolve(dir);
  return existsSync(path.join(abs, STUDY_LAYOUT.state)) && readState(abs).submissions.length > 0;
}

/**
 * Writes the cells' recipes and the array job script into `dir` (made if missing). A folder whose study was never
 * submitted (sbatch refused it: a wrong partition) is written again; one that was is refused. The options are checked
 * before anything is written. Returns the script's path.
 */
export function prepareSlurmStudy(dir: string, recipes: unknown[], options: SlurmOptions): string {
  const abs = path.resolve(dir);
  const script = sbatchScript(abs, recipes.length, options);
  if (slurmStudySubmitted(abs)) throw new InputError(`${abs} already holds a submitted Slurm study; give another folder`);
  for (const [i, r] of recipes.entries()) writeFileAtomic(cellFile(abs, i), `${JSON.stringify(r, null, 2)}\n`);
  for (const d of [STUDY_LAYOUT.runs, STUDY_LAYOUT.logs, STUDY_LAYOUT.exit]) makeDirs(path.join(abs, d));
  const file = path.join(abs, STUDY_LAYOUT.script);
  writeFileAtomic(file, script);
  // The state last: a folder without it is not a study yet, and preparing it again is allowed.
  writeState(abs, { version: 1, cells: recipes.length, submissions: [], collected: {} });
  return file;
}

/** Each cell's latest submission: its job id. */
function latestJobs(s: StudyState): Map<number, string> {
  const m = new Map<number, string>();
  for (const sub of s.submissions) for (const c of sub.cells) m.set(c, sub.jobId);
  return m;
}

function readExitCode(dir: string, task: string): number | null {
  const f = exitFile(dir, task);
  if (!existsSync(f)) return null;
  const t = readFileSync(f, 'utf8').trim();
  return /^\d+$/.test(t) ? Number(t) : null;
}

export interface SubmitResult {
  jobId: string;
  cells: number[];
}

/** Submits the cells never submitted (all of them, the first time) as one array job. */
export async function submitSlurmStudy(dir: string): Promise<SubmitResult> {
  const abs = path.resolve(dir);
  const s = readState(abs);
  const submitted = latestJobs(s);
  const cells = [...Array(s.cells).keys()].filter((c) => !submitted.has(c));
  if (!cells.length) throw new InputError(`every cell of ${abs} was submitted already (see its status; resubmit failed cells)`);
  return submitCells(abs, s, cells);
}

async function submitCells(dir: string, s: StudyState, cells: number[]): Promise<SubmitResult> {
  const all = cells.length === s.cells;
  const jobId = await sbatch(path.join(dir, STUDY_LAYOUT.script), all ? undefined : cells.join(','));
  s.submissions.push({ jobId, cells, at: new Date().toISOString() });
  writeState(dir, s);
  return { jobId, cells };
}

/** Where every cell of the study in `dir` stands. */
export async function slurmStudyStatus(dir: string): Promise<SlurmCellStatus[]> {
  const abs = path.resolve(dir);
  return statusOf(abs, readState(abs));
}

async function statusOf(dir: string, s: StudyState): Promise<SlurmCellStatus[]> {
  const jobs = latestJobs(s);
  const jobIds = [...new Set(jobs.values())];
  // squeue before the exit files: a task that ends in between has written its exit file by the time it is read.
  const queued = await queuedTasks(jobIds);
  const out: SlurmCellStatus[] = [];
  const unresolved: SlurmCellStatus[] = [];
  for (let cell = 0; cell < s.cells; cell++) {
    const job = jobs.get(cell);
    const base = { cell, slurmState: null, exitCode: null, reason: null, runId: null };
    if (!job) {
      out.push({ ...base, state: 'unsubmitted', task: null, log: null });
      continue;
    }
    const task = taskId(job, cell);
    const st: SlurmCellStatus = { ...base, state: 'failed', task, log: logFile(dir, task) };
    out.push(st);
    const code = readExitCode(dir, task);
    if (code !== null) {
      st.exitCode = code;
      const collected = s.collected[task];
      if (code !== 0) st.reason = `the run exited with code ${code}`;
      else if (collected?.imported) Object.assign(st, { state: 'collected', runId: collected.runId });
      else if (collected?.error) st.reason = collected.error;
      else if (!existsSync(path.join(runDir(dir, cell), 'run.json'))) st.reason = `the run exited with code 0 but ${runDir(dir, cell)} holds no run.json`;
      else st.state = 'done';
      continue;
    }
    const q = queued.get(task);
    if (q) {
      st.slurmState = q;
      st.state = q === 'PENDING' ? 'queued' : 'running';
      continue;
    }
    unresolved.push(st);
  }
  // Ended without an exit file of its own: killed (time limit, cancel, memory, node failure) or never started.
  const known = await finishedTasks([...new Set(unresolved.map((u) => u.task!.split('_')[0]!))]);
  for (const st of unresolved) {
    const k = known.get(st.task!);
    if (k) {
      st.slurmState = k.state;
      st.exitCode = k.exitCode;
      st.reason = `Slurm reports ${k.state}${k.exitCode !== null ? ` with exit code ${k.exitCode}` : ''}${k.signal ? ` (signal ${k.signal})` : ''}; the task wrote no exit code`;
    } else {
      st.reason = 'the task is neither queued nor known to Slurm any more, and wrote no exit code';
    }
  }
  return out;
}

export interface FollowOptions {
  /** Seconds between polls (default 10: squeue is a request to the controller, shared by everyone). */
  intervalS?: number;
  signal?: AbortSignal;
  /** Called with every poll's status (awaited before the next poll). */
  onStatus?: (cells: SlurmCellStatus[]) => void | Promise<void>;
}

/** Polls the study until no cell is queued or running; returns the last status. An abort stops following, not the job. */
export async function followSlurmStudy(dir: string, o: FollowOptions = {}): Promise<SlurmCellStatus[]> {
  const abs = path.resolve(dir);
  for (;;) {
    const cells = await slurmStudyStatus(abs);
    await o.onStatus?.(cells);
    if (!cells.some((c) => c.state === 'queued' || c.state === 'running')) return cells;
    if (o.signal?.aborted) return cells;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, (o.intervalS ?? 10) * 1000);
      o.signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
    });
  }
}

export interface CollectResult {
  /** Runs imported by this call. */
  imported: { cell: number; task: string; runId: string }[];
  /** Every cell as it stands after the call (collected cells with their run ids, failed ones with exit code and log). */
  cells: SlurmCellStatus[];
}

/**
 * Imports every finished cell's run into the history. Each task's run is imported once: its id is chosen and noted in
 * slurm/state.json before the import, and a later collect (even after a crash mid-import) skips a run the history has.
 */
export async function collectSlurmStudy(dir: string, store: HistoryStore): Promise<CollectResult> {
  const abs = path.resolve(dir);
  const s = readState(abs);
  const imported: CollectResult['imported'] = [];
  for (const st of await statusOf(abs, s)) {
    if (st.state !== 'done') continue;
    const task = st.task!;
    let entry = s.collected[task];
    if (!entry) {
      entry = { cell: st.cell, runId: newRunId(), imported: false };
      s.collected[task] = entry;
      writeState(abs, s);
    }
    let ids: string[];
    try {
      ids = (await importBundles(store, runDir(abs, st.cell), { existing: 'skip', id: entry.runId })).ids;
    } catch (e) {
      // A run folder the history refuses (damaged, incomplete): the cell failed; resubmitting it runs it again.
      if (!(e instanceof InputError)) throw e;
      entry.error = `its run folder cannot be imported: ${e.message}`;
      writeState(abs, s);
      continue;
    }
    entry.imported = true;
    writeState(abs, s);
    if (ids.length) imported.push({ cell: st.cell, task, runId: entry.runId });
  }
  return { imported, cells: await statusOf(abs, s) };
}

/**
 * Submits failed cells again (`cells`, else every failed one) as a new array job with the same script; each keeps its
 * earlier log. Cells not failed are refused.
 */
export async function resubmitSlurmStudy(dir: string, cells?: number[]): Promise<SubmitResult> {
  const abs = path.resolve(dir);
  const s = readState(abs);
  const status = await statusOf(abs, s);
  const failed = status.filter((c) => c.state === 'failed').map((c) => c.cell);
  const chosen = cells ?? failed;
  for (const c of chosen) {
    const st = status[c];
    if (!st) throw new InputError(`the study has cells 0–${s.cells - 1}, not ${c}`);
    if (st.state !== 'failed') throw new InputError(`cell ${c} is ${st.state}, not failed: only failed cells are resubmitted`);
  }
  if (!chosen.length) throw new InputError('no cell failed: nothing to resubmit');
  // Each task clears runs/<i> before its run; the failed task's log and exit file stay, under its own task id.
  return submitCells(abs, s, [...new Set(chosen)].sort((a, b) => a - b));
}

/** Cancels the study's queued and running tasks (scancel of its array jobs); they then read as failed, CANCELLED. */
export async function cancelSlurmStudy(dir: string): Promise<void> {
  const abs = path.resolve(dir);
  await scancel([...new Set(latestJobs(readState(abs)).values())]);
}
