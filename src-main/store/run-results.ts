/**
 * A run's results saved as each stage of its job completes (store/recorded-event.ts: one save per event kind), each in
 * its own transaction, so that a run that crashes keeps everything computed so far. A staged file is placed in the
 * same transaction; the file it replaces goes when no other run refers to it.
 */
import type { EndpointResult, PathResult, PlaneResult, StabilityReport } from '../engine/experiment/result';
import type { CurvePoint } from '../engine/train/loop';
import type { StagedArtifact } from './artifacts';
import { dropOrphans } from './gc';
import { addRef, insertCurve, writeCheckpoint, writeEndpoint, writePath, writePlane } from './run-writes';
import type { Sql } from './sqlite';
import type { StoreParts } from './store-parts';
import type { CheckpointRecord, RunEnvironment } from './types';

/** Where and with what the run computes, known from its setup on. */
export async function saveEnvironment(s: StoreParts, id: string, env: RunEnvironment): Promise<void> {
  await s.db.run(
    `UPDATE runs SET environment_json = ?, app_version = ?, backend = ?, device = ?, tfjs_version = ?, dataset_name = ?,
       dataset_checksum = ? WHERE id = ?`,
    [JSON.stringify(env), env.modelab, env.backend, env.device, env.tfjsVersion, env.dataset?.name ?? null, env.dataset?.checksum ?? null, id],
  );
}

/** Training curve points of an endpoint still training. */
export async function appendCurve(s: StoreParts, id: string, endpoint: string, points: CurvePoint[]): Promise<void> {
  if (!points.length) return;
  await s.db.transaction((sql) => insertCurve(sql, id, endpoint, points));
}

/**
 * Rows and, with a staged file, its artifact reference under `role`, in one transaction; the file the reference
 * replaced goes when no other run refers to it.
 */
async function saveWithFile(s: StoreParts, id: string, role: string, file: StagedArtifact | undefined, write: (sql: Sql) => Promise<void>): Promise<void> {
  const replaced = await s.db.transaction(async (sql) => {
    await write(sql);
    return file ? addRef(sql, s.artifacts, id, role, file) : null;
  });
  if (replaced) await dropOrphans(s, [replaced]);
}

/**
 * A training checkpoint: the endpoint's weights at `c.epoch`, replacing its previous checkpoint. Kept after the run
 * ends, whatever its status.
 */
export function saveCheckpoint(s: StoreParts, id: string, c: CheckpointRecord, weights: StagedArtifact): Promise<void> {
  return saveWithFile(s, id, `checkpoint:${c.endpoint}`, weights, (sql) => writeCheckpoint(sql, id, c));
}

/** An endpoint is trained and evaluated: its metrics, its full curve, and its weights. */
export function saveEndpoint(s: StoreParts, id: string, index: number, e: EndpointResult, weights?: StagedArtifact): Promise<void> {
  return saveWithFile(s, id, `endpoint:${e.name}`, weights, (sql) => writeEndpoint(sql, id, index, e));
}

/** The exact evaluation sets. */
export function saveEvalData(s: StoreParts, id: string, data: StagedArtifact): Promise<void> {
  return saveWithFile(s, id, 'eval-data', data, async () => undefined);
}

export async function saveStability(s: StoreParts, id: string, stability: StabilityReport): Promise<void> {
  await s.db.run('UPDATE runs SET stability_json = ? WHERE id = ?', [JSON.stringify(stability), id]);
}

/** A path is built and evaluated: its result and its vertices. */
export function savePath(s: StoreParts, id: string, index: number, p: PathResult, vertices?: StagedArtifact): Promise<void> {
  return saveWithFile(s, id, `path:${p.name}`, vertices, (sql) => writePath(sql, id, index, p));
}

/** The loss plane is computed. */
export async function savePlane(s: StoreParts, id: string, plane: PlaneResult): Promise<void> {
  await s.db.transaction((sql) => writePlane(sql, id, plane));
}
