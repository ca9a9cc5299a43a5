/**
 * Version 7: studies (many runs as one: docs/studies.md). A study keeps its resolved recipe (engine/study/expand.ts
 * ResolvedStudy), its status, the executor that runs its cells and that executor's state (e.g. a cluster's job ids),
 * and the process coordinating it. Its runs are linked by study_runs — one row per attempt at a cell (a retried
 * cell has several), each an ordinary run in `runs`. Deleting a run removes its link; deleting a study removes the
 * links (its runs go only when asked: store/studies.ts).
 */
import type { Migration } from './types';

export const migration007: Migration = {
  version: 7,
  name: 'studies',
  async up(sql) {
    await sql.exec(`
      CREATE TABLE studies (
        id                  TEXT PRIMARY KEY,
        name                TEXT NOT NULL,
        created_at          TEXT NOT NULL,
        recipe_json         TEXT NOT NULL,
        cells               INTEGER NOT NULL,
        status              TEXT NOT NULL CHECK (status IN ('created', 'running', 'finished', 'failed', 'cancelled')),
        executor            TEXT NOT NULL,
        executor_state_json TEXT,
        coordinator_pid     INTEGER,
        coordinator_host    TEXT,
        cancel_requested    INTEGER NOT NULL DEFAULT 0,
        updated_at          TEXT NOT NULL
      );
      CREATE INDEX studies_created ON studies (created_at, id);
      CREATE INDEX studies_name ON studies (name COLLATE NOCASE);

      CREATE TABLE study_runs (
        study_id TEXT NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
        cell     INTEGER NOT NULL,
        trial    INTEGER NOT NULL,
        run_id   TEXT NOT NULL UNIQUE REFERENCES runs (id) ON DELETE CASCADE,
        PRIMARY KEY (study_id, cell, run_id)
      ) WITHOUT ROWID;
    `);
  },
};
