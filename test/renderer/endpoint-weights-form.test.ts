/** The recipe form's endpoints from files (components/recipe-form.ts): which objects get the weights picker, what
 *  loading a file and training again change, the layout choices. */
import { describe, expect, it } from 'vitest';
import { ENUMS, isEndpointPath, loadedEndpoint, trainedEndpoint } from '../../src-renderer/src/components/recipe-form';
import { WEIGHT_LAYOUTS } from '../../src-main/engine/nn/weight-layouts';

describe('endpoint weights in the recipe form', () => {
  it('offers the picker on each endpoint object only', () => {
    expect(isEndpointPath(['endpoints', 0])).toBe(true);
    expect(isEndpointPath(['endpoints'])).toBe(false);
    expect(isEndpointPath(['endpoints', 0, 'training'])).toBe(false);
    expect(isEndpointPath(['paths', 0])).toBe(false);
  });

  it('a loaded endpoint drops its training fields; training again drops the file fields', () => {
    const e = { name: 'A', seed: 3, training: { epochs: 2 } };
    const loaded = loadedEndpoint(e, '/nets/a.safetensors');
    expect(loaded).toEqual({ name: 'A', weights: '/nets/a.safetensors' });
    expect(trainedEndpoint({ ...loaded, layout: 'torch', names: { 'A1.w': 'fc.weight' } })).toEqual({ name: 'A' });
    expect(e).toEqual({ name: 'A', seed: 3, training: { epochs: 2 } });
  });

  it('layout is a choice of the engine’s layouts', () => {
    expect(ENUMS['layout']).toEqual(WEIGHT_LAYOUTS);
  });
});
