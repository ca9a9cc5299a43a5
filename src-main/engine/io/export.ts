/**
 * Writing a run's artifacts for outside checking (docs/run-json.md, "Files written by --out DIR"):
 *   run.json                       the run document
 *   endpoints.safetensors          every endpoint's weights, named `<endpoint>.<param>`
 *   eval-data.safetensors          the exact evaluation inputs and labels: train.x, train.y, test.x, test.y
 *   paths/<name>.safetensors       every vertex of a path, named `v<k>.<param>`
 *   paths/<name>.json              architecture, parameter layouts, segments (kinds, t range), construction, points
 *   checkpoints/<endpoint>-epoch<e>.safetensors   training checkpoints (training.checkpointEvery), `<param>` names
 */
import path from 'node:path';
import type { Split } from '../data/dataset';
import type { HostParams } from '../nn/params';
import { paramShapes } from '../nn/spec';
import type { ParamPath } from '../paths/path';
import type { PathResult, RunResult } from '../recipe/result';
import { writeFileAtomic } from './atomic';
import { decodeSafetensors, encodeSafetensors } from './safetensors';

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

export function pathDescription(run: RunResult, p: ParamPath, r: PathResult): unknown {
  const S = p.segments.length;
  return {
    name: p.name,
    method: p.method,
    from: r.from,
    to: r.to,
    architecture: run.architecture.spec,
    parameters: paramShapes(run.architecture.spec).map((s) => ({ name: s.name, shape: s.shape, layer: s.layer, role: s.role })),
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

export function writeRunDir(dir: string, run: RunResult, a: RunArtifacts): void {
  writeFileAtomic(path.join(dir, 'endpoints.safetensors'), endpointsSafetensors(a.endpoints));
  if (a.evalData) writeFileAtomic(path.join(dir, 'eval-data.safetensors'), evalDataSafetensors(run.dataset.inputShape, a.evalData));
  for (const { path: p, result } of a.paths) {
    writeFileAtomic(path.join(dir, 'paths', `${p.name}.safetensors`), pathSafetensors(p));
    writeFileAtomic(path.join(dir, 'paths', `${p.name}.json`), `${JSON.stringify(pathDescription(run, p, result), null, 2)}\n`);
  }
  for (const c of a.checkpoints ?? []) writeFileAtomic(path.join(dir, 'checkpoints', checkpointFileName(c.endpoint, c.epoch)), c.data);
  writeFileAtomic(path.join(dir, 'run.json'), `${JSON.stringify(run, null, 2)}\n`);
}
