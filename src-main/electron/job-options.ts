/**
 * How the desktop app runs jobs: each experiment in an Electron utility process (the launcher is injected, so this
 * module never imports Electron), and the job's helpers — its training processes and point worker — started by main
 * too (jobs/helpers.ts), all built beside main (electron.vite.config.ts). Nothing else differs from a CLI or server
 * run: the same JobRunner defaults decide the parallelism (jobs/parallelism.ts).
 */
import { join } from 'node:path';
import type { RunnerOptions } from '../jobs/runner';
import { type UtilityProcessModule, utilityProcessLauncher } from '../jobs/process';

/** `builtDir`: the folder of main's build (worker.cjs, train-worker.cjs, point-worker.cjs). */
export function desktopRunnerOptions(utilityProcess: UtilityProcessModule, builtDir: string): Omit<RunnerOptions, 'store'> {
  return {
    launcher: utilityProcessLauncher(utilityProcess),
    workerEntry: join(builtDir, 'worker.cjs'),
    helperEntry: (worker) => join(builtDir, `${worker}.cjs`),
  };
}
