/**
 * makeDirs: `mkdir -p` that always ends. Node's recursive mkdirSync loops forever under /proc (mkdir answers ENOENT
 * there although the parent exists); the /proc case runs in a child process with a time limit, so that a regression
 * fails the test instead of hanging the test worker.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeDirs } from '../../src-main/engine/io/mkdirs';

let tmp = '';
beforeEach(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'modelab-mkdirs-'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

describe('makeDirs', () => {
  it('makes missing parents, accepts an existing folder, and refuses a file in the way', () => {
    const deep = path.join(tmp, 'a', 'b', 'c');
    makeDirs(deep);
    expect(statSync(deep).isDirectory()).toBe(true);
    makeDirs(deep);
    makeDirs(tmp);
    writeFileSync(path.join(tmp, 'file'), 'x');
    expect(() => makeDirs(path.join(tmp, 'file'))).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
    expect(() => makeDirs(path.join(tmp, 'file', 'sub', 'dir'))).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
  });

  it.runIf(process.platform === 'linux')('under /proc: fails with ENOENT at once (in a child process limited to 20 s)', { timeout: 30_000 }, () => {
    const require = createRequire(import.meta.url);
    const mod = pathToFileURL(path.resolve(__dirname, '../../src-main/engine/io/mkdirs.ts')).href;
    const code = `import(${JSON.stringify(mod)}).then(({ makeDirs }) => { try { makeDirs('/proc/nope/deeper'); console.log('made'); } catch (e) { console.log(e.code); } });`;
    const t0 = Date.now();
    const r = spawnSync(process.execPath, ['--import', pathToFileURL(require.resolve('tsx')).href, '-e', code], { timeout: 20_000, encoding: 'utf8' });
    expect(r.signal, 'killed after 20 s: makeDirs hangs').toBeNull();
    expect(r.stdout.trim()).toBe('ENOENT');
    expect(Date.now() - t0).toBeLessThan(15_000);
  });
});
