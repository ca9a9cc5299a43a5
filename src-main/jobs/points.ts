/**
 * A helper process for path points (`RunOptions.pointWorkers`, engine/paths/point-workers.ts): one long-lived point
 * worker (point-worker.ts) per run, started while the endpoints train when the run's point-by-point work is large
 * enough and there is a second core. It selects the run's backend, loads the evaluation sets once (a safetensors file,
 * evalDataSafetensors) and evaluates the points the experiment process hands it, one at a time, with the same
 * `SegmentPointEvaluator`: the same numbers as evaluating here. A loss plane's grid is shared the same way
 * (`planeSession`: the worker's PlaneEvaluator on the evaluation sets' first samples).
 *
 * Cancelling the run kills the worker; closing the pool (the run is over) stops it. If the worker crashes, fails to
 * start or cannot load its files, the pool warns once and declines from then on: the experiment process evaluates the
 * points it had handed out itself (paths/structured-eval.ts), so a run never fails because of its helper.
 * MODELAB_PARALLEL_POINTS=0 keeps every point in the experiment process, =1 uses the worker whatever the work.
 */
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CPU_PROCESS_BACKENDS } from '../engine/backend/names';
import { evalDataSafetensors } from '../engine/experiment/export';
import { makeDirs } from '../engine/io/mkdirs';
import { encodeSafetensors } from '../engine/io/safetensors';
import type { HostParams } from '../engine/nn/params';
import type { ArchSpec } from '../engine/nn/spec';
import type { ParamPath } from '../engine/paths/path';
import type { PlaneSession, PointEvaluationData, PointSession, PointWorkerPool, SharedPoint } from '../engine/paths/point-workers';
import type { PlaneFrame } from '../engine/plane/plane';
import { CancelledError } from '../engine/util/errors';
import { type FromPointWorker, type ToPointWorker, fromWireMetrics } from './protocol';
import { workerCount, workerEnv } from './parallelism';
import { type JobProcess, type Launcher, forkLauncher, workerEntry } from './process';

/**
 * Point-by-point work (multiply-accumulates over the evaluation sets) below which the worker is not used. Measured on
 * a 2-core machine (wasm, one thread, ~10 GMAC/s per process): the worker costs ~0.5 s of start-up (hidden when it
 * starts during training), loading the evaluation sets (~0.15 s for 20,000 MNIST samples) and one first-layer product
 * per control point it touches. At 3·10⁹ MACs (≈ 0.3 s of points) the saving is already positive; the mnist-mlp line
 * is 3·10¹¹, the smoke preset's line 10⁶.
 */
export const POINTS_MIN_WORK = 3e9;

/**
 * Backends whose points are spread over processes: tfjs' wasm and cpu compute on one thread per process, and
 * onnx-cpu on the MODELAB_THREADS_PER_PROCESS threads the pool gives each process (parallelism.ts: one each on two
 * cores with a point worker beside the job process, which otherwise evaluated the line on one thread while the other
 * core idled). tfjs-node uses every core itself, and the GPU backends batch the points.
 */
export const POINT_WORKER_BACKENDS: ReadonlySet<string> = new Set(CPU_PROCESS_BACKENDS);

/** Whether to evaluate points in a worker: 'auto' means with a second core, a backend of POINT_WORKER_BACKENDS and enough work
 *  (MODELAB_PARALLEL_POINTS=0 turns it off, =1 on). */
export function useParallelPoints(mode: 'auto' | 'on' | 'off', backend: string, work = Infinity): boolean {
  if (mode !== 'auto') return mode === 'on';
  const env = process.env['MODELAB_PARALLEL_POINTS'];
  if (env === '0') return false;
  if (env === '1') return true;
  return workerCount() > 1 && POINT_WORKER_BACKENDS.has(backend) && work >= POINTS_MIN_WORK;
}

export interface PointPoolOptions {
  /** true / false, or 'auto': decided from the cores, the backend and the work (useParallelPoints). */
  parallel: boolean | 'auto';
  /** The backend the worker selects (the experiment's own: BackendRecord.backend). */
  backend: string;
  /** Folder for the hand-over files (the evaluation sets, vertices); the worker deletes each once read. */
  tmpDir: string;
  /** The run's signal: when it fires, the worker is killed and its points reject with CancelledError. */
  signal?: AbortSignal;
  /** Told once when the worker stops unexpectedly (its points are then evaluated in this process). */
  onWarning?: (message: string) => void;
  launcher?: Launcher;
  entry?: string;
  /** Processes that compute the points at once, this one included (default: workerCount(), parallelism.ts): up to
   *  workers − 1 point workers. */
  workers?: number;
}

interface Waiting {
  resolve: (r: SharedPoint | null) => void;
  reject: (e: Error) => void;
}

