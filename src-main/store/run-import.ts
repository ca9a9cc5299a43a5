/** Inserting a whole run at once: a bundle's run, its documents as their schemas checked them (store/bundle-read.ts). */
import type { BundleHistoryRecord, BundleRunDocument } from './bundle-schema';
import { newRunId } from './ids';
import { recipeSeed } from './run-lifecycle';
import { addRef, insertCurve, writeCheckpoint, writeEndpoint, writePath, writePlane, writeTags } from './run-writes';
import type { StoreParts } from './store-parts';
import { FINAL_STATUSES } from './types';

export interface ImportedArtifact {
  role: string;
  data: Uint8Array;
  /** For a checkpoint (role `checkpoint:<endpoint>`): where in training it was taken. */
  checkpoint?: { epoch: number; step: number };
}

const json = (v: unknown): string | null => (v === undefined || v === null ? null : JSON.stringify(v));

/**
 * Inserts a whole run (from a bundle): the history record, the run document's endpoints, curves, paths and plane,
 * and its artifacts (with the checkpoint records of checkpoint artifacts). Keeps the record's id unless a run with
 * that id exists (then a new id). Returns the id used.
 */
export async function insertRun(s: StoreParts, record: BundleHistoryRecord, doc: Pick<BundleRunDocument, 'endpoints' | 'paths' | 'plane'>, artifacts: ImportedArtifact[]): Promise<string> {
  const staged = artifacts.map((a) => ({ role: a.role, checkpoint: a.checkpoint, staged: s.artifacts.stage(a.data) }));
  try {
    return await s.db.transaction(async (sql) => {
      const taken = await sql.get('SELECT 1 FROM runs WHERE id = ?', [record.id]);
      const id = taken || !/^[0-9a-z]{16}$/.test(record.id) ? newRunId() : record.id;
      const env = record.environment;
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
          recipeSeed(record.config),
          json(env),
          json(record.stability),
          json(record.timings),
          record.notes,
          record.colour,
        ],
      );
      await writeTags(sql, id, record.tags);
      for (const [i, e] of doc.endpoints.entries()) await writeEndpoint(sql, id, i, e);
      for (const [ep, pts] of Object.entries(record.partialCurves ?? {})) await insertCurve(sql, id, ep, pts);
      for (const [i, p] of doc.paths.entries()) await writePath(sql, id, i, p);
      if (doc.plane) await writePlane(sql, id, doc.plane);
      for (const a of staged) {
        await addRef(sql, s.artifacts, id, a.role, a.staged);
        if (a.checkpoint && a.role.startsWith('checkpoint:')) await writeCheckpoint(sql, id, { endpoint: a.role.slice('checkpoint:'.length), ...a.checkpoint });
      }
      return id;
    });
  } finally {
    for (const a of staged) s.artifacts.discard(a.staged);
  }
}
