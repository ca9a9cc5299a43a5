/** Two processes writing to one history at once: both succeed, nothing is lost, shared artifacts stay consistent. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HistoryStore } from '../../src-main/store/history';
import { tempDir } from './helpers';

const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const writer = path.join(__dirname, 'concurrent-writer.ts');

function spawnWriter(db: string, n: number, tag: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', tsx, writer, db, String(n), tag], { timeout: 120_000 }, (err, _out, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stderr }),
    );
  });
}

let t: ReturnType<typeof tempDir>;
beforeAll(() => {
  t = tempDir('modelab-concurrent-');
});
afterAll(() => t.cleanup());

describe('two processes writing at once', () => {
  it('both succeed and every run, reference and file is there', async () => {
    const db = path.join(t.dir, 'history.sqlite');
    await (await HistoryStore.open({ db })).close(); // created once, so both start from the same schema
    const N = 30;
    const [a, b] = await Promise.all([spawnWriter(db, N, 'left'), spawnWriter(db, N, 'right')]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const store = await HistoryStore.open({ db });
    expect((await store.list({ tags: ['left'] })).total).toBe(N);
    expect((await store.list({ tags: ['right'] })).total).toBe(N);
    expect((await store.list({ status: ['finished'] })).total).toBe(2 * N);
    // Every reference points at a stored file, and every stored file is referenced.
    const refs = await store.db.all<{ hash: string }>('SELECT DISTINCT hash FROM artifact_refs');
    for (const r of refs) expect(store.artifacts.has(r.hash)).toBe(true);
    expect(store.artifacts.listStored().sort()).toEqual(refs.map((r) => r.hash).sort());
    expect((await store.db.get<{ integrity_check: string }>('PRAGMA integrity_check'))!.integrity_check).toBe('ok');
    await store.close();
  });

  it('a first open by two processes at once (migration from empty) works for both', async () => {
    const db = path.join(t.dir, 'fresh.sqlite');
    const [a, b] = await Promise.all([spawnWriter(db, 3, 'x'), spawnWriter(db, 3, 'y')]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const store = await HistoryStore.open({ db });
    expect((await store.list()).total).toBe(6);
    await store.close();
  });
});
