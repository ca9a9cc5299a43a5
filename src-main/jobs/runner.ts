/**
 * The job runner: runs experiments in their own processes, at most `maxConcurrent` at once (default: the number of
 * cores), persisting what each job streams as it arrives, writing a heartbeat for every job it owns, and settling each
 * run's final status: finished, failed (with the reason), cancelled, or crashed (its process died).
 */
import os from 'node:os';
import { isDiskFull } from '../store/errors';
import type { HistoryStore } from '../store/history';
import { type RecordedRunEvent, recordRunEvent, stagedFileOf } from '../store/recorded-event';
import type { RunStatus } from '../store/types';
import { type ErrorKind, type FromWorker, type JobSpec, type ToWorker, describeError } from './protocol';
import { HelperHost, type HelperWorker } from './helpers';
import { jobEnv } from './parallelism';
import { type JobProcess, type Launcher, forkLauncher, workerEntry } from './process';

export const HEARTBEAT_MS = 2000;

export interface RunnerOptions {
  store: HistoryStore;
  /** Most jobs running at once (default: available cores). */
  maxConcurrent?: number;
  heartbeatMs?: number;
  launcher?: Launcher;
  /** The experiment worker module (default: worker.ts beside this file). */
  workerEntry?: string;
  /** The helper modules (training processes, point worker) this runner starts for its jobs (helpers.ts; default:
   *  beside this file). */
  helperEntry?: (worker: HelperWorker) => string;
  parallelEndpoints?: JobSpec['parallelEndpoints'];
  parallelPoints?: JobSpec['parallelPoints'];
  /** After a cancel, how long the job process gets to stop before it is killed (default 10 s). */
  cancelGraceMs?: number;
  env?: NodeJS.ProcessEnv;
}

export interface SubmitRequest {
  recipe: unknown;
  preset: string | null;
  backend?: string;
  dataDir?: string;
}

export type JobEvent =
  | { type: 'status'; runId: string; status: RunStatus; error: string | null; errorKind?: ErrorKind }
  /** A run event — every kind, progress and curve points included — emitted once the history has recorded it
   *  (store/recorded-event.ts); a front end folds them (engine/experiment/run-so-far.ts applyRunEvent). A
   *  checkpoint's file (`weights.hash` in the artifact store) stays until the endpoint's next checkpoint is recorded. */
  | { type: 'run'; runId: string; event: RecordedRunEvent };

export interface JobOutcome {
  runId: string;
  status: RunStatus;
  error: string | null;
  errorKind?: ErrorKind;
}

interface Job {
  runId: string;
  req: SubmitRequest;
  proc: JobProcess | null;
  pid: number | null;
  chain: Promise<void>;
  gotResult: boolean;
  cancelRequested: boolean;
  cancelled: boolean;
  error: { kind: ErrorKind; message: string } | null;
  persistError: Error | null;
  killTimer: NodeJS.Timeout | null;
  lastBeat: number;
  done: Promise<JobOutcome>;
  resolve: (o: JobOutcome) => void;
}

export class JobRunner {
  private readonly queue: Job[] = [];
  private readonly running = new Map<string, Job>();
  private readonly jobs = new Map<string, Job>();
  private readonly listeners = new Set<(e: JobEvent) => void>();
  private readonly maxConcurrent: number;
  private readonly heartbeatMs: number;
  private readonly launcher: Launcher;
  private readonly entry: string;
  private timer: NodeJS.Timeout | null = null;
  private beating = false;

  constructor(private readonly opts: RunnerOptions) {
    this.maxConcurrent = Math.max(1, opts.maxConcurrent ?? os.availableParallelism());
    this.heartbeatMs = opts.heartbeatMs ?? HEARTBEAT_MS;
    this.launcher = opts.launcher ?? forkLauncher;
    this.entry = opts.workerEntry ?? workerEntry('worker');
  }

  get store(): HistoryStore {
    return this.opts.store;
  }

