/** The real CLI as a user runs it: `node bin/modelab.mjs …` from the repository root (MODELAB_BACKEND unset). */
import { execFile } from 'node:child_process';
import path from 'node:path';

export const root = path.resolve(import.meta.dirname, '../..');
export const bin = path.join(root, 'bin', 'modelab.mjs');

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

export function modelab(args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<Ran> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env['MODELAB_BACKEND'];
    const child = execFile(process.execPath, [bin, ...args], { cwd: root, env, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
    child.stdin?.end(opts.input ?? '');
  });
}
