/**
 * Where the history lives. Default: the user's data directory + `modelab/`:
 *   Linux    $XDG_DATA_HOME/modelab  (~/.local/share/modelab)
 *   macOS    ~/Library/Application Support/modelab
 *   Windows  %APPDATA%\modelab
 * `MODELAB_HOME` replaces that folder; `--db FILE` names the database file itself. The artifact folder sits beside the
 * database: FILE without its extension + `.artifacts/` (history.sqlite → history.artifacts/).
 */
import os from 'node:os';
import path from 'node:path';

export const DB_FILE = 'history.sqlite';

export interface HistoryLocation {
  dbPath: string;
  artifactsDir: string;
}

export function dataHome(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const home = os.homedir();
  if (platform === 'win32') return path.join(env['APPDATA'] ?? path.join(home, 'AppData', 'Roaming'), 'modelab');
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'modelab');
  const xdg = env['XDG_DATA_HOME'];
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(home, '.local', 'share'), 'modelab');
}

/** The folder holding the default database: MODELAB_HOME, else the platform's data directory. */
export function modelabHome(env: NodeJS.ProcessEnv = process.env): string {
  const h = env['MODELAB_HOME'];
  if (h) return path.resolve(h);
  if (env['VITEST']) {
    // Tests must never touch a researcher's real history (vitest.config.ts sets MODELAB_HOME to a temp folder).
    throw new Error('MODELAB_HOME is not set under vitest: refusing to use the real data directory');
  }
  return dataHome(env);
}

export function artifactsDirFor(dbPath: string): string {
  const ext = path.extname(dbPath);
  const stem = ext ? dbPath.slice(0, -ext.length) : dbPath;
  return `${stem}.artifacts`;
}

export function resolveLocation(opts: { db?: string; env?: NodeJS.ProcessEnv } = {}): HistoryLocation {
  const dbPath = opts.db ? path.resolve(opts.db) : path.join(modelabHome(opts.env), DB_FILE);
  return { dbPath, artifactsDir: artifactsDirFor(dbPath) };
}
