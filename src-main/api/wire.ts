/**
 * The wire contract: what the desktop window (IPC) and a browser (WebSocket) may call, with a zod schema for every
 * operation's arguments, and `dispatch`, which validates a call, runs it and wraps the outcome in an envelope. The
 * Electron bridge (electron/ipc.ts) and the server (server/server.ts) both go through `dispatch`, so a call is
 * validated the same way whichever way it came.
 */
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { z } from 'zod';
import { AUTO_BACKEND, KNOWN_BACKEND_NAMES, defaultBackendText } from '../engine/backend/names';
import { CIFAR10_BATCH_FILES, cifar10Batches, cifar10DefaultDir } from '../engine/data/cifar10';
import { InputError } from '../engine/util/errors';
import type { AnyRecipe } from '../engine/recipe/schema';
import { VERSION } from '../engine/version';
import type { HistoryStore } from '../store/history';
import { architectures, pathBriefs, tagCounts } from '../store/listing';
import { COLOUR_MESSAGE, COLOUR_RULE, NAME_MAX, NOTES_MAX, TAG_MAX, TAG_MESSAGE, TAG_RULE } from '../store/run-fields';
import { writeCsv, writeJson } from '../store/tables';
import { RUN_STATUSES } from '../store/types';
import type { ModeLabApi } from './contract';
import type { RecipeFilesPolicy } from './handlers';
import type {
  BackendsInfo,
  DataDirCheck,
  Envelope,
  RecipeIssue,
  RecipeValidation,
  RunRow,
  WireApi,
  WireError,
  WireOp,
} from './wire-types';
import { WIRE_OPS } from './wire-types';

// ------------------------------------------------------------------------------------------------------ schemas

const RUN_STATUS = z.enum(RUN_STATUSES);
const BACKEND = z.enum([AUTO_BACKEND, ...KNOWN_BACKEND_NAMES]);
/** A run id or a unique prefix of one (4+ characters). */
export const runId = z.string().regex(/^[0-9a-z]{4,40}$/, 'a run id (4 to 40 lowercase letters and digits)');
const runIds = z.array(runId).min(1).max(10_000);
const tag = z.string().trim().min(1).max(TAG_MAX).regex(TAG_RULE, TAG_MESSAGE);
const colour = z.string().regex(COLOUR_RULE, COLOUR_MESSAGE);
const presetName = z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'a preset name (letters, digits, _ and -)');
const absolutePath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => path.isAbsolute(p) && !p.includes('\0'), 'an absolute path');
/** A recipe document: any JSON object (the engine's schema validates it), bounded in size. */
const recipeDoc = z
  .record(z.string(), z.unknown())
  .refine((r) => JSON.stringify(r).length <= 1_000_000, 'a recipe under 1 MB');

export const listQuerySchema = z
  .object({
    status: z.array(RUN_STATUS).max(6).optional(),
    tags: z.array(tag).max(20).optional(),
    preset: presetName.optional(),
    search: z.string().max(200).optional(),
    sort: z.enum(['created', 'started', 'finished', 'name', 'status']).optional(),
    order: z.enum(['asc', 'desc']).optional(),
    limit: z.number().int().min(1).max(1000).optional(),
    offset: z.number().int().min(0).max(1e9).optional(),
  })
  .strict();

export const startRunSchema = z
  .object({
    preset: presetName.optional(),
    recipe: recipeDoc.optional(),
    name: z.string().trim().min(1).max(NAME_MAX).optional(),
    tags: z.array(tag).max(50).optional(),
    notes: z.string().max(NOTES_MAX).optional(),
    colour: colour.optional(),
    backend: BACKEND.optional(),
    dataDir: absolutePath.optional(),
    seed: z.number().int().min(0).max(2 ** 31 - 1).optional(),
    exact: z.boolean().optional(),
  })
  .strict()
  .refine((r) => r.preset !== undefined || r.recipe !== undefined, 'give a preset or a recipe');

/** A study's id, id prefix or name. */
const studyRef = z.string().trim().min(1).max(200);

export const startStudySchema = z
  .object({
    preset: presetName.optional(),
    // The study recipe's own schema (engine/study/schema.ts) checks it in full when the study is planned.
    study: z.record(z.string(), z.unknown()).optional(),
    resume: studyRef.optional(),
    quick: z.boolean().optional(),
    jobs: z.number().int().min(1).max(1024).optional(),
    backend: BACKEND.optional(),
    dataDir: absolutePath.optional(),
  })
  .strict();