  on(listener: (e: JobEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: JobEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // a listener's failure is not the job's
      }
    }
  }

  /** Ids of the jobs this runner owns: running, then queued. */
  owned(): { running: string[]; queued: string[] } {
    return { running: [...this.running.keys()], queued: this.queue.map((j) => j.runId) };
  }

  /** The pid of a running job's process. */
  pidOf(runId: string): number | null {
    return this.jobs.get(runId)?.pid ?? null;
  }

  /** Queues a run already created in the store (status 'queued'); resolves when it ends. */
  submit(runId: string, req: SubmitRequest): Promise<JobOutcome> {
    const existing = this.jobs.get(runId);
    if (existing) return existing.done;
    let resolve!: (o: JobOutcome) => void;
    const done = new Promise<JobOutcome>((r) => (resolve = r));
    const job: Job = {
      runId,
      req,
      proc: null,
      pid: null,
      chain: Promise.resolve(),
      gotResult: false,
      cancelRequested: false,
      cancelled: false,
      error: null,
      persistError: null,
      killTimer: null,
      lastBeat: Date.now(),
      done,
      resolve,
    };
    this.jobs.set(runId, job);
    this.queue.push(job);
    this.ensureTimer();
    this.pump();
    return done;
  }

  wait(runId: string): Promise<JobOutcome> | undefined {
    return this.jobs.get(runId)?.done;
  }

  /**
   * Cancels a job: a queued one at once; a running one within a training step (the process is killed if it has not
   * stopped after the grace period). A run owned by another process gets a cancel request it will see at its next
   * heartbeat. Returns what happened.
   */
  async cancel(runId: string): Promise<'cancelled' | 'stopping' | 'requested' | 'not-running'> {
    const job = this.jobs.get(runId);
    if (job) {
      const qi = this.queue.indexOf(job);
      if (qi >= 0) {
        this.queue.splice(qi, 1);
        job.cancelRequested = true;
        await this.settle(job, 'cancelled', null);
        return 'cancelled';
      }
      if (this.running.has(runId)) {
        if (!job.cancelRequested) {
          job.cancelRequested = true;
          job.proc?.send({ type: 'cancel' } satisfies ToWorker);
          job.killTimer = setTimeout(() => job.proc?.kill('SIGKILL'), this.opts.cancelGraceMs ?? 10_000);
        }
        return 'stopping';
      }
      return 'not-running';
    }
    const s = await this.store.summary(runId);
    if (s.status !== 'running' && s.status !== 'queued') return 'not-running';
    await this.store.requestCancel(s.id);
    return 'requested';
  }

  /** Cancels every job and waits for all of them to end. */
  async shutdown(): Promise<void> {
    const all = [...this.jobs.values()];
    await Promise.all(all.map((j) => this.cancel(j.runId)));
    await Promise.all(all.map((j) => j.done));
    this.stopTimer();
  }

  private ensureTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.beat(), this.heartbeatMs);
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The heartbeat: proof for other processes that these jobs have an owner, and a look for cancel requests. */
  private async beat(): Promise<void> {
    if (this.beating) return;
    this.beating = true;
    try {
      const ids = [...this.running.keys(), ...this.queue.map((j) => j.runId)];
      if (!ids.length) {
        if (!this.jobs.size) this.stopTimer();
        return;
      }
      await this.store.heartbeat(ids);
      for (const id of await this.store.cancelRequested(ids)) await this.cancel(id);
    } catch {
      // A missed heartbeat is not fatal; the next one may succeed.
    } finally {
      this.beating = false;
    }
  }

  private pump(): void {
    while (this.running.size < this.maxConcurrent && this.queue.length) {
      const job = this.queue.shift()!;
      this.running.set(job.runId, job);
      this.start(job);
    }
  }

  private jobSpec(job: Job): JobSpec {
    return {
      runId: job.runId,
      recipe: job.req.recipe,
      preset: job.req.preset,
      backend: job.req.backend,
      dataDir: job.req.dataDir,
      artifactsDir: this.store.location.artifactsDir,
      parallelEndpoints: this.opts.parallelEndpoints ?? 'auto',
      parallelPoints: this.opts.parallelPoints ?? 'auto',
      heartbeatMs: this.heartbeatMs,
    };
  }

  private start(job: Job): void {
    let proc: JobProcess;
    try {
      // Its share of the cores, as every worker process gets (parallelism.ts).
      proc = this.launcher(this.entry, { env: jobEnv(this.opts.env) });
    } catch (e) {
      job.error = { kind: 'internal', message: `could not start the job process: ${(e as Error).message}` };
      this.enqueue(job, () => this.finalize(job, null, null));
      return;
    }
    job.proc = proc;
    job.pid = proc.pid ?? null;
    // The job's training processes and point worker are started here, by the top process (helpers.ts).
    const helpers = new HelperHost({
      launcher: this.launcher,
      entry: this.opts.helperEntry ?? workerEntry,
      env: this.opts.env,
      reply: (m) => proc.send(m),
    });
    this.enqueue(job, async () => {
      await this.store.markStarted(job.runId, job.pid);
      this.emit({ type: 'status', runId: job.runId, status: 'running', error: null });
    });
    proc.onMessage((m) => {
      if (!helpers.handle(m)) this.enqueue(job, () => this.handle(job, m as FromWorker));
    });
    proc.onExit((code, signal) => {
      helpers.close();
      this.enqueue(job, () => this.finalize(job, code, signal));
    });
  }

  /** Runs f after everything queued for this job; the chain never rejects (a failure to save stops the job). */
  private enqueue(job: Job, f: () => Promise<void>): void {
    job.chain = job.chain.then(f).catch((e: unknown) => this.persistFailed(job, e));
  }

  private persistFailed(job: Job, e: unknown): void {
    if (job.persistError) return;
    job.persistError = e as Error;
    job.proc?.kill('SIGKILL');
  }

  private async handle(job: Job, m: FromWorker): Promise<void> {
    const id = job.runId;
    if (job.persistError) {
      // Nothing more is saved once saving failed; drop staged files.
      if (m.type === 'event') {
        const staged = stagedFileOf(m.event);
        if (staged) this.store.artifacts.discard(staged);
      }
      return;
    }
    switch (m.type) {
      case 'ready':
        job.proc?.send({ type: 'start', job: this.jobSpec(job) } satisfies ToWorker);
        if (job.cancelRequested) job.proc?.send({ type: 'cancel' } satisfies ToWorker);
        break;
      case 'heartbeat':
        job.lastBeat = Date.now();
        break;
      case 'environment':
        await this.store.saveEnvironment(id, m.environment);
        break;
      case 'event':
        // Recorded first, then re-emitted: a listener may read what the event names from the history at once.
        await recordRunEvent(this.store, id, m.event);
        this.emit({ type: 'run', runId: id, event: m.event });
        break;
      case 'result':
        await this.store.finish(id, m.result);
        job.gotResult = true;
        break;
      case 'error':
        job.error = { kind: m.kind, message: m.message };
        break;
      case 'cancelled':
        job.cancelled = true;
        break;
      default:
        break;
    }
  }

  private async finalize(job: Job, code: number | null, signal: string | null): Promise<void> {
    if (job.killTimer) clearTimeout(job.killTimer);
    this.running.delete(job.runId);
    let status: RunStatus;
    let error: string | null = null;
    let kind: ErrorKind | undefined;
    if (job.gotResult && !job.persistError) status = 'finished';
    else if (job.persistError) {
      status = 'failed';
      const d = describeError(job.persistError);
      kind = d.kind === 'input' ? 'input' : 'io';
      error = `could not save the results: ${d.message}`;
    } else if (job.error) {
      status = 'failed';
      kind = job.error.kind;
      error = job.error.message;
    } else if (job.cancelRequested || job.cancelled) status = 'cancelled';
    else {
      status = 'crashed';
      error = `the job process${job.pid ? ` (pid ${job.pid})` : ''} stopped (${signal ? `killed by ${signal}` : `exit code ${code}`}) before finishing`;
    }
    await this.settle(job, status, error, kind);
    this.pump();
  }

  private async settle(job: Job, status: RunStatus, error: string | null, kind?: ErrorKind): Promise<void> {
    if (status !== 'finished') {
      const record = (): Promise<boolean> => this.store.setStatus(job.runId, status, { error });
      try {
        await record().catch((e: unknown) => {
          // A full disk: free the space reserve (history.ts) so that the status and its reason fit, then try again.
          if (isDiskFull(e) && this.store.releaseSpaceReserve()) return record();
          throw e;
        });
      } catch (e) {
        // The database itself cannot be written: the run stays 'running' without a heartbeat, and crash detection
        // marks it when ModeLab next starts.
        error = `${error ?? status}; and the history could not record it: ${(e as Error).message}`;
      }
    }
    this.jobs.delete(job.runId);
    this.emit({ type: 'status', runId: job.runId, status, error, ...(kind ? { errorKind: kind } : {}) });
    job.resolve({ runId: job.runId, status, error, ...(kind ? { errorKind: kind } : {}) });
  }
}
