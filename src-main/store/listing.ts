/**
 * The history table's queries beyond the run list itself: each listed run's paths in brief, its architecture in a
 * word, and the tags with their run counts. They read the store's tables, so they live with the store (the api only
 * shapes what they return).
 */
import type { CheckState } from '../engine/experiment/check-state';
import type { Sql } from './sqlite';
import { marks } from './store-parts';

/** One path of a run, as the history table shows it. */
export interface PathBrief {
  name: string;
  kind: string;
  /** The check's verdict (migration 6); null for a path without a check. */
  state: CheckState | null;
  /** Loss over the linear interpolation of the ends (train, test): `barrier.*.lossOverInterpolation.value`. */
  trainBarrier: number | null;
  testBarrier: number | null;
}

export interface TagCount {
  tag: string;
  runs: number;
}

/** The paths of each of these runs, in recipe order (runs without paths are absent from the map). */
export async function pathBriefs(db: Sql, ids: readonly string[]): Promise<Map<string, PathBrief[]>> {
  const briefs = new Map<string, PathBrief[]>();
  if (!ids.length) return briefs;
  const rows = await db.all<{ run_id: string; name: string; kind: string; check_state: CheckState | null; train_barrier: number | null; test_barrier: number | null }>(
    `SELECT run_id, name, kind, check_state, train_barrier, test_barrier FROM paths WHERE run_id IN (${marks(ids)}) ORDER BY run_id, idx`,
    [...ids],
  );
  for (const r of rows) {
    const list = briefs.get(r.run_id) ?? [];
    list.push({ name: r.name, kind: r.kind, state: r.check_state, trainBarrier: r.train_barrier, testBarrier: r.test_barrier });
    briefs.set(r.run_id, list);
  }
  return briefs;
}

/**
 * Each run's architecture in words: the environment's description once the run has set up, else the recipe's
 * architecture type in capitals (MLP, CNN); null when neither is known.
 */
export async function architectures(db: Sql, ids: readonly string[]): Promise<Map<string, string | null>> {
  const arch = new Map<string, string | null>();
  if (!ids.length) return arch;
  const rows = await db.all<{ id: string; arch: string | null; config_arch: string | null }>(
    `SELECT id, json_extract(environment_json, '$.architecture.description') AS arch, json_extract(config_json, '$.architecture.type') AS config_arch FROM runs WHERE id IN (${marks(ids)})`,
    [...ids],
  );
  for (const r of rows) arch.set(r.id, r.arch ?? (r.config_arch ? r.config_arch.toUpperCase() : null));
  return arch;
}

/** Every tag in the history with the number of runs carrying it, by tag. */
export function tagCounts(db: Sql): Promise<TagCount[]> {
  return db.all<TagCount>('SELECT tag, count(*) AS runs FROM run_tags GROUP BY tag ORDER BY tag');
}
