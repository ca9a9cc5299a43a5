/** The api contract over the history store and the job runner. */
// tfjs (backends) and zod (recipes) load on first use: listing and reading the history does not need them.
import { defaultedBackend } from '../engine/backend/default';
import type { BackendName } from '../engine/backend/names';
import type { FileRoots } from '../engine/recipe/files';
import type { AnyRecipe } from '../engine/recipe/schema';
import { InputError } from '../engine/util/errors';
import { runQuickBenchJob } from '../jobs/bench-job';
import { JobRunner, type RunnerOptions } from '../jobs/runner';
import { exportBundles, importBundles, storedDocument } from '../store/bundle';
import { isDiskFull, storageError } from '../store/errors';
import { HistoryStore } from '../store/history';
import { type HistoryLocation, modelabHome } from '../store/location';
import { checkColour } from '../store/run-fields';
import { openOutput, writeCsv, writeJson } from '../store/tables';
import type { ApiEvent, ExportRequest, ModeLabApi, StartRunRequest } from './contract';
import { studyApi } from './studies';


/** Checks a requested backend (or, with none, the one MODELAB_BACKEND names) exists and is available here, without
 *  initialising it in this process. */
export async function checkBackend(request: string | undefined): Promise<void> {
  const requested = defaultedBackend(request);
  if (requested === undefined) return;
  const { KNOWN_BACKEND_NAMES, probeBackend, selectBackend } = await import('../engine/backend/backends');
  if ((KNOWN_BACKEND_NAMES as readonly string[]).includes(requested) && (await probeBackend(requested as BackendName)).available) return;
  await selectBackend(request); // throws the InputError naming what is available (and MODELAB_BACKEND if from it)
}

/** The recipe a start request names: validated, overrides applied, its files made absolute (docs/recipes.md, "Files a
 *  recipe names"); with `files.roots`, refused when it names anything outside them. */
async function requestedRecipe(req: StartRunRequest, files: RecipeFilesPolicy = {}): Promise<AnyRecipe> {
  if (!req.preset && req.recipe === undefined) throw new InputError('give a preset or a recipe');
  const [{ loadPreset }, { applyOverrides, parseAnyRecipe }, { resolveRecipeFiles }] = await Promise.all([
    import('../engine/recipe/presets'),
    import('../engine/recipe/resolve'),
    import('../engine/recipe/files'),
  ]);
  const recipe = applyOverrides(req.recipe !== undefined ? parseAnyRecipe(req.recipe, 'recipe') : loadPreset(req.preset!), req);
  resolveRecipeFiles(recipe, { dir: files.base ?? process.cwd() });
  files.roots?.checkRecipe(recipe, req.dataDir);
  return recipe;
}

/** Resolves a start request into the recipe the job runs (validated, overrides applied, checked to fit this machine). */
export async function resolveRecipe(req: StartRunRequest, files: RecipeFilesPolicy = {}): Promise<{ recipe: AnyRecipe; preset: string | null }> {
  const recipe = await requestedRecipe(req, files);
  // Refused before the run is stored: a recipe that cannot fit, or whose weights files are not there, leaves nothing
  // in the history.
  (await import('../engine/recipe/resources')).checkResources(recipe);
  (await import('../engine/recipe/resolve')).checkEndpointFiles(recipe);
  return { recipe, preset: req.preset ?? null };
}

/** Where the files a recipe names are read from (engine/recipe/files.ts). */
export interface RecipeFilesPolicy {
  /** What a relative path of a recipe is relative to (default: the working folder). */
  base?: string;
  /** `modelab serve`: the only folders files are read from (a browser must not name any file of the machine). */
  roots?: FileRoots;
}

export interface ApiOptions {
  store: HistoryStore;
  runner?: JobRunner;
  runnerOptions?: Omit<RunnerOptions, 'store'>;
  /** Where the files recipes name are read from (default: relative to the working folder, anywhere). */
  files?: RecipeFilesPolicy;
}

