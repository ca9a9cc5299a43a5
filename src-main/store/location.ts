/**
 * Where the history lives. Default: the user's data directory + `modelab/`:
 *   Linux    $XDG_DATA_HOME/modelab  (~/.local/share/modelab)
 *   macOS    ~/Library/Application Support/modelab
 *   Windows  %APPDATA%\modelab
 * `MODELAB_HOME` replaces that folder; `--db FILE` names the database file itself. The artifact folder sits beside the
 * database: FILE without its extension + `.artifacts/` (history.sqlite → history.artifacts/).
 */
import path from 'node:path';
import { modelabHome } from '../engine/util/home';

// ModeLab's home folder is the engine's too (downloaded datasets live there): one rule, in engine/util/home.ts.
export { dataHome, modelabHome } from '../engine/util/home';

export const DB_FILE = 'history.sqlite';

export interface HistoryLocation {
  dbPath: string;
  artifactsDir: string;
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
