/**
 * Writing a run's artifacts for outside checking (docs/run-json.md, "Files written by --out DIR"):
 *   run.json                       the run document
 *   endpoints.safetensors          every endpoint's weights, named `<endpoint>.<param>`
 *   eval-data.safetensors          the exact evaluation inputs and labels: train.x, train.y, test.x, test.y
 *   paths/<name>.safetensors       every vertex of a path, named `v<k>.<param>`
 *   paths/<name>.json              architecture, parameter layouts, segments (kinds, t range), construction, points
 *   checkpoints/<endpoint>-epoch<e>.safetensors   training checkpoints (training.checkpointEvery), `<param>` names
 * and with the layout 'torch' (--layout torch) each network again as a PyTorch state_dict, for
 * `model.load_state_dict(load_file(…))` (docs/bring-your-own-model.md):
 *   torch/<endpoint>.safetensors   torch/<path>/v<k>.safetensors
 */
import path from 'node:path';
import type { Split } from '../data/dataset';
import { foldBatchNorm } from '../nn/batchnorm';
import { foreignStateDict, sequentialNames } from '../nn/foreign-layout';
import type { HostParams } from '../nn/params';
import { type ArchSpec, hasBatchNorm, paramShapes } from '../nn/spec';
import { torchNamesFor } from '../io/endpoint-weights';
import type { Recipe } from '../recipe/schema';
import type { ParamPath } from '../paths/path';
import type { RunEvent } from './events';
import type { PathResult, RunResult } from './result';
import { writeFileAtomic } from '../io/atomic';
import { InputError } from '../util/errors';
import { decodeSafetensors, encodeSafetensors } from '../io/safetensors';

export const LAYOUTS = {
  dense: 'kernel [in, out]: y = x·W + b',
  conv: 'kernel [kh, kw, in, out] (HWIO), NHWC inputs, stride and padding per the spec',
  flatten: 'row-major over (h, w, c): channel c of an H×W map owns dense rows {s·C + c}',
};

export function endpointsSafetensors(endpoints: Record<string, HostParams>): Buffer {
  const tensors: HostParams = {};
  for (const [name, params] of Object.entries(endpoints)) for (const [k, v] of Object.entries(params)) tensors[`${name}.${k}`] = v;
  return encodeSafetensors(tensors, { format: 'modelab-endpoints', layout: JSON.stringify(LAYOUTS) });
}

/** Where a checkpoint is in a training run: `epoch` = step / steps per epoch. */
export interface CheckpointInfo {
  endpoint: string;
  epoch: number;
  step: number;
}

/**
 * One endpoint's training checkpoint: the tensors of endpoints.safetensors without the `<endpoint>.` prefix, and
 * metadata {format: 'modelab-checkpoint', endpoint, epoch, step, layout}.
 */
export function checkpointSafetensors(c: CheckpointInfo, params: HostParams): Buffer {
  return encodeSafetensors(params, {
    format: 'modelab-checkpoint',
    endpoint: c.endpoint,
    epoch: String(c.epoch),
    step: String(c.step),
    layout: JSON.stringify(LAYOUTS),
  });
}

/** The endpoint, epoch and step a checkpoint file says it is (its metadata); null when it is not a ModeLab checkpoint. */
export function readCheckpointInfo(data: Uint8Array, what = 'checkpoint'): CheckpointInfo | null {
  const m = decodeSafetensors(data, what).metadata;
  const epoch = Number(m['epoch']);
  const step = Number(m['step']);
  if (m['format'] !== 'modelab-checkpoint' || !m['endpoint'] || !Number.isFinite(epoch) || !Number.isInteger(step)) return null;
  return { endpoint: m['endpoint'], epoch, step };
}

/** `<endpoint>-epoch<e>.safetensors`; a fractional epoch (checkpointEvery < 1) with at most 4 decimals. */
export function checkpointFileName(endpoint: string, epoch: number): string {
  const e = Number.isInteger(epoch) ? String(epoch) : String(Number(epoch.toFixed(4)));
  return `${endpoint}-epoch${e}.safetensors`;
}

export function pathSafetensors(p: ParamPath): Buffer {
  const tensors: HostParams = {};
  p.vertices.forEach((v, k) => {
    for (const [name, t] of Object.entries(v)) tensors[`v${k}.${name}`] = t;
  });
  return encodeSafetensors(tensors, { format: 'modelab-path', path: p.name, vertices: String(p.vertices.length) });
}

/** What a path's description and the evaluation data need of the run: known once the data is loaded. */
export interface RunDirSetup {
  spec: ArchSpec;
  dataset: Pick<RunResult['dataset'], 'name' | 'normalization' | 'inputShape'>;
}

/** Layouts a run folder can also hold its networks in (besides ModeLab's own files). */
export const EXPORT_LAYOUTS = ['modelab', 'torch'] as const;
export type ExportLayout = (typeof EXPORT_LAYOUTS)[number];

