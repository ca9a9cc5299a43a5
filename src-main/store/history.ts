/**
 * The experiment history: runs in SQLite (schema in migrations/), weights and path vertices in the artifact folder.
 * Results are saved as each stage of a job completes, so a run that crashes keeps everything computed so far.
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeDirs } from '../engine/io/mkdirs';
import { checkStateOf } from '../engine/experiment/check-state';
import type { EndpointResult, PathResult, PlaneResult, RunResult, StabilityReport } from '../engine/experiment/result';
import { RUN_SCHEMA } from '../engine/experiment/result';
import type { CurvePoint } from '../engine/train/loop';
import { ArtifactStore, type StagedArtifact } from './artifacts';
import { environmentOf } from './environment';
import { RunNotFoundError } from './errors';
import { newRunId } from './ids';
import { type HistoryLocation, resolveLocation } from './location';
import { type OpenDatabaseOptions, openDatabase } from './open';
import type { Database, Sql, SqlValue } from './sqlite';
import {
  type ArtifactRef,
  type CheckpointRecord,
  ACTIVE_STATUSES,
  FINAL_STATUSES,
  type HistoryRecord,
  type ListQuery,
  type ListResult,
  RUN_STATUSES,
  type RunDetail,
  type RunEnvironment,
  type RunStatus,
  type RunSummary,
} from './types';

interface RunRow {
  id: string;
  name: string;
  preset: string | null;
  config_json: string;
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
  environment_json: string | null;
  stability_json: string | null;
  timings_json: string | null;
  notes: string;
  colour: string | null;
  tags: string | null;
}

const SUMMARY_COLUMNS = `r.id, r.name, r.preset, r.status, r.created_at, r.started_at, r.finished_at, r.heartbeat_at, r.pid, r.host,
  r.error, r.app_version, r.backend, r.device, r.dataset_name, r.dataset_checksum, r.seed, r.notes, r.colour,
  (SELECT group_concat(tag, char(10)) FROM (SELECT tag FROM run_tags t WHERE t.run_id = r.id ORDER BY tag)) AS tags`;

const SORT_COLUMNS: Record<NonNullable<ListQuery['sort']>, string> = {
  created: 'r.created_at',
  started: 'r.started_at',
  finished: 'r.finished_at',
  name: 'r.name COLLATE NOCASE',
  status: 'r.status',
};

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const json = (v: unknown): string | null => (v === undefined || v === null ? null : JSON.stringify(v));
const parse = <T>(s: string | null): T | null => (s === null ? null : (JSON.parse(s) as T));
const num = (v: number | undefined | null): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const escapeLike = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);

function toSummary(r: RunRow): RunSummary {
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

export interface CreateRunInput {
  name: string;
  preset: string | null;
  config: unknown;
  tags?: string[];
  notes?: string;
  colour?: string | null;
}

export interface CrashDetection {
  /** A running run's heartbeat must be older than this to count as lost (default 6 s: 3 × the 2 s interval). */
  staleMs?: number;
  now?: number;
  /** Whether a process is alive here (default: signal 0). */
  isAlive?: (pid: number) => boolean;
  /** This machine's name (default os.hostname()); pids on other hosts are not checked, only heartbeats. */
  host?: string;
  /** A heartbeat older than this marks the run crashed even when its pid is alive on another host (default 1 h). */
  foreignHostStaleMs?: number;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface ImportedArtifact {
  role: string;
  data: Uint8Array;
  /** For a checkpoint (role `checkpoint:<endpoint>`): where in training it was taken. */
  checkpoint?: { epoch: number; step: number };
}

/** The space reserve (HistoryStore.ensureSpaceReserve), in the artifact folder; far more than a status update needs. */
const SPACE_RESERVE_FILE = '.space-reserve';
const SPACE_RESERVE_BYTES = 1024 * 1024;

export class HistoryStore {
  readonly artifacts: ArtifactStore;

  private constructor(
    readonly db: Database,
    readonly location: HistoryLocation,
  ) {
    this.artifacts = new ArtifactStore(location.artifactsDir);
  }

