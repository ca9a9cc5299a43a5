/**
 * Studies in the history (migration 007): the studies table and the links from a study's cells to their runs. Each
 * cell's runs are ordinary runs (HistoryStore); an attempt at a cell is one run, and the cell's state is its latest
 * attempt's status ('pending' before the first). The SQL of studies lives here and only here.
 */
import os from 'node:os';
import type { ResolvedStudy } from '../engine/study/expand';
import { InputError } from '../engine/util/errors';
import { pidAlive } from './history';
import { newRunId } from './ids';
import type { Database, Sql } from './sqlite';
import { RUN_STATUSES, type RunStatus, type StudyStatus } from './types';


/** A cell's state: its latest run's status, or 'pending' before its first run. */
export type CellState = RunStatus | 'pending';

/** No study with that id, id prefix or name (or it names several). */
export class StudyNotFoundError extends InputError {
  override name = 'StudyNotFoundError';
}

export interface StudyRecord {
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
  recipe: ResolvedStudy;
  cells: number;
  /** As the coordinating process last set it; 'running' with the coordinator gone reads as interrupted (`live`). */
  status: StudyStatus;
  executor: string;
  executorState: unknown;
  coordinator: { pid: number; host: string } | null;
  cancelRequested: boolean;
}

/** One attempt at a cell. */
export interface StudyRunLink {
  cell: number;
  trial: number;
  runId: string;
  status: RunStatus;
  createdAt: string;
  finishedAt: string | null;
  error: string | null;
}

interface StudyRow {
  id: string;
  name: string;
  created_at: string;
  updated_at: string;
  recipe_json: string;
  cells: number;
  status: StudyStatus;
  executor: string;
  executor_state_json: string | null;
  coordinator_pid: number | null;
  coordinator_host: string | null;
  cancel_requested: number;
}

const fromRow = (r: StudyRow): StudyRecord => ({
  id: r.id,
  name: r.name,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  recipe: JSON.parse(r.recipe_json) as ResolvedStudy,
  cells: r.cells,
  status: r.status,
  executor: r.executor,
  executorState: r.executor_state_json === null ? null : (JSON.parse(r.executor_state_json) as unknown),
  coordinator: r.coordinator_pid === null ? null : { pid: r.coordinator_pid, host: r.coordinator_host ?? '' },
  cancelRequested: r.cancel_requested === 1,
});

const now = (): string => new Date().toISOString();

export async function createStudy(db: Database, s: { recipe: ResolvedStudy; cells: number; executor: string; executorState?: unknown }): Promise<string> {
  const id = newRunId();
  const t = now();
  await db.run(
    `INSERT INTO studies (id, name, created_at, updated_at, recipe_json, cells, status, executor, executor_state_json)
     VALUES (?, ?, ?, ?, ?, ?, 'created', ?, ?)`,
    [id, s.recipe.name, t, t, JSON.stringify(s.recipe), s.cells, s.executor, s.executorState === undefined ? null : JSON.stringify(s.executorState)],
  );
  return id;
}

/** A study by id, unique id prefix (4 characters at least) or name (the newest of that name). */
export async function findStudy(db: Database, ref: string): Promise<StudyRecord> {
  const exact = await db.get<StudyRow>('SELECT * FROM studies WHERE id = ?', [ref]);
  if (exact) return fromRow(exact);
  if (/^[0-9a-z]{4,15}$/.test(ref)) {
    const rows = await db.all<StudyRow>("SELECT * FROM studies WHERE id LIKE ? || '%' ESCAPE '\\'", [ref]);
    if (rows.length === 1) return fromRow(rows[0]!);
    if (rows.length > 1) throw new StudyNotFoundError(`study id prefix '${ref}' matches ${rows.length} studies; give more of it`);
  }
  const named = await db.get<StudyRow>('SELECT * FROM studies WHERE name = ? ORDER BY created_at DESC, id DESC LIMIT 1', [ref]);
  if (named) return fromRow(named);
  throw new StudyNotFoundError(`no study '${ref.slice(0, 80)}' (modelab study list shows them)`);
}

export async function listStudies(db: Database): Promise<StudyRecord[]> {
  return (await db.all<StudyRow>('SELECT * FROM studies ORDER BY created_at DESC, id DESC')).map(fromRow);
}

