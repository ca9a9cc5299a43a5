/**
 * The rows of a run's results, written inside a transaction: an endpoint with its curve, a path with its points, the
 * plane, a checkpoint record and artifact references. The stage saves (run-results.ts) and bundle import
 * (run-import.ts) both write through these.
 */
import { type CheckState, checkStateOf } from '../engine/experiment/check-state';
import type { ArtifactStore, StagedArtifact } from './artifacts';
import type { Sql } from './sqlite';
import { finiteOrNull as num } from './store-parts';
import type { CheckpointRecord } from './types';

/**
 * What the rows are written from: the fields that go into columns, the whole object kept as JSON. A run's own results
 * (EndpointResult, PathResult, CurvePoint) have these shapes, and so have a bundle's documents as their schema checks
 * them (store/bundle-schema.ts), where a metric that was not finite is null.
 */
export interface MetricsRow {
  loss: number | null;
  acc: number | null;
}
export interface CurvePointRow extends MetricsRow {
  step: number;
  epoch: number;
  lr: number | null;
  testLoss?: number | null;
  testAcc?: number | null;
}
export interface EndpointRow {
  name: string;
  seed: number;
  train: MetricsRow;
  test: MetricsRow;
  training: { curve: readonly CurvePointRow[] };
}
export interface PathRow {
  name: string;
  kind: string;
  from: string;
  to: string;
  check?: { pass: boolean; state?: CheckState };
  barrier?: { train?: { lossOverInterpolation?: { value: number | null } }; test?: { lossOverInterpolation?: { value: number | null } } };
  points: readonly { t: number; train: MetricsRow; test: MetricsRow }[];
}

export async function insertCurve(sql: Sql, id: string, endpoint: string, points: readonly CurvePointRow[]): Promise<void> {
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
export async function addRef(
  sql: Sql,
  artifacts: ArtifactStore,
  id: string,
  role: string,
  staged: StagedArtifact | { hash: string; size: number },
): Promise<string | null> {
  if ('file' in staged) artifacts.place(staged);
  else if (!artifacts.has(staged.hash)) throw new Error(`artifact ${staged.hash} is not in ${artifacts.dir}`);
  const old = await sql.get<{ hash: string }>('SELECT hash FROM artifact_refs WHERE run_id = ? AND role = ?', [id, role]);
  await sql.run('INSERT OR IGNORE INTO artifacts (hash, size, created_at) VALUES (?, ?, ?)', [staged.hash, staged.size, new Date().toISOString()]);
  await sql.run('INSERT OR REPLACE INTO artifact_refs (run_id, role, hash) VALUES (?, ?, ?)', [id, role, staged.hash]);
  return old && old.hash !== staged.hash ? old.hash : null;
}

/** The endpoint's row (its document without the curve) and its curve's points, replacing any it had. */
export async function writeEndpoint(sql: Sql, id: string, index: number, e: EndpointRow): Promise<void> {
  const stored = { ...e, training: { ...e.training, curve: null } };
  await sql.run(
    `INSERT OR REPLACE INTO endpoints (run_id, idx, name, seed, train_loss, train_acc, test_loss, test_acc, result_json)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [id, index, e.name, e.seed, num(e.train.loss), num(e.train.acc), num(e.test.loss), num(e.test.acc), JSON.stringify(stored)],
  );
  await sql.run('DELETE FROM curve_points WHERE run_id = ? AND endpoint = ?', [id, e.name]);
  await insertCurve(sql, id, e.name, e.training.curve);
}

/** The path's row (its document without the points, the columns the history table lists) and its points. */
export async function writePath(sql: Sql, id: string, index: number, p: PathRow): Promise<void> {
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

/** The plane document (PlaneResult), kept whole. */
export async function writePlane(sql: Sql, id: string, plane: object): Promise<void> {
  await sql.run('INSERT OR REPLACE INTO run_planes (run_id, plane_json) VALUES (?, ?)', [id, JSON.stringify(plane)]);
}

export async function writeCheckpoint(sql: Sql, id: string, c: CheckpointRecord): Promise<void> {
  await sql.run('INSERT OR REPLACE INTO checkpoints (run_id, endpoint, epoch, step) VALUES (?, ?, ?, ?)', [id, c.endpoint, c.epoch, c.step]);
}

export async function writeTags(sql: Sql, id: string, tags: Iterable<string>): Promise<void> {
  for (const t of tags) await sql.run('INSERT OR IGNORE INTO run_tags (run_id, tag) VALUES (?, ?)', [id, t]);
}
