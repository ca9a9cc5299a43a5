/**
 * Job processes, on both sides of the channel.
 *
 * Owner side: a Launcher starts an entry module in a new process and returns a JobProcess. `forkLauncher` uses
 * `child_process.fork` (CLI, tests, server); `utilityProcessLauncher(utilityProcess)` wraps Electron's utilityProcess
 * (passed in, so this module never imports Electron). A `.ts` entry is run through tsx, loaded by absolute path.
 *
 * Worker side: `parentPort()` is the channel back to the owner, process.send or Electron's process.parentPort.
 */
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface JobProcess<In = unknown, Out = unknown> {
  readonly pid: number | undefined;
  send(msg: In): void;
  onMessage(cb: (msg: Out) => void): void;
  onExit(cb: (code: number | null, signal: string | null) => void): void;
  kill(signal?: NodeJS.Signals): void;
}

export interface LaunchOptions {
  env?: NodeJS.ProcessEnv;
}

export type Launcher = (entry: string, opts?: LaunchOptions) => JobProcess;

const require = createRequire(import.meta.url);

/** execArgv that let Node run a TypeScript entry: tsx's loader, resolved from this package (not from the cwd). */
export function tsxExecArgv(entry: string): string[] {
  if (!/\.(c|m)?ts$/.test(entry)) return [];
  return ['--import', pathToFileURL(require.resolve('tsx')).href];
}

/** The path of a worker module beside this one (`name` without extension), with this module's extension: .ts in
 *  the sources, .cjs in the desktop app's build (electron.vite.config.ts), .js otherwise. */
export function workerEntry(name: string): string {
  const here = fileURLToPath(import.meta.url);
  const ext = /\.(c|m)?(t|j)s$/.exec(here)?.[0] ?? '.js';
  return fileURLToPath(new URL(`./${name}${ext}`, import.meta.url));
}

export const forkLauncher: Launcher = (entry, opts = {}) => {
  // The worker's stdout goes to our stderr: `modelab run --json` keeps stdout for its one document.
  const child = fork(entry, [], {
    execArgv: tsxExecArgv(entry),
    env: opts.env ?? process.env,
    stdio: ['ignore', 2, 2, 'ipc'],
    serialization: 'json',
  });
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  return {
    get pid() {
      return child.pid;
    },
    send(msg) {
      if (exited || !child.connected) return;
      child.send(msg as object, (err) => {
        if (err && !exited) child.emit('error', err);
      });
    },
    onMessage(cb) {
      child.on('message', (m) => cb(m));
    },
    onExit(cb) {
      let done = false;
      const fire = (code: number | null, signal: string | null): void => {
        if (done) return;
        done = true;
        cb(code, signal);
      };
      child.on('exit', fire);
      child.on('error', (e) => {
        // Failed to start (or to send): report as an exit once the process is gone.
        if (child.exitCode === null && child.signalCode === null && child.pid === undefined) fire(null, `spawn failed: ${e.message}`);
      });
    },
    kill(signal = 'SIGTERM') {
      if (!exited) child.kill(signal);
    },
  };
};

/** The shape of Electron's utilityProcess this module needs (structural: no Electron import). */
export interface UtilityProcessModule {
  fork(
    modulePath: string,
    args?: string[],
    options?: { env?: NodeJS.ProcessEnv; execArgv?: string[]; stdio?: 'inherit' | 'pipe' | 'ignore'; serviceName?: string },
  ): {
    readonly pid: number | undefined;
    postMessage(message: unknown): void;
    on(event: 'message', listener: (message: unknown) => void): unknown;
    on(event: 'exit', listener: (code: number) => void): unknown;
    kill(): boolean;
  };
}

export function utilityProcessLauncher(utilityProcess: UtilityProcessModule): Launcher {
  return (entry, opts = {}) => {
    const child = utilityProcess.fork(entry, [], { env: opts.env ?? process.env, execArgv: tsxExecArgv(entry), stdio: 'inherit', serviceName: 'ModeLab job' });
    let exited = false;
    child.on('exit', () => {
      exited = true;
    });
    return {
      get pid() {
        return child.pid;
      },
      send: (msg) => {
        if (!exited) child.postMessage(msg);
      },
      onMessage: (cb) => {
        child.on('message', (m) => cb(m));
      },
      onExit: (cb) => {
        child.on('exit', (code) => cb(code, null));
      },
      kill: () => {
        if (!exited) child.kill();
      },
    };
  };
}

// ------------------------------------------------------------------------------------------------------ worker side

/**
 * In a job process: Ctrl-C (SIGINT) and a closed terminal (SIGHUP) reach the whole process group, this process too.
 * The owner decides (it sends 'cancel', and records the run as cancelled); a job process whose owner is gone exits
 * when its channel closes. SIGTERM is left alone: it is how a job process is stopped from outside.
 */
export function leaveTerminalSignalsToOwner(): void {
  for (const s of ['SIGINT', 'SIGHUP'] as const) process.on(s, () => undefined);
}

export interface ParentPort {
  /** Sends a message; `sent` runs once it is handed to the channel (safe to exit then). */
  send(msg: unknown, sent?: () => void): void;
  onMessage(cb: (msg: unknown) => void): void;
  /** The owner went away (its end of the channel closed). */
  onDisconnect(cb: () => void): void;
}

interface ElectronParentPort {
  postMessage(msg: unknown): void;
  on(event: 'message', cb: (e: { data: unknown }) => void): void;
}

export function parentPort(): ParentPort {
  const electronPort = (process as unknown as { parentPort?: ElectronParentPort }).parentPort;
  if (electronPort) {
    return {
      send: (m, sent) => {
        electronPort.postMessage(m);
        if (sent) setImmediate(sent);
      },
      onMessage: (cb) => electronPort.on('message', (e) => cb(e.data)),
      // A utility process ends with the app; nothing to watch.
      onDisconnect: () => undefined,
    };
  }
  if (process.send) {
    return {
      send: (m, sent) => {
        if (process.connected) process.send!(m as object, undefined, undefined, () => sent?.());
        else sent?.();
      },
      onMessage: (cb) => process.on('message', (m) => cb(m)),
      onDisconnect: (cb) => process.on('disconnect', cb),
    };
  }
  throw new Error('this module runs as a ModeLab job process (started by the job runner), not directly');
}
