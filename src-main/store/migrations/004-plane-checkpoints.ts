/**
 * Version 4: the loss plane of a run document (RunResult.plane), and the latest training checkpoint of each endpoint.
 *
 * The plane is one JSON document per run (a grid of losses and accuracies, tens to hundreds of kB), kept in its own
 * table rather than on `runs`: the list view, heartbeats and annotations read and rewrite `runs` rows, and SQLite
 * rewrites a whole row on every update. A checkpoint's weights are an artifact (role `checkpoint:<endpoint>`, counted
 * in artifact_refs like every other file); `checkpoints` says which epoch and step they are, replaced with them.
 */
import type { Migration } from './types';

export const migration004: Migration = {
  version: 4,
  name: 'plane-checkpoints',
  async up(sql) {
    await sql.exec(`
      CREATE TABLE run_planes (
        run_id     TEXT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
        plane_json TEXT NOT NULL
      );

      CREATE TABLE checkpoints (
        run_id   TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        endpoint TEXT NOT NULL,
        epoch    REAL NOT NULL,
        step     INTEGER NOT NULL,
        PRIMARY KEY (run_id, endpoint)
      ) WITHOUT ROWID;
    `);
  },
};
