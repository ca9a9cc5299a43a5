/** `modelab serve`: the app's UI and api for a browser (server/server.ts). */
import { statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApi, openHistory } from '../api/handlers';
import { FileRoots } from '../engine/recipe/files';
import { InputError } from '../engine/util/errors';
import { TOKEN_ENV, TOKEN_RULE, isValidToken } from '../server/access';
import { DEFAULT_PORT, isLoopbackHost, startServer } from '../server/server';
import { applyWorkersOption } from '../jobs/parallelism';
import { modelabHome } from '../store/location';
import { intOption, parse } from './args';

export const SERVE_HELP = `Usage: modelab serve [--port N] [--host ADDR] [--db FILE] [--token T] [--weights DIR] [--files DIR]…

Serves the ModeLab app (the same UI as the desktop window) and its api over HTTP + WebSocket, for a browser: start
experiments, watch them live, browse, compare and export the history. Jobs run on this machine.

Options:
  --port N        port to listen on (default ${DEFAULT_PORT}; 0 picks a free one)
  --host ADDR     address to bind (default 127.0.0.1, this machine only)
  --token T       the access token (default: \$${TOKEN_ENV}, else a random one). It is required on every address,
                  loopback included: open the printed URL (it carries the token) once; the browser keeps a cookie.
                  Scripts may send it as \`Authorization: Bearer T\`
  --db FILE       the history database (default: $MODELAB_HOME/history.sqlite, else the user data folder)
  --jobs N        experiments running at once (default: one per core)
  --workers N     processes each experiment computes with at once: endpoint trainings, path points (default:
                  the cores present; also MODELAB_WORKERS)
  --static DIR    the built renderer to serve (default: out/renderer of this installation)
  --weights DIR   where weights files uploaded from the browser go (default: weights/ beside the history
                  database); a browser's recipe names files relative to it (docs/bring-your-own-model.md)
  --files DIR     another folder recipes may read files from (weights, npy and idx data, a CIFAR-10 folder);
                  repeat it for more. Besides these, only the --weights folder and $MODELAB_HOME/datasets are read:
                  a recipe naming anything else, or a link inside them pointing out, is refused before it is stored
                  (docs/recipes.md, "Files a recipe names")

On a remote GPU server, keep the default host and tunnel the port:
  ssh -L ${DEFAULT_PORT}:localhost:${DEFAULT_PORT} gpu-box 'cd modelab && npx modelab serve'
then open the URL it prints (http://127.0.0.1:${DEFAULT_PORT}/?token=…) here. Ctrl-C stops the server (running
experiments are cancelled).`;

export async function serveCommand(argv: string[], signal: AbortSignal): Promise<number> {
  const { values } = parse(argv, {
    port: { type: 'string' },
    host: { type: 'string' },
    db: { type: 'string' },
    token: { type: 'string' },
    jobs: { type: 'string' },
    workers: { type: 'string' },
    static: { type: 'string' },
    weights: { type: 'string' },
    files: { type: 'string', multiple: true },
  });
  const port = intOption(values['port'], 'port') ?? DEFAULT_PORT;
  if (port > 65535) throw new InputError(`--port must be at most 65535, got ${port}`);
  const host = (values['host'] as string | undefined) ?? '127.0.0.1';
  const token = (values['token'] as string | undefined) ?? (process.env[TOKEN_ENV] || undefined);
  if (token !== undefined && !isValidToken(token)) throw new InputError(`${values['token'] !== undefined ? '--token' : TOKEN_ENV}: ${TOKEN_RULE}`);
  const jobs = intOption(values['jobs'], 'jobs');
  applyWorkersOption(values['workers'] as string | undefined);
  // Folders recipes may read files from besides the weights folder and the datasets folder: each must be one.
  const extra = (((values as Record<string, unknown>)['files'] as string[] | undefined) ?? []).map((d) => {
    const st = statSync(d, { throwIfNoEntry: false });
    if (!st?.isDirectory()) throw new InputError(`--files ${d}: ${st ? 'a file, not a folder' : 'no such folder'}`);
    return path.resolve(d);
  });
  const staticDir = path.resolve((values['static'] as string | undefined) ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../out/renderer'));

  // Ctrl-C (the abort signal) or SIGTERM stops the server cleanly: listen before anything can be asked to stop.
  const stopped = new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
    process.once('SIGTERM', () => resolve());
  });
  const store = await openHistory({ db: values['db'] as string | undefined });
  const weightsRoot = path.resolve((values['weights'] as string | undefined) ?? path.join(path.dirname(store.location.dbPath), 'weights'));
  // A browser's recipe has no folder of its own: its relative paths are relative to the folder its uploads go to.
  const files = { base: weightsRoot, roots: new FileRoots([weightsRoot, ...extra, path.join(modelabHome(), 'datasets')]) };
  const api = createApi({ store, runnerOptions: jobs ? { maxConcurrent: jobs } : {}, files });
  let server;
  try {
    server = await startServer({ api, store, staticDir, host, port, token, weightsRoot, files });
  } catch (e) {
    await api.close();
    const err = e as Error & { code?: string };
    if (err.code === 'EADDRINUSE') throw new InputError(`port ${port} on ${host} is in use (pick another with --port, or --port 0)`);
    if (err.code === 'EADDRNOTAVAIL') throw new InputError(`cannot bind ${host}: no such address here`);
    if (/no built renderer/.test(err.message)) throw new InputError(err.message);
    throw e;
  }
  process.stdout.write(`ModeLab ${isLoopbackHost(host) ? '' : '(reachable from other machines) '}is serving on ${server.openUrl}\n`);
  process.stdout.write(`access token: ${server.token}\n`);
  process.stdout.write(`history: ${store.location.dbPath}\nCtrl-C stops.\n`);

  await stopped;
  await server.close();
  await api.close();
  return 0;
}
