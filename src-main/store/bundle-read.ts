/**
 * Reading one bundle folder as untrusted input, everything checked before the history is touched: the manifest's
 * checksums (store/bundle-manifest.ts), history.json and run.json against their schemas (store/bundle-schema.ts), and
 * every tensor file — a readable safetensors header, F32 data that matches its shape, the weights of every endpoint
 * with one layout, every path vertex, and the evaluation tensors that later exports of the run read.
 */
import path from 'node:path';
import { endpointsSafetensors, readCheckpointInfo } from '../engine/experiment/export';
import { decodeSafetensors } from '../engine/io/safetensors';
import { paramShapes } from '../engine/nn/spec';
import type { HostParams, HostTensor } from '../engine/nn/params';
import { InputError } from '../engine/util/errors';
import { type BundleLimits, readBounded } from './bundle-files';
import { MANIFEST, parseManifest } from './bundle-manifest';
import { type BundleHistoryRecord, type BundleRunDocument, ENDPOINT_NAME, historyRecordSchema, parseDocument, runDocumentSchema } from './bundle-schema';
import { sha256Hex } from './artifacts';
import { environmentOf } from './environment';
import type { ImportedArtifact } from './run-import';
import { FINAL_STATUSES, type RunEnvironment } from './types';

export interface BundleContent {
  record: BundleHistoryRecord;
  /** run.json (its runId is the record's id, or a new one's when that is taken). */
  doc: BundleRunDocument;
  artifacts: ImportedArtifact[];
  /** Set when the bundle carries no manifest (exported before ModeLab wrote one): its files are not checksummed. */
  unverified: boolean;
}

/** The files of one bundle: bounded reads, each checked against the manifest's checksum when there is one. */
class BundleFiles {
  private readonly expected: Map<string, string> | null;
  private readonly checked = new Set<string>();

  constructor(
    readonly dir: string,
    private readonly files: Set<string>,
    private readonly limits: BundleLimits,
  ) {
    if (!files.has(MANIFEST)) {
      this.expected = null;
      return;
    }
    const rest = [...files].filter((f) => f !== MANIFEST);
    this.expected = parseManifest(this.raw(MANIFEST).toString('utf8'), rest, dir);
  }

  get verified(): boolean {
    return this.expected !== null;
  }

  has(rel: string): boolean {
    return this.files.has(rel);
  }

  /** Files under a folder of the bundle (`checkpoints`), sorted. */
  under(folder: string): string[] {
    return [...this.files].filter((f) => f.startsWith(`${folder}/`)).sort();
  }

  where(rel: string): string {
    return path.join(this.dir, ...rel.split('/'));
  }

  private raw(rel: string): Buffer {
    return readBounded(this.where(rel), this.limits.entryBytes, this.where(rel));
  }

  read(rel: string): Buffer {
    if (!this.files.has(rel)) throw new InputError(`${this.dir}: ${rel} is missing`);
    const data = this.raw(rel);
    const want = this.expected?.get(rel);
    if (want !== undefined && sha256Hex(data) !== want) {
      throw new InputError(`${this.where(rel)} does not match its checksum in ${MANIFEST}: the file was changed or damaged after export`);
    }
    this.checked.add(rel);
    return data;
  }

  json(rel: string): unknown {
    try {
      return JSON.parse(this.read(rel).toString('utf8'));
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw new InputError(`${this.where(rel)} is not valid JSON: ${(e as Error).message}`);
    }
  }

  /** Checks the checksum of every listed file import does not otherwise read (path descriptions, older checkpoints). */
  verifyRest(): void {
    if (!this.expected) return;
    for (const rel of this.expected.keys()) if (!this.checked.has(rel)) this.read(rel);
  }
}

type Layout = Map<string, string>;

const layoutOf = (params: Record<string, HostTensor>): Layout => new Map(Object.entries(params).map(([k, t]) => [k, t.shape.join('×')]));

/** The first difference between two parameter layouts, or null. */
function layoutDiff(a: Layout, b: Layout): string | null {
  for (const [k, s] of a) {
    if (!b.has(k)) return `has no tensor ${k}`;
    if (b.get(k) !== s) return `has ${k} of shape [${b.get(k)}], not [${s}]`;
  }
  for (const k of b.keys()) if (!a.has(k)) return `has an extra tensor ${k}`;
  return null;
}