/** The arguments of every operation, as a tuple schema. */
export const WIRE_SCHEMAS = {
  appInfo: z.tuple([]),
  presets: z.tuple([]),
  presetRecipe: z.tuple([presetName]),
  backends: z.tuple([]),
  validateRecipe: z.tuple([recipeDoc]),
  // '' asks about the copy `modelab data get cifar10` downloaded (where a run without a folder reads CIFAR-10).
  inspectDataDir: z.tuple([absolutePath.or(z.literal(''))]),
  listRuns: z.tuple([listQuerySchema.optional()]),
  listRunRows: z.tuple([listQuerySchema.optional()]),
  listTags: z.tuple([]),
  getRun: z.tuple([runId]),
  getRunDocument: z.tuple([runId]),
  startRun: z.tuple([startRunSchema]),
  estimateRun: z.tuple([startRunSchema]),
  runQuickBench: z.tuple([]),
  cancelRun: z.tuple([runId]),
  tagRun: z.tuple([runId, z.object({ add: z.array(tag).max(50).optional(), remove: z.array(tag).max(50).optional() }).strict()]),
  setNotes: z.tuple([runId, z.string().max(NOTES_MAX)]),
  renameRun: z.tuple([runId, z.string().trim().min(1, 'a run name cannot be empty').max(NAME_MAX)]),
  setColour: z.tuple([runId, colour.nullable()]),
  deleteRuns: z.tuple([runIds]),
  exportText: z.tuple([runIds.max(1000), z.enum(['csv', 'json'])]),
  studyPresets: z.tuple([]),
  listStudies: z.tuple([]),
  getStudy: z.tuple([studyRef]),
  estimateStudy: z.tuple([startStudySchema]),
  startStudy: z.tuple([startStudySchema]),
  cancelStudy: z.tuple([studyRef]),
} satisfies Record<WireOp, z.ZodType>;

// ------------------------------------------------------------------------------------------------------ implementation

export interface WireOptions {
  api: ModeLabApi;
  store: HistoryStore;
  mode: 'electron' | 'server';
  /** Where recipe files are read from (the api's own `files`): validateRecipe and inspectDataDir say what it refuses. */
  files?: RecipeFilesPolicy;
}

class TextSink extends Writable {
  readonly chunks: string[] = [];
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.chunks.push(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
    cb();
  }
}

/** The app's check of a CIFAR-10 folder ('': the downloaded copy): the engine's one rule (cifar10Batches), its message
 *  when it refuses. */
export function inspectCifarDir(dir: string): DataDirCheck {
  try {
    const b = cifar10Batches(dir || undefined);
    const where = !dir ? ` (downloaded) in ${b.dir}` : b.dir !== dir ? ' in cifar-10-batches-bin/' : '';
    const n = (x: number): string => x.toLocaleString('en-US');
    return { ok: true, message: `CIFAR-10 binary batches found${where}: ${n(b.trainRecords)} training and ${n(b.testRecords)} test images`, files: [...CIFAR10_BATCH_FILES] };
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    return { ok: false, message: e.message, files: [] };
  }
}

/** A checked recipe in a line, for the form. */
function describeRecipe(r: AnyRecipe): string {
  if ('experiment' in r) return `Theorem 4 counterexample, width ${r.width}, ${r.points} points`;
  const a = r.architecture;
  const archText = a.type === 'mlp' ? `MLP, hidden ${a.hidden.join('-')}` : `CNN, ${a.conv.length} conv + ${a.dense.length} dense`;
  const paths = r.paths.map((p) => p.name ?? p.type);
  return `${r.dataset.name} · ${archText} · endpoints ${r.endpoints.map((e) => e.name).join(', ')} · paths: ${paths.length ? paths.join(', ') : 'none'}`;
}