export class PointProcessPool implements PointWorkerPool {
  private child: JobProcess | null = null;
  private state: 'idle' | 'running' | 'stopped' = 'idle';
  private ready = false;
  private readonly outbox: ToPointWorker[] = [];
  private data: PointEvaluationData | null = null;
  private dataSent = false;
  private nextSession = 1;
  private nextId = 1;
  /** Points sent and not answered, by session then id. */
  private readonly waiting = new Map<number, Map<number, Waiting>>();
  private readonly files = new Set<string>();
  private lastError: string | null = null;
  private closing = false;
  private exit: Promise<void> = Promise.resolve();
  private readonly onAbort = (): void => this.child?.kill('SIGKILL');
  evaluationData: PointWorkerPool['evaluationData'] = null;
  /** Points the worker has evaluated so far. */
  served = 0;

  constructor(private readonly o: PointPoolOptions) {}

  /** The worker's pid while it runs. */
  get pid(): number | undefined {
    return this.state === 'running' ? this.child?.pid : undefined;
  }

  /** Whether the worker process was started (it may have stopped since). */
  get started(): boolean {
    return this.state !== 'idle';
  }

  private wanted(macs: number): boolean {
    return this.o.parallel === 'auto' ? useParallelPoints('auto', this.o.backend, macs) : this.o.parallel;
  }

  prepare(info: { spec: ArchSpec; pointwiseMacs: number }): void {
    if (this.wanted(info.pointwiseMacs)) this.start();
  }

  setEvaluationData(d: PointEvaluationData): void {
    this.data = d;
    this.evaluationData = { trainN: d.train.n, testN: d.test.n, batchSize: d.batchSize };
    if (this.state === 'running') this.sendData();
  }

  session(spec: ArchSpec, p: ParamPath, macs: number): PointSession | null {
    if (this.state === 'stopped' || this.closing || !this.data || this.o.signal?.aborted || !this.wanted(macs)) return null;
    this.start();
    this.sendData();
    if (this.state !== 'running') return null;
    return new ProcessSession(this, this.nextSession++, spec, p);
  }

  planeSession(spec: ArchSpec, frame: PlaneFrame, samples: { train: number; test: number }, macs: number): PlaneSession | null {
    if (this.state === 'stopped' || this.closing || !this.data || this.o.signal?.aborted || !this.wanted(macs)) return null;
    if (samples.train > this.data.train.n || samples.test > this.data.test.n) return null;
    this.start();
    this.sendData();
    if (this.state !== 'running') return null;
    return new PlaneProcessSession(this, this.nextSession++, spec, frame, samples);
  }

  /** Stops the worker (the run is over) and removes what it left. */
  async close(): Promise<void> {
    this.closing = true;
    this.o.signal?.removeEventListener('abort', this.onAbort);
    if (this.state === 'running') this.child?.kill('SIGKILL');
    await this.exit;
    this.removeFiles();
  }

  // ---------------------------------------------------------------------------------------------- worker plumbing

  private start(): void {
    if (this.state !== 'idle' || this.closing || this.o.signal?.aborted) return;
    this.state = 'running';
    let child: JobProcess;
    try {
      // This process and the point workers compute at once: each gets its share of the cores.
      child = (this.o.launcher ?? forkLauncher)(this.o.entry ?? workerEntry('point-worker'), { env: workerEnv(Math.max(2, this.o.workers ?? 2)) });
    } catch (e) {
      this.state = 'stopped';
      this.warn(`the point worker could not start (${(e as Error).message})`);
      return;
    }
    this.child = child;
    this.exit = new Promise<void>((resolve) => {
      child.onExit((code, signal) => {
        this.stopped(code, signal);
        resolve();
      });
    });
    child.onMessage((raw) => this.received(raw as FromPointWorker));
    this.o.signal?.addEventListener('abort', this.onAbort);
    this.post({ type: 'init', backend: this.o.backend });
  }

  /** Sends a message, or keeps it until the worker says it is ready (it listens only from then on). */
  post(m: ToPointWorker): void {
    if (this.state !== 'running') return;
    if (this.ready) this.child!.send(m);
    else this.outbox.push(m);
  }

  private sendData(): void {
    if (this.dataSent || !this.data || this.state !== 'running') return;
    this.dataSent = true;
    try {
      const file = this.writeFile('data', evalDataSafetensors(this.data.inputShape, this.data));
      this.post({ type: 'data', file, batchSize: this.data.batchSize });
    } catch (e) {
      this.lastError = `could not write the evaluation sets: ${(e as Error).message}`;
      this.child!.kill('SIGKILL');
    }
  }

  /** A hand-over file in tmpDir (the worker deletes it once read; close() removes any left). */
  writeFile(what: string, bytes: Uint8Array): string {
    makeDirs(this.o.tmpDir);
    const file = path.join(this.o.tmpDir, `points-${process.pid}-${randomBytes(4).toString('hex')}-${what}.safetensors`);
    this.files.add(file);
    writeFileSync(file, bytes);
    return file;
  }