  /** Opens (creating or migrating) the history at `location` (default: MODELAB_HOME or the data directory). */
  static async open(location: HistoryLocation | { db?: string } = {}, opts: OpenDatabaseOptions = {}): Promise<HistoryStore> {
    const loc = 'dbPath' in location ? location : resolveLocation({ db: location.db });
    const db = await openDatabase(loc.dbPath, opts);
    return new HistoryStore(db, loc);
  }

  close(): Promise<void> {
    return this.db.close();
  }

  /** Opened read-only (the file or its disk cannot be written here): reads work, every write says why it cannot. */
  get readOnly(): boolean {
    return this.db.readonly;
  }

  // ------------------------------------------------------------------------------------------------- disk space

  /** A file kept beside the artifacts so that, when the disk runs full, a run's final status and reason still fit. */
  get spaceReservePath(): string {
    return path.join(this.location.artifactsDir, SPACE_RESERVE_FILE);
  }

  /** Makes the space reserve if it is missing (best effort: on a disk already full there is nothing to reserve). */
  ensureSpaceReserve(): void {
    if (this.readOnly || existsSync(this.spaceReservePath)) return;
    try {
      makeDirs(this.location.artifactsDir);
      writeFileSync(this.spaceReservePath, Buffer.alloc(SPACE_RESERVE_BYTES));
    } catch {
      rmSync(this.spaceReservePath, { force: true });
    }
  }

  /** Frees the space reserve (the disk is full); returns whether there was one. It is made again at the next open. */
  releaseSpaceReserve(): boolean {
    if (!existsSync(this.spaceReservePath)) return false;
    rmSync(this.spaceReservePath, { force: true });
    return true;
  }

  // ---------------------------------------------------------------------------------------------------------- ids

  /** The full id of a run from its id or a unique prefix (at least 4 characters). */
  async resolveId(idOrPrefix: string): Promise<string> {
    const s = idOrPrefix.trim().toLowerCase();
    if (s.length >= 4 && /^[0-9a-z]+$/.test(s)) {
      const rows = await this.db.all<{ id: string }>('SELECT id FROM runs WHERE id >= ? AND id < ? ORDER BY id LIMIT 2', [s, `${s}\u{ffff}`]);
      if (rows.length === 1) return rows[0]!.id;
      if (rows.length > 1 && rows.some((r) => r.id === s)) return s;
      if (rows.length > 1) throw new RunNotFoundError(`run id '${idOrPrefix}' is ambiguous (matches ${rows.map((r) => r.id).join(', ')} …)`);
    }
    throw new RunNotFoundError(`no run '${idOrPrefix}' in the history (${this.location.dbPath}); 'modelab list' shows the runs`);
  }

  async exists(id: string): Promise<boolean> {
    return (await this.db.get('SELECT 1 FROM runs WHERE id = ?', [id])) !== undefined;
  }

  // ---------------------------------------------------------------------------------------------- job lifecycle

  async createRun(input: CreateRunInput): Promise<string> {
    const id = newRunId();
    const cfg = input.config as { seed?: number };
    await this.db.transaction(async (sql) => {
      await sql.run(
        `INSERT INTO runs (id, name, preset, config_json, status, created_at, seed, notes, colour)
         VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?)`,
        [id, input.name, input.preset, JSON.stringify(input.config), new Date().toISOString(), num(cfg.seed), input.notes ?? '', input.colour ?? null],
      );
      for (const t of new Set(input.tags ?? [])) await sql.run('INSERT OR IGNORE INTO run_tags (run_id, tag) VALUES (?, ?)', [id, t]);
    });
    return id;
  }

  /** queued → running, with the job process's pid. */
  async markStarted(id: string, pid: number | null, host = os.hostname()): Promise<void> {
    const now = Date.now();
    await this.db.run(
      `UPDATE runs SET status = 'running', started_at = ?, heartbeat_at = ?, pid = ?, host = ? WHERE id = ? AND status IN ('queued', 'running')`,
      [new Date(now).toISOString(), now, pid, host, id],
    );
  }

  async heartbeat(ids: string[], now = Date.now()): Promise<void> {
    if (!ids.length) return;
    await this.db.run(`UPDATE runs SET heartbeat_at = ? WHERE status IN ('queued', 'running') AND id IN (${ids.map(() => '?').join(', ')})`, [now, ...ids]);
  }