export function createWireApi(o: WireOptions): WireApi {
  const { api, store } = o;
  let backends: Promise<BackendsInfo> | null = null;
  return {
    appInfo: async () => ({ version: VERSION, mode: o.mode, historyPath: store.location.dbPath, platform: process.platform, cores: os.availableParallelism() }),
    presets: () => api.presets(),
    presetRecipe: async (name) => (await import('../engine/recipe/presets')).loadPreset(name),
    backends: () =>
      (backends ??= import('../engine/backend/backends').then(async ({ probeAll, defaultBackend }) => {
        const d = await defaultBackend();
        return {
          backends: (await probeAll()).map((p) => ({ name: p.name, available: p.available, ...(p.reason ? { reason: p.reason } : {}) })),
          default: { ...d, text: defaultBackendText(d) },
        };
      })),

    async validateRecipe(recipe) {
      const [{ recipeSchema, counterexampleRecipeSchema }, { parseAnyRecipe }, { fieldHelp }] = await Promise.all([
        import('../engine/recipe/schema'),
        import('../engine/recipe/resolve'),
        import('../engine/recipe/field-help'),
      ]);
      const schema = (recipe as Record<string, unknown>)['experiment'] !== undefined ? counterexampleRecipeSchema : recipeSchema;
      const r = schema.safeParse(recipe);
      if (!r.success) {
        const issues: RecipeIssue[] = r.error.issues.map((i) => ({ path: i.path.map((k) => (typeof k === 'number' ? k : String(k))), message: i.message }));
        return { ok: false, issues, help: fieldHelp(schema, recipe) } satisfies RecipeValidation;
      }
      try {
        const parsed = parseAnyRecipe(recipe, 'recipe');
        if (o.files?.roots) {
          // A server's folders: a recipe naming a file elsewhere is refused here as when it is started.
          const { resolveRecipeFiles } = await import('../engine/recipe/files');
          o.files.roots.checkRecipe(resolveRecipeFiles(structuredClone(parsed), { dir: o.files.base ?? process.cwd() }));
        }
        // Help for the fields the form will show: the recipe with its defaults filled in.
        return { ok: true, issues: [], recipe: parsed, summary: describeRecipe(parsed), help: fieldHelp(schema, parsed) };
      } catch (e) {
        // Checks beyond the schema (duplicate endpoint names, per-endpoint training) name their field as data.
        if (!(e instanceof InputError)) throw e;
        const issue: RecipeIssue = e.at ? { path: e.at.field, message: e.at.reason } : { path: [], message: e.message };
        return { ok: false, issues: [issue], help: fieldHelp(schema, recipe) };
      }
    },

    async inspectDataDir(dir) {
      try {
        o.files?.roots?.checkFolder(dir || cifar10DefaultDir(), 'dataDir');
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        return { ok: false, message: e.message, files: [] };
      }
      return inspectCifarDir(dir);
    },
    listRuns: (q) => api.listRuns(q),

    async listRunRows(q) {
      const page = await api.listRuns(q);
      const ids = page.runs.map((r) => r.id);
      const [briefs, arch] = await Promise.all([pathBriefs(store.db, ids), architectures(store.db, ids)]);
      const runs: RunRow[] = page.runs.map((r) => ({
        ...r,
        architecture: arch.get(r.id) ?? null,
        durationSec: r.startedAt && r.finishedAt ? Math.max(0, (Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000) : null,
        paths: briefs.get(r.id) ?? [],
      }));
      return { ...page, runs };
    },

    listTags: () => tagCounts(store.db),
    getRun: (id) => api.getRun(id),
    getRunDocument: (id) => api.getRunDocument(id),
    startRun: (req) => api.startRun(req),
    estimateRun: (req) => api.estimateRun(req),
    runQuickBench: () => api.runQuickBench(),
    cancelRun: (id) => api.cancelRun(id),
    tagRun: (id, change) => api.tagRun(id, change),
    setNotes: (id, notes) => api.setNotes(id, notes),
    renameRun: (id, name) => api.renameRun(id, name),
    setColour: (id, c) => api.setColour(id, c),
    deleteRuns: (ids) => api.deleteRuns(ids),

    async exportText(ids, format) {
      const full: string[] = [];
      for (const i of ids) full.push(await store.resolveId(i));
      const sink = new TextSink();
      if (format === 'csv') await writeCsv(store, full, sink);
      else await writeJson(store, full, sink);
      return sink.chunks.join('');
    },

    studyPresets: async () => (await import('../engine/study/presets')).listStudyPresets(),
    listStudies: () => api.listStudies(),
    getStudy: (ref) => api.getStudy(ref),

    estimateStudy: (req) => api.estimateStudy(req),
    startStudy: (req) => api.startStudy(req),
    cancelStudy: (ref) => api.cancelStudy(ref),
  };
}

// ------------------------------------------------------------------------------------------------------ dispatch

export function isWireOp(op: unknown): op is WireOp {
  return typeof op === 'string' && (WIRE_OPS as readonly string[]).includes(op);
}

function formatZod(e: z.ZodError): string {
  return e.issues
    .slice(0, 4)
    .map((i) => `${i.path.length ? i.path.join('.') : 'arguments'}: ${i.message}`)
    .join('; ');
}

/** Errors as data: the name and message survive, the stack stays here. */
export function toWireError(e: unknown): WireError {
  const err = e as Error & { code?: unknown };
  const name = err instanceof InputError ? (err.name === 'RunNotFoundError' ? 'NotFound' : 'InputError') : 'Error';
  return {
    name,
    message: err?.message ?? String(e),
    ...(typeof err?.code === 'string' ? { code: err.code } : {}),
    ...(err instanceof InputError && err.at ? { at: { field: err.at.field, reason: err.at.reason } } : {}),
  };
}

/** Validates a call's arguments against its schema (ArgumentError envelope when they do not fit). */
export function checkArgs(op: unknown, args: unknown): Envelope<unknown[]> {
  if (!isWireOp(op)) return { ok: false, error: { name: 'ArgumentError', message: `unknown operation '${String(op).slice(0, 60)}'` } };
  if (!Array.isArray(args)) return { ok: false, error: { name: 'ArgumentError', message: `${op}: arguments must be an array` } };
  const parsed = WIRE_SCHEMAS[op].safeParse(args);
  if (!parsed.success) return { ok: false, error: { name: 'ArgumentError', message: `${op}: ${formatZod(parsed.error)}` } };
  return { ok: true, value: parsed.data as unknown[] };
}

/** Runs one call: validate, invoke, wrap. Never throws. */
export async function dispatch(wire: WireApi, op: unknown, args: unknown): Promise<Envelope<unknown>> {
  const checked = checkArgs(op, args);
  if (!checked.ok) return checked;
  try {
    const fn = wire[op as WireOp] as (...a: unknown[]) => Promise<unknown>;
    return { ok: true, value: await fn(...checked.value) };
  } catch (e) {
    return { ok: false, error: toWireError(e) };
  }
}
