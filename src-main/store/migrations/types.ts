import type { Sql } from '../sqlite';

/**
 * One schema step. `up` runs inside its own write transaction; PRAGMA user_version is set to `version` in the same
 * transaction, so a migration is applied entirely or not at all. Migrations that rebuild a table other tables refer
 * to set `foreignKeysOff` (SQLite's documented 12-step procedure: foreign keys off around the transaction, and
 * `PRAGMA foreign_key_check` before commit).
 */
export interface Migration {
  version: number;
  name: string;
  foreignKeysOff?: boolean;
  up(sql: Sql): Promise<void>;
}