/** Every attempt at every cell of a study, by cell, oldest attempt first. */
export async function studyRuns(db: Database, studyId: string): Promise<StudyRunLink[]> {
  const rows = await db.all<{ cell: number; trial: number; run_id: string; status: RunStatus; created_at: string; finished_at: string | null; error: string | null }>(
    `SELECT l.cell, l.trial, l.run_id, r.status, r.created_at, r.finished_at, r.error
       FROM study_runs l JOIN runs r ON r.id = l.run_id
      WHERE l.study_id = ? ORDER BY l.cell, r.created_at, r.id`,
    [studyId],
  );
  return rows.map((r) => ({ cell: r.cell, trial: r.trial, runId: r.run_id, status: r.status, createdAt: r.created_at, finishedAt: r.finished_at, error: r.error }));
}

/** Each cell's latest attempt (index = cell; undefined where none). */
export function latestAttempts(links: StudyRunLink[], cells: number): (StudyRunLink | undefined)[] {
  const out: (StudyRunLink | undefined)[] = Array.from({ length: cells }, () => undefined);
  for (const l of links) if (l.cell < cells) out[l.cell] = l; // oldest first: the last one wins
  return out;
}

export const cellStates = (links: StudyRunLink[], cells: number): CellState[] => latestAttempts(links, cells).map((l) => l?.status ?? 'pending');

/** How many cells are in each state. */
export function countStates(states: CellState[]): Record<CellState, number> {
  const c = Object.fromEntries(['pending', ...RUN_STATUSES].map((k) => [k, 0])) as Record<CellState, number>;
  for (const s of states) c[s]++;
  return c;
}

/** Links a run to its study's cell (`sql`: the database, or the transaction that creates the run). */
export async function linkRun(sql: Sql, studyId: string, cell: number, trial: number, runId: string): Promise<void> {
  await sql.run('INSERT INTO study_runs (study_id, cell, trial, run_id) VALUES (?, ?, ?, ?)', [studyId, cell, trial, runId]);
}

export async function setStudyStatus(db: Database, id: string, status: StudyStatus): Promise<void> {
  await db.run('UPDATE studies SET status = ?, updated_at = ? WHERE id = ?', [status, now(), id]);
}

export async function setExecutorState(db: Database, id: string, executor: string, state: unknown): Promise<void> {
  await db.run('UPDATE studies SET executor = ?, executor_state_json = ?, updated_at = ? WHERE id = ?', [executor, JSON.stringify(state ?? null), now(), id]);
}

/** Whether the study's coordinating process is alive: on this host, by pid (another host's cannot be seen: assumed). */
export function coordinatorAlive(s: StudyRecord, isAlive: (pid: number) => boolean = pidAlive): boolean {
  if (!s.coordinator) return false;
  if (s.coordinator.host !== os.hostname()) return true;
  return s.coordinator.pid === process.pid || isAlive(s.coordinator.pid);
}

/**
 * Makes this process the study's coordinator, clearing an old cancel request; refused (one line) while another live
 * process coordinates it. In one transaction, so two processes cannot both claim it.
 */
export async function claimStudy(db: Database, id: string, executor: string): Promise<void> {
  await db.transaction(async (sql) => {
    const r = await sql.get<StudyRow>('SELECT * FROM studies WHERE id = ?', [id]);
    if (!r) throw new StudyNotFoundError(`no study '${id}'`);
    const s = fromRow(r);
    if (s.coordinator && s.coordinator.pid !== process.pid && coordinatorAlive(s)) {
      throw new InputError(`study ${s.name} (${id}) is being run by process ${s.coordinator.pid} on ${s.coordinator.host}; wait for it, or stop it with 'modelab study cancel ${id}'`);
    }
    await sql.run(
      "UPDATE studies SET coordinator_pid = ?, coordinator_host = ?, cancel_requested = 0, status = 'running', executor = ?, updated_at = ? WHERE id = ?",
      [process.pid, os.hostname(), executor, now(), id],
    );
  });
}

/** The coordinator lets go of the study, leaving it in `status`. */
export async function releaseStudy(db: Database, id: string, status: StudyStatus): Promise<void> {
  await db.run('UPDATE studies SET coordinator_pid = NULL, coordinator_host = NULL, status = ?, updated_at = ? WHERE id = ?', [status, now(), id]);
}

export async function requestStudyCancel(db: Database, id: string): Promise<void> {
  await db.run('UPDATE studies SET cancel_requested = 1, updated_at = ? WHERE id = ?', [now(), id]);
}

export async function studyCancelRequested(db: Database, id: string): Promise<boolean> {
  return (await db.get<{ c: number }>('SELECT cancel_requested AS c FROM studies WHERE id = ?', [id]))?.c === 1;
}

/** Removes the study and its links (not its runs: the caller deletes them first when asked to). */
export async function deleteStudyRow(db: Database, id: string): Promise<void> {
  await db.run('DELETE FROM studies WHERE id = ?', [id]);
}
