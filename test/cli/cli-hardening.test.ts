/**
 * Issue 12's smaller CLI cases, each as a user meets it: --out destinations checked before anything runs, user text
 * with escape codes printed inert, seeds checked, a bad --data refused before a run is stored, --config files with a
 * BOM, NaN, Infinity or binary garbage, and a second signal still ending the run `cancelled`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ListResult } from '../../src-main/api/contract';
import { HistoryStore } from '../../src-main/store/history';
import { longRecipe } from '../jobs/recipes';
import { type Ran, bin, modelab, root } from './modelab';

function expectOneLineError(r: Ran, code: number, ...wants: RegExp[]): void {
  expect(r.code, `stderr: ${r.stderr}`).toBe(code);
  expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr.startsWith('modelab: ')).toBe(true);
  expect(r.stderr).not.toMatch(/\bat .*\.ts:\d+|[\u0000-\u0009\u000b-\u001f\u007f\ufeff]/);
  for (const w of wants) expect(r.stderr).toMatch(w);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const ESC = '\u001b';

let tmp = '';
let db = '';
const listed = async (): Promise<ListResult> => JSON.parse((await modelab(['list', '--json', '--db', db])).stdout) as ListResult;

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'modelab-cli-hardening-'));
  db = path.join(tmp, 'history.sqlite');
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('checked before anything runs or is stored', () => {
  it('run --out to a place that cannot be written: one line, exit 2, nothing stored', async () => {
    const file = path.join(tmp, 'a-file');
    writeFileSync(file, 'x');
    expectOneLineError(await modelab(['run', '--preset', 'smoke', '--out', '/proc/nope', '--db', db]), 2, /--out \/proc\/nope cannot be written/);
    expectOneLineError(await modelab(['run', '--preset', 'smoke', '--out', file, '--db', db]), 2, /is a file, not a folder/);
    expectOneLineError(await modelab(['run', '--preset', 'smoke', '--no-store', '--out', '/proc/nope']), 2, /cannot be written/);
    expect((await listed()).total).toBe(0);
  });

  it('a bad --data: one line, exit 2, nothing stored', async () => {
    expectOneLineError(await modelab(['run', '--preset', 'smoke', '--data', path.join(tmp, 'missing'), '--db', db]), 2, /--data .*missing: no such folder/);
    const cifar = path.join(tmp, 'cifar.json');
    const dataDir = mkdtempSync(path.join(tmp, 'cifar-'));
    writeFileSync(
      cifar,
      JSON.stringify({
        name: 'c',
        dataset: { name: 'cifar10', train: 100, test: 100 },
        architecture: { type: 'mlp', hidden: [8] },
        training: { optimizer: 'sgd', lr: 0.1, batchSize: 10, epochs: 1 },
      }),
    );
    expectOneLineError(await modelab(['run', '--config', cifar, '--data', dataDir, '--db', db]), 2, /CIFAR-10 batch not found: .*data_batch_1\.bin/);
    expect((await listed()).total).toBe(0);
  });

  it('seeds: -1, empty and non-integers are refused in one line that says what a seed is', async () => {
    for (const args of [['--seed', '-1'], ['--seed='], ['--seed', '1.5'], ['--seed', '1e3'], ['--seed', ' 7']]) {
      expectOneLineError(await modelab(['run', '--preset', 'smoke', '--no-store', ...args]), 2, /--seed needs a non-negative integer \(digits only: negative numbers are not allowed\)/);
    }
  });

  it('--config with a BOM is read; NaN, Infinity and binary garbage give one line without echoing the bytes', async () => {
    const write = (name: string, bytes: Buffer | string): string => {
      const f = path.join(tmp, name);
      writeFileSync(f, bytes);
      return f;
    };
    const bom = write('bom.json', `\ufeff${JSON.stringify({ name: 'bom' })}`);
    // Parsed as JSON: the schema's own complaint (no dataset), not a JSON error.
    expectOneLineError(await modelab(['run', '--config', bom, '--no-store']), 2, /bom\.json: dataset/);
    expectOneLineError(await modelab(['run', '--config', write('nan.json', '{"seed": NaN}'), '--no-store']), 2, /not valid JSON: unexpected character 'N' \(NaN and Infinity are not JSON numbers/);
    expectOneLineError(await modelab(['run', '--config', write('inf.json', '{"seed": -Infinity}'), '--no-store']), 2, /not valid JSON: .*NaN and Infinity are not JSON numbers/);
    const garbage = await modelab(['run', '--config', write('garbage.json', Buffer.from([0, 1, 0xff, 0xfe, 0x1b, 0x5b, 0x32, 0x4a])), '--no-store']);
    expectOneLineError(garbage, 2, /garbage\.json is not valid JSON: unexpected character U\+0000$/m);
  });
});

describe('user text on the terminal', () => {
  it('names and tags with escape codes are printed inert by list and show, and kept as they are in --json', async () => {
    const name = `evil${ESC}[31mRED${ESC}]0;title\u0007\r\u202e`;
    const tag = `t${ESC}[2J`;
    const run = await modelab(['run', '--preset', 'smoke', '--json', '--db', db, '--name', name, '--tag', tag]);
    expect(run.code, run.stderr).toBe(0);
    const [r] = (await listed()).runs;
    expect(r!.name).toBe(name);
    expect(r!.tags).toEqual([tag]);
    const list = await modelab(['list', '--db', db]);
    const show = await modelab(['show', r!.id, '--db', db]);
    for (const out of [list.stdout, show.stdout]) {
      expect(out).not.toMatch(/[\u001b\u0007\r\u202e]/);
      expect(out).toContain('evil\\x1b[31mRED\\x1b]0;title\\x07\\r\\u202e');
      expect(out).toContain('t\\x1b[2J');
    }
    expectOneLineError(await modelab(['show', `no${ESC}[2Jrun`, '--db', db]), 2, /no\\x1b\[2Jrun/);
  });

  it('export --out to a folder, an unwritable place or a missing folder: one line, exit 2', async () => {
    const [r] = (await listed()).runs;
    expectOneLineError(await modelab(['export', r!.id, '--format', 'json', '--out', tmp, '--db', db]), 2, /--out .* is a folder: give a file name/);
    expectOneLineError(await modelab(['export', r!.id, '--format', 'csv', '--out', '/proc/nope', '--db', db]), 2, /--out \/proc\/nope cannot be written/);
    expectOneLineError(await modelab(['export', r!.id, '--format', 'json', '--out', path.join(tmp, 'no', 'such', 'x.json'), '--db', db]), 2, /the folder .*no\/such does not exist/);
    expectOneLineError(await modelab(['export', r!.id, '--format', 'bundle', '--out', '/proc/nope', '--db', db]), 2, /cannot be written/);
  });
});

describe('signals', () => {
  // The first signal asks the job to stop; a second at once must not leave the run `running` (later: crashed).
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    it(`two ${sig}s in a row: exit 130 and the run is cancelled`, async () => {
      const cfg = path.join(tmp, `long-${sig}.json`);
      writeFileSync(cfg, JSON.stringify(longRecipe(`signal-${sig}`)));
      const tag = `signal-${sig}`;
      const cli = spawn(process.execPath, [bin, 'run', '--config', cfg, '--backend', 'cpu', '--db', db, '--tag', tag], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      cli.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => cli.on('exit', (code) => resolve(code)));
      const store = await HistoryStore.open({ db });
      try {
        let runId = '';
        for (let k = 0; !runId; k++) {
          if (k > 600) throw new Error(`no curve points from the job: ${stderr}`);
          await sleep(100);
          const r = (await store.list({ tags: [tag] })).runs[0];
          if (r && ((await store.get(r.id)).curves['A']?.length ?? 0) > 0) runId = r.id;
        }
        cli.kill(sig);
        cli.kill(sig);
        expect(await exited, stderr).toBe(130);
        expect(stderr).toMatch(new RegExp(`modelab: run ${runId} cancelled`));
        expect((await store.summary(runId)).status).toBe('cancelled');
      } finally {
        cli.kill('SIGKILL');
        await store.close();
      }
    });
  }
});
