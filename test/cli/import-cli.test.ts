/**
 * `modelab import` on what is not a bundle, or a hostile one: exit 2 and one line, never a stack trace, nothing left
 * in the history folder (the bundle cases themselves: test/store/bundle-import.test.ts).
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZipFile } from 'yazl';
import { type Ran, modelab } from './modelab';

let tmp = '';
let db = '';
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'modelab-import-cli-'));
  db = path.join(tmp, 'h.sqlite');
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function expectOneLine(r: Ran, want: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(/^modelab: /);
  expect(r.stderr).not.toMatch(/\bat .*\.[jt]s:\d+/);
  expect(r.stderr).toMatch(want);
  expect(r.stdout).toBe('');
}

function zipFile(name: string, add: (z: ZipFile) => void): Promise<string> {
  const file = path.join(tmp, name);
  const z = new ZipFile();
  add(z);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    z.outputStream.on('data', (c: Buffer) => chunks.push(c));
    z.outputStream.on('end', () => {
      writeFileSync(file, Buffer.concat(chunks));
      resolve(file);
    });
    z.outputStream.on('error', reject);
    z.end();
  });
}

describe('modelab import refuses in one line', () => {
  it('/dev/null and a file that is not a zip', async () => {
    expectOneLine(await modelab(['import', '/dev/null', '--db', db]), /\/dev\/null is a character device, not a bundle folder or \.zip file/);
    const text = path.join(tmp, 'notes.zip');
    writeFileSync(text, 'not a zip');
    expectOneLine(await modelab(['import', text, '--db', db]), /notes\.zip is neither a bundle folder nor a \.zip file/);
  });

  it('a zip with a symlink entry, and one with `same` then `same/child`: no ENOTDIR, no staging folder left', async () => {
    const link = await zipFile('link.zip', (z) => z.addBuffer(Buffer.from('/etc/passwd'), 'run.json', { mode: 0o120777 }));
    expectOneLine(await modelab(['import', link, '--db', db]), /refusing the entry 'run\.json': it is a symbolic link/);
    const same = await zipFile('same.zip', (z) => {
      z.addBuffer(Buffer.alloc(100_000), 'same');
      z.addBuffer(Buffer.from('x'), 'same/child');
    });
    const r = await modelab(['import', same, '--db', db]);
    expectOneLine(r, /the entry 'same\/child' needs 'same' to be a folder, but 'same' is a file/);
    expect(r.stderr).not.toMatch(/ENOTDIR/);
    expect(readdirSync(path.join(tmp, 'h.artifacts')).filter((f) => f.startsWith('.import-'))).toEqual([]);
  });
});
