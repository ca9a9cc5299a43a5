/**
 * The quick bench as a job of its own (the app's "run a quick benchmark" button, through the api's runQuickBench):
 * started in a separate process (bench-worker.ts) so that the app and the server stay responsive for the minute and
 * a half it takes; the result is kept where `modelab bench` keeps its own. One at a time: a second request while one
 * runs gets the same outcome.
 */
import { InputError } from '../engine/util/errors';
import { type Launcher, forkLauncher, workerEntry } from './process';

export type ToBenchWorker = { type: 'bench'; backend?: string };
export type FromBenchWorker = { type: 'done'; startedAt: string; backend: string } | { type: 'error'; message: string };

export interface QuickBenchOutcome {
  startedAt: string;
  backend: string;
}

let running: Promise<QuickBenchOutcome> | null = null;

export function runQuickBenchJob(o: { launcher?: Launcher; env?: NodeJS.ProcessEnv; backend?: string } = {}): Promise<QuickBenchOutcome> {
  running ??= new Promise<QuickBenchOutcome>((resolve, reject) => {
    const proc = (o.launcher ?? forkLauncher)(workerEntry('bench-worker'), { env: o.env });
    let settled = false;
    proc.onMessage((raw) => {
      const m = raw as FromBenchWorker;
      settled = true;
      if (m.type === 'done') resolve({ startedAt: m.startedAt, backend: m.backend });
      else reject(new InputError(`the quick benchmark failed: ${m.message}`));
    });
    proc.onExit((code, signal) => {
      if (!settled) reject(new Error(`the quick benchmark's process ended (${signal ?? `exit code ${code}`}) before reporting`));
    });
    proc.send({ type: 'bench', backend: o.backend } satisfies ToBenchWorker);
  }).finally(() => {
    running = null;
  });
  return running;
}
