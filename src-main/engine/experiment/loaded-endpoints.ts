/** Endpoints a recipe loads from files (`weights`) instead of training them: read once, before any training. */
import { loadEndpointWeights } from '../io/endpoint-weights';
import type { HostParams } from '../nn/params';
import type { ArchSpec } from '../nn/spec';
import { fieldError, InputError } from '../util/errors';
import type { Recipe } from '../recipe/schema';
import type { EndpointResult } from './result';

/** The training record of an endpoint that was loaded, not trained here. */
export const LOADED_TRAINING: EndpointResult['training'] = { steps: 0, samples: 0, seconds: 0, samplesPerSec: 0, curve: [] };

/** Each file endpoint's weights in ModeLab's layout; a file that does not fit the architecture is one line naming
 *  the endpoint, the tensor and the shape expected. */
export function loadedEndpoints(recipe: Recipe, spec: ArchSpec): Map<string, HostParams> {
  const out = new Map<string, HostParams>();
  recipe.endpoints.forEach((e, i) => {
    if (!e.weights) return;
    try {
      out.set(e.name, loadEndpointWeights(spec, { weights: e.weights, layout: e.layout, names: e.names }).params);
    } catch (err) {
      if (err instanceof InputError) throw fieldError('recipe', ['endpoints', i, 'weights'], err.message);
      throw err;
    }
  });
  return out;
}
