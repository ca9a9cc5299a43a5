/**
 * Global test setup: the app tests (test/app: the built job worker), the server tests and the end-to-end suite use
 * the electron-vite build in out/. Build it when it is missing or older than any source it is built from, so
 * `npm test` works on a fresh clone by itself.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');
const OUTPUTS = ['out/renderer/index.html', 'out/main/index.cjs', 'out/main/worker.cjs', 'out/main/train-worker.cjs', 'out/preload/index.cjs'];
const SOURCES = ['src-renderer', 'src-main', 'electron.vite.config.ts', 'package.json'];

function newest(p: string): number {
  const s = statSync(p);
  if (!s.isDirectory()) return s.mtimeMs;
  let m = 0;
  for (const f of readdirSync(p)) if (f !== 'node_modules') m = Math.max(m, newest(path.join(p, f)));
  return m;
}

export function buildIsStale(): boolean {
  const outs = OUTPUTS.map((o) => path.join(root, o));
  if (outs.some((o) => !existsSync(o))) return true;
  const built = Math.min(...outs.map((o) => statSync(o).mtimeMs));
  return SOURCES.some((s) => existsSync(path.join(root, s)) && newest(path.join(root, s)) > built);
}

export default function setup(): void {
  if (!buildIsStale()) return;
  const bin = path.join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'electron-vite.cmd' : 'electron-vite');
  const r = spawnSync(bin, ['build'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' } });
  // Not fatal here: only the tests that use out/ need it, and they fail with their own message.
  if (r.status !== 0) console.warn(`electron-vite build failed (the app, server and end-to-end tests need it):\n${r.stdout}\n${r.stderr}`);
}
