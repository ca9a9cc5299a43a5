/**
 * Version 3: runs become jobs. New statuses 'queued' and 'crashed' (a CHECK constraint cannot be altered, so the runs
 * table is rebuilt), the job process's pid and host, a heartbeat, a cancel request other processes can set, and the
 * indexes the history list filters and sorts by.
 */
import type { Migration } from './types';

export const migration003: Migration = {
  version: 3,
  name: 'jobs',
  foreignKeysOff: true,
  async up(sql) {
    await sql.exec(`
      CREATE TABLE runs_new (
        id               TEXT PRIMARY KEY,
        name             TEXT NOT NULL,
        preset           TEXT,
        config_json      TEXT NOT NULL,
        status           TEXT NOT NULL CHECK (status IN ('queued', 'running', 'finished', 'failed', 'cancelled', 'crashed')),
        created_at       TEXT NOT NULL,
        started_at       TEXT,
        finished_at      TEXT,
        heartbeat_at     INTEGER,
        pid              INTEGER,
        host             TEXT,
        cancel_requested INTEGER NOT NULL DEFAULT 0,
        error            TEXT,
        app_version      TEXT,
        backend          TEXT,
        device           TEXT,
        tfjs_version     TEXT,
        dataset_name     TEXT,
        dataset_checksum TEXT,
        seed             INTEGER,
        environment_json TEXT,
        stability_json   TEXT,
        timings_json     TEXT,
        notes            TEXT NOT NULL DEFAULT '',
        colour           TEXT
      );
      INSERT INTO runs_new (id, name, preset, config_json, status, created_at, started_at, finished_at, error, app_version,
                            backend, device, tfjs_version, dataset_name, dataset_checksum, seed, environment_json,
                            stability_json, timings_json, notes, colour)
        SELECT id, name, preset, config_json,
               -- A v2 'running' row was left behind by a process that is gone: nothing ran jobs then.
               CASE status WHEN 'running' THEN 'crashed' ELSE status END,
               created_at, started_at, finished_at, error, app_version, backend, device, tfjs_version, dataset_name,
               dataset_checksum, seed, environment_json, stability_json, timings_json, notes, colour
          FROM runs;
      DROP TABLE runs;
      ALTER TABLE runs_new RENAME TO runs;

      CREATE INDEX runs_created ON runs (created_at, id);
      CREATE INDEX runs_status_created ON runs (status, created_at);
      CREATE INDEX runs_preset_created ON runs (preset, created_at);
      CREATE INDEX runs_name ON runs (name COLLATE NOCASE);
      CREATE INDEX runs_finished ON runs (finished_at);
    `);
  },
};
