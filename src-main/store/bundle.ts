/**
 * Run bundles: a folder (or a .zip of it) that carries one run completely, for archiving, sharing and moving between
 * machines. The layout is the engine's export folder (engine/io/export.ts writeRunDir, docs/run-json.md, "Files written by --out DIR") plus the
 * history metadata:
 *
 *   run.json                  the run document (RunResult) with `runId`
 *   history.json              name, status, tags, notes, colour, timestamps, environment, partial curves (HistoryRecord)
 *   endpoints.safetensors     every endpoint's weights, `<endpoint>.<param>`
 *   eval-data.safetensors     the exact evaluation inputs and labels
 *   paths/<name>.safetensors  every vertex of each path, `v<k>.<param>`
 *   paths/<name>.json         the path's description
 *   checkpoints/<endpoint>-epoch<e>.safetensors   the latest training checkpoint of each endpoint that made one
 *
 * Importing a bundle restores an identical run: same id (unless that id is taken: then a new one), same documents,
 * same artifact bytes. A zip (or folder) may hold several bundles, one per subfolder.
 */
import { createWriteStream, existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import yauzl from 'yauzl';
import yazl from 'yazl';
import type { Split } from '../engine/data/dataset';
import { type RunArtifacts, endpointsSafetensors, readCheckpointInfo, writeRunDir } from '../engine/io/export';
import { writeFileAtomic } from '../engine/io/atomic';
import { makeDirs } from '../engine/io/mkdirs';
import { decodeSafetensors } from '../engine/io/safetensors';
import type { HostParams } from '../engine/nn/params';
import type { ParamPath } from '../engine/paths/path';
import { RUN_SCHEMA, type RunResult } from '../engine/recipe/result';
import { InputError } from '../engine/util/errors';
import { type HistoryStore, type ImportedArtifact, environmentOf, historyRecord, runDocument } from './history';
import type { HistoryRecord, RunDetail, RunStatus } from './types';
import { FINAL_STATUSES } from './types';

/** The run document as bundles and `modelab run --json` carry it: RunResult plus the history id. */
export type StoredRunDocument = RunResult & { runId: string };

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
export async function writeBundleDir(store: HistoryStore, idOrPrefix: string, dir: string): Promise<string> {
  const d = await store.get(idOrPrefix);
  const a = runArtifacts(store, d);
  writeRunDir(dir, storedDocument(d), a);
  writeFileAtomic(path.join(dir, 'history.json'), `${JSON.stringify(historyRecord(d), null, 2)}\n`);
  return d.id;
}

function listFiles(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const f of readdirSync(dir).sort()) {
    const p = path.join(dir, f);
    if (statSync(p).isDirectory()) out.push(...listFiles(p, base));
    else out.push(path.relative(base, p));
  }
  return out;
}

/** A fixed entry time: exporting the same run twice gives the same zip. */
const ZIP_MTIME = new Date('2000-01-01T00:00:00Z');

