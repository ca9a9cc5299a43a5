/**
 * The backend a request without a name gets. `MODELAB_BACKEND` sets it for a process and, since every job, training
 * and point-worker process inherits its parent's environment, for everything that process starts: one variable forces
 * the default for a whole CLI run, app session or test run. A backend named explicitly (`--backend`, the app's picker,
 * a test's `selectBackend('cpu')`) keeps its name. Kept apart from names.ts, which the renderer's wire contract reads.
 */
import { AUTO_BACKEND, BACKEND_ENV } from './names';

export { BACKEND_ENV } from './names';

/** `requested` when it names a backend; otherwise (none, or 'auto') MODELAB_BACKEND when it names one; otherwise
 *  undefined: the first available backend in AUTO_ORDER. */
export function defaultedBackend(requested: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (requested !== undefined && requested !== AUTO_BACKEND) return requested;
  const fromEnv = env[BACKEND_ENV]?.trim();
  return fromEnv && fromEnv !== AUTO_BACKEND ? fromEnv : undefined;
}
