/**
 * Storage faults from the command line, on a real small disk (test/store/small-disk.ts): a full disk, a disk that fills
 * during a run, a read-only history and a database damaged in the middle all give one line in plain words that names
 * the file; read commands keep working where they can; a run whose writes fail ends `failed` with the reason; an
 * export that does not fit leaves nothing behind.
 */
import { closeSync, copyFileSync, existsSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ListResult } from '../../src-main/api/contract';
import { HistoryStore } from '../../src-main/store/history';
import { type SmallDisk, freeBytes, mountSmallDisk } from '../store/small-disk';
import { type Ran, modelab } from './modelab';

function expectOneLineError(r: Ran, code: number, ...wants: RegExp[]): void {
  expect(r.code, `stderr: ${r.stderr}`).toBe(code);
  const lines = r.stderr.trimEnd().split('\n').filter((l) => l.startsWith('modelab: '));
  expect(lines, r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/SQLITE_|\bat .*\.ts:\d+/);
  for (const w of wants) expect(lines[0]).toMatch(w);
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

let disk: SmallDisk;
let db = '';
beforeEach(() => {
  disk = mountSmallDisk(16);
  db = path.join(disk.dir, 'history.sqlite');
});
afterEach(() => disk.unmount());

async function listed(): Promise<ListResult> {
  const r = await modelab(['list', '--json', '--db', db]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as ListResult;
}

describe('storage faults', () => {
  it('a full disk: list and show still work, a change says the disk is full and names it', async () => {
    const run = await modelab(['run', '--preset', 'smoke', '--backend', 'cpu', '--json', '--db', db]);
    expect(run.code, run.stderr).toBe(0);
    const id = (await listed()).runs[0]!.id;
    disk.leaveFree(0);
    expect(freeBytes(disk.dir)).toBe(0);

    expect((await listed()).runs.map((r) => r.status)).toEqual(['finished']);
    const show = await modelab(['show', id, '--db', db]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain(`run ${id}`);
    expectOneLineError(await modelab(['tag', id, 'more', '--db', db]), 1, new RegExp(`^modelab: no space left on the disk holding ${escape(db)}$`));
    expectOneLineError(await modelab(['run', '--preset', 'smoke', '--backend', 'cpu', '--db', db]), 1, /no space left on the disk holding /);
    const runOut = path.join(disk.dir, 'run-out');
    expectOneLineError(await modelab(['run', '--preset', 'smoke', '--backend', 'cpu', '--no-store', '--out', runOut]), 1, new RegExp(`no space left on the disk holding ${escape(runOut)}$`));
    // An export that does not fit: one line, and no half-written file or folder left behind.
    for (const [format, name] of [['json', 'out.json'], ['csv', 'out.csv'], ['bundle', 'out-bundle'], ['bundle', 'out.zip']] as const) {
      const out = path.join(disk.dir, name);
      expectOneLineError(await modelab(['export', id, '--format', format, '--out', out, '--db', db]), 1, new RegExp(`^modelab: no space left on the disk holding ${escape(out)}$`));
      expect(existsSync(out), out).toBe(false);
    }
  });

  it('a full disk with a dead run to mark crashed: list lists anyway, with a one-line warning', async () => {
    // A run left 'running' by a job process that is gone (no such pid, heartbeat long past).
    const store = await HistoryStore.open({ db });
    const id = await store.createRun({ name: 'orphan', preset: null, config: { name: 'orphan' } });
    await store.markStarted(id, 2 ** 22 + 1);
    await store.db.run('UPDATE runs SET heartbeat_at = 0 WHERE id = ?', [id]);
    await store.close();
    rmSync(path.join(`${db.replace(/\.sqlite$/, '')}.artifacts`, '.space-reserve'), { force: true }); // nothing left to release
    // Room for SQLite's 32 KiB shared-memory file (the history opens for writing), none for the write itself.
    disk.leaveFree(36 * 1024);

    const r = await modelab(['list', '--json', '--db', db]);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as ListResult).runs.map((x) => [x.id, x.status])).toEqual([[id, 'running']]);
    expect(r.stderr).toBe(`modelab: warning: no space left on the disk holding ${db}: runs whose job process stopped are not marked crashed yet\n`);
  });

  it('a disk that fills during a run: the run ends failed with the reason, never running or crashed', async () => {
    expect((await listed()).total).toBe(0); // makes the history (and its space reserve) while there is room
    const free = disk.leaveFree(200 * 1024);
    const run = await modelab(['run', '--preset', 'smoke', '--backend', 'cpu', '--db', db]);
    expectOneLineError(run, 1, /failed: .*no space left on the disk holding /);
    free();
    const [r] = (await listed()).runs;
    expect(r!.status).toBe('failed');
    expect(r!.error).toMatch(/no space left on the disk holding /);
  });

  it('a read-only history: list and show work, a change says it is read-only', async () => {
    const run = await modelab(['run', '--preset', 'smoke', '--backend', 'cpu', '--json', '--db', db]);
    expect(run.code, run.stderr).toBe(0);
    disk.remount('ro');
    const [r] = (await listed()).runs;
    expect(r!.status).toBe('finished');
    expect((await modelab(['show', r!.id, '--db', db])).code).toBe(0);
    expectOneLineError(await modelab(['rename', r!.id, 'new name', '--db', db]), 1, new RegExp(`the history ${escape(db)} is read-only here: read commands .* still work`));
    disk.remount('rw');
  });

  it('a history with garbage in the middle is refused with its file named', async () => {
    const run = await modelab(['run', '--preset', 'smoke', '--backend', 'cpu', '--json', '--db', db]);
    expect(run.code, run.stderr).toBe(0);
    const copy = path.join(disk.dir, 'damaged.sqlite');
    copyFileSync(db, copy);
    const size = statSync(copy).size;
    const fd = openSync(copy, 'r+');
    // Every page after the schema page, as garbage: whichever table a command reads is damaged.
    writeSync(fd, Buffer.alloc(size - 8192, 0xa7), 0, size - 8192, 4096);
    closeSync(fd);
    expectOneLineError(await modelab(['list', '--db', copy]), 2, new RegExp(`^modelab: ${escape(copy)}: .*corrupt`));
  });
});