  /** Waits for the answer to point `id` of `session`. */
  expect(session: number, id: number): Promise<SharedPoint | null> {
    if (this.state !== 'running') return Promise.reject(this.stopError());
    return new Promise((resolve, reject) => {
      let m = this.waiting.get(session);
      if (!m) this.waiting.set(session, (m = new Map()));
      m.set(id, { resolve, reject });
    });
  }

  newId(): number {
    return this.nextId++;
  }

  /** Resolves every point of a session still waiting with null (the session is closed: nobody wants them). */
  dropSession(session: number): void {
    const m = this.waiting.get(session);
    this.waiting.delete(session);
    for (const w of m?.values() ?? []) w.resolve(null);
  }

  private settle(session: number, id: number, f: (w: Waiting) => void): void {
    const m = this.waiting.get(session);
    const w = m?.get(id);
    if (!w) return;
    m!.delete(id);
    f(w);
  }

  private received(m: FromPointWorker): void {
    switch (m.type) {
      case 'ready':
        this.ready = true;
        for (const msg of this.outbox.splice(0)) this.child!.send(msg);
        break;
      case 'point':
        this.served++;
        this.settle(m.session, m.id, (w) => w.resolve({ metrics: { train: fromWireMetrics(m.train), test: fromWireMetrics(m.test) }, cost: m.cost }));
        break;
      case 'withdrawn':
        for (const id of m.ids) this.settle(m.session, id, (w) => w.resolve(null));
        break;
      case 'error':
        if (m.session !== undefined && m.id !== undefined) this.settle(m.session, m.id, (w) => w.reject(new Error(`point worker: ${m.message}`)));
        else this.lastError = m.message;
        break;
    }
  }

  private stopError(): Error {
    if (this.o.signal?.aborted) return new CancelledError();
    return new Error(`the point worker stopped${this.lastError ? `: ${this.lastError}` : ''}`);
  }

  private stopped(code: number | null, signal: string | null): void {
    this.state = 'stopped';
    this.o.signal?.removeEventListener('abort', this.onAbort);
    if (!this.closing && !this.o.signal?.aborted) {
      this.warn(`the point worker stopped (${signal ? `signal ${signal}` : `exit code ${code}`})${this.lastError ? `: ${this.lastError}` : ''}`);
    }
    const e = this.stopError();
    for (const m of this.waiting.values()) for (const w of m.values()) w.reject(e);
    this.waiting.clear();
    this.removeFiles();
  }

  private warnedOnce = false;
  private warn(message: string): void {
    if (this.warnedOnce) return;
    this.warnedOnce = true;
    this.o.onWarning?.(`${message}; its path points are evaluated in the experiment process`);
  }

  private removeFiles(): void {
    for (const f of this.files) rmSync(f, { force: true });
    this.files.clear();
  }
}

/** A session in the worker: opened with its first point, each point an id awaited from the pool; closing drops what is
 *  still queued. */
abstract class WorkerSession {
  private opened = false;
  private closed = false;

  constructor(
    protected readonly pool: PointProcessPool,
    protected readonly id: number,
  ) {}

  /** Sends what the worker needs before the first point (the session's opening message, its files). */
  protected abstract open(): void;

  /** Hands one point over: `before` sends what this point needs first; `point` is its message for id `id`. */
  protected ask(before: () => void, point: (id: number) => ToPointWorker): Promise<SharedPoint | null> {
    if (this.closed) return Promise.resolve(null);
    try {
      if (!this.opened) {
        this.opened = true;
        this.open();
      }
      before();
    } catch (e) {
      return Promise.reject(e as Error);
    }
    const id = this.pool.newId();
    const answer = this.pool.expect(this.id, id);
    this.pool.post(point(id));
    return answer;
  }

  withdraw(): void {
    if (!this.closed) this.pool.post({ type: 'withdraw', session: this.id });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.opened) this.pool.post({ type: 'close', session: this.id });
    this.pool.dropSession(this.id);
  }
}

/** A path's points in the worker: each segment's vertices go over once, with its first point. */
class ProcessSession extends WorkerSession implements PointSession {
  private readonly sent = new Set<number>();

  constructor(
    pool: PointProcessPool,
    id: number,
    private readonly spec: ArchSpec,
    private readonly path: ParamPath,
  ) {
    super(pool, id);
  }

  protected open(): void {
    this.pool.post({ type: 'open', session: this.id, spec: this.spec, segments: this.path.segments });
  }

