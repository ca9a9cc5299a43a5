/**
 * Run bundles: a folder (or a .zip of it) that carries one run completely, for archiving, sharing and moving between
 * machines. The layout is the engine's export folder (engine/experiment/export.ts writeRunDir, docs/run-json.md, "Files written by --out DIR") plus the
 * history metadata:
 *
 *   run.json                  the run document (store/run-document.ts: a RunResult once finished) with `runId`
 *   history.json              name, status, tags, notes, colour, timestamps, environment, partial curves (HistoryRecord)
 *   endpoints.safetensors     every endpoint's weights, `<endpoint>.<param>`
 *   eval-data.safetensors     the exact evaluation inputs and labels
 *   paths/<name>.safetensors  every vertex of each path, `v<k>.<param>`
 *   paths/<name>.json         the path's description
 *   checkpoints/<endpoint>-epoch<e>.safetensors   the latest training checkpoint of each endpoint that made one
 *   manifest.sha256           the SHA-256 of every other file (store/bundle-manifest.ts)
 *
 * Importing a bundle restores an identical run: same id, same documents, same artifact bytes. A run already in the
 * history is refused unless the caller chooses to skip it or import it as a copy. A zip (or folder) may hold several
 * bundles, one per subfolder. Bundles are untrusted input: store/bundle-files.ts (links, special files, sizes),
 * store/bundle-read.ts (checksums, documents, tensors).
 */
import { createWriteStream, existsSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import yazl from 'yazl';
import type { Split } from '../engine/data/dataset';
import { type ExportLayout, type RunArtifacts, writeRunDir } from '../engine/experiment/export';
import { writeFileAtomic } from '../engine/io/atomic';
import { makeDirs } from '../engine/io/mkdirs';
import { decodeSafetensors } from '../engine/io/safetensors';
import type { HostParams } from '../engine/nn/params';
import type { ParamPath } from '../engine/paths/path';
import { InputError } from '../engine/util/errors';
import { BUNDLE_LIMITS, type BundleLimits, NO_LIMITS, extractZip, listTree, sourceKind } from './bundle-files';
import { MANIFEST, writeManifest } from './bundle-manifest';
import type { BundleContent } from './bundle-read';
import { RunNotFoundError } from './errors';
import type { HistoryStore } from './history';
import { type RunDocument, historyRecord, runDocument } from './run-document';
import type { RunDetail } from './types';

/** The run document as bundles and `modelab run --json` carry it: the stored run's document plus the history id. */
export type StoredRunDocument = RunDocument & { runId: string };

function readArtifact(store: HistoryStore, d: RunDetail, role: string): Buffer | null {
  const ref = d.artifacts.find((a) => a.role === role);
  if (!ref) return null;
  if (!store.artifacts.has(ref.hash)) {
    throw new Error(`run ${d.id}: the ${role} file ${store.artifacts.pathOf(ref.hash)} is missing from the artifact folder`);
  }
  return store.artifacts.read(ref.hash);
}

/** The weights, vertices and evaluation data of a stored run, as writeRunDir takes them. */
export function runArtifacts(store: HistoryStore, d: RunDetail): RunArtifacts {
  const endpoints: Record<string, HostParams> = {};
  for (const e of d.endpoints) {
    const buf = readArtifact(store, d, `endpoint:${e.name}`);
    if (!buf) throw new Error(`run ${d.id}: no weights stored for endpoint ${e.name}`);
    const prefix = `${e.name}.`;
    const params: HostParams = {};
    for (const [k, t] of Object.entries(decodeSafetensors(buf, `endpoint ${e.name} of run ${d.id}`).tensors)) {
      if (k.startsWith(prefix)) params[k.slice(prefix.length)] = t;
    }
    endpoints[e.name] = params;
  }
  const paths: RunArtifacts['paths'] = [];
  for (const r of d.paths) {
    const buf = readArtifact(store, d, `path:${r.name}`);
    if (!buf) throw new Error(`run ${d.id}: no vertices stored for path ${r.name}`);
    const vertices: HostParams[] = [];
    for (const [k, t] of Object.entries(decodeSafetensors(buf, `path ${r.name} of run ${d.id}`).tensors)) {
      const m = /^v(\d+)\.(.+)$/.exec(k);
      if (!m) continue;
      (vertices[Number(m[1])] ??= {})[m[2]!] = t;
    }
    const p: ParamPath = { name: r.name, method: r.kind, vertices, segments: r.segments };
    paths.push({ path: p, result: r });
  }
  const a: RunArtifacts = { endpoints, paths };
  const ev = readArtifact(store, d, 'eval-data');
  if (ev) {
    const t = decodeSafetensors(ev, `evaluation data of run ${d.id}`).tensors;
    const split = (s: string): Split => {
      const x = t[`${s}.x`]!;
      const y = t[`${s}.y`]!;
      return { x: x.data, y: Int32Array.from(y.data), n: x.shape[0]! };
    };
    a.evalData = { train: split('train'), test: split('test') };
  }
  a.checkpoints = [];
  for (const c of d.checkpoints) {
    const data = readArtifact(store, d, `checkpoint:${c.endpoint}`);
    if (!data) throw new Error(`run ${d.id}: no file stored for the checkpoint of ${c.endpoint}`);
    a.checkpoints.push({ ...c, data });
  }
  return a;
}

export function storedDocument(d: RunDetail): StoredRunDocument {
  return { ...runDocument(d), runId: d.id };
}

/** Writes one run as a bundle folder. */
export async function writeBundleDir(store: HistoryStore, idOrPrefix: string, dir: string, layout: ExportLayout = 'modelab'): Promise<string> {
  const d = await store.get(idOrPrefix);
  const a = runArtifacts(store, d);
  writeRunDir(dir, storedDocument(d), a, layout);
  writeFileAtomic(path.join(dir, 'history.json'), `${JSON.stringify(historyRecord(d), null, 2)}\n`);
  writeManifest(dir);
  return d.id;
}

/** A fixed entry time: exporting the same run twice gives the same zip. */
const ZIP_MTIME = new Date('2000-01-01T00:00:00Z');

function zipFolder(dir: string, file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const zip = new yazl.ZipFile();
    for (const { rel } of listTree(dir, NO_LIMITS)) zip.addFile(path.join(dir, ...rel.split('/')), rel, { mtime: ZIP_MTIME, mode: 0o100644 });
    const tmp = `${file}.${process.pid}.tmp`;
    const out = createWriteStream(tmp);
    out.on('error', reject);
    out.on('close', () => {
      try {
        renameSync(tmp, file);
        resolve();
      } catch (e) {
        reject(e);
      }
    });
    zip.outputStream.on('error', reject).pipe(out);
    zip.end();
  });
}