export function createApi(opts: ApiOptions): ModeLabApi {
  const store = opts.store;
  const listeners = new Set<(e: ApiEvent) => void>();
  const attach = (r: JobRunner): JobRunner => {
    r.on((e) => listeners.forEach((l) => l(e)));
    return r;
  };
  let runner: JobRunner | null = opts.runner ? attach(opts.runner) : null;
  const jobs = (): JobRunner => (runner ??= attach(new JobRunner({ ...opts.runnerOptions, store })));
  const studies = studyApi(store, jobs, opts.files?.roots);

  return {
    ...studies.ops,
    presets: async () => (await import('../engine/recipe/presets')).listPresets(),
    listRuns: (q) => store.list(q),
    getRun: (id) => store.get(id),
    getRunDocument: async (id) => storedDocument(await store.get(id)),

    async startRun(req) {
      const { recipe, preset } = await resolveRecipe(req, opts.files);
      await checkBackend(req.backend);
      if (req.colour) checkColour(req.colour);
      const id = await store.createRun({ name: req.name ?? recipe.name, preset, config: recipe, tags: req.tags, notes: req.notes, colour: req.colour ?? null });
      void jobs().submit(id, { recipe, preset, backend: req.backend, dataDir: req.dataDir });
      return { id };
    },

    async estimateRun(req) {
      const recipe = await requestedRecipe(req, opts.files);
      const [{ estimateHere }, { benchDirIn }] = await Promise.all([import('../engine/recipe/resources'), import('../engine/bench/stored')]);
      return await estimateHere(recipe, benchDirIn(modelabHome()), req.backend);
    },

    async runQuickBench(backend) {
      await checkBackend(backend);
      return runQuickBenchJob({ launcher: opts.runnerOptions?.launcher, env: opts.runnerOptions?.env, backend });
    },

    async waitForRun(id) {
      const full = await store.resolveId(id);
      const p = runner?.wait(full);
      if (p) return p;
      const s = await store.summary(full);
      return { runId: full, status: s.status, error: s.error };
    },

    async cancelRun(id) {
      const full = await store.resolveId(id);
      return { id: full, outcome: await jobs().cancel(full) };
    },

    async tagRun(id, change) {
      let full = await store.resolveId(id);
      if (change.add?.length) full = await store.addTags(full, change.add);
      if (change.remove?.length) full = await store.removeTags(full, change.remove);
      return store.summary(full);
    },
    setNotes: async (id, notes) => store.summary(await store.setNotes(id, notes)),
    renameRun: async (id, name) => {
      if (!name.trim()) throw new InputError('a run name cannot be empty');
      return store.summary(await store.rename(id, name));
    },
    setColour: async (id, colour) => {
      if (colour !== null) checkColour(colour);
      return store.summary(await store.setColour(id, colour));
    },

    async deleteRuns(ids) {
      const full: string[] = [];
      for (const i of ids) full.push(await store.resolveId(i));
      for (const id of full) {
        const s = await store.summary(id);
        if (s.status === 'running' || s.status === 'queued') {
          throw new InputError(`run ${id} is ${s.status}; cancel it before deleting it (modelab cancel ${id})`);
        }
      }
      const r = await store.delete(full);
      return { ids: full, ...r };
    },

    async exportRuns(req: ExportRequest) {
      if (!req.ids.length) throw new InputError('no runs to export');
      if (req.format === 'bundle') {
        if (req.out === '-') throw new InputError('a bundle needs a folder or .zip path for --out, not stdout');
        return { ids: await exportBundles(store, req.ids, req.out, { overwrite: req.overwrite, layout: req.layout }), out: req.out };
      }
      if (req.layout !== undefined && req.layout !== 'modelab') {
        throw new InputError('--layout applies to --format bundle (the networks are written in the layout asked for)');
      }
      const ids: string[] = [];
      for (const i of req.ids) ids.push(await store.resolveId(i));
      const out = openOutput(req.out);
      if (req.format === 'csv') await writeCsv(store, ids, out);
      else if (req.format === 'json') await writeJson(store, ids, out);
      else throw new InputError(`unknown export format '${String(req.format)}' (json, csv, bundle)`);
      return { ids, out: req.out };
    },

    importBundle: (p, o) => importBundles(store, p, { existing: o?.existing }),

    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    async close() {
      await studies.close();
      if (runner) await runner.shutdown();
      await store.close();
    },
  };
}

/**
 * Opens the history for a front end: migrations, then the start-up checks — runs whose job process died are marked
 * crashed (heartbeat older than 3 × the interval and pid gone), and unreferenced artifacts are removed.
 */
export async function openHistory(
  location: HistoryLocation | { db?: string } = {},
  opts: { staleMs?: number; onWarning?: (message: string) => void } = {},
): Promise<HistoryStore> {
  const store = await HistoryStore.open(location);
  // On a disk too full for these writes the history still reads (list, show, export): with `onWarning`, each is
  // skipped with one line saying so, and done at a later start once there is room.
  const housekeeping: [() => Promise<unknown>, string][] = [
    [() => store.detectCrashed({ staleMs: opts.staleMs }), 'runs whose job process stopped are not marked crashed yet'],
    [() => store.gc(), 'unused files are not removed yet'],
  ];
  for (const [step, skipped] of housekeeping) {
    try {
      await step();
    } catch (e) {
      const err = storageError(e, store.location.dbPath);
      if (opts.onWarning && isDiskFull(err)) {
        opts.onWarning(`${(err as Error).message}: ${skipped}`);
        continue;
      }
      await store.close();
      throw e;
    }
  }
  return store;
}
