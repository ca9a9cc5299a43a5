/**
 * Helper processes (training processes, the point worker) started by the top process for a job process.
 *
 * An Electron utility process cannot start further utility processes, so a job does not start its helpers itself:
 * it asks its owner (the JobRunner in Electron main, the CLI or the server) over its channel, and the owner starts
 * them with its own launcher and relays their messages. Every front end therefore trains endpoints and shares path
 * points alike, and the top process owns every process it computes with.
 *
 * Job side: `ownerLauncher(port)` is a Launcher whose processes are started by the owner. Owner side: `HelperHost`
 * answers those requests for one job; it starts only the worker modules it knows (by name, never a path from the job).
 */
import path from 'node:path';
import type { JobProcess, Launcher, LaunchOptions, ParentPort } from './process';
import { THREADS_ENV } from './parallelism';

/** The worker modules a job may ask its owner to start. */
export const HELPER_WORKERS = ['train-worker', 'point-worker'] as const;
export type HelperWorker = (typeof HELPER_WORKERS)[number];

/** Job → owner. */
export type ToHelperHost =
  | { type: 'helper-start'; id: number; worker: HelperWorker; threads?: string }
  | { type: 'helper-send'; id: number; msg: unknown }
  | { type: 'helper-kill'; id: number };

/** Owner → job. */
export type FromHelperHost =
  | { type: 'helper-started'; id: number; pid: number | undefined }
  | { type: 'helper-message'; id: number; msg: unknown }
  | { type: 'helper-exit'; id: number; code: number | null; signal: string | null };

const isObject = (m: unknown): m is Record<string, unknown> => typeof m === 'object' && m !== null;

function helperWorker(entry: string): HelperWorker {
  const name = path.basename(entry).replace(/\.(c|m)?(t|j)s$/, '');
  const known = HELPER_WORKERS.find((w) => w === name);
  if (!known) throw new Error(`no such helper worker: ${name}`);
  return known;
}

// ------------------------------------------------------------------------------------------------------- job side

interface Relayed {
  pid: number | undefined;
  message: ((m: unknown) => void)[];
  exit: ((code: number | null, signal: string | null) => void)[];
  exited: boolean;
}

/** A Launcher for a job process: its processes are started by the owner at the other end of `port`. */
export function ownerLauncher(port: ParentPort): Launcher {
  let nextId = 1;
  const procs = new Map<number, Relayed>();
  port.onMessage((raw) => {
    if (!isObject(raw) || typeof raw['id'] !== 'number') return;
    const p = procs.get(raw['id']);
    if (!p) return;
    const m = raw as FromHelperHost;
    if (m.type === 'helper-started') p.pid = m.pid;
    else if (m.type === 'helper-message') for (const cb of p.message) cb(m.msg);
    else if (m.type === 'helper-exit') {
      p.exited = true;
      procs.delete(m.id);
      for (const cb of p.exit) cb(m.code, m.signal);
    }
  });
  return (entry: string, opts: LaunchOptions = {}): JobProcess => {
    const id = nextId++;
    const p: Relayed = { pid: undefined, message: [], exit: [], exited: false };
    procs.set(id, p);
    const threads = opts.env?.[THREADS_ENV];
    port.send({ type: 'helper-start', id, worker: helperWorker(entry), ...(threads ? { threads } : {}) } satisfies ToHelperHost);
    return {
      get pid() {
        return p.pid;
      },
      send: (msg) => {
        if (!p.exited) port.send({ type: 'helper-send', id, msg } satisfies ToHelperHost);
      },
      onMessage: (cb) => void p.message.push(cb),
      onExit: (cb) => void p.exit.push(cb),
      kill: () => {
        if (!p.exited) port.send({ type: 'helper-kill', id } satisfies ToHelperHost);
      },
    };
  };
}

// ----------------------------------------------------------------------------------------------------- owner side

export interface HelperHostOptions {
  launcher: Launcher;
  /** The module file of a helper worker (in the desktop app's build: `<name>.cjs` beside main). */
  entry: (worker: HelperWorker) => string;
  env?: NodeJS.ProcessEnv;
  /** Sends a message to the job process. */
  reply: (m: FromHelperHost) => void;
  /** Told when a helper cannot be started (the job sees it exit at once). */
  onError?: (message: string) => void;
}

/** Starts and relays the helper processes of one job; `close()` kills those still running (the job has ended). */
export class HelperHost {
  private readonly live = new Map<number, JobProcess>();

  constructor(private readonly o: HelperHostOptions) {}

  /** Handles `m` when it is a helper request (true), else leaves it to the caller (false). */
  handle(m: unknown): boolean {
    if (!isObject(m) || typeof m['type'] !== 'string' || !m['type'].startsWith('helper-') || typeof m['id'] !== 'number') return false;
    const req = m as ToHelperHost;
    if (req.type === 'helper-start') this.start(req);
    else if (req.type === 'helper-send') this.live.get(req.id)?.send(req.msg);
    else if (req.type === 'helper-kill') this.live.get(req.id)?.kill('SIGKILL');
    return true;
  }

  private start(req: Extract<ToHelperHost, { type: 'helper-start' }>): void {
    const exit = (code: number | null, signal: string | null): void => this.o.reply({ type: 'helper-exit', id: req.id, code, signal });
    if (!HELPER_WORKERS.includes(req.worker) || this.live.has(req.id)) return exit(null, 'refused: not a helper worker');
    const base = this.o.env ?? process.env;
    const threads = typeof req.threads === 'string' && /^\d+$/.test(req.threads) ? { [THREADS_ENV]: req.threads } : {};
    let child: JobProcess;
    try {
      child = this.o.launcher(this.o.entry(req.worker), { env: { ...base, ...threads } });
    } catch (e) {
      this.o.onError?.(`could not start ${req.worker}: ${(e as Error).message}`);
      return exit(null, `spawn failed: ${(e as Error).message}`);
    }
    this.live.set(req.id, child);
    this.o.reply({ type: 'helper-started', id: req.id, pid: child.pid });
    child.onMessage((msg) => this.o.reply({ type: 'helper-message', id: req.id, msg }));
    child.onExit((code, signal) => {
      this.live.delete(req.id);
      exit(code, signal);
    });
  }

  /** Pids of the helpers running now. */
  get pids(): number[] {
    return [...this.live.values()].flatMap((c) => (c.pid === undefined ? [] : [c.pid]));
  }

  close(): void {
    for (const c of this.live.values()) c.kill('SIGKILL');
  }
}