function zipFolder(dir: string, file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const zip = new yazl.ZipFile();
    for (const rel of listFiles(dir)) zip.addFile(path.join(dir, rel), rel.split(path.sep).join('/'), { mtime: ZIP_MTIME, mode: 0o100644 });
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
 */
export async function exportBundles(store: HistoryStore, ids: string[], out: string, opts: { overwrite?: boolean } = {}): Promise<string[]> {
  if (!ids.length) throw new InputError('no runs to export');
  const full = await Promise.all(ids.map((i) => store.resolveId(i)));
  const zip = out.toLowerCase().endsWith('.zip');
  if (!opts.overwrite && (zip ? existsSync(out) : !isEmptyOrMissing(out))) {
    throw new InputError(`${out} already exists${zip ? '' : ' and is not empty'}; choose another --out (or --force to overwrite)`);
  }
  if (!zip) {
    if (full.length === 1) await writeBundleDir(store, full[0]!, out);
    else for (const id of full) await writeBundleDir(store, id, path.join(out, id));
    return full;
  }
  makeDirs(path.dirname(path.resolve(out)));
  const tmp = mkdtempSync(path.join(path.dirname(path.resolve(out)), '.modelab-bundle-'));
  try {
    for (const id of full) await writeBundleDir(store, id, path.join(tmp, id));
    await zipFolder(tmp, out);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return full;
}

// ---------------------------------------------------------------------------------------------------------- import

function unzip(file: string, dest: string): Promise<void> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true, strictFileNames: false }, (err, zip) => {
      if (err || !zip) return reject(new InputError(`${file} is not a readable zip file (${err?.message ?? 'unknown error'})`));
      zip.on('error', (e: Error) => reject(new InputError(`${file}: ${e.message}`)));
      zip.on('end', () => resolve());
      zip.on('entry', (entry: yauzl.Entry) => {
        const name = entry.fileName.replace(/\\/g, '/');
        if (name.startsWith('/') || /^[A-Za-z]:/.test(name) || name.split('/').includes('..')) {
          zip.close();
          return reject(new InputError(`${file}: refusing the entry '${entry.fileName}' (it points outside the bundle)`));
        }
        const target = path.join(dest, ...name.split('/'));
        if (name.endsWith('/')) {
          makeDirs(target);
          return zip.readEntry();
        }
        makeDirs(path.dirname(target));
        zip.openReadStream(entry, (e2, stream) => {
          if (e2 || !stream) return reject(new InputError(`${file}: cannot read ${entry.fileName}: ${e2?.message}`));
          const w = createWriteStream(target);
          w.on('error', reject);
          w.on('close', () => zip.readEntry());
          stream.on('error', (e3: Error) => reject(new InputError(`${file}: ${entry.fileName}: ${e3.message}`)));
          stream.pipe(w);
        });
      });
      zip.readEntry();
    });
  });
}

/** The bundle folders under `dir`: itself when it has a run.json, else its subfolders (recursively) that do. */
function findBundles(dir: string): string[] {
  if (existsSync(path.join(dir, 'run.json'))) return [dir];
  const out: string[] = [];
  for (const f of readdirSync(dir).sort()) {
    const p = path.join(dir, f);
    if (statSync(p).isDirectory()) out.push(...findBundles(p));
  }
  return out;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new InputError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
}

interface BundleContent {
  record: HistoryRecord;
  doc: RunResult;
  artifacts: ImportedArtifact[];
}