/** A --layout option: absent means ModeLab's own files only. */
export function exportLayoutOption(v: string | undefined): ExportLayout {
  if (v === undefined) return 'modelab';
  if (!(EXPORT_LAYOUTS as readonly string[]).includes(v)) throw new InputError(`--layout needs ${EXPORT_LAYOUTS.join(' or ')}, got '${v}'`);
  return v as ExportLayout;
}

/** The recipe's endpoints as an export reads them (a stored run's config, any shape). */
type EndpointConfigs = Recipe['endpoints'] | undefined;

/**
 * One network as a PyTorch state_dict in safetensors, under `names` (torchNamesFor: the PyTorch file's own names, else
 * the mirrored nn.Sequential's). A BN-folded Theorem 1 vertex (no BatchNorm, biases) is written under the folded
 * architecture's nn.Sequential names.
 */
export function torchStateDict(spec: ArchSpec, params: HostParams, names: Record<string, string>): Buffer {
  let s = spec;
  let n = names;
  const own = paramShapes(spec).map((p) => p.name);
  if (own.length !== Object.keys(params).length || !own.every((k) => params[k])) {
    if (!hasBatchNorm(spec)) throw new Error("torch export: the network does not match the run's architecture");
    s = foldBatchNorm(spec, params).spec;
    n = sequentialNames(s);
  }
  const { tensors, counters } = foreignStateDict(s, params, 'torch', n);
  return encodeSafetensors(tensors, { format: 'pt', source: 'modelab' }, Object.fromEntries(counters.map((c) => [c, 0n])));
}

function endpointConfig(configs: EndpointConfigs, name: string): Recipe['endpoints'][number] | undefined {
  return Array.isArray(configs) ? configs.find((e) => e?.name === name) : undefined;
}

export function pathDescription(run: RunDirSetup, p: ParamPath, r: PathResult): unknown {
  const S = p.segments.length;
  return {
    name: p.name,
    method: p.method,
    from: r.from,
    to: r.to,
    architecture: run.spec,
    parameters: paramShapes(run.spec).map((s) => ({ name: s.name, shape: s.shape, layer: s.layer, role: s.role })),
    layouts: LAYOUTS,
    vertices: p.vertices.length,
    tensorNames: 'v<k>.<parameter>, k = 0 … vertices−1',
    segments: p.segments.map((s, i) => ({ ...s, tStart: i / S, tEnd: (i + 1) / S })),
    construction: r.construction,
    points: r.points,
    dataset: { name: run.dataset.name, normalization: run.dataset.normalization, inputShape: run.dataset.inputShape },
  };
}

function splitTensors(prefix: string, s: Split, inputShape: [number, number, number]): HostParams {
  return {
    [`${prefix}.x`]: { shape: [s.n, ...inputShape], data: s.x },
    [`${prefix}.y`]: { shape: [s.n], data: Float32Array.from(s.y) },
  };
}

export interface RunArtifacts {
  endpoints: Record<string, HostParams>;
  paths: { path: ParamPath; result: PathResult }[];
  evalData?: { train: Split; test: Split };
  /** Checkpoint files as checkpointSafetensors made them (written as they are). */
  checkpoints?: (CheckpointInfo & { data: Uint8Array })[];
}

/** eval-data.safetensors: the exact evaluation inputs and labels (train.x, train.y, test.x, test.y). */
export function evalDataSafetensors(inputShape: [number, number, number], sets: { train: Split; test: Split }): Buffer {
  return encodeSafetensors({ ...splitTensors('train', sets.train, inputShape), ...splitTensors('test', sets.test, inputShape) }, { labels: 'float32 class indices' });
}

/**
 * Writes a run's folder stage by stage, each file atomically (temp file, fsync, rename) as soon as its stage is done,
 * so that a run stopped or killed midway keeps whole files for everything it finished; run.json comes last and marks
 * a finished run. `modelab run --no-store --out DIR` writes through it as the run goes; writeRunDir all at once.
 */
export class RunDirWriter {
  private readonly endpointWeights: Record<string, HostParams> = {};
  private known: RunDirSetup | null = null;
  /** The recipe's endpoints (their files name the PyTorch tensors), from the run's environment event. */
  private endpointConfigs: EndpointConfigs;
  /** Each endpoint's PyTorch names, its file read once. */
  private readonly torchNames = new Map<string, Record<string, string>>();

  constructor(
    readonly dir: string,
    readonly layout: ExportLayout = 'modelab',
  ) {}

  /** The recipe the run follows (for the PyTorch names of file endpoints). */
  recipe(config: { endpoints?: unknown } | undefined): void {
    this.endpointConfigs = config?.endpoints as EndpointConfigs;
  }

  private get setupDone(): RunDirSetup {
    if (!this.known) throw new Error('RunDirWriter: the architecture and dataset are not known yet (setup first)');
    return this.known;
  }

  /** The architecture and dataset, before any evaluation data or path is written. */
  setup(s: RunDirSetup): void {
    this.known = s;
  }