function isEmptyOrMissing(dir: string): boolean {
  return !existsSync(dir) || (statSync(dir).isDirectory() && readdirSync(dir).length === 0);
}

/**
 * Exports runs as bundles to `out`: a `.zip` file (one folder per run inside), or a folder — the bundle itself for
 * one run, one subfolder per run for several. An existing non-empty folder or file is refused unless `overwrite`.
 * `layout: 'torch'` adds every network as a PyTorch state_dict (torch/, engine/experiment/export.ts).
 */
export async function exportBundles(store: HistoryStore, ids: string[], out: string, opts: { overwrite?: boolean; layout?: ExportLayout } = {}): Promise<string[]> {
  if (!ids.length) throw new InputError('no runs to export');
  const full = await Promise.all(ids.map((i) => store.resolveId(i)));
  const zip = out.toLowerCase().endsWith('.zip');
  if (!opts.overwrite && (zip ? existsSync(out) : !isEmptyOrMissing(out))) {
    throw new InputError(`${out} already exists${zip ? '' : ' and is not empty'}; choose another --out (or --force to overwrite)`);
  }
  if (!zip) {
    if (full.length === 1) await writeBundleDir(store, full[0]!, out, opts.layout);
    else for (const id of full) await writeBundleDir(store, id, path.join(out, id), opts.layout);
    return full;
  }
  makeDirs(path.dirname(path.resolve(out)));
  const tmp = mkdtempSync(path.join(path.dirname(path.resolve(out)), '.modelab-bundle-'));
  try {
    for (const id of full) await writeBundleDir(store, id, path.join(tmp, id), opts.layout);
    await zipFolder(tmp, out);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return full;
}

// ---------------------------------------------------------------------------------------------------------- import

/** What to do with a bundle whose run is already in the history: refuse (the default), skip it, or import a copy. */
export const EXISTING_RUN_CHOICES = ['refuse', 'skip', 'copy'] as const;
export type ExistingRunChoice = (typeof EXISTING_RUN_CHOICES)[number];
/** A bundle's run is already in the history (importing it again needs a choice: skip it, or import it as a copy). */
export class RunExistsError extends InputError {
  override name = 'RunExistsError';
  readonly code = 'RUN_EXISTS';
  constructor(readonly runs: { id: string; name: string }[]) {
    const what = runs.length === 1 ? `run ${runs[0]!.id} ('${runs[0]!.name}') is` : `${runs.length} of its runs (${runs.map((r) => r.id).join(', ')}) are`;
    super(`${what} already in the history; skip ${runs.length === 1 ? 'it' : 'them'} or import a copy (modelab import --skip-existing or --as-copy)`);
  }
}

export interface ImportOptions {
  existing?: ExistingRunChoice;
  limits?: BundleLimits;
  /**
   * The id to give a single bundle that carries none (a `run --no-store --out` folder). A caller that chose and noted
   * the id first can import again after a crash without a duplicate: with existing 'skip', a run already there is
   * left out (the Slurm executor's collect, study/slurm/executor.ts).
   */
  id?: string;
}

export interface ImportResult {
  /** The runs imported (a copy has a new id). */
  ids: string[];
  /** Runs left out because the history has them (existing: 'skip'). */
  skipped: string[];
  /** One line each, for the user (bundles without a manifest). */
  warnings: string[];
}

/** The bundle folders among `files` (paths under the import root): those holding a run.json, outermost only. */
function bundleRoots(files: string[]): string[] {
  const roots = files.filter((f) => f === 'run.json' || f.endsWith('/run.json')).map((f) => f.slice(0, -'run.json'.length).replace(/\/$/, ''));
  const outer = (r: string): boolean => !roots.some((o) => o !== r && (o === '' || r.startsWith(`${o}/`)));
  return roots.filter(outer).sort();
}

async function inHistory(store: HistoryStore, id: string): Promise<boolean> {
  if (!id) return false;
  try {
    return (await store.resolveId(id)) === id;
  } catch (e) {
    if (e instanceof RunNotFoundError) return false;
    throw e;
  }
}

/**
 * Imports every bundle in `src` (a bundle folder, a folder of bundles, or a .zip of either). Every bundle is read and
 * checked before the first is inserted; a zip is unpacked into a staging folder beside the artifact folder, removed
 * whatever happens.
 */
export async function importBundles(store: HistoryStore, src: string, opts: ImportOptions = {}): Promise<ImportResult> {
  const limits = opts.limits ?? BUNDLE_LIMITS;
  const kind = sourceKind(src);
  let tmp: string | null = null;
  try {
    let dir = src;
    if (kind === 'zip') {
      // Unpack beside the artifact folder (same file system as the files it becomes; /tmp may be small).
      makeDirs(store.artifacts.dir);
      tmp = mkdtempSync(path.join(store.artifacts.dir, '.import-'));
      await extractZip(src, tmp, limits);
      dir = tmp;
    }
    const files = listTree(dir, limits).map((f) => f.rel);
    const roots = bundleRoots(files);
    if (!roots.length) throw new InputError(`${src} holds no run bundle (no run.json)`);
    const { readBundle } = await import('./bundle-read');
    const contents: (BundleContent & { where: string })[] = roots.map((r) => {
      const inside = r ? files.filter((f) => f.startsWith(`${r}/`)).map((f) => f.slice(r.length + 1)) : files;
      const where = r ? path.join(dir, ...r.split('/')) : dir;
      // Name what the user gave, not the staging folder.
      const shown = kind === 'zip' ? `${src}${r ? `:${r}` : ''}` : where;
      return { ...readBundle(where, inside, limits), where: shown };
    });

    if (opts.id !== undefined) {
      if (contents.length !== 1 || contents[0]!.record.id) throw new InputError(`${src}: an id can only be given to a single bundle that has none`);
      contents[0]!.record.id = opts.id;
    }
    const existing = opts.existing ?? 'refuse';
    const present: BundleContent[] = [];
    for (const c of contents) if (await inHistory(store, c.record.id)) present.push(c);
    if (present.length && existing === 'refuse') throw new RunExistsError(present.map((c) => ({ id: c.record.id, name: c.record.name })));

    const result: ImportResult = { ids: [], skipped: [], warnings: [] };
    for (const c of contents) {
      if (c.unverified) result.warnings.push(`${c.where} has no ${MANIFEST} (exported before ModeLab checked bundles): its files were checked, but not against checksums`);
      if (present.includes(c)) {
        if (existing === 'skip') {
          result.skipped.push(c.record.id);
          continue;
        }
        // A copy: a new id (insertRun gives one to an empty id), the name marked.
        c.record = { ...c.record, id: '', name: `${c.record.name} (copy)` };
      }
      result.ids.push(await store.insertRun(c.record, c.doc, c.artifacts));
    }
    return result;
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}