/** Reads one bundle folder (validating what import needs). */
export function readBundleDir(dir: string): BundleContent {
  const doc = readJson(path.join(dir, 'run.json')) as Partial<StoredRunDocument> & { history?: Partial<HistoryRecord> };
  if (!doc || typeof doc !== 'object' || doc.schema !== RUN_SCHEMA) {
    throw new InputError(`${dir}/run.json is not a ModeLab run document (schema '${String((doc as { schema?: unknown })?.schema)}', expected '${RUN_SCHEMA}')`);
  }
  if (!Array.isArray(doc.endpoints) || !Array.isArray(doc.paths) || !doc.config) throw new InputError(`${dir}/run.json lacks endpoints, paths or config`);
  const histFile = path.join(dir, 'history.json');
  const h = (existsSync(histFile) ? readJson(histFile) : (doc.history ?? {})) as Partial<HistoryRecord>;
  const { runId, history: _h, ...rest } = doc;
  void _h;
  const result = rest as RunResult;
  const status: RunStatus = h.status && FINAL_STATUSES.includes(h.status) ? h.status : result.finishedAt ? 'finished' : 'crashed';
  const record: HistoryRecord = {
    format: 'modelab.history/1',
    id: h.id ?? runId ?? '',
    name: h.name ?? result.name,
    preset: h.preset !== undefined ? h.preset : (result.preset ?? null),
    status,
    createdAt: h.createdAt ?? result.startedAt ?? new Date().toISOString(),
    startedAt: h.startedAt !== undefined ? h.startedAt : (result.startedAt ?? null),
    finishedAt: h.finishedAt !== undefined ? h.finishedAt : (result.finishedAt ?? null),
    error: h.error ?? null,
    tags: Array.isArray(h.tags) ? h.tags.map(String) : [],
    notes: typeof h.notes === 'string' ? h.notes : '',
    colour: h.colour ?? null,
    config: h.config ?? result.config,
    environment: h.environment ?? null,
    partialCurves: h.partialCurves ?? {},
    stability: h.stability !== undefined ? h.stability : (result.stability ?? null),
    timings: h.timings !== undefined ? h.timings : (result.timings ?? null),
  };
  if (!record.environment && result.backend && result.dataset) record.environment = environmentOf(result);

  const artifacts: ImportedArtifact[] = [];
  if (result.endpoints.length) {
    const file = path.join(dir, 'endpoints.safetensors');
    if (!existsSync(file)) throw new InputError(`${dir}: endpoints.safetensors is missing`);
    const all = decodeSafetensors(readFileSync(file), file).tensors;
    for (const e of result.endpoints) {
      const prefix = `${e.name}.`;
      const params: HostParams = {};
      for (const [k, t] of Object.entries(all)) if (k.startsWith(prefix)) params[k.slice(prefix.length)] = t;
      if (!Object.keys(params).length) throw new InputError(`${file} holds no weights for endpoint ${e.name}`);
      artifacts.push({ role: `endpoint:${e.name}`, data: endpointsSafetensors({ [e.name]: params }) });
    }
  }
  for (const p of result.paths) {
    const file = path.join(dir, 'paths', `${p.name}.safetensors`);
    if (!existsSync(file)) throw new InputError(`${dir}: paths/${p.name}.safetensors is missing`);
    const data = readFileSync(file);
    decodeSafetensors(data, file);
    artifacts.push({ role: `path:${p.name}`, data });
  }
  const ev = path.join(dir, 'eval-data.safetensors');
  if (existsSync(ev)) {
    const data = readFileSync(ev);
    decodeSafetensors(data, ev);
    artifacts.push({ role: 'eval-data', data });
  }
  artifacts.push(...readCheckpoints(path.join(dir, 'checkpoints')));
  return { record, doc: result, artifacts };
}

/**
 * The checkpoints of a bundle: the latest of each endpoint (a `modelab run --out` folder holds every one; an exported
 * bundle only the latest). Their endpoint, epoch and step come from the files' metadata.
 */
function readCheckpoints(dir: string): ImportedArtifact[] {
  if (!existsSync(dir)) return [];
  const latest = new Map<string, ImportedArtifact & { checkpoint: { epoch: number; step: number } }>();
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith('.safetensors')) continue;
    const file = path.join(dir, f);
    const data = readFileSync(file);
    const c = readCheckpointInfo(data, file);
    if (!c) throw new InputError(`${file} is not a ModeLab checkpoint (no modelab-checkpoint metadata with endpoint, epoch and step)`);
    if (!/^[A-Za-z0-9_-]+$/.test(c.endpoint)) throw new InputError(`${file}: '${c.endpoint}' is not an endpoint name`);
    const prev = latest.get(c.endpoint);
    if (!prev || c.step > prev.checkpoint.step) latest.set(c.endpoint, { role: `checkpoint:${c.endpoint}`, data, checkpoint: { epoch: c.epoch, step: c.step } });
  }
  return [...latest.values()];
}

/** Imports every bundle in `src` (a bundle folder, a folder of bundles, or a .zip of either). Returns the new ids. */
export async function importBundles(store: HistoryStore, src: string): Promise<string[]> {
  if (!existsSync(src)) throw new InputError(`bundle not found: ${src}`);
  let dir = src;
  let tmp: string | null = null;
  try {
    if (statSync(src).isFile()) {
      // Unpack beside the artifact folder (same file system as the files it becomes; /tmp may be small).
      makeDirs(store.artifacts.dir);
      tmp = mkdtempSync(path.join(store.artifacts.dir, '.import-'));
      await unzip(src, tmp);
      dir = tmp;
    }
    const bundles = findBundles(dir);
    if (!bundles.length) throw new InputError(`${src} holds no run bundle (no run.json)`);
    const contents = bundles.map(readBundleDir);
    const ids: string[] = [];
    for (const c of contents) ids.push(await store.insertRun(c.record, c.doc, c.artifacts));
    return ids;
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}
