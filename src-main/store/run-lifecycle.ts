/**
 * A run's status over its life: created (queued), started (running, with the job process's pid and heartbeat),
 * finished, or moved to another final status (failed, cancelled, crashed); and the cancel request a job polls for.
 */
import os from 'node:os';
import type { RunResult } from '../engine/experiment/result';
import { RunNotFoundError } from './errors';
import { newRunId } from './ids';
import type { Sql } from './sqlite';
import { writeTags } from './run-writes';
import { type StoreParts, finiteOrNull, marks } from './store-parts';
import { ACTIVE_STATUSES, FINAL_STATUSES, type RunStatus } from './types';

export interface CreateRunInput {
  name: string;
  preset: string | null;
  config: unknown;
  tags?: string[];
  notes?: string;
  colour?: string | null;
  /** Written in the run's own transaction, so that neither exists without the other (a study's link to its cell's
   *  run: store/studies.ts linkRun). */
  alongside?: (sql: Sql, id: string) => Promise<void>;
}

/** The recipe's seed, when it has one (the history list shows it in a column). */
export function recipeSeed(config: unknown): number | null {
  return typeof config === 'object' && config !== null && 'seed' in config && typeof config.seed === 'number' ? finiteOrNull(config.seed) : null;
}

/** A new queued run; returns its id. */
export async function createRun(s: StoreParts, input: CreateRunInput): Promise<string> {
  const id = newRunId();
  await s.db.transaction(async (sql) => {
    await sql.run(
      `INSERT INTO runs (id, name, preset, config_json, status, created_at, seed, notes, colour)
       VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?)`,
      [id, input.name, input.preset, JSON.stringify(input.config), new Date().toISOString(), recipeSeed(input.config), input.notes ?? '', input.colour ?? null],
    );
    await writeTags(sql, id, new Set(input.tags ?? []));
    await input.alongside?.(sql, id);
  });
  return id;
}

/** queued → running, with the job process's pid. */
export async function markStarted(s: StoreParts, id: string, pid: number | null, host = os.hostname()): Promise<void> {
  const now = Date.now();
  await s.db.run(
    `UPDATE runs SET status = 'running', started_at = ?, heartbeat_at = ?, pid = ?, host = ? WHERE id = ? AND status IN ('queued', 'running')`,
    [new Date(now).toISOString(), now, pid, host, id],
  );
}

export async function heartbeat(s: StoreParts, ids: string[], now = Date.now()): Promise<void> {
  if (!ids.length) return;
  await s.db.run(`UPDATE runs SET heartbeat_at = ? WHERE status IN ('queued', 'running') AND id IN (${marks(ids)})`, [now, ...ids]);
}

/**
 * The run finished: what only its end knows — the status, its start and finishing times as the document has them,
 * and the timings. Everything else was recorded as the run's events came (run-results.ts: endpoints, paths,
 * stability, the plane; the environment from the job's setup), so it is not written again; a result stage the
 * history lacks means an event was lost, and the run is not marked finished.
 */
export async function finishRun(s: StoreParts, id: string, result: RunResult): Promise<void> {
  await s.db.transaction(async (sql) => {
    const stored = async (table: 'endpoints' | 'paths'): Promise<Set<string>> =>
      new Set((await sql.all<{ name: string }>(`SELECT name FROM ${table} WHERE run_id = ?`, [id])).map((r) => r.name));
    const endpoints = await stored('endpoints');
    const paths = await stored('paths');
    const lost = [...result.endpoints.filter((e) => !endpoints.has(e.name)).map((e) => `endpoint ${e.name}`), ...result.paths.filter((p) => !paths.has(p.name)).map((p) => `path ${p.name}`)];
    if (lost.length) throw new Error(`internal: run ${id} finished but the history never received its ${lost.join(', ')}`);
    const changed = await sql.run(
      `UPDATE runs SET status = 'finished', started_at = ?, finished_at = ?, timings_json = ?, error = NULL, heartbeat_at = NULL, pid = NULL, host = NULL
       WHERE id = ?`,
      [result.startedAt, result.finishedAt, JSON.stringify(result.timings), id],
    );
    if (changed.changes === 0) throw new RunNotFoundError(`run ${id} is no longer in the history`);
  });
}

/**
 * Moves a run to a final status (failed, cancelled, crashed) or back to queued, only from one of `from`
 * (default: queued or running). Returns whether it changed.
 */
export async function setStatus(s: StoreParts, id: string, status: RunStatus, opts: { error?: string | null; from?: readonly RunStatus[] } = {}): Promise<boolean> {
  const from = opts.from ?? ACTIVE_STATUSES;
  const final = FINAL_STATUSES.includes(status);
  const r = await s.db.run(
    `UPDATE runs SET status = ?, error = ?, finished_at = CASE WHEN ? THEN coalesce(finished_at, ?) ELSE finished_at END,
       heartbeat_at = CASE WHEN ? THEN NULL ELSE heartbeat_at END, pid = CASE WHEN ? THEN NULL ELSE pid END,
       host = CASE WHEN ? THEN NULL ELSE host END
     WHERE id = ? AND status IN (${marks(from)})`,
    [status, opts.error ?? null, final ? 1 : 0, new Date().toISOString(), final ? 1 : 0, final ? 1 : 0, final ? 1 : 0, id, ...from],
  );
  return r.changes > 0;
}

/** Asks whichever process runs the job to cancel it (it polls with its heartbeat). */
export async function requestCancel(s: StoreParts, id: string): Promise<void> {
  await s.db.run('UPDATE runs SET cancel_requested = 1 WHERE id = ?', [id]);
}

/** Which of these runs have a cancel request. */
export async function cancelRequested(s: StoreParts, ids: string[]): Promise<string[]> {
  if (!ids.length) return [];
  const rows = await s.db.all<{ id: string }>(`SELECT id FROM runs WHERE cancel_requested = 1 AND id IN (${marks(ids)})`, ids);
  return rows.map((r) => r.id);
}
