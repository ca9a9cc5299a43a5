/**
 * The history stays fast with thousands of runs: 5,000 runs with curves and path points, then a filtered, sorted,
 * paginated list query. The bound is generous (1 s; it takes a few milliseconds) so a busy machine does not flake.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryStore } from '../../src-main/store/history';
import { newRunId } from '../../src-main/store/ids';
import type { RunStatus } from '../../src-main/store/types';
import { tempStore } from './helpers';

const N = 5000;
let store: HistoryStore;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ store, cleanup } = await tempStore());
  const statuses: RunStatus[] = ['finished', 'finished', 'finished', 'failed', 'cancelled', 'crashed'];
  const presets = ['smoke', 'mnist-mlp', 'mnist-cnn-paper', 'cifar10-vgg11-paper'];
  const bigPoints = JSON.stringify({ points: null, padding: 'x'.repeat(2000) });
  await store.db.transaction(async (sql) => {
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    for (let i = 0; i < N; i++) {
      const id = newRunId(t0 + i * 60_000);
      const created = new Date(t0 + i * 60_000).toISOString();
      await sql.run(
        `INSERT INTO runs (id, name, preset, config_json, status, created_at, started_at, finished_at, notes, environment_json)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [id, `experiment ${i}`, presets[i % 4]!, JSON.stringify({ name: 'x', big: 'y'.repeat(1000) }), statuses[i % 6]!, created, created, created, i % 50 === 0 ? 'widened layers' : '', bigPoints],
      );
      if (i % 3 === 0) await sql.run("INSERT INTO run_tags (run_id, tag) VALUES (?, 'sweep')", [id]);
      if (i % 7 === 0) await sql.run("INSERT INTO run_tags (run_id, tag) VALUES (?, 'paper')", [id]);
      await sql.run('INSERT INTO paths (run_id, idx, name, kind, result_json) VALUES (?, 0, ?, ?, ?)', [id, 'linear', 'linear', bigPoints]);
      const ks = Array.from({ length: 20 }, (_, k) => k);
      await sql.run(
        `INSERT INTO path_points (run_id, path, idx, t, train_loss, train_acc, test_loss, test_acc) VALUES ${ks.map((k) => `(?1, 'linear', ${k}, ${k / 19}, 0.1, 0.9, 0.2, 0.8)`).join(', ')}`,
        [id],
      );
      await sql.run(`INSERT INTO curve_points (run_id, endpoint, step, epoch, lr, loss, acc) VALUES ${ks.map((k) => `(?1, 'A', ${k}, 1, 0.1, 0.5, 0.5)`).join(', ')}`, [id]);
    }
  });
  await store.db.exec('ANALYZE');
}, 300_000);

afterAll(async () => cleanup());

describe(`list over ${N} runs`, () => {
  it('filtered, sorted and paginated queries return in well under a second', async () => {
    const queries = [
      { status: ['finished' as const], tags: ['sweep'], sort: 'created' as const, order: 'desc' as const, limit: 50, offset: 500 },
      { preset: 'mnist-mlp', sort: 'name' as const, order: 'asc' as const, limit: 50, offset: 100 },
      { search: 'widened', limit: 20 },
      { limit: 50, offset: 4900 },
    ];
    const times: number[] = [];
    for (const q of queries) {
      const t0 = performance.now();
      const r = await store.list(q);
      times.push(performance.now() - t0);
      expect(r.runs.length).toBeGreaterThan(0);
    }
    console.log(`list over ${N} runs: ${times.map((t) => `${t.toFixed(1)} ms`).join(', ')}`);
    for (const t of times) expect(t).toBeLessThan(1000);

    const r = await store.list(queries[0]!);
    // finished: i mod 6 ∈ {0, 1, 2}; tagged 'sweep': i mod 3 = 0 → i mod 6 = 0.
    expect(r.total).toBe(Array.from({ length: N }, (_, i) => i).filter((i) => i % 6 === 0).length);
    expect(r.runs.every((s) => s.status === 'finished' && s.tags.includes('sweep'))).toBe(true);
    const created = r.runs.map((s) => s.createdAt);
    expect([...created].sort().reverse()).toEqual(created);
  });

  it('the list query plans use the indexes (no full sort of the runs table)', async () => {
    const plan = await store.db.all<{ detail: string }>("EXPLAIN QUERY PLAN SELECT id FROM runs r WHERE r.status IN ('finished') ORDER BY r.created_at DESC, r.id DESC LIMIT 50");
    expect(plan.map((p) => p.detail).join('; ')).toMatch(/USING INDEX/);
  });
});