function readEndpoints(f: BundleFiles, doc: BundleRunDocument, out: ImportedArtifact[]): void {
  if (!doc.endpoints.length) return;
  const rel = 'endpoints.safetensors';
  const all = decodeSafetensors(f.read(rel), f.where(rel)).tensors;
  let first: { name: string; layout: Layout } | null = null;
  for (const e of doc.endpoints) {
    const prefix = `${e.name}.`;
    const params: HostParams = {};
    for (const [k, t] of Object.entries(all)) if (k.startsWith(prefix)) params[k.slice(prefix.length)] = t;
    if (!Object.keys(params).length) throw new InputError(`${f.where(rel)} holds no weights for endpoint ${e.name}`);
    const layout = layoutOf(params);
    const diff = first && layoutDiff(first.layout, layout);
    if (diff) throw new InputError(`${f.where(rel)}: endpoint ${e.name} ${diff} (endpoint ${first!.name} has)`);
    first ??= { name: e.name, layout };
    out.push({ role: `endpoint:${e.name}`, data: endpointsSafetensors({ [e.name]: params }) });
  }
}

function readPaths(f: BundleFiles, doc: BundleRunDocument, out: ImportedArtifact[]): void {
  for (const p of doc.paths) {
    const rel = `paths/${p.name}.safetensors`;
    const data = f.read(rel);
    const vertices: HostParams[] = [];
    for (const [k, t] of Object.entries(decodeSafetensors(data, f.where(rel)).tensors)) {
      const m = /^v(\d{1,6})\.(.+)$/.exec(k);
      if (!m) throw new InputError(`${f.where(rel)}: '${k}' is not a vertex tensor (v<k>.<parameter>)`);
      (vertices[Number(m[1])] ??= {})[m[2]!] = t;
    }
    if (!vertices.length) throw new InputError(`${f.where(rel)} holds no vertices`);
    const layout = layoutOf(vertices[0] ?? {});
    for (let k = 0; k < vertices.length; k++) {
      if (!vertices[k]) throw new InputError(`${f.where(rel)}: vertex ${k} is missing (the file has ${vertices.length} vertices)`);
      const diff = layoutDiff(layout, layoutOf(vertices[k]!));
      if (diff) throw new InputError(`${f.where(rel)}: vertex v${k} ${diff} (vertex v0 has)`);
    }
    out.push({ role: `path:${p.name}`, data });
  }
}

/**
 * eval-data.safetensors, when the bundle has it: train.x/y and test.x/y, the inputs shaped as the run's dataset — as
 * run.json and history.json's environment both say (a later export reshapes the inputs by the environment's).
 */
function readEvalData(f: BundleFiles, doc: BundleRunDocument, record: BundleHistoryRecord, out: ImportedArtifact[]): void {
  const rel = 'eval-data.safetensors';
  if (!f.has(rel)) return;
  const data = f.read(rel);
  const t = decodeSafetensors(data, f.where(rel)).tensors;
  const shapes = [doc.dataset?.inputShape, record.environment?.dataset?.inputShape].filter((s) => s !== undefined);
  for (const s of ['train', 'test']) {
    const x = t[`${s}.x`];
    const y = t[`${s}.y`];
    if (!x || !y) throw new InputError(`${f.where(rel)} lacks ${x ? `${s}.y` : `${s}.x`} (exports of the run need train.x, train.y, test.x and test.y)`);
    if (y.shape.length !== 1 || x.shape[0] !== y.shape[0]) throw new InputError(`${f.where(rel)}: ${s}.x has ${x.shape[0]} rows and ${s}.y shape [${y.shape}]`);
    for (const inputShape of shapes) {
      if (x.shape.slice(1).join('×') !== inputShape.join('×')) {
        throw new InputError(`${f.where(rel)}: ${s}.x has inputs of shape [${x.shape.slice(1)}], the run's dataset [${inputShape}]`);
      }
    }
    if (!y.data.every((v) => Number.isInteger(v) && v >= 0)) throw new InputError(`${f.where(rel)}: ${s}.y holds values that are not class indices`);
  }
  out.push({ role: 'eval-data', data });
}

/**
 * The checkpoints of a bundle: the latest of each endpoint (a `modelab run --out` folder holds every one; an exported
 * bundle only the latest). Their endpoint, epoch and step come from the files' metadata.
 */
