/** Reading the history: a run's id from a prefix, the run list (filtered, sorted, paged), one run's summary and all of it. */
import type { EndpointResult, PathResult, PlaneResult, StabilityReport } from '../engine/experiment/result';
import type { CurvePoint } from '../engine/train/loop';
import { RunNotFoundError } from './errors';
import { type RunRow, SUMMARY_COLUMNS, toSummary } from './run-row';
import type { SqlValue } from './sqlite';
import { type StoreParts, marks } from './store-parts';
import { type ArtifactRef, type CheckpointRecord, type ListQuery, type ListResult, RUN_STATUSES, type RunDetail, type RunEnvironment, type RunSummary } from './types';

const SORT_COLUMNS: Record<NonNullable<ListQuery['sort']>, string> = {
  created: 'r.created_at',
  started: 'r.started_at',
  finished: 'r.finished_at',
  name: 'r.name COLLATE NOCASE',
  status: 'r.status',
};

const escapeLike = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);
const parse = <T>(s: string | null): T | null => (s === null ? null : (JSON.parse(s) as T));

/** The full id of a run from its id or a unique prefix (at least 4 characters). */
export async function resolveId(s: StoreParts, idOrPrefix: string): Promise<string> {
  const p = idOrPrefix.trim().toLowerCase();
  if (p.length >= 4 && /^[0-9a-z]+$/.test(p)) {
    const rows = await s.db.all<{ id: string }>('SELECT id FROM runs WHERE id >= ? AND id < ? ORDER BY id LIMIT 2', [p, `${p}\u{ffff}`]);
    if (rows.length === 1) return rows[0]!.id;
    if (rows.length > 1 && rows.some((r) => r.id === p)) return p;
    if (rows.length > 1) throw new RunNotFoundError(`run id '${idOrPrefix}' is ambiguous (matches ${rows.map((r) => r.id).join(', ')} …)`);
  }
  throw new RunNotFoundError(`no run '${idOrPrefix}' in the history (${s.location.dbPath}); 'modelab list' shows the runs`);
}

export async function runExists(s: StoreParts, id: string): Promise<boolean> {
  return (await s.db.get('SELECT 1 FROM runs WHERE id = ?', [id])) !== undefined;
}

export async function listRuns(s: StoreParts, q: ListQuery = {}): Promise<ListResult> {
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (q.status?.length) {
    for (const st of q.status) if (!RUN_STATUSES.includes(st)) throw new Error(`unknown status '${st}'`);
    where.push(`r.status IN (${marks(q.status)})`);
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
  return s.db.read(async (sql) => {
    const rows = await sql.all<RunRow>(`SELECT ${SUMMARY_COLUMNS} FROM runs r ${w} ORDER BY ${sort} ${dir}, r.id ${dir} LIMIT ? OFFSET ?`, [
      ...params,
      limit,
      offset,
    ]);
    const total = (await sql.get<{ n: number }>(`SELECT count(*) AS n FROM runs r ${w}`, params))!.n;
    return { runs: rows.map(toSummary), total, limit, offset };
  });
}

export async function runSummary(s: StoreParts, idOrPrefix: string): Promise<RunSummary> {
  const id = await resolveId(s, idOrPrefix);
  const row = await s.db.get<RunRow>(`SELECT ${SUMMARY_COLUMNS} FROM runs r WHERE r.id = ?`, [id]);
  if (!row) throw new RunNotFoundError(`no run '${idOrPrefix}' in the history`);
  return toSummary(row);
}

/** Everything about one run (by id or unique prefix). */
export async function runDetail(s: StoreParts, idOrPrefix: string): Promise<RunDetail> {
  const id = await resolveId(s, idOrPrefix);
  return s.db.read(async (sql) => {
    const row = await sql.get<RunRow & { config_json: string; environment_json: string | null; stability_json: string | null; timings_json: string | null }>(
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
