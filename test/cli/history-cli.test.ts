/**
 * The history from the command line, as a user drives it: `run` stores and prints the id; list, show, tag, note,
 * rename, colour; export (json, csv, bundle) → delete → import gives back the identical run; unknown ids and damaged
 * databases exit 2 with one line; two runs at once both succeed; a run whose processes are killed hard is found
 * crashed (partial curves kept) when the CLI next starts.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunDetail, ListResult } from '../../src-main/api/contract';
import type { StoredRunDocument } from '../../src-main/store/bundle';
import { HistoryStore, pidAlive } from '../../src-main/store/history';
import { longRecipe, tinyRecipe } from '../jobs/recipes';
import { type Ran, bin, modelab, root } from './modelab';

function expectOneLineError(r: Ran, code: number, ...wants: RegExp[]): void {
  expect(r.code, `stderr: ${r.stderr}`).toBe(code);
  expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr.startsWith('modelab: ')).toBe(true);
  expect(r.stderr).not.toMatch(/\bat .*\.ts:\d+/);
  for (const w of wants) expect(r.stderr).toMatch(w);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let tmp = '';
let db = '';
let id = '';
let first: Ran;
beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'modelab-history-cli-'));
  db = path.join(tmp, 'lab', 'history.sqlite');
  first = await modelab(['run', '--preset', 'smoke', '--backend', 'wasm', '--json', '--db', db, '--tag', 'first']);
  id = (JSON.parse(first.stdout) as StoredRunDocument).runId;
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const showJson = async (ref: string): Promise<RunDetail> => {
  const r = await modelab(['show', ref, '--json', '--db', db]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as RunDetail;
};

describe('modelab run stores the run', () => {
  it('prints the id on stderr, one JSON document with runId on stdout, and the run is in the history', async () => {
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(id).toMatch(/^[0-9a-z]{16}$/);
    expect(first.stderr).toContain(`run ${id}`);
    const doc = JSON.parse(first.stdout) as StoredRunDocument;
    expect(doc.schema).toBe('modelab.run/1');
    expect(doc.paths.map((p) => p.name)).toEqual(['linear', 'theorem1']);
    const d = await showJson(id);
    expect(d).toMatchObject({ id, status: 'finished', name: 'smoke', preset: 'smoke', tags: ['first'] });
    expect(d.endpoints).toEqual(doc.endpoints);
    expect(d.paths).toEqual(doc.paths);
  });

  it('without --json: the summary, then the id to look it up by', async () => {
    const r = await modelab(['show', id.slice(0, 6), '--db', db]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`run ${id}  smoke  [finished]`);
    expect(r.stdout).toMatch(/path linear \(linear, A → B\)/);
    expect(r.stdout).toMatch(/path theorem1/);
    expect(r.stdout).toMatch(/loss − interp\./);
    expect(r.stdout).toMatch(/tags: first/);
  });

  it('--no-store runs in this process and keeps nothing', async () => {
    const other = path.join(tmp, 'nostore.sqlite');
    const cfg = path.join(tmp, 'tiny.json');
    writeFileSync(cfg, JSON.stringify(tinyRecipe()));
    const r = await modelab(['run', '--config', cfg, '--backend', 'wasm', '--json', '--no-store', '--db', other]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).not.toHaveProperty('runId');
    expect(existsSync(other)).toBe(false);
  });
});

describe('list, tag, note, rename, colour', () => {
  it('list shows the run; filters and JSON', async () => {
    const r = await modelab(['list', '--db', db]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`${id}\\s+finished\\s+smoke\\s+smoke`));
    const j = JSON.parse((await modelab(['list', '--json', '--tag', 'first', '--status', 'finished,failed', '--db', db])).stdout) as ListResult;
    expect(j.runs.map((s) => s.id)).toContain(id);
    const none = await modelab(['list', '--status', 'crashed', '--search', 'nothing like this', '--db', db]);
    expect(none.stdout).toMatch(/no runs/);
    expectOneLineError(await modelab(['list', '--status', 'done', '--db', db]), 2, /unknown status 'done'/);
  });

  it('annotations show up in show', async () => {
    for (const args of [
      ['tag', id, 'paper', 'baseline'],
      ['tag', id, 'first', '--remove'],
      ['note', id, 'widths', '64'],
      ['note', id, '--append', 'second line'],
      ['rename', id, 'smoke baseline'],
      ['colour', id, '#1f77b4'],
    ]) {
      const r = await modelab([...args, '--db', db]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    const d = await showJson(id);
    expect(d).toMatchObject({ tags: ['baseline', 'paper'], notes: 'widths 64\nsecond line', name: 'smoke baseline', colour: '#1f77b4' });
    expect((d.config as { name: string }).name).toBe('smoke');
  });

  it('an unknown run id: exit 2 and one line, for every command', async () => {
    for (const args of [['show', 'zzzzzzzz'], ['tag', 'zzzzzzzz', 'x'], ['note', 'zzzzzzzz', 'x'], ['rename', 'zzzzzzzz', 'x'], ['delete', 'zzzzzzzz', '--yes'], ['export', 'zzzzzzzz', '--format', 'json', '--out', '-']]) {
      expectOneLineError(await modelab([...args, '--db', db]), 2, /no run 'zzzzzzzz'/);
    }
  });
});

describe('export → delete → import', () => {
  it('csv: one row per path point and split, tidy columns', async () => {
    const out = path.join(tmp, 'points.csv');
    const r = await modelab(['export', id, '--format', 'csv', '--out', out, '--db', db]);
    expect(r.code, r.stderr).toBe(0);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('run,path,t,split,loss,acc');
    const d = await showJson(id);
    expect(lines).toHaveLength(1 + 2 * d.paths.reduce((a, p) => a + p.points.length, 0));
    const p0 = d.paths[0]!.points[0]!;
    expect(lines[1]).toBe(`${id},linear,0,train,${p0.train.loss},${p0.train.acc}`);
    expect(lines[2]).toBe(`${id},linear,0,test,${p0.test.loss},${p0.test.acc}`);
    const stdout = await modelab(['export', id, '--format', 'csv', '--out', '-', '--db', db]);
    expect(stdout.stdout).toBe(readFileSync(out, 'utf8'));
  });

  it('json: history record and run document of each run', async () => {
    const r = await modelab(['export', id, '--format', 'json', '--out', '-', '--db', db]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { format: string; runs: { history: { id: string; tags: string[] }; run: StoredRunDocument }[] };
    expect(j.format).toBe('modelab.history-export/1');
    expect(j.runs).toHaveLength(1);
    expect(j.runs[0]!.history).toMatchObject({ id, tags: ['baseline', 'paper'] });
    expect(j.runs[0]!.run.runId).toBe(id);
  });

  it('bundle (zip and folder) → delete → import: the identical run, the identical files', async () => {
    const zip = path.join(tmp, 'bundle.zip');
    const dir = path.join(tmp, 'bundle');
    expect((await modelab(['export', id, '--format', 'bundle', '--out', zip, '--db', db])).code).toBe(0);
    expect((await modelab(['export', id, '--format', 'bundle', '--out', dir, '--db', db])).code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['endpoints.safetensors', 'eval-data.safetensors', 'history.json', 'manifest.sha256', 'paths', 'run.json']);
    expect(readdirSync(path.join(dir, 'paths')).sort()).toEqual(['linear.json', 'linear.safetensors', 'theorem1.json', 'theorem1.safetensors']);
    const again = await modelab(['export', id, '--format', 'bundle', '--out', dir, '--db', db]);
    expectOneLineError(again, 2, /already exists/);

    const before = await modelab(['show', id, '--json', '--db', db]);
    const artifacts = path.join(tmp, 'lab', 'history.artifacts');
    const filesBefore = readdirSync(artifacts).filter((f) => f !== 'tmp').length;
    expect(filesBefore).toBeGreaterThan(0);

    // Without --yes (and answering no) nothing is deleted.
    const no = await modelab(['delete', id, '--db', db], { input: 'n\n' });
    expect(no.code).toBe(1);
    expect((await modelab(['show', id, '--db', db])).code).toBe(0);

    const del = await modelab(['delete', id, '--db', db], { input: 'y\n' });
    expect(del.code, del.stderr).toBe(0);
    expect(del.stdout).toMatch(/deleted 1 run \(5 artifact files removed\)/);
    expectOneLineError(await modelab(['show', id, '--db', db]), 2, /no run/);
    expect(readdirSync(artifacts).filter((f) => f !== 'tmp' && !f.startsWith('.'))).toEqual([]);

    const imp = await modelab(['import', zip, '--db', db]);
    expect(imp.code, imp.stderr).toBe(0);
    expect(imp.stdout.trim()).toBe(id); // the original id is kept
    const after = await modelab(['show', id, '--json', '--db', db]);
    expect(after.stdout).toBe(before.stdout);

    // Export again: byte-identical bundle files.
    const dir2 = path.join(tmp, 'bundle-again');
    expect((await modelab(['export', id, '--format', 'bundle', '--out', dir2, '--db', db])).code).toBe(0);
    for (const f of ['run.json', 'history.json', 'endpoints.safetensors', 'eval-data.safetensors', 'paths/linear.safetensors', 'paths/linear.json', 'paths/theorem1.safetensors', 'manifest.sha256']) {
      expect(readFileSync(path.join(dir2, f)).equals(readFileSync(path.join(dir, f))), f).toBe(true);
    }

    // Importing the folder again: the run is there, so the import says so and changes nothing…
    const listed = async (): Promise<number> => (JSON.parse((await modelab(['list', '--json', '--db', db])).stdout) as ListResult).total;
    const runsBefore = await listed();
    const twice = await modelab(['import', dir, '--db', db]);
    const name = (JSON.parse(before.stdout) as RunDetail).name; // 'smoke baseline' (renamed above)
    expectOneLineError(twice, 2, new RegExp(`run ${id} \\('${name}'\\) is already in the history`), /--skip-existing/, /--as-copy/);
    expect(twice.stdout).toBe('');
    expect(await listed()).toBe(runsBefore);
    // …--skip-existing leaves it…
    const skip = await modelab(['import', dir, '--skip-existing', '--db', db]);
    expect(skip.code, skip.stderr).toBe(0);
    expect(skip.stdout).toBe('');
    expect(skip.stderr).toMatch(new RegExp(`imported 0 runs from .*; skipped 1 already in the history \\(${id}\\)`));
    expect(await listed()).toBe(runsBefore);
    expectOneLineError(await modelab(['import', dir, '--skip-existing', '--as-copy', '--db', db]), 2, /not both/);
    // …and --as-copy imports it again with a new id and a marked name.
    const copy = await modelab(['import', dir, '--as-copy', '--db', db]);
    expect(copy.code, copy.stderr).toBe(0);
    const copyId = copy.stdout.trim();
    expect(copyId).toMatch(/^[0-9a-z]{16}$/);
    expect(copyId).not.toBe(id);
    const a = JSON.parse(before.stdout) as RunDetail;
    const b = await showJson(copyId);
    expect(b.name).toBe(`${a.name} (copy)`);
    expect({ ...b, id: a.id, name: a.name }).toEqual(a);
    // Its artifacts are shared with the original: deleting the copy removes no file.
    const delCopy = await modelab(['delete', copyId, '--yes', '--db', db]);
    expect(delCopy.stdout).toMatch(/\(0 artifact files removed\)/);
  });
});

describe('faults', () => {
  it('a corrupt database file: exit 2, one line, the file untouched', async () => {
    const bad = path.join(tmp, 'corrupt.sqlite');
    writeFileSync(bad, Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.alloc(4000, 7)]));
    const before = readFileSync(bad);
    const r = await modelab(['list', '--db', bad]);
    expectOneLineError(r, 2, /corrupt\.sqlite/, /did not change it/);
    expect(readFileSync(bad).equals(before)).toBe(true);
    const t = path.join(tmp, 'text.sqlite');
    writeFileSync(t, 'hello');
    expectOneLineError(await modelab(['run', '--preset', 'smoke', '--db', t]), 2, /not an SQLite database/);
    expect(readFileSync(t, 'utf8')).toBe('hello');
  });

  // `list --db /proc/nope/h.sqlite` once spun at full CPU for minutes (Node's recursive mkdir loops when mkdir answers
  // ENOENT under an existing folder, as /proc does). Each command gets 20 s before it is killed (exit -1 here).
  it('an unusable database location fails at once: exit 2, one line naming it', { timeout: 60_000 }, async () => {
    const where = ['/dev/null/h.sqlite', ...(process.platform === 'linux' ? ['/proc/nope/h.sqlite', '/proc/nope/deeper/h.sqlite'] : [])];
    for (const db of where) {
      const t0 = Date.now();
      const r = await modelab(['list', '--db', db], { timeoutMs: 20_000 });
      expectOneLineError(r, 2, new RegExp(`cannot create the history database ${db.replace(/\//g, '\\/')}`));
      expect(Date.now() - t0, db).toBeLessThan(15_000);
    }
    if (process.platform === 'linux') {
      const r = await modelab(['run', '--preset', 'smoke', '--db', '/proc/nope/h.sqlite'], { timeoutMs: 20_000 });
      expectOneLineError(r, 2, /cannot create the history database/);
    }
  });

  it('two runs writing to one history at once: both succeed', async () => {
    const cfg = path.join(tmp, 'tiny2.json');
    writeFileSync(cfg, JSON.stringify(tinyRecipe('concurrent')));
    const [a, b] = await Promise.all([
      modelab(['run', '--config', cfg, '--backend', 'wasm', '--json', '--db', db, '--tag', 'pair']),
      modelab(['run', '--config', cfg, '--backend', 'wasm', '--json', '--db', db, '--tag', 'pair', '--seed', '9']),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const j = JSON.parse((await modelab(['list', '--json', '--tag', 'pair', '--db', db])).stdout) as ListResult;
    expect(j.runs.map((r) => r.status)).toEqual(['finished', 'finished']);
  });

  it('Ctrl-C (SIGINT) and `modelab cancel ID` stop a running run: exit 130, status cancelled', async () => {
    const cfg = path.join(tmp, 'long-cancel.json');
    writeFileSync(cfg, JSON.stringify(longRecipe('interrupted')));
    const store = await HistoryStore.open({ db });
    try {
      for (const how of ['SIGINT', 'cancel'] as const) {
        const tag = `stop-${how}`;
        const cli = spawn(process.execPath, [bin, 'run', '--config', cfg, '--backend', 'wasm', '--db', db, '--tag', tag], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        cli.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
        const exited = new Promise<number | null>((resolve) => cli.on('exit', (code) => resolve(code)));
        let runId = '';
        for (let k = 0; !runId; k++) {
          if (k > 600) throw new Error('no curve points from the job');
          await sleep(100);
          const r = (await store.list({ tags: [tag] })).runs[0];
          if (r && ((await store.get(r.id)).curves['A']?.length ?? 0) > 0) runId = r.id;
        }
        if (how === 'SIGINT') cli.kill('SIGINT');
        else {
          const c = await modelab(['cancel', runId, '--db', db]);
          expect(c.code, c.stderr).toBe(0);
          expect(c.stdout).toMatch(/cancel requested/);
        }
        expect(await exited, stderr).toBe(130);
        expect(stderr).toMatch(/modelab: run \w+ cancelled/);
        expect((await store.summary(runId)).status).toBe('cancelled');
      }
    } finally {
      await store.close();
    }
  });

  it('kill -9 of the CLI and its job process mid-training: crashed (partial curves kept) when the CLI next starts', async () => {
    const cfg = path.join(tmp, 'long.json');
    writeFileSync(cfg, JSON.stringify(longRecipe('killed')));
    const cli = spawn(process.execPath, [bin, 'run', '--config', cfg, '--backend', 'wasm', '--db', db, '--tag', 'killed'], { cwd: root, stdio: 'ignore' });
    const store = await HistoryStore.open({ db });
    let runId = '';
    let workerPid = 0;
    try {
      for (let k = 0; ; k++) {
        if (k > 600) throw new Error('no curve points from the job');
        await sleep(100);
        const r = (await store.list({ tags: ['killed'] })).runs[0];
        if (!r || !r.pid) continue;
        const d = await store.get(r.id);
        if ((d.curves['A']?.length ?? 0) >= 3) {
          runId = r.id;
          workerPid = r.pid;
          break;
        }
      }
      const kept = (await store.get(runId)).curves['A']!.length;
      process.kill(cli.pid!, 'SIGKILL');
      process.kill(workerPid, 'SIGKILL');
      for (let k = 0; pidAlive(workerPid) && k < 100; k++) await sleep(100);
      expect(pidAlive(workerPid)).toBe(false);
      // Nobody is left to record the end: the run still says running, with its last heartbeat.
      const s = await store.summary(runId);
      expect(s.status).toBe('running');
      // After three heartbeat intervals without a beat, the next CLI start finds it crashed.
      const wait = Date.parse(s.heartbeatAt!) + 6500 - Date.now();
      if (wait > 0) await sleep(wait);
      const r = await modelab(['list', '--json', '--tag', 'killed', '--db', db]);
      expect((JSON.parse(r.stdout) as ListResult).runs[0]).toMatchObject({ id: runId, status: 'crashed' });
      const d = await store.get(runId);
      expect(d.error).toMatch(/stopped without finishing/);
      expect(d.curves['A']!.length).toBeGreaterThanOrEqual(kept);
      expect(statSync(db).size).toBeGreaterThan(0);
    } finally {
      cli.kill('SIGKILL');
      await store.close();
    }
  });
});
