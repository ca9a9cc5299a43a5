/**
 * ModeLab's home folder: the history (store/location.ts), bench results, downloaded datasets. Default: the user's
 * data directory + `modelab/`:
 *   Linux    $XDG_DATA_HOME/modelab  (~/.local/share/modelab)
 *   macOS    ~/Library/Application Support/modelab
 *   Windows  %APPDATA%\modelab
 * `MODELAB_HOME` replaces that folder.
 */
import os from 'node:os';
import path from 'node:path';

export function dataHome(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const home = os.homedir();
  if (platform === 'win32') return path.join(env['APPDATA'] ?? path.join(home, 'AppData', 'Roaming'), 'modelab');
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'modelab');
  const xdg = env['XDG_DATA_HOME'];
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(home, '.local', 'share'), 'modelab');
}

/** ModeLab's home folder: MODELAB_HOME, else the platform's data directory. */
export function modelabHome(env: NodeJS.ProcessEnv = process.env): string {
  const h = env['MODELAB_HOME'];
  if (h) return path.resolve(h);
  if (env['VITEST']) {
    // Tests must never touch a researcher's real history (vitest.config.ts sets MODELAB_HOME to a temp folder).
    throw new Error('MODELAB_HOME is not set under vitest: refusing to use the real data directory');
  }
  return dataHome(env);
}
