/**
 * Endpoints read from files instead of trained (recipe: `{ "name", "weights", "layout"?, "names"? }`): a safetensors
 * file (a PyTorch state_dict as `safetensors.torch.save_file` writes it, or ModeLab's own) or a TensorFlow.js layers
 * model (model.json + shards). The layout mapping is nn/foreign-layout.ts; the formats are safetensors.ts and
 * tfjs-layers.ts.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { type ForeignTensor, assignTensors, moduleOrder, sequentialNames } from '../nn/foreign-layout';
import type { WeightLayout } from '../nn/weight-layouts';
import type { HostParams } from '../nn/params';
import type { ArchSpec } from '../nn/spec';
import { InputError } from '../util/errors';
import { safetensorsEntries } from './safetensors';
import { readTfjsLayersModel } from './tfjs-layers';

/** What a recipe endpoint says about its file (recipe/schema.ts). */
export interface EndpointFile {
  weights: string;
  layout?: WeightLayout | undefined;
  names?: Record<string, string> | undefined;
}

export type WeightFormat = 'safetensors' | 'tfjs';

/** The format a file name says: `.safetensors`, or a TensorFlow.js `.json`; anything else is refused. */
export function weightFormat(file: string): WeightFormat {
  if (/\.safetensors$/i.test(file)) return 'safetensors';
  if (/\.json$/i.test(file)) return 'tfjs';
  throw new InputError(`weights ${file}: give a .safetensors file or a TensorFlow.js model.json`);
}

/** The layout an endpoint's file is read in: as given, else PyTorch for safetensors and Keras for model.json. */
export function endpointLayout(e: EndpointFile): WeightLayout {
  const format = weightFormat(e.weights);
  const layout = e.layout ?? (format === 'tfjs' ? 'keras' : 'torch');
  if (format === 'tfjs' && layout !== 'keras') throw new InputError(`weights ${e.weights}: a TensorFlow.js model is in the keras layout, not '${layout}'`);
  return layout;
}

/** Checks, without reading it, that an endpoint's weights file is there, in a known format and layout. */
export function checkEndpointFile(e: EndpointFile): void {
  endpointLayout(e);
  if (!existsSync(e.weights)) throw new InputError(`weights file not found: ${e.weights}`);
  if (!statSync(e.weights).isFile()) throw new InputError(`weights ${e.weights} is a folder, not a file`);
}

function readTensors(e: EndpointFile): { tensors: ForeignTensor[]; bnEpsilon: number | undefined } {
  checkEndpointFile(e);
  if (weightFormat(e.weights) === 'tfjs') return readTfjsLayersModel(e.weights);
  const { entries } = safetensorsEntries(readFileSync(e.weights), e.weights);
  // The safetensors library writes names sorted as text: the modules' order is recovered from the names.
  return { tensors: moduleOrder(entries), bnEpsilon: undefined };
}

/** An endpoint's weights from its file, in ModeLab's layout, and the file tensor each parameter came from. */
export function loadEndpointWeights(spec: ArchSpec, e: EndpointFile): { params: HostParams; names: Record<string, string> } {
  const layout = endpointLayout(e);
  const { tensors, bnEpsilon } = readTensors(e);
  return assignTensors(spec, tensors, { layout, names: e.names, what: e.weights, bnEpsilon });
}

/**
 * The PyTorch names to write a network of `spec` under: those of the endpoint's own PyTorch file when it came from
 * one (and the file is still readable), else the mirrored nn.Sequential's (foreign-layout.ts sequentialNames).
 */
export function torchNamesFor(spec: ArchSpec, e: Partial<EndpointFile> | undefined): Record<string, string> {
  if (e?.weights && endpointLayoutOrNull(e as EndpointFile) === 'torch') {
    try {
      return loadEndpointWeights(spec, e as EndpointFile).names;
    } catch {
      // The file moved or changed since the run: the mirrored nn.Sequential's names.
    }
  }
  return sequentialNames(spec);
}

function endpointLayoutOrNull(e: EndpointFile): WeightLayout | null {
  try {
    return endpointLayout(e);
  } catch {
    return null;
  }
}