  evaluate(segment: number, u: number): Promise<SharedPoint | null> {
    const vertices = (): void => {
      const s = this.path.segments[segment]!;
      const missing = Array.from({ length: s.to - s.from + 1 }, (_, k) => s.from + k).filter((v) => !this.sent.has(v));
      if (!missing.length) return;
      const tensors: HostParams = {};
      for (const v of missing) for (const [name, t] of Object.entries(this.path.vertices[v]!)) tensors[`v${v}.${name}`] = t;
      const file = this.pool.writeFile('vertices', encodeSafetensors(tensors));
      missing.forEach((v) => this.sent.add(v));
      this.pool.post({ type: 'vertices', session: this.id, file });
    };
    return this.ask(vertices, (id) => ({ type: 'point', session: this.id, id, segment, u }));
  }
}

/** A loss plane's cells in the worker: θ_A, θ_B, θ_C go over once, with the first cell. */
class PlaneProcessSession extends WorkerSession implements PlaneSession {
  constructor(
    pool: PointProcessPool,
    id: number,
    private readonly spec: ArchSpec,
    private readonly frame: PlaneFrame,
    private readonly samples: { train: number; test: number },
  ) {
    super(pool, id);
  }

  protected open(): void {
    const tensors: HostParams = {};
    for (const [prefix, params] of [['a', this.frame.A], ['b', this.frame.B], ['c', this.frame.C]] as const) {
      for (const [name, t] of Object.entries(params)) tensors[`${prefix}.${name}`] = t;
    }
    const file = this.pool.writeFile('plane', encodeSafetensors(tensors));
    const { lengthAB, p, q } = this.frame;
    this.pool.post({ type: 'plane', session: this.id, spec: this.spec, file, lengthAB, p, q, ...this.samples });
  }

  evaluate(x: number, y: number): Promise<SharedPoint | null> {
    return this.ask(() => undefined, (id) => ({ type: 'cell', session: this.id, id, x, y }));
  }
}

/** Several point workers, each a PointProcessPool: a session (a path's or a plane's) hands each point to the worker
 *  with the fewest in flight. A worker that stops rejects its points as one alone would (they are evaluated in the experiment process). */
export class SpreadPointPool implements PointWorkerPool {
  evaluationData: PointWorkerPool['evaluationData'] = null;

  constructor(readonly pools: PointProcessPool[]) {}

  /** Points the workers have evaluated so far. */
  get served(): number {
    return this.pools.reduce((n, p) => n + p.served, 0);
  }

  prepare(info: { spec: ArchSpec; pointwiseMacs: number }): void {
    for (const p of this.pools) p.prepare(info);
  }

  async setEvaluationData(d: PointEvaluationData): Promise<void> {
    for (const p of this.pools) p.setEvaluationData(d);
    this.evaluationData = this.pools[0]!.evaluationData;
  }

  session(spec: ArchSpec, p: ParamPath, macs: number): PointSession | null {
    const sessions = this.pools.flatMap((pool) => pool.session(spec, p, macs) ?? []);
    return sessions.length > 1 ? new SpreadSession(sessions) : (sessions[0] ?? null);
  }

  planeSession(spec: ArchSpec, frame: PlaneFrame, samples: { train: number; test: number }, macs: number): PlaneSession | null {
    const sessions = this.pools.flatMap((pool) => pool.planeSession(spec, frame, samples, macs) ?? []);
    return sessions.length > 1 ? new SpreadSession(sessions) : (sessions[0] ?? null);
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.close()));
  }
}

/** A path's points or a plane's cells (both evaluate two numbers: segment and u, or x and y) over several workers. */
class SpreadSession implements PointSession, PlaneSession {
  private readonly inFlight: number[];

  constructor(private readonly sessions: (PointSession | PlaneSession)[]) {
    this.inFlight = sessions.map(() => 0);
  }

  get processes(): number {
    return this.sessions.length;
  }

  evaluate(a: number, b: number): Promise<SharedPoint | null> {
    const k = this.inFlight.indexOf(Math.min(...this.inFlight));
    this.inFlight[k]!++;
    return this.sessions[k]!.evaluate(a, b).finally(() => this.inFlight[k]!--);
  }

  withdraw(): void {
    for (const s of this.sessions) s.withdraw();
  }

  close(): void {
    for (const s of this.sessions) s.close();
  }
}

export type PointPool = PointProcessPool | SpreadPointPool;

/** A pool for one run: workers − 1 point workers (one: a PointProcessPool), or undefined when points stay in this
 *  process (`parallel` false, or 'auto' without a second worker or a backend of POINT_WORKER_BACKENDS). */
export function pointWorkerPool(o: PointPoolOptions): PointPool | undefined {
  if (o.parallel === false || (o.parallel === 'auto' && !useParallelPoints('auto', o.backend))) return undefined;
  const workers = Math.max(2, o.workers ?? workerCount());
  if (workers === 2) return new PointProcessPool({ ...o, workers });
  return new SpreadPointPool(Array.from({ length: workers - 1 }, () => new PointProcessPool({ ...o, workers })));
}
