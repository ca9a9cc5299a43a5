/** `modelab run`: run a preset or a recipe file, with progress on stderr and a summary or one JSON document on stdout. */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { selectBackend } from '../engine/backend/backends';
import { BACKEND_CHOICES_HELP, BACKEND_DEFAULT_HELP } from '../engine/backend/names';
import { writeFileAtomic } from '../engine/io/atomic';
import { type ExportLayout, RunDirWriter, checkpointFileName, exportLayoutOption } from '../engine/experiment/export';
import type { RunEvent } from '../engine/experiment/events';
import { loadPreset, loadRecipeFile } from '../engine/recipe/presets';
import { applyOverrides, checkEndpointFiles } from '../engine/recipe/resolve';
import { runAnyRecipe } from '../engine/experiment/run-any';
import { type AnyRecipe, isCounterexample } from '../engine/recipe/schema';
import { InputError } from '../engine/util/errors';
import { createApi, openHistory, checkBackend } from '../api/handlers';
import { exportBundles } from '../store/bundle';
import { storageError } from '../store/errors';
import { CancelledError } from '../engine/util/errors';
import { pointWorkerPool } from '../jobs/points';
import { checkDatasetFiles } from '../engine/data/load';
import { intOption, parse } from './args';
import { checkOutPath } from './out-path';
import { terminalText } from './terminal-text';
import { RunFollower } from './follow-run';
import { dryRun } from './dry-run';
import { applyWorkersOption } from '../jobs/parallelism';

export const RUN_HELP = `Usage: modelab run (--preset NAME | --config FILE) [--dry-run] [options]

Trains the recipe's endpoints, evaluates them, builds and evaluates its paths, and reports barrier metrics.

Options:
  --preset NAME      a built-in recipe (see: modelab presets)
  --config FILE      a recipe JSON file (schema: docs/recipes.md); endpoint weights files it names are
                     relative to it
  --backend NAME     ${BACKEND_CHOICES_HELP} (${BACKEND_DEFAULT_HELP})
                     (onnx-*: training steps and evaluation on ONNX Runtime, the rest on wasm)
  --seed N           base seed, a non-negative integer; endpoint seeds derive from it unless the recipe
                     fixes them
  --data DIR         dataset folder (CIFAR-10 binary batches; default: the recipe's dir, else the copy
                     'modelab data get cifar10' downloaded); checked, like --out, before the run starts
  --exact            evaluate on the full training and test sets
  --workers N        processes to compute with at once: endpoint trainings, path points (default: the
                     cores present; also MODELAB_WORKERS)
  --json             print exactly one JSON document on stdout (progress stays on stderr)
  --dry-run          start nothing, store nothing: check the recipe and print the memory it needs
                     against this machine's and its time per stage from this machine's bench
                     figures (modelab bench --quick); with --json, one document (docs/run-json.md)
  --out DIR          also write DIR/run.json, endpoint weights, the evaluation data and every
                     path's vertices (DIR/paths/<name>.safetensors + .json): docs/run-json.md, "Files written by --out DIR"
                     (with the history: a full bundle, importable with 'modelab import DIR'; with --no-store:
                     each stage's files as soon as it finishes, run.json last, so a stopped run keeps them); with
                     training.checkpointEvery, every checkpoint as it is made: DIR/checkpoints/<endpoint>-epoch<e>.safetensors
  --layout torch     with --out: also every endpoint and path vertex as a PyTorch state_dict,
                     DIR/torch/<endpoint>.safetensors and DIR/torch/<path>/v<k>.safetensors, loadable with
                     model.load_state_dict(load_file(…)) (docs/bring-your-own-model.md)
  --name NAME        the run's name in the history (default: the recipe's name)
  --tag TAG          tag the run (repeatable)
  --db FILE          the history database (default: $MODELAB_HOME/history.sqlite, else the user
                     data folder; docs/history.md)
  --no-store         do not keep the run in the history (and run it in this process)
  -h, --help         this help

The run is stored in the history as it progresses (its id is printed first, on stderr) and runs in its own
process; 'modelab list' and 'modelab show ID' browse the history.

Ctrl-C, SIGTERM or SIGHUP cancels the run (it stops within a training step); a second one quits at once. Either
way the run is recorded as cancelled.

Exit codes: 0 done, 1 the run failed or crashed (or a disk error), 2 bad input, 130 cancelled.`;

