/** The real CLI as a user runs it: `node bin/modelab.mjs …` from the repository root, in the test run's environment
 *  (MODELAB_BACKEND, when the run sets it, forces the default backend of the CLI as of every other process). */
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
    const child = execFile(process.execPath, [bin, ...args], { cwd: root, env: process.env, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
    child.stdin?.end(opts.input ?? '');
  });
}