  /** endpoints.safetensors again with this endpoint added (every endpoint finished so far). */
  endpoint(name: string, params: HostParams): void {
    this.endpointWeights[name] = params;
    writeFileAtomic(path.join(this.dir, 'endpoints.safetensors'), endpointsSafetensors(this.endpointWeights));
    if (this.layout === 'torch') this.torchEndpoint(name, params);
  }

  /** torch/<endpoint>.safetensors (layout 'torch'). */
  torchEndpoint(name: string, params: HostParams, spec: ArchSpec = this.setupDone.spec): void {
    writeFileAtomic(path.join(this.dir, 'torch', `${name}.safetensors`), torchStateDict(spec, params, this.torchNamesOf(name, spec)));
  }

  private torchNamesOf(endpoint: string, spec: ArchSpec): Record<string, string> {
    let names = this.torchNames.get(endpoint);
    if (!names) {
      names = torchNamesFor(spec, endpointConfig(this.endpointConfigs, endpoint));
      this.torchNames.set(endpoint, names);
    }
    return names;
  }

  evalData(sets: { train: Split; test: Split }): void {
    writeFileAtomic(path.join(this.dir, 'eval-data.safetensors'), evalDataSafetensors(this.setupDone.dataset.inputShape, sets));
  }

  path(p: ParamPath, result: PathResult): void {
    writeFileAtomic(path.join(this.dir, 'paths', `${p.name}.safetensors`), pathSafetensors(p));
    writeFileAtomic(path.join(this.dir, 'paths', `${p.name}.json`), `${JSON.stringify(pathDescription(this.setupDone, p, result), null, 2)}\n`);
    if (this.layout === 'torch') {
      // Every vertex under the names of the endpoint the path starts from.
      const { spec } = this.setupDone;
      const names = this.torchNamesOf(result.from, spec);
      p.vertices.forEach((v, k) => writeFileAtomic(path.join(this.dir, 'torch', p.name, `v${k}.safetensors`), torchStateDict(spec, v, names)));
    }
  }

  checkpoint(c: CheckpointInfo, data: Uint8Array): void {
    writeFileAtomic(path.join(this.dir, 'checkpoints', checkpointFileName(c.endpoint, c.epoch)), data);
  }

  /** Writes what a run event finished (experiment/events.ts): the stability report and the plane are in run.json. */
  apply(e: RunEvent): void {
    switch (e.kind) {
      case 'plan':
        return this.setup({ spec: e.architecture.spec, dataset: e.dataset });
      case 'endpoint':
        return this.endpoint(e.endpoint.name, e.params);
      case 'eval-data':
        return this.evalData(e.sets);
      case 'path':
        return this.path(e.path, e.result);
      case 'checkpoint':
        return this.checkpoint(e, checkpointSafetensors(e, e.params));
      case 'environment':
        return this.recipe(e.start.config as { endpoints?: unknown });
      case 'progress':
      case 'curve': // the curve is in run.json, with its endpoint
      case 'stability':
      case 'plane':
      case 'done': // run.json is written by finish()
        return;
    }
  }

  /** run.json: the run's document (a finished run's, or a stored run's that stopped early). */
  finish(run: RunDirDocument): void {
    writeFileAtomic(path.join(this.dir, 'run.json'), `${JSON.stringify(run, null, 2)}\n`);
  }
}

/**
 * What writeRunDir reads of a run's document, which it writes as run.json: a finished run's (RunResult), or a stored
 * run's that stopped early, which has no architecture or dataset record before its setup (store/run-document.ts).
 */
export interface RunDirDocument {
  config: unknown;
  architecture: { spec: ArchSpec } | null;
  dataset: (Pick<RunDirSetup['dataset'], 'name'> & Partial<RunDirSetup['dataset']>) | null;
}

/** The setup a folder with evaluation data or paths needs; a document without it cannot describe them. */
function setupOf(run: RunDirDocument): RunDirSetup {
  const { architecture, dataset } = run;
  if (!architecture || !dataset?.normalization || !dataset.inputShape) {
    throw new Error("the run's document has evaluation data or paths but lacks the architecture or the dataset's input shape and normalisation to describe them");
  }
  return { spec: architecture.spec, dataset: { name: dataset.name, normalization: dataset.normalization, inputShape: dataset.inputShape } };
}

export function writeRunDir(dir: string, run: RunDirDocument, a: RunArtifacts, layout: ExportLayout = 'modelab'): void {
  const w = new RunDirWriter(dir, layout);
  w.recipe(run.config as { endpoints?: unknown });
  // A run that crashed before its setup has no architecture yet, nor evaluation data or paths to describe with it.
  if (a.evalData || a.paths.length) w.setup(setupOf(run));
  writeFileAtomic(path.join(dir, 'endpoints.safetensors'), endpointsSafetensors(a.endpoints));
  const spec = run.architecture?.spec;
  if (layout === 'torch' && spec) for (const [name, params] of Object.entries(a.endpoints)) w.torchEndpoint(name, params, spec);
  if (a.evalData) w.evalData(a.evalData);
  for (const { path: p, result } of a.paths) w.path(p, result);
  for (const c of a.checkpoints ?? []) w.checkpoint(c, c.data);
  w.finish(run);
}