/** `signal`: cancel (the first Ctrl-C, SIGTERM or SIGHUP); `quit`: stop at once (a later one, main.ts). */
export async function runCommand(argv: string[], signal: AbortSignal, quit?: AbortSignal): Promise<number> {
  const { values } = parse(argv, {
    preset: { type: 'string' },
    config: { type: 'string' },
    backend: { type: 'string' },
    seed: { type: 'string' },
    data: { type: 'string' },
    exact: { type: 'boolean' },
    json: { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    out: { type: 'string' },
    name: { type: 'string' },
    tag: { type: 'string', multiple: true },
    db: { type: 'string' },
    'no-store': { type: 'boolean' },
    layout: { type: 'string' },
    workers: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values['help']) {
    process.stdout.write(`${RUN_HELP}\n`);
    return 0;
  }
  const preset = values['preset'] as string | undefined;
  const config = values['config'] as string | undefined;
  if (!preset === !config) throw new InputError('give exactly one of --preset NAME and --config FILE');
  const recipe: AnyRecipe = preset ? loadPreset(preset) : loadRecipeFile(config!);
  const seed = intOption(values['seed'], 'seed');
  applyWorkersOption(values['workers'] as string | undefined);
  applyOverrides(recipe, { seed, exact: Boolean(values['exact']) });
  const outDir = values['out'] as string | undefined;
  const layout = exportLayoutOption(values['layout'] as string | undefined);
  if (layout !== 'modelab' && !outDir) throw new InputError('--layout needs --out DIR (where the networks are written)');
  const backendName = values['backend'] as string | undefined;
  if (values['dry-run']) return dryRun(recipe, { backend: backendName, json: Boolean(values['json']) });
  // Before anything runs or is stored: the data folder and the weights files are there, and --out can be written
  // (before any stage writes to it).
  if (!isCounterexample(recipe)) checkDatasetFiles(recipe.dataset, { dataDir: values['data'] as string | undefined });
  checkEndpointFiles(recipe);
  if (outDir) checkOutPath(outDir, !values['no-store'] && outDir.toLowerCase().endsWith('.zip') ? 'file' : 'folder');
  if (!values['no-store']) {
    return runStored(recipe, {
      preset: preset ?? null,
      backend: backendName,
      dataDir: values['data'] as string | undefined,
      name: values['name'] as string | undefined,
      tags: (values as Record<string, unknown>)['tag'] as string[] | undefined,
      db: values['db'] as string | undefined,
      json: Boolean(values['json']),
      outDir,
      layout,
      signal,
      quit,
    });
  }
  quit?.addEventListener('abort', () => process.exit(130));

  const backend = await selectBackend(backendName);
  // What is printed, progress and summary, comes from the fold of the run's events (follow-run.ts).
  const follower = new RunFollower();
  // --out DIR is written as the run goes, each stage's files at once (atomically), so that a run stopped midway
  // keeps what it finished; run.json comes last. A failing disk is reported in plain words naming the folder.
  const out = outDir ? new RunDirWriter(outDir, layout) : null;
  const write = (f: (w: RunDirWriter) => void): void => {
    if (!out) return;
    try {
      f(out);
    } catch (e) {
      throw storageError(e, out.dir);
    }
  };
  const onEvent = (e: RunEvent): void => {
    follower.apply(e);
    write((w) => w.apply(e));
  };
  // Path points shared with a helper process when there is a second core and enough work (jobs/points.ts).
  const pointsDir = path.join(os.tmpdir(), `modelab-points-${process.pid}-${randomBytes(4).toString('hex')}`);
  const pointWorkers = isCounterexample(recipe)
    ? undefined
    : pointWorkerPool({ parallel: 'auto', backend: backend.backend, tmpDir: pointsDir, signal, onWarning: (m) => process.stderr.write(`\nmodelab: ${m}\n`) });
  const result = await runAnyRecipe(recipe, {
    backend,
    preset,
    dataDir: values['data'] as string | undefined,
    signal,
    pointWorkers,
    onEvent,
  }).finally(async () => {
    await pointWorkers?.close();
    rmSync(pointsDir, { recursive: true, force: true });
  });
  follower.finishLine();

  write((w) => w.finish(result));
  if (values['json']) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    const wrote = `run.json, endpoints.safetensors, eval-data.safetensors, paths/${follower.checkpoints ? ', checkpoints/' : ''}${layout === 'torch' ? ', torch/' : ''}`;
    process.stdout.write(terminalText(`${follower.summary()}\n${outDir ? `\nwrote ${outDir}: ${wrote}\n` : ''}`, { newlines: true }));
  }
  return 0;
}

/** A run that failed or crashed in its job process (exit code 1, one line). */
export class RunFailedError extends Error {
  override name = 'RunFailedError';
}

interface StoredRunOptions {
  preset: string | null;
  backend?: string;
  dataDir?: string;
  name?: string;
  tags?: string[];
  db?: string;
  json: boolean;
  outDir?: string;
  layout: ExportLayout;
  signal: AbortSignal;
  quit?: AbortSignal;
}

/** Runs the recipe as a job (its own process), stored in the history as it progresses. */
async function runStored(recipe: AnyRecipe, o: StoredRunOptions): Promise<number> {
  await checkBackend(o.backend);
  const store = await openHistory({ db: o.db });
  const api = createApi({ store, runnerOptions: { maxConcurrent: 1 } });
  try {
    const follower = new RunFollower();
    // Every checkpoint goes to DIR/checkpoints as it is stored (the history and the bundle keep only the latest of
    // each endpoint). Copied inside the event: the file stays in the store at least until the next one is saved.
    const checkpointDir = o.outDir && !o.outDir.toLowerCase().endsWith('.zip') ? path.join(o.outDir, 'checkpoints') : null;
    let checkpoints = 0;
    let checkpointError: string | null = null;
    let following: string | null = null;
    api.subscribe((e) => {
      if (e.type !== 'run' || (following !== null && e.runId !== following)) return;
      follower.apply(e.event);
      if (e.event.kind === 'checkpoint' && checkpointDir && !checkpointError) {
        const c = e.event;
        try {
          // Atomically (temp file, fsync, rename): a run killed meanwhile leaves whole files only.
          writeFileAtomic(path.join(checkpointDir, checkpointFileName(c.endpoint, c.epoch)), readFileSync(store.artifacts.pathOf(c.weights.hash)));
          checkpoints++;
        } catch (err) {
          checkpointError = (err as Error).message;
        }
      }
    });
    const { id } = await api.startRun({ recipe, preset: o.preset ?? undefined, name: o.name, tags: o.tags, backend: o.backend, dataDir: o.dataDir });
    following = id;
    process.stderr.write(`run ${id} (history: ${store.location.dbPath})\n`);
    const onAbort = (): void => void api.cancelRun(id);
    if (o.signal.aborted) onAbort();
    o.signal.addEventListener('abort', onAbort);
    // Quitting at once still records the run as cancelled (never left running, to be found crashed); its job
    // processes stop when they see this process gone (jobs/process.ts).
    const onQuit = (): void => {
      void store
        .setStatus(id, 'cancelled')
        .catch(() => false)
        .finally(() => {
          process.stderr.write(`\nmodelab: run ${id} cancelled\n`);
          process.exit(130);
        });
    };
    if (o.quit?.aborted) onQuit();
    o.quit?.addEventListener('abort', onQuit);
    const outcome = await api.waitForRun(id);
    o.signal.removeEventListener('abort', onAbort);
    follower.finishLine();
    if (checkpointError) process.stderr.write(`modelab: could not write the checkpoints to ${checkpointDir}: ${checkpointError}\n`);
    if (outcome.status === 'cancelled') throw new CancelledError(`run ${id} cancelled`);
    if (outcome.status !== 'finished') {
      const why = `run ${id} ${outcome.status}: ${outcome.error ?? 'no reason recorded'}`;
      if (outcome.errorKind === 'input') throw new InputError(why);
      // --json keeps its promise of one document: the run's, with its status, its reason and what it computed.
      if (o.json) process.stdout.write(`${JSON.stringify({ ...(await api.getRunDocument(id)), status: outcome.status, error: outcome.error ?? null })}\n`);
      throw new RunFailedError(`${why} (what it computed is kept: modelab show ${id})`);
    }
    const doc = await api.getRunDocument(id);
    if (o.outDir) {
      const out = o.outDir;
      await exportBundles(store, [id], out, { overwrite: true, layout: o.layout }).catch((e: unknown) => {
        throw storageError(e, out);
      });
    }
    if (o.json) process.stdout.write(`${JSON.stringify(doc)}\n`);
    else {
      process.stdout.write(`${terminalText(follower.summary(), { newlines: true })}\n`);
      if (o.outDir) {
        const ck = (checkpoints || (await api.getRun(id)).checkpoints.length) ? ', checkpoints/' : '';
        process.stdout.write(`\nwrote ${terminalText(o.outDir)}: run.json, history.json, endpoints.safetensors, eval-data.safetensors, paths/${ck}${o.layout === 'torch' ? ', torch/' : ''}\n`);
      }
      process.stdout.write(`\nstored as run ${id} (modelab show ${id})\n`);
    }
    return 0;
  } finally {
    await api.close();
  }
}
