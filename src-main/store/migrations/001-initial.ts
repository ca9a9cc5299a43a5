/** Version 1: runs, their endpoints with training curves, paths with their points, and content-addressed artifacts. */
import type { Migration } from './types';

export const migration001: Migration = {
  version: 1,
  name: 'initial',
  async up(sql) {
    await sql.exec(`
      PRAGMA application_id = 1296843074;

      CREATE TABLE runs (
        id               TEXT PRIMARY KEY,
        name             TEXT NOT NULL,
        preset           TEXT,
        config_json      TEXT NOT NULL,
        status           TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed', 'cancelled')),
        created_at       TEXT NOT NULL,
        started_at       TEXT,
        finished_at      TEXT,
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
        timings_json     TEXT
      );
      CREATE INDEX runs_created ON runs (created_at);

      CREATE TABLE endpoints (
        run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        idx         INTEGER NOT NULL,
        name        TEXT NOT NULL,
        seed        INTEGER NOT NULL,
        train_loss  REAL,
        train_acc   REAL,
        test_loss   REAL,
        test_acc    REAL,
        result_json TEXT NOT NULL,
        PRIMARY KEY (run_id, name)
      ) WITHOUT ROWID;

      CREATE TABLE curve_points (
        run_id   TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        endpoint TEXT NOT NULL,
        step     INTEGER NOT NULL,
        epoch    REAL,
        lr       REAL,
        loss     REAL,
        acc      REAL,
        PRIMARY KEY (run_id, endpoint, step)
      ) WITHOUT ROWID;

      CREATE TABLE paths (
        run_id        TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        idx           INTEGER NOT NULL,
        name          TEXT NOT NULL,
        kind          TEXT NOT NULL,
        from_endpoint TEXT,
        to_endpoint   TEXT,
        check_pass    INTEGER,
        train_barrier REAL,
        test_barrier  REAL,
        result_json   TEXT NOT NULL,
        PRIMARY KEY (run_id, name)
      ) WITHOUT ROWID;

      CREATE TABLE path_points (
        run_id     TEXT NOT NULL,
        path       TEXT NOT NULL,
        idx        INTEGER NOT NULL,
        t          REAL NOT NULL,
        train_loss REAL,
        train_acc  REAL,
        test_loss  REAL,
        test_acc   REAL,
        PRIMARY KEY (run_id, path, idx),
        FOREIGN KEY (run_id, path) REFERENCES paths (run_id, name) ON DELETE CASCADE
      ) WITHOUT ROWID;

      CREATE TABLE artifacts (
        hash       TEXT PRIMARY KEY,
        size       INTEGER NOT NULL,
        created_at TEXT NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE artifact_refs (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        role   TEXT NOT NULL,
        hash   TEXT NOT NULL REFERENCES artifacts (hash),
        PRIMARY KEY (run_id, role)
      ) WITHOUT ROWID;
      CREATE INDEX artifact_refs_hash ON artifact_refs (hash);
    `);
  },
};
