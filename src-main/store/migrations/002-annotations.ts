/** Version 2: what researchers add to a run afterwards: tags, notes, a colour for charts. */
import type { Migration } from './types';

export const migration002: Migration = {
  version: 2,
  name: 'annotations',
  async up(sql) {
    await sql.exec(`
      ALTER TABLE runs ADD COLUMN notes TEXT NOT NULL DEFAULT '';
      ALTER TABLE runs ADD COLUMN colour TEXT;

      CREATE TABLE run_tags (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        tag    TEXT NOT NULL,
        PRIMARY KEY (run_id, tag)
      ) WITHOUT ROWID;
      CREATE INDEX run_tags_tag ON run_tags (tag, run_id);
    `);
  },
};