  async saveEnvironment(id: string, env: RunEnvironment): Promise<void> {
    await this.db.run(
      `UPDATE runs SET environment_json = ?, app_version = ?, backend = ?, device = ?, tfjs_version = ?, dataset_name = ?,
         dataset_checksum = ? WHERE id = ?`,
      [JSON.stringify(env), env.modelab, env.backend, env.device, env.tfjsVersion, env.dataset?.name ?? null, env.dataset?.checksum ?? null, id],
    );
  }

  async appendCurve(id: string, endpoint: string, points: CurvePoint[]): Promise<void> {
    if (!points.length) return;
    await this.db.transaction((sql) => this.insertCurve(sql, id, endpoint, points));
  }

  private async insertCurve(sql: Sql, id: string, endpoint: string, points: CurvePoint[]): Promise<void> {
    for (const p of points) {
      await sql.run('INSERT OR REPLACE INTO curve_points (run_id, endpoint, step, epoch, lr, loss, acc, test_loss, test_acc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', [
        id,
        endpoint,
        p.step,
        p.epoch,
        p.lr,
        p.loss,
        p.acc,
        p.testLoss ?? null,
        p.testAcc ?? null,
      ]);
    }
  }

  /** Records an artifact reference (placing the staged file under the write lock). Returns the replaced hash, if any. */
  private async addRef(sql: Sql, id: string, role: string, staged: StagedArtifact | { hash: string; size: number }): Promise<string | null> {
    if ('file' in staged) this.artifacts.place(staged);
    else if (!this.artifacts.has(staged.hash)) throw new Error(`artifact ${staged.hash} is not in ${this.artifacts.dir}`);
    const old = await sql.get<{ hash: string }>('SELECT hash FROM artifact_refs WHERE run_id = ? AND role = ?', [id, role]);
    await sql.run('INSERT OR IGNORE INTO artifacts (hash, size, created_at) VALUES (?, ?, ?)', [staged.hash, staged.size, new Date().toISOString()]);
    await sql.run('INSERT OR REPLACE INTO artifact_refs (run_id, role, hash) VALUES (?, ?, ?)', [id, role, staged.hash]);
    return old && old.hash !== staged.hash ? old.hash : null;
  }

