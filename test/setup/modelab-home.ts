/**
 * Global test setup: every test (and every `modelab` process a test starts) uses a temporary history, never the
 * researcher's real one. The store refuses to fall back to the data directory under vitest without MODELAB_HOME.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export default function setup(): () => void {
  const home = mkdtempSync(path.join(os.tmpdir(), 'modelab-test-home-'));
  process.env['MODELAB_HOME'] = home;
  return () => rmSync(home, { recursive: true, force: true });
}
