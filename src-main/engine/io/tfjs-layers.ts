/**
 * A TensorFlow.js layers model as the tfjs converter (and tf.LayersModel.save) writes it: model.json with the
 * model's topology and a weightsManifest — groups of weights, each group's data split over shard files that are
 * concatenated in order, its weights laid end to end in manifest order. Read here without tfjs-layers: only the
 * weights and the few topology facts ModeLab checks (layer classes, activations, BatchNorm ε).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ForeignTensor } from '../nn/foreign-layout';
import { InputError } from '../util/errors';

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, float16: 2 };

/** Keras layer classes a ModeLab network can be made of (those without weights included). */
const SUPPORTED_LAYERS = new Set(['InputLayer', 'Dense', 'Conv2D', 'BatchNormalization', 'Flatten', 'ReLU', 'Activation', 'MaxPooling2D', 'Dropout', 'SpatialDropout2D']);
const SUPPORTED_ACTIVATIONS = new Set(['relu', 'linear', 'softmax']);

interface ManifestWeight {
  name?: unknown;
  shape?: unknown;
  dtype?: unknown;
  quantization?: unknown;
}

export interface TfjsModel {
  /** Weights in manifest order (the model's order). */
  tensors: ForeignTensor[];
  /** BatchNormalization ε of the model (undefined without BatchNorm). */
  bnEpsilon: number | undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** The Keras layers of a topology: {class_name, config: {layers}} or the converter's {model_config: …}. */
function topologyLayers(topology: unknown): Record<string, unknown>[] {
  const t = isObject(topology) && isObject(topology['model_config']) ? topology['model_config'] : topology;
  const config = isObject(t) ? t['config'] : undefined;
  const layers = Array.isArray(config) ? config : isObject(config) ? config['layers'] : undefined;
  return Array.isArray(layers) ? layers.filter(isObject) : [];
}

/** Checks the layers ModeLab can represent; returns the BatchNorm ε (one for the whole model). */
function checkTopology(topology: unknown, what: string): number | undefined {
  const eps = new Set<number>();
  for (const l of topologyLayers(topology)) {
    const cls = String(l['class_name']);
    const cfg = isObject(l['config']) ? l['config'] : {};
    const name = typeof cfg['name'] === 'string' ? `${cls} '${cfg['name']}'` : cls;
    if (!SUPPORTED_LAYERS.has(cls)) throw new InputError(`${what}: layer ${name} is not supported (ModeLab's networks are Dense, Conv2D, BatchNormalization, ReLU, MaxPooling2D, Flatten and Dropout)`);
    const act = cfg['activation'];
    if (act !== undefined && !SUPPORTED_ACTIVATIONS.has(String(act))) throw new InputError(`${what}: layer ${name} has activation '${String(act)}'; ModeLab's networks use ReLU`);
    if (cls === 'Conv2D' && cfg['data_format'] === 'channels_first') throw new InputError(`${what}: layer ${name} is channels_first; ModeLab reads channels_last Keras models`);
    if (cls === 'BatchNormalization') {
      if (cfg['center'] === false || cfg['scale'] === false) throw new InputError(`${what}: layer ${name} has no ${cfg['center'] === false ? 'beta (center: false)' : 'gamma (scale: false)'}; ModeLab's BatchNorm has both`);
      if (typeof cfg['epsilon'] === 'number') eps.add(cfg['epsilon']);
    }
  }
  if (eps.size > 1) throw new InputError(`${what}: the BatchNormalization layers use different ε (${[...eps].join(', ')}); ModeLab takes one`);
  return eps.size ? [...eps][0] : undefined;
}

/** Shards sit beside model.json: a name that leaves the folder is refused (the file is untrusted). */
function shardFile(file: string, dir: string, p: unknown): string {
  if (typeof p !== 'string' || p !== path.basename(p) || p === '..' || p === '.') throw new InputError(`${file}: shard path ${JSON.stringify(p)} is not a file name beside model.json`);
  return path.join(dir, p);
}

/** The shard files a model.json names (what readTfjsLayersModel reads besides it); none when it is not a readable
 *  model.json (reading it then says why). */
export function tfjsShardFiles(file: string): string[] {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return [];
  }
  if (!isObject(doc) || !Array.isArray(doc['weightsManifest'])) return [];
  const dir = path.dirname(file);
  return (doc['weightsManifest'] as unknown[]).flatMap((g) => (isObject(g) && Array.isArray(g['paths']) ? (g['paths'] as unknown[]).map((p) => shardFile(file, dir, p)) : []));
}

/** Reads model.json and its weight shards (from the same folder). */
export function readTfjsLayersModel(file: string): TfjsModel {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    // The parser's message quotes the file's bytes: not repeated.
    throw new InputError(`${file} is not a JSON file (a TensorFlow.js model.json was expected)`);
  }
  if (!isObject(doc) || !Array.isArray(doc['weightsManifest'])) throw new InputError(`${file} is not a TensorFlow.js layers model (no weightsManifest)`);
  const bnEpsilon = checkTopology(doc['modelTopology'], file);
  const dir = path.dirname(file);
  const tensors: ForeignTensor[] = [];
  for (const group of doc['weightsManifest'] as unknown[]) {
    if (!isObject(group) || !Array.isArray(group['paths']) || !Array.isArray(group['weights'])) throw new InputError(`${file}: a weightsManifest group has no paths and weights`);
    const shards = (group['paths'] as unknown[]).map((p) => {
      const f = shardFile(file, dir, p);
      if (!existsSync(f) || !statSync(f).isFile()) throw new InputError(`${file}: weight shard ${String(p)} not found beside it`);
      return readFileSync(f);
    });
    const data = Buffer.concat(shards);
    let pos = 0;
    for (const w of group['weights'] as ManifestWeight[]) {
      const name = isObject(w) && typeof w.name === 'string' ? w.name : null;
      if (!name || !Array.isArray(w.shape) || !w.shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) throw new InputError(`${file}: a weight has no valid name and shape`);
      if (w.quantization !== undefined) throw new InputError(`${file}: weight '${name}' is quantized; convert the model without quantization`);
      const dtype = typeof w.dtype === 'string' ? w.dtype : 'float32';
      const bytes = DTYPE_BYTES[dtype];
      if (bytes === undefined) throw new InputError(`${file}: weight '${name}' has the unknown dtype ${dtype}`);
      const shape = w.shape as number[];
      const n = shape.reduce((a, b) => a * b, 1) * bytes;
      if (pos + n > data.length) throw new InputError(`${file}: the shards hold ${data.length} bytes, too few for weight '${name}' (truncated?)`);
      let values: Float32Array | null = null;
      if (dtype === 'float32') {
        values = new Float32Array(n / 4);
        new Uint8Array(values.buffer).set(data.subarray(pos, pos + n));
      }
      tensors.push({ name, dtype, shape, data: values });
      pos += n;
    }
    if (pos !== data.length) throw new InputError(`${file}: the shards hold ${data.length} bytes, the manifest's weights ${pos}`);
  }
  return { tensors, bnEpsilon };
}