  private async writeEndpoint(sql: Sql, id: string, index: number, e: EndpointResult): Promise<void> {
    const stored = { ...e, training: { ...e.training, curve: null } };
    await sql.run(
      `INSERT OR REPLACE INTO endpoints (run_id, idx, name, seed, train_loss, train_acc, test_loss, test_acc, result_json)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [id, index, e.name, e.seed, num(e.train.loss), num(e.train.acc), num(e.test.loss), num(e.test.acc), JSON.stringify(stored)],
    );
    await sql.run('DELETE FROM curve_points WHERE run_id = ? AND endpoint = ?', [id, e.name]);
    await this.insertCurve(sql, id, e.name, e.training.curve);
  }

  private async writePath(sql: Sql, id: string, index: number, p: PathResult): Promise<void> {
    const stored = { ...p, points: null };
    await sql.run('DELETE FROM paths WHERE run_id = ? AND name = ?', [id, p.name]);
    await sql.run(
      `INSERT INTO paths (run_id, idx, name, kind, from_endpoint, to_endpoint, check_pass, check_state, train_barrier, test_barrier, result_json)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        id,
        index,
        p.name,
        p.kind,
        p.from,
        p.to,
        p.check ? (p.check.pass ? 1 : 0) : null,
        p.check ? checkStateOf(p.check) : null,
        num(p.barrier?.train?.lossOverInterpolation?.value),
        num(p.barrier?.test?.lossOverInterpolation?.value),
        JSON.stringify(stored),
      ],
    );
    let k = 0;
    for (const pt of p.points) {
      await sql.run('INSERT INTO path_points (run_id, path, idx, t, train_loss, train_acc, test_loss, test_acc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
        id,
        p.name,
        k++,
        pt.t,
        pt.train.loss,
        pt.train.acc,
        pt.test.loss,
        pt.test.acc,
      ]);
    }
  }

  private async writePlane(sql: Sql, id: string, plane: PlaneResult): Promise<void> {
    await sql.run('INSERT OR REPLACE INTO run_planes (run_id, plane_json) VALUES (?, ?)', [id, JSON.stringify(plane)]);
  }

  private async writeCheckpoint(sql: Sql, id: string, c: CheckpointRecord): Promise<void> {
    await sql.run('INSERT OR REPLACE INTO checkpoints (run_id, endpoint, epoch, step) VALUES (?, ?, ?, ?)', [id, c.endpoint, c.epoch, c.step]);
  }

  /**
   * A training checkpoint: the endpoint's weights at `c.epoch`, replacing its previous checkpoint (whose file goes
   * when no other run refers to it). Kept after the run ends, whatever its status.
   */
  async saveCheckpoint(id: string, c: CheckpointRecord, weights: StagedArtifact): Promise<void> {
    const replaced = await this.db.transaction(async (sql) => {
      const old = await this.addRef(sql, id, `checkpoint:${c.endpoint}`, weights);
      await this.writeCheckpoint(sql, id, c);
      return old;
    });
    if (replaced) await this.dropOrphans([replaced]);
  }

  /** The loss plane is computed. */
  async savePlane(id: string, plane: PlaneResult): Promise<void> {
    await this.db.transaction((sql) => this.writePlane(sql, id, plane));
  }

  /** An endpoint is trained and evaluated: its metrics, its full curve, and its weights. */
  async saveEndpoint(id: string, index: number, e: EndpointResult, weights?: StagedArtifact): Promise<void> {
    const replaced = await this.db.transaction(async (sql) => {
      await this.writeEndpoint(sql, id, index, e);
      return weights ? this.addRef(sql, id, `endpoint:${e.name}`, weights) : null;
    });
    if (replaced) await this.dropOrphans([replaced]);
  }

  async saveEvalData(id: string, data: StagedArtifact): Promise<void> {
    const replaced = await this.db.transaction((sql) => this.addRef(sql, id, 'eval-data', data));
    if (replaced) await this.dropOrphans([replaced]);
  }

  async saveStability(id: string, stability: StabilityReport): Promise<void> {
    await this.db.run('UPDATE runs SET stability_json = ? WHERE id = ?', [JSON.stringify(stability), id]);
  }

  /** A path is built and evaluated: its result and its vertices. */
  async savePath(id: string, index: number, p: PathResult, vertices?: StagedArtifact): Promise<void> {
    const replaced = await this.db.transaction(async (sql) => {
      await this.writePath(sql, id, index, p);
      return vertices ? this.addRef(sql, id, `path:${p.name}`, vertices) : null;
    });
    if (replaced) await this.dropOrphans([replaced]);
  }

  /** The run document is complete: the run is finished (everything in it is saved, whatever was saved before). */
  async finish(id: string, result: RunResult): Promise<void> {
    const env = environmentOf(result);
    await this.db.transaction(async (sql) => {
      const known = new Set((await sql.all<{ name: string }>('SELECT name FROM endpoints WHERE run_id = ?', [id])).map((r) => r.name));
      for (const [i, e] of result.endpoints.entries()) if (!known.has(e.name)) await this.writeEndpoint(sql, id, i, e);
      const paths = new Set((await sql.all<{ name: string }>('SELECT name FROM paths WHERE run_id = ?', [id])).map((r) => r.name));
      for (const [i, p] of result.paths.entries()) if (!paths.has(p.name)) await this.writePath(sql, id, i, p);
      const changed = await sql.run(
        `UPDATE runs SET status = 'finished', started_at = ?, finished_at = ?, error = NULL, heartbeat_at = NULL, pid = NULL, host = NULL,
           environment_json = ?, app_version = ?, backend = ?, device = ?, tfjs_version = ?, dataset_name = ?, dataset_checksum = ?,
           stability_json = ?, timings_json = ?
         WHERE id = ?`,
        [
          result.startedAt,
          result.finishedAt,
          JSON.stringify(env),
          env.modelab,
          env.backend,
          env.device,
          env.tfjsVersion,
          result.dataset.name,
          result.dataset.checksum,
          json(result.stability),
          JSON.stringify(result.timings),
          id,
        ],
      );
      if (changed.changes === 0) throw new RunNotFoundError(`run ${id} is no longer in the history`);
      if (result.plane) await this.writePlane(sql, id, result.plane);
    });
  }

  /**
   * Moves a run to a final status (failed, cancelled, crashed) or back to queued, only from one of `from`
   * (default: queued or running). Returns whether it changed.
   */
  async setStatus(id: string, status: RunStatus, opts: { error?: string | null; from?: RunStatus[] } = {}): Promise<boolean> {
    const from = opts.from ?? ACTIVE_STATUSES;
    const final = FINAL_STATUSES.includes(status);
    const r = await this.db.run(
      `UPDATE runs SET status = ?, error = ?, finished_at = CASE WHEN ? THEN coalesce(finished_at, ?) ELSE finished_at END,
         heartbeat_at = CASE WHEN ? THEN NULL ELSE heartbeat_at END, pid = CASE WHEN ? THEN NULL ELSE pid END,
         host = CASE WHEN ? THEN NULL ELSE host END
       WHERE id = ? AND status IN (${from.map(() => '?').join(', ')})`,
      [status, opts.error ?? null, final ? 1 : 0, new Date().toISOString(), final ? 1 : 0, final ? 1 : 0, final ? 1 : 0, id, ...from],
    );
    return r.changes > 0;
  }

  /** Asks whichever process runs the job to cancel it (it polls with its heartbeat). */
  async requestCancel(id: string): Promise<void> {
    await this.db.run('UPDATE runs SET cancel_requested = 1 WHERE id = ?', [id]);
  }

  async cancelRequested(ids: string[]): Promise<string[]> {
    if (!ids.length) return [];
    const rows = await this.db.all<{ id: string }>(`SELECT id FROM runs WHERE cancel_requested = 1 AND id IN (${ids.map(() => '?').join(', ')})`, ids);
    return rows.map((r) => r.id);
  }

  /**
   * Marks `crashed` every running run whose job is gone: its heartbeat is older than `staleMs` and its process is
   * not alive (on this host), or its heartbeat is very old (another host). Queued runs whose owner is gone (no
   * heartbeat for `staleMs` since creation, no pid) are crashed too. Returns the ids marked.
   */
  async detectCrashed(opts: CrashDetection = {}): Promise<string[]> {
    if (this.readOnly) return [];
    const now = opts.now ?? Date.now();
    const staleMs = opts.staleMs ?? 6000;
    const isAlive = opts.isAlive ?? pidAlive;
    const host = opts.host ?? os.hostname();
    const rows = await this.db.all<{ id: string; status: RunStatus; heartbeat_at: number | null; pid: number | null; host: string | null; created_at: string }>(
      "SELECT id, status, heartbeat_at, pid, host, created_at FROM runs WHERE status IN ('running', 'queued')",
    );
    const out: string[] = [];
    for (const r of rows) {
      const beat = r.heartbeat_at ?? Date.parse(r.created_at);
      if (now - beat <= staleMs) continue;
      const local = r.host === null || r.host === host;
      if (r.pid !== null && local && isAlive(r.pid)) continue;
      if (!local && now - beat <= (opts.foreignHostStaleMs ?? 3_600_000)) continue;
      const why =
        r.status === 'queued'
          ? 'the process that queued this run stopped before starting it'
          : `the job process${r.pid !== null ? ` (pid ${r.pid})` : ''} stopped without finishing (last heartbeat ${new Date(beat).toISOString()})`;
      if (await this.setStatus(r.id, 'crashed', { error: why, from: [r.status] })) out.push(r.id);
    }
    return out;
  }

  // ------------------------------------------------------------------------------------------------------ reading

  async list(q: ListQuery = {}): Promise<ListResult> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (q.status?.length) {
      for (const s of q.status) if (!RUN_STATUSES.includes(s)) throw new Error(`unknown status '${s}'`);
      where.push(`r.status IN (${q.status.map(() => '?').join(', ')})`);
      params.push(...q.status);
    }
    for (const t of q.tags ?? []) {
      where.push('r.id IN (SELECT run_id FROM run_tags WHERE tag = ?)');
      params.push(t);
    }
    if (q.preset) {
      where.push('r.preset = ?');
      params.push(q.preset);
    }
    if (q.search) {
      const like = `%${escapeLike(q.search)}%`;
      where.push(
        `(r.name LIKE ? ESCAPE '\\' OR r.notes LIKE ? ESCAPE '\\' OR r.id LIKE ? ESCAPE '\\'
          OR EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = r.id AND t.tag LIKE ? ESCAPE '\\'))`,
      );
      params.push(like, like, like, like);
    }
    const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const dir = q.order === 'asc' ? 'ASC' : 'DESC';
    const sort = SORT_COLUMNS[q.sort ?? 'created'];
    if (!sort) throw new Error(`unknown sort key '${q.sort}'`);
    const limit = Math.max(1, Math.min(1000, Math.floor(q.limit ?? 50)));
    const offset = Math.max(0, Math.floor(q.offset ?? 0));
    return this.db.read(async (sql) => {
      const rows = await sql.all<RunRow>(`SELECT ${SUMMARY_COLUMNS} FROM runs r ${w} ORDER BY ${sort} ${dir}, r.id ${dir} LIMIT ? OFFSET ?`, [
        ...params,
        limit,
        offset,
      ]);
      const total = (await sql.get<{ n: number }>(`SELECT count(*) AS n FROM runs r ${w}`, params))!.n;
      return { runs: rows.map(toSummary), total, limit, offset };
    });
  }

  async summary(idOrPrefix: string): Promise<RunSummary> {
    const id = await this.resolveId(idOrPrefix);
    const row = await this.db.get<RunRow>(`SELECT ${SUMMARY_COLUMNS} FROM runs r WHERE r.id = ?`, [id]);
    if (!row) throw new RunNotFoundError(`no run '${idOrPrefix}' in the history`);
    return toSummary(row);
  }

  /** Everything about one run (by id or unique prefix). */
  async get(idOrPrefix: string): Promise<RunDetail> {
    const id = await this.resolveId(idOrPrefix);
    return this.db.read(async (sql) => {
      const row = await sql.get<RunRow>(
        `SELECT ${SUMMARY_COLUMNS}, r.config_json, r.environment_json, r.stability_json, r.timings_json FROM runs r WHERE r.id = ?`,
        [id],
      );
      if (!row) throw new RunNotFoundError(`no run '${idOrPrefix}' in the history`);
      const curves: Record<string, CurvePoint[]> = {};
      const cps = await sql.all<Omit<CurvePoint, 'testLoss' | 'testAcc'> & { endpoint: string; testLoss: number | null; testAcc: number | null }>(
        'SELECT endpoint, step, epoch, lr, loss, acc, test_loss AS testLoss, test_acc AS testAcc FROM curve_points WHERE run_id = ? ORDER BY endpoint, step',
        [id],
      );
      // Test metrics only where they were measured (runs from before, BatchNorm networks: none).
      for (const { endpoint, testLoss, testAcc, ...p } of cps) (curves[endpoint] ??= []).push({ ...p, ...(testLoss !== null && testAcc !== null ? { testLoss, testAcc } : {}) });
      const endpoints = (await sql.all<{ result_json: string }>('SELECT result_json FROM endpoints WHERE run_id = ? ORDER BY idx', [id])).map((r) => {
        const e = JSON.parse(r.result_json) as EndpointResult;
        e.training.curve = curves[e.name] ?? [];
        return e;
      });
      const points = new Map<string, PathResult['points']>();
      const pps = await sql.all<{ path: string; t: number; train_loss: number; train_acc: number; test_loss: number; test_acc: number }>(
        'SELECT path, t, train_loss, train_acc, test_loss, test_acc FROM path_points WHERE run_id = ? ORDER BY path, idx',
        [id],
      );
      for (const p of pps) {
        let list = points.get(p.path);
        if (!list) points.set(p.path, (list = []));
        list.push({ t: p.t, train: { loss: p.train_loss, acc: p.train_acc }, test: { loss: p.test_loss, acc: p.test_acc } });
      }
      const paths = (await sql.all<{ result_json: string }>('SELECT result_json FROM paths WHERE run_id = ? ORDER BY idx', [id])).map((r) => {
        const p = JSON.parse(r.result_json) as PathResult;
        p.points = points.get(p.name) ?? [];
        return p;
      });
      const artifacts = await sql.all<ArtifactRef>(
        'SELECT ar.role, ar.hash, a.size FROM artifact_refs ar JOIN artifacts a ON a.hash = ar.hash WHERE ar.run_id = ? ORDER BY ar.role',
        [id],
      );
      const plane = await sql.get<{ plane_json: string }>('SELECT plane_json FROM run_planes WHERE run_id = ?', [id]);
      const checkpoints = await sql.all<CheckpointRecord>('SELECT endpoint, epoch, step FROM checkpoints WHERE run_id = ? ORDER BY endpoint', [id]);
      return {
        ...toSummary(row),
        config: JSON.parse(row.config_json) as unknown,
        environment: parse<RunEnvironment>(row.environment_json),
        endpoints,
        curves,
        stability: parse<StabilityReport>(row.stability_json),
        paths,
        plane: plane ? (JSON.parse(plane.plane_json) as PlaneResult) : null,
        checkpoints,
        timings: parse<Record<string, number>>(row.timings_json),
        artifacts,
      };
    });
  }

  // -------------------------------------------------------------------------------------------------- annotations

  private async updateOne(idOrPrefix: string, sqlText: string, params: SqlValue[]): Promise<string> {
    const id = await this.resolveId(idOrPrefix);
    await this.db.run(sqlText, [...params, id]);
    return id;
  }

  async addTags(idOrPrefix: string, tags: string[]): Promise<string> {
    const id = await this.resolveId(idOrPrefix);
    await this.db.transaction(async (sql) => {
      for (const t of tags) await sql.run('INSERT OR IGNORE INTO run_tags (run_id, tag) VALUES (?, ?)', [id, t]);
    });
    return id;
  }

  async removeTags(idOrPrefix: string, tags: string[]): Promise<string> {
    const id = await this.resolveId(idOrPrefix);
    await this.db.transaction(async (sql) => {
      for (const t of tags) await sql.run('DELETE FROM run_tags WHERE run_id = ? AND tag = ?', [id, t]);
    });
    return id;
  }

  setNotes(idOrPrefix: string, notes: string): Promise<string> {
    return this.updateOne(idOrPrefix, 'UPDATE runs SET notes = ? WHERE id = ?', [notes]);
  }

  rename(idOrPrefix: string, name: string): Promise<string> {
    return this.updateOne(idOrPrefix, 'UPDATE runs SET name = ? WHERE id = ?', [name]);
  }

  setColour(idOrPrefix: string, colour: string | null): Promise<string> {
    return this.updateOne(idOrPrefix, 'UPDATE runs SET colour = ? WHERE id = ?', [colour]);
  }

  // ----------------------------------------------------------------------------------------------------- deletion

  /** Deletes runs (rows, curves, paths, tags) and every artifact file no other run refers to. */
  async delete(ids: string[]): Promise<{ runs: number; artifactsRemoved: number }> {
    if (!ids.length) return { runs: 0, artifactsRemoved: 0 };
    const marks = ids.map(() => '?').join(', ');
    const { runs, hashes } = await this.db.transaction(async (sql) => {
      const hashes = (await sql.all<{ hash: string }>(`SELECT DISTINCT hash FROM artifact_refs WHERE run_id IN (${marks})`, ids)).map((r) => r.hash);
      const r = await sql.run(`DELETE FROM runs WHERE id IN (${marks})`, ids);
      return { runs: r.changes, hashes };
    });
    const artifactsRemoved = await this.dropOrphans(hashes);
    return { runs, artifactsRemoved };
  }

  /**
   * Removes the rows and files of artifacts no run refers to any more, under the write lock (a concurrent job placing
   * the same content either sees the file still there or places it again after us).
   */
  async dropOrphans(candidates?: string[]): Promise<number> {
    return this.db.transaction(async (sql) => {
      const orphans =
        candidates === undefined
          ? (await sql.all<{ hash: string }>('SELECT hash FROM artifacts a WHERE NOT EXISTS (SELECT 1 FROM artifact_refs r WHERE r.hash = a.hash)')).map((r) => r.hash)
          : candidates;
      let n = 0;
      for (const h of orphans) {
        if (await sql.get('SELECT 1 FROM artifact_refs WHERE hash = ? LIMIT 1', [h])) continue;
        await sql.run('DELETE FROM artifacts WHERE hash = ?', [h]);
        this.artifacts.remove(h);
        n++;
      }
      return n;
    });
  }

  /**
   * Housekeeping: artifact rows without references, staged files left by crashed processes (older than a day), and —
   * with `scanFiles` — stored files no row knows (a crash between placing a file and committing its row).
   */
  async gc(opts: { scanFiles?: boolean; stagedOlderThanMs?: number } = {}): Promise<{ orphans: number; staged: number; files: number }> {
    if (this.readOnly) return { orphans: 0, staged: 0, files: 0 };
    this.ensureSpaceReserve();
    const orphans = await this.dropOrphans();
    let staged = 0;
    for (const f of this.artifacts.staleStaged(opts.stagedOlderThanMs ?? 86_400_000)) {
      this.artifacts.discard({ file: f, hash: '', size: 0 });
      staged++;
    }
    let files = 0;
    if (opts.scanFiles) {
      files = await this.db.transaction(async (sql) => {
        const known = new Set((await sql.all<{ hash: string }>('SELECT hash FROM artifacts')).map((r) => r.hash));
        let n = 0;
        for (const h of this.artifacts.listStored()) {
          if (!known.has(h)) {
            this.artifacts.remove(h);
            n++;
          }
        }
        return n;
      });
    }
    return { orphans, staged, files };
  }

  // ------------------------------------------------------------------------------------------------------- import

  /**
   * Inserts a whole run (from a bundle): the history record, the run document's endpoints, curves, paths and plane,
   * and its artifacts (with the checkpoint records of checkpoint artifacts). Keeps the record's id unless a run with that id exists (then a new id). Returns the id used.
   */
  async insertRun(record: HistoryRecord, doc: RunResult, artifacts: ImportedArtifact[]): Promise<string> {
    const staged = artifacts.map((a) => ({ role: a.role, checkpoint: a.checkpoint, staged: this.artifacts.stage(a.data) }));
    try {
      return await this.db.transaction(async (sql) => {
        const taken = await sql.get('SELECT 1 FROM runs WHERE id = ?', [record.id]);
        const id = taken || !/^[0-9a-z]{16}$/.test(record.id) ? newRunId() : record.id;
        const env = record.environment;
        const cfg = record.config as { seed?: number };
        await sql.run(
          `INSERT INTO runs (id, name, preset, config_json, status, created_at, started_at, finished_at, error, app_version, backend,
             device, tfjs_version, dataset_name, dataset_checksum, seed, environment_json, stability_json, timings_json, notes, colour)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [
            id,
            record.name,
            record.preset,
            JSON.stringify(record.config),
            FINAL_STATUSES.includes(record.status) ? record.status : 'crashed',
            record.createdAt,
            record.startedAt,
            record.finishedAt,
            record.error,
            env?.modelab ?? null,
            env?.backend ?? null,
            env?.device ?? null,
            env?.tfjsVersion ?? null,
            env?.dataset?.name ?? null,
            env?.dataset?.checksum ?? null,
            num(cfg.seed),
            json(env),
            json(record.stability),
            json(record.timings),
            record.notes,
            record.colour,
          ],
        );
        for (const t of record.tags) await sql.run('INSERT OR IGNORE INTO run_tags (run_id, tag) VALUES (?, ?)', [id, t]);
        for (const [i, e] of doc.endpoints.entries()) await this.writeEndpoint(sql, id, i, e);
        for (const [ep, pts] of Object.entries(record.partialCurves ?? {})) await this.insertCurve(sql, id, ep, pts);
        for (const [i, p] of doc.paths.entries()) await this.writePath(sql, id, i, p);
        if (doc.plane) await this.writePlane(sql, id, doc.plane);
        for (const s of staged) {
          await this.addRef(sql, id, s.role, s.staged);
          if (s.checkpoint && s.role.startsWith('checkpoint:')) await this.writeCheckpoint(sql, id, { endpoint: s.role.slice('checkpoint:'.length), ...s.checkpoint });
        }
        return id;
      });
    } finally {
      for (const s of staged) this.artifacts.discard(s.staged);
    }
  }
}
