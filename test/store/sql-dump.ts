/** A plain-SQL dump of a database (schema, rows, indexes, pragmas): how the schema-version fixtures are stored. */
import type { Database } from '../../src-main/store/sqlite';

function literal(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'NULL';
  if (typeof v === 'bigint') return v.toString();
  if (Buffer.isBuffer(v)) return `X'${v.toString('hex')}'`;
  return `'${String(v).replace(/'/g, "''")}'`;
}

export async function dumpSql(db: Database): Promise<string> {
  const out: string[] = [];
  const version = (await db.get<{ user_version: number }>('PRAGMA user_version'))!.user_version;
  const appId = (await db.get<{ application_id: number }>('PRAGMA application_id'))!.application_id;
  out.push(`PRAGMA application_id = ${appId};`);
  out.push('BEGIN;');
  const tables = await db.all<{ name: string; sql: string }>("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid");
  for (const t of tables) out.push(`${t.sql};`);
  for (const t of tables) {
    for (const row of await db.all<Record<string, unknown>>(`SELECT * FROM "${t.name}"`)) {
      out.push(`INSERT INTO "${t.name}" (${Object.keys(row).map((k) => `"${k}"`).join(', ')}) VALUES (${Object.values(row).map(literal).join(', ')});`);
    }
  }
  for (const i of await db.all<{ sql: string }>("SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY rowid")) out.push(`${i.sql};`);
  out.push('COMMIT;');
  out.push(`PRAGMA user_version = ${version};`);
  return `${out.join('\n')}\n`;
}

/** Loads a dump into a new database file. */
export async function loadSql(db: Database, sql: string): Promise<void> {
  await db.exec(sql);
}
