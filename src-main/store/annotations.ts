/** What a researcher writes on a run: tags, notes, its name and its chart colour (by id or unique prefix). */
import { resolveId } from './run-queries';
import type { SqlValue } from './sqlite';
import type { StoreParts } from './store-parts';
import { writeTags } from './run-writes';

async function updateOne(s: StoreParts, idOrPrefix: string, sqlText: string, params: SqlValue[]): Promise<string> {
  const id = await resolveId(s, idOrPrefix);
  await s.db.run(sqlText, [...params, id]);
  return id;
}

export async function addTags(s: StoreParts, idOrPrefix: string, tags: string[]): Promise<string> {
  const id = await resolveId(s, idOrPrefix);
  await s.db.transaction((sql) => writeTags(sql, id, tags));
  return id;
}

export async function removeTags(s: StoreParts, idOrPrefix: string, tags: string[]): Promise<string> {
  const id = await resolveId(s, idOrPrefix);
  await s.db.transaction(async (sql) => {
    for (const t of tags) await sql.run('DELETE FROM run_tags WHERE run_id = ? AND tag = ?', [id, t]);
  });
  return id;
}

export function setNotes(s: StoreParts, idOrPrefix: string, notes: string): Promise<string> {
  return updateOne(s, idOrPrefix, 'UPDATE runs SET notes = ? WHERE id = ?', [notes]);
}

export function rename(s: StoreParts, idOrPrefix: string, name: string): Promise<string> {
  return updateOne(s, idOrPrefix, 'UPDATE runs SET name = ? WHERE id = ?', [name]);
}

export function setColour(s: StoreParts, idOrPrefix: string, colour: string | null): Promise<string> {
  return updateOne(s, idOrPrefix, 'UPDATE runs SET colour = ? WHERE id = ?', [colour]);
}