function readCheckpoints(f: BundleFiles): ImportedArtifact[] {
  const latest = new Map<string, ImportedArtifact & { checkpoint: { epoch: number; step: number } }>();
  for (const rel of f.under('checkpoints')) {
    if (!rel.endsWith('.safetensors')) continue;
    const data = f.read(rel);
    const c = readCheckpointInfo(data, f.where(rel));
    if (!c) throw new InputError(`${f.where(rel)} is not a ModeLab checkpoint (no modelab-checkpoint metadata with endpoint, epoch and step)`);
    if (!ENDPOINT_NAME.test(c.endpoint)) throw new InputError(`${f.where(rel)}: '${c.endpoint}' is not an endpoint name`);
    const prev = latest.get(c.endpoint);
    if (!prev || c.step > prev.checkpoint.step) latest.set(c.endpoint, { role: `checkpoint:${c.endpoint}`, data, checkpoint: { epoch: c.epoch, step: c.step } });
  }
  return [...latest.values()];
}

/** The environment record run.json tells, once the run had set up (store/environment.ts). */
function environmentOfDocument(doc: BundleRunDocument): RunEnvironment | null {
  const { modelab, backend, device, tfjsVersion, dataset } = doc;
  if (!modelab || !backend || !device || !tfjsVersion || !dataset) return null;
  return environmentOf({ modelab, backend, device, tfjsVersion, backendDetails: doc.backendDetails ?? {}, config: doc.config, architecture: doc.architecture, dataset, endpoints: doc.endpoints });
}

/** The history record: history.json when the bundle has one, else what run.json says (a `run --no-store --out` folder). */
function historyOf(f: BundleFiles, doc: BundleRunDocument): BundleHistoryRecord {
  if (f.has('history.json')) return parseDocument(historyRecordSchema, f.json('history.json'), f.where('history.json'));
  const record: BundleHistoryRecord = {
    format: 'modelab.history/1',
    id: doc.runId ?? '',
    name: doc.name,
    preset: doc.preset ?? null,
    status: doc.finishedAt ? 'finished' : 'crashed',
    createdAt: doc.startedAt ?? new Date().toISOString(),
    startedAt: doc.startedAt ?? null,
    finishedAt: doc.finishedAt ?? null,
    error: null,
    tags: [],
    notes: '',
    colour: null,
    config: doc.config,
    environment: environmentOfDocument(doc),
    partialCurves: {},
    stability: doc.stability ?? null,
    timings: doc.timings ?? null,
  };
  // Checked like history.json (dates, names), except the id: a document without one gets a new id.
  parseDocument(historyRecordSchema, { ...record, id: record.id || '0'.repeat(16) }, `${f.where('run.json')} (its history record)`);
  return record;
}

/**
 * A run with paths is exported later (bundles, `paths/<name>.json`) from its history record's environment: the
 * architecture (its parameter layout) and the dataset's input shape must be there and make sense.
 */
function checkExportable(f: BundleFiles, record: BundleHistoryRecord, doc: BundleRunDocument): void {
  if (!doc.paths.length) return;
  const where = f.has('history.json') ? f.where('history.json') : f.where('run.json');
  const env = record.environment;
  if (!env?.architecture?.spec || !env.dataset?.inputShape) {
    throw new InputError(`${where}: the run has paths but its environment lacks the architecture or the dataset's input shape (exports of the paths need both)`);
  }
  try {
    paramShapes(env.architecture.spec);
  } catch (e) {
    throw new InputError(`${where}: environment.architecture.spec is not a ModeLab architecture (${(e as Error).message})`);
  }
}

/** Reads and checks one bundle folder (`files`: every file under `dir`, '/'-separated). */
export function readBundle(dir: string, files: string[], limits: BundleLimits): BundleContent {
  const f = new BundleFiles(dir, new Set(files), limits);
  const doc = parseDocument(runDocumentSchema, f.json('run.json'), f.where('run.json'));
  for (const [kind, names] of [
    ['endpoint', doc.endpoints.map((e) => e.name)],
    ['path', doc.paths.map((p) => p.name)],
  ] as const) {
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup) throw new InputError(`${f.where('run.json')}: the ${kind} name ${dup} appears twice`);
  }
  const record = historyOf(f, doc);
  if (!FINAL_STATUSES.includes(record.status)) record.status = 'crashed';
  checkExportable(f, record, doc);

  const artifacts: ImportedArtifact[] = [];
  readEndpoints(f, doc, artifacts);
  readPaths(f, doc, artifacts);
  readEvalData(f, doc, record, artifacts);
  artifacts.push(...readCheckpoints(f));
  f.verifyRest();
  return { record, doc, artifacts, unverified: !f.verified };
}
